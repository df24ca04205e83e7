//! Admission before work: connection limits, header and body timeouts, `Content-Length`
//! checked before the body is read, the open-file limit, and a gRPC message that can never fit.
//! Bounds on time are generous: they say "closed by the timeout", not how fast.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use tonic::Code;

use crate::common::{Server, now_ns};

fn spans(count: usize, name_bytes: usize) -> ExportTraceServiceRequest {
    let t = now_ns();
    let list = (0..count)
        .map(|i| Span {
            trace_id: vec![7u8; 16],
            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
            name: format!("{i:0>name_bytes$}"),
            start_time_unix_nano: t,
            end_time_unix_nano: t + 1000,
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: list,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// Whether the server closes `stream` within `within` (EOF or reset), reading what it sends.
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return true,
        }
    }
    false
}

async fn services_ok(server: &Server) {
    let r = reqwest::get(server.api_url("/api/v1/services"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn grpc_export_ok(server: &Server) {
    let mut client = TraceServiceClient::connect(format!("http://127.0.0.1:{}", server.grpc))
        .await
        .unwrap();
    client.export(spans(3, 8)).await.unwrap();
}

/// Posts an empty OTLP/JSON request until it is accepted (the listener may be full).
async fn otlp_http_ok_eventually(server: &Server, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let r = reqwest::Client::new()
            .post(server.otlp_url("/v1/logs"))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await;
        if matches!(&r, Ok(r) if r.status() == 200) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "OTLP/HTTP never took a request: {r:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn connections_beyond_the_limit_are_closed_and_the_others_keep_serving() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            ("REDSCOPE_LIMITS__MAX_CONNECTIONS", "20"),
            ("REDSCOPE_LIMITS__HEADER_READ_TIMEOUT_SECS", "3"),
        ],
    );
    let mut idle: Vec<TcpStream> = (0..40)
        .map(|_| TcpStream::connect(("127.0.0.1", server.http)).unwrap())
        .collect();
    // The twenty beyond the limit are closed at once, long before the header timeout.
    let mut closed = 0;
    for s in idle.iter_mut().rev().take(20) {
        if closed_within(s, Duration::from_millis(1500)) {
            closed += 1;
        }
    }
    assert!(
        closed >= 15,
        "{closed} of 20 connections beyond the limit closed"
    );
    // The API and gRPC have their own limits and keep answering.
    services_ok(&server).await;
    grpc_export_ok(&server).await;
    // Once the header timeout has closed the idle ones, OTLP/HTTP takes requests again.
    otlp_http_ok_eventually(&server, Duration::from_secs(20)).await;
    let status = server.get_json("/api/v1/status").await;
    let http = &status["status"]["listeners"]["otlp_http"];
    assert!(
        http["connections_refused"].as_u64().unwrap() >= 15,
        "{status}"
    );
}

#[tokio::test]
async fn slowloris_headers_and_stalled_bodies_are_closed_while_requests_keep_working() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            ("REDSCOPE_LIMITS__HEADER_READ_TIMEOUT_SECS", "2"),
            ("REDSCOPE_LIMITS__BODY_READ_TIMEOUT_SECS", "2"),
        ],
    );
    // Headers trickled a line every 300 ms: closed by the header timeout.
    let mut slow = TcpStream::connect(("127.0.0.1", server.http)).unwrap();
    slow.write_all(b"POST /v1/logs HTTP/1.1\r\nhost: x\r\n")
        .unwrap();
    let started = Instant::now();
    let mut cut = false;
    while started.elapsed() < Duration::from_secs(15) {
        if slow.write_all(b"x-slow: 1\r\n").is_err() {
            cut = true;
            break;
        }
        services_ok(&server).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(cut || closed_within(&mut slow, Duration::from_secs(1)));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    // A body that stops arriving: 408 after the body timeout, and the connection closes.
    let mut stalled = TcpStream::connect(("127.0.0.1", server.http)).unwrap();
    stalled
        .write_all(b"POST /v1/logs HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\ncontent-length: 1000\r\n\r\nabc")
        .unwrap();
    otlp_http_ok_eventually(&server, Duration::from_secs(5)).await;
    stalled
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let mut response = Vec::new();
    let _ = stalled.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");

    // An idle kept-alive connection is closed by the header timeout too.
    let mut kept = TcpStream::connect(("127.0.0.1", server.api)).unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .unwrap();
    assert!(closed_within(&mut kept, Duration::from_secs(10)));
    grpc_export_ok(&server).await;
}

#[tokio::test]
async fn content_length_over_the_limit_is_refused_before_the_body_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let mut s = TcpStream::connect(("127.0.0.1", server.http)).unwrap();
    // 1 GiB announced, 4 KiB sent: the answer comes without the rest.
    s.write_all(b"POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\ncontent-length: 1073741824\r\n\r\n")
        .unwrap();
    s.write_all(&[0u8; 4096]).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = [0u8; 512];
    let n = s.read(&mut head).unwrap();
    let text = String::from_utf8_lossy(&head[..n]);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("connection: close"),
        "{text}"
    );
    let status = server.get_json("/api/v1/status").await;
    let refused = &status["status"]["ingest"]["requests_refused"];
    assert!(refused["too_large"].as_u64().unwrap() >= 1, "{status}");
}

#[tokio::test]
async fn grpc_message_that_can_never_fit_is_invalid_argument() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            ("REDSCOPE_LIMITS__MAX_REQUEST_BYTES", "300000"),
            ("REDSCOPE_LIMITS__MAX_DECOMPRESSED_BYTES", "1000000"),
        ],
    );
    let url = format!("http://127.0.0.1:{}", server.grpc);
    let mut client = TraceServiceClient::connect(url.clone()).await.unwrap();
    // About 2 MB uncompressed: over max_decompressed_bytes.
    let big = spans(2000, 1000);
    let err = client.export(big.clone()).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("exceeds"), "{err:?}");
    // The same gzip-compressed: small on the wire, over the limit once inflated.
    let mut gzip = TraceServiceClient::connect(url)
        .await
        .unwrap()
        .send_compressed(tonic::codec::CompressionEncoding::Gzip);
    let err = gzip.export(big).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    // A normal batch still fits.
    client.export(spans(100, 100)).await.unwrap();
    let status = server.get_json("/api/v1/status").await;
    let refused = &status["status"]["ingest"]["requests_refused"];
    assert!(refused["too_large"].as_u64().unwrap() >= 2, "{status}");
}

/// The case scaled down: more idle connections than the process has descriptors
/// (1,024 here, raised from a soft limit of 256) no longer stop ingest or the API.
#[tokio::test]
async fn idle_connections_beyond_the_open_file_limit_do_not_stop_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_under(dir.path(), &[], &["prlimit", "--nofile=256:1024"]);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", server.child.id())).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let soft: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        soft[3], "1024",
        "the soft limit is raised to the hard one: {line}"
    );

    let mut idle = Vec::new();
    for _ in 0..1100 {
        match TcpStream::connect(("127.0.0.1", server.http)) {
            Ok(s) => idle.push(s),
            Err(_) => break,
        }
    }
    services_ok(&server).await;
    grpc_export_ok(&server).await;
    let r = reqwest::Client::new()
        .post(server.api_url("/api/v1/sql"))
        .json(&serde_json::json!({"query": "SELECT count(*) FROM spans"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    drop(idle);
}
