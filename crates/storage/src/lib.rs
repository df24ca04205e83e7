//! Embedded storage of redscope: a write-ahead log with group commit, an in-memory table that
//! is queryable at once, and immutable Parquet files per signal and hour, compacted in the
//! background and dropped at their retention. DataFusion reads it through [`SignalTable`].
//!
//! - [`Store`]: open, append (returns once durable), snapshot for readers, flush.
//! - [`StoreConfig`]: where and how (thresholds, retention, fsync).
//! - [`keep`]: which rows a flush writes to files (tail sampling).
//! - [`tap`]: what is derived from stored rows is told of every durable write, and handed
//!   the WAL again after a crash.
//! - [`schema`]: the Arrow schemas of the `spans`, `logs` and `metric_points` tables.
//!
//! ```no_run
//! # async fn run() -> Result<(), storage::StorageError> {
//! let store = storage::Store::open(storage::StoreConfig::new("./data"))?;
//! store.append(model::Batch::Logs(vec![model::LogRow::default()])).await?;
//! # Ok(()) }
//! ```

mod engine;
pub mod files;
pub mod keep;
mod maintenance;
mod memsize;
pub mod schema;
mod table;
pub mod tap;
pub mod tid;
pub mod wal;

pub use engine::{Snapshot, Store, StoreConfig, StoreStats};
pub use keep::{FlushFilter, RowExpiry};
pub use table::{SignalTable, time_bounds_of};
pub use tap::{Durable, Note, Tap};
pub use wal::Position;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("encode rows: {0}")]
    Encode(String),
    #[error("decode rows: {0}")]
    Decode(String),
    #[error("storage is busy: {0}")]
    Overloaded(String),
    /// The disk (or the user's quota) is full: nothing of the write was kept.
    #[error("disk full: {0}")]
    DiskFull(String),
    #[error("storage is shut down")]
    Closed,
}

impl StorageError {
    /// True when the error says the disk or a quota is full (ENOSPC, EDQUOT).
    pub fn is_disk_full(&self) -> bool {
        match self {
            StorageError::DiskFull(_) => true,
            StorageError::Io(e) => is_disk_full_io(e),
            _ => false,
        }
    }
}

/// ENOSPC or EDQUOT, however the error reached us.
pub(crate) fn is_disk_full_io(e: &std::io::Error) -> bool {
    const ENOSPC: i32 = 28;
    const EDQUOT: i32 = 122;
    e.kind() == std::io::ErrorKind::StorageFull
        || e.kind() == std::io::ErrorKind::QuotaExceeded
        || matches!(e.raw_os_error(), Some(ENOSPC | EDQUOT))
}
