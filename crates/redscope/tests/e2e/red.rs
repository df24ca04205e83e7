//! RED numbers and the service map from spans with known counts, errors, durations and topology.

use std::time::{Duration, Instant};

use crate::common::{Server, now_ns};

#[allow(clippy::too_many_arguments)]
pub(crate) fn span(
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

pub(crate) fn resource_spans(service: &str, spans: Vec<serde_json::Value>) -> serde_json::Value {
    serde_json::json!({"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}, "scopeSpans": [{"spans": spans}]})
}

/// Sends OTLP/JSON spans and expects them accepted.
pub(crate) async fn post_spans(server: &Server, body: serde_json::Value) {
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
    // The answer says up to when it is complete, and that the minute still running is not.
    let complete_to = per_op["complete_to_unix_nano"]
        .as_i64()
        .expect("a watermark");
    let now = now_ns() as i64;
    assert!(
        complete_to <= now && complete_to > now - 120_000_000_000,
        "{per_op}"
    );
    assert_eq!(
        per_op["series"][0]["points"][0]["partial"], true,
        "{per_op}"
    );
    assert!(map["complete_to_unix_nano"].is_i64(), "{map}");

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
    // Traces are counted once quiet for ten seconds (calls to the database no longer wait).
    let mut blast = server.get_json("/api/v1/blast-radius?service=api").await;
    for _ in 0..60 {
        if blast["traces"] == 10 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        blast = server.get_json("/api/v1/blast-radius?service=api").await;
    }
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

/// `sort=longest` lists traces by their duration (first start to last end), longest first,
/// across pages and whatever their age; a child that outlives its root (an asynchronous
/// consumer) makes its trace longer, whichever service the search matched.
#[tokio::test]
async fn trace_search_lists_longest_first_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let now = now_ns();
    // Root durations in ms; the recent ones are short, the longest are 30–40 minutes old.
    let ms = [30u64, 10, 20, 15, 90, 60, 75, 5];
    let mut spans = Vec::new();
    for (i, &d) in ms.iter().enumerate() {
        let start = if i < 4 {
            now - (i as u64 + 1) * 2_000_000_000
        } else {
            now - (30 + i as u64) * 60_000_000_000
        };
        spans.push(span(
            i,
            &sid(700 + i),
            "",
            "GET /",
            2,
            start,
            d,
            false,
            serde_json::json!([]),
        ));
    }
    // Trace 7's root took 5 ms, but a child in `db` took 200 ms from the same start.
    let child = span(
        7,
        &sid(800),
        &sid(707),
        "SELECT",
        3,
        now - 37 * 60_000_000_000,
        200,
        false,
        serde_json::json!([]),
    );
    post_spans(
        &server,
        serde_json::json!({"resourceSpans": [resource_spans("shop", spans), resource_spans("db", vec![child])]}),
    )
    .await;
    let trace = |i: usize| format!("{:032x}", i + 1);
    let (ids, _, pages) = all_pages(&server, "from=now-1h&limit=3&sort=longest&service=shop").await;
    let expected: Vec<String> = [7, 4, 6, 5, 0, 2, 3, 1].iter().map(|&i| trace(i)).collect();
    assert_eq!(ids, expected);
    assert_eq!(pages, 3);
    // Only db matched: trace 7 alone, with its whole duration; without a filter, all of them.
    let (db, _, _) = all_pages(&server, "from=now-1h&sort=longest&service=db").await;
    assert_eq!(db, vec![trace(7)]);
    let all = server
        .get_json("/api/v1/traces?from=now-1h&limit=2&sort=longest")
        .await;
    let first: Vec<&str> = all["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["trace_id"].as_str().unwrap())
        .collect();
    assert_eq!(first, vec![trace(7), trace(4)]);
    // Newest first stays the default and can be named.
    let newest = server
        .get_json("/api/v1/traces?from=now-1h&limit=1&sort=newest&service=shop")
        .await;
    assert_eq!(newest["traces"][0]["trace_id"], trace(0));
    let bad = reqwest::get(server.api_url("/api/v1/traces?sort=shortest"))
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert!(body.to_string().contains("sort"), "{body}");
}

/// OTLP/JSON attributes: numbers as `intValue`, anything else as `stringValue`.
fn attrs(pairs: &[(&str, serde_json::Value)]) -> serde_json::Value {
    pairs
        .iter()
        .map(|(k, v)| match v {
            serde_json::Value::Number(n) => {
                serde_json::json!({"key": k, "value": {"intValue": n.to_string()}})
            }
            serde_json::Value::String(s) => {
                serde_json::json!({"key": k, "value": {"stringValue": s}})
            }
            other => panic!("unsupported attribute value {other}"),
        })
        .collect()
}

/// A span id from a number.
pub(crate) fn sid(n: usize) -> String {
    format!("{n:016x}")
}

/// Polls `path` until `done` holds (rollups are written every few seconds; traces and
/// uninstrumented callees are settled after their ten-second match window), or 40 s pass.
async fn poll(
    server: &Server,
    path: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let v = server.get_json(path).await;
        if done(&v) || Instant::now() > deadline {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// `operation → requests` of one service's RED totals.
fn requests_by_operation(red: &serde_json::Value) -> std::collections::BTreeMap<String, u64> {
    red["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["operation"].as_str().unwrap().to_string(),
                t["requests"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn by_op<'a>(red: &'a serde_json::Value, operation: &str) -> &'a serde_json::Value {
    red["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["operation"] == operation)
        .unwrap_or_else(|| panic!("no operation {operation}: {red}"))
}

fn expected(pairs: &[(&str, u64)]) -> std::collections::BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// Operations are named by `http.route` (with the method) before the span name, and by
/// `rpc.service`/`rpc.method` when there is no route.
#[tokio::test]
async fn red_names_operations_by_route_then_rpc_method_then_span_name() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let t = now_ns() - 1_000_000_000;
    let s = |v: &str| serde_json::json!(v);
    // (span name, attributes, how many)
    let kinds: Vec<(&str, serde_json::Value, usize)> = vec![
        (
            "GET",
            attrs(&[
                ("http.route", s("/items/{id}")),
                ("http.request.method", s("GET")),
            ]),
            3,
        ),
        // Legacy `http.method`.
        (
            "legacy",
            attrs(&[("http.route", s("/health")), ("http.method", s("HEAD"))]),
            2,
        ),
        ("route-only", attrs(&[("http.route", s("/ping"))]), 1),
        (
            "grpc.server",
            attrs(&[
                ("rpc.system", s("grpc")),
                ("rpc.service", s("shop.Cart")),
                ("rpc.method", s("GetCart")),
            ]),
            4,
        ),
        ("method-only", attrs(&[("rpc.method", s("Ping"))]), 2),
        // The route wins over the RPC method.
        (
            "both",
            attrs(&[
                ("http.route", s("/both")),
                ("http.request.method", s("POST")),
                ("rpc.method", s("Both")),
            ]),
            1,
        ),
        ("checkout-job", serde_json::json!([]), 5),
    ];
    let mut spans = Vec::new();
    for (name, a, n) in kinds {
        for _ in 0..n {
            let i = spans.len();
            spans.push(span(i, &sid(i + 1), "", name, 2, t, 5, false, a.clone()));
        }
    }
    post_spans(
        &server,
        serde_json::json!({"resourceSpans": [resource_spans("shop", spans)]}),
    )
    .await;
    let red = poll(&server, "/api/v1/red?service=shop", |r| {
        requests_by_operation(r).values().sum::<u64>() >= 18
    })
    .await;
    assert_eq!(
        requests_by_operation(&red),
        expected(&[
            ("GET /items/{id}", 3),
            ("HEAD /health", 2),
            ("/ping", 1),
            ("shop.Cart/GetCart", 4),
            ("Ping", 2),
            ("POST /both", 1),
            ("checkout-job", 5),
        ]),
        "{red}"
    );
}

/// One span of a test's table: (service, trace, span, parent span (0: a root), name, kind,
/// ms, attributes); kinds: 1 INTERNAL, 2 SERVER, 3 CLIENT, 4 PRODUCER, 5 CONSUMER.
type Row = (
    &'static str,
    usize,
    usize,
    usize,
    &'static str,
    u8,
    u64,
    serde_json::Value,
);

/// SERVER and CONSUMER spans count as requests, and so do root spans of any kind; INTERNAL,
/// CLIENT and PRODUCER spans inside a trace do not.
#[tokio::test]
async fn red_counts_server_consumer_and_root_spans_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let t = now_ns() - 1_000_000_000;
    let none = || serde_json::json!([]);
    let kafka = attrs(&[
        ("messaging.system", serde_json::json!("kafka")),
        ("messaging.destination.name", serde_json::json!("orders")),
    ]);
    let db = attrs(&[("db.system", serde_json::json!("postgresql"))]);
    let (k, d) = (|| kafka.clone(), || db.clone());
    let mut table: Vec<Row> = Vec::new();
    // Three orders: orders SERVER (root) → INTERNAL, CLIENT, PRODUCER → worker CONSUMER.
    for i in 0..3usize {
        let b = 10 * i;
        table.extend([
            ("orders", i, b + 1, 0, "POST /orders", 2, 20, none()),
            ("orders", i, b + 2, b + 1, "validate", 1, 2, none()),
            ("orders", i, b + 3, b + 1, "GET", 3, 3, none()),
            ("orders", i, b + 4, b + 1, "orders publish", 4, 1, k()),
            ("worker", i, b + 5, b + 4, "orders process", 5, 8, k()),
            ("worker", i, b + 6, b + 5, "store", 1, 4, none()),
        ]);
    }
    // Two nightly jobs in worker: a root INTERNAL span with an INTERNAL and a CLIENT child.
    for i in 3..5usize {
        let b = 10 * i;
        table.extend([
            ("worker", i, b + 1, 0, "nightly-reindex", 1, 50, none()),
            ("worker", i, b + 2, b + 1, "reindex-batch", 1, 20, none()),
            ("worker", i, b + 3, b + 2, "SELECT", 3, 10, d()),
        ]);
    }
    // Four root CLIENT spans of a command-line tool, one root PRODUCER span of a scheduler.
    for i in 5..9usize {
        table.push(("cli", i, 10 * i + 1, 0, "GET /status", 3, 7, none()));
    }
    table.push(("cron", 9, 91, 0, "tick publish", 4, 1, k()));
    let resources: Vec<serde_json::Value> = ["orders", "worker", "cli", "cron"]
        .into_iter()
        .map(|service| {
            let spans = table
                .iter()
                .filter(|row| row.0 == service)
                .map(|&(_, trace, id, parent, name, kind, ms, ref a)| {
                    let parent = if parent == 0 {
                        String::new()
                    } else {
                        sid(parent)
                    };
                    span(
                        trace,
                        &sid(id),
                        &parent,
                        name,
                        kind,
                        t,
                        ms,
                        false,
                        a.clone(),
                    )
                })
                .collect();
            resource_spans(service, spans)
        })
        .collect();
    post_spans(&server, serde_json::json!({ "resourceSpans": resources })).await;
    let red = poll(&server, "/api/v1/red", |r| {
        r["totals"].as_array().unwrap().len() >= 4
    })
    .await;
    let per_service: std::collections::BTreeMap<String, u64> = red["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["service"].as_str().unwrap().to_string(),
                t["requests"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        per_service,
        expected(&[("orders", 3), ("worker", 5), ("cli", 4), ("cron", 1)]),
        "{red}"
    );
    for (service, ops) in [
        ("orders", expected(&[("POST /orders", 3)])),
        (
            "worker",
            expected(&[("orders process", 3), ("nightly-reindex", 2)]),
        ),
        ("cli", expected(&[("GET /status", 4)])),
        ("cron", expected(&[("tick publish", 1)])),
    ] {
        let red = server
            .get_json(&format!("/api/v1/red?service={service}"))
            .await;
        assert_eq!(requests_by_operation(&red), ops, "{service}: {red}");
    }
}

/// An HTTP server span with status UNSET fails when it answered 5xx (also the legacy
/// `http.status_code`), not when it answered 4xx; an ERROR status fails whatever the code.
#[tokio::test]
async fn red_counts_5xx_server_spans_as_errors_and_4xx_not() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let t = now_ns() - 1_000_000_000;
    let http = |method: &str, route: &str, code_key: &str, code: u16| {
        attrs(&[
            ("http.request.method", serde_json::json!(method)),
            ("http.route", serde_json::json!(route)),
            (code_key, serde_json::json!(code)),
        ])
    };
    let new = "http.response.status_code";
    // (method, route, attribute, code, span status ERROR)
    let cases = [
        ("GET", "/items/{id}", new, 404, false),
        ("GET", "/items/{id}", new, 404, false),
        ("GET", "/items/{id}", new, 404, false),
        ("GET", "/items/{id}", new, 400, false),
        ("GET", "/items/{id}", "http.status_code", 429, false),
        ("GET", "/items/{id}", new, 200, false),
        ("GET", "/items/{id}", new, 200, false),
        ("POST", "/orders", new, 500, false),
        ("POST", "/orders", new, 500, false),
        ("POST", "/orders", new, 503, false),
        ("POST", "/orders", "http.status_code", 502, false),
        ("POST", "/orders", new, 200, false),
        ("POST", "/orders", new, 200, false),
        ("POST", "/orders", new, 200, true),
    ];
    let spans = cases
        .iter()
        .enumerate()
        .map(|(i, (m, route, key, code, err))| {
            span(
                i,
                &sid(i + 1),
                "",
                "http",
                2,
                t,
                5,
                *err,
                http(m, route, key, *code),
            )
        })
        .collect();
    post_spans(
        &server,
        serde_json::json!({"resourceSpans": [resource_spans("api", spans)]}),
    )
    .await;
    let red = poll(&server, "/api/v1/red", |r| {
        r["totals"][0]["requests"].as_u64() == Some(14)
    })
    .await;
    let total = &red["totals"][0];
    assert_eq!(total["service"], "api", "{red}");
    assert_eq!(total["requests"], 14);
    assert_eq!(total["errors"], 5);
    assert_eq!(total["error_rate"].as_f64(), Some(5.0 / 14.0));
    let per_op = server.get_json("/api/v1/red?service=api").await;
    let items = by_op(&per_op, "GET /items/{id}");
    assert_eq!(
        (&items["requests"], &items["errors"]),
        (&7.into(), &0.into()),
        "{per_op}"
    );
    assert_eq!(items["error_rate"], 0.0);
    let orders = by_op(&per_op, "POST /orders");
    assert_eq!(
        (&orders["requests"], &orders["errors"]),
        (&7.into(), &5.into()),
        "{per_op}"
    );
}

/// Percentiles come from the rollups' histograms, interpolated within a bucket (15% wide) and
/// kept within the observed minimum and maximum; `operation=` narrows RED to one operation.
#[tokio::test]
async fn red_p90_from_known_durations_and_the_operation_filter() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let t = now_ns() - 1_000_000_000;
    let (mut api, mut web) = (Vec::new(), Vec::new());
    let mut n = 0;
    let mut add = |to: &mut Vec<serde_json::Value>, name: &str, ms: u64| {
        n += 1;
        to.push(span(
            n,
            &sid(n),
            "",
            name,
            2,
            t,
            ms,
            false,
            serde_json::json!([]),
        ));
    };
    // api GET /fast: eight at 20 ms and two at 83 ms. The median lies among the 20s and the
    // 90th percentile among the 83s: both buckets hold one duration, so the interpolated
    // values are clamped to it (83 ms sits low in its bucket, 81.9..94.2 ms).
    for ms in [20, 20, 20, 20, 83, 20, 20, 83, 20, 20] {
        add(&mut api, "GET /fast", ms);
    }
    // api POST /slow: 100, 200, ... 1000 ms: the 90th percentile is 900 ms, give or take a bucket.
    for k in 1..=10 {
        add(&mut api, "POST /slow", 100 * k);
    }
    // web has an operation of the same name, and another.
    for _ in 0..3 {
        add(&mut web, "GET /fast", 50);
    }
    for _ in 0..5 {
        add(&mut web, "GET /other", 5);
    }
    post_spans(
        &server,
        serde_json::json!({"resourceSpans": [resource_spans("api", api), resource_spans("web", web)]}),
    )
    .await;
    let all = poll(&server, "/api/v1/red", |r| {
        r["totals"].as_array().unwrap().len() >= 2
    })
    .await;
    assert_eq!(all["totals"].as_array().unwrap().len(), 2, "{all}");

    let fast = server
        .get_json("/api/v1/red?service=api&operation=GET%20%2Ffast")
        .await;
    let totals = fast["totals"].as_array().unwrap();
    assert_eq!(totals.len(), 1, "{fast}");
    assert_eq!(totals[0]["operation"], "GET /fast");
    assert_eq!(totals[0]["requests"], 10);
    assert_eq!(totals[0]["errors"], 0);
    assert_eq!(totals[0]["p50_ms"], 20.0, "{fast}");
    assert_eq!(totals[0]["p90_ms"], 83.0, "{fast}");
    assert_eq!(totals[0]["p99_ms"], 83.0, "{fast}");
    let series = fast["series"].as_array().unwrap();
    assert_eq!(series.len(), 1, "{fast}");
    assert_eq!(series[0]["operation"], "GET /fast");
    assert_eq!(series[0]["points"][0]["requests"], 10);
    assert_eq!(series[0]["points"][0]["p90_ms"], 83.0);

    let slow = server
        .get_json("/api/v1/red?service=api&operation=POST%20%2Fslow")
        .await;
    assert_eq!(slow["totals"].as_array().unwrap().len(), 1, "{slow}");
    let p90 = slow["totals"][0]["p90_ms"].as_f64().unwrap();
    assert!((900.0..=900.0 * 1.15).contains(&p90), "p90 {p90}");
    assert_eq!(
        slow["totals"][0]["p99_ms"], 1000.0,
        "never beyond the maximum"
    );
    // p95 (what the home page compares between periods) lies between them.
    let p95 = slow["totals"][0]["p95_ms"].as_f64().unwrap();
    assert!((p90..=1000.0).contains(&p95), "p95 {p95}, p90 {p90}");
    assert_eq!(slow["totals"][0]["requests"], 10);

    // Without a service: the operation's RED per service.
    let everywhere = server.get_json("/api/v1/red?operation=GET%20%2Ffast").await;
    let per_service: Vec<(String, u64, f64)> = everywhere["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["service"].as_str().unwrap().to_string(),
                t["requests"].as_u64().unwrap(),
                t["p90_ms"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        per_service,
        vec![("api".to_string(), 10, 83.0), ("web".to_string(), 3, 50.0)],
        "{everywhere}"
    );
    let nothing = server
        .get_json("/api/v1/red?service=api&operation=GET%20%2Fnothing")
        .await;
    assert_eq!(nothing["totals"], serde_json::json!([]), "{nothing}");
    assert_eq!(nothing["series"], serde_json::json!([]));
}

/// Dependencies that send no telemetry appear as uninstrumented nodes: a message queue named
/// by its destination, and external HTTP hosts named by `server.address` or, without it, by
/// the host of `url.full` (or the legacy `http.url`): lowercased, without port or userinfo.
#[tokio::test]
async fn service_map_infers_uninstrumented_queues_and_external_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let t = now_ns() - 1_000_000_000;
    let s = |v: &str| serde_json::json!(v);
    let mut orders = Vec::new();
    // Six orders, each: SERVER root → PRODUCER to Kafka "order-events" (2 ms), CLIENT to
    // Stripe by server.address (100 ms, two fail), CLIENT to a geo API by URL only (30 ms).
    for i in 0..6usize {
        let b = 10 * i;
        // A span of this order: its number, its parent's (0: the root), name, kind, ms, error.
        let mut add = |id: usize, parent: usize, name: &str, kind: u8, ms: u64, error: bool, a| {
            let parent = if parent == 0 {
                String::new()
            } else {
                sid(b + parent)
            };
            orders.push(span(i, &sid(b + id), &parent, name, kind, t, ms, error, a));
        };
        add(1, 0, "POST /orders", 2, 150, false, serde_json::json!([]));
        let queue = attrs(&[
            ("messaging.system", s("kafka")),
            ("messaging.destination.name", s("order-events")),
            ("messaging.operation.type", s("send")),
        ]);
        add(2, 1, "order-events publish", 4, 2, false, queue);
        let stripe = attrs(&[
            ("http.request.method", s("POST")),
            ("server.address", s("api.stripe.com")),
            ("url.full", s("https://api.stripe.com/v1/charges")),
        ]);
        add(3, 1, "POST", 3, 100, i < 2, stripe);
        let geo = if i < 4 {
            attrs(&[
                ("http.request.method", s("GET")),
                (
                    "url.full",
                    s("https://svc:tok@Geo.Example.NET:8443/v1/lookup?q=x"),
                ),
            ])
        } else {
            attrs(&[
                ("http.method", s("GET")),
                ("http.url", s("http://geo.example.net/v1/lookup")),
            ])
        };
        add(4, 1, "GET", 3, 30, false, geo);
    }
    post_spans(
        &server,
        serde_json::json!({"resourceSpans": [resource_spans("orders", orders)]}),
    )
    .await;
    let map = poll(&server, "/api/v1/service-map", |m| {
        m["nodes"].as_array().unwrap().len() >= 4 && m["edges"].as_array().unwrap().len() >= 3
    })
    .await;
    let nodes: Vec<(String, String, bool, u64, u64)> = map["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["name"].as_str().unwrap().to_string(),
                n["kind"].as_str().unwrap().to_string(),
                n["instrumented"].as_bool().unwrap(),
                n["requests"].as_u64().unwrap(),
                n["errors"].as_u64().unwrap(),
            )
        })
        .collect();
    let node = |name: &str, kind: &str, instrumented: bool, requests: u64, errors: u64| {
        (
            name.to_string(),
            kind.to_string(),
            instrumented,
            requests,
            errors,
        )
    };
    assert_eq!(
        nodes,
        vec![
            node("api.stripe.com", "external", false, 6, 2),
            node("geo.example.net", "external", false, 6, 0),
            node("order-events", "messaging", false, 6, 0),
            node("orders", "service", true, 6, 0),
        ],
        "{map}"
    );
    let edges: Vec<(String, String, u64, u64, f64, f64)> = map["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["from"].as_str().unwrap().to_string(),
                e["to"].as_str().unwrap().to_string(),
                e["requests"].as_u64().unwrap(),
                e["errors"].as_u64().unwrap(),
                e["p50_ms"].as_f64().unwrap(),
                e["p99_ms"].as_f64().unwrap(),
            )
        })
        .collect();
    let edge = |to: &str, requests: u64, errors: u64, ms: f64| {
        (
            "orders".to_string(),
            to.to_string(),
            requests,
            errors,
            ms,
            ms,
        )
    };
    assert_eq!(
        edges,
        vec![
            edge("api.stripe.com", 6, 2, 100.0),
            edge("geo.example.net", 6, 0, 30.0),
            edge("order-events", 6, 0, 2.0),
        ],
        "{map}"
    );
    let stripe = map["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["to"] == "api.stripe.com")
        .unwrap();
    assert_eq!(stripe["error_rate"].as_f64(), Some(2.0 / 6.0));
    assert!(stripe["rate_per_s"].as_f64().unwrap() > 0.0);
    // The callers' view is the uninstrumented node's RED.
    let stripe_node = map["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "api.stripe.com")
        .unwrap();
    assert_eq!(stripe_node["p50_ms"], 100.0);
    assert_eq!(stripe_node["error_rate"].as_f64(), Some(2.0 / 6.0));
}

/// Blast radius counts the traces, distinct `enduser.id`s and distinct `session.id`s that
/// reached a service, whichever span of the trace carried them.
#[tokio::test]
async fn blast_radius_counts_distinct_users_and_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let t = now_ns() - 1_000_000_000;
    let (mut web, mut api) = (Vec::new(), Vec::new());
    // Nine traces web SERVER → web CLIENT → api SERVER "charge":
    // 0..6: sessions sess-0, sess-1, sess-2 in turn; sess-0 is ann's, sess-1 bob's, sess-2
    //       anonymous; 6 and 7: cat, who has no session; 8: neither on the entry span, but
    //       api names a session of its own.
    for i in 0..9usize {
        let b = 10 * i;
        let mut entry = vec![
            ("http.route", serde_json::json!("/pay")),
            ("http.request.method", serde_json::json!("POST")),
        ];
        let user = match i {
            0..6 => ["ann", "bob", ""][i % 3],
            6 | 7 => "cat",
            _ => "",
        };
        if !user.is_empty() {
            entry.push(("enduser.id", serde_json::json!(user)));
        }
        if i < 6 {
            entry.push(("session.id", serde_json::json!(format!("sess-{}", i % 3))));
        }
        // A span of this trace: its number, its parent's (0: the root), name, kind, ms.
        let sp = |id: usize, parent: usize, name: &str, kind: u8, ms: u64, a| {
            let parent = if parent == 0 {
                String::new()
            } else {
                sid(b + parent)
            };
            span(i, &sid(b + id), &parent, name, kind, t, ms, false, a)
        };
        web.push(sp(1, 0, "POST /pay", 2, 40, attrs(&entry)));
        web.push(sp(2, 1, "POST", 3, 30, serde_json::json!([])));
        let callee = if i == 8 {
            attrs(&[("session.id", serde_json::json!("sess-late"))])
        } else {
            serde_json::json!([])
        };
        api.push(sp(3, 2, "charge", 2, 20, callee));
    }
    post_spans(
        &server,
        serde_json::json!({"resourceSpans": [resource_spans("web", web), resource_spans("api", api)]}),
    )
    .await;
    // Traces are counted once they have been quiet for the match window.
    let api_blast = poll(&server, "/api/v1/blast-radius?service=api", |b| {
        b["traces"] == 9
    })
    .await;
    for (path, blast) in [
        ("api", api_blast),
        (
            "api&operation=charge",
            server
                .get_json("/api/v1/blast-radius?service=api&operation=charge")
                .await,
        ),
        (
            "web",
            server.get_json("/api/v1/blast-radius?service=web").await,
        ),
    ] {
        assert_eq!(blast["traces"], 9, "{path}: {blast}");
        assert_eq!(blast["users"], 3, "{path}: ann, bob, cat: {blast}");
        assert_eq!(
            blast["sessions"], 4,
            "{path}: sess-0..2 and sess-late: {blast}"
        );
        assert_eq!(
            blast["entry_points"][0]["operation"], "POST /pay",
            "{path}: {blast}"
        );
    }
    let blast = server.get_json("/api/v1/blast-radius?service=api").await;
    assert_eq!(
        blast["upstream_services"],
        serde_json::json!(["web"]),
        "{blast}"
    );
    assert_eq!(blast["entry_points"][0]["traces"], 9);
}
