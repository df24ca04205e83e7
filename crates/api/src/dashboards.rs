//! Dashboards as code: the Perses dashboards of the dashboards directory and the built-in RED
//! dashboard of each service, listed, exported as JSON or YAML, and validated.
//!
//! - `GET /api/v1/dashboards`: every dashboard (files first, then built-ins) and every
//!   invalid file with its errors.
//! - `GET /api/v1/dashboards/{project}/{name}[?format=yaml]`: the Perses document.
//! - `POST /api/v1/dashboards/validate`: a JSON or YAML document, 200 or 400 with the
//!   problems and their JSON paths.
//! - `PUT /api/v1/dashboards/{project}/{name}`: saves a document into the directory (admin).

use std::sync::atomic::Ordering;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dashboards::builtin::{BUILTIN_PROJECT, red_dashboard, red_dashboard_name};
use dashboards::{Dashboard, DashboardError, Format};
use serde_json::{Value, json};

use crate::params::{Params, opt};
use crate::{ApiError, ApiState};

/// How far back services are looked for to list their built-in dashboards.
const SERVICES_LOOKBACK_NS: i64 = 24 * 3_600_000_000_000;

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/dashboards", get(list))
        .route("/api/v1/dashboards/validate", post(validate))
        .route(
            "/api/v1/dashboards/{project}/{name}",
            get(dashboard).put(save),
        )
}

/// How long the services with built-in dashboards are remembered.
const SERVICES_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(10);

/// The services whose built-in dashboards exist: those seen in the last day.
async fn services(state: &ApiState) -> Result<Vec<String>, ApiError> {
    if let Some(known) = state.dashboards.known_services(SERVICES_MAX_AGE) {
        return Ok(known);
    }
    let end_ns = model::now_unix_nano();
    let range = model::TimeRange {
        start_ns: end_ns - SERVICES_LOOKBACK_NS,
        end_ns: end_ns + 1,
    };
    let services = state.query.services(range).await?;
    let names: Vec<String> = services.services.into_iter().map(|s| s.name).collect();
    state.dashboards.remember_services(names.clone());
    Ok(names)
}

fn summary(d: &Dashboard, source: &str) -> Value {
    json!({
        "project": d.project,
        "name": d.name,
        "display_name": d.display_name,
        "source": source,
        "panel_count": d.panel_count,
        "error": null,
        "issues": [],
    })
}

async fn list(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let library = &state.dashboards;
    let mut out = Vec::new();
    let mut taken = std::collections::BTreeSet::new();
    for f in library.files() {
        let source = f.path.display().to_string();
        match &f.result {
            Ok(d) => {
                taken.insert((d.project.clone(), d.name.clone()));
                out.push(summary(d, &source));
            }
            Err(e) => out.push(json!({
                "project": null, "name": null, "source": source, "panel_count": 0,
                "display_name": f.path.file_name().map(|n| n.to_string_lossy().into_owned()),
                "error": e.to_string(), "issues": e.issues(),
            })),
        }
    }
    for service in services(&state).await? {
        let name = red_dashboard_name(&service);
        if taken.insert((BUILTIN_PROJECT.to_string(), name)) {
            let d = red_dashboard(&service).map_err(|e| ApiError::Internal(e.to_string()))?;
            out.push(summary(&d, "builtin"));
        }
    }
    Ok(Json(json!({
        "directory": library.dir().map(|d| d.display().to_string()),
        "reloads": library.stats.reloads.load(Ordering::Relaxed),
        "invalid_files_read": library.stats.invalid_files.load(Ordering::Relaxed),
        "rejected_documents": library.stats.rejected_validations.load(Ordering::Relaxed),
        "dashboards": out,
    })))
}

/// A file's dashboard, else the built-in one of that name.
async fn find(
    state: &ApiState,
    project: &str,
    name: &str,
) -> Result<(String, Dashboard), ApiError> {
    if let Some((path, d)) = state.dashboards.get(project, name) {
        return Ok((path.display().to_string(), d));
    }
    if project == BUILTIN_PROJECT {
        for service in services(state).await? {
            if red_dashboard_name(&service) == name {
                let d = red_dashboard(&service).map_err(|e| ApiError::Internal(e.to_string()))?;
                return Ok(("builtin".to_string(), d));
            }
        }
    }
    Err(ApiError::NotFound(format!(
        "dashboard {project}/{name} not found"
    )))
}

