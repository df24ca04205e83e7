//! Golden tests: every `testdata/logs/<format>.log` is structured and compared with
//! `<format>.expected.jsonl` beside it. Regenerate with `LOGAI_BLESS=1 cargo test -p logai`.
//!
//! Records are joined with [`logai::Multiline`] (so stack traces stay one record), then learned
//! as one resource and structured, exactly as `redscope logai parse` does for a file.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use logai::{Config, LogAi, LogInput, Multiline};
use serde_json::Value;

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/logs")
}

fn structure(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut joiner = Multiline::new();
    let mut records = Vec::new();
    for line in text.lines() {
        records.extend(joiner.push(line));
    }
    records.extend(joiner.flush());
    let mut logai = LogAi::new(Config::default());
    for record in &records {
        logai.learn("golden", &LogInput::text(record));
    }
    records
        .iter()
        .map(|record| logai::cli::to_json(&logai.parse("golden", &LogInput::text(record))))
        .collect()
}

#[test]
fn golden_files() {
    let bless = std::env::var_os("LOGAI_BLESS").is_some();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(testdata())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    entries.sort();
    assert!(entries.len() >= 14, "one golden file per supported format");
    let mut failures = Vec::new();
    for path in entries {
        let actual = structure(&path);
        let expected_path = path.with_extension("expected.jsonl");
        if bless {
            let mut text = String::new();
            for value in &actual {
                text.push_str(&serde_json::to_string(value).unwrap());
                text.push('\n');
            }
            std::fs::write(&expected_path, text).unwrap();
            continue;
        }
        let expected_text = std::fs::read_to_string(&expected_path).unwrap_or_default();
        let expected: Vec<Value> = expected_text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if expected != actual {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            for (index, (want, got)) in expected.iter().zip(&actual).enumerate() {
                if want != got {
                    failures.push(format!(
                        "{name}:{}\n  expected {want}\n  actual   {got}",
                        index + 1
                    ));
                }
            }
            if expected.len() != actual.len() {
                failures.push(format!(
                    "{name}: {} records expected, {} produced",
                    expected.len(),
                    actual.len()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches (LOGAI_BLESS=1 to accept):\n{}",
        failures.join("\n")
    );
}
