//! What the API shows: rules with their health and state, alerts, history and silences in
//! redscope's shape, and rules and alerts in the Prometheus API's shape (for Grafana).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::engine::{Alerts, Health, Inner};
use crate::lifecycle::{Active, AlertState, Event};
use crate::rules::{Group, Rule, RuleKind, Thresholds};
use crate::silence::{Silence, SilenceState};

#[derive(Debug, Serialize)]
pub struct RulesView {
    pub groups: Vec<GroupView>,
    /// Rule files in the directory that were not loaded, and why.
    pub errors: Vec<crate::rules::Problem>,
}

#[derive(Debug, Serialize)]
pub struct GroupView {
    pub name: String,
    pub file: Option<String>,
    pub origin: crate::rules::Origin,
    pub interval_seconds: f64,
    pub rules: Vec<RuleView>,
}

#[derive(Debug, Serialize)]
pub struct RuleView {
    pub id: String,
    pub name: String,
    pub kind: RuleKind,
    pub expr: String,
    pub for_seconds: f64,
    pub keep_firing_for_seconds: f64,
    pub thresholds: Option<Thresholds>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub health: &'static str,
    pub last_error: Option<String>,
    pub last_evaluation_ms: Option<i64>,
    pub evaluation_seconds: f64,
    pub state: AlertState,
    /// Alerts of this rule that are pending or firing.
    pub active: usize,
}

#[derive(Debug, Serialize)]
pub struct AlertView {
    pub fingerprint: String,
    pub rule: String,
    pub rule_id: String,
    pub group: String,
    pub state: AlertState,
    pub severity: String,
    pub service: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub value: f64,
    pub active_at_ms: i64,
    pub fired_at_ms: Option<i64>,
    pub silenced: bool,
}

#[derive(Debug, Serialize)]
pub struct SilenceView {
    #[serde(flatten)]
    pub silence: Silence,
    pub state: SilenceState,
}

/// Which alerts to list.
#[derive(Debug, Default, Clone)]
pub struct AlertFilter {
    pub state: Option<AlertState>,
    pub service: Option<String>,
}

/// Which history to list (newest first).
#[derive(Debug, Clone)]
pub struct HistoryFilter {
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub rule: Option<String>,
    pub service: Option<String>,
    pub limit: usize,
}

fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn rule_state(inner: &Inner, rule: &Rule) -> (AlertState, usize) {
    let mut state = AlertState::Inactive;
    let mut n = 0;
    for a in inner.active.values().filter(|a| a.rule_id == rule.id) {
        n += 1;
        if a.state == AlertState::Firing || state == AlertState::Inactive {
            state = a.state;
        }
    }
    (state, n)
}

fn rule_view(inner: &Inner, rule: &Rule) -> RuleView {
    let health = inner.health.get(&rule.id).cloned().unwrap_or_default();
    let (state, active) = rule_state(inner, rule);
    RuleView {
        id: rule.id.clone(),
        name: rule.name.clone(),
        kind: rule.kind,
        expr: rule.expr.clone(),
        for_seconds: secs(rule.for_ms),
        keep_firing_for_seconds: secs(rule.keep_firing_for_ms),
        thresholds: rule.thresholds,
        labels: rule.labels.clone(),
        annotations: rule.annotations.clone(),
        health: health_text(&health),
        last_error: health.error.clone(),
        last_evaluation_ms: health.last_evaluation_ms,
        evaluation_seconds: health.duration_ms / 1000.0,
        state,
        active,
    }
}

fn health_text(h: &Health) -> &'static str {
    match (&h.error, h.last_evaluation_ms) {
        (Some(_), _) => "err",
        (None, Some(_)) => "ok",
        (None, None) => "unknown",
    }
}

impl Alerts {
    fn group_interval_ms(&self, g: &Group) -> i64 {
        g.interval_ms.unwrap_or(self.options.interval_ms)
    }

    pub fn rules_view(&self) -> RulesView {
        let inner = self.lock();
        let groups = inner
            .groups()
            .map(|g| GroupView {
                name: g.name.clone(),
                file: g.file.clone(),
                origin: g.origin,
                interval_seconds: secs(self.group_interval_ms(g)),
                rules: g.rules.iter().map(|r| rule_view(&inner, r)).collect(),
            })
            .collect();
        RulesView {
            groups,
            errors: inner.dir.problems.clone(),
        }
    }

    fn alert_view(&self, inner: &Inner, a: &Active, now_ms: i64) -> AlertView {
        AlertView {
            fingerprint: a.fingerprint.clone(),
            rule: a.rule.clone(),
            rule_id: a.rule_id.clone(),
            group: a.group.clone(),
            state: a.state,
            severity: a.severity().to_string(),
            service: a.service().map(str::to_string),
            labels: a.labels.clone(),
            annotations: a.annotations.clone(),
            value: a.value,
            active_at_ms: a.active_at_ms,
            fired_at_ms: a.fired_at_ms,
            silenced: inner.silenced(&a.labels, now_ms),
        }
    }

