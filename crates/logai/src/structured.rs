//! Bodies that carry their own structure: JSON objects, logfmt, access logs and RFC 5424 syslog.
//!
//! These are recognised by shape, not by product: a JSON object is a JSON object whoever wrote
//! it, and its fields are mapped by the usual key names (`level`/`severity`/`lvl`,
//! `msg`/`message`, `time`/`ts`/`timestamp`, ...).

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::severity::{Severity, level_field};
use crate::timestamp;

/// A field's value: text borrowed from the line where it can be, anything else as JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    Text(Cow<'a, str>),
    Other(Value),
}

impl<'a> FieldValue<'a> {
    /// A number or boolean when `text` is one, else the text itself (still borrowed).
    fn scalar(text: Cow<'a, str>) -> FieldValue<'a> {
        match scalar_non_string(&text) {
            Some(value) => FieldValue::Other(value),
            None => FieldValue::Text(text),
        }
    }

    fn text(text: &'a str) -> FieldValue<'a> {
        FieldValue::Text(Cow::Borrowed(text))
    }
}

/// What a structured parser found; strings borrow from the parsed line where they can.
#[derive(Debug, Default)]
pub struct Parsed<'a> {
    pub format: &'static str,
    pub message: Cow<'a, str>,
    pub level: Option<Severity>,
    /// The level came from a syslog priority or an HTTP status rather than a level word.
    pub level_inferred: bool,
    pub timestamp: Option<i64>,
    pub attributes: Vec<(Cow<'a, str>, FieldValue<'a>)>,
}

const LEVEL_KEYS: &[&str] = &[
    "level",
    "lvl",
    "severity",
    "loglevel",
    "log.level",
    "levelname",
    "severity_text",
    "@level",
    "log_level",
];
const MESSAGE_KEYS: &[&str] = &["msg", "message", "@message", "log", "text", "event", "body"];
const TIME_KEYS: &[&str] = &[
    "time",
    "ts",
    "timestamp",
    "@timestamp",
    "t",
    "datetime",
    "date",
    "@t",
];

/// Parses a JSON object body.
pub fn parse_json(body: &str) -> Option<Parsed<'_>> {
    let trimmed = body.trim();
    if !(trimmed.starts_with('{') && trimmed.ends_with('}')) {
        return None;
    }
    let map: Map<String, Value> = serde_json::from_str(trimmed).ok()?;
    let fields = map
        .into_iter()
        .map(|(key, value)| {
            let value = match value {
                Value::String(text) => FieldValue::Text(Cow::Owned(text)),
                other => FieldValue::Other(other),
            };
            (Cow::Owned(key), value)
        })
        .collect();
    Some(from_fields(fields, "json"))
}

/// Position of `key` in `keys` (lower-case names), ignoring ASCII case.
fn rank_of(keys: &[&str], key: &str) -> Option<usize> {
    keys.iter().position(|k| k.eq_ignore_ascii_case(key))
}

fn from_fields<'a>(
    fields: Vec<(Cow<'a, str>, FieldValue<'a>)>,
    format: &'static str,
) -> Parsed<'a> {
    let mut parsed = Parsed {
        format,
        ..Parsed::default()
    };
    let mut message_rank = usize::MAX;
    for (key, value) in fields {
        if parsed.level.is_none() && rank_of(LEVEL_KEYS, &key).is_some() {
            let level = match &value {
                FieldValue::Text(text) => level_field(text),
                FieldValue::Other(Value::Number(number)) => number.as_i64().and_then(numeric_level),
                _ => None,
            };
            if level.is_some() {
                parsed.level = level;
                continue;
            }
        }
        if parsed.timestamp.is_none() && rank_of(TIME_KEYS, &key).is_some() {
            let nanos = match &value {
                FieldValue::Text(text) => timestamp::parse_to_nanos(text),
                FieldValue::Other(Value::Number(number)) => {
                    number.as_f64().and_then(timestamp::epoch_to_nanos)
                }
                _ => None,
            };
            if nanos.is_some() {
                parsed.timestamp = nanos;
                continue;
            }
        }
        if let Some(rank) = rank_of(MESSAGE_KEYS, &key)
            && rank < message_rank
            && let FieldValue::Text(text) = value
        {
            if message_rank != usize::MAX {
                let previous = std::mem::replace(&mut parsed.message, text);
                parsed.attributes.push((
                    Cow::Borrowed(MESSAGE_KEYS[message_rank]),
                    FieldValue::Text(previous),
                ));
            } else {
                parsed.message = text;
            }
            message_rank = rank;
            continue;
        }
        parsed.attributes.push((key, value));
    }
    parsed
}

