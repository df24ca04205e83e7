//! Dashboards as code: Perses files in a directory listed, exported and validated by the real
//! server, an invalid file listed with its error, files added later picked up without a
//! restart, and the built-in RED dashboard of a service that sent spans.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Server, now_ns};
use crate::red::{post_spans, resource_spans, span};

const FILE: &str = "kind: Dashboard
metadata: {name: checkout-overview, project: shop}
spec:
  display: {name: Checkout overview}
  duration: 30m
  panels:
    rate:
      kind: Panel
      spec:
        display: {name: Request rate}
        plugin: {kind: TimeSeriesChart, spec: {}}
        queries:
          - kind: TimeSeriesQuery
            spec: {plugin: {kind: PrometheusTimeSeriesQuery, spec: {query: 'sum(rate(redscope_span_requests_total{job=\"$service\"}[5m]))'}}}
  layouts:
    - kind: Grid
      spec: {items: [{x: 0, y: 0, width: 24, height: 6, content: {$ref: '#/spec/panels/rate'}}]}
";

async fn list(server: &Server) -> Vec<Value> {
    let body = server.get_json("/api/v1/dashboards").await;
    body["dashboards"].as_array().unwrap().clone()
}

fn by_source<'a>(dashboards: &'a [Value], suffix: &str) -> Option<&'a Value> {
    dashboards
        .iter()
        .find(|d| d["source"].as_str().is_some_and(|s| s.ends_with(suffix)))
}

