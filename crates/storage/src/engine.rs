//! The write path (group commit → memtable → flush to Parquet) and recovery.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use model::Signal;
use tokio::sync::oneshot;

use crate::files::{self, FileEntry};
use crate::tap::{Durable, Note, Tap};
use crate::wal::{self, Position, Segment};
use crate::{StorageError, maintenance, schema};

/// How the embedded store behaves. Every field has a default.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub data_dir: PathBuf,
    /// fsync the WAL before acknowledging (turning it off trades durability for speed).
    pub fsync: bool,
    /// Flush the memtable when one signal holds this many rows...
    pub flush_rows: usize,
    /// ...or all signals together hold this many bytes...
    pub flush_bytes: usize,
    /// ...or the oldest unflushed row is this old.
    pub flush_interval: Duration,
    /// Memory held by unflushed data beyond which appends are refused as overload.
    pub max_memtable_bytes: usize,
    /// How long each signal is kept.
    pub retention: [Duration; 3],
    /// How often compaction and retention run.
    pub maintenance_interval: Duration,
    /// Files smaller than this are merged with their neighbours of the same hour (of the
    /// same day, for hours older than a day).
    pub compaction_small_file_bytes: u64,
    /// Retention never deletes a file written less than this long ago, whatever its rows'
    /// times: a record is never gone minutes after it was acknowledged.
    pub retention_grace: Duration,
}

impl StoreConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        StoreConfig {
            data_dir: data_dir.into(),
            fsync: true,
            flush_rows: 500_000,
            flush_bytes: 64 << 20,
            flush_interval: Duration::from_secs(60),
            max_memtable_bytes: 192 << 20,
            retention: [Duration::from_secs(7 * 86_400); 3],
            maintenance_interval: Duration::from_secs(30),
            compaction_small_file_bytes: 32 << 20,
            retention_grace: Duration::from_secs(15 * 60),
        }
    }

    pub fn retention_of(&self, signal: Signal) -> Duration {
        self.retention[signal_index(signal)]
    }
}

pub(crate) fn signal_index(signal: Signal) -> usize {
    match signal {
        Signal::Spans => 0,
        Signal::Logs => 1,
        Signal::Metrics => 2,
    }
}

/// Counters of the store.
#[derive(Debug, Default)]
pub struct StoreStats {
    pub wal_groups: AtomicU64,
    pub wal_bytes: AtomicU64,
    pub rows_appended: AtomicU64,
    pub flushes: AtomicU64,
    pub files_written: AtomicU64,
    pub compactions: AtomicU64,
    pub files_expired: AtomicU64,
    pub rows_replayed: AtomicU64,
    pub flush_errors: AtomicU64,
    /// Rows a flush filter left out of the files (see [`crate::keep`]).
    pub rows_filtered: AtomicU64,
    /// Rows the upkeep removed from files past their rule's keep (see [`crate::keep::RowExpiry`]).
    pub rows_expired: AtomicU64,
}

#[derive(Default)]
pub(crate) struct MemSet {
    pub batches: [Vec<RecordBatch>; 3],
    pub rows: [usize; 3],
    pub bytes: usize,
    pub oldest: Option<Instant>,
}

impl MemSet {
    fn push(&mut self, signal: Signal, batch: RecordBatch) {
        let i = signal_index(signal);
        self.rows[i] += batch.num_rows();
        self.bytes += crate::memsize::batch_memory(&batch);
        self.batches[i].push(batch);
        self.oldest.get_or_insert_with(Instant::now);
    }

    fn is_empty(&self) -> bool {
        self.rows.iter().all(|r| *r == 0)
    }
}

pub(crate) struct State {
    pub active: MemSet,
    pub frozen: Vec<Arc<MemSet>>,
    pub files: Vec<FileEntry>,
}

pub(crate) struct Shared {
    pub config: StoreConfig,
    pub state: RwLock<State>,
    pub stats: StoreStats,
    pub next_seq: AtomicU64,
    /// Files replaced by compaction, deleted once readers can no longer be using them.
    pub pending_deletes: Mutex<Vec<(Instant, PathBuf)>>,
    /// In-memory bytes per row of each signal, as last seen at a flush: sizes compactions.
    pub row_bytes: [AtomicU64; 3],
    /// Told every durable write (see [`crate::tap`]).
    pub tap: Option<Arc<dyn Tap>>,
    /// WAL segments from this id on are kept for the tap even once flushed.
    pub keep_from: AtomicU64,
    /// Which rows a flush writes (see [`crate::keep`]).
    pub flush_filter: RwLock<Option<Arc<dyn crate::keep::FlushFilter>>>,
    /// Which stored rows outlived their rule (see [`crate::keep::RowExpiry`]).
    pub row_expiry: RwLock<Option<Arc<dyn crate::keep::RowExpiry>>>,
    /// Files judged by the row expiry: under which version of it, and when.
    pub judged: Mutex<std::collections::HashMap<PathBuf, (u64, i64)>>,
}

