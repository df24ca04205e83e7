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
    let dry: serde_json::Value = client
        .post(server.api_url("/api/v1/pipeline/dry-run?from=now-1h"))
        .body(RULES)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
    // pattern rollups (written every few seconds), which answer an hour's patterns.
    let deadline = Instant::now() + Duration::from_secs(40);
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
