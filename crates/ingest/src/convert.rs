//! OTLP messages → flattened rows, with validation per item for partial success.

use model::{LogRow, MetricPointRow, MetricType, Resource, SpanKind, SpanRow, StatusCode};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, exemplar, metric::Data, number_data_point,
};
use serde_json::{Map, Value};

use crate::bounds::{Adjusted, ORIGINAL_TIME_ATTRIBUTE, RecordLimits, limit_value};

/// Rows that were accepted and a description of what was rejected.
#[derive(Debug, Default)]
pub struct Converted<T> {
    pub rows: Vec<T>,
    pub rejected: u64,
    /// The first reason an item was rejected, for the partial-success message.
    pub first_error: Option<String>,
    /// What the record limits changed in accepted items.
    pub adjusted: Adjusted,
}

impl<T> Converted<T> {
    fn reject(&mut self, why: impl FnOnce() -> String) {
        self.reject_many(1, why);
    }

    fn reject_many(&mut self, items: u64, why: impl FnOnce() -> String) {
        self.rejected += items;
        if self.first_error.is_none() {
            self.first_error = Some(why());
        }
    }

    /// The partial-success message: why items were rejected, then what the limits changed.
    pub fn message(&self, limits: &RecordLimits) -> Option<String> {
        match (&self.first_error, self.adjusted.describe(limits)) {
            (Some(e), Some(a)) => Some(format!("{e}; {a}")),
            (Some(e), None) => Some(e.clone()),
            (None, a) => a,
        }
    }
}

/// Applies [`RecordLimits`] to attribute lists while converting, counting what it drops.
struct Limiter<'a> {
    limits: &'a RecordLimits,
    adjusted: Adjusted,
}

impl Limiter<'_> {
    /// The first `max_attributes` attributes as a map, values bounded, and how many were
    /// dropped (the reserved [`ORIGINAL_TIME_ATTRIBUTE`] always is).
    fn map(&mut self, attrs: &[KeyValue]) -> (Map<String, Value>, u32) {
        let max = self.limits.max_attributes;
        let mut map = Map::with_capacity(attrs.len().min(max));
        let mut dropped = 0u32;
        for kv in attrs {
            if map.len() >= max || kv.key == ORIGINAL_TIME_ATTRIBUTE {
                dropped = dropped.saturating_add(1);
                continue;
            }
            let mut v = kv.value.as_ref().map_or(Value::Null, any_value_to_json);
            limit_value(&mut v, self.limits, &mut self.adjusted);
            map.insert(kv.key.clone(), v);
        }
        self.adjusted.attributes_dropped += u64::from(dropped);
        (map, dropped)
    }

    fn json(&mut self, attrs: &[KeyValue]) -> String {
        json_text(&self.map(attrs).0)
    }

    /// How many of `len` items (events, links) to keep, counting the others as dropped.
    fn keep(&mut self, len: usize) -> (usize, u32) {
        let keep = len.min(self.limits.max_attributes);
        let dropped = u32::try_from(len - keep).unwrap_or(u32::MAX);
        self.adjusted.attributes_dropped += u64::from(dropped);
        (keep, dropped)
    }
}

/// Metric names redscope writes itself (RED, service edges, reach, log patterns): triage and
/// the rollup queries read them, so clients may not write under them.
pub const RESERVED_METRIC_PREFIX: &str = "redscope.";