async fn dashboard(
    State(state): State<ApiState>,
    Path((project, name)): Path<(String, String)>,
    Query(p): Query<Params>,
) -> Result<Response, ApiError> {
    let (source, d) = find(&state, &project, &name).await?;
    let source_header = (
        header::HeaderName::from_static("x-redscope-dashboard-source"),
        source,
    );
    match opt(&p, "format") {
        None | Some("json") => Ok(([source_header], Json(d.document)).into_response()),
        Some("yaml") => {
            let yaml = d.to_yaml().map_err(|e| ApiError::Internal(e.to_string()))?;
            let disposition = format!("inline; filename=\"{}.yaml\"", d.name);
            Ok((
                [
                    (header::CONTENT_TYPE, "application/yaml".to_string()),
                    (header::CONTENT_DISPOSITION, disposition),
                    source_header,
                ],
                yaml,
            )
                .into_response())
        }
        Some(_) => Err(ApiError::bad("format", "use json or yaml")),
    }
}

/// The format of a posted document: `?format=`, else the content type, else its first byte.
fn body_format(p: &Params, headers: &HeaderMap, text: &str) -> Result<Format, ApiError> {
    match opt(p, "format") {
        Some("json") => return Ok(Format::Json),
        Some("yaml") => return Ok(Format::Yaml),
        Some(_) => return Err(ApiError::bad("format", "use json or yaml")),
        None => {}
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.contains("yaml") {
        return Ok(Format::Yaml);
    }
    if content_type.contains("json") {
        return Ok(Format::Json);
    }
    Ok(Format::sniff(text))
}

async fn validate(
    State(state): State<ApiState>,
    Query(p): Query<Params>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    match parse_body(&state, &p, &headers, &body)? {
        Ok(d) => Ok(Json(json!({
            "valid": true, "project": d.project, "name": d.name,
            "display_name": d.display_name, "panel_count": d.panel_count,
        }))
        .into_response()),
        Err(e) => Ok(invalid(&e)),
    }
}

/// Parses a posted document, counting the ones refused.
fn parse_body(
    state: &ApiState,
    p: &Params,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Result<Dashboard, DashboardError>, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::BadRequest("the document is not UTF-8 text".to_string()))?;
    let format = body_format(p, headers, text)?;
    let parsed = Dashboard::parse(text, format, "request body");
    if parsed.is_err() {
        let stats = &state.dashboards.stats;
        stats.rejected_validations.fetch_add(1, Ordering::Relaxed);
    }
    Ok(parsed)
}

/// Saves a dashboard whose `metadata` names this project and name into the directory.
async fn save(
    State(state): State<ApiState>,
    Path((project, name)): Path<(String, String)>,
    Query(p): Query<Params>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let d = match parse_body(&state, &p, &headers, &body)? {
        Ok(d) => d,
        Err(e) => return Ok(invalid(&e)),
    };
    if d.project != project || d.name != name {
        return Err(ApiError::BadRequest(format!(
            "the document is {}/{}, not {project}/{name} (metadata.project and metadata.name)",
            d.project, d.name
        )));
    }
    let library = std::sync::Arc::clone(&state.dashboards);
    let saved = tokio::task::spawn_blocking(move || library.save(&d))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    match saved {
        Ok(path) => Ok(Json(
            json!({"project": project, "name": name, "source": path.display().to_string()}),
        )
        .into_response()),
        Err(e) => Err(ApiError::BadRequest(e.to_string())),
    }
}

/// 400 in the API's error format, with each problem and its path under `details`.
fn invalid(e: &DashboardError) -> Response {
    let body = json!({"error": {
        "code": "invalid_dashboard",
        "message": e.to_string(),
        "details": e.issues(),
    }});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}
