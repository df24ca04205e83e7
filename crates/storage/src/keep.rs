//! What a flush writes: a [`FlushFilter`] chooses, when the memory table is written to files,
//! which of its rows go to them. Rows it leaves out were durable in the WAL, told to the tap
//! and queryable from memory until then; afterwards they are gone, counted in
//! `rows_filtered`. It serves tail sampling, which can judge a trace once its spans are in.

use arrow::array::RecordBatch;
use model::Signal;

pub trait FlushFilter: Send + Sync {
    /// What of `batch` (one signal's rows of a flush, sorted) is written: some of its rows in
    /// their order, possibly with values changed (a sampling rate noted); `None` writes all.
    /// A batch of another schema is ignored (every row is written).
    fn keep(&self, signal: Signal, batch: &RecordBatch) -> Option<RecordBatch>;
}
