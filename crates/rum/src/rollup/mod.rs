//! Per-minute rollups of the browser events, built at ingest from every enriched event that was
//! stored, so that the list and aggregate questions (sessions, error groups, Web Vitals) read
//! a few rows per minute and key instead of every event:
//!
//! - sessions: per (minute, service, session) a [`SessionPart`];
//! - errors: per (minute, service, fingerprint, synthetic flag) an [`ErrorPart`];
//! - vitals: per (minute, service, route, release, device, browser, synthetic flag, vital) a
//!   [`VitalPart`].
//!
//! [`Minutes`] gathers them; [`Minutes::drain`] turns what it holds into metric rows (stamped
//! with their minute, the part as JSON in the attributes); readers parse them back with
//! [`parse`] and merge the parts of one key, then [`answer`] computes what the query-time
//! computation over the events (`sessions`, `errors`, `vitals`) computes.

pub mod answer;
pub mod events;
pub mod parts;

use std::collections::HashMap;
use std::collections::hash_map::Entry;

pub use parts::{At, ErrorPart, FORMAT_VERSION, Latest, SessionPart, VitalKey, VitalPart};

use crate::attrs::*;
use crate::event::{Event, Kind};
use crate::vitals;

pub const SESSION_METRIC: &str = "redscope.rum.session";
pub const ERROR_METRIC: &str = "redscope.rum.error";
pub const VITAL_METRIC: &str = "redscope.rum.vital";

pub const MINUTE_NS: i64 = 60_000_000_000;
/// Page views whose vitals are remembered (to take back a value reported again): this long
/// after the newest vital seen, and at most this many.
const VITAL_MEMORY_NS: i64 = 3_600_000_000_000;
const MAX_REMEMBERED_VITALS: usize = 500_000;

pub fn minute_of(t: i64) -> i64 {
    t.div_euclid(MINUTE_NS) * MINUTE_NS
}

/// A stored part: its minute, service and the part.
#[derive(Debug, Clone, PartialEq)]
pub struct Row<P> {
    pub minute: i64,
    pub service: String,
    pub part: P,
}

/// The last value counted for a page view's vital.
struct Counted {
    t: i64,
    minute: i64,
    service: String,
    key: VitalKey,
    value: f64,
    rating: Option<String>,
}

/// The parts of the events observed since the last drain.
#[derive(Default)]
pub struct Minutes {
    sessions: HashMap<(i64, String, String), SessionPart>,
    errors: HashMap<(i64, String, String, bool), ErrorPart>,
    vitals: HashMap<(i64, String, VitalKey), VitalPart>,
    /// (session and page view, vital) → what was counted for it.
    counted: HashMap<(String, String), Counted>,
    newest_vital: i64,
}

impl Minutes {
    /// Counts one event.
    pub fn observe(&mut self, e: &Event) {
        let minute = minute_of(e.time_ns);
        if !e.session_id.is_empty() {
            let key = (minute, e.service.clone(), e.session_id.clone());
            let part = self
                .sessions
                .entry(key)
                .or_insert_with(|| SessionPart::new(&e.session_id, e.time_ns));
            add_to_session(part, e);
        }
        match e.kind() {
            Kind::Error => self.observe_error(minute, e),
            Kind::Vital => self.observe_vital(minute, e),
            _ => {}
        }
    }

    fn observe_error(&mut self, minute: i64, e: &Event) {
        let Some(fp) = e.fingerprint() else { return };
        let synthetic = e.str(SYNTHETIC).is_some();
        let key = (minute, e.service.clone(), fp.to_string(), synthetic);
        let one = ErrorPart {
            v: FORMAT_VERSION,
            fingerprint: fp.to_string(),
            synthetic,
            count: 1,
            first: e.time_ns,
            latest: latest_of(e),
            users: sample_of(e.user_id().unwrap_or(e.session_id.as_str())),
            sessions: sample_of(&e.session_id),
            releases: e.release.iter().cloned().collect(),
            routes: e.route().map(|r| (r.to_string(), 1)).into_iter().collect(),
        };
        match self.errors.entry(key) {
            Entry::Occupied(mut held) => held.get_mut().merge(one),
            Entry::Vacant(slot) => {
                slot.insert(one);
            }
        }
    }

