//! Aggregations: `sum`, `avg`, `min`, `max`, `count`, `group`, `stddev`, `stdvar`,
//! `quantile`, `count_values`, `topk` and `bottomk`, with `by` and `without`.

use std::collections::HashMap;

use promql_parser::parser::token::{
    T_AVG, T_BOTTOMK, T_COUNT, T_COUNT_VALUES, T_GROUP, T_MAX, T_MIN, T_QUANTILE, T_STDDEV,
    T_STDVAR, T_SUM, T_TOPK,
};
use promql_parser::parser::{AggregateExpr, LabelModifier};

use crate::PromError;
use crate::eval::{Evaluator, StepSeries, Value};
use crate::functions::{quantile, variance};
use crate::labels::Labels;
use crate::names::format_float;

fn group_labels(labels: &Labels, modifier: &Option<LabelModifier>) -> Labels {
    match modifier {
        None => Labels::default(),
        Some(LabelModifier::Include(by)) => labels.keep(&by.labels),
        Some(LabelModifier::Exclude(without)) => labels.drop_with_name(&without.labels),
    }
}

pub(crate) fn eval(ev: &Evaluator<'_>, a: &AggregateExpr, ts: &[i64]) -> Result<Value, PromError> {
    let op = a.op.id();
    let input = ev.vector(&a.expr, ts)?;
    let n = ts.len();
    if op == T_TOPK || op == T_BOTTOMK {
        let k = match &a.param {
            Some(p) => ev.scalar(p, ts)?,
            None => return Err(PromError::BadData("topk/bottomk need a parameter".into())),
        };
        return Ok(Value::Vector(top_k(
            &input,
            &a.modifier,
            &k,
            op == T_TOPK,
            n,
        )));
    }
    if op == T_COUNT_VALUES {
        let label = match &a.param {
            Some(p) => match ev.eval(p, ts)? {
                Value::String(s) => s,
                _ => return Err(PromError::BadData("count_values needs a label name".into())),
            },
            None => return Err(PromError::BadData("count_values needs a label name".into())),
        };
        return Ok(Value::Vector(count_values(&input, &a.modifier, &label, n)));
    }
    let q = match (&a.param, op == T_QUANTILE) {
        (Some(p), true) => ev.scalar(p, ts)?,
        _ => Vec::new(),
    };
    // Group members by their group's labels.
    let mut groups: HashMap<Labels, Vec<usize>> = HashMap::new();
    for (i, s) in input.iter().enumerate() {
        groups
            .entry(group_labels(&s.labels, &a.modifier))
            .or_default()
            .push(i);
    }
    let mut out = Vec::with_capacity(groups.len());
    let mut values_buf: Vec<f64> = Vec::new();
    for (labels, members) in groups {
        let mut values = Vec::with_capacity(n);
        for step in 0..n {
            values_buf.clear();
            values_buf.extend(members.iter().filter_map(|&m| input[m].values[step]));
            if values_buf.is_empty() {
                values.push(None);
                continue;
            }
            let v = &mut values_buf;
            let result = match op {
                T_SUM => v.iter().sum(),
                T_AVG => mean(v),
                T_MIN => v
                    .iter()
                    .copied()
                    .reduce(|a, b| if b < a || a.is_nan() { b } else { a })
                    .unwrap_or(f64::NAN),
                T_MAX => v
                    .iter()
                    .copied()
                    .reduce(|a, b| if b > a || a.is_nan() { b } else { a })
                    .unwrap_or(f64::NAN),
                T_COUNT => v.len() as f64,
                T_GROUP => 1.0,
                T_STDDEV => variance(v.iter().copied()).sqrt(),
                T_STDVAR => variance(v.iter().copied()),
                T_QUANTILE => quantile(q.get(step).copied().unwrap_or(f64::NAN), v),
                _ => {
                    return Err(PromError::BadData(format!(
                        "aggregation {} is not supported by redscope",
                        a.op
                    )));
                }
            };
            values.push(Some(result));
        }
        out.push(StepSeries { labels, values });
    }
    out.sort_by(|a, b| a.labels.cmp(&b.labels));
    Ok(Value::Vector(out))
}

/// The mean, computed incrementally so that large values do not overflow.
fn mean(v: &[f64]) -> f64 {
    let sum: f64 = v.iter().sum();
    if sum.is_finite() {
        return sum / v.len() as f64;
    }
    let mut m = 0.0;
    for (i, x) in v.iter().enumerate() {
        m += (x - m) / (i + 1) as f64;
    }
    m
}

fn top_k(
    input: &[StepSeries],
    modifier: &Option<LabelModifier>,
    k: &[f64],
    top: bool,
    n: usize,
) -> Vec<StepSeries> {
    let mut groups: HashMap<Labels, Vec<usize>> = HashMap::new();
    for (i, s) in input.iter().enumerate() {
        groups
            .entry(group_labels(&s.labels, modifier))
            .or_default()
            .push(i);
    }
    let mut out: Vec<StepSeries> = input
        .iter()
        .map(|s| StepSeries {
            labels: s.labels.clone(),
            values: vec![None; n],
        })
        .collect();
    for members in groups.values() {
        for step in 0..n {
            let want = k.get(step).copied().unwrap_or(0.0);
            if want.is_nan() || want < 1.0 {
                continue;
            }
            let want = want as usize;
            let mut present: Vec<(usize, f64)> = members
                .iter()
                .filter_map(|&m| input[m].values[step].map(|v| (m, v)))
                .collect();
            // NaN sorts last either way.
            present.sort_by(|a, b| match (a.1.is_nan(), b.1.is_nan()) {
                (true, true) => std::cmp::Ordering::Equal,
                (true, false) => std::cmp::Ordering::Greater,
                (false, true) => std::cmp::Ordering::Less,
                _ if top => b.1.total_cmp(&a.1),
                _ => a.1.total_cmp(&b.1),
            });
            for (m, v) in present.into_iter().take(want) {
                out[m].values[step] = Some(v);
            }
        }
    }
    out.retain(|s| s.values.iter().any(Option::is_some));
    // Instant queries answer in rank order.
    if n == 1 {
        out.sort_by(|a, b| {
            let (x, y) = (
                a.values[0].unwrap_or(f64::NAN),
                b.values[0].unwrap_or(f64::NAN),
            );
            if top {
                y.total_cmp(&x)
            } else {
                x.total_cmp(&y)
            }
        });
    }
    out
}

fn count_values(
    input: &[StepSeries],
    modifier: &Option<LabelModifier>,
    label: &str,
    n: usize,
) -> Vec<StepSeries> {
    let mut out: HashMap<Labels, Vec<Option<f64>>> = HashMap::new();
    for s in input {
        let base = group_labels(&s.labels, modifier);
        for (step, v) in s.values.iter().enumerate() {
            let Some(v) = v else { continue };
            let mut labels = base.clone();
            labels.set(label, &format_float(*v));
            let values = out.entry(labels).or_insert_with(|| vec![None; n]);
            values[step] = Some(values[step].unwrap_or(0.0) + 1.0);
        }
    }
    let mut series: Vec<StepSeries> = out
        .into_iter()
        .map(|(labels, values)| StepSeries { labels, values })
        .collect();
    series.sort_by(|a, b| a.labels.cmp(&b.labels));
    series
}
