//! The rule file: what it says, parsed and validated with errors that name the rule and field.
//!
//! ```toml
//! [[rule]]
//! name = "drop health checks"
//! signal = "logs"
//! action = "drop"
//! match = { service = "cart", body_regex = "GET /healthz" }
//!
//! [[rule]]
//! name = "keep a tenth of debug logs"
//! signal = "logs"
//! action = "sample"
//! rate = 0.1
//! match = { severity_below = "INFO" }
//!
//! [[rule]]
//! name = "no secrets"
//! signal = "any"
//! action = "redact"
//! detectors = ["email", "card", "token"]
//! patterns = ["session=[0-9a-f]+"]
//! mode = "hash"
//!
//! [[rule]]
//! name = "errors, slow traces and a tenth of the rest"
//! signal = "spans"
//! action = "tail_sample"
//! rate = 0.1
//! slow_ms = 2000
//!
//! [[rule]]
//! name = "checkout latency"
//! signal = "spans"
//! action = "metric"
//! metric = "checkout.latency"
//! value = "duration"
//! group_by = ["span.name", "http.response.status_code"]
//! match = { service = "checkout" }
//! ```

use std::collections::BTreeMap;

use model::Signal;
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::PipelineError;
use crate::derive::{DURATION_BOUNDS, Measure, MetricSpec};
use crate::redact::Detector;
use crate::tail::TailPolicy;

/// Format version of the rule file (`version = 1`, the default).
pub const FORMAT_VERSION: u32 = 1;

/// A rule file as written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    #[serde(default = "default_version")]
    pub version: u32,
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleSpec>,
    #[serde(default, rename = "budget", skip_serializing_if = "Vec::is_empty")]
    pub budgets: Vec<crate::budget::BudgetSpec>,
}

/// A checked rule file: its rules and its budgets.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub rules: Vec<Rule>,
    pub budgets: Vec<crate::budget::Budget>,
}

fn default_version() -> u32 {
    FORMAT_VERSION
}

/// One rule as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub name: String,
    /// `spans`, `logs`, `metrics` or `any`.
    pub signal: String,
    /// `drop`, `sample`, `tail_sample`, `remove_attributes`, `redact`, `limit_cardinality`
    /// or `metric`.
    pub action: String,
    #[serde(default, rename = "match")]
    pub when: MatchSpec,
    /// `sample`: the share of matching records kept (0 < rate < 1); `tail_sample`: the share
    /// of ordinary traces kept (0 ≤ rate < 1).
    pub rate: Option<f64>,
    /// `tail_sample`: a trace with a span at least this long (milliseconds) is kept.
    pub slow_ms: Option<f64>,
    /// `retain`: how long matching records are kept (`12h`, `1d`, `30d`, `2w`).
    pub keep: Option<String>,
    /// `remove_attributes`: the keys removed; `limit_cardinality`: the labels limited (all
    /// when empty).
    #[serde(default)]
    pub keys: Vec<String>,
    /// `redact`: built-in detectors (`email`, `card`, `token`, `ip`).
    #[serde(default)]
    pub detectors: Vec<String>,
    /// `redact`: regular expressions of the user's own.
    #[serde(default)]
    pub patterns: Vec<String>,
    /// `redact`: `mask` (default) or `hash`.
    pub mode: Option<String>,
    /// `limit_cardinality`: distinct values kept per metric and label.
    pub max_values: Option<usize>,
    /// `metric`: the metric's name (a counter is `<name>_total` in PromQL).
    pub metric: Option<String>,
    /// `metric`: what is measured: nothing (a count of records), `duration` (spans, in
    /// seconds) or `attribute:KEY` (a numeric attribute); all but the count are histograms.
    pub value: Option<String>,
    /// `metric`: the labels besides the service (`job`): attributes of the record or its
    /// resource, or `severity`, `template_id`, `event.name` (logs), `span.name`, `span.kind`,
    /// `status` (spans).
    #[serde(default)]
    pub group_by: Vec<String>,
    /// `metric`: the histogram's upper bucket bounds (increasing).
    #[serde(default)]
    pub buckets: Vec<f64>,
    /// `metric`: the unit of the measured value (`s` for durations).
    pub unit: Option<String>,
    /// Off without deleting it.
    #[serde(default)]
    pub disabled: bool,
}

