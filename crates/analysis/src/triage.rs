//! Root-cause triage without an LLM: compare a window with a baseline, find what is anomalous
//! (error rate, latency, throughput, new or surging error log patterns, a new
//! `service.version`), follow the call graph down to the deepest anomalous components, and rank
//! them with their evidence.
//!
//! The rule that does the work is *explanation*: a caller's extra errors (or extra latency) are
//! explained when at least half of them arrive over its calls to an anomalous callee. What no
//! callee explains is the component's own; the components left with unexplained anomalies are
//! the root-cause candidates. Throughput is read the other way round: a drop is explained when a
//! caller is anomalous (fewer orders reach the mail service because checkout fails).
//!
//! Everything is deterministic and computed from the RED and edge rollups, so it is fast; the
//! query layer adds example traces and blast radius to the top candidates.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde::Serialize;

use crate::Sketch;

/// Requests, errors and duration of one component, edge or operation in one period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Red {
    pub requests: u64,
    pub errors: u64,
    pub mean_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

impl Red {
    pub fn from_sketch(requests: u64, errors: u64, sketch: &Sketch) -> Red {
        Red {
            requests,
            errors,
            mean_ms: (sketch.count > 0).then(|| sketch.sum_ms / sketch.count as f64),
            p50_ms: sketch.quantile(0.5),
            p90_ms: sketch.quantile(0.9),
            p99_ms: sketch.quantile(0.99),
        }
    }

    fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.errors as f64 / self.requests as f64
        }
    }
}

/// A service, or a dependency that sends no telemetry (seen through its callers).
#[derive(Debug, Clone)]
pub struct Component {
    pub name: String,
    /// `service`, `database`, `messaging` or `external`.
    pub kind: String,
    pub instrumented: bool,
    pub window: Red,
    pub baseline: Red,
}

/// Calls from one component to another, as the caller saw them.
#[derive(Debug, Clone)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub window: Red,
    pub baseline: Red,
}

/// One operation of a service.
#[derive(Debug, Clone)]
pub struct Operation {
    pub service: String,
    pub operation: String,
    pub window: Red,
    pub baseline: Red,
}

/// A log template of warning severity or above, counted in both periods.
#[derive(Debug, Clone, Serialize)]
pub struct PatternChange {
    pub service: String,
    pub template_id: String,
    pub template: String,
    pub count: u64,
    pub baseline_count: u64,
    pub max_severity_number: i32,
}

/// A `service.version` seen in the window.
#[derive(Debug, Clone)]
pub struct VersionSeen {
    pub service: String,
    pub version: String,
    pub first_seen_unix_nano: i64,
    /// Not a change: the service ran no other version before this one appeared.
    pub established: bool,
    pub spans: u64,
    pub errors: u64,
}

/// Everything triage looks at.
#[derive(Debug, Clone, Default)]
pub struct TriageInput {
    pub window_s: f64,
    pub baseline_s: f64,
    pub components: Vec<Component>,
    pub edges: Vec<Edge>,
    pub operations: Vec<Operation>,
    pub patterns: Vec<PatternChange>,
    pub versions: Vec<VersionSeen>,
    /// Where the symptom was seen: candidates are this service and what it depends on.
    pub symptom: Option<String>,
    /// Services still catching up on a backlog: their traffic is not judged (what looks like a
    /// drop is spans still to come).
    pub catching_up: Vec<String>,
}

/// One fact behind a candidate, with numbers before and after where they exist.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub kind: String,
    pub detail: String,
    pub before: Option<f64>,
    pub after: Option<f64>,
}

