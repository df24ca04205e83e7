//! Raw metric points and per-minute rollups as typed rows, for evaluators that keep their own
//! series model (the `promql` crate): which metrics a window holds, the points of one metric,
//! the resources that sent metrics, and the RED and log-pattern rollups per minute.

use model::{MetricPointRow, Signal, TimeRange};
use serde_json::{Map, Value};

use crate::service::to_json_rows;
use crate::sql::quote;
use crate::{QueryError, QueryService};

/// One stored metric of a window: what its name means and how its points add up.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricFamily {
    pub name: String,
    /// A [`model::MetricType`] name.
    pub metric_type: String,
    pub unit: String,
    pub description: String,
    pub is_monotonic: bool,
    /// 0 unspecified, 1 delta, 2 cumulative (the highest seen).
    pub temporality: i32,
}

/// A resource that sent metrics in a window, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricResource {
    pub service_name: String,
    pub service_namespace: Option<String>,
    pub service_instance_id: Option<String>,
    /// Every resource attribute, as a JSON object.
    pub resource_attributes: String,
    pub first_ns: i64,
    pub last_ns: i64,
}

/// The distinct label sources of one metric's streams (no points).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricStream {
    pub name: String,
    pub service_name: String,
    pub service_namespace: Option<String>,
    pub service_instance_id: Option<String>,
    /// The point attributes, as a JSON object.
    pub attributes: String,
}

/// Spans of one service, operation, kind and outcome in one minute.
#[derive(Debug, Clone, PartialEq)]
pub struct RedMinute {
    /// The start of the minute (unix ns).
    pub t: i64,
    pub service: String,
    pub operation: String,
    pub span_kind: String,
    pub error: bool,
    pub requests: u64,
    /// Counts per bucket of [`analysis::BOUNDS_MS`] (plus the overflow bucket); may be shorter
    /// than the bounds when the last buckets are empty.
    pub counts: Vec<u64>,
    pub sum_ms: f64,
}

/// Log records of one service and template in one minute.
#[derive(Debug, Clone, PartialEq)]
pub struct LogMinute {
    pub t: i64,
    pub service: String,
    pub template_id: String,
    pub records: u64,
    /// The highest severity number of the minute's records (0: none).
    pub max_severity: i32,
}

fn internal_name_filter() -> &'static str {
    "metric_name NOT LIKE 'redscope.%'"
}

fn opt_string(row: &Map<String, Value>, key: &str) -> Option<String> {
    row.get(key).and_then(Value::as_str).map(str::to_string)
}

fn string(row: &Map<String, Value>, key: &str) -> String {
    opt_string(row, key).unwrap_or_default()
}

impl QueryService {
    /// The user's metrics with points in `range` (never redscope's own `redscope.*` ones).
    pub async fn metric_families(&self, range: TimeRange) -> Result<Vec<MetricFamily>, QueryError> {
        let sql = format!(
            "SELECT metric_name, metric_type, unit, max(description) AS description, \
             bool_or(is_monotonic) AS is_monotonic, max(aggregation_temporality) AS temporality \
             FROM metric_points WHERE time_unix_nano >= {} AND time_unix_nano < {} AND {} \
             GROUP BY metric_name, metric_type, unit ORDER BY metric_name",
            range.start_ns,
            range.end_ns,
            internal_name_filter()
        );
        let mut out = Vec::new();
        for r in to_json_rows(&self.collect(&sql).await?)? {
            out.push(MetricFamily {
                name: string(&r, "metric_name"),
                metric_type: string(&r, "metric_type"),
                unit: string(&r, "unit"),
                description: string(&r, "description"),
                is_monotonic: r
                    .get("is_monotonic")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                temporality: r
                    .get("temporality")
                    .and_then(Value::as_i64)
                    .and_then(|t| i32::try_from(t).ok())
                    .unwrap_or(0),
            });
        }
        Ok(out)
    }

