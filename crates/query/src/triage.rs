//! Gathers what [`analysis::triage`] looks at — RED and edge rollups of a window and its
//! baseline, log patterns, versions — and adds example traces and blast radius to the top
//! candidates.

use std::collections::BTreeMap;
use std::time::Instant;

use analysis::triage::{
    self, Candidate, Component, Edge, EntryPointRef, Operation, PatternChange, Red, TriageInput,
    VersionSeen,
};
use analysis::{EDGE_METRIC, RED_METRIC};
use model::TimeRange;
use serde::Serialize;
use serde_json::Value;

use crate::red::{Acc, attr};
use crate::sql::quote;
use crate::{QueryError, QueryService};

const MINUTE_NS: i64 = 60_000_000_000;
/// Candidates that get example traces and entry points.
const DETAILED: usize = 3;

#[derive(Debug, Clone, Serialize)]
pub struct Window {
    pub from_unix_nano: i64,
    pub to_unix_nano: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TriageReport {
    pub window: Window,
    pub baseline: Window,
    pub service: Option<String>,
    pub anomalies: Vec<triage::Anomaly>,
    pub candidates: Vec<Candidate>,
    /// Up to when the data judged is complete: the window ends there when data for its last
    /// moments is still arriving (it is never read as a drop to zero).
    pub complete_to_unix_nano: Option<i64>,
    /// Services still catching up on a backlog (their traffic is not judged).
    pub catching_up: Vec<String>,
    /// What the report could not judge, or that nothing stands out.
    pub note: Option<String>,
    pub took_ms: u64,
}

/// The default baseline: three times the window, right before it, at most a day.
pub fn default_baseline(window: TimeRange) -> TimeRange {
    let len = (window.len_ns() * 3).min(24 * 3600 * 1_000_000_000);
    TimeRange {
        start_ns: window.start_ns.saturating_sub(len),
        end_ns: window.start_ns,
    }
}

/// The part of `requested` whose data is complete: it ends at `complete_to` when that is
/// earlier.
fn judged_window(requested: TimeRange, complete_to: Option<i64>) -> TimeRange {
    let end_ns = complete_to.map_or(requested.end_ns, |c| {
        c.clamp(requested.start_ns, requested.end_ns)
    });
    TimeRange {
        start_ns: requested.start_ns,
        end_ns,
    }
}

/// Says what was left out of the window, and when nothing stands out.
fn report_note(
    requested: TimeRange,
    judged: TimeRange,
    judged_from: i64,
    catching_up: &[String],
    nothing: bool,
) -> Option<String> {
    let left_out_s = (requested.end_ns - judged.end_ns) as f64 / 1e9;
    if judged.end_ns <= judged_from {
        return Some(format!(
            "no complete data in the window yet: spans of its last {left_out_s:.0} s are still arriving"
        ));
    }
    let mut note = Vec::new();
    if left_out_s >= 1.0 {
        note.push(format!(
            "the last {left_out_s:.0} s of the window are not judged: their spans are still arriving"
        ));
    }
    if !catching_up.is_empty() {
        note.push(format!(
            "traffic of {} not judged: still catching up on older spans",
            catching_up.join(", ")
        ));
    }
    if nothing {
        note.push("nothing stands out against the baseline".to_string());
    }
    (!note.is_empty()).then(|| note.join("; "))
}

fn red(a: &Acc) -> Red {
    Red::from_sketch(a.requests, a.errors, &a.sketch)
}

fn text(r: &serde_json::Map<String, Value>, k: &str) -> String {
    r.get(k)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn int(r: &serde_json::Map<String, Value>, k: &str) -> i64 {
    r.get(k).and_then(Value::as_i64).unwrap_or_default()
}

impl QueryService {
    /// Ranked root-cause candidates for a window against a baseline.
    pub async fn triage(
        &self,
        requested: TimeRange,
        baseline: Option<TimeRange>,
        service: Option<&str>,
    ) -> Result<TriageReport, QueryError> {
        let started = Instant::now();
        let completeness = self.rollups_complete().await;
        let complete_to = completeness.as_ref().map(|c| c.complete_to_unix_nano);
        let catching_up: Vec<String> = completeness
            .map(|c| c.catching_up.into_iter().map(|(name, _)| name).collect())
            .unwrap_or_default();
        let window = judged_window(requested, complete_to);
        // Rollups are per minute: judge whole minutes so nothing counts twice.
        let w_start = window.start_ns.div_euclid(MINUTE_NS) * MINUTE_NS;
        let baseline = baseline.unwrap_or_else(|| default_baseline(requested));
        if baseline.end_ns > window.start_ns {
            return Err(QueryError::bad(
                "baseline_to",
                "the baseline must end before the window starts",
            ));
        }
        let b_start = baseline.start_ns.div_euclid(MINUTE_NS) * MINUTE_NS;
        let b_end = baseline.end_ns.div_euclid(MINUTE_NS) * MINUTE_NS;
        let all = TimeRange {
            start_ns: b_start,
            end_ns: window.end_ns,
        };
        let in_window = |t: i64| t >= w_start;
        let in_baseline = |t: i64| t >= b_start && t < b_end && t < w_start;

        // RED per service and per operation (entry spans).
        let mut services: BTreeMap<String, (Acc, Acc)> = BTreeMap::new();
        let mut operations: BTreeMap<(String, String), (Acc, Acc)> = BTreeMap::new();
        for r in self.rollups(RED_METRIC, all, None).await?.iter() {
            let (w, b) = (in_window(r.t), in_baseline(r.t));
            if !w && !b {
                continue;
            }
            let s = services.entry(r.service.clone()).or_default();
            let o = operations
                .entry((r.service.clone(), attr(r, "operation")))
                .or_default();
            if w {
                s.0.add(r);
                o.0.add(r);
            } else {
                s.1.add(r);
                o.1.add(r);
            }
        }
        // Edges, and the dependencies that only show through them.
        let mut edges: BTreeMap<(String, String), (Acc, Acc)> = BTreeMap::new();
        let mut deps: BTreeMap<String, (String, Acc, Acc)> = BTreeMap::new();
        for r in self.rollups(EDGE_METRIC, all, None).await?.iter() {
            let (w, b) = (in_window(r.t), in_baseline(r.t));
            if !w && !b {
                continue;
            }
            let server = attr(r, "server");
            let e = edges
                .entry((attr(r, "client"), server.clone()))
                .or_default();
            if w {
                e.0.add(r)
            } else {
                e.1.add(r)
            }
            let instrumented = r
                .attrs
                .get("server.instrumented")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            if !instrumented {
                let d = deps
                    .entry(server)
                    .or_insert_with(|| (attr(r, "server.kind"), Acc::default(), Acc::default()));
                if w { d.1.add(r) } else { d.2.add(r) }
            }
        }
        if let Some(s) = service
            && !services.contains_key(s)
            && !deps.contains_key(s)
        {
            return Err(QueryError::bad(
                "service",
                format!("no requests of service '{s}' in the window or its baseline"),
            ));
        }

        let mut input = TriageInput {
            window_s: (window.end_ns - w_start) as f64 / 1e9,
            baseline_s: (b_end.max(b_start) - b_start) as f64 / 1e9,
            symptom: service.map(str::to_string),
            catching_up: catching_up.clone(),
            ..Default::default()
        };
        for (name, (w, b)) in &services {
            input.components.push(Component {
                name: name.clone(),
                kind: "service".into(),
                instrumented: true,
                window: red(w),
                baseline: red(b),
            });
        }
        for (name, (kind, w, b)) in &deps {
            if services.contains_key(name) {
                continue;
            }
            input.components.push(Component {
                name: name.clone(),
                kind: kind.clone(),
                instrumented: false,
                window: red(w),
                baseline: red(b),
            });
        }
        for ((from, to), (w, b)) in &edges {
            input.edges.push(Edge {
                from: from.clone(),
                to: to.clone(),
                window: red(w),
                baseline: red(b),
            });
        }
        for ((s, o), (w, b)) in &operations {
            input.operations.push(Operation {
                service: s.clone(),
                operation: o.clone(),
                window: red(w),
                baseline: red(b),
            });
        }

        // Warning-and-above log templates in both periods.
        let sql = format!(
            "SELECT service_name, log_template_id AS id, first_value(log_template) AS template, \
             sum(CASE WHEN time_unix_nano >= {w} THEN 1 ELSE 0 END) AS n, \
             sum(CASE WHEN time_unix_nano < {w} THEN 1 ELSE 0 END) AS prev, max(severity_number) AS sev \
             FROM logs WHERE time_unix_nano >= {b} AND time_unix_nano < {e} AND severity_number >= 13 \
             AND log_template_id IS NOT NULL GROUP BY 1, 2 ORDER BY n DESC LIMIT 200",
            w = window.start_ns,
            b = baseline.start_ns,
            e = window.end_ns
        );
        for r in crate::service::to_json_rows(&self.collect(&sql).await?)? {
            input.patterns.push(PatternChange {
                service: text(&r, "service_name"),
                template_id: text(&r, "id"),
                template: text(&r, "template"),
                count: int(&r, "n") as u64,
                baseline_count: int(&r, "prev") as u64,
                max_severity_number: i32::try_from(int(&r, "sev")).unwrap_or(0),
            });
        }
        // Versions: which ones are new.
        let sql = format!(
            "SELECT service_name, service_version AS v, min(start_time_unix_nano) AS first, \
             sum(CASE WHEN start_time_unix_nano >= {w} THEN 1 ELSE 0 END) AS n, \
             sum(CASE WHEN start_time_unix_nano >= {w} AND status_code = 'ERROR' THEN 1 ELSE 0 END) AS errors \
             FROM spans WHERE start_time_unix_nano >= {b} AND start_time_unix_nano < {e} \
             AND service_version IS NOT NULL AND (parent_span_id = '' OR kind IN ('SERVER', 'CONSUMER')) \
             GROUP BY 1, 2",
            w = window.start_ns,
            b = baseline.start_ns,
            e = window.end_ns
        );
        let rows = crate::service::to_json_rows(&self.collect(&sql).await?)?;
        for r in &rows {
            if int(r, "n") == 0 {
                continue;
            }
            let (svc, first) = (text(r, "service_name"), int(r, "first"));
            // A deploy is a version that replaced another one in the period looked at.
            let replaced = rows
                .iter()
                .any(|o| text(o, "service_name") == svc && int(o, "first") < first);
            input.versions.push(VersionSeen {
                service: svc,
                version: text(r, "v"),
                first_seen_unix_nano: first,
                established: !replaced,
                spans: int(r, "n") as u64,
                errors: int(r, "errors") as u64,
            });
        }

        let mut result = if window.end_ns > w_start {
            triage::analyze(&input)
        } else {
            triage::TriageResult::default()
        };
        for c in result.candidates.iter_mut().take(DETAILED) {
            self.detail(c, window).await?;
            self.instance_of(c, window).await?;
        }
        Ok(TriageReport {
            window: Window {
                from_unix_nano: window.start_ns,
                to_unix_nano: window.end_ns,
            },
            baseline: Window {
                from_unix_nano: baseline.start_ns,
                to_unix_nano: baseline.end_ns,
            },
            service: service.map(str::to_string),
            note: report_note(
                requested,
                window,
                w_start,
                &catching_up,
                result.candidates.is_empty(),
            ),
            catching_up,
            anomalies: result.anomalies,
            candidates: result.candidates,
            complete_to_unix_nano: complete_to,
            took_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }

    /// Example traces, entry points and, for databases, the statement behind a candidate.
    async fn detail(&self, c: &mut Candidate, window: TimeRange) -> Result<(), QueryError> {
        let name = quote(&c.service);
        let spans_of = if c.instrumented {
            format!(
                "service_name = {name} AND (kind IN ('SERVER', 'CONSUMER') OR parent_span_id = '')"
            )
        } else {
            format!(
                "kind IN ('CLIENT', 'PRODUCER') AND {}",
                dependency_spans_sql(&c.service)
            )
        };
        let range = format!(
            "start_time_unix_nano >= {} AND start_time_unix_nano < {}",
            window.start_ns, window.end_ns
        );
        let erroring = c.evidence.iter().any(|e| e.kind == "error_rate");
        let order = if erroring {
            "CASE WHEN status_code = 'ERROR' THEN 0 ELSE 1 END, duration_ns DESC"
        } else {
            "duration_ns DESC"
        };
        let sql = format!(
            "SELECT trace_id, db_query_text FROM spans WHERE {spans_of} AND {range} ORDER BY {order} LIMIT 20"
        );
        let rows = crate::service::to_json_rows(&self.collect(&sql).await?)?;
        let mut ids: Vec<String> = Vec::new();
        for r in &rows {
            let id = text(r, "trace_id");
            if !ids.contains(&id) && ids.len() < 3 {
                ids.push(id);
            }
        }
        if c.kind == "database"
            && let Some(stmt) = rows
                .iter()
                .map(|r| text(r, "db_query_text"))
                .find(|s| !s.is_empty())
        {
            c.operation = Some(stmt.clone());
            c.evidence.push(triage::Evidence {
                kind: "statement".into(),
                detail: format!("slowest or failing statement: {stmt}"),
                before: None,
                after: None,
            });
        }
        c.example_trace_ids = ids;
        // The entry point of a trace is its first server (or consumer) span, where requests
        // entered the system; a trace that started in a browser or a client program has that
        // as its root, named apart. A trace without a server span is entered at its root.
        let entry_first =
            "CASE WHEN kind IN ('SERVER', 'CONSUMER') THEN 0 ELSE 1 END, start_time_unix_nano";
        let sql = format!(
            "WITH e AS (SELECT trace_id, \
               first_value(service_name ORDER BY {entry_first}) AS service, \
               first_value(name ORDER BY {entry_first}) AS op, \
               max(CASE WHEN parent_span_id = '' THEN service_name END) AS root \
             FROM spans WHERE {range} AND (kind IN ('SERVER', 'CONSUMER') OR parent_span_id = '') \
             AND trace_id IN (SELECT DISTINCT trace_id FROM spans WHERE {spans_of} AND {range}) \
             GROUP BY trace_id) \
             SELECT service, op, root, count(*) AS n FROM e GROUP BY 1, 2, 3 ORDER BY n DESC, 1, 2 LIMIT 5"
        );
        c.affected_entry_points = crate::service::to_json_rows(&self.collect(&sql).await?)?
            .iter()
            .map(|r| {
                let service = text(r, "service");
                let root = text(r, "root");
                EntryPointRef {
                    started_in: (!root.is_empty() && root != service).then_some(root),
                    service,
                    operation: text(r, "op"),
                    traces: int(r, "n") as u64,
                }
            })
            .collect();
        Ok(())
    }
}

/// The spans whose dependency (`analysis::node_kind_of`) is the node `name`, as a SQL
/// condition on `spans`: the same attributes in the same order (database, messaging system,
/// `peer.service`, then `server.address` or the host of `url.full`).
pub fn dependency_spans_sql(name: &str) -> String {
    let name = quote(name);
    format!(
        "(CASE \
           WHEN db_system IS NOT NULL THEN coalesce(server_address, db_namespace, db_system) \
           WHEN messaging_system IS NOT NULL THEN coalesce(messaging_destination_name, messaging_system) \
           WHEN peer_service IS NOT NULL THEN peer_service \
           ELSE coalesce(server_address, url_host(url_full)) END) = {name}"
    )
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::Arc;

    use model::SpanRow;

    use super::dependency_spans_sql;
    use crate::QueryService;

    /// For client spans of every naming path, the SQL condition selects exactly the spans that
    /// `analysis::node_kind_of` names each node after.
    #[tokio::test]
    async fn dependency_spans_sql_selects_what_the_service_map_names() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(storage::Store::open(storage::StoreConfig::new(dir.path())).unwrap());
        let q = QueryService::new(Arc::clone(&store), crate::QueryLimits::default()).unwrap();
        let now = model::now_unix_nano() - 1_000_000_000;
        let o = |v: &str| Some(v.to_string());
        let kinds: Vec<fn(&mut SpanRow)> = vec![
            |s| (s.db_system, s.server_address) = (Some("redis".into()), Some("cache".into())),
            |s| (s.db_system, s.db_namespace) = (Some("postgresql".into()), Some("shop".into())),
            |s| s.db_system = Some("sqlite".into()),
            // A database named by its address, with a URL that names another host.
            |s| {
                (s.db_system, s.server_address, s.url_full) = (
                    Some("elasticsearch".into()),
                    Some("search".into()),
                    Some("http://es.example:9200/_search".into()),
                )
            },
            |s| {
                (s.messaging_system, s.messaging_destination_name) =
                    (Some("kafka".into()), Some("orders".into()))
            },
            |s| s.messaging_system = Some("rabbitmq".into()),
            |s| (s.peer_service, s.server_address) = (Some("billing".into()), Some("cache".into())),
            |s| s.server_address = Some("api.stripe.com".into()),
            |s| s.url_full = Some("https://user@API.Stripe.com:443/v1/charges".into()),
            |s| s.url_full = Some("https://hooks.example.net/notify?x=1".into()),
            // A queue named like a host elsewhere is still the queue.
            |s| {
                (s.messaging_system, s.messaging_destination_name) =
                    (Some("sqs".into()), Some("hooks.example.net".into()))
            },
            // Names nothing.
            |s| s.url_full = Some("/relative".into()),
            |_| {},
        ];
        let mut rows = Vec::new();
        for (i, set) in kinds.iter().enumerate() {
            let mut s = SpanRow {
                trace_id: format!("{i:032x}"),
                span_id: format!("{i:016x}"),
                parent_span_id: "00000000000000ff".into(),
                name: "call".into(),
                kind: if i % 2 == 0 { "CLIENT" } else { "PRODUCER" }.into(),
                status_code: "UNSET".into(),
                start_time_unix_nano: now,
                end_time_unix_nano: now + 1_000,
                duration_ns: 1_000,
                attributes: "{}".into(),
                events: "[]".into(),
                links: "[]".into(),
                ..SpanRow::default()
            };
            s.resource.service_name = o("api").unwrap();
            set(&mut s);
            rows.push(s);
        }
        let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for s in &rows {
            if let Some((name, _)) = analysis::node_kind_of(s) {
                expected.entry(name).or_default().insert(s.span_id.clone());
            }
        }
        assert_eq!(expected.len(), 9, "{expected:?}");
        assert_eq!(expected["api.stripe.com"].len(), 2);
        assert_eq!(expected["hooks.example.net"].len(), 2);
        assert_eq!(expected["cache"].len(), 1);
        store.append(model::Batch::Spans(rows)).await.unwrap();
        for (name, ids) in &expected {
            let sql = format!(
                "SELECT span_id FROM spans WHERE {}",
                dependency_spans_sql(name)
            );
            let found: BTreeSet<String> = q
                .sql(&sql)
                .await
                .unwrap()
                .rows
                .iter()
                .map(|r| r[0].as_str().unwrap().to_string())
                .collect();
            assert_eq!(&found, ids, "{name}");
        }
    }
}
