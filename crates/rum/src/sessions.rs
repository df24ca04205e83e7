//! Sessions: the events of one `session.id` as a visit (when, how long, which pages, errors,
//! who, on what) and as a timeline of page views with their vitals and requests.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::attrs::*;
use crate::event::{Event, Kind};
use crate::vitals;

/// One session at a glance.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SessionSummary {
    pub session_id: String,
    pub start_unix_nano: i64,
    pub end_unix_nano: i64,
    pub duration_ms: i64,
    pub page_views: u64,
    pub errors: u64,
    pub clicks: u64,
    pub requests: u64,
    pub events: u64,
    pub user_id: Option<String>,
    pub service: String,
    pub release: Option<String>,
    pub browser: Option<String>,
    pub browser_version: Option<String>,
    pub os: Option<String>,
    pub device: Option<String>,
    /// `bot` or `test` when the user agent is not a person's.
    pub synthetic: Option<String>,
    pub entry_page: Option<String>,
    pub exit_page: Option<String>,
    /// One page view and nothing done on it (no click, no custom event).
    pub bounce: bool,
    pub has_replay: bool,
}

/// Summaries of the sessions among `events` (any order), newest first.
pub fn summaries(events: &[Event]) -> Vec<SessionSummary> {
    let mut by_session: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    for e in events.iter().filter(|e| !e.session_id.is_empty()) {
        by_session.entry(e.session_id.as_str()).or_default().push(e);
    }
    let mut out: Vec<SessionSummary> = by_session
        .into_iter()
        .map(|(id, mut es)| {
            es.sort_by_key(|e| e.time_ns);
            summarize(id, &es)
        })
        .collect();
    out.sort_by(|a, b| {
        b.start_unix_nano
            .cmp(&a.start_unix_nano)
            .then_with(|| a.session_id.cmp(&b.session_id))
    });
    out
}

/// The summary of one session's events, sorted by time.
fn summarize(id: &str, es: &[&Event]) -> SessionSummary {
    let count = |k: Kind| es.iter().filter(|e| e.kind() == k).count() as u64;
    let pages: Vec<&&Event> = es.iter().filter(|e| e.kind() == Kind::PageView).collect();
    let first_with = |key: &str| es.iter().find_map(|e| e.str(key).map(str::to_string));
    let start = es.first().map_or(0, |e| e.time_ns);
    let end = es
        .iter()
        .map(|e| e.time_ns + e.duration_ns.unwrap_or(0))
        .max()
        .unwrap_or(start);
    let clicks = count(Kind::Click);
    let custom = count(Kind::Custom);
    let page_views = pages.len() as u64;
    SessionSummary {
        session_id: id.to_string(),
        start_unix_nano: start,
        end_unix_nano: end,
        duration_ms: (end - start) / 1_000_000,
        page_views,
        errors: count(Kind::Error),
        clicks,
        requests: count(Kind::Request),
        events: es.len() as u64,
        user_id: es
            .iter()
            .rev()
            .find_map(|e| e.user_id().map(str::to_string)),
        service: es.first().map(|e| e.service.clone()).unwrap_or_default(),
        release: es.iter().rev().find_map(|e| e.release.clone()),
        browser: first_with(BROWSER_NAME),
        browser_version: first_with(BROWSER_VERSION),
        os: first_with(OS_NAME),
        device: first_with(DEVICE_TYPE),
        synthetic: first_with(SYNTHETIC),
        entry_page: pages
            .first()
            .and_then(|e| e.path().or(e.route()))
            .map(str::to_string),
        exit_page: pages
            .last()
            .and_then(|e| e.path().or(e.route()))
            .map(str::to_string),
        bounce: page_views == 1 && clicks == 0 && custom == 0,
        has_replay: count(Kind::Replay) > 0,
    }
}

/// One thing that happened in a session.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TimelineItem {
    pub time_unix_nano: i64,
    pub kind: Kind,
    pub name: String,
    pub page_view_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// The attributes worth showing for its kind.
    pub details: Map<String, Value>,
}

/// A page view with what belongs to it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PageView {
    pub page_view_id: Option<String>,
    pub time_unix_nano: i64,
    pub url: Option<String>,
    pub route: Option<String>,
    pub title: Option<String>,
    /// The last value of each vital: `{"LCP": {"value", "rating"}}`.
    pub vitals: BTreeMap<String, Value>,
    pub requests: Vec<TimelineItem>,
    pub errors: u64,
    pub clicks: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SessionDetail {
    pub summary: SessionSummary,
    pub page_views: Vec<PageView>,
    pub timeline: Vec<TimelineItem>,
    /// Traces started by or joined to this session (backend traces behind its requests).
    pub trace_ids: Vec<String>,
}

