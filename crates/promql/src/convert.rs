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

/// Samples collected per label set; a series is found by its labels once, then by its id.
#[derive(Default)]
pub(crate) struct SeriesSet {
    index: HashMap<Labels, usize>,
    series: Vec<(Labels, Vec<(i64, f64)>)>,
}

impl SeriesSet {
    /// The id of the series with `labels`, created when new.
    pub(crate) fn id(&mut self, labels: &Labels) -> usize {
        if let Some(&id) = self.index.get(labels) {
            return id;
        }
        let id = self.series.len();
        self.index.insert(labels.clone(), id);
        self.series.push((labels.clone(), Vec::new()));
        id
    }

    pub(crate) fn push_id(&mut self, id: usize, t: i64, v: f64) {
        if let Some(s) = self.series.get_mut(id) {
            s.1.push((t, v));
        }
    }

    pub(crate) fn push(&mut self, labels: &Labels, t: i64, v: f64) {
        let id = self.id(labels);
        self.push_id(id, t, v);
    }

    /// The series, samples sorted, one per timestamp (the last written wins).
    pub(crate) fn finish(self) -> Vec<Series> {
        let mut out = Vec::with_capacity(self.series.len());
        for (labels, mut samples) in self.series {
            if samples.is_empty() {
                continue;
            }
            if !samples.is_sorted_by_key(|s| s.0) {
                samples.sort_by_key(|s| s.0);
            }
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

/// The series ids of one stream (resource and attributes), and its running state for delta
/// temporality.
#[derive(Default)]
struct Stream {
    labels: Labels,
    value: Option<usize>,
    sum: Option<usize>,
    count: Option<usize>,
    /// Upper bounds (or quantiles) and the id of their series, for the last layout seen.
    buckets: Vec<(f64, usize)>,
    running_value: f64,
    running: HistState,
}

impl Stream {
    fn id(slot: &mut Option<usize>, set: &mut SeriesSet, labels: &Labels, name: &str) -> usize {
        match *slot {
            Some(id) => id,
            None => {
                let id = set.id(&with(labels, name, None));
                *slot = Some(id);
                id
            }
        }
    }

    /// The ids of the series of `bounds` (`le` or `quantile` values), kept while the layout
    /// stays the same.
    fn bucket_ids(
        &mut self,
        set: &mut SeriesSet,
        name: &str,
        label: &str,
        bounds: &[f64],
    ) -> &[(f64, usize)] {
        let same = self.buckets.len() == bounds.len()
            && self
                .buckets
                .iter()
                .zip(bounds)
                .all(|(a, b)| a.0.to_bits() == b.to_bits());
        if !same {
            self.buckets = bounds
                .iter()
                .map(|b| {
                    let text = names::format_float(*b);
                    (*b, set.id(&with(&self.labels, name, Some((label, &text)))))
                })
                .collect();
        }
        &self.buckets
    }
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
    type StreamKey<'r> = (&'r str, &'r str, Option<&'r str>, Option<&'r str>);
    let mut streams: HashMap<StreamKey<'_>, Stream> = HashMap::new();
    let names = names::series_names(base, kind);
    let name_of = |part: Part| {
        names
            .iter()
            .find(|(_, p)| *p == part)
            .map_or(base, |(n, _)| n.as_str())
    };
    let wants = |part: Part| parts.contains(&part);
    for row in rows {
        let r = &row.resource;
        let key = (
            row.attributes.as_str(),
            r.service_name.as_str(),
            r.service_namespace.as_deref(),
            r.service_instance_id.as_deref(),
        );
        let stream = streams.entry(key).or_insert_with(|| Stream {
            labels: base_labels(row, &mut attr_cache),
            ..Stream::default()
        });
        let t = row.time_unix_nano.div_euclid(1_000_000);
        let stale = row.flags & FLAG_NO_RECORDED_VALUE != 0;
        let delta = row.aggregation_temporality == 1;
        let value = |v: f64| if stale { stale_nan() } else { v };
        match kind {
            Kind::Gauge | Kind::Counter | Kind::UpDownSum => {
                if !wants(Part::Value) {
                    continue;
                }
                let id = Stream::id(&mut stream.value, &mut set, &stream.labels, base);
                let mut v = row.value.unwrap_or(f64::NAN);
                if delta && kind != Kind::Gauge && !stale {
                    stream.running_value += v;
                    v = stream.running_value;
                }
                set.push_id(id, t, value(v));
            }
            Kind::Histogram => {
                let mut state = HistState {
                    buckets: buckets(row),
                    count: row.count.unwrap_or(0) as f64,
                    sum: row.sum.unwrap_or(f64::NAN),
                };
                if delta && !stale {
                    let acc = &mut stream.running;
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
                if wants(Part::Bucket) {
                    let bounds: Vec<f64> = state.buckets.iter().map(|b| b.0).collect();
                    let ids = stream.bucket_ids(&mut set, name_of(Part::Bucket), "le", &bounds);
                    let mut cumulative = 0.0;
                    for ((_, c), (_, id)) in state.buckets.iter().zip(ids) {
                        cumulative += c;
                        set.push_id(*id, t, value(cumulative));
                    }
                }
                if wants(Part::Sum) {
                    let id = Stream::id(
                        &mut stream.sum,
                        &mut set,
                        &stream.labels,
                        name_of(Part::Sum),
                    );
                    set.push_id(id, t, value(state.sum));
                }
                if wants(Part::Count) {
                    let id = Stream::id(
                        &mut stream.count,
                        &mut set,
                        &stream.labels,
                        name_of(Part::Count),
                    );
                    set.push_id(id, t, value(state.count));
                }
            }
            Kind::Summary => {
                if wants(Part::Value) {
                    let ids = stream.bucket_ids(&mut set, base, "quantile", &row.quantiles);
                    for (v, (_, id)) in row.quantile_values.iter().zip(ids) {
                        set.push_id(*id, t, value(*v));
                    }
                }
                if wants(Part::Sum) {
                    let id = Stream::id(
                        &mut stream.sum,
                        &mut set,
                        &stream.labels,
                        name_of(Part::Sum),
                    );
                    set.push_id(id, t, value(row.sum.unwrap_or(f64::NAN)));
                }
                if wants(Part::Count) {
                    let id = Stream::id(
                        &mut stream.count,
                        &mut set,
                        &stream.labels,
                        name_of(Part::Count),
                    );
                    set.push_id(id, t, value(row.count.unwrap_or(0) as f64));
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
