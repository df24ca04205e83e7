//! Metric series evaluation: points of one metric → one series per label set, one value per step.
//!
//! Counters and histograms may be cumulative: their increase between consecutive points of the
//! same stream (same resource and attributes) is what `sum`, `rate` and percentiles use, with a
//! drop treated as a restart.

use std::collections::{BTreeMap, HashMap};

use model::{MetricPointRow, MetricType};
use serde_json::{Map, Value};

use crate::types::{Aggregation, MetricQuery, MetricSeries, Series};

/// What one point contributes to its step.
#[derive(Debug, Default, Clone)]
struct Contribution {
    value: Option<f64>,
    count: f64,
    sum: f64,
    min: Option<f64>,
    max: Option<f64>,
    /// (upper bound, count) per bucket.
    buckets: Vec<(f64, f64)>,
    quantiles: Vec<(f64, f64)>,
}

#[derive(Debug, Default)]
struct Acc {
    values: Vec<f64>,
    count: f64,
    sum: f64,
    min: Option<f64>,
    max: Option<f64>,
    buckets: BTreeMap<u64, f64>,
    quantiles: Vec<(f64, f64)>,
}

/// The labels of a series and its accumulators per step.
type Group = (Map<String, Value>, BTreeMap<i64, Acc>);

fn labels_of(row: &MetricPointRow, group_by: &[String]) -> Map<String, Value> {
    let attrs: Map<String, Value> = serde_json::from_str(&row.attributes).unwrap_or_default();
    let res: Map<String, Value> =
        serde_json::from_str(&row.resource.resource_attributes).unwrap_or_default();
    let mut labels = Map::new();
    for key in group_by {
        let v = if key == "service.name" || key == "service_name" {
            Some(Value::String(row.resource.service_name.clone()))
        } else {
            attrs.get(key).or_else(|| res.get(key)).cloned()
        };
        labels.insert(key.clone(), v.unwrap_or(Value::Null));
    }
    labels
}

fn cumulative(row: &MetricPointRow) -> bool {
    row.aggregation_temporality == 2
}

fn exp_buckets(row: &MetricPointRow) -> Vec<(f64, f64)> {
    let scale = row.exp_scale.unwrap_or(0);
    let base = 2f64.powf(2f64.powi(-scale));
    let mut out = Vec::new();
    if let Some(z) = row.exp_zero_count
        && z > 0
    {
        out.push((row.exp_zero_threshold.unwrap_or(0.0), z as f64));
    }
    let offset = row.exp_positive_offset.unwrap_or(0);
    for (i, c) in row.exp_positive_bucket_counts.iter().enumerate() {
        let idx = offset + i32::try_from(i).unwrap_or(i32::MAX);
        out.push((base.powi(idx.saturating_add(1)), *c as f64));
    }
    out
}

fn contribution(row: &MetricPointRow) -> Contribution {
    match MetricType::parse(&row.metric_type) {
        Some(MetricType::Gauge | MetricType::Sum) | None => Contribution {
            value: row.value,
            ..Default::default()
        },
        Some(MetricType::Histogram) => {
            let mut buckets = Vec::with_capacity(row.bucket_counts.len());
            for (i, c) in row.bucket_counts.iter().enumerate() {
                let upper = row.explicit_bounds.get(i).copied().unwrap_or(f64::INFINITY);
                buckets.push((upper, *c as f64));
            }
            Contribution {
                count: row.count.unwrap_or(0) as f64,
                sum: row.sum.unwrap_or(0.0),
                min: row.min,
                max: row.max,
                buckets,
                ..Default::default()
            }
        }
        Some(MetricType::ExponentialHistogram) => Contribution {
            count: row.count.unwrap_or(0) as f64,
            sum: row.sum.unwrap_or(0.0),
            min: row.min,
            max: row.max,
            buckets: exp_buckets(row),
            ..Default::default()
        },
        Some(MetricType::Summary) => Contribution {
            count: row.count.unwrap_or(0) as f64,
            sum: row.sum.unwrap_or(0.0),
            quantiles: row
                .quantiles
                .iter()
                .copied()
                .zip(row.quantile_values.iter().copied())
                .collect(),
            ..Default::default()
        },
    }
}

