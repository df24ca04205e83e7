//! The life of an alert, as in Prometheus: a series the rule finds becomes `pending`; after
//! `for` it is `firing`; once the rule no longer finds it (and `keep_firing_for` has passed)
//! it is resolved (`inactive`). A pending alert the rule no longer finds is dropped.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::rules::Rule;
use crate::template::Data;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Inactive,
    Pending,
    Firing,
}

/// An alert that is pending or firing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Active {
    pub fingerprint: String,
    pub rule_id: String,
    pub rule: String,
    pub group: String,
    pub state: AlertState,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub value: f64,
    pub active_at_ms: i64,
    pub fired_at_ms: Option<i64>,
    /// When the rule last found it.
    pub last_seen_ms: i64,
    /// When it was last sent to Alertmanager.
    #[serde(default)]
    pub last_sent_ms: Option<i64>,
    /// The labels it was last sent with (a severity change resolves the old ones there).
    #[serde(default)]
    pub sent_labels: Option<BTreeMap<String, String>>,
}

impl Active {
    pub fn severity(&self) -> &str {
        self.labels.get("severity").map_or("none", String::as_str)
    }

    /// The service it is about: its `service` label, else `job`.
    pub fn service(&self) -> Option<&str> {
        service_of(&self.labels)
    }
}

pub fn service_of(labels: &BTreeMap<String, String>) -> Option<&str> {
    labels
        .get("service")
        .or_else(|| labels.get("job"))
        .map(String::as_str)
        .filter(|s| !s.is_empty())
}

/// One change of state, kept in the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub at_ms: i64,
    pub rule: String,
    pub group: String,
    pub fingerprint: String,
    pub service: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub from: AlertState,
    pub to: AlertState,
    pub severity: String,
    pub value: f64,
}

impl Event {
    fn of(a: &Active, from: AlertState, to: AlertState, at_ms: i64) -> Event {
        Event {
            at_ms,
            rule: a.rule.clone(),
            group: a.group.clone(),
            fingerprint: a.fingerprint.clone(),
            service: a.service().map(str::to_string),
            labels: a.labels.clone(),
            from,
            to,
            severity: a.severity().to_string(),
            value: a.value,
        }
    }
}

/// A series the rule found, with its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
    /// Annotations the source adds (a triage finding's summary).
    pub annotations: BTreeMap<String, String>,
}

/// What one evaluation of a rule changed.
#[derive(Debug, Default)]
pub struct Step {
    /// The rule's alerts after this evaluation.
    pub active: Vec<Active>,
    pub events: Vec<Event>,
    /// Alerts that just resolved, to notify once more.
    pub resolved: Vec<Active>,
}

/// The stable id of an alert: its group and labels, hashed (FNV-1a, 64 bits).
pub fn fingerprint(group_key: &str, labels: &BTreeMap<String, String>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    feed(group_key.as_bytes());
    for (k, v) in labels {
        feed(k.as_bytes());
        feed(v.as_bytes());
    }
    format!("{h:016x}")
}

/// The labels of an alert: the series' (without `__name__`), then the rule's (templated),
/// then `alertname`, then the severity its thresholds give.
pub fn alert_labels(
    rule: &Rule,
    found: &Found,
    external: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut labels = found.labels.clone();
    labels.remove("__name__");
    let data = Data {
        labels: &found.labels,
        external_labels: external,
        value: found.value,
    };
    for (k, t) in &rule.label_templates {
        let v = t
            .render(&data)
            .unwrap_or_else(|e| format!("template error: {e}"));
        labels.insert(k.clone(), v);
    }
    labels.insert("alertname".to_string(), rule.name.clone());
    if let Some(sev) = rule.thresholds.and_then(|t| t.severity(found.value)) {
        labels.insert("severity".to_string(), sev.to_string());
    }
    labels
}

/// Annotations rendered with the alert's labels and value.
pub fn render_annotations(
    rule: &Rule,
    labels: &BTreeMap<String, String>,
    found: &Found,
    external: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let data = Data {
        labels,
        external_labels: external,
        value: found.value,
    };
    let mut out = found.annotations.clone();
    for (k, t) in &rule.annotation_templates {
        let v = t
            .render(&data)
            .unwrap_or_else(|e| format!("template error: {e}"));
        out.insert(k.clone(), v);
    }
    out
}

/// The inputs of one step beyond the rule.
pub struct StepInput<'a> {
    pub group: &'a str,
    pub group_key: &'a str,
    pub external_labels: &'a BTreeMap<String, String>,
    pub now_ms: i64,
}

/// One evaluation: what the rule found against its alerts before.
pub fn step(rule: &Rule, input: &StepInput, found: Vec<Found>, before: Vec<Active>) -> Step {
    let now = input.now_ms;
    let mut previous: BTreeMap<String, Active> = before
        .into_iter()
        .map(|a| (a.fingerprint.clone(), a))
        .collect();
    let mut out = Step::default();
    for f in found {
        if rule
            .thresholds
            .is_some_and(|t| t.severity(f.value).is_none())
        {
            continue;
        }
        let labels = alert_labels(rule, &f, input.external_labels);
        // The severity a threshold gives is not part of the identity: it may change.
        let mut identity = labels.clone();
        if rule.thresholds.is_some() {
            identity.remove("severity");
        }
        let fp = fingerprint(input.group_key, &identity);
        let annotations = render_annotations(rule, &labels, &f, input.external_labels);
        let mut alert = previous.remove(&fp).unwrap_or_else(|| Active {
            fingerprint: fp,
            rule_id: rule.id.clone(),
            rule: rule.name.clone(),
            group: input.group.to_string(),
            state: AlertState::Inactive,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            value: f.value,
            active_at_ms: now,
            fired_at_ms: None,
            last_seen_ms: now,
            last_sent_ms: None,
            sent_labels: None,
        });
        alert.labels = labels;
        alert.annotations = annotations;
        alert.value = f.value;
        alert.last_seen_ms = now;
        alert.rule_id = rule.id.clone();
        advance(rule, &mut alert, now, &mut out.events);
        out.active.push(alert);
    }
    for (_, mut alert) in previous {
        let kept = alert.state == AlertState::Firing
            && rule.keep_firing_for_ms > 0
            && now - alert.last_seen_ms < rule.keep_firing_for_ms;
        if kept {
            out.active.push(alert);
            continue;
        }
        let from = alert.state;
        out.events
            .push(Event::of(&alert, from, AlertState::Inactive, now));
        if from == AlertState::Firing {
            alert.state = AlertState::Inactive;
            out.resolved.push(alert);
        }
    }
    out
}

/// Moves a found alert on: inactive → pending (or firing at once without `for`), pending →
/// firing once `for` has passed since it became active.
fn advance(rule: &Rule, alert: &mut Active, now: i64, events: &mut Vec<Event>) {
    if alert.state == AlertState::Inactive {
        alert.active_at_ms = now;
        alert.state = AlertState::Pending;
        if rule.for_ms > 0 {
            events.push(Event::of(
                alert,
                AlertState::Inactive,
                AlertState::Pending,
                now,
            ));
            return;
        }
    }
    if alert.state == AlertState::Pending && now - alert.active_at_ms >= rule.for_ms {
        let from = if rule.for_ms > 0 {
            AlertState::Pending
        } else {
            AlertState::Inactive
        };
        alert.state = AlertState::Firing;
        alert.fired_at_ms = Some(now);
        events.push(Event::of(alert, from, AlertState::Firing, now));
    }
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
