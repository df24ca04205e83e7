//! Check rules and alerts: Prometheus rule files (plain or as a Kubernetes `PrometheusRule`)
//! with a two-threshold extension (`thresholds: {degraded, critical}`), built-in rule kinds
//! (RED per service against a threshold or a baseline, new or surging error-log patterns, a
//! triage finding), evaluated on an interval with Prometheus' lifecycle (pending after
//! `for`, firing, resolved after `keep_firing_for`), persisted across restarts with a history,
//! silenced by label matchers, and sent to Alertmanager, Slack-compatible and generic
//! webhooks.
//!
//! - [`Alerts`]: the engine; [`Alerts::evaluate_once`] evaluates what is due.
//! - [`Querier`]: what rules read ([`StoreQuerier`] over redscope's data).
//! - [`rules`]: the file format and its validation, [`builtin`]: the built-in kinds,
//!   [`lifecycle`]: the state machine, [`silence`], [`notify`], [`state`]: the state file.
//!
//! ```no_run
//! # async fn run(q: std::sync::Arc<query::QueryService>, p: std::sync::Arc<promql::Engine>) -> Result<(), alerts::AlertsError> {
//! let querier = std::sync::Arc::new(alerts::StoreQuerier { promql: p, query: q });
//! let options = alerts::AlertsOptions::default();
//! let engine = alerts::Alerts::open(options, querier, alerts::Notifier::none())?;
//! engine.add_rules("groups: [{name: g, rules: [{alert: Up, expr: 'vector(1)'}]}]", false, 0).await.ok();
//! engine.evaluate_once(model::now_unix_nano() / 1_000_000).await;
//! # Ok(()) }
//! ```

pub mod builtin;
mod dir;
pub mod duration;
mod engine;
pub mod lifecycle;
mod manage;
pub mod notify;
pub mod rules;
pub mod silence;
mod source;
pub mod state;
pub mod template;
mod view;

pub use builtin::BuiltinConfig;
pub use engine::{Alerts, AlertsOptions, Health, Querier, Round};
pub use lifecycle::{AlertState, Event, Found};
pub use notify::{Notifier, NotifyOptions};
pub use rules::{Problem, RuleKind, Thresholds};
pub use silence::{Matcher, SilenceSpec};
pub use source::StoreQuerier;
pub use view::{AlertFilter, AlertView, HistoryFilter, RulesView, SilenceView};

#[derive(Debug, thiserror::Error)]
pub enum AlertsError {
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("alert state: {0}")]
    State(String),
    #[error("alerts configuration: {0}")]
    Config(String),
}
