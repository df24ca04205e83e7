//! What is firing, the rules and the recent history, from `GET /api/v1/alerts`,
//! `/api/v1/rules` and `/api/v1/alerts/history`. Tolerant of missing fields.

use serde_json::Value;

use super::{f64_of, str_of};
use crate::ctx::Ctx;
use crate::error::ToolError;
use crate::params::{self, AlertsArgs};
use crate::render::{DEFAULT_BUDGET, Doc, Table, cell, fmt_num};
use crate::window::utc;

fn ms_to_utc(v: &Value) -> String {
    v.as_i64()
        .map_or_else(|| "–".to_string(), |ms| utc(ms.saturating_mul(1_000_000)))
}

pub async fn alerts(ctx: &Ctx, args: AlertsArgs) -> Result<String, ToolError> {
    let limit = params::limit(args.limit, 20, 200)?;
    let service = params::given(&args.service);
    let mut doc = Doc::new(DEFAULT_BUDGET);
    let show = params::given(&args.show).unwrap_or("firing");
    match show {
        "firing" | "pending" | "active" => {
            let mut q: Vec<(&str, String)> = Vec::new();
            if show != "active" {
                q.push(("state", show.to_string()));
            }
            if let Some(s) = service {
                q.push(("service", s.to_string()));
            }
            let answer = ctx.get("/api/v1/alerts", &q).await?;
            render_alerts(&mut doc, &answer, show, limit);
        }
        "rules" => render_rules(&mut doc, &ctx.get("/api/v1/rules", &[]).await?, limit),
        "history" => {
            let window = ctx.window(&args.window)?;
            let mut q = vec![
                ("start", (window.from_ns / 1_000_000).to_string()),
                ("end", (window.to_ns / 1_000_000).to_string()),
                ("limit", limit.to_string()),
            ];
            if let Some(s) = service {
                q.push(("service", s.to_string()));
            }
            doc.line(window.header());
            render_history(&mut doc, &ctx.get("/api/v1/alerts/history", &q).await?);
        }
        other => {
            return Err(ToolError::bad(
                "show",
                format!("'{other}': use firing, pending, active, rules or history"),
            ));
        }
    }
    doc.line(format!("\nUI: {}", ctx.link("/alerts")));
    Ok(doc.finish())
}

fn render_alerts(doc: &mut Doc, answer: &Value, show: &str, limit: usize) {
    let alerts = answer["alerts"].as_array().cloned().unwrap_or_default();
    doc.line(format!("{} {show} alerts", alerts.len()));
    if alerts.is_empty() {
        doc.line(
            "nothing is alerting; `show: rules` lists what is watched, triage looks for causes",
        );
        return;
    }
    let mut table = Table::new(&[
        "state", "severity", "alert", "service", "value", "since", "silenced", "summary",
    ]);
    for a in alerts.iter().take(limit) {
        table.row(vec![
            cell(str_of(a, "state"), 8),
            cell(str_of(a, "severity"), 10),
            cell(str_of(a, "rule"), 40),
            cell(a["service"].as_str().unwrap_or("–"), 40),
            fmt_num(f64_of(a, "value")),
            ms_to_utc(&a["active_at_ms"]),
            if a["silenced"] == true { "yes" } else { "no" }.to_string(),
            cell(
                a["annotations"]["summary"]
                    .as_str()
                    .or(a["annotations"]["description"].as_str())
                    .unwrap_or(""),
                160,
            ),
        ]);
    }
    doc.table(&table, 500);
}

fn render_rules(doc: &mut Doc, answer: &Value, limit: usize) {
    let groups = answer["groups"].as_array().cloned().unwrap_or_default();
    let mut table = Table::new(&["group", "rule", "kind", "state", "health", "expr"]);
    for g in &groups {
        for r in g["rules"].as_array().into_iter().flatten().take(limit) {
            let health = match r["last_error"].as_str() {
                Some(e) => format!("err: {}", cell(e, 80)),
                None => str_of(r, "health").to_string(),
            };
            table.row(vec![
                cell(str_of(g, "name"), 40),
                cell(str_of(r, "name"), 40),
                cell(str_of(r, "kind"), 12),
                cell(str_of(r, "state"), 8),
                health,
                cell(str_of(r, "expr"), 200),
            ]);
        }
    }
    doc.line(format!("{} rules in {} groups", table.len(), groups.len()));
    doc.table(&table, 500);
    for e in answer["errors"].as_array().into_iter().flatten() {
        doc.line(format!(
            "rule file not loaded: {} — {}",
            cell(str_of(e, "file"), 80),
            cell(str_of(e, "message"), 200)
        ));
    }
}

fn render_history(doc: &mut Doc, answer: &Value) {
    let events = answer["events"].as_array().cloned().unwrap_or_default();
    doc.line(format!("{} state changes (newest first)", events.len()));
    let mut table = Table::new(&["at", "alert", "service", "from", "to", "severity", "value"]);
    for e in &events {
        table.row(vec![
            ms_to_utc(&e["at_ms"]),
            cell(str_of(e, "rule"), 40),
            cell(e["service"].as_str().unwrap_or("–"), 40),
            cell(str_of(e, "from"), 8),
            cell(str_of(e, "to"), 8),
            cell(str_of(e, "severity"), 10),
            fmt_num(f64_of(e, "value")),
        ]);
    }
    doc.table(&table, 300);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn alerts_render_as_a_table_with_their_summary() {
        let answer = serde_json::json!({"alerts": [{"state": "firing", "severity": "critical",
            "rule": "RedErrorRatio", "service": "payment", "value": 0.48,
            "active_at_ms": 1_767_225_600_000i64, "silenced": false,
            "annotations": {"summary": "payment: 48% of requests fail"}}]});
        let mut doc = Doc::new(DEFAULT_BUDGET);
        render_alerts(&mut doc, &answer, "firing", 10);
        let text = doc.finish();
        assert!(text.contains("1 firing alerts"), "{text}");
        assert!(
            text.contains("RedErrorRatio") && text.contains("payment: 48%"),
            "{text}"
        );
        assert!(text.contains("2026-01-01"), "{text}");
    }
}
