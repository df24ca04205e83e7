//! Rules applied to rows: which match, and what each action does to them.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use model::{LogRow, MetricPointRow, Signal, SpanRow};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::derive::{self, Derived, Source};
use crate::redact::redact;
use crate::rules::{Action, Match, Rule};
use crate::size::{log_bytes, point_bytes};
use crate::tail::{self, TailPolicy, TailSampler, TraceFacts, Verdict};

/// The attribute a sampled record carries: the share of its kind that was kept, so that counts
/// can be weighted back (a record kept at 0.1 stands for ten).
pub const SAMPLE_RATE_ATTRIBUTE: &str = "redscope.sample_rate";
/// The value a label over its cardinality limit takes.
pub const OVERFLOW_VALUE: &str = "__overflow__";
/// Most (rule, metric, label) value sets `limit_cardinality` keeps.
const MAX_TRACKED: usize = 10_000;

/// What one rule matched and saved since it was loaded.
#[derive(Debug, Default)]
pub struct RuleStats {
    pub matched: AtomicU64,
    pub dropped: AtomicU64,
    pub changed: AtomicU64,
    pub bytes_saved: AtomicU64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleStatsView {
    pub matched: u64,
    pub dropped: u64,
    pub changed: u64,
    pub bytes_saved: u64,
}

impl RuleStats {
    pub fn view(&self) -> RuleStatsView {
        RuleStatsView {
            matched: self.matched.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            changed: self.changed.load(Ordering::Relaxed),
            bytes_saved: self.bytes_saved.load(Ordering::Relaxed),
        }
    }

    fn add(&self, matched: u64, dropped: u64, changed: u64, saved: u64) {
        self.matched.fetch_add(matched, Ordering::Relaxed);
        self.dropped.fetch_add(dropped, Ordering::Relaxed);
        self.changed.fetch_add(changed, Ordering::Relaxed);
        self.bytes_saved.fetch_add(saved, Ordering::Relaxed);
    }
}

/// The fields of a row the conditions look at.
struct View<'a> {
    service: &'a str,
    name: &'a str,
    severity: Option<i32>,
    template_id: Option<&'a str>,
    body: &'a str,
    attributes: &'a str,
}

impl Match {
    fn holds(&self, v: &View) -> bool {
        if self.service.as_deref().is_some_and(|s| s != v.service)
            || self
                .service_regex
                .as_ref()
                .is_some_and(|r| !r.is_match(v.service))
            || self.name.as_deref().is_some_and(|n| n != v.name)
            || self
                .name_regex
                .as_ref()
                .is_some_and(|r| !r.is_match(v.name))
            || self
                .template_id
                .as_deref()
                .is_some_and(|t| Some(t) != v.template_id)
            || self
                .body_regex
                .as_ref()
                .is_some_and(|r| !r.is_match(v.body))
        {
            return false;
        }
        // A record without a level (0) is below no level: "drop what is below INFO" keeps it.
        if let Some(below) = self.severity_below
            && !v.severity.is_some_and(|s| s > 0 && s < below)
        {
            return false;
        }
        if self.attributes.is_empty() {
            return true;
        }
        let Ok(Value::Object(attrs)) = serde_json::from_str::<Value>(v.attributes) else {
            return false;
        };
        self.attributes.iter().all(|(k, want)| match attrs.get(k) {
            Some(Value::String(s)) => s == want,
            Some(other) => want.as_str() == other.to_string().as_str(),
            None => false,
        })
    }
}

fn log_view(r: &LogRow) -> View<'_> {
    View {
        service: &r.resource.service_name,
        name: "",
        severity: Some(r.severity_number),
        template_id: r.log_template_id.as_deref(),
        body: &r.body,
        attributes: &r.attributes,
    }
}

fn span_view(r: &SpanRow) -> View<'_> {
    View {
        service: &r.resource.service_name,
        name: &r.name,
        severity: None,
        template_id: None,
        body: "",
        attributes: &r.attributes,
    }
}

/// Whether a span with these fields meets `when` (for rules applied outside of rows).
pub(crate) fn span_holds(when: &Match, service: &str, name: &str, attributes: &str) -> bool {
    when.holds(&View {
        service,
        name,
        severity: None,
        template_id: None,
        body: "",
        attributes,
    })
}

fn point_view(r: &MetricPointRow) -> View<'_> {
    View {
        service: &r.resource.service_name,
        name: &r.metric_name,
        severity: None,
        template_id: None,
        body: "",
        attributes: &r.attributes,
    }
}

/// Whether a sampled record is kept: the same answer for the same key, so all records of one
/// trace are kept or dropped together.
fn kept(key: &[u8], rate: f64) -> bool {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    (h.finish() as f64 / u64::MAX as f64) < rate
}

