//! RED, service-map, log-pattern and browser (`rollups::rum`) rollups, derived from what the
//! store made durable and as durable as the rows they come from.
//!
//! The store tells the rollups every durable write in WAL order ([`storage::Tap`]); one thread
//! aggregates them. Every few seconds a *drain* turns the aggregate into metric rows, which
//! are stored together with a mark row (`redscope.rollup.drain`: the drain's number, the WAL
//! position it covers and when it ran) in one WAL frame, so the rows and the mark are durable
//! together or not at all. Every few drains the aggregator's state (open traces, client spans
//! waiting for their callee) is saved with the drain it follows, and the store is asked to keep
//! the WAL from that position on.
//!
//! After a crash the saved state is restored and the stored writes after its position are
//! aggregated again, at the times they had arrived, with the drains whose marks are stored run
//! again at their own times (their rows are stored already and are dropped): the aggregate is
//! then what it was at the crash, and the next drain stores what had not been stored. So RED,
//! edges, reach and patterns after a SIGKILL equal what an uninterrupted run gives, and a write
//! the store refused is never counted.

mod rum;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use analysis::DRAIN_METRIC;
use anyhow::Context;
use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Int32Type, Int64Type};
use model::{Batch, LogRow, MetricPointRow, Signal, SpanRow};
use storage::{Durable, Position, Store};
use tokio::sync::oneshot;

/// The aggregator's state is saved every this many drains.
const CHECKPOINT_EVERY: u64 = 3;
const CHECKPOINT_FILE: &str = "checkpoint";

/// What a drain's mark says.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
struct Mark {
    drain: u64,
    /// Everything stored up to here was aggregated before the drain, nothing after it.
    position: Position,
    /// When the drain ran (unix ns).
    at: i64,
    /// Whether it settled everything (at shutdown).
    all: bool,
}

/// A durable write as the aggregator needs it.
enum Item {
    Spans(Vec<SpanRow>),
    /// Log writes: their template counts and their browser records.
    Logs(Option<analysis::PatternCounts>, Vec<LogRow>),
}

enum Msg {
    Stored {
        position: Position,
        arrived: i64,
        item: Item,
    },
    Drain {
        all: bool,
        reply: oneshot::Sender<Drained>,
    },
    Completeness {
        reply: oneshot::Sender<analysis::arrival::Completeness>,
    },
}

/// A drain's rows (its mark last) and, every few drains, the state it leaves.
struct Drained {
    mark: Mark,
    rows: Vec<MetricPointRow>,
    state: Option<Vec<u8>>,
}

/// Counters of the rollups, in the status.
#[derive(Debug, Default)]
pub struct RollupStats {
    pub drains: AtomicU64,
    pub drain_write_failures: AtomicU64,
    pub checkpoints: AtomicU64,
    pub checkpoint_failures: AtomicU64,
    /// Writes aggregated again after a restart, and drains run again.
    pub recovered_writes: AtomicU64,
    pub recovered_drains: AtomicU64,
    /// Durable writes the aggregator could not take (it had stopped): never expected.
    pub lost_writes: AtomicU64,
}

impl RollupStats {
    pub fn snapshot(&self) -> serde_json::Value {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        serde_json::json!({
            "drains": get(&self.drains),
            "drain_write_failures": get(&self.drain_write_failures),
            "checkpoints": get(&self.checkpoints),
            "checkpoint_failures": get(&self.checkpoint_failures),
            "recovered_writes": get(&self.recovered_writes),
            "recovered_drains": get(&self.recovered_drains),
            "lost_writes": get(&self.lost_writes),
        })
    }
}

/// A saved aggregator: the drain it follows and its state.
struct Checkpoint {
    mark: Mark,
    state: Vec<u8>,
}

