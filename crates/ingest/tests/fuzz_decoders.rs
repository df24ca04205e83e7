//! Fuzz-style property tests of every decoder that sees outside input (cargo-fuzz needs a
//! nightly toolchain, which this project does not use): random and mutated OTLP protobuf, OTLP
//! JSON and gzip bodies through the real HTTP router, random, mutated and badly framed gRPC
//! messages through the real gRPC services, and arbitrary log records through Log AI.
//! Nothing may panic, and what is refused gets a 4xx (gRPC: a non-retryable status) with a
//! message. A few seconds each.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::sync::Arc;

use axum::body::Body;
use http::Request;
use ingest::{Limits, Pipeline, Sink, SinkError};
use model::Batch;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use proptest::prelude::*;
use tower::ServiceExt;

struct Discard;

#[async_trait::async_trait]
impl Sink for Discard {
    async fn write(
        &self,
        _batch: Batch,
        _patterns: Option<analysis::PatternCounts>,
    ) -> Result<(), SinkError> {
        Ok(())
    }
}

fn router() -> axum::Router {
    let processor: Arc<dyn ingest::LogProcessor> =
        Arc::new(ingest::logai_processor::LogAiProcessor::open(None));
    let limits = Limits {
        max_request_bytes: 1 << 20,
        max_decompressed_bytes: 4 << 20,
        ..Limits::default()
    };
    ingest::otlp_http::router(Pipeline::with_log_processor(
        Arc::new(Discard),
        limits,
        Some(processor),
    ))
}

const PATHS: [&str; 3] = ["/v1/traces", "/v1/logs", "/v1/metrics"];

/// Sends one body; the status, and the body of an error answer.
fn send(path: &str, content_type: &str, gzip: bool, body: Vec<u8>) -> (u16, Vec<u8>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut request = Request::post(path).header("content-type", content_type);
        if gzip {
            request = request.header("content-encoding", "gzip");
        }
        let response = router()
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, bytes.to_vec())
    })
}

const GRPC_PATHS: [&str; 3] = [
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
];

/// gRPC framing of one message: compressed flag, big-endian length, bytes. `claimed` overrides
/// the length (a frame that lies about its size).
fn grpc_frame(message: &[u8], compressed: bool, claimed: Option<u32>) -> Vec<u8> {
    let len = claimed.unwrap_or(message.len() as u32);
    let mut out = vec![u8::from(compressed)];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(message);
    out
}

/// Sends one gRPC request body to service `which` through the admission layer; the gRPC
/// status code and message.
fn send_grpc(which: usize, body: Vec<u8>, gzip: bool) -> (i32, String) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let limits = Limits {
            max_request_bytes: 1 << 20,
            max_decompressed_bytes: 4 << 20,
            ..Limits::default()
        };
        let processor: Arc<dyn ingest::LogProcessor> =
            Arc::new(ingest::logai_processor::LogAiProcessor::open(None));
        let pipeline = Pipeline::with_log_processor(Arc::new(Discard), limits, Some(processor));
        // The services behind the admission layer, as the server runs them.
        let admission = ingest::admission::GrpcAdmissionLayer::new(pipeline.clone());
        let (traces, logs, metrics) = ingest::otlp_grpc::services(pipeline);
        use tower::Layer;
        let mut request = Request::post(GRPC_PATHS[which])
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        if gzip {
            request = request.header("grpc-encoding", "gzip");
        }
        let body = tonic::body::Body::new(http_body_util::Full::new(bytes::Bytes::from(body)));
        let request = request.body(body).unwrap();
        let response = match which {
            0 => admission.layer(traces).oneshot(request).await.unwrap(),
            1 => admission.layer(logs).oneshot(request).await.unwrap(),
            _ => admission.layer(metrics).oneshot(request).await.unwrap(),
        };
        let (parts, body) = response.into_parts();
        let collected = body.collect().await.unwrap();
        let trailers = collected.trailers().cloned().unwrap_or_default();
        let field = |name: &str| {
            trailers
                .get(name)
                .or_else(|| parts.headers.get(name))
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let code = field("grpc-status")
            .and_then(|c| c.parse().ok())
            .expect("a grpc-status");
        (code, field("grpc-message").unwrap_or_default())
    })
}

/// OK, or a status OTLP exporters do not retry forever, with a message.
fn assert_clear_grpc(code: i32, message: &str, what: &str) {
    const RETRIED: [i32; 6] = [1, 4, 10, 11, 14, 15];
    assert!(
        !RETRIED.contains(&code),
        "{what}: retryable status {code} {message}"
    );
    if code != 0 {
        assert!(
            !message.is_empty(),
            "{what}: status {code} without a message"
        );
    }
}

fn assert_clear(status: u16, body: &[u8], what: &str) {
    assert!(
        status == 200 || (400..500).contains(&status),
        "{what}: status {status}"
    );
    if status != 200 {
        assert!(!body.is_empty(), "{what}: a refusal without a message");
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn text(value: String) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(value)),
    })
}

