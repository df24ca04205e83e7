//! The HTTP JSON API under `/api/v1`: a thin adapter over [`query::QueryService`], documented
//! by the OpenAPI file it serves at `/api/v1/openapi.json`.
//!
//! - [`router`]: the axum routes, with the Prometheus HTTP API under `/prometheus/api/v1`
//!   (over [`promql::Engine`]).
//! - [`ApiError`]: the one mapping from errors to HTTP statuses and the error body
//!   `{"error": {"code", "message"}}`.
//!
//! ```no_run
//! # fn run(q: std::sync::Arc<query::QueryService>) {
//! let app = api::router(api::ApiState::new(q));
//! # let _ = app;
//! # }
//! ```

mod alerts;
mod dashboards;
mod deploys;
mod error;
mod handlers;
mod params;
mod pipeline;
mod prometheus;
mod usage;
mod web;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

pub use error::ApiError;

/// Extra status a host process reports at `/api/v1/status` (ingest counters, storage...).
pub type StatusFn = Arc<dyn Fn() -> serde_json::Value + Send + Sync>;

/// What the handlers share.
#[derive(Clone)]
pub struct ApiState {
    pub query: Arc<query::QueryService>,
    pub status: Option<StatusFn>,
    /// Where uploaded source maps are kept (`/api/v1/sourcemaps`).
    pub sourcemaps: Option<Arc<rum::SourceMaps>>,
    /// PromQL for the Prometheus API under `/prometheus/api/v1`.
    pub promql: Arc<promql::Engine>,
    /// Prices of the usage report (`/api/v1/usage`).
    pub usage_prices: Arc<query::UsagePrices>,
    /// The pipeline rules in force (`/api/v1/pipeline`).
    pub pipeline: Option<Arc<::pipeline::Pipeline>>,
    /// The dashboards directory (`/api/v1/dashboards`); without one, only the built-ins.
    pub dashboards: Arc<::dashboards::Library>,
    /// Rules, alerts and silences (`/api/v1/rules`, `/alerts`, `/silences`).
    pub alerts: Option<Arc<::alerts::Alerts>>,
}

impl ApiState {
    pub fn new(query: Arc<query::QueryService>) -> Self {
        let promql = Arc::new(promql::Engine::new(
            Arc::clone(&query),
            promql::EngineOptions::default(),
        ));
        ApiState {
            query,
            status: None,
            sourcemaps: None,
            promql,
            usage_prices: Default::default(),
            pipeline: None,
            dashboards: Arc::new(::dashboards::Library::new(None)),
            alerts: None,
        }
    }

    pub fn with_status(mut self, status: StatusFn) -> Self {
        self.status = Some(status);
        self
    }

    /// PromQL evaluated with these options (lookback, range windows, limits).
    pub fn with_promql(mut self, options: promql::EngineOptions) -> Self {
        self.promql = Arc::new(promql::Engine::new(Arc::clone(&self.query), options));
        self
    }

    pub fn with_dashboards(mut self, dashboards: Arc<::dashboards::Library>) -> Self {
        self.dashboards = dashboards;
        self
    }

    pub fn with_pipeline(mut self, rules: Arc<::pipeline::Pipeline>) -> Self {
        self.pipeline = Some(rules);
        self
    }

    pub fn with_usage_prices(mut self, prices: query::UsagePrices) -> Self {
        self.usage_prices = Arc::new(prices);
        self
    }

    pub fn with_alerts(mut self, alerts: Arc<::alerts::Alerts>) -> Self {
        self.alerts = Some(alerts);
        self
    }

    pub fn with_sourcemaps(mut self, sourcemaps: Arc<rum::SourceMaps>) -> Self {
        self.sourcemaps = Some(sourcemaps);
        self
    }
}

/// The OpenAPI description of this API.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// All `/api/v1` routes (and `/healthz`).
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/v1/openapi.json", get(handlers::openapi))
        .route("/api/v1/status", get(handlers::status))
        .route("/api/v1/services", get(handlers::services))
        .route("/api/v1/traces", get(handlers::traces))
        .route("/api/v1/traces/scatter", get(handlers::trace_scatter))
        .route("/api/v1/traces/{trace_id}", get(handlers::trace))
        .route("/api/v1/logs", get(handlers::logs))
        .route("/api/v1/logs/patterns", get(handlers::log_patterns))
        .route("/api/v1/logs/histogram", get(handlers::log_histogram))
        .route("/api/v1/logs/facets", get(handlers::log_facets))
        .route(
            "/api/v1/logs/{record_id}/structure",
            get(handlers::log_structure),
        )
        .route("/api/v1/metrics", get(handlers::metrics))
        .route("/api/v1/metrics/query", get(handlers::metric_query))
        .route("/api/v1/sql", post(handlers::sql))
        .route("/api/v1/red", get(handlers::red))
        .route("/api/v1/service-map", get(handlers::service_map))
        .route("/api/v1/blast-radius", get(handlers::blast_radius))
        .route("/api/v1/triage", get(handlers::triage))
        .route("/api/v1/deploys", get(deploys::deploys))
        .route("/api/v1/usage", get(usage::usage))
        .route("/api/v1/pipeline", get(pipeline::get).put(pipeline::put))
        .route("/api/v1/pipeline/dry-run", post(pipeline::dry_run))
        .route("/api/v1/web/sessions", get(web::sessions))
        .route("/api/v1/web/sessions/{id}", get(web::session))
        .route("/api/v1/web/sessions/{id}/replay", get(web::replay))
        .route("/api/v1/web/errors", get(web::errors))
        .route("/api/v1/web/errors/{fingerprint}", get(web::error))
        .route("/api/v1/web/vitals", get(web::vitals))
        .route("/api/v1/web/funnel", get(web::funnel))
        .route(
            "/api/v1/sourcemaps",
            post(web::upload_sourcemap).get(web::list_sourcemaps).layer(
                axum::extract::DefaultBodyLimit::max(rum::sourcemaps::MAX_FILE_BYTES),
            ),
        )
        .route("/api/{*rest}", axum::routing::any(handlers::not_found))
        .merge(alerts::routes())
        .merge(prometheus::routes())
        .merge(dashboards::routes())
        .with_state(state)
}
