//! Prometheus remote write (1.0): `POST` of a snappy-compressed protobuf `WriteRequest`. Each
//! series becomes gauge points of an OpenTelemetry metric with the series' name; `job` becomes
//! `service.name` and `instance` `service.instance.id` (so the Prometheus API answers with the
//! same names and labels), the other labels point attributes. Staleness markers are kept as
//! points without a recorded value. The request then goes through the normal pipeline.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

use crate::pipeline::{IngestError, Pipeline, Request};

/// The path the receiver is served at.
pub const PATH: &str = "/prometheus/api/v1/write";

/// Prometheus' staleness marker.
const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;
/// OTLP: the point has no recorded value (the series ended).
const FLAG_NO_RECORDED_VALUE: u32 = 1;

#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
    #[prost(message, repeated, tag = "3")]
    pub metadata: Vec<MetricMetadata>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    #[prost(double, tag = "1")]
    pub value: f64,
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricMetadata {
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    #[prost(string, tag = "2")]
    pub metric_family_name: String,
    #[prost(string, tag = "4")]
    pub help: String,
    #[prost(string, tag = "5")]
    pub unit: String,
}

fn string_kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_string())),
        }),
        ..Default::default()
    }
}

/// Why a write request was refused; each is counted by its reason.
#[derive(Debug, thiserror::Error)]
pub enum RemoteWriteError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Ingest(#[from] IngestError),
}

/// Decompresses (at most `limit` bytes) and decodes a write request.
pub fn decode(body: &[u8], limit: usize) -> Result<WriteRequest, RemoteWriteError> {
    let len = snap::raw::decompress_len(body)
        .map_err(|e| RemoteWriteError::Invalid(format!("body is not snappy-compressed: {e}")))?;
    if len > limit {
        return Err(IngestError::TooLarge {
            limit,
            what: " once decompressed",
        }
        .into());
    }
    let plain = snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| RemoteWriteError::Invalid(format!("body is not snappy-compressed: {e}")))?;
    prost::Message::decode(plain.as_slice())
        .map_err(|e| RemoteWriteError::Invalid(format!("body is not a protobuf WriteRequest: {e}")))
}

/// A write request as an OTLP metrics request: one resource per `job` and `instance`.
pub fn to_otlp(req: &WriteRequest) -> Result<ExportMetricsServiceRequest, RemoteWriteError> {
    let mut help: BTreeMap<&str, &str> = BTreeMap::new();
    for m in &req.metadata {
        help.insert(&m.metric_family_name, &m.help);
    }
    let mut resources: BTreeMap<(String, String), Vec<Metric>> = BTreeMap::new();
    for ts in &req.timeseries {
        let mut name = None;
        let (mut job, mut instance) = (String::new(), String::new());
        let mut attributes = Vec::new();
        for l in &ts.labels {
            match l.name.as_str() {
                "__name__" => name = Some(l.value.as_str()),
                "job" => job = l.value.clone(),
                "instance" => instance = l.value.clone(),
                _ if l.value.is_empty() => {}
                other => attributes.push(string_kv(other, &l.value)),
            }
        }
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            return Err(RemoteWriteError::Invalid(
                "a series has no __name__ label".to_string(),
            ));
        };
        if name.starts_with("redscope_") {
            return Err(RemoteWriteError::Invalid(format!(
                "metric '{name}': names under 'redscope_' are reserved for redscope's own metrics"
            )));
        }
        let points = ts
            .samples
            .iter()
            .map(|s| {
                let stale = s.value.to_bits() == STALE_NAN_BITS;
                NumberDataPoint {
                    attributes: attributes.clone(),
                    time_unix_nano: u64::try_from(s.timestamp.saturating_mul(1_000_000))
                        .unwrap_or(0),
                    value: Some(number_data_point::Value::AsDouble(if stale {
                        f64::NAN
                    } else {
                        s.value
                    })),
                    flags: if stale { FLAG_NO_RECORDED_VALUE } else { 0 },
                    ..Default::default()
                }
            })
            .collect();
        resources.entry((job, instance)).or_default().push(Metric {
            name: name.to_string(),
            description: help.get(name).map(|h| h.to_string()).unwrap_or_default(),
            data: Some(metric::Data::Gauge(Gauge {
                data_points: points,
            })),
            ..Default::default()
        });
    }
    let resource_metrics = resources
        .into_iter()
        .map(|((job, instance), metrics)| {
            let mut attributes = Vec::new();
            if !job.is_empty() {
                attributes.push(string_kv("service.name", &job));
            }
            if !instance.is_empty() {
                attributes.push(string_kv("service.instance.id", &instance));
            }
            ResourceMetrics {
                resource: Some(Resource {
                    attributes,
                    ..Default::default()
                }),
                scope_metrics: vec![ScopeMetrics {
                    metrics,
                    ..Default::default()
                }],
                ..Default::default()
            }
        })
        .collect();
    Ok(ExportMetricsServiceRequest { resource_metrics })
}

