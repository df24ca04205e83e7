//! Log AI at ingest: every log record is structured as it arrives. The original body is kept;
//! what was learned is added as attributes (names in [`logai`]'s docs), the template id and text
//! become columns, and the severity is set when it was inferred with evidence.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;

use logai::{LogAi, LogInput, Stream, Structured};
use model::LogRow;
use serde_json::{Map, Value};

use crate::pipeline::LogProcessor;

/// Attribute listing the attribute keys that Log AI added to a record (for the structure view).
pub const ATTR_EXTRACTED: &str = "log.extracted";

/// The Log AI state of the process, saved to `state_path`.
pub struct LogAiProcessor {
    engine: Mutex<LogAi>,
    /// Output records kept between requests so that structuring a record reuses the strings of
    /// an earlier one instead of allocating its own (taken for one request, returned after).
    scratch: Mutex<Vec<Vec<Structured>>>,
    /// Records Log AI failed on (a bug it hit): stored as they came, unstructured.
    pub failures: std::sync::atomic::AtomicU64,
    state_path: Option<PathBuf>,
}

/// The resource a record's format is learned for: service (and namespace) plus the pieces of the
/// resource that usually change the line format (container, logger scope).
pub fn resource_key(row: &LogRow) -> String {
    let r = &row.resource;
    format!(
        "{}/{}|{}",
        r.service_namespace.as_deref().unwrap_or(""),
        r.service_name,
        r.scope_name
    )
}

fn same_resource_key(a: &LogRow, b: &LogRow) -> bool {
    std::sync::Arc::ptr_eq(&a.resource, &b.resource)
        || a.resource.service_name == b.resource.service_name
            && a.resource.scope_name == b.resource.scope_name
            && a.resource.service_namespace == b.resource.service_namespace
}

impl LogAiProcessor {
    /// Restores the state saved at `state_path` (a fresh one when absent or of another version).
    pub fn open(state_path: Option<PathBuf>) -> Self {
        let engine = match &state_path {
            Some(p) if p.exists() => match LogAi::load(p, logai::Config::default()) {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(error = %e, path = %p.display(), "could not restore Log AI state; starting fresh");
                    LogAi::new(logai::Config::default())
                }
            },
            _ => LogAi::new(logai::Config::default()),
        };
        LogAiProcessor {
            engine: Mutex::new(engine),
            scratch: Mutex::new(Vec::new()),
            failures: std::sync::atomic::AtomicU64::new(0),
            state_path,
        }
    }

    /// Writes the learned state (formats, templates) to disk.
    pub fn save(&self) -> std::io::Result<()> {
        let Some(path) = &self.state_path else {
            return Ok(());
        };
        let engine = self
            .engine
            .lock()
            .map_err(|_| std::io::Error::other("log ai state poisoned"))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("tmp");
        engine.save(&tmp)?;
        std::fs::rename(&tmp, path)
    }
}

fn stream_of(attrs: &Map<String, Value>) -> Option<Stream> {
    match attrs.get("log.iostream").and_then(Value::as_str) {
        Some("stderr") => Some(Stream::Stderr),
        Some("stdout") => Some(Stream::Stdout),
        _ => None,
    }
}

/// What the engine needs of a row, worked out before taking the engine's lock.
struct Prepared {
    /// Index into the request's resource keys.
    key: usize,
    /// The record's own attributes, parsed; `None` when it has none (the common case).
    existing: Option<Map<String, Value>>,
}

fn prepare(rows: &[LogRow]) -> (Vec<Option<Prepared>>, Vec<String>) {
    let mut keys: Vec<String> = Vec::new();
    let mut last: Option<&LogRow> = None;
    let prepared = rows
        .iter()
        .map(|row| {
            if row.body_type == "empty" || row.body.is_empty() {
                return None;
            }
            // Rows of one request mostly share their resource: its key is built once per run.
            if !last.is_some_and(|l| same_resource_key(l, row)) {
                keys.push(resource_key(row));
                last = Some(row);
            }
            let existing = match row.attributes.as_str() {
                "" | "{}" => None,
                text => Some(serde_json::from_str(text).unwrap_or_default()),
            };
            Some(Prepared {
                key: keys.len() - 1,
                existing,
            })
        })
        .collect();
    (prepared, keys)
}

