//! RED numbers and the service map from spans with known counts, errors, durations and topology.

use std::time::{Duration, Instant};

use crate::common::{Server, now_ns};

#[allow(clippy::too_many_arguments)]
fn span(
    trace: usize,
    id: &str,
    parent: &str,
    name: &str,
    kind: u8,
    start: u64,
    ms: u64,
    error: bool,
    attrs: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "traceId": format!("{:032x}", trace + 1), "spanId": id, "parentSpanId": parent, "name": name, "kind": kind,
        "startTimeUnixNano": start.to_string(), "endTimeUnixNano": (start + ms * 1_000_000).to_string(),
        "attributes": attrs, "status": {"code": if error { 2 } else { 0 }}
    })
}

fn resource_spans(service: &str, spans: Vec<serde_json::Value>) -> serde_json::Value {
    serde_json::json!({"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}, "scopeSpans": [{"spans": spans}]})
}

/// Sends OTLP/JSON spans and expects them accepted.
async fn post_spans(server: &Server, body: serde_json::Value) {
    let r = reqwest::Client::new()
        .post(server.otlp_url("/v1/traces"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn red_and_service_map_from_known_spans() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let t = now_ns() - 1_000_000_000;
    let (mut web, mut api) = (Vec::new(), Vec::new());
    // 10 requests to web: web SERVER → web CLIENT → api SERVER → api CLIENT to postgres (no telemetry).
    // Durations 10, 20, ... 100 ms; requests 0 and 1 fail in api and web.
    for i in 0..10usize {
        let ms = 10 * (i as u64 + 1);
        let err = i < 2;
        let route = serde_json::json!([{"key": "http.route", "value": {"stringValue": "/buy"}}, {"key": "http.request.method", "value": {"stringValue": "POST"}}, {"key": "enduser.id", "value": {"stringValue": format!("user-{}", i % 3)}}]);
        web.push(span(
            i,
            &format!("{:016x}", 100 + i),
            "",
            "POST /buy",
            2,
            t,
            ms,
            err,
            route,
        ));
        web.push(span(
            i,
            &format!("{:016x}", 200 + i),
            &format!("{:016x}", 100 + i),
            "POST",
            3,
            t,
            ms - 2,
            err,
            serde_json::json!([]),
        ));
        api.push(span(
            i,
            &format!("{:016x}", 300 + i),
            &format!("{:016x}", 200 + i),
            "charge",
            2,
            t,
            ms - 4,
            err,
            serde_json::json!([]),
        ));
        let db = serde_json::json!([{"key": "db.system.name", "value": {"stringValue": "postgresql"}}, {"key": "server.address", "value": {"stringValue": "pay-db"}}]);
        api.push(span(
            i,
            &format!("{:016x}", 400 + i),
            &format!("{:016x}", 300 + i),
            "SELECT",
            3,
            t,
            1,
            false,
            db,
        ));
    }
    post_spans(
        &server,
        serde_json::json!({"resourceSpans": [resource_spans("web", web), resource_spans("api", api)]}),
    )
    .await;

    // Rollups are written every few seconds; the uninstrumented callee after its match window.
    let deadline = Instant::now() + Duration::from_secs(40);
    let map = loop {
        let map = server.get_json("/api/v1/service-map").await;
        let has_db = map["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["name"] == "pay-db");
        if has_db || Instant::now() > deadline {
            break map;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let red = server.get_json("/api/v1/red").await;
    let web = red["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["service"] == "web")
        .unwrap()
        .clone();
    assert_eq!(web["requests"], 10, "{red}");
    assert_eq!(web["errors"], 2);
    assert_eq!(web["error_rate"], 0.2);
    let p50 = web["p50_ms"].as_f64().unwrap();
    let p99 = web["p99_ms"].as_f64().unwrap();
    assert!((40.0..=65.0).contains(&p50), "p50 {p50}");
    assert!((85.0..=120.0).contains(&p99), "p99 {p99}");
    let per_op = server.get_json("/api/v1/red?service=web").await;
    assert_eq!(per_op["totals"][0]["operation"], "POST /buy", "{per_op}");
    assert_eq!(per_op["series"][0]["points"][0]["requests"], 10);

    let edges = map["edges"].as_array().unwrap();
    let web_api = edges
        .iter()
        .find(|e| e["from"] == "web" && e["to"] == "api")
        .expect("web → api edge");
    assert_eq!(web_api["requests"], 10, "{map}");
    assert_eq!(web_api["errors"], 2);
    let api_db = edges
        .iter()
        .find(|e| e["from"] == "api" && e["to"] == "pay-db")
        .expect("api → pay-db edge");
    assert_eq!(api_db["requests"], 10);
    let nodes = map["nodes"].as_array().unwrap();
    let db = nodes.iter().find(|n| n["name"] == "pay-db").unwrap();
    assert_eq!(db["instrumented"], false);
    assert_eq!(db["kind"], "database");
    assert_eq!(
        nodes.iter().find(|n| n["name"] == "api").unwrap()["instrumented"],
        true
    );
    assert_eq!(edges.len(), 2, "{map}");

    let blast = server.get_json("/api/v1/blast-radius?service=pay-db").await;
    assert_eq!(
        blast["upstream_services"],
        serde_json::json!(["api", "web"]),
        "{blast}"
    );
    let blast = server.get_json("/api/v1/blast-radius?service=api").await;
    assert_eq!(blast["traces"], 10, "{blast}");
    assert_eq!(blast["users"], 3, "{blast}");
    let only_ops = server
        .get_json("/api/v1/blast-radius?service=api&operation=nothing")
        .await;
    assert_eq!(only_ops["traces"], 0, "{only_ops}");
    assert_eq!(only_ops["entry_points"], serde_json::json!([]));
    let charge = server
        .get_json("/api/v1/blast-radius?service=api&operation=charge")
        .await;
    assert_eq!(charge["traces"], 10, "{charge}");
    assert_eq!(charge["entry_points"][0]["operation"], "POST /buy");
    assert_eq!(blast["entry_points"][0]["service"], "web");
    assert_eq!(blast["entry_points"][0]["operation"], "POST /buy");
    assert_eq!(blast["entry_points"][0]["traces"], 10);
}

/// Requests of `service` in RED over the last six hours.
async fn requests_of(server: &Server, service: &str) -> u64 {
    let red = server.get_json("/api/v1/red?from=now-6h").await;
    red["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["service"] == service)
        .map_or(0, |t| t["requests"].as_u64().unwrap())
}

async fn send_old_requests(server: &Server, first: usize, n: usize, start: u64) {
    let spans = (first..first + n)
        .map(|i| {
            span(
                i,
                &format!("{:016x}", 900 + i),
                "",
                "GET /old",
                2,
                start + i as u64 * 1_000_000_000,
                5,
                false,
                serde_json::json!([]),
            )
        })
        .collect();
    post_spans(
        server,
        serde_json::json!({"resourceSpans": [resource_spans("late", spans)]}),
    )
    .await;
}

/// RED of closed hours is kept parsed between queries; spans that arrive late for such an
/// hour still count.
#[tokio::test]
async fn red_of_a_closed_hour_counts_late_spans() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[("REDSCOPE_STORAGE__FLUSH_INTERVAL_SECS", "1")],
    );
    const HOUR: u64 = 3_600_000_000_000;
    // The middle of the hour three hours ago.
    let start = (now_ns() - 3 * HOUR) / HOUR * HOUR + HOUR / 2;
    let wait_for = |want: u64| {
        let server = &server;
        async move {
            let deadline = Instant::now() + Duration::from_secs(40);
            loop {
                let got = requests_of(server, "late").await;
                if got == want || Instant::now() > deadline {
                    return got;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    };
    send_old_requests(&server, 0, 5, start).await;
    assert_eq!(wait_for(5).await, 5);
    // Flushed to a file: later queries answer from the parsed hour.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for _ in 0..3 {
        assert_eq!(requests_of(&server, "late").await, 5);
    }
    send_old_requests(&server, 5, 3, start).await;
    assert_eq!(wait_for(8).await, 8, "late spans for a cached hour count");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(requests_of(&server, "late").await, 8);
    let per_op = server
        .get_json("/api/v1/red?from=now-6h&service=late")
        .await;
    assert_eq!(per_op["totals"][0]["operation"], "GET /old", "{per_op}");
    assert_eq!(per_op["series"][0]["points"][0]["requests"], 8);
}

/// All trace ids of a search, page after page.
async fn all_pages(server: &Server, query: &str) -> (Vec<String>, Vec<i64>, usize) {
    let (mut ids, mut starts, mut pages) = (Vec::new(), Vec::new(), 0);
    let mut path = format!("/api/v1/traces?{query}");
    loop {
        let page = server.get_json(&path).await;
        pages += 1;
        for t in page["traces"].as_array().unwrap() {
            ids.push(t["trace_id"].as_str().unwrap().to_string());
            starts.push(t["start_time_unix_nano"].as_i64().unwrap());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/traces?{query}&cursor={cursor}"),
            None => return (ids, starts, pages),
        }
    }
}

#[tokio::test]
async fn trace_search_lists_newest_first_whether_or_not_recent_traces_fill_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let now = now_ns();
    // Twelve traces in the last minute (none failed), eight 20 to 48 minutes ago (four failed).
    let mut spans = Vec::new();
    for i in 0..20usize {
        let start = if i < 12 {
            now - (i as u64 + 1) * 2_000_000_000
        } else {
            now - (20 + (i as u64 - 12) * 4) * 60_000_000_000
        };
        let id = format!("{:016x}", 500 + i);
        spans.push(span(
            i,
            &id,
            "",
            "GET /",
            2,
            start,
            5,
            i >= 16,
            serde_json::json!([]),
        ));
    }
    post_spans(
        &server,
        serde_json::json!({"resourceSpans": [resource_spans("shop", spans)]}),
    )
    .await;

    for (query, expected) in [
        // The last five minutes hold more than a page: the first page comes from them alone.
        ("from=now-1h&limit=5", 20),
        // They hold fewer than a page: the whole hour is searched.
        ("from=now-1h&limit=15", 20),
        // None of them failed: the failed traces are found in the rest of the hour.
        ("from=now-1h&limit=2&status=error", 4),
    ] {
        let (ids, starts, pages) = all_pages(&server, query).await;
        assert_eq!(ids.len(), expected, "{query}: {ids:?}");
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len(), "{query}: a trace listed twice");
        assert!(
            starts.windows(2).all(|w| w[0] > w[1]),
            "{query}: not newest first: {starts:?}"
        );
        let limit: usize = query
            .split("limit=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(pages, expected.div_ceil(limit), "{query}");
    }
    // The newest trace is the one that started last, and the failed ones are the oldest four.
    let first = server.get_json("/api/v1/traces?from=now-1h&limit=1").await;
    assert_eq!(first["traces"][0]["trace_id"], format!("{:032x}", 1));
    let failed = all_pages(&server, "from=now-1h&limit=2&status=error")
        .await
        .0;
    let expected: Vec<String> = (16..20).map(|i| format!("{:032x}", i + 1)).collect();
    assert_eq!(failed, expected);
}
