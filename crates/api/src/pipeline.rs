//! `/api/v1/pipeline`: the pipeline rules in force with what each matched and saved and the
//! budgets with what they used and shed, replaced with a new rule file (admin), and a dry run
//! of a rule file over the stored records.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::params::{self, Params};
use crate::{ApiError, ApiState};

/// The most a rule file sent to the API may be.
const MAX_RULES_BYTES: usize = 1 << 20;

fn rules_of(state: &ApiState) -> Result<&std::sync::Arc<pipeline::Pipeline>, ApiError> {
    state.pipeline.as_ref().ok_or_else(|| {
        ApiError::NotFound("pipeline rules are not configured on this server".into())
    })
}

fn invalid(e: pipeline::PipelineError) -> Response {
    let body = json!({"error": {
        "code": "invalid_rules",
        "message": e.to_string(),
        "details": e.problems(),
    }});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

fn text_of(body: &axum::body::Bytes) -> Result<&str, ApiError> {
    if body.len() > MAX_RULES_BYTES {
        return Err(ApiError::bad("body", "a rule file may be at most 1 MiB"));
    }
    std::str::from_utf8(body).map_err(|_| ApiError::bad("body", "must be UTF-8 TOML"))
}

/// `GET`: the rules in force, each with its counters, the budgets with their use, the file,
/// earlier versions.
pub async fn get(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let rules = rules_of(&state)?;
    let current = rules.current();
    let listed: Vec<_> = current
        .rules
        .rules
        .iter()
        .zip(&current.rules.stats)
        .map(|(r, s)| {
            json!({
                "name": r.name,
                "signal": r.signal.map(|s| s.table_name()).unwrap_or("any"),
                "action": r.action.name(),
                "stats": s.view(),
            })
        })
        .collect();
    Ok(Json(json!({
        "version": current.view(),
        "file": rules.file().map(|p| p.display().to_string()),
        "text": current.text,
        "last_error": rules.last_error(),
        "rules": listed,
        "budgets": rules.ledger().view(&current.budgets, model::now_unix_nano()),
        "history": rules.history(),
    }))
    .into_response())
}

/// `PUT` (a TOML rule file): checked, written to the rule file and put in force.
pub async fn put(
    State(state): State<ApiState>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let rules = rules_of(&state)?;
    let text = text_of(&body)?.to_string();
    let saving = std::sync::Arc::clone(rules);
    let saved = tokio::task::spawn_blocking(move || saving.save(&text))
        .await
        .map_err(|e| ApiError::Internal(format!("saving pipeline rules: {e}")))?;
    match saved {
        Ok(version) => Ok(Json(json!({"version": version})).into_response()),
        Err(e @ pipeline::PipelineError::Invalid(_)) => Ok(invalid(e)),
        Err(e) => Err(ApiError::Internal(e.to_string())),
    }
}

/// `POST /dry-run?from=&to=` (a TOML rule file, or none for the rules in force): what each
/// rule would have matched and saved over the stored records of the range (default: 24 h).
pub async fn dry_run(
    State(state): State<ApiState>,
    Query(mut p): Query<Params>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let text = text_of(&body)?;
    let rules = if text.trim().is_empty() {
        rules_of(&state)?.current().rules.rules.clone()
    } else {
        match pipeline::rules::parse(text) {
            Ok(r) => r,
            Err(e) => return Ok(invalid(e)),
        }
    };
    p.entry("from".into()).or_insert_with(|| "now-24h".into());
    let range = params::time_range(&p)?;
    Ok(Json(state.query.pipeline_dry_run(&rules, range).await?).into_response())
}