fn logs_request(bodies: Vec<String>, times: Vec<u64>) -> ExportLogsServiceRequest {
    let records = bodies
        .into_iter()
        .zip(times.into_iter().chain(std::iter::repeat(0)))
        .map(|(body, time)| LogRecord {
            time_unix_nano: time,
            observed_time_unix_nano: time / 2,
            body: text(body.clone()),
            attributes: vec![KeyValue {
                key: body.chars().take(8).collect(),
                value: text(body),
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// A valid encoded request with some bytes changed, cut or appended.
fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8)], cut: usize) -> Vec<u8> {
    for (at, value) in edits {
        if !bytes.is_empty() {
            let i = at % bytes.len();
            bytes[i] ^= value;
        }
    }
    let keep = bytes.len().saturating_sub(cut % (bytes.len() + 1));
    bytes.truncate(keep);
    bytes
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,120}",
        "(19|20|21)[0-9]{2}-[0-9]{2}-[0-9]{2}[ T][0-9:.]{0,12} (INFO|ERROR|W) [a-z=0-9 ]{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn random_protobuf_bodies_are_refused_clearly(body in proptest::collection::vec(any::<u8>(), 0..512), path in 0..3usize) {
        let (status, answer) = send(PATHS[path], "application/x-protobuf", false, body);
        assert_clear(status, &answer, "random protobuf");
    }

    #[test]
    fn mutated_protobuf_requests_are_refused_clearly(
        bodies in proptest::collection::vec(line(), 1..6),
        edits in proptest::collection::vec((any::<usize>(), 1..=255u8), 0..6),
        cut in any::<usize>(),
    ) {
        use prost::Message;
        let valid = logs_request(bodies, Vec::new()).encode_to_vec();
        let (status, answer) = send("/v1/logs", "application/x-protobuf", false, mutate(valid, &edits, cut));
        assert_clear(status, &answer, "mutated protobuf");
    }

    #[test]
    fn random_and_badly_framed_grpc_messages_are_refused_clearly(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        which in 0..3usize,
        compressed in any::<bool>(),
        claimed in proptest::option::of(any::<u32>()),
    ) {
        let (code, message) = send_grpc(which, grpc_frame(&body, compressed, claimed), compressed);
        assert_clear_grpc(code, &message, "random grpc");
        // Unframed bytes, as a confused client sends them.
        let (code, message) = send_grpc(which, body, false);
        assert_clear_grpc(code, &message, "unframed grpc");
    }

    #[test]
    fn mutated_grpc_requests_are_refused_clearly(
        bodies in proptest::collection::vec(line(), 1..6),
        edits in proptest::collection::vec((any::<usize>(), 1..=255u8), 0..6),
        cut in any::<usize>(),
        gzipped in any::<bool>(),
    ) {
        use prost::Message;
        let valid = logs_request(bodies, vec![1, u64::MAX]).encode_to_vec();
        let message = mutate(valid, &edits, cut);
        let message = if gzipped { gzip(&message) } else { message };
        let (code, answer) = send_grpc(1, grpc_frame(&message, gzipped, None), gzipped);
        assert_clear_grpc(code, &answer, "mutated grpc");
    }

    #[test]
    fn random_and_mutated_json_is_refused_clearly(
        bodies in proptest::collection::vec(line(), 1..4),
        edits in proptest::collection::vec((any::<usize>(), 1..=127u8), 0..4),
        cut in any::<usize>(),
        noise in "[\\[\\]{}\":,0-9a-zA-Z \\\\]{0,200}",
        path in 0..3usize,
    ) {
        let valid = serde_json::to_vec(&logs_request(bodies, vec![1, u64::MAX])).unwrap();
        let (status, answer) = send("/v1/logs", "application/json", false, mutate(valid, &edits, cut));
        assert_clear(status, &answer, "mutated json");
        let (status, answer) = send(PATHS[path], "application/json", false, noise.into_bytes());
        assert_clear(status, &answer, "random json");
    }

    #[test]
    fn random_and_broken_gzip_is_refused_clearly(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        edits in proptest::collection::vec((any::<usize>(), 1..=255u8), 0..4),
        cut in any::<usize>(),
        json in any::<bool>(),
    ) {
        let content_type = if json { "application/json" } else { "application/x-protobuf" };
        let (status, answer) = send("/v1/traces", content_type, true, body.clone());
        assert_clear(status, &answer, "random gzip");
        let (status, answer) = send("/v1/metrics", content_type, true, mutate(gzip(&body), &edits, cut));
        assert_clear(status, &answer, "broken gzip");
    }

    /// Any record that decodes is accepted through Log AI and the time bounds, whatever its
    /// body and times.
    #[test]
    fn any_log_record_goes_through_log_ai(
        bodies in proptest::collection::vec(line(), 1..12),
        times in proptest::collection::vec(any::<u64>(), 0..12),
    ) {
        use prost::Message;
        let request = logs_request(bodies, times);
        let (status, answer) = send("/v1/logs", "application/x-protobuf", true, gzip(&request.encode_to_vec()));
        prop_assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    }
}