impl Shared {
    pub fn root(&self) -> &Path {
        &self.config.data_dir
    }
}

/// What readers see at one moment: the files overlapping a time range and the memtable.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub files: Vec<FileEntry>,
    pub mem: Vec<RecordBatch>,
}

/// Why the writer could not make an append durable (sent to every waiting append).
#[derive(Debug, Clone)]
struct WriteFailure {
    disk_full: bool,
    message: String,
}

impl WriteFailure {
    fn of(e: &StorageError) -> WriteFailure {
        let message = match e {
            StorageError::DiskFull(detail) => detail.clone(),
            other => other.to_string(),
        };
        WriteFailure {
            disk_full: e.is_disk_full(),
            message,
        }
    }

    fn into_error(self) -> StorageError {
        if self.disk_full {
            StorageError::DiskFull(self.message)
        } else {
            StorageError::Io(std::io::Error::other(self.message))
        }
    }
}

enum WriterMsg {
    Append {
        signal: Signal,
        batch: RecordBatch,
        frame: Vec<u8>,
        arrived: i64,
        /// For the tap: the rows (when it wants them) and the writer's note.
        rows: Option<model::Batch>,
        note: Option<Note>,
        ack: oneshot::Sender<Result<(), WriteFailure>>,
    },
    Flush {
        done: oneshot::Sender<()>,
    },
}

struct FlushJob {
    mem: Arc<MemSet>,
    /// Segments with ids below this are covered by `mem`.
    cutoff: u64,
    done: Vec<oneshot::Sender<()>>,
}

/// The embedded store. Dropping it stops its threads; unflushed data stays in the WAL.
pub struct Store {
    shared: Arc<Shared>,
    tx: Option<SyncSender<WriterMsg>>,
    threads: Vec<std::thread::JoinHandle<()>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

const WAL_DIR: &str = "wal";
const CHECKPOINT: &str = "checkpoint";
/// The first WAL segment kept for the tap (see [`Store::keep_wal_from`]).
const KEEP: &str = "keep";

impl Store {
    /// Opens (or creates) the store, replays the WAL and starts the background threads.
    pub fn open(config: StoreConfig) -> Result<Store, StorageError> {
        Self::open_with_tap(config, None)
    }

    /// [`Store::open`], telling `tap` every durable write; while opening, the tap is first
    /// handed the frames of the WAL segments kept for it.
    pub fn open_with_tap(
        config: StoreConfig,
        tap: Option<Arc<dyn Tap>>,
    ) -> Result<Store, StorageError> {
        let root = config.data_dir.clone();
        let wal_dir = root.join(WAL_DIR);
        std::fs::create_dir_all(&wal_dir)?;
        for signal in Signal::ALL {
            std::fs::create_dir_all(root.join(signal.table_name()))?;
        }
        let mut files = Vec::new();
        for signal in Signal::ALL {
            files.extend(files::scan_dir(&root, signal)?);
        }
        maintenance::finish_interrupted_compactions(&mut files)?;
        let max_seq = files.iter().map(|f| f.seq).max().unwrap_or(0);

        // Replay the WAL segments not yet covered by Parquet files.
        let checkpoint = settle_unconfirmed_flushes(&mut files, &wal_dir)?;
        let mut active = MemSet::default();
        let stats = StoreStats::default();
        let segments = wal::list_segments(&wal_dir)?;
        let keep_from = match &tap {
            Some(_) => read_keep(&wal_dir).unwrap_or(checkpoint),
            None => u64::MAX,
        };
        for id in &segments {
            let for_tap = tap.as_ref().filter(|_| *id >= keep_from);
            if *id < checkpoint {
                if let Some(tap) = for_tap {
                    // Flushed already: only the tap reads it again.
                    wal::replay_segment(&wal_dir, *id, |frame| tap.replayed(frame))?;
                } else {
                    let _ = std::fs::remove_file(wal::segment_path(&wal_dir, *id));
                }
                continue;
            }
            let replay = wal::replay_segment(&wal_dir, *id, |frame| {
                active.push(frame.signal, frame.batch.clone());
                if let Some(tap) = for_tap {
                    tap.replayed(frame);
                }
            })?;
            stats
                .rows_replayed
                .fetch_add(replay.rows, Ordering::Relaxed);
            if replay.torn {
                tracing::warn!(
                    segment = id,
                    frames = replay.frames,
                    "wal segment ends in a torn frame; kept what was intact"
                );
            }
        }
        let first_segment = segments.last().map_or(checkpoint.max(1), |s| s + 1);
        let segment = Segment::create(&wal_dir, first_segment)?;
        tracing::info!(
            rows = stats.rows_replayed.load(Ordering::Relaxed),
            files = files.len(),
            "store opened"
        );

        let shared = Arc::new(Shared {
            config,
            state: RwLock::new(State {
                active,
                frozen: Vec::new(),
                files,
            }),
            stats,
            next_seq: AtomicU64::new(max_seq + 1),
            pending_deletes: Mutex::new(Vec::new()),
            row_bytes: std::array::from_fn(|_| AtomicU64::new(1024)),
            tap,
            keep_from: AtomicU64::new(keep_from),
            flush_filter: RwLock::new(None),
            row_expiry: RwLock::new(None),
            judged: Mutex::new(std::collections::HashMap::new()),
        });
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::sync_channel::<WriterMsg>(4096);
        let (flush_tx, flush_rx) = std::sync::mpsc::channel::<FlushJob>();
        let mut threads = Vec::new();
        let writer_shared = Arc::clone(&shared);
        threads.push(
            std::thread::Builder::new()
                .name("redscope-wal".into())
                .spawn(move || writer_loop(&writer_shared, rx, segment, flush_tx))?,
        );
        let flusher_shared = Arc::clone(&shared);
        threads.push(
            std::thread::Builder::new()
                .name("redscope-flush".into())
                .spawn(move || flusher_loop(&flusher_shared, flush_rx))?,
        );
        let maint_shared = Arc::clone(&shared);
        let maint_stop = Arc::clone(&stop);
        threads.push(
            std::thread::Builder::new()
                .name("redscope-compact".into())
                .spawn(move || {
                    lower_priority();
                    maintenance::run(&maint_shared, &maint_stop)
                })?,
        );
        Ok(Store {
            shared,
            tx: Some(tx),
            threads,
            stop,
        })
    }

