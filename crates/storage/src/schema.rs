//! Arrow schemas of the stored tables and conversion between rows and record batches.

use std::sync::{Arc, OnceLock};

use arrow::array::{ArrayRef, Int32Array, Int64Array, RecordBatch, StringBuilder, UInt32Array};
use arrow::datatypes::{FieldRef, Schema, SchemaRef};
use model::{LogRow, MetricPointRow, Resource, Signal, SpanRow};
use serde_arrow::schema::{SchemaLike, TracingOptions};

use crate::StorageError;

fn some_resource() -> Resource {
    let s = || Some("x".to_string());
    Resource {
        service_name: "x".into(),
        service_namespace: s(),
        service_version: s(),
        service_instance_id: s(),
        deployment_environment: s(),
        host_name: s(),
        k8s_namespace_name: s(),
        k8s_pod_name: s(),
        container_id: s(),
        resource_attributes: "{}".into(),
        scope_name: String::new(),
        scope_version: String::new(),
    }
}

fn options() -> TracingOptions {
    TracingOptions::default()
        .allow_null_fields(true)
        .strings_as_large_utf8(false)
        .sequence_as_large_list(false)
}

/// Traces the schema from a fully populated sample and an empty one, so that every `Option`
/// becomes a nullable column of its real type.
fn trace<T: serde::Serialize>(full: T, empty: T) -> Vec<FieldRef> {
    let fields = Vec::<FieldRef>::from_samples(&[full, empty], options());
    fields.unwrap_or_else(|e| panic!("row types must have a schema: {e}"))
}

fn span_fields() -> Vec<FieldRef> {
    let s = || Some("x".to_string());
    let full = SpanRow {
        resource: some_resource(),
        http_request_method: s(),
        http_route: s(),
        http_response_status_code: Some(1),
        url_full: s(),
        server_address: s(),
        server_port: Some(1),
        db_system: s(),
        db_namespace: s(),
        db_operation_name: s(),
        db_query_text: s(),
        rpc_system: s(),
        rpc_service: s(),
        rpc_method: s(),
        messaging_system: s(),
        messaging_destination_name: s(),
        messaging_operation: s(),
        peer_service: s(),
        enduser_id: s(),
        session_id: s(),
        ..SpanRow::default()
    };
    trace(full, SpanRow::default())
}

fn log_fields() -> Vec<FieldRef> {
    let full = LogRow {
        resource: some_resource().into(),
        log_template_id: Some("x".into()),
        log_template: Some("x".into()),
        ..LogRow::default()
    };
    trace(full, LogRow::default())
}

fn metric_fields() -> Vec<FieldRef> {
    let full = MetricPointRow {
        resource: some_resource(),
        value: Some(1.0),
        value_int: Some(1),
        count: Some(1),
        sum: Some(1.0),
        min: Some(1.0),
        max: Some(1.0),
        bucket_counts: vec![1],
        explicit_bounds: vec![1.0],
        exp_scale: Some(1),
        exp_zero_count: Some(1),
        exp_zero_threshold: Some(1.0),
        exp_positive_offset: Some(1),
        exp_positive_bucket_counts: vec![1],
        exp_negative_offset: Some(1),
        exp_negative_bucket_counts: vec![1],
        quantiles: vec![1.0],
        quantile_values: vec![1.0],
        ..MetricPointRow::default()
    };
    trace(full, MetricPointRow::default())
}

struct Schemas {
    fields: [Vec<FieldRef>; 3],
    schemas: [SchemaRef; 3],
}

fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let fields = [span_fields(), log_fields(), metric_fields()];
        let schemas = [
            Arc::new(Schema::new(fields[0].clone())),
            Arc::new(Schema::new(fields[1].clone())),
            Arc::new(Schema::new(fields[2].clone())),
        ];
        Schemas { fields, schemas }
    })
}

fn index(signal: Signal) -> usize {
    match signal {
        Signal::Spans => 0,
        Signal::Logs => 1,
        Signal::Metrics => 2,
    }
}

/// The Arrow schema of a signal's table.
pub fn schema(signal: Signal) -> SchemaRef {
    schemas().schemas[index(signal)].clone()
}

