//! The browser part of the rollups: per-minute parts of sessions, error groups and Web Vitals
//! (see `rum::rollup`), from every stored browser log record and span, drained with the RED
//! rows. Like the pattern counts, what a drain writes is only what arrived since the last one,
//! so nothing of it is saved with the checkpoint: after a crash the writes after it are
//! observed again and the drains run again. The one thing kept across drains, the last value
//! counted for each page view's vital (so that a value reported again replaces it), is not
//! saved either: a page view whose vital is reported again across a restart counts twice.

use arrow::array::RecordBatch;
use model::{Batch, LogRow, MetricPointRow, Signal, SpanRow};

/// The browser log records among stored rows (the others are dropped here, on the WAL
/// writer's thread: the test is a look at the event name and, for named records, the text).
pub(super) fn browser_logs(rows: Option<Batch>) -> Vec<LogRow> {
    match rows {
        Some(Batch::Logs(mut rows)) => {
            rows.retain(rum::rollup::events::is_browser_log);
            rows
        }
        _ => Vec::new(),
    }
}

/// The browser log records of a stored batch read back from the WAL.
pub(super) fn browser_logs_in(batch: &RecordBatch) -> Vec<LogRow> {
    match storage::schema::from_record_batch(Signal::Logs, batch) {
        Ok(rows) => browser_logs(Some(rows)),
        Err(e) => {
            tracing::warn!(error = %e, "could not read stored logs back for the browser rollups");
            Vec::new()
        }
    }
}

#[derive(Default)]
pub(super) struct RumRollup {
    minutes: rum::rollup::Minutes,
}

impl RumRollup {
    pub(super) fn observe_spans(&mut self, rows: &[SpanRow]) {
        for row in rows.iter().filter(|r| r.session_id.is_some()) {
            if let Some(e) = rum::rollup::events::from_span(row) {
                self.minutes.observe(&e);
            }
        }
    }

    pub(super) fn observe_logs(&mut self, rows: &[LogRow]) {
        for row in rows {
            if let Some(e) = rum::rollup::events::from_log(row) {
                self.minutes.observe(&e);
            }
        }
    }

    pub(super) fn drain(&mut self) -> Vec<MetricPointRow> {
        self.minutes.drain()
    }
}