/// Which records a rule applies to; every condition given must hold.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    pub service: Option<String>,
    pub service_regex: Option<String>,
    /// Logs whose severity is below this level (`TRACE` … `FATAL`).
    pub severity_below: Option<String>,
    /// Logs of this Log AI template.
    pub template_id: Option<String>,
    pub body_regex: Option<String>,
    /// A span name or a metric name.
    pub name: Option<String>,
    pub name_regex: Option<String>,
    /// Record attributes with these values (as text).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// What a rule does.
#[derive(Debug, Clone)]
pub enum Action {
    Drop,
    Sample {
        rate: f64,
    },
    RemoveAttributes {
        keys: Vec<String>,
    },
    Redact {
        detectors: Vec<Detector>,
        patterns: Vec<Regex>,
        hash: bool,
    },
    LimitCardinality {
        keys: Vec<String>,
        max_values: usize,
    },
    /// Counts or measures the records into a metric; the records pass on.
    Metric(MetricSpec),
    /// Keeps whole traces with an error or a slow span and a share of the others, decided
    /// when the store writes its memory to files (`tail`).
    TailSample(TailPolicy),
    /// Keeps matching records this long (nanoseconds) instead of the signal's retention;
    /// applied by the store's upkeep to the files (the records are stored as they come).
    Retain {
        keep_ns: i64,
    },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Drop => "drop",
            Action::Sample { .. } => "sample",
            Action::RemoveAttributes { .. } => "remove_attributes",
            Action::Redact { .. } => "redact",
            Action::LimitCardinality { .. } => "limit_cardinality",
            Action::Metric(_) => "metric",
            Action::TailSample(_) => "tail_sample",
            Action::Retain { .. } => "retain",
        }
    }

    /// Whether it removes whole records (which the rollups must have seen first).
    pub fn removes_records(&self) -> bool {
        matches!(self, Action::Drop | Action::Sample { .. })
    }
}

/// A checked condition.
#[derive(Debug, Clone, Default)]
pub struct Match {
    pub service: Option<String>,
    pub service_regex: Option<Regex>,
    pub severity_below: Option<i32>,
    pub template_id: Option<String>,
    pub body_regex: Option<Regex>,
    pub name: Option<String>,
    pub name_regex: Option<Regex>,
    pub attributes: Vec<(String, String)>,
}

/// A checked rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    /// `None`: every signal.
    pub signal: Option<Signal>,
    pub when: Match,
    pub action: Action,
}

/// A rule file's problem, naming the rule (by position and name) and the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleProblem {
    pub rule: Option<String>,
    pub field: String,
    pub message: String,
}

/// Parses and checks a TOML rule file: its rules.
pub fn parse(text: &str) -> Result<Vec<Rule>, PipelineError> {
    parse_all(text).map(|p| p.rules)
}

/// Parses and checks a TOML rule file: its rules and budgets.
pub fn parse_all(text: &str) -> Result<Parsed, PipelineError> {
    let file: RuleFile = toml::from_str(text).map_err(|e| {
        PipelineError::Invalid(vec![RuleProblem {
            rule: None,
            field: String::new(),
            message: e.message().to_string(),
        }])
    })?;
    check(&file)
}

/// Checks a parsed rule file: every problem, not just the first.
pub fn check(file: &RuleFile) -> Result<Parsed, PipelineError> {
    let mut problems = Vec::new();
    if file.version != FORMAT_VERSION {
        problems.push(problem(
            None,
            "version",
            format!("must be {FORMAT_VERSION}"),
        ));
    }
    let mut rules = Vec::new();
    let mut names = std::collections::HashSet::new();
    for (i, spec) in file.rules.iter().enumerate() {
        let label = format!("#{} {}", i + 1, spec.name);
        if spec.name.trim().is_empty() {
            problems.push(problem(Some(&label), "name", "is required".into()));
        } else if !names.insert(spec.name.clone()) {
            problems.push(problem(
                Some(&label),
                "name",
                "is used by an earlier rule".into(),
            ));
        }
        match check_rule(spec) {
            Ok(rule) if !spec.disabled => rules.push(rule),
            Ok(_) => {}
            Err(mut found) => {
                for p in &mut found {
                    p.rule = Some(label.clone());
                }
                problems.extend(found);
            }
        }
    }
    let tails: Vec<&Rule> = rules
        .iter()
        .filter(|r| matches!(r.action, Action::TailSample(_)))
        .collect();
    if let [_, second, ..] = tails.as_slice() {
        problems.push(problem(
            Some(&second.name),
            "action",
            "one tail_sample rule decides a trace: merge it with the earlier one".into(),
        ));
    }
    let budgets = match crate::budget::check(&file.budgets) {
        Ok(b) => b,
        Err(found) => {
            problems.extend(found);
            Vec::new()
        }
    };
    if problems.is_empty() {
        Ok(Parsed { rules, budgets })
    } else {
        Err(PipelineError::Invalid(problems))
    }
}