    /// Pending and firing alerts, firing and critical first, then the oldest.
    pub fn alerts_view(&self, filter: &AlertFilter, now_ms: i64) -> Vec<AlertView> {
        let inner = self.lock();
        let mut out: Vec<AlertView> = inner
            .active
            .values()
            .filter(|a| filter.state.is_none_or(|s| a.state == s))
            .filter(|a| {
                filter
                    .service
                    .as_deref()
                    .is_none_or(|s| a.service() == Some(s))
            })
            .map(|a| self.alert_view(&inner, a, now_ms))
            .collect();
        out.sort_by_key(|a| {
            (
                a.state != AlertState::Firing,
                a.severity != "critical",
                a.active_at_ms,
            )
        });
        out
    }

    pub fn history(&self, f: &HistoryFilter) -> Vec<Event> {
        let inner = self.lock();
        inner
            .history
            .iter()
            .rev()
            .filter(|e| f.start_ms.is_none_or(|s| e.at_ms >= s))
            .filter(|e| f.end_ms.is_none_or(|end| e.at_ms <= end))
            .filter(|e| f.rule.as_deref().is_none_or(|r| e.rule == r))
            .filter(|e| {
                f.service
                    .as_deref()
                    .is_none_or(|s| e.service.as_deref() == Some(s))
            })
            .take(f.limit)
            .cloned()
            .collect()
    }

    pub fn silences_view(&self, now_ms: i64) -> Vec<SilenceView> {
        let inner = self.lock();
        let mut out: Vec<SilenceView> = inner
            .silences
            .iter()
            .map(|s| SilenceView {
                silence: s.clone(),
                state: s.state(now_ms),
            })
            .collect();
        out.sort_by_key(|s| (s.state != SilenceState::Active, -s.silence.ends_at_ms));
        out
    }

    /// Counters of the evaluator and the notifiers.
    pub fn stats_json(&self) -> Value {
        use std::sync::atomic::Ordering::Relaxed;
        let s = &self.stats;
        let inner = self.lock();
        json!({
            "evaluations": s.evaluations.load(Relaxed),
            "rule_errors": s.rule_errors.load(Relaxed),
            "overlaps_skipped": s.overlaps_skipped.load(Relaxed),
            "state_save_errors": s.state_save_errors.load(Relaxed),
            "rejected_rule_files": s.rejected_rule_files.load(Relaxed),
            "rejected_rule_posts": s.rejected_rule_posts.load(Relaxed),
            "rejected_silences": s.rejected_silences.load(Relaxed),
            "rules": inner.groups().map(|g| g.rules.len()).sum::<usize>(),
            "active_alerts": inner.active.len(),
            "notifications": self.notifier().snapshot(),
        })
    }
}

/// RFC 3339 as Prometheus writes times in its API.
fn prom_time(ms: Option<i64>) -> Value {
    match ms {
        Some(ms) => json!(crate::notify::rfc3339(ms)),
        None => json!("0001-01-01T00:00:00Z"),
    }
}

fn prom_value(v: f64) -> String {
    promql::names::format_float(v)
}

fn prom_alert(a: &Active) -> Value {
    json!({
        "labels": a.labels,
        "annotations": a.annotations,
        "state": match a.state { AlertState::Firing => "firing", _ => "pending" },
        "activeAt": prom_time(Some(a.active_at_ms)),
        "value": prom_value(a.value),
    })
}

impl Alerts {
    /// `GET /prometheus/api/v1/rules`'s `data`.
    pub fn prometheus_rules(&self) -> Value {
        let inner = self.lock();
        let groups: Vec<Value> = inner
            .groups()
            .map(|g| {
                let rules: Vec<Value> = g
                    .rules
                    .iter()
                    .map(|r| {
                        let view = rule_view(&inner, r);
                        let alerts: Vec<Value> = inner
                            .active
                            .values()
                            .filter(|a| a.rule_id == r.id)
                            .map(prom_alert)
                            .collect();
                        json!({
                            "name": r.name,
                            "query": r.expr,
                            "duration": r.for_ms / 1000,
                            "keepFiringFor": r.keep_firing_for_ms / 1000,
                            "labels": r.labels,
                            "annotations": r.annotations,
                            "alerts": alerts,
                            "health": view.health,
                            "lastError": view.last_error.unwrap_or_default(),
                            "evaluationTime": view.evaluation_seconds,
                            "lastEvaluation": prom_time(view.last_evaluation_ms),
                            "state": match view.state { AlertState::Inactive => "inactive", AlertState::Pending => "pending", AlertState::Firing => "firing" },
                            "type": "alerting",
                        })
                    })
                    .collect();
                json!({
                    "name": g.name,
                    "file": g.file.clone().unwrap_or_else(|| format!("{:?}", g.origin).to_lowercase()),
                    "interval": secs(self.group_interval_ms(g)),
                    "limit": g.limit,
                    "rules": rules,
                })
            })
            .collect();
        json!({ "groups": groups })
    }

    /// `GET /prometheus/api/v1/alerts`'s `data`.
    pub fn prometheus_alerts(&self) -> Value {
        let inner = self.lock();
        let alerts: Vec<Value> = inner.active.values().map(prom_alert).collect();
        json!({ "alerts": alerts })
    }
}
