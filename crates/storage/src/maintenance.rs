//! Background upkeep: merging small files of the same hour, dropping files past retention,
//! deleting replaced files once no reader can still be using them.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use model::Signal;

use crate::engine::Shared;
use crate::files::{self, FileEntry};
use crate::{StorageError, schema};

/// Readers plan against a snapshot; replaced files stay this long before deletion.
const DELETE_GRACE: Duration = Duration::from_secs(120);
/// Most rows merged in one compaction, to bound its memory.
/// Memory one compaction may hold: the merged rows, once read and once sorted.
const COMPACTION_MEMORY_BYTES: u64 = 64 << 20;

pub(crate) fn run(shared: &Shared, stop: &AtomicBool) {
    let mut last = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
        if last.elapsed() >= shared.config.maintenance_interval {
            run_once(shared);
            last = Instant::now();
        }
    }
}

pub(crate) fn run_once(shared: &Shared) {
    expire(shared);
    prune(shared);
    for signal in Signal::ALL {
        if let Err(e) = compact_signal(shared, signal) {
            tracing::warn!(error = %e, table = signal.table_name(), "compaction failed");
        }
    }
    delete_pending(shared, false);
}

/// When a compacted file exists, the files it replaced are garbage (a crash can leave both).
pub(crate) fn finish_interrupted_compactions(
    files: &mut Vec<FileEntry>,
) -> Result<(), StorageError> {
    let mut replaced = std::collections::HashSet::new();
    for f in files.iter().filter(|f| f.compacted) {
        for name in files::replaced_by(&f.path)? {
            replaced.insert(f.path.with_file_name(name));
        }
    }
    if replaced.is_empty() {
        return Ok(());
    }
    files::remove_from(files, &replaced);
    Ok(())
}

fn expire(shared: &Shared) {
    let now = model::now_unix_nano();
    let mut expired: Vec<PathBuf> = Vec::new();
    if let Ok(mut state) = shared.state.write() {
        state.files.retain(|f| {
            let keep_ns =
                i64::try_from(shared.config.retention_of(f.signal).as_nanos()).unwrap_or(i64::MAX);
            // A file written within the grace period is kept whatever its rows' times say:
            // nothing is deleted minutes after it was acknowledged.
            let fresh = f
                .written
                .elapsed()
                .is_ok_and(|age| age < shared.config.retention_grace);
            let keep = fresh || f.max_time >= now.saturating_sub(keep_ns);
            if !keep {
                expired.push(f.path.clone());
            }
            keep
        });
    }
    if expired.is_empty() {
        return;
    }
    shared
        .stats
        .files_expired
        .fetch_add(expired.len() as u64, Ordering::Relaxed);
    if let Ok(mut pending) = shared.pending_deletes.lock() {
        for p in expired {
            pending.push((Instant::now(), p));
        }
    }
}

fn delete_pending(shared: &Shared, all: bool) {
    let Ok(mut pending) = shared.pending_deletes.lock() else {
        return;
    };
    pending.retain(|(since, path)| {
        if all || since.elapsed() >= DELETE_GRACE {
            if let Err(e) = crate::tid::remove_with_sidecar(path)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(error = %e, path = %path.display(), "could not delete a replaced file");
            }
            // Empty hour directories go too.
            if let Some(dir) = path.parent() {
                let _ = std::fs::remove_dir(dir);
            }
            false
        } else {
            true
        }
    });
}

/// Files the row expiry judges in one round, at most (the rest in the next rounds).
const PRUNE_FILES_PER_ROUND: usize = 16;
/// A file is judged again at most this often while a rule's keep passes over its rows.
const PRUNE_EVERY_NS: i64 = 10 * 60 * 1_000_000_000;

/// Whether `f` holds rows that a keep may have outlived since it was last judged (`judged`:
/// when, under the same rules).
fn prune_due(f: &FileEntry, keeps: &[i64], now: i64, judged: Option<i64>) -> bool {
    let reached = |at: i64, k: i64| at.saturating_sub(k) > f.min_time;
    match judged {
        None => keeps.iter().any(|k| reached(now, *k)),
        Some(at) => {
            now - at >= PRUNE_EVERY_NS
                && keeps
                    .iter()
                    .any(|k| reached(now, *k) && at.saturating_sub(*k) < f.max_time)
        }
    }
}

