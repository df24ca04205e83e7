//! The query service: typed questions become SQL over the store's tables.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::RecordBatch;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SQLOptions, SessionConfig, SessionContext};
use futures::StreamExt;
use model::{Signal, TimeRange};
use serde_json::{Map, Value};
use storage::{SignalTable, Store};

use crate::sql::{attribute_filter, quote};
use crate::types::*;
use crate::{QueryError, metrics, udf};

/// Bounds on what one query may cost.
#[derive(Debug, Clone)]
pub struct QueryLimits {
    /// Most rows `POST /sql` returns.
    pub sql_max_rows: usize,
    /// Longest a query may run.
    pub timeout: Duration,
    /// Memory DataFusion may use for all queries together.
    pub memory_bytes: usize,
    /// Most metric points one metric query reads.
    pub metric_max_points: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            sql_max_rows: 10_000,
            timeout: Duration::from_secs(30),
            memory_bytes: 1 << 30,
            metric_max_points: 2_000_000,
        }
    }
}

/// Answers every reader of redscope. Cheap to share behind an `Arc`.
pub struct QueryService {
    ctx: SessionContext,
    limits: QueryLimits,
    store: Arc<Store>,
    pub(crate) rollup_cache: crate::rollup::RollupCache,
    pub(crate) web_rollup_cache: crate::web_rollup::WebRollupCache,
    pub(crate) rollup_feed: Option<crate::completeness::RollupFeed>,
    /// Where replay segment bodies are (see [`QueryService::with_replay`]).
    pub(crate) replay: Option<Arc<rum::ReplayStore>>,
    /// When each service, span name, template and metric was last read by name.
    pub(crate) reads: Arc<crate::ReadLog>,
}

/// How far around a search window to look for the other spans of the traces found.
pub(crate) const TRACE_SLACK_NS: i64 = 3_600_000_000_000;

/// Searches read the newest twelfth of their range first ...
const RECENT_FRACTION: i64 = 12;
/// ... but at least the last minute.
const RECENT_MIN_NS: i64 = 60_000_000_000;

/// Where the newest part of `range` that searches read first begins; `None` when that part
/// would be the whole range.
pub(crate) fn recent_start(range: TimeRange) -> Option<i64> {
    let span = range.end_ns.saturating_sub(range.start_ns);
    let recent_ns = (span / RECENT_FRACTION).max(RECENT_MIN_NS);
    (span > recent_ns).then(|| range.end_ns - recent_ns)
}

impl QueryService {
    pub fn new(store: Arc<Store>, limits: QueryLimits) -> Result<Self, QueryError> {
        let mut config = SessionConfig::new()
            .with_information_schema(true)
            .with_target_partitions(2);
        let opts = config.options_mut();
        opts.execution.parquet.pushdown_filters = true;
        opts.execution.parquet.reorder_filters = true;
        opts.execution.parquet.bloom_filter_on_read = true;
        opts.sql_parser.enable_ident_normalization = true;
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(limits.memory_bytes, 1.0)
            .build_arc()?;
        let ctx = SessionContext::new_with_config_rt(config, runtime);
        for signal in Signal::ALL {
            ctx.register_table(
                signal.table_name(),
                Arc::new(SignalTable::new(signal, Arc::clone(&store))),
            )?;
        }
        ctx.register_udf(udf::attr_udf());
        ctx.register_udf(udf::url_host_udf());
        Ok(QueryService {
            ctx,
            limits,
            rollup_cache: Default::default(),
            web_rollup_cache: Default::default(),
            rollup_feed: None,
            replay: None,
            reads: Arc::new(crate::ReadLog::open(&store.config().data_dir)),
            store,
        })
    }

    /// Notes the service and template a log question names as read.
    pub(crate) fn note_log_read(&self, q: &LogSearch) {
        if let Some(s) = &q.service {
            self.reads.record(Signal::Logs, crate::ReadKind::Service, s);
        }
        if let Some(t) = &q.template_id {
            self.reads
                .record(Signal::Logs, crate::ReadKind::LogTemplate, t);
        }
    }

