//! `GET /api/v1/usage`: records, bytes and cost per signal and per service, scope, span name,
//! log template, metric name or attribute key, against the previous period, with what nobody
//! read by name in `unread_days`, and the budgets' use of the day and the month.

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
        Some(name) => Some(
            Signal::from_name(name)
                .ok_or_else(|| ApiError::bad("signal", "use spans, logs or metrics"))?,
        ),
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
    let report = state.query.usage(&q).await?;
    let mut body = serde_json::to_value(&report)
        .map_err(|e| ApiError::Internal(format!("usage report: {e}")))?;
    // The budgets' use of the day and the month, next to what was sent.
    if let (Some(rules), Some(obj)) = (&state.pipeline, body.as_object_mut()) {
        let current = rules.current();
        let budgets = rules
            .ledger()
            .view(&current.budgets, model::now_unix_nano());
        obj.insert("budgets".into(), serde_json::json!(budgets));
    }
    Ok(Json(body).into_response())
}