/// Whether a client may not use this metric name (the prefix, in any letter case).
pub fn is_reserved_metric(name: &str) -> bool {
    let prefix = RESERVED_METRIC_PREFIX.as_bytes();
    name.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// The data points a metric carries (what OTLP partial success counts).
fn data_point_count(data: Option<&Data>) -> u64 {
    let n = match data {
        None => 0,
        Some(Data::Gauge(g)) => g.data_points.len(),
        Some(Data::Sum(s)) => s.data_points.len(),
        Some(Data::Histogram(h)) => h.data_points.len(),
        Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
        Some(Data::Summary(s)) => s.data_points.len(),
    };
    n as u64
}

/// Converts an OTLP AnyValue into JSON, keeping its type where JSON can.
pub fn any_value_to_json(value: &AnyValue) -> Value {
    match &value.value {
        None => Value::Null,
        Some(any_value::Value::StringValue(s)) => Value::String(s.clone()),
        Some(any_value::Value::BoolValue(b)) => Value::Bool(*b),
        Some(any_value::Value::IntValue(i)) => Value::from(*i),
        Some(any_value::Value::DoubleValue(d)) => serde_json::Number::from_f64(*d)
            .map_or_else(|| Value::String(d.to_string()), Value::Number),
        Some(any_value::Value::ArrayValue(a)) => {
            Value::Array(a.values.iter().map(any_value_to_json).collect())
        }
        Some(any_value::Value::KvlistValue(kv)) => Value::Object(attributes_to_map(&kv.values)),
        Some(any_value::Value::BytesValue(b)) => {
            use base64::Engine;
            Value::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
        Some(any_value::Value::StringValueStrindex(_)) => Value::Null,
    }
}

pub fn attributes_to_map(attrs: &[KeyValue]) -> Map<String, Value> {
    let mut map = Map::with_capacity(attrs.len());
    for kv in attrs {
        let v = kv.value.as_ref().map_or(Value::Null, any_value_to_json);
        map.insert(kv.key.clone(), v);
    }
    map
}

fn json_text(map: &Map<String, Value>) -> String {
    if map.is_empty() {
        return "{}".to_string();
    }
    serde_json::to_string(map).unwrap_or_else(|_| "{}".to_string())
}

fn get_str(map: &Map<String, Value>, key: &str) -> Option<String> {
    match map.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn get_first_str(map: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| get_str(map, k))
}

fn get_int(map: &Map<String, Value>, keys: &[&str]) -> Option<i64> {
    keys.iter().find_map(|k| match map.get(*k)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    })
}

/// Builds the resource columns of a resource and scope.
pub fn resource_columns(attrs: &[KeyValue], scope: Option<&InstrumentationScope>) -> Resource {
    let limits = RecordLimits::default();
    resource_within(
        attrs,
        scope,
        &mut Limiter {
            limits: &limits,
            adjusted: Adjusted::default(),
        },
    )
}

fn resource_within(
    attrs: &[KeyValue],
    scope: Option<&InstrumentationScope>,
    limiter: &mut Limiter<'_>,
) -> Resource {
    let (map, _) = limiter.map(attrs);
    Resource {
        service_name: get_str(&map, "service.name")
            .unwrap_or_else(|| "unknown_service".to_string()),
        service_namespace: get_str(&map, "service.namespace"),
        service_version: get_str(&map, "service.version"),
        service_instance_id: get_str(&map, "service.instance.id"),
        deployment_environment: get_first_str(
            &map,
            &["deployment.environment.name", "deployment.environment"],
        ),
        host_name: get_str(&map, "host.name"),
        k8s_namespace_name: get_str(&map, "k8s.namespace.name"),
        k8s_pod_name: get_str(&map, "k8s.pod.name"),
        container_id: get_str(&map, "container.id"),
        resource_attributes: json_text(&map),
        scope_name: scope.map(|s| s.name.clone()).unwrap_or_default(),
        scope_version: scope.map(|s| s.version.clone()).unwrap_or_default(),
    }
}

fn id_hex(bytes: &[u8], len: usize, what: &str) -> Result<String, String> {
    if bytes.is_empty() {
        return Ok(String::new());
    }
    if bytes.len() != len {
        return Err(format!("{what} must be {len} bytes, got {}", bytes.len()));
    }
    Ok(lower_hex(bytes))
}

/// Lowercase hex of `bytes`, allocated once at its final size.
fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

fn clamp_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// [`convert_traces_within`] the default limits.
pub fn convert_traces(req: &ExportTraceServiceRequest) -> Converted<SpanRow> {
    convert_traces_within(req, &RecordLimits::default())
}

pub fn convert_traces_within(
    req: &ExportTraceServiceRequest,
    limits: &RecordLimits,
) -> Converted<SpanRow> {
    let mut out = Converted::default();
    let mut limiter = Limiter {
        limits,
        adjusted: Adjusted::default(),
    };
    for rs in &req.resource_spans {
        let res_attrs = rs
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or(&[]);
        for ss in &rs.scope_spans {
            let resource = resource_within(res_attrs, ss.scope.as_ref(), &mut limiter);
            for span in &ss.spans {
                match convert_span(span, &resource, &mut limiter) {
                    Ok(row) => out.rows.push(row),
                    Err(e) => out.reject(|| e),
                }
            }
        }
    }
    out.adjusted = limiter.adjusted;
    out
}

fn convert_span(
    span: &opentelemetry_proto::tonic::trace::v1::Span,
    resource: &Resource,
    limiter: &mut Limiter<'_>,
) -> Result<SpanRow, String> {
    if span.trace_id.len() != 16 || span.trace_id.iter().all(|b| *b == 0) {
        return Err(format!(
            "span '{}' has an invalid trace_id (must be 16 non-zero bytes)",
            span.name
        ));
    }
    if span.span_id.len() != 8 {
        return Err(format!(
            "span '{}' has an invalid span_id (must be 8 bytes)",
            span.name
        ));
    }
    let parent = id_hex(&span.parent_span_id, 8, "parent_span_id")?;
    let (attrs, dropped_attributes) = limiter.map(&span.attributes);
    let start = clamp_i64(span.start_time_unix_nano);
    let end = clamp_i64(span.end_time_unix_nano).max(start);
    let status = span.status.as_ref();
    let (keep_events, dropped_events) = limiter.keep(span.events.len());
    let mut events = Vec::with_capacity(keep_events);
    for e in &span.events[..keep_events] {
        let (attributes, dropped) = limiter.map(&e.attributes);
        events.push(serde_json::json!({
            "time_unix_nano": clamp_i64(e.time_unix_nano),
            "name": e.name,
            "attributes": attributes,
            "dropped_attributes_count": e.dropped_attributes_count.saturating_add(dropped),
        }));
    }
    let (keep_links, dropped_links) = limiter.keep(span.links.len());
    let mut links = Vec::with_capacity(keep_links);
    for l in &span.links[..keep_links] {
        let (attributes, dropped) = limiter.map(&l.attributes);
        links.push(serde_json::json!({
            "trace_id": lower_hex(&l.trace_id),
            "span_id": lower_hex(&l.span_id),
            "trace_state": l.trace_state,
            "attributes": attributes,
            "flags": l.flags,
            "dropped_attributes_count": l.dropped_attributes_count.saturating_add(dropped),
        }));
    }
    Ok(SpanRow {
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        duration_ns: end - start,
        trace_id: lower_hex(&span.trace_id),
        span_id: lower_hex(&span.span_id),
        parent_span_id: parent,
        trace_state: span.trace_state.clone(),
        flags: span.flags,
        name: span.name.clone(),
        kind: SpanKind::from_otlp(span.kind).as_str().to_string(),
        status_code: StatusCode::from_otlp(status.map_or(0, |s| s.code))
            .as_str()
            .to_string(),
        status_message: status.map(|s| s.message.clone()).unwrap_or_default(),
        resource: resource.clone(),
        http_request_method: get_first_str(&attrs, &["http.request.method", "http.method"]),
        http_route: get_str(&attrs, "http.route"),
        http_response_status_code: get_int(
            &attrs,
            &["http.response.status_code", "http.status_code"],
        ),
        url_full: get_first_str(&attrs, &["url.full", "http.url"]),
        server_address: get_first_str(&attrs, &["server.address", "net.peer.name"]),
        server_port: get_int(&attrs, &["server.port", "net.peer.port"]),
        db_system: get_first_str(&attrs, &["db.system.name", "db.system"]),
        db_namespace: get_first_str(&attrs, &["db.namespace", "db.name"]),
        db_operation_name: get_first_str(&attrs, &["db.operation.name", "db.operation"]),
        db_query_text: get_first_str(&attrs, &["db.query.text", "db.statement"]),
        rpc_system: get_str(&attrs, "rpc.system"),
        rpc_service: get_str(&attrs, "rpc.service"),
        rpc_method: get_str(&attrs, "rpc.method"),
        messaging_system: get_str(&attrs, "messaging.system"),
        messaging_destination_name: get_str(&attrs, "messaging.destination.name"),
        messaging_operation: get_first_str(
            &attrs,
            &["messaging.operation.type", "messaging.operation"],
        ),
        peer_service: get_str(&attrs, "peer.service"),
        enduser_id: get_str(&attrs, "enduser.id"),
        session_id: get_str(&attrs, "session.id"),
        attributes: json_text(&attrs),
        events: serde_json::to_string(&events).unwrap_or_else(|_| "[]".to_string()),
        links: serde_json::to_string(&links).unwrap_or_else(|_| "[]".to_string()),
        dropped_attributes_count: span
            .dropped_attributes_count
            .saturating_add(dropped_attributes),
        dropped_events_count: span.dropped_events_count.saturating_add(dropped_events),
        dropped_links_count: span.dropped_links_count.saturating_add(dropped_links),
    })
}

/// Takes the request by value so that bodies move into their rows instead of being copied.
///
/// A record without a time of its own (`time_unix_nano` 0) keeps 0 here, so that a time found
/// in its line can fill it (Log AI); [`fill_missing_times`] gives the rest their observed time.
pub fn convert_logs(req: ExportLogsServiceRequest) -> Converted<LogRow> {
    convert_logs_within(req, &RecordLimits::default())
}

/// [`convert_logs`] within `limits` (attribute count and value length; times are bounded once
/// Log AI has had its say, by [`crate::bounds::bound_log_times`]).
pub fn convert_logs_within(
    mut req: ExportLogsServiceRequest,
    limits: &RecordLimits,
) -> Converted<LogRow> {
    let mut out = Converted::default();
    let mut limiter = Limiter {
        limits,
        adjusted: Adjusted::default(),
    };
    let records: usize = req
        .resource_logs
        .iter()
        .flat_map(|rl| &rl.scope_logs)
        .map(|sl| sl.log_records.len())
        .sum();
    out.rows.reserve_exact(records);
    for rl in &mut req.resource_logs {
        let res_attrs = rl
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or(&[]);
        for sl in &mut rl.scope_logs {
            let resource =
                std::sync::Arc::new(resource_within(res_attrs, sl.scope.as_ref(), &mut limiter));
            for rec in &mut sl.log_records {
                let trace_id = match id_hex(&rec.trace_id, 16, "trace_id") {
                    Ok(t) => t,
                    Err(e) => {
                        out.reject(|| format!("log record: {e}"));
                        continue;
                    }
                };
                let span_id = match id_hex(&rec.span_id, 8, "span_id") {
                    Ok(s) => s,
                    Err(e) => {
                        out.reject(|| format!("log record: {e}"));
                        continue;
                    }
                };
                let (body, body_type) = match rec.body.as_mut().and_then(|b| b.value.as_mut()) {
                    None => (String::new(), "empty"),
                    Some(any_value::Value::StringValue(s)) => (std::mem::take(s), "string"),
                    Some(_) => {
                        let v = rec.body.as_ref().map_or(Value::Null, any_value_to_json);
                        (v.to_string(), "json")
                    }
                };
                let (attributes, dropped) = limiter.map(&rec.attributes);
                out.rows.push(LogRow {
                    time_unix_nano: clamp_i64(rec.time_unix_nano),
                    observed_time_unix_nano: clamp_i64(rec.observed_time_unix_nano),
                    trace_id,
                    span_id,
                    flags: rec.flags,
                    severity_number: rec.severity_number,
                    severity_text: std::mem::take(&mut rec.severity_text),
                    body,
                    body_type: body_type.to_string(),
                    event_name: std::mem::take(&mut rec.event_name),
                    resource: std::sync::Arc::clone(&resource),
                    attributes: json_text(&attributes),
                    dropped_attributes_count: rec.dropped_attributes_count.saturating_add(dropped),
                    log_template_id: None,
                    log_template: None,
                });
            }
        }
    }
    out.adjusted = limiter.adjusted;
    out
}

/// Gives records that still have no time (neither their own nor one from their line) their
/// observed time, or `now_ns` when they have none either.
pub fn fill_missing_times(rows: &mut [LogRow], now_ns: i64) {
    for row in rows {
        if row.time_unix_nano == 0 {
            row.time_unix_nano = if row.observed_time_unix_nano != 0 {
                row.observed_time_unix_nano
            } else {
                now_ns
            };
        }
    }
}

fn exemplars_json(exemplars: &[Exemplar], limiter: &mut Limiter<'_>) -> String {
    if exemplars.is_empty() {
        return "[]".to_string();
    }
    let list: Vec<Value> = exemplars
        .iter()
        .map(|e| {
            let value = match e.value {
                Some(exemplar::Value::AsDouble(d)) => serde_json::json!(d),
                Some(exemplar::Value::AsInt(i)) => serde_json::json!(i),
                None => Value::Null,
            };
            serde_json::json!({
                "time_unix_nano": clamp_i64(e.time_unix_nano),
                "value": value,
                "trace_id": lower_hex(&e.trace_id),
                "span_id": lower_hex(&e.span_id),
                "filtered_attributes": limiter.map(&e.filtered_attributes).0,
            })
        })
        .collect();
    serde_json::to_string(&list).unwrap_or_else(|_| "[]".to_string())
}

struct MetricHead<'a> {
    name: &'a str,
    unit: &'a str,
    description: &'a str,
    metadata: String,
    resource: &'a Resource,
}

