//! What each service sends and costs, and what nobody reads: the first candidates to drop.

use serde_json::Value;

use super::str_of;
use crate::ctx::Ctx;
use crate::error::ToolError;
use crate::params::{self, UsageArgs};
use crate::render::{DEFAULT_BUDGET, Doc, Table, cell};

const GROUPS: [&str; 6] = [
    "service",
    "scope",
    "span_name",
    "log_template",
    "metric_name",
    "attribute_key",
];

pub async fn usage(ctx: &Ctx, args: UsageArgs) -> Result<String, ToolError> {
    let window = ctx.window(&args.window)?;
    let limit = params::limit(args.limit, 20, 200)?;
    let group = params::given(&args.group_by).unwrap_or("service");
    if !GROUPS.contains(&group) {
        return Err(ToolError::bad(
            "group_by",
            format!("must be one of {}", GROUPS.join(", ")),
        ));
    }
    let mut query = window.query();
    query.push(("group_by", group.to_string()));
    query.push(("limit", limit.to_string()));
    for (key, value) in [("signal", &args.signal), ("service", &args.service)] {
        if let Some(v) = params::given(value) {
            query.push((key, v.to_string()));
        }
    }
    let answer = ctx.get("/api/v1/usage", &query).await?;
    let currency = str_of(&answer, "currency");
    let mut doc = Doc::new(DEFAULT_BUDGET);
    doc.line(window.header());
    for s in answer["signals"].as_array().into_iter().flatten() {
        doc.line(format!(
            "{}: {} records, {} ({}), {:.2} {currency}; a month at this rate: {}, {:.2} {currency}",
            str_of(s, "signal"),
            s["records"].as_u64().unwrap_or(0),
            fmt_bytes(s["bytes"].as_u64().unwrap_or(0)),
            fmt_change(&s["change"]),
            s["cost"].as_f64().unwrap_or(0.0),
            fmt_bytes(s["projected_monthly_bytes"].as_u64().unwrap_or(0)),
            s["projected_monthly_cost"].as_f64().unwrap_or(0.0),
        ));
    }
    for b in answer["budgets"].as_array().into_iter().flatten() {
        doc.line(budget_line(b));
    }
    let rows = answer["rows"].as_array().cloned().unwrap_or_default();
    if rows.is_empty() {
        doc.line("nothing sent in this window: widen `from` or drop the filters");
        return Ok(doc.finish());
    }
    // Grouped by service, the name is the service.
    let with_service = group != "service";
    let mut headers = vec!["signal", group];
    if with_service {
        headers.push("service");
    }
    headers.extend([
        "records",
        "bytes",
        "share",
        "vs before",
        "monthly cost",
        "read",
    ]);
    let mut table = Table::new(&headers);
    let unread_days = answer["unread_days"].as_i64().unwrap_or(30);
    for r in &rows {
        let name = r["text"]
            .as_str()
            .filter(|t| !t.is_empty())
            .unwrap_or(str_of(r, "name"));
        let mut cells = vec![str_of(r, "signal").to_string(), cell(name, 80)];
        if with_service {
            cells.push(cell(str_of(r, "service"), 30));
        }
        cells.extend([
            r["records"].as_u64().unwrap_or(0).to_string(),
            fmt_bytes(r["bytes"].as_u64().unwrap_or(0)),
            format!("{:.1}%", r["share"].as_f64().unwrap_or(0.0) * 100.0),
            fmt_change(&r["change"]),
            format!("{:.2}", r["projected_monthly_cost"].as_f64().unwrap_or(0.0)),
            read_cell(r, unread_days),
        ]);
        table.row(cells);
    }
    doc.table(&table, 200);
    doc.line(format!(
        "UI: {} · other views: group_by={}",
        ctx.link(&format!("/usage?{}&group_by={group}", window.ui_query())),
        GROUPS.join("|")
    ));
    Ok(doc.finish())
}

/// A pipeline budget: its state, each cap's use, what it shed.
fn budget_line(b: &Value) -> String {
    let caps: Vec<String> = b["caps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let (used, limit) = (
                c["used"].as_u64().unwrap_or(0),
                c["limit"].as_u64().unwrap_or(0),
            );
            let amount = |n| match str_of(c, "unit") {
                "bytes" => fmt_bytes(n),
                _ => format!("{n} records"),
            };
            format!(
                "{:.0}% of {} a {} ({} used)",
                c["ratio"].as_f64().unwrap_or(0.0) * 100.0,
                amount(limit),
                str_of(c, "period"),
                amount(used)
            )
        })
        .collect();
    format!(
        "budget {} ({} of {}): {}; {}; shed {} records ({} as debug near the cap, errors never)",
        cell(str_of(b, "name"), 60),
        str_of(b, "signal"),
        b["service"]
            .as_str()
            .map_or("all services".to_string(), |s| cell(s, 40)),
        str_of(b, "state"),
        caps.join(", "),
        b["shed_records"].as_u64().unwrap_or(0),
        b["shed_debug_records"].as_u64().unwrap_or(0),
    )
}

fn read_cell(r: &Value, days: i64) -> String {
    if r["unread"] == true {
        format!("UNREAD {days}d")
    } else if r["last_read_ms"].is_i64() {
        "read".to_string()
    } else {
        "-".to_string()
    }
}

fn fmt_change(v: &Value) -> String {
    match v.as_f64() {
        Some(c) => format!("{:+.0}%", c * 100.0),
        None => "new".to_string(),
    }
}

fn fmt_bytes(b: u64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1000.0 && i + 1 < units.len() {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", units[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_says_its_state_use_and_what_it_shed() {
        let b = serde_json::json!({"name": "logs a day", "signal": "logs", "service": "cart",
            "state": "capped", "ratio": 1.2, "shed_records": 40, "shed_debug_records": 10,
            "caps": [{"period": "day", "unit": "records", "limit": 1000, "used": 1200, "ratio": 1.2},
                     {"period": "month", "unit": "bytes", "limit": 2_000_000, "used": 500_000, "ratio": 0.25}]});
        let line = budget_line(&b);
        assert!(
            line.starts_with("budget logs a day (logs of cart): capped;"),
            "{line}"
        );
        assert!(
            line.contains("120% of 1000 records a day (1200 records used)"),
            "{line}"
        );
        assert!(line.contains("25% of "), "{line}");
        assert!(line.contains("shed 40 records (10 as debug"), "{line}");
        let whole = serde_json::json!({"name": "spans", "signal": "spans", "service": null, "state": "ok", "caps": []});
        assert!(budget_line(&whole).contains("(spans of all services): ok"));
    }
}
