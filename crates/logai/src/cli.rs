//! `redscope logai parse`: structure a file offline, one JSON object per input line.

use std::io::{BufRead, Write};

use serde_json::{Map, Value};

use crate::{Config, LogAi, LogInput, Structured, timestamp};

/// Lines learned before their output is written. Learning a window before printing gives
/// every line of the window its final template, as a long-running ingest would converge to.
const WINDOW: usize = 100_000;

/// Reads all of `input` as one resource and writes, per input line and in order, one JSON
/// object with `format`, `timestamp` (RFC 3339, when found), `severity` (OTel short name or
/// null), `severity_inferred`, `message`, `template`, `template_id`, `params` and `attributes`.
pub fn parse(input: impl BufRead, out: impl Write) -> std::io::Result<()> {
    parse_with(Config::default(), input, out)
}

/// [`parse`] with another configuration: what evaluations of the thresholds run (`crates/logai/
/// loo.py` through the `parse` example); the command itself always uses [`Config::default`].
pub fn parse_with(config: Config, mut input: impl BufRead, out: impl Write) -> std::io::Result<()> {
    let mut logai = LogAi::new(config);
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    // The lines of the window live in one buffer: no allocation per line.
    let mut window = Window::default();
    let mut raw: Vec<u8> = Vec::with_capacity(1024);
    let mut scratch = Vec::new();
    loop {
        raw.clear();
        if input.read_until(b'\n', &mut raw)? == 0 {
            break;
        }
        let mut line = raw.as_slice();
        if let [rest @ .., b'\n'] = line {
            line = rest;
        }
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        window.push(&String::from_utf8_lossy(line));
        if window.len() >= WINDOW {
            flush_window(&mut logai, &mut window, &mut out, &mut scratch)?;
        }
    }
    flush_window(&mut logai, &mut window, &mut out, &mut scratch)?;
    out.flush()
}

const RESOURCE: &str = "stdin";

#[derive(Default)]
struct Window {
    text: String,
    ends: Vec<usize>,
}

impl Window {
    fn push(&mut self, line: &str) {
        self.text.push_str(line);
        self.ends.push(self.text.len());
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn lines(&self) -> impl Iterator<Item = &str> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let line = &self.text[start..end];
            start = end;
            line
        })
    }

    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }
}

fn flush_window(
    logai: &mut LogAi,
    window: &mut Window,
    out: &mut impl Write,
    scratch: &mut Vec<usize>,
) -> std::io::Result<()> {
    for line in window.lines() {
        logai.learn(RESOURCE, &LogInput::text(line));
    }
    let mut record = Structured::default();
    for line in window.lines() {
        logai.parse_into(RESOURCE, &LogInput::text(line), &mut record);
        write_json(&record, &mut *out, scratch)?;
        out.write_all(b"\n")?;
    }
    window.clear();
    Ok(())
}

fn json_str(out: &mut impl Write, text: &str) -> std::io::Result<()> {
    serde_json::to_writer(out, text).map_err(std::io::Error::other)
}

