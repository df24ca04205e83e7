//! PromQL functions: over range vectors (`rate`, `*_over_time`, ...) and instant vectors
//! (math, labels, histograms, time).

use chrono::{DateTime, Datelike, Timelike, Utc};
use promql_parser::label::MatchOp;
use promql_parser::parser::{Call, Expr};

use crate::PromError;
use crate::eval::{Evaluator, Matrix, StepSeries, Value, drop_name, merge_same_labels};
use crate::labels::{Labels, NAME};

type Samples<'s> = &'s [(i64, f64)];

fn arg(c: &Call, i: usize) -> Result<&Expr, PromError> {
    c.args
        .args
        .get(i)
        .map(|b| b.as_ref())
        .ok_or_else(|| PromError::BadData(format!("{}: missing argument {}", c.func.name, i + 1)))
}

/// Applies `f` to the window each evaluation time sees, per series (empty windows give no
/// value).
fn over_windows(
    ev: &Evaluator<'_>,
    m: &Matrix<'_>,
    ts: &[i64],
    keep_name: bool,
    f: &dyn Fn(Samples<'_>, i64, usize) -> Option<f64>,
) -> Vec<StepSeries> {
    let mut out = Vec::with_capacity(m.series.len());
    for (labels, samples) in &m.series {
        let values: Vec<Option<f64>> = ts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let end = m.window_end(*t);
                let w = ev.window(samples, end, m.range);
                if w.is_empty() { None } else { f(w, end, i) }
            })
            .collect();
        if values.iter().any(Option::is_some) {
            out.push(StepSeries {
                labels: drop_name(labels, keep_name),
                values,
            });
        }
    }
    merge_same_labels(out)
}

/// `rate`, `increase` and `delta`: the change over the window, extrapolated to its edges the
/// way Prometheus does (by at most half a sample interval beyond the samples, and a counter
/// never below zero).
fn extrapolated(
    w: Samples<'_>,
    end: i64,
    range: i64,
    counter: bool,
    per_second: bool,
) -> Option<f64> {
    if w.len() < 2 {
        return None;
    }
    let (first, last) = (w[0], w[w.len() - 1]);
    let mut change = last.1 - first.1;
    if counter {
        for pair in w.windows(2) {
            if pair[1].1 < pair[0].1 {
                change += pair[0].1;
            }
        }
    }
    let start = end - range;
    let mut to_start = (first.0 - start) as f64 / 1000.0;
    let to_end = (end - last.0) as f64 / 1000.0;
    let sampled = (last.0 - first.0) as f64 / 1000.0;
    if sampled <= 0.0 {
        return None;
    }
    let average = sampled / (w.len() - 1) as f64;
    if counter && change > 0.0 && first.1 >= 0.0 {
        let to_zero = sampled * (first.1 / change);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    let threshold = average * 1.1;
    let mut interval = sampled;
    interval += if to_start < threshold {
        to_start
    } else {
        average / 2.0
    };
    interval += if to_end < threshold {
        to_end
    } else {
        average / 2.0
    };
    let mut factor = interval / sampled;
    if per_second {
        factor /= range as f64 / 1000.0;
    }
    Some(change * factor)
}

fn instant_change(w: Samples<'_>, per_second: bool) -> Option<f64> {
    if w.len() < 2 {
        return None;
    }
    let (prev, last) = (w[w.len() - 2], w[w.len() - 1]);
    let change = if per_second && last.1 < prev.1 {
        last.1
    } else {
        last.1 - prev.1
    };
    if !per_second {
        return Some(change);
    }
    let dt = (last.0 - prev.0) as f64 / 1000.0;
    (dt > 0.0).then(|| change / dt)
}

/// Least-squares slope and intercept (at `at`, unix ms) of the samples.
fn regression(w: Samples<'_>, at: i64) -> (f64, f64) {
    let first = w[0].1;
    if w.iter().all(|s| s.1 == first) {
        if first.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, first);
    }
    let n = w.len() as f64;
    let (mut sx, mut sy, mut sxy, mut sxx) = (0.0, 0.0, 0.0, 0.0);
    for (t, v) in w {
        let x = (t - at) as f64 / 1000.0;
        sx += x;
        sy += v;
        sxy += x * v;
        sxx += x * x;
    }
    let cov = sxy - sx * sy / n;
    let var = sxx - sx * sx / n;
    let slope = cov / var;
    (slope, sy / n - slope * sx / n)
}

