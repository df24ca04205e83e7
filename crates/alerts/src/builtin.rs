//! Built-in rule kinds a user switches on in the configuration, without writing PromQL:
//! RED per service (or operation) — error ratio and p95 latency, against fixed thresholds or
//! against the same window one hour/day earlier — a new or surging error-log pattern, a
//! triage finding, and a pipeline budget near or at its cap. All but triage become ordinary PromQL rules over the synthetic span and
//! log metrics, so their `expr` can be read and copied.
//!
//! ```toml
//! [alerts.builtin.red_errors]
//! degraded = 0.05      # error ratio (or, with baseline, the ratio to the baseline)
//! critical = 0.2
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::duration;
use crate::rules::{Group, Origin, Rule, RuleKind, Thresholds};
use crate::template::Template;

/// The built-in rules switched on, each with its thresholds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct BuiltinConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub red_errors: Option<RedRule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub red_latency: Option<RedRule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_patterns: Option<LogPatternRule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triage: Option<TriageRule>,
    /// On by itself when the pipeline rules have budgets at start (see the server).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budgets: Option<BudgetRule>,
}

impl BuiltinConfig {
    /// Whether none of the service rules (RED, log patterns, triage) is on.
    pub fn is_empty(&self) -> bool {
        self.red_errors.is_none()
            && self.red_latency.is_none()
            && self.log_patterns.is_none()
            && self.triage.is_none()
    }
}

/// The share of its cap a pipeline budget used (`redscope_budget_used_ratio`, the largest of
/// its daily and monthly caps), per budget and counted service.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetRule {
    pub degraded: Option<f64>,
    pub critical: Option<f64>,
    #[serde(rename = "for")]
    pub for_: String,
}

impl Default for BudgetRule {
    fn default() -> Self {
        BudgetRule {
            degraded: Some(0.8),
            critical: Some(1.0),
            for_: "0s".to_string(),
        }
    }
}

/// The gauge the pipeline writes per budget, counted service, period and unit.
pub const BUDGET_METRIC: &str = "redscope_budget_used_ratio";

pub fn budget_expr() -> String {
    format!("max by (budget, signal, service) ({BUDGET_METRIC})")
}

/// Error ratio (`red_errors`) or latency quantile in seconds (`red_latency`) per service.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RedRule {
    pub degraded: Option<f64>,
    pub critical: Option<f64>,
    /// The rate window.
    pub window: String,
    /// How long it must hold before it fires.
    #[serde(rename = "for")]
    pub for_: String,
    pub keep_firing_for: String,
    /// Per service and operation instead of per service.
    pub by_operation: bool,
    /// Compare with the same window this long ago (`1h`, `1d`): the thresholds are then
    /// ratios to that baseline (2 = twice as bad).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// Spans per second below which a service is not judged.
    pub min_rate: f64,
    /// The latency quantile (`red_latency`).
    pub quantile: f64,
}

impl Default for RedRule {
    fn default() -> Self {
        RedRule {
            degraded: None,
            critical: None,
            window: "5m".to_string(),
            for_: "1m".to_string(),
            keep_firing_for: "0s".to_string(),
            by_operation: false,
            baseline: None,
            min_rate: 0.0,
            quantile: 0.95,
        }
    }
}

/// Error (and fatal) log records of one template in the window against the same window a
/// baseline earlier: the value is `count / (baseline count + 1)`, so a new pattern's value is
/// its count and a surging one's its growth.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogPatternRule {
    pub degraded: Option<f64>,
    pub critical: Option<f64>,
    pub window: String,
    pub baseline: String,
    /// Records in the window below which a pattern is not judged.
    pub min_count: f64,
    #[serde(rename = "for")]
    pub for_: String,
}

impl Default for LogPatternRule {
    fn default() -> Self {
        LogPatternRule {
            degraded: Some(5.0),
            critical: None,
            window: "10m".to_string(),
            baseline: "1h".to_string(),
            min_count: 5.0,
            for_: "0s".to_string(),
        }
    }
}

/// The top-ranked cause of `/api/v1/triage` over the window, when its score is above the
/// thresholds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TriageRule {
    pub degraded: Option<f64>,
    pub critical: Option<f64>,
    pub window: String,
    #[serde(rename = "for")]
    pub for_: String,
    /// How often it is judged (triage reads more than a PromQL rule).
    pub interval: String,
}