fn refuse(pipeline: &Pipeline, e: &RemoteWriteError) -> Response {
    let reason = match e {
        RemoteWriteError::Invalid(_) => "remote_write_invalid",
        RemoteWriteError::Ingest(i) => i.reason(),
    };
    pipeline.stats().refused(reason);
    tracing::warn!(error = %e, reason, "remote write refused");
    let (status, retry) = match e {
        RemoteWriteError::Invalid(_) => (StatusCode::BAD_REQUEST, None),
        RemoteWriteError::Ingest(i) => match i {
            IngestError::BadRequest(_) | IngestError::Unsupported(_) => {
                (StatusCode::BAD_REQUEST, None)
            }
            IngestError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, None),
            IngestError::TimedOut { .. } => (StatusCode::REQUEST_TIMEOUT, None),
            IngestError::Overloaded { retry_after_secs } => {
                (StatusCode::TOO_MANY_REQUESTS, Some(*retry_after_secs))
            }
            IngestError::DiskFull { retry_after_secs } => {
                (StatusCode::SERVICE_UNAVAILABLE, Some(*retry_after_secs))
            }
            IngestError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, None),
        },
    };
    let message = match e {
        RemoteWriteError::Ingest(IngestError::Internal(_)) => "internal error".to_string(),
        other => other.to_string(),
    };
    let mut response = (status, message).into_response();
    if let Some(secs) = retry
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// `POST /prometheus/api/v1/write`: 204 once the samples are durable.
pub async fn write(State(pipeline): State<Pipeline>, headers: HeaderMap, body: Bytes) -> Response {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("snappy");
    if !encoding.eq_ignore_ascii_case("snappy") {
        let e = RemoteWriteError::Invalid(format!(
            "content encoding '{encoding}': remote write bodies are snappy-compressed"
        ));
        return refuse(&pipeline, &e);
    }
    let limits = pipeline.limits().clone();
    if body.len() > limits.max_request_bytes {
        let e = RemoteWriteError::Ingest(IngestError::TooLarge {
            limit: limits.max_request_bytes,
            what: "",
        });
        return refuse(&pipeline, &e);
    }
    let _charge = match pipeline.admit(body.len()) {
        Ok(c) => c,
        Err(e) => return refuse(&pipeline, &e.into()),
    };
    let decoded = tokio::task::spawn_blocking(move || {
        decode(&body, limits.max_decompressed_bytes).and_then(|req| to_otlp(&req))
    })
    .await;
    let request = match decoded {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return refuse(&pipeline, &e),
        Err(e) => {
            let e = RemoteWriteError::Ingest(IngestError::Internal(e.to_string()));
            return refuse(&pipeline, &e);
        }
    };
    match pipeline.export(Request::Metrics(request)).await {
        Ok(outcome) if outcome.rejected > 0 => {
            let e = RemoteWriteError::Invalid(format!(
                "{} samples rejected: {}",
                outcome.rejected, outcome.message
            ));
            refuse(&pipeline, &e)
        }
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refuse(&pipeline, &e.into()),
    }
}

/// The receiver's route, with the pipeline as state.
pub fn router(pipeline: Pipeline) -> axum::Router {
    let max = pipeline.limits().max_request_bytes;
    axum::Router::new()
        .route(PATH, axum::routing::post(write))
        .layer(axum::extract::DefaultBodyLimit::max(max))
        .with_state(pipeline)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> WriteRequest {
        let label = |n: &str, v: &str| Label {
            name: n.into(),
            value: v.into(),
        };
        WriteRequest {
            timeseries: vec![TimeSeries {
                labels: vec![
                    label("__name__", "http_requests_total"),
                    label("job", "api"),
                    label("instance", "host:9090"),
                    label("code", "200"),
                ],
                samples: vec![
                    Sample {
                        value: 1.0,
                        timestamp: 1_000,
                    },
                    Sample {
                        value: f64::from_bits(STALE_NAN_BITS),
                        timestamp: 2_000,
                    },
                ],
            }],
            metadata: vec![],
        }
    }

    #[test]
    fn series_become_gauges_of_a_resource_per_job_and_instance() {
        let body = snap::raw::Encoder::new()
            .compress_vec(&prost::Message::encode_to_vec(&request()))
            .unwrap_or_default();
        let decoded = decode(&body, 1 << 20).expect("decodes");
        let otlp = to_otlp(&decoded).expect("converts");
        let rm = &otlp.resource_metrics[0];
        let attrs = &rm.resource.as_ref().expect("resource").attributes;
        assert_eq!(attrs[0].key, "service.name");
        assert_eq!(attrs[1].key, "service.instance.id");
        let m = &rm.scope_metrics[0].metrics[0];
        assert_eq!(m.name, "http_requests_total");
        let Some(metric::Data::Gauge(g)) = &m.data else {
            panic!("gauge");
        };
        assert_eq!(g.data_points[0].time_unix_nano, 1_000_000_000);
        assert_eq!(g.data_points[0].attributes[0].key, "code");
        assert_eq!(g.data_points[1].flags, FLAG_NO_RECORDED_VALUE);
    }

    #[test]
    fn bad_bodies_are_refused_with_a_reason() {
        assert!(matches!(
            decode(b"not snappy", 1 << 20),
            Err(RemoteWriteError::Invalid(_))
        ));
        let garbage = snap::raw::Encoder::new()
            .compress_vec(&[0xff, 0xff, 0xff])
            .unwrap_or_default();
        assert!(matches!(
            decode(&garbage, 1 << 20),
            Err(RemoteWriteError::Invalid(_))
        ));
        let big = snap::raw::Encoder::new()
            .compress_vec(&vec![0u8; 4096])
            .unwrap_or_default();
        assert!(matches!(
            decode(&big, 1024),
            Err(RemoteWriteError::Ingest(IngestError::TooLarge { .. }))
        ));
        let mut unnamed = request();
        unnamed.timeseries[0].labels.remove(0);
        assert!(to_otlp(&unnamed).is_err());
    }
}
