//! Derived data is as durable as raw data: after a loop of SIGKILLs during ingest, RED, the
//! service map, blast radius and log patterns equal what the input gives — what an
//! uninterrupted run gives (`red.rs` checks that against known spans).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::common::{Server, now_ns};

const BATCHES: usize = 50;
const TRACES_PER_BATCH: usize = 20;
const LOGS_PER_BATCH: usize = 10;
const KILLS: usize = 5;

fn failing(trace: usize) -> bool {
    trace.is_multiple_of(7)
}

#[allow(clippy::too_many_arguments)]
fn span(
    trace: usize,
    id: usize,
    parent: Option<usize>,
    name: &str,
    kind: u8,
    start: u64,
    error: bool,
    attrs: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "traceId": format!("{:032x}", trace + 1),
        "spanId": format!("{id:016x}"),
        "parentSpanId": parent.map(|p| format!("{p:016x}")).unwrap_or_default(),
        "name": name, "kind": kind,
        "startTimeUnixNano": start.to_string(),
        "endTimeUnixNano": (start + 5_000_000).to_string(),
        "attributes": attrs, "status": {"code": if error { 2 } else { 0 }}
    })
}

/// Span ids of trace `t`: web's entry and client span, api's entry and database call.
fn ids(t: usize) -> [usize; 4] {
    [4 * t + 1, 4 * t + 2, 4 * t + 3, 4 * t + 4]
}

fn web_spans(t: usize, start: u64) -> Vec<serde_json::Value> {
    let [root, client, _, _] = ids(t);
    let route = serde_json::json!([
        {"key": "http.route", "value": {"stringValue": "/buy"}},
        {"key": "http.request.method", "value": {"stringValue": "POST"}},
        {"key": "enduser.id", "value": {"stringValue": format!("user-{}", t % 5)}}
    ]);
    vec![
        span(t, root, None, "POST /buy", 2, start, failing(t), route),
        span(
            t,
            client,
            Some(root),
            "POST",
            3,
            start,
            failing(t),
            serde_json::json!([]),
        ),
    ]
}

fn api_spans(t: usize, start: u64) -> Vec<serde_json::Value> {
    let [_, client, server, db] = ids(t);
    let db_attrs = serde_json::json!([
        {"key": "db.system.name", "value": {"stringValue": "postgresql"}},
        {"key": "server.address", "value": {"stringValue": "pay-db"}}
    ]);
    vec![
        span(
            t,
            server,
            Some(client),
            "charge",
            2,
            start,
            failing(t),
            serde_json::json!([]),
        ),
        span(t, db, Some(server), "SELECT", 3, start, false, db_attrs),
    ]
}

fn resource(service: &str, key: &str, items: serde_json::Value) -> serde_json::Value {
    let scope = if key == "spans" {
        "scopeSpans"
    } else {
        "scopeLogs"
    };
    serde_json::json!({
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
        scope: [{ key: items }]
    })
}

/// Request `b`: web's spans of batch b's traces and api's spans of batch b-1's (services export
/// on their own, so a client span often waits across a kill for its callee), and api's logs.
fn requests(b: usize, start: u64) -> (String, serde_json::Value, String, serde_json::Value) {
    let traces = |batch: usize| batch * TRACES_PER_BATCH..(batch + 1) * TRACES_PER_BATCH;
    let web: Vec<_> = if b < BATCHES {
        traces(b).flat_map(|t| web_spans(t, start)).collect()
    } else {
        Vec::new()
    };
    let api: Vec<_> = if b > 0 {
        traces(b - 1).flat_map(|t| api_spans(t, start)).collect()
    } else {
        Vec::new()
    };
    let spans = serde_json::json!({"resourceSpans": [
        resource("web", "spans", web.into()), resource("api", "spans", api.into())
    ]});
    let first_span = if b < BATCHES {
        ids(b * TRACES_PER_BATCH)[0]
    } else {
        ids((b - 1) * TRACES_PER_BATCH)[2]
    };
    let logs: Vec<_> = (0..LOGS_PER_BATCH)
        .map(|i| {
            let n = b * LOGS_PER_BATCH + i;
            let body = if failing(n) {
                format!("charge {n} declined: card expired")
            } else {
                format!("charge {n} accepted in {} ms", 3 + n % 11)
            };
            serde_json::json!({"timeUnixNano": start.to_string(), "body": {"stringValue": body}})
        })
        .collect();
    let first_log = logs[0]["body"]["stringValue"].as_str().unwrap().to_string();
    let logs = serde_json::json!({"resourceLogs": [resource("api", "logRecords", logs.into())]});
    (format!("{first_span:016x}"), spans, first_log, logs)
}

/// Whether a request the server may have stored before it was killed is stored: a retry must
/// not store it twice (the comparison is with the input, once).
async fn stored(client: &reqwest::Client, api: &str, query: String) -> Option<bool> {
    let r = client
        .post(format!("{api}/api/v1/sql"))
        .json(&serde_json::json!({ "query": query }))
        .send()
        .await
        .ok()?;
    if !r.status().is_success() {
        return None;
    }
    let body: serde_json::Value = r.json().await.ok()?;
    Some(body["rows"][0][0].as_u64()? > 0)
}

