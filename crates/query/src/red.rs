//! RED, service map and blast radius, answered from the rollups derived at ingest
//! (see the `analysis` crate), not by scanning spans.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use analysis::{
    DistinctSample, EDGE_METRIC, REACH_DISTINCT_METRIC, REACH_METRIC, RED_METRIC, Sketch,
};
use model::TimeRange;
use serde::Serialize;
use serde_json::Value;

use crate::rollup::Rollup;
use crate::{QueryError, QueryService};

#[derive(Debug, Clone, Default, Serialize)]
pub struct RedPoint {
    pub t: i64,
    pub requests: u64,
    pub errors: u64,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// The step reaches past the data's watermark: spans of it are still to come, so a drop
    /// in it means nothing yet.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RedSeries {
    pub service: String,
    pub operation: String,
    pub points: Vec<RedPoint>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RedTotal {
    pub service: String,
    pub operation: String,
    pub requests: u64,
    pub errors: u64,
    pub error_rate: f64,
    pub rate_per_s: f64,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    /// In totals only: what a period is compared with the one before it on (the home page).
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RedResponse {
    pub step_ns: i64,
    pub series: Vec<RedSeries>,
    pub totals: Vec<RedTotal>,
    #[serde(flatten)]
    pub watermark: Watermark,
}

/// Up to when an answer's data is complete (see [`crate::QueryService::watermark`]).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Watermark {
    /// Spans are complete up to here (unix ns); `None` when no ingest runs beside the query
    /// service (the stored rollups are all there is).
    pub complete_to_unix_nano: Option<i64>,
    /// Services still sending a backlog of older spans: their numbers are still to grow.
    pub catching_up: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MapNode {
    pub name: String,
    /// `service`, `database`, `messaging` or `external`.
    pub kind: String,
    pub instrumented: bool,
    pub requests: u64,
    pub errors: u64,
    pub error_rate: f64,
    pub rate_per_s: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MapEdge {
    pub from: String,
    pub to: String,
    pub requests: u64,
    pub errors: u64,
    pub error_rate: f64,
    pub rate_per_s: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceMap {
    pub nodes: Vec<MapNode>,
    pub edges: Vec<MapEdge>,
    #[serde(flatten)]
    pub watermark: Watermark,
}

#[derive(Debug, Clone, Serialize)]
pub struct EntryPoint {
    pub service: String,
    pub operation: String,
    pub traces: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BlastRadius {
    pub service: String,
    pub operation: Option<String>,
    /// Every service that calls it, directly or through others.
    pub upstream_services: Vec<String>,
    pub entry_points: Vec<EntryPoint>,
    pub traces: u64,
    pub users: u64,
    pub sessions: u64,
}

#[derive(Default)]
pub(crate) struct Acc {
    pub(crate) requests: u64,
    pub(crate) errors: u64,
    pub(crate) sketch: Sketch,
}

impl Acc {
    pub(crate) fn add(&mut self, r: &Rollup) {
        self.requests += r.requests;
        if r.error {
            self.errors += r.requests;
        }
        r.merge_into(&mut self.sketch);
    }

    fn rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.errors as f64 / self.requests as f64
        }
    }
}

pub(crate) fn attr(r: &Rollup, key: &str) -> String {
    r.attr(key).to_string()
}

impl QueryService {
    /// RED per service (no `service`) or per operation of a service, over time and in total.
    pub async fn red(
        &self,
        range: TimeRange,
        service: Option<&str>,
        operation: Option<&str>,
        step_ns: i64,
    ) -> Result<RedResponse, QueryError> {
        if let Some(s) = service {
            self.reads
                .record(model::Signal::Spans, crate::ReadKind::Service, s);
        }
        let step = step_ns.max(60_000_000_000);
        let watermark = self.watermark().await;
        let complete_to = watermark.complete_to_unix_nano.unwrap_or(i64::MAX);
        let rows = self.rollups(RED_METRIC, range, service).await?;
        // Per (service, operation): accumulators per step and in total.
        type Steps = (BTreeMap<i64, Acc>, Acc);
        let mut series: BTreeMap<(&str, &str), Steps> = BTreeMap::new();
        for r in rows.iter() {
            let op = r.attr("operation");
            if operation.is_some_and(|o| o != op) {
                continue;
            }
            let key = (r.service.as_str(), if service.is_some() { op } else { "" });
            let t = r.t.div_euclid(step) * step;
            let (steps, total) = series.entry(key).or_default();
            steps.entry(t).or_default().add(r);
            total.add(r);
        }
        let totals: Vec<((String, String), Acc)> = series
            .iter_mut()
            .map(|((s, o), (_, total))| ((s.to_string(), o.to_string()), std::mem::take(total)))
            .collect();
        // A service with no requests in the range is told apart from one never seen at all: a
        // page of zeros for a mistyped name would read as a service that went quiet.
        if let Some(name) = service
            && series.is_empty()
            && !self.service_exists(name).await?
        {
            return Err(QueryError::NotFound(format!("service {name}")));
        }
        let secs = complete_len_secs(range, complete_to);
        Ok(RedResponse {
            watermark,
            step_ns: step,
            series: series
                .into_iter()
                .map(|((service, operation), (steps, _))| RedSeries {
                    service: service.to_string(),
                    operation: operation.to_string(),
                    points: steps
                        .into_iter()
                        .map(|(t, a)| RedPoint {
                            t,
                            requests: a.requests,
                            errors: a.errors,
                            p50_ms: a.sketch.quantile(0.5),
                            p90_ms: a.sketch.quantile(0.9),
                            p99_ms: a.sketch.quantile(0.99),
                            partial: t.saturating_add(step) > complete_to,
                        })
                        .collect(),
                })
                .collect(),
            totals: totals
                .into_iter()
                .map(|((service, operation), a)| RedTotal {
                    service,
                    operation,
                    requests: a.requests,
                    errors: a.errors,
                    error_rate: a.rate(),
                    rate_per_s: a.requests as f64 / secs,
                    p50_ms: a.sketch.quantile(0.5),
                    p90_ms: a.sketch.quantile(0.9),
                    p95_ms: a.sketch.quantile(0.95),
                    p99_ms: a.sketch.quantile(0.99),
                })
                .collect(),
        })
    }

    /// Brings the rollups up to date and says up to when they are complete.
    pub async fn watermark(&self) -> Watermark {
        match self.rollups_complete().await {
            Some(c) => Watermark {
                complete_to_unix_nano: Some(c.complete_to_unix_nano),
                catching_up: c.catching_up.into_iter().map(|(name, _)| name).collect(),
            },
            None => Watermark::default(),
        }
    }

    /// Services and their dependencies with RED per node and edge.
    pub async fn service_map(&self, range: TimeRange) -> Result<ServiceMap, QueryError> {
        let watermark = self.watermark().await;
        let secs = complete_len_secs(range, watermark.complete_to_unix_nano.unwrap_or(i64::MAX));
        let mut nodes: BTreeMap<String, (String, bool, Acc)> = BTreeMap::new();
        for r in self.rollups(RED_METRIC, range, None).await?.iter() {
            nodes
                .entry(r.service.clone())
                .or_insert_with(|| ("service".into(), true, Acc::default()))
                .2
                .add(r);
        }
        let mut edges: BTreeMap<(String, String), Acc> = BTreeMap::new();
        for r in self.rollups(EDGE_METRIC, range, None).await?.iter() {
            let server = attr(r, "server");
            let instrumented = r
                .attrs
                .get("server.instrumented")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            edges
                .entry((attr(r, "client"), server.clone()))
                .or_default()
                .add(r);
            let node = nodes
                .entry(server)
                .or_insert_with(|| (attr(r, "server.kind"), instrumented, Acc::default()));
            if !instrumented {
                // An uninstrumented node's RED is what its callers saw.
                node.2.add(r);
            }
            nodes
                .entry(attr(r, "client"))
                .or_insert_with(|| ("service".into(), true, Acc::default()));
        }
        Ok(ServiceMap {
            watermark,
            nodes: nodes
                .into_iter()
                .map(|(name, (kind, instrumented, a))| MapNode {
                    name,
                    kind,
                    instrumented,
                    requests: a.requests,
                    errors: a.errors,
                    error_rate: a.rate(),
                    rate_per_s: a.requests as f64 / secs,
                    p50_ms: a.sketch.quantile(0.5),
                    p99_ms: a.sketch.quantile(0.99),
                })
                .collect(),
            edges: edges
                .into_iter()
                .map(|((from, to), a)| MapEdge {
                    from,
                    to,
                    requests: a.requests,
                    errors: a.errors,
                    error_rate: a.rate(),
                    rate_per_s: a.requests as f64 / secs,
                    p50_ms: a.sketch.quantile(0.5),
                    p99_ms: a.sketch.quantile(0.99),
                })
                .collect(),
        })
    }

    /// Who depends on a service (or one of its operations) in the window.
    pub async fn blast_radius(
        &self,
        range: TimeRange,
        service: &str,
        operation: Option<&str>,
    ) -> Result<BlastRadius, QueryError> {
        // Traces are counted per service (and entry operation) and entry point at ingest, once
        // each trace has gone quiet; users and sessions as distinct-value samples.
        let (map, reach, distinct) = tokio::try_join!(
            self.service_map(range),
            self.rollups(REACH_METRIC, range, Some(service)),
            self.rollups(REACH_DISTINCT_METRIC, range, Some(service))
        )?;
        let mut callers: HashMap<&str, Vec<&str>> = HashMap::new();
        for e in &map.edges {
            callers
                .entry(e.to.as_str())
                .or_default()
                .push(e.from.as_str());
        }
        let mut upstream = BTreeSet::new();
        let mut stack = vec![service];
        while let Some(s) = stack.pop() {
            for c in callers.get(s).into_iter().flatten() {
                if *c != service && upstream.insert(c.to_string()) {
                    stack.push(c);
                }
            }
        }
        let op = operation.unwrap_or("");
        let mut traces = 0u64;
        let mut entries: HashMap<(String, String), u64> = HashMap::new();
        for r in reach.iter().filter(|r| r.attr("operation") == op) {
            traces += r.requests;
            let root = r.attr("root.service");
            if !root.is_empty() {
                *entries
                    .entry((root.to_string(), r.attr("root.operation").to_string()))
                    .or_default() += r.requests;
            }
        }
        let (mut users, mut sessions) = (DistinctSample::default(), DistinctSample::default());
        for r in distinct.iter().filter(|r| r.attr("operation") == op) {
            match r.attr("kind") {
                "users" => users.merge(r.hashes()),
                "sessions" => sessions.merge(r.hashes()),
                _ => {}
            }
        }
        // Traces whose root is outside the window have no known entry point.
        let mut entry_points: Vec<EntryPoint> = entries
            .into_iter()
            .map(|((service, operation), traces)| EntryPoint {
                service,
                operation,
                traces,
            })
            .collect();
        entry_points.sort_by(|a, b| {
            b.traces
                .cmp(&a.traces)
                .then_with(|| (&a.service, &a.operation).cmp(&(&b.service, &b.operation)))
        });
        entry_points.truncate(50);
        Ok(BlastRadius {
            service: service.to_string(),
            operation: operation.map(str::to_string),
            upstream_services: upstream.into_iter().collect(),
            entry_points,
            traces,
            users: users.estimate(),
            sessions: sessions.estimate(),
        })
    }
}

/// The seconds of `range` up to the watermark (rates are per second of complete data).
fn complete_len_secs(range: TimeRange, complete_to: i64) -> f64 {
    let end = range.end_ns.min(complete_to).max(range.start_ns + 1);
    (end - range.start_ns) as f64 / 1e9
}
