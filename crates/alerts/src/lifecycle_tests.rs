#![allow(clippy::unwrap_used)]
use super::*;
use crate::rules::{Origin, parse};

fn rule(extra: &str) -> Rule {
    let text = format!(
        "groups:\n- name: g\n  rules:\n  - alert: HighErrors\n    expr: errors > 0.1\n{extra}    labels:\n      service: '{{{{ $labels.job }}}}'\n    annotations:\n      summary: '{{{{ $labels.job }}}} at {{{{ humanizePercentage $value }}}}'\n"
    );
    parse(&text, None, Origin::Api)
        .unwrap()
        .remove(0)
        .rules
        .remove(0)
}

fn found(job: &str, value: f64) -> Found {
    Found {
        labels: [
            ("__name__".to_string(), "errors".to_string()),
            ("job".to_string(), job.to_string()),
        ]
        .into(),
        value,
        annotations: BTreeMap::new(),
    }
}

struct Clock {
    rule: Rule,
    alerts: Vec<Active>,
    events: Vec<Event>,
    resolved: Vec<Active>,
}

impl Clock {
    fn new(rule: Rule) -> Clock {
        Clock {
            rule,
            alerts: Vec::new(),
            events: Vec::new(),
            resolved: Vec::new(),
        }
    }

    /// Evaluates at `t` seconds with what the rule finds.
    fn at(&mut self, t: i64, found: Vec<Found>) -> Option<AlertState> {
        let external = BTreeMap::new();
        let input = StepInput {
            group: "g",
            group_key: "Api:g",
            external_labels: &external,
            now_ms: t * 1000,
        };
        let s = step(&self.rule, &input, found, std::mem::take(&mut self.alerts));
        self.alerts = s.active;
        self.events.extend(s.events);
        self.resolved.extend(s.resolved);
        self.alerts.first().map(|a| a.state)
    }
}

#[test]
fn pending_for_then_firing_then_resolved() {
    let mut c = Clock::new(rule("    for: 2m\n"));
    assert_eq!(c.at(0, vec![]), None);
    assert_eq!(
        c.at(30, vec![found("payment", 0.4)]),
        Some(AlertState::Pending)
    );
    assert_eq!(
        c.at(90, vec![found("payment", 0.4)]),
        Some(AlertState::Pending)
    );
    assert_eq!(
        c.at(150, vec![found("payment", 0.5)]),
        Some(AlertState::Firing)
    );
    let a = &c.alerts[0];
    assert_eq!(a.active_at_ms, 30_000);
    assert_eq!(a.fired_at_ms, Some(150_000));
    assert_eq!(a.labels["alertname"], "HighErrors");
    assert_eq!(a.labels["service"], "payment");
    assert!(!a.labels.contains_key("__name__"));
    assert_eq!(a.annotations["summary"], "payment at 50%");
    assert_eq!(c.at(180, vec![]), None);
    assert_eq!(c.resolved.len(), 1);
    let transitions: Vec<(AlertState, AlertState)> =
        c.events.iter().map(|e| (e.from, e.to)).collect();
    assert_eq!(
        transitions,
        vec![
            (AlertState::Inactive, AlertState::Pending),
            (AlertState::Pending, AlertState::Firing),
            (AlertState::Firing, AlertState::Inactive),
        ]
    );
    assert_eq!(c.events[1].service.as_deref(), Some("payment"));
}

#[test]
fn a_pending_alert_that_goes_away_never_fires() {
    let mut c = Clock::new(rule("    for: 2m\n"));
    c.at(0, vec![found("payment", 0.4)]);
    assert_eq!(c.at(60, vec![]), None);
    assert!(c.resolved.is_empty());
    // It starts over when found again.
    c.at(90, vec![found("payment", 0.4)]);
    assert_eq!(c.alerts[0].active_at_ms, 90_000);
}

#[test]
fn keep_firing_for_holds_a_resolved_alert() {
    let mut c = Clock::new(rule("    keep_firing_for: 1m\n"));
    // Without `for` it fires at once.
    assert_eq!(c.at(0, vec![found("cart", 0.2)]), Some(AlertState::Firing));
    assert_eq!(c.events[0].from, AlertState::Inactive);
    assert_eq!(c.at(30, vec![]), Some(AlertState::Firing));
    assert_eq!(c.at(50, vec![]), Some(AlertState::Firing));
    // Found again: it goes on with its first active_at.
    assert_eq!(c.at(55, vec![found("cart", 0.2)]), Some(AlertState::Firing));
    assert_eq!(c.alerts[0].active_at_ms, 0);
    assert_eq!(c.at(100, vec![]), Some(AlertState::Firing));
    assert_eq!(c.at(115, vec![]), None);
    assert_eq!(c.resolved.len(), 1);
}

#[test]
fn each_series_is_its_own_alert() {
    let mut c = Clock::new(rule(""));
    c.at(0, vec![found("cart", 0.2), found("payment", 0.3)]);
    assert_eq!(c.alerts.len(), 2);
    assert_ne!(c.alerts[0].fingerprint, c.alerts[1].fingerprint);
    c.at(30, vec![found("payment", 0.3)]);
    assert_eq!(c.alerts.len(), 1);
    assert_eq!(c.alerts[0].labels["job"], "payment");
}

#[test]
fn threshold_severity_follows_the_value_and_keeps_the_alert() {
    let text = "groups:\n- name: g\n  rules:\n  - alert: Ratio\n    expr: errors\n    thresholds: {degraded: 0.05, critical: 0.1}\n";
    let r = parse(text, None, Origin::Api)
        .unwrap()
        .remove(0)
        .rules
        .remove(0);
    let mut c = Clock::new(r);
    assert_eq!(c.at(0, vec![found("cart", 0.01)]), None);
    c.at(30, vec![found("cart", 0.07)]);
    assert_eq!(c.alerts[0].labels["severity"], "degraded");
    let fp = c.alerts[0].fingerprint.clone();
    c.at(60, vec![found("cart", 0.3)]);
    assert_eq!(c.alerts[0].labels["severity"], "critical");
    assert_eq!(c.alerts[0].fingerprint, fp);
    assert_eq!(c.alerts[0].active_at_ms, 30_000);
    assert_eq!(c.at(90, vec![found("cart", 0.02)]), None);
}