    /// The points of metric `name` in `range`, oldest first, at most `max_points` of them.
    pub async fn metric_points(
        &self,
        name: &str,
        range: TimeRange,
        max_points: usize,
    ) -> Result<Vec<MetricPointRow>, QueryError> {
        let sql = format!(
            "SELECT * FROM metric_points WHERE metric_name = {} AND time_unix_nano >= {} \
             AND time_unix_nano < {} ORDER BY time_unix_nano LIMIT {}",
            quote(name),
            range.start_ns,
            range.end_ns,
            max_points
        );
        let mut rows = Vec::new();
        for b in &self.collect(&sql).await? {
            if let model::Batch::Metrics(r) =
                storage::schema::from_record_batch(Signal::Metrics, b)?
            {
                rows.extend(r);
            }
        }
        Ok(rows)
    }

    /// The resources that sent the user's metrics in `range`, with their first and last point.
    pub async fn metric_resources(
        &self,
        range: TimeRange,
    ) -> Result<Vec<MetricResource>, QueryError> {
        let sql = format!(
            "SELECT service_name, service_namespace, service_instance_id, resource_attributes, \
             min(time_unix_nano) AS first_ns, max(time_unix_nano) AS last_ns FROM metric_points \
             WHERE time_unix_nano >= {} AND time_unix_nano < {} AND {} GROUP BY 1, 2, 3, 4",
            range.start_ns,
            range.end_ns,
            internal_name_filter()
        );
        let mut out = Vec::new();
        for r in to_json_rows(&self.collect(&sql).await?)? {
            out.push(MetricResource {
                service_name: string(&r, "service_name"),
                service_namespace: opt_string(&r, "service_namespace"),
                service_instance_id: opt_string(&r, "service_instance_id"),
                resource_attributes: string(&r, "resource_attributes"),
                first_ns: r.get("first_ns").and_then(Value::as_i64).unwrap_or(0),
                last_ns: r.get("last_ns").and_then(Value::as_i64).unwrap_or(0),
            });
        }
        Ok(out)
    }

    /// The distinct streams (metric, resource basics, attributes) of the user's metrics in
    /// `range`: what label names and values are answered from without reading points.
    pub async fn metric_streams(&self, range: TimeRange) -> Result<Vec<MetricStream>, QueryError> {
        let sql = format!(
            "SELECT DISTINCT metric_name, service_name, service_namespace, service_instance_id, \
             attributes FROM metric_points WHERE time_unix_nano >= {} AND time_unix_nano < {} \
             AND {}",
            range.start_ns,
            range.end_ns,
            internal_name_filter()
        );
        let mut out = Vec::new();
        for r in to_json_rows(&self.collect(&sql).await?)? {
            out.push(MetricStream {
                name: string(&r, "metric_name"),
                service_name: string(&r, "service_name"),
                service_namespace: opt_string(&r, "service_namespace"),
                service_instance_id: opt_string(&r, "service_instance_id"),
                attributes: string(&r, "attributes"),
            });
        }
        Ok(out)
    }

    /// The RED rollups of the whole minutes overlapping `range`, one per key and minute.
    pub async fn red_minutes(&self, range: TimeRange) -> Result<Vec<RedMinute>, QueryError> {
        let rollups = self.rollups(analysis::RED_METRIC, range, None).await?;
        let mut out = Vec::new();
        for r in rollups.iter() {
            let mut sketch = analysis::Sketch::default();
            r.merge_into(&mut sketch);
            out.push(RedMinute {
                t: r.t,
                service: r.service.clone(),
                operation: r.attr("operation").to_string(),
                span_kind: r.attr("span.kind").to_string(),
                error: r.error,
                requests: r.requests,
                counts: sketch.counts,
                sum_ms: sketch.sum_ms,
            });
        }
        Ok(out)
    }

    /// The log-pattern rollups of the whole minutes overlapping `range`.
    pub async fn log_minutes(&self, range: TimeRange) -> Result<Vec<LogMinute>, QueryError> {
        let rollups = self.rollups(analysis::PATTERN_METRIC, range, None).await?;
        let mut out = Vec::new();
        for r in rollups.iter() {
            out.push(LogMinute {
                t: r.t,
                service: r.service.clone(),
                template_id: r.attr("template_id").to_string(),
                records: r.requests,
                // Severity numbers are small integers, exact in the rollup's f64.
                max_severity: r.max.map_or(0, |m| m as i32),
            });
        }
        Ok(out)
    }
}