/// Sends `body` until it is stored once.
async fn send_once(
    client: &reqwest::Client,
    url: &str,
    api: &str,
    body: &serde_json::Value,
    check: String,
) {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut failed = false;
    while Instant::now() < deadline {
        if failed {
            match stored(client, api, check.clone()).await {
                Some(true) => return,
                Some(false) => {}
                None => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            }
        }
        match client.post(url).json(body).send().await {
            Ok(r) if r.status().is_success() => return,
            _ => {
                failed = true;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    panic!("a request was never stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rollups_after_a_sigkill_loop_equal_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    // Small flush thresholds: WAL segments are flushed and rolled over mid-stream.
    let mut server = Server::start(
        dir.path(),
        &[
            ("REDSCOPE_STORAGE__FLUSH_ROWS", "700"),
            ("REDSCOPE_STORAGE__COMPACTION_INTERVAL_SECS", "1"),
        ],
    );
    let start = now_ns() - 2_000_000_000;
    let (traces_url, logs_url, api) = (
        server.otlp_url("/v1/traces"),
        server.otlp_url("/v1/logs"),
        server.api_url(""),
    );
    let sender = tokio::spawn(async move {
        let client = reqwest::Client::new();
        for b in 0..=BATCHES {
            let (span_id, spans, log_body, logs) = requests(b, start);
            let check = format!("SELECT count(*) AS n FROM spans WHERE span_id = '{span_id}'");
            send_once(&client, &traces_url, &api, &spans, check).await;
            let check = format!("SELECT count(*) AS n FROM logs WHERE body = '{log_body}'");
            send_once(&client, &logs_url, &api, &logs, check).await;
            // Slow enough that every kill lands while requests are being sent.
            tokio::time::sleep(Duration::from_millis(120)).await;
        }
    });
    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(900)).await;
        // Triage drains the rollups first: drains (and checkpoints) happen between kills.
        let _ = reqwest::get(server.api_url("/api/v1/triage")).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        server.kill_and_restart();
    }
    sender.await.unwrap();

    let traces = BATCHES * TRACES_PER_BATCH;
    let errors = (0..traces).filter(|t| failing(*t)).count();
    let logs = BATCHES * LOGS_PER_BATCH + LOGS_PER_BATCH;
    let stored = server.sql("SELECT count(*) AS n FROM spans").await;
    assert_eq!(stored["rows"][0][0], 4 * traces, "raw spans stored once");

    // Traces are counted once quiet for ten seconds; triage drains what is held.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut blast = serde_json::Value::Null;
    while Instant::now() < deadline {
        let _ = server.get_json("/api/v1/triage").await;
        blast = server.get_json("/api/v1/blast-radius?service=api").await;
        if blast["traces"] == traces {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(blast["traces"], traces, "reach: {blast}");
    assert_eq!(blast["users"], 5, "{blast}");

    let red = server.get_json("/api/v1/red").await;
    let totals: BTreeMap<String, (u64, u64)> = red["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let service = t["service"].as_str().unwrap().to_string();
            let counts = (
                t["requests"].as_u64().unwrap(),
                t["errors"].as_u64().unwrap(),
            );
            (service, counts)
        })
        .collect();
    let expected: BTreeMap<String, (u64, u64)> = ["api", "web"]
        .into_iter()
        .map(|s| (s.to_string(), (traces as u64, errors as u64)))
        .collect();
    assert_eq!(totals, expected, "RED: {red}");

    let map = server.get_json("/api/v1/service-map").await;
    let edge = |from: &str, to: &str| {
        map["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["from"] == from && e["to"] == to)
            .map(|e| {
                (
                    e["requests"].as_u64().unwrap(),
                    e["errors"].as_u64().unwrap(),
                )
            })
    };
    assert_eq!(
        edge("web", "api"),
        Some((traces as u64, errors as u64)),
        "{map}"
    );
    assert_eq!(edge("api", "pay-db"), Some((traces as u64, 0)), "{map}");
    assert_eq!(map["edges"].as_array().unwrap().len(), 2, "{map}");

    // Patterns: the rollup counts equal the stored records' templates, and all were counted.
    let patterns = server.get_json("/api/v1/logs/patterns?service=api").await;
    let rolled: BTreeMap<String, u64> = patterns["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let id = p["template_id"].as_str().unwrap().to_string();
            (id, p["count"].as_u64().unwrap())
        })
        .collect();
    let rows = server
        .sql("SELECT log_template_id AS id, count(*) AS n FROM logs GROUP BY log_template_id")
        .await;
    let raw: BTreeMap<String, u64> = rows["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_str().expect("a template id").to_string(),
                r[1].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(rolled, raw, "patterns: {patterns}");
    assert_eq!(rolled.values().sum::<u64>(), logs as u64);

    // The drains' marks are stored (the replay needs them) but are not the user's metrics.
    let marks = server
        .sql("SELECT count(*) FROM metric_points WHERE metric_name = 'redscope.rollup.drain'")
        .await;
    assert!(marks["rows"][0][0].as_u64().unwrap() > 0, "{marks}");
    let listed = server.get_json("/api/v1/metrics").await;
    assert!(
        !listed.to_string().contains("redscope.rollup.drain"),
        "{listed}"
    );

    // No durable write ever missed the aggregator. (Whether the last restart had writes to
    // replay depends on timing; that the replay matters is what the counts above check: without
    // it reach falls to a fifth.)
    let status = server.get_json("/api/v1/status").await;
    let rollups = &status["status"]["rollups"];
    assert_eq!(rollups["lost_writes"], 0, "{rollups}");
}
