//! The trace scatter: every matching trace counted, and a sample spread over the whole range.

use std::collections::HashSet;

use crate::common::{Server, now_ns};
use crate::red::{post_spans, resource_spans, sid, span};

const MINUTE: u64 = 60_000_000_000;

/// Sixty traces one a minute over the last hour (three failed, one slow) and two hundred in the
/// last minute: the scatter counts all 260 and samples every part of the hour, not only the
/// newest minute that a page of the newest traces would show.
#[tokio::test]
async fn trace_scatter_counts_every_trace_and_samples_the_whole_range() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let now = now_ns();
    let mut spans = Vec::new();
    for i in 0..260usize {
        let start = if i < 60 {
            now - (i as u64 + 2) * MINUTE + 1_000_000_000
        } else {
            now - 50_000_000_000 + (i as u64 - 60) * 100_000_000
        };
        let slow = i == 40;
        let failed = matches!(i, 10 | 30 | 50);
        let ms = if slow { 4_000 } else { 5 + (i as u64 % 7) };
        spans.push(span(
            i,
            &sid(1000 + i),
            "",
            "GET /",
            2,
            start,
            ms,
            failed,
            serde_json::json!([]),
        ));
    }
    let db = span(
        5,
        &sid(5000),
        &sid(1005),
        "SELECT",
        3,
        now - 7 * MINUTE + 1_000_000_000,
        2,
        false,
        serde_json::json!([]),
    );
    post_spans(
        &server,
        serde_json::json!({"resourceSpans": [resource_spans("shop", spans), resource_spans("db", vec![db])]}),
    )
    .await;

    let s = server
        .get_json("/api/v1/traces/scatter?from=now-65m&step=5m&limit=26")
        .await;
    assert_eq!(s["total"], 260, "{s}");
    assert_eq!(s["errors"], 3, "{s}");
    assert_eq!(s["sampled"], true);
    let buckets = s["buckets"].as_array().unwrap();
    let counted: u64 = buckets.iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!(counted, 260);
    let points = s["points"].as_array().unwrap();
    let ids: HashSet<&str> = points
        .iter()
        .map(|p| p["trace_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), points.len(), "a trace sampled twice");
    let trace = |i: usize| format!("{:032x}", i + 1);
    for i in [10, 30, 50] {
        assert!(ids.contains(trace(i).as_str()), "failed trace {i} missing");
    }
    assert!(
        ids.contains(trace(40).as_str()),
        "the slow trace is missing"
    );
    // Points in every part of the hour: at least one in each 5-minute step that has traces.
    let step = s["step_ns"].as_i64().unwrap();
    assert!(buckets.len() >= 12, "{buckets:?}");
    for b in buckets {
        let t = b["t"].as_i64().unwrap();
        assert!(
            points.iter().any(|p| {
                let start = p["start_time_unix_nano"].as_i64().unwrap();
                start >= t && start < t + step
            }),
            "no point in the step at {t}"
        );
    }
    // The last minute's 200 traces are sampled down, not all listed.
    assert!(points.len() < 40, "{} points", points.len());
    let starts: Vec<i64> = points
        .iter()
        .map(|p| p["start_time_unix_nano"].as_i64().unwrap())
        .collect();
    assert!(
        starts.windows(2).all(|w| w[0] <= w[1]),
        "not in start order"
    );

    // A filter matches traces by any span; the trace's duration is its whole duration.
    let only_db = server
        .get_json("/api/v1/traces/scatter?from=now-65m&service=db")
        .await;
    assert_eq!(only_db["total"], 1, "{only_db}");
    assert_eq!(only_db["points"][0]["trace_id"], trace(5));
    assert!(only_db["points"][0]["duration_ns"].as_i64().unwrap() >= 5_000_000);
    let bad = reqwest::get(server.api_url("/api/v1/traces/scatter?status=broken"))
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}
