//! Query-string parsing with errors that name the parameter.

use std::collections::HashMap;

use model::{TimeRange, now_unix_nano, parse_duration_ns, parse_time};

use crate::ApiError;

pub type Params = HashMap<String, String>;

pub fn opt<'a>(p: &'a Params, key: &str) -> Option<&'a str> {
    p.get(key).map(|s| s.trim()).filter(|s| !s.is_empty())
}

pub fn time_range(p: &Params) -> Result<TimeRange, ApiError> {
    let now = now_unix_nano();
    let to = match opt(p, "to") {
        Some(t) => parse_time(t, now).map_err(|e| ApiError::bad("to", e.to_string()))?,
        None => now + 1,
    };
    let from = match opt(p, "from") {
        Some(t) => parse_time(t, now).map_err(|e| ApiError::bad("from", e.to_string()))?,
        None => to - 3_600_000_000_000,
    };
    TimeRange::new(from, to).map_err(|_| ApiError::bad("from", "must be before 'to'"))
}

pub fn limit(p: &Params, default: usize, max: usize) -> Result<usize, ApiError> {
    match opt(p, "limit") {
        None => Ok(default),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if n >= 1 && n <= max => Ok(n),
            _ => Err(ApiError::bad(
                "limit",
                format!("must be a whole number from 1 to {max}"),
            )),
        },
    }
}

pub fn duration_ms(p: &Params, key: &str) -> Result<Option<i64>, ApiError> {
    match opt(p, key) {
        None => Ok(None),
        Some(s) => match s.parse::<f64>() {
            Ok(ms) if ms.is_finite() && ms >= 0.0 => Ok(Some((ms * 1e6) as i64)),
            _ => Err(ApiError::bad(
                key,
                "must be a non-negative number of milliseconds",
            )),
        },
    }
}

pub fn step(p: &Params, range: TimeRange) -> Result<i64, ApiError> {
    match opt(p, "step") {
        Some(s) => {
            let ns = parse_duration_ns(s).map_err(|e| ApiError::bad("step", e.to_string()))?;
            if ns < 1_000_000_000 {
                return Err(ApiError::bad("step", "must be at least 1s"));
            }
            if range.len_ns() / ns > 11_000 {
                return Err(ApiError::bad(
                    "step",
                    "gives more than 11000 points for this range; use a larger step",
                ));
            }
            Ok(ns)
        }
        // About 120 points, rounded to whole seconds.
        None => Ok(((range.len_ns() / 120) / 1_000_000_000).max(1) * 1_000_000_000),
    }
}

/// `attr.KEY=VALUE` parameters.
pub fn attributes(p: &Params) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = p
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("attr.").map(|k| (k.to_string(), v.clone())))
        .filter(|(k, _)| !k.is_empty())
        .collect();
    out.sort();
    out
}

/// Severity as a number (1-24) or a name (TRACE, DEBUG, INFO, WARN, ERROR, FATAL).
pub fn severity(p: &Params, key: &str) -> Result<Option<i32>, ApiError> {
    let Some(s) = opt(p, key) else {
        return Ok(None);
    };
    if let Ok(n) = s.parse::<i32>() {
        if (1..=24).contains(&n) {
            return Ok(Some(n));
        }
        return Err(ApiError::bad(key, "a severity number is between 1 and 24"));
    }
    let n = match model::severity_number(s) {
        Some(n) => n,
        None => {
            return Err(ApiError::bad(
                key,
                "use a number 1-24 or TRACE, DEBUG, INFO, WARN, ERROR, FATAL",
            ));
        }
    };
    Ok(Some(n))
}

/// The window and offset: from the cursor when given, else from the parameters.
pub fn window(p: &Params) -> Result<(TimeRange, usize), ApiError> {
    match opt(p, "cursor") {
        Some(c) => Ok(query::decode_cursor(c)?),
        None => Ok((time_range(p)?, 0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn bad_values_name_their_parameter() {
        let e = time_range(&params(&[("from", "yesterday")])).unwrap_err();
        assert!(matches!(e, ApiError::BadParam { ref param, .. } if param == "from"));
        let e = limit(&params(&[("limit", "0")]), 20, 100).unwrap_err();
        assert!(matches!(e, ApiError::BadParam { ref param, .. } if param == "limit"));
        let e = severity(&params(&[("severity_min", "LOUD")]), "severity_min").unwrap_err();
        assert!(matches!(e, ApiError::BadParam { ref param, .. } if param == "severity_min"));
        assert_eq!(
            severity(&params(&[("s", "warn")]), "s").ok(),
            Some(Some(13))
        );
    }

    #[test]
    fn default_window_is_the_last_hour() {
        let r = time_range(&Params::new()).expect("default range");
        assert_eq!(r.len_ns(), 3_600_000_000_000);
    }
}