    /// Appends rows; returns once they are in the WAL (fsynced) and visible to readers.
    pub async fn append(&self, batch: model::Batch) -> Result<(), StorageError> {
        self.append_with(batch, None).await
    }

    /// [`Store::append`] with a note for the tap, handed over with the rows once they are
    /// durable (what is derived from them is derived from what was stored, never from a
    /// refused write).
    pub async fn append_with(
        &self,
        batch: model::Batch,
        note: Option<Note>,
    ) -> Result<(), StorageError> {
        self.write(batch, note, true).await
    }

    /// [`Store::append`] for the few rows a server derives itself (rollups): never refused for
    /// the memtable limit, so that clients saturating ingest cannot hold them back (and with
    /// them the checkpoint that lets the WAL go).
    pub async fn append_derived(&self, batch: model::Batch) -> Result<(), StorageError> {
        self.write(batch, None, false).await
    }

    async fn write(
        &self,
        batch: model::Batch,
        note: Option<Note>,
        bounded: bool,
    ) -> Result<(), StorageError> {
        // An empty batch is written only for its note (the counts of records the pipeline's
        // rules kept out of the store): the tap is told in WAL order like any write.
        if batch.is_empty() && note.is_none() {
            return Ok(());
        }
        let signal = batch.signal();
        let mem_bytes = self.memtable_bytes();
        if bounded && mem_bytes > self.shared.config.max_memtable_bytes {
            return Err(StorageError::Overloaded(format!(
                "{mem_bytes} bytes wait to be flushed (limit {})",
                self.shared.config.max_memtable_bytes
            )));
        }
        let arrived = model::now_unix_nano();
        let wants_rows = self
            .shared
            .tap
            .as_ref()
            .is_some_and(|t| t.wants_rows(signal));
        let (record_batch, frame, rows) =
            tokio::task::spawn_blocking(move || -> Result<_, StorageError> {
                let rb = schema::to_record_batch(&batch)?;
                let frame = wal::encode_frame(signal, arrived, &rb)?;
                Ok((rb, frame, wants_rows.then_some(batch)))
            })
            .await
            .map_err(|e| StorageError::Encode(e.to_string()))??;
        let (ack, done) = oneshot::channel();
        let tx = self.tx.as_ref().ok_or(StorageError::Closed)?;
        match tx.try_send(WriterMsg::Append {
            signal,
            batch: record_batch,
            frame,
            arrived,
            rows,
            note,
            ack,
        }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(StorageError::Overloaded("write queue is full".into()));
            }
            Err(TrySendError::Disconnected(_)) => return Err(StorageError::Closed),
        }
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(failure)) => Err(failure.into_error()),
            Err(_) => Err(StorageError::Closed),
        }
    }

    /// Sets what chooses the rows flushes write to files (see [`crate::keep`]).
    pub fn set_flush_filter(&self, filter: Option<Arc<dyn crate::keep::FlushFilter>>) {
        if let Ok(mut f) = self.shared.flush_filter.write() {
            *f = filter;
        }
    }

    /// Sets what judges stored rows against their rule's keep (see [`crate::keep::RowExpiry`]).
    pub fn set_row_expiry(&self, expiry: Option<Arc<dyn crate::keep::RowExpiry>>) {
        if let Ok(mut e) = self.shared.row_expiry.write() {
            *e = expiry;
        }
    }

    /// Flushes everything in memory to Parquet and waits for it.
    pub async fn flush(&self) -> Result<(), StorageError> {
        let (done, wait) = oneshot::channel();
        let tx = self.tx.as_ref().ok_or(StorageError::Closed)?.clone();
        let sent = tokio::task::spawn_blocking(move || tx.send(WriterMsg::Flush { done }).is_ok())
            .await
            .map_err(|_| StorageError::Closed)?;
        if !sent {
            return Err(StorageError::Closed);
        }
        wait.await.map_err(|_| StorageError::Closed)
    }

    /// Bytes held in memory by data not yet in Parquet.
    /// Keeps the WAL from `position` on, even once flushed, for the tap to be handed again
    /// after a crash (it saved what it derived up to there). Durable when this returns.
    pub fn keep_wal_from(&self, position: Position) -> Result<(), StorageError> {
        let wal_dir = self.shared.root().join(WAL_DIR);
        let tmp = wal_dir.join("keep.tmp");
        std::fs::write(&tmp, position.segment.to_string())?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, wal_dir.join(KEEP))?;
        wal::sync_dir(&wal_dir)?;
        self.shared
            .keep_from
            .store(position.segment, Ordering::Relaxed);
        Ok(())
    }

    pub fn memtable_bytes(&self) -> usize {
        self.shared
            .state
            .read()
            .map(|s| s.active.bytes + s.frozen.iter().map(|f| f.bytes).sum::<usize>())
            .unwrap_or(0)
    }

    /// Files overlapping `[lo, hi]` (inclusive, unix ns) and all in-memory batches of a signal.
    pub fn snapshot(&self, signal: Signal, lo: Option<i64>, hi: Option<i64>) -> Snapshot {
        snapshot(&self.shared, signal, lo, hi)
    }

    pub fn stats(&self) -> &StoreStats {
        &self.shared.stats
    }

    pub fn config(&self) -> &StoreConfig {
        &self.shared.config
    }

    /// Bytes and rows on disk per signal.
    pub fn disk_usage(&self) -> Vec<(Signal, u64, u64, usize)> {
        let Ok(state) = self.shared.state.read() else {
            return Vec::new();
        };
        Signal::ALL
            .iter()
            .map(|s| {
                let files: Vec<&FileEntry> =
                    state.files.iter().filter(|f| f.signal == *s).collect();
                (
                    *s,
                    files.iter().map(|f| f.bytes).sum(),
                    files.iter().map(|f| f.rows).sum(),
                    files.len(),
                )
            })
            .collect()
    }

    /// Runs compaction and retention once, now.
    pub fn run_maintenance(&self) {
        maintenance::run_once(&self.shared);
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.tx.take();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Compaction and retention are background work: on a busy machine, queries and ingest come
/// first (nice 10 for the calling thread; on Linux the nice value is per thread).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::setpriority_process(None, 10) {
        tracing::debug!(error = %e, "compaction priority");
    }
}