impl MetricHead<'_> {
    #[allow(clippy::too_many_arguments)]
    fn row(
        &self,
        limiter: &mut Limiter<'_>,
        kind: MetricType,
        attrs: &[KeyValue],
        start: u64,
        time: u64,
        flags: u32,
    ) -> MetricPointRow {
        MetricPointRow {
            time_unix_nano: clamp_i64(time),
            start_time_unix_nano: clamp_i64(start),
            metric_name: self.name.to_string(),
            metric_type: kind.as_str().to_string(),
            unit: self.unit.to_string(),
            description: self.description.to_string(),
            metric_metadata: self.metadata.clone(),
            resource: self.resource.clone(),
            attributes: limiter.json(attrs),
            flags,
            exemplars: "[]".to_string(),
            ..MetricPointRow::default()
        }
    }
}

pub fn convert_metrics(req: &ExportMetricsServiceRequest) -> Converted<MetricPointRow> {
    convert_metrics_within(req, &RecordLimits::default())
}

pub fn convert_metrics_within(
    req: &ExportMetricsServiceRequest,
    limits: &RecordLimits,
) -> Converted<MetricPointRow> {
    let mut out = Converted::default();
    let mut limiter = Limiter {
        limits,
        adjusted: Adjusted::default(),
    };
    for rm in &req.resource_metrics {
        let res_attrs = rm
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or(&[]);
        for sm in &rm.scope_metrics {
            let resource = resource_within(res_attrs, sm.scope.as_ref(), &mut limiter);
            for metric in &sm.metrics {
                if metric.name.is_empty() {
                    out.reject(|| "metric without a name".to_string());
                    continue;
                }
                if is_reserved_metric(&metric.name) {
                    let points = data_point_count(metric.data.as_ref()).max(1);
                    out.reject_many(points, || {
                        format!(
                            "metric '{}': names under '{RESERVED_METRIC_PREFIX}' are reserved for redscope's own metrics",
                            metric.name
                        )
                    });
                    continue;
                }
                let head = MetricHead {
                    name: &metric.name,
                    unit: &metric.unit,
                    description: &metric.description,
                    metadata: limiter.json(&metric.metadata),
                    resource: &resource,
                };
                convert_metric_data(&head, metric.data.as_ref(), &mut out, &mut limiter);
            }
        }
    }
    out.adjusted = limiter.adjusted;
    out
}

