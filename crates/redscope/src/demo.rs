//! The built-in demo workload: a small online shop of seven services that send traces (HTTP,
//! database, cache and messaging spans with semantic-convention attributes, errors and slow
//! calls), logs in the text formats real services write, and runtime and HTTP metrics — over
//! OTLP/HTTP protobuf to the server's own receiver, like any SDK would.
//!
//! It can generate history first (`--backfill 1h`) and inject faults by name, at once or
//! starting some time ago (`--fault slow_query@10m`), or all of them in turn
//! (`--fault-cycle 10m`): a dependency that goes down, a slow database query, a bad deploy,
//! resource exhaustion and a timeout cascade. Each fault has one true cause, which triage
//! should rank first.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status, span, status,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

mod browser;
pub mod storefront;

/// A fault the workload can inject, each with one true cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The cart's Redis refuses connections: cart, checkout and the frontend fail.
    DependencyDown,
    /// A catalog query loses its index and takes seconds: catalog and the frontend slow down.
    SlowQuery,
    /// shipping 1.5.0 is deployed and fails quotes: checkout fails.
    BadDeploy,
    /// payment runs out of worker threads: rejections and timeouts, checkout fails.
    ResourceExhaustion,
    /// shipping slows down; checkout times out calling it and the frontend returns 504s.
    TimeoutCascade,
}

impl Fault {
    pub const ALL: [Fault; 5] = [
        Fault::DependencyDown,
        Fault::SlowQuery,
        Fault::BadDeploy,
        Fault::ResourceExhaustion,
        Fault::TimeoutCascade,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::DependencyDown => "dependency_down",
            Fault::SlowQuery => "slow_query",
            Fault::BadDeploy => "bad_deploy",
            Fault::ResourceExhaustion => "resource_exhaustion",
            Fault::TimeoutCascade => "timeout_cascade",
        }
    }

    /// The component that is really at fault.
    pub fn cause(self) -> &'static str {
        match self {
            Fault::DependencyDown => "cart-redis",
            Fault::SlowQuery => "catalog-db",
            Fault::BadDeploy | Fault::TimeoutCascade => "shipping",
            Fault::ResourceExhaustion => "payment",
        }
    }

    pub fn parse(name: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// A fault switched on from a point in time (unix ns) onwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultSpec {
    pub fault: Fault,
    /// How long before the workload starts the fault began (0: from the start).
    pub ago_ns: i64,
    /// How long it lasts from when it began (`None`: until the demo stops).
    pub for_ns: Option<i64>,
}

/// `NAME`, `NAME@AGO`, `NAME+FOR` or `NAME@AGO+FOR` (a fault that ends FOR after it began).
fn parse_fault(text: &str) -> Result<FaultSpec, String> {
    let (text, for_ns) = match text.split_once('+') {
        Some((rest, length)) => (
            rest,
            Some(model::parse_duration_ns(length.trim()).map_err(|e| e.to_string())?),
        ),
        None => (text, None),
    };
    let (name, ago) = match text.split_once('@') {
        Some((n, a)) => (n, Some(a)),
        None => (text, None),
    };
    let fault = Fault::parse(name.trim()).ok_or_else(|| {
        let names: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
        format!("unknown fault '{name}'; use one of {}", names.join(", "))
    })?;
    let ago_ns = match ago {
        Some(a) => {
            model::parse_duration_ns(a.trim_start_matches('-')).map_err(|e| e.to_string())?
        }
        None => 0,
    };
    Ok(FaultSpec {
        fault,
        ago_ns,
        for_ns,
    })
}

fn parse_duration(text: &str) -> Result<i64, String> {
    model::parse_duration_ns(text).map_err(|e| e.to_string())
}

/// Options of the demo workload.
#[derive(clap::Args, Clone, Debug)]
pub struct DemoArgs {
    /// Traces per second the workload produces.
    #[arg(long, default_value_t = 20.0)]
    pub rate: f64,
    /// Generate this much history first (e.g. 30m, 1h), so charts and baselines fill at once.
    #[arg(long, value_parser = parse_duration, default_value = "0s")]
    pub backfill: i64,
    /// Inject a fault: NAME, or NAME@AGO for one that began AGO before now (inside the
    /// backfill); +FOR ends it FOR after it began (`payment_down@2m+5m`). Repeatable. Names: dependency_down, slow_query, bad_deploy,
    /// resource_exhaustion, timeout_cascade.
    #[arg(long = "fault", value_parser = parse_fault)]
    pub faults: Vec<FaultSpec>,
    /// Run every fault in turn: each for this long (e.g. 10m) after as long a healthy spell.
    #[arg(long, value_parser = parse_duration)]
    pub fault_cycle: Option<i64>,
}

impl Default for DemoArgs {
    fn default() -> Self {
        DemoArgs {
            rate: 20.0,
            backfill: 0,
            faults: Vec::new(),
            fault_cycle: None,
        }
    }
}

/// When which fault is on.
#[derive(Debug, Clone, Default)]
pub struct Schedule {
    /// (fault, from unix ns, until unix ns)
    pub fixed: Vec<(Fault, u64, u64)>,
    /// (spell length, anchor): healthy, fault 1, healthy, fault 2, ...
    pub cycle: Option<(u64, u64)>,
}

impl Schedule {
    pub fn new(args: &DemoArgs, start_ns: u64) -> Schedule {
        Schedule {
            fixed: args
                .faults
                .iter()
                .map(|f| {
                    let from = start_ns.saturating_sub(u64::try_from(f.ago_ns).unwrap_or(0));
                    let until = f.for_ns.map_or(u64::MAX, |len| {
                        from.saturating_add(u64::try_from(len).unwrap_or(0))
                    });
                    (f.fault, from, until)
                })
                .collect(),
            cycle: args.fault_cycle.and_then(|len| {
                let len = u64::try_from(len).ok().filter(|l| *l > 0)?;
                let anchor = start_ns.saturating_sub(u64::try_from(args.backfill).unwrap_or(0));
                Some((len, anchor))
            }),
        }
    }

    pub fn active(&self, t: u64) -> Vec<Fault> {
        let mut on: Vec<Fault> = self
            .fixed
            .iter()
            .filter(|(_, from, until)| t >= *from && t < *until)
            .map(|(f, _, _)| *f)
            .collect();
        if let Some((len, anchor)) = self.cycle
            && t >= anchor
        {
            let spell = (t - anchor) / len;
            let n = Fault::ALL.len() as u64;
            if spell % 2 == 1 {
                let f = Fault::ALL[((spell / 2) % n) as usize];
                if !on.contains(&f) {
                    on.push(f);
                }
            }
        }
        on
    }
}