pub(crate) fn snapshot(
    shared: &Shared,
    signal: Signal,
    lo: Option<i64>,
    hi: Option<i64>,
) -> Snapshot {
    let Ok(state) = shared.state.read() else {
        return Snapshot::default();
    };
    let i = signal_index(signal);
    let files = state
        .files
        .iter()
        .filter(|f| f.signal == signal)
        .filter(|f| lo.is_none_or(|lo| f.max_time >= lo) && hi.is_none_or(|hi| f.min_time <= hi))
        .cloned()
        .collect();
    let mut mem: Vec<RecordBatch> = state.active.batches[i].clone();
    for f in &state.frozen {
        mem.extend(f.batches[i].iter().cloned());
    }
    Snapshot { files, mem }
}

/// Files flushed after the last checkpoint (a crash came before it was written): a complete
/// flush moves the checkpoint past its WAL segments, so that they are not replayed on top of
/// its files; the files of an incomplete one are deleted, and the WAL replays their rows.
/// Returns the checkpoint to replay from.
fn settle_unconfirmed_flushes(
    files: &mut Vec<FileEntry>,
    wal_dir: &Path,
) -> Result<u64, StorageError> {
    let (mut checkpoint, max_seq) = read_checkpoint(wal_dir);
    let Some(max_seq) = max_seq else {
        return Ok(checkpoint);
    };
    let mut flushes: std::collections::BTreeMap<u64, (usize, Vec<PathBuf>)> = Default::default();
    for f in files.iter().filter(|f| !f.compacted && f.seq > max_seq) {
        if let Some((cutoff, total)) = files::flush_of(&f.path)? {
            let e = flushes.entry(cutoff).or_insert((total, Vec::new()));
            e.1.push(f.path.clone());
        }
    }
    let mut torn: std::collections::HashSet<PathBuf> = Default::default();
    let mut new_seq = max_seq;
    for (cutoff, (total, paths)) in flushes {
        if paths.len() == total && cutoff > checkpoint {
            checkpoint = cutoff;
            new_seq = new_seq.max(
                files
                    .iter()
                    .filter(|f| paths.contains(&f.path))
                    .map(|f| f.seq)
                    .max()
                    .unwrap_or(0),
            );
        } else if paths.len() != total {
            tracing::warn!(
                files = paths.len(),
                of = total,
                "removing the files of an interrupted flush; the wal has their rows"
            );
            torn.extend(paths);
        }
    }
    files::remove_from(files, &torn);
    write_checkpoint(wal_dir, checkpoint, new_seq)?;
    Ok(checkpoint)
}

