//! Time windows of tool calls: parsed from `from`/`to` with errors that name the parameter,
//! and stated in every answer so an agent never has to guess what "now" was.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::error::ToolError;

const HOUR_NS: i64 = 3_600_000_000_000;

/// A point in time as a tool argument: text (`now-15m`, RFC 3339, digits) or unix nanoseconds.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum TimeArg {
    /// Unix time in nanoseconds.
    Nanos(i64),
    /// `now`, `now-15m`, `now-1h`, `now-24h`, an RFC 3339 time, or unix nanoseconds as text.
    Text(String),
}

/// The valid forms, named in every time error.
pub const TIME_FORMS: &str = "use now-15m, now-1h or now-24h (relative), an RFC 3339 time such as 2026-01-31T14:00:00Z, or unix nanoseconds";

/// A resolved half-open window `[from_ns, to_ns)` and the moment it was resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from_ns: i64,
    pub to_ns: i64,
    pub now_ns: i64,
}

impl Window {
    /// Resolves `from`/`to` at `now_ns`; the default is the hour before now.
    pub fn resolve(
        from: Option<&TimeArg>,
        to: Option<&TimeArg>,
        now_ns: i64,
    ) -> Result<Window, ToolError> {
        let to_ns = match to {
            Some(t) => parse("to", t, now_ns)?,
            None => None,
        }
        .unwrap_or(now_ns + 1);
        let from_ns = match from {
            Some(t) => parse("from", t, now_ns)?,
            None => None,
        }
        .unwrap_or(to_ns - HOUR_NS);
        if from_ns >= to_ns {
            return Err(ToolError::bad(
                "from",
                format!(
                    "must be before 'to' (from = {}, to = {})",
                    utc(from_ns),
                    utc(to_ns)
                ),
            ));
        }
        Ok(Window {
            from_ns,
            to_ns,
            now_ns,
        })
    }

    /// The window pinned in an API cursor (`start.end.offset`), if it is one.
    pub fn from_cursor(cursor: &str, now_ns: i64) -> Option<Window> {
        let mut parts = cursor.split('.');
        let from_ns = parts.next()?.parse().ok()?;
        let to_ns = parts.next()?.parse().ok()?;
        parts.next()?.parse::<u64>().ok()?;
        (from_ns < to_ns).then_some(Window {
            from_ns,
            to_ns,
            now_ns,
        })
    }

    /// The first line of every answer: the window and the server's clock, in UTC.
    pub fn header(&self) -> String {
        format!(
            "window: {} → {} ({}) · server time now: {}",
            utc(self.from_ns),
            utc(self.to_ns),
            fmt_span_ns(self.to_ns - self.from_ns),
            utc(self.now_ns)
        )
    }

    /// `from`/`to` query parameters for the API.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        vec![
            ("from", self.from_ns.to_string()),
            ("to", self.to_ns.to_string()),
        ]
    }

    /// The same window as the UI's query string (`from=…&to=…`).
    pub fn ui_query(&self) -> String {
        format!("from={}&to={}", self.from_ns, self.to_ns)
    }
}

/// `None` for an empty string (treated as not given).
fn parse(param: &str, arg: &TimeArg, now_ns: i64) -> Result<Option<i64>, ToolError> {
    let text = match arg {
        TimeArg::Nanos(n) => return check_magnitude(param, *n).map(Some),
        TimeArg::Text(t) => t.trim(),
    };
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = model::parse_time(text, now_ns) {
        if text.bytes().all(|b| b.is_ascii_digit()) {
            return check_magnitude(param, t).map(Some);
        }
        return Ok(Some(t));
    }
    // A bare duration ("15m") reads as that long ago: agents often drop the "now-".
    if let Ok(d) = model::parse_duration_ns(text) {
        return Ok(Some(now_ns - d));
    }
    Err(ToolError::bad(
        param,
        format!("'{text}' is not a time; {TIME_FORMS}"),
    ))
}

