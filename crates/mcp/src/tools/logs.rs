//! Log search and Log AI patterns.

use serde_json::Value;

use super::traces::paged_window;
use super::{severity_name, str_of, u64_of};
use crate::ctx::Ctx;
use crate::error::ToolError;
use crate::params::{self, LogPatternsArgs, SearchLogsArgs};
use crate::render::{DEFAULT_BUDGET, Doc, Table, cell, more_line, sparkline};
use crate::window::{Window, utc_time_of_day};

pub async fn search_logs(ctx: &Ctx, args: SearchLogsArgs) -> Result<String, ToolError> {
    let cursor = params::given(&args.cursor);
    let window = paged_window(ctx, cursor, &args.window)?;
    let limit = params::limit(args.limit, 30, 200)?;
    let mut q = match cursor {
        Some(c) => vec![("cursor", c.to_string())],
        None => window.query(),
    };
    q.push(("limit", limit.to_string()));
    let service = params::given(&args.service);
    let severity = params::given(&args.severity_min);
    let text = params::given(&args.q);
    let trace_id = params::given(&args.trace_id).map(str::to_ascii_lowercase);
    let template_id = params::given(&args.template_id);
    for (k, v) in [
        ("service", service),
        ("severity_min", severity),
        ("q", text),
        ("trace_id", trace_id.as_deref()),
        ("template_id", template_id),
    ] {
        if let Some(v) = v {
            q.push((k, v.to_string()));
        }
    }
    let attrs = args.attributes.unwrap_or_default();
    let attr_keys: Vec<String> = attrs.keys().map(|k| format!("attr.{k}")).collect();
    for ((_, v), key) in attrs.iter().zip(&attr_keys) {
        q.push((key.as_str(), v.clone()));
    }
    let page = ctx.get("/api/v1/logs", &q).await?;
    let records = page["records"].as_array().cloned().unwrap_or_default();
    if records.is_empty()
        && let Some(s) = service
    {
        ctx.check_service(s, &window).await?;
    }

    let mut doc = Doc::new(DEFAULT_BUDGET);
    doc.line(window.header());
    let next = page["next_cursor"].as_str();
    doc.line(format!(
        "{} log records{} (newest first; bodies cut at 200 characters)",
        records.len(),
        if next.is_some() { ", more exist" } else { "" }
    ));
    if records.is_empty() {
        doc.line("no matching records: widen `from`, lower `severity_min`, or shorten `q`");
    } else {
        let mut table = Table::new(&[
            "time",
            "service",
            "severity",
            "template_id",
            "trace_id",
            "body",
        ]);
        for r in &records {
            let body = match &r["body"] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            let sev = match str_of(r, "severity_text") {
                "" => severity_name(r["severity_number"].as_i64().unwrap_or(0)).to_string(),
                t => t.to_string(),
            };
            table.row(vec![
                utc_time_of_day(r["time_unix_nano"].as_i64().unwrap_or(0)),
                cell(str_of(r, "service_name"), 30),
                cell(&sev, 8),
                cell(r["log_template_id"].as_str().unwrap_or(""), 24),
                str_of(r, "trace_id").to_string(),
                cell(&body, 200),
            ]);
        }
        doc.table(&table, 500);
    }
    if let Some(c) = next {
        doc.line(more_line(c));
    }
    let mut ui = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("service", service),
        ("q", text),
        ("trace_id", trace_id.as_deref()),
        ("template_id", template_id),
    ] {
        if let Some(v) = v {
            ui.append_pair(k, v);
        }
    }
    if let Some(s) = severity.filter(|s| s.parse::<i32>().is_err()) {
        ui.append_pair("severity", &s.to_ascii_uppercase());
    }
    ui.append_pair("from", &window.from_ns.to_string());
    ui.append_pair("to", &window.to_ns.to_string());
    doc.line(format!(
        "UI: {}",
        ctx.link(&format!("/logs?{}", ui.finish()))
    ));
    Ok(doc.finish())
}

/// `new`, `+250%`, `-40%`, `±0%` against the previous period of equal length.
pub fn change(count: u64, previous: u64, is_new: bool) -> String {
    if is_new || previous == 0 {
        return "new".to_string();
    }
    let pct = (count as f64 - previous as f64) / previous as f64 * 100.0;
    if pct.abs() < 0.5 {
        "±0%".to_string()
    } else {
        format!("{pct:+.0}%")
    }
}