/// The first WAL segment still needed and the highest file sequence number it accounts for
/// (absent in checkpoints of older versions).
/// An append waiting in the writer for its group to be written.
struct Pending {
    signal: Signal,
    batch: RecordBatch,
    arrived: i64,
    rows: Option<model::Batch>,
    note: Option<Note>,
    ack: oneshot::Sender<Result<(), WriteFailure>>,
}

fn read_keep(wal_dir: &Path) -> Option<u64> {
    std::fs::read_to_string(wal_dir.join(KEEP))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn read_checkpoint(wal_dir: &Path) -> (u64, Option<u64>) {
    let Ok(text) = std::fs::read_to_string(wal_dir.join(CHECKPOINT)) else {
        // No flush was ever confirmed: every flushed file is unconfirmed.
        return (0, Some(0));
    };
    let mut parts = text.split_whitespace();
    if parts.next() != Some("v1") {
        return (0, None);
    }
    let cutoff = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    (cutoff, parts.next().and_then(|n| n.parse().ok()))
}

fn write_checkpoint(wal_dir: &Path, cutoff: u64, max_seq: u64) -> Result<(), StorageError> {
    let tmp = wal_dir.join("checkpoint.tmp");
    std::fs::write(&tmp, format!("v1 {cutoff} {max_seq}\n"))?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, wal_dir.join(CHECKPOINT))?;
    wal::sync_dir(wal_dir)
}

const MAX_GROUP_BYTES: usize = 16 << 20;

fn writer_loop(
    shared: &Shared,
    rx: Receiver<WriterMsg>,
    mut segment: Segment,
    flush_tx: std::sync::mpsc::Sender<FlushJob>,
) {
    let wal_dir = shared.root().join(WAL_DIR);
    let mut buf: Vec<u8> = Vec::with_capacity(MAX_GROUP_BYTES);
    loop {
        let first = match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let mut appends = Vec::new();
        let mut flush_waiters = Vec::new();
        let mut next = first;
        while let Some(msg) = next.take() {
            match msg {
                WriterMsg::Append {
                    signal,
                    batch,
                    frame,
                    arrived,
                    rows,
                    note,
                    ack,
                } => {
                    buf.extend_from_slice(&frame);
                    appends.push(Pending {
                        signal,
                        batch,
                        arrived,
                        rows,
                        note,
                        ack,
                    });
                }
                WriterMsg::Flush { done } => flush_waiters.push(done),
            }
            if buf.len() < MAX_GROUP_BYTES {
                next = rx.try_recv().ok();
            }
        }
        if !appends.is_empty() {
            // Never after a torn frame: a segment whose failed write could not be cut back is
            // left for a new one, and while none can be started nothing is written.
            let count = u32::try_from(appends.len()).unwrap_or(u32::MAX);
            let result = match replace_poisoned(&mut segment, &wal_dir) {
                Ok(()) => {
                    let first = Position {
                        segment: segment.id,
                        frame: segment.frames,
                    };
                    segment
                        .append(&buf, count, shared.config.fsync)
                        .map(|()| first)
                }
                Err(e) => Err(e),
            };
            shared.stats.wal_groups.fetch_add(1, Ordering::Relaxed);
            shared
                .stats
                .wal_bytes
                .fetch_add(buf.len() as u64, Ordering::Relaxed);
            buf.clear();
            match result {
                Ok(first) => {
                    let mut done = Vec::with_capacity(appends.len());
                    {
                        // The data is durable now: acknowledge it even if a panic elsewhere
                        // poisoned the lock (the memtable holds plain appended batches).
                        let mut state = shared
                            .state
                            .write()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        for p in appends {
                            shared
                                .stats
                                .rows_appended
                                .fetch_add(p.batch.num_rows() as u64, Ordering::Relaxed);
                            if p.batch.num_rows() > 0 {
                                state.active.push(p.signal, p.batch);
                            }
                            done.push((p.signal, p.arrived, p.rows, p.note, p.ack));
                        }
                    }
                    for (i, (signal, arrived, rows, note, ack)) in done.into_iter().enumerate() {
                        if let Some(tap) = &shared.tap {
                            let position = Position {
                                segment: first.segment,
                                frame: first.frame + i as u32,
                            };
                            tap.stored(Durable {
                                position,
                                arrived,
                                signal,
                                rows,
                                note,
                            });
                        }
                        let _ = ack.send(Ok(()));
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "wal append failed");
                    let failure = WriteFailure::of(&e);
                    for p in appends {
                        let _ = p.ack.send(Err(failure.clone()));
                    }
                }
            }
        }
        let due = should_flush(shared);
        if due || !flush_waiters.is_empty() {
            let mem = {
                let Ok(mut state) = shared.state.write() else {
                    break;
                };
                let mem = Arc::new(std::mem::take(&mut state.active));
                if !mem.is_empty() {
                    state.frozen.push(Arc::clone(&mem));
                }
                mem
            };
            match Segment::create(&wal_dir, segment.id + 1) {
                Ok(s) => segment = s,
                Err(e) => tracing::error!(error = %e, "could not start a new wal segment"),
            }
            let _ = flush_tx.send(FlushJob {
                mem,
                cutoff: segment.id,
                done: flush_waiters,
            });
        }
    }
}