/// A stored record's fields that rules match on (see [`RuleSet::expired`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Fields<'a> {
    pub service: &'a str,
    /// A span's or a metric's name.
    pub name: &'a str,
    /// A log record's severity number.
    pub severity: Option<i32>,
    pub template_id: Option<&'a str>,
    pub body: &'a str,
    pub attributes: &'a str,
}

/// `attributes` (a JSON object as text) changed by `f`; `None` when it is not an object.
fn edit_attributes(attributes: &str, f: impl FnOnce(&mut Map<String, Value>)) -> Option<String> {
    let Ok(Value::Object(mut map)) = serde_json::from_str::<Value>(attributes) else {
        return None;
    };
    f(&mut map);
    serde_json::to_string(&map).ok()
}

/// Redacts `text` in place; how many values were found and how many bytes it shrank by.
fn redact_in_place(text: &mut String, action: &Action) -> (u64, u64) {
    let Action::Redact {
        detectors,
        patterns,
        hash,
    } = action
    else {
        return (0, 0);
    };
    let (out, n) = redact(text, detectors, patterns, *hash);
    if n == 0 {
        return (0, 0);
    }
    let saved = text.len().saturating_sub(out.len()) as u64;
    *text = out.into_owned();
    (n, saved)
}

fn remove_keys(attributes: &mut String, keys: &[String]) -> u64 {
    if !keys.iter().any(|k| attributes.contains(k.as_str())) {
        return 0;
    }
    let before = attributes.len();
    if let Some(out) = edit_attributes(attributes, |m| {
        keys.iter().for_each(|k| {
            m.remove(k);
        })
    }) && out.len() < before
    {
        *attributes = out;
        return (before - attributes.len()) as u64;
    }
    0
}

/// The rules of one loaded rule file, with their counters.
#[derive(Debug)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub stats: Vec<RuleStats>,
    /// Values seen per (rule, metric, label) by `limit_cardinality`.
    seen: Mutex<HashMap<(usize, String, String), HashSet<String>>>,
    /// What the `metric` rules counted since the rules were loaded.
    pub derived: Derived,
    /// The tail sampling rule's recent decisions.
    tail: TailSampler,
}

impl RuleSet {
    pub fn new(rules: Vec<Rule>) -> RuleSet {
        let stats = rules.iter().map(|_| RuleStats::default()).collect();
        RuleSet {
            rules,
            stats,
            seen: Mutex::new(HashMap::new()),
            derived: Derived::default(),
            tail: TailSampler::default(),
        }
    }

    /// The tail sampling rule, if any: its position, conditions and policy.
    pub fn tail_rule(&self) -> Option<(usize, &Match, &TailPolicy)> {
        self.rules
            .iter()
            .enumerate()
            .find_map(|(i, r)| match &r.action {
                Action::TailSample(p) => Some((i, &r.when, p)),
                _ => None,
            })
    }

    /// Whether a span meets the tail rule's conditions (`false` without a tail rule).
    pub fn tail_matches(&self, service: &str, name: &str, attributes: &str) -> bool {
        self.tail_rule()
            .is_some_and(|(_, when, _)| tail::span_matches(when, service, name, attributes))
    }

    /// Decides one trace's spans about to be written under the tail rule, counting what it
    /// matched, dropped and saved. Without a tail rule every trace is kept.
    pub fn decide_trace(&self, trace_id: &str, facts: &TraceFacts) -> Verdict {
        let Some((i, _, policy)) = self.tail_rule() else {
            return Verdict::Unmatched;
        };
        let verdict = self.tail.decide(policy, trace_id, facts);
        if verdict != Verdict::Unmatched {
            let (dropped, saved) = if verdict.keeps() {
                (0, 0)
            } else {
                (facts.spans, facts.bytes)
            };
            self.stats[i].add(facts.spans, dropped, 0, saved);
        }
        verdict
    }

    /// How long the `retain` rules of `signal` keep their records, shortest first.
    pub fn keeps(&self, signal: Signal) -> Vec<i64> {
        let mut keeps: Vec<i64> = self
            .of(signal)
            .filter_map(|(_, r)| match r.action {
                Action::Retain { keep_ns } => Some(keep_ns),
                _ => None,
            })
            .collect();
        keeps.sort_unstable();
        keeps.dedup();
        keeps
    }

    /// Whether a stored record of `signal` with these fields, `age_ns` old, is past what the
    /// first `retain` rule it matches keeps; such a record is counted as that rule's (matched,
    /// dropped, `bytes` saved). Records no `retain` rule matches follow the signal's retention.
    pub fn expired(&self, signal: Signal, fields: &Fields, age_ns: i64, bytes: u64) -> bool {
        let view = View {
            service: fields.service,
            name: fields.name,
            severity: fields.severity,
            template_id: fields.template_id,
            body: fields.body,
            attributes: fields.attributes,
        };
        for (i, rule) in self.of(signal) {
            let Action::Retain { keep_ns } = rule.action else {
                continue;
            };
            if rule.when.holds(&view) {
                let gone = age_ns > keep_ns;
                if gone {
                    self.stats[i].add(1, 1, 0, bytes);
                }
                return gone;
            }
        }
        false
    }