impl Default for TriageRule {
    fn default() -> Self {
        TriageRule {
            degraded: Some(3.0),
            critical: Some(10.0),
            window: "10m".to_string(),
            for_: "0s".to_string(),
            interval: "1m".to_string(),
        }
    }
}

/// The `service` label of rules over per-service series.
const JOB: &str = "{{ $labels.job }}";

/// The name of the group the built-in rules are in.
pub const GROUP: &str = "redscope-builtin";
/// The group of the triage rule, which has its own interval.
pub const TRIAGE_GROUP: &str = "redscope-builtin-triage";

const SERVER_KINDS: &str = r#"span_kind=~"SERVER|CONSUMER""#;

fn ms(field: &str, text: &str) -> Result<i64, String> {
    duration::parse_ms(text).map_err(|e| format!("{field}: {e}"))
}

fn window_of(field: &str, text: &str) -> Result<String, String> {
    let w = ms(field, text)?;
    if w <= 0 {
        return Err(format!("{field}: must be above 0"));
    }
    Ok(duration::format_ms(w))
}

fn thresholds(kind: &str, d: Option<f64>, c: Option<f64>) -> Result<Thresholds, String> {
    if d.is_none() && c.is_none() {
        return Err(format!(
            "alerts.builtin.{kind}: give degraded, critical or both"
        ));
    }
    if let (Some(d), Some(c)) = (d, c)
        && d > c
    {
        return Err(format!(
            "alerts.builtin.{kind}: degraded ({d}) is above critical ({c})"
        ));
    }
    Ok(Thresholds {
        degraded: d,
        critical: c,
    })
}

struct Spec {
    id: &'static str,
    name: &'static str,
    kind: RuleKind,
    /// The `service` label: the series' service (`job`) for RED and patterns.
    service: &'static str,
    expr: String,
    for_ms: i64,
    keep_firing_for_ms: i64,
    thresholds: Thresholds,
    summary: &'static str,
    window_ms: i64,
}

fn rule(s: Spec) -> Result<Rule, String> {
    let labels: BTreeMap<String, String> = [("service".to_string(), s.service.to_string())].into();
    let annotations: BTreeMap<String, String> =
        [("summary".to_string(), s.summary.to_string())].into();
    let parse = |m: &BTreeMap<String, String>| -> Result<Vec<(String, Template)>, String> {
        m.iter()
            .map(|(k, v)| Ok((k.clone(), Template::parse(v)?)))
            .collect()
    };
    Ok(Rule {
        id: format!("{GROUP}/{}", s.id),
        name: s.name.to_string(),
        kind: s.kind,
        expr: s.expr,
        for_ms: s.for_ms,
        keep_firing_for_ms: s.keep_firing_for_ms,
        thresholds: Some(s.thresholds),
        label_templates: if s.kind == RuleKind::Triage {
            Vec::new()
        } else {
            parse(&labels)?
        },
        labels: if s.kind == RuleKind::Triage {
            BTreeMap::new()
        } else {
            labels
        },
        annotation_templates: parse(&annotations)?,
        annotations,
        window_ms: s.window_ms,
    })
}

/// The ratio of errors to spans of server and consumer spans, per service (and operation).
pub fn red_errors_expr(c: &RedRule) -> Result<String, String> {
    let w = window_of("red_errors.window", &c.window)?;
    let by = if c.by_operation {
        "job, operation"
    } else {
        "job"
    };
    let ratio = |offset: &str| {
        format!(
            "sum by ({by}) (rate(redscope_span_errors_total{{{SERVER_KINDS}}}[{w}]{offset})) / sum by ({by}) (rate(redscope_span_requests_total{{{SERVER_KINDS}}}[{w}]{offset}))"
        )
    };
    let mut expr = ratio("");
    if let Some(b) = &c.baseline {
        let b = window_of("red_errors.baseline", b)?;
        // A floor of 1% under the baseline, so that a service that had no errors is judged
        // by its errors, not divided by zero.
        expr = format!(
            "({expr}) / clamp_min({}, 0.01)",
            ratio(&format!(" offset {b}"))
        );
    }
    Ok(with_min_rate(expr, by, &w, c.min_rate))
}

