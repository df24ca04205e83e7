//! When each piece of telemetry was last read by name: a service's spans, logs or metrics, a
//! metric, a span name, a log template. Every reader goes through the query service (the API,
//! the UI, MCP, PromQL and so alert rules and dashboards), so recording here sees them all. The
//! usage report lists what nobody read in N days, the first candidates to drop.
//!
//! Kept in memory and written to `<data>/usage/reads.json` (versioned, written atomically) at
//! most once a minute, so a restart forgets at most the last minute of reads.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use model::Signal;
use serde::{Deserialize, Serialize};

/// Format version of the file.
const VERSION: u32 = 1;
/// Shortest time between two writes of the file.
const SAVE_EVERY_MS: i64 = 60_000;
/// Most names kept; beyond it the least recently read are forgotten.
const MAX_ENTRIES: usize = 100_000;

/// What was read: a signal and a dimension of it, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadKind {
    /// Records of one service (`name` is the service).
    Service,
    /// Spans of one name or route.
    SpanName,
    /// Log records of one template (`name` is the template id).
    LogTemplate,
    /// Points of one metric.
    MetricName,
}

#[derive(Debug, Serialize, Deserialize)]
struct File {
    version: u32,
    /// (table name of the signal, kind, name, unix ms)
    reads: Vec<(String, ReadKind, String, i64)>,
}

/// Last read time (unix ms) per (signal, kind, name).
#[derive(Debug, Default)]
pub struct ReadLog {
    path: Option<PathBuf>,
    last: Mutex<HashMap<(Signal, ReadKind, String), i64>>,
    saved_at_ms: AtomicI64,
}

impl ReadLog {
    /// The log kept under `data_dir`, with what an earlier run saved (nothing if the file is
    /// missing, unreadable or of another version: reads are a hint, never a reason to fail).
    pub fn open(data_dir: &Path) -> ReadLog {
        let path = data_dir.join("usage").join("reads.json");
        let mut last = HashMap::new();
        if let Ok(text) = std::fs::read_to_string(&path) {
            match serde_json::from_str::<File>(&text) {
                Ok(f) if f.version == VERSION => {
                    for (table, kind, name, at) in f.reads {
                        if let Some(signal) = Signal::from_table_name(&table) {
                            last.insert((signal, kind, name), at);
                        }
                    }
                }
                Ok(f) => {
                    tracing::warn!(version = f.version, "reads file of another version ignored")
                }
                Err(e) => tracing::warn!(error = %e, "unreadable reads file ignored"),
            }
        }
        ReadLog {
            path: Some(path),
            last: Mutex::new(last),
            saved_at_ms: AtomicI64::new(now_ms()),
        }
    }

    /// Notes a read of `name` now; writes the file when the last write is a minute old.
    pub fn record(&self, signal: Signal, kind: ReadKind, name: &str) {
        self.record_at(signal, kind, name, now_ms());
    }

    pub fn record_at(&self, signal: Signal, kind: ReadKind, name: &str, at_ms: i64) {
        if name.is_empty() {
            return;
        }
        if let Ok(mut last) = self.last.lock() {
            if last.len() >= MAX_ENTRIES && !last.contains_key(&(signal, kind, name.to_string())) {
                forget_oldest(&mut last);
            }
            let entry = last
                .entry((signal, kind, name.to_string()))
                .or_insert(at_ms);
            *entry = (*entry).max(at_ms);
        }
        let saved = self.saved_at_ms.load(Ordering::Relaxed);
        if at_ms - saved >= SAVE_EVERY_MS
            && self
                .saved_at_ms
                .compare_exchange(saved, at_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.save_in_background();
        }
    }

    /// When `name` was last read, if ever (as far as this log remembers).
    pub fn last_read(&self, signal: Signal, kind: ReadKind, name: &str) -> Option<i64> {
        let last = self.last.lock().ok()?;
        last.get(&(signal, kind, name.to_string())).copied()
    }

    /// Writes the file now (temporary file, fsync, rename).
    pub fn save(&self) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let reads = match self.last.lock() {
            Ok(last) => last
                .iter()
                .map(|((s, k, n), at)| (s.table_name().to_string(), *k, n.clone(), *at))
                .collect(),
            Err(_) => return Ok(()),
        };
        let text = serde_json::to_vec(&File {
            version: VERSION,
            reads,
        })?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("json.tmp");
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&text)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    }

    fn save_in_background(&self) {
        let Some(path) = self.path.clone() else {
            return;
        };
        let snapshot = ReadLog {
            path: Some(path),
            last: Mutex::new(self.last.lock().map(|l| l.clone()).unwrap_or_default()),
            saved_at_ms: AtomicI64::new(0),
        };
        let write = move || {
            if let Err(e) = snapshot.save() {
                tracing::warn!(error = %e, "could not save the reads file");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn_blocking(write);
            }
            Err(_) => write(),
        }
    }
}

fn forget_oldest(last: &mut HashMap<(Signal, ReadKind, String), i64>) {
    if let Some(key) = last
        .iter()
        .min_by_key(|(_, at)| **at)
        .map(|(k, _)| k.clone())
    {
        last.remove(&key);
    }
}

fn now_ms() -> i64 {
    model::now_unix_nano() / 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_kept_across_a_restart_and_a_later_read_wins() {
        let dir = tempfile::tempdir().unwrap();
        let log = ReadLog::open(dir.path());
        log.record_at(
            Signal::Metrics,
            ReadKind::MetricName,
            "http.server.duration",
            5_000,
        );
        log.record_at(
            Signal::Metrics,
            ReadKind::MetricName,
            "http.server.duration",
            3_000,
        );
        log.record_at(Signal::Logs, ReadKind::Service, "cart", 7_000);
        log.save().unwrap();
        let again = ReadLog::open(dir.path());
        assert_eq!(
            again.last_read(
                Signal::Metrics,
                ReadKind::MetricName,
                "http.server.duration"
            ),
            Some(5_000)
        );
        assert_eq!(
            again.last_read(Signal::Logs, ReadKind::Service, "cart"),
            Some(7_000)
        );
        assert_eq!(
            again.last_read(Signal::Spans, ReadKind::Service, "cart"),
            None
        );
    }

    #[test]
    fn a_file_of_another_version_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("usage")).unwrap();
        std::fs::write(
            dir.path().join("usage/reads.json"),
            r#"{"version": 99, "reads": [["logs", "service", "cart", 1]]}"#,
        )
        .unwrap();
        let log = ReadLog::open(dir.path());
        assert_eq!(log.last_read(Signal::Logs, ReadKind::Service, "cart"), None);
    }
}
