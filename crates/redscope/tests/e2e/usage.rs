//! The usage report: what each service sends, by signal and by name, against the previous
//! period, and what nobody has read.

use crate::common::{Server, now_ns};
use crate::red::{post_spans, resource_spans, sid, span};

const MINUTE: u64 = 60_000_000_000;

fn row<'a>(report: &'a serde_json::Value, signal: &str, name: &str) -> &'a serde_json::Value {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["signal"] == signal && r["name"] == name)
        .unwrap_or_else(|| panic!("no {signal} row {name}: {report}"))
}

async fn post(server: &Server, path: &str, body: serde_json::Value) {
    let r = reqwest::Client::new()
        .post(server.otlp_url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
}

#[tokio::test]
async fn usage_counts_records_and_bytes_per_service_and_name_and_what_nobody_read() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let now = now_ns();
    // shop: 30 spans with a large attribute now, 10 an hour and a half ago; cart: 10 small ones.
    let big = serde_json::json!([{"key": "payload", "value": {"stringValue": "x".repeat(2000)}}]);
    let mut shop = Vec::new();
    for i in 0..40usize {
        let start = if i < 30 {
            now - (i as u64 + 1) * MINUTE
        } else {
            now - 90 * MINUTE
        };
        shop.push(span(
            i,
            &sid(100 + i),
            "",
            "GET /orders",
            2,
            start,
            5,
            false,
            big.clone(),
        ));
    }
    let cart: Vec<_> = (0..10usize)
        .map(|i| {
            let attrs = serde_json::json!([{"key": "cart.id", "value": {"stringValue": format!("c{}", i % 4)}}]);
            span(100 + i, &sid(300 + i), "", "POST /cart", 2, now - (i as u64 + 1) * MINUTE, 3, false, attrs)
        })
        .collect();
    post_spans(
        &server,
        serde_json::json!({"resourceSpans": [resource_spans("shop", shop), resource_spans("cart", cart)]}),
    )
    .await;
    let logs: Vec<_> = (0..20u64)
        .map(|i| serde_json::json!({"timeUnixNano": (now - i * MINUTE - 1).to_string(), "severityText": "INFO",
            "body": {"stringValue": format!("order {i} shipped to warehouse {}", i % 3)}}))
        .collect();
    post(&server, "/v1/logs", serde_json::json!({"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]}, "scopeLogs": [{"logRecords": logs}]}]})).await;
    let points: Vec<_> = (0..5u64)
        .map(|i| serde_json::json!({"timeUnixNano": (now - i * MINUTE).to_string(), "asInt": "3"}))
        .collect();
    post(&server, "/v1/metrics", serde_json::json!({"resourceMetrics": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "cart"}}]}, "scopeMetrics": [{"metrics": [{"name": "queue.depth", "gauge": {"dataPoints": points}}]}]}]})).await;

    let by_service = server.get_json("/api/v1/usage?from=now-1h").await;
    let spans_total = by_service["signals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["signal"] == "spans")
        .unwrap();
    assert_eq!(spans_total["records"], 40, "{by_service}");
    assert_eq!(
        spans_total["previous_records"], 10,
        "the spans of 90 minutes ago are the previous hour's"
    );
    assert!(
        spans_total["projected_monthly_bytes"].as_u64().unwrap()
            > spans_total["bytes"].as_u64().unwrap() * 700
    );
    let shop_spans = row(&by_service, "spans", "shop");
    let cart_spans = row(&by_service, "spans", "cart");
    assert_eq!(shop_spans["records"], 30);
    assert_eq!(cart_spans["records"], 10);
    assert!(
        shop_spans["bytes"].as_u64().unwrap() > 30 * 2000,
        "{shop_spans}"
    );
    assert!(shop_spans["bytes"].as_u64().unwrap() > 20 * cart_spans["bytes"].as_u64().unwrap());
    assert_eq!(by_service["rows"][0]["name"], "shop", "biggest first");
    assert!(shop_spans["cost"].as_f64().unwrap() > 0.0);
    assert!(
        (shop_spans["change"].as_f64().unwrap() - 2.0).abs() < 0.01,
        "30 now against 10: {shop_spans}"
    );
    assert_eq!(row(&by_service, "logs", "shop")["records"], 20);
    assert_eq!(row(&by_service, "metrics", "cart")["records"], 5);
    // Nobody has read anything yet; a search by service reads that service's spans.
    assert_eq!(shop_spans["unread"], true);
    server.get_json("/api/v1/traces?service=shop").await;
    let again = server
        .get_json("/api/v1/usage?from=now-1h&signal=spans")
        .await;
    assert_eq!(row(&again, "spans", "shop")["unread"], false, "{again}");
    assert!(
        row(&again, "spans", "shop")["last_read_ms"]
            .as_i64()
            .is_some()
    );
    assert_eq!(row(&again, "spans", "cart")["unread"], true);
    assert!(
        again["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["signal"] == "spans")
    );

    let names = server
        .get_json("/api/v1/usage?from=now-1h&group_by=span_name")
        .await;
    assert_eq!(row(&names, "spans", "GET /orders")["service"], "shop");
    let templates = server
        .get_json("/api/v1/usage?from=now-1h&group_by=log_template")
        .await;
    let rows = templates["rows"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        1,
        "one template for the twenty lines: {templates}"
    );
    assert_eq!(rows[0]["records"], 20);
    assert!(
        rows[0]["text"].as_str().unwrap().contains("shipped"),
        "{templates}"
    );
    let metrics = server
        .get_json("/api/v1/usage?from=now-1h&group_by=metric_name")
        .await;
    assert_eq!(row(&metrics, "metrics", "queue.depth")["records"], 5);
    let keys = server
        .get_json("/api/v1/usage?from=now-1h&group_by=attribute_key&signal=spans")
        .await;
    assert_eq!(row(&keys, "spans", "cart.id")["cardinality"], 4, "{keys}");
    assert_eq!(row(&keys, "spans", "payload")["records"], 30);

    for bad in ["group_by=colour", "signal=events", "unread_days=0"] {
        let r = reqwest::get(server.api_url(&format!("/api/v1/usage?{bad}")))
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
}
