//! Funnels: an ordered list of steps (page views of a route, or events of a name), counted
//! per session or per user within a conversion window, with the drop-off at each step and a
//! breakdown by an attribute.
//!
//! A unit (session or user) reaches step *k* when, after some occurrence of step 1, it does
//! steps 2..=k in order, each after the previous, all within the window from that step 1. Of
//! all its step-1 occurrences the one that gets furthest counts. Per user, a session's events
//! belong to the user it identified (`user.id` on any of its events, `browser.identify`
//! merging the anonymous part before it), or that a session with the same
//! `user.anonymous_id` identified; sessions never linked to a user count as users of their own.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::attrs::ANONYMOUS_ID;
use crate::event::{Event, Kind};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "match", rename_all = "snake_case")]
pub enum Step {
    /// A page view whose route or path is this (a trailing `*` matches any rest).
    Page(String),
    /// An event of this name.
    Event(String),
}

impl Step {
    /// `page:/checkout`, `event:order.placed`; without a prefix, a path starting with `/` is a
    /// page and anything else an event name.
    pub fn parse(s: &str) -> Option<Step> {
        let s = s.trim();
        if let Some(p) = s.strip_prefix("page:") {
            return (!p.is_empty()).then(|| Step::Page(p.to_string()));
        }
        if let Some(e) = s.strip_prefix("event:") {
            return (!e.is_empty()).then(|| Step::Event(e.to_string()));
        }
        if s.is_empty() {
            return None;
        }
        Some(if s.starts_with('/') {
            Step::Page(s.to_string())
        } else {
            Step::Event(s.to_string())
        })
    }

    fn matches(&self, e: &Event) -> bool {
        match self {
            Step::Event(name) => e.name == *name,
            Step::Page(pattern) => {
                e.kind() == Kind::PageView
                    && [e.route(), e.path()]
                        .into_iter()
                        .flatten()
                        .any(|p| path_matches(pattern, p))
            }
        }
    }
}

fn path_matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => pattern == path || pattern.trim_end_matches('/') == path.trim_end_matches('/'),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Session,
    User,
}