/// Bunyan/pino numeric levels (10..60) and OpenTelemetry numbers (1..24).
fn numeric_level(number: i64) -> Option<Severity> {
    // 10 and 20 are bunyan's trace and debug; read as OpenTelemetry numbers, 20 would be an
    // error, and a false error is the worst mistake, so bunyan wins those two.
    match number {
        10 => Some(Severity::Trace),
        20 => Some(Severity::Debug),
        30 => Some(Severity::Info),
        40 => Some(Severity::Warn),
        50 => Some(Severity::Error),
        60 => Some(Severity::Fatal),
        1..=24 => i32::try_from(number)
            .ok()
            .and_then(Severity::from_otel_number),
        _ => None,
    }
}

/// Parses a logfmt body (`ts=... level=info msg="started" port=8080`). Requires the body to
/// start with a pair and at least half its words to be pairs.
pub fn parse_logfmt(body: &str) -> Option<Parsed<'_>> {
    let pairs = logfmt_pairs(body)?;
    let fields = pairs
        .into_iter()
        .map(|(key, value)| (Cow::Borrowed(key), FieldValue::scalar(value)))
        .collect();
    Some(from_fields(fields, "logfmt"))
}

/// Splits `key=value key2="quoted value"` into pairs; `None` when the text is not mostly pairs.
pub fn logfmt_pairs(body: &str) -> Option<Vec<(&str, Cow<'_, str>)>> {
    let bytes = body.as_bytes();
    let mut pairs = Vec::new();
    let mut words = 0usize;
    let mut position = 0;
    while position < bytes.len() {
        while position < bytes.len() && bytes[position] == b' ' {
            position += 1;
        }
        if position >= bytes.len() {
            break;
        }
        words += 1;
        let key_start = position;
        while position < bytes.len() && is_key_byte(bytes[position]) {
            position += 1;
        }
        if position == key_start || bytes.get(position) != Some(&b'=') {
            if pairs.is_empty() {
                return None;
            }
            while position < bytes.len() && bytes[position] != b' ' {
                position += 1;
            }
            continue;
        }
        let key = &body[key_start..position];
        position += 1;
        let value = if bytes.get(position) == Some(&b'"') {
            let (value, end) = quoted(body, position)?;
            position = end;
            value
        } else {
            let start = position;
            while position < bytes.len() && bytes[position] != b' ' {
                position += 1;
            }
            Cow::Borrowed(&body[start..position])
        };
        pairs.push((key, value));
    }
    if pairs.len() >= 2 && pairs.len() * 2 >= words {
        Some(pairs)
    } else {
        None
    }
}

fn is_key_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-' | b'@' | b'/')
}

/// Reads a double-quoted string starting at `start` (the quote); returns it (borrowed when it
/// has no escapes) and the end offset.
fn quoted(body: &str, start: usize) -> Option<(Cow<'_, str>, usize)> {
    let bytes = body.as_bytes();
    let mut out = String::new();
    let mut position = start + 1;
    let mut run_start = position;
    while position < bytes.len() {
        match bytes[position] {
            b'"' if run_start == start + 1 => {
                return Some((Cow::Borrowed(&body[run_start..position]), position + 1));
            }
            b'\\' if position + 1 < bytes.len() => {
                out.push_str(&body[run_start..position]);
                let escaped = bytes[position + 1];
                out.push(match escaped {
                    b'n' => '\n',
                    b't' => '\t',
                    _ => char::from(escaped),
                });
                position += 2;
                run_start = position;
            }
            b'"' => {
                out.push_str(&body[run_start..position]);
                return Some((Cow::Owned(out), position + 1));
            }
            _ => position += 1,
        }
    }
    None
}

/// A number or boolean when `text` is one (integers and floats become numbers).
pub(crate) fn scalar_non_string(text: &str) -> Option<Value> {
    if let Ok(integer) = text.parse::<i64>() {
        return Some(Value::from(integer));
    }
    if text.contains('.')
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        && let Ok(float) = text.parse::<f64>()
    {
        return Some(Value::from(float));
    }
    match text {
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        _ => None,
    }
}

