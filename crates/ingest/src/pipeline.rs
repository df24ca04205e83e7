//! The protocol-independent part of ingest.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use model::{Batch, LogRow, MetricPointRow};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use tokio::sync::Semaphore;

use crate::bounds::{self, AdjustedCounters, RecordLimits};
use crate::convert::{self, Converted};

/// Where accepted rows go. `write` returns once the rows are durable. `patterns` are the
/// template counts of a log batch's records (when the pipeline counts them): the sink hands
/// them on with the rows, so that what is derived from the rows is derived from what was stored.
#[async_trait::async_trait]
pub trait Sink: Send + Sync + 'static {
    async fn write(
        &self,
        batch: Batch,
        patterns: Option<analysis::PatternCounts>,
    ) -> Result<(), SinkError>;
}

/// Enriches log rows before they are written (Log AI plugs in here).
pub trait LogProcessor: Send + Sync + 'static {
    fn process(&self, rows: &mut [LogRow]);
}

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("storage is busy, retry in {retry_after_secs}s")]
    Overloaded { retry_after_secs: u64 },
    /// The disk is full: nothing of the write was kept; retrying after space is freed works.
    #[error("disk full: {0}")]
    DiskFull(String),
    #[error("storage failed: {0}")]
    Failed(String),
}

/// Why a request was refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{0}")]
    BadRequest(String),
    #[error("request body exceeds {limit} bytes{what}")]
    TooLarge { limit: usize, what: &'static str },
    #[error("unsupported {0}")]
    Unsupported(String),
    /// The body did not arrive in time (a stalled or trickling client).
    #[error("request body not received within {secs}s")]
    TimedOut { secs: u64 },
    #[error("server is overloaded, retry in {retry_after_secs}s")]
    Overloaded { retry_after_secs: u64 },
    #[error("disk full, retry in {retry_after_secs}s")]
    DiskFull { retry_after_secs: u64 },
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<SinkError> for IngestError {
    fn from(e: SinkError) -> Self {
        match e {
            SinkError::Overloaded { retry_after_secs } => {
                IngestError::Overloaded { retry_after_secs }
            }
            SinkError::DiskFull(detail) => {
                tracing::error!(%detail, "refusing a write: the disk is full");
                IngestError::DiskFull {
                    retry_after_secs: 10,
                }
            }
            SinkError::Failed(m) => IngestError::Internal(m),
        }
    }
}

impl IngestError {
    /// Counter reason.
    pub fn reason(&self) -> &'static str {
        match self {
            IngestError::BadRequest(_) => "bad_request",
            IngestError::TooLarge { .. } => "too_large",
            IngestError::Unsupported(_) => "unsupported",
            IngestError::TimedOut { .. } => "timeout",
            IngestError::Overloaded { .. } => "overloaded",
            IngestError::DiskFull { .. } => "disk_full",
            IngestError::Internal(_) => "internal",
        }
    }
}

/// Size and admission limits of the receivers.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body as sent (possibly compressed).
    pub max_request_bytes: usize,
    /// Largest request body after decompression.
    pub max_decompressed_bytes: usize,
    /// Bytes of all requests in flight at once, charged as they arrive (before reading,
    /// inflating and decoding; see [`crate::admission`]); beyond it requests get 429.
    pub max_inflight_bytes: usize,
    /// Longest a request body may take to arrive once its headers are in; then 408.
    pub body_timeout: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_bytes: 16 << 20,
            max_decompressed_bytes: 64 << 20,
            max_inflight_bytes: 64 << 20,
            body_timeout: std::time::Duration::from_secs(30),
        }
    }
}

/// What happened to an accepted request.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ExportOutcome {
    pub accepted: u64,
    pub rejected: u64,
    pub message: String,
}