#[derive(Debug, Clone)]
pub struct FunnelQuery {
    pub steps: Vec<Step>,
    pub window_ns: i64,
    pub unit: Unit,
    /// An attribute whose value (on the unit's first step-1 event) splits the counts.
    pub breakdown: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StepCount {
    pub step: Step,
    /// Units that reached this step.
    pub count: u64,
    /// Units lost since the previous step.
    pub dropped: u64,
    /// `count` over the first step's count.
    pub conversion: f64,
    /// `count` over the previous step's count.
    pub from_previous: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Breakdown {
    pub value: String,
    pub steps: Vec<StepCount>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FunnelResult {
    pub unit: Unit,
    pub window_ms: i64,
    pub steps: Vec<StepCount>,
    pub breakdown: Vec<Breakdown>,
}

/// Counts the funnel over `events` (any order).
pub fn compute(q: &FunnelQuery, events: &[Event]) -> FunnelResult {
    let units = group_units(q.unit, events);
    let mut total = vec![0u64; q.steps.len()];
    let mut by_value: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for mut es in units.into_values() {
        es.sort_by_key(|e| e.time_ns);
        let (depth, start) = furthest(q, &es);
        if depth == 0 {
            continue;
        }
        for c in total.iter_mut().take(depth) {
            *c += 1;
        }
        if let Some(key) = &q.breakdown {
            let value = start
                .and_then(|e| e.dimension(key))
                .unwrap_or_else(|| "(none)".to_string());
            let counts = by_value
                .entry(value)
                .or_insert_with(|| vec![0; q.steps.len()]);
            for c in counts.iter_mut().take(depth) {
                *c += 1;
            }
        }
    }
    let mut breakdown: Vec<Breakdown> = by_value
        .into_iter()
        .map(|(value, counts)| Breakdown {
            value,
            steps: step_counts(&q.steps, &counts),
        })
        .collect();
    breakdown.sort_by_key(|b| std::cmp::Reverse(b.steps.first().map_or(0, |s| s.count)));
    FunnelResult {
        unit: q.unit,
        window_ms: q.window_ns / 1_000_000,
        steps: step_counts(&q.steps, &total),
        breakdown,
    }
}

/// Events per unit: the session, or the user the session identified as — directly
/// (`user.id` on one of its events) or through the browser's anonymous id (`user.anonymous_id`)
/// that another, identified session shares. A session never identified is a user of its own.
fn group_units(unit: Unit, events: &[Event]) -> HashMap<String, Vec<&Event>> {
    let mut user_of: HashMap<&str, &str> = HashMap::new();
    if unit == Unit::User {
        let mut anon_of: HashMap<&str, &str> = HashMap::new();
        let mut user_of_anon: HashMap<&str, &str> = HashMap::new();
        for e in events {
            let anon = e.str(ANONYMOUS_ID);
            if let Some(a) = anon {
                anon_of.insert(e.session_id.as_str(), a);
            }
            if let Some(u) = e.user_id() {
                user_of.insert(e.session_id.as_str(), u);
                if let Some(a) = anon {
                    user_of_anon.insert(a, u);
                }
            }
        }
        for (session, anon) in anon_of {
            if let Some(u) = user_of_anon.get(anon) {
                user_of.entry(session).or_insert(u);
            }
        }
    }
    let mut units: HashMap<String, Vec<&Event>> = HashMap::new();
    for e in events.iter().filter(|e| !e.session_id.is_empty()) {
        let key = match user_of.get(e.session_id.as_str()) {
            Some(u) => format!("u:{u}"),
            None => format!("s:{}", e.session_id),
        };
        units.entry(key).or_default().push(e);
    }
    units
}

/// How many steps the unit's events (sorted) reach, and the step-1 event of the best run.
fn furthest<'a>(q: &FunnelQuery, es: &[&'a Event]) -> (usize, Option<&'a Event>) {
    let mut best = (0, None);
    let Some(first) = q.steps.first() else {
        return best;
    };
    for (i, start) in es.iter().enumerate() {
        if !first.matches(start) {
            continue;
        }
        let deadline = start.time_ns.saturating_add(q.window_ns);
        let mut depth = 1;
        for e in &es[i + 1..] {
            if depth == q.steps.len() || e.time_ns > deadline {
                break;
            }
            if q.steps[depth].matches(e) {
                depth += 1;
            }
        }
        if depth > best.0 {
            best = (depth, Some(*start));
        }
        if depth == q.steps.len() {
            break;
        }
    }
    best
}

fn step_counts(steps: &[Step], counts: &[u64]) -> Vec<StepCount> {
    let first = counts.first().copied().unwrap_or(0);
    let ratio = |a: u64, b: u64| {
        if b == 0 {
            0.0
        } else {
            ((a as f64 / b as f64) * 10_000.0).round() / 10_000.0
        }
    };
    steps
        .iter()
        .zip(counts)
        .enumerate()
        .map(|(i, (step, &count))| {
            let previous = if i == 0 { count } else { counts[i - 1] };
            StepCount {
                step: step.clone(),
                count,
                dropped: previous - count,
                conversion: ratio(count, first),
                from_previous: ratio(count, previous),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(session: &str, t_s: i64, name: &str, attrs: serde_json::Value) -> Event {
        Event {
            time_ns: t_s * 1_000_000_000,
            name: name.to_string(),
            session_id: session.to_string(),
            attrs: attrs.as_object().cloned().unwrap_or_default(),
            ..Event::default()
        }
    }

    fn page(session: &str, t_s: i64, route: &str) -> Event {
        ev(
            session,
            t_s,
            "browser.page_view",
            json!({"url.template": route, "browser.name": "Chrome"}),
        )
    }

    #[test]
    fn steps_in_order_within_the_window() {
        let events = vec![
            // s1 converts fully.
            page("s1", 0, "/"),
            page("s1", 10, "/cart"),
            ev("s1", 20, "order.placed", json!({})),
            // s2 reaches the cart, places the order too late.
            page("s2", 0, "/"),
            page("s2", 10, "/cart"),
            ev("s2", 4000, "order.placed", json!({})),
            // s3: cart before home does not count as step 2.
            page("s3", 0, "/cart"),
            page("s3", 5, "/"),
            // s4 never starts.
            page("s4", 0, "/cart"),
        ];
        let q = FunnelQuery {
            steps: vec![
                Step::parse("/").unwrap(),
                Step::parse("page:/cart").unwrap(),
                Step::parse("order.placed").unwrap(),
            ],
            window_ns: 3600 * 1_000_000_000,
            unit: Unit::Session,
            breakdown: Some("browser.name".to_string()),
        };
        let r = compute(&q, &events);
        let counts: Vec<u64> = r.steps.iter().map(|s| s.count).collect();
        assert_eq!(counts, [3, 2, 1]);
        assert_eq!(r.steps[1].dropped, 1);
        assert_eq!(r.steps[2].conversion, 0.3333);
        assert_eq!(r.steps[2].from_previous, 0.5);
        assert_eq!(r.breakdown[0].value, "Chrome");
    }

    #[test]
    fn per_user_merges_sessions_of_one_user() {
        let events = vec![
            page("a1", 0, "/"),
            ev("a2", 100, "browser.identify", json!({"user.id": "ada"})),
            ev("a2", 110, "order.placed", json!({"user.id": "ada"})),
            ev("a1", 5, "browser.identify", json!({"user.id": "ada"})),
        ];
        let mut q = FunnelQuery {
            steps: vec![Step::Page("/".into()), Step::Event("order.placed".into())],
            window_ns: 3600 * 1_000_000_000,
            unit: Unit::User,
            breakdown: None,
        };
        assert_eq!(compute(&q, &events).steps[1].count, 1);
        q.unit = Unit::Session;
        assert_eq!(compute(&q, &events).steps[1].count, 0);
    }

    #[test]
    fn an_anonymous_id_links_a_session_that_never_identified() {
        let anon = |s: &str, t: i64, name: &str, user: Option<&str>| {
            let mut a = json!({"user.anonymous_id": "anon-1"});
            if let Some(u) = user {
                a["user.id"] = json!(u);
            }
            ev(s, t, name, a)
        };
        let mut first = anon("b1", 0, "browser.page_view", None);
        first.attrs.insert("url.template".into(), json!("/"));
        let events = vec![first, anon("b2", 50, "order.placed", Some("bea"))];
        let q = FunnelQuery {
            steps: vec![Step::Page("/".into()), Step::Event("order.placed".into())],
            window_ns: 3600 * 1_000_000_000,
            unit: Unit::User,
            breakdown: None,
        };
        assert_eq!(compute(&q, &events).steps[1].count, 1);
    }
}
