//! Flattened records, one per span, log record and metric data point.
//!
//! Field names are the column names of the stored tables and of SQL; attribute maps, events,
//! links and exemplars are JSON text so that every OTLP value survives storage unchanged.

use serde::{Deserialize, Serialize};

/// The resource basics that every signal carries as real columns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub service_name: String,
    pub service_namespace: Option<String>,
    pub service_version: Option<String>,
    pub service_instance_id: Option<String>,
    pub deployment_environment: Option<String>,
    pub host_name: Option<String>,
    pub k8s_namespace_name: Option<String>,
    pub k8s_pod_name: Option<String>,
    pub container_id: Option<String>,
    /// Every resource attribute, as a JSON object.
    pub resource_attributes: String,
    pub scope_name: String,
    pub scope_version: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    Unspecified,
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

impl SpanKind {
    pub fn from_otlp(v: i32) -> SpanKind {
        match v {
            1 => SpanKind::Internal,
            2 => SpanKind::Server,
            3 => SpanKind::Client,
            4 => SpanKind::Producer,
            5 => SpanKind::Consumer,
            _ => SpanKind::Unspecified,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Unspecified => "UNSPECIFIED",
            SpanKind::Internal => "INTERNAL",
            SpanKind::Server => "SERVER",
            SpanKind::Client => "CLIENT",
            SpanKind::Producer => "PRODUCER",
            SpanKind::Consumer => "CONSUMER",
        }
    }

    pub fn parse(s: &str) -> Option<SpanKind> {
        [
            SpanKind::Unspecified,
            SpanKind::Internal,
            SpanKind::Server,
            SpanKind::Client,
            SpanKind::Producer,
            SpanKind::Consumer,
        ]
        .into_iter()
        .find(|k| k.as_str().eq_ignore_ascii_case(s))
    }

    pub fn to_otlp(self) -> i32 {
        match self {
            SpanKind::Unspecified => 0,
            SpanKind::Internal => 1,
            SpanKind::Server => 2,
            SpanKind::Client => 3,
            SpanKind::Producer => 4,
            SpanKind::Consumer => 5,
        }
    }
}

/// Whether a span failed: its status says so, or it is a server span answered with a 5xx
/// (instrumentations that leave the status unset). RED, triage and tail sampling count alike.
pub fn span_failed(status_code: &str, kind: &str, http_status: Option<i64>) -> bool {
    status_code == StatusCode::Error.as_str()
        || (kind == SpanKind::Server.as_str() && http_status.is_some_and(|c| c >= 500))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusCode {
    Unset,
    Ok,
    Error,
}

impl StatusCode {
    pub fn from_otlp(v: i32) -> StatusCode {
        match v {
            1 => StatusCode::Ok,
            2 => StatusCode::Error,
            _ => StatusCode::Unset,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StatusCode::Unset => "UNSET",
            StatusCode::Ok => "OK",
            StatusCode::Error => "ERROR",
        }
    }

    pub fn parse(s: &str) -> Option<StatusCode> {
        [StatusCode::Unset, StatusCode::Ok, StatusCode::Error]
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
    }

    pub fn to_otlp(self) -> i32 {
        match self {
            StatusCode::Unset => 0,
            StatusCode::Ok => 1,
            StatusCode::Error => 2,
        }
    }
}

/// One span. `kind` and `status_code` hold the names of [`SpanKind`] and [`StatusCode`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpanRow {
    pub start_time_unix_nano: i64,
    pub end_time_unix_nano: i64,
    pub duration_ns: i64,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub trace_state: String,
    pub flags: u32,
    pub name: String,
    pub kind: String,
    pub status_code: String,
    pub status_message: String,
    #[serde(flatten)]
    pub resource: Resource,
    pub http_request_method: Option<String>,
    pub http_route: Option<String>,
    pub http_response_status_code: Option<i64>,
    pub url_full: Option<String>,
    pub server_address: Option<String>,
    pub server_port: Option<i64>,
    pub db_system: Option<String>,
    pub db_namespace: Option<String>,
    pub db_operation_name: Option<String>,
    pub db_query_text: Option<String>,
    pub rpc_system: Option<String>,
    pub rpc_service: Option<String>,
    pub rpc_method: Option<String>,
    pub messaging_system: Option<String>,
    pub messaging_destination_name: Option<String>,
    pub messaging_operation: Option<String>,
    pub peer_service: Option<String>,
    pub enduser_id: Option<String>,
    pub session_id: Option<String>,
    /// Every span attribute, as a JSON object (the columns above are copies for filtering).
    pub attributes: String,
    /// JSON array of `{"time_unix_nano","name","attributes","dropped_attributes_count"}`.
    pub events: String,
    /// JSON array of `{"trace_id","span_id","trace_state","attributes","flags","dropped_attributes_count"}`.
    pub links: String,
    pub dropped_attributes_count: u32,
    pub dropped_events_count: u32,
    pub dropped_links_count: u32,
}

