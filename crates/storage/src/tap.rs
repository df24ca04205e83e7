//! What is derived from stored rows (RED, service-map and pattern rollups) is told of every
//! write once it is durable, in WAL order, and after a crash is handed the WAL frames it asked
//! the store to keep, so that it can rebuild what it had not saved yet from exactly what was
//! stored: never from a refused write, never twice.

use std::any::Any;

use model::Signal;

use crate::wal::Position;

/// A value the writer of a batch attaches for the tap (for example counts computed while the
/// rows were converted), handed over with the write once it is durable.
pub type Note = Box<dyn Any + Send>;

/// A durable write.
pub struct Durable {
    pub position: Position,
    /// When the write was received (unix ns).
    pub arrived: i64,
    pub signal: Signal,
    /// The rows, when [`Tap::wants_rows`] of their signal.
    pub rows: Option<model::Batch>,
    pub note: Option<Note>,
}

/// Told every durable write. Installed with [`crate::Store::open_with_tap`].
pub trait Tap: Send + Sync + 'static {
    /// Whether the rows of writes of `signal` are handed to [`Tap::stored`] (they are moved,
    /// not copied; others are dropped once written).
    fn wants_rows(&self, signal: Signal) -> bool;

    /// A write is durable. Called on the WAL writer thread in WAL order, before the write is
    /// acknowledged: keep it short (hand the work to another thread).
    fn stored(&self, write: Durable);

    /// While the store opens: a frame of the WAL kept for the tap (see
    /// [`crate::Store::keep_wal_from`]), in WAL order, before any [`Tap::stored`].
    fn replayed(&self, frame: crate::wal::Frame);
}