/// Length of the longest prefix of `bytes` that a JSON string holds as it is (no quote, backslash
/// or control byte), tested eight bytes at a time.
fn clean_prefix(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // High bit of each byte of `word` that is below `n` (exact as a whole: a borrow only crosses
    // a byte that is itself flagged).
    let below = |word: u64, n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word & HIGH;
    let mut done = 0;
    for chunk in bytes.chunks_exact(8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let quote = word ^ (ONES * u64::from(b'"'));
        let slash = word ^ (ONES * u64::from(b'\\'));
        if below(word, 0x20) | below(quote, 1) | below(slash, 1) != 0 {
            break;
        }
        done += 8;
    }
    done + bytes[done..]
        .iter()
        .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
        .unwrap_or(bytes.len() - done)
}

/// Appends `s` as a JSON string.
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    let clean = clean_prefix(s.as_bytes());
    if clean == s.len() {
        out.push_str(s);
        out.push('"');
        return;
    }
    // `clean` is the index of an ASCII byte, so a char boundary.
    out.push_str(&s[..clean]);
    let mut start = clean;
    for (i, b) in s.bytes().enumerate().skip(clean) {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        // `b` is ASCII, so `i` and `i + 1` are char boundaries.
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Builds a record's attribute object: its own attributes first, then what Log AI learned under
/// keys the record does not already have (its own values always win).
struct AttributeWriter<'a> {
    out: String,
    empty: bool,
    existing: Option<&'a Map<String, Value>>,
    added: Vec<&'a str>,
}

impl<'a> AttributeWriter<'a> {
    fn new(original: &str, existing: Option<&'a Map<String, Value>>, reserve: usize) -> Self {
        let mut out = String::with_capacity(original.len() + reserve);
        let mut empty = true;
        match existing {
            Some(map) if !map.is_empty() => {
                empty = false;
                let text = original.trim_end();
                // The record's own text is kept as it is, unless it already holds the key this
                // writer always sets last.
                match text.strip_suffix('}') {
                    Some(open) if open.starts_with('{') && !map.contains_key(ATTR_EXTRACTED) => {
                        out.push_str(open);
                    }
                    _ => {
                        let mut own = map.clone();
                        own.remove(ATTR_EXTRACTED);
                        empty = own.is_empty();
                        let text = serde_json::to_string(&own).unwrap_or_else(|_| "{}".into());
                        out.push_str(&text[..text.len() - 1]);
                    }
                }
            }
            _ => out.push('{'),
        }
        AttributeWriter {
            out,
            empty,
            existing,
            added: Vec::with_capacity(8),
        }
    }

    fn key(&mut self, key: &str) {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        push_json_str(&mut self.out, key);
        self.out.push(':');
    }

    /// Starts an added entry; false when the key is taken and the entry must be skipped.
    fn start(&mut self, key: &'a str) -> bool {
        if self.existing.is_some_and(|m| m.contains_key(key)) || self.added.contains(&key) {
            return false;
        }
        self.added.push(key);
        self.key(key);
        true
    }

    fn put_str(&mut self, key: &'a str, value: &str) {
        if self.start(key) {
            push_json_str(&mut self.out, value);
        }
    }

    fn put_value(&mut self, key: &'a str, value: &Value) {
        if self.start(key) {
            match value {
                Value::String(s) => push_json_str(&mut self.out, s),
                other => {
                    let _ = write!(self.out, "{other}");
                }
            }
        }
    }

    fn push_str_array<'s>(&mut self, values: impl IntoIterator<Item = &'s str>) {
        self.out.push('[');
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            push_json_str(&mut self.out, v);
        }
        self.out.push(']');
    }

    fn put_strings(&mut self, key: &'a str, values: &[String]) {
        if self.start(key) {
            self.push_str_array(values.iter().map(String::as_str));
        }
    }

    /// Closes the object with the list of keys that were added.
    fn finish(mut self) -> String {
        let added = std::mem::take(&mut self.added);
        self.key(ATTR_EXTRACTED);
        self.push_str_array(added);
        self.out.push('}');
        self.out
    }
}

/// About the bytes [`apply`] adds to a record's attribute JSON (escapes aside), so that the
/// text is allocated once instead of growing as it is written.
fn json_bytes(s: &Structured) -> usize {
    fn value_bytes(value: &Value) -> usize {
        match value {
            Value::String(text) => text.len() + 2,
            Value::Array(items) => items.iter().map(|v| value_bytes(v) + 1).sum::<usize>() + 2,
            _ => 24,
        }
    }
    // Each added key is written twice: as a key and in the `log.extracted` list.
    let entry = |key: &str| 2 * key.len() + 8;
    let fixed = [
        logai::ATTR_FORMAT,
        logai::ATTR_TEMPLATE_ID,
        logai::ATTR_TEMPLATE,
        logai::ATTR_PARAMS,
        logai::ATTR_SEVERITY_INFERRED,
        ATTR_EXTRACTED,
    ];
    fixed.iter().map(|k| entry(k)).sum::<usize>()
        + s.format.len()
        + s.template_id.len()
        + s.template.len()
        + s.params.iter().map(|p| p.len() + 3).sum::<usize>()
        + s.attributes
            .iter()
            .map(|(k, v)| entry(k) + value_bytes(v))
            .sum::<usize>()
        + 16
}

