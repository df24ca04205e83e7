//! `GET /api/v1/deploys`: when each service's `service.version` changed.

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use model::TimeRange;

use crate::params::{self, Params, opt};
use crate::{ApiError, ApiState};

/// `start`/`end` in unix milliseconds (as the alerts endpoints take them), else the usual
/// `from`/`to` (default: the last hour).
fn range(p: &Params) -> Result<TimeRange, ApiError> {
    if opt(p, "start").is_none() && opt(p, "end").is_none() {
        return params::time_range(p);
    }
    let ms = |key: &str, default: i64| match opt(p, key) {
        None => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .and_then(|ms| ms.checked_mul(1_000_000))
            .ok_or_else(|| ApiError::bad(key, "must be a time in unix milliseconds")),
    };
    let end = ms("end", model::now_unix_nano() + 1)?;
    let start = ms("start", end - 3_600_000_000_000)?;
    TimeRange::new(start, end).map_err(|_| ApiError::bad("start", "must be before 'end'"))
}

pub async fn deploys(
    State(state): State<ApiState>,
    Query(p): Query<Params>,
) -> Result<Response, ApiError> {
    let range = range(&p)?;
    let answer = state.query.deploys(range, opt(&p, "service")).await?;
    Ok(Json(answer).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `start` and `end` as given (either may be left out).
    fn given(start: Option<&str>, end: Option<&str>) -> Params {
        let mut p = Params::new();
        for (k, v) in [("start", start), ("end", end)] {
            if let Some(v) = v {
                p.insert(k.to_string(), v.to_string());
            }
        }
        p
    }

    #[test]
    fn start_and_end_are_unix_milliseconds() {
        let r = range(&given(Some("1000"), Some("61000"))).unwrap();
        assert_eq!((r.start_ns, r.end_ns), (1_000_000_000, 61_000_000_000));
        let e = range(&given(Some("soon"), None)).unwrap_err();
        assert!(matches!(e, ApiError::BadParam { ref param, .. } if param == "start"));
        let e = range(&given(Some("5000"), Some("1000"))).unwrap_err();
        assert!(matches!(e, ApiError::BadParam { ref param, .. } if param == "start"));
        // Without them, from/to as everywhere else.
        assert_eq!(range(&Params::new()).unwrap().len_ns(), 3_600_000_000_000);
    }
}
