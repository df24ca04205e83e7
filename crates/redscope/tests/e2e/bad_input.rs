//! Bad input gets the right status and message, is counted, and the server keeps serving.

use std::io::Write;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

use crate::common::{Server, now_ns};

fn request(spans: usize, bad_trace_ids: usize) -> ExportTraceServiceRequest {
    let t = now_ns();
    let mut list = Vec::new();
    for i in 0..spans + bad_trace_ids {
        let trace_id = if i < spans {
            vec![1u8; 16]
        } else {
            vec![1u8; 5]
        };
        list.push(Span {
            trace_id,
            span_id: vec![i as u8 + 1; 8],
            name: format!("op-{i}"),
            start_time_unix_nano: t,
            end_time_unix_nano: t + 1000,
            ..Default::default()
        });
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue("bad-input-svc".into())),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: list,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

async fn post(
    server: &Server,
    content_type: Option<&str>,
    encoding: Option<&str>,
    body: Vec<u8>,
) -> (u16, String) {
    let mut req = reqwest::Client::new()
        .post(server.otlp_url("/v1/traces"))
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(e) = encoding {
        req = req.header("content-encoding", e);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let bytes = r.bytes().await.unwrap();
    let text = match ingest::RpcStatus::decode(&bytes[..]) {
        Ok(s) if !s.message.is_empty() => s.message,
        _ => String::from_utf8_lossy(&bytes).to_string(),
    };
    (status, text)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[tokio::test]
async fn bad_bodies_get_clear_errors_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            ("REDSCOPE_LIMITS__MAX_REQUEST_BYTES", "200000"),
            ("REDSCOPE_LIMITS__MAX_DECOMPRESSED_BYTES", "1000000"),
        ],
    );
    let pb = Some("application/x-protobuf");
    let valid = request(3, 0).encode_to_vec();

    let (s, m) = post(&server, pb, None, b"\xff\xff\xff\xff garbage".to_vec()).await;
    assert_eq!(s, 400);
    assert!(m.contains("invalid protobuf"), "{m}");

    let (s, m) = post(&server, pb, None, valid[..valid.len() / 2].to_vec()).await;
    assert_eq!(s, 400, "truncated protobuf: {m}");

    let (s, m) = post(
        &server,
        Some("application/json"),
        None,
        b"{\"resourceSpans\": [".to_vec(),
    )
    .await;
    assert_eq!(s, 400);
    assert!(m.contains("invalid JSON"), "{m}");

    let (s, m) = post(&server, Some("text/html"), None, valid.clone()).await;
    assert_eq!(s, 415);
    assert!(m.contains("text/html"), "{m}");
    // text/plain is what a beacon sends: JSON, so protobuf bytes in it are malformed JSON.
    let (s, m) = post(&server, Some("text/plain"), None, valid.clone()).await;
    assert_eq!(s, 400);
    assert!(m.contains("invalid JSON"), "{m}");
    let (s, _) = post(&server, None, None, valid.clone()).await;
    assert_eq!(s, 415);
    let (s, m) = post(&server, pb, Some("br"), valid.clone()).await;
    assert_eq!(s, 415, "{m}");

    let (s, m) = post(&server, pb, None, vec![0u8; 300_000]).await;
    assert_eq!(s, 413);
    assert!(m.contains("200000"), "{m}");

    // 50 MB of zeros compress to about 50 KB: accepted on the wire, refused once inflated.
    let bomb = gzip(&vec![0u8; 50_000_000]);
    assert!(bomb.len() < 200_000);
    let (s, m) = post(&server, pb, Some("gzip"), bomb).await;
    assert_eq!(s, 413);
    assert!(m.contains("decompressed"), "{m}");

    let (s, _) = post(&server, pb, Some("gzip"), b"not gzip at all".to_vec()).await;
    assert_eq!(s, 400);

    // Still serving: a gzip-compressed valid request is accepted...
    let (s, m) = post(&server, pb, Some("gzip"), gzip(&valid)).await;
    assert_eq!(s, 200, "{m}");
    // ...and partial success reports the items that were rejected.
    let r = reqwest::Client::new()
        .post(server.otlp_url("/v1/traces"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&request(2, 1)).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["partialSuccess"]["rejectedSpans"], 1, "{body}");
    assert!(
        body["partialSuccess"]["errorMessage"]
            .as_str()
            .unwrap()
            .contains("trace_id")
    );

    let spans = server
        .sql("SELECT count(*) FROM spans WHERE service_name = 'bad-input-svc'")
        .await;
    assert_eq!(spans["rows"][0][0], 5);
    let status = server.get_json("/api/v1/status").await;
    let refused = &status["status"]["ingest"]["requests_refused"];
    assert!(refused["bad_request"].as_u64().unwrap() >= 4, "{status}");
    assert!(refused["too_large"].as_u64().unwrap() >= 2, "{status}");
    assert!(refused["unsupported"].as_u64().unwrap() >= 3, "{status}");
    assert_eq!(status["status"]["ingest"]["items_rejected"], 1);
}

#[tokio::test]
async fn grpc_accepts_and_reports_partial_success() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let mut client = TraceServiceClient::connect(format!("http://127.0.0.1:{}", server.grpc))
        .await
        .unwrap();
    let resp = client.export(request(4, 2)).await.unwrap().into_inner();
    let partial = resp.partial_success.expect("partial success");
    assert_eq!(partial.rejected_spans, 2);
    let spans = server.sql("SELECT count(*) FROM spans").await;
    assert_eq!(spans["rows"][0][0], 4);
}
