//! Log AI at ingest: every log record is structured as it arrives. The original body is kept;
//! what was learned is added as attributes (names in [`logai`]'s docs), the template id and text
//! become columns, and the severity is set when it was inferred with evidence.

use std::path::PathBuf;
use std::sync::Mutex;

use logai::{LogAi, LogInput, Stream};
use model::LogRow;
use serde_json::{Map, Value};

use crate::pipeline::LogProcessor;

/// Attribute listing the attribute keys that Log AI added to a record (for the structure view).
pub const ATTR_EXTRACTED: &str = "log.extracted";

/// The Log AI state of the process, saved to `state_path`.
pub struct LogAiProcessor {
    engine: Mutex<LogAi>,
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

/// What the engine needs of a row, read before taking the engine's lock.
fn parsed_attributes(row: &LogRow) -> Option<Map<String, Value>> {
    if row.body_type == "empty" || row.body.is_empty() {
        return None;
    }
    Some(serde_json::from_str(&row.attributes).unwrap_or_default())
}

/// Runs the engine on one row (the only part done under the engine's lock).
fn structure(engine: &mut LogAi, row: &LogRow, attrs: &Map<String, Value>) -> logai::Structured {
    let input = LogInput {
        body: &row.body,
        severity_number: (row.severity_number > 0).then_some(row.severity_number),
        severity_text: (!row.severity_text.is_empty()).then_some(row.severity_text.as_str()),
        stream: stream_of(attrs),
    };
    engine.process(&resource_key(row), &input)
}

/// Writes what was learned into the row.
fn apply(row: &mut LogRow, mut attrs: Map<String, Value>, s: logai::Structured) {
    let mut added = Vec::new();
    let mut put = |attrs: &mut Map<String, Value>, key: &str, value: Value| {
        if !attrs.contains_key(key) {
            attrs.insert(key.to_string(), value);
            added.push(Value::String(key.to_string()));
        }
    };
    put(
        &mut attrs,
        logai::ATTR_FORMAT,
        Value::String(s.format.clone()),
    );
    put(
        &mut attrs,
        logai::ATTR_TEMPLATE_ID,
        Value::String(s.template_id.clone()),
    );
    put(
        &mut attrs,
        logai::ATTR_TEMPLATE,
        Value::String(s.template.clone()),
    );
    if !s.params.is_empty() {
        put(
            &mut attrs,
            logai::ATTR_PARAMS,
            Value::Array(s.params.iter().cloned().map(Value::String).collect()),
        );
    }
    for (k, v) in s.attributes {
        put(&mut attrs, &k, v);
    }
    if row.severity_number == 0
        && let Some(sev) = s.severity
    {
        row.severity_number = sev.otel_number();
        row.severity_text = sev.short_name().to_string();
        put(
            &mut attrs,
            logai::ATTR_SEVERITY_INFERRED,
            Value::Bool(s.severity_inferred),
        );
    }
    // A record without its own timestamp takes the one found in the line.
    if row.time_unix_nano == row.observed_time_unix_nano
        && let Some(t) = s.timestamp_unix_nano
    {
        row.time_unix_nano = t;
    }
    attrs.insert(ATTR_EXTRACTED.to_string(), Value::Array(added));
    row.log_template_id = Some(s.template_id);
    row.log_template = Some(s.template);
    row.attributes = serde_json::to_string(&attrs).unwrap_or_else(|_| row.attributes.clone());
}

impl LogProcessor for LogAiProcessor {
    /// Attribute JSON is read and written outside the lock, so that concurrent requests
    /// only serialise on the engine itself.
    fn process(&self, rows: &mut [LogRow]) {
        let attrs: Vec<Option<Map<String, Value>>> = rows.iter().map(parsed_attributes).collect();
        let learned: Vec<Option<logai::Structured>> = {
            let Ok(mut engine) = self.engine.lock() else {
                return;
            };
            rows.iter()
                .zip(&attrs)
                .map(|(row, a)| a.as_ref().map(|a| structure(&mut engine, row, a)))
                .collect()
        };
        for ((row, a), s) in rows.iter_mut().zip(attrs).zip(learned) {
            if let (Some(a), Some(s)) = (a, s) {
                apply(row, a, s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            },
            ..Default::default()
        }
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
        assert_ne!(rows[0].time_unix_nano, 5, "timestamp taken from the line");
        let attrs: Map<String, Value> = serde_json::from_str(&rows[0].attributes).unwrap();
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
