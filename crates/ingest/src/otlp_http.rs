//! OTLP/HTTP receiver: `POST /v1/traces`, `/v1/logs`, `/v1/metrics`, protobuf or JSON, optionally
//! gzip-compressed. Errors come back as google.rpc.Status in the request's encoding. A
//! `text/plain` body is JSON (what `navigator.sendBeacon` sends).

use std::io::Read;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};

use http_body_util::BodyExt;

use crate::admission::{Charge, DECODED_FACTOR};
use crate::pipeline::{ExportOutcome, IngestError, Limits, Pipeline, Request};
use crate::status::RpcStatus;

/// The OTLP/HTTP routes.
pub fn router(pipeline: Pipeline) -> Router {
    Router::new()
        .route("/v1/traces", post(traces))
        .route("/v1/logs", post(logs))
        .route("/v1/metrics", post(metrics))
        .with_state(pipeline)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

fn encoding_of(headers: &HeaderMap) -> Result<Encoding, IngestError> {
    let raw = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "application/x-protobuf" | "application/protobuf" => Ok(Encoding::Protobuf),
        // `navigator.sendBeacon` with a string body can only say text/plain (any other type
        // needs a CORS preflight a beacon cannot make): it is OTLP JSON all the same.
        "application/json" | "text/plain" => Ok(Encoding::Json),
        "" => Err(IngestError::Unsupported(
            "content type: none given, use application/x-protobuf or application/json".to_string(),
        )),
        other => Err(IngestError::Unsupported(format!(
            "content type '{other}': use application/x-protobuf or application/json"
        ))),
    }
}

/// How the body is compressed (`Content-Encoding`).
#[derive(Debug, Clone, Copy)]
enum Compression {
    None,
    Gzip,
    Deflate,
}

fn compression_of(headers: &HeaderMap) -> Result<Compression, IngestError> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    match encoding.as_str() {
        "" | "identity" => Ok(Compression::None),
        "gzip" | "x-gzip" => Ok(Compression::Gzip),
        "deflate" => Ok(Compression::Deflate),
        other => Err(IngestError::Unsupported(format!(
            "content encoding '{other}': use gzip, deflate or identity"
        ))),
    }
}

/// `Content-Length`, refused at once when over the limit (the body is never read).
fn content_length(headers: &HeaderMap, limit: usize) -> Result<Option<usize>, IngestError> {
    let Some(value) = headers.get(header::CONTENT_LENGTH) else {
        return Ok(None);
    };
    let length = value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| IngestError::BadRequest("invalid content-length".to_string()))?;
    match usize::try_from(length) {
        Ok(n) if n <= limit => Ok(Some(n)),
        _ => Err(IngestError::TooLarge { limit, what: "" }),
    }
}

/// Reads the body as sent, charging each frame before it is kept, within the size limit and
/// the body timeout.
async fn read_raw(
    limits: &Limits,
    mut body: Body,
    expected: Option<usize>,
    charge: &mut Charge,
) -> Result<Vec<u8>, IngestError> {
    let deadline = tokio::time::Instant::now() + limits.body_timeout;
    let limit = limits.max_request_bytes;
    let mut raw = Vec::with_capacity(expected.unwrap_or(0));
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => {
                return Err(IngestError::TimedOut {
                    secs: limits.body_timeout.as_secs(),
                });
            }
            Ok(None) => return Ok(raw),
            Ok(Some(Err(e))) => {
                return Err(IngestError::BadRequest(format!(
                    "could not read the request body: {e}"
                )));
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let total = raw.len().saturating_add(data.len());
        if total > limit {
            return Err(IngestError::TooLarge { limit, what: "" });
        }
        charge.grow_to(total)?;
        raw.extend_from_slice(&data);
    }
}

