//! The per-minute partial summaries of browser events, and how two of them merge. Every drain
//! of the rollups writes the parts of what arrived since the last one, so one minute of one key
//! is stored as several parts; readers merge them (in any order) into one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Version of the stored parts (the `v` of every row's attributes).
pub const FORMAT_VERSION: u32 = 1;

/// A value seen at a time: when parts merge, the earliest or the latest is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct At {
    pub t: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v: Option<String>,
}

/// Keeps the earlier of two values (the one already held on a tie: it was seen first).
pub(crate) fn keep_first(held: &mut Option<At>, other: &Option<At>) {
    if let Some(o) = other
        && held.as_ref().is_none_or(|h| o.t < h.t)
    {
        *held = Some(o.clone());
    }
}

/// Keeps the later of two values (the other one on a tie: it was seen later).
pub(crate) fn keep_last(held: &mut Option<At>, other: &Option<At>) {
    if let Some(o) = other
        && held.as_ref().is_none_or(|h| o.t >= h.t)
    {
        *held = Some(o.clone());
    }
}

fn version() -> u32 {
    FORMAT_VERSION
}

/// One session's events of one minute (and one service) at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionPart {
    #[serde(default = "version")]
    pub v: u32,
    pub session: String,
    /// The earliest event's time, and the latest end (a span's start plus its duration).
    pub start: i64,
    pub end: i64,
    pub events: u64,
    pub page_views: u64,
    pub errors: u64,
    pub clicks: u64,
    pub requests: u64,
    pub custom: u64,
    pub replays: u64,
    /// The latest user id and release seen.
    pub user: Option<At>,
    pub release: Option<At>,
    /// The first of each of these seen.
    pub browser: Option<At>,
    pub browser_version: Option<At>,
    pub os: Option<At>,
    pub device: Option<At>,
    pub synthetic: Option<At>,
    /// The first and last page views and their page (`None` when the page view had none).
    pub entry: Option<At>,
    pub exit: Option<At>,
}

impl SessionPart {
    pub fn new(session: &str, t: i64) -> SessionPart {
        SessionPart {
            v: FORMAT_VERSION,
            session: session.to_string(),
            start: t,
            end: t,
            events: 0,
            page_views: 0,
            errors: 0,
            clicks: 0,
            requests: 0,
            custom: 0,
            replays: 0,
            user: None,
            release: None,
            browser: None,
            browser_version: None,
            os: None,
            device: None,
            synthetic: None,
            entry: None,
            exit: None,
        }
    }

    /// Adds `other` (a part of the same session) to this one.
    pub fn merge(&mut self, other: &SessionPart) {
        self.start = self.start.min(other.start);
        self.end = self.end.max(other.end);
        self.events += other.events;
        self.page_views += other.page_views;
        self.errors += other.errors;
        self.clicks += other.clicks;
        self.requests += other.requests;
        self.custom += other.custom;
        self.replays += other.replays;
        keep_last(&mut self.user, &other.user);
        keep_last(&mut self.release, &other.release);
        keep_first(&mut self.browser, &other.browser);
        keep_first(&mut self.browser_version, &other.browser_version);
        keep_first(&mut self.os, &other.os);
        keep_first(&mut self.device, &other.device);
        keep_first(&mut self.synthetic, &other.synthetic);
        keep_first(&mut self.entry, &other.entry);
        keep_last(&mut self.exit, &other.exit);
    }
}

/// The latest occurrence of an error group, as its group shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Latest {
    pub t: i64,
    pub kind: Option<String>,
    pub message: Option<String>,
    pub stack: Option<String>,
    pub symbolicated: bool,
}

/// One error group's occurrences of one minute, service and synthetic flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorPart {
    #[serde(default = "version")]
    pub v: u32,
    pub fingerprint: String,
    pub synthetic: bool,
    pub count: u64,
    pub first: i64,
    pub latest: Latest,
    /// Distinct users (the session standing for a user without one) and sessions: the
    /// k-minimum-values samples of their hashes, exact up to 256 distinct values.
    pub users: Vec<u64>,
    pub sessions: Vec<u64>,
    pub releases: Vec<String>,
    pub routes: BTreeMap<String, u64>,
}

impl ErrorPart {
    pub fn merge(&mut self, other: ErrorPart) {
        self.count += other.count;
        self.first = self.first.min(other.first);
        if other.latest.t >= self.latest.t {
            self.latest = other.latest;
        }
        self.users = union(std::mem::take(&mut self.users), &other.users);
        self.sessions = union(std::mem::take(&mut self.sessions), &other.sessions);
        for r in other.releases {
            if let Err(i) = self.releases.binary_search(&r) {
                self.releases.insert(i, r);
            }
        }
        for (route, n) in other.routes {
            *self.routes.entry(route).or_default() += n;
        }
    }
}