/// Waits until the list holds a dashboard whose source ends with `suffix`.
async fn wait_listed(server: &Server, suffix: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(d) = by_source(&list(server).await, suffix) {
            return d.clone();
        }
        assert!(Instant::now() < deadline, "{suffix} never listed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn send_checkout_spans(server: &Server) {
    let t = now_ns() - 2_000_000_000;
    let spans: Vec<Value> = (0..5)
        .map(|i| {
            span(
                i,
                &format!("{:016x}", 500 + i),
                "",
                "POST /pay",
                2,
                t,
                20,
                i == 0,
                json!([]),
            )
        })
        .collect();
    post_spans(
        server,
        json!({"resourceSpans": [resource_spans("checkout", spans)]}),
    )
    .await;
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[tokio::test]
async fn dashboards_from_files_and_builtins_listed_exported_validated_and_reloaded() {
    let data = tempfile::tempdir().unwrap();
    let boards = tempfile::tempdir().unwrap();
    write(boards.path(), "checkout.yaml", FILE);
    write(
        boards.path(),
        "broken.json",
        r#"{"kind": "Dashboard", "metadata": {"name": "b"}, "spec": {"panels": {"p": {"kind": "Panel", "spec": {"display": {"name": "x"}, "plugin": {}}}}}}"#,
    );
    let dir = boards.path().to_str().unwrap();
    let server = Server::start(
        data.path(),
        &[
            ("REDSCOPE_DASHBOARDS__DIR", dir),
            ("REDSCOPE_DASHBOARDS__RELOAD_INTERVAL_SECS", "1"),
        ],
    );
    send_checkout_spans(&server).await;

    // The file and the invalid file are there from the start, with the error's file and path.
    let all = list(&server).await;
    let file = by_source(&all, "checkout.yaml").unwrap();
    assert_eq!(
        (file["project"].as_str(), file["name"].as_str()),
        (Some("shop"), Some("checkout-overview"))
    );
    assert_eq!(file["panel_count"], 1);
    let broken = by_source(&all, "broken.json").unwrap();
    let error = broken["error"].as_str().unwrap();
    assert!(
        error.contains("broken.json")
            && error.contains("spec.panels.p.spec.plugin.kind: is required"),
        "{error}"
    );
    assert_eq!(
        broken["issues"][0]["path"],
        "spec.panels.p.spec.plugin.kind"
    );

    // The JSON document, and its YAML export that parses back to the same dashboard.
    let doc = server
        .get_json("/api/v1/dashboards/shop/checkout-overview")
        .await;
    assert_eq!(doc["spec"]["display"]["name"], "Checkout overview");
    let r = reqwest::get(server.api_url("/api/v1/dashboards/shop/checkout-overview?format=yaml"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/yaml");
    let yaml = r.text().await.unwrap();
    let parsed = dashboards::Dashboard::parse(&yaml, dashboards::Format::Yaml, "export").unwrap();
    assert_eq!(parsed.document, doc);

    let missing = reqwest::get(server.api_url("/api/v1/dashboards/shop/nope"))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    let bad_format =
        reqwest::get(server.api_url("/api/v1/dashboards/shop/checkout-overview?format=xml"))
            .await
            .unwrap();
    assert_eq!(bad_format.status(), 400);

    builtin_red_dashboard(&server, boards.path()).await;
    validation(&server).await;
    saving(&server, boards.path()).await;

    // A file added while the server runs is listed without a restart.
    write(boards.path(), "later.json", &serde_json::to_string(&json!({
        "kind": "Dashboard", "metadata": {"name": "later", "project": "shop"}, "spec": {"panels": {}}
    })).unwrap());
    let later = wait_listed(&server, "later.json").await;
    assert_eq!(later["name"], "later");
    assert!(
        server.get_json("/api/v1/dashboards").await["reloads"]
            .as_u64()
            .unwrap()
            >= 2
    );

    // Refused documents (two to validate, one to save) and invalid files read are counted.
    let counts = server.get_json("/api/v1/dashboards").await;
    assert_eq!(counts["rejected_documents"], 3, "{counts}");
    assert!(
        counts["invalid_files_read"].as_u64().unwrap() >= 1,
        "{counts}"
    );

    let spec = server.get_json("/api/v1/openapi.json").await;
    for path in [
        "/api/v1/dashboards",
        "/api/v1/dashboards/{project}/{name}",
        "/api/v1/dashboards/validate",
    ] {
        assert!(spec["paths"][path].is_object(), "{path} in openapi.json");
    }
}

/// The built-in RED dashboard of checkout, exported as YAML into the directory, becomes a file
/// dashboard that takes the built-in's place.
async fn builtin_red_dashboard(server: &Server, dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let builtin = loop {
        let all = list(server).await;
        if let Some(d) = all.iter().find(|d| d["name"] == "red-checkout") {
            break d.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no built-in dashboard for checkout: {all:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        (builtin["project"].as_str(), builtin["source"].as_str()),
        (Some("redscope"), Some("builtin"))
    );
    let doc = server
        .get_json("/api/v1/dashboards/redscope/red-checkout")
        .await;
    let kinds: Vec<&str> = doc["spec"]["panels"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p["spec"]["plugin"]["kind"].as_str().unwrap())
        .collect();
    for kind in ["TimeSeriesChart", "StatChart", "Table", "LogsTable"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let yaml = reqwest::get(server.api_url("/api/v1/dashboards/redscope/red-checkout?format=yaml"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    write(
        dir,
        "red-checkout.yaml",
        &yaml.replace("checkout RED", "checkout RED, edited"),
    );
    let edited = wait_listed(server, "red-checkout.yaml").await;
    assert_eq!(edited["display_name"], "checkout RED, edited");
    let all = list(server).await;
    assert_eq!(
        all.iter().filter(|d| d["name"] == "red-checkout").count(),
        1,
        "{all:?}"
    );
}

async fn validation(server: &Server) {
    let client = reqwest::Client::new();
    let url = server.api_url("/api/v1/dashboards/validate");
    let ok = client
        .post(&url)
        .header("content-type", "application/yaml")
        .body(FILE)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(
        (body["valid"].as_bool(), body["name"].as_str()),
        (Some(true), Some("checkout-overview"))
    );

    let bad = FILE.replace("#/spec/panels/rate", "#/spec/panels/rates");
    let r = client.post(&url).body(bad).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_dashboard");
    assert_eq!(
        body["error"]["details"][0]["path"],
        "spec.layouts[0].spec.items[0].content.$ref"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no panel \"rates\""),
        "{body}"
    );

    let r = client.post(&url).body("{\"kind\": ").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot parse JSON"),
        "{body}"
    );
    // The server is still there.
    assert_eq!(
        reqwest::get(server.api_url("/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
}

/// PUT writes over the file that holds the dashboard, or a new file under the project.
async fn saving(server: &Server, dir: &Path) {
    let client = reqwest::Client::new();
    let url = server.api_url("/api/v1/dashboards/shop/checkout-overview");
    let edited = FILE.replace("Checkout overview", "Checkout saved");
    let r = client
        .put(&url)
        .header("content-type", "application/yaml")
        .body(edited)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["source"].as_str().unwrap().ends_with("checkout.yaml"),
        "{body}"
    );
    let written = std::fs::read_to_string(dir.join("checkout.yaml")).unwrap();
    assert!(written.contains("Checkout saved"), "{written}");
    let doc = server
        .get_json("/api/v1/dashboards/shop/checkout-overview")
        .await;
    assert_eq!(doc["spec"]["display"]["name"], "Checkout saved");

    let other = server.api_url("/api/v1/dashboards/shop/another");
    let r = client.put(&other).body(FILE).send().await.unwrap();
    assert_eq!(r.status(), 400, "the path and metadata must agree");
    let r = client
        .put(&other)
        .body("kind: Dashboard")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_dashboard");
    let new = FILE.replace("checkout-overview", "another");
    assert_eq!(
        client.put(&other).body(new).send().await.unwrap().status(),
        200
    );
    assert!(dir.join("shop/another.yaml").is_file());
}
