//! [`Alerts`]: the rules (from a directory, the API and the built-ins), their evaluation on
//! an interval, the alerts' lifecycle, silences, history, persistence and notifications.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::AlertsError;
use crate::builtin::BuiltinConfig;
use crate::dir::DirRules;
use crate::lifecycle::{self, Active, AlertState, Event, Found, StepInput};
use crate::notify::{Notifier, Outgoing};
use crate::rules::{self, Group, Origin, Problem, Rule, RuleFile, RuleKind};
use crate::silence::Silence;
use crate::state::{self, Persisted};

/// What rules read: PromQL at an instant, and triage findings.
#[async_trait::async_trait]
pub trait Querier: Send + Sync {
    /// The vector an expression gives at `at_ms` (a scalar is one sample without labels).
    async fn instant(&self, expr: &str, at_ms: i64) -> Result<Vec<Found>, String>;
    /// The top-ranked triage cause over `window_ms` before `at_ms`, if any.
    async fn triage(&self, window_ms: i64, at_ms: i64) -> Result<Vec<Found>, String>;
}

/// How alerts are evaluated and kept.
#[derive(Debug, Clone)]
pub struct AlertsOptions {
    /// The evaluation interval of groups that name none.
    pub interval_ms: i64,
    pub rules_dir: Option<PathBuf>,
    /// Where the state is kept; `None` keeps it in memory only.
    pub state_path: Option<PathBuf>,
    pub builtin: BuiltinConfig,
    /// How often a firing alert is sent to Alertmanager again.
    pub resend_interval_ms: i64,
    /// Most state changes kept in the history, and for how long.
    pub history_limit: usize,
    pub history_max_age_ms: i64,
    /// The server's URL, for links.
    pub external_url: String,
    pub external_labels: BTreeMap<String, String>,
}

impl Default for AlertsOptions {
    fn default() -> Self {
        AlertsOptions {
            interval_ms: 30_000,
            rules_dir: None,
            state_path: None,
            builtin: BuiltinConfig::default(),
            resend_interval_ms: 60_000,
            history_limit: 10_000,
            history_max_age_ms: 30 * 86_400_000,
            external_url: "http://127.0.0.1:8080".to_string(),
            external_labels: BTreeMap::new(),
        }
    }
}

/// A rule's last evaluation.
#[derive(Debug, Clone, Default)]
pub struct Health {
    pub error: Option<String>,
    pub last_evaluation_ms: Option<i64>,
    pub duration_ms: f64,
}

#[derive(Default)]
pub struct Stats {
    pub evaluations: AtomicU64,
    pub rule_errors: AtomicU64,
    pub overlaps_skipped: AtomicU64,
    pub state_save_errors: AtomicU64,
    pub rejected_rule_files: AtomicU64,
    /// Rule files and silences refused through the API.
    pub rejected_rule_posts: AtomicU64,
    pub rejected_silences: AtomicU64,
}

pub(crate) struct Inner {
    pub builtin: Vec<Group>,
    pub dir: DirRules,
    pub api: Vec<Group>,
    pub api_specs: RuleFile,
    pub health: HashMap<String, Health>,
    pub last_eval: HashMap<String, i64>,
    pub active: BTreeMap<String, Active>,
    pub silences: Vec<Silence>,
    pub history: VecDeque<Event>,
}

impl Inner {
    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.builtin
            .iter()
            .chain(self.dir.groups.iter())
            .chain(self.api.iter())
    }

    pub fn silenced(&self, labels: &BTreeMap<String, String>, now_ms: i64) -> bool {
        self.silences.iter().any(|s| s.silences(labels, now_ms))
    }
}

/// The alerting engine. Share it behind an `Arc`; [`Alerts::evaluate_once`] is what the
/// server's task calls on the interval (and tests call with their own clock).
pub struct Alerts {
    pub(crate) options: AlertsOptions,
    querier: Arc<dyn Querier>,
    notifier: Notifier,
    pub(crate) inner: std::sync::Mutex<Inner>,
    running: tokio::sync::Mutex<()>,
    pub stats: Stats,
}

/// What one evaluation did.
#[derive(Debug, Default, PartialEq)]
pub struct Round {
    pub groups: usize,
    pub events: usize,
    /// Another evaluation was still running: this one did nothing.
    pub skipped: bool,
}