/// Writes the object [`to_json`] builds, byte for byte, without building it: keys in sorted
/// order, and of repeated attribute keys the last value, as a JSON object map keeps them.
fn write_json(
    record: &Structured,
    out: &mut impl Write,
    order: &mut Vec<usize>,
) -> std::io::Result<()> {
    out.write_all(b"{\"attributes\":{")?;
    order.clear();
    order.extend(0..record.attributes.len());
    // Stable: among equal keys the later attribute comes last and wins.
    order.sort_by(|a, b| record.attributes[*a].0.cmp(&record.attributes[*b].0));
    let mut first = true;
    for (position, &index) in order.iter().enumerate() {
        let (key, value) = &record.attributes[index];
        if order
            .get(position + 1)
            .is_some_and(|next| record.attributes[*next].0 == *key)
        {
            continue;
        }
        if !first {
            out.write_all(b",")?;
        }
        first = false;
        json_str(out, key)?;
        out.write_all(b":")?;
        serde_json::to_writer(&mut *out, value).map_err(std::io::Error::other)?;
    }
    out.write_all(b"},\"format\":")?;
    json_str(out, &record.format)?;
    out.write_all(b",\"message\":")?;
    json_str(out, &record.message)?;
    out.write_all(b",\"params\":[")?;
    for (index, param) in record.params.iter().enumerate() {
        if index > 0 {
            out.write_all(b",")?;
        }
        json_str(out, param)?;
    }
    out.write_all(b"],\"severity\":")?;
    match record.severity {
        Some(severity) => {
            out.write_all(b"\"")?;
            out.write_all(severity.short_name().as_bytes())?;
            out.write_all(b"\"")?;
        }
        None => out.write_all(b"null")?,
    }
    out.write_all(if record.severity_inferred {
        b",\"severity_inferred\":true,\"template\":"
    } else {
        b",\"severity_inferred\":false,\"template\":"
    })?;
    json_str(out, &record.template)?;
    out.write_all(b",\"template_id\":")?;
    json_str(out, &record.template_id)?;
    if let Some(nanos) = record.timestamp_unix_nano {
        out.write_all(b",\"timestamp\":\"")?;
        timestamp::write_rfc3339(out, nanos)?;
        out.write_all(b"\"")?;
    }
    out.write_all(b"}")
}

/// The JSON object printed for one record.
pub fn to_json(record: &Structured) -> Value {
    let mut object = Map::new();
    object.insert("format".into(), Value::String(record.format.clone()));
    if let Some(nanos) = record.timestamp_unix_nano {
        object.insert(
            "timestamp".into(),
            Value::String(timestamp::format_rfc3339(nanos)),
        );
    }
    object.insert(
        "severity".into(),
        record
            .severity
            .map_or(Value::Null, |s| Value::String(s.short_name().into())),
    );
    object.insert(
        "severity_inferred".into(),
        Value::Bool(record.severity_inferred),
    );
    object.insert("message".into(), Value::String(record.message.clone()));
    object.insert("template".into(), Value::String(record.template.clone()));
    object.insert(
        "template_id".into(),
        Value::String(record.template_id.clone()),
    );
    object.insert(
        "params".into(),
        Value::Array(
            record
                .params
                .iter()
                .map(|p| Value::String(p.clone()))
                .collect(),
        ),
    );
    let attributes: Map<String, Value> = record.attributes.iter().cloned().collect();
    object.insert("attributes".into(), Value::Object(attributes));
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_object_per_line() {
        let input = "2026-11-23 10:00:00,000 INFO [main] a.B: started in 35ms\n\nplain line\n";
        let mut out = Vec::new();
        parse(input.as_bytes(), &mut out).expect("parse");
        let text = String::from_utf8(out).expect("utf8");
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["severity"], "INFO");
        assert_eq!(lines[0]["timestamp"], "2026-11-23T10:00:00Z");
        assert_eq!(lines[0]["template"], "started in <*>");
        assert_eq!(lines[2]["severity"], Value::Null);
    }

    #[test]
    fn direct_writer_matches_to_json() {
        let mut logai = LogAi::new(Config::default());
        let inputs = [
            "2026-11-23 10:00:00,000 INFO [main] a.B: took 35ms user=alice user=bob \"q\\ \u{1}",
            "{\"level\":\"warn\",\"msg\":\"x\",\"b\":[1,2.5,null],\"a\":{\"k\":true}}",
            "plain line with size 64MB",
            "",
        ];
        for line in inputs {
            let record = logai.process("r", &LogInput::text(line));
            let mut direct = Vec::new();
            write_json(&record, &mut direct, &mut Vec::new()).expect("write");
            let expected = serde_json::to_string(&to_json(&record)).expect("json");
            assert_eq!(String::from_utf8(direct).expect("utf8"), expected);
        }
    }
}