/// Something that changed against the baseline.
#[derive(Debug, Clone, Serialize)]
pub struct Anomaly {
    pub service: String,
    pub operation: Option<String>,
    /// `error_rate`, `latency`, `throughput_drop`, `throughput_surge`, `log_pattern`,
    /// `new_version`.
    pub kind: String,
    pub before: f64,
    pub after: f64,
    pub score: f64,
    /// The anomalous callee (or, for throughput, caller) that accounts for it.
    pub explained_by: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PatternEvidence {
    pub service: String,
    pub template_id: String,
    pub template: String,
    pub count: u64,
    pub baseline_count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EntryPointRef {
    pub service: String,
    pub operation: String,
    pub traces: u64,
}

/// A ranked root-cause candidate.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub rank: usize,
    pub service: String,
    pub operation: Option<String>,
    pub kind: String,
    pub instrumented: bool,
    pub score: f64,
    pub summary: String,
    pub evidence: Vec<Evidence>,
    pub example_trace_ids: Vec<String>,
    pub log_patterns: Vec<PatternEvidence>,
    pub affected_entry_points: Vec<EntryPointRef>,
    /// From an affected entry service down to this component, along anomalous calls.
    pub path: Vec<String>,
    /// The one instance (`service.instance.id`, else `host.name`) that stands out among the
    /// service's instances, when one does.
    pub instance: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TriageResult {
    pub anomalies: Vec<Anomaly>,
    pub candidates: Vec<Candidate>,
}

/// Minimum window requests before a component's rates are judged.
const MIN_REQUESTS: u64 = 10;
/// Weight left to an anomaly that a neighbour explains.
const EXPLAINED_WEIGHT: f64 = 0.15;

/// Error-rate anomaly: extra errors, their significance and a score.
fn error_anomaly(w: &Red, b: &Red) -> Option<(f64, f64, f64)> {
    if w.requests < MIN_REQUESTS || w.errors < 3 {
        return None;
    }
    let (rw, rb) = (w.error_rate(), b.error_rate());
    let delta = rw - rb;
    if delta < 0.02 {
        return None;
    }
    let z = if b.requests == 0 {
        delta * (w.requests as f64).sqrt() / 0.5
    } else {
        let pooled = (w.errors + b.errors) as f64 / (w.requests + b.requests) as f64;
        let se = (pooled * (1.0 - pooled) * (1.0 / w.requests as f64 + 1.0 / b.requests as f64))
            .sqrt()
            .max(1e-9);
        delta / se
    };
    if z < 3.0 {
        return None;
    }
    let excess = w.errors as f64 - rb * w.requests as f64;
    Some((
        rb,
        rw,
        (delta / 0.05).clamp(0.5, 10.0) + excess.max(0.0).ln_1p() * 0.1,
    ))
}

/// Latency anomaly: the most changed percentile, before, after and a score.
fn latency_anomaly(w: &Red, b: &Red) -> Option<(&'static str, f64, f64, f64)> {
    if w.requests < MIN_REQUESTS || b.requests < MIN_REQUESTS {
        return None;
    }
    let mut best: Option<(&'static str, f64, f64, f64)> = None;
    let checks = [
        ("p50", w.p50_ms, b.p50_ms, 1.5, 5.0),
        ("p90", w.p90_ms, b.p90_ms, 1.5, 20.0),
        ("p99", w.p99_ms, b.p99_ms, 2.0, 50.0),
        ("mean", w.mean_ms, b.mean_ms, 1.5, 10.0),
    ];
    for (name, after, before, min_ratio, min_abs) in checks {
        let (Some(after), Some(before)) = (after, before) else {
            continue;
        };
        let ratio = after / before.max(0.01);
        if ratio < min_ratio || after - before < min_abs {
            continue;
        }
        let score = (ratio.log2() * 2.0).min(10.0);
        if best.is_none_or(|(_, _, _, s)| score > s) {
            best = Some((name, before, after, score));
        }
    }
    best
}

/// Throughput change: requests per second before and after, when it halves or triples.
fn throughput_anomaly(w: &Red, b: &Red, window_s: f64, baseline_s: f64) -> Option<(f64, f64)> {
    if b.requests < 20 || window_s <= 0.0 || baseline_s <= 0.0 {
        return None;
    }
    let (rw, rb) = (w.requests as f64 / window_s, b.requests as f64 / baseline_s);
    (rw < rb * 0.5 || rw > rb * 3.0).then_some((rb, rw))
}

fn extra_errors(r: &Red, baseline_rate: f64) -> f64 {
    (r.errors as f64 - baseline_rate * r.requests as f64).max(0.0)
}

fn fmt_ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2} s", v / 1000.0)
    } else {
        format!("{v:.1} ms")
    }
}