fn convert_metric_data(
    head: &MetricHead<'_>,
    data: Option<&Data>,
    out: &mut Converted<MetricPointRow>,
    limiter: &mut Limiter<'_>,
) {
    let number = |row: &mut MetricPointRow, v: &Option<number_data_point::Value>| match v {
        Some(number_data_point::Value::AsDouble(d)) => {
            row.value = Some(*d);
            true
        }
        Some(number_data_point::Value::AsInt(i)) => {
            row.value = Some(*i as f64);
            row.value_int = Some(*i);
            true
        }
        None => false,
    };
    match data {
        None => out.reject(|| format!("metric '{}' has no data", head.name)),
        Some(Data::Gauge(g)) => {
            for p in &g.data_points {
                let mut row = head.row(
                    limiter,
                    MetricType::Gauge,
                    &p.attributes,
                    p.start_time_unix_nano,
                    p.time_unix_nano,
                    p.flags,
                );
                row.exemplars = exemplars_json(&p.exemplars, limiter);
                if number(&mut row, &p.value) {
                    out.rows.push(row);
                } else {
                    out.reject(|| format!("gauge '{}' has a point without a value", head.name));
                }
            }
        }
        Some(Data::Sum(s)) => {
            for p in &s.data_points {
                let mut row = head.row(
                    limiter,
                    MetricType::Sum,
                    &p.attributes,
                    p.start_time_unix_nano,
                    p.time_unix_nano,
                    p.flags,
                );
                row.aggregation_temporality = s.aggregation_temporality;
                row.is_monotonic = s.is_monotonic;
                row.exemplars = exemplars_json(&p.exemplars, limiter);
                if number(&mut row, &p.value) {
                    out.rows.push(row);
                } else {
                    out.reject(|| format!("sum '{}' has a point without a value", head.name));
                }
            }
        }
        Some(Data::Histogram(h)) => {
            for p in &h.data_points {
                if !p.bucket_counts.is_empty()
                    && p.bucket_counts.len() != p.explicit_bounds.len() + 1
                {
                    out.reject(|| {
                        format!(
                            "histogram '{}' has {} bucket counts for {} bounds",
                            head.name,
                            p.bucket_counts.len(),
                            p.explicit_bounds.len()
                        )
                    });
                    continue;
                }
                let mut row = head.row(
                    limiter,
                    MetricType::Histogram,
                    &p.attributes,
                    p.start_time_unix_nano,
                    p.time_unix_nano,
                    p.flags,
                );
                row.aggregation_temporality = h.aggregation_temporality;
                row.count = Some(p.count);
                row.sum = p.sum;
                row.min = p.min;
                row.max = p.max;
                row.bucket_counts = p.bucket_counts.clone();
                row.explicit_bounds = p.explicit_bounds.clone();
                row.exemplars = exemplars_json(&p.exemplars, limiter);
                out.rows.push(row);
            }
        }
        Some(Data::ExponentialHistogram(h)) => {
            for p in &h.data_points {
                let mut row = head.row(
                    limiter,
                    MetricType::ExponentialHistogram,
                    &p.attributes,
                    p.start_time_unix_nano,
                    p.time_unix_nano,
                    p.flags,
                );
                row.aggregation_temporality = h.aggregation_temporality;
                row.count = Some(p.count);
                row.sum = p.sum;
                row.min = p.min;
                row.max = p.max;
                row.exp_scale = Some(p.scale);
                row.exp_zero_count = Some(p.zero_count);
                row.exp_zero_threshold = Some(p.zero_threshold);
                if let Some(b) = &p.positive {
                    row.exp_positive_offset = Some(b.offset);
                    row.exp_positive_bucket_counts = b.bucket_counts.clone();
                }
                if let Some(b) = &p.negative {
                    row.exp_negative_offset = Some(b.offset);
                    row.exp_negative_bucket_counts = b.bucket_counts.clone();
                }
                row.exemplars = exemplars_json(&p.exemplars, limiter);
                out.rows.push(row);
            }
        }
        Some(Data::Summary(s)) => {
            for p in &s.data_points {
                let mut row = head.row(
                    limiter,
                    MetricType::Summary,
                    &p.attributes,
                    p.start_time_unix_nano,
                    p.time_unix_nano,
                    p.flags,
                );
                row.count = Some(p.count);
                row.sum = Some(p.sum);
                row.quantiles = p.quantile_values.iter().map(|q| q.quantile).collect();
                row.quantile_values = p.quantile_values.iter().map(|q| q.value).collect();
                out.rows.push(row);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_lowercase_hex_of_their_bytes() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(lower_hex(&bytes), hex::encode(&bytes));
        assert_eq!(
            id_hex(&[0xab; 8], 8, "span_id").unwrap(),
            "abababababababab"
        );
        assert_eq!(id_hex(&[], 8, "span_id").unwrap(), "");
        assert!(
            id_hex(&[1; 3], 8, "span_id")
                .unwrap_err()
                .contains("8 bytes, got 3")
        );
    }

    #[test]
    fn reserved_metric_names_are_refused_point_by_point() {
        use opentelemetry_proto::tonic::metrics::v1::{
            Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
        };
        let gauge = |name: &str, points: usize| Metric {
            name: name.to_string(),
            data: Some(Data::Gauge(Gauge {
                data_points: vec![
                    NumberDataPoint {
                        time_unix_nano: 1,
                        value: Some(number_data_point::Value::AsInt(1)),
                        ..Default::default()
                    };
                    points
                ],
            })),
            ..Default::default()
        };
        let req = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![
                        gauge("redscope.red.duration", 2),
                        gauge("RedScope.Trace.reach", 1),
                        gauge("redscopes.client", 1),
                        gauge("app.redscope.x", 1),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let c = convert_metrics(&req);
        assert_eq!(c.rejected, 3);
        assert_eq!(c.rows.len(), 2);
        assert!(c.first_error.unwrap().contains("reserved"));
        assert!(!is_reserved_metric("redscope"));
        assert!(!is_reserved_metric("rédscope.x"));
    }

    fn kv(key: String, value: String) -> KeyValue {
        KeyValue {
            key,
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(value)),
            }),
            ..Default::default()
        }
    }

    fn many(n: usize) -> Vec<KeyValue> {
        (0..n)
            .map(|i| kv(format!("k{i}"), format!("v{i}")))
            .collect()
    }

    #[test]
    fn attributes_beyond_the_limits_are_dropped_and_counted() {
        use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
        use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
        let mut attributes = many(100_000);
        attributes[3] = kv("long".into(), "é".repeat(20_000));
        attributes[4] = kv(ORIGINAL_TIME_ATTRIBUTE.into(), "1".into());
        let req = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(opentelemetry_proto::tonic::resource::v1::Resource {
                    attributes: many(300),
                    ..Default::default()
                }),
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord {
                        attributes,
                        dropped_attributes_count: 2,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let limits = RecordLimits::default();
        let c = convert_logs_within(req, &limits);
        assert_eq!(c.rejected, 0);
        let row = &c.rows[0];
        let attrs: Map<String, Value> = serde_json::from_str(&row.attributes).unwrap();
        assert_eq!(
            attrs.len(),
            128,
            "the reserved one dropped, the first others kept"
        );
        assert!(!attrs.contains_key(ORIGINAL_TIME_ATTRIBUTE));
        assert!(attrs["long"].as_str().unwrap().len() <= 16 << 10);
        assert_eq!(row.dropped_attributes_count, 2 + 100_000 - 128);
        let resource: Map<String, Value> =
            serde_json::from_str(&row.resource.resource_attributes).unwrap();
        assert_eq!(resource.len(), 128);
        assert_eq!(c.adjusted.attributes_dropped, (100_000 - 128) + (300 - 128));
        assert_eq!(c.adjusted.values_truncated, 1);
        let message = c.message(&limits).unwrap();
        assert!(
            message.contains("attributes dropped beyond 128"),
            "{message}"
        );
    }

    #[test]
    fn span_events_and_links_are_bounded_too() {
        use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span};
        let span = Span {
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            attributes: many(200),
            events: vec![
                span::Event {
                    attributes: many(130),
                    ..Default::default()
                };
                150
            ],
            links: vec![span::Link::default(); 129],
            ..Default::default()
        };
        let req = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![span],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let c = convert_traces_within(&req, &RecordLimits::default());
        let row = &c.rows[0];
        assert_eq!(row.dropped_attributes_count, 72);
        assert_eq!(row.dropped_events_count, 22);
        assert_eq!(row.dropped_links_count, 1);
        let events: Vec<Value> = serde_json::from_str(&row.events).unwrap();
        assert_eq!(events.len(), 128);
        assert_eq!(events[0]["dropped_attributes_count"], 2);
        // Within the limits nothing changes.
        let plain = convert_traces(&ExportTraceServiceRequest::default());
        assert_eq!(plain.adjusted, Adjusted::default());
    }
}
