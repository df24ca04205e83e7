//! Root-cause triage without an LLM: compare a window with a baseline, find what is anomalous
//! (error rate, latency, throughput, new or surging error log patterns, a new
//! `service.version`), follow the call graph down to the deepest anomalous components, and rank
//! them with their evidence.
//!
//! The rule that does the work is *explanation*: a caller's extra errors (or extra latency) are
//! explained when at least half of them arrive over its calls to anomalous callees (together:
//! two faults below a caller each bring part of its errors). What no callee explains is the
//! component's own; the components left with unexplained anomalies are the root-cause
//! candidates. Throughput is read the other way round: a drop is explained when a caller is
//! anomalous (fewer orders reach the mail service because checkout fails).
//!
//! Ranking then explains away, one cause at a time: following what explains each symptom down
//! to the causes it comes from, the next candidate is the one that stands out most with what
//! the causes ranked so far do not account for. A symptom never comes before its causes, and
//! a second, independent cause comes before the symptoms of a first, stronger one.
//!
//! Everything is deterministic and computed from the RED and edge rollups, so it is fast; the
//! query layer adds example traces and blast radius to the top candidates.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use serde::Serialize;

use crate::Sketch;

/// Requests, errors and duration of one component, edge or operation in one period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Red {
    pub requests: u64,
    pub errors: u64,
    pub mean_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// The durations themselves, for telling a shift from chance (see [`latency_anomaly`]).
    #[serde(skip)]
    pub durations: Option<Arc<Sketch>>,
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
            durations: (sketch.count > 0).then(|| Arc::new(sketch.clone())),
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
    /// The first server (or consumer) span of the traces: where the system was entered.
    pub service: String,
    pub operation: String,
    pub traces: u64,
    /// The service of the traces' root span when it is another one (a browser, a client
    /// program): where the requests started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_in: Option<String>,
}

/// A ranked root-cause candidate.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub rank: usize,
    pub service: String,
    pub operation: Option<String>,
    pub kind: String,
    pub instrumented: bool,
    /// How strongly the evidence at this component speaks: its own anomalies in full, those a
    /// dependency explains at a fraction. Candidates are in `rank` order, which also takes
    /// what the causes above already account for: a symptom of a strong cause can score more
    /// than a weaker, independent cause ranked above it.
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
///
/// A percentile of a few hundred requests moves a lot by chance when the durations are
/// spread (a 6% tail of 3 s timeouts puts a p90 anywhere between 250 ms and 3 s), so a
/// change counts only when it is also significant: more of the window's requests are slower
/// than the baseline's value of that percentile than the baseline's own share, by a
/// two-proportion z of at least 3 (the test error rates pass too).
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
        if ratio < min_ratio
            || after - before < min_abs
            || !slower_by_more_than_chance(w, b, before)
        {
            continue;
        }
        let score = (ratio.log2() * 2.0).min(10.0);
        if best.is_none_or(|(_, _, _, s)| score > s) {
            best = Some((name, before, after, score));
        }
    }
    best
}

/// Whether the window's share of requests slower than `ms` exceeds the baseline's share by
/// more than chance allows (one-sided two-proportion z ≥ 3). Without durations (a caller that
/// built its figures by hand) the percentiles are taken as they are.
fn slower_by_more_than_chance(w: &Red, b: &Red, ms: f64) -> bool {
    let (Some(wd), Some(bd)) = (&w.durations, &b.durations) else {
        return true;
    };
    let (nw, nb) = (wd.count as f64, bd.count as f64);
    if nw == 0.0 || nb == 0.0 {
        return false;
    }
    let (kw, kb) = (wd.count_above(ms) as f64, bd.count_above(ms) as f64);
    let delta = kw / nw - kb / nb;
    let pooled = (kw + kb) / (nw + nb);
    let se = (pooled * (1.0 - pooled) * (1.0 / nw + 1.0 / nb)).sqrt();
    if se == 0.0 {
        return delta > 0.0;
    }
    delta / se >= 3.0
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

/// The components by name and the calls out of and into each.
struct Graph<'a> {
    comps: BTreeMap<&'a str, &'a Component>,
    callees: HashMap<&'a str, Vec<&'a Edge>>,
    callers: HashMap<&'a str, Vec<&'a Edge>>,
}

