//! Stored OpenTelemetry points as Prometheus series: one series per label set, samples in
//! milliseconds. Delta temporality is summed up into cumulative counters (from the first point
//! read), histograms become cumulative `le` buckets, summaries one series per quantile.

use std::collections::HashMap;

use model::MetricPointRow;
use serde_json::{Map, Value};

use crate::labels::{Labels, NAME};
use crate::names::{self, Kind, Part};

/// Prometheus' staleness marker: a NaN with this bit pattern ends a series.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

pub fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// OTLP's "no recorded value" data point flag: the stream ended (a staleness marker).
const FLAG_NO_RECORDED_VALUE: u32 = 1;

/// One series: labels (with `__name__`) and samples `(unix ms, value)` sorted by time.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: Labels,
    pub samples: Vec<(i64, f64)>,
}

/// Samples collected per label set.
#[derive(Default)]
pub(crate) struct SeriesSet {
    map: HashMap<Labels, Vec<(i64, f64)>>,
}

impl SeriesSet {
    pub(crate) fn push(&mut self, labels: &Labels, t: i64, v: f64) {
        match self.map.get_mut(labels) {
            Some(s) => s.push((t, v)),
            None => {
                self.map.insert(labels.clone(), vec![(t, v)]);
            }
        }
    }

    /// The series, samples sorted, one per timestamp (the last written wins).
    pub(crate) fn finish(self) -> Vec<Series> {
        let mut out = Vec::with_capacity(self.map.len());
        for (labels, mut samples) in self.map {
            samples.sort_by_key(|s| s.0);
            let mut deduped: Vec<(i64, f64)> = Vec::with_capacity(samples.len());
            for s in samples {
                match deduped.last_mut() {
                    Some(last) if last.0 == s.0 => *last = s,
                    _ => deduped.push(s),
                }
            }
            out.push(Series {
                labels,
                samples: deduped,
            });
        }
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        out
    }
}

/// `job`, `instance` and the point attributes of a row.
fn base_labels(row: &MetricPointRow, cache: &mut HashMap<String, Vec<(String, String)>>) -> Labels {
    let attrs = match cache.get(&row.attributes) {
        Some(a) => a.clone(),
        None => {
            let parsed: Map<String, Value> =
                serde_json::from_str(&row.attributes).unwrap_or_default();
            let pairs: Vec<(String, String)> = parsed
                .iter()
                .map(|(k, v)| (names::label_name(k), names::label_value(v)))
                .collect();
            cache.insert(row.attributes.clone(), pairs.clone());
            pairs
        }
    };
    let mut pairs = attrs;
    let r = &row.resource;
    pairs.extend(names::target_labels(
        &r.service_name,
        r.service_namespace.as_deref(),
        r.service_instance_id.as_deref(),
    ));
    Labels::new(pairs)
}

fn with(labels: &Labels, name: &str, extra: Option<(&str, &str)>) -> Labels {
    let mut l = labels.clone();
    l.set(NAME, name);
    if let Some((k, v)) = extra {
        l.set(k, v);
    }
    l
}

/// Upper bounds and counts (not cumulative) of a histogram point.
fn buckets(row: &MetricPointRow) -> Vec<(f64, f64)> {
    if row.metric_type == "exponential_histogram" {
        return exponential_buckets(row);
    }
    let mut out = Vec::with_capacity(row.bucket_counts.len());
    for (i, c) in row.bucket_counts.iter().enumerate() {
        let upper = row.explicit_bounds.get(i).copied().unwrap_or(f64::INFINITY);
        out.push((upper, *c as f64));
    }
    if out.is_empty() {
        out.push((f64::INFINITY, row.count.unwrap_or(0) as f64));
    }
    out
}

/// Exponential buckets as explicit ones: the zero bucket (with the negative buckets, which
/// explicit bounds cannot tell apart from it) up to the zero threshold, then each positive
/// bucket up to its upper bound.
fn exponential_buckets(row: &MetricPointRow) -> Vec<(f64, f64)> {
    let scale = row.exp_scale.unwrap_or(0);
    let base = 2f64.powf(2f64.powi(-scale));
    let negative: u64 = row.exp_negative_bucket_counts.iter().sum();
    let zero = row.exp_zero_count.unwrap_or(0) + negative;
    let mut out = vec![(row.exp_zero_threshold.unwrap_or(0.0), zero as f64)];
    let offset = row.exp_positive_offset.unwrap_or(0);
    for (i, c) in row.exp_positive_bucket_counts.iter().enumerate() {
        let idx = offset.saturating_add(i32::try_from(i).unwrap_or(i32::MAX));
        out.push((base.powi(idx.saturating_add(1)), *c as f64));
    }
    let total = row.count.unwrap_or(0) as f64;
    out.push((f64::INFINITY, 0.0));
    // Whatever the buckets do not account for falls in +Inf, so that +Inf is the count.
    let counted: f64 = out.iter().map(|b| b.1).sum();
    if let Some(last) = out.last_mut() {
        last.1 = (total - counted).max(0.0);
    }
    out
}

/// A histogram point's running state, for delta temporality.
#[derive(Default, Clone)]
struct HistState {
    buckets: Vec<(f64, f64)>,
    count: f64,
    sum: f64,
}