/// The store's tap: hands durable writes to the aggregator thread, and while the store opens
/// collects the WAL kept since the last checkpoint.
pub struct RollupTap {
    tx: SyncSender<Msg>,
    /// Writes after the checkpoint, and the marks of drains after it, read while opening.
    replayed: Mutex<Replayed>,
    stats: Arc<RollupStats>,
    /// Browser events were stored since the last drain: the web questions read the browser
    /// rollups only, so a reader drains them at once rather than within a second.
    browser_pending: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct Replayed {
    after: Option<Position>,
    items: Vec<(Position, i64, Item)>,
    marks: Vec<Mark>,
    /// The newest position replayed.
    last: Option<Position>,
}

impl storage::Tap for RollupTap {
    fn wants_rows(&self, signal: Signal) -> bool {
        // Logs for the browser rollups (moved here, not copied).
        matches!(signal, Signal::Spans | Signal::Logs)
    }

    fn stored(&self, write: Durable) {
        let item = match (write.signal, write.rows, write.note) {
            (Signal::Spans, Some(Batch::Spans(rows)), _) => {
                if rows.iter().any(|r| r.session_id.is_some()) {
                    self.browser_pending.store(true, Ordering::Relaxed);
                }
                Item::Spans(rows)
            }
            (Signal::Logs, rows, note) => {
                let counts = note.and_then(|n| n.downcast::<analysis::PatternCounts>().ok());
                let browser = rum::browser_logs(rows);
                if !browser.is_empty() {
                    self.browser_pending.store(true, Ordering::Relaxed);
                } else if counts.is_none() {
                    return;
                }
                Item::Logs(counts.map(|c| *c), browser)
            }
            _ => return,
        };
        let msg = Msg::Stored {
            position: write.position,
            arrived: write.arrived,
            item,
        };
        if self.tx.send(msg).is_err() {
            self.stats.lost_writes.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn replayed(&self, frame: storage::wal::Frame) {
        let Ok(mut replayed) = self.replayed.lock() else {
            return;
        };
        replayed.last = replayed.last.max(Some(frame.position));
        if frame.signal == Signal::Metrics {
            replayed.marks.extend(marks_in(&frame.batch));
            return;
        }
        if replayed.after.is_none_or(|after| frame.position <= after) {
            return;
        }
        let item = match frame.signal {
            Signal::Spans => {
                match storage::schema::from_record_batch(Signal::Spans, &frame.batch) {
                    Ok(Batch::Spans(rows)) => Item::Spans(rows),
                    Ok(_) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not read stored spans back for the rollups");
                        return;
                    }
                }
            }
            Signal::Logs => Item::Logs(
                Some(patterns_in(&frame.batch)),
                rum::browser_logs_in(&frame.batch),
            ),
            Signal::Metrics => return,
        };
        replayed.items.push((frame.position, frame.arrived, item));
    }
}

/// The marks among stored metric rows.
fn marks_in(batch: &RecordBatch) -> Vec<Mark> {
    let (Some(names), Some(attrs)) = (
        batch.column_by_name("metric_name"),
        batch.column_by_name("attributes"),
    ) else {
        return Vec::new();
    };
    let (Some(names), Some(attrs)) = (names.as_string_opt::<i32>(), attrs.as_string_opt::<i32>())
    else {
        return Vec::new();
    };
    (0..batch.num_rows())
        .filter(|&i| names.is_valid(i) && names.value(i) == DRAIN_METRIC)
        .filter_map(|i| serde_json::from_str(attrs.value(i)).ok())
        .collect()
}

/// The template counts of stored log rows, read from their columns.
fn patterns_in(batch: &RecordBatch) -> analysis::PatternCounts {
    let mut counts = analysis::PatternCounts::default();
    let columns = (
        batch.column_by_name("service_name"),
        batch.column_by_name("log_template_id"),
        batch.column_by_name("time_unix_nano"),
        batch.column_by_name("severity_number"),
    );
    let (Some(service), Some(id), Some(time), Some(severity)) = columns else {
        return counts;
    };
    let (Some(service), Some(id), Some(time), Some(severity)) = (
        service.as_string_opt::<i32>(),
        id.as_string_opt::<i32>(),
        time.as_primitive_opt::<Int64Type>(),
        severity.as_primitive_opt::<Int32Type>(),
    ) else {
        tracing::warn!("stored log rows have unexpected column types; patterns not recovered");
        return counts;
    };
    for i in 0..batch.num_rows() {
        if id.is_valid(i) {
            counts.count(
                service.value(i),
                id.value(i),
                time.value(i),
                severity.value(i),
            );
        }
    }
    counts
}

/// The rollups of a running server.
pub struct Rollups {
    tx: SyncSender<Msg>,
    rx: Mutex<Option<Receiver<Msg>>>,
    tap: Arc<RollupTap>,
    dir: PathBuf,
    /// A drain whose rows are not stored yet (the store refused them): stored before the next.
    unstored: tokio::sync::Mutex<Option<Drained>>,
    /// When the last drain was asked for (readers drain at most once a second).
    last_drain: Mutex<std::time::Instant>,
    pub stats: Arc<RollupStats>,
}

impl Rollups {
    /// The rollups kept in `data_dir`, and the tap to open the store with.
    pub fn new(data_dir: &Path) -> anyhow::Result<Rollups> {
        let dir = data_dir.join("rollups");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1024);
        let stats = Arc::new(RollupStats::default());
        let checkpoint = read_checkpoint(&dir);
        let replayed = Replayed {
            after: checkpoint.as_ref().map(|c| c.mark.position),
            ..Replayed::default()
        };
        let tap = Arc::new(RollupTap {
            tx: tx.clone(),
            replayed: Mutex::new(replayed),
            stats: Arc::clone(&stats),
            browser_pending: Default::default(),
        });
        Ok(Rollups {
            tx,
            rx: Mutex::new(Some(rx)),
            tap,
            dir,
            unstored: tokio::sync::Mutex::new(None),
            last_drain: Mutex::new(std::time::Instant::now()),
            stats,
        })
    }