/// Starts a new segment in place of one that a failed write left unusable.
fn replace_poisoned(segment: &mut Segment, wal_dir: &Path) -> Result<(), StorageError> {
    if segment.is_poisoned() {
        *segment = Segment::create(wal_dir, segment.id + 1)?;
    }
    Ok(())
}

fn should_flush(shared: &Shared) -> bool {
    let Ok(state) = shared.state.read() else {
        return false;
    };
    let cfg = &shared.config;
    let active = &state.active;
    if active.is_empty() {
        return false;
    }
    active.rows.iter().any(|r| *r >= cfg.flush_rows)
        || active.bytes >= cfg.flush_bytes
        || active
            .oldest
            .is_some_and(|t| t.elapsed() >= cfg.flush_interval)
}

fn flusher_loop(shared: &Shared, rx: Receiver<FlushJob>) {
    let wal_dir = shared.root().join(WAL_DIR);
    while let Ok(job) = rx.recv() {
        // A flush that fails is retried until it succeeds: later checkpoints must never skip
        // over data that is only in this memtable and the WAL. Meanwhile appends back off
        // once the memtable limit is reached.
        let written = loop {
            match flush_all(shared, &job.mem, job.cutoff) {
                Ok(w) => break w,
                Err(e) => {
                    tracing::error!(error = %e, "flush failed; data stays in the wal, retrying");
                    shared.stats.flush_errors.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_secs(2));
                }
            }
        };
        shared.stats.flushes.fetch_add(1, Ordering::Relaxed);
        shared
            .stats
            .files_written
            .fetch_add(written.len() as u64, Ordering::Relaxed);
        // The checkpoint goes first: until it is written, a restart must be able to see this
        // flush's files as they were written (compaction only merges files in the catalog).
        let max_seq = written.iter().map(|f| f.seq).max().unwrap_or(0);
        let checkpointed = write_checkpoint(&wal_dir, job.cutoff, max_seq);
        if let Ok(mut state) = shared.state.write() {
            state.files.extend(written);
            state.frozen.retain(|f| !Arc::ptr_eq(f, &job.mem));
        }
        if let Err(e) = checkpointed {
            tracing::error!(error = %e, "could not write the wal checkpoint");
        } else if let Ok(ids) = wal::list_segments(&wal_dir) {
            let keep_from = shared.keep_from.load(Ordering::Relaxed);
            for id in ids
                .into_iter()
                .filter(|id| *id < job.cutoff && *id < keep_from)
            {
                let _ = std::fs::remove_file(wal::segment_path(&wal_dir, id));
            }
        }
        for done in job.done {
            let _ = done.send(());
        }
    }
}

