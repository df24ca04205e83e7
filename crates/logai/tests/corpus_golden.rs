//! Golden tests for the real-log corpus: every `testdata/corpus/NAME/NAME.log` is structured the
//! way `redscope logai parse` does (raw lines on stdin, one resource, [`logai::cli::parse`]) and
//! a sample of its records is compared with `testdata/corpus/NAME/expected.jsonl`.
//! Regenerate with `LOGAI_BLESS=1 cargo test -p logai --test corpus_golden`, and read the diff:
//! the corpus README's "Known issues" lists the sampled lines known to be wrong.
//!
//! The sample is the first [`HEAD_LINES`] lines and [`SPREAD_LINES`] lines spread evenly over
//! the rest, so files stay small while every part of a log is pinned. Each expected record keeps
//! the fields a reader checks by hand: the line number, format, time, severity and whether it
//! was inferred, message, template and the extracted attributes.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// Lines taken from the start of every file.
const HEAD_LINES: usize = 100;
/// Lines taken at even steps over the rest of the file.
const SPREAD_LINES: usize = 50;
/// Fields of the CLI's output kept in the expected records.
const FIELDS: [&str; 7] = [
    "format",
    "timestamp",
    "severity",
    "severity_inferred",
    "message",
    "template",
    "attributes",
];

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/corpus")
}

/// The 0-based indexes of the sampled lines of a file of `lines` lines.
fn sample(lines: usize) -> Vec<usize> {
    let mut picked: Vec<usize> = (0..lines.min(HEAD_LINES)).collect();
    let rest = lines.saturating_sub(HEAD_LINES);
    for step in 0..SPREAD_LINES.min(rest) {
        picked.push(HEAD_LINES + step * rest / SPREAD_LINES.min(rest));
    }
    picked
}

/// The sampled records of one log, as the CLI structures the whole file.
fn structure(log: &Path) -> Vec<Value> {
    let text = std::fs::read(log).unwrap();
    let mut out = Vec::new();
    logai::cli::parse(text.as_slice(), &mut out).unwrap();
    let records: Vec<&[u8]> = out
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let mut kept = Vec::new();
    for index in sample(records.len()) {
        let full: Map<String, Value> = serde_json::from_slice(records[index]).unwrap();
        let mut record = Map::new();
        record.insert("line".into(), Value::from(index + 1));
        for field in FIELDS {
            if let Some(value) = full.get(field) {
                record.insert(field.into(), value.clone());
            }
        }
        kept.push(Value::Object(record));
    }
    kept
}

fn to_jsonl(values: &[Value]) -> String {
    let mut text = String::new();
    for value in values {
        text.push_str(&serde_json::to_string(value).unwrap());
        text.push('\n');
    }
    text
}

/// The record with its timestamp cut to milliseconds: an epoch in float seconds (zap's `ts`)
/// has no exact sub-microsecond digits, and they differ with serde_json's float parsing (the
/// workspace build enables `float_roundtrip`, a crate's own build does not).
fn to_micros(record: &Value) -> Value {
    let mut record = rounded(record);
    if let Some(Value::String(time)) = record.get_mut("timestamp")
        && let Some(dot) = time.find('.')
    {
        let digits = time[dot + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        if digits > 3 {
            time.replace_range(dot + 4..dot + 1 + digits, "");
        }
    }
    record
}

/// `value` with its floats written to ten significant digits (their last digits, too, depend
/// on the float parsing in use).
fn rounded(value: &Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => {
            Value::String(format!("{:.9e}", n.as_f64().unwrap_or(0.0)))
        }
        Value::Array(items) => Value::Array(items.iter().map(rounded).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), rounded(v))).collect())
        }
        other => other.clone(),
    }
}

/// Every difference between the expected and the actual records of one system.
fn differences(name: &str, expected: &[Value], actual: &[Value]) -> Vec<String> {
    let mut found = Vec::new();
    for (want, got) in expected.iter().zip(actual) {
        if to_micros(want) != to_micros(got) {
            let line = got.get("line").cloned().unwrap_or_default();
            found.push(format!(
                "{name}:{line}\n  expected {want}\n  actual   {got}"
            ));
        }
    }
    if expected.len() != actual.len() {
        found.push(format!(
            "{name}: {} records expected, {} produced",
            expected.len(),
            actual.len()
        ));
    }
    found
}

#[test]
fn corpus_golden_files() {
    let bless = std::env::var_os("LOGAI_BLESS").is_some();
    let mut systems: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|dir| dir.join("truth.csv").is_file())
        .collect();
    systems.sort();
    assert!(systems.len() >= 50, "the corpus has its systems");
    let mut failures = Vec::new();
    for dir in systems {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let actual = structure(&dir.join(format!("{name}.log")));
        let expected_path = dir.join("expected.jsonl");
        if bless {
            std::fs::write(&expected_path, to_jsonl(&actual)).unwrap();
            continue;
        }
        let expected: Vec<Value> = std::fs::read_to_string(&expected_path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        failures.extend(differences(&name, &expected, &actual));
    }
    assert!(
        failures.is_empty(),
        "corpus golden mismatches (LOGAI_BLESS=1 to accept, after reading them):\n{}",
        failures.join("\n")
    );
}

#[test]
fn sample_takes_head_and_spread() {
    assert_eq!(sample(3), [0, 1, 2]);
    let picked = sample(1100);
    assert_eq!(picked.len(), HEAD_LINES + SPREAD_LINES);
    assert_eq!(picked[HEAD_LINES], HEAD_LINES);
    assert!(picked.windows(2).all(|w| w[0] < w[1]));
    assert!(*picked.last().unwrap() < 1100);
}