/// The demo's alerting: without built-in rules configured, the RED rules are on, with
/// thresholds its healthy shop stays under (payment declines ~6% of cards) and its faults
/// cross.
pub fn alert_defaults(config: &mut crate::config::Config) {
    let builtin = &mut config.alerts.builtin;
    if !builtin.is_empty() {
        return;
    }
    builtin.red_errors = Some(alerts::builtin::RedRule {
        degraded: Some(0.15),
        critical: Some(0.3),
        ..alerts::builtin::RedRule::default()
    });
    // The worst operation's p95 of a service; the checkout takes up to 2 s when healthy.
    builtin.red_latency = Some(alerts::builtin::RedRule {
        degraded: Some(3.0),
        critical: Some(6.0),
        ..alerts::builtin::RedRule::default()
    });
}

pub fn target_url(otlp_http: SocketAddr) -> String {
    let host = if otlp_http.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        otlp_http.ip().to_string()
    };
    format!("http://{host}:{}", otlp_http.port())
}

pub const SERVICES: [&str; 7] = [
    "frontend", "checkout", "payment", "cart", "catalog", "shipping", "email",
];

fn kv(key: &str, value: impl Into<Val>) -> KeyValue {
    let v = match value.into() {
        Val::S(s) => any_value::Value::StringValue(s),
        Val::I(i) => any_value::Value::IntValue(i),
        Val::F(f) => any_value::Value::DoubleValue(f),
        Val::B(b) => any_value::Value::BoolValue(b),
    };
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    }
}

pub enum Val {
    S(String),
    I(i64),
    F(f64),
    B(bool),
}
impl From<&str> for Val {
    fn from(s: &str) -> Self {
        Val::S(s.to_string())
    }
}
impl From<String> for Val {
    fn from(s: String) -> Self {
        Val::S(s)
    }
}
impl From<i64> for Val {
    fn from(i: i64) -> Self {
        Val::I(i)
    }
}
impl From<f64> for Val {
    fn from(f: f64) -> Self {
        Val::F(f)
    }
}
impl From<bool> for Val {
    fn from(b: bool) -> Self {
        Val::B(b)
    }
}

fn resource(service: &str, version: &str) -> Resource {
    Resource {
        attributes: vec![
            kv("service.name", service),
            kv("service.namespace", "shop"),
            kv("service.version", version),
            kv("service.instance.id", format!("{service}-7d9f8b-x2k4p")),
            kv("deployment.environment.name", "demo"),
            kv("host.name", format!("node-{}", service.len() % 3 + 1)),
            kv(
                "telemetry.sdk.language",
                if service == "payment" {
                    "java"
                } else if service == "catalog" {
                    "python"
                } else {
                    "go"
                },
            ),
        ],
        ..Default::default()
    }
}

struct LogLine {
    service: &'static str,
    version: &'static str,
    time: u64,
    body: String,
    trace_id: Vec<u8>,
    span_id: Vec<u8>,
}

/// Everything one tick of the workload produced.
#[derive(Default)]
struct Tick {
    /// Per service and version.
    spans: HashMap<(&'static str, &'static str), Vec<Span>>,
    logs: Vec<LogLine>,
}

struct SpanArgs {
    service: &'static str,
    name: String,
    kind: span::SpanKind,
    start: u64,
    dur_ns: u64,
    parent: Option<Vec<u8>>,
    attrs: Vec<KeyValue>,
    error: Option<String>,
}

/// Service, route and status code of an HTTP histogram.
type HttpKey = (&'static str, String, i64);
/// Count, sum of milliseconds and bucket counts.
type HttpHistogram = (u64, f64, Vec<u64>);

/// How a charge ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pay {
    Ok,
    /// The provider timed out (happens now and then).
    GatewayTimeout,
    /// No worker free (resource exhaustion).
    Rejected,
    /// Waited for a worker until the deadline (resource exhaustion).
    QueueTimeout,
}

impl Pay {
    fn status(self) -> i64 {
        match self {
            Pay::Ok => 200,
            Pay::GatewayTimeout => 502,
            Pay::Rejected => 503,
            Pay::QueueTimeout => 504,
        }
    }
}

/// One visitor's session: several journeys of one user (or of an anonymous visitor), spread
/// out in time among other visitors' journeys.
struct Session {
    id: String,
    /// `enduser.id` once logged in; anonymous visitors browse and buy as guests.
    user: Option<String>,
    journeys_left: u32,
}

/// Sessions open at once; each journey belongs to one of them.
const OPEN_SESSIONS: usize = 24;

/// The shop's state: counters for metrics, the random source, the time.
pub struct Shop {
    rng: SmallRng,
    trace_id: Vec<u8>,
    tick: Tick,
    /// (service, route, status) → (count, sum ms, buckets)
    http: HashMap<HttpKey, HttpHistogram>,
    orders: i64,
    start_time: u64,
    schedule: Schedule,
    /// Faults on for the current journey.
    active: Vec<Fault>,
    sessions: Vec<Session>,
    /// The session and user of the current journey.
    visitor: (String, Option<String>),
    /// The browser's fetch span the journey's entry span continues (its `traceparent`).
    remote_parent: Option<Vec<u8>>,
    /// The entry span of the current journey, once made.
    entry: Option<Entry>,
    /// Browser page views of the synthetic sessions, sent as the SDK would.
    visits: rum::synthetic::Visits,
}

/// The entry span of a journey: what the browser's request saw.
#[derive(Debug, Clone)]
struct Entry {
    method: String,
    route: String,
    path: String,
    start: u64,
    dur: u64,
    status: i64,
}

const BOUNDS_MS: [f64; 10] = [
    5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0,
];

fn now_ns() -> u64 {
    u64::try_from(model::now_unix_nano()).unwrap_or(0)
}

impl Shop {
    pub fn new(seed: u64, schedule: Schedule, start_time: u64) -> Self {
        Shop {
            rng: SmallRng::seed_from_u64(seed),
            trace_id: Vec::new(),
            tick: Tick::default(),
            http: HashMap::new(),
            orders: 0,
            start_time,
            schedule,
            active: Vec::new(),
            sessions: Vec::with_capacity(OPEN_SESSIONS),
            visitor: (String::new(), None),
            remote_parent: None,
            entry: None,
            visits: rum::synthetic::Visits::default(),
        }
    }

    fn new_session(&mut self) -> Session {
        let id: String = self.id(16).iter().map(|b| format!("{b:02x}")).collect();
        let user = self
            .rng
            .random_bool(0.75)
            .then(|| format!("user-{}", self.rng.random_range(1..400)));
        Session {
            id,
            user,
            journeys_left: self.rng.random_range(2..=8),
        }
    }

    /// Picks the session the next journey belongs to, opening new ones as others end.
    fn next_visitor(&mut self) {
        let i = if self.sessions.len() < OPEN_SESSIONS {
            let s = self.new_session();
            self.sessions.push(s);
            self.sessions.len() - 1
        } else {
            self.rng.random_range(0..OPEN_SESSIONS)
        };
        if self.sessions[i].journeys_left == 0 {
            self.sessions[i] = self.new_session();
        }
        let s = &mut self.sessions[i];
        s.journeys_left -= 1;
        self.visitor = (s.id.clone(), s.user.clone());
    }

