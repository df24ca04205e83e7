//! Triage against the demo's fault scenarios: with each fault injected, the true cause is
//! ranked first, with evidence, example traces and affected entry points.

use std::time::{Duration, Instant};

use crate::common::{Server, now_ns};

/// Runs the demo with 15 minutes of history and `fault` switched on four minutes ago, and
/// returns the triage of the last three minutes.
async fn triage_of(fault: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let started = now_ns();
    let server = Server::start_demo(
        dir.path(),
        &[
            "--rate",
            "8",
            "--backfill",
            "15m",
            "--fault",
            &format!("{fault}@4m"),
        ],
    );
    // The history is in once live spans (started after the test began) arrive.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let rows = server
            .sql(&format!(
                "SELECT count(*) AS n FROM spans WHERE start_time_unix_nano > {started}"
            ))
            .await;
        if rows["rows"][0][0].as_u64().unwrap_or(0) > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "demo history never finished");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Client spans to uninstrumented dependencies settle after ten seconds.
    tokio::time::sleep(Duration::from_secs(16)).await;
    server.get_json("/api/v1/triage?from=now-3m").await
}

fn assert_first(report: &serde_json::Value, cause: &str, evidence_kind: &str) {
    let candidates = report["candidates"].as_array().unwrap();
    let names: Vec<&str> = candidates
        .iter()
        .map(|c| c["service"].as_str().unwrap())
        .collect();
    assert_eq!(names.first(), Some(&cause), "ranking: {names:?}");
    let top = &candidates[0];
    let kinds: Vec<&str> = top["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&evidence_kind),
        "{cause} evidence {kinds:?} lacks {evidence_kind}"
    );
    assert!(
        !top["example_trace_ids"].as_array().unwrap().is_empty(),
        "no example traces"
    );
    let entries = top["affected_entry_points"].as_array().unwrap();
    assert!(
        entries.iter().any(|e| e["service"] == "frontend"),
        "entry points: {entries:?}"
    );
    let path = top["path"].as_array().unwrap();
    assert_eq!(path.last().unwrap(), cause);
    // Its callers are there too, ranked below it and explained by what they call.
    assert!(candidates.len() >= 2, "{names:?}");
    assert!(top["score"].as_f64().unwrap() > candidates[1]["score"].as_f64().unwrap());
}

#[tokio::test]
async fn dependency_down_points_at_the_database() {
    let r = triage_of("dependency_down").await;
    assert_first(&r, "cart-redis", "error_rate");
    assert_eq!(r["candidates"][0]["kind"], "database");
    assert_eq!(r["candidates"][0]["instrumented"], false);
}

#[tokio::test]
async fn slow_query_points_at_the_database_and_its_statement() {
    let r = triage_of("slow_query").await;
    assert_first(&r, "catalog-db", "latency");
    let stmt = r["candidates"][0]["operation"].as_str().unwrap();
    assert!(stmt.contains("WHERE id = $1"), "statement: {stmt}");
}

#[tokio::test]
async fn bad_deploy_points_at_the_new_version() {
    let r = triage_of("bad_deploy").await;
    assert_first(&r, "shipping", "new_version");
    assert!(
        r["candidates"][0]["summary"]
            .as_str()
            .unwrap()
            .contains("1.5.0")
    );
}

#[tokio::test]
async fn resource_exhaustion_points_at_payment() {
    let r = triage_of("resource_exhaustion").await;
    assert_first(&r, "payment", "error_rate");
    let patterns = r["candidates"][0]["log_patterns"].as_array().unwrap();
    assert!(
        patterns
            .iter()
            .any(|p| p["template"].as_str().unwrap().contains("exhausted")
                || p["template"]
                    .as_str()
                    .unwrap()
                    .contains("waiting for a worker")),
        "log patterns: {patterns:?}"
    );
}

#[tokio::test]
async fn timeout_cascade_points_at_the_slow_service_not_the_ones_timing_out() {
    let r = triage_of("timeout_cascade").await;
    assert_first(&r, "shipping", "latency");
    // checkout times out and fails, but its errors are explained by shipping.
    let checkout = r["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["service"] == "checkout" && a["kind"] == "error_rate")
        .expect("checkout errors");
    assert_eq!(checkout["explained_by"], "shipping");
}
