//! The Logs page's typed views (histogram, facets, patterns) filter exactly as `/api/v1/logs`
//! does, so the UI, the API and MCP count the same records.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::{Server, now_ns};

/// An OTLP/JSON log record with a text body and a severity number.
fn record(time_unix_nano: u64, severity: u32, body: &str) -> Value {
    serde_json::json!({"timeUnixNano": time_unix_nano.to_string(), "severityNumber": severity, "body": {"stringValue": body}})
}

async fn post_logs(server: &Server, service: &str, records: Vec<Value>) {
    let body = serde_json::json!({"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}, "scopeLogs": [{"logRecords": records}]}]});
    server.post_otlp_json("/v1/logs", &body).await;
}

/// The records `/api/v1/logs` returns for `filters` (all of them: fewer than a page).
async fn records(server: &Server, filters: &str) -> Vec<Value> {
    let page = server
        .get_json(&format!("/api/v1/logs?{filters}&limit=1000"))
        .await;
    assert!(page["next_cursor"].is_null(), "{page}");
    page["records"].as_array().unwrap().clone()
}

fn band(severity: i64) -> &'static str {
    match severity {
        21.. => "FATAL",
        17.. => "ERROR",
        13.. => "WARN",
        9.. => "INFO",
        5.. => "DEBUG",
        1.. => "TRACE",
        _ => "UNSET",
    }
}

fn tally<'a>(keys: impl Iterator<Item = &'a str>) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for k in keys {
        *out.entry(k.to_string()).or_insert(0) += 1;
    }
    out
}

fn facet(facets: &Value, key: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for v in facets[key].as_array().unwrap() {
        out.insert(
            v["value"].as_str().unwrap().to_string(),
            v["count"].as_u64().unwrap(),
        );
    }
    out
}

/// `filters` without the one parameter `key`.
fn without(filters: &str, key: &str) -> String {
    let kept: Vec<&str> = filters
        .split('&')
        .filter(|kv| !kv.starts_with(&format!("{key}=")))
        .collect();
    kept.join("&")
}

#[tokio::test]
async fn histogram_facets_and_patterns_filter_as_the_search_does() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let t = now_ns() - 60_000_000_000;
    let mut orders = Vec::new();
    let mut payments = Vec::new();
    for i in 0..30u64 {
        orders.push(record(
            t + i * 1_000_000_000,
            9,
            &format!("order {i} placed in {i}ms"),
        ));
        if i % 3 == 0 {
            orders.push(record(
                t + i * 1_000_000_000 + 1,
                17,
                &format!("order {i} failed: Timeout after 5s"),
            ));
        }
        payments.push(record(
            t + i * 1_000_000_000 + 2,
            13,
            &format!("charge {i} slow: timeout retried"),
        ));
        if i % 5 == 0 {
            payments.push(record(
                t + i * 1_000_000_000 + 3,
                5,
                &format!("cache miss for card {i}"),
            ));
        }
    }
    post_logs(&server, "orders", orders).await;
    post_logs(&server, "payments", payments).await;
    let range = format!("from={}&to={}", t - 1_000_000_000, t + 40_000_000_000);

    let cases = [
        String::new(),
        "service=orders".to_string(),
        "severity_min=WARN".to_string(),
        "q=TIMEOUT".to_string(),
        "service=payments&q=timeout".to_string(),
        "severity_min=ERROR&q=timeout".to_string(),
    ];
    for filters in &cases {
        let filters = format!("{range}&{filters}");
        let listed = records(&server, &filters).await;
        assert!(!listed.is_empty(), "{filters}");

        // The histogram counts the listed records, per severity band.
        let hist = server
            .get_json(&format!("/api/v1/logs/histogram?{filters}&step=10s"))
            .await;
        assert_eq!(hist["total"], listed.len() as u64, "{filters}: {hist}");
        let mut by_band = BTreeMap::new();
        for b in hist["buckets"].as_array().unwrap() {
            assert_eq!(b["t"].as_i64().unwrap() % 10_000_000_000, 0);
            *by_band
                .entry(b["severity"].as_str().unwrap().to_string())
                .or_insert(0) += b["count"].as_u64().unwrap();
        }
        let expected = tally(
            listed
                .iter()
                .map(|r| band(r["severity_number"].as_i64().unwrap())),
        );
        assert_eq!(by_band, expected, "{filters}");

        // Each facet counts the records listed without its own filter.
        let facets = server
            .get_json(&format!("/api/v1/logs/facets?{filters}"))
            .await;
        let all_services = records(&server, &without(&filters, "service")).await;
        let expected = tally(
            all_services
                .iter()
                .map(|r| r["service_name"].as_str().unwrap()),
        );
        assert_eq!(facet(&facets, "services"), expected, "{filters}: {facets}");
        let all_severities = records(&server, &without(&filters, "severity_min")).await;
        let expected = tally(
            all_severities
                .iter()
                .map(|r| band(r["severity_number"].as_i64().unwrap())),
        );
        assert_eq!(
            facet(&facets, "severities"),
            expected,
            "{filters}: {facets}"
        );

        // Patterns count the listed records per template.
        let patterns = server
            .get_json(&format!("/api/v1/logs/patterns?{filters}"))
            .await;
        let mut by_template = BTreeMap::new();
        for p in patterns["patterns"].as_array().unwrap() {
            by_template.insert(
                p["template_id"].as_str().unwrap().to_string(),
                p["count"].as_u64().unwrap(),
            );
        }
        let expected = tally(
            listed
                .iter()
                .map(|r| r["log_template_id"].as_str().unwrap()),
        );
        assert_eq!(by_template, expected, "{filters}: {patterns}");
    }

    let spec = server.get_json("/api/v1/openapi.json").await;
    for path in ["/api/v1/logs/histogram", "/api/v1/logs/facets"] {
        assert!(spec["paths"][path]["get"].is_object(), "{path} documented");
    }

    // Bad filters are refused as by the search.
    for path in [
        "/api/v1/logs/histogram",
        "/api/v1/logs/facets",
        "/api/v1/logs/patterns",
    ] {
        let r = reqwest::get(server.api_url(&format!("{path}?severity_min=LOUD")))
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{path}");
        let r = reqwest::get(server.api_url(&format!("{path}?trace_id=xyz")))
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{path}");
    }
}