/// The φ-quantile of `values` (sorted here), interpolating between neighbours.
pub(crate) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

/// Population variance (Welford).
pub(crate) fn variance(values: impl Iterator<Item = f64>) -> f64 {
    let (mut n, mut mean, mut m2) = (0.0, 0.0, 0.0);
    for v in values {
        n += 1.0;
        let d = v - mean;
        mean += d / n;
        m2 += d * (v - mean);
    }
    if n == 0.0 { f64::NAN } else { m2 / n }
}

fn range_function(
    ev: &Evaluator<'_>,
    c: &Call,
    ts: &[i64],
    name: &str,
) -> Result<Option<Vec<StepSeries>>, PromError> {
    let matrix_arg = match name {
        "quantile_over_time" => 1,
        _ => 0,
    };
    let known = matches!(
        name,
        "rate"
            | "irate"
            | "increase"
            | "delta"
            | "idelta"
            | "deriv"
            | "predict_linear"
            | "changes"
            | "resets"
            | "avg_over_time"
            | "min_over_time"
            | "max_over_time"
            | "sum_over_time"
            | "count_over_time"
            | "quantile_over_time"
            | "stddev_over_time"
            | "stdvar_over_time"
            | "last_over_time"
            | "present_over_time"
            | "mad_over_time"
            | "holt_winters"
            | "double_exponential_smoothing"
    );
    if !known {
        return Ok(None);
    }
    let m = ev.matrix(arg(c, matrix_arg)?, ts)?;
    let range = m.range;
    let scalar_arg = |i: usize| ev.scalar(arg(c, i)?, ts);
    let out = match name {
        "rate" => over_windows(ev, &m, ts, false, &|w, end, _| {
            extrapolated(w, end, range, true, true)
        }),
        "increase" => over_windows(ev, &m, ts, false, &|w, end, _| {
            extrapolated(w, end, range, true, false)
        }),
        "delta" => over_windows(ev, &m, ts, false, &|w, end, _| {
            extrapolated(w, end, range, false, false)
        }),
        "irate" => over_windows(ev, &m, ts, false, &|w, _, _| instant_change(w, true)),
        "idelta" => over_windows(ev, &m, ts, false, &|w, _, _| instant_change(w, false)),
        "deriv" => over_windows(ev, &m, ts, false, &|w, _, _| {
            (w.len() >= 2).then(|| regression(w, w[0].0).0)
        }),
        "predict_linear" => {
            let by = scalar_arg(1)?;
            over_windows(ev, &m, ts, false, &|w, _, i| {
                if w.len() < 2 {
                    return None;
                }
                let (slope, intercept) = regression(w, ts[i]);
                Some(slope * by[i] + intercept)
            })
        }
        "changes" => over_windows(ev, &m, ts, false, &|w, _, _| {
            let n = w
                .windows(2)
                .filter(|p| p[0].1 != p[1].1 && !(p[0].1.is_nan() && p[1].1.is_nan()))
                .count();
            Some(n as f64)
        }),
        "resets" => over_windows(ev, &m, ts, false, &|w, _, _| {
            Some(w.windows(2).filter(|p| p[1].1 < p[0].1).count() as f64)
        }),
        "avg_over_time" => over_windows(ev, &m, ts, false, &|w, _, _| {
            Some(w.iter().map(|s| s.1).sum::<f64>() / w.len() as f64)
        }),
        "min_over_time" => over_windows(ev, &m, ts, false, &|w, _, _| {
            w.iter()
                .map(|s| s.1)
                .reduce(|a, b| if b < a || a.is_nan() { b } else { a })
        }),
        "max_over_time" => over_windows(ev, &m, ts, false, &|w, _, _| {
            w.iter()
                .map(|s| s.1)
                .reduce(|a, b| if b > a || a.is_nan() { b } else { a })
        }),
        "sum_over_time" => over_windows(ev, &m, ts, false, &|w, _, _| {
            Some(w.iter().map(|s| s.1).sum())
        }),
        "count_over_time" => over_windows(ev, &m, ts, false, &|w, _, _| Some(w.len() as f64)),
        "quantile_over_time" => {
            let q = scalar_arg(0)?;
            over_windows(ev, &m, ts, false, &|w, _, i| {
                let mut values: Vec<f64> = w.iter().map(|s| s.1).collect();
                Some(quantile(q[i], &mut values))
            })
        }
        "stddev_over_time" => over_windows(ev, &m, ts, false, &|w, _, _| {
            Some(variance(w.iter().map(|s| s.1)).sqrt())
        }),
        "stdvar_over_time" => over_windows(ev, &m, ts, false, &|w, _, _| {
            Some(variance(w.iter().map(|s| s.1)))
        }),
        "mad_over_time" => over_windows(ev, &m, ts, false, &|w, _, _| {
            let mut values: Vec<f64> = w.iter().map(|s| s.1).collect();
            let median = quantile(0.5, &mut values);
            let mut dev: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
            Some(quantile(0.5, &mut dev))
        }),
        "last_over_time" => over_windows(ev, &m, ts, true, &|w, _, _| w.last().map(|s| s.1)),
        "present_over_time" => over_windows(ev, &m, ts, false, &|_, _, _| Some(1.0)),
        _ => {
            // holt_winters / double_exponential_smoothing(v, sf, tf)
            let sf = scalar_arg(1)?;
            let tf = scalar_arg(2)?;
            over_windows(ev, &m, ts, false, &|w, _, i| smoothing(w, sf[i], tf[i]))
        }
    };
    Ok(Some(out))
}

