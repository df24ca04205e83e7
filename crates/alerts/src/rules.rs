//! Rule files in the Prometheus format (`groups:` of `alert` rules), also wrapped in a
//! Kubernetes `PrometheusRule` object (`spec.groups`), with one redscope extension:
//! `thresholds: {degraded, critical}` on a rule whose `expr` gives the value, so that the
//! `severity` label follows the highest threshold crossed.
//!
//! Recording rules (`record:`) are refused with a clear message: redscope evaluates alerts,
//! it does not write new series.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::duration;
use crate::template::Template;

/// A rule file as written (`groups:`), also what `POST /api/v1/rules` takes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub groups: Vec<GroupSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_offset: Option<String>,
    /// Most alerts one rule may produce (0: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// A string, or a number YAML reads as one (`expr: 1`).
    #[serde(default)]
    pub expr: serde_yaml::Value,
    #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_firing_for: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Thresholds>,
}

/// Two levels on the value of `expr`: above `degraded` the alert is `severity="degraded"`,
/// above `critical` it is `severity="critical"`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub degraded: Option<f64>,
    pub critical: Option<f64>,
}

impl Thresholds {
    /// The severity of `value`: the highest threshold it is above, if any.
    pub fn severity(&self, value: f64) -> Option<&'static str> {
        if value.is_nan() {
            return None;
        }
        if self.critical.is_some_and(|c| value > c) {
            return Some("critical");
        }
        if self.degraded.is_some_and(|d| value > d) {
            return Some("degraded");
        }
        None
    }
}

/// What a rule is: a user's alert, or one of the built-in kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    Alert,
    RedErrors,
    RedLatency,
    LogPattern,
    Triage,
    Budget,
}

/// A validated alerting rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub kind: RuleKind,
    /// PromQL, or for `triage` a description of what is judged.
    pub expr: String,
    pub for_ms: i64,
    pub keep_firing_for_ms: i64,
    pub thresholds: Option<Thresholds>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Parsed label and annotation templates, by name.
    pub label_templates: Vec<(String, Template)>,
    pub annotation_templates: Vec<(String, Template)>,
    /// For `triage`: the window judged.
    pub window_ms: i64,
}

/// Where a group came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Dir,
    Api,
    Builtin,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    /// The file it was read from (directory rules).
    pub file: Option<String>,
    pub origin: Origin,
    /// `None`: the evaluation interval.
    pub interval_ms: Option<i64>,
    pub query_offset_ms: i64,
    pub limit: u64,
    pub rules: Vec<Rule>,
}

impl Group {
    /// A key unique among all groups (a name may repeat across files).
    pub fn key(&self) -> String {
        match &self.file {
            Some(f) => format!("{f}:{}", self.name),
            None => format!("{:?}:{}", self.origin, self.name),
        }
    }
}

/// One thing wrong in a rule file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub group: Option<String>,
    pub rule: Option<String>,
    pub field: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut at = Vec::new();
        if let Some(x) = &self.file {
            at.push(x.clone());
        }
        if let Some(x) = &self.group {
            at.push(format!("group {x:?}"));
        }
        if let Some(x) = &self.rule {
            at.push(format!("rule {x:?}"));
        }
        if let Some(x) = &self.field {
            at.push(format!("field {x}"));
        }
        if at.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", at.join(", "), self.message)
        }
    }
}

/// A `PrometheusRule` object: only `spec` matters.
#[derive(Deserialize)]
struct PrometheusRule {
    spec: RuleFile,
}

