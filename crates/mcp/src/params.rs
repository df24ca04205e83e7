//! Tool arguments. Doc comments become the JSON schema descriptions agents read.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::error::ToolError;
use crate::window::TimeArg;

/// A limit from the arguments: the default when absent, an error beyond the hard cap.
pub fn limit(value: Option<u32>, default: usize, max: usize) -> Result<usize, ToolError> {
    match value {
        None => Ok(default),
        Some(0) => Err(ToolError::bad("limit", format!("must be 1 to {max}"))),
        Some(n) if n as usize > max => Err(ToolError::bad(
            "limit",
            format!("{n} is above the hard cap of {max}; page with `cursor` instead"),
        )),
        Some(n) => Ok(n as usize),
    }
}

/// A string argument, with empty strings treated as absent.
pub fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct WindowArgs {
    /// Start of the time range: `now-15m`, `now-1h`, `now-24h`, an RFC 3339 time, or unix nanoseconds. Default: one hour before `to`.
    pub from: Option<TimeArg>,
    /// End of the time range, same forms as `from`. Default: now.
    pub to: Option<TimeArg>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ListServicesArgs {
    #[serde(flatten)]
    pub window: WindowArgs,
    /// Rows to show (default 30, max 200).
    pub limit: Option<u32>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ServiceArgs {
    /// The service name (its `service.name`), e.g. `checkout`.
    pub service: String,
    #[serde(flatten)]
    pub window: WindowArgs,
    /// Rows per section (default 5, max 20).
    pub limit: Option<u32>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct FindTracesArgs {
    #[serde(flatten)]
    pub window: WindowArgs,
    /// Only traces with a span of this service.
    pub service: Option<String>,
    /// Only traces with a span of this operation: span name, HTTP route or RPC method.
    pub operation: Option<String>,
    /// `error` for traces with a failing span; leave out for all.
    pub status: Option<String>,
    /// Only traces with a matching span at least this long (milliseconds).
    pub min_duration_ms: Option<f64>,
    /// Attribute filters on spans, e.g. `{"http.route": "/cart", "http.response.status_code": "500"}`.
    pub attributes: Option<BTreeMap<String, String>>,
    /// `newest` (default) or `longest`: the slowest traces first, by trace duration.
    pub sort: Option<String>,
    /// Traces per page (default 20, max 100).
    pub limit: Option<u32>,
    /// The cursor from a previous answer's "more:" line, for the next page.
    pub cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct GetTraceArgs {
    /// The trace id: 32 hexadecimal characters.
    pub trace_id: String,
    /// `digest` (default): critical path, error path, collapsed repeats, key attributes. `full`: every span as table rows, paged.
    pub detail: Option<String>,
    /// With detail=full: spans per page (default 40, max 200).
    pub limit: Option<u32>,
    /// With detail=full: the cursor from the previous page's "more:" line.
    pub cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct SearchLogsArgs {
    #[serde(flatten)]
    pub window: WindowArgs,
    /// Only records of this service.
    pub service: Option<String>,
    /// Minimum severity: TRACE, DEBUG, INFO, WARN, ERROR, FATAL or a number 1-24.
    pub severity_min: Option<String>,
    /// Case-insensitive text the body must contain.
    pub q: Option<String>,
    /// Only records of this trace (32 hex characters).
    pub trace_id: Option<String>,
    /// Only records of this Log AI template id (from log_patterns).
    pub template_id: Option<String>,
    /// Attribute filters, e.g. `{"http.route": "/cart"}`.
    pub attributes: Option<BTreeMap<String, String>>,
    /// Records per page (default 30, max 200).
    pub limit: Option<u32>,
    /// The cursor from a previous answer's "more:" line, for the next page.
    pub cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct LogPatternsArgs {
    #[serde(flatten)]
    pub window: WindowArgs,
    /// Only patterns of this service.
    pub service: Option<String>,
    /// Patterns to show (default 20, max 100).
    pub limit: Option<u32>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct DependenciesArgs {
    #[serde(flatten)]
    pub window: WindowArgs,
    /// Focus on this service (or database/queue/host node): its edges and its blast radius.
    pub service: Option<String>,
    /// Edges to show (default 30, max 200).
    pub limit: Option<u32>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ListMetricsArgs {
    #[serde(flatten)]
    pub window: WindowArgs,
    /// Only metrics whose name contains this text (case-insensitive).
    pub name_contains: Option<String>,
    /// Only metrics reported by this service.
    pub service: Option<String>,
    /// Metrics to show (default 40, max 200).
    pub limit: Option<u32>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct QueryMetricArgs {
    /// The metric name, as listed by list_metrics.
    pub name: String,
    #[serde(flatten)]
    pub window: WindowArgs,
    /// sum, avg (default), min, max, rate (per second, for counters), p50, p90, p95, p99 (histograms).
    pub agg: Option<String>,
    /// Attribute keys to split series by, e.g. `["service.name", "http.route"]`.
    pub group_by: Option<Vec<String>>,
    /// Step between points, e.g. `1m`, `5m` (default: about 120 points over the range).
    pub step: Option<String>,
    /// Only points of this service.
    pub service: Option<String>,
    /// Series to show (default 20, max 100).
    pub limit: Option<u32>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct RunSqlArgs {
    /// One read-only SQL query (SELECT / WITH / EXPLAIN / SHOW / DESCRIBE).
    pub query: String,
    /// Rows to show (default 50, max 500).
    pub limit: Option<u32>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct TriageArgs {
    #[serde(flatten)]
    pub window: WindowArgs,
    /// The service showing the symptom, if known; triage then follows its dependencies.
    pub service: Option<String>,
    /// Candidates to show (default 10, max 30).
    pub limit: Option<u32>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct AlertsArgs {
    /// The time range of `show: history`.
    #[serde(flatten)]
    pub window: WindowArgs,
    /// `firing` (default), `pending`, `active` (both), `rules` or `history`.
    pub show: Option<String>,
    /// Only alerts (or history) of this service.
    pub service: Option<String>,
    /// Rows to show (default 20, max 200).
    pub limit: Option<u32>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct FindSessionsArgs {
    #[serde(flatten)]
    pub window: WindowArgs,
    /// Only sessions of this browser application (its `service.name`).
    pub service: Option<String>,
    /// Only sessions of this user (`user.id` set with identify).
    pub user: Option<String>,
    /// Only sessions with at least one browser error.
    pub has_errors: Option<bool>,
    /// Leave out bots and test browsers (user_agent.synthetic.type).
    pub exclude_synthetic: Option<bool>,
    /// Rows to show (default 20, max 200).
    pub limit: Option<u32>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct GetSessionArgs {
    /// The session id (`session.id`), from find_sessions or an error's breadcrumbs.
    pub session_id: String,
    /// Where to look for it (default: the last 24 hours).
    #[serde(flatten)]
    pub window: WindowArgs,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct WebErrorsArgs {
    #[serde(flatten)]
    pub window: WindowArgs,
    /// Only errors of this browser application (its `service.name`).
    pub service: Option<String>,
    /// One error group (16 hex digits, from the list): its stack and breadcrumbs.
    pub fingerprint: Option<String>,
    /// Rows to show (default 20, max 200).
    pub limit: Option<u32>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct WebVitalsArgs {
    #[serde(flatten)]
    pub window: WindowArgs,
    /// Only this browser application (its `service.name`).
    pub service: Option<String>,
    /// `none` (default), `route`, `release`, `device` or `browser`.
    pub group_by: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct UsageArgs {
    #[serde(flatten)]
    pub window: WindowArgs,
    /// What to count by: `service` (default), `scope`, `span_name`, `log_template`,
    /// `metric_name` or `attribute_key`.
    pub group_by: Option<String>,
    /// Only `spans`, `logs` or `metrics`.
    pub signal: Option<String>,
    /// Only this service.
    pub service: Option<String>,
    /// Rows to show (default 20, max 200).
    pub limit: Option<u32>,
}
