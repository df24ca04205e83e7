//! Real user monitoring views (`/api/v1/web/...`): browser events read from the stored logs
//! and spans as [`rum::Event`]s, then a session's timeline, an error group's occurrences and
//! funnels computed by the `rum` crate over them. The lists and aggregates (sessions, error
//! groups, vitals) are answered from rollups (`web_rollup`); their computation from the events
//! stays here for comparison.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int64Type};
use model::TimeRange;
use rum::event::Event;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::rollup::column;
use crate::sql::quote;
use crate::{QueryError, QueryService};

/// Most events one question reads; beyond it the answer says `truncated`.
pub const MAX_EVENTS: usize = 200_000;

/// Which browser events to read.
#[derive(Debug, Clone, Default)]
pub struct WebFilter {
    pub service: Option<String>,
    /// Only this session's events.
    pub session_id: Option<String>,
    /// Only error events of this fingerprint.
    pub fingerprint: Option<String>,
    /// Only log records of these event names (spans are left out then).
    pub event_names: Option<Vec<String>>,
    /// Leave out sessions of bots and test browsers.
    pub exclude_synthetic: bool,
    /// With `event_names`: the document load spans too (page views of the OpenTelemetry
    /// document load instrumentation), but no other spans.
    pub document_loads: bool,
    /// Only these attributes are read (`None`: all): parsing the attributes of every event is
    /// most of a question's time, and most questions need a few.
    pub keys: Option<Vec<String>>,
}

/// Events and whether more matched than were read.
#[derive(Debug, Default)]
pub struct WebEvents {
    pub events: Vec<Event>,
    pub truncated: bool,
}

/// A `LIKE` pattern matching `text` anywhere.
pub(crate) fn contains_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    quote(&format!("%{escaped}%"))
}

pub(crate) fn strings<'a>(
    batch: &'a RecordBatch,
    name: &str,
) -> Result<std::borrow::Cow<'a, arrow::array::ArrayRef>, QueryError> {
    column(batch, name, &DataType::Utf8)
}

pub(crate) fn parse_attrs(text: &str, keys: Option<&[String]>) -> Map<String, Value> {
    rum::event::parse_attrs(text, keys)
}

/// The attributes the summaries of sessions, error groups and vitals read.
pub fn summary_keys() -> Vec<String> {
    rum::event::SUMMARY_KEYS
        .iter()
        .map(|k| k.to_string())
        .collect()
}

