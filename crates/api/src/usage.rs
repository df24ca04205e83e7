//! `GET /api/v1/usage`: records, bytes and cost per signal and per service, scope, span name,
//! log template, metric name or attribute key, against the previous period, with what nobody
//! read by name in `unread_days`.

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use model::Signal;
use query::{UsageGroup, UsageQuery};

use crate::params::{self, Params, opt};
use crate::{ApiError, ApiState};

pub async fn usage(
    State(state): State<ApiState>,
    Query(p): Query<Params>,
) -> Result<Response, ApiError> {
    let range = params::time_range(&p)?;
    let group = match opt(&p, "group_by") {
        None => UsageGroup::Service,
        Some(g) => UsageGroup::parse(g).ok_or_else(|| {
            ApiError::bad(
                "group_by",
                "use service, scope, span_name, log_template, metric_name or attribute_key",
            )
        })?,
    };
    let signal = match opt(&p, "signal") {
        None => None,
        Some("spans") | Some("traces") => Some(Signal::Spans),
        Some("logs") => Some(Signal::Logs),
        Some("metrics") => Some(Signal::Metrics),
        Some(_) => return Err(ApiError::bad("signal", "use spans, logs or metrics")),
    };
    let unread_days = match opt(&p, "unread_days") {
        None => 30,
        Some(d) => d
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .ok_or_else(|| {
                ApiError::bad(
                    "unread_days",
                    "must be a whole number of days from 1 to 3650",
                )
            })?,
    };
    let q = UsageQuery {
        range,
        step_ns: params::step(&p, range)?,
        group,
        signal,
        service: opt(&p, "service").map(str::to_string),
        limit: params::limit(&p, 50, 1000)?,
        unread_days,
        prices: state.usage_prices.as_ref().clone(),
    };
    Ok(Json(state.query.usage(&q).await?).into_response())
}