impl ExportOutcome {
    /// Whether the answer carries a partial success: items were rejected, or something was
    /// changed to fit the record limits (a warning: rejected 0 with a message, as OTLP allows).
    pub fn has_partial_success(&self) -> bool {
        self.rejected > 0 || !self.message.is_empty()
    }
}

/// Counters of the receivers, by signal and reason.
#[derive(Debug, Default)]
pub struct IngestStats {
    pub spans_accepted: AtomicU64,
    pub logs_accepted: AtomicU64,
    pub points_accepted: AtomicU64,
    pub items_rejected: AtomicU64,
    /// What the record limits changed in accepted items (attributes, values, times).
    pub adjusted: Arc<AdjustedCounters>,
    requests_refused: Mutex<BTreeMap<&'static str, u64>>,
}

impl IngestStats {
    pub fn refused(&self, reason: &'static str) {
        if let Ok(mut map) = self.requests_refused.lock() {
            *map.entry(reason).or_default() += 1;
        }
    }

    pub fn snapshot(&self) -> serde_json::Value {
        let refused = self
            .requests_refused
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default();
        serde_json::json!({
            "spans_accepted": self.spans_accepted.load(Ordering::Relaxed),
            "logs_accepted": self.logs_accepted.load(Ordering::Relaxed),
            "metric_points_accepted": self.points_accepted.load(Ordering::Relaxed),
            "items_rejected": self.items_rejected.load(Ordering::Relaxed),
            "requests_refused": refused,
            "records_adjusted": self.adjusted.snapshot(),
        })
    }
}

struct Inner {
    sink: Arc<dyn Sink>,
    limits: Limits,
    inflight: Arc<Semaphore>,
    stats: IngestStats,
    log_processor: Option<Arc<dyn LogProcessor>>,
    /// Whether log batches go to the sink with their template counts.
    count_patterns: bool,
    record_limits: Arc<RecordLimits>,
    /// Enrichment of browser records (real user monitoring).
    rum: Option<Arc<rum::Enricher>>,
    /// The user's pipeline rules (drop, sample, redact ...), applied last.
    rules: Option<Arc<::pipeline::Pipeline>>,
}

/// The ingest pipeline shared by all receivers. Cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    inner: Arc<Inner>,
}

/// A decoded OTLP request of any signal.
pub enum Request {
    Traces(ExportTraceServiceRequest),
    Logs(ExportLogsServiceRequest),
    Metrics(ExportMetricsServiceRequest),
}

impl Pipeline {
    pub fn new(sink: Arc<dyn Sink>, limits: Limits) -> Self {
        Self::with_log_processor(sink, limits, None)
    }

    pub fn with_log_processor(
        sink: Arc<dyn Sink>,
        limits: Limits,
        log_processor: Option<Arc<dyn LogProcessor>>,
    ) -> Self {
        let permits = limits.max_inflight_bytes.min(Semaphore::MAX_PERMITS);
        Pipeline {
            inner: Arc::new(Inner {
                sink,
                inflight: Arc::new(Semaphore::new(permits)),
                limits,
                stats: IngestStats::default(),
                log_processor,
                count_patterns: false,
                record_limits: Arc::new(RecordLimits::default()),
                rum: None,
                rules: None,
            }),
        }
    }

