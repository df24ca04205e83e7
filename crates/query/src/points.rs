//! Raw metric points and per-minute rollups as typed rows, for evaluators that keep their own
//! series model (the `promql` crate): which metrics a window holds, the points of one metric,
//! the resources that sent metrics, and the RED and log-pattern rollups per minute.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Field, Float64Type, Int32Type, Int64Type, UInt32Type, UInt64Type,
};
use model::{MetricPointRow, TimeRange};
use serde_json::{Map, Value};

use crate::rollup::column;
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

/// Which of the heavier columns a point read needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PointColumns {
    /// Histogram buckets (explicit and exponential).
    pub buckets: bool,
    /// Summary quantiles.
    pub quantiles: bool,
}

const BASIC_COLUMNS: [&str; 12] = [
    "time_unix_nano",
    "metric_type",
    "unit",
    "service_name",
    "service_namespace",
    "service_instance_id",
    "attributes",
    "aggregation_temporality",
    "flags",
    "value",
    "count",
    "sum",
];

const BUCKET_COLUMNS: [&str; 8] = [
    "bucket_counts",
    "explicit_bounds",
    "exp_scale",
    "exp_zero_count",
    "exp_zero_threshold",
    "exp_positive_offset",
    "exp_positive_bucket_counts",
    "exp_negative_bucket_counts",
];

/// Typed access to the columns of one batch (a missing column reads as empty).
struct Columns<'a>(&'a RecordBatch);

impl Columns<'_> {
    fn get(&self, name: &str, want: &DataType) -> Result<Option<ArrayRef>, QueryError> {
        if self.0.column_by_name(name).is_none() {
            return Ok(None);
        }
        Ok(Some(column(self.0, name, want)?.into_owned()))
    }
}

fn list_type(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new_list_field(item, true)))
}

fn strings(a: &Option<ArrayRef>, i: usize) -> Option<String> {
    let a = a.as_ref()?.as_string::<i32>();
    (!a.is_null(i)).then(|| a.value(i).to_string())
}

fn prim<T: arrow::datatypes::ArrowPrimitiveType>(
    a: &Option<ArrayRef>,
    i: usize,
) -> Option<T::Native> {
    let a = a.as_ref()?.as_primitive::<T>();
    (!a.is_null(i)).then(|| a.value(i))
}

fn list<T: arrow::datatypes::ArrowPrimitiveType>(a: &Option<ArrayRef>, i: usize) -> Vec<T::Native> {
    let Some(a) = a.as_ref() else {
        return Vec::new();
    };
    let l = a.as_list::<i32>();
    if l.is_null(i) {
        return Vec::new();
    }
    l.value(i).as_primitive::<T>().values().to_vec()
}

