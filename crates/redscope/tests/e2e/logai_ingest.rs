//! Log AI at ingest: text logs become structured, patterns and structure are served.

use crate::common::{Server, now_ns};

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
        .map(|(i, l)| serde_json::json!({"timeUnixNano": (t + i as u64).to_string(), "body": {"stringValue": l}}))
        .collect();
    let body = serde_json::json!({"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "orders"}}]}, "scopeLogs": [{"logRecords": records}]}]});
    let r = reqwest::Client::new()
        .post(server.otlp_url("/v1/logs"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

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