    pub fn tap(&self) -> Arc<dyn storage::Tap> {
        self.tap.clone()
    }

    /// Once the store is open: rebuilds the aggregate from the checkpoint and the replayed
    /// writes, and starts the aggregator thread.
    pub fn start(&self, store: &Store) -> anyhow::Result<()> {
        let replayed = std::mem::take(&mut *self.tap.replayed.lock().map_err(poisoned)?);
        let rx = self
            .rx
            .lock()
            .map_err(poisoned)?
            .take()
            .context("rollups started twice")?;
        let aggregate = match read_checkpoint(&self.dir) {
            Some(checkpoint) => self.recover(checkpoint, replayed),
            None => {
                // No state saved: whatever the WAL holds was rolled up by an earlier run (or
                // there is nothing). Start here.
                let mark = Mark {
                    drain: replayed.marks.iter().map(|m| m.drain).max().unwrap_or(0),
                    position: replayed.last.unwrap_or_default(),
                    at: model::now_unix_nano(),
                    all: true,
                };
                let aggregate = Aggregate::fresh(mark);
                write_checkpoint(&self.dir, &mark, &aggregate.red.save())?;
                store.keep_wal_from(mark.position)?;
                aggregate
            }
        };
        std::thread::Builder::new()
            .name("redscope-rollups".into())
            .spawn(move || aggregate.run(rx))?;
        Ok(())
    }