fn assign_ids(groups: &mut [Group]) {
    for g in groups.iter_mut() {
        let prefix = match (&g.origin, &g.file) {
            (Origin::Dir, Some(f)) => format!("dir:{f}:{}", g.name),
            (Origin::Api, _) => format!("api:{}", g.name),
            _ => format!("builtin:{}", g.name),
        };
        for (i, r) in g.rules.iter_mut().enumerate() {
            r.id = format!("{prefix}/{i}/{}", r.name);
        }
    }
}

pub(crate) fn parse_api_specs(specs: &RuleFile) -> Result<Vec<Group>, Vec<Problem>> {
    let mut groups = rules::validate(specs, None, Origin::Api)?;
    assign_ids(&mut groups);
    Ok(groups)
}

impl Alerts {
    /// Loads the persisted state (a state file it cannot read is an error) and the built-ins.
    pub fn open(
        options: AlertsOptions,
        querier: Arc<dyn Querier>,
        notifier: Notifier,
    ) -> Result<Alerts, AlertsError> {
        let builtin = crate::builtin::groups(&options.builtin).map_err(AlertsError::Config)?;
        let persisted = match &options.state_path {
            Some(p) => state::load(p)?,
            None => Persisted::default(),
        };
        let api = parse_api_specs(&persisted.api_groups)
            .map_err(|p| AlertsError::State(format!("rules added through the API: {}", p[0])))?;
        let inner = Inner {
            builtin,
            dir: DirRules::default(),
            api,
            api_specs: persisted.api_groups,
            health: HashMap::new(),
            last_eval: HashMap::new(),
            active: persisted
                .alerts
                .into_iter()
                .map(|a| (a.fingerprint.clone(), a))
                .collect(),
            silences: persisted.silences,
            history: persisted.history,
        };
        Ok(Alerts {
            options,
            querier,
            notifier,
            inner: std::sync::Mutex::new(inner),
            running: tokio::sync::Mutex::new(()),
            stats: Stats::default(),
        })
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn options(&self) -> &AlertsOptions {
        &self.options
    }

    /// How often the server's task should call [`Alerts::evaluate_once`]: the shortest
    /// interval of any group.
    pub fn tick_ms(&self) -> i64 {
        let inner = self.lock();
        inner
            .groups()
            .filter_map(|g| g.interval_ms)
            .chain(std::iter::once(self.options.interval_ms))
            .min()
            .unwrap_or(self.options.interval_ms)
            .max(100)
    }

    /// Evaluates every group that is due at `now_ms`, moves alerts on, notifies and saves.
    /// A call while another runs returns at once (`skipped`): evaluations never overlap.
    pub async fn evaluate_once(&self, now_ms: i64) -> Round {
        let Ok(_running) = self.running.try_lock() else {
            self.stats.overlaps_skipped.fetch_add(1, Relaxed);
            return Round {
                skipped: true,
                ..Round::default()
            };
        };
        self.stats.evaluations.fetch_add(1, Relaxed);
        self.reload_dir().await;
        let due = self.due_groups(now_ms);
        let mut round = Round {
            groups: due.len(),
            ..Round::default()
        };
        // Groups run side by side (a slow triage does not hold the RED rules back); the rules
        // of a group one after the other, as in Prometheus.
        let evaluated =
            futures::future::join_all(due.iter().map(|g| self.evaluate_group(g, now_ms))).await;
        let mut resolved = Vec::new();
        for (events, gone) in evaluated {
            round.events += events;
            resolved.extend(gone);
        }
        let (orphan_events, orphans) = self.drop_orphans(now_ms);
        round.events += orphan_events;
        resolved.extend(orphans);
        self.notify(now_ms, resolved);
        if round.events > 0 {
            self.save(now_ms).await;
        }
        round
    }

    /// Evaluates one group's rules in order; returns its number of state changes and the
    /// alerts it resolved.
    async fn evaluate_group(&self, group: &Group, now_ms: i64) -> (usize, Vec<Active>) {
        let mut events = 0;
        let mut resolved = Vec::new();
        for rule in &group.rules {
            let started = std::time::Instant::now();
            let result = self.query(group, rule, now_ms).await;
            let took_ms = started.elapsed().as_secs_f64() * 1000.0;
            let (changes, gone) = self.apply(group, rule, (result, took_ms), now_ms);
            events += changes.len();
            resolved.extend(gone);
        }
        (events, resolved)
    }

    fn due_groups(&self, now_ms: i64) -> Vec<Group> {
        let mut inner = self.lock();
        let mut due = Vec::new();
        let groups: Vec<Group> = inner.groups().cloned().collect();
        for g in groups {
            let interval = g.interval_ms.unwrap_or(self.options.interval_ms);
            let last = inner.last_eval.get(&g.key()).copied();
            // A tenth of the interval early still counts as on time (timers drift).
            if last.is_none_or(|l| now_ms >= l + interval - interval / 10) {
                inner.last_eval.insert(g.key(), now_ms);
                due.push(g);
            }
        }
        due
    }

    async fn query(&self, group: &Group, rule: &Rule, now_ms: i64) -> Result<Vec<Found>, String> {
        let at = now_ms - group.query_offset_ms;
        let found = match rule.kind {
            RuleKind::Triage => self.querier.triage(rule.window_ms, at).await?,
            _ => self.querier.instant(&rule.expr, at).await?,
        };
        if group.limit > 0 && found.len() as u64 > group.limit {
            return Err(format!(
                "exceeded limit of {} with {} alerts",
                group.limit,
                found.len()
            ));
        }
        Ok(found)
    }

    /// Applies one rule's result; returns its state changes and the alerts it resolved.
    fn apply(
        &self,
        group: &Group,
        rule: &Rule,
        (result, took_ms): (Result<Vec<Found>, String>, f64),
        now_ms: i64,
    ) -> (Vec<Event>, Vec<Active>) {
        let mut inner = self.lock();
        let health = inner.health.entry(rule.id.clone()).or_default();
        health.last_evaluation_ms = Some(now_ms);
        health.duration_ms = took_ms;
        let found = match result {
            Ok(f) => {
                health.error = None;
                f
            }
            Err(e) => {
                tracing::debug!(rule = %rule.name, group = %group.name, error = %e, "rule evaluation failed");
                self.stats.rule_errors.fetch_add(1, Relaxed);
                health.error = Some(e);
                // The alerts stay as they are until the rule can be evaluated again.
                return (Vec::new(), Vec::new());
            }
        };
        let before: Vec<Active> = inner
            .active
            .values()
            .filter(|a| a.rule_id == rule.id)
            .cloned()
            .collect();
        for a in &before {
            inner.active.remove(&a.fingerprint);
        }
        let input = StepInput {
            group: &group.name,
            group_key: &group.key(),
            external_labels: &self.options.external_labels,
            now_ms,
        };
        let step = lifecycle::step(rule, &input, found, before);
        for a in step.active {
            inner.active.insert(a.fingerprint.clone(), a);
        }
        for e in &step.events {
            inner.history.push_back(e.clone());
        }
        self.trim_history(&mut inner.history, now_ms);
        (step.events, step.resolved)
    }

    fn trim_history(&self, history: &mut VecDeque<Event>, now_ms: i64) {
        while history.len() > self.options.history_limit
            || history
                .front()
                .is_some_and(|e| now_ms - e.at_ms > self.options.history_max_age_ms)
        {
            history.pop_front();
        }
    }

    /// Alerts whose rule is gone (its file changed, its group deleted) are resolved.
    fn drop_orphans(&self, now_ms: i64) -> (usize, Vec<Active>) {
        let mut inner = self.lock();
        let ids: std::collections::HashSet<String> = inner
            .groups()
            .flat_map(|g| g.rules.iter().map(|r| r.id.clone()))
            .collect();
        let orphans: Vec<String> = inner
            .active
            .values()
            .filter(|a| !ids.contains(&a.rule_id))
            .map(|a| a.fingerprint.clone())
            .collect();
        let mut resolved = Vec::new();
        for fp in &orphans {
            if let Some(mut a) = inner.active.remove(fp) {
                let event = Event {
                    at_ms: now_ms,
                    rule: a.rule.clone(),
                    group: a.group.clone(),
                    fingerprint: a.fingerprint.clone(),
                    service: a.service().map(str::to_string),
                    labels: a.labels.clone(),
                    from: a.state,
                    to: AlertState::Inactive,
                    severity: a.severity().to_string(),
                    value: a.value,
                };
                inner.history.push_back(event);
                if a.state == AlertState::Firing {
                    a.state = AlertState::Inactive;
                    resolved.push(a);
                }
            }
        }
        (orphans.len(), resolved)
    }

    fn outgoing(
        &self,
        a: &Active,
        labels: &BTreeMap<String, String>,
        end: Option<i64>,
        resolved: bool,
    ) -> Outgoing {
        Outgoing {
            fingerprint: a.fingerprint.clone(),
            labels: labels.clone(),
            annotations: a.annotations.clone(),
            starts_at_ms: a.active_at_ms,
            ends_at_ms: end,
            resolved,
            generator_url: format!(
                "{}/alerts?rule={}",
                self.options.external_url.trim_end_matches('/'),
                a.rule
            ),
        }
    }

    /// Sends what is due: to Alertmanager every firing alert not silenced, again every
    /// resend interval; to webhooks what changed. Resolved alerts go out once, where their
    /// firing went.
    fn notify(&self, now_ms: i64, resolved: Vec<Active>) {
        let resend = self.options.resend_interval_ms.max(1_000);
        // As Prometheus: Alertmanager resolves a firing alert by itself when it is not sent
        // again within four resend intervals.
        let valid_until = now_ms + 4 * resend.max(self.options.interval_ms);
        let mut to_am = Vec::new();
        let mut changes = Vec::new();
        let mut inner = self.lock();
        let silenced: Vec<String> = inner
            .active
            .values()
            .filter(|a| inner.silenced(&a.labels, now_ms))
            .map(|a| a.fingerprint.clone())
            .collect();
        for a in inner.active.values_mut() {
            if a.state != AlertState::Firing || silenced.contains(&a.fingerprint) {
                continue;
            }
            let changed = a.sent_labels.as_ref() != Some(&a.labels);
            if let Some(old) = a.sent_labels.as_ref().filter(|_| changed) {
                // Its severity changed: the alert under the old labels is over.
                let gone = self.outgoing(a, old, Some(now_ms), true);
                to_am.push(gone.clone());
                changes.push(gone);
            }
            let due = a.last_sent_ms.is_none_or(|t| now_ms - t >= resend);
            if changed || due {
                to_am.push(self.outgoing(a, &a.labels, Some(valid_until), false));
                a.last_sent_ms = Some(now_ms);
            }
            if changed {
                changes.push(self.outgoing(a, &a.labels, None, false));
                a.sent_labels = Some(a.labels.clone());
            }
        }
        drop(inner);
        for a in resolved.iter().filter(|a| a.sent_labels.is_some()) {
            let o = self.outgoing(a, &a.labels, Some(now_ms), true);
            to_am.push(o.clone());
            changes.push(o);
        }
        self.notifier.send(&to_am, &changes);
    }

    /// The state as persisted.
    fn persisted(&self, now_ms: i64) -> Persisted {
        let inner = self.lock();
        Persisted {
            version: state::VERSION,
            saved_at_ms: now_ms,
            alerts: inner.active.values().cloned().collect(),
            silences: inner.silences.clone(),
            history: inner.history.clone(),
            api_groups: inner.api_specs.clone(),
        }
    }

    /// Writes the state file (off the async threads); a failure is logged and counted.
    pub(crate) async fn save(&self, now_ms: i64) {
        let Some(path) = self.options.state_path.clone() else {
            return;
        };
        let snapshot = self.persisted(now_ms);
        let written = tokio::task::spawn_blocking(move || state::save(&path, &snapshot)).await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                self.stats.state_save_errors.fetch_add(1, Relaxed);
                tracing::warn!(error = %e, "could not save the alert state");
            }
            Err(e) => {
                self.stats.state_save_errors.fetch_add(1, Relaxed);
                tracing::warn!(error = %e, "saving the alert state failed");
            }
        }
    }

    async fn reload_dir(&self) {
        let Some(dir) = self.options.rules_dir.clone() else {
            return;
        };
        let before = self.lock().dir.clone();
        let scanned = tokio::task::spawn_blocking(move || crate::dir::scan(&dir, &before)).await;
        let Ok(Some(loaded)) = scanned else {
            return;
        };
        let mut loaded = loaded;
        assign_ids(&mut loaded.groups);
        for p in &loaded.problems {
            self.stats.rejected_rule_files.fetch_add(1, Relaxed);
            tracing::warn!(problem = %p, "rule file not loaded");
        }
        tracing::info!(groups = loaded.groups.len(), "rules directory read");
        self.lock().dir = loaded;
    }

    pub fn notifier(&self) -> &Notifier {
        &self.notifier
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
