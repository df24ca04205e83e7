//! Finding traces and reading one.

use serde_json::Value;

use super::{str_of, u64_of};
use crate::backend::BackendError;
use crate::ctx::Ctx;
use crate::digest::{self, Trace};
use crate::error::ToolError;
use crate::params::{self, FindTracesArgs, GetTraceArgs};
use crate::render::{DEFAULT_BUDGET, Doc, Table, cell, fmt_ns, more_line};
use crate::window::{Window, utc, utc_time_of_day};

/// The window of a paged call: from the cursor when there is one, else from `from`/`to`.
pub fn paged_window(
    ctx: &Ctx,
    cursor: Option<&str>,
    args: &params::WindowArgs,
) -> Result<Window, ToolError> {
    match cursor {
        Some(c) => Window::from_cursor(c, model::now_unix_nano()).ok_or_else(|| {
            ToolError::bad(
                "cursor",
                "not a cursor from a previous answer; leave it out for the first page",
            )
        }),
        None => ctx.window(args),
    }
}

pub async fn find_traces(ctx: &Ctx, args: FindTracesArgs) -> Result<String, ToolError> {
    let cursor = params::given(&args.cursor);
    let window = paged_window(ctx, cursor, &args.window)?;
    let limit = params::limit(args.limit, 20, 100)?;
    let errors_only = match params::given(&args.status)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("any") | Some("all") => false,
        Some("error") | Some("errors") => true,
        Some(other) => {
            return Err(ToolError::bad(
                "status",
                format!("'{other}' is not a status filter; use 'error' or leave it out"),
            ));
        }
    };
    let longest = match params::given(&args.sort)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("newest") => false,
        Some("longest") | Some("slowest") => true,
        Some(other) => {
            return Err(ToolError::bad(
                "sort",
                format!("'{other}' is not an order; use 'newest' (default) or 'longest'"),
            ));
        }
    };
    let mut q = match cursor {
        Some(c) => vec![("cursor", c.to_string())],
        None => window.query(),
    };
    q.push(("limit", limit.to_string()));
    let service = params::given(&args.service);
    let operation = params::given(&args.operation);
    if let Some(s) = service {
        q.push(("service", s.to_string()));
    }
    if let Some(o) = operation {
        q.push(("operation", o.to_string()));
    }
    if errors_only {
        q.push(("status", "error".to_string()));
    }
    if let Some(ms) = args.min_duration_ms {
        q.push(("min_duration_ms", ms.to_string()));
    }
    if longest {
        q.push(("sort", "longest".to_string()));
    }
    let attrs = args.attributes.unwrap_or_default();
    let attr_keys: Vec<String> = attrs.keys().map(|k| format!("attr.{k}")).collect();
    for ((_, v), key) in attrs.iter().zip(&attr_keys) {
        q.push((key.as_str(), v.clone()));
    }
    let page = ctx.get("/api/v1/traces", &q).await?;
    let traces = page["traces"].as_array().cloned().unwrap_or_default();
    if traces.is_empty()
        && let Some(s) = service
    {
        ctx.check_service(s, &window).await?;
    }

    let mut doc = Doc::new(DEFAULT_BUDGET);
    doc.line(window.header());
    let next = page["next_cursor"].as_str();
    doc.line(format!(
        "{} traces{} ({} first; each has a span matching all filters)",
        traces.len(),
        if next.is_some() { ", more exist" } else { "" },
        if longest { "longest" } else { "newest" }
    ));
    if traces.is_empty() {
        doc.line("no matching traces: widen `from`, drop a filter, or check names with list_services / service_overview");
    } else {
        let mut table = Table::new(&[
            "trace_id", "start", "root", "duration", "spans", "errors", "services",
        ]);
        for t in &traces {
            let services: Vec<&str> = t["services"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            table.row(vec![
                str_of(t, "trace_id").to_string(),
                utc_time_of_day(t["start_time_unix_nano"].as_i64().unwrap_or(0)),
                cell(
                    &format!("{} · {}", str_of(t, "root_service"), str_of(t, "root_name")),
                    60,
                ),
                fmt_ns(t["duration_ns"].as_i64().unwrap_or(0)),
                u64_of(t, "span_count").to_string(),
                u64_of(t, "error_count").to_string(),
                cell(&services.join(","), 60),
            ]);
        }
        doc.table(&table, 500);
    }
    if let Some(c) = next {
        doc.line(more_line(c));
    }
    let mut ui = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [("service", service), ("operation", operation)] {
        if let Some(v) = v {
            ui.append_pair(k, v);
        }
    }
    if errors_only {
        ui.append_pair("status", "error");
    }
    if let Some(ms) = args.min_duration_ms {
        ui.append_pair("min_duration_ms", &ms.to_string());
    }
    if longest {
        ui.append_pair("sort", "longest");
    }
    for (k, v) in &attrs {
        ui.append_pair("attr", &format!("{k}={v}"));
    }
    ui.append_pair("from", &window.from_ns.to_string());
    ui.append_pair("to", &window.to_ns.to_string());
    doc.line(format!(
        "UI: {} · one trace: {}/trace/<trace_id> (or call get_trace)",
        ctx.link(&format!("/traces?{}", ui.finish())),
        ctx.ui_base
    ));
    Ok(doc.finish())
}

pub async fn get_trace(ctx: &Ctx, args: GetTraceArgs) -> Result<String, ToolError> {
    let id = args.trace_id.trim().to_ascii_lowercase();
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ToolError::bad(
            "trace_id",
            format!(
                "'{}' is not a trace id: use the 32 hexadecimal characters from find_traces or search_logs",
                cell(&args.trace_id, 60)
            ),
        ));
    }
    let full = match params::given(&args.detail) {
        None | Some("digest") => false,
        Some("full") => true,
        Some(other) => {
            return Err(ToolError::bad(
                "detail",
                format!(
                    "'{}' is not a detail level; use 'digest' (default) or 'full'",
                    cell(other, 40)
                ),
            ));
        }
    };
    let json = match ctx.backend.get(&format!("/api/v1/traces/{id}"), &[]).await {
        Ok(v) => v,
        Err(BackendError::Api { status: 404, .. }) => {
            return Err(ToolError::NotFound(format!(
                "trace {id} not found: it may not have arrived yet or be older than the retention; call find_traces to look up trace ids"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let trace = Trace::from_json(&json);
    let now = model::now_unix_nano();
    let mut out = format!("server time now: {}\n", utc(now));
    if !full {
        out.push_str(&digest::digest(&trace, &ctx.ui_base));
        return Ok(out);
    }
    let limit = params::limit(args.limit, 40, 200)?;
    let offset = match params::given(&args.cursor) {
        None => 0,
        Some(c) => c.parse::<usize>().map_err(|_| {
            ToolError::bad(
                "cursor",
                "not a cursor from a previous get_trace answer; leave it out for the first page",
            )
        })?,
    };
    let budget = (limit * 260).clamp(DEFAULT_BUDGET, 48_000);
    let (table, next) = digest::full(&trace, offset, limit, budget);
    out.push_str(&format!(
        "trace {id}: {} spans, rows {}–{} (by start time; depth 0 = root) · UI: {}\n",
        trace.spans.len(),
        offset.min(trace.spans.len()),
        next.unwrap_or(trace.spans.len()),
        ctx.link(&format!("/trace/{id}"))
    ));
    out.push_str(&table);
    if let Some(n) = next {
        out.push('\n');
        out.push_str(&more_line(&n.to_string()));
    }
    Ok(out)
}