/// Parses a common or combined access log line:
/// `host ident user [time] "request" status size ["referer" "user agent"]`.
pub fn parse_access_log(body: &str) -> Option<Parsed<'_>> {
    let mut rest = body;
    let mut words = [""; 3];
    for slot in &mut words {
        let (word, after) = rest.split_once(' ')?;
        if word.is_empty() || word.contains('"') {
            return None;
        }
        *slot = word;
        rest = after;
    }
    let rest = rest.strip_prefix('[')?;
    let (time, rest) = rest.split_once("] ")?;
    if !rest.starts_with('"') {
        return None;
    }
    let (request, end) = quoted(rest, 0)?;
    let rest = rest[end..].trim_start();
    let (status_text, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let status: u16 = status_text
        .parse()
        .ok()
        .filter(|s| (100..=599).contains(s))?;
    let (size_text, mut rest) = rest.split_once(' ').unwrap_or((rest, ""));
    if size_text != "-" && !size_text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut parsed = Parsed {
        format: "access-log",
        ..Parsed::default()
    };
    parsed.timestamp = timestamp::parse_to_nanos(time);
    parsed.attributes.push((
        crate::ATTR_CLIENT_ADDRESS.into(),
        FieldValue::text(words[0]),
    ));
    if words[2] != "-" {
        parsed
            .attributes
            .push((crate::ATTR_USER.into(), FieldValue::text(words[2])));
    }
    let [method, target, protocol] = request_parts(&request);
    if let Some(target) = target {
        parsed.attributes.push((
            crate::ATTR_HTTP_METHOD.into(),
            FieldValue::Text(method.unwrap_or_default()),
        ));
        parsed
            .attributes
            .push((crate::ATTR_URL_PATH.into(), FieldValue::Text(target)));
    }
    if let Some(protocol) = protocol {
        parsed
            .attributes
            .push((crate::ATTR_HTTP_PROTOCOL.into(), FieldValue::Text(protocol)));
    }
    parsed.attributes.push((
        crate::ATTR_HTTP_STATUS.into(),
        FieldValue::Other(Value::from(status)),
    ));
    if let Ok(size) = size_text.parse::<u64>() {
        parsed.attributes.push((
            crate::ATTR_HTTP_BODY_SIZE.into(),
            FieldValue::Other(Value::from(size)),
        ));
    }
    for name in [crate::ATTR_HTTP_REFERER, crate::ATTR_USER_AGENT] {
        rest = rest.trim_start();
        if !rest.starts_with('"') {
            break;
        }
        let Some((value, end)) = quoted(rest, 0) else {
            break;
        };
        if value != "-" {
            parsed
                .attributes
                .push((name.into(), FieldValue::Text(value)));
        }
        rest = &rest[end..];
    }
    parsed.level = Severity::from_http_status(status);
    parsed.level_inferred = true;
    // The request line is the message: one template per method and path shape.
    parsed.message = request;
    Some(parsed)
}

/// Method, target and protocol of an access log's request line, borrowed from the line unless
/// the request line had escapes.
fn request_parts<'a>(request: &Cow<'a, str>) -> [Option<Cow<'a, str>>; 3] {
    let mut out = [None, None, None];
    match request {
        Cow::Borrowed(text) => {
            for (slot, part) in out.iter_mut().zip(text.splitn(3, ' ')) {
                *slot = Some(Cow::Borrowed(part));
            }
        }
        Cow::Owned(text) => {
            for (slot, part) in out.iter_mut().zip(text.splitn(3, ' ')) {
                *slot = Some(Cow::Owned(part.to_string()));
            }
        }
    }
    out
}