/// Rows of one signal as a record batch.
pub fn to_record_batch(batch: &model::Batch) -> Result<RecordBatch, StorageError> {
    let fields = &schemas().fields[index(batch.signal())];
    let result = match batch {
        model::Batch::Spans(rows) => serde_arrow::to_record_batch(fields, rows),
        // Logs are the highest-volume signal: their columns are built directly (a third of
        // the cost of the generic serializer, which looks up every field by name per row).
        model::Batch::Logs(rows) => return logs_to_record_batch(rows),
        model::Batch::Metrics(rows) => serde_arrow::to_record_batch(fields, rows),
    };
    result.map_err(|e| StorageError::Encode(e.to_string()))
}

fn string_column<'a>(rows: &'a [LogRow], get: impl Fn(&'a LogRow) -> &'a str) -> ArrayRef {
    let bytes = rows.iter().map(|r| get(r).len()).sum();
    let mut b = StringBuilder::with_capacity(rows.len(), bytes);
    for r in rows {
        b.append_value(get(r));
    }
    Arc::new(b.finish())
}

fn optional_string_column<'a>(
    rows: &'a [LogRow],
    get: impl Fn(&'a LogRow) -> Option<&'a String>,
) -> ArrayRef {
    let bytes = rows.iter().map(|r| get(r).map_or(0, String::len)).sum();
    let mut b = StringBuilder::with_capacity(rows.len(), bytes);
    for r in rows {
        b.append_option(get(r));
    }
    Arc::new(b.finish())
}

/// The log table's columns, in the order of its schema, from the rows' fields.
fn logs_to_record_batch(rows: &[LogRow]) -> Result<RecordBatch, StorageError> {
    let schema = schema(Signal::Logs);
    let mut columns = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let column: ArrayRef = match field.name().as_str() {
            "time_unix_nano" => Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r.time_unix_nano),
            )),
            "observed_time_unix_nano" => Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r.observed_time_unix_nano),
            )),
            "trace_id" => string_column(rows, |r| &r.trace_id),
            "span_id" => string_column(rows, |r| &r.span_id),
            "flags" => Arc::new(UInt32Array::from_iter_values(rows.iter().map(|r| r.flags))),
            "severity_number" => Arc::new(Int32Array::from_iter_values(
                rows.iter().map(|r| r.severity_number),
            )),
            "severity_text" => string_column(rows, |r| &r.severity_text),
            "body" => string_column(rows, |r| &r.body),
            "body_type" => string_column(rows, |r| &r.body_type),
            "event_name" => string_column(rows, |r| &r.event_name),
            "attributes" => string_column(rows, |r| &r.attributes),
            "dropped_attributes_count" => Arc::new(UInt32Array::from_iter_values(
                rows.iter().map(|r| r.dropped_attributes_count),
            )),
            "log_template_id" => optional_string_column(rows, |r| r.log_template_id.as_ref()),
            "log_template" => optional_string_column(rows, |r| r.log_template.as_ref()),
            "service_name" => string_column(rows, |r| &r.resource.service_name),
            "service_namespace" => {
                optional_string_column(rows, |r| r.resource.service_namespace.as_ref())
            }
            "service_version" => {
                optional_string_column(rows, |r| r.resource.service_version.as_ref())
            }
            "service_instance_id" => {
                optional_string_column(rows, |r| r.resource.service_instance_id.as_ref())
            }
            "deployment_environment" => {
                optional_string_column(rows, |r| r.resource.deployment_environment.as_ref())
            }
            "host_name" => optional_string_column(rows, |r| r.resource.host_name.as_ref()),
            "k8s_namespace_name" => {
                optional_string_column(rows, |r| r.resource.k8s_namespace_name.as_ref())
            }
            "k8s_pod_name" => optional_string_column(rows, |r| r.resource.k8s_pod_name.as_ref()),
            "container_id" => optional_string_column(rows, |r| r.resource.container_id.as_ref()),
            "resource_attributes" => string_column(rows, |r| &r.resource.resource_attributes),
            "scope_name" => string_column(rows, |r| &r.resource.scope_name),
            "scope_version" => string_column(rows, |r| &r.resource.scope_version),
            other => {
                return Err(StorageError::Encode(format!(
                    "log column {other} has no row field"
                )));
            }
        };
        columns.push(column);
    }
    RecordBatch::try_new(schema, columns).map_err(|e| StorageError::Encode(e.to_string()))
}