/// How far a line's own time may be from its record's before it is kept as
/// [`logai::ATTR_PARSED_TIME`]: within it, the line's time only repeats the record's.
const PARSED_TIME_SLACK_NS: u64 = 1_000_000_000;

/// Writes what was learned into the row.
fn apply(row: &mut LogRow, existing: Option<&Map<String, Value>>, s: &Structured) {
    let mut w = AttributeWriter::new(&row.attributes, existing, json_bytes(s));
    w.put_str(logai::ATTR_FORMAT, &s.format);
    w.put_str(logai::ATTR_TEMPLATE_ID, &s.template_id);
    w.put_str(logai::ATTR_TEMPLATE, &s.template);
    if !s.params.is_empty() {
        w.put_strings(logai::ATTR_PARAMS, &s.params);
    }
    for (k, v) in &s.attributes {
        w.put_value(k, v);
    }
    if row.severity_number == 0
        && let Some(sev) = s.severity
    {
        row.severity_number = sev.otel_number();
        row.severity_text = sev.short_name().to_string();
        w.put_value(
            logai::ATTR_SEVERITY_INFERRED,
            &Value::Bool(s.severity_inferred),
        );
    }
    // The record's own time is never overwritten: a time found in the line fills only a
    // record that has none, and is otherwise kept beside it when it says something else.
    if let Some(t) = s.timestamp_unix_nano {
        if row.time_unix_nano == 0 {
            row.time_unix_nano = t;
        } else if t.abs_diff(row.time_unix_nano) > PARSED_TIME_SLACK_NS {
            w.put_value(logai::ATTR_PARSED_TIME, &Value::from(t));
        }
    }
    row.attributes = w.finish();
    row.log_template_id = Some(s.template_id.clone());
    row.log_template = Some(s.template.clone());
}

/// Output records kept for reuse at most (one per request being structured at once).
const SCRATCH_KEPT: usize = 16;