/// Parses an RFC 5424 syslog line: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`.
pub fn parse_syslog5424(body: &str) -> Option<Parsed<'_>> {
    let rest = body.strip_prefix('<')?;
    let close = rest.find('>')?;
    let priority: u32 = rest[..close].parse().ok().filter(|p| *p <= 191)?;
    let mut rest = rest[close + 1..].strip_prefix("1 ")?;
    let mut fields = [""; 5];
    for slot in &mut fields {
        let (field, after) = rest.split_once(' ').unwrap_or((rest, ""));
        *slot = field;
        rest = after;
    }
    let [time, host, app, procid, msgid] = fields;
    let mut parsed = Parsed {
        format: "syslog-rfc5424",
        ..Parsed::default()
    };
    parsed.level = Some(Severity::from_syslog_priority(priority));
    parsed.timestamp = if time == "-" {
        None
    } else {
        timestamp::parse_to_nanos(time)
    };
    for (name, value) in [
        (crate::ATTR_HOST, host),
        (crate::ATTR_LOGGER, app),
        (crate::ATTR_PID, procid),
        (crate::ATTR_SYSLOG_MSGID, msgid),
    ] {
        if value != "-" && !value.is_empty() {
            parsed
                .attributes
                .push((name.into(), FieldValue::scalar(Cow::Borrowed(value))));
        }
    }
    if let Some(after) = rest.strip_prefix("- ") {
        rest = after;
    } else if rest == "-" {
        rest = "";
    } else {
        while rest.starts_with('[') {
            let close = structured_data_end(rest)?;
            let element = &rest[1..close];
            let (_id, params) = element.split_once(' ').unwrap_or((element, ""));
            if let Some(pairs) = logfmt_pairs(params) {
                for (key, value) in pairs {
                    parsed
                        .attributes
                        .push((Cow::Borrowed(key), FieldValue::scalar(value)));
                }
            }
            rest = &rest[close + 1..];
        }
        rest = rest.trim_start();
    }
    parsed.message = Cow::Borrowed(rest.trim_start_matches('\u{feff}'));
    Some(parsed)
}

fn structured_data_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut in_quotes = false;
    let mut position = 1;
    while position < bytes.len() {
        match bytes[position] {
            b'\\' => position += 1,
            b'"' => in_quotes = !in_quotes,
            b']' if !in_quotes => return Some(position),
            _ => {}
        }
        position += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_fields() {
        let parsed =
            parse_json(r#"{"level":"warn","ts":1700000000.5,"msg":"slow","ms":35}"#).expect("json");
        assert_eq!(parsed.level, Some(Severity::Warn));
        assert_eq!(parsed.message, "slow");
        assert_eq!(parsed.timestamp, Some(1_700_000_000_500_000_000));
        assert_eq!(
            parsed.attributes,
            vec![("ms".into(), FieldValue::Other(Value::from(35)))]
        );
    }

    #[test]
    fn logfmt_fields() {
        let parsed =
            parse_logfmt(r#"time="2026-11-23T10:00:00Z" level=error msg="db down" retry=3"#)
                .expect("logfmt");
        assert_eq!(parsed.level, Some(Severity::Error));
        assert_eq!(parsed.message, "db down");
        assert!(parse_logfmt("user logged in with id=3").is_none());
    }

    #[test]
    fn quoted_values_borrow_unless_they_hold_escapes() {
        let parsed = parse_logfmt(r#"level=info msg="say \"hi\"" user="bob" n=3"#).expect("logfmt");
        assert_eq!(parsed.message, r#"say "hi""#);
        assert!(matches!(parsed.message, Cow::Owned(_)));
        assert_eq!(
            parsed.attributes,
            vec![
                ("user".into(), FieldValue::Text(Cow::Borrowed("bob"))),
                ("n".into(), FieldValue::Other(Value::from(3))),
            ]
        );
        assert!(matches!(
            parsed.attributes[0].1,
            FieldValue::Text(Cow::Borrowed(_))
        ));
        let line = r#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /a\"b HTTP/1.0" 200 5"#;
        let parsed = parse_access_log(line).expect("access log");
        assert_eq!(parsed.message, r#"GET /a"b HTTP/1.0"#);
        let path = parsed
            .attributes
            .iter()
            .find(|(k, _)| k == crate::ATTR_URL_PATH);
        assert_eq!(
            path.map(|(_, v)| v.clone()),
            Some(FieldValue::Text(r#"/a"b"#.into()))
        );
    }

    #[test]
    fn access_log() {
        let line = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 503 2326 "http://x/" "Mozilla/4.08""#;
        let parsed = parse_access_log(line).expect("access log");
        assert_eq!(parsed.level, Some(Severity::Error));
        assert_eq!(parsed.message, "GET /apache_pb.gif HTTP/1.0");
        assert!(parsed.timestamp.is_some());
    }

    #[test]
    fn syslog5424() {
        let line = r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An application event"#;
        let parsed = parse_syslog5424(line).expect("5424");
        assert_eq!(parsed.level, Some(Severity::Info));
        assert_eq!(parsed.message, "An application event");
    }
}