/// Writes again the files with rows past their rule's keep, without those rows.
fn prune(shared: &Shared) {
    let Some(expiry) = shared.row_expiry.read().ok().and_then(|e| e.clone()) else {
        return;
    };
    let now = model::now_unix_nano();
    let version = expiry.version();
    let keeps: Vec<Vec<i64>> = Signal::ALL.iter().map(|s| expiry.keeps_ns(*s)).collect();
    let due: Vec<FileEntry> = {
        let (Ok(state), Ok(mut judged)) = (shared.state.read(), shared.judged.lock()) else {
            return;
        };
        // Files compacted or expired since are forgotten.
        if judged.len() > state.files.len() {
            let live: std::collections::HashSet<&std::path::Path> =
                state.files.iter().map(|f| f.path.as_path()).collect();
            judged.retain(|path, _| live.contains(path.as_path()));
        }
        state
            .files
            .iter()
            .filter(|f| {
                let keeps = &keeps[crate::engine::signal_index(f.signal)];
                let last = judged
                    .get(&f.path)
                    .filter(|(v, _)| *v == version)
                    .map(|(_, at)| *at);
                // As for the signal's retention, nothing goes minutes after it was acknowledged.
                let settled = f
                    .written
                    .elapsed()
                    .is_ok_and(|age| age >= shared.config.retention_grace);
                !keeps.is_empty() && settled && prune_due(f, keeps, now, last)
            })
            .take(PRUNE_FILES_PER_ROUND)
            .cloned()
            .collect()
    };
    for f in due {
        if let Err(e) = prune_file(shared, expiry.as_ref(), &f, now, version) {
            tracing::warn!(error = %e, file = %f.path.display(), "expired rows not removed");
        }
    }
}

fn prune_file(
    shared: &Shared,
    expiry: &dyn crate::keep::RowExpiry,
    f: &FileEntry,
    now: i64,
    version: u64,
) -> Result<(), StorageError> {
    let batch = files::read_file(f.signal, &f.path)?;
    let judged = |path: &std::path::Path| {
        if let Ok(mut j) = shared.judged.lock() {
            j.remove(&f.path);
            j.insert(path.to_path_buf(), (version, now));
        }
    };
    let Some(kept) = expiry.expire(f.signal, &batch, now) else {
        judged(&f.path);
        return Ok(());
    };
    let removed = batch.num_rows().saturating_sub(kept.num_rows()) as u64;
    let replacement = if kept.num_rows() > 0 {
        let name = f
            .path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let seq = shared.next_seq.fetch_add(1, Ordering::Relaxed);
        Some(files::write_file(
            shared.root(),
            f.signal,
            f.hour,
            &kept,
            seq,
            &[name],
            None,
        )?)
    } else {
        None
    };
    {
        let Ok(mut state) = shared.state.write() else {
            return Ok(());
        };
        state.files.retain(|g| g.path != f.path);
        if let Some(entry) = &replacement {
            state.files.push(entry.clone());
        }
    }
    match &replacement {
        Some(entry) => judged(&entry.path),
        None => {
            if let Ok(mut j) = shared.judged.lock() {
                j.remove(&f.path);
            }
        }
    }
    shared
        .stats
        .rows_expired
        .fetch_add(removed, Ordering::Relaxed);
    if let Ok(mut pending) = shared.pending_deletes.lock() {
        pending.push((Instant::now(), f.path.clone()));
    }
    Ok(())
}

/// Picks, per partition (hour, or day for old hours), the small files to merge: at least two,
/// bounded in rows.
fn pick(shared: &Shared, signal: Signal) -> Vec<(i64, Vec<FileEntry>)> {
    let Ok(state) = shared.state.read() else {
        return Vec::new();
    };
    let mut by_hour: std::collections::BTreeMap<i64, Vec<FileEntry>> = Default::default();
    let now_hour = model::now_unix_nano().div_euclid(files::HOUR_NS);
    for f in state
        .files
        .iter()
        .filter(|f| f.signal == signal && f.bytes < shared.config.compaction_small_file_bytes)
    {
        by_hour
            .entry(partition_of(f.hour, now_hour))
            .or_default()
            .push(f.clone());
    }
    // Rows that fit the memory budget, from what a row of this signal took at the last flush.
    let row_bytes = shared.row_bytes[crate::engine::signal_index(signal)]
        .load(Ordering::Relaxed)
        .max(64);
    let max_rows = (COMPACTION_MEMORY_BYTES / row_bytes).max(10_000);
    let mut groups = Vec::new();
    for (partition, mut files) in by_hour {
        files.sort_by_key(|f| f.seq);
        groups.extend(
            groups_within(files, max_rows)
                .into_iter()
                .map(|g| (partition, g)),
        );
    }
    groups
}

/// Hours older than a day are merged into day files (kept in the day's first hour): sparse
/// old hours would otherwise leave one small file each.
const DAY_FILES_AFTER_HOURS: i64 = 24;

/// The partition a file of `hour` is merged in: its hour, or its day's first hour once old.
fn partition_of(hour: i64, now_hour: i64) -> i64 {
    if hour < now_hour - DAY_FILES_AFTER_HOURS {
        hour.div_euclid(24) * 24
    } else {
        hour
    }
}

