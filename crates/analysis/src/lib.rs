//! Analysis derived from spans at ingest: RED metrics (requests, errors, duration) per service
//! and operation, and the service graph with RED per edge — including dependencies that send no
//! telemetry themselves (databases, queues, external hosts), inferred from client spans.
//!
//! - [`RedAggregator`]: fed every accepted span, drained every few seconds into metric rows
//!   (`redscope.red.duration`, `redscope.edge.duration`: delta histograms on fixed log-scale
//!   bounds, one per minute and key) that the store keeps like any metric, so any time range
//!   answers from these rollups instead of scanning spans.
//! - [`PatternCounts`]: log records per service, Log AI template and minute, drained into
//!   `redscope.log.patterns` points, so that log patterns answer from rollups too.
//! - [`Sketch`]: the mergeable duration histogram and its percentiles.
//! - [`arrival::ArrivalLag`]: how late spans arrive, the watermark up to which the rollups are
//!   complete ([`RedAggregator::completeness`]).
//! - [`triage`]: ranked root-cause candidates from RED, the call graph, log patterns and
//!   versions, compared with a baseline — deterministic, no LLM.
//!
//! ```
//! let mut agg = analysis::RedAggregator::default();
//! agg.observe(&[model::SpanRow { kind: "SERVER".into(), name: "GET /".into(), ..Default::default() }]);
//! let rows = agg.drain(i64::MAX);
//! assert_eq!(rows[0].metric_name, analysis::RED_METRIC);
//! ```

pub mod arrival;
mod patterns;
mod red;
mod sketch;
pub mod triage;

pub use patterns::{PATTERN_METRIC, PatternCounts};
pub use red::{
    DRAIN_METRIC, DistinctSample, EDGE_METRIC, REACH_DISTINCT_METRIC, REACH_METRIC, RED_METRIC,
    RedAggregator, node_kind_of, url_host,
};
pub use sketch::{BOUNDS_MS, Sketch};
