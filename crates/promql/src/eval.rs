//! The evaluator: an expression over a list of evaluation times at once (one for an instant
//! query, one per step for a range query), on series read beforehand (see [`needs`]).
//!
//! Instant vectors are kept as series with one optional value per evaluation time; range
//! vectors (selectors and subqueries) as samples with the window each evaluation time sees.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Instant;

use promql_parser::parser::{
    AtModifier, Expr, MatrixSelector, Offset, SubqueryExpr, VectorSelector,
};

use crate::convert::{Series, is_stale};
use crate::labels::{Labels, NAME};
use crate::{EngineOptions, PromError};

/// Series read for each selector of the expression, by the selector's address in the AST.
pub(crate) type SelectorData = HashMap<usize, Vec<Series>>;

pub(crate) fn selector_key(vs: &VectorSelector) -> usize {
    std::ptr::from_ref(vs) as usize
}

/// An instant vector's series over the evaluation times.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StepSeries {
    pub labels: Labels,
    pub values: Vec<Option<f64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// One value per evaluation time.
    Scalar(Vec<f64>),
    Vector(Vec<StepSeries>),
    String(String),
}

/// The samples of one series of a range vector, borrowed from what was read when possible.
pub(crate) type RangeSeries<'a> = (Labels, Cow<'a, [(i64, f64)]>);

/// A range vector: samples per series, and how an evaluation time maps to a window.
pub(crate) struct Matrix<'a> {
    pub series: Vec<RangeSeries<'a>>,
    pub range: i64,
    pub offset: i64,
    pub at: Option<i64>,
}

impl Matrix<'_> {
    /// The end of the window that evaluation time `t` sees.
    pub fn window_end(&self, t: i64) -> i64 {
        self.at.unwrap_or(t) - self.offset
    }
}

/// A selector to read and the span of sample times it needs.
pub(crate) struct Need<'a> {
    pub selector: &'a VectorSelector,
    pub lo: i64,
    pub hi: i64,
}

pub(crate) fn offset_ms(o: &Option<Offset>) -> i64 {
    match o {
        Some(Offset::Pos(d)) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4),
        Some(Offset::Neg(d)) => -i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4),
        None => 0,
    }
}

pub(crate) fn duration_ms(d: &std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// The times of a query: what `@ start()` and `@ end()` mean.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueryTimes {
    pub start: i64,
    pub end: i64,
}

pub(crate) fn at_ms(at: &Option<AtModifier>, q: QueryTimes) -> Option<i64> {
    match at {
        None => None,
        Some(AtModifier::Start) => Some(q.start),
        Some(AtModifier::End) => Some(q.end),
        Some(AtModifier::At(t)) => Some(match t.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => duration_ms(&d),
            Err(e) => -duration_ms(&e.duration()),
        }),
    }
}

/// The evaluation times of a subquery for outer times in `[lo, hi]`: multiples of its step
/// from the start of the first window.
pub(crate) fn subquery_times(
    sq: &SubqueryExpr,
    lo: i64,
    hi: i64,
    q: QueryTimes,
    opts: &EngineOptions,
) -> (Vec<i64>, i64) {
    let step = sq
        .step
        .as_ref()
        .map(duration_ms)
        .filter(|s| *s > 0)
        .unwrap_or(opts.default_subquery_step_ms);
    let off = offset_ms(&sq.offset);
    let (lo, hi) = match at_ms(&sq.at, q) {
        Some(at) => (at - off, at - off),
        None => (lo - off, hi - off),
    };
    let from = lo - duration_ms(&sq.range);
    let mut first = from.div_euclid(step) * step;
    if first < from {
        first += step;
    }
    let mut times = Vec::new();
    let mut t = first;
    while t <= hi {
        times.push(t);
        t += step;
    }
    (times, step)
}

