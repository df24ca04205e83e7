//! Error groups: browser errors by fingerprint, with how many occurrences, users and sessions,
//! when first and last seen, and in which releases.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::attrs::*;
use crate::event::{Event, Kind};
use crate::sessions::{self, TimelineItem};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ErrorGroup {
    pub fingerprint: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    pub count: u64,
    pub users: u64,
    pub sessions: u64,
    pub first_seen_unix_nano: i64,
    pub last_seen_unix_nano: i64,
    pub releases: Vec<String>,
    pub services: Vec<String>,
    /// Routes it happened on, most frequent first (at most five).
    pub routes: Vec<String>,
    /// The stack of the latest occurrence (symbolicated when a source map was uploaded).
    pub stack: Option<String>,
    pub symbolicated: bool,
}

/// One occurrence of an error.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Occurrence {
    pub time_unix_nano: i64,
    pub session_id: String,
    pub user_id: Option<String>,
    pub url: Option<String>,
    pub release: Option<String>,
    pub trace_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ErrorDetail {
    pub group: ErrorGroup,
    /// The stack as the browser sent it, when the group's stack was symbolicated.
    pub original_stack: Option<String>,
    /// The newest occurrences first.
    pub occurrences: Vec<Occurrence>,
    /// What the session of the latest occurrence did up to the error.
    pub breadcrumbs: Vec<TimelineItem>,
}

#[derive(Default)]
struct Acc<'a> {
    count: u64,
    users: BTreeSet<&'a str>,
    sessions: BTreeSet<&'a str>,
    first: i64,
    latest: Option<&'a Event>,
    releases: BTreeSet<&'a str>,
    services: BTreeSet<&'a str>,
    routes: BTreeMap<&'a str, u64>,
}

/// The groups of the errors among `events`, the most frequent first.
pub fn groups(events: &[Event]) -> Vec<ErrorGroup> {
    let mut by: BTreeMap<&str, Acc> = BTreeMap::new();
    for e in events.iter().filter(|e| e.kind() == Kind::Error) {
        let Some(fp) = e.fingerprint() else { continue };
        let acc = by.entry(fp).or_insert_with(|| Acc {
            first: i64::MAX,
            ..Acc::default()
        });
        acc.count += 1;
        // Without a user, the session stands for one.
        acc.users
            .insert(e.user_id().unwrap_or(e.session_id.as_str()));
        acc.sessions.insert(e.session_id.as_str());
        acc.first = acc.first.min(e.time_ns);
        if acc.latest.is_none_or(|l| l.time_ns <= e.time_ns) {
            acc.latest = Some(e);
        }
        if let Some(r) = &e.release {
            acc.releases.insert(r.as_str());
        }
        acc.services.insert(e.service.as_str());
        if let Some(r) = e.route() {
            *acc.routes.entry(r).or_default() += 1;
        }
    }
    let mut out: Vec<ErrorGroup> = by
        .into_iter()
        .filter_map(|(fp, acc)| group_of(fp, acc))
        .collect();
    most_frequent_first(&mut out);
    out
}

/// The order groups are listed in: the most frequent first, then the latest seen.
pub(crate) fn most_frequent_first(groups: &mut [ErrorGroup]) {
    groups.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| b.last_seen_unix_nano.cmp(&a.last_seen_unix_nano))
    });
}

fn group_of(fp: &str, acc: Acc<'_>) -> Option<ErrorGroup> {
    let latest = acc.latest?;
    let mut routes: Vec<(&str, u64)> = acc.routes.into_iter().collect();
    routes.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    Some(ErrorGroup {
        fingerprint: fp.to_string(),
        kind: latest.str(EXCEPTION_TYPE).unwrap_or("Error").to_string(),
        message: latest.str(EXCEPTION_MESSAGE).unwrap_or("").to_string(),
        count: acc.count,
        users: acc.users.len() as u64,
        sessions: acc.sessions.len() as u64,
        first_seen_unix_nano: acc.first,
        last_seen_unix_nano: latest.time_ns,
        releases: acc.releases.into_iter().map(str::to_string).collect(),
        services: acc.services.into_iter().map(str::to_string).collect(),
        routes: routes
            .into_iter()
            .take(5)
            .map(|(r, _)| r.to_string())
            .collect(),
        stack: latest.str(EXCEPTION_STACKTRACE).map(str::to_string),
        symbolicated: latest.attrs.get(SYMBOLICATED).and_then(|v| v.as_bool()) == Some(true),
    })
}

/// One group: `errors` are its occurrences (others are ignored), `session_events` the events
/// of the session of its latest occurrence (for the breadcrumbs).
pub fn detail(
    fingerprint: &str,
    errors: &[Event],
    session_events: &[Event],
    breadcrumbs: usize,
) -> Option<ErrorDetail> {
    let mine: Vec<Event> = errors
        .iter()
        .filter(|e| e.kind() == Kind::Error && e.fingerprint() == Some(fingerprint))
        .cloned()
        .collect();
    let group = groups(&mine).into_iter().next()?;
    let latest = mine.iter().max_by_key(|e| e.time_ns)?;
    let mut occurrences: Vec<Occurrence> = mine
        .iter()
        .map(|e| Occurrence {
            time_unix_nano: e.time_ns,
            session_id: e.session_id.clone(),
            user_id: e.user_id().map(str::to_string),
            url: e.url().map(str::to_string),
            release: e.release.clone(),
            trace_id: (!e.trace_id.is_empty()).then(|| e.trace_id.clone()),
        })
        .collect();
    occurrences.sort_by_key(|o| std::cmp::Reverse(o.time_unix_nano));
    occurrences.truncate(50);
    Some(ErrorDetail {
        original_stack: latest
            .str(EXCEPTION_STACKTRACE_ORIGINAL)
            .map(str::to_string),
        breadcrumbs: sessions::breadcrumbs(
            session_events,
            &latest.session_id,
            latest.time_ns,
            breadcrumbs,
        ),
        occurrences,
        group,
    })
}

/// The session of the latest occurrence of `fingerprint`, and when it happened.
pub fn latest_occurrence<'a>(errors: &'a [Event], fingerprint: &str) -> Option<&'a Event> {
    errors
        .iter()
        .filter(|e| e.fingerprint() == Some(fingerprint))
        .max_by_key(|e| e.time_ns)
}