    /// Whether any rule makes metrics (whose points [`Self::metric_points`] are).
    pub fn makes_metrics(&self) -> bool {
        self.rules
            .iter()
            .any(|r| matches!(r.action, Action::Metric(_)))
    }

    /// The points of the `metric` rules at `now_ns`: cumulative sums and histograms since
    /// `started_ns` (when the rules were loaded), see [`Derived::points`].
    pub fn metric_points(&self, now_ns: i64, started_ns: i64) -> Vec<MetricPointRow> {
        let specs: Vec<_> = self
            .rules
            .iter()
            .enumerate()
            .filter_map(|(i, r)| match &r.action {
                Action::Metric(spec) => Some((i, spec)),
                _ => None,
            })
            .collect();
        if specs.is_empty() {
            return Vec::new();
        }
        self.derived.points(&specs, now_ns, started_ns)
    }

    /// Counts the rows rule `i` matches into its metric; how many matched.
    fn count_into_metric<R>(
        &self,
        i: usize,
        rule: &Rule,
        spec: &derive::MetricSpec,
        rows: &[R],
        view: impl Fn(&R) -> View<'_>,
        source: impl Fn(&R, &mut dyn FnMut(&Source)),
    ) -> u64 {
        self.derived
            .with_rule(i, |series| {
                let mut matched = 0;
                for r in rows {
                    if rule.when.holds(&view(r)) {
                        matched += 1;
                        source(r, &mut |src| derive::record(series, spec, src));
                    }
                }
                matched
            })
            .unwrap_or(0)
    }

    fn of(&self, signal: Signal) -> impl Iterator<Item = (usize, &Rule)> {
        self.rules
            .iter()
            .enumerate()
            .filter(move |(_, r)| r.signal.is_none_or(|s| s == signal))
    }

    pub fn applies_to(&self, signal: Signal) -> bool {
        self.of(signal).next().is_some()
    }

    /// Applies the log rules in order; dropped records leave `rows`.
    pub fn apply_logs(&self, rows: &mut Vec<LogRow>) {
        for (i, rule) in self.of(Signal::Logs) {
            if matches!(rule.action, Action::Retain { .. }) {
                continue;
            }
            let stats = &self.stats[i];
            if let Action::Metric(spec) = &rule.action {
                let matched = self.count_into_metric(i, rule, spec, rows, log_view, |r, f| {
                    let field = |k: &str| derive::log_field(r, k);
                    f(&Source::of_log(r, &field))
                });
                stats.add(matched, 0, 0, 0);
                continue;
            }
            let (mut matched, mut dropped, mut changed, mut saved) = (0, 0, 0, 0);
            rows.retain_mut(|r| {
                if !rule.when.holds(&log_view(r)) {
                    return true;
                }
                matched += 1;
                match &rule.action {
                    Action::Drop => {
                        dropped += 1;
                        saved += log_bytes(r);
                        false
                    }
                    Action::Sample { rate } => {
                        let key = if r.trace_id.is_empty() {
                            r.body.as_bytes()
                        } else {
                            r.trace_id.as_bytes()
                        };
                        if kept(key, *rate) {
                            mark_sampled(&mut r.attributes, *rate);
                            true
                        } else {
                            dropped += 1;
                            saved += log_bytes(r);
                            false
                        }
                    }
                    Action::RemoveAttributes { keys } => {
                        let s = remove_keys(&mut r.attributes, keys);
                        changed += u64::from(s > 0);
                        saved += s;
                        true
                    }
                    action @ Action::Redact { .. } => {
                        let (n1, s1) = redact_in_place(&mut r.body, action);
                        let (n2, s2) = redact_in_place(&mut r.attributes, action);
                        changed += u64::from(n1 + n2 > 0);
                        saved += s1 + s2;
                        true
                    }
                    Action::LimitCardinality { .. }
                    | Action::Metric(_)
                    | Action::TailSample(_)
                    | Action::Retain { .. } => true,
                }
            });
            stats.add(matched, dropped, changed, saved);
        }
    }