    fn observe_vital(&mut self, minute: i64, e: &Event) {
        let Some(m) = vitals::measurement(e) else {
            return;
        };
        let key = VitalKey {
            name: m.name.clone(),
            route: e.route().map(str::to_string),
            release: e.release.clone(),
            device: e.str(DEVICE_TYPE).map(str::to_string),
            browser: e.str(BROWSER_NAME).map(str::to_string),
            synthetic: e.str(SYNTHETIC).is_some(),
        };
        self.newest_vital = self.newest_vital.max(e.time_ns);
        if let Some(view) = e.page_view_id() {
            let id = (format!("{}\u{0}{view}", e.session_id), m.name.clone());
            if let Some(before) = self.counted.get(&id) {
                if before.t > e.time_ns {
                    // A page view's latest value counts; this one is older.
                    return;
                }
                let slot = (before.minute, before.service.clone(), before.key.clone());
                let (value, rating) = (before.value, before.rating.clone());
                self.vitals
                    .entry(slot)
                    .or_insert_with(|| VitalPart::new(before.key.clone()))
                    .add(value, rating.as_deref(), -1);
            }
            let counted = Counted {
                t: e.time_ns,
                minute,
                service: e.service.clone(),
                key: key.clone(),
                value: m.value,
                rating: m.rating.clone(),
            };
            self.counted.insert(id, counted);
        }
        self.vitals
            .entry((minute, e.service.clone(), key.clone()))
            .or_insert_with(|| VitalPart::new(key))
            .add(m.value, m.rating.as_deref(), 1);
    }

    /// The parts gathered since the last drain, as metric rows; the memory of counted vitals
    /// is kept (and trimmed).
    pub fn drain(&mut self) -> Vec<model::MetricPointRow> {
        let mut rows = Vec::new();
        for ((minute, service, _), part) in self.sessions.drain() {
            rows.push(row(SESSION_METRIC, minute, &service, &part));
        }
        for ((minute, service, _, _), part) in self.errors.drain() {
            rows.push(row(ERROR_METRIC, minute, &service, &part));
        }
        for ((minute, service, _), part) in self.vitals.drain() {
            rows.push(row(VITAL_METRIC, minute, &service, &part));
        }
        let horizon = self.newest_vital - VITAL_MEMORY_NS;
        self.counted.retain(|_, c| c.t >= horizon);
        if self.counted.len() > MAX_REMEMBERED_VITALS {
            self.counted.clear();
        }
        rows
    }
}

fn sample_of(value: &str) -> Vec<u64> {
    let mut s = analysis::DistinctSample::default();
    s.insert(value);
    s.hashes
}

fn latest_of(e: &Event) -> Latest {
    Latest {
        t: e.time_ns,
        kind: e.str(EXCEPTION_TYPE).map(str::to_string),
        message: e.str(EXCEPTION_MESSAGE).map(str::to_string),
        stack: e.str(EXCEPTION_STACKTRACE).map(str::to_string),
        symbolicated: e.attrs.get(SYMBOLICATED).and_then(|v| v.as_bool()) == Some(true),
    }
}

fn at(t: i64, v: Option<&str>) -> Option<At> {
    v.map(|v| At {
        t,
        v: Some(v.to_string()),
    })
}