/// Double exponential smoothing with smoothing factor `sf` and trend factor `tf`, both in
/// (0, 1): the trend starts as the first difference and is updated from the second step on.
fn smoothing(w: Samples<'_>, sf: f64, tf: f64) -> Option<f64> {
    let valid = |f: f64| f > 0.0 && f < 1.0;
    if w.len() < 2 || !valid(sf) || !valid(tf) {
        return None;
    }
    let (mut previous, mut level) = (0.0, w[0].1);
    let mut trend = w[1].1 - w[0].1;
    for (i, s) in w.iter().enumerate().skip(1) {
        if i > 1 {
            trend = tf * (level - previous) + (1.0 - tf) * trend;
        }
        let next = sf * s.1 + (1.0 - sf) * (level + trend);
        previous = level;
        level = next;
    }
    Some(level)
}

/// The label set `absent` answers with: the equality matchers of a selector argument.
fn absent_labels(e: &Expr) -> Labels {
    let vs = match e {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vs,
        _ => return Labels::default(),
    };
    let mut pairs = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut dup: Vec<&str> = Vec::new();
    for m in &vs.matchers.matchers {
        if m.name == NAME {
            continue;
        }
        if seen.contains(&m.name.as_str()) {
            dup.push(&m.name);
        }
        seen.push(&m.name);
        if m.op == MatchOp::Equal {
            pairs.push((m.name.clone(), m.value.clone()));
        }
    }
    pairs.retain(|(n, _)| !dup.contains(&n.as_str()));
    Labels::new(pairs)
}

fn map_values(
    series: Vec<StepSeries>,
    keep_name: bool,
    f: impl Fn(f64, usize) -> f64,
) -> Vec<StepSeries> {
    let out = series
        .into_iter()
        .map(|s| StepSeries {
            labels: drop_name(&s.labels, keep_name),
            values: s
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| v.map(|x| f(x, i)))
                .collect(),
        })
        .collect();
    merge_same_labels(out)
}

fn math(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sqrt" => f64::sqrt,
        "sgn" => |x: f64| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                x
            }
        },
        "acos" => f64::acos,
        "acosh" => f64::acosh,
        "asin" => f64::asin,
        "asinh" => f64::asinh,
        "atan" => f64::atan,
        "atanh" => f64::atanh,
        "cos" => f64::cos,
        "cosh" => f64::cosh,
        "sin" => f64::sin,
        "sinh" => f64::sinh,
        "tan" => f64::tan,
        "tanh" => f64::tanh,
        "deg" => f64::to_degrees,
        "rad" => f64::to_radians,
        _ => return None,
    })
}

