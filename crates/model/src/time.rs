//! Time parameters: one grammar for the API, the UI, the CLI and MCP.

use chrono::DateTime;

/// Why a time parameter could not be understood.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TimeError {
    #[error("'{0}' is not a time: use RFC 3339, unix nanoseconds, or now-15m style")]
    Unparseable(String),
    #[error("'{0}' is not a duration: use a number with a unit of ms, s, m, h, d or w")]
    BadDuration(String),
    #[error("the range is empty: from must be before to")]
    Empty,
}

/// A half-open interval `[start, end)` in unix nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub start_ns: i64,
    pub end_ns: i64,
}

impl TimeRange {
    pub fn new(start_ns: i64, end_ns: i64) -> Result<Self, TimeError> {
        if start_ns >= end_ns {
            return Err(TimeError::Empty);
        }
        Ok(TimeRange { start_ns, end_ns })
    }

    /// The hour before `now`: the default window of every reader.
    pub fn last_hour(now_ns: i64) -> Self {
        TimeRange {
            start_ns: now_ns - 3_600_000_000_000,
            end_ns: now_ns + 1,
        }
    }

    pub fn len_ns(&self) -> i64 {
        self.end_ns - self.start_ns
    }

    pub fn contains(&self, t: i64) -> bool {
        t >= self.start_ns && t < self.end_ns
    }
}

pub fn now_unix_nano() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_nanos()).unwrap_or(i64::MAX)
}

/// Parses `5m`, `1h`, `250ms`, `30s`, `2d`, `1w` into nanoseconds.
pub fn parse_duration_ns(text: &str) -> Result<i64, TimeError> {
    let bad = || TimeError::BadDuration(text.to_string());
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (digits, unit) = text.split_at(split);
    let n: i64 = digits.parse().map_err(|_| bad())?;
    let unit_ns: i64 = match unit {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "d" => 86_400_000_000_000,
        "w" => 7 * 86_400_000_000_000,
        _ => return Err(bad()),
    };
    n.checked_mul(unit_ns).ok_or_else(bad)
}

/// Parses a point in time: RFC 3339, unix nanoseconds, `now`, `now-15m`, `now+1h`.
pub fn parse_time(text: &str, now_ns: i64) -> Result<i64, TimeError> {
    let text = text.trim();
    let bad = || TimeError::Unparseable(text.to_string());
    if text == "now" {
        return Ok(now_ns);
    }
    if let Some(rest) = text.strip_prefix("now") {
        let (sign, dur) = match rest.as_bytes().first() {
            Some(b'-') => (-1, &rest[1..]),
            Some(b'+') => (1, &rest[1..]),
            _ => return Err(bad()),
        };
        let d = parse_duration_ns(dur).map_err(|_| bad())?;
        return now_ns.checked_add(sign * d).ok_or_else(bad);
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i64>().map_err(|_| bad());
    }
    let parsed = DateTime::parse_from_rfc3339(text).map_err(|_| bad())?;
    parsed.timestamp_nanos_opt().ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000_000_000;

    #[test]
    fn relative_times() {
        assert_eq!(parse_time("now", NOW), Ok(NOW));
        assert_eq!(parse_time("now-15m", NOW), Ok(NOW - 900_000_000_000));
        assert_eq!(parse_time("now+1h", NOW), Ok(NOW + 3_600_000_000_000));
        assert!(parse_time("now-15x", NOW).is_err());
        assert!(parse_time("now15m", NOW).is_err());
    }

    #[test]
    fn absolute_times() {
        assert_eq!(parse_time("1700000000000000000", NOW), Ok(NOW));
        assert_eq!(parse_time("2023-11-14T22:13:20Z", 0), Ok(NOW));
        assert_eq!(parse_time("2023-11-14T23:13:20+01:00", 0), Ok(NOW));
        assert!(parse_time("yesterday", NOW).is_err());
        assert!(parse_time("", NOW).is_err());
    }

    #[test]
    fn ranges_must_not_be_empty() {
        assert_eq!(TimeRange::new(5, 5), Err(TimeError::Empty));
        assert!(TimeRange::new(5, 6).is_ok());
        assert_eq!(parse_duration_ns("250ms"), Ok(250_000_000));
        assert!(parse_duration_ns("ms").is_err());
    }
}