/// Keys shown per kind in a timeline.
fn detail_keys(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::PageView => &[
            URL_FULL,
            "http.url",
            URL_TEMPLATE,
            "page.title",
            "document.title",
            "browser.page_view.type",
        ],
        Kind::Vital => &[VITAL_NAME, VITAL_VALUE, VITAL_RATING],
        Kind::Error => &[EXCEPTION_TYPE, EXCEPTION_MESSAGE, FINGERPRINT, URL_TEMPLATE],
        Kind::Click => &[
            "browser.click.target",
            "target_element",
            "target_xpath",
            "element.text",
            URL_TEMPLATE,
        ],
        Kind::Identify => &[USER_ID],
        Kind::Request => &[
            "http.request.method",
            "http.method",
            URL_FULL,
            "http.url",
            URL_TEMPLATE,
            "http.response.status_code",
            "http.status_code",
        ],
        Kind::Replay => &["replay.segment.sequence", "replay.segment.events"],
        Kind::Custom => &[],
    }
}

/// A timeline item of an event (custom events show all their attributes but the client's).
pub fn item(e: &Event) -> TimelineItem {
    let kind = e.kind();
    let mut details = Map::new();
    if kind == Kind::Custom {
        for (k, v) in &e.attrs {
            if !is_client_key(k) {
                details.insert(k.clone(), v.clone());
            }
        }
    } else {
        for k in detail_keys(kind) {
            if let Some(v) = e.attrs.get(*k) {
                details.insert((*k).to_string(), v.clone());
            }
        }
    }
    TimelineItem {
        time_unix_nano: e.time_ns,
        kind,
        name: e.name.clone(),
        page_view_id: e.page_view_id().map(str::to_string),
        trace_id: (!e.trace_id.is_empty()).then(|| e.trace_id.clone()),
        duration_ms: e.duration_ns.map(|d| d as f64 / 1e6),
        details,
    }
}

/// Attributes every event of a session repeats (who and where), left out of custom details.
fn is_client_key(k: &str) -> bool {
    matches!(
        k,
        SESSION_ID
            | PAGE_VIEW_ID
            | USER_ID
            | ANONYMOUS_ID
            | "enduser.id"
            | EVENT_NAME
            | URL_FULL
            | URL_PATH
            | URL_TEMPLATE
    ) || k.starts_with("browser.")
        || k.starts_with("os.")
        || k.starts_with("device.")
        || k.starts_with("user_agent.")
}

/// The session's page views (requests, vitals, errors and clicks attached by `page_view.id`,
/// else to the page view they follow) and its whole timeline.
pub fn detail(session_id: &str, events: &[Event]) -> Option<SessionDetail> {
    let mut es: Vec<&Event> = events
        .iter()
        .filter(|e| e.session_id == session_id)
        .collect();
    if es.is_empty() {
        return None;
    }
    es.sort_by_key(|e| e.time_ns);
    let summary = summarize(session_id, &es);
    let mut page_views: Vec<PageView> = Vec::new();
    let mut trace_ids = BTreeSet::new();
    for e in &es {
        if !e.trace_id.is_empty() {
            trace_ids.insert(e.trace_id.clone());
        }
        if e.kind() == Kind::PageView {
            page_views.push(PageView {
                page_view_id: e.page_view_id().map(str::to_string),
                time_unix_nano: e.time_ns,
                url: e.url().map(str::to_string),
                route: e.route().map(str::to_string),
                title: e
                    .str("page.title")
                    .or(e.str("document.title"))
                    .map(str::to_string),
                vitals: BTreeMap::new(),
                requests: Vec::new(),
                errors: 0,
                clicks: 0,
            });
        }
    }
    for e in &es {
        let kind = e.kind();
        if kind == Kind::PageView {
            continue;
        }
        let Some(view) = owning_view(&mut page_views, e) else {
            continue;
        };
        match kind {
            Kind::Request => view.requests.push(item(e)),
            Kind::Error => view.errors += 1,
            Kind::Click => view.clicks += 1,
            Kind::Vital => {
                if let Some(m) = vitals::measurement(e) {
                    let v = serde_json::json!({"value": m.value, "rating": m.rating});
                    view.vitals.insert(m.name, v);
                }
            }
            _ => {}
        }
    }
    let timeline = es
        .iter()
        .filter(|e| e.kind() != Kind::Replay)
        .map(|e| item(e))
        .collect();
    Some(SessionDetail {
        summary,
        page_views,
        timeline,
        trace_ids: trace_ids.into_iter().collect(),
    })
}

/// The page view an event belongs to: by id, else the last one that started before it.
fn owning_view<'a>(views: &'a mut [PageView], e: &Event) -> Option<&'a mut PageView> {
    if let Some(id) = e.page_view_id()
        && let Some(i) = views
            .iter()
            .position(|v| v.page_view_id.as_deref() == Some(id))
    {
        return views.get_mut(i);
    }
    let i = views.iter().rposition(|v| v.time_unix_nano <= e.time_ns)?;
    views.get_mut(i)
}

/// The events of a session just before `time_ns` (at most `limit`, oldest first): the
/// breadcrumbs of an error.
pub fn breadcrumbs(
    events: &[Event],
    session_id: &str,
    time_ns: i64,
    limit: usize,
) -> Vec<TimelineItem> {
    let mut before: Vec<&Event> = events
        .iter()
        .filter(|e| e.session_id == session_id && e.time_ns <= time_ns && e.kind() != Kind::Replay)
        .collect();
    before.sort_by_key(|e| e.time_ns);
    let skip = before.len().saturating_sub(limit);
    before[skip..].iter().map(|e| item(e)).collect()
}
