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
    let mut logai = LogAi::new(Config::default());
    let mut out = std::io::BufWriter::new(out);
    let mut window: Vec<String> = Vec::with_capacity(1024);
    for line in input.split(b'\n') {
        let line = line?;
        let mut text = String::from_utf8_lossy(&line).into_owned();
        if text.ends_with('\r') {
            text.pop();
        }
        window.push(text);
        if window.len() >= WINDOW {
            flush_window(&mut logai, &mut window, &mut out)?;
        }
    }
    flush_window(&mut logai, &mut window, &mut out)?;
    out.flush()
}

const RESOURCE: &str = "stdin";

fn flush_window(
    logai: &mut LogAi,
    window: &mut Vec<String>,
    out: &mut impl Write,
) -> std::io::Result<()> {
    for line in window.iter() {
        logai.learn(RESOURCE, &LogInput::text(line));
    }
    for line in window.drain(..) {
        let record = logai.parse(RESOURCE, &LogInput::text(&line));
        serde_json::to_writer(&mut *out, &to_json(&record)).map_err(std::io::Error::other)?;
        out.write_all(b"\n")?;
    }
    Ok(())
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
}
