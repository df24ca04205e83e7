//! The size of a record as sent, estimated from what is stored of it: names, bodies,
//! attributes, events, buckets, plus a fixed part for times and ids (the resource, sent once
//! per batch, is left out). The usage explorer sums the same columns and fixed parts in SQL
//! (`query::usage::bytes_sql`, built from the constants here), so what a rule saves, what a
//! budget counts and what usage shows are the same bytes.

use model::{LogRow, MetricPointRow, SpanRow};

/// The fixed part of a span: times, ids, kind, status.
pub const SPAN_FIXED: u64 = 64;
/// The fixed part of a log record: times, ids, severity number, flags.
pub const LOG_FIXED: u64 = 40;
/// The fixed part of a metric point: times, value, type.
pub const POINT_FIXED: u64 = 48;
/// What one histogram bucket adds (its bound and count).
pub const BUCKET: u64 = 16;

pub fn span_bytes(r: &SpanRow) -> u64 {
    span_bytes_of(
        &r.name,
        &r.attributes,
        &r.events,
        &r.links,
        &r.status_message,
    )
}

/// [`span_bytes`] from a span's stored columns.
pub fn span_bytes_of(name: &str, attributes: &str, events: &str, links: &str, status: &str) -> u64 {
    SPAN_FIXED + (name.len() + attributes.len() + events.len() + links.len() + status.len()) as u64
}

pub fn log_bytes(r: &LogRow) -> u64 {
    log_bytes_of(&r.body, &r.attributes, &r.severity_text)
}

/// [`log_bytes`] from a log record's stored columns.
pub fn log_bytes_of(body: &str, attributes: &str, severity_text: &str) -> u64 {
    LOG_FIXED + (body.len() + attributes.len() + severity_text.len()) as u64
}

pub fn point_bytes(r: &MetricPointRow) -> u64 {
    POINT_FIXED
        + (r.metric_name.len() + r.attributes.len()) as u64
        + BUCKET * r.bucket_counts.len() as u64
}