/// The series of the `parts` wanted of one family (`base`, `kind`) from its stored rows.
pub(crate) fn rows_to_series(
    rows: &[MetricPointRow],
    base: &str,
    kind: Kind,
    parts: &[Part],
) -> Vec<Series> {
    let mut set = SeriesSet::default();
    let mut attr_cache = HashMap::new();
    let mut running: HashMap<Labels, f64> = HashMap::new();
    let mut hist_running: HashMap<Labels, HistState> = HashMap::new();
    let names = names::series_names(base, kind);
    let name_of = |part: Part| {
        names
            .iter()
            .find(|(_, p)| *p == part)
            .map_or(base, |(n, _)| n.as_str())
    };
    let wants = |part: Part| parts.contains(&part);
    for row in rows {
        let labels = base_labels(row, &mut attr_cache);
        let t = row.time_unix_nano.div_euclid(1_000_000);
        let stale = row.flags & FLAG_NO_RECORDED_VALUE != 0;
        let delta = row.aggregation_temporality == 1;
        match kind {
            Kind::Gauge | Kind::Counter | Kind::UpDownSum => {
                if !wants(Part::Value) {
                    continue;
                }
                let l = with(&labels, base, None);
                let value = if stale {
                    stale_nan()
                } else {
                    let v = row.value.unwrap_or(f64::NAN);
                    if delta && kind != Kind::Gauge {
                        let total = running.entry(l.clone()).or_insert(0.0);
                        *total += v;
                        *total
                    } else {
                        v
                    }
                };
                set.push(&l, t, value);
            }
            Kind::Histogram => {
                let mut state = HistState {
                    buckets: buckets(row),
                    count: row.count.unwrap_or(0) as f64,
                    sum: row.sum.unwrap_or(f64::NAN),
                };
                if delta && !stale {
                    let acc = hist_running.entry(labels.clone()).or_default();
                    let same_layout = acc.buckets.len() == state.buckets.len()
                        && acc
                            .buckets
                            .iter()
                            .zip(&state.buckets)
                            .all(|(a, b)| a.0 == b.0);
                    if same_layout {
                        for (a, b) in acc.buckets.iter_mut().zip(&state.buckets) {
                            a.1 += b.1;
                        }
                    } else {
                        acc.buckets = state.buckets.clone();
                    }
                    acc.count += state.count;
                    acc.sum += state.sum;
                    state = acc.clone();
                }
                let value = |v: f64| if stale { stale_nan() } else { v };
                if wants(Part::Bucket) {
                    let mut cumulative = 0.0;
                    for (upper, c) in &state.buckets {
                        cumulative += c;
                        let le = names::format_float(*upper);
                        let l = with(&labels, name_of(Part::Bucket), Some(("le", &le)));
                        set.push(&l, t, value(cumulative));
                    }
                }
                if wants(Part::Sum) {
                    set.push(
                        &with(&labels, name_of(Part::Sum), None),
                        t,
                        value(state.sum),
                    );
                }
                if wants(Part::Count) {
                    set.push(
                        &with(&labels, name_of(Part::Count), None),
                        t,
                        value(state.count),
                    );
                }
            }
            Kind::Summary => {
                let value = |v: f64| if stale { stale_nan() } else { v };
                if wants(Part::Value) {
                    for (q, v) in row.quantiles.iter().zip(&row.quantile_values) {
                        let quantile = names::format_float(*q);
                        let l = with(&labels, base, Some(("quantile", &quantile)));
                        set.push(&l, t, value(*v));
                    }
                }
                if wants(Part::Sum) {
                    let sum = row.sum.unwrap_or(f64::NAN);
                    set.push(&with(&labels, name_of(Part::Sum), None), t, value(sum));
                }
                if wants(Part::Count) {
                    let count = row.count.unwrap_or(0) as f64;
                    set.push(&with(&labels, name_of(Part::Count), None), t, value(count));
                }
            }
        }
    }
    set.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(t_ms: i64, counts: Vec<u64>, temporality: i32) -> MetricPointRow {
        MetricPointRow {
            time_unix_nano: t_ms * 1_000_000,
            metric_name: "latency".into(),
            metric_type: "histogram".into(),
            aggregation_temporality: temporality,
            count: Some(counts.iter().sum()),
            sum: Some(1.5),
            explicit_bounds: vec![10.0, 100.0],
            bucket_counts: counts,
            attributes: r#"{"http.route":"/a"}"#.into(),
            resource: model::Resource {
                service_name: "api".into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn histograms_become_cumulative_buckets_and_deltas_add_up() {
        let rows = vec![hist(1000, vec![1, 2, 3], 1), hist(2000, vec![1, 0, 0], 1)];
        let all = [Part::Bucket, Part::Sum, Part::Count];
        let series = rows_to_series(&rows, "latency_ms", Kind::Histogram, &all);
        let find = |name: &str, le: &str| {
            series
                .iter()
                .find(|s| s.labels.name() == name && s.labels.get("le") == le)
                .map(|s| s.samples.clone())
                .unwrap_or_default()
        };
        assert_eq!(
            find("latency_ms_bucket", "10"),
            vec![(1000, 1.0), (2000, 2.0)]
        );
        assert_eq!(
            find("latency_ms_bucket", "100"),
            vec![(1000, 3.0), (2000, 4.0)]
        );
        assert_eq!(
            find("latency_ms_bucket", "+Inf"),
            vec![(1000, 6.0), (2000, 7.0)]
        );
        assert_eq!(find("latency_ms_count", ""), vec![(1000, 6.0), (2000, 7.0)]);
        assert_eq!(find("latency_ms_sum", ""), vec![(1000, 1.5), (2000, 3.0)]);
        let first = &series[0].labels;
        assert_eq!(first.get("job"), "api");
        assert_eq!(first.get("http_route"), "/a");
    }
}