    fn recover(&self, checkpoint: Checkpoint, replayed: Replayed) -> Aggregate {
        let red = match analysis::RedAggregator::restore(&checkpoint.state) {
            Ok(red) => red,
            Err(e) => {
                tracing::error!(error = %e, "the saved rollup state is unreadable; starting over");
                analysis::RedAggregator::default()
            }
        };
        let mut aggregate = Aggregate {
            red,
            patterns: analysis::PatternCounts::default(),
            rum: rum::RumRollup::default(),
            drain: checkpoint.mark.drain,
            last: checkpoint.mark.position,
        };
        let mut marks: Vec<Mark> = replayed
            .marks
            .into_iter()
            .filter(|m| m.drain > checkpoint.mark.drain)
            .collect();
        marks.sort_by_key(|m| m.drain);
        marks.dedup_by_key(|m| m.drain);
        let mut items = replayed.items;
        items.sort_by_key(|(position, _, _)| *position);
        let (writes, drains) = (items.len(), marks.len());
        let mut marks = marks.into_iter().peekable();
        for (position, arrived, item) in items {
            // Drains ran between the writes they covered and the next: run them again there.
            while let Some(mark) = marks.next_if(|m| m.position < position) {
                aggregate.redo(&mark);
            }
            aggregate.take(position, arrived, item);
        }
        for mark in marks {
            aggregate.redo(&mark);
        }
        self.stats
            .recovered_writes
            .fetch_add(writes as u64, Ordering::Relaxed);
        self.stats
            .recovered_drains
            .fetch_add(drains as u64, Ordering::Relaxed);
        if writes > 0 || drains > 0 {
            tracing::info!(
                writes,
                drains,
                "rollups rebuilt from the stored writes after the last checkpoint"
            );
        }
        aggregate
    }

    /// Up to when the spans aggregated are complete.
    pub async fn completeness(&self) -> analysis::arrival::Completeness {
        let (reply, answer) = oneshot::channel();
        if self.send(Msg::Completeness { reply }).await
            && let Ok(c) = answer.await
        {
            return c;
        }
        analysis::arrival::Completeness {
            complete_to_unix_nano: model::now_unix_nano(),
            catching_up: Vec::new(),
        }
    }

    /// [`Rollups::flush`] for a reader that needs the rollups up to date: at most once a
    /// second (readers poll; a second's spans are in the next answer), or at once when
    /// browser events wait (the web questions have no other source). Either way a drain
    /// under way is waited for: its rows are neither in the aggregate nor in the store until
    /// it has stored them, and a reader in between would miss them.
    pub async fn flush_for_reader(&self, store: &Arc<Store>) {
        let due = match self.last_drain.lock() {
            Ok(last) => last.elapsed() >= std::time::Duration::from_secs(1),
            Err(_) => true,
        };
        let due = due || self.tap.browser_pending.load(Ordering::Relaxed);
        if due {
            self.flush(store, false).await;
        } else {
            drop(self.unstored.lock().await);
        }
    }

