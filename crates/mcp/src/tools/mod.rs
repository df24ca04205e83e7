//! The MCP tools: thin adapters from tool arguments to API calls and compact markdown.
//! Each description says when to use the tool, so an agent can pick without trying them all.

mod alerts;
mod logs;
mod metrics;
mod services;
mod sql;
mod traces;
mod triage;
mod usage;
mod web;

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router};
use serde_json::Value;

use crate::ctx::Ctx;
use crate::error::ToolError;
use crate::params::*;

/// The redscope MCP server: read-only tools over one backend.
#[derive(Clone)]
pub struct RedscopeMcp {
    pub(crate) ctx: Arc<Ctx>,
    pub(crate) tool_router: ToolRouter<RedscopeMcp>,
}

/// Tool errors become `isError` results whose text the agent reads.
fn answer(result: Result<String, ToolError>) -> Result<String, String> {
    result.map_err(|e| e.to_string())
}

#[tool_router]
impl RedscopeMcp {
    pub(crate) fn with_ctx(ctx: Ctx) -> Self {
        RedscopeMcp {
            ctx: Arc::new(ctx),
            tool_router: Self::tool_router(),
        }
    }

    /// Lists services that sent telemetry in a time range, with RED per service (request rate,
    /// error %, p50/p99 latency of entry spans) and span/log/metric counts. Use it FIRST to
    /// learn service names and spot the unhealthy ones; then service_overview on one of them.
    #[tool(annotations(read_only_hint = true))]
    async fn list_services(
        &self,
        Parameters(args): Parameters<ListServicesArgs>,
    ) -> Result<String, String> {
        answer(services::list_services(&self.ctx, args).await)
    }

    /// One service at a glance: its RED, top operations, upstream callers and downstream
    /// dependencies (with their RED), recent error traces and its most frequent log patterns.
    /// Use it when a service is suspected (from list_services, an alert or a user report).
    #[tool(annotations(read_only_hint = true))]
    async fn service_overview(
        &self,
        Parameters(args): Parameters<ServiceArgs>,
    ) -> Result<String, String> {
        answer(services::service_overview(&self.ctx, args).await)
    }

    /// Searches traces (newest first) by service, operation (span name, HTTP route or RPC
    /// method), status=error, minimum duration and span attributes. Use it to find example
    /// traces of a failure or slowness, then get_trace on a trace_id. Paged with `cursor`.
    #[tool(annotations(read_only_hint = true))]
    async fn find_traces(
        &self,
        Parameters(args): Parameters<FindTracesArgs>,
    ) -> Result<String, String> {
        answer(traces::find_traces(&self.ctx, args).await)
    }

    /// Explains one trace. By default a digest that fits any trace (even thousands of spans)
    /// in a few thousand tokens: the critical path (what determined the duration), the error
    /// path from the likely origin up to the root, repeated sibling spans collapsed with
    /// count/total/max (N+1 queries), and key attributes. Use detail="full" only when you
    /// need every span's ids and timings (paged).
    #[tool(annotations(read_only_hint = true))]
    async fn get_trace(
        &self,
        Parameters(args): Parameters<GetTraceArgs>,
    ) -> Result<String, String> {
        answer(traces::get_trace(&self.ctx, args).await)
    }

    /// Searches log records (newest first) by service, minimum severity, body text (`q`),
    /// trace id, Log AI template id and attributes. Use it to read the actual messages around
    /// a failure, or the logs of one trace (trace_id). For an overview of what is being
    /// logged, log_patterns is cheaper. Paged with `cursor`.
    #[tool(annotations(read_only_hint = true))]
    async fn search_logs(
        &self,
        Parameters(args): Parameters<SearchLogsArgs>,
    ) -> Result<String, String> {
        answer(logs::search_logs(&self.ctx, args).await)
    }

    /// Groups logs into Log AI templates with counts, a trend, and the change against the
    /// previous period of equal length (new patterns, surges). Use it to see what changed in
    /// the logs during an incident without reading thousands of lines.
    #[tool(annotations(read_only_hint = true))]
    async fn log_patterns(
        &self,
        Parameters(args): Parameters<LogPatternsArgs>,
    ) -> Result<String, String> {
        answer(logs::log_patterns(&self.ctx, args).await)
    }

    /// The service graph derived from traces: caller → callee edges with RED, including
    /// uninstrumented dependencies (databases, queues, external hosts) seen from client spans.
    /// With `service`: only its edges, plus its blast radius (upstream services, entry points,
    /// traces, users and sessions that depend on it). Use it to follow a failure upstream or
    /// downstream, or to judge impact.
    #[tool(annotations(read_only_hint = true))]
    async fn get_dependencies(
        &self,
        Parameters(args): Parameters<DependenciesArgs>,
    ) -> Result<String, String> {
        answer(services::get_dependencies(&self.ctx, args).await)
    }

    /// Lists metric names with type, unit, the services reporting them and point counts. Use
    /// it before query_metric to find the right name (filter with name_contains/service).
    #[tool(annotations(read_only_hint = true))]
    async fn list_metrics(
        &self,
        Parameters(args): Parameters<ListMetricsArgs>,
    ) -> Result<String, String> {
        answer(metrics::list_metrics(&self.ctx, args).await)
    }

    /// Queries one metric over time with an aggregation (sum, avg, min, max, rate, p50-p99)
    /// and optional group_by, and summarises each series as min/avg/max/last with a sparkline
    /// instead of raw points. Use it for resource saturation (CPU, memory, pools, queues) and
    /// business metrics.
    #[tool(annotations(read_only_hint = true))]
    async fn query_metric(
        &self,
        Parameters(args): Parameters<QueryMetricArgs>,
    ) -> Result<String, String> {
        answer(metrics::query_metric(&self.ctx, args).await)
    }

