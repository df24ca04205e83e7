//! Triage against the demo's fault scenarios: with each fault injected, the true cause is
//! ranked first, with evidence, example traces and affected entry points.

use std::time::{Duration, Instant};

use crate::common::{Server, now_ns};

/// Runs the demo with 15 minutes of history and `fault` switched on four minutes ago, and
/// returns the triage of the last three minutes.
async fn triage_of(fault: &str) -> serde_json::Value {
    let fault = format!("{fault}@4m");
    let (_dir, server) = demo_with_history(&["--fault", &fault]).await;
    // Client spans to uninstrumented dependencies settle after ten seconds.
    tokio::time::sleep(Duration::from_secs(16)).await;
    server.get_json("/api/v1/triage?from=now-3m").await
}

/// The demo with 15 minutes of history (written as a burst, as a collector flushing its queue
/// does) and `extra` arguments, once the history is in and live spans arrive; with its data
/// directory, which lives as long as the caller keeps it.
async fn demo_with_history(extra: &[&str]) -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let started = now_ns();
    let mut args = vec!["--rate", "8", "--backfill", "15m"];
    args.extend_from_slice(extra);
    let server = Server::start_demo(dir.path(), &args);
    // The history is in once live spans (started after the test began) arrive.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let rows = server
            .sql(&format!(
                "SELECT count(*) AS n FROM spans WHERE start_time_unix_nano > {started}"
            ))
            .await;
        if rows["rows"][0][0].as_u64().unwrap_or(0) > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "demo history never finished");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    (dir, server)
}

