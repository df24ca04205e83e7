//! The questions answered from the parts: the same summaries, groups and vitals that
//! `sessions::summaries`, `errors::groups` and `vitals::aggregate` compute from the events.

use std::collections::BTreeMap;

use super::{ErrorPart, Row, SessionPart, VitalKey, VitalPart};
use crate::errors::ErrorGroup;
use crate::sessions::SessionSummary;
use crate::vitals::{GroupBy, VitalStats, VitalsGroup, round4};

/// Which sessions a list shows.
#[derive(Debug, Clone, Default)]
pub struct SessionQuery {
    pub user: Option<String>,
    pub errors_only: bool,
    pub min_duration_ms: Option<i64>,
    pub exclude_synthetic: bool,
    pub limit: usize,
}

/// A session merged from its parts (most sessions have one: it is copied only when merged),
/// and the service of its earliest part. Small, since a day's list moves tens of thousands.
struct Merged<'a> {
    service: &'a str,
    first: &'a SessionPart,
    merged: Option<Box<SessionPart>>,
}

impl<'a> Merged<'a> {
    fn part(&self) -> &SessionPart {
        self.merged.as_deref().unwrap_or(self.first)
    }

    fn merge(&mut self, other: &SessionPart) {
        self.merged
            .get_or_insert_with(|| Box::new(self.first.clone()))
            .merge(other);
    }
}

/// Newest first, then by id.
fn newest_first(a: &Merged, b: &Merged) -> std::cmp::Ordering {
    let (a, b) = (a.part(), b.part());
    b.start
        .cmp(&a.start)
        .then_with(|| a.session.cmp(&b.session))
}

/// The sessions of `rows` matching `q`, newest first: how many matched, and the first
/// `q.limit` of them.
pub fn sessions<'a>(
    rows: impl Iterator<Item = &'a Row<SessionPart>>,
    q: &SessionQuery,
) -> (usize, Vec<SessionSummary>) {
    let mut by: rustc_hash::FxHashMap<&str, Merged<'a>> = Default::default();
    for row in rows {
        match by.get_mut(row.part.session.as_str()) {
            Some(m) => {
                if row.part.start < m.part().start {
                    m.service = &row.service;
                }
                m.merge(&row.part);
            }
            None => {
                let merged = Merged {
                    service: &row.service,
                    first: &row.part,
                    merged: None,
                };
                by.insert(&row.part.session, merged);
            }
        }
    }
    let mut matching: Vec<Merged> = by.into_values().filter(|m| matches(m.part(), q)).collect();
    let total = matching.len();
    // Only the page is sorted: the newest `limit` are picked first.
    if q.limit < matching.len() {
        if q.limit == 0 {
            matching.clear();
        } else {
            matching.select_nth_unstable_by(q.limit - 1, newest_first);
            matching.truncate(q.limit);
        }
    }
    matching.sort_by(newest_first);
    let page = matching.into_iter().map(summary).collect();
    (total, page)
}

fn value(at: &Option<super::At>) -> Option<String> {
    at.as_ref().and_then(|a| a.v.clone())
}

fn matches(p: &SessionPart, q: &SessionQuery) -> bool {
    let duration_ms = (p.end - p.start) / 1_000_000;
    (!q.exclude_synthetic || p.synthetic.is_none())
        && q.user
            .as_ref()
            .is_none_or(|u| value(&p.user).as_ref() == Some(u))
        && (!q.errors_only || p.errors > 0)
        && q.min_duration_ms.is_none_or(|d| duration_ms >= d)
}

fn summary(m: Merged<'_>) -> SessionSummary {
    let p = match m.merged {
        Some(p) => *p,
        None => m.first.clone(),
    };
    SessionSummary {
        start_unix_nano: p.start,
        end_unix_nano: p.end,
        duration_ms: (p.end - p.start) / 1_000_000,
        page_views: p.page_views,
        errors: p.errors,
        clicks: p.clicks,
        requests: p.requests,
        events: p.events,
        user_id: value(&p.user),
        service: m.service.to_string(),
        release: value(&p.release),
        browser: value(&p.browser),
        browser_version: value(&p.browser_version),
        os: value(&p.os),
        device: value(&p.device),
        synthetic: value(&p.synthetic),
        entry_page: value(&p.entry),
        exit_page: value(&p.exit),
        bounce: p.page_views == 1 && p.clicks == 0 && p.custom == 0,
        has_replay: p.replays > 0,
        session_id: p.session,
    }
}