/// The latency quantile of server and consumer spans in seconds, per service (and operation):
/// the quantile of each operation, then the worst of a service's operations (each operation
/// has its own buckets, so the quantile is taken where they are all alike).
pub fn red_latency_expr(c: &RedRule) -> Result<String, String> {
    let w = window_of("red_latency.window", &c.window)?;
    if !(c.quantile > 0.0 && c.quantile < 1.0) {
        return Err("alerts.builtin.red_latency.quantile: must be between 0 and 1".to_string());
    }
    let by = if c.by_operation {
        "job, operation"
    } else {
        "job"
    };
    let q = |offset: &str| {
        format!(
            "max by ({by}) (histogram_quantile({}, sum by (job, operation, span_kind, le) (rate(redscope_span_duration_seconds_bucket{{{SERVER_KINDS}}}[{w}]{offset}))))",
            c.quantile
        )
    };
    let mut expr = q("");
    if let Some(b) = &c.baseline {
        let b = window_of("red_latency.baseline", b)?;
        expr = format!("{expr} / clamp_min({}, 0.001)", q(&format!(" offset {b}")));
    }
    Ok(with_min_rate(expr, by, &w, c.min_rate))
}

fn with_min_rate(expr: String, by: &str, w: &str, min_rate: f64) -> String {
    if min_rate <= 0.0 {
        return expr;
    }
    format!(
        "({expr}) and sum by ({by}) (rate(redscope_span_requests_total{{{SERVER_KINDS}}}[{w}])) >= {min_rate}"
    )
}

/// Error log records per service and template against the same window a baseline earlier.
pub fn log_pattern_expr(c: &LogPatternRule) -> Result<String, String> {
    let w = window_of("log_patterns.window", &c.window)?;
    let b = window_of("log_patterns.baseline", &c.baseline)?;
    let count = |offset: &str| {
        format!(
            r#"sum by (job, template_id) (increase(redscope_log_records_total{{severity=~"ERROR|FATAL"}}[{w}]{offset}))"#
        )
    };
    let now = count("");
    let before = count(&format!(" offset {b}"));
    Ok(format!(
        "({now} / ({before} + 1 or {now} * 0 + 1)) and ({now} >= {})",
        c.min_count
    ))
}

/// The built-in groups for a configuration (PromQL rules at the evaluation interval,
/// triage at its own); the error names the setting.
pub fn groups(c: &BuiltinConfig) -> Result<Vec<Group>, String> {
    let mut rules = Vec::new();
    let mut out = Vec::new();
    if let Some(r) = &c.red_errors {
        rules.push(rule(Spec {
            id: "red_errors",
            name: "RedErrorRatio",
            kind: RuleKind::RedErrors,
            service: JOB,
            expr: red_errors_expr(r)?,
            for_ms: ms("red_errors.for", &r.for_)?,
            keep_firing_for_ms: ms("red_errors.keep_firing_for", &r.keep_firing_for)?,
            thresholds: thresholds("red_errors", r.degraded, r.critical)?,
            summary: match r.baseline {
                Some(_) => "{{ $labels.job }}: errors {{ printf \"%.1f\" $value }}x their baseline",
                None => "{{ $labels.job }}: {{ humanizePercentage $value }} of requests fail",
            },
            window_ms: 0,
        })?);
    }
    if let Some(r) = &c.red_latency {
        rules.push(rule(Spec {
            id: "red_latency",
            name: "RedLatency",
            kind: RuleKind::RedLatency,
            service: JOB,
            expr: red_latency_expr(r)?,
            for_ms: ms("red_latency.for", &r.for_)?,
            keep_firing_for_ms: ms("red_latency.keep_firing_for", &r.keep_firing_for)?,
            thresholds: thresholds("red_latency", r.degraded, r.critical)?,
            summary: match r.baseline {
                Some(_) => "{{ $labels.job }}: latency {{ printf \"%.1f\" $value }}x its baseline",
                None => "{{ $labels.job }}: latency quantile at {{ humanizeDuration $value }}",
            },
            window_ms: 0,
        })?);
    }
    if let Some(r) = &c.log_patterns {
        rules.push(rule(Spec {
            id: "log_patterns",
            name: "ErrorLogPattern",
            kind: RuleKind::LogPattern,
            service: JOB,
            expr: log_pattern_expr(r)?,
            for_ms: ms("log_patterns.for", &r.for_)?,
            keep_firing_for_ms: 0,
            thresholds: thresholds("log_patterns", r.degraded, r.critical)?,
            summary: "{{ $labels.job }}: error log pattern {{ $labels.template_id }} is new or surging ({{ printf \"%.1f\" $value }}x)",
            window_ms: 0,
        })?);
    }
    if let Some(r) = &c.budgets {
        rules.push(rule(Spec {
            id: "budgets",
            name: "PipelineBudget",
            kind: RuleKind::Budget,
            service: "{{ $labels.service }}",
            expr: budget_expr(),
            for_ms: ms("budgets.for", &r.for_)?,
            keep_firing_for_ms: 0,
            thresholds: thresholds("budgets", r.degraded, r.critical)?,
            summary: "budget {{ $labels.budget }} ({{ $labels.signal }} {{ $labels.service }}) at {{ humanizePercentage $value }} of its cap",
            window_ms: 0,
        })?);
    }
    if !rules.is_empty() {
        out.push(builtin_group(GROUP, None, std::mem::take(&mut rules)));
    }
    if let Some(r) = &c.triage {
        let window_ms = ms("triage.window", &r.window)?;
        let interval_ms = ms("triage.interval", &r.interval)?.max(1_000);
        let triage = rule(Spec {
            id: "triage",
            name: "TriageFinding",
            kind: RuleKind::Triage,
            service: JOB,
            expr: format!(
                "triage(window={}): score of the top-ranked cause",
                duration::format_ms(window_ms)
            ),
            for_ms: ms("triage.for", &r.for_)?,
            keep_firing_for_ms: 0,
            thresholds: thresholds("triage", r.degraded, r.critical)?,
            summary: "{{ $labels.service }} is the likely cause (score {{ printf \"%.1f\" $value }})",
            window_ms,
        })?;
        out.push(builtin_group(TRIAGE_GROUP, Some(interval_ms), vec![triage]));
    }
    Ok(out)
}