/// Counts per step over the whole window (steps without records count zero).
fn filled_series(series: &Value, step_ns: i64, window: &Window) -> Vec<f64> {
    let step = step_ns.max(1);
    let start = window.from_ns.div_euclid(step) * step;
    let buckets = usize::try_from((window.to_ns - start) / step + 1)
        .unwrap_or(1)
        .clamp(1, 2_000);
    let mut out = vec![0.0; buckets];
    for p in series.as_array().into_iter().flatten() {
        let (Some(t), Some(n)) = (p[0].as_i64(), p[1].as_f64()) else {
            continue;
        };
        if let Ok(i) = usize::try_from((t - start) / step)
            && i < out.len()
        {
            out[i] += n;
        }
    }
    out
}

pub async fn log_patterns(ctx: &Ctx, args: LogPatternsArgs) -> Result<String, ToolError> {
    let window = ctx.window(&args.window)?;
    let limit = params::limit(args.limit, 20, 100)?;
    let mut q = window.query();
    q.push(("limit", limit.to_string()));
    let service = params::given(&args.service);
    if let Some(s) = service {
        q.push(("service", s.to_string()));
    }
    let answer = ctx.get("/api/v1/logs/patterns", &q).await?;
    let patterns = answer["patterns"].as_array().cloned().unwrap_or_default();
    if patterns.is_empty()
        && let Some(s) = service
    {
        ctx.check_service(s, &window).await?;
    }
    let step = answer["step_ns"].as_i64().unwrap_or(60_000_000_000);

    let mut doc = Doc::new(DEFAULT_BUDGET);
    doc.line(window.header());
    let new = patterns
        .iter()
        .filter(|p| p["is_new"].as_bool().unwrap_or(false))
        .count();
    let surging = patterns
        .iter()
        .filter(|p| {
            let prev = u64_of(p, "previous_count");
            prev > 0 && u64_of(p, "count") >= prev * 2
        })
        .count();
    doc.line(format!(
        "{} log patterns (Log AI templates, most frequent first) · {new} new (absent in the previous {}) · {surging} at least doubled",
        patterns.len(),
        crate::window::fmt_span_ns(window.to_ns - window.from_ns)
    ));
    if patterns.is_empty() {
        doc.line("no patterns: no log records with templates in this window; widen `from`");
    } else {
        let mut table = Table::new(&[
            "template_id",
            "service",
            "count",
            "previous",
            "change",
            "trend",
            "max severity",
            "template",
        ]);
        for p in &patterns {
            let count = u64_of(p, "count");
            let previous = u64_of(p, "previous_count");
            table.row(vec![
                cell(str_of(p, "template_id"), 24),
                cell(str_of(p, "service"), 30),
                count.to_string(),
                previous.to_string(),
                change(count, previous, p["is_new"].as_bool().unwrap_or(false)),
                sparkline(&filled_series(&p["series"], step, &window), 12),
                severity_name(p["max_severity_number"].as_i64().unwrap_or(0)).to_string(),
                cell(str_of(p, "template"), 160),
            ]);
        }
        doc.table(&table, 400);
    }
    let mut ui = form_urlencoded::Serializer::new(String::new());
    ui.append_pair("tab", "patterns");
    if let Some(s) = service {
        ui.append_pair("service", s);
    }
    ui.append_pair("from", &window.from_ns.to_string());
    ui.append_pair("to", &window.to_ns.to_string());
    doc.line(format!(
        "UI: {} · records of one pattern: search_logs template_id=<id>",
        ctx.link(&format!("/logs?{}", ui.finish()))
    ));
    Ok(doc.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_against_the_previous_period() {
        assert_eq!(change(10, 0, true), "new");
        assert_eq!(change(30, 10, false), "+200%");
        assert_eq!(change(6, 10, false), "-40%");
        assert_eq!(change(10, 10, false), "±0%");
    }

    #[test]
    fn series_gaps_count_zero() {
        let w = Window {
            from_ns: 0,
            to_ns: 600,
            now_ns: 600,
        };
        let s = serde_json::json!([[0, 5], [300, 1]]);
        let filled = filled_series(&s, 100, &w);
        assert_eq!(filled.len(), 7);
        assert_eq!(filled[0], 5.0);
        assert_eq!(filled[1], 0.0);
        assert_eq!(filled[3], 1.0);
    }
}
