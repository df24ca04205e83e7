//! Services, one service's overview, and the dependency graph.

use std::collections::HashMap;

use serde_json::Value;

use super::{f64_of, opt_f64, severity_name, str_of, u64_of};
use crate::ctx::Ctx;
use crate::error::ToolError;
use crate::params::{self, DependenciesArgs, ListServicesArgs, ServiceArgs};
use crate::render::{DEFAULT_BUDGET, Doc, Table, cell, fmt_opt_ms, fmt_pct, fmt_rate, sparkline};
use crate::suggest;
use crate::window::utc_time_of_day;

/// RED totals of the API keyed by service (or by operation when asked for one service).
fn totals_by(red: &Value, key: &str) -> HashMap<String, Value> {
    red["totals"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|t| (str_of(t, key).to_string(), t.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// `rate · errors · p50 · p99` cells of a RED total (or dashes without one).
fn red_cells(total: Option<&Value>) -> Vec<String> {
    match total {
        Some(t) => vec![
            fmt_rate(f64_of(t, "rate_per_s")),
            fmt_pct(f64_of(t, "error_rate")),
            fmt_opt_ms(opt_f64(t, "p50_ms")),
            fmt_opt_ms(opt_f64(t, "p99_ms")),
        ],
        None => vec!["–".into(), "–".into(), "–".into(), "–".into()],
    }
}

pub async fn list_services(ctx: &Ctx, args: ListServicesArgs) -> Result<String, ToolError> {
    let window = ctx.window(&args.window)?;
    let limit = params::limit(args.limit, 30, 200)?;
    let q = window.query();
    let (services, red) = tokio::join!(ctx.get("/api/v1/services", &q), ctx.get("/api/v1/red", &q));
    let services = services?;
    // RED rollups are a bonus: without them the counts still answer the question.
    let red = red.unwrap_or(Value::Null);
    let totals = totals_by(&red, "service");
    let mut list: Vec<&Value> = services["services"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let requests = |s: &Value| {
        totals
            .get(str_of(s, "name"))
            .map_or(0, |t| u64_of(t, "requests"))
    };
    list.sort_by(|a, b| {
        requests(b)
            .cmp(&requests(a))
            .then(str_of(a, "name").cmp(str_of(b, "name")))
    });

    let mut doc = Doc::new(DEFAULT_BUDGET);
    doc.line(window.header());
    doc.line(format!(
        "{} services with data in this window{}; RED = entry spans (server/consumer/root), sorted by request rate",
        list.len(),
        if list.len() > limit {
            format!(" ({limit} shown)")
        } else {
            String::new()
        }
    ));
    if list.is_empty() {
        doc.line("no telemetry in this window: widen `from` (e.g. now-24h) or check that senders point at this server");
        return Ok(doc.finish());
    }
    let mut table = Table::new(&[
        "service",
        "req/s",
        "errors",
        "p50",
        "p99",
        "spans",
        "logs",
        "metric pts",
        "last seen",
    ]);
    for s in list.iter().take(limit) {
        let name = str_of(s, "name");
        let mut row = vec![cell(name, 40)];
        row.extend(red_cells(totals.get(name)));
        row.push(u64_of(s, "spans").to_string());
        row.push(u64_of(s, "logs").to_string());
        row.push(u64_of(s, "metric_points").to_string());
        row.push(utc_time_of_day(
            s["last_seen_unix_nano"].as_i64().unwrap_or(0),
        ));
        table.row(row);
    }
    doc.table(&table, 300);
    doc.line(format!(
        "UI: {} · one service: {}/service/<name>?{} (or call service_overview)",
        ctx.link(&format!("/services?{}", window.ui_query())),
        ctx.ui_base,
        window.ui_query()
    ));
    Ok(doc.finish())
}

pub async fn service_overview(ctx: &Ctx, args: ServiceArgs) -> Result<String, ToolError> {
    let window = ctx.window(&args.window)?;
    let limit = params::limit(args.limit, 5, 20)?;
    let service = args.service.trim().to_string();
    if service.is_empty() {
        return Err(ToolError::bad(
            "service",
            "is required; call list_services for names",
        ));
    }
    let services = ctx.get("/api/v1/services", &window.query()).await?;
    let me = services["services"]
        .as_array()
        .and_then(|a| a.iter().find(|s| str_of(s, "name") == service))
        .cloned();
    let Some(me) = me else {
        let known = services["services"]
            .as_array()
            .map(|a| a.iter().map(|s| str_of(s, "name").to_string()).collect())
            .unwrap_or_default();
        return Err(ctx.missing_service(&service, &window, known).await);
    };

    let q = window.query();
    let mut q_svc = q.clone();
    q_svc.push(("service", service.clone()));
    let mut q_err = q_svc.clone();
    q_err.push(("status", "error".into()));
    q_err.push(("limit", limit.to_string()));
    let mut q_pat = q_svc.clone();
    q_pat.push(("limit", limit.to_string()));
    let (red_all, red_ops, map, errors, patterns) = tokio::join!(
        ctx.get("/api/v1/red", &q),
        ctx.get("/api/v1/red", &q_svc),
        ctx.get("/api/v1/service-map", &q),
        ctx.get("/api/v1/traces", &q_err),
        ctx.get("/api/v1/logs/patterns", &q_pat),
    );
    let red_all = red_all.unwrap_or(Value::Null);
    let total = totals_by(&red_all, "service").remove(&service);

    let mut doc = Doc::new(DEFAULT_BUDGET);
    doc.line(window.header());
    let red_text = match &total {
        Some(t) => format!(
            "{} requests ({}) · errors {} · p50 {} · p90 {} · p99 {}",
            u64_of(t, "requests"),
            fmt_rate(f64_of(t, "rate_per_s")),
            fmt_pct(f64_of(t, "error_rate")),
            fmt_opt_ms(opt_f64(t, "p50_ms")),
            fmt_opt_ms(opt_f64(t, "p90_ms")),
            fmt_opt_ms(opt_f64(t, "p99_ms")),
        ),
        None => "no entry spans (RED) in this window".to_string(),
    };
    doc.line(format!(
        "service {service}: {red_text} · {} spans · {} logs · {} metric points",
        u64_of(&me, "spans"),
        u64_of(&me, "logs"),
        u64_of(&me, "metric_points")
    ));
    doc.line(format!(
        "UI: {}",
        ctx.link(&format!(
            "/service/{}?{}",
            form_path(&service),
            window.ui_query()
        ))
    ));

    overview_operations(&mut doc, &red_ops.unwrap_or(Value::Null), limit);
    if let Ok(map) = map {
        overview_edges(&mut doc, &map, &service);
    }
    if let Ok(errors) = errors {
        overview_error_traces(ctx, &mut doc, &errors);
    }
    if let Ok(patterns) = patterns {
        overview_patterns(&mut doc, &patterns);
    }
    Ok(doc.finish())
}

/// Top operations with a sparkline of their request rate.
fn overview_operations(doc: &mut Doc, red_ops: &Value, limit: usize) {
    let mut ops: Vec<Value> = red_ops["totals"].as_array().cloned().unwrap_or_default();
    ops.sort_by_key(|o| std::cmp::Reverse(u64_of(o, "requests")));
    let series: HashMap<String, Vec<f64>> = red_ops["series"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    let points = s["points"]
                        .as_array()
                        .map(|p| p.iter().map(|x| f64_of(x, "requests")).collect())
                        .unwrap_or_default();
                    (str_of(s, "operation").to_string(), points)
                })
                .collect()
        })
        .unwrap_or_default();
    doc.line(format!(
        "\n## top operations ({} of {})",
        ops.len().min(limit),
        ops.len()
    ));
    if !ops.is_empty() {
        let mut table = Table::new(&[
            "operation",
            "req/s",
            "errors",
            "p50",
            "p99",
            "requests over time",
        ]);
        for o in ops.iter().take(limit) {
            let op = str_of(o, "operation");
            let mut row = vec![cell(op, 60)];
            row.extend(red_cells(Some(o)));
            row.push(sparkline(series.get(op).map_or(&[][..], Vec::as_slice), 12));
            table.row(row);
        }
        doc.table(&table, 2_500);
    }
}

/// Callers and dependencies from the service graph.
fn overview_edges(doc: &mut Doc, map: &Value, service: &str) {
    let kinds: HashMap<&str, (&str, bool)> = map["nodes"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|n| {
                    (
                        str_of(n, "name"),
                        (
                            str_of(n, "kind"),
                            n["instrumented"].as_bool().unwrap_or(true),
                        ),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut table = Table::new(&["direction", "peer", "kind", "req/s", "errors", "p50", "p99"]);
    for e in map["edges"].as_array().into_iter().flatten() {
        let (direction, peer) = if str_of(e, "to") == service {
            ("upstream (calls it)", str_of(e, "from"))
        } else if str_of(e, "from") == service {
            ("downstream (it calls)", str_of(e, "to"))
        } else {
            continue;
        };
        let (kind, instrumented) = kinds.get(peer).copied().unwrap_or(("service", true));
        let mut row = vec![
            direction.to_string(),
            cell(peer, 50),
            node_kind(kind, instrumented),
        ];
        row.extend(red_cells(Some(e)));
        table.row(row);
    }
    doc.line(format!(
        "\n## upstream and downstream ({} edges)",
        table.len()
    ));
    if !table.is_empty() {
        doc.table(&table, 2_000);
    }
}

/// Recent failing traces.
fn overview_error_traces(ctx: &Ctx, doc: &mut Doc, errors: &Value) {
    let traces = errors["traces"].as_array().cloned().unwrap_or_default();
    doc.line(format!(
        "\n## recent error traces ({}{})",
        traces.len(),
        if errors["next_cursor"].is_string() {
            ", more exist: find_traces status=error"
        } else {
            ""
        }
    ));
    if !traces.is_empty() {
        let mut table = Table::new(&["trace_id", "start", "root", "duration", "spans", "errors"]);
        for t in &traces {
            table.row(vec![
                str_of(t, "trace_id").to_string(),
                utc_time_of_day(t["start_time_unix_nano"].as_i64().unwrap_or(0)),
                cell(
                    &format!("{} · {}", str_of(t, "root_service"), str_of(t, "root_name")),
                    70,
                ),
                crate::render::fmt_ns(t["duration_ns"].as_i64().unwrap_or(0)),
                u64_of(t, "span_count").to_string(),
                u64_of(t, "error_count").to_string(),
            ]);
        }
        doc.table(&table, 1_200);
        doc.line(format!(
            "trace page: {}/trace/<trace_id> (or call get_trace)",
            ctx.ui_base
        ));
    }
}

/// Most frequent log patterns.
fn overview_patterns(doc: &mut Doc, patterns: &Value) {
    let list = patterns["patterns"].as_array().cloned().unwrap_or_default();
    doc.line(format!("\n## top log patterns ({})", list.len()));
    if !list.is_empty() {
        let mut table = Table::new(&["template_id", "count", "previous", "severity", "template"]);
        for p in &list {
            table.row(vec![
                cell(str_of(p, "template_id"), 24),
                u64_of(p, "count").to_string(),
                if p["is_new"].as_bool().unwrap_or(false) {
                    "new".to_string()
                } else {
                    u64_of(p, "previous_count").to_string()
                },
                severity_name(p["max_severity_number"].as_i64().unwrap_or(0)).to_string(),
                cell(str_of(p, "template"), 140),
            ]);
        }
        doc.table(&table, 100);
    }
}

/// `database (uninstrumented)` and friends.
fn node_kind(kind: &str, instrumented: bool) -> String {
    let kind = if kind.is_empty() { "service" } else { kind };
    if instrumented {
        kind.to_string()
    } else {
        format!("{kind} (uninstrumented)")
    }
}

/// A path segment with the characters a URL path cannot carry encoded.
pub fn form_path(segment: &str) -> String {
    let encoded: String = form_urlencoded::byte_serialize(segment.as_bytes()).collect();
    encoded.replace('+', "%20")
}

pub async fn get_dependencies(ctx: &Ctx, args: DependenciesArgs) -> Result<String, ToolError> {
    let window = ctx.window(&args.window)?;
    let limit = params::limit(args.limit, 30, 200)?;
    let map = ctx.get("/api/v1/service-map", &window.query()).await?;
    let nodes: Vec<Value> = map["nodes"].as_array().cloned().unwrap_or_default();
    let focus = params::given(&args.service).map(str::to_string);
    if let Some(f) = &focus
        && !nodes.iter().any(|n| str_of(n, "name") == f)
    {
        let known: Vec<String> = nodes
            .iter()
            .map(|n| str_of(n, "name").to_string())
            .collect();
        if known.is_empty() {
            return Err(ctx.missing_service(f, &window, known).await);
        }
        return Err(ToolError::NotFound(suggest::unknown(
            "service",
            f,
            &known,
            "call get_dependencies without `service` to see the graph",
        )));
    }
    let node_info: HashMap<&str, &Value> = nodes.iter().map(|n| (str_of(n, "name"), n)).collect();

    let mut doc = Doc::new(DEFAULT_BUDGET);
    doc.line(window.header());
    let mut edges: Vec<&Value> = map["edges"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    if let Some(f) = &focus {
        edges.retain(|e| str_of(e, "from") == f || str_of(e, "to") == f);
    }
    edges.sort_by(|a, b| f64_of(b, "rate_per_s").total_cmp(&f64_of(a, "rate_per_s")));
    let uninstrumented = nodes
        .iter()
        .filter(|n| !n["instrumented"].as_bool().unwrap_or(true))
        .count();
    doc.line(format!(
        "{} nodes ({} uninstrumented: databases, queues, external hosts seen only from client spans) · {} edges{}",
        nodes.len(),
        uninstrumented,
        edges.len(),
        focus.as_ref().map(|f| format!(" touching {f}")).unwrap_or_default()
    ));
    if edges.is_empty() {
        doc.line("no calls between services in this window: widen `from`, or the services make no instrumented client calls");
    } else {
        let mut table = Table::new(&["from", "to", "to kind", "req/s", "errors", "p50", "p99"]);
        for e in edges.iter().take(limit) {
            let to = str_of(e, "to");
            let kind = node_info.get(to).map_or_else(
                || "service".to_string(),
                |n| {
                    node_kind(
                        str_of(n, "kind"),
                        n["instrumented"].as_bool().unwrap_or(true),
                    )
                },
            );
            let mut row = vec![cell(str_of(e, "from"), 40), cell(to, 50), kind];
            row.extend(red_cells(Some(e)));
            table.row(row);
        }
        if edges.len() > limit {
            doc.line(format!("{limit} busiest of {} edges shown", edges.len()));
        }
        doc.table(&table, if focus.is_some() { 2_000 } else { 300 });
    }

    if let Some(f) = &focus {
        let mut q = window.query();
        q.push(("service", f.clone()));
        match ctx.get("/api/v1/blast-radius", &q).await {
            Ok(b) => render_blast_radius(&mut doc, &b, limit),
            Err(e) => doc.line(format!("blast radius unavailable: {e}")),
        }
    }
    doc.line(format!(
        "UI: {}",
        ctx.link(&format!("/map?{}", window.ui_query()))
    ));
    Ok(doc.finish())
}

fn render_blast_radius(doc: &mut Doc, b: &Value, limit: usize) {
    let upstream: Vec<String> = b["upstream_services"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|s| cell(s, 40))
                .collect()
        })
        .unwrap_or_default();
    doc.line(format!(
        "\n## blast radius of {}: {} traces · {} users · {} sessions involved",
        str_of(b, "service"),
        u64_of(b, "traces"),
        u64_of(b, "users"),
        u64_of(b, "sessions")
    ));
    doc.line(format!(
        "upstream services (direct and indirect callers): {}",
        if upstream.is_empty() {
            "none".to_string()
        } else {
            upstream.join(", ")
        }
    ));
    let entries = b["entry_points"].as_array().cloned().unwrap_or_default();
    if !entries.is_empty() {
        let mut table = Table::new(&["entry service", "entry operation", "traces"]);
        for e in entries.iter().take(limit) {
            table.row(vec![
                cell(str_of(e, "service"), 40),
                cell(str_of(e, "operation"), 80),
                u64_of(e, "traces").to_string(),
            ]);
        }
        doc.table(&table, 200);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(form_path("check out/v2"), "check%20out%2Fv2");
        assert_eq!(node_kind("database", false), "database (uninstrumented)");
    }
}