    /// Drains the aggregate and stores its rows (first those of an earlier drain the store
    /// refused). `all` settles everything (at shutdown).
    pub async fn flush(&self, store: &Arc<Store>, all: bool) {
        let mut unstored = self.unstored.lock().await;
        if let Ok(mut last) = self.last_drain.lock() {
            *last = std::time::Instant::now();
        }
        // Cleared before the drain is asked for: a write stored after this is either in the
        // drain or sets it again.
        self.tap.browser_pending.store(false, Ordering::Relaxed);
        loop {
            let retry = unstored.is_some();
            if !retry {
                let (reply, answer) = oneshot::channel();
                if !self.send(Msg::Drain { all, reply }).await {
                    return;
                }
                match answer.await {
                    Ok(d) => *unstored = Some(d),
                    Err(_) => return,
                }
                self.stats.drains.fetch_add(1, Ordering::Relaxed);
            }
            let Some(drained) = unstored.as_ref() else {
                return;
            };
            // A copy goes to the store: a refused write keeps the rows for the next flush.
            if let Err(e) = store
                .append_derived(Batch::Metrics(drained.rows.clone()))
                .await
            {
                self.stats
                    .drain_write_failures
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, "could not store the rollups, will retry");
                return;
            }
            if let Some(drained) = unstored.take()
                && let Some(state) = drained.state
            {
                // File writes and fsyncs: off the async threads.
                let (dir, mark, store) = (self.dir.clone(), drained.mark, Arc::clone(store));
                let saved = tokio::task::spawn_blocking(move || save(&dir, &mark, &state, &store))
                    .await
                    .map_err(|e| anyhow::anyhow!("checkpoint task failed: {e}"))
                    .and_then(|r| r);
                match saved {
                    Ok(()) => self.stats.checkpoints.fetch_add(1, Ordering::Relaxed),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not save the rollup state");
                        self.stats
                            .checkpoint_failures
                            .fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
            if !retry {
                return;
            }
        }
    }

    async fn send(&self, msg: Msg) -> bool {
        let tx = self.tx.clone();
        matches!(
            tokio::task::spawn_blocking(move || tx.send(msg).is_ok()).await,
            Ok(true)
        )
    }
}

/// Saves the state a stored drain left, then lets the store forget the WAL before it.
fn save(dir: &Path, mark: &Mark, state: &[u8], store: &Store) -> anyhow::Result<()> {
    write_checkpoint(dir, mark, state)?;
    store.keep_wal_from(mark.position)?;
    Ok(())
}

fn poisoned<T>(_: T) -> anyhow::Error {
    anyhow::anyhow!("rollup state lock poisoned")
}

/// The aggregate, owned by the aggregator thread.
struct Aggregate {
    red: analysis::RedAggregator,
    patterns: analysis::PatternCounts,
    rum: rum::RumRollup,
    /// The last drain's number.
    drain: u64,
    /// The newest write aggregated.
    last: Position,
}

impl Aggregate {
    fn fresh(mark: Mark) -> Aggregate {
        Aggregate {
            red: analysis::RedAggregator::default(),
            patterns: analysis::PatternCounts::default(),
            rum: rum::RumRollup::default(),
            drain: mark.drain,
            last: mark.position,
        }
    }

    fn run(mut self, rx: Receiver<Msg>) {
        while let Ok(msg) = rx.recv() {
            match msg {
                Msg::Stored {
                    position,
                    arrived,
                    item,
                } => self.take(position, arrived, item),
                Msg::Drain { all, reply } => {
                    let _ = reply.send(self.drain(all, model::now_unix_nano()));
                }
                Msg::Completeness { reply } => {
                    let _ = reply.send(self.red.completeness());
                }
            }
        }
    }

    fn take(&mut self, position: Position, arrived: i64, item: Item) {
        match item {
            Item::Spans(rows) => {
                self.rum.observe_spans(&rows);
                self.red.observe_at(&rows, arrived);
            }
            Item::Logs(counts, browser) => {
                if let Some(counts) = counts {
                    self.patterns.merge(counts);
                }
                self.rum.observe_logs(&browser);
            }
        }
        self.last = self.last.max(position);
    }

    fn drain(&mut self, all: bool, at: i64) -> Drained {
        self.drain += 1;
        let mark = Mark {
            drain: self.drain,
            position: self.last,
            at,
            all,
        };
        let mut rows = self.red.drain_at(all, at);
        rows.extend(self.patterns.drain());
        rows.extend(self.rum.drain());
        rows.push(mark_row(&mark));
        let state = (all || mark.drain.is_multiple_of(CHECKPOINT_EVERY)).then(|| self.red.save());
        Drained { mark, rows, state }
    }