/// `keep` of a `retain` rule: a whole number of minutes, hours, days or weeks (`90m`, `12h`,
/// `1d`, `2w`), at least a minute.
pub fn parse_keep(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let (number, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: i64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration: use e.g. 12h, 1d, 30d"))?;
    let unit_ns: i64 = match unit.trim() {
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "d" => 86_400_000_000_000,
        "w" => 7 * 86_400_000_000_000,
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{text}': use m, h, d or w"
            ));
        }
    };
    match n.checked_mul(unit_ns) {
        Some(ns) if ns > 0 => Ok(ns),
        _ => Err(format!("'{text}': keep must be at least 1m")),
    }
}

fn problem(rule: Option<&str>, field: &str, message: String) -> RuleProblem {
    RuleProblem {
        rule: rule.map(str::to_string),
        field: field.into(),
        message,
    }
}

fn check_rule(spec: &RuleSpec) -> Result<Rule, Vec<RuleProblem>> {
    let mut problems = Vec::new();
    let signal = match spec.signal.as_str() {
        "any" => None,
        name if Signal::from_name(name).is_some() => Signal::from_name(name),
        other => {
            problems.push(problem(
                None,
                "signal",
                format!("'{other}': use spans, logs, metrics or any"),
            ));
            None
        }
    };
    let when = check_match(&spec.when, signal, &mut problems);
    let action = check_action(spec, signal, &mut problems);
    match action {
        Some(action) if problems.is_empty() => Ok(Rule {
            name: spec.name.clone(),
            signal,
            when,
            action,
        }),
        _ => Err(problems),
    }
}

fn regex(field: &str, text: &Option<String>, problems: &mut Vec<RuleProblem>) -> Option<Regex> {
    let text = text.as_ref()?;
    match Regex::new(text) {
        Ok(r) => Some(r),
        Err(e) => {
            problems.push(problem(
                None,
                field,
                format!("not a regular expression: {e}"),
            ));
            None
        }
    }
}

