//! Input at the edges cannot hurt: times from 1970 to 2100, records with huge attribute lists,
//! SQL that would write or read files.

use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

use crate::common::{Server, now_ns};

fn text(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_string())),
        }),
        ..Default::default()
    }
}

fn logs(service: &str, records: Vec<LogRecord>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![text("service.name", service)],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// Posts OTLP/protobuf logs; the status and the decoded answer.
async fn post_logs(server: &Server, req: &ExportLogsServiceRequest) -> ExportLogsServiceResponse {
    let r = reqwest::Client::new()
        .post(server.otlp_url("/v1/logs"))
        .header("content-type", "application/x-protobuf")
        .body(req.encode_to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    ExportLogsServiceResponse::decode(&r.bytes().await.unwrap()[..]).unwrap()
}

/// Hour directories of a table on disk.
fn partitions(server: &Server, table: &str) -> usize {
    std::fs::read_dir(server.data.join(table))
        .map(|d| d.flatten().filter(|e| e.path().is_dir()).count())
        .unwrap_or(0)
}

#[tokio::test]
async fn times_from_1970_to_2100_cannot_hurt() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            ("REDSCOPE_STORAGE__FLUSH_INTERVAL_SECS", "1"),
            ("REDSCOPE_STORAGE__COMPACTION_INTERVAL_SECS", "1"),
        ],
    );
    // 2,000 distinct hours between 1970 and 2100, and a few records of now.
    const HOUR: u64 = 3_600_000_000_000;
    let span_hours = (2100 - 1970) * 8766 / 2000;
    let mut records: Vec<LogRecord> = (0..2_000u64)
        .map(|i| LogRecord {
            time_unix_nano: i * span_hours * HOUR + 1,
            body: Some(AnyValue {
                value: Some(any_value::Value::StringValue(format!(
                    "clock skew line {i}"
                ))),
            }),
            ..Default::default()
        })
        .collect();
    let now = now_ns();
    for i in 0..10 {
        records.push(LogRecord {
            time_unix_nano: now - i * 1_000_000,
            body: Some(AnyValue {
                value: Some(any_value::Value::StringValue(format!("fine line {i}"))),
            }),
            ..Default::default()
        });
    }
    let answer = post_logs(&server, &logs("skewed", records)).await;
    let partial = answer.partial_success.expect("a partial success warning");
    assert_eq!(partial.rejected_log_records, 0);
    assert!(
        partial.error_message.contains("2000 records dated")
            && partial
                .error_message
                .contains("redscope.original_time_unix_nano"),
        "{}",
        partial.error_message
    );
    // Flushed, compacted and past any retention pass: everything is there, in few partitions.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        partitions(&server, "logs") <= 2,
        "{} partitions",
        partitions(&server, "logs")
    );
    let count = server
        .sql("SELECT count(*) AS n FROM logs WHERE service_name = 'skewed'")
        .await;
    assert_eq!(count["rows"][0][0], 2010, "{count}");
    let original = server
        .sql(
            "SELECT count(*) AS n FROM logs WHERE \
             attr(attributes, 'redscope.original_time_unix_nano') IS NOT NULL",
        )
        .await;
    assert_eq!(original["rows"][0][0], 2000, "{original}");
    let services = server.get_json("/api/v1/services").await;
    assert!(services.to_string().contains("skewed"), "{services}");
    let found = server.get_json("/api/v1/logs?service=skewed&q=skew").await;
    assert!(found.to_string().contains("clock skew line"), "{found}");
}

#[tokio::test]
async fn a_record_with_100000_attributes_is_not_stored_whole() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let attributes: Vec<KeyValue> = (0..100_000)
        .map(|i| text(&format!("key.{i}"), &format!("value {i}")))
        .collect();
    let record = LogRecord {
        time_unix_nano: now_ns(),
        attributes,
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue("wide record".into())),
        }),
        ..Default::default()
    };
    let answer = post_logs(&server, &logs("wide", vec![record])).await;
    let partial = answer.partial_success.expect("a partial success warning");
    assert_eq!(partial.rejected_log_records, 0);
    assert!(
        partial
            .error_message
            .contains("99872 attributes dropped beyond 128"),
        "{}",
        partial.error_message
    );
    let row = server
        .sql("SELECT dropped_attributes_count AS d, length(attributes) AS len FROM logs")
        .await;
    assert_eq!(row["rows"][0][0], 99_872, "{row}");
    assert!(row["rows"][0][1].as_i64().unwrap() < 10_000, "{row}");
    let status = server.get_json("/api/v1/status").await;
    assert!(
        status.to_string().contains("\"attributes_dropped\":99872"),
        "{status}"
    );
}

#[tokio::test]
async fn sql_that_writes_or_reads_files_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let client = reqwest::Client::new();
    for (query, why) in [
        (
            "COPY logs TO '/tmp/redscope-copy.csv'",
            "COPY is not allowed",
        ),
        (
            "CREATE EXTERNAL TABLE p STORED AS CSV LOCATION '/etc/passwd'",
            "CREATE EXTERNAL TABLE is not allowed",
        ),
        ("SELECT * FROM '/etc/passwd'", "reading files or URLs"),
        (
            "SELECT * FROM 'http://127.0.0.1:1/x.parquet'",
            "reading files or URLs",
        ),
        ("SELECT * FROM read_csv('/etc/passwd')", "table function"),
        ("DROP TABLE logs", "DROP TABLE is not allowed"),
    ] {
        let r = client
            .post(server.api_url("/api/v1/sql"))
            .json(&serde_json::json!({ "query": query }))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body = r.text().await.unwrap();
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body.contains(why), "{query}: {body}");
    }
    assert!(!std::path::Path::new("/tmp/redscope-copy.csv").exists());
    server.sql("SELECT count(*) FROM logs").await;
}