#[derive(Default)]
struct Findings {
    error: Option<(f64, f64, f64)>,
    latency: Option<(&'static str, f64, f64, f64)>,
    throughput: Option<(f64, f64)>,
    error_explained_by: Option<String>,
    latency_explained_by: Option<String>,
    throughput_explained_by: Option<String>,
}

impl Findings {
    fn any(&self) -> bool {
        self.error.is_some() || self.latency.is_some() || self.throughput.is_some()
    }
}

/// Ranks root-cause candidates; see the module docs.
pub fn analyze(input: &TriageInput) -> TriageResult {
    let comps: BTreeMap<&str, &Component> = input
        .components
        .iter()
        .map(|c| (c.name.as_str(), c))
        .collect();
    let mut callees: HashMap<&str, Vec<&Edge>> = HashMap::new();
    let mut callers: HashMap<&str, Vec<&Edge>> = HashMap::new();
    for e in &input.edges {
        if e.from != e.to {
            callees.entry(e.from.as_str()).or_default().push(e);
            callers.entry(e.to.as_str()).or_default().push(e);
        }
    }

    // 1. What changed, per component.
    let mut found: BTreeMap<&str, Findings> = BTreeMap::new();
    for c in &input.components {
        let f = Findings {
            error: error_anomaly(&c.window, &c.baseline),
            latency: latency_anomaly(&c.window, &c.baseline),
            throughput: if input.catching_up.contains(&c.name) {
                None
            } else {
                throughput_anomaly(&c.window, &c.baseline, input.window_s, input.baseline_s)
            },
            ..Default::default()
        };
        found.insert(c.name.as_str(), f);
    }
    let anomalous: BTreeSet<&str> = found
        .iter()
        .filter(|(_, f)| f.error.is_some() || f.latency.is_some())
        .map(|(n, _)| *n)
        .collect();

    // 2. Explanation along the call graph.
    for (name, f) in found.iter_mut() {
        let Some(c) = comps.get(name) else { continue };
        let out = callees.get(name).map(Vec::as_slice).unwrap_or_default();
        if f.error.is_some() {
            let own = extra_errors(&c.window, c.baseline.error_rate());
            let mut best: Option<(f64, &str)> = None;
            for e in out.iter().filter(|e| anomalous.contains(e.to.as_str())) {
                // Includes timeouts: a callee that got slow shows as errors on the call.
                let via = extra_errors(&e.window, e.baseline.error_rate());
                if best.is_none_or(|(v, _)| via > v) {
                    best = Some((via, e.to.as_str()));
                }
            }
            if let Some((via, to)) = best
                && via >= 0.5 * own
                && via > 0.0
            {
                f.error_explained_by = Some(to.to_string());
            }
        }
        if f.latency.is_some() {
            let own = match (c.window.mean_ms, c.baseline.mean_ms) {
                (Some(a), Some(b)) => (a - b).max(0.0),
                _ => 0.0,
            };
            let mut total = 0.0;
            let mut best: Option<(f64, &str)> = None;
            for e in out.iter().filter(|e| anomalous.contains(e.to.as_str())) {
                let (Some(a), Some(b)) = (e.window.mean_ms, e.baseline.mean_ms) else {
                    continue;
                };
                let per_request =
                    (a - b).max(0.0) * e.window.requests as f64 / c.window.requests.max(1) as f64;
                total += per_request;
                if best.is_none_or(|(v, _)| per_request > v) {
                    best = Some((per_request, e.to.as_str()));
                }
            }
            if let Some((_, to)) = best
                && own > 0.0
                && total >= 0.5 * own
            {
                f.latency_explained_by = Some(to.to_string());
            }
        }
        if f.throughput.is_some() {
            // A dependency's throughput follows its callers: only an entry point's own
            // throughput change is unexplained.
            f.throughput_explained_by = callers.get(name).and_then(|es| {
                es.iter()
                    .find(|e| anomalous.contains(e.from.as_str()))
                    .or_else(|| es.first())
                    .map(|e| e.from.clone())
            });
        }
    }

    // 3. Evidence beyond RED: versions and log patterns.
    let mut new_versions: HashMap<&str, &VersionSeen> = HashMap::new();
    for v in input.versions.iter().filter(|v| !v.established) {
        new_versions.entry(v.service.as_str()).or_insert(v);
    }
    let ratio = if input.window_s > 0.0 && input.baseline_s > 0.0 {
        input.baseline_s / input.window_s
    } else {
        1.0
    };
    let surging: Vec<&PatternChange> = input
        .patterns
        .iter()
        .filter(|p| {
            p.count >= 3
                && (p.baseline_count == 0
                    || p.count as f64 * ratio >= 3.0 * p.baseline_count as f64)
        })
        .collect();

    // 4. Anomalies, for the record.
    let mut anomalies = Vec::new();
    for (name, f) in &found {
        if let Some((before, after, score)) = f.error {
            anomalies.push(Anomaly {
                service: name.to_string(),
                operation: None,
                kind: "error_rate".into(),
                before,
                after,
                score,
                explained_by: f.error_explained_by.clone(),
                detail: format!("error rate {:.1}% → {:.1}%", before * 100.0, after * 100.0),
            });
        }
        if let Some((which, before, after, score)) = f.latency {
            anomalies.push(Anomaly {
                service: name.to_string(),
                operation: None,
                kind: "latency".into(),
                before,
                after,
                score,
                explained_by: f.latency_explained_by.clone(),
                detail: format!("{which} {} → {}", fmt_ms(before), fmt_ms(after)),
            });
        }
        if let Some((before, after)) = f.throughput {
            let kind = if after < before {
                "throughput_drop"
            } else {
                "throughput_surge"
            };
            anomalies.push(Anomaly {
                service: name.to_string(),
                operation: None,
                kind: kind.into(),
                before,
                after,
                score: 1.0,
                explained_by: f.throughput_explained_by.clone(),
                detail: format!("{before:.2}/s → {after:.2}/s"),
            });
        }
    }
    for v in new_versions.values() {
        anomalies.push(Anomaly {
            service: v.service.clone(),
            operation: None,
            kind: "new_version".into(),
            before: 0.0,
            after: v.spans as f64,
            score: 1.0,
            explained_by: None,
            detail: format!("service.version {} newly deployed", v.version),
        });
    }
    for p in &surging {
        anomalies.push(Anomaly {
            service: p.service.clone(),
            operation: None,
            kind: "log_pattern".into(),
            before: p.baseline_count as f64,
            after: p.count as f64,
            score: 0.5,
            explained_by: None,
            detail: if p.baseline_count == 0 {
                format!("new pattern: {}", p.template)
            } else {
                format!("surging pattern: {}", p.template)
            },
        });
    }

    // 5. Candidates: components with an unexplained anomaly, scored.
    let scope: Option<BTreeSet<String>> = input.symptom.as_ref().map(|s| {
        let mut seen = BTreeSet::from([s.clone()]);
        let mut queue = VecDeque::from([s.clone()]);
        while let Some(n) = queue.pop_front() {
            for e in callees.get(n.as_str()).into_iter().flatten() {
                if seen.insert(e.to.clone()) {
                    queue.push_back(e.to.clone());
                }
            }
        }
        seen
    });
    let mut candidates = Vec::new();
    for (name, f) in &found {
        if scope.as_ref().is_some_and(|s| !s.contains(*name)) {
            continue;
        }
        let Some(c) = comps.get(name) else { continue };
        let new_version = new_versions.get(name);
        let patterns: Vec<&&PatternChange> = surging
            .iter()
            .filter(|p| p.service == *name && p.max_severity_number >= 17)
            .collect();
        if !f.any() && new_version.is_none() && patterns.is_empty() {
            continue;
        }
        let mut score = 0.0;
        let mut evidence = Vec::new();
        let mut summary_parts = Vec::new();
        let mut own = false;
        if let Some((before, after, s)) = f.error {
            let w = if f.error_explained_by.is_some() {
                EXPLAINED_WEIGHT
            } else {
                own = true;
                1.0
            };
            score += s * w;
            let detail = match &f.error_explained_by {
                Some(by) => format!(
                    "error rate {:.1}% → {:.1}% (mostly from calls to {by})",
                    before * 100.0,
                    after * 100.0
                ),
                None => format!(
                    "error rate {:.1}% → {:.1}%, not explained by any dependency",
                    before * 100.0,
                    after * 100.0
                ),
            };
            if f.error_explained_by.is_none() {
                summary_parts.push(format!(
                    "errors {:.1}% → {:.1}%",
                    before * 100.0,
                    after * 100.0
                ));
            }
            evidence.push(Evidence {
                kind: "error_rate".into(),
                detail,
                before: Some(before),
                after: Some(after),
            });
        }
        if let Some((which, before, after, s)) = f.latency {
            let w = if f.latency_explained_by.is_some() {
                EXPLAINED_WEIGHT
            } else {
                own = true;
                1.0
            };
            score += s * w;
            let detail = match &f.latency_explained_by {
                Some(by) => format!(
                    "{which} latency {} → {} (mostly waiting on {by})",
                    fmt_ms(before),
                    fmt_ms(after)
                ),
                None => format!(
                    "{which} latency {} → {}, not explained by any dependency",
                    fmt_ms(before),
                    fmt_ms(after)
                ),
            };
            if f.latency_explained_by.is_none() {
                summary_parts.push(format!("{which} {} → {}", fmt_ms(before), fmt_ms(after)));
            }
            evidence.push(Evidence {
                kind: "latency".into(),
                detail,
                before: Some(before),
                after: Some(after),
            });
        }
        if let Some((before, after)) = f.throughput {
            let w = if f.throughput_explained_by.is_some() {
                0.0
            } else {
                own = true;
                1.0
            };
            score += 1.0 * w;
            evidence.push(Evidence {
                kind: if after < before {
                    "throughput_drop".into()
                } else {
                    "throughput_surge".into()
                },
                detail: format!("requests {before:.2}/s → {after:.2}/s"),
                before: Some(before),
                after: Some(after),
            });
        }
        if let Some(v) = new_version {
            // A deploy matters when the service itself misbehaves.
            score += if own { 2.0 } else { 0.3 };
            evidence.push(Evidence {
                kind: "new_version".into(),
                detail: format!(
                    "service.version {} newly deployed ({} spans, {} errors in the window)",
                    v.version, v.spans, v.errors
                ),
                before: None,
                after: None,
            });
            summary_parts.push(format!("new version {}", v.version));
        }
        for p in patterns.iter().take(3) {
            score += if own { 0.5 } else { 0.1 };
            evidence.push(Evidence {
                kind: "log_pattern".into(),
                detail: format!(
                    "{} error log pattern: {}",
                    if p.baseline_count == 0 {
                        "new"
                    } else {
                        "surging"
                    },
                    p.template
                ),
                before: Some(p.baseline_count as f64),
                after: Some(p.count as f64),
            });
        }
        if score <= 0.0 {
            continue;
        }
        // Most affected operation of a service, for the headline.
        let operation = input
            .operations
            .iter()
            .filter(|o| o.service == *name)
            .filter_map(|o| {
                let e = error_anomaly(&o.window, &o.baseline)
                    .map(|x| x.2)
                    .unwrap_or(0.0);
                let l = latency_anomaly(&o.window, &o.baseline)
                    .map(|x| x.3)
                    .unwrap_or(0.0);
                let s = e.max(l);
                (s > 0.0).then(|| (s, o.operation.clone()))
            })
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, o)| o);
        // Log evidence: the component's own, or for a silent dependency its callers'.
        let mut log_patterns: Vec<PatternEvidence> = Vec::new();
        let log_sources: Vec<&str> = if c.instrumented {
            vec![*name]
        } else {
            callers
                .get(name)
                .into_iter()
                .flatten()
                .map(|e| e.from.as_str())
                .collect()
        };
        for p in input.patterns.iter().filter(|p| {
            log_sources.contains(&p.service.as_str())
                && (p.count as f64 * ratio) > p.baseline_count as f64
        }) {
            log_patterns.push(PatternEvidence {
                service: p.service.clone(),
                template_id: p.template_id.clone(),
                template: p.template.clone(),
                count: p.count,
                baseline_count: p.baseline_count,
            });
        }
        log_patterns.sort_by_key(|p| std::cmp::Reverse(p.count));
        log_patterns.truncate(5);
        let summary = if summary_parts.is_empty() {
            let by = f
                .error_explained_by
                .as_ref()
                .or(f.latency_explained_by.as_ref())
                .or(f.throughput_explained_by.as_ref());
            match by {
                Some(by) => format!("{name} is affected, most likely through {by}"),
                None => format!("{name} changed"),
            }
        } else {
            format!("{name}: {}", summary_parts.join(", "))
        };
        candidates.push(Candidate {
            rank: 0,
            service: name.to_string(),
            operation,
            kind: c.kind.clone(),
            instrumented: c.instrumented,
            score: (score * 100.0).round() / 100.0,
            summary,
            evidence,
            example_trace_ids: Vec::new(),
            log_patterns,
            affected_entry_points: Vec::new(),
            path: path_to(name, &callers, &anomalous),
            instance: None,
        });
    }
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| b.path.len().cmp(&a.path.len()))
            .then_with(|| a.service.cmp(&b.service))
    });
    for (i, c) in candidates.iter_mut().enumerate() {
        c.rank = i + 1;
    }
    anomalies.sort_by(|a, b| b.score.total_cmp(&a.score));
    TriageResult {
        anomalies,
        candidates,
    }
}