    /// Applies the span rules (attribute removal and redaction: spans are never dropped here;
    /// the tail sampling rule decides when they are written to files, [`Self::decide_trace`]).
    pub fn apply_spans(&self, rows: &mut [SpanRow]) {
        for (i, rule) in self.of(Signal::Spans) {
            if matches!(rule.action, Action::TailSample(_) | Action::Retain { .. }) {
                continue;
            }
            if let Action::Metric(spec) = &rule.action {
                let matched = self.count_into_metric(i, rule, spec, rows, span_view, |r, f| {
                    let field = |k: &str| derive::span_field(r, k);
                    f(&Source::of_span(r, &field))
                });
                self.stats[i].add(matched, 0, 0, 0);
                continue;
            }
            let (mut matched, mut changed, mut saved) = (0, 0, 0);
            for r in rows.iter_mut() {
                if !rule.when.holds(&span_view(r)) {
                    continue;
                }
                matched += 1;
                match &rule.action {
                    Action::RemoveAttributes { keys } => {
                        let s = remove_keys(&mut r.attributes, keys);
                        changed += u64::from(s > 0);
                        saved += s;
                    }
                    action @ Action::Redact { .. } => {
                        let mut n = 0;
                        for text in [&mut r.attributes, &mut r.events, &mut r.status_message] {
                            let (found, s) = redact_in_place(text, action);
                            n += found;
                            saved += s;
                        }
                        changed += u64::from(n > 0);
                    }
                    _ => {}
                }
            }
            self.stats[i].add(matched, 0, changed, saved);
        }
    }

    /// Applies the metric rules in order; dropped points leave `rows`.
    pub fn apply_metrics(&self, rows: &mut Vec<MetricPointRow>) {
        for (i, rule) in self.of(Signal::Metrics) {
            if matches!(rule.action, Action::Retain { .. }) {
                continue;
            }
            let (mut matched, mut dropped, mut changed, mut saved) = (0, 0, 0, 0);
            rows.retain_mut(|r| {
                if !rule.when.holds(&point_view(r)) {
                    return true;
                }
                matched += 1;
                let size = point_bytes(r);
                match &rule.action {
                    Action::Drop => {
                        dropped += 1;
                        saved += size;
                        false
                    }
                    Action::Sample { rate } => {
                        let key = format!("{}{}{}", r.metric_name, r.attributes, r.time_unix_nano);
                        if kept(key.as_bytes(), *rate) {
                            mark_sampled(&mut r.attributes, *rate);
                            true
                        } else {
                            dropped += 1;
                            saved += size;
                            false
                        }
                    }
                    Action::RemoveAttributes { keys } => {
                        let s = remove_keys(&mut r.attributes, keys);
                        changed += u64::from(s > 0);
                        saved += s;
                        true
                    }
                    action @ Action::Redact { .. } => {
                        let (n, s) = redact_in_place(&mut r.attributes, action);
                        changed += u64::from(n > 0);
                        saved += s;
                        true
                    }
                    Action::LimitCardinality { keys, max_values } => {
                        changed += u64::from(self.limit(i, r, keys, *max_values));
                        true
                    }
                    Action::Metric(_) | Action::TailSample(_) | Action::Retain { .. } => true,
                }
            });
            self.stats[i].add(matched, dropped, changed, saved);
        }
    }

    /// Replaces label values past the `max` first seen per metric and label; whether any was.
    fn limit(&self, rule: usize, r: &mut MetricPointRow, keys: &[String], max: usize) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return false;
        };
        let mut over = false;
        let metric = r.metric_name.clone();
        let out = edit_attributes(&r.attributes, |m| {
            for (k, v) in m.iter_mut() {
                if !keys.is_empty() && !keys.contains(k) {
                    continue;
                }
                let text = match &*v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let key = (rule, metric.clone(), k.clone());
                // Past MAX_TRACKED (metric, label) pairs a new pair's values all overflow, so
                // that a sender inventing metric names cannot grow the memory without bound.
                if !seen.contains_key(&key) && seen.len() >= MAX_TRACKED {
                    *v = Value::String(OVERFLOW_VALUE.into());
                    over = true;
                    continue;
                }
                let values = seen.entry(key).or_default();
                if values.contains(&text) || values.len() < max {
                    values.insert(text);
                } else {
                    *v = Value::String(OVERFLOW_VALUE.into());
                    over = true;
                }
            }
        });
        if over && let Some(out) = out {
            r.attributes = out;
        }
        over
    }
}

/// `attributes` (a JSON object as text) with the share its record was kept at
/// ([`SAMPLE_RATE_ATTRIBUTE`]); unchanged when it is not an object.
pub fn note_sample_rate(attributes: &str, rate: f64) -> String {
    let mut out = attributes.to_string();
    mark_sampled(&mut out, rate);
    out
}

fn mark_sampled(attributes: &mut String, rate: f64) {
    if let Some(out) = edit_attributes(attributes, |m| {
        m.insert(SAMPLE_RATE_ATTRIBUTE.into(), Value::from(rate));
    }) {
        *attributes = out;
    }
}