/// Collects the selectors of `e` and the sample times they need, for evaluation times in
/// `[lo, hi]`.
pub(crate) fn needs<'a>(
    e: &'a Expr,
    lo: i64,
    hi: i64,
    q: QueryTimes,
    opts: &EngineOptions,
    out: &mut Vec<Need<'a>>,
) {
    let eff = |at: &Option<AtModifier>, off: i64| match at_ms(at, q) {
        Some(t) => (t - off, t - off),
        None => (lo - off, hi - off),
    };
    match e {
        Expr::VectorSelector(vs) => {
            let (a, b) = eff(&vs.at, offset_ms(&vs.offset));
            out.push(Need {
                selector: vs,
                lo: a - opts.lookback_ms,
                hi: b,
            });
        }
        Expr::MatrixSelector(MatrixSelector { vs, range }) => {
            let (a, b) = eff(&vs.at, offset_ms(&vs.offset));
            out.push(Need {
                selector: vs,
                lo: a - duration_ms(range),
                hi: b,
            });
        }
        Expr::Subquery(sq) => {
            let (times, _) = subquery_times(sq, lo, hi, q, opts);
            if let (Some(first), Some(last)) = (times.first(), times.last()) {
                needs(&sq.expr, *first, *last, q, opts, out);
            }
        }
        Expr::Aggregate(a) => {
            if let Some(p) = &a.param {
                needs(p, lo, hi, q, opts, out);
            }
            needs(&a.expr, lo, hi, q, opts, out);
        }
        Expr::Unary(u) => needs(&u.expr, lo, hi, q, opts, out),
        Expr::Binary(b) => {
            needs(&b.lhs, lo, hi, q, opts, out);
            needs(&b.rhs, lo, hi, q, opts, out);
        }
        Expr::Paren(p) => needs(&p.expr, lo, hi, q, opts, out),
        Expr::Call(c) => {
            for a in &c.args.args {
                needs(a, lo, hi, q, opts, out);
            }
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

pub(crate) struct Evaluator<'a> {
    pub data: &'a SelectorData,
    pub opts: &'a EngineOptions,
    pub times: QueryTimes,
    pub deadline: Instant,
}

impl<'a> Evaluator<'a> {
    fn check_deadline(&self) -> Result<(), PromError> {
        if Instant::now() > self.deadline {
            return Err(PromError::Timeout);
        }
        Ok(())
    }

    pub fn eval(&self, e: &Expr, ts: &[i64]) -> Result<Value, PromError> {
        self.check_deadline()?;
        match e {
            Expr::NumberLiteral(n) => Ok(Value::Scalar(vec![n.val; ts.len()])),
            Expr::StringLiteral(s) => Ok(Value::String(s.val.clone())),
            Expr::Paren(p) => self.eval(&p.expr, ts),
            Expr::Unary(u) => match self.eval(&u.expr, ts)? {
                Value::Scalar(v) => Ok(Value::Scalar(v.into_iter().map(|x| -x).collect())),
                Value::Vector(series) => Ok(Value::Vector(
                    series
                        .into_iter()
                        .map(|s| StepSeries {
                            labels: s.labels.without_name(),
                            values: s.values.into_iter().map(|v| v.map(|x| -x)).collect(),
                        })
                        .collect(),
                )),
                Value::String(_) => Err(PromError::BadData(
                    "unary minus is not defined on strings".to_string(),
                )),
            },
            Expr::VectorSelector(vs) => Ok(Value::Vector(self.select(vs, ts))),
            Expr::MatrixSelector(_) | Expr::Subquery(_) => Err(PromError::BadData(
                "a range vector is only allowed as a function argument or as a whole query"
                    .to_string(),
            )),
            Expr::Aggregate(a) => crate::aggregate::eval(self, a, ts),
            Expr::Binary(b) => crate::binary::eval(self, b, ts),
            Expr::Call(c) => crate::functions::call(self, c, ts),
            Expr::Extension(_) => Err(PromError::BadData(
                "extension expressions are not supported".to_string(),
            )),
        }
    }

    /// The series read for a selector.
    pub fn series_of(&self, vs: &VectorSelector) -> &'a [Series] {
        self.data
            .get(&selector_key(vs))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Whether a sample at `t` lies inside a window starting at `start` (exclusive in
    /// Prometheus 3, inclusive in Prometheus 2).
    pub fn after_start(&self, t: i64, start: i64) -> bool {
        if self.opts.left_open_windows {
            t > start
        } else {
            t >= start
        }
    }

    /// The newest sample at or before `t` within the lookback delta, unless it is a
    /// staleness marker: `(sample time, value)`.
    pub fn instant_sample(&self, samples: &[(i64, f64)], t: i64) -> Option<(i64, f64)> {
        let idx = samples.partition_point(|s| s.0 <= t);
        let (st, v) = *samples.get(idx.checked_sub(1)?)?;
        if !self.after_start(st, t - self.opts.lookback_ms) || is_stale(v) {
            return None;
        }
        Some((st, v))
    }

    fn select(&self, vs: &VectorSelector, ts: &[i64]) -> Vec<StepSeries> {
        let off = offset_ms(&vs.offset);
        let at = at_ms(&vs.at, self.times);
        let mut out = Vec::new();
        for s in self.series_of(vs) {
            let values: Vec<Option<f64>> = ts
                .iter()
                .map(|t| {
                    self.instant_sample(&s.samples, at.unwrap_or(*t) - off)
                        .map(|x| x.1)
                })
                .collect();
            if values.iter().any(Option::is_some) {
                out.push(StepSeries {
                    labels: s.labels.clone(),
                    values,
                });
            }
        }
        out
    }

    /// A range vector argument: a matrix selector or a subquery.
    pub fn matrix(&self, e: &'a Expr, ts: &[i64]) -> Result<Matrix<'a>, PromError> {
        match e {
            Expr::Paren(p) => self.matrix(&p.expr, ts),
            Expr::MatrixSelector(MatrixSelector { vs, range }) => {
                let mut series = Vec::new();
                for s in self.series_of(vs) {
                    let samples: Cow<'a, [(i64, f64)]> = if s.samples.iter().any(|x| is_stale(x.1))
                    {
                        Cow::Owned(
                            s.samples
                                .iter()
                                .copied()
                                .filter(|x| !is_stale(x.1))
                                .collect(),
                        )
                    } else {
                        Cow::Borrowed(&s.samples)
                    };
                    series.push((s.labels.clone(), samples));
                }
                Ok(Matrix {
                    series,
                    range: duration_ms(range),
                    offset: offset_ms(&vs.offset),
                    at: at_ms(&vs.at, self.times),
                })
            }
            Expr::Subquery(sq) => {
                let lo = ts.iter().copied().min().unwrap_or(0);
                let hi = ts.iter().copied().max().unwrap_or(0);
                let (inner, _) = subquery_times(sq, lo, hi, self.times, self.opts);
                let series = match self.eval(&sq.expr, &inner)? {
                    Value::Vector(v) => v
                        .into_iter()
                        .map(|s| {
                            let samples: Vec<(i64, f64)> = inner
                                .iter()
                                .zip(&s.values)
                                .filter_map(|(t, v)| v.map(|v| (*t, v)))
                                .collect();
                            (s.labels, Cow::Owned(samples))
                        })
                        .collect(),
                    Value::Scalar(v) => {
                        let samples: Vec<(i64, f64)> =
                            inner.iter().copied().zip(v.iter().copied()).collect();
                        vec![(Labels::default(), Cow::Owned(samples))]
                    }
                    Value::String(_) => {
                        return Err(PromError::BadData(
                            "a subquery needs a vector or scalar expression".to_string(),
                        ));
                    }
                };
                Ok(Matrix {
                    series,
                    range: duration_ms(&sq.range),
                    offset: offset_ms(&sq.offset),
                    at: at_ms(&sq.at, self.times),
                })
            }
            _ => Err(PromError::BadData(
                "expected a range vector (a selector with [range] or a subquery)".to_string(),
            )),
        }
    }

    /// The samples of `samples` in the window that ends at `end` and spans `range`.
    pub fn window<'s>(&self, samples: &'s [(i64, f64)], end: i64, range: i64) -> &'s [(i64, f64)] {
        let start = end - range;
        let lo = samples.partition_point(|s| !self.after_start(s.0, start));
        let hi = samples.partition_point(|s| s.0 <= end);
        if lo >= hi { &[] } else { &samples[lo..hi] }
    }

    /// A scalar argument, one value per evaluation time.
    pub fn scalar(&self, e: &Expr, ts: &[i64]) -> Result<Vec<f64>, PromError> {
        match self.eval(e, ts)? {
            Value::Scalar(v) => Ok(v),
            _ => Err(PromError::BadData("expected a scalar".to_string())),
        }
    }

    /// An instant vector argument.
    pub fn vector(&self, e: &Expr, ts: &[i64]) -> Result<Vec<StepSeries>, PromError> {
        match self.eval(e, ts)? {
            Value::Vector(v) => Ok(v),
            _ => Err(PromError::BadData("expected an instant vector".to_string())),
        }
    }
}

/// Merges series whose labels became equal (after a name was dropped, say): the first value
/// at each time wins.
pub(crate) fn merge_same_labels(series: Vec<StepSeries>) -> Vec<StepSeries> {
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut out: Vec<StepSeries> = Vec::with_capacity(series.len());
    for s in series {
        match index.get(&s.labels) {
            Some(&i) => {
                for (a, b) in out[i].values.iter_mut().zip(s.values) {
                    if a.is_none() {
                        *a = b;
                    }
                }
            }
            None => {
                index.insert(s.labels.clone(), out.len());
                out.push(s);
            }
        }
    }
    out.retain(|s| s.values.iter().any(Option::is_some));
    out
}

/// Labels without the metric name, unless `keep_name`.
pub(crate) fn drop_name(labels: &Labels, keep_name: bool) -> Labels {
    if keep_name || !labels.has(NAME) {
        labels.clone()
    } else {
        labels.without_name()
    }
}