fn builtin_group(name: &str, interval_ms: Option<i64>, rules: Vec<Rule>) -> Group {
    Group {
        name: name.to_string(),
        file: None,
        origin: Origin::Builtin,
        interval_ms,
        query_offset_ms: 0,
        limit: 0,
        rules,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn built_ins_are_promql_that_parses() {
        let c = BuiltinConfig {
            red_errors: Some(RedRule {
                degraded: Some(0.05),
                critical: Some(0.2),
                ..RedRule::default()
            }),
            red_latency: Some(RedRule {
                degraded: Some(2.0),
                baseline: Some("1d".into()),
                by_operation: true,
                min_rate: 0.5,
                ..RedRule::default()
            }),
            log_patterns: Some(LogPatternRule::default()),
            triage: Some(TriageRule::default()),
            budgets: Some(BudgetRule::default()),
        };
        let groups = groups(&c).unwrap();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[1].interval_ms, Some(60_000));
        let g = &groups[0];
        assert_eq!(g.rules.len(), 4);
        let budget = &g.rules[3];
        assert_eq!(budget.kind, RuleKind::Budget);
        assert_eq!(budget.labels["service"], "{{ $labels.service }}");
        for r in g.rules.iter().filter(|r| r.kind != RuleKind::Triage) {
            promql::parse(&r.expr).unwrap_or_else(|e| panic!("{}: {e}: {}", r.name, r.expr));
        }
        assert!(g.rules[1].expr.contains("offset 1d"), "{}", g.rules[1].expr);
        assert!(g.rules[1].expr.contains("operation"), "{}", g.rules[1].expr);
        assert!(g.rules[0].expr.contains("[5m]"));
    }

    #[test]
    fn bad_settings_name_themselves() {
        let c = BuiltinConfig {
            red_errors: Some(RedRule {
                degraded: Some(0.3),
                critical: Some(0.1),
                ..RedRule::default()
            }),
            ..BuiltinConfig::default()
        };
        assert!(groups(&c).unwrap_err().contains("red_errors"));
        let c = BuiltinConfig {
            red_latency: Some(RedRule {
                degraded: Some(1.0),
                window: "5 minutes".into(),
                ..RedRule::default()
            }),
            ..BuiltinConfig::default()
        };
        assert!(groups(&c).unwrap_err().contains("red_latency.window"));
        assert!(groups(&BuiltinConfig::default()).unwrap().is_empty());
    }
}
