//! Session replay segments as blobs with a retention of their own: the body of a
//! `browser.replay_segment` record (base64 gzip of rrweb events, tens to hundreds of KB) is
//! written at ingest to `<data>/replay/<hour>/<session>/<time>-<n>.seg`, and the record keeps
//! only the key (`replay.blob`). Whole hour directories (by arrival) are dropped once older
//! than the replay retention, independently of the logs' retention.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;

/// The format of the directory (written to `<data>/replay/FORMAT`).
const FORMAT: &str = "1";

const HOUR_NS: i64 = 3_600_000_000_000;

/// Counters for `/api/v1/status`.
#[derive(Debug, Default)]
pub struct ReplayStats {
    pub segments_stored: AtomicU64,
    pub bytes_stored: AtomicU64,
    /// Segments kept inline in their record because the blob could not be written.
    pub store_failures: AtomicU64,
    pub hours_expired: AtomicU64,
}

impl ReplayStats {
    pub fn snapshot(&self) -> Value {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        serde_json::json!({
            "segments_stored": get(&self.segments_stored),
            "bytes_stored": get(&self.bytes_stored),
            "store_failures": get(&self.store_failures),
            "hours_expired": get(&self.hours_expired),
        })
    }
}

/// Where replay segments are kept.
#[derive(Debug)]
pub struct ReplayStore {
    root: PathBuf,
    retention: Duration,
    fsync: bool,
    next: AtomicU64,
    pub stats: ReplayStats,
}

/// A session id as a directory name: letters, digits, `-` and `_`, at most 64 of them.
fn dir_name(session: &str) -> String {
    let name: String = session
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect();
    if name.is_empty() {
        "_".to_string()
    } else {
        name
    }
}

impl ReplayStore {
    /// Segments under `data_dir/replay`, kept for `retention`; `fsync`: each blob is on disk
    /// before its record is acknowledged.
    pub fn open(data_dir: &Path, retention: Duration, fsync: bool) -> ReplayStore {
        ReplayStore {
            root: data_dir.join("replay"),
            retention,
            fsync,
            next: AtomicU64::new(0),
            stats: ReplayStats::default(),
        }
    }

    pub fn retention(&self) -> Duration {
        self.retention
    }

    /// Writes one segment that arrived at `now_ns`; returns its key.
    pub fn put(&self, now_ns: i64, session: &str, body: &[u8]) -> std::io::Result<String> {
        let hour = now_ns.div_euclid(HOUR_NS);
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let key = format!("{hour}/{}/{now_ns}-{n}.seg", dir_name(session));
        let path = self.root.join(&key);
        crate::sourcemaps::write_file((&self.root, FORMAT), &path, body, self.fsync)?;
        self.stats.segments_stored.fetch_add(1, Ordering::Relaxed);
        self.stats
            .bytes_stored
            .fetch_add(body.len() as u64, Ordering::Relaxed);
        Ok(key)
    }

    /// A segment by key; `None` once expired (or for a key that is not one of ours).
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        let parts: Vec<&str> = key.split('/').collect();
        let valid = parts.len() == 3
            && parts[0].bytes().all(|b| b.is_ascii_digit() || b == b'-')
            && dir_name(parts[1]) == parts[1]
            && parts[2].ends_with(".seg")
            && parts[2]
                .trim_end_matches(".seg")
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'-');
        if !valid {
            return None;
        }
        std::fs::read(self.root.join(key)).ok()
    }

    /// Drops the hour directories older than the retention at `now_ns`; returns how many.
    pub fn expire(&self, now_ns: i64) -> usize {
        let retention_ns = i64::try_from(self.retention.as_nanos()).unwrap_or(i64::MAX);
        let oldest_kept = now_ns.saturating_sub(retention_ns).div_euclid(HOUR_NS);
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return 0;
        };
        let mut dropped = 0;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(hour) = name.to_str().and_then(|n| n.parse::<i64>().ok()) else {
                continue;
            };
            // An hour is dropped once all of it is older than the retention.
            if hour < oldest_kept && std::fs::remove_dir_all(entry.path()).is_ok() {
                dropped += 1;
            }
        }
        self.stats
            .hours_expired
            .fetch_add(dropped as u64, Ordering::Relaxed);
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_round_trip_and_expire_by_the_hour() {
        let dir = tempfile::tempdir().unwrap();
        let store = ReplayStore::open(dir.path(), Duration::from_secs(2 * 3600), false);
        let t0 = 1_800_000_000 * 1_000_000_000i64;
        let old = store.put(t0, "sess/../1", b"old").unwrap();
        let new = store.put(t0 + 3 * HOUR_NS, "sess-1", b"new").unwrap();
        assert!(!old.contains(".."), "{old}");
        assert_eq!(store.get(&old).unwrap(), b"old");
        assert_eq!(store.get("../../etc/passwd"), None);
        assert_eq!(store.expire(t0 + 3 * HOUR_NS), 1);
        assert_eq!(store.get(&old), None);
        assert_eq!(store.get(&new).unwrap(), b"new");
        assert_eq!(store.stats.segments_stored.load(Ordering::Relaxed), 2);
    }
}