/// Undoes the compression and decodes, off the async threads: inflated bytes are charged as
/// they appear, and the decoded request before it is built.
fn inflate_and_decode<T: prost::Message + Default + serde::de::DeserializeOwned>(
    raw: Vec<u8>,
    compression: Compression,
    (encoding, what): (Encoding, &str),
    limit: usize,
    charge: &mut Charge,
) -> Result<T, IngestError> {
    let plain = match compression {
        Compression::None => raw,
        Compression::Gzip => inflate(flate2::read::GzDecoder::new(&raw[..]), limit, charge)?,
        Compression::Deflate => inflate(flate2::read::ZlibDecoder::new(&raw[..]), limit, charge)?,
    };
    let decoded = plain.len().saturating_mul(DECODED_FACTOR);
    charge.grow_to(charge.bytes().saturating_add(decoded))?;
    decode(&plain, encoding, what)
}

/// Decompresses at most `limit` bytes, charging them as they appear: a bomb is refused, not
/// expanded.
fn inflate(
    mut reader: impl Read,
    limit: usize,
    charge: &mut Charge,
) -> Result<Vec<u8>, IngestError> {
    let base = charge.bytes();
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let n = reader
            .read(&mut chunk)
            .map_err(|e| IngestError::BadRequest(format!("could not decompress the body: {e}")))?;
        if n == 0 {
            return Ok(out);
        }
        if out.len() + n > limit {
            return Err(IngestError::TooLarge {
                limit,
                what: " once decompressed",
            });
        }
        charge.grow_to(base.saturating_add(out.len() + n))?;
        out.extend_from_slice(&chunk[..n]);
    }
}

fn decode<T: prost::Message + Default + serde::de::DeserializeOwned>(
    bytes: &[u8],
    encoding: Encoding,
    what: &str,
) -> Result<T, IngestError> {
    match encoding {
        Encoding::Protobuf => T::decode(bytes)
            .map_err(|e| IngestError::BadRequest(format!("invalid protobuf {what}: {e}"))),
        Encoding::Json => serde_json::from_slice(bytes)
            .map_err(|e| IngestError::BadRequest(format!("invalid JSON {what}: {e}"))),
    }
}

