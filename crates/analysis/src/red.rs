//! RED rollups and service-graph edges from spans, aggregated per minute at ingest.

use std::collections::{HashMap, VecDeque};

use model::{MetricPointRow, Resource, SpanRow};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::sketch::{Sketch, bounds};

/// Per service, operation, span kind and error flag: requests and durations.
pub const RED_METRIC: &str = "redscope.red.duration";
/// Per caller and callee: calls and durations as seen by the caller.
pub const EDGE_METRIC: &str = "redscope.edge.duration";

/// Per service (and per operation of its entry spans) and entry point: traces that reached it.
pub const REACH_METRIC: &str = "redscope.trace.reach";
/// Per service (and operation): the distinct users and sessions of the traces that reached it,
/// as a k-minimum-values sample of their hashes (see [`DistinctSample`]).
pub const REACH_DISTINCT_METRIC: &str = "redscope.trace.reach_distinct";

/// The mark stored with every drain of the rollups (its number and the WAL position it
/// covers): bookkeeping of the server, not a metric of the user's.
pub const DRAIN_METRIC: &str = "redscope.rollup.drain";

const MINUTE_NS: i64 = 60_000_000_000;
/// Traces followed at once for reach; beyond it the oldest are settled early.
const MAX_TRACES: usize = 200_000;
/// How long a client span waits for its server-side child before the callee is taken to be
/// uninstrumented.
const MATCH_WINDOW_NS: i64 = 10_000_000_000;
const MAX_PENDING: usize = 200_000;
/// How long a counted trace is remembered, so that its late spans (exported after the trace
/// was settled, as batching exporters of slow services do) are not counted as a new trace.
const SETTLED_MEMORY_NS: i64 = 300_000_000_000;
const MAX_SETTLED: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct RedKey {
    minute: i64,
    service: String,
    operation: String,
    kind: String,
    error: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct EdgeKey {
    minute: i64,
    client: String,
    server: String,
    server_kind: String,
    instrumented: bool,
    error: bool,
}

#[derive(Debug, Clone)]
struct PendingClient {
    service: String,
    start: i64,
    duration_ms: f64,
    error: bool,
    /// Name and kind of the callee when it turns out to be uninstrumented.
    target: Option<(String, &'static str)>,
    /// When it arrived (unix ns).
    seen: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingServer {
    service: String,
    error: bool,
    seen: i64,
}

/// What is known of one trace while its spans arrive: where it entered and what it reached.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TraceReach {
    minute: i64,
    /// The root span's service and operation, once seen.
    root: Option<(String, String)>,
    /// (service, operation) pairs reached; operation "" stands for the service as a whole.
    reached: Vec<(String, String)>,
    users: Vec<String>,
    sessions: Vec<String>,
    seen: i64,
}

/// What was counted of a settled trace: the minute it was counted in, its root, and hashes of
/// the (service, operation) pairs counted.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SettledTrace {
    minute: i64,
    root: Option<(String, String)>,
    reached: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct ReachKey {
    minute: i64,
    service: String,
    operation: String,
    root_service: String,
    root_operation: String,
}

/// Aggregates spans into RED and edge rollups; see the crate docs.
#[derive(Debug, Default)]
pub struct RedAggregator {
    red: HashMap<RedKey, Sketch>,
    edges: HashMap<EdgeKey, Sketch>,
    traces: HashMap<String, TraceReach>,
    reach: HashMap<ReachKey, u64>,
    /// (minute, service, operation, "users" | "sessions") → sample.
    distinct: HashMap<(i64, String, String, &'static str), DistinctSample>,
    clients: HashMap<(String, String), PendingClient>,
    servers: HashMap<(String, String), PendingServer>,
    /// Traces counted for reach, by a hash of their id, and the order they were counted in
    /// (for forgetting).
    settled: HashMap<u64, SettledTrace>,
    settled_order: VecDeque<(i64, u64)>,
    /// Spans not matched because the pending tables were full.
    pub dropped_pending: u64,
    /// How late the spans arrive: up to when the rollups are complete.
    arrival: crate::arrival::ArrivalLag,
}

/// The operation a span is counted under: the route or RPC method when known, else its name.
pub fn operation_of(span: &SpanRow) -> String {
    if let Some(route) = &span.http_route {
        return match &span.http_request_method {
            Some(m) => format!("{m} {route}"),
            None => route.clone(),
        };
    }
    if let Some(method) = &span.rpc_method {
        return match &span.rpc_service {
            Some(s) => format!("{s}/{method}"),
            None => method.clone(),
        };
    }
    span.name.clone()
}

fn is_error(span: &SpanRow) -> bool {
    model::span_failed(
        &span.status_code,
        &span.kind,
        span.http_response_status_code,
    )
}

/// The dependency a client span calls, when the span says: (node name, node kind).
pub fn node_kind_of(span: &SpanRow) -> Option<(String, &'static str)> {
    if let Some(system) = &span.db_system {
        let name = span
            .server_address
            .clone()
            .or_else(|| span.db_namespace.clone())
            .unwrap_or_else(|| system.clone());
        return Some((name, "database"));
    }
    if let Some(system) = &span.messaging_system {
        let name = span
            .messaging_destination_name
            .clone()
            .unwrap_or_else(|| system.clone());
        return Some((name, "messaging"));
    }
    if let Some(peer) = &span.peer_service {
        return Some((peer.clone(), "service"));
    }
    span.server_address
        .clone()
        .or_else(|| span.url_full.as_deref().and_then(url_host))
        .map(|a| (a, "external"))
}

/// The host of an absolute URL (`scheme://[userinfo@]host[:port]/...`), lowercased, without
/// its port, user information or IPv6 brackets; `None` when the URL names no host.
pub fn url_host(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split_once(']')?.0
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    let host = host.trim_end_matches('.');
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Which followed traces to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settle {
    /// Those quiet for the match window.
    Quiet,
    /// The older half, to stay within [`MAX_TRACES`].
    Crowded,
    /// All (at shutdown).
    All,
}

/// A k-minimum-values sample of 64-bit hashes: exact up to `K` distinct values, an estimate
/// (a few percent off) beyond; two samples merge by union.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DistinctSample {
    /// The smallest distinct hashes seen, ascending (never 0).
    pub hashes: Vec<u64>,
}

impl DistinctSample {
    pub const K: usize = 256;

    pub fn insert_hash(&mut self, h: u64) {
        let h = h.max(1);
        if let Err(i) = self.hashes.binary_search(&h)
            && i < Self::K
        {
            self.hashes.insert(i, h);
            self.hashes.truncate(Self::K);
        }
    }

    pub fn insert(&mut self, value: &str) {
        self.insert_hash(hash64(value));
    }

    pub fn merge(&mut self, other: &[u64]) {
        for h in other {
            self.insert_hash(*h);
        }
    }

    /// How many distinct values were inserted (estimated past `K`).
    pub fn estimate(&self) -> u64 {
        if self.hashes.len() < Self::K {
            return self.hashes.len() as u64;
        }
        let kth = self.hashes[Self::K - 1] as f64 / u64::MAX as f64;
        ((Self::K - 1) as f64 / kth).round() as u64
    }
}

/// A well-mixed 64-bit hash, stable across processes (FNV-1a, then a finaliser).
fn hash64(s: &str) -> u64 {
    let mut h = s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

fn push_unique(list: &mut Vec<String>, v: &str, cap: usize) {
    if list.len() < cap && !list.iter().any(|x| x == v) {
        list.push(v.to_string());
    }
}

impl RedAggregator {
    /// Counts accepted spans.
    pub fn observe(&mut self, spans: &[SpanRow]) {
        self.observe_at(spans, model::now_unix_nano());
    }

    /// Counts spans that arrived at `now` (unix ns): what replaying stored spans after a crash
    /// calls with the time they had arrived at, so that the replay decides as the first run did.
    pub fn observe_at(&mut self, spans: &[SpanRow], now: i64) {
        for span in spans {
            self.arrival
                .record(&span.resource.service_name, span.end_time_unix_nano, now);
            let service = &span.resource.service_name;
            let minute = span.start_time_unix_nano.div_euclid(MINUTE_NS) * MINUTE_NS;
            let duration_ms = span.duration_ns as f64 / 1e6;
            let error = is_error(span);
            let entry_like = matches!(span.kind.as_str(), "SERVER" | "CONSUMER")
                || span.parent_span_id.is_empty();
            let operation = entry_like.then(|| operation_of(span));
            self.follow_trace(span, operation.as_deref(), now);
            if let Some(operation) = operation {
                let key = RedKey {
                    minute,
                    service: service.clone(),
                    operation,
                    kind: span.kind.clone(),
                    error,
                };
                self.red.entry(key).or_default().record(duration_ms);
            }
            match span.kind.as_str() {
                "CLIENT" | "PRODUCER" => {
                    let key = (span.trace_id.clone(), span.span_id.clone());
                    if let Some(server) = self.servers.remove(&key) {
                        self.edge(
                            minute,
                            service,
                            &server.service,
                            "service",
                            true,
                            error || server.error,
                            duration_ms,
                        );
                    } else if let Some((name, "database")) = node_kind_of(span) {
                        // Databases send no spans of their own: nothing to wait for, so the
                        // edge is complete as soon as the client span is stored.
                        self.edge(
                            minute,
                            service,
                            &name,
                            "database",
                            false,
                            error,
                            duration_ms,
                        );
                    } else if self.clients.len() < MAX_PENDING {
                        self.clients.insert(
                            key,
                            PendingClient {
                                service: service.clone(),
                                start: span.start_time_unix_nano,
                                duration_ms,
                                error,
                                target: node_kind_of(span),
                                seen: now,
                            },
                        );
                    } else {
                        self.dropped_pending += 1;
                    }
                }
                "SERVER" | "CONSUMER" if !span.parent_span_id.is_empty() => {
                    let key = (span.trace_id.clone(), span.parent_span_id.clone());
                    if let Some(client) = self.clients.remove(&key) {
                        if &client.service != service {
                            let m = client.start.div_euclid(MINUTE_NS) * MINUTE_NS;
                            self.edge(
                                m,
                                &client.service,
                                service,
                                "service",
                                true,
                                client.error || error,
                                client.duration_ms,
                            );
                        }
                    } else if self.servers.len() < MAX_PENDING {
                        self.servers.insert(
                            key,
                            PendingServer {
                                service: service.clone(),
                                error,
                                seen: now,
                            },
                        );
                    } else {
                        self.dropped_pending += 1;
                    }
                }
                _ => {}
            }
        }
    }

    /// Notes what a span tells about its trace's reach.
    fn follow_trace(&mut self, span: &SpanRow, operation: Option<&str>, now: i64) {
        if span.trace_id.is_empty() {
            return;
        }
        let minute = span.start_time_unix_nano.div_euclid(MINUTE_NS) * MINUTE_NS;
        if !self.traces.contains_key(&span.trace_id) && self.traces.len() >= MAX_TRACES {
            self.settle_traces(now, Settle::Crowded);
        }
        let t = self
            .traces
            .entry(span.trace_id.clone())
            .or_insert_with(|| TraceReach {
                minute,
                root: None,
                reached: Vec::new(),
                users: Vec::new(),
                sessions: Vec::new(),
                seen: now,
            });
        t.seen = now;
        let service = &span.resource.service_name;
        for op in [Some(""), operation].into_iter().flatten() {
            if !t.reached.iter().any(|(s, o)| s == service && o == op) {
                t.reached.push((service.clone(), op.to_string()));
            }
        }
        if span.parent_span_id.is_empty() {
            t.minute = minute;
            t.root = Some((service.clone(), operation.unwrap_or(&span.name).to_string()));
        }
        if let Some(u) = span.enduser_id.as_deref().filter(|u| !u.is_empty()) {
            push_unique(&mut t.users, u, 8);
        }
        if let Some(s) = span.session_id.as_deref().filter(|s| !s.is_empty()) {
            push_unique(&mut t.sessions, s, 8);
        }
    }

    /// Counts the traces that are done with, and forgets them.
    fn settle_traces(&mut self, now: i64, which: Settle) {
        // Forget counted traces after a while, and beyond the cap.
        while let Some((at, id)) = self.settled_order.front() {
            if now - *at < SETTLED_MEMORY_NS && self.settled_order.len() <= MAX_SETTLED {
                break;
            }
            self.settled.remove(id);
            self.settled_order.pop_front();
        }
        let quiet = |t: &TraceReach| which == Settle::All || now - t.seen >= MATCH_WINDOW_NS;
        let done: Vec<String> = if which == Settle::Crowded {
            let mut by_age: Vec<(&String, i64)> =
                self.traces.iter().map(|(k, t)| (k, t.seen)).collect();
            // Ties broken by id, so that a replay settles the same traces.
            by_age.sort_by(|a, b| (a.1, a.0).cmp(&(b.1, b.0)));
            by_age
                .into_iter()
                .take(self.traces.len() / 2 + 1)
                .map(|(k, _)| k.clone())
                .collect()
        } else {
            self.traces
                .iter()
                .filter(|(_, t)| quiet(t))
                .map(|(k, _)| k.clone())
                .collect()
        };
        for id in done {
            let Some(t) = self.traces.remove(&id) else {
                continue;
            };
            // Late spans of a trace counted before: only what they add is counted, in the
            // minute the trace was counted in.
            let key = hash64(&id);
            let mut settled = match self.settled.remove(&key) {
                Some(s) => s,
                None => {
                    self.settled_order.push_back((now, key));
                    SettledTrace {
                        minute: t.minute,
                        root: None,
                        reached: Vec::new(),
                    }
                }
            };
            if settled.root.is_none() {
                settled.root = t.root;
            }
            let minute = settled.minute;
            let (root_service, root_operation) = settled.root.clone().unwrap_or_default();
            for (service, operation) in t.reached {
                for (kind, values) in [("users", &t.users), ("sessions", &t.sessions)] {
                    if values.is_empty() {
                        continue;
                    }
                    let sample = self
                        .distinct
                        .entry((minute, service.clone(), operation.clone(), kind))
                        .or_default();
                    for v in values {
                        sample.insert(v);
                    }
                }
                let pair = hash64(&format!("{service}\0{operation}"));
                if settled.reached.contains(&pair) {
                    continue;
                }
                settled.reached.push(pair);
                *self
                    .reach
                    .entry(ReachKey {
                        minute,
                        service,
                        operation,
                        root_service: root_service.clone(),
                        root_operation: root_operation.clone(),
                    })
                    .or_default() += 1;
            }
            self.settled.insert(key, settled);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn edge(
        &mut self,
        minute: i64,
        client: &str,
        server: &str,
        kind: &str,
        instrumented: bool,
        error: bool,
        ms: f64,
    ) {
        let key = EdgeKey {
            minute,
            client: client.to_string(),
            server: server.to_string(),
            server_kind: kind.to_string(),
            instrumented,
            error,
        };
        self.edges.entry(key).or_default().record(ms);
    }

    /// Up to when the spans are complete, as far as their arrivals tell, and which services
    /// are still catching up (see [`crate::arrival`]).
    pub fn completeness(&mut self) -> crate::arrival::Completeness {
        self.arrival.completeness(model::now_unix_nano())
    }

    /// Settles client spans whose callee never reported (uninstrumented dependencies), then
    /// returns the rollup rows gathered so far and starts over. `settle_before` is a wall-clock
    /// bound in nanoseconds: `i64::MAX` settles everything (at shutdown).
    pub fn drain(&mut self, settle_before: i64) -> Vec<MetricPointRow> {
        self.drain_at(settle_before == i64::MAX, model::now_unix_nano())
    }

    /// [`RedAggregator::drain`] at `now` (unix ns); `settle_all` settles everything.
    pub fn drain_at(&mut self, settle_all: bool, now: i64) -> Vec<MetricPointRow> {
        let expired: Vec<(String, String)> = self
            .clients
            .iter()
            .filter(|(_, c)| settle_all || now - c.seen >= MATCH_WINDOW_NS)
            .map(|(k, _)| k.clone())
            .collect();
        for key in expired {
            if let Some(c) = self.clients.remove(&key)
                && let Some((name, kind)) = &c.target
            {
                let minute = c.start.div_euclid(MINUTE_NS) * MINUTE_NS;
                self.edge(
                    minute,
                    &c.service,
                    name,
                    kind,
                    false,
                    c.error,
                    c.duration_ms,
                );
            }
        }
        self.servers
            .retain(|_, s| !settle_all && now - s.seen < MATCH_WINDOW_NS);
        self.settle_traces(
            now,
            if settle_all {
                Settle::All
            } else {
                Settle::Quiet
            },
        );

        let mut rows = Vec::with_capacity(self.red.len() + self.edges.len());
        for (k, s) in self.red.drain() {
            let attrs = json!({"operation": k.operation, "span.kind": k.kind, "error": k.error});
            rows.push(row(RED_METRIC, &k.service, k.minute, &attrs, &s));
        }
        for (k, s) in self.edges.drain() {
            let attrs = json!({"client": k.client, "server": k.server, "server.kind": k.server_kind, "server.instrumented": k.instrumented, "error": k.error});
            rows.push(row(EDGE_METRIC, &k.client, k.minute, &attrs, &s));
        }
        for (k, n) in self.reach.drain() {
            let attrs = json!({"operation": k.operation, "root.service": k.root_service, "root.operation": k.root_operation});
            let mut r = row(
                REACH_METRIC,
                &k.service,
                k.minute,
                &attrs,
                &Sketch::default(),
            );
            r.unit = "{trace}".into();
            r.description = "traces reaching the service, by entry point".into();
            r.metric_type = "sum".into();
            r.count = Some(n);
            r.bucket_counts = vec![n];
            r.explicit_bounds = Vec::new();
            rows.push(r);
        }
        for ((minute, service, operation, kind), sample) in self.distinct.drain() {
            let attrs = json!({"operation": operation, "kind": kind});
            let mut r = row(
                REACH_DISTINCT_METRIC,
                &service,
                minute,
                &attrs,
                &Sketch::default(),
            );
            r.unit = "{hash}".into();
            r.description =
                "k-minimum-values sample of the users or sessions reaching the service".into();
            r.count = Some(sample.hashes.len() as u64);
            r.bucket_counts = sample.hashes;
            r.explicit_bounds = Vec::new();
            rows.push(r);
        }
        rows
    }
}

/// What a [`RedAggregator`] holds, as saved by [`RedAggregator::save`].
#[derive(Serialize, Deserialize)]
struct Saved {
    red: Vec<(RedKey, Sketch)>,
    edges: Vec<(EdgeKey, Sketch)>,
    traces: Vec<(String, TraceReach)>,
    reach: Vec<(ReachKey, u64)>,
    distinct: Vec<((i64, String, String, String), DistinctSample)>,
    clients: Vec<((String, String), SavedClient)>,
    servers: Vec<((String, String), PendingServer)>,
    settled: Vec<(u64, SettledTrace)>,
    settled_order: Vec<(i64, u64)>,
    dropped_pending: u64,
    arrival: crate::arrival::ArrivalLag,
}

#[derive(Serialize, Deserialize)]
struct SavedClient {
    service: String,
    start: i64,
    duration_ms: f64,
    error: bool,
    target: Option<(String, String)>,
    seen: i64,
}

/// The node and sample kinds by name (the aggregator keeps them as static strings).
fn known_kind(kind: &str) -> Option<&'static str> {
    [
        "database",
        "messaging",
        "service",
        "external",
        "users",
        "sessions",
    ]
    .into_iter()
    .find(|k| *k == kind)
}

impl RedAggregator {
    /// Everything the aggregator holds (open traces, client spans waiting for their callee,
    /// rollups not drained yet), to be restored with [`RedAggregator::restore`]: how the
    /// rollups resume after a crash from a checkpoint and the spans stored after it.
    pub fn save(&self) -> Vec<u8> {
        let saved = Saved {
            red: self
                .red
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            edges: self
                .edges
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            traces: self
                .traces
                .iter()
                .map(|(k, t)| (k.clone(), t.clone()))
                .collect(),
            reach: self.reach.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            distinct: self
                .distinct
                .iter()
                .map(|((m, s, o, k), v)| ((*m, s.clone(), o.clone(), k.to_string()), v.clone()))
                .collect(),
            clients: self
                .clients
                .iter()
                .map(|(k, c)| {
                    let c = SavedClient {
                        service: c.service.clone(),
                        start: c.start,
                        duration_ms: c.duration_ms,
                        error: c.error,
                        target: c.target.as_ref().map(|(n, k)| (n.clone(), k.to_string())),
                        seen: c.seen,
                    };
                    (k.clone(), c)
                })
                .collect(),
            servers: self
                .servers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            settled: self.settled.iter().map(|(k, t)| (*k, t.clone())).collect(),
            settled_order: self.settled_order.iter().copied().collect(),
            dropped_pending: self.dropped_pending,
            arrival: self.arrival.clone(),
        };
        serde_json::to_vec(&saved).unwrap_or_default()
    }

    /// An aggregator as [`RedAggregator::save`] saved it.
    pub fn restore(bytes: &[u8]) -> Result<RedAggregator, String> {
        let saved: Saved = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let mut distinct = HashMap::with_capacity(saved.distinct.len());
        for ((m, s, o, k), v) in saved.distinct {
            let k = known_kind(&k).ok_or_else(|| format!("unknown sample kind {k:?}"))?;
            distinct.insert((m, s, o, k), v);
        }
        let mut clients = HashMap::with_capacity(saved.clients.len());
        for (key, c) in saved.clients {
            let target = match c.target {
                Some((name, kind)) => Some((
                    name,
                    known_kind(&kind).ok_or_else(|| format!("unknown node kind {kind:?}"))?,
                )),
                None => None,
            };
            let client = PendingClient {
                service: c.service,
                start: c.start,
                duration_ms: c.duration_ms,
                error: c.error,
                target,
                seen: c.seen,
            };
            clients.insert(key, client);
        }
        Ok(RedAggregator {
            red: saved.red.into_iter().collect(),
            edges: saved.edges.into_iter().collect(),
            traces: saved.traces.into_iter().collect(),
            reach: saved.reach.into_iter().collect(),
            distinct,
            clients,
            servers: saved.servers.into_iter().collect(),
            settled: saved.settled.into_iter().collect(),
            settled_order: saved.settled_order.into_iter().collect(),
            dropped_pending: saved.dropped_pending,
            arrival: saved.arrival,
        })
    }
}

/// The resource of the rows redscope derives for `service`.
pub(crate) fn derived_resource(service: &str) -> Resource {
    Resource {
        service_name: service.to_string(),
        resource_attributes: json!({"service.name": service}).to_string(),
        scope_name: "redscope.analysis".to_string(),
        ..Resource::default()
    }
}

fn row(
    name: &str,
    service: &str,
    minute: i64,
    attrs: &serde_json::Value,
    s: &Sketch,
) -> MetricPointRow {
    MetricPointRow {
        time_unix_nano: minute,
        start_time_unix_nano: minute,
        metric_name: name.to_string(),
        metric_type: "histogram".to_string(),
        unit: "ms".to_string(),
        description: "derived by redscope from spans".to_string(),
        metric_metadata: "{}".to_string(),
        resource: derived_resource(service),
        attributes: attrs.to_string(),
        aggregation_temporality: 1,
        count: Some(s.count),
        sum: Some(s.sum_ms),
        min: s.min_ms,
        max: s.max_ms,
        bucket_counts: s.counts.clone(),
        explicit_bounds: bounds().to_vec(),
        exemplars: "[]".to_string(),
        ..MetricPointRow::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(service: &str, kind: &str, id: &str, parent: &str, ms: i64) -> SpanRow {
        SpanRow {
            trace_id: "t1".into(),
            span_id: id.into(),
            parent_span_id: parent.into(),
            kind: kind.into(),
            name: format!("{service}-op"),
            status_code: "UNSET".into(),
            start_time_unix_nano: 120_000_000_000,
            duration_ns: ms * 1_000_000,
            resource: Resource {
                service_name: service.into(),
                ..Resource::default()
            },
            ..SpanRow::default()
        }
    }

    #[test]
    fn counts_entry_spans_and_matches_edges_in_any_order() {
        let mut agg = RedAggregator::default();
        let mut db = span("api", "CLIENT", "c2", "s1", 3);
        db.db_system = Some("postgresql".into());
        db.server_address = Some("orders-db".into());
        let mut failing = span("api", "SERVER", "s1", "c1", 20);
        failing.status_code = "ERROR".into();
        // The server span arrives before its client span.
        agg.observe(&[failing, db]);
        agg.observe(&[
            span("web", "SERVER", "r", "", 30),
            span("web", "CLIENT", "c1", "r", 25),
        ]);
        let rows = agg.drain(i64::MAX);
        let red: Vec<_> = rows
            .iter()
            .filter(|r| r.metric_name == RED_METRIC)
            .collect();
        assert_eq!(red.len(), 2);
        let api = red
            .iter()
            .find(|r| r.resource.service_name == "api")
            .unwrap();
        assert!(api.attributes.contains("\"error\":true"));
        let edges: Vec<_> = rows
            .iter()
            .filter(|r| r.metric_name == EDGE_METRIC)
            .collect();
        assert_eq!(edges.len(), 2, "{edges:?}");
        let web_api = edges
            .iter()
            .find(|r| r.attributes.contains("\"server\":\"api\""))
            .unwrap();
        assert!(web_api.attributes.contains("\"client\":\"web\""));
        assert!(web_api.attributes.contains("\"error\":true"));
        assert_eq!(web_api.count, Some(1));
        let api_db = edges
            .iter()
            .find(|r| r.attributes.contains("orders-db"))
            .unwrap();
        assert!(api_db.attributes.contains("\"server.instrumented\":false"));
        assert!(api_db.attributes.contains("\"server.kind\":\"database\""));
        assert!(agg.drain(i64::MAX).is_empty());
    }

    #[test]
    fn http_5xx_on_a_server_is_an_error_and_routes_name_operations() {
        let mut s = span("api", "SERVER", "a", "", 5);
        s.http_route = Some("/items/{id}".into());
        s.http_request_method = Some("GET".into());
        s.http_response_status_code = Some(503);
        assert!(is_error(&s));
        assert_eq!(operation_of(&s), "GET /items/{id}");
    }

    #[test]
    fn url_hosts_drop_scheme_userinfo_port_and_case() {
        for (url, host) in [
            ("https://API.Stripe.com/v1/charges", Some("api.stripe.com")),
            (
                "http://user:p%40ss@Maps.Example.COM:8443/geo?q=1#x",
                Some("maps.example.com"),
            ),
            (
                "https://example.org?x=https://other.net/",
                Some("example.org"),
            ),
            ("http://example.org.:80", Some("example.org")),
            ("http://[2001:DB8::1]:8080/a", Some("2001:db8::1")),
            ("http://10.1.2.3:9000", Some("10.1.2.3")),
            ("/relative/path", None),
            ("example.org/no-scheme", None),
            ("http:///no-host", None),
            ("file:///etc/hosts", None),
        ] {
            assert_eq!(url_host(url).as_deref(), host, "{url}");
        }
    }

    #[test]
    fn client_spans_with_only_a_url_call_an_external_host() {
        let mut c = span("api", "CLIENT", "c", "s", 5);
        // `http.url` is read into `url_full` at ingest too.
        c.url_full = Some("https://Hooks.Example.com:8443/notify".into());
        assert_eq!(
            node_kind_of(&c),
            Some(("hooks.example.com".to_string(), "external"))
        );
        // server.address (or net.peer.name) still comes first, then the URL.
        c.server_address = Some("gateway.internal".into());
        assert_eq!(
            node_kind_of(&c),
            Some(("gateway.internal".to_string(), "external"))
        );
        c.peer_service = Some("billing".into());
        assert_eq!(node_kind_of(&c), Some(("billing".to_string(), "service")));
        c.db_system = Some("redis".into());
        assert_eq!(
            node_kind_of(&c),
            Some(("gateway.internal".to_string(), "database"))
        );
        let mut unnamed = span("api", "CLIENT", "d", "s", 5);
        unnamed.url_full = Some("/relative".into());
        assert_eq!(node_kind_of(&unnamed), None);

        // Never answered: an uninstrumented external node, with RED on the edge.
        let mut agg = RedAggregator::default();
        let mut only_url = span("api", "CLIENT", "e", "s", 7);
        only_url.url_full = Some("http://u:pw@Geo.Example.net/v1?q=x".into());
        only_url.status_code = "ERROR".into();
        agg.observe(&[only_url]);
        let rows = agg.drain(i64::MAX);
        let edge = rows
            .iter()
            .find(|r| r.metric_name == EDGE_METRIC)
            .expect("an edge");
        assert!(
            edge.attributes.contains("\"server\":\"geo.example.net\""),
            "{edge:?}"
        );
        assert!(edge.attributes.contains("\"server.kind\":\"external\""));
        assert!(edge.attributes.contains("\"server.instrumented\":false"));
        assert!(edge.attributes.contains("\"error\":true"));
        assert_eq!(edge.count, Some(1));
    }
}

#[cfg(test)]
mod reach_tests {
    use super::*;

    fn span(trace: &str, service: &str, kind: &str, id: &str, parent: &str) -> SpanRow {
        SpanRow {
            trace_id: trace.into(),
            span_id: id.into(),
            parent_span_id: parent.into(),
            kind: kind.into(),
            name: format!("{service}-{kind}"),
            status_code: "UNSET".into(),
            start_time_unix_nano: 180_000_000_000,
            duration_ns: 1_000_000,
            resource: Resource {
                service_name: service.into(),
                ..Resource::default()
            },
            ..SpanRow::default()
        }
    }

    #[test]
    fn traces_count_once_per_service_and_entry_point_with_their_users() {
        let mut agg = RedAggregator::default();
        for (i, user) in ["ann", "bob", "ann"].iter().enumerate() {
            let t = format!("t{i}");
            let mut root = span(&t, "web", "SERVER", "a", "");
            root.enduser_id = Some(user.to_string());
            // The child arrives first, and the db is called twice in one trace.
            agg.observe(&[
                span(&t, "api", "SERVER", "b", "a"),
                span(&t, "api", "CLIENT", "c", "b"),
                span(&t, "api", "CLIENT", "d", "b"),
                root,
            ]);
        }
        // Still open: nothing is counted before the traces are quiet.
        let rows = agg.drain(0);
        assert!(!rows.iter().any(|r| r.metric_name == REACH_METRIC));
        let rows = agg.drain(i64::MAX);
        let reach: Vec<_> = rows
            .iter()
            .filter(|r| r.metric_name == REACH_METRIC && r.resource.service_name == "api")
            .collect();
        let whole = reach
            .iter()
            .find(|r| r.attributes.contains("\"operation\":\"\""))
            .unwrap();
        assert_eq!(whole.bucket_counts, vec![3], "each trace counts once");
        assert!(whole.attributes.contains("\"root.service\":\"web\""));
        assert!(
            whole
                .attributes
                .contains("\"root.operation\":\"web-SERVER\"")
        );
        assert!(
            reach
                .iter()
                .any(|r| r.attributes.contains("\"operation\":\"api-SERVER\""))
        );
        let users = rows
            .iter()
            .find(|r| {
                r.metric_name == REACH_DISTINCT_METRIC
                    && r.resource.service_name == "api"
                    && r.attributes.contains("\"operation\":\"\"")
                    && r.attributes.contains("users")
            })
            .unwrap();
        let mut s = DistinctSample::default();
        s.merge(&users.bucket_counts);
        assert_eq!(s.estimate(), 2);
    }

    /// Reach counts per service: (service, operation "" ) → traces, over all drained rows.
    fn reach_of(rows: &[MetricPointRow]) -> std::collections::BTreeMap<String, u64> {
        let mut out = std::collections::BTreeMap::new();
        for r in rows.iter().filter(|r| {
            r.metric_name == REACH_METRIC && r.attributes.contains("\"operation\":\"\"")
        }) {
            *out.entry(r.resource.service_name.clone()).or_default() += r.bucket_counts[0];
        }
        out
    }

    /// Spans of a trace that arrive after it was counted (a slow service's batching exporter)
    /// add what they reach, and count nothing twice; a trace is forgotten after a while.
    #[test]
    fn late_spans_of_a_counted_trace_count_only_what_they_add() {
        let mut agg = RedAggregator::default();
        let start = 1_800_000_000_000_000_000i64;
        let at = |s: i64| start + s * 1_000_000_000;
        agg.observe_at(
            &[
                span("t1", "api", "SERVER", "b", "a"),
                span("t1", "api", "CLIENT", "c", "b"),
            ],
            at(0),
        );
        let mut rows = agg.drain_at(false, at(11));
        // 12 s later: more of api, the db's server span, and the root, which ends last.
        agg.observe_at(
            &[
                span("t1", "api", "INTERNAL", "e", "b"),
                span("t1", "db", "SERVER", "d", "c"),
                span("t1", "web", "SERVER", "a", ""),
            ],
            at(12),
        );
        rows.extend(agg.drain_at(false, at(23)));
        // Later still, once more.
        agg.observe_at(&[span("t1", "api", "SERVER", "f", "a")], at(30));
        rows.extend(agg.drain_at(false, at(41)));
        let expected: std::collections::BTreeMap<String, u64> = [("api", 1), ("db", 1), ("web", 1)]
            .into_iter()
            .map(|(s, n)| (s.to_string(), n))
            .collect();
        assert_eq!(reach_of(&rows), expected);
        // The root came late: what was counted after it names it.
        let db = rows
            .iter()
            .find(|r| r.metric_name == REACH_METRIC && r.resource.service_name == "db")
            .unwrap();
        assert!(db.attributes.contains("\"root.service\":\"web\""), "{db:?}");
        // Five minutes on, the trace is forgotten: its id counts again.
        agg.observe_at(&[span("t1", "api", "SERVER", "g", "a")], at(400));
        let again = agg.drain_at(false, at(411));
        assert_eq!(reach_of(&again).get("api"), Some(&1));
        agg.observe_at(&[span("t1", "api", "SERVER", "h", "a")], at(800));
        let third = agg.drain_at(false, at(811));
        assert_eq!(reach_of(&third).get("api"), Some(&1));
        assert_eq!((agg.settled.len(), agg.settled_order.len()), (1, 1));
    }

    #[test]
    fn distinct_samples_are_exact_when_small_and_close_when_large() {
        let mut small = DistinctSample::default();
        for i in 0..100 {
            small.insert(&format!("user-{}", i % 40));
        }
        assert_eq!(small.estimate(), 40);
        let (mut a, mut b) = (DistinctSample::default(), DistinctSample::default());
        for i in 0..30_000 {
            a.insert(&format!("u{i}"));
            b.insert(&format!("u{}", i + 20_000));
        }
        a.merge(&b.hashes);
        let e = a.estimate() as f64;
        assert!((e - 50_000.0).abs() / 50_000.0 < 0.15, "estimate {e}");
    }
}
