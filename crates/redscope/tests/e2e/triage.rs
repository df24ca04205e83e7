//! Triage against the demo's fault scenarios: with each fault injected, the true cause is
//! ranked first, with evidence, example traces and affected entry points.

use std::time::{Duration, Instant};

use crate::common::{Server, now_ns};

/// Runs the demo with 15 minutes of history and `fault` switched on four minutes ago, and
/// returns the triage of the last three minutes.
async fn triage_of(fault: &str) -> serde_json::Value {
    let fault = format!("{fault}@4m");
    let (_dir, server) = demo_with_history(&["--fault", &fault]).await;
    // Client spans to uninstrumented dependencies settle after ten seconds.
    tokio::time::sleep(Duration::from_secs(16)).await;
    server.get_json("/api/v1/triage?from=now-3m").await
}

/// The demo with 15 minutes of history (written as a burst, as a collector flushing its queue
/// does) and `extra` arguments, once the history is in and live spans arrive; with its data
/// directory, which lives as long as the caller keeps it.
async fn demo_with_history(extra: &[&str]) -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let started = now_ns();
    let mut args = vec!["--rate", "8", "--backfill", "15m"];
    args.extend_from_slice(extra);
    let server = Server::start_demo(dir.path(), &args);
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
    (dir, server)
}

/// Right after the burst of history, before the rollup writer's next round: triage reads what
/// was stored, up to where it is complete, and finds the cause (not a drop to zero).
#[tokio::test]
async fn triage_right_after_a_backfill_finds_the_cause() {
    let (_dir, server) = demo_with_history(&["--fault", "dependency_down@4m"]).await;
    let r = server.get_json("/api/v1/triage?from=now-3m").await;
    let first = &r["candidates"][0];
    assert_eq!(first["service"], "cart-redis", "{r}");
    let drops = r["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "throughput" && a["service"] == "frontend")
        .count();
    assert_eq!(drops, 0, "throughput of the entry read as a drop: {r}");
    assert!(r["complete_to_unix_nano"].as_u64().unwrap() <= now_ns());
}

/// A healthy shop: nothing is ranked, and the report says so.
#[tokio::test]
async fn triage_of_a_healthy_system_reports_that_nothing_stands_out() {
    let (_dir, server) = demo_with_history(&[]).await;
    tokio::time::sleep(Duration::from_secs(12)).await;
    let r = server.get_json("/api/v1/triage?from=now-3m").await;
    let names: Vec<&str> = r["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["service"].as_str().unwrap())
        .collect();
    assert!(
        names.is_empty(),
        "candidates on a healthy system: {names:?} {}",
        r["anomalies"]
    );
    let note = r["note"].as_str().unwrap_or_default();
    assert!(note.contains("nothing stands out"), "{r}");
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