/// Parsed form of [`SpanRow::events`], for readers.
pub type Events = Vec<serde_json::Value>;

/// One log record. A body that is not a string is stored as JSON text with `body_type` "json".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogRow {
    pub time_unix_nano: i64,
    pub observed_time_unix_nano: i64,
    pub trace_id: String,
    pub span_id: String,
    pub flags: u32,
    pub severity_number: i32,
    pub severity_text: String,
    pub body: String,
    /// `string`, `json` (map, array, number, bool as JSON) or `empty`.
    pub body_type: String,
    pub event_name: String,
    /// Shared by the records of one resource and scope in a request.
    #[serde(flatten)]
    pub resource: std::sync::Arc<Resource>,
    /// Every log attribute, as a JSON object.
    pub attributes: String,
    pub dropped_attributes_count: u32,
    /// Template id given by Log AI at ingest, when it understood the body.
    pub log_template_id: Option<String>,
    pub log_template: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    Gauge,
    Sum,
    Histogram,
    ExponentialHistogram,
    Summary,
}

impl MetricType {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Gauge => "gauge",
            MetricType::Sum => "sum",
            MetricType::Histogram => "histogram",
            MetricType::ExponentialHistogram => "exponential_histogram",
            MetricType::Summary => "summary",
        }
    }

    pub fn parse(s: &str) -> Option<MetricType> {
        [
            MetricType::Gauge,
            MetricType::Sum,
            MetricType::Histogram,
            MetricType::ExponentialHistogram,
            MetricType::Summary,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// One metric data point of any type; fields that do not apply to its type are empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricPointRow {
    pub time_unix_nano: i64,
    pub start_time_unix_nano: i64,
    pub metric_name: String,
    /// A [`MetricType`] name.
    pub metric_type: String,
    pub unit: String,
    pub description: String,
    /// Metadata of the metric, as a JSON object.
    pub metric_metadata: String,
    #[serde(flatten)]
    pub resource: Resource,
    pub attributes: String,
    /// 0 unspecified, 1 delta, 2 cumulative.
    pub aggregation_temporality: i32,
    pub is_monotonic: bool,
    pub flags: u32,
    /// Gauge and sum value as a float (also set for integer points).
    pub value: Option<f64>,
    /// Set when the gauge or sum point was an integer.
    pub value_int: Option<i64>,
    pub count: Option<u64>,
    pub sum: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub bucket_counts: Vec<u64>,
    pub explicit_bounds: Vec<f64>,
    pub exp_scale: Option<i32>,
    pub exp_zero_count: Option<u64>,
    pub exp_zero_threshold: Option<f64>,
    pub exp_positive_offset: Option<i32>,
    pub exp_positive_bucket_counts: Vec<u64>,
    pub exp_negative_offset: Option<i32>,
    pub exp_negative_bucket_counts: Vec<u64>,
    pub quantiles: Vec<f64>,
    pub quantile_values: Vec<f64>,
    /// JSON array of exemplars.
    pub exemplars: String,
}

/// The rows of one accepted request.
#[derive(Debug, Clone, PartialEq)]
pub enum Batch {
    Spans(Vec<SpanRow>),
    Logs(Vec<LogRow>),
    Metrics(Vec<MetricPointRow>),
}

impl Batch {
    pub fn signal(&self) -> crate::Signal {
        match self {
            Batch::Spans(_) => crate::Signal::Spans,
            Batch::Logs(_) => crate::Signal::Logs,
            Batch::Metrics(_) => crate::Signal::Metrics,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Batch::Spans(r) => r.len(),
            Batch::Logs(r) => r.len(),
            Batch::Metrics(r) => r.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
