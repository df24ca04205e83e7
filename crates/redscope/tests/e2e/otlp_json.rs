//! OTLP/JSON over HTTP for all three signals, read back through the API.

use crate::common::{Server, now_ns};

fn resource(service: &str) -> serde_json::Value {
    serde_json::json!({"attributes": [
        {"key": "service.name", "value": {"stringValue": service}},
        {"key": "host.name", "value": {"stringValue": "box-1"}}
    ]})
}

#[tokio::test]
async fn json_traces_logs_metrics_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let client = reqwest::Client::new();
    let t = now_ns();
    let trace_id = "5b8efff798038103d269b633813fc60c";
    let traces = serde_json::json!({"resourceSpans": [{"resource": resource("json-svc"), "scopeSpans": [{"scope": {"name": "test"}, "spans": [
        {"traceId": trace_id, "spanId": "eee19b7ec3c1b174", "name": "GET /items/{id}", "kind": 2,
         "startTimeUnixNano": t.to_string(), "endTimeUnixNano": (t + 25_000_000).to_string(),
         "attributes": [
            {"key": "http.route", "value": {"stringValue": "/items/{id}"}},
            {"key": "http.response.status_code", "value": {"intValue": "503"}},
            {"key": "retry", "value": {"boolValue": true}},
            {"key": "ratio", "value": {"doubleValue": 0.25}},
            {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": 2}]}}}
         ],
         "events": [{"timeUnixNano": (t + 1000).to_string(), "name": "cache miss", "attributes": [{"key": "key", "value": {"stringValue": "item:7"}}]}],
         "status": {"code": 2, "message": "upstream unavailable"}},
        {"traceId": trace_id, "spanId": "eee19b7ec3c1b175", "parentSpanId": "eee19b7ec3c1b174", "name": "SELECT items", "kind": 3,
         "startTimeUnixNano": (t + 1_000_000).to_string(), "endTimeUnixNano": (t + 5_000_000).to_string(),
         "attributes": [{"key": "db.system.name", "value": {"stringValue": "postgresql"}}]}
    ]}]}]});
    let r = client
        .post(server.otlp_url("/v1/traces"))
        .json(&traces)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let body: serde_json::Value = r.json().await.unwrap_or_default();
    assert!(
        body["partialSuccess"].is_null() || body["partialSuccess"]["rejectedSpans"] == 0,
        "{body}"
    );

    let logs = serde_json::json!({"resourceLogs": [{"resource": resource("json-svc"), "scopeLogs": [{"logRecords": [
        {"timeUnixNano": t.to_string(), "severityNumber": 17, "severityText": "ERROR", "body": {"stringValue": "Payment FAILED for order 42"},
         "traceId": trace_id, "spanId": "eee19b7ec3c1b174", "attributes": [{"key": "order.id", "value": {"intValue": "42"}}]},
        {"timeUnixNano": (t + 1).to_string(), "body": {"kvlistValue": {"values": [{"key": "event", "value": {"stringValue": "login"}}]}}}
    ]}]}]});
    let r = client
        .post(server.otlp_url("/v1/logs"))
        .json(&logs)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let metrics = serde_json::json!({"resourceMetrics": [{"resource": resource("json-svc"), "scopeMetrics": [{"metrics": [
        {"name": "queue.depth", "unit": "1", "gauge": {"dataPoints": [{"timeUnixNano": t.to_string(), "asInt": "17", "attributes": [{"key": "queue", "value": {"stringValue": "orders"}}]}]}},
        {"name": "requests", "sum": {"aggregationTemporality": 1, "isMonotonic": true, "dataPoints": [{"timeUnixNano": t.to_string(), "asDouble": 5.0}]}},
        {"name": "latency", "unit": "ms", "histogram": {"aggregationTemporality": 1, "dataPoints": [{"timeUnixNano": t.to_string(), "count": "10", "sum": 300.0, "bucketCounts": ["5", "5", "0"], "explicitBounds": [10.0, 100.0]}]}},
        {"name": "size", "exponentialHistogram": {"aggregationTemporality": 1, "dataPoints": [{"timeUnixNano": t.to_string(), "count": "3", "scale": 1, "zeroCount": "1", "positive": {"offset": 2, "bucketCounts": ["1", "1"]}}]}},
        {"name": "rpc.latency", "summary": {"dataPoints": [{"timeUnixNano": t.to_string(), "count": "4", "sum": 10.0, "quantileValues": [{"quantile": 0.5, "value": 2.0}, {"quantile": 0.99, "value": 5.0}]}]}}
    ]}]}]});
    let r = client
        .post(server.otlp_url("/v1/metrics"))
        .json(&metrics)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Traces: search, then by id with every attribute type intact.
    let found = server
        .get_json("/api/v1/traces?service=json-svc&status=error")
        .await;
    assert_eq!(found["traces"][0]["trace_id"], trace_id, "{found}");
    assert_eq!(found["traces"][0]["span_count"], 2);
    assert_eq!(found["traces"][0]["error_count"], 1);
    assert_eq!(found["traces"][0]["root_name"], "GET /items/{id}");
    let by_attr = server
        .get_json("/api/v1/traces?attr.http.route=/items/{id}&attr.ratio=0.25")
        .await;
    assert_eq!(by_attr["traces"].as_array().unwrap().len(), 1, "{by_attr}");
    let none = server
        .get_json("/api/v1/traces?attr.http.route=/nothing")
        .await;
    assert!(none["traces"].as_array().unwrap().is_empty());
    let trace = server.get_json(&format!("/api/v1/traces/{trace_id}")).await;
    let root = &trace["spans"][0];
    assert_eq!(root["kind"], "SERVER");
    assert_eq!(root["status_code"], "ERROR");
    assert_eq!(root["status_message"], "upstream unavailable");
    assert_eq!(root["attributes"]["http.response.status_code"], 503);
    assert_eq!(root["attributes"]["retry"], true);
    assert_eq!(root["attributes"]["ratio"], 0.25);
    assert_eq!(root["attributes"]["tags"], serde_json::json!(["a", 2]));
    assert_eq!(root["resource_attributes"]["host.name"], "box-1");
    assert_eq!(root["events"][0]["name"], "cache miss");
    assert_eq!(root["duration_ns"], 25_000_000);
    assert_eq!(trace["spans"][1]["parent_span_id"], "eee19b7ec3c1b174");

    // Logs: text search is case-insensitive; severity and trace filters work.
    let found = server
        .get_json("/api/v1/logs?q=payment%20failed&severity_min=ERROR")
        .await;
    let rec = &found["records"][0];
    assert_eq!(rec["body"], "Payment FAILED for order 42", "{found}");
    assert_eq!(rec["attributes"]["order.id"], 42);
    assert_eq!(rec["trace_id"], trace_id);
    let by_trace = server
        .get_json(&format!("/api/v1/logs?trace_id={trace_id}"))
        .await;
    assert_eq!(by_trace["records"].as_array().unwrap().len(), 1);
    let map_body = server.get_json("/api/v1/logs?q=login").await;
    assert_eq!(
        map_body["records"][0]["body"]["event"], "login",
        "{map_body}"
    );

    // Metrics: every type listed; queries aggregate.
    let list = server.get_json("/api/v1/metrics").await;
    let types: Vec<(String, String)> = list["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_string(),
                m["type"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for expected in [
        ("queue.depth", "gauge"),
        ("requests", "sum"),
        ("latency", "histogram"),
        ("size", "exponential_histogram"),
        ("rpc.latency", "summary"),
    ] {
        assert!(
            types.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{types:?}"
        );
    }
    let q = server
        .get_json("/api/v1/metrics/query?name=queue.depth&agg=max&group_by=queue")
        .await;
    assert_eq!(q["series"][0]["labels"]["queue"], "orders");
    assert_eq!(q["series"][0]["points"][0][1], 17.0);
    let p50 = server
        .get_json("/api/v1/metrics/query?name=latency&agg=p50")
        .await;
    assert_eq!(p50["series"][0]["points"][0][1], 10.0, "{p50}");
    let s = server
        .get_json("/api/v1/metrics/query?name=rpc.latency&agg=p99")
        .await;
    assert_eq!(s["series"][0]["points"][0][1], 5.0);

    // Services and SQL agree.
    let services = server.get_json("/api/v1/services").await;
    let svc = services["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "json-svc")
        .unwrap()
        .clone();
    assert_eq!(svc["spans"], 2);
    assert_eq!(svc["logs"], 2);
    assert_eq!(svc["metric_points"], 5);
    let sql = server
        .sql("SELECT count(*) AS n FROM spans WHERE attr(attributes, 'http.route') = '/items/{id}'")
        .await;
    assert_eq!(sql["rows"][0][0], 1);
    assert_eq!(sql["columns"][0], "n");

    // The OpenAPI document is served and describes the routes.
    let spec = server.get_json("/api/v1/openapi.json").await;
    assert!(spec["paths"]["/api/v1/traces/{trace_id}"].is_object());
}

#[tokio::test]
async fn api_rejects_bad_parameters_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    for (path, param) in [
        ("/api/v1/traces?from=yesterday", "from"),
        ("/api/v1/traces?limit=-3", "limit"),
        ("/api/v1/traces?min_duration_ms=fast", "min_duration_ms"),
        ("/api/v1/traces?status=weird", "status"),
        ("/api/v1/logs?severity_min=LOUD", "severity_min"),
        ("/api/v1/logs?trace_id=xyz", "trace_id"),
        ("/api/v1/logs?cursor=nope", "cursor"),
        ("/api/v1/metrics/query", "name"),
        ("/api/v1/metrics/query?name=x&agg=median", "agg"),
        ("/api/v1/metrics/query?name=x&step=10ms", "step"),
        ("/api/v1/traces/not-hex", "trace_id"),
    ] {
        let r = reqwest::get(server.api_url(path)).await.unwrap();
        assert_eq!(r.status(), 400, "{path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"]["param"], param, "{path}: {body}");
    }
    let r = reqwest::get(server.api_url("/api/v1/traces/0123456789abcdef0123456789abcdef"))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // SQL is read-only and errors are 400 with the reason.
    let client = reqwest::Client::new();
    for q in [
        "DROP TABLE spans",
        "CREATE TABLE x AS SELECT 1",
        "INSERT INTO spans SELECT * FROM spans",
        "SELEC nonsense",
    ] {
        let r = client
            .post(server.api_url("/api/v1/sql"))
            .json(&serde_json::json!({"query": q}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{q}");
    }
    let r = client
        .post(server.api_url("/api/v1/sql"))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}
