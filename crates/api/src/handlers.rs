//! Route handlers: parse, ask the query service, answer JSON.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use model::TimeRange;
use query::{Aggregation, LogSearch, MetricQuery, TraceOrder, TraceSearch};
use serde::Deserialize;
use serde_json::Value;

use crate::params::{self, Params, opt};
use crate::{ApiError, ApiState, OPENAPI};

type ApiResult = Result<Response, ApiError>;

fn json<T: serde::Serialize>(v: &T) -> ApiResult {
    Ok(Json(v).into_response())
}

pub async fn openapi() -> Response {
    let mut r = OPENAPI.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub async fn not_found() -> ApiError {
    ApiError::NotFound("no such route; see /api/v1/openapi.json".to_string())
}

pub async fn status(State(state): State<ApiState>) -> ApiResult {
    let extra = state.status.as_ref().map(|f| f()).unwrap_or(Value::Null);
    json(
        &serde_json::json!({"version": env!("CARGO_PKG_VERSION"), "now_unix_nano": model::now_unix_nano(), "status": extra}),
    )
}

pub async fn services(State(state): State<ApiState>, Query(p): Query<Params>) -> ApiResult {
    let range = params::time_range(&p)?;
    json(&state.query.services(range).await?)
}

pub async fn traces(State(state): State<ApiState>, Query(p): Query<Params>) -> ApiResult {
    let (range, offset) = params::window(&p)?;
    let search = trace_search(&p, range, params::limit(&p, 20, 1000)?, offset)?;
    json(&state.query.search_traces(&search).await?)
}

/// Counts of all matching traces per step and a sample of them spread over the range.
pub async fn trace_scatter(State(state): State<ApiState>, Query(p): Query<Params>) -> ApiResult {
    let range = params::time_range(&p)?;
    let step = params::step(&p, range)?;
    let search = trace_search(&p, range, 0, 0)?;
    let points = params::limit(&p, 1000, 5000)?;
    json(&state.query.trace_scatter(&search, step, points).await?)
}

fn trace_search(
    p: &Params,
    range: TimeRange,
    limit: usize,
    offset: usize,
) -> Result<TraceSearch, ApiError> {
    let errors_only = match opt(p, "status") {
        None | Some("any") | Some("all") => false,
        Some("error") | Some("ERROR") => true,
        Some(_) => return Err(ApiError::bad("status", "use 'error' or leave it out")),
    };
    let order = match opt(p, "sort") {
        None | Some("newest") => TraceOrder::Newest,
        Some("longest") => TraceOrder::Longest,
        Some(_) => return Err(ApiError::bad("sort", "use 'newest' or 'longest'")),
    };
    Ok(TraceSearch {
        range,
        service: opt(p, "service").map(str::to_string),
        operation: opt(p, "operation").map(str::to_string),
        errors_only,
        min_duration_ns: params::duration_ms(p, "min_duration_ms")?,
        max_duration_ns: params::duration_ms(p, "max_duration_ms")?,
        attributes: params::attributes(p),
        order,
        limit,
        offset,
    })
}

pub async fn trace(State(state): State<ApiState>, Path(trace_id): Path<String>) -> ApiResult {
    json(&state.query.get_trace(&trace_id).await?)
}

/// The filters of `/api/v1/logs`, shared by its histogram, facets and patterns.
fn log_search(
    p: &Params,
    range: TimeRange,
    limit: usize,
    offset: usize,
) -> Result<LogSearch, ApiError> {
    let trace_id = opt(p, "trace_id").map(str::to_string);
    if let Some(t) = &trace_id
        && (t.len() != 32 || !t.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(ApiError::bad(
            "trace_id",
            "must be 32 hexadecimal characters",
        ));
    }
    Ok(LogSearch {
        range,
        service: opt(p, "service").map(str::to_string),
        severity_min: params::severity(p, "severity_min")?,
        text: opt(p, "q").map(str::to_string),
        trace_id,
        span_id: opt(p, "span_id").map(str::to_string),
        template_id: opt(p, "template_id").map(str::to_string),
        attributes: params::attributes(p),
        limit,
        offset,
    })
}

pub async fn logs(State(state): State<ApiState>, Query(p): Query<Params>) -> ApiResult {
    let (range, offset) = params::window(&p)?;
    let search = log_search(&p, range, params::limit(&p, 100, 1000)?, offset)?;
    json(&state.query.search_logs(&search).await?)
}

pub async fn log_histogram(State(state): State<ApiState>, Query(p): Query<Params>) -> ApiResult {
    let range = params::time_range(&p)?;
    let step = params::step(&p, range)?;
    let search = log_search(&p, range, 0, 0)?;
    json(&state.query.log_histogram(&search, step).await?)
}

pub async fn log_facets(State(state): State<ApiState>, Query(p): Query<Params>) -> ApiResult {
    let range = params::time_range(&p)?;
    let search = log_search(&p, range, 0, 0)?;
    json(&state.query.log_facets(&search).await?)
}

pub async fn red(State(state): State<ApiState>, Query(p): Query<Params>) -> ApiResult {
    let range = params::time_range(&p)?;
    let step = params::step(&p, range)?;
    json(
        &state
            .query
            .red(range, opt(&p, "service"), opt(&p, "operation"), step)
            .await?,
    )
}

pub async fn service_map(State(state): State<ApiState>, Query(p): Query<Params>) -> ApiResult {
    let range = params::time_range(&p)?;
    json(&state.query.service_map(range).await?)
}

pub async fn blast_radius(State(state): State<ApiState>, Query(p): Query<Params>) -> ApiResult {
    let range = params::time_range(&p)?;
    let service = opt(&p, "service").ok_or_else(|| ApiError::bad("service", "is required"))?;
    json(
        &state
            .query
            .blast_radius(range, service, opt(&p, "operation"))
            .await?,
    )
}

pub async fn log_patterns(State(state): State<ApiState>, Query(p): Query<Params>) -> ApiResult {
    let range = params::time_range(&p)?;
    let limit = params::limit(&p, 50, 500)?;
    let filter = log_search(&p, range, 0, 0)?;
    json(&state.query.log_patterns(&filter, limit).await?)
}

pub async fn log_structure(
    State(state): State<ApiState>,
    Path(record_id): Path<String>,
) -> ApiResult {
    json(&state.query.log_structure(&record_id).await?)
}

pub async fn metrics(State(state): State<ApiState>, Query(p): Query<Params>) -> ApiResult {
    let range = params::time_range(&p)?;
    json(&state.query.list_metrics(range).await?)
}

pub async fn metric_query(State(state): State<ApiState>, Query(p): Query<Params>) -> ApiResult {
    let range = params::time_range(&p)?;
    let name = opt(&p, "name").ok_or_else(|| ApiError::bad("name", "is required"))?;
    let agg = match opt(&p, "agg") {
        None => Aggregation::Avg,
        Some(a) => Aggregation::parse(a).ok_or_else(|| {
            ApiError::bad("agg", "use sum, avg, min, max, rate, p50, p90, p95 or p99")
        })?,
    };
    let group_by = opt(&p, "group_by")
        .map(|g| {
            g.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let q = MetricQuery {
        range,
        name: name.to_string(),
        agg,
        group_by,
        step_ns: params::step(&p, range)?,
        service: opt(&p, "service").map(str::to_string),
    };
    json(&state.query.query_metric(&q).await?)
}

#[derive(Deserialize)]
pub struct SqlBody {
    query: String,
}

/// Takes `{"query": "..."}` whatever the content type says, so `curl -d` works too.
pub async fn sql(State(state): State<ApiState>, body: axum::body::Bytes) -> ApiResult {
    let body: SqlBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad(
            "query",
            format!("send a JSON body {{\"query\": \"...\"}}: {e}"),
        )
    })?;
    if body.query.trim().is_empty() {
        return Err(ApiError::bad("query", "is empty"));
    }
    json(&state.query.sql(&body.query).await?)
}

/// Root-cause candidates for a window (default: the last 15 minutes) against a baseline
/// (default: the three window lengths before it).
pub async fn triage(State(state): State<ApiState>, Query(p): Query<Params>) -> ApiResult {
    let mut p = p;
    if opt(&p, "from").is_none() {
        p.insert("from".into(), "now-15m".into());
    }
    let window = params::time_range(&p)?;
    let baseline = match (opt(&p, "baseline_from"), opt(&p, "baseline_to")) {
        (None, None) => None,
        (from, to) => {
            let now = model::now_unix_nano();
            let parse = |key: &str, v: Option<&str>, default: i64| match v {
                Some(t) => model::parse_time(t, now).map_err(|e| ApiError::bad(key, e.to_string())),
                None => Ok(default),
            };
            let end = parse("baseline_to", to, window.start_ns)?;
            let start = parse("baseline_from", from, end - window.len_ns() * 3)?;
            Some(
                model::TimeRange::new(start, end)
                    .map_err(|_| ApiError::bad("baseline_from", "must be before 'baseline_to'"))?,
            )
        }
    };
    let service = opt(&p, "service");
    json(&state.query.triage(window, baseline, service).await?)
}