    /// When telemetry was last read by name (the usage report's "unread").
    pub fn reads(&self) -> &crate::ReadLog {
        &self.reads
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Runs internal SQL and collects every batch, within the time limit.
    pub(crate) async fn collect(&self, sql: &str) -> Result<Vec<RecordBatch>, QueryError> {
        tracing::debug!(%sql, "query");
        let run = async {
            let df = self.ctx.sql(sql).await?;
            df.collect().await
        };
        match tokio::time::timeout(self.limits.timeout, run).await {
            Ok(r) => Ok(r?),
            Err(_) => Err(QueryError::Timeout(self.limits.timeout.as_millis() as u64)),
        }
    }

    pub async fn services(&self, range: TimeRange) -> Result<ServicesResponse, QueryError> {
        let mut by_name: std::collections::BTreeMap<String, ServiceSummary> = Default::default();
        // The three tables are counted concurrently (22–24 ms against 28–31 ms one after the
        // other, an hour of demo data on two cores).
        let counts = Signal::ALL.map(|signal| {
            let t = signal.time_column();
            let sql = format!(
                "SELECT service_name, count(*) AS n, max({t}) AS last FROM {} WHERE {t} >= {} AND {t} < {} GROUP BY service_name",
                signal.table_name(),
                range.start_ns,
                range.end_ns
            );
            async move { self.collect(&sql).await }
        });
        let counts = futures::future::try_join_all(counts).await?;
        for (signal, batches) in Signal::ALL.into_iter().zip(counts) {
            for row in to_json_rows(&batches)? {
                let name = str_of(&row, "service_name");
                let n = u64_of(&row, "n");
                let last = i64_of(&row, "last");
                let entry = by_name
                    .entry(name.clone())
                    .or_insert_with(|| ServiceSummary {
                        name,
                        spans: 0,
                        logs: 0,
                        metric_points: 0,
                        last_seen_unix_nano: 0,
                    });
                match signal {
                    Signal::Spans => entry.spans = n,
                    Signal::Logs => entry.logs = n,
                    Signal::Metrics => entry.metric_points = n,
                }
                entry.last_seen_unix_nano = entry.last_seen_unix_nano.max(last);
            }
        }
        Ok(ServicesResponse {
            services: by_name.into_values().collect(),
        })
    }

    /// Whether any span, log record or metric point of the store names `service` (at any time
    /// the store still holds). Each table stops at its first match.
    pub async fn service_exists(&self, service: &str) -> Result<bool, QueryError> {
        for signal in Signal::ALL {
            let sql = format!(
                "SELECT 1 AS found FROM {} WHERE service_name = {} LIMIT 1",
                signal.table_name(),
                quote(service)
            );
            if self.collect(&sql).await?.iter().any(|b| b.num_rows() > 0) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub async fn get_trace(&self, trace_id: &str) -> Result<TraceDetail, QueryError> {
        let id = trace_id.trim().to_ascii_lowercase();
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(QueryError::bad(
                "trace_id",
                "must be 32 hexadecimal characters",
            ));
        }
        let sql = format!(
            "SELECT * FROM spans WHERE trace_id = {} ORDER BY start_time_unix_nano",
            quote(&id)
        );
        let batches = self.collect(&sql).await?;
        let mut spans = Vec::new();
        for b in &batches {
            if let model::Batch::Spans(rows) = storage::schema::from_record_batch(Signal::Spans, b)?
            {
                spans.extend(rows.into_iter().map(span_detail));
            }
        }
        if spans.is_empty() {
            return Err(QueryError::NotFound(format!("trace {id}")));
        }
        Ok(TraceDetail {
            trace_id: id,
            spans,
        })
    }

    pub async fn search_logs(&self, q: &LogSearch) -> Result<LogsPage, QueryError> {
        self.note_log_read(q);
        // Like traces, the first page is looked for in the most recent part of the range first:
        // when it holds more than a page of records, those are the newest of the whole range
        // (every record outside it is older), and the rest is never read.
        if let Some(recent) = recent_start(q.range).filter(|_| q.offset == 0) {
            let records = self.newest_logs(q, recent).await?;
            if records.len() > q.limit {
                return Ok(logs_page(q, records));
            }
        }
        let records = self.newest_logs(q, q.range.start_ns).await?;
        Ok(logs_page(q, records))
    }

    /// Up to `limit + 1` records matching `q` from `from_ns` to the end of its range, newest
    /// first, skipping `offset`.
    async fn newest_logs(&self, q: &LogSearch, from_ns: i64) -> Result<Vec<LogRecord>, QueryError> {
        let conds = log_conditions(q, from_ns, LogFilterSkip::None);
        let sql = format!(
            "SELECT * FROM logs WHERE {} ORDER BY time_unix_nano DESC LIMIT {} OFFSET {}",
            conds.join(" AND "),
            q.limit + 1,
            q.offset
        );
        let mut records = Vec::new();
        for b in &self.collect(&sql).await? {
            if let model::Batch::Logs(rows) = storage::schema::from_record_batch(Signal::Logs, b)? {
                records.extend(rows.into_iter().map(log_record));
            }
        }
        Ok(records)
    }

    /// The user's metrics of the range: redscope's own rollups (RED, edges, reach, log
    /// patterns, drain markers: names under `redscope.`, which ingest refuses from clients) are
    /// left out.
    pub async fn list_metrics(&self, range: TimeRange) -> Result<MetricsList, QueryError> {
        let sql = format!(
            "SELECT metric_name, metric_type, unit, description, count(*) AS points, array_agg(DISTINCT service_name) AS services \
             FROM metric_points WHERE time_unix_nano >= {} AND time_unix_nano < {} AND metric_name NOT LIKE 'redscope.%' \
             GROUP BY metric_name, metric_type, unit, description ORDER BY metric_name",
            range.start_ns, range.end_ns,
        );
        let mut metrics = Vec::new();
        for r in to_json_rows(&self.collect(&sql).await?)? {
            let services = sorted_strings(&r, "services");
            metrics.push(MetricInfo {
                name: str_of(&r, "metric_name"),
                metric_type: str_of(&r, "metric_type"),
                unit: str_of(&r, "unit"),
                description: str_of(&r, "description"),
                services,
                points: u64_of(&r, "points"),
            });
        }
        Ok(MetricsList { metrics })
    }

    pub async fn query_metric(&self, q: &MetricQuery) -> Result<MetricSeries, QueryError> {
        self.reads
            .record(Signal::Metrics, crate::ReadKind::MetricName, &q.name);
        let mut conds = vec![
            format!("metric_name = {}", quote(&q.name)),
            format!("time_unix_nano >= {}", q.range.start_ns),
            format!("time_unix_nano < {}", q.range.end_ns),
        ];
        if let Some(s) = &q.service {
            conds.push(format!("service_name = {}", quote(s)));
        }
        let sql = format!(
            "SELECT * FROM metric_points WHERE {} ORDER BY time_unix_nano LIMIT {}",
            conds.join(" AND "),
            self.limits.metric_max_points
        );
        let mut rows = Vec::new();
        for b in &self.collect(&sql).await? {
            if let model::Batch::Metrics(r) =
                storage::schema::from_record_batch(Signal::Metrics, b)?
            {
                rows.extend(r);
            }
        }
        if rows.is_empty() {
            return Err(QueryError::NotFound(format!(
                "metric '{}' in this time range",
                q.name
            )));
        }
        Ok(metrics::evaluate(q, &rows))
    }

    /// Read-only SQL over `spans`, `logs` and `metric_points`, within row and time limits.
    pub async fn sql(&self, sql: &str) -> Result<SqlResult, QueryError> {
        crate::sql::check_user_sql(sql).map_err(QueryError::BadQuery)?;
        let options = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let max_rows = self.limits.sql_max_rows;
        let run = async {
            let df = self
                .ctx
                .sql_with_options(sql, options)
                .await
                .map_err(|e| QueryError::BadQuery(e.to_string()))?;
            let columns: Vec<String> = df
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            let mut stream = df
                .execute_stream()
                .await
                .map_err(|e| QueryError::BadQuery(e.to_string()))?;
            let mut batches = Vec::new();
            let mut rows = 0usize;
            let mut truncated = false;
            while let Some(batch) = stream.next().await {
                let batch = batch.map_err(|e| QueryError::BadQuery(e.to_string()))?;
                if rows + batch.num_rows() > max_rows {
                    batches.push(batch.slice(0, max_rows - rows));
                    truncated = true;
                    break;
                }
                rows += batch.num_rows();
                batches.push(batch);
            }
            Ok::<_, QueryError>((columns, batches, truncated))
        };
        let (columns, batches, truncated) =
            match tokio::time::timeout(self.limits.timeout, run).await {
                Ok(r) => r?,
                Err(_) => return Err(QueryError::Timeout(self.limits.timeout.as_millis() as u64)),
            };
        let rows = to_json_rows(&batches)?
            .into_iter()
            .map(|mut obj| {
                columns
                    .iter()
                    .map(|c| obj.remove(c).unwrap_or(Value::Null))
                    .collect()
            })
            .collect();
        Ok(SqlResult {
            columns,
            rows,
            truncated,
        })
    }
}

/// A filter of [`LogSearch`] a facet leaves out (it counts every value of its own field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogFilterSkip {
    None,
    Service,
    Severity,
}

/// SQL conditions of `q` over the `logs` table from `from_ns` to the end of its range: the one
/// definition of the log filters, shared by the records, histogram, facets and patterns.
pub(crate) fn log_conditions(q: &LogSearch, from_ns: i64, skip: LogFilterSkip) -> Vec<String> {
    let mut conds = vec![
        format!("time_unix_nano >= {from_ns}"),
        format!("time_unix_nano < {}", q.range.end_ns),
    ];
    conds.extend(log_filter_conditions(q, skip));
    conds
}

/// The conditions of `q` other than its time range.
pub(crate) fn log_filter_conditions(q: &LogSearch, skip: LogFilterSkip) -> Vec<String> {
    let mut conds = Vec::new();
    if let Some(s) = q
        .service
        .as_ref()
        .filter(|_| skip != LogFilterSkip::Service)
    {
        conds.push(format!("service_name = {}", quote(s)));
    }
    if let Some(n) = q.severity_min.filter(|_| skip != LogFilterSkip::Severity) {
        conds.push(format!("severity_number >= {n}"));
    }
    if let Some(t) = &q.text {
        let escaped = t
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        conds.push(format!("body ILIKE {}", quote(&format!("%{escaped}%"))));
    }
    if let Some(t) = &q.trace_id {
        conds.push(format!("trace_id = {}", quote(&t.to_ascii_lowercase())));
    }
    if let Some(s) = &q.span_id {
        conds.push(format!("span_id = {}", quote(&s.to_ascii_lowercase())));
    }
    if let Some(t) = &q.template_id {
        conds.push(format!("log_template_id = {}", quote(t)));
    }
    for (k, v) in &q.attributes {
        conds.push(attribute_filter("logs", k, v));
    }
    conds
}

/// Offset cursors pin the window so that later pages see the same data.
pub fn encode_cursor(range: TimeRange, offset: usize) -> String {
    format!("{}.{}.{}", range.start_ns, range.end_ns, offset)
}

/// The window and offset of a cursor from [`encode_cursor`].
pub fn decode_cursor(cursor: &str) -> Result<(TimeRange, usize), QueryError> {
    let bad = || QueryError::bad("cursor", "not a cursor returned by this API");
    let mut parts = cursor.split('.');
    let start: i64 = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let end: i64 = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let offset: usize = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok((TimeRange::new(start, end).map_err(|_| bad())?, offset))
}

pub(crate) fn to_json_rows(batches: &[RecordBatch]) -> Result<Vec<Map<String, Value>>, QueryError> {
    let mut buf = Vec::new();
    {
        let mut writer = arrow::json::ArrayWriter::new(&mut buf);
        for b in batches {
            writer
                .write(b)
                .map_err(|e| QueryError::Internal(e.to_string()))?;
        }
        writer
            .finish()
            .map_err(|e| QueryError::Internal(e.to_string()))?;
    }
    if buf.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_slice(&buf).map_err(|e| QueryError::Internal(e.to_string()))
}

/// A JSON array of strings in a result row, sorted.
pub(crate) fn sorted_strings(row: &Map<String, Value>, key: &str) -> Vec<String> {
    let mut out: Vec<String> = row
        .get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

pub(crate) fn str_of(row: &Map<String, Value>, key: &str) -> String {
    row.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

pub(crate) fn i64_of(row: &Map<String, Value>, key: &str) -> i64 {
    row.get(key).and_then(Value::as_i64).unwrap_or_default()
}

pub(crate) fn u64_of(row: &Map<String, Value>, key: &str) -> u64 {
    row.get(key).and_then(Value::as_u64).unwrap_or_default()
}

fn parse_json(text: &str, empty: Value) -> Value {
    if text.is_empty() {
        return empty;
    }
    serde_json::from_str(text).unwrap_or(Value::String(text.to_string()))
}

fn span_detail(r: model::SpanRow) -> SpanDetail {
    SpanDetail {
        trace_id: r.trace_id,
        span_id: r.span_id,
        parent_span_id: r.parent_span_id,
        service_name: r.resource.service_name,
        name: r.name,
        kind: r.kind,
        start_time_unix_nano: r.start_time_unix_nano,
        end_time_unix_nano: r.end_time_unix_nano,
        duration_ns: r.duration_ns,
        status_code: r.status_code,
        status_message: r.status_message,
        trace_state: r.trace_state,
        flags: r.flags,
        scope_name: r.resource.scope_name,
        scope_version: r.resource.scope_version,
        attributes: parse_json(&r.attributes, Value::Object(Map::new())),
        resource_attributes: parse_json(&r.resource.resource_attributes, Value::Object(Map::new())),
        events: parse_json(&r.events, Value::Array(vec![])),
        links: parse_json(&r.links, Value::Array(vec![])),
        dropped_attributes_count: r.dropped_attributes_count,
        dropped_events_count: r.dropped_events_count,
        dropped_links_count: r.dropped_links_count,
    }
}

/// A page of `q` from up to `limit + 1` records: the extra one only says that there are more.
fn logs_page(q: &LogSearch, mut records: Vec<LogRecord>) -> LogsPage {
    let more = records.len() > q.limit;
    records.truncate(q.limit);
    let next_cursor = more.then(|| encode_cursor(q.range, q.offset + q.limit));
    LogsPage {
        records,
        next_cursor,
    }
}

fn log_record(r: model::LogRow) -> LogRecord {
    let record_id = crate::logs::record_id(r.time_unix_nano, &r.resource.service_name, &r.body);
    let body = match r.body_type.as_str() {
        "json" => parse_json(&r.body, Value::Null),
        "empty" => Value::Null,
        _ => Value::String(r.body),
    };
    let resource = std::sync::Arc::unwrap_or_clone(r.resource);
    LogRecord {
        record_id,
        time_unix_nano: r.time_unix_nano,
        observed_time_unix_nano: r.observed_time_unix_nano,
        service_name: resource.service_name,
        severity_number: r.severity_number,
        severity_text: r.severity_text,
        body,
        attributes: parse_json(&r.attributes, Value::Object(Map::new())),
        resource_attributes: parse_json(&resource.resource_attributes, Value::Object(Map::new())),
        trace_id: r.trace_id,
        span_id: r.span_id,
        flags: r.flags,
        event_name: r.event_name,
        scope_name: resource.scope_name,
        scope_version: resource.scope_version,
        log_template_id: r.log_template_id,
        log_template: r.log_template,
    }
}