    /// A drain that ran before a crash, run again: its rows are stored already.
    fn redo(&mut self, mark: &Mark) {
        let _ = self.red.drain_at(mark.all, mark.at);
        let _ = self.patterns.drain();
        let _ = self.rum.drain();
        self.drain = self.drain.max(mark.drain);
        self.last = self.last.max(mark.position);
    }
}

fn mark_row(mark: &Mark) -> MetricPointRow {
    MetricPointRow {
        time_unix_nano: mark.at,
        start_time_unix_nano: mark.at,
        metric_name: DRAIN_METRIC.to_string(),
        metric_type: "gauge".to_string(),
        unit: "1".to_string(),
        description: "a drain of the rollups: its number and the WAL position it covers".into(),
        metric_metadata: "{}".to_string(),
        resource: model::Resource {
            service_name: "redscope".into(),
            resource_attributes: r#"{"service.name":"redscope"}"#.into(),
            ..model::Resource::default()
        },
        attributes: serde_json::to_string(mark).unwrap_or_default(),
        value: Some(mark.drain as f64),
        exemplars: "[]".to_string(),
        ..MetricPointRow::default()
    }
}

/// The checkpoint file: the mark as a JSON line, then the aggregator's state.
fn write_checkpoint(dir: &Path, mark: &Mark, state: &[u8]) -> anyhow::Result<()> {
    let mut bytes = serde_json::to_vec(mark)?;
    bytes.push(b'\n');
    bytes.extend_from_slice(state);
    let tmp = dir.join("checkpoint.tmp");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(CHECKPOINT_FILE))?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

fn read_checkpoint(dir: &Path) -> Option<Checkpoint> {
    let bytes = std::fs::read(dir.join(CHECKPOINT_FILE)).ok()?;
    let split = bytes.iter().position(|b| *b == b'\n')?;
    match serde_json::from_slice::<Mark>(&bytes[..split]) {
        Ok(mark) => Some(Checkpoint {
            mark,
            state: bytes[split + 1..].to_vec(),
        }),
        Err(e) => {
            tracing::error!(error = %e, "the rollup checkpoint is unreadable; starting over");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, AsArray};
    use model::{Batch, Signal, SpanRow};

    use super::Rollups;

    /// Rows of `metric` the store holds in memory (nothing is flushed to files here).
    fn stored_rows(store: &storage::Store, metric: &str) -> usize {
        let snapshot = store.snapshot(Signal::Metrics, None, None);
        assert!(snapshot.files.is_empty(), "nothing flushed to files yet");
        snapshot
            .mem
            .iter()
            .map(|b| {
                let names = b.column_by_name("metric_name").unwrap().as_string::<i32>();
                (0..b.num_rows())
                    .filter(|&i| names.is_valid(i) && names.value(i) == metric)
                    .count()
            })
            .sum()
    }

    fn server_span(i: u64) -> SpanRow {
        let now = model::now_unix_nano();
        let mut span = SpanRow {
            trace_id: format!("{i:032x}"),
            span_id: format!("{i:016x}"),
            name: "GET /items".into(),
            kind: "SERVER".into(),
            start_time_unix_nano: now - 5_000_000,
            end_time_unix_nano: now,
            duration_ns: 5_000_000,
            ..SpanRow::default()
        };
        span.resource.service_name = "items".into();
        span
    }

    /// A reader that comes while a drain is storing its rows (within a second of it, so it
    /// does not drain itself) waits for them: they are in neither the aggregate nor the store
    /// until then.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_reader_during_a_drain_sees_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let rollups = Arc::new(Rollups::new(dir.path()).unwrap());
        let store = Arc::new(
            storage::Store::open_with_tap(
                storage::StoreConfig::new(dir.path()),
                Some(rollups.tap()),
            )
            .unwrap(),
        );
        rollups.start(&store).unwrap();
        for round in 0..10u64 {
            let before = stored_rows(&store, analysis::RED_METRIC);
            store
                .append(Batch::Spans(vec![server_span(round)]))
                .await
                .unwrap();
            let asked = *rollups.last_drain.lock().unwrap();
            let drain = tokio::spawn({
                let (rollups, store) = (Arc::clone(&rollups), Arc::clone(&store));
                async move { rollups.flush(&store, false).await }
            });
            // The drain has begun once it noted when.
            while *rollups.last_drain.lock().unwrap() == asked {
                tokio::task::yield_now().await;
            }
            rollups.flush_for_reader(&store).await;
            assert!(
                stored_rows(&store, analysis::RED_METRIC) > before,
                "round {round}: the drain's RED rows were not stored when the reader read"
            );
            drain.await.unwrap();
        }
    }
}