impl LogProcessor for LogAiProcessor {
    /// Attributes are read and written outside the lock, so that concurrent requests
    /// only serialise on the engine itself.
    fn process(&self, rows: &mut [LogRow]) {
        let (prepared, keys) = prepare(rows);
        let mut outs = self
            .scratch
            .lock()
            .ok()
            .and_then(|mut s| s.pop())
            .unwrap_or_default();
        if outs.len() < rows.len() {
            outs.resize_with(rows.len(), Structured::default);
        }
        let mut failed = Vec::new();
        {
            let Ok(mut engine) = self.engine.lock() else {
                return;
            };
            for (index, ((row, p), out)) in
                rows.iter().zip(&prepared).zip(outs.iter_mut()).enumerate()
            {
                let Some(p) = p else { continue };
                let input = LogInput {
                    body: &row.body,
                    severity_number: (row.severity_number > 0).then_some(row.severity_number),
                    severity_text: (!row.severity_text.is_empty())
                        .then_some(row.severity_text.as_str()),
                    stream: p.existing.as_ref().and_then(stream_of),
                };
                // A bug Log AI hits on one record must not refuse the request, nor leave the
                // engine locked for every later one: the record is stored as it came.
                let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    engine.process_into(&keys[p.key], &input, out);
                }));
                if done.is_err() {
                    self.failures
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    *out = Structured::default();
                    failed.push(index);
                }
            }
        }
        for (index, ((row, p), out)) in rows.iter_mut().zip(&prepared).zip(&outs).enumerate() {
            if let Some(p) = p
                && !failed.contains(&index)
            {
                apply(row, p.existing.as_ref(), out);
            }
        }
        if let Ok(mut s) = self.scratch.lock()
            && s.len() < SCRATCH_KEPT
        {
            // A very large request's records are not kept beyond a typical batch.
            outs.truncate(8192);
            s.push(outs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_round_trip_with_special_bytes_anywhere() {
        let specials = [
            '"', '\\', '\n', '\t', '\u{1}', '\u{1f}', 'é', '\u{7f}', ' ', '!',
        ];
        for len in 0..20 {
            for at in 0..len.max(1) {
                for special in specials {
                    let text: String = (0..len)
                        .map(|i| if i == at { special } else { 'a' })
                        .collect();
                    let mut out = String::new();
                    push_json_str(&mut out, &text);
                    let back: String = serde_json::from_str(&out)
                        .unwrap_or_else(|e| panic!("{out:?} from {text:?}: {e}"));
                    assert_eq!(back, text);
                    let expected = text
                        .bytes()
                        .position(|b| b < 0x20 || b == b'"' || b == b'\\')
                        .unwrap_or(text.len());
                    assert_eq!(clean_prefix(text.as_bytes()), expected, "{text:?}");
                }
            }
        }
    }

    fn row(body: &str) -> LogRow {
        LogRow {
            body: body.to_string(),
            body_type: "string".into(),
            attributes: "{}".into(),
            time_unix_nano: 5,
            observed_time_unix_nano: 5,
            resource: model::Resource {
                service_name: "shop".into(),
                ..Default::default()
            }
            .into(),
            ..Default::default()
        }
    }

    /// The record's time wins, whether or not it equals its observed time (many SDKs and
    /// collectors set both); only a record without one (0) takes the time of its line.
    #[test]
    fn a_line_time_fills_only_a_record_without_time() {
        let p = LogAiProcessor::open(None);
        let line = "2019-03-01 10:00:01,120 INFO [main] com.example.Db - started";
        let line_ns = 1_551_434_401_120_000_000;
        let mut equal = row(line);
        equal.time_unix_nano = 1_800_000_000_000_000_000;
        equal.observed_time_unix_nano = equal.time_unix_nano;
        let mut without = row(line);
        without.time_unix_nano = 0;
        let mut same = row(line);
        same.time_unix_nano = line_ns + 500_000_000;
        let mut rows = vec![equal, without, same];
        p.process(&mut rows);
        assert_eq!(rows[0].time_unix_nano, 1_800_000_000_000_000_000);
        let attrs: Map<String, Value> = serde_json::from_str(&rows[0].attributes).unwrap();
        assert_eq!(attrs[logai::ATTR_PARSED_TIME], line_ns);
        assert_eq!(rows[1].time_unix_nano, line_ns);
        let attrs: Map<String, Value> = serde_json::from_str(&rows[1].attributes).unwrap();
        assert!(attrs.get(logai::ATTR_PARSED_TIME).is_none());
        // Within a second the line only repeats the record's time.
        assert_eq!(rows[2].time_unix_nano, line_ns + 500_000_000);
        let attrs: Map<String, Value> = serde_json::from_str(&rows[2].attributes).unwrap();
        assert!(attrs.get(logai::ATTR_PARSED_TIME).is_none());
    }

    #[test]
    fn records_get_templates_fields_and_inferred_severity() {
        let p = LogAiProcessor::open(None);
        let mut rows = vec![
            row(
                "2026-11-23 10:00:01,120 ERROR [main] com.example.Db - query failed after 35ms user=alice",
            ),
            row(
                "2026-11-23 10:00:02,120 ERROR [main] com.example.Db - query failed after 12ms user=bob",
            ),
            row(r#"{"level":"warn","msg":"disk almost full","pct":91}"#),
        ];
        p.process(&mut rows);
        assert_eq!(rows[0].severity_number, 17);
        assert_eq!(rows[0].log_template_id, rows[1].log_template_id);
        assert!(
            rows[0]
                .log_template
                .as_deref()
                .unwrap_or("")
                .contains("<*>")
        );
        assert!(rows[0].body.starts_with("2026-11-23"), "original body kept");
        assert_eq!(rows[0].time_unix_nano, 5, "the record's own time is kept");
        let attrs: Map<String, Value> = serde_json::from_str(&rows[0].attributes).unwrap();
        let line_time = attrs[logai::ATTR_PARSED_TIME].as_i64().unwrap();
        assert!(line_time > 1_700_000_000_000_000_000, "{line_time}");
        assert_eq!(attrs["thread.name"], "main");
        assert!(
            attrs[ATTR_EXTRACTED]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k == "log.template_id")
        );
        assert_eq!(rows[2].severity_number, 13);
    }

    #[test]
    fn attribute_text_is_allocated_once() {
        let p = LogAiProcessor::open(None);
        let bodies = [
            "2026-11-23 10:00:01,120 WARN [worker-7] com.example.Db - query took 35ms user=alice rows=12",
            r#"{"level":"info","msg":"order placed","order_id":"o-123","amount":12.5,"tags":["a","b"]}"#,
            "level=error msg=\"payment declined\" card=visa code=51 took=120ms",
            "10.1.2.3 - bob [23/Nov/2026:10:00:00 +0000] \"GET /api/cart/42 HTTP/1.1\" 503 1234 \"-\" \"curl/8.0\"",
            "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 1.2.3.4 port 51234",
        ];
        for body in bodies {
            let mut rows = vec![row(body)];
            let mut engine = LogAi::new(logai::Config::default());
            let learned = engine.process("/shop|", &LogInput::text(body));
            p.process(&mut rows);
            let text = &rows[0].attributes;
            assert!(
                text.capacity() == json_bytes(&learned) + 2,
                "{body}: {} bytes reserved, {} written: {text}",
                json_bytes(&learned) + 2,
                text.len()
            );
        }
    }

    #[test]
    fn explicit_severity_and_existing_attributes_win() {
        let p = LogAiProcessor::open(None);
        let mut r = row("ERROR something failed user=alice");
        r.severity_number = 9;
        r.severity_text = "INFO".into();
        r.attributes = r#"{"user":"carol"}"#.into();
        let mut rows = vec![r];
        p.process(&mut rows);
        assert_eq!(rows[0].severity_number, 9);
        let attrs: Map<String, Value> = serde_json::from_str(&rows[0].attributes).unwrap();
        assert_eq!(attrs["user"], "carol");
    }

    #[test]
    fn attribute_text_is_valid_json_with_each_key_once() {
        let p = LogAiProcessor::open(None);
        let mut own = row("payment failed: card \"declined\"\tcode=51\\retry user=alice");
        own.attributes =
            r#"{"user":"carol","log.extracted":["stale"],"log.iostream":"stderr","x":"a\nb"}"#
                .into();
        let mut rows = vec![own, row("ctrl\u{1}char and ünïcode \"quoted\" user=bob")];
        p.process(&mut rows);
        for r in &rows {
            let attrs: Map<String, Value> = serde_json::from_str(&r.attributes)
                .unwrap_or_else(|e| panic!("{e}: {}", r.attributes));
            for key in attrs.keys() {
                let quoted = serde_json::to_string(key).unwrap();
                assert_eq!(
                    r.attributes.matches(&format!("{quoted}:")).count(),
                    1,
                    "{key} once in {}",
                    r.attributes
                );
            }
            let extracted = attrs[ATTR_EXTRACTED].as_array().unwrap();
            assert!(extracted.iter().any(|k| k == logai::ATTR_TEMPLATE_ID));
            assert!(!extracted.iter().any(|k| k == "stale"));
            assert_eq!(
                attrs[logai::ATTR_TEMPLATE],
                r.log_template.clone().unwrap().as_str()
            );
        }
        let first: Map<String, Value> = serde_json::from_str(&rows[0].attributes).unwrap();
        assert_eq!(first["user"], "carol");
        assert!(
            !first[ATTR_EXTRACTED]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k == "user")
        );
        assert_eq!(first["x"], "a\nb");
        let second: Map<String, Value> = serde_json::from_str(&rows[1].attributes).unwrap();
        assert_eq!(second["user"], "bob");
    }

    #[test]
    fn state_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logai.state");
        let p = LogAiProcessor::open(Some(path.clone()));
        // Enough distinct users for the position to be learned as a variable.
        let mut rows: Vec<LogRow> = ["alice", "bob", "carol", "dave", "erin", "frank"]
            .iter()
            .map(|u| row(&format!("session opened for user {u} on console")))
            .collect();
        p.process(&mut rows);
        let learned = rows[5].log_template.clone().unwrap();
        assert!(learned.contains("<*>"), "{learned}");
        p.save().unwrap();
        let restored = LogAiProcessor::open(Some(path));
        let mut again = vec![row("session opened for user zoe on console")];
        restored.process(&mut again);
        assert_eq!(again[0].log_template.as_deref(), Some(learned.as_str()));
        assert_eq!(again[0].log_template_id, rows[5].log_template_id);
        // Without the saved state the new user is not yet known to be a variable.
        let fresh = LogAiProcessor::open(None);
        let mut cold = vec![row("session opened for user zoe on console")];
        fresh.process(&mut cold);
        assert_ne!(cold[0].log_template_id, rows[5].log_template_id);
    }
}
