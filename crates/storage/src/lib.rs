//! Embedded storage of redscope: a write-ahead log with group commit, an in-memory table that
//! is queryable at once, and immutable Parquet files per signal and hour, compacted in the
//! background and dropped at their retention. DataFusion reads it through [`SignalTable`].
//!
//! - [`Store`]: open, append (returns once durable), snapshot for readers, flush.
//! - [`StoreConfig`]: where and how (thresholds, retention, fsync).
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
mod maintenance;
pub mod schema;
mod table;
pub mod tid;
pub mod wal;

pub use engine::{Snapshot, Store, StoreConfig, StoreStats};
pub use table::{SignalTable, time_bounds_of};

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
    #[error("storage is shut down")]
    Closed,
}