fn check_match(m: &MatchSpec, signal: Option<Signal>, problems: &mut Vec<RuleProblem>) -> Match {
    let logs_only = |field: &str, given: bool, problems: &mut Vec<RuleProblem>| {
        if given && signal != Some(Signal::Logs) {
            problems.push(problem(
                None,
                field,
                "applies to logs only (signal = \"logs\")".into(),
            ));
        }
    };
    logs_only("match.severity_below", m.severity_below.is_some(), problems);
    logs_only("match.template_id", m.template_id.is_some(), problems);
    logs_only("match.body_regex", m.body_regex.is_some(), problems);
    if (m.name.is_some() || m.name_regex.is_some())
        && !matches!(signal, Some(Signal::Spans | Signal::Metrics))
    {
        problems.push(problem(
            None,
            "match.name",
            "applies to spans or metrics only".into(),
        ));
    }
    let severity_below = m
        .severity_below
        .as_ref()
        .and_then(|s| match model::severity_number(s) {
            Some(n) => Some(n),
            None => {
                problems.push(problem(
                    None,
                    "match.severity_below",
                    format!("'{s}': use TRACE, DEBUG, INFO, WARN, ERROR or FATAL"),
                ));
                None
            }
        });
    Match {
        service: m.service.clone(),
        service_regex: regex("match.service_regex", &m.service_regex, problems),
        severity_below,
        template_id: m.template_id.clone(),
        body_regex: regex("match.body_regex", &m.body_regex, problems),
        name: m.name.clone(),
        name_regex: regex("match.name_regex", &m.name_regex, problems),
        attributes: m
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

fn check_action(
    spec: &RuleSpec,
    signal: Option<Signal>,
    problems: &mut Vec<RuleProblem>,
) -> Option<Action> {
    let action = match spec.action.as_str() {
        "drop" => Action::Drop,
        "sample" => match spec.rate {
            Some(rate) if rate > 0.0 && rate < 1.0 => Action::Sample { rate },
            _ => {
                problems.push(problem(
                    None,
                    "rate",
                    "sample needs a rate above 0 and below 1".into(),
                ));
                return None;
            }
        },
        "remove_attributes" => {
            if spec.keys.is_empty() {
                problems.push(problem(
                    None,
                    "keys",
                    "name the attribute keys to remove".into(),
                ));
            }
            Action::RemoveAttributes {
                keys: spec.keys.clone(),
            }
        }
        "redact" => check_redact(spec, problems)?,
        "metric" => Action::Metric(check_metric(spec, signal, problems)?),
        "tail_sample" => Action::TailSample(check_tail(spec, signal, problems)?),
        "retain" => match spec.keep.as_deref().map(parse_keep) {
            Some(Ok(keep_ns)) => Action::Retain { keep_ns },
            Some(Err(e)) => {
                problems.push(problem(None, "keep", e));
                return None;
            }
            None => {
                problems.push(problem(
                    None,
                    "keep",
                    "retain needs keep, how long matching records stay (e.g. \"1d\")".into(),
                ));
                return None;
            }
        },
        "limit_cardinality" => {
            if signal != Some(Signal::Metrics) {
                problems.push(problem(
                    None,
                    "signal",
                    "limit_cardinality applies to metrics".into(),
                ));
            }
            let max_values = spec.max_values.filter(|n| *n >= 1).unwrap_or_else(|| {
                problems.push(problem(
                    None,
                    "max_values",
                    "limit_cardinality needs max_values of 1 or more".into(),
                ));
                1
            });
            Action::LimitCardinality {
                keys: spec.keys.clone(),
                max_values,
            }
        }
        other => {
            problems.push(problem(
                None,
                "action",
                format!(
                    "'{other}': use drop, sample, tail_sample, retain, remove_attributes, redact, limit_cardinality or metric"
                ),
            ));
            return None;
        }
    };
    // RED, the service map and triage are derived from the stored spans: dropping spans would
    // make their numbers lie.
    if action.removes_records() && signal != Some(Signal::Logs) && signal != Some(Signal::Metrics) {
        problems.push(problem(
            None,
            "action",
            format!(
                "{} applies to logs or metrics (spans feed RED, the service map and triage: use tail_sample, which keeps errors and slow traces)",
                action.name()
            ),
        ));
    }
    Some(action)
}

fn check_tail(
    spec: &RuleSpec,
    signal: Option<Signal>,
    problems: &mut Vec<RuleProblem>,
) -> Option<TailPolicy> {
    if signal != Some(Signal::Spans) {
        problems.push(problem(
            None,
            "signal",
            "tail_sample applies to spans".into(),
        ));
    }
    let rate = match spec.rate {
        Some(rate) if (0.0..1.0).contains(&rate) => rate,
        _ => {
            problems.push(problem(
                None,
                "rate",
                "tail_sample needs the share of ordinary traces kept: 0 or more and below 1".into(),
            ));
            return None;
        }
    };
    let slow_ns = match spec.slow_ms {
        Some(ms) if ms.is_finite() && ms > 0.0 => Some((ms * 1e6) as i64),
        Some(_) => {
            problems.push(problem(None, "slow_ms", "must be above 0".into()));
            return None;
        }
        None => None,
    };
    Some(TailPolicy { rate, slow_ns })
}

/// Most labels a `metric` rule groups by, and most histogram buckets.
const MAX_GROUP_BY: usize = 10;
const MAX_BUCKETS: usize = 64;

fn check_metric(
    spec: &RuleSpec,
    signal: Option<Signal>,
    problems: &mut Vec<RuleProblem>,
) -> Option<MetricSpec> {
    if !matches!(signal, Some(Signal::Logs | Signal::Spans)) {
        problems.push(problem(
            None,
            "signal",
            "metric applies to logs or spans".into(),
        ));
    }
    let name = spec.metric.clone().unwrap_or_default();
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-' | '/'));
    if !valid {
        problems.push(problem(
            None,
            "metric",
            format!("'{name}': a metric name starts with a letter and has letters, digits, '_', '.', ':', '-' or '/'"),
        ));
    } else if name.starts_with("redscope.") || name.starts_with("redscope_") {
        problems.push(problem(
            None,
            "metric",
            "names under 'redscope' are reserved for redscope's own metrics".into(),
        ));
    }
    let measure = match spec.value.as_deref() {
        None | Some("count") => Measure::Count,
        Some("duration") => {
            if signal != Some(Signal::Spans) {
                problems.push(problem(
                    None,
                    "value",
                    "duration is a span's: use signal = \"spans\"".into(),
                ));
            }
            Measure::Duration
        }
        Some(other) => match other.strip_prefix("attribute:") {
            Some(key) if !key.is_empty() => Measure::Attribute(key.to_string()),
            _ => {
                problems.push(problem(
                    None,
                    "value",
                    format!("'{other}': use count, duration or attribute:KEY"),
                ));
                Measure::Count
            }
        },
    };
    if spec.group_by.len() > MAX_GROUP_BY {
        problems.push(problem(
            None,
            "group_by",
            format!("at most {MAX_GROUP_BY} labels"),
        ));
    }
    if spec.group_by.iter().any(|k| k.trim().is_empty()) {
        problems.push(problem(None, "group_by", "an empty label name".into()));
    }
    let bounds = match &measure {
        Measure::Count => {
            if !spec.buckets.is_empty() {
                problems.push(problem(
                    None,
                    "buckets",
                    "a count has no buckets (set value to duration or attribute:KEY)".into(),
                ));
            }
            Vec::new()
        }
        Measure::Duration if spec.buckets.is_empty() => DURATION_BOUNDS.to_vec(),
        Measure::Attribute(_) if spec.buckets.is_empty() => {
            problems.push(problem(
                None,
                "buckets",
                "a histogram of an attribute needs its bucket bounds".into(),
            ));
            Vec::new()
        }
        _ => spec.buckets.clone(),
    };
    let increasing = bounds.iter().all(|b| b.is_finite()) && bounds.windows(2).all(|w| w[0] < w[1]);
    if !increasing || bounds.len() > MAX_BUCKETS {
        problems.push(problem(
            None,
            "buckets",
            format!("bounds must be finite, increasing and at most {MAX_BUCKETS}"),
        ));
    }
    let unit = match (&measure, &spec.unit) {
        (_, Some(u)) => u.clone(),
        (Measure::Duration, None) => "s".into(),
        _ => String::new(),
    };
    Some(MetricSpec {
        name,
        group_by: spec.group_by.clone(),
        measure,
        unit,
        bounds,
    })
}

fn check_redact(spec: &RuleSpec, problems: &mut Vec<RuleProblem>) -> Option<Action> {
    let mut detectors = Vec::new();
    for d in &spec.detectors {
        match Detector::parse(d) {
            Some(det) => detectors.push(det),
            None => problems.push(problem(
                None,
                "detectors",
                format!("'{d}': use email, card, token or ip"),
            )),
        }
    }
    let mut patterns = Vec::new();
    for p in &spec.patterns {
        match Regex::new(p) {
            Ok(r) => patterns.push(r),
            Err(e) => problems.push(problem(
                None,
                "patterns",
                format!("'{p}' is not a regular expression: {e}"),
            )),
        }
    }
    if spec.detectors.is_empty() && spec.patterns.is_empty() {
        problems.push(problem(
            None,
            "detectors",
            "redact needs detectors or patterns".into(),
        ));
    }
    let hash = match spec.mode.as_deref() {
        None | Some("mask") => false,
        Some("hash") => true,
        Some(other) => {
            problems.push(problem(
                None,
                "mode",
                format!("'{other}': use mask or hash"),
            ));
            false
        }
    };
    Some(Action::Redact {
        detectors,
        patterns,
        hash,
    })
}
