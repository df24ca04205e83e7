//! Stored rows as [`Event`]s, for the rollups at ingest: the same events the query-time
//! reader (`query::web`) makes of the stored logs and spans, with the attributes the summaries
//! read.

use serde_json::Value;

use crate::attrs::*;
use crate::event::{Event, SUMMARY_KEYS, parse_attrs};

/// Whether a log record is a browser event: named, and named `browser.*` or of a session.
pub fn is_browser_log(row: &model::LogRow) -> bool {
    !row.event_name.is_empty()
        && (row.event_name.starts_with("browser.") || row.attributes.contains("\"session.id\""))
}

fn release_of(resource: &model::Resource) -> Option<String> {
    resource.service_version.clone().filter(|v| !v.is_empty())
}

/// The event of a browser log record, `None` for other records.
pub fn from_log(row: &model::LogRow) -> Option<Event> {
    if !is_browser_log(row) {
        return None;
    }
    let attrs = parse_attrs(&row.attributes, Some(SUMMARY_KEYS));
    Some(Event {
        time_ns: row.time_unix_nano,
        name: row.event_name.clone(),
        session_id: attrs
            .get(SESSION_ID)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        service: row.resource.service_name.clone(),
        release: release_of(&row.resource),
        trace_id: row.trace_id.clone(),
        span_id: row.span_id.clone(),
        duration_ns: None,
        attrs,
        body: String::new(),
    })
}

/// The event of a browser span (one of a session, in one of the shapes [`Event::span_name`]
/// knows), `None` for other spans.
pub fn from_span(row: &model::SpanRow) -> Option<Event> {
    let session = row.session_id.as_ref()?;
    let attrs = parse_attrs(&row.attributes, Some(SUMMARY_KEYS));
    let name = Event::span_name(&row.name, &row.kind, &attrs)?;
    Some(Event {
        time_ns: row.start_time_unix_nano,
        name: name.to_string(),
        session_id: session.clone(),
        service: row.resource.service_name.clone(),
        release: release_of(&row.resource),
        trace_id: row.trace_id.clone(),
        span_id: row.span_id.clone(),
        duration_ns: Some(row.duration_ns),
        attrs,
        body: String::new(),
    })
}