fn date_part(name: &str) -> Option<fn(DateTime<Utc>) -> f64> {
    Some(match name {
        "minute" => |d: DateTime<Utc>| f64::from(d.minute()),
        "hour" => |d: DateTime<Utc>| f64::from(d.hour()),
        "day_of_week" => |d: DateTime<Utc>| f64::from(d.weekday().num_days_from_sunday()),
        "day_of_month" => |d: DateTime<Utc>| f64::from(d.day()),
        "day_of_year" => |d: DateTime<Utc>| f64::from(d.ordinal()),
        "days_in_month" => |d: DateTime<Utc>| {
            let (y, m) = (d.year(), d.month());
            let next = if m == 12 {
                chrono::NaiveDate::from_ymd_opt(y + 1, 1, 1)
            } else {
                chrono::NaiveDate::from_ymd_opt(y, m + 1, 1)
            };
            next.and_then(|n| n.pred_opt())
                .map_or(f64::NAN, |l| f64::from(l.day()))
        },
        "month" => |d: DateTime<Utc>| f64::from(d.month()),
        "year" => |d: DateTime<Utc>| f64::from(d.year()),
        _ => return None,
    })
}

fn string_arg(ev: &Evaluator<'_>, c: &Call, i: usize, ts: &[i64]) -> Result<String, PromError> {
    match ev.eval(arg(c, i)?, ts)? {
        Value::String(s) => Ok(s),
        _ => Err(PromError::BadData(format!(
            "{}: argument {} must be a string",
            c.func.name,
            i + 1
        ))),
    }
}