/// A record batch of a signal's table back as rows (all columns must be present).
pub fn from_record_batch(
    signal: Signal,
    batch: &RecordBatch,
) -> Result<model::Batch, StorageError> {
    let decode = |e: serde_arrow::Error| StorageError::Decode(e.to_string());
    Ok(match signal {
        Signal::Spans => {
            model::Batch::Spans(serde_arrow::from_record_batch(batch).map_err(decode)?)
        }
        Signal::Logs => model::Batch::Logs(serde_arrow::from_record_batch(batch).map_err(decode)?),
        Signal::Metrics => {
            model::Batch::Metrics(serde_arrow::from_record_batch(batch).map_err(decode)?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_have_real_nullable_columns() {
        let spans = schema(Signal::Spans);
        let route = spans
            .field_with_name("http_route")
            .expect("http_route column");
        assert!(route.is_nullable());
        assert_eq!(route.data_type(), &arrow::datatypes::DataType::Utf8);
        let name = spans
            .field_with_name("service_name")
            .expect("service_name column");
        assert!(!name.is_nullable());
        let metrics = schema(Signal::Metrics);
        assert!(matches!(
            metrics
                .field_with_name("bucket_counts")
                .expect("bucket_counts")
                .data_type(),
            arrow::datatypes::DataType::List(_)
        ));
    }

    fn log_row(i: usize) -> LogRow {
        let some = |s: &str| i.is_multiple_of(2).then(|| format!("{s}-{i}"));
        LogRow {
            time_unix_nano: i as i64 * 1_000,
            observed_time_unix_nano: i as i64 * 1_001,
            trace_id: format!("{i:032x}"),
            span_id: format!("{i:016x}"),
            flags: i as u32,
            severity_number: (i % 24) as i32,
            severity_text: "WARN".into(),
            body: format!("line {i} with \"quotes\" and ünïcode"),
            body_type: "string".into(),
            event_name: some("event").unwrap_or_default(),
            resource: Resource {
                service_name: format!("svc-{}", i % 3),
                service_namespace: some("ns"),
                service_version: some("v"),
                service_instance_id: some("inst"),
                deployment_environment: some("env"),
                host_name: some("host"),
                k8s_namespace_name: some("k8sns"),
                k8s_pod_name: some("pod"),
                container_id: some("ctr"),
                resource_attributes: format!("{{\"i\":{i}}}"),
                scope_name: "scope".into(),
                scope_version: "1".into(),
            }
            .into(),
            attributes: format!("{{\"a\":{i}}}"),
            dropped_attributes_count: (i % 3) as u32,
            log_template_id: some("tid"),
            log_template: i.is_multiple_of(3).then(|| "line <*>".to_string()),
        }
    }

    #[test]
    fn direct_log_columns_equal_the_generic_encoding() {
        let rows: Vec<LogRow> = (0..50).map(log_row).chain([LogRow::default()]).collect();
        let direct = to_record_batch(&model::Batch::Logs(rows.clone())).expect("direct");
        let generic = serde_arrow::to_record_batch(&schemas().fields[1], &rows).expect("generic");
        assert_eq!(direct, generic);
        let back = from_record_batch(Signal::Logs, &direct).expect("decode");
        assert_eq!(back, model::Batch::Logs(rows));
    }

    #[test]
    fn rows_round_trip_through_arrow() {
        let row = SpanRow {
            trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
            name: "GET /cart".into(),
            http_route: Some("/cart".into()),
            resource: Resource {
                service_name: "cart".into(),
                ..Resource::default()
            },
            ..SpanRow::default()
        };
        let batch = model::Batch::Spans(vec![row.clone(), SpanRow::default()]);
        let rb = to_record_batch(&batch).expect("encode");
        assert_eq!(rb.num_rows(), 2);
        let back = from_record_batch(Signal::Spans, &rb).expect("decode");
        assert_eq!(back, batch);
    }
}
