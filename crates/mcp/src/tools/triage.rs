//! Ranked root-cause candidates from `GET /api/v1/triage`, rendered so an agent starts from
//! the best hypothesis with its evidence. Tolerant of missing fields: every one is optional.

use serde_json::Value;

use super::{str_of, u64_of};
use crate::backend::BackendError;
use crate::ctx::Ctx;
use crate::error::ToolError;
use crate::params::{self, TriageArgs};
use crate::render::{DEFAULT_BUDGET, Doc, Table, cell, fenced, fmt_num};
use crate::window::{Window, utc};

const EVIDENCE_CANDIDATES: usize = 3;

/// A before/after value as text: numbers compact, strings as they are, `–` when absent.
fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "–".to_string(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), fmt_num),
        Value::String(s) => cell(s, 40),
        other => cell(&other.to_string(), 40),
    }
}

fn score(v: &Value) -> String {
    v["score"]
        .as_f64()
        .map_or_else(|| "–".to_string(), |s| format!("{s:.2}"))
}

fn operation(v: &Value) -> String {
    v["operation"]
        .as_str()
        .map(|o| cell(o, 60))
        .unwrap_or_else(|| "–".to_string())
}

pub async fn triage(ctx: &Ctx, args: TriageArgs) -> Result<String, ToolError> {
    let window = ctx.window(&args.window)?;
    let limit = params::limit(args.limit, 10, 30)?;
    let mut q = window.query();
    let service = params::given(&args.service);
    if let Some(s) = service {
        q.push(("service", s.to_string()));
    }
    let answer = match ctx.backend.get("/api/v1/triage", &q).await {
        Ok(v) => v,
        Err(BackendError::Api {
            status: 404,
            message,
            ..
        }) if message.contains("no such route") => {
            return Err(ToolError::NotFound(
                "triage is not available on this redscope server (it has no GET /api/v1/triage); update redscope, and meanwhile use service_overview, log_patterns and get_dependencies"
                    .to_string(),
            ));
        }
        Err(e) => {
            // An unknown service deserves a suggestion, whatever the endpoint said.
            if let Some(s) = service {
                ctx.check_service(s, &window).await?;
            }
            return Err(e.into());
        }
    };
    Ok(render(ctx, &window, &answer, limit))
}

/// The triage answer as markdown (pure, for tests).
pub fn render(ctx: &Ctx, window: &Window, answer: &Value, limit: usize) -> String {
    let mut doc = Doc::new(DEFAULT_BUDGET);
    doc.line(window.header());
    let baseline = &answer["baseline"];
    let baseline_text = match (
        baseline["from_unix_nano"].as_i64(),
        baseline["to_unix_nano"].as_i64(),
    ) {
        (Some(f), Some(t)) => format!("{} → {}", utc(f), utc(t)),
        _ => "the server's default".to_string(),
    };
    let anomalies = answer["anomalies"].as_array().cloned().unwrap_or_default();
    let candidates = answer["candidates"].as_array().cloned().unwrap_or_default();
    doc.line(format!(
        "triage of {} against the baseline {baseline_text}: {} anomalies, {} root-cause candidates{}",
        answer["service"].as_str().map_or_else(|| "all services".to_string(), |s| format!("'{}'", cell(s, 40))),
        anomalies.len(),
        candidates.len(),
        answer["took_ms"].as_f64().map(|t| format!(" ({t:.0} ms)")).unwrap_or_default()
    ));
    if let Some(note) = answer["note"].as_str() {
        // What the server could not judge (data still arriving), or that nothing stands out.
        doc.line(format!("note: {}", cell(note, 300)));
    }
    if candidates.is_empty() {
        doc.line("no candidate: nothing in this window differs enough from the baseline; widen the window or check service_overview");
    } else {
        doc.line("\n## ranked root-cause candidates (most likely first)");
        let mut table = Table::new(&["rank", "service", "operation", "kind", "score", "summary"]);
        for (n, c) in candidates.iter().take(limit).enumerate() {
            table.row(vec![
                c["rank"].as_u64().unwrap_or(n as u64 + 1).to_string(),
                cell(str_of(c, "service"), 40),
                operation(c),
                cell(str_of(c, "kind"), 12),
                score(c),
                cell(str_of(c, "summary"), 160),
            ]);
        }
        doc.table(&table, 3_000);
        for c in candidates.iter().take(EVIDENCE_CANDIDATES) {
            doc.line(evidence_block(ctx, c));
        }
    }
    if !anomalies.is_empty() {
        doc.line(format!("\n## anomalies ({})", anomalies.len()));
        let mut table = Table::new(&[
            "service",
            "operation",
            "kind",
            "before",
            "after",
            "score",
            "detail",
        ]);
        for a in anomalies.iter().take(limit) {
            table.row(vec![
                cell(str_of(a, "service"), 40),
                operation(a),
                cell(str_of(a, "kind"), 24),
                value_text(&a["before"]),
                value_text(&a["after"]),
                score(a),
                cell(str_of(a, "detail"), 120),
            ]);
        }
        doc.table(&table, 200);
    }
    doc.line(format!(
        "UI: {} · then get_trace on an example trace, or service_overview on a candidate",
        ctx.link(&format!("/map?{}", window.ui_query()))
    ));
    doc.finish()
}

