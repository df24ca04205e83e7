//! Crash safety: every acknowledged record survives SIGKILL, and none is stored twice.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use prost::Message;

use crate::common::{Server, now_ns};

fn batch(prefix: &str, n: usize) -> (Vec<String>, Vec<u8>) {
    let bodies: Vec<String> = (0..n).map(|i| format!("{prefix}-{i}")).collect();
    let t = now_ns();
    let records = bodies
        .iter()
        .map(|b| LogRecord {
            time_unix_nano: t,
            body: Some(AnyValue {
                value: Some(any_value::Value::StringValue(b.clone())),
            }),
            ..Default::default()
        })
        .collect();
    let req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    (bodies, req.encode_to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_logs_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    // Small flush thresholds so that flushes to Parquet and WAL truncation happen mid-stream.
    let mut server = Server::start(
        dir.path(),
        &[
            ("REDSCOPE_STORAGE__FLUSH_ROWS", "700"),
            ("REDSCOPE_QUERY__SQL_MAX_ROWS", "1000000"),
            ("REDSCOPE_STORAGE__COMPACTION_INTERVAL_SECS", "1"),
        ],
    );
    let acked: Arc<Mutex<HashSet<String>>> = Arc::default();
    for round in 0..4 {
        let url = server.otlp_url("/v1/logs");
        let mut writers = Vec::new();
        for w in 0..4 {
            let url = url.clone();
            let acked = Arc::clone(&acked);
            writers.push(tokio::spawn(async move {
                let client = reqwest::Client::new();
                for seq in 0.. {
                    let (bodies, body) = batch(&format!("crash-{round}-{w}-{seq}"), 25);
                    let r = client
                        .post(&url)
                        .header("content-type", "application/x-protobuf")
                        .body(body)
                        .send()
                        .await;
                    match r {
                        Ok(resp) if resp.status().is_success() => {
                            acked.lock().unwrap().extend(bodies)
                        }
                        _ => break,
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(600 + 400 * round)).await;
        server.kill_and_restart();
        for w in writers {
            w.await.unwrap();
        }
        let stored = server
            .sql("SELECT body FROM logs WHERE body LIKE 'crash-%'")
            .await;
        let rows = stored["rows"].as_array().unwrap();
        let bodies: HashSet<String> = rows
            .iter()
            .map(|r| r[0].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            bodies.len(),
            rows.len(),
            "round {round}: some records are stored twice"
        );
        let acked = acked.lock().unwrap();
        assert!(!acked.is_empty());
        let lost: Vec<&String> = acked
            .iter()
            .filter(|b| !bodies.contains(*b))
            .take(5)
            .collect();
        assert!(
            lost.is_empty(),
            "round {round}: {} acknowledged records lost, e.g. {lost:?}",
            acked.len() - bodies.len().min(acked.len())
        );
    }
    // Flushes really happened: Parquet files exist beside the WAL.
    let files = walk(&dir.path().join("logs"));
    assert!(files.iter().any(|f| f.ends_with(".parquet")), "{files:?}");
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.path().is_dir() {
                out.extend(walk(&e.path()));
            } else {
                out.push(e.path().display().to_string());
            }
        }
    }
    out
}