fn union(hashes: Vec<u64>, other: &[u64]) -> Vec<u64> {
    let mut s = analysis::DistinctSample { hashes };
    s.merge(other);
    s.hashes
}

/// What one vital's measurements of a minute are counted under.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct VitalKey {
    pub name: String,
    pub route: Option<String>,
    pub release: Option<String>,
    pub device: Option<String>,
    pub browser: Option<String>,
    pub synthetic: bool,
}

/// One vital's measurements of one minute and key: how many, their ratings, and a histogram
/// of their values ([`analysis::Sketch`]'s buckets; CLS in thousandths); while there are few,
/// the values themselves, so that small groups get the exact p75. Counts are signed: a page
/// view's vital reported again takes its earlier value back, from an earlier part if that was
/// written already.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VitalPart {
    #[serde(default = "version")]
    pub v: u32,
    pub key: VitalKey,
    pub count: i64,
    pub good: i64,
    pub needs_improvement: i64,
    pub poor: i64,
    /// Bucket index → count.
    pub buckets: BTreeMap<usize, i64>,
    pub sum: f64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The values counted and taken back, unless there were more than [`EXACT_VALUES`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taken_back: Vec<f64>,
    #[serde(default)]
    pub inexact: bool,
}

/// Up to this many values a group's p75 is exact (nearest rank, as from the events); beyond,
/// it comes from the histogram.
pub const EXACT_VALUES: usize = 64;

impl VitalPart {
    pub fn new(key: VitalKey) -> VitalPart {
        VitalPart {
            v: FORMAT_VERSION,
            key,
            count: 0,
            good: 0,
            needs_improvement: 0,
            poor: 0,
            buckets: BTreeMap::new(),
            sum: 0.0,
            min: None,
            max: None,
            values: Vec::new(),
            taken_back: Vec::new(),
            inexact: false,
        }
    }

    fn keep_values_bounded(&mut self) {
        if self.values.len() + self.taken_back.len() > EXACT_VALUES {
            self.inexact = true;
        }
        if self.inexact {
            self.values.clear();
            self.taken_back.clear();
        }
    }

    /// Counts a measurement (`sign` 1) or takes one back (`sign` -1).
    pub fn add(&mut self, value: f64, rating: Option<&str>, sign: i64) {
        self.count += sign;
        match rating {
            Some("good") => self.good += sign,
            Some("needs-improvement") => self.needs_improvement += sign,
            Some("poor") => self.poor += sign,
            _ => {}
        }
        let scaled = sketch_value(&self.key.name, value);
        let bounds = analysis::BOUNDS_MS();
        let bucket = bounds.partition_point(|upper| *upper < scaled);
        *self.buckets.entry(bucket).or_default() += sign;
        self.sum += scaled * sign as f64;
        if sign > 0 {
            self.min = Some(self.min.map_or(scaled, |m| m.min(scaled)));
            self.max = Some(self.max.map_or(scaled, |m| m.max(scaled)));
            self.values.push(value);
        } else {
            self.taken_back.push(value);
        }
        self.keep_values_bounded();
    }

    pub fn merge(&mut self, other: VitalPart) {
        self.count += other.count;
        self.good += other.good;
        self.needs_improvement += other.needs_improvement;
        self.poor += other.poor;
        for (b, n) in other.buckets {
            *self.buckets.entry(b).or_default() += n;
        }
        self.sum += other.sum;
        self.min = match (self.min, other.min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max = match (self.max, other.max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.inexact |= other.inexact;
        self.values.extend(other.values);
        self.taken_back.extend(other.taken_back);
        self.keep_values_bounded();
    }

    /// The 75th percentile of the values: exact while there are few, else within a bucket
    /// (15%) of the exact one.
    pub fn p75(&self) -> f64 {
        if !self.inexact {
            let mut values = self.values.clone();
            for v in &self.taken_back {
                if let Some(i) = values.iter().position(|x| x == v) {
                    values.swap_remove(i);
                }
            }
            return crate::vitals::p75(&mut values);
        }
        let mut sketch = analysis::Sketch::default();
        let len = self.buckets.keys().next_back().map_or(0, |b| b + 1);
        let mut counts = vec![0u64; len];
        for (b, n) in &self.buckets {
            counts[*b] = u64::try_from(*n).unwrap_or(0);
        }
        sketch.merge_counts(&counts, self.sum);
        sketch.widen(self.min, self.max);
        let scaled = sketch.quantile(0.75).unwrap_or(0.0);
        if self.key.name == "CLS" {
            scaled / CLS_SCALE
        } else {
            scaled
        }
    }
}

/// CLS is unitless and mostly below 0.25: counted in thousandths, so that the sketch's
/// buckets (from 0.1 up) tell its values apart.
const CLS_SCALE: f64 = 1000.0;

fn sketch_value(name: &str, value: f64) -> f64 {
    if name == "CLS" {
        value * CLS_SCALE
    } else {
        value
    }
}
