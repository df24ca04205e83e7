//! Real user monitoring routes: `/api/v1/web/...` (sessions, errors, vitals, funnels) and
//! `/api/v1/sourcemaps` (upload and list).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use query::{SessionSearch, WebFilter};

use crate::params::{self, Params, opt};
use crate::{ApiError, ApiState};

type ApiResult = Result<Response, ApiError>;

fn json<T: serde::Serialize>(v: &T) -> ApiResult {
    Ok(Json(v).into_response())
}

fn flag(p: &Params, key: &str) -> Result<bool, ApiError> {
    match opt(p, key) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(_) => Err(ApiError::bad(key, "use true or false")),
    }
}

fn filter(p: &Params) -> Result<WebFilter, ApiError> {
    Ok(WebFilter {
        service: opt(p, "service").map(str::to_string),
        exclude_synthetic: flag(p, "exclude_synthetic")?,
        ..WebFilter::default()
    })
}

/// The range of a question about one thing (a session, an error group): the last day unless
/// `from` says otherwise.
fn lookup_range(p: &Params) -> Result<model::TimeRange, ApiError> {
    let mut p = p.clone();
    if opt(&p, "from").is_none() {
        p.insert("from".into(), "now-24h".into());
    }
    params::time_range(&p)
}

pub async fn sessions(State(state): State<ApiState>, Query(p): Query<Params>) -> ApiResult {
    let range = params::time_range(&p)?;
    let search = SessionSearch {
        filter: filter(&p)?,
        user: opt(&p, "user").map(str::to_string),
        errors_only: flag(&p, "has_errors")?,
        min_duration_ms: params::duration_ms(&p, "min_duration_ms")?.map(|ns| ns / 1_000_000),
        limit: params::limit(&p, 50, 1000)?,
    };
    json(&state.query.web_sessions(range, &search).await?)
}

pub async fn session(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Query(p): Query<Params>,
) -> ApiResult {
    json(&state.query.web_session(lookup_range(&p)?, &id).await?)
}

pub async fn replay(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Query(p): Query<Params>,
) -> ApiResult {
    json(&state.query.web_replay(lookup_range(&p)?, &id).await?)
}

pub async fn errors(State(state): State<ApiState>, Query(p): Query<Params>) -> ApiResult {
    let range = params::time_range(&p)?;
    let limit = params::limit(&p, 50, 1000)?;
    json(&state.query.web_errors(range, &filter(&p)?, limit).await?)
}

pub async fn error(
    State(state): State<ApiState>,
    Path(fingerprint): Path<String>,
    Query(p): Query<Params>,
) -> ApiResult {
    if fingerprint.len() != 16 || !fingerprint.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad(
            "fingerprint",
            "must be 16 hexadecimal characters",
        ));
    }
    json(
        &state
            .query
            .web_error(lookup_range(&p)?, &fingerprint)
            .await?,
    )
}

pub async fn vitals(State(state): State<ApiState>, Query(p): Query<Params>) -> ApiResult {
    let range = params::time_range(&p)?;
    let group_by = rum::vitals::GroupBy::parse(opt(&p, "group_by").unwrap_or("none"))
        .ok_or_else(|| ApiError::bad("group_by", "use none, route, release, device or browser"))?;
    json(
        &state
            .query
            .web_vitals(range, &filter(&p)?, group_by)
            .await?,
    )
}

pub async fn funnel(State(state): State<ApiState>, Query(p): Query<Params>) -> ApiResult {
    let range = params::time_range(&p)?;
    let raw = opt(&p, "steps").ok_or_else(|| ApiError::bad("steps", "is required"))?;
    let mut steps = Vec::new();
    for s in raw.split(',') {
        let step = rum::funnel::Step::parse(s).ok_or_else(|| {
            ApiError::bad(
                "steps",
                "each step is page:<route>, event:<name>, a path or a name",
            )
        })?;
        steps.push(step);
    }
    if steps.len() < 2 || steps.len() > 20 {
        return Err(ApiError::bad(
            "steps",
            "give 2 to 20 steps, separated by commas",
        ));
    }
    let window_ns = match opt(&p, "window") {
        None => 3_600_000_000_000,
        Some(w) => {
            model::parse_duration_ns(w).map_err(|e| ApiError::bad("window", e.to_string()))?
        }
    };
    if window_ns <= 0 {
        return Err(ApiError::bad("window", "must be positive"));
    }
    let unit = match opt(&p, "by") {
        None | Some("session") => rum::funnel::Unit::Session,
        Some("user") => rum::funnel::Unit::User,
        Some(_) => return Err(ApiError::bad("by", "use session or user")),
    };
    let q = rum::funnel::FunnelQuery {
        steps,
        window_ns,
        unit,
        breakdown: opt(&p, "breakdown").map(str::to_string),
    };
    json(&state.query.web_funnel(range, &filter(&p)?, &q).await?)
}

fn required<'a>(p: &'a Params, key: &str) -> Result<&'a str, ApiError> {
    opt(p, key).ok_or_else(|| ApiError::bad(key, "is required"))
}

fn sourcemap_error(e: rum::SourceMapError) -> ApiError {
    if e.is_client_error() {
        ApiError::BadRequest(e.to_string())
    } else {
        ApiError::Internal(e.to_string())
    }
}

/// `POST /api/v1/sourcemaps?service=S&version=V&file=assets/app.js.map` with the file as body.
pub async fn upload_sourcemap(
    State(state): State<ApiState>,
    Query(p): Query<Params>,
    body: axum::body::Bytes,
) -> ApiResult {
    let maps = state
        .sourcemaps
        .clone()
        .ok_or_else(|| ApiError::NotFound("source maps are not kept by this server".to_string()))?;
    let (service, version, file) = (
        required(&p, "service")?.to_string(),
        required(&p, "version")?.to_string(),
        required(&p, "file")?.to_string(),
    );
    let stored = {
        let (service, version, file) = (service.clone(), version.clone(), file.clone());
        tokio::task::spawn_blocking(move || maps.put(&service, &version, &file, &body))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
    };
    stored.map_err(sourcemap_error)?;
    let answer = serde_json::json!({"service": service, "version": version, "file": file});
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `GET /api/v1/sourcemaps?service=S&version=V`: the files uploaded.
pub async fn list_sourcemaps(State(state): State<ApiState>, Query(p): Query<Params>) -> ApiResult {
    let maps = state
        .sourcemaps
        .clone()
        .ok_or_else(|| ApiError::NotFound("source maps are not kept by this server".to_string()))?;
    let (service, version) = (required(&p, "service")?, required(&p, "version")?);
    let files = maps.list(service, version).map_err(sourcemap_error)?;
    json(&serde_json::json!({"service": service, "version": version, "files": files}))
}
