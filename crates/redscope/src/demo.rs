//! The built-in demo workload: a small online shop of seven services that send traces (HTTP,
//! database, cache and messaging spans with semantic-convention attributes, errors and slow
//! calls), logs in the text formats real services write, and runtime and HTTP metrics — over
//! OTLP/HTTP protobuf to the server's own receiver, like any SDK would.

use std::collections::HashMap;
use std::net::SocketAddr;
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

fn resource(service: &str) -> Resource {
    Resource {
        attributes: vec![
            kv("service.name", service),
            kv("service.namespace", "shop"),
            kv("service.version", "1.4.2"),
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
    time: u64,
    body: String,
    trace_id: Vec<u8>,
    span_id: Vec<u8>,
}

/// Everything one tick of the workload produced.
#[derive(Default)]
struct Tick {
    spans: HashMap<&'static str, Vec<Span>>,
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

/// The shop's state: counters for metrics, the random source, the time.
pub struct Shop {
    rng: SmallRng,
    trace_id: Vec<u8>,
    tick: Tick,
    /// (service, route, status) → (count, sum ms, buckets)
    http: HashMap<HttpKey, HttpHistogram>,
    orders: i64,
    start_time: u64,
}

const BOUNDS_MS: [f64; 10] = [
    5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0,
];

fn now_ns() -> u64 {
    u64::try_from(model::now_unix_nano()).unwrap_or(0)
}

impl Shop {
    pub fn new(seed: u64) -> Self {
        Shop {
            rng: SmallRng::seed_from_u64(seed),
            trace_id: Vec::new(),
            tick: Tick::default(),
            http: HashMap::new(),
            orders: 0,
            start_time: now_ns(),
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
        self.tick.spans.entry(a.service).or_default().push(Span {
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
        self.tick.logs.push(LogLine {
            service,
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
            None => None,
        };
        let user = self.rng.random_range(1..400);
        let span = self.span(SpanArgs {
            service,
            name: format!("{method} {route}"),
            kind: span::SpanKind::Server,
            start: start + 200_000,
            dur_ns: dur,
            parent,
            attrs: vec![
                kv("http.request.method", method),
                kv("http.route", route),
                kv("url.path", path),
                kv("http.response.status_code", status),
                kv("network.protocol.version", "1.1"),
                kv("enduser.id", format!("user-{user}")),
            ],
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
            error: None,
        });
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
        let slow = self.rng.random_bool(0.03);
        let db = if slow {
            self.ms(800.0, 900.0)
        } else {
            self.ms(2.0, 12.0)
        };
        let total = db + self.ms(6.0, 20.0);
        let start = now - total;
        let product = self.rng.random_range(1..500);
        let (route, path, query) = if self.rng.random_bool(0.6) {
            (
                "/products",
                "/products".to_string(),
                "SELECT id, name, price FROM products ORDER BY rank LIMIT 24".to_string(),
            )
        } else {
            (
                "/products/{id}",
                format!("/products/{product}"),
                "SELECT id, name, price, stock FROM products WHERE id = $1".to_string(),
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

    fn add_to_cart(&mut self, now: u64) {
        let redis = self.ms(0.3, 2.0);
        let total = redis + self.ms(3.0, 8.0);
        let start = now - total;
        let root = self.http_call(
            None, "frontend", "POST", "/cart", "/cart", start, total, 200,
        );
        let cart = self.http_call(
            Some(("frontend", root.clone())),
            "cart",
            "POST",
            "/cart/items",
            "/cart/items",
            start + 300_000,
            total - 600_000,
            200,
        );
        self.db(
            "cart",
            &cart,
            start + 600_000,
            redis,
            "redis",
            "cart-redis",
            "HSET",
            "HSET cart:{user} {sku} {qty}",
        );
        let user = self.rng.random_range(1..400);
        let sku = self.rng.random_range(1000..1100);
        let qty = self.rng.random_range(1..4);
        let body = format!(
            "time={} level=info msg=\"item added\" user=user-{user} sku=SKU-{sku} qty={qty} duration_ms={}",
            rfc3339(start + redis),
            redis / 1_000_000
        );
        self.log("cart", start + redis, &cart, body);
        self.access_log(now, &root, "POST", "/cart", 200, total);
    }

    fn checkout(&mut self, now: u64) {
        let pay_fails = self.rng.random_bool(0.06);
        let cart_t = self.ms(2.0, 6.0);
        let pay_t = if pay_fails {
            self.ms(3000.0, 2000.0)
        } else {
            self.ms(80.0, 250.0)
        };
        let ship_t = self.ms(10.0, 30.0);
        let total = cart_t + pay_t + ship_t + self.ms(10.0, 10.0);
        let start = now - total;
        let status = if pay_fails { 500 } else { 200 };
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
            200,
        );
        self.db(
            "cart",
            &cart,
            t + 200_000,
            cart_t / 2,
            "redis",
            "cart-redis",
            "HGETALL",
            "HGETALL cart:{user}",
        );
        t += cart_t;
        let pay = self.http_call(
            Some(("checkout", co.clone())),
            "payment",
            "POST",
            "/charge",
            "/charge",
            t,
            pay_t,
            if pay_fails { 502 } else { 200 },
        );
        // The payment provider is outside: a client span to an external host.
        self.span(SpanArgs {
            service: "payment",
            name: "POST".into(),
            kind: span::SpanKind::Client,
            start: t + 1_000_000,
            dur_ns: pay_t - 2_000_000,
            parent: Some(pay.clone()),
            attrs: vec![
                kv("http.request.method", "POST"),
                kv("url.full", "https://api.payments.example/v1/charges"),
                kv("server.address", "api.payments.example"),
                kv("server.port", 443i64),
                kv(
                    "http.response.status_code",
                    if pay_fails { 504i64 } else { 200 },
                ),
            ],
            error: pay_fails.then(|| "gateway timeout".to_string()),
        });
        let java_ts = java_time(t);
        let amount = self.rng.random_range(500..30000) as f64 / 100.0;
        let exec = self.rng.random_range(1..20);
        self.log("payment", t, &pay, format!("{java_ts} INFO  [http-nio-8080-exec-{exec}] c.s.payment.ChargeService - charging order {order} amount={amount:.2} currency=EUR"));
        let json_ts = rfc3339(t + pay_t);
        if pay_fails {
            let java_ts = java_time(t + pay_t);
            self.log("payment", t + pay_t, &pay, format!(
                "{java_ts} ERROR [http-nio-8080-exec-3] c.s.payment.ChargeService - charge failed for order {order}\n\
                 com.shop.payment.GatewayTimeoutException: upstream api.payments.example timed out after 3000 ms\n\
                 \tat com.shop.payment.GatewayClient.charge(GatewayClient.java:88)\n\
                 \tat com.shop.payment.ChargeService.charge(ChargeService.java:41)\n\
                 \tat com.shop.payment.ChargeController.post(ChargeController.java:27)\n\
                 Caused by: java.net.SocketTimeoutException: Read timed out\n\
                 \tat java.base/java.net.SocketInputStream.read(SocketInputStream.java:168)\n\
                 \t... 42 more"
            ));
            self.log("checkout", t + pay_t, &co, format!(r#"{{"ts":"{json_ts}","level":"error","logger":"checkout.api","msg":"payment failed","order_id":"{order}","error":"payment returned 502"}}"#));
        } else {
            t += pay_t;
            let ship = self.http_call(
                Some(("checkout", co.clone())),
                "shipping",
                "POST",
                "/quote",
                "/quote",
                t,
                ship_t,
                200,
            );
            let zone = ["EU", "US", "APAC"][self.rng.random_range(0..3)];
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
            // Order events go through a queue to the email service.
            let publish_dur = self.ms(1.0, 2.0);
            let producer = self.span(SpanArgs {
                service: "checkout",
                name: "publish orders".into(),
                kind: span::SpanKind::Producer,
                start: t,
                dur_ns: publish_dur,
                parent: Some(co.clone()),
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
            self.log("checkout", t, &co, format!(r#"{{"ts":"{json_ts}","level":"info","logger":"checkout.api","msg":"order placed","order_id":"{order}","amount":{amount:.2}}}"#));
            self.orders += 1;
        }
        self.access_log(now, &root, "POST", "/checkout", status, total);
    }

    /// One trace of a randomly chosen user journey.
    fn journey(&mut self) {
        self.trace_id = self.id(16);
        let now = now_ns();
        let r: f64 = self.rng.random();
        if r < 0.55 {
            self.browse(now);
        } else if r < 0.8 {
            self.add_to_cart(now);
        } else {
            self.checkout(now);
        }
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
            .map(|(service, spans)| ResourceSpans {
                resource: Some(resource(service)),
                scope_spans: vec![ScopeSpans {
                    scope: scope("shop.http"),
                    spans,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            })
            .collect();
        let mut by_service: HashMap<&str, Vec<LogRecord>> = HashMap::new();
        for l in tick.logs {
            by_service.entry(l.service).or_default().push(LogRecord {
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
            .map(|(service, log_records)| ResourceLogs {
                resource: Some(resource(service)),
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

    fn metrics_request(&mut self) -> ExportMetricsServiceRequest {
        let now = now_ns();
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
            let cpu =
                0.05 + self.rng.random::<f64>() * if service == "payment" { 0.6 } else { 0.25 };
            let mem = 120_000_000
                + self.rng.random_range(0..80_000_000)
                + if service == "payment" { 350_000_000 } else { 0 };
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
                resource: Some(resource(service)),
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

async fn post(client: &reqwest::Client, url: String, body: Vec<u8>) {
    let result = client
        .post(&url)
        .header("content-type", "application/x-protobuf")
        .body(body)
        .send()
        .await;
    match result {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => tracing::warn!(status = %r.status(), %url, "demo export refused"),
        Err(e) => tracing::warn!(error = %e, %url, "demo export failed"),
    }
}

/// Runs the workload until the task is aborted.
pub async fn run(target: String, rate: f64) {
    use prost::Message;
    let client = reqwest::Client::new();
    let mut shop = Shop::new(now_ns());
    let tick = Duration::from_millis(250);
    let mut carry = 0.0;
    let mut ticks: u64 = 0;
    // Give the server a moment to bind.
    tokio::time::sleep(Duration::from_millis(300)).await;
    loop {
        carry += rate * tick.as_secs_f64();
        while carry >= 1.0 {
            shop.journey();
            carry -= 1.0;
        }
        let (traces, logs) = shop.take_requests();
        post(
            &client,
            format!("{target}/v1/traces"),
            traces.encode_to_vec(),
        )
        .await;
        post(&client, format!("{target}/v1/logs"), logs.encode_to_vec()).await;
        if ticks.is_multiple_of(40) {
            let metrics = shop.metrics_request();
            post(
                &client,
                format!("{target}/v1/metrics"),
                metrics.encode_to_vec(),
            )
            .await;
        }
        ticks += 1;
        tokio::time::sleep(tick).await;
    }
}

/// One batch of demo traces and logs, for benchmarks and tests.
#[allow(dead_code)]
pub fn sample(journeys: usize, seed: u64) -> (ExportTraceServiceRequest, ExportLogsServiceRequest) {
    let mut shop = Shop::new(seed);
    for _ in 0..journeys {
        shop.journey();
    }
    shop.take_requests()
}