/// The increase from `prev` to `cur` of a cumulative point (a drop means a restart).
fn delta(prev: &Contribution, cur: &Contribution) -> Contribution {
    let restarted = cur.count < prev.count || cur.value.zip(prev.value).is_some_and(|(c, p)| c < p);
    if restarted {
        return cur.clone();
    }
    let mut d = cur.clone();
    d.value = cur.value.zip(prev.value).map(|(c, p)| c - p).or(cur.value);
    d.count = cur.count - prev.count;
    d.sum = cur.sum - prev.sum;
    if cur.buckets.len() == prev.buckets.len() {
        for (b, p) in d.buckets.iter_mut().zip(&prev.buckets) {
            b.1 = (b.1 - p.1).max(0.0);
        }
    }
    d
}

fn bound_key(upper: f64) -> u64 {
    // Sorts bounds as numbers while keeping them hashable (bounds are never NaN here).
    let bits = upper.to_bits();
    if upper.is_sign_negative() {
        !bits
    } else {
        bits | (1 << 63)
    }
}

fn quantile_from_buckets(buckets: &BTreeMap<u64, f64>, q: f64) -> Option<f64> {
    let total: f64 = buckets.values().sum();
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let mut seen = 0.0;
    let mut lower = 0.0;
    for (key, count) in buckets {
        let upper = f64::from_bits(if key & (1 << 63) != 0 {
            key & !(1 << 63)
        } else {
            !key
        });
        if seen + count >= rank && *count > 0.0 {
            if upper.is_infinite() {
                return Some(lower);
            }
            let within = (rank - seen) / count;
            return Some(lower + (upper - lower) * within);
        }
        seen += count;
        if upper.is_finite() {
            lower = upper;
        }
    }
    Some(lower)
}

fn percentile(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let idx = ((values.len() - 1) as f64 * q).round() as usize;
    values.get(idx).copied()
}

fn finish(acc: &mut Acc, agg: Aggregation, kind: MetricType, step_secs: f64) -> Option<f64> {
    let is_number = matches!(kind, MetricType::Gauge | MetricType::Sum);
    match agg {
        Aggregation::Sum if is_number => Some(acc.values.iter().sum()),
        Aggregation::Sum => Some(acc.sum),
        Aggregation::Avg if is_number => (!acc.values.is_empty())
            .then(|| acc.values.iter().sum::<f64>() / acc.values.len() as f64),
        Aggregation::Avg => (acc.count > 0.0).then(|| acc.sum / acc.count),
        Aggregation::Min if is_number => acc.values.iter().copied().reduce(f64::min),
        Aggregation::Min => acc.min,
        Aggregation::Max if is_number => acc.values.iter().copied().reduce(f64::max),
        Aggregation::Max => acc.max,
        Aggregation::Rate if is_number => Some(acc.values.iter().sum::<f64>() / step_secs),
        Aggregation::Rate => Some(acc.count / step_secs),
        Aggregation::Quantile(p) => {
            let q = f64::from(p) / 100.0;
            match kind {
                MetricType::Histogram | MetricType::ExponentialHistogram => {
                    quantile_from_buckets(&acc.buckets, q)
                }
                MetricType::Summary => {
                    let matching: Vec<f64> = acc
                        .quantiles
                        .iter()
                        .filter(|(qq, _)| (qq - q).abs() < 1e-9)
                        .map(|(_, v)| *v)
                        .collect();
                    (!matching.is_empty())
                        .then(|| matching.iter().sum::<f64>() / matching.len() as f64)
                }
                _ => percentile(&mut acc.values, q),
            }
        }
    }
}

