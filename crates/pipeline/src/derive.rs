//! Records into metrics: a `metric` rule counts the log records or spans it matches (a
//! counter), or measures a value of theirs (a histogram: the span's duration or a numeric
//! attribute), per service and the attributes it groups by. A later rule can then drop the
//! raw log records while the numbers stay.
//!
//! The counts are kept in memory as cumulative series from the time the rules were loaded, and
//! written as points ([`Derived::points`]) by the server every few seconds, as an OpenTelemetry
//! SDK exports a cumulative counter: a restart or a new version of the rules starts them again
//! (a counter reset for PromQL's `rate`), and a new series is written once with 0 at the time
//! it appeared, so that `increase` counts its first records too. PromQL reads them as any OTLP
//! metric: a counter `checkout_errors` is `checkout_errors_total{job="cart", ...}`, a histogram
//! of durations in seconds `checkout_latency_seconds_bucket`.

use std::collections::HashMap;
use std::sync::Mutex;

use model::{LogRow, MetricPointRow, MetricType, Resource, SpanRow};
use serde_json::{Map, Value};

use crate::apply::OVERFLOW_VALUE;

/// Most series one rule keeps; records of further label values are counted in one series whose
/// grouped labels are all [`OVERFLOW_VALUE`].
pub const MAX_SERIES_PER_RULE: usize = 10_000;

/// The histogram bounds of durations (seconds) when a rule gives none: those of the
/// OpenTelemetry HTTP semantic conventions.
pub const DURATION_BOUNDS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// What a `metric` rule measures of each record.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    /// One per record: a monotonic sum.
    Count,
    /// The span's duration in seconds: a histogram.
    Duration,
    /// A numeric record attribute: a histogram (records without it are not measured).
    Attribute(String),
}

/// A checked `metric` rule's output.
#[derive(Debug, Clone)]
pub struct MetricSpec {
    pub name: String,
    pub group_by: Vec<String>,
    pub measure: Measure,
    pub unit: String,
    /// Histogram bounds, increasing (empty for counters).
    pub bounds: Vec<f64>,
}

/// The fields of a record a metric is grouped by and measured from.
pub(crate) struct Source<'a> {
    pub resource: &'a Resource,
    pub attributes: &'a str,
    /// Grouping keys that are fields of the record rather than attributes.
    pub field: &'a dyn Fn(&str) -> Option<String>,
    /// Span duration in seconds.
    pub duration_s: Option<f64>,
}

impl<'a> Source<'a> {
    pub(crate) fn of_log(r: &'a LogRow, field: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Source {
            resource: &r.resource,
            attributes: &r.attributes,
            field,
            duration_s: None,
        }
    }

    pub(crate) fn of_span(r: &'a SpanRow, field: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Source {
            resource: &r.resource,
            attributes: &r.attributes,
            field,
            duration_s: Some(r.duration_ns.max(0) as f64 / 1e9),
        }
    }
}

/// The record fields a log metric can be grouped by, besides attributes.
pub fn log_field(r: &LogRow, key: &str) -> Option<String> {
    match key {
        "severity" => Some(if r.severity_text.is_empty() {
            model::severity_band(r.severity_number)
                .unwrap_or("UNSPECIFIED")
                .to_string()
        } else {
            r.severity_text.to_uppercase()
        }),
        "template_id" => r.log_template_id.clone(),
        "event.name" if !r.event_name.is_empty() => Some(r.event_name.clone()),
        _ => None,
    }
}

