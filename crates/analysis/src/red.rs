//! RED rollups and service-graph edges from spans, aggregated per minute at ingest.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use model::{MetricPointRow, Resource, SpanRow};
use serde_json::json;

use crate::sketch::{Sketch, bounds};

/// Per service, operation, span kind and error flag: requests and durations.
pub const RED_METRIC: &str = "redscope.red.duration";
/// Per caller and callee: calls and durations as seen by the caller.
pub const EDGE_METRIC: &str = "redscope.edge.duration";

const MINUTE_NS: i64 = 60_000_000_000;
/// How long a client span waits for its server-side child before the callee is taken to be
/// uninstrumented.
const MATCH_WINDOW: Duration = Duration::from_secs(10);
const MAX_PENDING: usize = 200_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RedKey {
    minute: i64,
    service: String,
    operation: String,
    kind: String,
    error: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
    seen: Instant,
}

#[derive(Debug, Clone)]
struct PendingServer {
    service: String,
    error: bool,
    seen: Instant,
}

/// Aggregates spans into RED and edge rollups; see the crate docs.
#[derive(Debug, Default)]
pub struct RedAggregator {
    red: HashMap<RedKey, Sketch>,
    edges: HashMap<EdgeKey, Sketch>,
    clients: HashMap<(String, String), PendingClient>,
    servers: HashMap<(String, String), PendingServer>,
    /// Spans not matched because the pending tables were full.
    pub dropped_pending: u64,
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
    span.status_code == "ERROR"
        || (span.kind == "SERVER" && span.http_response_status_code.is_some_and(|c| c >= 500))
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
    span.server_address.clone().map(|a| (a, "external"))
}

impl RedAggregator {
    /// Counts accepted spans.
    pub fn observe(&mut self, spans: &[SpanRow]) {
        let now = Instant::now();
        for span in spans {
            let service = &span.resource.service_name;
            let minute = span.start_time_unix_nano.div_euclid(MINUTE_NS) * MINUTE_NS;
            let duration_ms = span.duration_ns as f64 / 1e6;
            let error = is_error(span);
            let entry_like = matches!(span.kind.as_str(), "SERVER" | "CONSUMER")
                || span.parent_span_id.is_empty();
            if entry_like {
                let key = RedKey {
                    minute,
                    service: service.clone(),
                    operation: operation_of(span),
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

    /// Settles client spans whose callee never reported (uninstrumented dependencies), then
    /// returns the rollup rows gathered so far and starts over. `settle_before` is a wall-clock
    /// bound in nanoseconds: `i64::MAX` settles everything (at shutdown).
    pub fn drain(&mut self, settle_before: i64) -> Vec<MetricPointRow> {
        let now = Instant::now();
        let settle_all = settle_before == i64::MAX;
        let expired: Vec<(String, String)> = self
            .clients
            .iter()
            .filter(|(_, c)| settle_all || now.duration_since(c.seen) >= MATCH_WINDOW)
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
            .retain(|_, s| !settle_all && now.duration_since(s.seen) < MATCH_WINDOW);

        let mut rows = Vec::with_capacity(self.red.len() + self.edges.len());
        for (k, s) in self.red.drain() {
            let attrs = json!({"operation": k.operation, "span.kind": k.kind, "error": k.error});
            rows.push(row(RED_METRIC, &k.service, k.minute, &attrs, &s));
        }
        for (k, s) in self.edges.drain() {
            let attrs = json!({"client": k.client, "server": k.server, "server.kind": k.server_kind, "server.instrumented": k.instrumented, "error": k.error});
            rows.push(row(EDGE_METRIC, &k.client, k.minute, &attrs, &s));
        }
        rows
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
        resource: Resource {
            service_name: service.to_string(),
            resource_attributes: json!({"service.name": service}).to_string(),
            scope_name: "redscope.analysis".to_string(),
            ..Resource::default()
        },
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
}
