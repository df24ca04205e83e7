//! Alerts against the demo's faults: a built-in RED rule fires within two evaluation
//! intervals of the data showing the fault, stays firing (with its first `active_at`) across
//! a SIGKILL, and resolves once the fault ends. Rules, silences and the rules directory
//! through the real server.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::Server;

const INTERVAL: Duration = Duration::from_secs(1);

/// The payment service's error ratio as the built-in rule computes it (window 2m).
const PAYMENT_ERRORS: &str = r#"sum by (job) (rate(redscope_span_errors_total{job="payment",span_kind=~"SERVER|CONSUMER"}[2m])) / sum by (job) (rate(redscope_span_requests_total{job="payment",span_kind=~"SERVER|CONSUMER"}[2m]))"#;

fn write_config(dir: &Path) -> String {
    let path = dir.join("alerts.toml");
    std::fs::write(
        &path,
        "[alerts]\ninterval_secs = 1\n[alerts.builtin.red_errors]\ndegraded = 0.15\ncritical = 0.3\nwindow = \"2m\"\nfor = \"0s\"\n",
    )
    .unwrap();
    path.display().to_string()
}

async fn payment_error_ratio(server: &Server) -> Option<f64> {
    let r = reqwest::Client::new()
        .get(server.api_url("/prometheus/api/v1/query"))
        .query(&[("query", PAYMENT_ERRORS)])
        .send()
        .await
        .ok()?;
    let body: Value = r.json().await.ok()?;
    body["data"]["result"][0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
}

async fn firing_for(server: &Server, service: &str) -> Option<Value> {
    let r = server
        .get_json(&format!("/api/v1/alerts?state=firing&service={service}"))
        .await;
    r["alerts"].as_array()?.first().cloned()
}

#[tokio::test]
async fn a_red_rule_fires_on_a_fault_survives_sigkill_and_resolves_when_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let data = dir.path().join("data");
    // Payment runs out of workers from 3 minutes before the start to 40 s after it.
    let args = [
        "--config",
        &config,
        "--rate",
        "8",
        "--backfill",
        "6m",
        "--fault",
        "resource_exhaustion@3m+220s",
    ];
    let mut server = Server::start_demo(&data, &args);

    let deadline = Instant::now() + Duration::from_secs(120);
    while payment_error_ratio(&server).await.is_none_or(|v| v <= 0.3) {
        assert!(
            Instant::now() < deadline,
            "the fault never showed in the data"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let shown = Instant::now();
    let alert = loop {
        if let Some(a) = firing_for(&server, "payment").await {
            break a;
        }
        assert!(shown.elapsed() < Duration::from_secs(30), "never fired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let took = shown.elapsed();
    // Two intervals, and what one evaluation of the rule takes.
    assert!(
        took <= INTERVAL * 2 + Duration::from_millis(1500),
        "fired after {took:?}"
    );
    assert_eq!(alert["rule"], "RedErrorRatio", "{alert}");
    assert_eq!(alert["severity"], "critical", "{alert}");
    assert_eq!(alert["labels"]["service"], "payment");
    assert_eq!(alert["silenced"], false);
    assert!(alert["value"].as_f64().unwrap() > 0.3);
    assert!(
        alert["annotations"]["summary"]
            .as_str()
            .unwrap()
            .contains("of requests fail"),
        "{alert}"
    );
    let rules = server.get_json("/api/v1/rules").await;
    let rule = &rules["groups"][0]["rules"][0];
    assert_eq!(
        (rule["kind"].as_str(), rule["state"].as_str()),
        (Some("red_errors"), Some("firing")),
        "{rules}"
    );
    assert_eq!(rule["health"], "ok");
    let prom = server.get_json("/prometheus/api/v1/alerts").await;
    assert_eq!(prom["status"], "success");
    assert!(
        prom["data"]["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["labels"]["service"] == "payment" && a["state"] == "firing"),
        "{prom}"
    );

    // A crash: the alert is firing at once after the restart, with its first active_at.
    server.kill_and_restart();
    let after = firing_for(&server, "payment")
        .await
        .expect("not firing after the restart");
    assert_eq!(after["active_at_ms"], alert["active_at_ms"]);
    assert_eq!(after["fired_at_ms"], alert["fired_at_ms"]);
    tokio::time::sleep(INTERVAL * 3).await;
    let evaluated = firing_for(&server, "payment")
        .await
        .expect("not firing once evaluated");
    assert_eq!(
        evaluated["active_at_ms"], alert["active_at_ms"],
        "pending again"
    );

    // The restarted demo's fault ends 40 s after its start; then the rule resolves.
    let deadline = Instant::now() + Duration::from_secs(240);
    while firing_for(&server, "payment").await.is_some() {
        assert!(
            Instant::now() < deadline,
            "never resolved after the fault ended"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let history = server
        .get_json("/api/v1/alerts/history?service=payment&rule=RedErrorRatio")
        .await;
    let events = history["events"].as_array().unwrap();
    assert_eq!(events[0]["from"], "firing", "newest first: {history}");
    assert_eq!(events[0]["to"], "inactive");
    assert!(events.iter().any(|e| e["to"] == "firing"), "{history}");
}

async fn post(server: &Server, path: &str, body: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(server.api_url(path))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn delete(server: &Server, path: &str) -> u16 {
    let r = reqwest::Client::new()
        .delete(server.api_url(path))
        .send()
        .await
        .unwrap();
    r.status().as_u16()
}

async fn wait_for(server: &Server, what: &str, ok: impl Fn(&Value) -> bool, path: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v = server.get_json(path).await;
        if ok(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

const API_RULES: &str = "groups:\n- name: always\n  rules:\n  - alert: AlwaysOn\n    expr: vector(1) > 0\n    labels: {service: checkout, severity: degraded}\n    annotations: {summary: 'value {{ $value }}'}\n";

#[tokio::test]
async fn rules_silences_and_the_rules_directory_through_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let rules_dir = dir.path().join("rules");
    std::fs::create_dir_all(&rules_dir).unwrap();
    let rules_env = rules_dir.display().to_string();
    let env = [
        ("REDSCOPE_ALERTS__INTERVAL_SECS", "1"),
        ("REDSCOPE_ALERTS__RULES_DIR", rules_env.as_str()),
    ];
    let server = Server::start(&dir.path().join("data"), &env);

    // Validation: a PromQL error names the group, rule and field.
    let bad = "groups:\n- name: broken\n  rules:\n  - alert: Bad\n    expr: 'rate(x[5m]'\n";
    let (status, body) = post(&server, "/api/v1/rules?dry_run=true", bad).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_rules");
    let d = &body["error"]["details"][0];
    assert_eq!(
        (d["group"].as_str(), d["rule"].as_str(), d["field"].as_str()),
        (Some("broken"), Some("Bad"), Some("expr")),
        "{body}"
    );
    let (status, body) = post(&server, "/api/v1/rules?dry_run=true", API_RULES).await;
    assert_eq!((status, &body), (200, &json!({"groups": ["always"]})));
    assert!(
        server.get_json("/api/v1/rules").await["groups"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Added as a PrometheusRule object, it fires.
    let object = format!(
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {{name: always}}\nspec:\n{}",
        API_RULES
            .lines()
            .map(|l| format!("  {l}\n"))
            .collect::<String>()
    );
    let (status, body) = post(&server, "/api/v1/rules", &object).await;
    assert_eq!(status, 200, "{body}");
    let firing = |v: &Value| {
        v["alerts"].as_array().is_some_and(|a| {
            a.iter()
                .any(|x| x["rule"] == "AlwaysOn" && x["state"] == "firing")
        })
    };
    let alerts = wait_for(&server, "AlwaysOn never fired", firing, "/api/v1/alerts").await;
    let a = &alerts["alerts"][0];
    assert_eq!(
        (a["severity"].as_str(), a["service"].as_str()),
        (Some("degraded"), Some("checkout"))
    );
    assert_eq!(a["annotations"]["summary"], "value 1");

    // A silence: the alert is still there, marked silenced; expired, it is not.
    let silence = json!({"matchers": [{"name": "service", "value": "check.*", "is_regex": true, "is_equal": true}],
        "ends_at_ms": crate::common::now_ns() / 1_000_000 + 3_600_000, "created_by": "e2e", "comment": "test"});
    let (status, body) = post(&server, "/api/v1/silences", &silence.to_string()).await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let alerts = server.get_json("/api/v1/alerts?state=firing").await;
    assert_eq!(alerts["alerts"][0]["silenced"], true, "{alerts}");
    let silences = server.get_json("/api/v1/silences").await;
    assert_eq!(silences["silences"][0]["state"], "active");
    assert_eq!(
        delete(&server, &format!("/api/v1/silences/{id}")).await,
        204
    );
    let alerts = server.get_json("/api/v1/alerts?state=firing").await;
    assert_eq!(alerts["alerts"][0]["silenced"], false, "{alerts}");
    let (status, body) = post(&server, "/api/v1/silences", r#"{"matchers": []}"#).await;
    assert_eq!(status, 400, "{body}");

    // A file in the rules directory is read without a restart.
    std::fs::write(
        rules_dir.join("shop.yml"),
        API_RULES
            .replace("always", "from-file")
            .replace("AlwaysOn", "FromFile"),
    )
    .unwrap();
    let has_file = |v: &Value| {
        v["groups"]
            .as_array()
            .is_some_and(|g| g.iter().any(|g| g["file"] == "shop.yml"))
    };
    wait_for(
        &server,
        "the rules file was not read",
        has_file,
        "/api/v1/rules",
    )
    .await;
    let prom = server.get_json("/prometheus/api/v1/rules").await;
    assert_eq!(prom["status"], "success");
    assert!(
        prom["data"]["groups"].as_array().unwrap().len() >= 2,
        "{prom}"
    );

    // Deleting the API's group resolves its alert.
    assert_eq!(delete(&server, "/api/v1/rules/always").await, 204);
    assert_eq!(delete(&server, "/api/v1/rules/always").await, 404);
    let gone = |v: &Value| {
        v["alerts"]
            .as_array()
            .is_some_and(|a| a.iter().all(|x| x["rule"] != "AlwaysOn"))
    };
    wait_for(&server, "AlwaysOn still listed", gone, "/api/v1/alerts").await;
    let h = server
        .get_json("/api/v1/alerts/history?rule=AlwaysOn")
        .await;
    assert_eq!(h["events"][0]["to"], "inactive", "{h}");
}