/// The error groups of `rows`, the most frequent first.
pub fn errors<'a>(
    rows: impl Iterator<Item = &'a Row<ErrorPart>>,
    exclude_synthetic: bool,
) -> Vec<ErrorGroup> {
    let mut by: BTreeMap<&str, (ErrorPart, std::collections::BTreeSet<&str>)> = BTreeMap::new();
    for row in rows.filter(|r| !(exclude_synthetic && r.part.synthetic)) {
        match by.get_mut(row.part.fingerprint.as_str()) {
            Some((part, services)) => {
                part.merge(row.part.clone());
                services.insert(&row.service);
            }
            None => {
                let services = std::iter::once(row.service.as_str()).collect();
                by.insert(&row.part.fingerprint, (row.part.clone(), services));
            }
        }
    }
    let mut out: Vec<ErrorGroup> = by
        .into_iter()
        .map(|(fp, (part, services))| group_of(fp, part, services))
        .collect();
    crate::errors::most_frequent_first(&mut out);
    out
}

fn group_of(fp: &str, p: ErrorPart, services: std::collections::BTreeSet<&str>) -> ErrorGroup {
    let mut routes: Vec<(String, u64)> = p.routes.into_iter().collect();
    routes.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let estimate = |hashes: Vec<u64>| analysis::DistinctSample { hashes }.estimate();
    ErrorGroup {
        fingerprint: fp.to_string(),
        kind: p.latest.kind.unwrap_or_else(|| "Error".to_string()),
        message: p.latest.message.unwrap_or_default(),
        count: p.count,
        users: estimate(p.users),
        sessions: estimate(p.sessions),
        first_seen_unix_nano: p.first,
        last_seen_unix_nano: p.latest.t,
        releases: p.releases,
        services: services.into_iter().map(str::to_string).collect(),
        routes: routes.into_iter().take(5).map(|(r, _)| r).collect(),
        stack: p.latest.stack,
        symbolicated: p.latest.symbolicated,
    }
}

/// The group of a vital's key.
fn group_key(key: &VitalKey, by: GroupBy) -> String {
    let v = match by {
        GroupBy::None => return "all".to_string(),
        GroupBy::Route => &key.route,
        GroupBy::Release => &key.release,
        GroupBy::Device => &key.device,
        GroupBy::Browser => &key.browser,
    };
    v.clone().unwrap_or_else(|| "(unknown)".to_string())
}

/// Vitals per group (p75 from the merged histograms), groups with the most measurements first.
pub fn vitals<'a>(
    rows: impl Iterator<Item = &'a Row<VitalPart>>,
    group_by: GroupBy,
    exclude_synthetic: bool,
) -> Vec<VitalsGroup> {
    let mut groups: BTreeMap<String, BTreeMap<String, VitalPart>> = BTreeMap::new();
    for row in rows.filter(|r| !(exclude_synthetic && r.part.key.synthetic)) {
        let by_name = groups
            .entry(group_key(&row.part.key, group_by))
            .or_default();
        match by_name.get_mut(&row.part.key.name) {
            Some(part) => part.merge(row.part.clone()),
            None => {
                by_name.insert(row.part.key.name.clone(), row.part.clone());
            }
        }
    }
    let mut out: Vec<VitalsGroup> = groups
        .into_iter()
        .map(|(key, by_name)| VitalsGroup {
            key,
            vitals: by_name
                .into_iter()
                .filter(|(_, p)| p.count > 0)
                .map(|(name, p)| stats(name, &p))
                .collect(),
        })
        .filter(|g| !g.vitals.is_empty())
        .collect();
    out.sort_by_key(|g| std::cmp::Reverse(g.vitals.iter().map(|v| v.count).sum::<u64>()));
    out
}

fn stats(name: String, p: &VitalPart) -> VitalStats {
    let count = p.count.max(0) as u64;
    let share = |n: i64| round4(n.max(0) as f64 / count.max(1) as f64);
    VitalStats {
        count,
        p75: p.p75(),
        good: share(p.good),
        needs_improvement: share(p.needs_improvement),
        poor: share(p.poor),
        name,
    }
}