/// Unix seconds or milliseconds passed as nanoseconds would mean 1970: say so.
fn check_magnitude(param: &str, ns: i64) -> Result<i64, ToolError> {
    if (0..100_000_000_000_000_000).contains(&ns) && ns != 0 {
        let unit = if ns < 100_000_000_000 {
            "seconds"
        } else if ns < 100_000_000_000_000 {
            "milliseconds"
        } else {
            "microseconds"
        };
        return Err(ToolError::bad(
            param,
            format!(
                "{ns} looks like unix {unit}, but numbers are read as unix nanoseconds; {TIME_FORMS}"
            ),
        ));
    }
    Ok(ns)
}

/// `2026-01-31T14:00:00Z` (seconds precision).
pub fn utc(ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// `14:00:05.123` — the time of day in UTC, for table rows inside a stated window.
pub fn utc_time_of_day(ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns)
        .format("%H:%M:%S%.3f")
        .to_string()
}

/// A window length: `1h`, `15m`, `1d 2h`, `90s`.
pub fn fmt_span_ns(ns: i64) -> String {
    let secs = ns / 1_000_000_000;
    if secs <= 0 {
        return format!("{} ms", ns / 1_000_000);
    }
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3_600,
        secs % 3_600 / 60,
        secs % 60,
    );
    let mut parts = Vec::new();
    for (n, unit) in [(d, "d"), (h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            parts.push(format!("{n}{unit}"));
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000_000_000_000;

    fn text(s: &str) -> TimeArg {
        TimeArg::Text(s.to_string())
    }

    #[test]
    fn default_is_the_last_hour() {
        let w = Window::resolve(None, None, NOW).expect("default");
        assert_eq!(w.to_ns, NOW + 1);
        assert_eq!(w.to_ns - w.from_ns, HOUR_NS);
        assert!(w.header().starts_with("window: "));
        assert!(w.header().contains("(1h)"));
        assert!(w.header().contains("server time now: 2026-"));
    }

    #[test]
    fn relative_absolute_and_numeric_forms() {
        let w = Window::resolve(Some(&text("now-15m")), Some(&text("now")), NOW).expect("rel");
        assert_eq!(w.to_ns - w.from_ns, 15 * 60 * 1_000_000_000);
        let w = Window::resolve(Some(&text("24h")), None, NOW).expect("bare duration");
        assert_eq!(w.from_ns, NOW - 24 * HOUR_NS);
        let w = Window::resolve(
            Some(&text("2026-05-28T20:00:00Z")),
            Some(&TimeArg::Nanos(NOW)),
            NOW,
        )
        .expect("abs");
        assert_eq!(utc(w.from_ns), "2026-05-28T20:00:00Z");
        let digits =
            Window::resolve(Some(&text(&(NOW - HOUR_NS).to_string())), None, NOW).expect("digits");
        assert_eq!(digits.from_ns, NOW - HOUR_NS);
    }

    #[test]
    fn errors_name_the_parameter_and_the_forms() {
        let e = Window::resolve(Some(&text("yesterday")), None, NOW).expect_err("bad");
        let msg = e.to_string();
        assert!(msg.contains("'from'"), "{msg}");
        assert!(msg.contains("now-15m"), "{msg}");
        assert!(msg.contains("RFC 3339"), "{msg}");
        let e = Window::resolve(None, Some(&TimeArg::Nanos(1_780_000_000)), NOW).expect_err("s");
        assert!(e.to_string().contains("'to'"));
        assert!(e.to_string().contains("seconds"));
        let e = Window::resolve(Some(&text("now")), Some(&text("now-1h")), NOW).expect_err("order");
        assert!(e.to_string().contains("before 'to'"));
    }

    #[test]
    fn cursors_carry_their_window() {
        let w = Window::from_cursor("100.200.20", NOW).expect("cursor");
        assert_eq!((w.from_ns, w.to_ns), (100, 200));
        assert!(Window::from_cursor("abc", NOW).is_none());
        assert!(Window::from_cursor("200.100.0", NOW).is_none());
    }

    #[test]
    fn spans_read_naturally() {
        assert_eq!(fmt_span_ns(HOUR_NS), "1h");
        assert_eq!(fmt_span_ns(HOUR_NS * 26 + 60_000_000_000), "1d 2h 1m");
        assert_eq!(fmt_span_ns(5_000_000), "5 ms");
    }
}