/// Consecutive files merged in groups of at least two and at most `max_rows` rows; a file that
/// alone reaches the limit is left as it is.
fn groups_within(files: Vec<FileEntry>, max_rows: u64) -> Vec<Vec<FileEntry>> {
    let mut groups = Vec::new();
    let mut group = Vec::new();
    let mut rows = 0;
    for f in files {
        if rows + f.rows > max_rows {
            if group.len() >= 2 {
                groups.push(std::mem::take(&mut group));
            } else {
                group.clear();
            }
            rows = 0;
        }
        if f.rows >= max_rows {
            continue;
        }
        rows += f.rows;
        group.push(f);
    }
    if group.len() >= 2 {
        groups.push(group);
    }
    groups
}

fn compact_signal(shared: &Shared, signal: Signal) -> Result<(), StorageError> {
    for (partition, group) in pick(shared, signal) {
        let schema = schema::schema(signal);
        let mut batches = Vec::with_capacity(group.len());
        for f in &group {
            batches.push(files::read_file(signal, &f.path)?);
        }
        let merged = files::sort_batches(signal, &schema, &batches)?;
        drop(batches);
        let names: Vec<String> = group
            .iter()
            .filter_map(|f| f.path.file_name().map(|n| n.to_string_lossy().to_string()))
            .collect();
        let seq = shared.next_seq.fetch_add(1, Ordering::Relaxed);
        let entry =
            files::write_file(shared.root(), signal, partition, &merged, seq, &names, None)?;
        {
            let Ok(mut state) = shared.state.write() else {
                continue;
            };
            state
                .files
                .retain(|f| !group.iter().any(|g| g.path == f.path));
            state.files.push(entry);
        }
        shared.stats.compactions.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut pending) = shared.pending_deletes.lock() {
            for f in group {
                pending.push((Instant::now(), f.path));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(seq: u64, rows: u64) -> FileEntry {
        FileEntry {
            path: format!("/x/{seq}.parquet").into(),
            signal: Signal::Spans,
            hour: 0,
            min_time: 0,
            max_time: 0,
            rows,
            bytes: 1,
            seq,
            compacted: false,
            written: std::time::SystemTime::now(),
            trace_filter: None,
        }
    }

    fn rows_of(groups: &[Vec<FileEntry>]) -> Vec<Vec<u64>> {
        groups
            .iter()
            .map(|g| g.iter().map(|f| f.rows).collect())
            .collect()
    }

    #[test]
    fn groups_stay_within_the_row_budget() {
        let files = [30, 30, 30, 50, 10, 100, 5, 5].iter().enumerate();
        let groups = groups_within(files.map(|(i, r)| file(i as u64, *r)).collect(), 100);
        assert_eq!(
            rows_of(&groups),
            vec![vec![30, 30, 30], vec![50, 10], vec![5, 5]]
        );
        for g in &groups {
            assert!(g.iter().map(|f| f.rows).sum::<u64>() <= 100);
        }
    }

    #[test]
    fn a_lone_small_file_is_not_rewritten() {
        let groups = groups_within(vec![file(1, 90), file(2, 90)], 100);
        assert!(groups.is_empty());
    }

    #[test]
    fn old_hours_merge_by_day() {
        let now = 1_000_000;
        assert_eq!(partition_of(now - 1, now), now - 1);
        assert_eq!(partition_of(now - 24, now), now - 24);
        assert_eq!(partition_of(now - 25, now), (now - 25) / 24 * 24);
        assert_eq!(partition_of(-1, now), -24);
    }

    fn log_at(t: i64) -> model::LogRow {
        model::LogRow {
            time_unix_nano: t,
            body: format!("at {t}"),
            ..Default::default()
        }
    }

    fn files_of(store: &crate::Store) -> usize {
        store.snapshot(Signal::Logs, None, None).files.len()
    }

    /// Rows dated long before the retention stay while their file is younger than the grace.
    #[tokio::test]
    async fn retention_spares_files_written_within_the_grace() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = crate::StoreConfig::new(dir.path());
        config.retention = [Duration::from_secs(3600); 3];
        let store = crate::Store::open(config.clone()).unwrap();
        store
            .append(model::Batch::Logs(vec![log_at(5)]))
            .await
            .unwrap();
        store.flush().await.unwrap();
        store.run_maintenance();
        assert_eq!(files_of(&store), 1, "kept within the grace");
        drop(store);
        config.retention_grace = Duration::ZERO;
        let store = crate::Store::open(config).unwrap();
        store.run_maintenance();
        assert_eq!(files_of(&store), 0, "expired after it");
    }

    struct DebugForAnHour;

    impl crate::keep::RowExpiry for DebugForAnHour {
        fn keeps_ns(&self, signal: Signal) -> Vec<i64> {
            if signal == Signal::Logs {
                vec![files::HOUR_NS]
            } else {
                Vec::new()
            }
        }
        fn version(&self) -> u64 {
            1
        }
        fn expire(
            &self,
            _: Signal,
            batch: &arrow::array::RecordBatch,
            now: i64,
        ) -> Option<arrow::array::RecordBatch> {
            use arrow::array::AsArray;
            let body = arrow::compute::cast(
                batch.column_by_name("body")?,
                &arrow::datatypes::DataType::Utf8,
            )
            .ok()?;
            let times = arrow::compute::cast(
                batch.column_by_name("time_unix_nano")?,
                &arrow::datatypes::DataType::Int64,
            )
            .ok()?;
            let (body, times) = (
                body.as_string::<i32>(),
                times.as_primitive::<arrow::datatypes::Int64Type>(),
            );
            let keep: arrow::array::BooleanArray = (0..batch.num_rows())
                .map(|i| {
                    Some(
                        !(body.value(i).starts_with("debug")
                            && now - times.value(i) > files::HOUR_NS),
                    )
                })
                .collect();
            if keep.true_count() == batch.num_rows() {
                return None;
            }
            arrow::compute::filter_record_batch(batch, &keep).ok()
        }
    }

    fn rows_of_files(store: &crate::Store) -> u64 {
        store
            .snapshot(Signal::Logs, None, None)
            .files
            .iter()
            .map(|f| f.rows)
            .sum()
    }

    /// Rows a rule keeps shorter than their signal leave their files once past it (once the
    /// files are past the grace); the other rows of the file stay.
    #[tokio::test]
    async fn rows_past_their_rules_keep_leave_their_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = crate::StoreConfig::new(dir.path());
        config.retention = [Duration::from_secs(400 * 86_400); 3];
        let store = crate::Store::open(config.clone()).unwrap();
        let now = model::now_unix_nano();
        let row = |t: i64, body: &str| model::LogRow {
            time_unix_nano: t,
            body: body.into(),
            ..Default::default()
        };
        let old = now - 2 * files::HOUR_NS;
        store
            .append(model::Batch::Logs(vec![
                row(old, "debug a"),
                row(old + 1, "info b"),
                row(now - 600_000_000_000, "debug c"),
            ]))
            .await
            .unwrap();
        store.flush().await.unwrap();
        store.set_row_expiry(Some(std::sync::Arc::new(DebugForAnHour)));
        store.run_maintenance();
        assert_eq!(rows_of_files(&store), 3, "nothing goes within the grace");
        drop(store);
        config.retention_grace = Duration::ZERO;
        let store = crate::Store::open(config).unwrap();
        store.set_row_expiry(Some(std::sync::Arc::new(DebugForAnHour)));
        store.run_maintenance();
        assert_eq!(rows_of_files(&store), 2, "the old debug row left its file");
        assert_eq!(store.stats().rows_expired.load(Ordering::Relaxed), 1);
        store.run_maintenance();
        assert_eq!(rows_of_files(&store), 2, "judged files stay as they are");
    }

    /// Two thousand distinct old hours end up in a file per day, and a query over all of them
    /// works.
    #[tokio::test]
    async fn sparse_old_hours_are_merged_into_day_files() {
        use datafusion::prelude::SessionContext;
        let dir = tempfile::tempdir().unwrap();
        let mut config = crate::StoreConfig::new(dir.path());
        config.retention = [Duration::from_secs(400 * 86_400); 3];
        let store = std::sync::Arc::new(crate::Store::open(config).unwrap());
        let start = model::now_unix_nano() - 100 * 86_400 * 1_000_000_000;
        let rows: Vec<_> = (0..2_000)
            .map(|h| log_at(start + h * files::HOUR_NS))
            .collect();
        store.append(model::Batch::Logs(rows)).await.unwrap();
        store.flush().await.unwrap();
        assert_eq!(files_of(&store), 2_000);
        for _ in 0..3 {
            store.run_maintenance();
        }
        let days = files_of(&store);
        assert!(days <= 2_000 / 24 + 2, "{days} files");
        let ctx = SessionContext::new();
        ctx.register_table(
            "logs",
            std::sync::Arc::new(crate::SignalTable::new(Signal::Logs, store.clone())),
        )
        .unwrap();
        let batches = ctx
            .sql("SELECT count(*) AS n FROM logs")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let n = arrow::array::AsArray::as_primitive::<arrow::datatypes::Int64Type>(
            batches[0].column(0),
        )
        .value(0);
        assert_eq!(n, 2_000);
    }
}