    /// Counts the templates of log batches while they are converted and hands the counts to
    /// the sink with the rows (log pattern rollups); call before the pipeline is shared.
    pub fn with_pattern_counts(mut self) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.count_patterns = true;
        }
        self
    }

    /// Sets the limits every record is held to; call before the pipeline is shared.
    pub fn with_record_limits(mut self, limits: RecordLimits) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.record_limits = Arc::new(limits);
        }
        self
    }

    /// Enriches browser records with `enricher` before they are written (user agent, route,
    /// error fingerprint, symbolicated stacks); call before the pipeline is shared.
    pub fn with_rum(mut self, enricher: Arc<rum::Enricher>) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.rum = Some(enricher);
        }
        self
    }

    /// Applies the user's pipeline rules to every batch, after enrichment, Log AI and the
    /// pattern counts (so those see every record); call before the pipeline is shared.
    pub fn with_rules(mut self, rules: Arc<::pipeline::Pipeline>) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.rules = Some(rules);
        }
        self
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    pub fn stats(&self) -> &IngestStats {
        &self.inner.stats
    }

    /// Reserves room for a request of `bytes` bytes, or refuses it at once (counted).
    pub fn admit(&self, bytes: usize) -> Result<crate::admission::Charge, IngestError> {
        let mut charge = self.charge();
        if let Err(e) = charge.grow_to(bytes) {
            self.inner.stats.refused(e.reason());
            return Err(e);
        }
        Ok(charge)
    }

    /// An empty share of the in-flight budget, to grow as a request's bytes arrive.
    pub fn charge(&self) -> crate::admission::Charge {
        crate::admission::Charge::new(
            Arc::clone(&self.inner.inflight),
            self.inner.limits.max_inflight_bytes,
        )
    }

    /// Writes metric points made here (the pipeline's `metric` rules) as they are, without
    /// rules or limits; returns once they are durable.
    pub async fn write_points(&self, rows: Vec<MetricPointRow>) -> Result<u64, IngestError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let n = rows.len() as u64;
        if let Err(e) = self.inner.sink.write(Batch::Metrics(rows), None).await {
            let err = IngestError::from(e);
            self.inner.stats.refused(err.reason());
            return Err(err);
        }
        self.inner
            .stats
            .points_accepted
            .fetch_add(n, Ordering::Relaxed);
        Ok(n)
    }

    /// Converts, enriches and writes one decoded request; returns once it is durable.
    pub async fn export(&self, request: Request) -> Result<ExportOutcome, IngestError> {
        let hooks = Hooks {
            processor: self.inner.log_processor.clone(),
            rum: self.inner.rum.clone(),
            rules: self.inner.rules.as_ref().map(|r| r.current()),
            ledger: self.inner.rules.as_ref().map(|r| Arc::clone(r.ledger())),
        };
        let count_patterns = self.inner.count_patterns;
        let within = (
            Arc::clone(&self.inner.record_limits),
            Arc::clone(&self.inner.stats.adjusted),
        );
        let converted = tokio::task::spawn_blocking(move || {
            convert_request(request, hooks, count_patterns, &within)
        })
        .await
        .map_err(|e| IngestError::Internal(format!("conversion task failed: {e}")))?;
        let ((batch, rejected, first_error), patterns) = converted;
        let accepted = batch.len() as u64;
        // A batch the rules emptied is still written for its pattern counts, which count
        // every record (see `with_rules`).
        if !batch.is_empty() || patterns.as_ref().is_some_and(|p| !p.is_empty()) {
            let signal = batch.signal();
            if let Err(e) = self.inner.sink.write(batch, patterns).await {
                let err = IngestError::from(e);
                self.inner.stats.refused(err.reason());
                return Err(err);
            }
            let counter = match signal {
                model::Signal::Spans => &self.inner.stats.spans_accepted,
                model::Signal::Logs => &self.inner.stats.logs_accepted,
                model::Signal::Metrics => &self.inner.stats.points_accepted,
            };
            counter.fetch_add(accepted, Ordering::Relaxed);
        }
        self.inner
            .stats
            .items_rejected
            .fetch_add(rejected, Ordering::Relaxed);
        Ok(ExportOutcome {
            accepted,
            rejected,
            message: first_error.unwrap_or_default(),
        })
    }
}

type Bounds = (Arc<RecordLimits>, Arc<AdjustedCounters>);

fn split<T>(
    c: Converted<T>,
    wrap: fn(Vec<T>) -> Batch,
    (limits, counters): &Bounds,
) -> (Batch, u64, Option<String>) {
    counters.add(&c.adjusted);
    let message = c.message(limits);
    (wrap(c.rows), c.rejected, message)
}

