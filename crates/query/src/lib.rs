//! The one query service behind the HTTP API, the web UI and the MCP server, so that all of
//! them always agree. It plans typed questions (services, traces, logs, metrics) and
//! user SQL on Apache DataFusion over the store's tables.
//!
//! - [`QueryService`]: the entry point; one per process.
//! - [`QueryError`]: bad parameters name the parameter; internal details stay in the logs.
//! - Typed requests and responses: [`TraceSearch`], [`LogSearch`], [`MetricQuery`] and friends.
//! - Real user monitoring: [`QueryService::web_sessions`], `web_errors`, `web_vitals`,
//!   `web_funnel` read browser events and let the `rum` crate answer over them.
//!
//! ```no_run
//! # async fn run(store: std::sync::Arc<storage::Store>) -> Result<(), query::QueryError> {
//! let q = query::QueryService::new(store, query::QueryLimits::default())?;
//! let services = q.services(model::TimeRange::last_hour(model::now_unix_nano())).await?;
//! # let _ = services; Ok(()) }
//! ```

mod completeness;
mod deploys;
mod dry_run;
mod instances;
mod logs;
mod metrics;
mod points;
mod reads;
mod red;
mod rollup;
mod service;
mod sql;
mod traces;
mod triage;
mod types;
mod udf;
mod usage;
mod web;
mod web_replay;
mod web_rollup;

pub use completeness::RollupFeed;
pub use deploys::{Deploy, DeploysResponse};
pub use dry_run::{DryRun, DryRunRule};
pub use logs::{Pattern, PatternsResponse, Structure, record_id};
pub use points::{LogMinute, MetricFamily, MetricResource, MetricStream, PointColumns, RedMinute};
pub use reads::{ReadKind, ReadLog};
pub use red::{
    BlastRadius, EntryPoint, MapEdge, MapNode, RedPoint, RedResponse, RedSeries, RedTotal,
    ServiceMap, Watermark,
};
pub use service::{QueryLimits, QueryService, decode_cursor, encode_cursor};
pub use triage::{TriageReport, Window as TriageWindow, default_baseline};
pub use types::*;
pub use usage::{
    SignalUsage, UsageGroup, UsagePoint, UsagePrices, UsageQuery, UsageReport, UsageRow,
};
pub use web::{
    ErrorGroups, Funnel, MAX_EVENTS, SessionSearch, SessionsPage, Vitals, WebEvents, WebFilter,
};
pub use web_replay::{Replay, ReplaySegment};

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("invalid parameter '{param}': {message}")]
    BadParam { param: String, message: String },
    #[error("{0}")]
    BadQuery(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("query took longer than {0} ms")]
    Timeout(u64),
    #[error("internal error")]
    Internal(String),
}

impl QueryError {
    pub fn bad(param: &str, message: impl Into<String>) -> Self {
        QueryError::BadParam {
            param: param.to_string(),
            message: message.into(),
        }
    }
}

impl From<datafusion::error::DataFusionError> for QueryError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        QueryError::Internal(e.to_string())
    }
}

impl From<storage::StorageError> for QueryError {
    fn from(e: storage::StorageError) -> Self {
        QueryError::Internal(e.to_string())
    }
}
