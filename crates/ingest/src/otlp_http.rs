//! OTLP/HTTP receiver: `POST /v1/traces`, `/v1/logs`, `/v1/metrics`, protobuf or JSON, optionally
//! gzip-compressed. Errors come back as google.rpc.Status in the request's encoding.

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

use crate::pipeline::{ExportOutcome, IngestError, Pipeline, Request};
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
        "application/json" => Ok(Encoding::Json),
        "" => Err(IngestError::Unsupported(
            "content type: none given, use application/x-protobuf or application/json".to_string(),
        )),
        other => Err(IngestError::Unsupported(format!(
            "content type '{other}': use application/x-protobuf or application/json"
        ))),
    }
}

/// Reads the body within the size limits and undoes `Content-Encoding`.
async fn read_body(
    pipeline: &Pipeline,
    headers: &HeaderMap,
    body: Body,
) -> Result<Vec<u8>, IngestError> {
    let limits = pipeline.limits();
    let raw = axum::body::to_bytes(body, limits.max_request_bytes)
        .await
        .map_err(|e| {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.to_string().contains("length limit"))
                || e.to_string().contains("length limit");
            if too_large {
                IngestError::TooLarge {
                    limit: limits.max_request_bytes,
                    what: "",
                }
            } else {
                IngestError::BadRequest(format!("could not read the request body: {e}"))
            }
        })?;
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    match encoding.as_str() {
        "" | "identity" => Ok(raw.to_vec()),
        "gzip" | "x-gzip" => inflate(
            flate2::read::GzDecoder::new(&raw[..]),
            limits.max_decompressed_bytes,
        ),
        "deflate" => inflate(
            flate2::read::ZlibDecoder::new(&raw[..]),
            limits.max_decompressed_bytes,
        ),
        other => Err(IngestError::Unsupported(format!(
            "content encoding '{other}': use gzip, deflate or identity"
        ))),
    }
}

/// Decompresses at most `limit` bytes: a bomb is refused, not expanded.
fn inflate(reader: impl Read, limit: usize) -> Result<Vec<u8>, IngestError> {
    let mut out = Vec::new();
    let read = reader
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| IngestError::BadRequest(format!("could not decompress the body: {e}")))?;
    if read > limit {
        return Err(IngestError::TooLarge {
            limit,
            what: " once decompressed",
        });
    }
    Ok(out)
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
    what: &str,
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
    let result = async {
        let bytes = read_body(pipeline, headers, body).await?;
        let _permit = pipeline.admit(bytes.len())?;
        let request: T = decode(&bytes, encoding, what)?;
        drop(bytes);
        pipeline.export(wrap(request)).await
    }
    .await;
    if let Err(e) = &result
        && !matches!(e, IngestError::Overloaded { .. })
    {
        pipeline.stats().refused(e.reason());
    }
    (encoding, result)
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
                partial_success: (o.rejected > 0).then(|| ExportTracePartialSuccess {
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
                partial_success: (o.rejected > 0).then(|| ExportLogsPartialSuccess {
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
                partial_success: (o.rejected > 0).then(|| ExportMetricsPartialSuccess {
                    rejected_data_points: i64::try_from(o.rejected).unwrap_or(i64::MAX),
                    error_message: o.message,
                }),
            },
            enc,
        ),
    }
}
