//! Typed questions and answers of the query service (the JSON shapes of the API).

use model::TimeRange;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Serialize)]
pub struct ServiceSummary {
    pub name: String,
    pub spans: u64,
    pub logs: u64,
    pub metric_points: u64,
    pub last_seen_unix_nano: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServicesResponse {
    pub services: Vec<ServiceSummary>,
}

/// Filters of a trace search; a trace matches when one of its spans matches all of them.
#[derive(Debug, Clone)]
pub struct TraceSearch {
    pub range: TimeRange,
    pub service: Option<String>,
    pub operation: Option<String>,
    pub errors_only: bool,
    pub min_duration_ns: Option<i64>,
    pub max_duration_ns: Option<i64>,
    pub attributes: Vec<(String, String)>,
    pub order: TraceOrder,
    pub limit: usize,
    pub offset: usize,
}

/// How a trace search lists its traces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TraceOrder {
    /// By their latest matching span, newest first.
    #[default]
    Newest,
    /// By their duration (first span's start to last span's end), longest first.
    Longest,
}

#[derive(Debug, Clone, Serialize)]
pub struct TraceSummary {
    pub trace_id: String,
    pub root_service: String,
    pub root_name: String,
    pub start_time_unix_nano: i64,
    pub duration_ns: i64,
    pub span_count: u64,
    pub error_count: u64,
    pub services: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TracesPage {
    pub traces: Vec<TraceSummary>,
    pub next_cursor: Option<String>,
}

/// All traces matching a search over its range (`/api/v1/traces/scatter`): counts per step and
/// a sample of points spread over every step.
#[derive(Debug, Clone, Serialize)]
pub struct TraceScatter {
    pub step_ns: i64,
    /// Traces matching the search whose first span starts in the range.
    pub total: u64,
    /// Of those, the traces with an error span.
    pub errors: u64,
    /// Whether `points` holds fewer traces than `total`.
    pub sampled: bool,
    /// Non-empty steps in time order.
    pub buckets: Vec<TraceBucket>,
    /// In order of start.
    pub points: Vec<TracePoint>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TraceBucket {
    /// Start of the step, unix ns.
    pub t: i64,
    pub count: u64,
    pub errors: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TracePoint {
    pub trace_id: String,
    pub start_time_unix_nano: i64,
    pub duration_ns: i64,
    pub error: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SpanDetail {
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub service_name: String,
    pub name: String,
    pub kind: String,
    pub start_time_unix_nano: i64,
    pub end_time_unix_nano: i64,
    pub duration_ns: i64,
    pub status_code: String,
    pub status_message: String,
    pub trace_state: String,
    pub flags: u32,
    pub scope_name: String,
    pub scope_version: String,
    pub attributes: Value,
    pub resource_attributes: Value,
    pub events: Value,
    pub links: Value,
    pub dropped_attributes_count: u32,
    pub dropped_events_count: u32,
    pub dropped_links_count: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct TraceDetail {
    pub trace_id: String,
    pub spans: Vec<SpanDetail>,
}

#[derive(Debug, Clone)]
pub struct LogSearch {
    pub range: TimeRange,
    pub service: Option<String>,
    pub severity_min: Option<i32>,
    pub text: Option<String>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub template_id: Option<String>,
    pub attributes: Vec<(String, String)>,
    pub limit: usize,
    pub offset: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct LogRecord {
    /// Id for `/api/v1/logs/{record_id}/structure`.
    pub record_id: String,
    pub time_unix_nano: i64,
    pub observed_time_unix_nano: i64,
    pub service_name: String,
    pub severity_number: i32,
    pub severity_text: String,
    pub body: Value,
    pub attributes: Value,
    pub resource_attributes: Value,
    pub trace_id: String,
    pub span_id: String,
    pub flags: u32,
    pub event_name: String,
    pub scope_name: String,
    pub scope_version: String,
    pub log_template_id: Option<String>,
    pub log_template: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LogsPage {
    pub records: Vec<LogRecord>,
    pub next_cursor: Option<String>,
}

/// Records per time step and severity band (`/api/v1/logs/histogram`).
#[derive(Debug, Clone, Serialize)]
pub struct LogHistogram {
    pub step_ns: i64,
    /// Records matching the filters in the whole range.
    pub total: u64,
    /// Non-empty buckets in time order.
    pub buckets: Vec<LogBucket>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LogBucket {
    /// Start of the step, unix ns.
    pub t: i64,
    /// `FATAL`, `ERROR`, `WARN`, `INFO`, `DEBUG`, `TRACE` or `UNSET`.
    pub severity: String,
    pub count: u64,
}

/// Counts per value of the log filters' fields (`/api/v1/logs/facets`).
#[derive(Debug, Clone, Serialize)]
pub struct LogFacets {
    /// Under every filter but the service, most records first.
    pub services: Vec<FacetValue>,
    /// Under every filter but the severity, most severe band first.
    pub severities: Vec<FacetValue>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricInfo {
    pub name: String,
    #[serde(rename = "type")]
    pub metric_type: String,
    pub unit: String,
    pub description: String,
    pub services: Vec<String>,
    pub points: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricsList {
    pub metrics: Vec<MetricInfo>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregation {
    Sum,
    Avg,
    Min,
    Max,
    Rate,
    Quantile(u32),
}

impl Aggregation {
    pub fn parse(s: &str) -> Option<Aggregation> {
        Some(match s {
            "sum" => Aggregation::Sum,
            "avg" => Aggregation::Avg,
            "min" => Aggregation::Min,
            "max" => Aggregation::Max,
            "rate" => Aggregation::Rate,
            "p50" => Aggregation::Quantile(50),
            "p90" => Aggregation::Quantile(90),
            "p95" => Aggregation::Quantile(95),
            "p99" => Aggregation::Quantile(99),
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct MetricQuery {
    pub range: TimeRange,
    pub name: String,
    pub agg: Aggregation,
    pub group_by: Vec<String>,
    pub step_ns: i64,
    pub service: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub labels: serde_json::Map<String, Value>,
    /// `[time_unix_nano, value]` pairs, one per step that has data.
    pub points: Vec<(i64, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricSeries {
    pub name: String,
    #[serde(rename = "type")]
    pub metric_type: String,
    pub unit: String,
    pub agg: String,
    pub step_ns: i64,
    pub series: Vec<Series>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SqlResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    pub truncated: bool,
}