/// Right after the burst of history, before the rollup writer's next round: triage reads what
/// was stored, up to where it is complete, and finds the cause (not a drop to zero).
#[tokio::test]
async fn triage_right_after_a_backfill_finds_the_cause() {
    let (_dir, server) = demo_with_history(&["--fault", "dependency_down@4m"]).await;
    let r = server.get_json("/api/v1/triage?from=now-3m").await;
    let first = &r["candidates"][0];
    assert_eq!(first["service"], "cart-redis", "{r}");
    let drops = r["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "throughput_drop" && a["service"] == "frontend")
        .count();
    assert_eq!(drops, 0, "throughput of the entry read as a drop: {r}");
    assert!(r["complete_to_unix_nano"].as_u64().unwrap() <= now_ns());
}

/// A healthy shop: nothing is ranked, and the report says so.
#[tokio::test]
async fn triage_of_a_healthy_system_reports_that_nothing_stands_out() {
    let (_dir, server) = demo_with_history(&[]).await;
    tokio::time::sleep(Duration::from_secs(12)).await;
    let r = server.get_json("/api/v1/triage?from=now-3m").await;
    let names: Vec<&str> = r["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["service"].as_str().unwrap())
        .collect();
    assert!(
        names.is_empty(),
        "candidates on a healthy system: {names:?} {}",
        r["anomalies"]
    );
    let note = r["note"].as_str().unwrap_or_default();
    assert!(note.contains("nothing stands out"), "{r}");
}

fn assert_first(report: &serde_json::Value, cause: &str, evidence_kind: &str) {
    let candidates = report["candidates"].as_array().unwrap();
    let names: Vec<&str> = candidates
        .iter()
        .map(|c| c["service"].as_str().unwrap())
        .collect();
    assert_eq!(names.first(), Some(&cause), "ranking: {names:?}");
    let top = &candidates[0];
    let kinds: Vec<&str> = top["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&evidence_kind),
        "{cause} evidence {kinds:?} lacks {evidence_kind}"
    );
    assert!(
        !top["example_trace_ids"].as_array().unwrap().is_empty(),
        "no example traces"
    );
    // The demo's traces start in the visitors' browsers; the system is entered at the
    // frontend, which continues their fetch.
    let entries = top["affected_entry_points"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["service"] == "frontend" && e["started_in"] == "shop-web"),
        "entry points: {entries:?}"
    );
    assert!(
        entries.iter().all(|e| e["service"] != "shop-web"),
        "a browser is where requests start, not where the system is entered: {entries:?}"
    );
    let path = top["path"].as_array().unwrap();
    assert_eq!(path.last().unwrap(), cause);
    // Its callers are there too, ranked below it and explained by what they call.
    assert!(candidates.len() >= 2, "{names:?}");
    assert!(top["score"].as_f64().unwrap() > candidates[1]["score"].as_f64().unwrap());
}

#[tokio::test]
async fn dependency_down_points_at_the_database() {
    let r = triage_of("dependency_down").await;
    assert_first(&r, "cart-redis", "error_rate");
    assert_eq!(r["candidates"][0]["kind"], "database");
    assert_eq!(r["candidates"][0]["instrumented"], false);
}

#[tokio::test]
async fn slow_query_points_at_the_database_and_its_statement() {
    let r = triage_of("slow_query").await;
    assert_first(&r, "catalog-db", "latency");
    let stmt = r["candidates"][0]["operation"].as_str().unwrap();
    assert!(stmt.contains("WHERE id = $1"), "statement: {stmt}");
}

#[tokio::test]
async fn bad_deploy_points_at_the_new_version() {
    let r = triage_of("bad_deploy").await;
    assert_first(&r, "shipping", "new_version");
    assert!(
        r["candidates"][0]["summary"]
            .as_str()
            .unwrap()
            .contains("1.5.0")
    );
}

#[tokio::test]
async fn resource_exhaustion_points_at_payment() {
    let r = triage_of("resource_exhaustion").await;
    assert_first(&r, "payment", "error_rate");
    let patterns = r["candidates"][0]["log_patterns"].as_array().unwrap();
    assert!(
        patterns
            .iter()
            .any(|p| p["template"].as_str().unwrap().contains("exhausted")
                || p["template"]
                    .as_str()
                    .unwrap()
                    .contains("waiting for a worker")),
        "log patterns: {patterns:?}"
    );
}

#[tokio::test]
async fn timeout_cascade_points_at_the_slow_service_not_the_ones_timing_out() {
    let r = triage_of("timeout_cascade").await;
    assert_first(&r, "shipping", "latency");
    // checkout times out and fails, but its errors are explained by shipping.
    let checkout = r["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["service"] == "checkout" && a["kind"] == "error_rate")
        .expect("checkout errors");
    assert_eq!(checkout["explained_by"], "shipping");
}

// Triage of traffic sent as real OTLP spans: a call graph of services, each request a trace
// of SERVER and CLIENT spans linked across services, a healthy baseline, then faults.

/// What a service does for one request: its own work and the calls it makes, one after the
/// other.
#[derive(Clone)]
struct Hop {
    service: &'static str,
    operation: &'static str,
    /// Own work (ms): half before the calls, half after.
    ms: f64,
    /// Errors of its own even when healthy.
    error_rate: f64,
    calls: Vec<Call>,
}

#[derive(Clone)]
enum Call {
    /// A call to another service, given up on (and failed) after `timeout_ms`.
    Service { hop: Hop, timeout_ms: Option<f64> },
    /// A statement against a database that sends no telemetry of its own.
    Database {
        name: &'static str,
        system: &'static str,
        statement: &'static str,
        ms: f64,
    },
}

fn hop(service: &'static str, operation: &'static str, ms: f64, calls: Vec<Call>) -> Hop {
    Hop {
        service,
        operation,
        ms,
        error_rate: 0.002,
        calls,
    }
}

fn call(hop: Hop) -> Call {
    Call::Service {
        hop,
        timeout_ms: None,
    }
}

fn db(name: &'static str, system: &'static str, statement: &'static str, ms: f64) -> Call {
    Call::Database {
        name,
        system,
        statement,
        ms,
    }
}

/// Errors and extra work of a component (a service, one of its instances, or a database).
#[derive(Clone, Copy, Default)]
struct Fault {
    error_rate: f64,
    extra_ms: f64,
}

const MS: u64 = 1_000_000;
const SECOND: u64 = 1_000_000_000;
const MINUTE: u64 = 60 * SECOND;

/// Spans of requests through a call graph, per service instance.
struct Traffic {
    /// The resource attribute that names an instance (`service.instance.id` or `host.name`).
    instance_key: &'static str,
    /// Instances per service (one, `<service>-1`, unless set).
    instances: Vec<(&'static str, Vec<String>)>,
    /// (component, instance or every instance, fault), on from `faults_from` (unix ns); for a
    /// database, the instance is the caller's.
    faults: Vec<(&'static str, Option<String>, Fault)>,
    faults_from: u64,
    /// Spans not yet sent, per (service, instance).
    spans: std::collections::BTreeMap<(String, String), Vec<serde_json::Value>>,
    served: std::collections::HashMap<&'static str, usize>,
    rng: u64,
    next_id: u64,
    /// Root spans generated, per service.
    roots: std::collections::HashMap<&'static str, u64>,
}

impl Traffic {
    fn new(instance_key: &'static str, faults_from: u64) -> Traffic {
        Traffic {
            instance_key,
            instances: Vec::new(),
            faults: Vec::new(),
            faults_from,
            spans: Default::default(),
            served: Default::default(),
            rng: 0x9e37_79b9_7f4a_7c15,
            next_id: 1,
            roots: Default::default(),
        }
    }

    /// A uniform number in [0, 1) (xorshift: the same traffic every run).
    fn uniform(&mut self) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// `ms` give or take a fifth, in ns.
    fn jitter(&mut self, ms: f64) -> u64 {
        (ms * (0.8 + 0.4 * self.uniform()) * MS as f64) as u64
    }

    fn id(&mut self) -> String {
        self.next_id += 1;
        format!("{:016x}", self.next_id)
    }

    fn instance(&mut self, service: &'static str) -> String {
        let n = self.served.entry(service).or_default();
        *n += 1;
        match self.instances.iter().find(|(s, _)| *s == service) {
            Some((_, list)) => list[*n % list.len()].clone(),
            None => format!("{service}-1"),
        }
    }

    /// The fault on `component` (on `instance` of it) at `t`, if any.
    fn fault(&self, component: &str, instance: Option<&str>, t: u64) -> Fault {
        if t < self.faults_from {
            return Fault::default();
        }
        self.faults
            .iter()
            .filter(|(c, i, _)| *c == component && i.as_deref().is_none_or(|i| Some(i) == instance))
            .fold(Fault::default(), |a, (_, _, f)| Fault {
                error_rate: a.error_rate.max(f.error_rate),
                extra_ms: a.extra_ms + f.extra_ms,
            })
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        service: &str,
        instance: &str,
        trace: &str,
        id: &str,
        parent: &str,
        name: &str,
        kind: u8,
        (start, end): (u64, u64),
        error: bool,
        attributes: serde_json::Value,
    ) {
        let span = serde_json::json!({
            "traceId": trace, "spanId": id, "parentSpanId": parent, "name": name, "kind": kind,
            "startTimeUnixNano": start.to_string(), "endTimeUnixNano": end.to_string(),
            "attributes": attributes,
            "status": if error { serde_json::json!({"code": 2, "message": "failed"}) } else { serde_json::json!({}) },
        });
        self.spans
            .entry((service.to_string(), instance.to_string()))
            .or_default()
            .push(span);
    }

    /// One request entering at `root` at `start`.
    fn request(&mut self, root: &Hop, start: u64) {
        let trace = format!("{:016x}{:016x}", self.next_id, self.rng);
        *self.roots.entry(root.service).or_default() += 1;
        self.serve(&trace, "", root, start);
    }

    /// The SERVER span of `hop` and everything below it; when it ended and whether it failed.
    fn serve(&mut self, trace: &str, parent: &str, hop: &Hop, start: u64) -> (u64, bool) {
        let instance = self.instance(hop.service);
        let fault = self.fault(hop.service, Some(&instance), start);
        let id = self.id();
        let own = self.jitter(hop.ms) + self.jitter(fault.extra_ms);
        let mut t = start + own / 2;
        let mut error = false;
        for c in &hop.calls {
            let client = self.id();
            let (end, failed, name, attributes) = match c {
                Call::Service {
                    hop: callee,
                    timeout_ms,
                } => {
                    let (done, failed) = self.serve(trace, &client, callee, t + MS / 2);
                    let mut end = done + MS / 2;
                    let mut failed = failed;
                    if let Some(timeout) = timeout_ms {
                        let limit = t + (timeout * MS as f64) as u64;
                        if end > limit {
                            (end, failed) = (limit, true);
                        }
                    }
                    let attributes = serde_json::json!([
                        {"key": "rpc.system", "value": {"stringValue": "grpc"}},
                        {"key": "server.address", "value": {"stringValue": callee.service}},
                    ]);
                    (end, failed, callee.operation.to_string(), attributes)
                }
                Call::Database {
                    name,
                    system,
                    statement,
                    ms,
                } => {
                    // A database fault may hit only the calls of one instance.
                    let f = self.fault(name, Some(&instance), t);
                    let end = t + self.jitter(*ms) + self.jitter(f.extra_ms);
                    let failed = self.chance(f.error_rate);
                    let attributes = serde_json::json!([
                        {"key": "db.system.name", "value": {"stringValue": system}},
                        {"key": "server.address", "value": {"stringValue": name}},
                        {"key": "db.query.text", "value": {"stringValue": statement}},
                    ]);
                    let op = statement.split_whitespace().next().unwrap_or("query");
                    (end, failed, op.to_string(), attributes)
                }
            };
            self.push(
                hop.service,
                &instance,
                trace,
                &client,
                &id,
                &name,
                3,
                (t, end),
                failed,
                attributes,
            );
            error |= failed;
            t = end;
        }
        error |= self.chance(hop.error_rate.max(fault.error_rate));
        let end = t + own - own / 2;
        self.push(
            hop.service,
            &instance,
            trace,
            &id,
            parent,
            hop.operation,
            2,
            (start, end),
            error,
            serde_json::json!([]),
        );
        (end, error)
    }

    /// Sends the spans generated so far as one OTLP/JSON request, a resource per instance.
    async fn send(&mut self, server: &Server) {
        let key = self.instance_key;
        let resources: Vec<serde_json::Value> = std::mem::take(&mut self.spans)
            .into_iter()
            .map(|((service, instance), spans)| {
                serde_json::json!({
                    "resource": {"attributes": [
                        {"key": "service.name", "value": {"stringValue": service}},
                        {"key": "service.version", "value": {"stringValue": "1.4.2"}},
                        {"key": key, "value": {"stringValue": instance}},
                    ]},
                    "scopeSpans": [{"scope": {"name": "shop"}, "spans": spans}],
                })
            })
            .collect();
        server
            .post_otlp_json(
                "/v1/traces",
                &serde_json::json!({ "resourceSpans": resources }),
            )
            .await;
    }
}

/// Sends `per_second` requests a second into each of `entries` from `history` ago until now,
/// a minute per OTLP request (as a collector flushing its queue would), and waits until RED
/// counts them all.
async fn send_traffic(
    server: &Server,
    traffic: &mut Traffic,
    entries: &[Hop],
    history: u64,
    per_second: u64,
) {
    let end = now_ns() - SECOND;
    let mut t = end - history;
    let mut minute_end = t + MINUTE;
    while t < end {
        for (i, entry) in entries.iter().enumerate() {
            for k in 0..per_second {
                let offset =
                    (i as u64 * per_second + k) * SECOND / (entries.len() as u64 * per_second);
                traffic.request(entry, t + offset);
            }
        }
        t += SECOND;
        if t >= minute_end || t >= end {
            traffic.send(server).await;
            minute_end += MINUTE;
        }
    }
    let roots: u64 = traffic.roots.values().sum();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let red = server.get_json("/api/v1/red?from=now-1h").await;
        let counted: u64 = red["totals"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| traffic.roots.contains_key(t["service"].as_str().unwrap()))
            .map(|t| t["requests"].as_u64().unwrap())
            .sum();
        if counted >= roots {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "RED counted {counted} of {roots} requests"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn names(report: &serde_json::Value) -> Vec<String> {
    report["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["service"].as_str().unwrap().to_string())
        .collect()
}

fn rank_of(report: &serde_json::Value, service: &str) -> Option<usize> {
    names(report).iter().position(|n| n == service)
}

/// A web front calling an api served by three instances, which reads a database.
fn three_instances(
    instance_key: &'static str,
    faulty: &'static str,
    bad: Fault,
) -> (Traffic, Vec<Hop>) {
    let mut traffic = Traffic::new(instance_key, now_ns() - 4 * MINUTE);
    traffic.instances = vec![(
        "inventory-api",
        (1..=3).map(|i| format!("inventory-api-{i}")).collect(),
    )];
    traffic
        .faults
        .push((faulty, Some("inventory-api-2".to_string()), bad));
    let api = hop(
        "inventory-api",
        "GET /items/{id}",
        8.0,
        vec![db(
            "items-db",
            "postgresql",
            "SELECT * FROM items WHERE id = $1",
            3.0,
        )],
    );
    let web = hop("storefront", "GET /product", 5.0, vec![call(api)]);
    (traffic, vec![web])
}

/// Triage of one bad instance among three (`faulty` is the service, or the database whose calls
/// fail from that instance only): `faulty` is the cause, and the instance is named.
async fn triage_of_one_bad_instance(
    instance_key: &'static str,
    faulty: &'static str,
    bad: Fault,
) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let (mut traffic, entries) = three_instances(instance_key, faulty, bad);
    send_traffic(&server, &mut traffic, &entries, 14 * MINUTE, 3).await;
    let r = server.get_json("/api/v1/triage?from=now-3m").await;
    let first = &r["candidates"][0];
    assert_eq!(first["service"], faulty, "{:?} {r}", names(&r));
    assert_eq!(first["instance"], "inventory-api-2", "{first}");
    let instance = first["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "instance")
        .unwrap_or_else(|| panic!("no instance evidence: {first}"));
    assert!(
        instance["detail"]
            .as_str()
            .unwrap()
            .contains("inventory-api-2"),
        "{instance}"
    );
    assert!(
        first["summary"]
            .as_str()
            .unwrap()
            .contains("inventory-api-2"),
        "{first}"
    );
    // The front only passes the fault on.
    assert!(
        rank_of(&r, "storefront").is_none_or(|rank| rank > 0),
        "{:?}",
        names(&r)
    );
    r
}

/// Whether a triage candidate's evidence has one of `kind`.
fn has_evidence(candidate: &serde_json::Value, kind: &str) -> bool {
    candidate["evidence"]
        .as_array()
        .is_some_and(|all| all.iter().any(|e| e["kind"] == kind))
}

#[tokio::test]
async fn triage_names_the_failing_instance_of_three() {
    let r = triage_of_one_bad_instance(
        "service.instance.id",
        "inventory-api",
        Fault {
            error_rate: 0.4,
            extra_ms: 0.0,
        },
    )
    .await;
    let first = &r["candidates"][0];
    assert!(has_evidence(first, "error_rate"), "{first}");
}

#[tokio::test]
async fn triage_names_the_slow_host_of_three() {
    let r = triage_of_one_bad_instance(
        "host.name",
        "inventory-api",
        Fault {
            error_rate: 0.0,
            extra_ms: 250.0,
        },
    )
    .await;
    let first = &r["candidates"][0];
    assert!(has_evidence(first, "latency"), "{first}");
}

/// Only one instance's calls to the database fail (its connections, say): the database is
/// where the errors show, and the instance they come from is named.
#[tokio::test]
async fn triage_names_the_instance_whose_database_calls_fail() {
    let r = triage_of_one_bad_instance(
        "service.instance.id",
        "items-db",
        Fault {
            error_rate: 0.4,
            extra_ms: 0.0,
        },
    )
    .await;
    let first = &r["candidates"][0];
    assert_eq!(first["kind"], "database", "{first}");
    assert!(
        first["summary"]
            .as_str()
            .unwrap()
            .contains("calls from instance inventory-api-2 of inventory-api"),
        "{first}"
    );
}

/// Seven services in two branches under one front: orders → payments → a ledger database,
/// and search → recommendations → stock → a cache; both branches call accounts.
fn two_branches() -> Vec<Hop> {
    let accounts = hop(
        "accounts",
        "GetSession",
        2.0,
        vec![db("sessions-cache", "redis", "GET session", 0.5)],
    );
    let payments = hop(
        "payments",
        "Charge",
        12.0,
        vec![db(
            "ledger-db",
            "postgresql",
            "INSERT INTO ledger (order_id, amount) VALUES ($1, $2)",
            4.0,
        )],
    );
    let orders = hop(
        "orders",
        "PlaceOrder",
        6.0,
        vec![
            db(
                "orders-db",
                "postgresql",
                "INSERT INTO orders (id) VALUES ($1)",
                2.0,
            ),
            call(payments),
        ],
    );
    let stock = hop(
        "stock",
        "CheckStock",
        15.0,
        vec![db("stock-cache", "redis", "HGET stock", 0.8)],
    );
    let recommend = hop(
        "recommendations",
        "Recommend",
        5.0,
        vec![Call::Service {
            hop: stock,
            timeout_ms: Some(300.0),
        }],
    );
    let search = hop("search", "Search", 8.0, vec![call(recommend)]);
    vec![
        hop(
            "frontend",
            "POST /checkout",
            4.0,
            vec![call(accounts.clone()), call(orders)],
        ),
        hop(
            "frontend",
            "GET /search",
            3.0,
            vec![call(accounts), call(search)],
        ),
    ]
}

/// Two faults at once in different branches: payments' calls to its database fail, and stock
/// gets slow (recommendations gives up on some calls). Both causes rank above everything that
/// only shows them because it calls them.
#[tokio::test]
async fn triage_of_two_independent_faults_ranks_both_causes_above_their_callers() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let mut traffic = Traffic::new("service.instance.id", now_ns() - 4 * MINUTE);
    traffic.faults = vec![
        (
            "ledger-db",
            None,
            Fault {
                error_rate: 0.1,
                extra_ms: 0.0,
            },
        ),
        (
            "stock",
            None,
            Fault {
                error_rate: 0.0,
                extra_ms: 280.0,
            },
        ),
    ];
    send_traffic(&server, &mut traffic, &two_branches(), 14 * MINUTE, 2).await;
    let r = server.get_json("/api/v1/triage?from=now-3m").await;
    let ranking = names(&r);
    let rank = |s: &str| {
        rank_of(&r, s).unwrap_or_else(|| panic!("{s} is not a candidate: {ranking:?} {r}"))
    };
    let (db, slow) = (rank("ledger-db"), rank("stock"));
    assert!(
        db < 3 && slow < 3,
        "both causes in the top three: {ranking:?}"
    );
    for symptom in ["payments", "orders", "frontend"] {
        if let Some(s) = rank_of(&r, symptom) {
            assert!(db < s, "ledger-db below {symptom}: {ranking:?}");
        }
    }
    for symptom in ["recommendations", "search", "frontend"] {
        if let Some(s) = rank_of(&r, symptom) {
            assert!(slow < s, "stock below {symptom}: {ranking:?}");
        }
    }
    // Healthy parts are no candidates.
    for healthy in ["accounts", "sessions-cache", "orders-db", "stock-cache"] {
        assert!(rank_of(&r, healthy).is_none(), "{healthy}: {ranking:?}");
    }
    let candidates = r["candidates"].as_array().unwrap();
    let evidence = |i: usize| -> Vec<String> {
        candidates[i]["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(
        evidence(db).contains(&"error_rate".to_string()),
        "{}",
        candidates[db]
    );
    assert!(
        evidence(slow).contains(&"latency".to_string()),
        "{}",
        candidates[slow]
    );
    assert_eq!(candidates[db]["kind"], "database");
    // Each cause's path starts at the front, through the services that pass its fault on.
    let path = |i: usize| -> Vec<&str> {
        candidates[i]["path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect()
    };
    assert_eq!(path(db), ["frontend", "orders", "payments", "ledger-db"]);
    assert_eq!(
        path(slow),
        ["frontend", "search", "recommendations", "stock"]
    );
    // Callers' anomalies are explained by the branch they come from.
    let explained = |service: &str, kind: &str| {
        r["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["service"] == service && a["kind"] == kind)
            .map(|a| a["explained_by"].clone())
    };
    assert_eq!(
        explained("payments", "error_rate"),
        Some("ledger-db".into()),
        "{r}"
    );
    assert_eq!(
        explained("recommendations", "error_rate"),
        Some("stock".into()),
        "{r}"
    );
    let front = explained("frontend", "error_rate").expect("frontend errors");
    assert!(front == "orders" || front == "search", "{front} {r}");
}
