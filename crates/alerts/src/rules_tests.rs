#![allow(clippy::unwrap_used)]
use super::*;

const FILE: &str = r#"
groups:
  - name: payment
    interval: 30s
    rules:
      - alert: HighErrorRatio
        expr: sum by (job) (rate(redscope_span_errors_total[5m])) / sum by (job) (rate(redscope_span_requests_total[5m])) > 0.1
        for: 2m
        keep_firing_for: 5m
        labels:
          severity: critical
          team: "{{ $labels.job }}-oncall"
        annotations:
          summary: "{{ $labels.job }} fails {{ humanizePercentage $value }}"
      - alert: Ratio
        expr: sum by (job) (rate(redscope_span_errors_total[5m]))
        thresholds: {degraded: 0.05, critical: 0.1}
"#;

#[test]
fn a_prometheus_rule_file_is_read() {
    let groups = parse(FILE, Some("payment.yml"), Origin::Dir).unwrap();
    assert_eq!(groups.len(), 1);
    let g = &groups[0];
    assert_eq!(g.interval_ms, Some(30_000));
    assert_eq!(g.file.as_deref(), Some("payment.yml"));
    let r = &g.rules[0];
    assert_eq!(r.name, "HighErrorRatio");
    assert_eq!(r.for_ms, 120_000);
    assert_eq!(r.keep_firing_for_ms, 300_000);
    assert_eq!(r.labels["severity"], "critical");
    assert_eq!(r.label_templates.len(), 2);
    assert_eq!(r.annotation_templates.len(), 1);
    assert_eq!(g.rules[1].thresholds.unwrap().critical, Some(0.1));
}

#[test]
fn a_prometheus_rule_object_is_read_from_its_spec() {
    let object = format!(
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: payment\n  namespace: shop\nspec:\n{}",
        FILE.lines()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let groups = parse(&object, None, Origin::Api).unwrap();
    assert_eq!(groups[0].rules.len(), 2);
    // JSON is read too.
    let json = r#"{"groups":[{"name":"j","rules":[{"alert":"A","expr":"vector(1)"}]}]}"#;
    assert_eq!(parse(json, None, Origin::Api).unwrap()[0].name, "j");
}

fn problems(text: &str) -> Vec<Problem> {
    parse(text, Some("bad.yml"), Origin::Dir).unwrap_err()
}

#[test]
fn problems_name_the_file_group_rule_and_field() {
    let p = problems(
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: 'sum(rate(x[5m]'\n  - alert: B\n    expr: up\n    for: 5 minutes\n",
    );
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!(p[0].file.as_deref(), Some("bad.yml"));
    assert_eq!(p[0].group.as_deref(), Some("g"));
    assert_eq!(p[0].rule.as_deref(), Some("A"));
    assert_eq!(p[0].field.as_deref(), Some("expr"));
    assert!(
        p[0].message.contains("could not parse expression"),
        "{}",
        p[0]
    );
    assert_eq!(p[1].rule.as_deref(), Some("B"));
    assert_eq!(p[1].field.as_deref(), Some("for"));
    let text = p[0].to_string();
    assert!(
        text.starts_with("bad.yml, group \"g\", rule \"A\", field expr:"),
        "{text}"
    );
}

#[test]
fn recording_rules_unknown_fields_and_bad_templates_are_refused() {
    let p =
        problems("groups:\n- name: g\n  rules:\n  - record: job:x:rate5m\n    expr: rate(x[5m])\n");
    assert!(
        p[0].message.contains("recording rules are not supported"),
        "{p:?}"
    );
    let p =
        problems("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    severity: high\n");
    assert!(p[0].message.contains("severity"), "{p:?}");
    let p = problems(
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    annotations:\n      summary: '{{ nope $value }}'\n",
    );
    assert_eq!(p[0].field.as_deref(), Some("annotations.summary"), "{p:?}");
    let p = problems(
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    thresholds: {degraded: 2, critical: 1}\n",
    );
    assert_eq!(p[0].field.as_deref(), Some("thresholds"), "{p:?}");
    let p = problems("groups:\n- name: g\n  rules: []\n- name: g\n  rules: []\n");
    assert!(p[0].message.contains("already"), "{p:?}");
    let p = problems("groups:\n- name: g\n  rules:\n  - expr: up\n");
    assert!(p[0].message.contains("'record' or 'alert'"), "{p:?}");
    let p = problems("groups: [");
    assert!(p[0].message.contains("YAML"), "{p:?}");
}

#[test]
fn thresholds_give_the_highest_severity_crossed() {
    let t = Thresholds {
        degraded: Some(0.05),
        critical: Some(0.10),
    };
    assert_eq!(t.severity(0.01), None);
    assert_eq!(t.severity(0.05), None);
    assert_eq!(t.severity(0.07), Some("degraded"));
    assert_eq!(t.severity(0.5), Some("critical"));
    assert_eq!(t.severity(f64::NAN), None);
    let only_critical = Thresholds {
        degraded: None,
        critical: Some(1.0),
    };
    assert_eq!(only_critical.severity(0.9), None);
    assert_eq!(only_critical.severity(1.1), Some("critical"));
}

/// What Debian's `promtool check rules` accepts is accepted here (the same file is checked
/// by promtool in tests/python/test_alertmanager.py).
#[test]
fn the_sample_rule_file_promtool_accepts_is_accepted() {
    let text = include_str!("../../../testdata/alerts/sample-rules.yml");
    let groups = parse(text, Some("sample-rules.yml"), Origin::Dir).unwrap();
    assert!(groups.len() >= 2);
}
