//! What a flush writes: a [`FlushFilter`] chooses, when the memory table is written to files,
//! which of its rows go to them. Rows it leaves out were durable in the WAL, told to the tap
//! and queryable from memory until then; afterwards they are gone, counted in
//! `rows_filtered`. It serves tail sampling, which can judge a trace once its spans are in.

use arrow::array::RecordBatch;
use model::Signal;

/// Rows kept shorter than their signal's retention (per-rule retention): the store's upkeep
/// reads its files whose oldest rows a rule may have outlived, and writes them again without
/// the rows [`RowExpiry::expire`] leaves out (counted in `rows_expired`).
pub trait RowExpiry: Send + Sync {
    /// How long the rules of `signal` keep rows (nanoseconds); empty when none.
    fn keeps_ns(&self, signal: Signal) -> Vec<i64>;
    /// Changes with the rules: a file judged under other rules is judged again.
    fn version(&self) -> u64;
    /// `batch` without the rows past their keep at `now_ns`; `None` when none is.
    fn expire(&self, signal: Signal, batch: &RecordBatch, now_ns: i64) -> Option<RecordBatch>;
}

pub trait FlushFilter: Send + Sync {
    /// What of `batch` (one signal's rows of a flush, sorted) is written: some of its rows in
    /// their order, possibly with values changed (a sampling rate noted); `None` writes all.
    /// A batch of another schema is ignored (every row is written).
    fn keep(&self, signal: Signal, batch: &RecordBatch) -> Option<RecordBatch>;
}
