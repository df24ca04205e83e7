//! Binary operators: arithmetic, comparisons (filtering, or 0/1 with `bool`) and the set
//! operators, with vector matching (`on`, `ignoring`, `group_left`, `group_right`).

use std::collections::HashMap;

use promql_parser::parser::token::{
    T_ADD, T_ATAN2, T_DIV, T_EQLC, T_GTE, T_GTR, T_LAND, T_LOR, T_LSS, T_LTE, T_LUNLESS, T_MOD,
    T_MUL, T_NEQ, T_POW, T_SUB, TokenId,
};
use promql_parser::parser::{BinaryExpr, LabelModifier, VectorMatchCardinality};

use crate::PromError;
use crate::eval::{Evaluator, StepSeries, Value};
use crate::labels::Labels;

fn is_comparison(op: TokenId) -> bool {
    matches!(op, T_EQLC | T_NEQ | T_GTR | T_LSS | T_GTE | T_LTE)
}

/// Whether the result of `op` keeps the metric name: comparisons that filter, and `atan2`
/// (as Prometheus has it).
fn keeps_name(op: TokenId, return_bool: bool) -> bool {
    (is_comparison(op) && !return_bool) || op == T_ATAN2
}

/// `l op r`: for comparisons, whether it holds (as 1 or 0).
fn apply(op: TokenId, l: f64, r: f64) -> f64 {
    let truth = |b: bool| if b { 1.0 } else { 0.0 };
    match op {
        T_ADD => l + r,
        T_SUB => l - r,
        T_MUL => l * r,
        T_DIV => l / r,
        T_MOD => l % r,
        T_POW => l.powf(r),
        T_ATAN2 => l.atan2(r),
        T_EQLC => truth(l == r),
        T_NEQ => truth(l != r),
        T_GTR => truth(l > r),
        T_LSS => truth(l < r),
        T_GTE => truth(l >= r),
        T_LTE => truth(l <= r),
        _ => f64::NAN,
    }
}

pub(crate) fn eval(ev: &Evaluator<'_>, b: &BinaryExpr, ts: &[i64]) -> Result<Value, PromError> {
    let op = b.op.id();
    let return_bool = b.modifier.as_ref().is_some_and(|m| m.return_bool);
    let lhs = ev.eval(&b.lhs, ts)?;
    let rhs = ev.eval(&b.rhs, ts)?;
    match (lhs, rhs) {
        (Value::Scalar(l), Value::Scalar(r)) => Ok(Value::Scalar(
            l.iter().zip(&r).map(|(a, c)| apply(op, *a, *c)).collect(),
        )),
        (Value::Vector(v), Value::Scalar(s)) => {
            Ok(Value::Vector(vector_scalar(op, v, &s, false, return_bool)))
        }
        (Value::Scalar(s), Value::Vector(v)) => {
            Ok(Value::Vector(vector_scalar(op, v, &s, true, return_bool)))
        }
        (Value::Vector(l), Value::Vector(r)) => match op {
            T_LAND | T_LOR | T_LUNLESS => Ok(Value::Vector(set_op(op, b, l, r, ts.len()))),
            _ => Ok(Value::Vector(vector_vector(
                op,
                b,
                l,
                r,
                ts.len(),
                return_bool,
            )?)),
        },
        _ => Err(PromError::BadData(
            "binary operators are not defined on strings".to_string(),
        )),
    }
}

fn vector_scalar(
    op: TokenId,
    v: Vec<StepSeries>,
    s: &[f64],
    scalar_left: bool,
    return_bool: bool,
) -> Vec<StepSeries> {
    let comparison = is_comparison(op);
    let mut out = Vec::with_capacity(v.len());
    for series in v {
        let values: Vec<Option<f64>> = series
            .values
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let x = (*x)?;
                let (l, r) = if scalar_left { (s[i], x) } else { (x, s[i]) };
                let result = apply(op, l, r);
                if !comparison || return_bool {
                    Some(result)
                } else if result == 1.0 {
                    // A filter keeps the vector's own value, whichever side it is on.
                    Some(x)
                } else {
                    None
                }
            })
            .collect();
        if values.iter().all(Option::is_none) {
            continue;
        }
        let labels = if keeps_name(op, return_bool) {
            series.labels
        } else {
            series.labels.without_name()
        };
        out.push(StepSeries { labels, values });
    }
    crate::eval::merge_same_labels(out)
}

/// The labels two series are matched on.
fn match_key(labels: &Labels, matching: &Option<LabelModifier>) -> String {
    match matching {
        Some(LabelModifier::Include(on)) => labels.keep(&on.labels).signature(),
        Some(LabelModifier::Exclude(ignoring)) => {
            labels.drop_with_name(&ignoring.labels).signature()
        }
        None => labels.without_name().signature(),
    }
}

fn matching_of(b: &BinaryExpr) -> Option<LabelModifier> {
    b.modifier.as_ref().and_then(|m| m.matching.clone())
}

