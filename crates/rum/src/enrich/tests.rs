use std::sync::Arc;

use model::{LogRow, Resource, SpanRow};
use serde_json::{Value, json};

use super::*;

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 Safari/537.36";

fn resource(attrs: Value) -> Arc<Resource> {
    Arc::new(Resource {
        service_name: "shop-web".to_string(),
        service_version: Some("1.4.0".to_string()),
        resource_attributes: attrs.to_string(),
        ..Resource::default()
    })
}

fn ours() -> Arc<Resource> {
    resource(
        json!({"service.name": "shop-web", "telemetry.sdk.name": "redscope-browser", "user_agent.original": CHROME}),
    )
}

fn log(resource: &Arc<Resource>, event: &str, attrs: Value, body: &str) -> LogRow {
    LogRow {
        event_name: event.to_string(),
        attributes: attrs.to_string(),
        body: body.to_string(),
        body_type: if body.is_empty() {
            "empty"
        } else if body.starts_with('{') {
            "json"
        } else {
            "string"
        }
        .to_string(),
        resource: Arc::clone(resource),
        ..LogRow::default()
    }
}

fn attrs(row: &LogRow) -> Value {
    serde_json::from_str(&row.attributes).unwrap()
}

#[test]
fn page_views_get_client_and_route() {
    let e = Enricher::default();
    let r = ours();
    let mut rows = vec![
        log(
            &r,
            "browser.page_view",
            json!({"session.id": "s1", "url.full": "https://shop.example.com/orders/8123?ref=mail"}),
            "",
        ),
        log(
            &r,
            "",
            json!({"event.name": "checkout.started", "session.id": "s1"}),
            "",
        ),
    ];
    let browser = e.enrich_logs(&mut rows);
    assert_eq!(browser, [true, true]);
    let a = attrs(&rows[0]);
    assert_eq!(a["browser.name"], "Chrome");
    assert_eq!(a["os.name"], "Windows");
    assert_eq!(a["device.type"], "desktop");
    assert_eq!(a["url.template"], "/orders/:id");
    assert_eq!(a["url.path"], "/orders/8123");
    assert!(a.get("user_agent.synthetic.type").is_none());
    assert_eq!(rows[1].event_name, "checkout.started");
}

#[test]
fn backend_logs_are_left_alone() {
    let e = Enricher::default();
    let r = resource(json!({"service.name": "checkout", "telemetry.sdk.language": "python"}));
    let original = json!({"url.full": "http://x/orders/1"}).to_string();
    let mut rows = vec![log(
        &r,
        "",
        serde_json::from_str(&original).unwrap(),
        "GET /orders/1 200",
    )];
    assert_eq!(e.enrich_logs(&mut rows), [false]);
    assert_eq!(rows[0].attributes, original);
}

#[test]
fn a_browser_event_is_known_without_a_browser_resource() {
    let e = Enricher::default();
    let r = resource(json!({"service.name": "site"}));
    let mut rows = vec![log(
        &r,
        "browser.click",
        json!({"session.id": "s", "user_agent.original": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}),
        "",
    )];
    assert_eq!(e.enrich_logs(&mut rows), [true]);
    let a = attrs(&rows[0]);
    assert_eq!(a["user_agent.synthetic.type"], "bot");
    assert_eq!(a["device.type"], "bot");
}

#[test]
fn errors_get_type_message_and_a_stable_fingerprint() {
    let e = Enricher::default();
    let r = ours();
    let stack = |file: &str, n: u32| {
        format!(
            "TypeError: Cannot read properties of undefined (reading 'total')\n    at renderCart (https://shop.example.com/assets/{file}:1:{n})\n    at https://shop.example.com/assets/{file}:1:99"
        )
    };
    let mut rows = vec![
        log(
            &r,
            "browser.error",
            json!({"session.id": "s", "url.full": "https://shop.example.com/cart", "exception.stacktrace": stack("app.3f9a1c2b.js", 10)}),
            "",
        ),
        log(
            &r,
            "browser.error",
            json!({"session.id": "t", "url.full": "https://shop.example.com/cart", "exception.stacktrace": stack("app.77aa00ff.js", 12)}),
            "",
        ),
    ];
    e.enrich_logs(&mut rows);
    let (a, b) = (attrs(&rows[0]), attrs(&rows[1]));
    assert_eq!(a["exception.type"], "TypeError");
    assert_eq!(
        a["exception.message"],
        "Cannot read properties of undefined (reading 'total')"
    );
    assert_eq!(a["exception.fingerprint"], b["exception.fingerprint"]);
    assert_eq!(e.stats.errors_fingerprinted.load(Ordering::Relaxed), 2);
}