pub(crate) fn session_of(attrs: &Map<String, Value>) -> String {
    attrs
        .get(rum::attrs::SESSION_ID)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

impl QueryService {
    /// The browser events of `range` matching `filter`, oldest first.
    pub async fn web_events(
        &self,
        range: TimeRange,
        filter: &WebFilter,
    ) -> Result<WebEvents, QueryError> {
        let mut out = WebEvents::default();
        self.web_log_events(range, filter, &mut out).await?;
        let all = filter.event_names.is_none() && filter.fingerprint.is_none();
        if all || filter.document_loads {
            self.web_span_events(range, filter, &mut out).await?;
        }
        out.events.sort_by_key(|e| e.time_ns);
        if filter.exclude_synthetic {
            let synthetic: std::collections::HashSet<String> = out
                .events
                .iter()
                .filter(|e| e.str(rum::attrs::SYNTHETIC).is_some())
                .map(|e| e.session_id.clone())
                .collect();
            out.events.retain(|e| !synthetic.contains(&e.session_id));
        }
        Ok(out)
    }

    async fn web_log_events(
        &self,
        range: TimeRange,
        filter: &WebFilter,
        out: &mut WebEvents,
    ) -> Result<(), QueryError> {
        let mut conds = vec![
            format!("time_unix_nano >= {}", range.start_ns),
            format!("time_unix_nano < {}", range.end_ns),
        ];
        // Conjuncts are applied in turn: the event name (a dictionary column) narrows the rows
        // before any attributes text is looked at. Browser events always have one (ingest
        // copies `event.name` into it).
        match &filter.event_names {
            Some(names) => {
                let list: Vec<String> = names.iter().map(|n| quote(n)).collect();
                conds.push(format!("event_name IN ({})", list.join(", ")));
            }
            None => {
                conds.push("event_name <> ''".to_string());
                conds.push(
                    "(event_name LIKE 'browser.%' OR attributes LIKE '%\"session.id\"%')"
                        .to_string(),
                );
            }
        }
        if let Some(s) = &filter.service {
            conds.push(format!("service_name = {}", quote(s)));
        }
        if let Some(id) = &filter.session_id {
            conds.push(format!("attributes LIKE {}", contains_pattern(id)));
        }
        if let Some(fp) = &filter.fingerprint {
            conds.push(format!("attributes LIKE {}", contains_pattern(fp)));
        }
        if let Some(t) = self
            .newest_boundary("logs", "time_unix_nano", &conds)
            .await?
        {
            conds.push(format!("time_unix_nano > {t}"));
            out.truncated = true;
        }
        let sql = format!(
            "SELECT time_unix_nano, event_name, attributes, service_name, service_version, trace_id, span_id, \
             CASE WHEN event_name = '{}' THEN '' ELSE body END AS body \
             FROM logs WHERE {}",
            rum::attrs::EVENT_REPLAY,
            conds.join(" AND "),
        );
        for batch in &self.collect(&sql).await? {
            let times = column(batch, "time_unix_nano", &DataType::Int64)?;
            let times = times.as_primitive::<Int64Type>();
            let (names, attrs) = (strings(batch, "event_name")?, strings(batch, "attributes")?);
            let (services, versions) = (
                strings(batch, "service_name")?,
                strings(batch, "service_version")?,
            );
            let (traces, spans) = (strings(batch, "trace_id")?, strings(batch, "span_id")?);
            let bodies = strings(batch, "body")?;
            let (names, attrs, services) = (
                names.as_string::<i32>(),
                attrs.as_string::<i32>(),
                services.as_string::<i32>(),
            );
            let (versions, traces, spans) = (
                versions.as_string::<i32>(),
                traces.as_string::<i32>(),
                spans.as_string::<i32>(),
            );
            let bodies = bodies.as_string::<i32>();
            for row in 0..batch.num_rows() {
                if out.events.len() >= MAX_EVENTS {
                    out.truncated = true;
                    break;
                }
                let attributes = parse_attrs(attrs.value(row), filter.keys.as_deref());
                let mut name = names.value(row).to_string();
                if name.is_empty() {
                    name = attributes
                        .get(rum::attrs::EVENT_NAME)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                }
                out.events.push(Event {
                    time_ns: times.value(row),
                    name,
                    session_id: session_of(&attributes),
                    service: services.value(row).to_string(),
                    release: versions
                        .is_valid(row)
                        .then(|| versions.value(row).to_string())
                        .filter(|v| !v.is_empty()),
                    trace_id: traces.value(row).to_string(),
                    span_id: spans.value(row).to_string(),
                    duration_ns: None,
                    attrs: attributes,
                    body: bodies.value(row).to_string(),
                });
            }
        }
        Ok(())
    }

    async fn web_span_events(
        &self,
        range: TimeRange,
        filter: &WebFilter,
        out: &mut WebEvents,
    ) -> Result<(), QueryError> {
        let mut conds = vec![
            format!("start_time_unix_nano >= {}", range.start_ns),
            format!("start_time_unix_nano < {}", range.end_ns),
            "session_id IS NOT NULL".to_string(),
        ];
        if filter.document_loads && filter.event_names.is_some() {
            conds.push("name = 'documentLoad'".to_string());
        }
        if let Some(s) = &filter.service {
            conds.push(format!("service_name = {}", quote(s)));
        }
        if let Some(id) = &filter.session_id {
            conds.push(format!("session_id = {}", quote(id)));
        }
        if let Some(t) = self
            .newest_boundary("spans", "start_time_unix_nano", &conds)
            .await?
        {
            conds.push(format!("start_time_unix_nano > {t}"));
            out.truncated = true;
        }
        let sql = format!(
            "SELECT start_time_unix_nano, duration_ns, name, kind, attributes, service_name, service_version, trace_id, span_id, session_id \
             FROM spans WHERE {}",
            conds.join(" AND "),
        );
        for batch in &self.collect(&sql).await? {
            let times = column(batch, "start_time_unix_nano", &DataType::Int64)?;
            let durations = column(batch, "duration_ns", &DataType::Int64)?;
            let (times, durations) = (
                times.as_primitive::<Int64Type>(),
                durations.as_primitive::<Int64Type>(),
            );
            let (names, kinds, attrs) = (
                strings(batch, "name")?,
                strings(batch, "kind")?,
                strings(batch, "attributes")?,
            );
            let (services, versions) = (
                strings(batch, "service_name")?,
                strings(batch, "service_version")?,
            );
            let (traces, spans, sessions) = (
                strings(batch, "trace_id")?,
                strings(batch, "span_id")?,
                strings(batch, "session_id")?,
            );
            let (names, kinds, attrs) = (
                names.as_string::<i32>(),
                kinds.as_string::<i32>(),
                attrs.as_string::<i32>(),
            );
            let (services, versions) = (services.as_string::<i32>(), versions.as_string::<i32>());
            let (traces, spans, sessions) = (
                traces.as_string::<i32>(),
                spans.as_string::<i32>(),
                sessions.as_string::<i32>(),
            );
            for row in 0..batch.num_rows() {
                if out.events.len() >= MAX_EVENTS {
                    out.truncated = true;
                    break;
                }
                let attributes = parse_attrs(attrs.value(row), filter.keys.as_deref());
                let Some(name) = Event::span_name(names.value(row), kinds.value(row), &attributes)
                else {
                    continue;
                };
                out.events.push(Event {
                    time_ns: times.value(row),
                    name: name.to_string(),
                    session_id: sessions.value(row).to_string(),
                    service: services.value(row).to_string(),
                    release: versions
                        .is_valid(row)
                        .then(|| versions.value(row).to_string())
                        .filter(|v| !v.is_empty()),
                    trace_id: traces.value(row).to_string(),
                    span_id: spans.value(row).to_string(),
                    duration_ns: Some(durations.value(row)),
                    attrs: attributes,
                    body: String::new(),
                });
            }
        }
        Ok(())
    }

    /// When more than [`MAX_EVENTS`] rows match, the time after which the newest of them lie:
    /// found from the time column alone, so that the attributes of the others are never read.
    async fn newest_boundary(
        &self,
        table: &str,
        time_column: &str,
        conds: &[String],
    ) -> Result<Option<i64>, QueryError> {
        let sql = format!(
            "SELECT {time_column} AS t FROM {table} WHERE {} ORDER BY {time_column} DESC LIMIT 1 OFFSET {MAX_EVENTS}",
            conds.join(" AND ")
        );
        for batch in &self.collect(&sql).await? {
            let times = column(batch, "t", &DataType::Int64)?;
            let times = times.as_primitive::<Int64Type>();
            if batch.num_rows() > 0 {
                return Ok(Some(times.value(0)));
            }
        }
        Ok(None)
    }

    /// Sessions that had events in `range`, newest first, computed from the events (what
    /// [`QueryService::web_sessions`] answers from the rollups; for comparison).
    pub async fn web_sessions_from_events(
        &self,
        range: TimeRange,
        q: &SessionSearch,
    ) -> Result<SessionsPage, QueryError> {
        let mut filter = q.filter.clone();
        filter.keys = Some(summary_keys());
        let got = self.web_events(range, &filter).await?;
        let mut sessions = rum::sessions::summaries(&got.events);
        sessions.retain(|s| {
            q.user
                .as_ref()
                .is_none_or(|u| s.user_id.as_ref() == Some(u))
                && (!q.errors_only || s.errors > 0)
                && q.min_duration_ms.is_none_or(|d| s.duration_ms >= d)
        });
        let total = sessions.len();
        sessions.truncate(q.limit);
        Ok(SessionsPage {
            total,
            truncated: got.truncated,
            sessions,
        })
    }

    /// One session's timeline.
    pub async fn web_session(
        &self,
        range: TimeRange,
        session_id: &str,
    ) -> Result<rum::sessions::SessionDetail, QueryError> {
        let filter = WebFilter {
            session_id: Some(session_id.to_string()),
            ..WebFilter::default()
        };
        let got = self.web_events(range, &filter).await?;
        rum::sessions::detail(session_id, &got.events)
            .ok_or_else(|| QueryError::NotFound(format!("session '{session_id}'")))
    }

    /// Error groups of `range` computed from the events (for comparison with the rollups).
    pub async fn web_errors_from_events(
        &self,
        range: TimeRange,
        filter: &WebFilter,
        limit: usize,
    ) -> Result<ErrorGroups, QueryError> {
        let mut filter = filter.clone();
        filter.event_names = Some(vec![rum::attrs::EVENT_ERROR.to_string()]);
        filter.keys = Some(summary_keys());
        let got = self.web_events(range, &filter).await?;
        let mut groups = rum::errors::groups(&got.events);
        let total = groups.len();
        groups.truncate(limit);
        Ok(ErrorGroups {
            total,
            truncated: got.truncated,
            groups,
        })
    }

    /// One error group with its occurrences and the breadcrumbs of the latest.
    pub async fn web_error(
        &self,
        range: TimeRange,
        fingerprint: &str,
    ) -> Result<rum::errors::ErrorDetail, QueryError> {
        let filter = WebFilter {
            fingerprint: Some(fingerprint.to_string()),
            event_names: Some(vec![rum::attrs::EVENT_ERROR.to_string()]),
            ..WebFilter::default()
        };
        let errors = self.web_events(range, &filter).await?.events;
        let not_found = || QueryError::NotFound(format!("error group '{fingerprint}'"));
        let latest = rum::errors::latest_occurrence(&errors, fingerprint).ok_or_else(not_found)?;
        // The session up to the error: its last half hour is plenty for breadcrumbs.
        let before = TimeRange::new(latest.time_ns - 1_800_000_000_000, latest.time_ns + 1)
            .map_err(|_| QueryError::Internal("breadcrumb window".to_string()))?;
        let session = WebFilter {
            session_id: Some(latest.session_id.clone()),
            ..WebFilter::default()
        };
        let session_events = if latest.session_id.is_empty() {
            Vec::new()
        } else {
            self.web_events(before, &session).await?.events
        };
        rum::errors::detail(fingerprint, &errors, &session_events, 30).ok_or_else(not_found)
    }

    /// Web Vitals per group computed from the events (exact p75; for comparison with the
    /// rollups).
    pub async fn web_vitals_from_events(
        &self,
        range: TimeRange,
        filter: &WebFilter,
        group_by: rum::vitals::GroupBy,
    ) -> Result<Vitals, QueryError> {
        let mut filter = filter.clone();
        filter.event_names = Some(vec![rum::attrs::EVENT_WEB_VITAL.to_string()]);
        filter.keys = Some(summary_keys());
        let got = self.web_events(range, &filter).await?;
        Ok(Vitals {
            truncated: got.truncated,
            groups: rum::vitals::aggregate(&got.events, group_by),
        })
    }

    /// A funnel over the events of `range`.
    pub async fn web_funnel(
        &self,
        range: TimeRange,
        filter: &WebFilter,
        q: &rum::funnel::FunnelQuery,
    ) -> Result<Funnel, QueryError> {
        let mut filter = filter.clone();
        let mut keys = summary_keys();
        keys.extend(q.breakdown.iter().cloned());
        filter.keys = Some(keys);
        if let Some(names) = step_events(q) {
            filter.event_names = Some(names);
            filter.document_loads = true;
        }
        let got = self.web_events(range, &filter).await?;
        Ok(Funnel {
            truncated: got.truncated,
            funnel: rum::funnel::compute(q, &got.events),
        })
    }
}

/// The events a funnel counted per session needs, when they can be named: per session only
/// the events of its steps count (the breakdown is read from the first step's event), so the
/// others need not be read. Per user they cannot: any event of a session may link it to its
/// user. Nor can they when a step names an event made of a span.
fn step_events(q: &rum::funnel::FunnelQuery) -> Option<Vec<String>> {
    use rum::event::{SPAN_DOCUMENT_LOAD, SPAN_INTERACTION, SPAN_REQUEST};
    use rum::funnel::{Step, Unit};
    if q.unit != Unit::Session {
        return None;
    }
    let mut names = Vec::new();
    for step in &q.steps {
        let name = match step {
            Step::Page(_) => rum::attrs::EVENT_PAGE_VIEW,
            Step::Event(name)
                if [SPAN_REQUEST, SPAN_DOCUMENT_LOAD, SPAN_INTERACTION]
                    .contains(&name.as_str()) =>
            {
                return None;
            }
            Step::Event(name) => name.as_str(),
        };
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    Some(names)
}

/// What `/api/v1/web/sessions` filters by.
#[derive(Debug, Clone, Default)]
pub struct SessionSearch {
    pub filter: WebFilter,
    pub user: Option<String>,
    pub errors_only: bool,
    pub min_duration_ms: Option<i64>,
    pub limit: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionsPage {
    /// Sessions matching, before the limit.
    pub total: usize,
    /// More events matched than were read: counts are of the newest ones.
    pub truncated: bool,
    pub sessions: Vec<rum::sessions::SessionSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorGroups {
    pub total: usize,
    pub truncated: bool,
    pub groups: Vec<rum::errors::ErrorGroup>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Vitals {
    pub truncated: bool,
    pub groups: Vec<rum::vitals::VitalsGroup>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Funnel {
    pub truncated: bool,
    #[serde(flatten)]
    pub funnel: rum::funnel::FunnelResult,
}
