//! Log AI at ingest: text logs become structured, patterns and structure are served.

use crate::common::{Server, now_ns};

/// Sends log records (OTLP/JSON) of one service.
async fn post_logs(server: &Server, service: &str, records: Vec<serde_json::Value>) {
    let body = serde_json::json!({"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}, "scopeLogs": [{"logRecords": records}]}]});
    server.post_otlp_json("/v1/logs", &body).await;
}

/// Sends text records (time, body) of one service.
async fn post_texts(server: &Server, service: &str, records: &[(u64, &str)]) {
    let records = records.iter().map(|(t, body)| text_record(*t, body));
    post_logs(server, service, records.collect()).await;
}

/// An OTLP/JSON log record with a text body and nothing else.
fn text_record(time_unix_nano: u64, body: &str) -> serde_json::Value {
    serde_json::json!({"timeUnixNano": time_unix_nano.to_string(), "body": {"stringValue": body}})
}

#[tokio::test]
async fn text_logs_are_structured_at_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let t = now_ns();
    let lines = [
        "2026-11-23 10:00:01,120 INFO [worker-1] com.shop.Orders - order 1001 placed by user=alice in 35ms",
        "2026-11-23 10:00:02,120 INFO [worker-2] com.shop.Orders - order 1002 placed by user=alice in 12ms",
        "2026-11-23 10:00:03,120 ERROR [worker-1] com.shop.Payments - charge failed for order 1003",
        "2026-11-23 10:00:04,120 INFO [worker-3] com.shop.Orders - order 1004 placed by user=alice in 40ms",
    ];
    let records: Vec<serde_json::Value> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| text_record(t + i as u64, l))
        .collect();
    post_logs(&server, "orders", records).await;

    // Severity came from the header; the error is findable by severity.
    let errors = server
        .get_json("/api/v1/logs?service=orders&severity_min=ERROR")
        .await;
    let errs = errors["records"].as_array().unwrap();
    assert_eq!(errs.len(), 1, "{errors}");
    assert!(errs[0]["body"].as_str().unwrap().contains("charge failed"));
    assert_eq!(errs[0]["attributes"]["thread.name"], "worker-1");

    // The three "order placed" lines share one template.
    let all = server.get_json("/api/v1/logs?service=orders").await;
    let recs = all["records"].as_array().unwrap();
    let placed: Vec<&serde_json::Value> = recs
        .iter()
        .filter(|r| r["body"].as_str().unwrap().contains("placed"))
        .collect();
    assert_eq!(placed.len(), 3);
    let id = placed[0]["log_template_id"].as_str().unwrap().to_string();
    assert!(placed.iter().all(|r| r["log_template_id"] == id.as_str()));
    assert!(placed[0]["log_template"].as_str().unwrap().contains("<*>"));

    // Patterns: counts and "new" against the previous period.
    let patterns = server
        .get_json("/api/v1/logs/patterns?service=orders")
        .await;
    let p = patterns["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["template_id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(p["count"], 3, "{patterns}");
    assert_eq!(p["is_new"], true);
    assert!(!p["series"].as_array().unwrap().is_empty());
    let by_template = server
        .get_json(&format!("/api/v1/logs?template_id={id}"))
        .await;
    assert_eq!(by_template["records"].as_array().unwrap().len(), 3);

    // Structure: the raw line beside what was learned.
    let rid = placed[0]["record_id"].as_str().unwrap();
    let s = server
        .get_json(&format!("/api/v1/logs/{rid}/structure"))
        .await;
    assert_eq!(s["raw"], placed[0]["body"]);
    assert_eq!(s["template_id"], id.as_str());
    assert!(s["extracted"]["user"].is_string(), "{s}");
    assert!(s["format"].is_string());
    let r = reqwest::get(server.api_url("/api/v1/logs/123-0000000000000000/structure"))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

/// Every record of a log search, page after page, as (time, body).
async fn all_log_pages(server: &Server, query: &str) -> (Vec<(i64, String)>, usize) {
    let (mut records, mut pages) = (Vec::new(), 0);
    let mut path = format!("/api/v1/logs?{query}");
    loop {
        let page = server.get_json(&path).await;
        pages += 1;
        for r in page["records"].as_array().unwrap() {
            records.push((
                r["time_unix_nano"].as_i64().unwrap(),
                r["body"].as_str().unwrap().to_string(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/logs?{query}&cursor={cursor}"),
            None => return (records, pages),
        }
    }
}

#[tokio::test]
async fn log_search_lists_newest_first_whether_or_not_recent_records_fill_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let now = now_ns();
    // Twelve records in the last minute (all INFO), eight 20 to 48 minutes ago (four ERROR).
    let records: Vec<serde_json::Value> = (0..20u64)
        .map(|i| {
            let t = if i < 12 {
                now - (i + 1) * 2_000_000_000
            } else {
                now - (20 + (i - 12) * 4) * 60_000_000_000
            };
            let severity = if i >= 16 { 17 } else { 9 };
            serde_json::json!({"timeUnixNano": t.to_string(), "severityNumber": severity,
                "body": {"stringValue": format!("record {i}")}})
        })
        .collect();
    post_logs(&server, "orders", records).await;

    for (query, limit, expected) in [
        // The last five minutes hold more than a page: the first page comes from them alone.
        ("from=now-1h&limit=5", 5, 20),
        // They hold fewer than a page: the whole hour is searched.
        ("from=now-1h&limit=15", 15, 20),
        // None of them is an error: the errors are found in the rest of the hour.
        ("from=now-1h&limit=2&severity_min=ERROR", 2, 4),
    ] {
        let (found, pages) = all_log_pages(&server, query).await;
        assert_eq!(found.len(), expected, "{query}: {found:?}");
        assert!(
            found.windows(2).all(|w| w[0].0 > w[1].0),
            "{query}: not newest first: {found:?}"
        );
        assert_eq!(pages, expected.div_ceil(limit), "{query}");
    }
    let (found, _) = all_log_pages(&server, "from=now-1h&limit=3").await;
    let bodies: Vec<String> = (0..20).map(|i| format!("record {i}")).collect();
    assert_eq!(
        found.iter().map(|(_, b)| b.clone()).collect::<Vec<_>>(),
        bodies
    );
    let (errors, _) = all_log_pages(&server, "from=now-1h&limit=2&severity_min=ERROR").await;
    assert_eq!(
        errors.iter().map(|(_, b)| b.as_str()).collect::<Vec<_>>(),
        ["record 16", "record 17", "record 18", "record 19"]
    );
}

#[tokio::test]
async fn patterns_count_the_window_against_the_previous_period() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let now = now_ns();
    let minutes_ago = |m: u64, s: u64| now - m * 60_000_000_000 - s * 1_000_000_000;
    // "placed": three records in the last minute, two half an hour ago and one in the previous
    // hour. "declined": two records 40 minutes ago only (not in the window's newest part).
    let records = [
        (minutes_ago(0, 5), "order 1001 placed by user=alice"),
        (minutes_ago(0, 10), "order 1002 placed by user=bob"),
        (minutes_ago(0, 20), "order 1003 placed by user=carol"),
        (minutes_ago(30, 0), "order 1004 placed by user=dave"),
        (minutes_ago(31, 0), "order 1005 placed by user=erin"),
        (minutes_ago(90, 0), "order 1000 placed by user=zed"),
        (minutes_ago(40, 0), "card 4411 declined: code=51"),
        (minutes_ago(41, 0), "card 4412 declined: code=05"),
    ];
    post_texts(&server, "orders", &records).await;

    let all = server
        .get_json("/api/v1/logs/patterns?service=orders&from=now-1h")
        .await;
    let patterns = all["patterns"].as_array().unwrap();
    assert_eq!(patterns.len(), 2, "{all}");
    let (placed, declined) = (&patterns[0], &patterns[1]);
    assert_eq!(placed["template"], "order <*> placed by user=<*>", "{all}");
    assert_eq!(placed["count"], 5);
    assert_eq!(placed["previous_count"], 1);
    assert_eq!(placed["is_new"], false);
    assert_eq!(placed["sample"], "order 1001 placed by user=alice");
    assert_eq!(
        placed["first_seen_unix_nano"].as_u64().unwrap(),
        minutes_ago(90, 0)
    );
    let series = placed["series"].as_array().unwrap();
    let total: u64 = series.iter().map(|p| p[1].as_u64().unwrap()).sum();
    assert_eq!(total, 5, "{series:?}");
    assert!(
        series
            .windows(2)
            .all(|w| w[0][0].as_i64() < w[1][0].as_i64()),
        "{series:?}"
    );
    // Found only in the older part of the window: its text and sample still come back.
    assert_eq!(declined["count"], 2);
    assert_eq!(declined["is_new"], true);
    assert!(
        declined["template"]
            .as_str()
            .unwrap()
            .starts_with("card <*> declined"),
        "{all}"
    );
    assert_eq!(declined["sample"], "card 4411 declined: code=51");

    let top = server
        .get_json("/api/v1/logs/patterns?service=orders&from=now-1h&limit=1")
        .await;
    assert_eq!(top["patterns"].as_array().unwrap().len(), 1);
    assert_eq!(top["patterns"][0]["template_id"], placed["template_id"]);
}

/// The patterns of a window whose edges cut minutes answer the same from the per-minute
/// rollups (whole minutes) and records (the cut minutes) as from the records alone.
#[tokio::test]
async fn patterns_from_rollups_count_what_the_records_count() {
    const MINUTE: u64 = 60_000_000_000;
    const SECOND: u64 = 1_000_000_000;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let base = now_ns() / MINUTE * MINUTE - 10 * MINUTE;
    // A window of an hour and ten seconds (a one-minute step), cut 20 s into a minute at its
    // start and 30 s at its end; the previous period is as long and starts 10 s into a minute.
    let (from, to) = (base - 60 * MINUTE + 20 * SECOND, base + 30 * SECOND);
    let prev_start = from - (to - from);
    let booked = |t: u64, n: u32| (t, format!("entry {n} booked"), 9);
    let records = [
        booked(prev_start - 5 * SECOND, 1), // before both periods
        booked(prev_start + 5 * SECOND, 2), // previous, in its cut first minute
        booked(from - 30 * MINUTE, 3),      // previous, a whole minute
        booked(from - 5 * SECOND, 4),       // previous, in the minute holding the start
        booked(from + 5 * SECOND, 5),       // window, same minute
        booked(from + 20 * MINUTE, 6),      // window, a whole minute
        (from + 40 * MINUTE, "entry 7 booked".to_string(), 17), // window, an error
        booked(to - 10 * SECOND, 8),        // window, in its cut last minute
        booked(to + 5 * SECOND, 9),         // after the window
        (from + 10 * MINUTE, "rebalance 3 done".to_string(), 9),
    ];
    let records: Vec<serde_json::Value> = records
        .iter()
        .map(|(t, body, severity)| {
            let mut r = text_record(*t, body);
            r["severityNumber"] = (*severity).into();
            r
        })
        .collect();
    post_logs(&server, "ledger", records).await;

    let url = format!("/api/v1/logs/patterns?service=ledger&from={from}&to={to}");
    let check = |r: &serde_json::Value| {
        let patterns = r["patterns"].as_array().unwrap();
        assert_eq!(patterns.len(), 2, "{r}");
        let (booked, rebalance) = (&patterns[0], &patterns[1]);
        assert_eq!(booked["template"], "entry <*> booked", "{r}");
        assert_eq!(booked["count"], 4, "{r}");
        assert_eq!(booked["previous_count"], 3, "{r}");
        assert_eq!(booked["is_new"], false, "{r}");
        assert_eq!(booked["max_severity_number"], 17, "{r}");
        assert_eq!(
            booked["first_seen_unix_nano"].as_u64(),
            Some(prev_start + 5 * SECOND),
            "{r}"
        );
        let series: Vec<(u64, u64)> = booked["series"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_u64().unwrap(), p[1].as_u64().unwrap()))
            .collect();
        let step = |t: u64| t / MINUTE * MINUTE;
        assert_eq!(
            series,
            vec![
                (step(from + 5 * SECOND), 1),
                (step(from + 20 * MINUTE), 1),
                (step(from + 40 * MINUTE), 1),
                (step(to - 10 * SECOND), 1),
            ],
            "{r}"
        );
        assert_eq!(rebalance["count"], 1, "{r}");
        assert_eq!(rebalance["is_new"], true, "{r}");
        // 20 s into a whole minute: kept exactly by the rollup.
        assert_eq!(
            rebalance["first_seen_unix_nano"].as_u64(),
            Some(from + 10 * MINUTE),
            "{r}"
        );
        assert_eq!(r["step_ns"].as_u64(), Some(MINUTE), "{r}");
    };
    // Before the rollups are written (every few seconds): from the records alone.
    check(&server.get_json(&url).await);
    // The rollup rows are stored as metric points (not listed among the user's metrics).
    let rows = format!(
        "SELECT count(*) FROM metric_points WHERE metric_name = 'redscope.log.patterns' \
         AND time_unix_nano >= {prev_start} AND time_unix_nano < {to}"
    );
    let mut written = false;
    for _ in 0..100 {
        let counted = server.sql(&rows).await;
        if counted["rows"][0][0].as_u64().unwrap_or(0) > 0 {
            written = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(written, "pattern rollups were written");
    check(&server.get_json(&url).await);

    // Windows at the ends of time are answered, not crashed on (rollups of every kind).
    for call in [
        "logs/patterns",
        "red",
        "service-map",
        "blast-radius?service=ledger&",
    ] {
        let sep = if call.ends_with('&') { "" } else { "?" };
        for window in [
            "from=0&to=9223372036854775807",
            "from=9223372036854775000&to=9223372036854775807",
        ] {
            let path = format!("/api/v1/{call}{sep}{window}");
            let r = reqwest::get(server.api_url(&path)).await.unwrap();
            assert!(r.status().is_success(), "{path}: {}", r.status());
        }
    }
    check(&server.get_json(&url).await);
}

/// A template that generalised after its first records is shown with its newest text.
#[tokio::test]
async fn patterns_show_the_newest_text_of_a_template() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let now = now_ns();
    let records = [
        (now - 3_000_000_000, "disk sda1 is full on host alpha"),
        (now - 2_000_000_000, "disk sdb7 is full on host alpha"),
        (now - 1_000_000_000, "disk sdc2 is full on host alpha"),
    ];
    post_texts(&server, "storage", &records).await;
    let r = server
        .get_json("/api/v1/logs/patterns?service=storage&from=now-1h")
        .await;
    let patterns = r["patterns"].as_array().unwrap();
    assert_eq!(
        patterns.len(),
        1,
        "one template id for the three records: {r}"
    );
    assert_eq!(patterns[0]["count"], 3, "{r}");
    // The first record was stored with the text it had then (`disk sda<*> …`).
    assert_eq!(
        patterns[0]["template"], "disk <*> is full on host alpha",
        "{r}"
    );
    assert_eq!(
        patterns[0]["sample"], "disk sdc2 is full on host alpha",
        "{r}"
    );
}
