//! Severity levels, level words, and the content signal used when no level is explicit.

use serde::{Deserialize, Serialize};

/// Severity on the OpenTelemetry scale, collapsed to its six ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl Severity {
    /// The OpenTelemetry short name: `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL`.
    pub fn short_name(self) -> &'static str {
        match self {
            Severity::Trace => "TRACE",
            Severity::Debug => "DEBUG",
            Severity::Info => "INFO",
            Severity::Warn => "WARN",
            Severity::Error => "ERROR",
            Severity::Fatal => "FATAL",
        }
    }

    /// The lowest OpenTelemetry severity number of the range: 1, 5, 9, 13, 17, 21.
    pub fn otel_number(self) -> i32 {
        match self {
            Severity::Trace => 1,
            Severity::Debug => 5,
            Severity::Info => 9,
            Severity::Warn => 13,
            Severity::Error => 17,
            Severity::Fatal => 21,
        }
    }

    /// Maps an OpenTelemetry severity number (1..=24) to its range; 0 and out of range are unset.
    pub fn from_otel_number(number: i32) -> Option<Severity> {
        match number {
            1..=4 => Some(Severity::Trace),
            5..=8 => Some(Severity::Debug),
            9..=12 => Some(Severity::Info),
            13..=16 => Some(Severity::Warn),
            17..=20 => Some(Severity::Error),
            21..=24 => Some(Severity::Fatal),
            _ => None,
        }
    }

    /// Maps a syslog priority value (facility * 8 + severity) to a severity.
    pub fn from_syslog_priority(priority: u32) -> Severity {
        match priority % 8 {
            0..=2 => Severity::Fatal,
            3 => Severity::Error,
            4 => Severity::Warn,
            5 | 6 => Severity::Info,
            _ => Severity::Debug,
        }
    }

    /// Maps an HTTP status code to the severity an access log line deserves.
    /// Client errors are warnings (the server worked as designed), server errors are errors.
    pub fn from_http_status(status: u16) -> Option<Severity> {
        match status {
            100..=399 => Some(Severity::Info),
            400..=499 => Some(Severity::Warn),
            500..=599 => Some(Severity::Error),
            _ => None,
        }
    }
}

/// Parses a level word as written in log headers and level fields (case-insensitive).
/// Single letters (`D`, `I`, `W`, `E`, ...) are accepted only when `allow_letter` is set,
/// because a lone capital letter is only a level in headers that use them (logcat, klog).
pub fn parse_level(word: &str, allow_letter: bool) -> Option<Severity> {
    let bytes = word.as_bytes();
    // Every level word starts with a letter.
    if bytes.is_empty() || bytes.len() > 11 || !bytes[0].is_ascii_alphabetic() {
        return None;
    }
    if bytes.len() == 1 {
        if !allow_letter {
            return None;
        }
        return match bytes[0] {
            b'V' | b'T' => Some(Severity::Trace),
            b'D' => Some(Severity::Debug),
            b'I' => Some(Severity::Info),
            b'W' => Some(Severity::Warn),
            b'E' => Some(Severity::Error),
            b'N' => Some(Severity::Info),
            b'F' | b'A' | b'C' => Some(Severity::Fatal),
            _ => None,
        };
    }
    // Words that are levels only as written by the loggers that use them: `LOG` (PostgreSQL's
    // informational level), `Note`/`NOTE`. In lower case they are ordinary words.
    if matches!(word, "LOG" | "NOTE" | "Note" | "SUCCESS") {
        return Some(Severity::Info);
    }
    let mut lower = [0u8; 11];
    for (slot, byte) in lower.iter_mut().zip(bytes) {
        *slot = byte.to_ascii_lowercase();
    }
    match &lower[..bytes.len()] {
        b"trace" | b"verbose" | b"finest" | b"finer" | b"trc" | b"trce" | b"vrb" => {
            Some(Severity::Trace)
        }
        b"debug" | b"dbug" | b"dbg" | b"fine" => Some(Severity::Debug),
        b"info" | b"inf" | b"notice" | b"information" | b"informational" | b"config" => {
            Some(Severity::Info)
        }
        b"warn" | b"warning" | b"wrn" => Some(Severity::Warn),
        b"error" | b"err" | b"eror" | b"erro" | b"severe" => Some(Severity::Error),
        b"trac" => Some(Severity::Trace),
        b"debu" => Some(Severity::Debug),
        b"fata" | b"pani" => Some(Severity::Fatal),
        b"fatal" | b"critical" | b"crit" | b"alert" | b"emerg" | b"emergency" | b"panic"
        | b"failure" | b"dpanic" | b"ftl" => Some(Severity::Fatal),
        _ if bytes[bytes.len() - 1].is_ascii_digit() => numbered_level(word),
        _ => None,
    }
}

/// Parses the value of a field named as a level (`"level": "http"`): every level word, and the
/// names that only such a field makes levels (npm-style `http` and `silly`, `success`).
pub fn level_field(value: &str) -> Option<Severity> {
    let value = value.trim();
    parse_level(value, true).or_else(|| match value.to_ascii_lowercase().as_str() {
        "http" | "success" => Some(Severity::Info),
        "silly" => Some(Severity::Trace),
        _ => None,
    })
}