fn error_response(err: &IngestError, encoding: Encoding) -> Response {
    let (status, grpc_code) = match err {
        IngestError::BadRequest(_) => (StatusCode::BAD_REQUEST, 3),
        IngestError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, 8),
        IngestError::Unsupported(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, 3),
        IngestError::TimedOut { .. } => (StatusCode::REQUEST_TIMEOUT, 4),
        IngestError::Overloaded { .. } => (StatusCode::TOO_MANY_REQUESTS, 8),
        IngestError::DiskFull { .. } => (StatusCode::INSUFFICIENT_STORAGE, 8),
        IngestError::Internal(_) => (StatusCode::SERVICE_UNAVAILABLE, 14),
    };
    let message = err.to_string();
    if let IngestError::Internal(detail) = err {
        tracing::error!(%detail, "ingest failed");
    }
    let rpc = RpcStatus {
        code: grpc_code,
        message: message.clone(),
        details: vec![],
    };
    let body = match encoding {
        Encoding::Protobuf => prost::Message::encode_to_vec(&rpc),
        Encoding::Json => serde_json::json!({"code": grpc_code, "message": message})
            .to_string()
            .into_bytes(),
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(encoding.content_type()),
    );
    if let IngestError::Overloaded { retry_after_secs } | IngestError::DiskFull { retry_after_secs } =
        err
        && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
    {
        headers.insert(header::RETRY_AFTER, v);
    }
    if matches!(err, IngestError::Internal(_)) {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    // Refused before its body was read (or while reading it): the rest of the body is not
    // worth reading, so the connection closes and the client's next request opens a new one.
    if matches!(
        err,
        IngestError::TooLarge { .. }
            | IngestError::TimedOut { .. }
            | IngestError::Overloaded { .. }
    ) {
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

fn ok_response<T: prost::Message + serde::Serialize>(msg: &T, encoding: Encoding) -> Response {
    let body = match encoding {
        Encoding::Protobuf => msg.encode_to_vec(),
        Encoding::Json => serde_json::to_vec(msg).unwrap_or_else(|_| b"{}".to_vec()),
    };
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(encoding.content_type()),
    );
    response
}

/// The steps all three signals share; `wrap` picks the signal.
async fn handle<T>(
    pipeline: &Pipeline,
    headers: &HeaderMap,
    body: Body,
    what: &'static str,
    wrap: fn(T) -> Request,
) -> (Encoding, Result<ExportOutcome, IngestError>)
where
    T: prost::Message + Default + serde::de::DeserializeOwned + Send + 'static,
{
    let encoding = match encoding_of(headers) {
        Ok(e) => e,
        Err(e) => {
            pipeline.stats().refused(e.reason());
            return (Encoding::Json, Err(e));
        }
    };
    let admitted = admit::<T>(pipeline, headers, body, (encoding, what)).await;
    let result = match admitted {
        Ok((request, _charge)) => pipeline.export(wrap(request)).await,
        Err(e) => {
            pipeline.stats().refused(e.reason());
            Err(e)
        }
    };
    (encoding, result)
}

/// Everything before the pipeline: the request is charged to the in-flight budget as it is
/// read, inflated and decoded; the charge is held until the request is answered.
async fn admit<T>(
    pipeline: &Pipeline,
    headers: &HeaderMap,
    body: Body,
    format: (Encoding, &'static str),
) -> Result<(T, Charge), IngestError>
where
    T: prost::Message + Default + serde::de::DeserializeOwned + Send + 'static,
{
    let limits = pipeline.limits().clone();
    let compression = compression_of(headers)?;
    let expected = content_length(headers, limits.max_request_bytes)?;
    let mut charge = pipeline.charge();
    charge.grow_to(expected.unwrap_or(0))?;
    let raw = read_raw(&limits, body, expected, &mut charge).await?;
    let limit = limits.max_decompressed_bytes;
    let (decoded, charge) = tokio::task::spawn_blocking(move || {
        let decoded = inflate_and_decode::<T>(raw, compression, format, limit, &mut charge);
        (decoded, charge)
    })
    .await
    .map_err(|e| IngestError::Internal(format!("decoding task failed: {e}")))?;
    Ok((decoded?, charge))
}

async fn traces(State(pipeline): State<Pipeline>, headers: HeaderMap, body: Body) -> Response {
    let (enc, result) = handle::<ExportTraceServiceRequest>(
        &pipeline,
        &headers,
        body,
        "ExportTraceServiceRequest",
        Request::Traces,
    )
    .await;
    match result {
        Err(e) => error_response(&e, enc),
        Ok(o) => ok_response(
            &ExportTraceServiceResponse {
                partial_success: o.has_partial_success().then(|| ExportTracePartialSuccess {
                    rejected_spans: i64::try_from(o.rejected).unwrap_or(i64::MAX),
                    error_message: o.message,
                }),
            },
            enc,
        ),
    }
}

async fn logs(State(pipeline): State<Pipeline>, headers: HeaderMap, body: Body) -> Response {
    let (enc, result) = handle::<ExportLogsServiceRequest>(
        &pipeline,
        &headers,
        body,
        "ExportLogsServiceRequest",
        Request::Logs,
    )
    .await;
    match result {
        Err(e) => error_response(&e, enc),
        Ok(o) => ok_response(
            &ExportLogsServiceResponse {
                partial_success: o.has_partial_success().then(|| ExportLogsPartialSuccess {
                    rejected_log_records: i64::try_from(o.rejected).unwrap_or(i64::MAX),
                    error_message: o.message,
                }),
            },
            enc,
        ),
    }
}

async fn metrics(State(pipeline): State<Pipeline>, headers: HeaderMap, body: Body) -> Response {
    let (enc, result) = handle::<ExportMetricsServiceRequest>(
        &pipeline,
        &headers,
        body,
        "ExportMetricsServiceRequest",
        Request::Metrics,
    )
    .await;
    match result {
        Err(e) => error_response(&e, enc),
        Ok(o) => ok_response(
            &ExportMetricsServiceResponse {
                partial_success: o
                    .has_partial_success()
                    .then(|| ExportMetricsPartialSuccess {
                        rejected_data_points: i64::try_from(o.rejected).unwrap_or(i64::MAX),
                        error_message: o.message,
                    }),
            },
            enc,
        ),
    }
}