/// The rows of a batch of the point read's columns.
fn point_rows(b: &RecordBatch, name: &str) -> Result<Vec<MetricPointRow>, QueryError> {
    let c = Columns(b);
    let utf8 = DataType::Utf8;
    let time = c.get("time_unix_nano", &DataType::Int64)?;
    let metric_type = c.get("metric_type", &utf8)?;
    let unit = c.get("unit", &utf8)?;
    let service = c.get("service_name", &utf8)?;
    let namespace = c.get("service_namespace", &utf8)?;
    let instance = c.get("service_instance_id", &utf8)?;
    let attributes = c.get("attributes", &utf8)?;
    let temporality = c.get("aggregation_temporality", &DataType::Int32)?;
    let flags = c.get("flags", &DataType::UInt32)?;
    let value = c.get("value", &DataType::Float64)?;
    let count = c.get("count", &DataType::UInt64)?;
    let sum = c.get("sum", &DataType::Float64)?;
    let buckets = c.get("bucket_counts", &list_type(DataType::UInt64))?;
    let bounds = c.get("explicit_bounds", &list_type(DataType::Float64))?;
    let scale = c.get("exp_scale", &DataType::Int32)?;
    let zero_count = c.get("exp_zero_count", &DataType::UInt64)?;
    let zero_threshold = c.get("exp_zero_threshold", &DataType::Float64)?;
    let positive_offset = c.get("exp_positive_offset", &DataType::Int32)?;
    let positive = c.get("exp_positive_bucket_counts", &list_type(DataType::UInt64))?;
    let negative = c.get("exp_negative_bucket_counts", &list_type(DataType::UInt64))?;
    let quantiles = c.get("quantiles", &list_type(DataType::Float64))?;
    let quantile_values = c.get("quantile_values", &list_type(DataType::Float64))?;
    let mut rows = Vec::with_capacity(b.num_rows());
    for i in 0..b.num_rows() {
        rows.push(MetricPointRow {
            time_unix_nano: prim::<Int64Type>(&time, i).unwrap_or(0),
            metric_name: name.to_string(),
            metric_type: strings(&metric_type, i).unwrap_or_default(),
            unit: strings(&unit, i).unwrap_or_default(),
            resource: model::Resource {
                service_name: strings(&service, i).unwrap_or_default(),
                service_namespace: strings(&namespace, i),
                service_instance_id: strings(&instance, i),
                ..model::Resource::default()
            },
            attributes: strings(&attributes, i).unwrap_or_default(),
            aggregation_temporality: prim::<Int32Type>(&temporality, i).unwrap_or(0),
            flags: prim::<UInt32Type>(&flags, i).unwrap_or(0),
            value: prim::<Float64Type>(&value, i),
            count: prim::<UInt64Type>(&count, i),
            sum: prim::<Float64Type>(&sum, i),
            bucket_counts: list::<UInt64Type>(&buckets, i),
            explicit_bounds: list::<Float64Type>(&bounds, i),
            exp_scale: prim::<Int32Type>(&scale, i),
            exp_zero_count: prim::<UInt64Type>(&zero_count, i),
            exp_zero_threshold: prim::<Float64Type>(&zero_threshold, i),
            exp_positive_offset: prim::<Int32Type>(&positive_offset, i),
            exp_positive_bucket_counts: list::<UInt64Type>(&positive, i),
            exp_negative_bucket_counts: list::<UInt64Type>(&negative, i),
            quantiles: list::<Float64Type>(&quantiles, i),
            quantile_values: list::<Float64Type>(&quantile_values, i),
            ..MetricPointRow::default()
        });
    }
    Ok(rows)
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

    /// The points of metric `name` in `range` (in no particular order), at most `max_points`,
    /// with only the columns `columns` asks for besides the basics (time, type, unit, service,
    /// instance, attributes, temporality, flags, value, count, sum); the others are empty.
    pub async fn metric_points(
        &self,
        name: &str,
        range: TimeRange,
        max_points: usize,
        columns: PointColumns,
    ) -> Result<Vec<MetricPointRow>, QueryError> {
        self.reads
            .record(model::Signal::Metrics, crate::ReadKind::MetricName, name);
        let mut select: Vec<&str> = BASIC_COLUMNS.to_vec();
        if columns.buckets {
            select.extend(BUCKET_COLUMNS);
        }
        if columns.quantiles {
            select.extend(["quantiles", "quantile_values"]);
        }
        let sql = format!(
            "SELECT {} FROM metric_points WHERE metric_name = {} AND time_unix_nano >= {} \
             AND time_unix_nano < {} LIMIT {}",
            select.join(", "),
            quote(name),
            range.start_ns,
            range.end_ns,
            max_points
        );
        let batches = self.collect(&sql).await?;
        let name = name.to_string();
        tokio::task::spawn_blocking(move || {
            let mut rows = Vec::new();
            for b in &batches {
                rows.extend(point_rows(b, &name)?);
            }
            Ok(rows)
        })
        .await
        .map_err(|e| QueryError::Internal(format!("reading points failed: {e}")))?
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