/// Reads a rule file (YAML or JSON), plain or as a `PrometheusRule`.
pub fn read_file(text: &str, file: Option<&str>) -> Result<RuleFile, Vec<Problem>> {
    let problem = |message: String| {
        vec![Problem {
            file: file.map(str::to_string),
            group: None,
            rule: None,
            field: None,
            message,
        }]
    };
    let value: serde_yaml::Value =
        serde_yaml::from_str(text).map_err(|e| problem(format!("not valid YAML: {e}")))?;
    let is_object = value.get("kind").and_then(|k| k.as_str()) == Some("PrometheusRule")
        || value.get("spec").is_some();
    if is_object {
        let object: PrometheusRule = serde_yaml::from_value(value)
            .map_err(|e| problem(format!("not a PrometheusRule: {e}")))?;
        return Ok(object.spec);
    }
    if value.is_null() {
        return Ok(RuleFile { groups: Vec::new() });
    }
    serde_yaml::from_value(value).map_err(|e| problem(format!("not a rule file: {e}")))
}

/// Reads and validates a rule file into groups; every problem found, not only the first.
pub fn parse(text: &str, file: Option<&str>, origin: Origin) -> Result<Vec<Group>, Vec<Problem>> {
    let spec = read_file(text, file)?;
    validate(&spec, file, origin)
}

/// Validates groups as written.
pub fn validate(
    spec: &RuleFile,
    file: Option<&str>,
    origin: Origin,
) -> Result<Vec<Group>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut groups = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for g in &spec.groups {
        let mut report = Reporter {
            file,
            group: Some(&g.name),
            problems: &mut problems,
        };
        if g.name.trim().is_empty() {
            report.add(None, Some("name"), "a group needs a name".to_string());
        } else if !seen.insert(g.name.clone()) {
            report.add(
                None,
                Some("name"),
                "a group of this name is already in this file".into(),
            );
        }
        if let Some(group) = validate_group(g, file, origin, &mut report) {
            groups.push(group);
        }
    }
    if problems.is_empty() {
        Ok(groups)
    } else {
        Err(problems)
    }
}

struct Reporter<'a> {
    file: Option<&'a str>,
    group: Option<&'a str>,
    problems: &'a mut Vec<Problem>,
}

impl Reporter<'_> {
    fn add(&mut self, rule: Option<&str>, field: Option<&str>, message: String) {
        self.problems.push(Problem {
            file: self.file.map(str::to_string),
            group: self.group.map(str::to_string),
            rule: rule.map(str::to_string),
            field: field.map(str::to_string),
            message,
        });
    }

    fn duration(&mut self, rule: Option<&str>, field: &str, text: Option<&str>) -> i64 {
        match text.map(duration::parse_ms) {
            None => 0,
            Some(Ok(ms)) if ms >= 0 => ms,
            Some(Ok(_)) => 0,
            Some(Err(e)) => {
                self.add(rule, Some(field), e);
                0
            }
        }
    }
}

fn validate_group(
    g: &GroupSpec,
    file: Option<&str>,
    origin: Origin,
    report: &mut Reporter,
) -> Option<Group> {
    let before = report.problems.len();
    let interval_ms = g
        .interval
        .as_deref()
        .map(|i| report.duration(None, "interval", Some(i)));
    if interval_ms == Some(0) {
        report.add(
            None,
            Some("interval"),
            "the interval must be above 0".to_string(),
        );
    }
    let query_offset_ms = report.duration(None, "query_offset", g.query_offset.as_deref());
    let mut rules = Vec::new();
    for (i, r) in g.rules.iter().enumerate() {
        let name = r.alert.clone().or_else(|| r.record.clone());
        let id = format!("{}/{}/{}", g.name, i, name.as_deref().unwrap_or(""));
        if let Some(mut rule) = validate_rule(r, id, report) {
            for (k, v) in &g.labels {
                rule.labels.entry(k.clone()).or_insert_with(|| v.clone());
            }
            let labels = rule.labels.clone();
            rule.label_templates = templates(&labels, "labels", Some(&rule.name), report);
            rules.push(rule);
        }
    }
    if report.problems.len() > before {
        return None;
    }
    Some(Group {
        name: g.name.clone(),
        file: file.map(str::to_string),
        origin,
        interval_ms: interval_ms.filter(|ms| *ms > 0),
        query_offset_ms,
        limit: g.limit.unwrap_or(0),
        rules,
    })
}

fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn expr_text(v: &serde_yaml::Value) -> Option<String> {
    match v {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn validate_rule(r: &RuleSpec, id: String, report: &mut Reporter) -> Option<Rule> {
    let before = report.problems.len();
    let name = match (&r.alert, &r.record) {
        (Some(_), Some(_)) => {
            report.add(
                None,
                Some("record"),
                "only one of 'record' and 'alert' must be set".into(),
            );
            return None;
        }
        (None, Some(record)) => {
            report.add(
                Some(record),
                Some("record"),
                "recording rules are not supported: redscope evaluates alerting rules only (write the expression into the alert's expr)".into(),
            );
            return None;
        }
        (None, None) => {
            report.add(
                None,
                Some("alert"),
                "one of 'record' or 'alert' must be set".into(),
            );
            return None;
        }
        (Some(a), None) => a.clone(),
    };
    let rule = Some(name.as_str());
    if !is_label_name(&name) && name.trim().is_empty() {
        report.add(
            rule,
            Some("alert"),
            "the alert name must not be empty".into(),
        );
    }
    let expr = match expr_text(&r.expr) {
        Some(e) if !e.trim().is_empty() => e,
        _ => {
            report.add(
                rule,
                Some("expr"),
                "field 'expr' must be set in rule".into(),
            );
            String::new()
        }
    };
    if !expr.is_empty()
        && let Err(e) = promql::parse(&expr)
    {
        report.add(
            rule,
            Some("expr"),
            format!("could not parse expression: {e}"),
        );
    }
    let for_ms = report.duration(rule, "for", r.for_.as_deref());
    let keep_firing_for_ms = report.duration(rule, "keep_firing_for", r.keep_firing_for.as_deref());
    for k in r.labels.keys() {
        if !is_label_name(k) || k == "__name__" {
            report.add(rule, Some("labels"), format!("invalid label name: {k}"));
        }
    }
    if let Some(t) = &r.thresholds {
        check_thresholds(t, rule, report);
    }
    let annotation_templates = templates(&r.annotations, "annotations", rule, report);
    if report.problems.len() > before {
        return None;
    }
    Some(Rule {
        id,
        name,
        kind: RuleKind::Alert,
        expr,
        for_ms,
        keep_firing_for_ms,
        thresholds: r.thresholds,
        labels: r.labels.clone(),
        annotations: r.annotations.clone(),
        label_templates: Vec::new(),
        annotation_templates,
        window_ms: 0,
    })
}

fn check_thresholds(t: &Thresholds, rule: Option<&str>, report: &mut Reporter) {
    match (t.degraded, t.critical) {
        (None, None) => report.add(
            rule,
            Some("thresholds"),
            "give 'degraded', 'critical' or both".into(),
        ),
        (Some(d), Some(c)) if d > c => report.add(
            rule,
            Some("thresholds"),
            format!("'degraded' ({d}) must not be above 'critical' ({c})"),
        ),
        (d, c) if d.is_some_and(|x| !x.is_finite()) || c.is_some_and(|x| !x.is_finite()) => report
            .add(
                rule,
                Some("thresholds"),
                "thresholds must be finite numbers".into(),
            ),
        _ => {}
    }
}

/// Parses each value of `map` as a template; problems name the field (`labels.x`).
fn templates(
    map: &BTreeMap<String, String>,
    field: &str,
    rule: Option<&str>,
    report: &mut Reporter,
) -> Vec<(String, Template)> {
    let mut out = Vec::new();
    for (k, v) in map {
        match Template::parse(v) {
            Ok(t) => out.push((k.clone(), t)),
            Err(e) => report.add(
                rule,
                Some(&format!("{field}.{k}")),
                format!("template: {e}"),
            ),
        }
    }
    out
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
