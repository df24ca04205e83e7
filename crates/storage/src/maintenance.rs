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
            let keep = f.max_time >= now.saturating_sub(keep_ns);
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

/// Picks, per hour, the small files to merge: at least two, bounded in rows.
fn pick(shared: &Shared, signal: Signal) -> Vec<Vec<FileEntry>> {
    let Ok(state) = shared.state.read() else {
        return Vec::new();
    };
    let mut by_hour: std::collections::BTreeMap<i64, Vec<FileEntry>> = Default::default();
    for f in state
        .files
        .iter()
        .filter(|f| f.signal == signal && f.bytes < shared.config.compaction_small_file_bytes)
    {
        by_hour.entry(f.hour).or_default().push(f.clone());
    }
    // Rows that fit the memory budget, from what a row of this signal took at the last flush.
    let row_bytes = shared.row_bytes[crate::engine::signal_index(signal)]
        .load(Ordering::Relaxed)
        .max(64);
    let max_rows = (COMPACTION_MEMORY_BYTES / row_bytes).max(10_000);
    let mut groups = Vec::new();
    for (_, mut files) in by_hour {
        files.sort_by_key(|f| f.seq);
        groups.extend(groups_within(files, max_rows));
    }
    groups
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
    for group in pick(shared, signal) {
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
        let entry = files::write_file(
            shared.root(),
            signal,
            group[0].hour,
            &merged,
            seq,
            &names,
            None,
        )?;
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
}