#[test]
fn web_vitals_of_the_semantic_conventions_are_normalised() {
    let e = Enricher::default();
    let r = resource(
        json!({"service.name": "otel-web", "telemetry.sdk.language": "webjs", "telemetry.sdk.name": "opentelemetry"}),
    );
    let mut rows = vec![log(
        &r,
        "browser.web_vital",
        json!({"session.id": "s"}),
        r#"{"name":"inp","value":640,"delta":640,"id":"v4-17"}"#,
    )];
    e.enrich_logs(&mut rows);
    let a = attrs(&rows[0]);
    assert_eq!(a["browser.web_vital.name"], "INP");
    assert_eq!(a["browser.web_vital.rating"], "poor");
}

#[test]
fn otel_web_spans_get_session_route_and_client() {
    let e = Enricher::default();
    let res = json!({"service.name": "otel-web", "telemetry.sdk.language": "webjs", "telemetry.sdk.name": "opentelemetry"});
    let mut rows = vec![SpanRow {
        name: "HTTP GET".to_string(),
        kind: "CLIENT".to_string(),
        attributes: json!({"http.url": "https://api.example.com/orders/42", "http.method": "GET", "http.user_agent": CHROME, "session.id": "abc"}).to_string(),
        resource: Resource {
            service_name: "otel-web".to_string(),
            resource_attributes: res.to_string(),
            ..Resource::default()
        },
        ..SpanRow::default()
    }];
    e.enrich_spans(&mut rows);
    let a: Value = serde_json::from_str(&rows[0].attributes).unwrap();
    assert_eq!(a["url.template"], "/orders/:id");
    assert_eq!(a["browser.name"], "Chrome");
    assert_eq!(rows[0].session_id.as_deref(), Some("abc"));
    assert_eq!(
        rows[0].url_full.as_deref(),
        Some("https://api.example.com/orders/42")
    );
}

#[test]
fn stacks_are_symbolicated_with_uploaded_maps() {
    let dir = tempfile::tempdir().unwrap();
    let maps = Arc::new(SourceMaps::open(dir.path()));
    maps.put(
        "shop-web",
        "1.4.0",
        "assets/app.min.js.map",
        &crate::sourcemaps::tests::sample_map(),
    )
    .unwrap();
    let e = Enricher::new(Some(maps));
    let r = ours();
    let sent = "Error: boom\n    at a (https://shop.example.com/assets/app.min.js:1:15)";
    let mut rows = vec![log(
        &r,
        "browser.error",
        json!({"session.id": "s", "exception.stacktrace": sent}),
        "",
    )];
    e.enrich_logs(&mut rows);
    let a = attrs(&rows[0]);
    assert_eq!(a["exception.stacktrace.original"], sent);
    assert_eq!(
        a["exception.stacktrace"],
        "Error: boom\n    at a (src/app.js:4:5)"
    );
    assert_eq!(a["exception.symbolicated"], true);
    assert_eq!(e.stats.stacks_symbolicated.load(Ordering::Relaxed), 1);
}

#[test]
fn replay_bodies_go_to_the_replay_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(crate::ReplayStore::open(
        dir.path(),
        std::time::Duration::from_secs(3600),
        false,
    ));
    let e = Enricher::default().with_replay(Arc::clone(&store));
    let r = ours();
    let mut rows = vec![log(
        &r,
        "browser.replay_segment",
        json!({"session.id": "s9", "replay.segment.sequence": 0}),
        "H4sIAAAA",
    )];
    e.enrich_logs(&mut rows);
    let a = attrs(&rows[0]);
    assert_eq!(rows[0].body, "");
    assert_eq!(a["replay.blob.bytes"], 8);
    let key = a["replay.blob"].as_str().unwrap();
    assert_eq!(store.get(key).unwrap(), b"H4sIAAAA");
}