/// What enriches rows between conversion and the sink.
struct Hooks {
    processor: Option<Arc<dyn LogProcessor>>,
    rum: Option<Arc<rum::Enricher>>,
    /// One version of the rules for the whole request.
    rules: Option<Arc<::pipeline::Loaded>>,
    /// What the budgets counted.
    ledger: Option<Arc<::pipeline::Ledger>>,
}

impl Hooks {
    /// The budgets in force and their counts, when there are budgets.
    fn budgets(&self) -> Option<(&[::pipeline::Budget], &::pipeline::Ledger)> {
        let rules = self.rules.as_ref()?;
        let ledger = self.ledger.as_ref()?;
        Some((&rules.budgets, ledger))
    }
}

/// Browser records are enriched by RUM; the others (and only they: a browser's events are
/// not log lines to learn formats from) go through the log processor.
fn process_logs(rows: &mut Vec<LogRow>, hooks: &Hooks) {
    let browser = match &hooks.rum {
        Some(rum) => rum.enrich_logs(rows),
        None => Vec::new(),
    };
    let Some(processor) = &hooks.processor else {
        return;
    };
    if !browser.iter().any(|b| *b) {
        processor.process(rows);
        return;
    }
    let mut others = Vec::with_capacity(rows.len());
    let mut browsers = Vec::new();
    for (row, is_browser) in rows.drain(..).zip(browser) {
        if is_browser {
            browsers.push(row);
        } else {
            others.push(row);
        }
    }
    processor.process(&mut others);
    others.append(&mut browsers);
    *rows = others;
}

/// The request as a batch, and the template counts of its log records when `count_patterns`.
fn convert_request(
    request: Request,
    hooks: Hooks,
    count_patterns: bool,
    within: &Bounds,
) -> (
    (Batch, u64, Option<String>),
    Option<analysis::PatternCounts>,
) {
    let limits = &within.0;
    let now = model::now_unix_nano();
    let converted = match request {
        Request::Traces(r) => {
            let mut c = convert::convert_traces_within(&r, limits);
            if let Some(rum) = &hooks.rum {
                rum.enrich_spans(&mut c.rows);
            }
            c.adjusted.times_moved += bounds::bound_span_times(&mut c.rows, limits, now);
            if let Some(rules) = &hooks.rules {
                rules.rules.apply_spans(&mut c.rows);
            }
            // Spans are held to their budgets when they are written to files; their failed
            // traces are noted now, so that the traces' logs are kept over a cap.
            if let Some(ledger) = &hooks.ledger {
                ledger.note_spans(&c.rows);
            }
            split(c, Batch::Spans, within)
        }
        Request::Logs(r) => {
            let mut c = convert::convert_logs_within(r, limits);
            process_logs(&mut c.rows, &hooks);
            convert::fill_missing_times(&mut c.rows, now);
            c.adjusted.times_moved += bounds::bound_log_times(&mut c.rows, limits, now);
            let patterns = count_patterns.then(|| analysis::PatternCounts::of(&c.rows));
            if let Some(rules) = &hooks.rules {
                rules.rules.apply_logs(&mut c.rows);
            }
            if let Some((budgets, ledger)) = hooks.budgets() {
                ledger.admit_logs(budgets, &mut c.rows, now);
            }
            return (split(c, Batch::Logs, within), patterns);
        }
        Request::Metrics(r) => {
            let mut c = convert::convert_metrics_within(&r, limits);
            c.adjusted.times_moved += bounds::bound_point_times(&mut c.rows, limits, now);
            if let Some(rules) = &hooks.rules {
                rules.rules.apply_metrics(&mut c.rows);
            }
            if let Some((budgets, ledger)) = hooks.budgets() {
                ledger.admit_points(budgets, &mut c.rows, now);
            }
            split(c, Batch::Metrics, within)
        }
    };
    (converted, None)
}