/// A level word with a number after it: `trace1`..`trace8`, `DEBUG2` (sub-levels), or an
/// offset `DEBUG-4`, `ERROR+4` (four steps per range, as structured loggers print levels
/// between the named ones).
fn numbered_level(word: &str) -> Option<Severity> {
    let split = word.find(|c: char| c.is_ascii_digit() || c == '+' || c == '-')?;
    let (name, rest) = word.split_at(split);
    let base = parse_level(name, false)?;
    let (sign, digits) = match rest.as_bytes()[0] {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => (0, rest),
    };
    if digits.is_empty() || digits.len() > 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if sign == 0 {
        return Some(base);
    }
    let offset: i32 = digits.parse().ok()?;
    let number = (base.otel_number() + sign * offset).clamp(1, 24);
    Severity::from_otel_number(number)
}

/// Words that, seen in a message, suggest something went wrong.
const FAILURE_WORDS: &[&str] = &[
    "error",
    "errors",
    "exception",
    "failed",
    "failure",
    "fatal",
    "panic",
    "traceback",
    "segfault",
    "crashed",
    "unhandled",
];

/// Words that, next to a failure word, cancel it ("0 errors", "no error", "error=nil").
const NEGATIONS: &[&str] = &[
    "0", "no", "not", "without", "nil", "null", "none", "false", "zero", "never", "ok",
];

/// A content signal for one template: `Some(Error)` when the text reports a failure,
/// `Some(Warn)` for weaker signals, `None` when nothing or a negated signal is present.
/// It is computed once per template (on its text, with variables already masked), so the
/// decision is the same for every record of the template.
pub fn content_signal(template: &str) -> Option<Severity> {
    let words: Vec<&str> = template
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '<' || c == '>' || c == '*'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut found = None;
    for (index, word) in words.iter().enumerate() {
        let lower = word.to_ascii_lowercase();
        let is_failure = FAILURE_WORDS.contains(&lower.as_str())
            || (lower.ends_with("exception") && lower.len() > "exception".len())
            || (lower.ends_with("error")
                && lower.len() > "error".len()
                && word.as_bytes()[0].is_ascii_uppercase());
        if !is_failure {
            continue;
        }
        let before = index.checked_sub(1).map(|i| words[i].to_ascii_lowercase());
        let after = words.get(index + 1).map(|w| w.to_ascii_lowercase());
        // A count ("<*> errors", "errors: <*>") reports a number, not a failure.
        let plural = lower.ends_with('s');
        let negates = |w: &str| NEGATIONS.contains(&w) || (plural && w == "<*>");
        let negated =
            before.as_deref().is_some_and(negates) || after.as_deref().is_some_and(negates);
        if negated {
            // "0 errors", "error=nil", "no error": this word reports no failure.
            continue;
        }
        found = Some(Severity::Error);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_words() {
        assert_eq!(parse_level("notice", false), Some(Severity::Info));
        assert_eq!(parse_level("SEVERE", false), Some(Severity::Error));
        assert_eq!(parse_level("FAILURE", false), Some(Severity::Fatal));
        assert_eq!(parse_level("Info", false), Some(Severity::Info));
        assert_eq!(parse_level("D", false), None);
        assert_eq!(parse_level("D", true), Some(Severity::Debug));
        assert_eq!(parse_level("information_schema", false), None);
        // Abbreviations of console loggers (three and four letters).
        assert_eq!(parse_level("TRC", false), Some(Severity::Trace));
        assert_eq!(parse_level("trce", false), Some(Severity::Trace));
        assert_eq!(parse_level("FTL", false), Some(Severity::Fatal));
        assert_eq!(parse_level("WRN", false), Some(Severity::Warn));
        // Level words that are levels only in the casing their loggers write.
        assert_eq!(parse_level("LOG", false), Some(Severity::Info));
        assert_eq!(parse_level("log", false), None);
        assert_eq!(parse_level("Note", false), Some(Severity::Info));
        assert_eq!(parse_level("note", false), None);
        // Sub-levels and offsets.
        assert_eq!(parse_level("trace4", false), Some(Severity::Trace));
        assert_eq!(parse_level("DEBUG2", false), Some(Severity::Debug));
        assert_eq!(parse_level("DEBUG-4", false), Some(Severity::Trace));
        assert_eq!(parse_level("ERROR+4", false), Some(Severity::Fatal));
        assert_eq!(parse_level("INFO+2", false), Some(Severity::Info));
        assert_eq!(parse_level("error404", false), None);
        assert_eq!(level_field("http"), Some(Severity::Info));
        assert_eq!(level_field("silly"), Some(Severity::Trace));
    }

    #[test]
    fn numbers_round_trip() {
        for severity in [
            Severity::Trace,
            Severity::Debug,
            Severity::Info,
            Severity::Warn,
            Severity::Error,
            Severity::Fatal,
        ] {
            assert_eq!(
                Severity::from_otel_number(severity.otel_number()),
                Some(severity)
            );
        }
        assert_eq!(Severity::from_otel_number(0), None);
        assert_eq!(Severity::from_syslog_priority(11), Severity::Error);
        assert_eq!(Severity::from_syslog_priority(14), Severity::Info);
    }

    #[test]
    fn content_signal_with_negations() {
        assert_eq!(
            content_signal("connection failed: timeout"),
            Some(Severity::Error)
        );
        assert_eq!(
            content_signal("java.io.IOException: broken pipe"),
            Some(Severity::Error)
        );
        assert_eq!(content_signal("finished with 0 errors"), None);
        assert_eq!(content_signal("request done error=nil"), None);
        assert_eq!(content_signal("no error found"), None);
        assert_eq!(content_signal("<*> errors in batch"), None);
        assert_eq!(content_signal("user logged in"), None);
        assert_eq!(content_signal("terror level"), None);
        assert_eq!(
            content_signal("Unhandled exception in worker <*>: IndexError"),
            Some(Severity::Error)
        );
        assert_eq!(content_signal("processed <*> jobs, <*> errors"), None);
    }
}