/// Writes a frozen memtable as files, each tagged with the flush's WAL cutoff and file count so
/// that a restart can tell a complete flush (its WAL segments need no replay) from a torn one.
fn flush_all(shared: &Shared, mem: &MemSet, cutoff: u64) -> Result<Vec<FileEntry>, StorageError> {
    let mut parts = Vec::new();
    for signal in Signal::ALL {
        parts.extend(
            flush_parts(shared, signal, mem)?
                .into_iter()
                .map(|(hour, b)| (signal, hour, b)),
        );
    }
    let total = parts.len();
    let mut written = Vec::new();
    for (signal, hour, part) in parts {
        let seq = shared.next_seq.fetch_add(1, Ordering::Relaxed);
        match files::write_file(
            shared.root(),
            signal,
            hour,
            &part,
            seq,
            &[],
            Some((cutoff, total)),
        ) {
            Ok(f) => written.push(f),
            Err(e) => {
                // Files already written would duplicate rows when the flush is retried.
                for f in written {
                    let _ = crate::tid::remove_with_sidecar(&f.path);
                }
                return Err(e);
            }
        }
    }
    Ok(written)
}

/// A signal's rows of a frozen memtable, sorted and split by hour.
fn flush_parts(
    shared: &Shared,
    signal: Signal,
    mem: &MemSet,
) -> Result<Vec<(i64, RecordBatch)>, StorageError> {
    let batches = &mem.batches[signal_index(signal)];
    if batches.is_empty() {
        return Ok(Vec::new());
    }
    let schema = schema::schema(signal);
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let bytes: usize = batches.iter().map(crate::memsize::batch_memory).sum();
    if let Some(per_row) = bytes.checked_div(rows) {
        shared.row_bytes[signal_index(signal)].store(per_row.max(64) as u64, Ordering::Relaxed);
    }
    let sorted = files::sort_batches(signal, &schema, batches)?;
    let filter = shared.flush_filter.read().ok().and_then(|f| f.clone());
    let kept = match filter.and_then(|f| f.keep(signal, &sorted)) {
        Some(kept) if kept.schema() == sorted.schema() && kept.num_rows() <= sorted.num_rows() => {
            let left_out = sorted.num_rows() - kept.num_rows();
            shared
                .stats
                .rows_filtered
                .fetch_add(left_out as u64, Ordering::Relaxed);
            kept
        }
        _ => sorted,
    };
    if kept.num_rows() == 0 {
        return Ok(Vec::new());
    }
    files::split_by_hour(signal, &kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::HOUR_NS;

    fn point(t: i64) -> model::MetricPointRow {
        model::MetricPointRow {
            time_unix_nano: t,
            metric_name: "m".into(),
            ..Default::default()
        }
    }

    /// Compaction runs at a lower priority than the rest (queries, ingest, flushes).
    #[cfg(target_os = "linux")]
    #[test]
    fn compaction_runs_at_a_lower_priority() {
        let dir = tempfile::tempdir().unwrap();
        let _store = Store::open(StoreConfig::new(dir.path())).unwrap();
        let nice_of = |name: &str| -> Option<i64> {
            for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
                let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
                let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
                    continue;
                };
                if &stat[open + 1..close] == name {
                    // Fields after the name: state is the 3rd field, nice the 19th.
                    return stat[close + 2..].split(' ').nth(16)?.parse().ok();
                }
            }
            None
        };
        // The thread sets its priority when it starts.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while nice_of("redscope-compac") != Some(10) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(nice_of("redscope-compac"), Some(10));
        assert_eq!(nice_of("redscope-flush"), Some(0));
    }

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap().flatten() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }

    /// Rows of a signal as a reopened store sees them (files and replayed WAL).
    fn rows_after_restart(dir: &Path, signal: Signal) -> u64 {
        let store = Store::open(StoreConfig::new(dir)).unwrap();
        let snap = store.snapshot(signal, None, None);
        snap.files.iter().map(|f| f.rows).sum::<u64>()
            + snap.mem.iter().map(|b| b.num_rows() as u64).sum::<u64>()
    }

    /// A crash after a flush wrote its files but before the checkpoint: the WAL still holds the
    /// same rows. Each row must be there once, whether the flush was complete or torn.
    #[tokio::test]
    async fn a_crash_between_flush_and_checkpoint_keeps_each_row_once() {
        for torn in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let saved = tempfile::tempdir().unwrap();
            {
                let store = Store::open(StoreConfig::new(dir.path())).unwrap();
                store
                    .append(model::Batch::Metrics(vec![point(5), point(6), point(7)]))
                    .await
                    .unwrap();
                // Two hours: the flush writes two files.
                store
                    .append(model::Batch::Metrics(vec![point(HOUR_NS + 1)]))
                    .await
                    .unwrap();
                copy_dir(&dir.path().join(WAL_DIR), saved.path());
                store.flush().await.unwrap();
            }
            // Back to the WAL and checkpoint of before the flush, with its files in place.
            let wal = dir.path().join(WAL_DIR);
            std::fs::remove_dir_all(&wal).unwrap();
            copy_dir(saved.path(), &wal);
            if torn {
                let f = files::scan_dir(dir.path(), Signal::Metrics)
                    .unwrap()
                    .into_iter()
                    .find(|f| f.min_time > HOUR_NS)
                    .unwrap();
                std::fs::remove_file(&f.path).unwrap();
            }
            assert_eq!(
                rows_after_restart(dir.path(), Signal::Metrics),
                4,
                "torn: {torn}"
            );
            // And again: the settled state is stable.
            assert_eq!(
                rows_after_restart(dir.path(), Signal::Metrics),
                4,
                "torn: {torn}"
            );
        }
    }

    /// What a tap is told: every durable write in WAL order with its rows (when wanted) and
    /// note, and after a restart the kept WAL again, even the part already flushed.
    /// A durable write as recorded: position, signal, rows handed over, note.
    type Seen = (Position, Signal, usize, Option<u32>);

    #[derive(Default)]
    struct Recorder {
        stored: Mutex<Vec<Seen>>,
        replayed: Mutex<Vec<(Position, Signal, usize)>>,
    }

    impl Tap for Recorder {
        fn wants_rows(&self, signal: Signal) -> bool {
            signal == Signal::Spans
        }

        fn stored(&self, write: Durable) {
            let rows = write.rows.map_or(0, |b| b.len());
            let note = write
                .note
                .and_then(|n| n.downcast::<u32>().ok())
                .map(|n| *n);
            self.stored
                .lock()
                .unwrap()
                .push((write.position, write.signal, rows, note));
        }

        fn replayed(&self, frame: wal::Frame) {
            self.replayed.lock().unwrap().push((
                frame.position,
                frame.signal,
                frame.batch.num_rows(),
            ));
        }
    }

    #[tokio::test]
    async fn the_tap_sees_durable_writes_in_order_and_the_kept_wal_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let first = Arc::new(Recorder::default());
        {
            let store =
                Store::open_with_tap(StoreConfig::new(dir.path()), Some(first.clone())).unwrap();
            let spans = |n: usize| model::Batch::Spans(vec![model::SpanRow::default(); n]);
            store.append(spans(2)).await.unwrap();
            store
                .append_with(model::Batch::Metrics(vec![point(5)]), Some(Box::new(7u32)))
                .await
                .unwrap();
            let seen = first.stored.lock().unwrap().clone();
            assert_eq!(seen.len(), 2);
            assert!(seen[0].0 < seen[1].0, "in WAL order: {seen:?}");
            assert_eq!((seen[0].1, seen[0].2, seen[0].3), (Signal::Spans, 2, None));
            assert_eq!(
                (seen[1].1, seen[1].2, seen[1].3),
                (Signal::Metrics, 0, Some(7))
            );
            // Kept from the first write on, then flushed: the segment stays for the tap.
            store.keep_wal_from(seen[0].0).unwrap();
            store.flush().await.unwrap();
            store.append(spans(3)).await.unwrap();
        }
        let again = Arc::new(Recorder::default());
        let store =
            Store::open_with_tap(StoreConfig::new(dir.path()), Some(again.clone())).unwrap();
        let replayed = again.replayed.lock().unwrap().clone();
        let shape: Vec<(Signal, usize)> = replayed.iter().map(|r| (r.1, r.2)).collect();
        assert_eq!(
            shape,
            vec![(Signal::Spans, 2), (Signal::Metrics, 1), (Signal::Spans, 3)]
        );
        assert!(replayed.windows(2).all(|w| w[0].0 < w[1].0));
        // The flushed rows are not replayed into the table twice.
        assert_eq!(rows_after_restart_of(&store, Signal::Spans), 5);
        drop(store);
        // Once the tap no longer needs it, the flushed part goes at the next flush.
        let store = Store::open_with_tap(
            StoreConfig::new(dir.path()),
            Some(Arc::new(Recorder::default())),
        )
        .unwrap();
        store.keep_wal_from(replayed[2].0).unwrap();
        store.flush().await.unwrap();
        drop(store);
        let last = Arc::new(Recorder::default());
        let _store =
            Store::open_with_tap(StoreConfig::new(dir.path()), Some(last.clone())).unwrap();
        let left: Vec<usize> = last.replayed.lock().unwrap().iter().map(|r| r.2).collect();
        assert_eq!(left, vec![3], "only the kept segment is replayed");
    }

    fn rows_after_restart_of(store: &Store, signal: Signal) -> u64 {
        let snap = store.snapshot(signal, None, None);
        snap.files.iter().map(|f| f.rows).sum::<u64>()
            + snap.mem.iter().map(|b| b.num_rows() as u64).sum::<u64>()
    }
}
