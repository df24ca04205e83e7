//! What each service sends and what it costs (`/api/v1/usage`): records and bytes per signal
//! and per service, scope, span name, log template, metric name or attribute key, over time,
//! against the previous period of the same length, projected to a month and priced, with when
//! each was last read.
//!
//! Bytes are the records' own size as sent, estimated from their stored columns (names, bodies,
//! attributes, events, buckets, plus a fixed part for times and ids; the resource, sent once per
//! batch, is left out). Stored bytes are the signal's bytes per record on disk in the range
//! shared out by those sizes. Attribute keys are counted over a sample of the newest records.

use std::collections::{HashMap, HashSet};

use model::{Signal, TimeRange};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::reads::ReadKind;
use crate::service::{i64_of, str_of, to_json_rows, u64_of};
use crate::sql::quote;
use crate::{QueryError, QueryService};

/// Records read per signal to count attribute keys.
const ATTRIBUTE_SAMPLE: usize = 20_000;
/// Most distinct values counted per attribute key.
const MAX_DISTINCT: usize = 10_000;
const DAY_MS: i64 = 86_400_000;
const MONTH_NS: f64 = 30.0 * 86_400e9;

/// What the usage rows are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageGroup {
    #[default]
    Service,
    Scope,
    SpanName,
    LogTemplate,
    MetricName,
    AttributeKey,
}

impl UsageGroup {
    pub fn parse(text: &str) -> Option<UsageGroup> {
        Some(match text {
            "service" => UsageGroup::Service,
            "scope" => UsageGroup::Scope,
            "span_name" => UsageGroup::SpanName,
            "log_template" => UsageGroup::LogTemplate,
            "metric_name" => UsageGroup::MetricName,
            "attribute_key" => UsageGroup::AttributeKey,
            _ => return None,
        })
    }

    /// The signals this grouping applies to.
    fn signals(self) -> &'static [Signal] {
        match self {
            UsageGroup::SpanName => &[Signal::Spans],
            UsageGroup::LogTemplate => &[Signal::Logs],
            UsageGroup::MetricName => &[Signal::Metrics],
            _ => &Signal::ALL,
        }
    }

    /// The group's name and service columns of `signal`'s table, and the read kind.
    fn columns(self, signal: Signal) -> (&'static str, &'static str, Option<ReadKind>) {
        match self {
            UsageGroup::Service => ("service_name", "service_name", Some(ReadKind::Service)),
            UsageGroup::Scope => ("scope_name", "''", None),
            UsageGroup::SpanName => ("name", "service_name", Some(ReadKind::SpanName)),
            UsageGroup::LogTemplate => (
                "coalesce(log_template_id, '')",
                "service_name",
                Some(ReadKind::LogTemplate),
            ),
            UsageGroup::MetricName => ("metric_name", "''", Some(ReadKind::MetricName)),
            UsageGroup::AttributeKey => {
                debug_assert!(
                    false,
                    "attribute keys are counted from a sample of {signal:?}"
                );
                ("''", "''", None)
            }
        }
    }
}

/// Price per GB of records sent, per signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UsagePrices {
    pub currency: String,
    pub spans_per_gb: f64,
    pub logs_per_gb: f64,
    pub metrics_per_gb: f64,
}

impl Default for UsagePrices {
    fn default() -> Self {
        UsagePrices {
            currency: "USD".into(),
            spans_per_gb: 0.30,
            logs_per_gb: 0.50,
            metrics_per_gb: 0.30,
        }
    }
}

impl UsagePrices {
    fn of(&self, signal: Signal) -> f64 {
        match signal {
            Signal::Spans => self.spans_per_gb,
            Signal::Logs => self.logs_per_gb,
            Signal::Metrics => self.metrics_per_gb,
        }
    }
}

/// A usage question.
#[derive(Debug, Clone)]
pub struct UsageQuery {
    pub range: TimeRange,
    pub step_ns: i64,
    pub group: UsageGroup,
    /// Only this signal (`None`: every signal the grouping applies to).
    pub signal: Option<Signal>,
    pub service: Option<String>,
    /// Most rows, the biggest first.
    pub limit: usize,
    /// Rows not read for this many days are marked unread.
    pub unread_days: i64,
    pub prices: UsagePrices,
}

