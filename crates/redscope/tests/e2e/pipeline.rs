//! Pipeline rules at ingest: what they drop, sample and redact is kept out of the store, while
//! the log pattern counts still see every record; the rules are replaced through the API and
//! reloaded from their file; a dry run counts what rules would match over stored records.

use std::time::{Duration, Instant};

use crate::common::{Server, now_ns};

async fn post_logs(server: &Server, service: &str, records: Vec<serde_json::Value>) {
    let body = serde_json::json!({"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}, "scopeLogs": [{"logRecords": records}]}]});
    let r = reqwest::Client::new()
        .post(server.otlp_url("/v1/logs"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

fn record(t: u64, severity: &str, number: u8, body: &str) -> serde_json::Value {
    serde_json::json!({"timeUnixNano": t.to_string(), "severityText": severity, "severityNumber": number, "body": {"stringValue": body}})
}

async fn count(server: &Server, sql: &str) -> u64 {
    let r = reqwest::Client::new()
        .post(server.api_url("/api/v1/sql"))
        .json(&serde_json::json!({ "query": sql }))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    v["rows"][0][0]
        .as_u64()
        .unwrap_or_else(|| panic!("{sql}: {v}"))
}

/// What `rules` would have matched and saved over the last hour's stored records.
async fn dry_run(server: &Server, rules: &str) -> serde_json::Value {
    reqwest::Client::new()
        .post(server.api_url("/api/v1/pipeline/dry-run?from=now-1h"))
        .body(rules.to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

const RULES: &str = r#"
[[rule]]
name = "no debug of cart"
signal = "logs"
action = "drop"
match = { service = "cart", severity_below = "INFO" }

[[rule]]
name = "no e-mail addresses"
signal = "any"
action = "redact"
detectors = ["email"]
"#;

#[tokio::test]
async fn rules_drop_and_redact_at_ingest_and_a_dry_run_counts_stored_matches() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let now = now_ns();
    // Before any rule: twenty debug lines of cart are stored.
    let debug = |from: u64| -> Vec<serde_json::Value> {
        (0..20)
            .map(|i| {
                record(
                    now - from - i * 1_000_000,
                    "DEBUG",
                    5,
                    &format!("cache miss for item {i}"),
                )
            })
            .collect()
    };
    post_logs(&server, "cart", debug(10_000_000_000)).await;

    // A dry run of the rules over what is stored: the twenty lines would be dropped.
    let client = reqwest::Client::new();
    let dry = dry_run(&server, RULES).await;
    let first = &dry["rules"][0];
    assert_eq!(first["name"], "no debug of cart", "{dry}");
    assert_eq!(first["matched_records"], 20, "{dry}");
    assert!(first["saved_bytes"].as_u64().unwrap() > 20 * 40, "{dry}");

    // Switched on through the API: a new version, in force at once.
    let put = client
        .put(server.api_url("/api/v1/pipeline"))
        .body(RULES)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let version = put.json::<serde_json::Value>().await.unwrap()["version"]
        .as_u64()
        .unwrap();
    post_logs(&server, "cart", debug(5_000_000_000)).await;
    post_logs(
        &server,
        "cart",
        vec![
            record(
                now - 1_000_000_000,
                "INFO",
                9,
                "order 7 confirmed for bob@example.com",
            ),
            record(
                now - 1_000_000_001,
                "INFO",
                9,
                "order 8 confirmed for eve@example.org",
            ),
        ],
    )
    .await;
    assert_eq!(
        count(
            &server,
            "SELECT count(*) FROM logs WHERE service_name = 'cart' AND severity_number = 5"
        )
        .await,
        20,
        "the second twenty were dropped"
    );
    assert_eq!(
        count(
            &server,
            "SELECT count(*) FROM logs WHERE body LIKE '%example.%'"
        )
        .await,
        0,
        "addresses redacted"
    );
    assert_eq!(
        count(
            &server,
            "SELECT count(*) FROM logs WHERE body LIKE '%[REDACTED:email]%'"
        )
        .await,
        2
    );

    // What each rule matched and saved.
    let state = server.get_json("/api/v1/pipeline").await;
    assert_eq!(state["version"]["version"], version);
    assert_eq!(state["rules"][0]["stats"]["dropped"], 20, "{state}");
    assert_eq!(state["rules"][1]["stats"]["changed"], 2, "{state}");

    // The pattern counts saw the dropped lines too: forty records of cart's template in the
    // pattern rollups, which answer an hour's closed minutes. The minute still open is counted
    // from the stored records, which lack the dropped ones, so the forty show once the
    // records' minute has closed: up to a minute and the rollups' next write from now.
    let deadline = Instant::now() + Duration::from_secs(100);
    let (total, last) = loop {
        let v = server
            .get_json("/api/v1/logs/patterns?service=cart&from=now-1h")
            .await;
        let n: u64 = v["patterns"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| {
                        p["template"]
                            .as_str()
                            .is_some_and(|t| t.contains("cache miss"))
                    })
                    .map(|p| p["count"].as_u64().unwrap_or(0))
                    .sum()
            })
            .unwrap_or(0);
        if n >= 40 || Instant::now() > deadline {
            break (n, v);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(
        total, 40,
        "pattern counts see every record, dropped or not: {last}"
    );

    // A broken rule file is refused with the rule and field named, and changes nothing.
    let bad = client
        .put(server.api_url("/api/v1/pipeline"))
        .body("[[rule]]\nname = \"x\"\nsignal = \"spans\"\naction = \"drop\"\n")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_rules");
    assert_eq!(body["error"]["details"][0]["field"], "action", "{body}");
    assert_eq!(
        server.get_json("/api/v1/pipeline").await["version"]["version"],
        version
    );

    // The file written by the API is read again when edited by hand.
    let file = dir.path().join("pipeline.toml");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), RULES);
    std::fs::write(&file, "").unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let v = server.get_json("/api/v1/pipeline").await;
        if v["rules"].as_array().is_some_and(|r| r.is_empty()) {
            assert_eq!(v["version"]["version"], version + 1);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the edited file was not reloaded: {v}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

const METRIC_RULES: &str = r#"
[[rule]]
name = "payment problems"
signal = "logs"
action = "metric"
metric = "payment.problems"
group_by = ["severity"]
match = { service = "payment", severity_below = "FATAL" }

[[rule]]
name = "and no raw payment logs"
signal = "logs"
action = "drop"
match = { service = "payment" }

[[rule]]
name = "checkout latency"
signal = "spans"
action = "metric"
metric = "checkout.latency"
value = "duration"
group_by = ["http.route"]
"#;

async fn promql(server: &Server, query: &str) -> serde_json::Value {
    let r = reqwest::Client::new()
        .get(server.api_url("/prometheus/api/v1/query"))
        .query(&[("query", query)])
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "success", "{query}: {body}");
    body["data"]["result"].clone()
}

#[tokio::test]
async fn metric_rules_turn_logs_and_spans_into_metrics_that_promql_reads_after_the_logs_are_dropped()
 {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pipeline.toml"), METRIC_RULES).unwrap();
    let server = Server::start(dir.path(), &[]);
    let now = now_ns();
    let mut lines: Vec<serde_json::Value> = (0..6)
        .map(|i| {
            record(
                now - i * 1_000_000,
                "ERROR",
                17,
                &format!("card {i} declined"),
            )
        })
        .collect();
    lines.push(record(now, "WARN", 13, "bank slow"));
    lines.push(record(now, "FATAL", 21, "out of memory"));
    post_logs(&server, "payment", lines).await;
    let span = |id: u8, route: &str, ms: u64| {
        serde_json::json!({"traceId": format!("{id:032x}"), "spanId": format!("{id:016x}"), "name": format!("POST {route}"), "kind": 2,
            "startTimeUnixNano": (now - ms * 1_000_000).to_string(), "endTimeUnixNano": now.to_string(),
            "attributes": [{"key": "http.route", "value": {"stringValue": route}}]})
    };
    let spans = serde_json::json!({"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]},
        "scopeSpans": [{"spans": [span(1, "/pay", 30), span(2, "/pay", 40), span(3, "/pay", 2000), span(4, "/cart", 3)]}]}]});
    server.post_otlp_json("/v1/traces", &spans).await;

    // The raw payment logs are not stored, the pattern counts saw them.
    assert_eq!(
        count(
            &server,
            "SELECT count(*) FROM logs WHERE service_name = 'payment'"
        )
        .await,
        0
    );
    // Points are written every 10 s: the counts, by severity, with the service as job.
    let deadline = Instant::now() + Duration::from_secs(40);
    let by_severity = loop {
        let r = promql(
            &server,
            "sum by (job, severity) (increase(payment_problems_total[5m]))",
        )
        .await;
        if r.as_array().is_some_and(|a| a.len() == 2) {
            break r;
        }
        assert!(Instant::now() < deadline, "no payment_problems_total: {r}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let of = |sev: &str| -> f64 {
        by_severity
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["metric"]["severity"] == sev)
            .unwrap_or_else(|| panic!("{sev} in {by_severity}"))["value"][1]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(by_severity[0]["metric"]["job"], "payment");
    // `increase` extrapolates over the window as Prometheus does; the counts are what went in.
    let (errors, warns) = (of("ERROR"), of("WARN"));
    assert!((5.5..=12.0).contains(&errors), "6 errors: {by_severity}");
    assert!((0.9..=2.0).contains(&warns), "1 warning: {by_severity}");
    let raw = promql(&server, "sum by (severity) (payment_problems_total)").await;
    let total: f64 = raw
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["value"][1].as_str().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(total, 7.0, "FATAL is not below FATAL: {raw}");

    // The span durations as a histogram in seconds, by route.
    let p50 = promql(
        &server,
        "histogram_quantile(0.5, sum by (le, http_route) (checkout_latency_seconds_bucket))",
    )
    .await;
    let route = |r: &str| -> f64 {
        p50.as_array()
            .unwrap()
            .iter()
            .find(|s| s["metric"]["http_route"] == r)
            .unwrap_or_else(|| panic!("{r} in {p50}"))["value"][1]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let (pay, cart) = (route("/pay"), route("/cart"));
    assert!(
        (0.025..=0.05).contains(&pay),
        "/pay p50 in (25 ms, 50 ms]: {p50}"
    );
    assert!(cart <= 0.005, "/cart p50 in the first bucket: {p50}");

    // The rules say what they matched.
    let rules = server.get_json("/api/v1/pipeline").await;
    assert_eq!(rules["rules"][0]["stats"]["matched"], 7, "{rules}");
    assert_eq!(rules["rules"][2]["stats"]["matched"], 4, "{rules}");
}

/// A trace id as SDKs make them (random bits), with a prefix telling the test's kinds apart.
fn trace_id(prefix: &str, n: u64) -> String {
    let bits = n.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let more = bits.rotate_left(29) ^ 0x5851_f42d_4c95_7f2d;
    format!("{prefix}{:012x}{bits:016x}", more >> 16)
}

/// Tail sampling: spans are stored and counted as they arrive; when they are written to files,
/// every trace with an error or a slow span stays whole, and a share of the others, noted.
#[tokio::test]
async fn tail_sampling_keeps_error_and_slow_traces_whole_and_a_share_of_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[("REDSCOPE_STORAGE__FLUSH_INTERVAL_SECS", "2")],
    );
    let rules = r#"
[[rule]]
name = "errors, slow traces and a quarter of the rest"
signal = "spans"
action = "tail_sample"
rate = 0.25
slow_ms = 1000
"#;
    let client = reqwest::Client::new();
    let put = client
        .put(server.api_url("/api/v1/pipeline"))
        .body(rules)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200, "{}", put.text().await.unwrap());
    let t = now_ns() - 5_000_000_000;
    // 20 failing traces, 20 slow ones, 160 ordinary: a server span and a client span each.
    let mut spans = Vec::new();
    for n in 0..200u64 {
        let (prefix, ms, error) = match n % 10 {
            0 => ("eeee", 20, true),
            1 => ("5555", 1500, false),
            _ => ("0000", 20, false),
        };
        let trace = trace_id(prefix, n);
        let root = format!("{:016x}", 1000 + n);
        // Half the failing servers say so by their status, half by a 5xx left unset.
        let (code, http) = match (error, n % 20) {
            (true, 0) => (2, 200),
            (true, _) => (0, 500),
            _ => (0, 200),
        };
        spans.push(
            serde_json::json!({"traceId": trace, "spanId": root, "name": "GET /items",
            "kind": 2, "startTimeUnixNano": t.to_string(),
            "endTimeUnixNano": (t + ms * 1_000_000).to_string(),
            "attributes": [{"key": "http.response.status_code", "value": {"intValue": http}}],
            "status": {"code": code}}),
        );
        spans.push(
            serde_json::json!({"traceId": trace, "spanId": format!("{:016x}", 5000 + n),
            "parentSpanId": root, "name": "SELECT items", "kind": 3,
            "startTimeUnixNano": (t + 1_000_000).to_string(),
            "endTimeUnixNano": (t + 5_000_000).to_string(),
            "attributes": [{"key": "db.system", "value": {"stringValue": "postgresql"}}]}),
        );
    }
    let body = serde_json::json!({"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "items"}}]}, "scopeSpans": [{"spans": spans}]}]});
    let r = client
        .post(server.otlp_url("/v1/traces"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Written to files within a few seconds: then the ordinary traces are thinned out.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = server.get_json("/api/v1/status").await;
        if status["status"]["storage"]["rows_filtered"]
            .as_u64()
            .unwrap_or(0)
            > 0
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never flushed with the filter: {status}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let of = |prefix: &str| format!("SELECT count(*) FROM spans WHERE trace_id LIKE '{prefix}%'");
    assert_eq!(
        count(&server, &of("eeee")).await,
        40,
        "failing traces kept whole"
    );
    assert_eq!(
        count(&server, &of("5555")).await,
        40,
        "slow traces kept whole"
    );
    let ordinary = count(&server, &of("0000")).await;
    assert!(
        (40..=130).contains(&ordinary),
        "about a quarter of 320 ordinary spans kept: {ordinary}"
    );
    assert_eq!(
        count(&server, "SELECT count(*) FROM (SELECT trace_id, count(*) AS c FROM spans GROUP BY trace_id) WHERE c <> 2").await,
        0,
        "traces are kept or dropped whole"
    );
    assert_eq!(
        count(
            &server,
            "SELECT count(*) FROM spans WHERE trace_id LIKE '0000%' AND attributes LIKE '%\"redscope.sample_rate\":0.25%'"
        )
        .await,
        ordinary,
        "the kept share says what it stands for"
    );
    assert_eq!(
        count(
            &server,
            "SELECT count(*) FROM spans WHERE trace_id NOT LIKE '0000%' AND attributes LIKE '%redscope.sample_rate%'"
        )
        .await,
        0
    );

    // What the rule matched, dropped and saved.
    let state = server.get_json("/api/v1/pipeline").await;
    let stats = &state["rules"][0]["stats"];
    assert_eq!(stats["matched"], 400, "{state}");
    assert_eq!(
        stats["dropped"].as_u64().unwrap(),
        320 - ordinary,
        "{state}"
    );
    assert!(stats["bytes_saved"].as_u64().unwrap() > 0, "{state}");

    // A dry run of the rule over what is stored now: the ordinary spans are what it thins.
    let dry = dry_run(&server, rules).await;
    assert_eq!(dry["rules"][0]["matched_records"], ordinary, "{dry}");
    assert!(
        dry["rules"][0]["saved_bytes"].as_u64().unwrap() > 0,
        "{dry}"
    );

    // RED counted every request, before the sampling.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let red = server.get_json("/api/v1/red?from=now-1h").await;
        let items = red["totals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["service"] == "items")
            .cloned();
        if let Some(items) = items
            && items["requests"] == 200
        {
            assert_eq!(items["errors"], 20, "{red}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "RED never counted 200 requests: {red}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Per-rule retention: debug logs kept an hour go from their files, other records stay, and
/// the rule counts what it removed.
#[tokio::test]
async fn a_retain_rule_removes_its_records_past_their_keep_and_no_others() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pipeline.toml"),
        "[[rule]]\nname = \"debug for an hour\"\nsignal = \"logs\"\naction = \"retain\"\nkeep = \"1h\"\nmatch = { severity_below = \"INFO\" }\n",
    )
    .unwrap();
    let server = Server::start(
        dir.path(),
        &[
            ("REDSCOPE_STORAGE__FLUSH_INTERVAL_SECS", "1"),
            ("REDSCOPE_STORAGE__COMPACTION_INTERVAL_SECS", "1"),
            ("REDSCOPE_STORAGE__RETENTION_GRACE_SECS", "0"),
        ],
    );
    let old = now_ns() - 2 * 3_600_000_000_000;
    let fresh = now_ns() - 60_000_000_000;
    post_logs(
        &server,
        "cart",
        vec![
            record(old, "DEBUG", 5, "cache miss for key 1"),
            record(old + 1, "INFO", 9, "order placed"),
            record(old + 2, "ERROR", 17, "payment failed"),
            record(fresh, "DEBUG", 5, "cache miss for key 2"),
        ],
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = server.get_json("/api/v1/status").await;
        if status["status"]["storage"]["rows_expired"]
            .as_u64()
            .unwrap_or(0)
            > 0
        {
            break;
        }
        assert!(Instant::now() < deadline, "nothing expired: {status}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let left = count(
        &server,
        "SELECT count(*) FROM logs WHERE service_name = 'cart'",
    )
    .await;
    assert_eq!(left, 3, "only the old debug record went");
    assert_eq!(
        count(
            &server,
            "SELECT count(*) FROM logs WHERE body = 'cache miss for key 2'"
        )
        .await,
        1,
        "a debug record younger than its keep stays"
    );
    let state = server.get_json("/api/v1/pipeline").await;
    assert_eq!(state["rules"][0]["action"], "retain", "{state}");
    assert_eq!(state["rules"][0]["stats"]["dropped"], 1, "{state}");
    // A keep that is not a duration is refused, and the rule in force stays.
    let r = reqwest::Client::new()
        .put(server.api_url("/api/v1/pipeline"))
        .body(
            "[[rule]]\nname = \"r\"\nsignal = \"logs\"\naction = \"retain\"\nkeep = \"forever\"\n",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["details"][0]["field"], "keep", "{body}");
}

const BUDGETS: &str = r#"
[[budget]]
name = "logs a day"
signal = "logs"
daily_records = 1000

[[budget]]
name = "spans of items"
signal = "spans"
service = "items"
daily_records = 10
"#;

/// Budgets: under concurrent load, a log cap sheds debug first (from 90%), then all but errors
/// (at the cap), never an error; spans at their cap keep failed traces whole; the use is shown
/// in the API, as a PromQL gauge and as a firing built-in alert, and survives a crash.
#[tokio::test]
async fn budgets_shed_debug_first_then_all_but_errors_and_never_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pipeline.toml"), BUDGETS).unwrap();
    let mut server = Server::start(
        dir.path(),
        &[
            ("REDSCOPE_STORAGE__FLUSH_INTERVAL_SECS", "2"),
            ("REDSCOPE_ALERTS__INTERVAL_SECS", "1"),
        ],
    );
    // 8 senders at once, 10 batches of 20 each: debug, info, warn and error in turn
    // (1,600 records, 400 of each level).
    let levels = [("DEBUG", 5u8), ("INFO", 9), ("WARN", 13), ("ERROR", 17)];
    let now = now_ns();
    let mut senders = Vec::new();
    for s in 0..8u64 {
        let server_url = server.otlp_url("/v1/logs");
        senders.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for b in 0..10u64 {
                let records: Vec<serde_json::Value> = (0..20u64)
                    .map(|i| {
                        let (text, number) = levels[(i % 4) as usize];
                        record(now - (s * 200 + b * 20 + i) * 1_000, text, number, &format!("sender {s} batch {b} record {i}"))
                    })
                    .collect();
                let body = serde_json::json!({"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "cart"}}]}, "scopeLogs": [{"logRecords": records}]}]});
                let r = client.post(&server_url).json(&body).send().await.unwrap();
                assert_eq!(r.status(), 200);
            }
        }));
    }
    for s in senders {
        s.await.unwrap();
    }
    let stored = |level: &str| {
        format!(
            "SELECT count(*) FROM logs WHERE service_name = 'cart' AND severity_text = '{level}'"
        )
    };
    assert_eq!(
        count(&server, &stored("ERROR")).await,
        400,
        "never an error shed"
    );
    let (debug, info, warn) = (
        count(&server, &stored("DEBUG")).await,
        count(&server, &stored("INFO")).await,
        count(&server, &stored("WARN")).await,
    );
    assert!(
        debug + info + warn <= 1000,
        "no more than the cap: {debug} {info} {warn}"
    );
    assert!(
        info > debug,
        "debug goes first: {debug} debug, {info} info stored"
    );
    let state = server.get_json("/api/v1/pipeline").await;
    let logs = &state["budgets"][0];
    assert_eq!(logs["name"], "logs a day", "{state}");
    assert_eq!(logs["state"], "capped", "{state}");
    assert_eq!(
        logs["caps"][0]["used"].as_u64().unwrap(),
        debug + info + warn + 400,
        "the budget counts what is stored, errors over the cap too: {state}"
    );
    assert_eq!(
        logs["shed_records"].as_u64().unwrap(),
        1200 - (debug + info + warn),
        "{state}"
    );
    assert!(logs["shed_debug_records"].as_u64().unwrap() > 0, "{state}");
    assert!(logs["shed_capped_records"].as_u64().unwrap() > 0, "{state}");
    let usage = server.get_json("/api/v1/usage?from=now-1h").await;
    assert_eq!(usage["budgets"][0]["state"], "capped", "{usage}");

    // Spans: 10 traces of two spans of `items`, 3 of them failing, over a cap of 10 spans.
    let t = now_ns() - 3_000_000_000;
    let mut spans = Vec::new();
    for n in 0..10u64 {
        let failing = n < 3;
        let trace = trace_id(if failing { "eeee" } else { "0000" }, n);
        let root = format!("{:016x}", 1000 + n);
        spans.push(
            serde_json::json!({"traceId": trace, "spanId": root, "name": "GET /items", "kind": 2,
            "startTimeUnixNano": t.to_string(), "endTimeUnixNano": (t + 9_000_000).to_string(),
            "status": {"code": if failing { 2 } else { 0 }}}),
        );
        spans.push(serde_json::json!({"traceId": trace, "spanId": format!("{:016x}", 5000 + n),
            "parentSpanId": root, "name": "SELECT items", "kind": 3,
            "startTimeUnixNano": (t + 1_000_000).to_string(), "endTimeUnixNano": (t + 5_000_000).to_string()}));
    }
    let body = serde_json::json!({"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "items"}}]}, "scopeSpans": [{"spans": spans}]}]});
    server.post_otlp_json("/v1/traces", &body).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let spans_budget = loop {
        let state = server.get_json("/api/v1/pipeline").await;
        let b = state["budgets"][1].clone();
        if b["caps"][0]["used"].as_u64().unwrap_or(0) > 0 {
            break b;
        }
        assert!(Instant::now() < deadline, "spans never written: {state}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let of = |prefix: &str| format!("SELECT count(*) FROM spans WHERE trace_id LIKE '{prefix}%'");
    // The budget judged the spans as the flush began; the file it writes replaces the spans in
    // memory a moment later.
    let shed = spans_budget["shed_records"].as_u64().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(
        &server,
        "SELECT count(*) FROM spans WHERE service_name = 'items'",
    )
    .await
        != 20 - shed
    {
        assert!(
            Instant::now() < deadline,
            "the flush never wrote what the budget kept: {spans_budget}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        count(&server, &of("eeee")).await,
        6,
        "failed traces kept whole: {spans_budget}"
    );
    let ordinary = count(&server, &of("0000")).await;
    assert!(
        ordinary <= 4,
        "the cap leaves room for 4 more spans: {ordinary}"
    );
    assert_eq!(
        spans_budget["shed_records"].as_u64().unwrap(),
        14 - ordinary,
        "{spans_budget}"
    );
    assert_eq!(
        count(&server, "SELECT count(*) FROM (SELECT trace_id, count(*) AS c FROM spans GROUP BY trace_id) WHERE c <> 2").await,
        0,
        "a trace's spans of one service are kept or shed together"
    );

    // The use as a gauge, and the built-in budget alert firing at the cap.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ratio = promql(
            &server,
            r#"max(redscope_budget_used_ratio{budget="logs a day"})"#,
        )
        .await;
        let firing = server.get_json("/api/v1/alerts?state=firing").await;
        let alert = firing["alerts"].as_array().and_then(|a| {
            a.iter()
                .find(|a| a["rule"] == "PipelineBudget" && a["labels"]["budget"] == "logs a day")
                .cloned()
        });
        if let (Some(r), Some(alert)) = (ratio.get(0), alert) {
            let v: f64 = r["value"][1].as_str().unwrap().parse().unwrap();
            assert!(v >= 1.0, "{ratio}");
            assert_eq!(alert["labels"]["severity"], "critical", "{alert}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no gauge or alert: {ratio} {firing}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // A crash keeps the day's counts (saved every few seconds): still capped after it.
    server.kill_and_restart();
    let state = server.get_json("/api/v1/pipeline").await;
    assert_eq!(state["budgets"][0]["state"], "capped", "{state}");
    let before = count(&server, &stored("INFO")).await;
    post_logs(
        &server,
        "cart",
        vec![
            record(now_ns(), "INFO", 9, "after the crash"),
            record(now_ns(), "ERROR", 17, "after the crash"),
        ],
    )
    .await;
    assert_eq!(
        count(&server, &stored("INFO")).await,
        before,
        "still over the cap"
    );
    assert_eq!(count(&server, &stored("ERROR")).await, 401);
}