    /// Runs one read-only SQL query (Apache DataFusion dialect) and returns a markdown table.
    /// Use it when no other tool answers the question. Tables: `spans` (start_time_unix_nano,
    /// end_time_unix_nano, duration_ns, trace_id, span_id, parent_span_id, name, kind,
    /// status_code, status_message, service_name, service_version, http_request_method,
    /// http_route, http_response_status_code, server_address, db_system, db_query_text,
    /// rpc_service, rpc_method, messaging_destination_name, peer_service, attributes JSON);
    /// `logs` (time_unix_nano, service_name, severity_number, severity_text, body, trace_id,
    /// span_id, log_template_id, log_template, attributes JSON); `metric_points`
    /// (time_unix_nano, metric_name, metric_type, unit, service_name, attributes JSON, value,
    /// count, sum, min, max). Times are unix nanoseconds; bound them to keep queries fast, e.g.
    /// `WHERE start_time_unix_nano >= 1767225600000000000`. `attr(attributes, 'key')` reads one
    /// attribute. All columns: `SELECT table_name, column_name FROM
    /// information_schema.columns`. Row and time limits apply; DDL/DML are refused.
    #[tool(annotations(read_only_hint = true))]
    async fn run_sql(&self, Parameters(args): Parameters<RunSqlArgs>) -> Result<String, String> {
        answer(sql::run_sql(&self.ctx, args).await)
    }

    /// Ranks likely root causes of a problem in a time range, without an LLM: compares the
    /// window to a baseline (error rates, latency, throughput, new or surging error log
    /// patterns, new versions), follows causality through the trace graph to the deepest
    /// anomalous components, and returns candidates with evidence, example traces and the
    /// affected entry points. Use it FIRST when something is wrong and the cause is unknown;
    /// pass `service` when you know where the symptom shows.
    #[tool(annotations(read_only_hint = true))]
    async fn triage(&self, Parameters(args): Parameters<TriageArgs>) -> Result<String, String> {
        answer(triage::triage(&self.ctx, args).await)
    }

    /// What is alerting now: firing (default) or pending alerts with severity, service, value,
    /// since when and whether silenced; `show: rules` lists the alerting rules with their
    /// health and expression, `show: history` the state changes in the window. Use it FIRST
    /// to learn what is wrong and since when, then triage or service_overview on the service.
    #[tool(annotations(read_only_hint = true))]
    async fn alerts(&self, Parameters(args): Parameters<AlertsArgs>) -> Result<String, String> {
        answer(alerts::alerts(&self.ctx, args).await)
    }

    /// Lists real users' browser sessions (newest first): start, duration, page views, errors,
    /// user, browser/OS/device, entry and exit page, bounce. Filter by user, has_errors or
    /// service. Use it to find the sessions behind a user report or an error, then get_session.
    #[tool(annotations(read_only_hint = true))]
    async fn find_sessions(
        &self,
        Parameters(args): Parameters<FindSessionsArgs>,
    ) -> Result<String, String> {
        answer(web::find_sessions(&self.ctx, args).await)
    }

    /// One browser session as a timeline: page views with their Web Vitals and requests,
    /// clicks, errors and custom events, and the trace ids of its requests (follow them into
    /// the backend with get_trace). Use it to see what a user did and experienced.
    #[tool(annotations(read_only_hint = true))]
    async fn get_session(
        &self,
        Parameters(args): Parameters<GetSessionArgs>,
    ) -> Result<String, String> {
        answer(web::get_session(&self.ctx, args).await)
    }

    /// Browser errors grouped by fingerprint (type, normalised message, top in-app frames):
    /// count, users and sessions affected, first/last seen, releases. With `fingerprint`: one
    /// group's symbolicated stack and the breadcrumbs of its latest occurrence. Use it when
    /// the web front end misbehaves or after a release.
    #[tool(annotations(read_only_hint = true))]
    async fn web_errors(
        &self,
        Parameters(args): Parameters<WebErrorsArgs>,
    ) -> Result<String, String> {
        answer(web::web_errors(&self.ctx, args).await)
    }

    /// Web Vitals (LCP, INP, CLS, FCP, TTFB) of real users as p75 with good /
    /// needs-improvement / poor shares, grouped by route, release, device or browser. Use it
    /// for "is the site slow, where, since which release, on which devices".
    #[tool(annotations(read_only_hint = true))]
    async fn web_vitals(
        &self,
        Parameters(args): Parameters<WebVitalsArgs>,
    ) -> Result<String, String> {
        answer(web::web_vitals(&self.ctx, args).await)
    }

    /// What each service sends (records, bytes, share, change against the previous period) and
    /// what it costs and will cost in a month, by service, scope, span name, log template,
    /// metric or attribute key (with cardinality), and what nobody read in 30 days. Use it for
    /// "why is our bill up", "who sends the most", "what can we drop".
    #[tool(annotations(read_only_hint = true))]
    async fn usage(&self, Parameters(args): Parameters<UsageArgs>) -> Result<String, String> {
        answer(usage::usage(&self.ctx, args).await)
    }
}

// Tolerant readers of API JSON: a missing field reads as empty or zero.

pub(crate) fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

pub(crate) fn u64_of(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or_default()
}

pub(crate) fn f64_of(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or_default()
}

pub(crate) fn opt_f64(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

/// The OpenTelemetry severity band of a severity number.
pub(crate) fn severity_name(n: i64) -> &'static str {
    i32::try_from(n)
        .ok()
        .and_then(model::severity_band)
        .unwrap_or("–")
}