/// Evidence bullets of one candidate, inside the untrusted fence.
fn evidence_block(ctx: &Ctx, c: &Value) -> String {
    let mut out = format!(
        "### #{} {} · {} ({}, score {})\n",
        c["rank"].as_u64().unwrap_or(0),
        cell(str_of(c, "service"), 40),
        operation(c),
        cell(str_of(c, "kind"), 12),
        score(c)
    );
    for e in c["evidence"].as_array().into_iter().flatten().take(6) {
        let numbers = if e["before"].is_null() && e["after"].is_null() {
            String::new()
        } else {
            format!(
                " (before {}, after {})",
                value_text(&e["before"]),
                value_text(&e["after"])
            )
        };
        out.push_str(&format!(
            "- {}: {}{numbers}\n",
            cell(str_of(e, "kind"), 30),
            cell(str_of(e, "detail"), 160)
        ));
    }
    for p in c["log_patterns"].as_array().into_iter().flatten().take(3) {
        out.push_str(&format!(
            "- log pattern {}: \"{}\" ({} now, {} in the baseline)\n",
            cell(str_of(p, "template_id"), 24),
            cell(str_of(p, "template"), 140),
            u64_of(p, "count"),
            u64_of(p, "baseline_count")
        ));
    }
    let entries: Vec<String> = c["affected_entry_points"]
        .as_array()
        .into_iter()
        .flatten()
        .take(5)
        .map(|e| {
            let origin = match str_of(e, "started_in") {
                "" => String::new(),
                s => format!(", started in {}", cell(s, 30)),
            };
            format!(
                "{} · {} ({} traces{origin})",
                cell(str_of(e, "service"), 30),
                cell(str_of(e, "operation"), 60),
                u64_of(e, "traces")
            )
        })
        .collect();
    if !entries.is_empty() {
        out.push_str(&format!(
            "- affected entry points: {}\n",
            entries.join("; ")
        ));
    }
    let path: Vec<String> = c["path"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|s| cell(s, 40))
        .collect();
    if !path.is_empty() {
        out.push_str(&format!("- causal path: {}\n", path.join(" → ")));
    }
    let traces: Vec<String> = c["example_trace_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .take(3)
        .map(|t| ctx.link(&format!("/trace/{t}")))
        .collect();
    let mut block = fenced(&out);
    if !traces.is_empty() {
        block.push_str(&format!("\nexample traces: {}", traces.join(" ")));
    }
    block
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Backend;

    fn ctx() -> Ctx {
        Ctx::new(Backend::in_process(axum::Router::new()), "http://ui:8080/")
    }

    #[test]
    fn full_answers_render_candidates_and_evidence() {
        let answer = serde_json::json!({
            "window": {"from_unix_nano": 1, "to_unix_nano": 2},
            "baseline": {"from_unix_nano": 1_780_000_000_000_000_000i64, "to_unix_nano": 1_780_000_360_000_000_000i64},
            "service": "frontend",
            "anomalies": [{"service": "payment", "operation": null, "kind": "error_rate", "before": 0.01, "after": 0.4, "score": 9.5, "detail": "errors up"}],
            "candidates": [{
                "rank": 1, "service": "payment", "operation": "Charge", "kind": "service", "score": 0.93,
                "summary": "payment fails since 14:02",
                "evidence": [{"kind": "error_rate", "detail": "40% of Charge fail", "before": 0.01, "after": 0.4}],
                "example_trace_ids": ["0af7651916cd43dd8448eb211c80319c", "not-an-id"],
                "log_patterns": [{"template_id": "t1", "template": "card <*> declined", "count": 120, "baseline_count": 2}],
                "affected_entry_points": [{"service": "frontend", "operation": "POST /checkout", "traces": 42}],
                "path": ["frontend", "checkout", "payment"]
            }],
            "took_ms": 312
        });
        let w = Window {
            from_ns: 1_780_000_360_000_000_000,
            to_ns: 1_780_000_720_000_000_000,
            now_ns: 1_780_000_720_000_000_000,
        };
        let text = render(&ctx(), &w, &answer, 10);
        assert!(text.starts_with("window: "));
        assert!(
            text.contains("| 1 | payment | Charge | service | 0.93 | payment fails since 14:02 |"),
            "{text}"
        );
        assert!(
            text.contains("- error_rate: 40% of Charge fail (before 0.01, after 0.4)"),
            "{text}"
        );
        assert!(text.contains("causal path: frontend → checkout → payment"));
        assert!(
            text.contains("example traces: http://ui:8080/trace/0af7651916cd43dd8448eb211c80319c")
        );
        assert!(!text.contains("not-an-id"));
        assert!(text.contains("(312 ms)"));
    }

    #[test]
    fn sparse_answers_still_render() {
        let w = Window {
            from_ns: 0,
            to_ns: 10,
            now_ns: 10,
        };
        let text = render(
            &ctx(),
            &w,
            &serde_json::json!({"candidates": [{"service": "db"}]}),
            10,
        );
        assert!(text.contains("| 1 | db | – |  | – |  |"), "{text}");
        let text = render(&ctx(), &w, &serde_json::json!({}), 10);
        assert!(text.contains("no candidate"));
    }
}
