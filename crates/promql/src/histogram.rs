//! `histogram_quantile` over classic histograms: `le` buckets grouped by their other labels.

use std::collections::HashMap;

use crate::eval::{StepSeries, merge_same_labels};
use crate::labels::Labels;

/// The φ-quantile of cumulative buckets `(upper bound, count)`, interpolating linearly within
/// the bucket the rank falls in, as Prometheus does: NaN without a `+Inf` bucket or
/// observations; the highest finite bound when the rank falls in `+Inf`; the first bound
/// when it falls in a first bucket with a bound at or below zero.
pub(crate) fn bucket_quantile(q: f64, buckets: &mut [(f64, f64)]) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    if buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
        return f64::NAN;
    }
    // Buckets with the same bound (from series that differ only in how `le` was written)
    // add up.
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(buckets.len());
    for b in buckets.iter() {
        match merged.last_mut() {
            Some(last) if last.0 == b.0 => last.1 += b.1,
            _ => merged.push(*b),
        }
    }
    // Counts are cumulative; a lower count after a higher one (a scrape between bucket
    // updates) is raised to it.
    let mut highest = f64::NEG_INFINITY;
    for b in &mut merged {
        if b.1 > highest {
            highest = b.1;
        } else if b.1 < highest {
            b.1 = highest;
        }
    }
    if merged.len() < 2 {
        return f64::NAN;
    }
    let observations = merged[merged.len() - 1].1;
    if observations == 0.0 || observations.is_nan() {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let b = merged.partition_point(|x| x.1 < rank);
    if b >= merged.len() - 1 {
        return merged[merged.len() - 2].0;
    }
    if b == 0 && merged[0].0 <= 0.0 {
        return merged[0].0;
    }
    let (mut start, end, mut count) = (0.0, merged[b].0, merged[b].1);
    if b > 0 {
        start = merged[b - 1].0;
        count -= merged[b - 1].1;
        rank -= merged[b - 1].1;
    }
    start + (end - start) * (rank / count)
}

fn parse_le(s: &str) -> Option<f64> {
    match s.trim() {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        other => other.parse().ok(),
    }
}

pub(crate) fn quantiles(q: &[f64], v: Vec<StepSeries>, steps: usize) -> Vec<StepSeries> {
    let mut groups: HashMap<Labels, Vec<(f64, &StepSeries)>> = HashMap::new();
    for s in &v {
        let Some(le) = parse_le(s.labels.get("le")) else {
            continue;
        };
        let mut key = s.labels.without_name();
        key.remove("le");
        groups.entry(key).or_default().push((le, s));
    }
    let mut out = Vec::with_capacity(groups.len());
    for (labels, members) in groups {
        let mut values = Vec::with_capacity(steps);
        for (i, qi) in q.iter().enumerate().take(steps) {
            let mut buckets: Vec<(f64, f64)> = members
                .iter()
                .filter_map(|(le, s)| s.values[i].map(|c| (*le, c)))
                .collect();
            if buckets.is_empty() {
                values.push(None);
                continue;
            }
            values.push(Some(bucket_quantile(*qi, &mut buckets)));
        }
        out.push(StepSeries { labels, values });
    }
    merge_same_labels(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_within_the_bucket() {
        let mut b = vec![
            (0.1, 50.0),
            (f64::INFINITY, 100.0),
            (0.5, 90.0),
            (1.0, 100.0),
        ];
        // Rank 45 of 100 falls in the first bucket: 0 + 0.1 × 45/50.
        assert!((bucket_quantile(0.45, &mut b) - 0.09).abs() < 1e-12);
        // Rank 70: within (0.1, 0.5], 20 of its 40.
        assert!((bucket_quantile(0.7, &mut b) - 0.3).abs() < 1e-12);
        // Rank 100 (the maximum) falls in the first bucket that reaches it: (0.5, 1].
        assert!((bucket_quantile(1.0, &mut b) - 1.0).abs() < 1e-12);
        let mut no_inf = vec![(0.1, 1.0)];
        assert!(bucket_quantile(0.5, &mut no_inf).is_nan());
    }
}