#[derive(Debug, Clone, Serialize)]
pub struct UsageReport {
    pub group: UsageGroup,
    pub currency: String,
    pub unread_days: i64,
    /// Totals per signal.
    pub signals: Vec<SignalUsage>,
    /// The biggest groups first (by bytes).
    pub rows: Vec<UsageRow>,
    /// Records and bytes per step and signal.
    pub series: Vec<UsagePoint>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignalUsage {
    pub signal: &'static str,
    pub records: u64,
    pub bytes: u64,
    pub stored_bytes: u64,
    pub previous_records: u64,
    pub previous_bytes: u64,
    /// Bytes against the previous period (0.25: a quarter more), `None` without one.
    pub change: Option<f64>,
    pub cost: f64,
    pub projected_monthly_bytes: u64,
    pub projected_monthly_cost: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct UsageRow {
    pub signal: &'static str,
    /// The group: a service, scope, span name, template id, metric or attribute key.
    pub name: String,
    /// A template's text, when grouped by log template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The service, when the grouping has one besides the name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    pub records: u64,
    pub bytes: u64,
    pub stored_bytes: u64,
    /// Share of the signal's bytes.
    pub share: f64,
    pub previous_records: u64,
    pub previous_bytes: u64,
    pub change: Option<f64>,
    pub cost: f64,
    pub projected_monthly_cost: f64,
    /// Distinct values (attribute keys only, in the sample).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cardinality: Option<u64>,
    /// When something last read this group by name, if ever; `None` for groupings not tracked.
    pub last_read_ms: Option<i64>,
    /// Not read by name for `unread_days` (tracked groupings only).
    pub unread: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct UsagePoint {
    pub t: i64,
    pub signal: &'static str,
    pub records: u64,
    pub bytes: u64,
}

/// One group's records and bytes in one period.
#[derive(Debug, Clone, Default)]
struct Tally {
    records: u64,
    bytes: u64,
    text: Option<String>,
    cardinality: Option<u64>,
}

type Key = (String, Option<String>);

/// The estimated size of a record as sent, per signal (see the module docs), in SQL over the
/// stored columns: the same sum as `pipeline::size`, which counts rows at ingest, from the
/// same fixed parts.
pub(crate) fn bytes_sql(signal: Signal) -> &'static str {
    use pipeline::size::{BUCKET, LOG_FIXED, POINT_FIXED, SPAN_FIXED};
    static SQL: std::sync::OnceLock<[String; 3]> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| {
        [
            format!(
                "({SPAN_FIXED} + octet_length(name) + octet_length(attributes) + octet_length(events) \
                 + octet_length(links) + octet_length(status_message))"
            ),
            format!(
                "({LOG_FIXED} + octet_length(body) + octet_length(attributes) + octet_length(severity_text))"
            ),
            format!(
                "({POINT_FIXED} + octet_length(metric_name) + octet_length(attributes) \
                 + {BUCKET} * coalesce(cardinality(bucket_counts), 0))"
            ),
        ]
    });
    match signal {
        Signal::Spans => &sql[0],
        Signal::Logs => &sql[1],
        Signal::Metrics => &sql[2],
    }
}

fn change(now: u64, before: u64) -> Option<f64> {
    (before > 0).then(|| now as f64 / before as f64 - 1.0)
}

impl QueryService {
    pub async fn usage(&self, q: &UsageQuery) -> Result<UsageReport, QueryError> {
        let signals: Vec<Signal> = q
            .group
            .signals()
            .iter()
            .copied()
            .filter(|s| q.signal.is_none_or(|only| only == *s))
            .collect();
        let len = q.range.end_ns - q.range.start_ns;
        let previous = TimeRange::new(q.range.start_ns - len, q.range.start_ns)
            .map_err(|e| QueryError::bad("from", e.to_string()))?;
        let mut report = UsageReport {
            group: q.group,
            currency: q.prices.currency.clone(),
            unread_days: q.unread_days,
            signals: Vec::new(),
            rows: Vec::new(),
            series: Vec::new(),
        };
        for signal in signals {
            let (now, before, series) = tokio::try_join!(
                self.usage_tally(q, signal, q.range),
                self.usage_tally(q, signal, previous),
                self.usage_series(q, signal),
            )?;
            report.series.extend(series);
            self.usage_of_signal(q, signal, now, before, &mut report);
        }
        report
            .rows
            .sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.name.cmp(&b.name)));
        report.rows.truncate(q.limit);
        report.series.sort_by_key(|p| (p.t, p.signal));
        Ok(report)
    }

    /// The signal's totals and rows of `report`, from its tallies now and before.
    fn usage_of_signal(
        &self,
        q: &UsageQuery,
        signal: Signal,
        now: HashMap<Key, Tally>,
        mut before: HashMap<Key, Tally>,
        report: &mut UsageReport,
    ) {
        let records: u64 = now.values().map(|t| t.records).sum();
        let bytes: u64 = now.values().map(|t| t.bytes).sum();
        let previous_records = before.values().map(|t| t.records).sum();
        let previous_bytes = before.values().map(|t| t.bytes).sum();
        let on_disk = self.stored_bytes_per_record(signal, q.range) * records as f64;
        // Attribute keys overlap (a record has many), so their bytes do not add up to the total.
        let (total_bytes, stored_per_byte) = if q.group == UsageGroup::AttributeKey {
            (bytes.max(1), 0.0)
        } else {
            (
                bytes,
                if bytes > 0 {
                    on_disk / bytes as f64
                } else {
                    0.0
                },
            )
        };
        let span_ns = (q.range.end_ns - q.range.start_ns).max(1) as f64;
        let monthly = |b: u64| b as f64 * MONTH_NS / span_ns;
        let price = q.prices.of(signal) / 1e9;
        if q.group != UsageGroup::AttributeKey {
            report.signals.push(SignalUsage {
                signal: signal.name(),
                records,
                bytes,
                stored_bytes: on_disk as u64,
                previous_records,
                previous_bytes,
                change: change(bytes, previous_bytes),
                cost: bytes as f64 * price,
                projected_monthly_bytes: monthly(bytes) as u64,
                projected_monthly_cost: monthly(bytes) * price,
            });
        }
        let (_, _, kind) = match q.group {
            UsageGroup::AttributeKey => ("", "", None),
            g => g.columns(signal),
        };
        let unread_before = model::now_unix_nano() / 1_000_000 - q.unread_days * DAY_MS;
        for ((name, service), t) in now {
            let was = before
                .remove(&(name.clone(), service.clone()))
                .unwrap_or_default();
            let last_read_ms = kind.and_then(|k| self.reads.last_read(signal, k, &name));
            report.rows.push(UsageRow {
                signal: signal.name(),
                text: t.text,
                service,
                records: t.records,
                bytes: t.bytes,
                stored_bytes: (t.bytes as f64 * stored_per_byte) as u64,
                share: t.bytes as f64 / total_bytes.max(1) as f64,
                previous_records: was.records,
                previous_bytes: was.bytes,
                change: change(t.bytes, was.bytes),
                cost: t.bytes as f64 * price,
                projected_monthly_cost: monthly(t.bytes) * price,
                cardinality: t.cardinality,
                unread: kind.is_some() && last_read_ms.is_none_or(|at| at < unread_before),
                last_read_ms,
                name,
            });
        }
    }

    /// Records and bytes per group of `signal` in `range`.
    async fn usage_tally(
        &self,
        q: &UsageQuery,
        signal: Signal,
        range: TimeRange,
    ) -> Result<HashMap<Key, Tally>, QueryError> {
        if q.group == UsageGroup::AttributeKey {
            return self.attribute_tally(q, signal, range).await;
        }
        let (name, service, _) = q.group.columns(signal);
        let text = if q.group == UsageGroup::LogTemplate {
            "max(log_template)"
        } else {
            "''"
        };
        let sql = format!(
            "SELECT {name} AS name, {service} AS service, {text} AS text, count(*) AS n, \
             sum({bytes}) AS b FROM {table} WHERE {conds} GROUP BY 1, 2",
            bytes = bytes_sql(signal),
            table = signal.table_name(),
            conds = usage_conditions(q, signal, range).join(" AND "),
        );
        let mut out = HashMap::new();
        for r in to_json_rows(&self.collect(&sql).await?)? {
            let service = str_of(&r, "service");
            let text = str_of(&r, "text");
            out.insert(
                (
                    str_of(&r, "name"),
                    (!service.is_empty() && q.group != UsageGroup::Service).then_some(service),
                ),
                Tally {
                    records: u64_of(&r, "n"),
                    bytes: u64_of(&r, "b"),
                    text: (!text.is_empty()).then_some(text),
                    cardinality: None,
                },
            );
        }
        Ok(out)
    }

    /// Attribute keys of the newest records of `signal` in `range` (a sample), with their
    /// records and bytes scaled to the whole range and the distinct values seen.
    async fn attribute_tally(
        &self,
        q: &UsageQuery,
        signal: Signal,
        range: TimeRange,
    ) -> Result<HashMap<Key, Tally>, QueryError> {
        let conds = usage_conditions(q, signal, range).join(" AND ");
        let table = signal.table_name();
        let count_sql = format!("SELECT count(*) AS n FROM {table} WHERE {conds}");
        let sample_sql = format!(
            "SELECT attributes FROM {table} WHERE {conds} ORDER BY {} DESC LIMIT {ATTRIBUTE_SAMPLE}",
            signal.time_column()
        );
        let (count, sample) =
            tokio::try_join!(self.collect(&count_sql), self.collect(&sample_sql))?;
        let total = to_json_rows(&count)?
            .first()
            .map(|r| u64_of(r, "n"))
            .unwrap_or(0);
        // Parsing twenty thousand attribute sets is CPU work: off the async threads.
        let (scale, keys) = tokio::task::spawn_blocking(move || {
            let rows = to_json_rows(&sample)?;
            let scale = if rows.is_empty() {
                0.0
            } else {
                total as f64 / rows.len() as f64
            };
            let mut keys: HashMap<String, (u64, u64, HashSet<String>)> = HashMap::new();
            for r in &rows {
                if let Ok(Value::Object(attrs)) =
                    serde_json::from_str::<Value>(&str_of(r, "attributes"))
                {
                    count_keys(&attrs, &mut keys);
                }
            }
            Ok::<_, QueryError>((scale, keys))
        })
        .await
        .map_err(|e| QueryError::Internal(format!("counting attribute keys failed: {e}")))??;
        Ok(keys
            .into_iter()
            .map(|(key, (n, b, values))| {
                let tally = Tally {
                    records: (n as f64 * scale).round() as u64,
                    bytes: (b as f64 * scale).round() as u64,
                    text: None,
                    cardinality: Some(values.len() as u64),
                };
                ((key, None), tally)
            })
            .collect())
    }

    /// Records and bytes of `signal` per step of the range.
    async fn usage_series(
        &self,
        q: &UsageQuery,
        signal: Signal,
    ) -> Result<Vec<UsagePoint>, QueryError> {
        let step = q.step_ns.max(1);
        let sql = format!(
            "SELECT ({time} - {start}) / {step} AS k, count(*) AS n, sum({bytes}) AS b \
             FROM {table} WHERE {conds} GROUP BY 1 ORDER BY 1",
            time = signal.time_column(),
            start = q.range.start_ns,
            bytes = bytes_sql(signal),
            table = signal.table_name(),
            conds = usage_conditions(q, signal, q.range).join(" AND "),
        );
        Ok(to_json_rows(&self.collect(&sql).await?)?
            .iter()
            .map(|r| UsagePoint {
                t: q.range.start_ns + i64_of(r, "k") * step,
                signal: signal.name(),
                records: u64_of(r, "n"),
                bytes: u64_of(r, "b"),
            })
            .collect())
    }

    /// Bytes on disk per record of `signal`'s files overlapping `range` (0 before any file).
    fn stored_bytes_per_record(&self, signal: Signal, range: TimeRange) -> f64 {
        let snap = self
            .store()
            .snapshot(signal, Some(range.start_ns), Some(range.end_ns));
        let rows: u64 = snap.files.iter().map(|f| f.rows).sum();
        let bytes: u64 = snap.files.iter().map(|f| f.bytes).sum();
        if rows == 0 {
            0.0
        } else {
            bytes as f64 / rows as f64
        }
    }
}

/// Occurrences, bytes (key and value as JSON) and distinct values of each key of `attrs`.
fn count_keys(attrs: &Map<String, Value>, keys: &mut HashMap<String, (u64, u64, HashSet<String>)>) {
    for (k, v) in attrs {
        let value = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let entry = keys.entry(k.clone()).or_default();
        entry.0 += 1;
        entry.1 += (k.len() + value.len()) as u64;
        if entry.2.len() < MAX_DISTINCT {
            entry.2.insert(value);
        }
    }
}

fn usage_conditions(q: &UsageQuery, signal: Signal, range: TimeRange) -> Vec<String> {
    let time = signal.time_column();
    let mut conds = vec![
        format!("{time} >= {}", range.start_ns),
        format!("{time} < {}", range.end_ns),
    ];
    if let Some(s) = &q.service {
        conds.push(format!("service_name = {}", quote(s)));
    }
    conds
}