impl<'a> Graph<'a> {
    fn new(input: &'a TriageInput) -> Graph<'a> {
        let mut g = Graph {
            comps: input
                .components
                .iter()
                .map(|c| (c.name.as_str(), c))
                .collect(),
            callees: HashMap::new(),
            callers: HashMap::new(),
        };
        for e in input.edges.iter().filter(|e| e.from != e.to) {
            g.callees.entry(e.from.as_str()).or_default().push(e);
            g.callers.entry(e.to.as_str()).or_default().push(e);
        }
        g
    }

    fn callees(&self, name: &str) -> &[&'a Edge] {
        self.callees
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    fn callers(&self, name: &str) -> &[&'a Edge] {
        self.callers
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// `service` and everything it depends on, directly or not.
    fn below(&self, service: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::from([service.to_string()]);
        let mut queue = VecDeque::from([service.to_string()]);
        while let Some(n) = queue.pop_front() {
            for e in self.callees(&n) {
                if seen.insert(e.to.clone()) {
                    queue.push_back(e.to.clone());
                }
            }
        }
        seen
    }
}

#[derive(Default)]
struct Findings {
    error: Option<(f64, f64, f64)>,
    latency: Option<(&'static str, f64, f64, f64)>,
    throughput: Option<(f64, f64)>,
    /// The anomalous callees whose calls bring the extra errors (the extra latency), each with
    /// its part of them, largest first; the parts add up to at most 1.
    error_via: Vec<(String, f64)>,
    latency_via: Vec<(String, f64)>,
    error_explained_by: Option<String>,
    latency_explained_by: Option<String>,
    throughput_explained_by: Option<String>,
}

impl Findings {
    fn any(&self) -> bool {
        self.error.is_some() || self.latency.is_some() || self.throughput.is_some()
    }

    fn anomalous(&self) -> bool {
        self.error.is_some() || self.latency.is_some()
    }
}

/// Ranks root-cause candidates; see the module docs.
pub fn analyze(input: &TriageInput) -> TriageResult {
    let graph = Graph::new(input);
    let mut found = detect(input);
    explain(&graph, &mut found);
    let extra = Extra::new(input);
    let anomalies = record_anomalies(&found, &extra);
    let scope = input.symptom.as_deref().map(|s| graph.below(s));
    let anomalous: BTreeSet<&str> = found
        .iter()
        .filter(|(_, f)| f.anomalous())
        .map(|(n, _)| *n)
        .collect();
    let mut blame = Blame::new(&found);
    let scored: Vec<Scored> = found
        .iter()
        .filter(|(name, _)| scope.as_ref().is_none_or(|s| s.contains(**name)))
        .filter_map(|(name, f)| {
            let c = graph.comps.get(name)?;
            let mut s = score(input, &graph, &extra, &mut blame, c, f)?;
            s.candidate.path = path_to(name, &graph, &anomalous);
            Some(s)
        })
        .collect();
    TriageResult {
        anomalies,
        candidates: rank(scored),
    }
}

/// Phase 1: what changed, per component.
fn detect(input: &TriageInput) -> BTreeMap<&str, Findings> {
    input
        .components
        .iter()
        .map(|c| {
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
            (c.name.as_str(), f)
        })
        .collect()
}

/// Phase 2: explanation along the call graph. Extra errors (extra latency) are explained when
/// at least half of them arrive over calls to anomalous callees, together: two faults below a
/// caller each bring part of its errors.
fn explain(graph: &Graph, found: &mut BTreeMap<&str, Findings>) {
    let anomalous: BTreeSet<String> = found
        .iter()
        .filter(|(_, f)| f.anomalous())
        .map(|(n, _)| n.to_string())
        .collect();
    for (name, f) in found.iter_mut() {
        let Some(c) = graph.comps.get(name) else {
            continue;
        };
        let out: Vec<&Edge> = graph
            .callees(name)
            .iter()
            .filter(|e| anomalous.contains(&e.to))
            .copied()
            .collect();
        if f.error.is_some() {
            let own = extra_errors(&c.window, c.baseline.error_rate());
            // Includes timeouts: a callee that got slow shows as errors on the call.
            let via = out.iter().map(|e| {
                (
                    e.to.as_str(),
                    extra_errors(&e.window, e.baseline.error_rate()),
                )
            });
            f.error_via = shares(via, own);
            f.error_explained_by = explained_by(&f.error_via);
        }
        if f.latency.is_some() {
            let own = match (c.window.mean_ms, c.baseline.mean_ms) {
                (Some(a), Some(b)) => (a - b).max(0.0),
                _ => 0.0,
            };
            let via = out.iter().filter_map(|e| {
                let (a, b) = (e.window.mean_ms?, e.baseline.mean_ms?);
                let per_request =
                    (a - b).max(0.0) * e.window.requests as f64 / c.window.requests.max(1) as f64;
                Some((e.to.as_str(), per_request))
            });
            f.latency_via = shares(via, own);
            f.latency_explained_by = explained_by(&f.latency_via);
        }
        if f.throughput.is_some() {
            // A dependency's throughput follows its callers: only an entry point's own
            // throughput change is unexplained.
            let callers = graph.callers(name);
            f.throughput_explained_by = callers
                .iter()
                .find(|e| anomalous.contains(&e.from))
                .or_else(|| callers.first())
                .map(|e| e.from.clone());
        }
    }
}

/// Each callee's part of `own`, scaled down when the parts add up to more; largest first.
fn shares<'a>(via: impl Iterator<Item = (&'a str, f64)>, own: f64) -> Vec<(String, f64)> {
    if own <= 0.0 {
        return Vec::new();
    }
    let mut parts: Vec<(String, f64)> = Vec::new();
    for (to, v) in via.filter(|(_, v)| *v > 0.0) {
        match parts.iter_mut().find(|(n, _)| n == to) {
            Some(p) => p.1 += v,
            None => parts.push((to.to_string(), v)),
        }
    }
    let total: f64 = parts.iter().map(|(_, v)| v).sum();
    let scale = if total > own { total } else { own };
    for p in &mut parts {
        p.1 /= scale;
    }
    parts.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    parts
}

/// The callee that brings most of an anomaly, when the callees together bring half of it.
fn explained_by(via: &[(String, f64)]) -> Option<String> {
    let total: f64 = via.iter().map(|(_, p)| p).sum();
    (total >= 0.5).then(|| via[0].0.clone())
}

/// Phase 3: evidence beyond RED, new versions and surging log patterns.
struct Extra<'a> {
    new_versions: HashMap<&'a str, &'a VersionSeen>,
    surging: Vec<&'a PatternChange>,
    /// Baseline length over window length, to compare counts.
    ratio: f64,
    patterns: &'a [PatternChange],
}

impl<'a> Extra<'a> {
    fn new(input: &'a TriageInput) -> Extra<'a> {
        let mut new_versions: HashMap<&str, &VersionSeen> = HashMap::new();
        for v in input.versions.iter().filter(|v| !v.established) {
            new_versions.entry(v.service.as_str()).or_insert(v);
        }
        let ratio = if input.window_s > 0.0 && input.baseline_s > 0.0 {
            input.baseline_s / input.window_s
        } else {
            1.0
        };
        let surging = input
            .patterns
            .iter()
            .filter(|p| {
                p.count >= 3
                    && (p.baseline_count == 0
                        || p.count as f64 * ratio >= 3.0 * p.baseline_count as f64)
            })
            .collect();
        Extra {
            new_versions,
            surging,
            ratio,
            patterns: &input.patterns,
        }
    }
}

/// Phase 4: the anomalies, for the record.
fn record_anomalies(found: &BTreeMap<&str, Findings>, extra: &Extra) -> Vec<Anomaly> {
    let mut anomalies = Vec::new();
    for (name, f) in found {
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
    for v in extra.new_versions.values() {
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
    for p in &extra.surging {
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
    anomalies.sort_by(|a, b| b.score.total_cmp(&a.score));
    anomalies
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Signal {
    Errors,
    Latency,
}

/// Where explained anomalies come from: following the callees that explain them down to the
/// components whose anomalies are their own (the causes), with the part each cause brings.
struct Blame<'f, 'a> {
    found: &'f BTreeMap<&'a str, Findings>,
    memo: HashMap<(String, Signal), BTreeMap<String, f64>>,
}

impl<'f, 'a> Blame<'f, 'a> {
    fn new(found: &'f BTreeMap<&'a str, Findings>) -> Self {
        Blame {
            found,
            memo: HashMap::new(),
        }
    }

    /// The causes of `name`'s `signal` anomaly and the part of it each brings (adding up to 1):
    /// `name` itself when the anomaly is its own.
    fn causes(&mut self, name: &str, signal: Signal) -> BTreeMap<String, f64> {
        self.causes_below(name, signal, &mut Vec::new())
    }

    fn causes_below(
        &mut self,
        name: &str,
        signal: Signal,
        stack: &mut Vec<String>,
    ) -> BTreeMap<String, f64> {
        if let Some(known) = self.memo.get(&(name.to_string(), signal)) {
            return known.clone();
        }
        let own = BTreeMap::from([(name.to_string(), 1.0)]);
        let Some(f) = self.found.get(name) else {
            return own;
        };
        let (explained, via) = match signal {
            Signal::Errors => (f.error_explained_by.is_some(), &f.error_via),
            Signal::Latency => (f.latency_explained_by.is_some(), &f.latency_via),
        };
        // A loop in the calls ends at the component it came back to.
        if !explained || stack.iter().any(|s| s == name) {
            return own;
        }
        stack.push(name.to_string());
        let total: f64 = via.iter().map(|(_, p)| p).sum();
        let mut causes: BTreeMap<String, f64> = BTreeMap::new();
        for (callee, part) in via {
            // The callee's errors reach the caller as errors, its latency as latency or as
            // timeouts; whichever it shows.
            let next = match self.found.get(callee.as_str()) {
                Some(g) if signal == Signal::Errors && g.error.is_none() => Signal::Latency,
                Some(g) if signal == Signal::Latency && g.latency.is_none() => Signal::Errors,
                _ => signal,
            };
            for (cause, p) in self.causes_below(callee, next, stack) {
                *causes.entry(cause).or_default() += part / total * p;
            }
        }
        stack.pop();
        self.memo.insert((name.to_string(), signal), causes.clone());
        causes
    }
}

/// A candidate and what ranking it needs: the part of its score that is its own, and the
/// parts that other components explain, with the causes they lead to.
struct Scored {
    candidate: Candidate,
    score: f64,
    own: f64,
    explained: Vec<(f64, BTreeMap<String, f64>)>,
}

/// Phase 5: one component's candidate, scored, unless nothing speaks for it.
fn score(
    input: &TriageInput,
    graph: &Graph,
    extra: &Extra,
    blame: &mut Blame,
    c: &Component,
    f: &Findings,
) -> Option<Scored> {
    let name = c.name.as_str();
    let new_version = extra.new_versions.get(name);
    let patterns: Vec<&PatternChange> = extra
        .surging
        .iter()
        .filter(|p| p.service == name && p.max_severity_number >= 17)
        .copied()
        .collect();
    if !f.any() && new_version.is_none() && patterns.is_empty() {
        return None;
    }
    let Parts {
        own: mut own_score,
        mut explained,
        mut evidence,
        own_changes: mut summary_parts,
    } = red_parts(name, f, blame);
    let own = own_score > 0.0;
    // What a symptom shows besides RED follows its causes too.
    let causes = merged(&explained);
    let mut side = 0.0;
    if let Some(v) = new_version {
        // A deploy matters when the service itself misbehaves.
        side += if own { 2.0 } else { 0.3 };
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
        side += if own { 0.5 } else { 0.1 };
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
    if own || causes.is_empty() {
        own_score += side;
    } else {
        explained.push((side, causes.clone()));
    }
    let score = own_score + explained.iter().map(|(s, _)| s).sum::<f64>();
    if score <= 0.0 {
        return None;
    }
    let summary = summary(name, f, &causes, &summary_parts);
    Some(Scored {
        candidate: Candidate {
            rank: 0,
            service: name.to_string(),
            operation: headline_operation(input, name),
            kind: c.kind.clone(),
            instrumented: c.instrumented,
            score: (score * 100.0).round() / 100.0,
            summary,
            evidence,
            example_trace_ids: Vec::new(),
            log_patterns: log_evidence(graph, extra, c),
            affected_entry_points: Vec::new(),
            path: Vec::new(),
            instance: None,
        },
        score,
        own: own_score,
        explained,
    })
}

/// What a candidate's score is made of, with its evidence.
struct Parts {
    /// The score of its own anomalies.
    own: f64,
    /// The scores of anomalies that dependencies explain, each with the causes it leads to.
    explained: Vec<(f64, BTreeMap<String, f64>)>,
    evidence: Vec<Evidence>,
    /// Its own changes, for the headline.
    own_changes: Vec<String>,
}

/// The RED part of a candidate: errors, latency and throughput, its own or explained.
fn red_parts(name: &str, f: &Findings, blame: &mut Blame) -> Parts {
    let mut own_score = 0.0;
    let mut explained: Vec<(f64, BTreeMap<String, f64>)> = Vec::new();
    let mut evidence = Vec::new();
    let mut summary_parts = Vec::new();
    if let Some((before, after, s)) = f.error {
        let (before, after) = (before * 100.0, after * 100.0);
        match &f.error_explained_by {
            Some(by) => {
                explained.push((s * EXPLAINED_WEIGHT, blame.causes(name, Signal::Errors)));
                evidence.push(red_evidence(
                    "error_rate",
                    format!("error rate {before:.1}% → {after:.1}% (mostly from calls to {by})"),
                    before / 100.0,
                    after / 100.0,
                ));
            }
            None => {
                own_score += s;
                summary_parts.push(format!("errors {before:.1}% → {after:.1}%"));
                evidence.push(red_evidence(
                    "error_rate",
                    format!(
                        "error rate {before:.1}% → {after:.1}%, not explained by any dependency"
                    ),
                    before / 100.0,
                    after / 100.0,
                ));
            }
        }
    }
    if let Some((which, before, after, s)) = f.latency {
        let change = format!("{} → {}", fmt_ms(before), fmt_ms(after));
        match &f.latency_explained_by {
            Some(by) => {
                explained.push((s * EXPLAINED_WEIGHT, blame.causes(name, Signal::Latency)));
                evidence.push(red_evidence(
                    "latency",
                    format!("{which} latency {change} (mostly waiting on {by})"),
                    before,
                    after,
                ));
            }
            None => {
                own_score += s;
                summary_parts.push(format!("{which} {change}"));
                evidence.push(red_evidence(
                    "latency",
                    format!("{which} latency {change}, not explained by any dependency"),
                    before,
                    after,
                ));
            }
        }
    }
    if let Some((before, after)) = f.throughput {
        // A throughput change that follows a caller weighs nothing.
        if f.throughput_explained_by.is_none() {
            own_score += 1.0;
        }
        let kind = if after < before {
            "throughput_drop"
        } else {
            "throughput_surge"
        };
        evidence.push(red_evidence(
            kind,
            format!("requests {before:.2}/s → {after:.2}/s"),
            before,
            after,
        ));
    }
    Parts {
        own: own_score,
        explained,
        evidence,
        own_changes: summary_parts,
    }
}

/// The headline: what changed of the component's own, or for a symptom what it goes through
/// and the causes further down.
fn summary(
    name: &str,
    f: &Findings,
    causes: &BTreeMap<String, f64>,
    own_parts: &[String],
) -> String {
    if !own_parts.is_empty() {
        return format!("{name}: {}", own_parts.join(", "));
    }
    let by = f
        .error_explained_by
        .as_ref()
        .or(f.latency_explained_by.as_ref())
        .or(f.throughput_explained_by.as_ref());
    let Some(by) = by else {
        return format!("{name} changed");
    };
    let mut causes: Vec<(&String, &f64)> = causes.iter().filter(|(n, _)| *n != by).collect();
    causes.sort_by(|a, b| b.1.total_cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let causes: Vec<&str> = causes.iter().map(|(n, _)| n.as_str()).collect();
    match causes.as_slice() {
        [] => format!("{name} is affected, most likely through {by}"),
        [one] => format!("{name} is affected, most likely through {by} (cause: {one})"),
        many => format!(
            "{name} is affected, most likely through {by} (causes: {})",
            many.join(", ")
        ),
    }
}

fn red_evidence(kind: &str, detail: String, before: f64, after: f64) -> Evidence {
    Evidence {
        kind: kind.into(),
        detail,
        before: Some(before),
        after: Some(after),
    }
}

/// The causes of several explained anomalies together, each anomaly weighing its score.
fn merged(explained: &[(f64, BTreeMap<String, f64>)]) -> BTreeMap<String, f64> {
    let total: f64 = explained.iter().map(|(s, _)| s).sum();
    let mut causes: BTreeMap<String, f64> = BTreeMap::new();
    for (s, parts) in explained {
        for (cause, p) in parts {
            *causes.entry(cause.clone()).or_default() += if total > 0.0 {
                s / total * p
            } else {
                p / explained.len() as f64
            };
        }
    }
    causes
}

/// The most affected operation of a service, for the headline.
fn headline_operation(input: &TriageInput, name: &str) -> Option<String> {
    input
        .operations
        .iter()
        .filter(|o| o.service == name)
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
        .map(|(_, o)| o)
}

/// Log evidence: the component's own, or for a silent dependency its callers'.
fn log_evidence(graph: &Graph, extra: &Extra, c: &Component) -> Vec<PatternEvidence> {
    let sources: Vec<&str> = if c.instrumented {
        vec![c.name.as_str()]
    } else {
        graph
            .callers(&c.name)
            .iter()
            .map(|e| e.from.as_str())
            .collect()
    };
    let mut log_patterns: Vec<PatternEvidence> = extra
        .patterns
        .iter()
        .filter(|p| {
            sources.contains(&p.service.as_str())
                && (p.count as f64 * extra.ratio) > p.baseline_count as f64
        })
        .map(|p| PatternEvidence {
            service: p.service.clone(),
            template_id: p.template_id.clone(),
            template: p.template.clone(),
            count: p.count,
            baseline_count: p.baseline_count,
        })
        .collect();
    log_patterns.sort_by_key(|p| std::cmp::Reverse(p.count));
    log_patterns.truncate(5);
    log_patterns
}

/// Phase 6: the ranking, one cause at a time. The next is the candidate that most stands out
/// with what the causes ranked so far do not account for: once a cause is ranked, the
/// anomalies it explains in its callers weigh nothing more, so a second, independent cause
/// comes before the symptoms of the first. A candidate whose anomalies all come from others
/// waits until its causes are ranked.
fn rank(mut scored: Vec<Scored>) -> Vec<Candidate> {
    let mut ranked: Vec<Candidate> = Vec::with_capacity(scored.len());
    let mut picked: BTreeSet<String> = BTreeSet::new();
    while !scored.is_empty() {
        let remaining: BTreeSet<String> =
            scored.iter().map(|s| s.candidate.service.clone()).collect();
        let left = |s: &Scored| -> f64 {
            s.own
                + s.explained
                    .iter()
                    .map(|(score, causes)| {
                        let accounted: f64 = causes
                            .iter()
                            .filter(|(c, _)| picked.contains(*c))
                            .map(|(_, p)| p)
                            .sum();
                        score * (1.0 - accounted).max(0.0)
                    })
                    .sum::<f64>()
        };
        let waits = |s: &Scored| {
            s.own <= 0.0
                && s.explained.iter().any(|(_, causes)| {
                    causes
                        .keys()
                        .any(|c| *c != s.candidate.service && remaining.contains(c))
                })
        };
        let order = |a: &Scored, b: &Scored| {
            left(a)
                .total_cmp(&left(b))
                .then_with(|| a.score.total_cmp(&b.score))
                .then_with(|| a.candidate.path.len().cmp(&b.candidate.path.len()))
                .then_with(|| b.candidate.service.cmp(&a.candidate.service))
        };
        let next = scored
            .iter()
            .enumerate()
            .filter(|(_, s)| !waits(s))
            .max_by(|(_, a), (_, b)| order(a, b))
            .or_else(|| {
                scored
                    .iter()
                    .enumerate()
                    .max_by(|(_, a), (_, b)| order(a, b))
            })
            .map(|(i, _)| i)
            .unwrap_or(0);
        let s = scored.swap_remove(next);
        picked.insert(s.candidate.service.clone());
        ranked.push(s.candidate);
    }
    for (i, c) in ranked.iter_mut().enumerate() {
        c.rank = i + 1;
    }
    ranked
}

/// The longest chain of anomalous callers above `name`, entry first.
fn path_to(name: &str, graph: &Graph, anomalous: &BTreeSet<&str>) -> Vec<String> {
    let mut path = vec![name.to_string()];
    let mut current = name.to_string();
    let mut seen = BTreeSet::from([name.to_string()]);
    while let Some(next) = graph
        .callers(&current)
        .iter()
        .filter(|e| anomalous.contains(e.from.as_str()) && !seen.contains(&e.from))
        .max_by_key(|e| e.window.errors + e.window.requests / 100)
        .map(|e| e.from.clone())
    {
        seen.insert(next.clone());
        path.push(next.clone());
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

    /// `n` requests of which `slow` took 3 s and the rest 60–260 ms.
    fn tailed(n: u64, slow: u64) -> Red {
        let mut s = Sketch::default();
        for i in 0..n {
            s.record(if i < slow {
                3000.0
            } else {
                60.0 + (i % 20) as f64 * 10.0
            });
        }
        Red::from_sketch(n, slow, &s)
    }

    #[test]
    fn a_percentile_that_moves_by_chance_is_not_a_latency_anomaly() {
        // 6% of calls time out at 3 s before; 10.6% of a smaller window by chance: the p90
        // lands on the timeouts (243 ms -> 3 s) but the share of slow calls barely moved.
        let (window, baseline) = (tailed(113, 12), tailed(1450, 87));
        assert!(window.p90_ms.unwrap() > 5.0 * baseline.p90_ms.unwrap());
        assert_eq!(latency_anomaly(&window, &baseline), None);
        // The same percentile with a third of the calls timing out is one.
        let (which, _, after, _) = latency_anomaly(&tailed(113, 38), &baseline).unwrap();
        assert!(
            which == "p90" || which == "p50" || which == "mean",
            "{which}"
        );
        assert!(after > 1000.0);
        // Without the durations the percentiles are taken as they are.
        let bare = |r: Red| Red {
            durations: None,
            ..r
        };
        assert!(latency_anomaly(&bare(window), &bare(baseline)).is_some());
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

    /// Two branches under one front: front → a → a-db, and front → b → b2 → c, where b2
    /// gives up on c after 250 ms. In the window a-db fails `db_errors` of 300 calls and c is
    /// slow (20 → 300 ms), so half of b2's calls time out; the front adds `front_own` errors of
    /// its own. users is healthy.
    fn two_faults(db_errors: u64, front_own: u64) -> TriageInput {
        let front_errors = 3 + db_errors + 150 + front_own;
        TriageInput {
            window_s: 300.0,
            baseline_s: 900.0,
            components: vec![
                comp(
                    "front",
                    "service",
                    red(600, front_errors, 150.0),
                    red(1800, 9, 40.0),
                ),
                comp("users", "service", red(300, 0, 5.0), red(900, 0, 5.0)),
                comp(
                    "a",
                    "service",
                    red(300, db_errors + 1, 20.0),
                    red(900, 3, 20.0),
                ),
                comp(
                    "a-db",
                    "database",
                    red(300, db_errors, 3.0),
                    red(900, 0, 3.0),
                ),
                comp("b", "service", red(300, 151, 265.0), red(900, 3, 30.0)),
                comp("b2", "service", red(300, 150, 262.0), red(900, 3, 25.0)),
                comp("c", "service", red(300, 0, 300.0), red(900, 0, 20.0)),
            ],
            edges: vec![
                edge("front", "users", red(300, 0, 6.0), red(900, 0, 6.0)),
                edge(
                    "front",
                    "a",
                    red(300, db_errors + 1, 21.0),
                    red(900, 3, 21.0),
                ),
                edge("front", "b", red(300, 151, 266.0), red(900, 3, 31.0)),
                edge("a", "a-db", red(300, db_errors, 3.0), red(900, 0, 3.0)),
                edge("b", "b2", red(300, 150, 263.0), red(900, 3, 26.0)),
                edge("b2", "c", red(300, 150, 250.0), red(900, 0, 21.0)),
            ],
            ..Default::default()
        }
    }

    fn ranking(r: &TriageResult) -> Vec<&str> {
        r.candidates.iter().map(|c| c.service.as_str()).collect()
    }

    /// A weak cause (one call in ten to a-db fails) and a strong one (c got slow) at once: the
    /// strong cause's callers show more than the weak cause, yet both causes come first.
    #[test]
    fn two_independent_causes_both_rank_before_their_symptoms() {
        let r = analyze(&two_faults(30, 0));
        let names = ranking(&r);
        assert_eq!(names.len(), 6, "{names:?}");
        assert_eq!(names[..2], ["c", "a-db"], "{names:?}");
        // The weak cause scores less than the symptoms of the strong one...
        let score = |n: &str| r.candidates.iter().find(|c| c.service == n).unwrap().score;
        assert!(score("b2") > score("a-db"), "{:?}", r.candidates);
        // ...which say where their fault comes from.
        let b = r.candidates.iter().find(|c| c.service == "b").unwrap();
        assert!(b.summary.contains("through b2 (cause: c)"), "{}", b.summary);
        let front = r.candidates.iter().find(|c| c.service == "front").unwrap();
        assert!(
            front.summary.contains("causes: c, a-db") || front.summary.contains("cause: a-db"),
            "{}",
            front.summary
        );
        assert!(!names.contains(&"users"));
    }

    /// The front's extra errors come from both failing branches, neither bringing half of them
    /// alone: together they explain them, and the front is no cause.
    #[test]
    fn errors_split_between_two_failing_branches_are_explained() {
        let r = analyze(&two_faults(100, 60));
        let front = r
            .anomalies
            .iter()
            .find(|a| a.service == "front" && a.kind == "error_rate")
            .unwrap();
        assert_eq!(front.explained_by.as_deref(), Some("b"), "{front:?}");
        let names = ranking(&r);
        let pos = |n: &str| names.iter().position(|x| *x == n).unwrap();
        assert!(
            pos("front") > pos("a-db") && pos("front") > pos("c"),
            "{names:?}"
        );
        assert_eq!(names[..2], ["c", "a-db"], "{names:?}");
    }

    /// A slight slowdown (20 → 32 ms) makes its caller time out half its calls: the caller's
    /// errors weigh more than the slowdown, but it only shows the fault and ranks below it.
    #[test]
    fn a_symptom_that_scores_more_than_its_cause_still_ranks_below_it() {
        let mut input = healthy();
        input.components.push(comp(
            "cache",
            "service",
            red(600, 0, 32.0),
            red(1800, 0, 20.0),
        ));
        input.edges.push(edge(
            "api",
            "cache",
            red(600, 300, 30.0),
            red(1800, 0, 21.0),
        ));
        input.components[1].window = red(600, 303, 45.0);
        input.edges[0].window = red(600, 303, 46.0);
        input.components[0].window = red(600, 303, 55.0);
        let r = analyze(&input);
        let names = ranking(&r);
        assert_eq!(names.first(), Some(&"cache"), "{:?}", r.candidates);
        let api = r.candidates.iter().find(|c| c.service == "api").unwrap();
        assert!(api.score > r.candidates[0].score, "{:?}", r.candidates);
    }
}