    fn on(&self, fault: Fault) -> bool {
        self.active.contains(&fault)
    }

    fn version(&self, service: &str) -> &'static str {
        if service == "shipping" && self.on(Fault::BadDeploy) {
            "1.5.0"
        } else {
            "1.4.2"
        }
    }

    fn id(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.rng.random::<u8>()).collect()
    }

    fn ms(&mut self, base: f64, jitter: f64) -> u64 {
        let v = base + self.rng.random::<f64>() * jitter;
        (v * 1e6) as u64
    }

    fn span(&mut self, a: SpanArgs) -> Vec<u8> {
        let span_id = self.id(8);
        let status = a.error.as_ref().map(|m| Status {
            code: status::StatusCode::Error as i32,
            message: m.clone(),
        });
        let mut events = Vec::new();
        if let Some(m) = &a.error {
            events.push(span::Event {
                time_unix_nano: a.start + a.dur_ns,
                name: "exception".into(),
                attributes: vec![
                    kv("exception.type", "UpstreamError"),
                    kv("exception.message", m.as_str()),
                ],
                dropped_attributes_count: 0,
            });
        }
        let version = self.version(a.service);
        self.tick
            .spans
            .entry((a.service, version))
            .or_default()
            .push(Span {
                trace_id: self.trace_id.clone(),
                span_id: span_id.clone(),
                parent_span_id: a.parent.unwrap_or_default(),
                name: a.name,
                kind: a.kind as i32,
                start_time_unix_nano: a.start,
                end_time_unix_nano: a.start + a.dur_ns,
                attributes: a.attrs,
                events,
                status,
                ..Default::default()
            });
        span_id
    }

    fn log(&mut self, service: &'static str, time: u64, span_id: &[u8], body: String) {
        let version = self.version(service);
        self.tick.logs.push(LogLine {
            service,
            version,
            time,
            body,
            trace_id: self.trace_id.clone(),
            span_id: span_id.to_vec(),
        });
    }

    fn record_http(&mut self, service: &'static str, route: &str, status: i64, dur_ns: u64) {
        let ms = dur_ns as f64 / 1e6;
        let e = self
            .http
            .entry((service, route.to_string(), status))
            .or_insert_with(|| (0, 0.0, vec![0; BOUNDS_MS.len() + 1]));
        e.0 += 1;
        e.1 += ms;
        let idx = BOUNDS_MS
            .iter()
            .position(|b| ms <= *b)
            .unwrap_or(BOUNDS_MS.len());
        e.2[idx] += 1;
    }

    /// A server span of `service` for an HTTP route, with its client span in the caller.
    #[allow(clippy::too_many_arguments)]
    fn http_call(
        &mut self,
        caller: Option<(&'static str, Vec<u8>)>,
        service: &'static str,
        method: &str,
        route: &str,
        path: &str,
        start: u64,
        dur: u64,
        status: i64,
    ) -> Vec<u8> {
        let err = (status >= 500).then(|| format!("HTTP {status}"));
        let entry = caller.is_none();
        let parent = match caller {
            Some((from, parent)) => {
                let client = self.span(SpanArgs {
                    service: from,
                    name: format!("{method} {route}"),
                    kind: span::SpanKind::Client,
                    start,
                    dur_ns: dur + 400_000,
                    parent: Some(parent),
                    attrs: vec![
                        kv("http.request.method", method),
                        kv("url.full", format!("http://{service}:8080{path}")),
                        kv("server.address", service),
                        kv("server.port", 8080i64),
                        kv("http.response.status_code", status),
                    ],
                    error: err.clone(),
                });
                Some(client)
            }
            None => self.remote_parent.clone(),
        };
        let mut attrs = vec![
            kv("http.request.method", method),
            kv("http.route", route),
            kv("url.path", path),
            kv("http.response.status_code", status),
            kv("network.protocol.version", "1.1"),
        ];
        // The user travels with the request (as baggage); the session is the frontend's.
        if let Some(user) = &self.visitor.1 {
            attrs.push(kv("enduser.id", user.as_str()));
        }
        if entry && !self.visitor.0.is_empty() {
            attrs.push(kv("session.id", self.visitor.0.as_str()));
        }
        if entry {
            self.entry = Some(Entry {
                method: method.to_string(),
                route: route.to_string(),
                path: path.to_string(),
                start: start + 200_000,
                dur,
                status,
            });
        }
        let span = self.span(SpanArgs {
            service,
            name: format!("{method} {route}"),
            kind: span::SpanKind::Server,
            start: start + 200_000,
            dur_ns: dur,
            parent,
            attrs,
            error: err,
        });
        self.record_http(service, route, status, dur);
        span
    }

    #[allow(clippy::too_many_arguments)]
    fn db(
        &mut self,
        service: &'static str,
        parent: &[u8],
        start: u64,
        dur: u64,
        system: &str,
        host: &str,
        op: &str,
        query: &str,
        error: Option<String>,
    ) {
        self.span(SpanArgs {
            service,
            name: format!(
                "{op} {}",
                if system == "redis" {
                    "cart"
                } else {
                    "shop.products"
                }
            ),
            kind: span::SpanKind::Client,
            start,
            dur_ns: dur,
            parent: Some(parent.to_vec()),
            attrs: vec![
                kv("db.system.name", system),
                kv("db.namespace", "shop"),
                kv("db.operation.name", op),
                kv("db.query.text", query),
                kv("server.address", host),
                kv(
                    "server.port",
                    if system == "redis" { 6379i64 } else { 5432i64 },
                ),
            ],
            error,
        });
    }

    /// An HTTP call the caller gives up on after `timeout` while the callee carries on.
    #[allow(clippy::too_many_arguments)]
    fn http_call_timeout(
        &mut self,
        caller: (&'static str, Vec<u8>),
        service: &'static str,
        method: &str,
        route: &str,
        start: u64,
        dur: u64,
        timeout: u64,
    ) -> Vec<u8> {
        let client = self.span(SpanArgs {
            service: caller.0,
            name: format!("{method} {route}"),
            kind: span::SpanKind::Client,
            start,
            dur_ns: timeout,
            parent: Some(caller.1),
            attrs: vec![
                kv("http.request.method", method),
                kv("url.full", format!("http://{service}:8080{route}")),
                kv("server.address", service),
                kv("server.port", 8080i64),
                kv("error.type", "context deadline exceeded"),
            ],
            error: Some("context deadline exceeded".into()),
        });
        let server = self.span(SpanArgs {
            service,
            name: format!("{method} {route}"),
            kind: span::SpanKind::Server,
            start: start + 200_000,
            dur_ns: dur,
            parent: Some(client),
            attrs: vec![
                kv("http.request.method", method),
                kv("http.route", route),
                kv("url.path", route),
                kv("http.response.status_code", 200i64),
            ],
            error: None,
        });
        self.record_http(service, route, 200, dur);
        server
    }

    fn access_log(
        &mut self,
        time: u64,
        span: &[u8],
        method: &str,
        path: &str,
        status: i64,
        dur: u64,
    ) {
        let ip = format!(
            "10.0.{}.{}",
            self.rng.random_range(0..4),
            self.rng.random_range(2..250)
        );
        let date = chrono::DateTime::from_timestamp_nanos(i64::try_from(time).unwrap_or(0))
            .format("%d/%b/%Y:%H:%M:%S +0000");
        let bytes = self.rng.random_range(200..9000);
        let body = format!(
            "{ip} - - [{date}] \"{method} {path} HTTP/1.1\" {status} {bytes} \"https://shop.example/\" \"Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0\" {:.3}",
            dur as f64 / 1e9
        );
        self.log("frontend", time, span, body);
    }

    fn browse(&mut self, now: u64) {
        let by_id = !self.rng.random_bool(0.6);
        self.browse_products(now, by_id);
    }

    /// The product list, or one product's page.
    fn browse_products(&mut self, now: u64, by_id: bool) {
        // The fault: the lookup by id lost its index and scans the table.
        let scan = by_id && self.on(Fault::SlowQuery);
        let slow = scan || self.rng.random_bool(0.03);
        let db = if scan {
            self.ms(1200.0, 1000.0)
        } else if slow {
            self.ms(800.0, 900.0)
        } else {
            self.ms(2.0, 12.0)
        };
        let total = db + self.ms(6.0, 20.0);
        let start = now - total;
        let product = self.rng.random_range(1..500);
        let (route, path, query) = if by_id {
            (
                "/products/{id}",
                format!("/products/{product}"),
                "SELECT id, name, price, stock FROM products WHERE id = $1".to_string(),
            )
        } else {
            (
                "/products",
                "/products".to_string(),
                "SELECT id, name, price FROM products ORDER BY rank LIMIT 24".to_string(),
            )
        };
        let root = self.http_call(None, "frontend", "GET", route, &path, start, total, 200);
        let cat = self.http_call(
            Some(("frontend", root.clone())),
            "catalog",
            "GET",
            route,
            &path,
            start + 500_000,
            total - 1_000_000,
            200,
        );
        self.db(
            "catalog",
            &cat,
            start + 1_000_000,
            db,
            "postgresql",
            "catalog-db",
            "SELECT",
            &query,
            None,
        );
        let ts = py_time(start);
        if slow {
            self.log(
                "catalog",
                start + db,
                &cat,
                format!(
                    "{ts} - catalog.repository - WARNING - slow query took {}ms: {query}",
                    db / 1_000_000
                ),
            );
        } else {
            let n = self.rng.random_range(1..25);
            self.log(
                "catalog",
                start + db,
                &cat,
                format!(
                    "{ts} - catalog.repository - INFO - fetched {n} products in {}ms",
                    db / 1_000_000
                ),
            );
        }
        self.access_log(now, &root, "GET", &path, 200, total);
    }

    /// The cart's Redis call; with the dependency down it is refused at once.
    fn cart_redis(&mut self, cart: &[u8], start: u64, dur: u64, op: &str, query: &str) -> bool {
        let down = self.on(Fault::DependencyDown);
        self.db(
            "cart",
            cart,
            start,
            dur,
            "redis",
            "cart-redis",
            op,
            query,
            down.then(|| "dial tcp 10.0.3.7:6379: connect: connection refused".to_string()),
        );
        if down {
            let user = self.rng.random_range(1..400);
            let body = format!(
                "time={} level=error msg=\"redis unavailable\" user=user-{user} err=\"dial tcp 10.0.3.7:6379: connect: connection refused\"",
                rfc3339(start + dur)
            );
            self.log("cart", start + dur, cart, body);
        }
        !down
    }

    fn add_to_cart(&mut self, now: u64) {
        let down = self.on(Fault::DependencyDown);
        let redis = if down {
            self.ms(0.5, 2.0)
        } else {
            self.ms(0.3, 2.0)
        };
        let total = redis + self.ms(3.0, 8.0);
        let start = now - total;
        let status = if down { 503 } else { 200 };
        let root = self.http_call(
            None, "frontend", "POST", "/cart", "/cart", start, total, status,
        );
        let cart = self.http_call(
            Some(("frontend", root.clone())),
            "cart",
            "POST",
            "/cart/items",
            "/cart/items",
            start + 300_000,
            total - 600_000,
            status,
        );
        if self.cart_redis(
            &cart,
            start + 600_000,
            redis,
            "HSET",
            "HSET cart:{user} {sku} {qty}",
        ) {
            let user = self.rng.random_range(1..400);
            let sku = self.rng.random_range(1000..1100);
            let qty = self.rng.random_range(1..4);
            let body = format!(
                "time={} level=info msg=\"item added\" user=user-{user} sku=SKU-{sku} qty={qty} duration_ms={}",
                rfc3339(start + redis),
                redis / 1_000_000
            );
            self.log("cart", start + redis, &cart, body);
        }
        self.access_log(now, &root, "POST", "/cart", status, total);
    }

    fn checkout(&mut self, now: u64) {
        let cart_down = self.on(Fault::DependencyDown);
        let exhausted = self.on(Fault::ResourceExhaustion);
        let r: f64 = self.rng.random();
        let pay = if exhausted && r < 0.35 {
            Pay::Rejected
        } else if exhausted && r < 0.5 {
            Pay::QueueTimeout
        } else if self.rng.random_bool(0.06) {
            Pay::GatewayTimeout
        } else {
            Pay::Ok
        };
        let pay_t = match pay {
            Pay::Rejected => self.ms(3.0, 10.0),
            Pay::QueueTimeout => self.ms(5000.0, 200.0),
            Pay::GatewayTimeout => self.ms(3000.0, 2000.0),
            Pay::Ok if exhausted => self.ms(380.0, 700.0),
            Pay::Ok => self.ms(80.0, 250.0),
        };
        let cart_t = self.ms(2.0, 6.0);
        let ship_fails = self.on(Fault::BadDeploy) && self.rng.random_bool(0.45);
        let ship_slow = self.on(Fault::TimeoutCascade);
        let ship_t = if ship_fails {
            self.ms(4.0, 8.0)
        } else if ship_slow {
            self.ms(2500.0, 1500.0)
        } else {
            self.ms(10.0, 30.0)
        };
        // checkout gives up on shipping after two seconds
        let ship_timeout = 2_000_000_000;
        let reaches_pay = !cart_down;
        let reaches_ship = reaches_pay && pay == Pay::Ok;
        let ship_ok = !ship_fails && !ship_slow;
        let total = cart_t
            + if reaches_pay { pay_t } else { 0 }
            + if reaches_ship {
                ship_t.min(ship_timeout)
            } else {
                0
            }
            + self.ms(10.0, 10.0);
        let start = now - total;
        let status = if reaches_ship && ship_ok {
            200
        } else if reaches_ship && ship_slow {
            504
        } else {
            500
        };
        let order = self.rng.random_range(100_000..999_999);
        let root = self.http_call(
            None,
            "frontend",
            "POST",
            "/checkout",
            "/checkout",
            start,
            total,
            status,
        );
        let co = self.http_call(
            Some(("frontend", root.clone())),
            "checkout",
            "POST",
            "/checkout",
            "/checkout",
            start + 300_000,
            total - 600_000,
            status,
        );
        let mut t = start + 1_000_000;
        let cart = self.http_call(
            Some(("checkout", co.clone())),
            "cart",
            "GET",
            "/cart",
            "/cart",
            t,
            cart_t,
            if cart_down { 503 } else { 200 },
        );
        self.cart_redis(
            &cart,
            t + 200_000,
            cart_t / 2,
            "HGETALL",
            "HGETALL cart:{user}",
        );
        t += cart_t;
        let json_ts = rfc3339(t);
        if cart_down {
            self.log("checkout", t, &co, format!(r#"{{"ts":"{json_ts}","level":"error","logger":"checkout.api","msg":"cart unavailable","order_id":"{order}","error":"cart returned 503"}}"#));
            self.access_log(now, &root, "POST", "/checkout", status, total);
            return;
        }
        self.payment(&co, t, pay_t, pay, order);
        if pay != Pay::Ok {
            let json_ts = rfc3339(t + pay_t);
            self.log("checkout", t + pay_t, &co, format!(r#"{{"ts":"{json_ts}","level":"error","logger":"checkout.api","msg":"payment failed","order_id":"{order}","error":"payment returned {}"}}"#, pay.status()));
            self.access_log(now, &root, "POST", "/checkout", status, total);
            return;
        }
        t += pay_t;
        let zone = ["EU", "US", "APAC"][self.rng.random_range(0..3)];
        if ship_slow {
            let ship = self.http_call_timeout(
                ("checkout", co.clone()),
                "shipping",
                "POST",
                "/quote",
                t,
                ship_t,
                ship_timeout,
            );
            self.log(
                "shipping",
                t + ship_t,
                &ship,
                format!(
                    "{} quote computed zone={zone} took {}ms",
                    go_time(t + ship_t),
                    ship_t / 1_000_000
                ),
            );
            let json_ts = rfc3339(t + ship_timeout);
            self.log("checkout", t + ship_timeout, &co, format!(r#"{{"ts":"{json_ts}","level":"error","logger":"checkout.api","msg":"shipping quote timed out","order_id":"{order}","error":"context deadline exceeded after 2000ms"}}"#));
            self.access_log(now, &root, "POST", "/checkout", status, total);
            return;
        }
        let ship = self.http_call(
            Some(("checkout", co.clone())),
            "shipping",
            "POST",
            "/quote",
            "/quote",
            t,
            ship_t,
            if ship_fails { 500 } else { 200 },
        );
        if ship_fails {
            self.log(
                "shipping",
                t + ship_t,
                &ship,
                format!(
                    "{} quote failed zone={zone}: runtime error: invalid memory address or nil pointer dereference",
                    go_time(t + ship_t)
                ),
            );
            let json_ts = rfc3339(t + ship_t);
            self.log("checkout", t + ship_t, &co, format!(r#"{{"ts":"{json_ts}","level":"error","logger":"checkout.api","msg":"shipping quote failed","order_id":"{order}","error":"shipping returned 500"}}"#));
            self.access_log(now, &root, "POST", "/checkout", status, total);
            return;
        }
        let weight = self.rng.random_range(1..50) as f64 / 10.0;
        let cost = self.rng.random_range(300..2000) as f64 / 100.0;
        self.log(
            "shipping",
            t + ship_t,
            &ship,
            format!(
                "{} quote computed zone={zone} weight={weight:.1}kg cost={cost:.2}",
                go_time(t + ship_t)
            ),
        );
        t += ship_t;
        self.order_placed(&co, t, order);
        self.access_log(now, &root, "POST", "/checkout", status, total);
    }

    /// The payment service's part of a checkout: its server span, the provider call, its logs.
    fn payment(&mut self, co: &[u8], t: u64, pay_t: u64, pay: Pay, order: i64) {
        let span = self.http_call(
            Some(("checkout", co.to_vec())),
            "payment",
            "POST",
            "/charge",
            "/charge",
            t,
            pay_t,
            pay.status(),
        );
        let exec = self.rng.random_range(1..200);
        let java_ts = java_time(t);
        let amount = self.rng.random_range(500..30000) as f64 / 100.0;
        match pay {
            Pay::Rejected => {
                self.log("payment", t, &span, format!(
                    "{java_ts} ERROR [http-nio-8080-exec-{exec}] c.s.payment.ChargeController - charge rejected for order {order}\n\
                     java.util.concurrent.RejectedExecutionException: worker pool exhausted (200 of 200 threads busy, queue 500 of 500)\n\
                     \tat com.shop.payment.WorkerPool.submit(WorkerPool.java:57)\n\
                     \tat com.shop.payment.ChargeController.post(ChargeController.java:25)"
                ));
                return;
            }
            Pay::QueueTimeout => {
                let java_ts = java_time(t + pay_t);
                self.log("payment", t + pay_t, &span, format!(
                    "{java_ts} ERROR [http-nio-8080-exec-{exec}] c.s.payment.ChargeController - charge for order {order} timed out waiting for a worker after 5000 ms"
                ));
                return;
            }
            _ => {}
        }
        self.log("payment", t, &span, format!("{java_ts} INFO  [http-nio-8080-exec-{exec}] c.s.payment.ChargeService - charging order {order} amount={amount:.2} currency=EUR"));
        let failed = pay == Pay::GatewayTimeout;
        // The payment provider is outside: a client span to an external host.
        let provider_t = if failed {
            pay_t - 2_000_000
        } else {
            self.ms(60.0, 200.0).min(pay_t - 2_000_000)
        };
        self.span(SpanArgs {
            service: "payment",
            name: "POST".into(),
            kind: span::SpanKind::Client,
            start: t + pay_t - provider_t - 1_000_000,
            dur_ns: provider_t,
            parent: Some(span.clone()),
            attrs: vec![
                kv("http.request.method", "POST"),
                kv("url.full", "https://api.payments.example/v1/charges"),
                kv("server.address", "api.payments.example"),
                kv("server.port", 443i64),
                kv(
                    "http.response.status_code",
                    if failed { 504i64 } else { 200 },
                ),
            ],
            error: failed.then(|| "gateway timeout".to_string()),
        });
        if failed {
            let java_ts = java_time(t + pay_t);
            self.log("payment", t + pay_t, &span, format!(
                "{java_ts} ERROR [http-nio-8080-exec-3] c.s.payment.ChargeService - charge failed for order {order}\n\
                 com.shop.payment.GatewayTimeoutException: upstream api.payments.example timed out after 3000 ms\n\
                 \tat com.shop.payment.GatewayClient.charge(GatewayClient.java:88)\n\
                 \tat com.shop.payment.ChargeService.charge(ChargeService.java:41)\n\
                 \tat com.shop.payment.ChargeController.post(ChargeController.java:27)\n\
                 Caused by: java.net.SocketTimeoutException: Read timed out\n\
                 \tat java.base/java.net.SocketInputStream.read(SocketInputStream.java:168)\n\
                 \t... 42 more"
            ));
        }
    }

    /// The order event through Kafka to the email service.
    fn order_placed(&mut self, co: &[u8], t: u64, order: i64) {
        let publish_dur = self.ms(1.0, 2.0);
        let producer = self.span(SpanArgs {
            service: "checkout",
            name: "publish orders".into(),
            kind: span::SpanKind::Producer,
            start: t,
            dur_ns: publish_dur,
            parent: Some(co.to_vec()),
            attrs: vec![
                kv("messaging.system", "kafka"),
                kv("messaging.destination.name", "orders"),
                kv("messaging.operation.type", "publish"),
                kv("server.address", "kafka"),
            ],
            error: None,
        });
        let consume_start = t + self.ms(5.0, 40.0);
        let consume_dur = self.ms(20.0, 60.0);
        let consume = self.span(SpanArgs {
            service: "email",
            name: "process orders".into(),
            kind: span::SpanKind::Consumer,
            start: consume_start,
            dur_ns: consume_dur,
            parent: Some(producer),
            attrs: vec![
                kv("messaging.system", "kafka"),
                kv("messaging.destination.name", "orders"),
                kv("messaging.operation.type", "process"),
            ],
            error: None,
        });
        let klog = klog_time(consume_start);
        let to = self.rng.random_range(1..400);
        self.log("email", consume_start, &consume, format!("I{klog}       1 sender.go:42] sent order confirmation order={order} to=user{to}@mail.example"));
        let json_ts = rfc3339(t);
        let amount = self.rng.random_range(500..30000) as f64 / 100.0;
        self.log("checkout", t, co, format!(r#"{{"ts":"{json_ts}","level":"info","logger":"checkout.api","msg":"order placed","order_id":"{order}","amount":{amount:.2}}}"#));
        self.orders += 1;
    }

    /// One trace of a randomly chosen user journey ending at `now`, started by a fetch of the
    /// visitor's browser (whose page view, vitals and request span go with it).
    pub fn journey(&mut self, now: u64) {
        self.trace_id = self.id(16);
        self.active = self.schedule.active(now);
        self.next_visitor();
        let fetch = self.id(8);
        self.remote_parent = Some(fetch.clone());
        self.entry = None;
        let r: f64 = self.rng.random();
        if r < 0.55 {
            self.browse(now);
        } else if r < 0.8 {
            self.add_to_cart(now);
        } else {
            self.checkout(now);
        }
        self.remote_parent = None;
        self.browser_page_view(&fetch);
    }

    /// The backend's requests (protobuf) and the browsers' (OTLP JSON logs and traces).
    fn take_all(
        &mut self,
    ) -> (
        ExportTraceServiceRequest,
        ExportLogsServiceRequest,
        serde_json::Value,
        serde_json::Value,
    ) {
        let (traces, logs) = self.take_requests();
        let (browser_logs, browser_traces) = self.visits.take();
        (traces, logs, browser_logs, browser_traces)
    }

    fn take_requests(&mut self) -> (ExportTraceServiceRequest, ExportLogsServiceRequest) {
        let tick = std::mem::take(&mut self.tick);
        let scope = |name: &str| {
            Some(InstrumentationScope {
                name: name.into(),
                version: "1.0.0".into(),
                ..Default::default()
            })
        };
        let resource_spans = tick
            .spans
            .into_iter()
            .map(|((service, version), spans)| ResourceSpans {
                resource: Some(resource(service, version)),
                scope_spans: vec![ScopeSpans {
                    scope: scope("shop.http"),
                    spans,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            })
            .collect();
        let mut by_service: HashMap<(&str, &str), Vec<LogRecord>> = HashMap::new();
        for l in tick.logs {
            by_service
                .entry((l.service, l.version))
                .or_default()
                .push(LogRecord {
                    time_unix_nano: l.time,
                    observed_time_unix_nano: l.time + 1_000_000,
                    body: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(l.body)),
                    }),
                    trace_id: l.trace_id,
                    span_id: l.span_id,
                    attributes: vec![kv("log.iostream", "stdout")],
                    ..Default::default()
                });
        }
        let resource_logs = by_service
            .into_iter()
            .map(|((service, version), log_records)| ResourceLogs {
                resource: Some(resource(service, version)),
                scope_logs: vec![ScopeLogs {
                    scope: scope("filelog"),
                    log_records,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            })
            .collect();
        (
            ExportTraceServiceRequest { resource_spans },
            ExportLogsServiceRequest { resource_logs },
        )
    }

    fn metrics_request(&mut self, now: u64) -> ExportMetricsServiceRequest {
        let exhausted = self.on(Fault::ResourceExhaustion);
        let mut per_service: HashMap<&str, Vec<Metric>> = HashMap::new();
        let mut hist_points: HashMap<&str, Vec<HistogramDataPoint>> = HashMap::new();
        for ((service, route, status), (count, sum, buckets)) in &self.http {
            hist_points
                .entry(service)
                .or_default()
                .push(HistogramDataPoint {
                    attributes: vec![
                        kv("http.route", route.as_str()),
                        kv("http.response.status_code", *status),
                        kv(
                            "http.request.method",
                            if route.contains("cart")
                                || route.contains("checkout")
                                || route.contains("charge")
                                || route.contains("quote")
                            {
                                "POST"
                            } else {
                                "GET"
                            },
                        ),
                    ],
                    start_time_unix_nano: self.start_time,
                    time_unix_nano: now,
                    count: *count,
                    sum: Some(*sum),
                    bucket_counts: buckets.clone(),
                    explicit_bounds: BOUNDS_MS.to_vec(),
                    ..Default::default()
                });
        }
        for service in SERVICES {
            let metrics = per_service.entry(service).or_default();
            if let Some(points) = hist_points.remove(service) {
                metrics.push(Metric {
                    name: "http.server.request.duration".into(),
                    description: "Duration of HTTP server requests".into(),
                    unit: "ms".into(),
                    data: Some(metric::Data::Histogram(Histogram {
                        data_points: points,
                        aggregation_temporality: AggregationTemporality::Cumulative as i32,
                    })),
                    ..Default::default()
                });
            }
            let starved = exhausted && service == "payment";
            let cpu = if starved {
                0.93 + self.rng.random::<f64>() * 0.06
            } else {
                0.05 + self.rng.random::<f64>() * if service == "payment" { 0.6 } else { 0.25 }
            };
            let mem = 120_000_000
                + self.rng.random_range(0..80_000_000)
                + if service == "payment" { 350_000_000 } else { 0 }
                + if starved { 1_400_000_000 } else { 0 };
            metrics.push(gauge(
                "process.cpu.utilization",
                "1",
                "CPU used by the process",
                number_data_point::Value::AsDouble(cpu),
                now,
            ));
            metrics.push(gauge(
                "process.memory.usage",
                "By",
                "Resident memory of the process",
                number_data_point::Value::AsInt(mem),
                now,
            ));
            if service == "checkout" {
                metrics.push(Metric {
                    name: "shop.orders".into(),
                    description: "Orders placed".into(),
                    unit: "{order}".into(),
                    data: Some(metric::Data::Sum(Sum {
                        data_points: vec![NumberDataPoint {
                            start_time_unix_nano: self.start_time,
                            time_unix_nano: now,
                            value: Some(number_data_point::Value::AsInt(self.orders)),
                            ..Default::default()
                        }],
                        aggregation_temporality: AggregationTemporality::Cumulative as i32,
                        is_monotonic: true,
                    })),
                    ..Default::default()
                });
            }
        }
        let resource_metrics = per_service
            .into_iter()
            .map(|(service, metrics)| ResourceMetrics {
                resource: Some(resource(service, self.version(service))),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope {
                        name: "shop.runtime".into(),
                        ..Default::default()
                    }),
                    metrics,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            })
            .collect();
        ExportMetricsServiceRequest { resource_metrics }
    }
}

fn gauge(
    name: &str,
    unit: &str,
    description: &str,
    value: number_data_point::Value,
    now: u64,
) -> Metric {
    Metric {
        name: name.into(),
        description: description.into(),
        unit: unit.into(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint {
                time_unix_nano: now,
                value: Some(value),
                ..Default::default()
            }],
        })),
        ..Default::default()
    }
}

fn dt(ns: u64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_nanos(i64::try_from(ns).unwrap_or(0))
}
fn rfc3339(ns: u64) -> String {
    dt(ns).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}
fn java_time(ns: u64) -> String {
    dt(ns).format("%Y-%m-%d %H:%M:%S,%3f").to_string()
}
fn py_time(ns: u64) -> String {
    dt(ns).format("%Y-%m-%d %H:%M:%S,%3f").to_string()
}
fn go_time(ns: u64) -> String {
    dt(ns).format("%Y/%m/%d %H:%M:%S").to_string()
}
fn klog_time(ns: u64) -> String {
    dt(ns).format("%m%d %H:%M:%S%.6f").to_string()
}

/// Sends one request; retries while the server asks to back off. False when it gave up.
async fn post(client: &reqwest::Client, url: String, body: Vec<u8>, retries: u32) -> bool {
    post_as(client, url, body, "application/x-protobuf", retries).await
}

async fn post_as(
    client: &reqwest::Client,
    url: String,
    body: Vec<u8>,
    content_type: &'static str,
    retries: u32,
) -> bool {
    for attempt in 0..=retries {
        let result = client
            .post(&url)
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await;
        match result {
            Ok(r) if r.status().is_success() => return true,
            Ok(r) if r.status().as_u16() == 429 || r.status().as_u16() == 503 => {
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt + 1))).await;
            }
            Ok(r) => {
                tracing::warn!(status = %r.status(), %url, "demo export refused");
                return false;
            }
            Err(e) => {
                if attempt == retries {
                    tracing::warn!(error = %e, %url, "demo export failed");
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    }
    false
}

async fn send(client: &reqwest::Client, target: &str, shop: &mut Shop, retries: u32) {
    use prost::Message;
    let (traces, logs, browser_logs, browser_traces) = shop.take_all();
    post(
        client,
        format!("{target}/v1/traces"),
        traces.encode_to_vec(),
        retries,
    )
    .await;
    post(
        client,
        format!("{target}/v1/logs"),
        logs.encode_to_vec(),
        retries,
    )
    .await;
    // The browsers' side, in the browser SDK's OTLP JSON.
    let json = "application/json";
    let logs = browser_logs.to_string().into_bytes();
    post_as(client, format!("{target}/v1/logs"), logs, json, retries).await;
    let spans = browser_traces.to_string().into_bytes();
    post_as(client, format!("{target}/v1/traces"), spans, json, retries).await;
}

async fn send_metrics(client: &reqwest::Client, target: &str, shop: &mut Shop, now: u64) {
    use prost::Message;
    let metrics = shop.metrics_request(now);
    post(
        client,
        format!("{target}/v1/metrics"),
        metrics.encode_to_vec(),
        5,
    )
    .await;
}

/// The workload's HTTP client: with `REDSCOPE_TOKEN` (an ingest token) when the server has
/// tokens.
fn otlp_client() -> reqwest::Client {
    with_env_token(reqwest::Client::builder())
        .build()
        .unwrap_or_default()
}

/// Sends `Authorization: Bearer $REDSCOPE_TOKEN` on every request when the variable is set
/// (the demo workload and `redscope bench` against a server with tokens).
pub fn with_env_token(builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Ok(token) = std::env::var("REDSCOPE_TOKEN")
        && let Ok(value) = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
    {
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    builder.default_headers(headers)
}

/// Runs the workload until the task is aborted: history first when asked, then live. With
/// `warm`, the server's caches are filled once the history is stored (see [`warm_up`]).
pub async fn run(target: String, args: DemoArgs, warm: Option<Arc<query::QueryService>>) {
    let client = otlp_client();
    let start = now_ns();
    let backfill = u64::try_from(args.backfill).unwrap_or(0);
    let schedule = Schedule::new(&args, start);
    let mut shop = Shop::new(start, schedule, start.saturating_sub(backfill));
    let rate = args.rate.max(0.01);
    for f in &args.faults {
        tracing::info!(
            fault = f.fault.name(),
            cause = f.fault.cause(),
            began_s_ago = f.ago_ns / 1_000_000_000,
            "demo fault injected"
        );
    }
    // Give the server a moment to bind.
    tokio::time::sleep(Duration::from_millis(300)).await;
    if backfill > 0 {
        let step = (1e9 / rate) as u64;
        let mut t = start - backfill;
        let mut n = 0u64;
        let mut next_metrics = t;
        while t < start {
            shop.journey(t);
            n += 1;
            if n.is_multiple_of(500) {
                send(&client, &target, &mut shop, 20).await;
            }
            if t >= next_metrics {
                send_metrics(&client, &target, &mut shop, t).await;
                next_metrics = t + 10_000_000_000;
            }
            t += step.max(1);
        }
        send(&client, &target, &mut shop, 20).await;
        tracing::info!(journeys = n, "demo history generated");
        if let Some(query) = warm {
            tokio::spawn(warm_up(query));
        }
    }
    let tick = Duration::from_millis(250);
    let mut carry = 0.0;
    let mut ticks: u64 = 0;
    let mut last = tokio::time::Instant::now();
    loop {
        let now = tokio::time::Instant::now();
        carry = journeys_due(carry, rate, now.duration_since(last));
        last = now;
        while carry >= 1.0 {
            shop.journey(now_ns());
            carry -= 1.0;
        }
        send(&client, &target, &mut shop, 2).await;
        if ticks.is_multiple_of(40) {
            send_metrics(&client, &target, &mut shop, now_ns()).await;
        }
        ticks += 1;
        tokio::time::sleep(tick).await;
    }
}

/// Journeys owed after `elapsed` at `rate` per second, `carry` included. The live rate
/// follows the clock, not the loop: on a busy machine a send can take longer than a tick, and
/// counting ticks would thin the traffic out (which triage rightly reads as a drop). A stall
/// of more than five seconds is not made up for.
fn journeys_due(carry: f64, rate: f64, elapsed: Duration) -> f64 {
    (carry + rate * elapsed.as_secs_f64()).min(rate * 5.0 + 1.0)
}

/// The server read its stored rollups into its caches when it started, before the history
/// arrived; a newcomer's first pages would pay for reading them. Once the rollups of the
/// history are written (every few seconds), they are read, and the files of the last hour
/// opened once (their metadata stays cached), as a server that had been running would have.
async fn warm_up(query: Arc<query::QueryService>) {
    tokio::time::sleep(Duration::from_secs(6)).await;
    let end_ns = now_ns() as i64;
    let day = model::TimeRange {
        start_ns: end_ns - 86_400_000_000_000,
        end_ns,
    };
    let hour = model::TimeRange {
        start_ns: end_ns - 3_600_000_000_000,
        end_ns,
    };
    if let Err(e) = query.warm_rollups(day).await {
        tracing::debug!(error = %e, "demo warm-up");
    }
    if let Err(e) = query.services(hour).await {
        tracing::debug!(error = %e, "demo warm-up");
    }
    tracing::info!("demo caches warmed");
}

/// One batch of demo traces and logs, for benchmarks and tests.
#[allow(dead_code)]
pub fn sample(journeys: usize, seed: u64) -> (ExportTraceServiceRequest, ExportLogsServiceRequest) {
    let now = now_ns();
    let mut shop = Shop::new(seed, Schedule::default(), now);
    for _ in 0..journeys {
        shop.journey(now);
    }
    shop.take_requests()
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};
    use std::time::Duration;

    use analysis::{DistinctSample, REACH_DISTINCT_METRIC, REACH_METRIC, RedAggregator};

    use super::{DemoArgs, Fault, Schedule, journeys_due, parse_fault, sample};

    #[test]
    fn the_live_rate_follows_the_clock_when_sends_are_slow() {
        // A tick that took a second (a slow send) owes a second of journeys, not a tick's.
        assert_eq!(journeys_due(0.0, 20.0, Duration::from_secs(1)), 20.0);
        assert_eq!(journeys_due(0.5, 20.0, Duration::from_millis(250)), 5.5);
        // A long stall is not made up for in one burst.
        assert_eq!(journeys_due(0.0, 20.0, Duration::from_secs(60)), 101.0);
    }

    #[test]
    fn a_fault_can_end() {
        let f = parse_fault("resource_exhaustion@3m+220s").unwrap();
        assert_eq!(f.fault, Fault::ResourceExhaustion);
        assert_eq!(
            (f.ago_ns, f.for_ns),
            (180_000_000_000, Some(220_000_000_000))
        );
        assert_eq!(parse_fault("slow_query").unwrap().for_ns, None);
        assert!(parse_fault("slow_query+soon").is_err());
        let args = DemoArgs {
            faults: vec![f],
            ..DemoArgs::default()
        };
        let start = 1_000_000_000_000;
        let s = Schedule::new(&args, start);
        let at = |secs_from_start: i64| {
            s.active((start as i64 + secs_from_start * 1_000_000_000) as u64)
        };
        assert!(at(-181).is_empty());
        assert_eq!(at(-180), vec![Fault::ResourceExhaustion]);
        assert_eq!(at(39), vec![Fault::ResourceExhaustion]);
        assert!(at(40).is_empty());
    }

    #[test]
    fn entry_spans_carry_sessions_of_several_journeys_and_blast_radius_counts_them() {
        let (traces, _) = sample(400, 11);
        let spans = ingest::convert::convert_traces(&traces).rows;
        // Per trace: its session and the users its spans name.
        let mut session_of: HashMap<&str, &str> = HashMap::new();
        let mut users_of: HashMap<&str, HashSet<&str>> = HashMap::new();
        let mut user_of_session: HashMap<&str, Option<&str>> = HashMap::new();
        // Entry spans continue the browser's fetch span, which the backend's batch lacks.
        let span_ids: HashSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
        for s in &spans {
            if let Some(u) = s.enduser_id.as_deref() {
                users_of.entry(&s.trace_id).or_default().insert(u);
            }
            assert!(
                !s.parent_span_id.is_empty(),
                "every trace starts in a browser"
            );
            if span_ids.contains(s.parent_span_id.as_str()) {
                assert_eq!(s.session_id, None, "only entry spans carry the session");
                continue;
            }
            assert_eq!(s.resource.service_name, "frontend");
            let session = s.session_id.as_deref().expect("entry span with session.id");
            assert_eq!(session.len(), 32);
            session_of.insert(&s.trace_id, session);
            let user = s.enduser_id.as_deref();
            assert_eq!(
                *user_of_session.entry(session).or_insert(user),
                user,
                "one user per session"
            );
        }
        assert_eq!(session_of.len(), 400);
        for (trace, users) in &users_of {
            assert_eq!(users.len(), 1, "one user per trace: {trace} {users:?}");
        }
        let sessions: HashSet<&str> = session_of.values().copied().collect();
        assert!(
            sessions.len() > 400 / 8 && sessions.len() < 400 / 2,
            "sessions span several journeys: {}",
            sessions.len()
        );
        let users: HashSet<&str> = user_of_session.values().flatten().copied().collect();
        assert!(
            !users.is_empty() && users.len() < sessions.len(),
            "some are anonymous"
        );

        // Blast radius counts the distinct sessions (and users) of the traces reaching a service.
        let mut agg = RedAggregator::default();
        agg.observe(&spans);
        let rows = agg.drain(i64::MAX);
        let distinct = |service: &str, kind: &str| {
            let mut s = DistinctSample::default();
            for r in rows.iter().filter(|r| {
                r.metric_name == REACH_DISTINCT_METRIC
                    && r.resource.service_name == service
                    && r.attributes.contains("\"operation\":\"\"")
                    && r.attributes.contains(&format!("\"kind\":\"{kind}\""))
            }) {
                s.merge(&r.bucket_counts);
            }
            s.estimate()
        };
        assert_eq!(distinct("frontend", "sessions"), sessions.len() as u64);
        assert_eq!(distinct("frontend", "users"), users.len() as u64);
        // Downstream services are reached by the sessions of the traces that called them.
        let catalog: HashSet<&str> = spans
            .iter()
            .filter(|s| s.resource.service_name == "catalog")
            .map(|s| session_of[s.trace_id.as_str()])
            .collect();
        assert_eq!(distinct("catalog", "sessions"), catalog.len() as u64);
        assert!(rows.iter().any(|r| r.metric_name == REACH_METRIC));
    }
}