pub(crate) fn call(ev: &Evaluator<'_>, c: &Call, ts: &[i64]) -> Result<Value, PromError> {
    let name = c.func.name;
    if let Some(out) = range_function(ev, c, ts, name)? {
        return Ok(Value::Vector(out));
    }
    if let Some(f) = math(name) {
        let v = ev.vector(arg(c, 0)?, ts)?;
        return Ok(Value::Vector(map_values(v, false, |x, _| f(x))));
    }
    if let Some(f) = date_part(name) {
        let v = match c.args.args.first() {
            Some(a) => ev.vector(a, ts)?,
            None => vec![StepSeries {
                labels: Labels::default(),
                values: ts.iter().map(|t| Some(*t as f64 / 1000.0)).collect(),
            }],
        };
        return Ok(Value::Vector(map_values(v, false, |x, _| {
            let secs = x.floor();
            DateTime::from_timestamp(secs as i64, 0).map_or(f64::NAN, f)
        })));
    }
    let out = match name {
        "time" => Value::Scalar(ts.iter().map(|t| *t as f64 / 1000.0).collect()),
        "pi" => Value::Scalar(vec![std::f64::consts::PI; ts.len()]),
        "vector" => {
            let s = ev.scalar(arg(c, 0)?, ts)?;
            Value::Vector(vec![StepSeries {
                labels: Labels::default(),
                values: s.into_iter().map(Some).collect(),
            }])
        }
        "scalar" => {
            let v = ev.vector(arg(c, 0)?, ts)?;
            let values = (0..ts.len())
                .map(|i| {
                    let mut present = v.iter().filter_map(|s| s.values[i]);
                    match (present.next(), present.next()) {
                        (Some(x), None) => x,
                        _ => f64::NAN,
                    }
                })
                .collect();
            Value::Scalar(values)
        }
        "round" => {
            let v = ev.vector(arg(c, 0)?, ts)?;
            let to = match c.args.args.get(1) {
                Some(a) => ev.scalar(a, ts)?,
                None => vec![1.0; ts.len()],
            };
            Value::Vector(map_values(v, false, |x, i| {
                let inverse = 1.0 / to[i];
                (x * inverse + 0.5).floor() / inverse
            }))
        }
        "clamp" | "clamp_min" | "clamp_max" => {
            let v = ev.vector(arg(c, 0)?, ts)?;
            let a = ev.scalar(arg(c, 1)?, ts)?;
            let b = if name == "clamp" {
                ev.scalar(arg(c, 2)?, ts)?
            } else {
                Vec::new()
            };
            let mut out = map_values(v, false, |x, i| match name {
                "clamp" if b[i] < a[i] => f64::NAN,
                "clamp" => x.max(a[i]).min(b[i]),
                "clamp_min" => x.max(a[i]),
                _ => x.min(a[i]),
            });
            if name == "clamp" {
                // max < min: no result at that time.
                for s in &mut out {
                    for (i, v) in s.values.iter_mut().enumerate() {
                        if b[i] < a[i] {
                            *v = None;
                        }
                    }
                }
                out.retain(|s| s.values.iter().any(Option::is_some));
            }
            Value::Vector(out)
        }
        "timestamp" => Value::Vector(timestamps(ev, arg(c, 0)?, ts)?),
        "absent" => {
            let v = ev.vector(arg(c, 0)?, ts)?;
            let values: Vec<Option<f64>> = (0..ts.len())
                .map(|i| (!v.iter().any(|s| s.values[i].is_some())).then_some(1.0))
                .collect();
            let mut out = Vec::new();
            if values.iter().any(Option::is_some) {
                out.push(StepSeries {
                    labels: absent_labels(arg(c, 0)?),
                    values,
                });
            }
            Value::Vector(out)
        }
        "absent_over_time" => {
            let e = arg(c, 0)?;
            let m = ev.matrix(e, ts)?;
            let values: Vec<Option<f64>> = ts
                .iter()
                .map(|t| {
                    let end = m.window_end(*t);
                    let any = m
                        .series
                        .iter()
                        .any(|(_, s)| !ev.window(s, end, m.range).is_empty());
                    (!any).then_some(1.0)
                })
                .collect();
            let mut out = Vec::new();
            if values.iter().any(Option::is_some) {
                out.push(StepSeries {
                    labels: absent_labels(e),
                    values,
                });
            }
            Value::Vector(out)
        }
        "sort" | "sort_desc" => {
            let mut v = ev.vector(arg(c, 0)?, ts)?;
            let desc = name == "sort_desc";
            v.sort_by(|a, b| {
                let (x, y) = (
                    a.values.first().copied().flatten().unwrap_or(f64::NAN),
                    b.values.first().copied().flatten().unwrap_or(f64::NAN),
                );
                match (x.is_nan(), y.is_nan()) {
                    (true, true) => std::cmp::Ordering::Equal,
                    (true, false) => std::cmp::Ordering::Greater,
                    (false, true) => std::cmp::Ordering::Less,
                    _ if desc => y.total_cmp(&x),
                    _ => x.total_cmp(&y),
                }
            });
            Value::Vector(v)
        }
        "sort_by_label" | "sort_by_label_desc" => {
            let mut v = ev.vector(arg(c, 0)?, ts)?;
            let mut keys = Vec::new();
            for i in 1..c.args.args.len() {
                keys.push(string_arg(ev, c, i, ts)?);
            }
            v.sort_by(|a, b| {
                let ka: Vec<&str> = keys.iter().map(|k| a.labels.get(k)).collect();
                let kb: Vec<&str> = keys.iter().map(|k| b.labels.get(k)).collect();
                let o = ka.cmp(&kb).then_with(|| a.labels.cmp(&b.labels));
                if name == "sort_by_label_desc" {
                    o.reverse()
                } else {
                    o
                }
            });
            Value::Vector(v)
        }
        "label_replace" => {
            let v = ev.vector(arg(c, 0)?, ts)?;
            let dst = string_arg(ev, c, 1, ts)?;
            let replacement = string_arg(ev, c, 2, ts)?;
            let src = string_arg(ev, c, 3, ts)?;
            let pattern = string_arg(ev, c, 4, ts)?;
            let re = regex::Regex::new(&format!("^(?s:{pattern})$")).map_err(|e| {
                PromError::BadData(format!(
                    "invalid regular expression in label_replace(): {e}"
                ))
            })?;
            if !is_label_name(&dst) {
                return Err(PromError::BadData(format!(
                    "invalid destination label name in label_replace(): {dst}"
                )));
            }
            let out = v
                .into_iter()
                .map(|mut s| {
                    if let Some(caps) = re.captures(s.labels.get(&src)) {
                        let mut value = String::new();
                        caps.expand(&replacement, &mut value);
                        s.labels.set(&dst, &value);
                    }
                    s
                })
                .collect();
            Value::Vector(merge_same_labels(out))
        }
        "label_join" => {
            let v = ev.vector(arg(c, 0)?, ts)?;
            let dst = string_arg(ev, c, 1, ts)?;
            let sep = string_arg(ev, c, 2, ts)?;
            let mut srcs = Vec::new();
            for i in 3..c.args.args.len() {
                srcs.push(string_arg(ev, c, i, ts)?);
            }
            if !is_label_name(&dst) {
                return Err(PromError::BadData(format!(
                    "invalid destination label name in label_join(): {dst}"
                )));
            }
            let out = v
                .into_iter()
                .map(|mut s| {
                    let joined: Vec<&str> = srcs.iter().map(|k| s.labels.get(k)).collect();
                    let value = joined.join(&sep);
                    s.labels.set(&dst, &value);
                    s
                })
                .collect();
            Value::Vector(merge_same_labels(out))
        }
        "histogram_quantile" => {
            let q = ev.scalar(arg(c, 0)?, ts)?;
            let v = ev.vector(arg(c, 1)?, ts)?;
            Value::Vector(crate::histogram::quantiles(&q, v, ts.len()))
        }
        other => {
            return Err(PromError::BadData(format!(
                "function {other}() is not supported by redscope"
            )));
        }
    };
    Ok(out)
}

fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `timestamp(v)`: the time of each sample; of a selector, the time the sample was taken.
fn timestamps(ev: &Evaluator<'_>, e: &Expr, ts: &[i64]) -> Result<Vec<StepSeries>, PromError> {
    let inner = match e {
        Expr::Paren(p) => p.expr.as_ref(),
        other => other,
    };
    if let Expr::VectorSelector(vs) = inner {
        let off = crate::eval::offset_ms(&vs.offset);
        let at = crate::eval::at_ms(&vs.at, ev.times);
        let mut out = Vec::new();
        for s in ev.series_of(vs) {
            let values: Vec<Option<f64>> = ts
                .iter()
                .map(|t| {
                    ev.instant_sample(&s.samples, at.unwrap_or(*t) - off)
                        .map(|(st, _)| st as f64 / 1000.0)
                })
                .collect();
            if values.iter().any(Option::is_some) {
                out.push(StepSeries {
                    labels: s.labels.without_name(),
                    values,
                });
            }
        }
        return Ok(merge_same_labels(out));
    }
    let v = ev.vector(e, ts)?;
    Ok(map_values(v, false, |_, i| ts[i] as f64 / 1000.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_extrapolates_like_prometheus() {
        // A counter going up by 1 every 10 s from 10, sampled at 5, 15, ..., 55 s; a 60 s window
        // ending at 60 s: 5 s to each edge is under 1.1 × the interval, so it extrapolates
        // all the way: 5 increments over 50 s, times 60/50.
        let w: Vec<(i64, f64)> = (0..6)
            .map(|i| (5_000 + i * 10_000, 10.0 + i as f64))
            .collect();
        let inc = extrapolated(&w, 60_000, 60_000, true, false).unwrap_or_default();
        assert!((inc - 6.0).abs() < 1e-9, "{inc}");
        // A counter starting near zero is not extrapolated below zero.
        let w = vec![(30_000, 1.0), (40_000, 2.0), (50_000, 3.0)];
        let inc = extrapolated(&w, 60_000, 60_000, true, false).unwrap_or_default();
        // to_zero = 20 s × 1/2 = 10 s > 11 s threshold? no: 10 < 11, so 10 s at the start,
        // 10 s at the end: (20 + 10 + 10) / 20 × 2 = 4.
        assert!((inc - 4.0).abs() < 1e-9, "{inc}");
        // A reset counts the value before it.
        let w = vec![(0, 5.0), (10_000, 8.0), (20_000, 2.0)];
        let inc = extrapolated(&w, 20_000, 20_000, true, false).unwrap_or_default();
        assert!((inc - 5.0).abs() < 1e-9, "{inc}");
    }

    #[test]
    fn quantiles_interpolate_and_regression_fits_a_line() {
        let mut v = vec![4.0, 1.0, 3.0, 2.0];
        assert_eq!(quantile(0.5, &mut v), 2.5);
        assert_eq!(quantile(2.0, &mut v), f64::INFINITY);
        let w: Vec<(i64, f64)> = (0..5).map(|i| (i * 1000, 3.0 + 2.0 * i as f64)).collect();
        let (slope, intercept) = regression(&w, 0);
        assert!((slope - 2.0).abs() < 1e-12 && (intercept - 3.0).abs() < 1e-12);
        assert!(
            (variance([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0].into_iter()) - 4.0).abs() < 1e-12
        );
    }
}