fn set_op(
    op: TokenId,
    b: &BinaryExpr,
    l: Vec<StepSeries>,
    r: Vec<StepSeries>,
    n: usize,
) -> Vec<StepSeries> {
    let matching = matching_of(b);
    let rkeys: Vec<String> = r.iter().map(|s| match_key(&s.labels, &matching)).collect();
    let lkeys: Vec<String> = l.iter().map(|s| match_key(&s.labels, &matching)).collect();
    // Per key and time: whether any series of the side has a value.
    let presence = |series: &[StepSeries], keys: &[String]| {
        let mut map: HashMap<String, Vec<bool>> = HashMap::new();
        for (s, k) in series.iter().zip(keys) {
            let e = map.entry(k.clone()).or_insert_with(|| vec![false; n]);
            for (i, v) in s.values.iter().enumerate() {
                e[i] |= v.is_some();
            }
        }
        map
    };
    let rp = presence(&r, &rkeys);
    let mut out = Vec::new();
    match op {
        T_LAND | T_LUNLESS => {
            let keep_if = op == T_LAND;
            for (mut s, k) in l.into_iter().zip(&lkeys) {
                let present = rp.get(k);
                for (i, v) in s.values.iter_mut().enumerate() {
                    let on_right = present.is_some_and(|p| p[i]);
                    if on_right != keep_if {
                        *v = None;
                    }
                }
                if s.values.iter().any(Option::is_some) {
                    out.push(s);
                }
            }
        }
        _ => {
            let lp = presence(&l, &lkeys);
            out.extend(l);
            for (mut s, k) in r.into_iter().zip(&rkeys) {
                let present = lp.get(k);
                for (i, v) in s.values.iter_mut().enumerate() {
                    if present.is_some_and(|p| p[i]) {
                        *v = None;
                    }
                }
                if s.values.iter().any(Option::is_some) {
                    out.push(s);
                }
            }
        }
    }
    out
}

/// The labels of a result of `many op one`.
fn result_labels(
    many: &Labels,
    one: &Labels,
    op: TokenId,
    b: &BinaryExpr,
    return_bool: bool,
) -> Labels {
    let mut labels = if keeps_name(op, return_bool) {
        many.clone()
    } else {
        many.without_name()
    };
    let card = b
        .modifier
        .as_ref()
        .map_or(VectorMatchCardinality::OneToOne, |m| m.card.clone());
    match &card {
        VectorMatchCardinality::OneToOne => match matching_of(b) {
            Some(LabelModifier::Include(on)) => labels = labels.keep(&on.labels),
            Some(LabelModifier::Exclude(ignoring)) => {
                for n in &ignoring.labels {
                    labels.remove(n);
                }
            }
            None => {}
        },
        VectorMatchCardinality::ManyToOne(include) | VectorMatchCardinality::OneToMany(include) => {
            for n in &include.labels {
                let v = one.get(n).to_string();
                labels.set(n, &v);
            }
        }
        VectorMatchCardinality::ManyToMany => {}
    }
    labels
}

fn vector_vector(
    op: TokenId,
    b: &BinaryExpr,
    l: Vec<StepSeries>,
    r: Vec<StepSeries>,
    n: usize,
    return_bool: bool,
) -> Result<Vec<StepSeries>, PromError> {
    let matching = matching_of(b);
    let card = b
        .modifier
        .as_ref()
        .map_or(VectorMatchCardinality::OneToOne, |m| m.card.clone());
    // The "one" side is indexed; the "many" side (lhs unless group_right) walks it.
    let one_to_many = matches!(card, VectorMatchCardinality::OneToMany(_));
    let (many, one) = if one_to_many { (&r, &l) } else { (&l, &r) };
    let one_keys: Vec<String> = one
        .iter()
        .map(|s| match_key(&s.labels, &matching))
        .collect();
    let many_keys: Vec<String> = many
        .iter()
        .map(|s| match_key(&s.labels, &matching))
        .collect();
    let mut by_key: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, k) in one_keys.iter().enumerate() {
        by_key.entry(k).or_default().push(i);
    }
    let comparison = is_comparison(op);
    let mut out: HashMap<Labels, Vec<Option<f64>>> = HashMap::new();
    let mut result_of: HashMap<(usize, usize), Labels> = HashMap::new();
    for step in 0..n {
        // Which "one" series has a value for each key now.
        let mut seen_many: HashMap<Labels, usize> = HashMap::new();
        for (mi, mk) in many_keys.iter().enumerate() {
            let Some(mv) = many[mi].values[step] else {
                continue;
            };
            let Some(candidates) = by_key.get(mk.as_str()) else {
                continue;
            };
            let mut found = None;
            for &oi in candidates {
                if let Some(ov) = one[oi].values[step] {
                    if found.is_some() {
                        return Err(PromError::Execution(format!(
                            "found duplicate series for the match group on the {} side of the operation: many-to-many matching not allowed: matching labels must be unique on one side",
                            if one_to_many { "left" } else { "right" }
                        )));
                    }
                    found = Some((oi, ov));
                }
            }
            let Some((oi, ov)) = found else {
                continue;
            };
            let (lv, rv) = if one_to_many { (ov, mv) } else { (mv, ov) };
            let result = apply(op, lv, rv);
            let value = if !comparison || return_bool {
                result
            } else if result == 1.0 {
                lv
            } else {
                continue;
            };
            let labels = result_of
                .entry((mi, oi))
                .or_insert_with(|| {
                    result_labels(&many[mi].labels, &one[oi].labels, op, b, return_bool)
                })
                .clone();
            if matches!(card, VectorMatchCardinality::OneToOne) {
                if let Some(prev) = seen_many.insert(labels.clone(), mi)
                    && prev != mi
                {
                    return Err(PromError::Execution(
                        "found duplicate series for the match group on the left side of the operation: many-to-many matching not allowed: matching labels must be unique on one side".to_string(),
                    ));
                }
            } else if seen_many.insert(labels.clone(), mi).is_some() {
                return Err(PromError::Execution(
                    "multiple matches for labels: grouping labels must ensure unique matches"
                        .to_string(),
                ));
            }
            out.entry(labels).or_insert_with(|| vec![None; n])[step] = Some(value);
        }
    }
    let mut series: Vec<StepSeries> = out
        .into_iter()
        .map(|(labels, values)| StepSeries { labels, values })
        .collect();
    series.sort_by(|a, b| a.labels.cmp(&b.labels));
    Ok(series)
}