pub(crate) fn evaluate(q: &MetricQuery, rows: &[MetricPointRow]) -> MetricSeries {
    let first = &rows[0];
    let kind = MetricType::parse(&first.metric_type).unwrap_or(MetricType::Gauge);
    let step = q.step_ns.max(1);
    let step_secs = step as f64 / 1e9;
    // Cumulative streams contribute their increases; gauges their values.
    let mut last_of_stream: HashMap<(String, String), Contribution> = HashMap::new();
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let counter_like = kind != MetricType::Gauge;
    for row in rows {
        let mut c = contribution(row);
        if counter_like && cumulative(row) {
            let stream = (
                row.resource.resource_attributes.clone(),
                row.attributes.clone(),
            );
            let prev = last_of_stream.insert(stream, c.clone());
            match prev {
                Some(p) => c = delta(&p, &c),
                // The first point of a cumulative stream only sets the baseline, unless the
                // aggregation looks at levels rather than increases.
                None if matches!(q.agg, Aggregation::Rate | Aggregation::Sum)
                    && kind == MetricType::Sum =>
                {
                    continue;
                }
                None => {}
            }
        }
        let labels = labels_of(row, &q.group_by);
        let key = serde_json::to_string(&labels).unwrap_or_default();
        let bucket = row.time_unix_nano.div_euclid(step) * step;
        let entry = groups
            .entry(key)
            .or_insert_with(|| (labels, BTreeMap::new()));
        let acc = entry.1.entry(bucket).or_default();
        if let Some(v) = c.value {
            acc.values.push(v);
        }
        acc.count += c.count;
        acc.sum += c.sum;
        acc.min = match (acc.min, c.min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        acc.max = match (acc.max, c.max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        for (upper, count) in c.buckets {
            *acc.buckets.entry(bound_key(upper)).or_default() += count;
        }
        acc.quantiles.extend(c.quantiles);
    }
    let mut series = Vec::with_capacity(groups.len());
    for (_, (labels, mut steps)) in groups {
        let mut points = Vec::with_capacity(steps.len());
        for (t, acc) in steps.iter_mut() {
            if let Some(v) = finish(acc, q.agg, kind, step_secs)
                && v.is_finite()
            {
                points.push((*t, v));
            }
        }
        series.push(Series { labels, points });
    }
    MetricSeries {
        name: q.name.clone(),
        metric_type: kind.as_str().to_string(),
        unit: first.unit.clone(),
        agg: match q.agg {
            Aggregation::Sum => "sum".to_string(),
            Aggregation::Avg => "avg".to_string(),
            Aggregation::Min => "min".to_string(),
            Aggregation::Max => "max".to_string(),
            Aggregation::Rate => "rate".to_string(),
            Aggregation::Quantile(p) => format!("p{p}"),
        },
        step_ns: step,
        series,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::TimeRange;

    fn hist(t: i64, counts: Vec<u64>, temporality: i32) -> MetricPointRow {
        MetricPointRow {
            time_unix_nano: t,
            metric_name: "latency".into(),
            metric_type: "histogram".into(),
            aggregation_temporality: temporality,
            count: Some(counts.iter().sum()),
            sum: Some(0.0),
            explicit_bounds: vec![10.0, 100.0],
            bucket_counts: counts,
            attributes: "{}".into(),
            ..Default::default()
        }
    }

    fn query(agg: Aggregation) -> MetricQuery {
        MetricQuery {
            range: TimeRange::new(0, 100).expect("range"),
            name: "latency".into(),
            agg,
            group_by: vec![],
            step_ns: 100,
            service: None,
        }
    }

    #[test]
    fn histogram_percentiles_interpolate_within_buckets() {
        let rows = vec![hist(10, vec![50, 50, 0], 1)];
        let s = evaluate(&query(Aggregation::Quantile(50)), &rows);
        assert_eq!(s.series[0].points, vec![(0, 10.0)]);
        let s = evaluate(&query(Aggregation::Quantile(90)), &rows);
        let p90 = s.series[0].points[0].1;
        assert!((p90 - 82.0).abs() < 1e-6, "p90 was {p90}");
    }

    #[test]
    fn cumulative_histograms_use_increases() {
        // 100 observations in the first point, 10 more (all slow) in the second.
        let rows = vec![hist(10, vec![100, 0, 0], 2), hist(20, vec![100, 0, 10], 2)];
        let s = evaluate(&query(Aggregation::Rate), &rows);
        // The first point counts fully (no baseline known), then +10: 110 in a 100 ns step.
        assert_eq!(s.series[0].points.len(), 1);
        let rate = s.series[0].points[0].1;
        assert!((rate - 110.0 / 1e-7).abs() < 1.0, "rate was {rate}");
    }

    #[test]
    fn cumulative_counter_rate_skips_baseline_and_handles_restart() {
        let mk = |t, v| MetricPointRow {
            time_unix_nano: t,
            metric_type: "sum".into(),
            aggregation_temporality: 2,
            is_monotonic: true,
            value: Some(v),
            attributes: "{}".into(),
            ..Default::default()
        };
        let rows = vec![mk(10, 100.0), mk(20, 130.0), mk(30, 5.0)];
        let mut q = query(Aggregation::Sum);
        q.name = "c".into();
        let s = evaluate(&q, &rows);
        // +30, then a restart counts its value (5).
        assert_eq!(s.series[0].points, vec![(0, 35.0)]);
    }
}
