//! Rules, alerts, history and silences under `/api/v1`, and the Prometheus API's
//! `/prometheus/api/v1/rules` and `/alerts` (which Grafana's Prometheus data source calls):
//! a thin adapter over [`::alerts::Alerts`].

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde_json::json;

use crate::params::{Params, opt};
use crate::{ApiError, ApiState};

type ApiResult = Result<Response, ApiError>;

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/rules", get(rules).post(add_rules))
        .route("/api/v1/rules/{group}", delete(delete_group))
        .route("/api/v1/alerts", get(alerts))
        .route("/api/v1/alerts/history", get(history))
        .route("/api/v1/silences", get(silences).post(add_silence))
        .route("/api/v1/silences/{id}", delete(expire_silence))
        .route("/prometheus/api/v1/rules", get(prometheus_rules))
        .route("/prometheus/api/v1/alerts", get(prometheus_alerts))
}

fn now_ms() -> i64 {
    model::now_unix_nano() / 1_000_000
}

fn engine(state: &ApiState) -> Result<Arc<::alerts::Alerts>, ApiError> {
    state.alerts.clone().ok_or_else(|| {
        ApiError::NotFound("alerting is not enabled on this server ([alerts] enabled)".to_string())
    })
}

async fn rules(State(state): State<ApiState>) -> ApiResult {
    Ok(Json(engine(&state)?.rules_view()).into_response())
}

/// 400 with the problems found, as `{"error": {"code": "invalid_rules", "message", "details"}}`.
fn invalid_rules(problems: &[::alerts::Problem]) -> Response {
    let details: Vec<serde_json::Value> = problems
        .iter()
        .map(|p| json!({"group": p.group, "rule": p.rule, "field": p.field, "message": p.message}))
        .collect();
    let message = match problems {
        [one] => one.to_string(),
        [first, ..] => format!("{first} (and {} more problems)", problems.len() - 1),
        [] => "invalid rules".to_string(),
    };
    let body = json!({"error": {"code": "invalid_rules", "message": message, "details": details}});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

async fn add_rules(
    State(state): State<ApiState>,
    Query(p): Query<Params>,
    body: Bytes,
) -> ApiResult {
    let engine = engine(&state)?;
    let dry_run = match opt(&p, "dry_run") {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(_) => return Err(ApiError::bad("dry_run", "use true or false")),
    };
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::BadRequest("the rule file is not UTF-8".to_string()))?;
    match engine.add_rules(text, dry_run, now_ms()).await {
        Ok(groups) => Ok(Json(json!({ "groups": groups })).into_response()),
        Err(problems) => Ok(invalid_rules(&problems)),
    }
}

async fn delete_group(State(state): State<ApiState>, Path(group): Path<String>) -> ApiResult {
    if engine(&state)?.delete_group(&group, now_ms()).await {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::NotFound(format!(
            "no rule group '{group}' was added through the API"
        )))
    }
}

async fn alerts(State(state): State<ApiState>, Query(p): Query<Params>) -> ApiResult {
    let engine = engine(&state)?;
    let state_filter = match opt(&p, "state") {
        None | Some("all") => None,
        Some("firing") => Some(::alerts::AlertState::Firing),
        Some("pending") => Some(::alerts::AlertState::Pending),
        Some(_) => return Err(ApiError::bad("state", "use firing or pending")),
    };
    let filter = ::alerts::AlertFilter {
        state: state_filter,
        service: opt(&p, "service").map(str::to_string),
    };
    let list = engine.alerts_view(&filter, now_ms());
    Ok(Json(json!({ "alerts": list })).into_response())
}

/// A time in unix milliseconds, or as the other endpoints take it (`now-1h`, RFC 3339).
fn time_ms(p: &Params, key: &str) -> Result<Option<i64>, ApiError> {
    let Some(v) = opt(p, key) else {
        return Ok(None);
    };
    if let Ok(ms) = v.parse::<i64>() {
        return Ok(Some(ms));
    }
    model::parse_time(v, model::now_unix_nano())
        .map(|ns| Some(ns / 1_000_000))
        .map_err(|e| ApiError::bad(key, e.to_string()))
}

async fn history(State(state): State<ApiState>, Query(p): Query<Params>) -> ApiResult {
    let engine = engine(&state)?;
    let limit = match opt(&p, "limit") {
        None => 500,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| ApiError::bad("limit", "a number from 1 to 10000"))?,
    };
    let filter = ::alerts::HistoryFilter {
        start_ms: time_ms(&p, "start")?,
        end_ms: time_ms(&p, "end")?,
        rule: opt(&p, "rule").map(str::to_string),
        service: opt(&p, "service").map(str::to_string),
        limit,
    };
    Ok(Json(json!({ "events": engine.history(&filter) })).into_response())
}

async fn silences(State(state): State<ApiState>) -> ApiResult {
    let list = engine(&state)?.silences_view(now_ms());
    Ok(Json(json!({ "silences": list })).into_response())
}

async fn add_silence(State(state): State<ApiState>, body: Bytes) -> ApiResult {
    let engine = engine(&state)?;
    let spec: ::alerts::SilenceSpec = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("not a silence: {e}")))?;
    let id = engine
        .add_silence(spec, now_ms())
        .await
        .map_err(ApiError::BadRequest)?;
    Ok(Json(json!({ "id": id })).into_response())
}

async fn expire_silence(State(state): State<ApiState>, Path(id): Path<String>) -> ApiResult {
    if engine(&state)?.expire_silence(&id, now_ms()).await {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::NotFound(format!("no silence '{id}'")))
    }
}

/// Prometheus' envelope; without alerting, empty lists (Grafana asks whatever the server).
fn prometheus(data: serde_json::Value) -> Response {
    Json(json!({"status": "success", "data": data})).into_response()
}

async fn prometheus_rules(State(state): State<ApiState>) -> Response {
    match &state.alerts {
        Some(a) => prometheus(a.prometheus_rules()),
        None => prometheus(json!({"groups": []})),
    }
}

async fn prometheus_alerts(State(state): State<ApiState>) -> Response {
    match &state.alerts {
        Some(a) => prometheus(a.prometheus_alerts()),
        None => prometheus(json!({"alerts": []})),
    }
}