/// The longest chain of anomalous callers above `name`, entry first.
fn path_to(
    name: &str,
    callers: &HashMap<&str, Vec<&Edge>>,
    anomalous: &BTreeSet<&str>,
) -> Vec<String> {
    let mut path = vec![name.to_string()];
    let mut current = name;
    let mut seen = BTreeSet::from([name]);
    while let Some(next) = callers.get(current).and_then(|es| {
        es.iter()
            .filter(|e| anomalous.contains(e.from.as_str()) && !seen.contains(e.from.as_str()))
            .max_by_key(|e| e.window.errors + e.window.requests / 100)
            .map(|e| e.from.as_str())
    }) {
        seen.insert(next);
        path.push(next.to_string());
        current = next;
    }
    path.reverse();
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn red(requests: u64, errors: u64, ms: f64) -> Red {
        let mut s = Sketch::default();
        for i in 0..requests {
            // a little spread so percentiles differ
            s.record(ms * (0.9 + 0.2 * (i % 10) as f64 / 10.0));
        }
        Red::from_sketch(requests, errors, &s)
    }

    fn comp(name: &str, kind: &str, window: Red, baseline: Red) -> Component {
        Component {
            name: name.into(),
            kind: kind.into(),
            instrumented: kind == "service",
            window,
            baseline,
        }
    }

    fn edge(from: &str, to: &str, window: Red, baseline: Red) -> Edge {
        Edge {
            from: from.into(),
            to: to.into(),
            window,
            baseline,
        }
    }

    /// web → api → db, and web → billing; baseline healthy.
    fn healthy() -> TriageInput {
        TriageInput {
            window_s: 300.0,
            baseline_s: 900.0,
            components: vec![
                comp("web", "service", red(600, 3, 40.0), red(1800, 9, 40.0)),
                comp("api", "service", red(600, 3, 30.0), red(1800, 9, 30.0)),
                comp("billing", "service", red(300, 0, 20.0), red(900, 0, 20.0)),
                comp("db", "database", red(600, 0, 5.0), red(1800, 0, 5.0)),
            ],
            edges: vec![
                edge("web", "api", red(600, 3, 31.0), red(1800, 9, 31.0)),
                edge("web", "billing", red(300, 0, 21.0), red(900, 0, 21.0)),
                edge("api", "db", red(600, 0, 5.0), red(1800, 0, 5.0)),
            ],
            ..Default::default()
        }
    }

    /// A service catching up on a backlog shows less traffic than it had: spans still to come,
    /// not a drop.
    #[test]
    fn traffic_of_a_service_catching_up_is_not_judged() {
        let mut input = healthy();
        input.components[2].window = red(20, 0, 20.0);
        assert!(
            analyze(&input)
                .anomalies
                .iter()
                .any(|a| a.service == "billing"),
            "a real drop is an anomaly"
        );
        input.catching_up = vec!["billing".to_string()];
        let r = analyze(&input);
        assert!(
            r.anomalies.iter().all(|a| a.service != "billing"),
            "{:?}",
            r.anomalies
        );
    }

    #[test]
    fn nothing_changed_means_no_candidates() {
        let r = analyze(&healthy());
        assert!(r.candidates.is_empty(), "{:?}", r.candidates);
        assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
    }

    #[test]
    fn a_failing_database_outranks_the_services_that_pass_its_errors_on() {
        let mut input = healthy();
        input.components[3].window = red(600, 300, 1.0);
        input.edges[2].window = red(600, 300, 1.0);
        input.components[1].window = red(600, 303, 20.0);
        input.edges[0].window = red(600, 303, 21.0);
        input.components[0].window = red(600, 303, 30.0);
        let r = analyze(&input);
        let names: Vec<&str> = r.candidates.iter().map(|c| c.service.as_str()).collect();
        assert_eq!(names.first(), Some(&"db"), "{names:?}");
        assert_eq!(r.candidates[0].path, vec!["web", "api", "db"]);
        let api = r
            .anomalies
            .iter()
            .find(|a| a.service == "api" && a.kind == "error_rate")
            .unwrap();
        assert_eq!(api.explained_by.as_deref(), Some("db"));
        // billing is healthy and not a candidate
        assert!(!names.contains(&"billing"));
    }

    #[test]
    fn a_slow_callee_explains_its_callers_timeouts() {
        let mut input = healthy();
        // db got slow; api's calls to it time out at 2 s and fail.
        input.components[3].window = red(600, 0, 3000.0);
        input.edges[2].window = red(600, 400, 2000.0);
        input.components[1].window = red(600, 403, 2010.0);
        input.edges[0].window = red(600, 403, 2011.0);
        input.components[0].window = red(600, 403, 2020.0);
        let r = analyze(&input);
        assert_eq!(r.candidates[0].service, "db");
        assert!(r.candidates[0].evidence.iter().any(|e| e.kind == "latency"));
        for c in &r.candidates[1..] {
            assert!(c.score < r.candidates[0].score / 2.0, "{c:?}");
        }
    }

    #[test]
    fn a_service_failing_on_its_own_with_a_new_version_comes_first() {
        let mut input = healthy();
        input.components[2].window = red(300, 120, 20.0);
        input.edges[1].window = red(300, 120, 21.0);
        input.components[0].window = red(600, 123, 40.0);
        input.versions = vec![
            VersionSeen {
                service: "billing".into(),
                version: "2.0.0".into(),
                first_seen_unix_nano: 1,
                established: false,
                spans: 300,
                errors: 120,
            },
            VersionSeen {
                service: "web".into(),
                version: "1.0.0".into(),
                first_seen_unix_nano: 0,
                established: true,
                spans: 600,
                errors: 123,
            },
        ];
        let r = analyze(&input);
        assert_eq!(r.candidates[0].service, "billing");
        assert!(r.candidates[0].summary.contains("2.0.0"));
        assert!(
            r.candidates[0]
                .evidence
                .iter()
                .any(|e| e.kind == "new_version")
        );
        assert!(
            !r.anomalies
                .iter()
                .any(|a| a.kind == "new_version" && a.service == "web")
        );
    }

    #[test]
    fn a_symptom_limits_candidates_to_what_it_depends_on() {
        let mut input = healthy();
        // billing fails, but the symptom is in api, which does not call billing.
        input.components[2].window = red(300, 150, 20.0);
        input.edges[1].window = red(300, 150, 21.0);
        input.components[1].window = red(600, 3, 90.0);
        input.symptom = Some("api".into());
        let r = analyze(&input);
        assert!(r.candidates.iter().all(|c| c.service != "billing"));
        assert_eq!(r.candidates[0].service, "api");
    }

    #[test]
    fn small_noise_is_not_an_anomaly() {
        let mut input = healthy();
        // 0.5% → 1% errors on 600 requests, 40 → 44 ms: within normal variation.
        input.components[0].window = red(600, 6, 44.0);
        let r = analyze(&input);
        assert!(r.candidates.is_empty(), "{:?}", r.candidates);
    }
}