fn add_to_session(part: &mut SessionPart, e: &Event) {
    let t = e.time_ns;
    let mut one = SessionPart::new(&part.session, t);
    one.end = t + e.duration_ns.unwrap_or(0);
    one.events = 1;
    match e.kind() {
        Kind::PageView => {
            one.page_views = 1;
            let page = e.path().or(e.route()).map(str::to_string);
            one.entry = Some(At { t, v: page.clone() });
            one.exit = Some(At { t, v: page });
        }
        Kind::Error => one.errors = 1,
        Kind::Click => one.clicks = 1,
        Kind::Request => one.requests = 1,
        Kind::Custom => one.custom = 1,
        Kind::Replay => one.replays = 1,
        Kind::Vital | Kind::Identify => {}
    }
    one.user = at(t, e.user_id());
    one.release = at(t, e.release.as_deref());
    one.browser = at(t, e.str(BROWSER_NAME));
    one.browser_version = at(t, e.str(BROWSER_VERSION));
    one.os = at(t, e.str(OS_NAME));
    one.device = at(t, e.str(DEVICE_TYPE));
    one.synthetic = at(t, e.str(SYNTHETIC));
    part.merge(&one);
}

fn row<P: serde::Serialize>(
    metric: &str,
    minute: i64,
    service: &str,
    part: &P,
) -> model::MetricPointRow {
    model::MetricPointRow {
        time_unix_nano: minute,
        start_time_unix_nano: minute,
        metric_name: metric.to_string(),
        metric_type: "gauge".to_string(),
        unit: "1".to_string(),
        metric_metadata: "{}".to_string(),
        resource: model::Resource {
            service_name: service.to_string(),
            ..model::Resource::default()
        },
        attributes: serde_json::to_string(part).unwrap_or_default(),
        value: Some(1.0),
        exemplars: "[]".to_string(),
        ..model::MetricPointRow::default()
    }
}

/// A stored part read back: `None` for a part of a newer format or unreadable.
pub fn parse<P: Part>(minute: i64, service: &str, attributes: &str) -> Option<Row<P>> {
    let part: P = serde_json::from_str(attributes).ok()?;
    (part.version() <= FORMAT_VERSION).then(|| Row {
        minute,
        service: service.to_string(),
        part,
    })
}

/// What readers do with a kind of part.
pub trait Part: serde::de::DeserializeOwned + Clone {
    /// The format version it was written with.
    fn version(&self) -> u32;
    /// What tells parts of one minute and service apart.
    fn key(&self) -> String;
    /// Adds another part of the same key.
    fn merge(&mut self, other: Self);
}

impl Part for SessionPart {
    fn version(&self) -> u32 {
        self.v
    }
    fn key(&self) -> String {
        self.session.clone()
    }
    fn merge(&mut self, other: Self) {
        SessionPart::merge(self, &other)
    }
}

impl Part for ErrorPart {
    fn version(&self) -> u32 {
        self.v
    }
    fn key(&self) -> String {
        format!("{}\u{0}{}", self.fingerprint, self.synthetic)
    }
    fn merge(&mut self, other: Self) {
        ErrorPart::merge(self, other)
    }
}

impl Part for VitalPart {
    fn version(&self) -> u32 {
        self.v
    }
    fn key(&self) -> String {
        let k = &self.key;
        let parts = [&k.route, &k.release, &k.device, &k.browser];
        let mut key = format!("{}\u{0}{}", k.name, k.synthetic);
        for p in parts {
            key.push('\u{0}');
            key.push_str(p.as_deref().unwrap_or("\u{1}"));
        }
        key
    }
    fn merge(&mut self, other: Self) {
        VitalPart::merge(self, other)
    }
}

/// The parts of one minute, service and key merged into one (in the order given: earlier
/// rows first, as they were written).
pub fn merge_rows<P: Part>(rows: Vec<Row<P>>) -> Vec<Row<P>> {
    let mut index: HashMap<(i64, String, String), usize> = HashMap::new();
    let mut out: Vec<Row<P>> = Vec::with_capacity(rows.len());
    for row in rows {
        let key = (row.minute, row.service.clone(), row.part.key());
        match index.entry(key) {
            Entry::Occupied(i) => out[*i.get()].part.merge(row.part),
            Entry::Vacant(slot) => {
                slot.insert(out.len());
                out.push(row);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