/// The record fields a span metric can be grouped by, besides attributes.
pub fn span_field(r: &SpanRow, key: &str) -> Option<String> {
    match key {
        "span.name" => Some(r.name.clone()),
        "span.kind" => Some(r.kind.clone()),
        "status" => Some(r.status_code.clone()),
        _ => None,
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Series {
    resource: Resource,
    labels: Vec<(String, String)>,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
    buckets: Vec<u64>,
    /// When the series appeared (its zero point's time).
    first_ns: i64,
    /// Whether its zero point was written.
    announced: bool,
}

/// The series of one rule, by key.
pub(crate) type RuleSeries = HashMap<String, Series>;

/// What the `metric` rules of one rule set counted since it was loaded.
#[derive(Debug, Default)]
pub struct Derived {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Per rule (by index), its series by key.
    rules: HashMap<usize, RuleSeries>,
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Derived {
    /// Runs `f` with rule `rule`'s series (one lock for a batch).
    pub(crate) fn with_rule<R>(
        &self,
        rule: usize,
        f: impl FnOnce(&mut RuleSeries) -> R,
    ) -> Option<R> {
        let mut state = self.state.lock().ok()?;
        Some(f(state.rules.entry(rule).or_default()))
    }

    /// Every series' point at `now_ns` (cumulative from `started_ns`), after a zero point at
    /// its first time for the series new since the last call. `specs` are the rules' metrics
    /// by rule index.
    pub fn points(
        &self,
        specs: &[(usize, &MetricSpec)],
        now_ns: i64,
        started_ns: i64,
    ) -> Vec<MetricPointRow> {
        let Ok(mut state) = self.state.lock() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (rule, series) in state.rules.iter_mut() {
            let Some((_, spec)) = specs.iter().find(|(i, _)| i == rule) else {
                continue;
            };
            for s in series.values_mut() {
                if !s.announced {
                    s.announced = true;
                    let zero = Series {
                        count: 0,
                        sum: 0.0,
                        min: f64::NAN,
                        max: f64::NAN,
                        buckets: vec![0; s.buckets.len()],
                        ..s.clone()
                    };
                    let at = s.first_ns.max(started_ns).min(now_ns - 1);
                    out.push(point(spec, &zero, started_ns, at));
                }
                out.push(point(spec, s, started_ns, now_ns));
            }
        }
        out.sort_by(|a, b| {
            (
                &a.metric_name,
                &a.resource.service_name,
                &a.attributes,
                a.time_unix_nano,
            )
                .cmp(&(
                    &b.metric_name,
                    &b.resource.service_name,
                    &b.attributes,
                    b.time_unix_nano,
                ))
        });
        out
    }

    /// How many series the rules keep.
    pub fn series(&self) -> usize {
        self.state
            .lock()
            .map(|s| s.rules.values().map(HashMap::len).sum())
            .unwrap_or(0)
    }
}

/// Counts one record into a rule's series.
pub(crate) fn record(series: &mut RuleSeries, spec: &MetricSpec, src: &Source) {
    let fields: Vec<Option<String>> = spec.group_by.iter().map(|k| (src.field)(k)).collect();
    let needs_attributes =
        matches!(spec.measure, Measure::Attribute(_)) || fields.iter().any(Option::is_none);
    let attrs: Option<Map<String, Value>> = if needs_attributes {
        serde_json::from_str(src.attributes).ok()
    } else {
        None
    };
    let value = match &spec.measure {
        Measure::Count => 1.0,
        Measure::Duration => match src.duration_s {
            Some(d) => d,
            None => return,
        },
        Measure::Attribute(key) => match attrs.as_ref().and_then(|a| a.get(key)).and_then(number) {
            Some(v) => v,
            None => return,
        },
    };
    let mut labels = Vec::with_capacity(spec.group_by.len());
    for (key, field) in spec.group_by.iter().zip(fields) {
        let v = field
            .or_else(|| attrs.as_ref().and_then(|a| a.get(key)).map(text_of))
            .or_else(|| resource_attribute(src.resource, key));
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            labels.push((key.clone(), v));
        }
    }
    let service = &src.resource.service_name;
    let mut key = String::with_capacity(64);
    key.push_str(service);
    for (k, v) in &labels {
        key.push('\u{1f}');
        key.push_str(k);
        key.push('=');
        key.push_str(v);
    }
    if !series.contains_key(&key) && series.len() >= MAX_SERIES_PER_RULE {
        labels = spec
            .group_by
            .iter()
            .map(|k| (k.clone(), OVERFLOW_VALUE.to_string()))
            .collect();
        key = format!("{service}\u{1f}{OVERFLOW_VALUE}");
    }
    let s = series.entry(key).or_insert_with(|| Series {
        resource: bare_resource(src.resource),
        labels,
        count: 0,
        sum: 0.0,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
        buckets: vec![
            0;
            if spec.bounds.is_empty() {
                0
            } else {
                spec.bounds.len() + 1
            }
        ],
        first_ns: model::now_unix_nano(),
        announced: false,
    });
    s.count += 1;
    s.sum += value;
    s.min = s.min.min(value);
    s.max = s.max.max(value);
    if !s.buckets.is_empty() {
        let i = spec.bounds.partition_point(|b| *b < value);
        s.buckets[i] += 1;
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|v| v.is_finite())
}

/// A few well-known resource attributes, for grouping by e.g. `deployment.environment.name`.
fn resource_attribute(r: &Resource, key: &str) -> Option<String> {
    let known = match key {
        "service.version" => r.service_version.clone(),
        "service.namespace" => r.service_namespace.clone(),
        "deployment.environment" | "deployment.environment.name" => {
            r.deployment_environment.clone()
        }
        "host.name" => r.host_name.clone(),
        "k8s.namespace.name" => r.k8s_namespace_name.clone(),
        "k8s.pod.name" => r.k8s_pod_name.clone(),
        _ => None,
    };
    known.or_else(|| {
        serde_json::from_str::<Map<String, Value>>(&r.resource_attributes)
            .ok()?
            .get(key)
            .map(text_of)
    })
}

/// The series' resource: the service only (with its namespace), so that PromQL's `job` is the
/// service and one instance's restart does not split a series.
fn bare_resource(r: &Resource) -> Resource {
    let mut attrs = Map::new();
    attrs.insert("service.name".into(), Value::String(r.service_name.clone()));
    if let Some(ns) = &r.service_namespace {
        attrs.insert("service.namespace".into(), Value::String(ns.clone()));
    }
    Resource {
        service_name: r.service_name.clone(),
        service_namespace: r.service_namespace.clone(),
        resource_attributes: Value::Object(attrs).to_string(),
        scope_name: "redscope.pipeline".into(),
        ..Resource::default()
    }
}

fn point(spec: &MetricSpec, s: &Series, start: i64, now: i64) -> MetricPointRow {
    let attributes: Map<String, Value> = s
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let mut row = MetricPointRow {
        time_unix_nano: now,
        start_time_unix_nano: start,
        metric_name: spec.name.clone(),
        unit: spec.unit.clone(),
        description: String::new(),
        metric_metadata: "{}".into(),
        resource: s.resource.clone(),
        attributes: Value::Object(attributes).to_string(),
        aggregation_temporality: 2,
        is_monotonic: true,
        exemplars: "[]".into(),
        ..MetricPointRow::default()
    };
    if spec.measure == Measure::Count {
        row.metric_type = MetricType::Sum.as_str().into();
        row.value = Some(s.count as f64);
        row.value_int = Some(s.count as i64);
    } else {
        row.metric_type = MetricType::Histogram.as_str().into();
        row.count = Some(s.count);
        row.sum = Some(s.sum);
        row.min = Some(s.min).filter(|m| m.is_finite());
        row.max = Some(s.max).filter(|m| m.is_finite());
        row.bucket_counts = s.buckets.clone();
        row.explicit_bounds = spec.bounds.clone();
    }
    row
}
