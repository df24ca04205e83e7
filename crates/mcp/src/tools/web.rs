//! Real user monitoring: browser sessions, one session's timeline, error groups and Web Vitals.

use serde_json::Value;

use super::{f64_of, str_of, u64_of};
use crate::ctx::Ctx;
use crate::error::ToolError;
use crate::params::{self, FindSessionsArgs, GetSessionArgs, WebErrorsArgs, WebVitalsArgs};
use crate::render::{DEFAULT_BUDGET, Doc, Table, cell, fenced, fmt_ms, fmt_pct, truncate};
use crate::window::{utc, utc_time_of_day};

fn push_opt(q: &mut Vec<(&'static str, String)>, key: &'static str, value: Option<&str>) {
    if let Some(v) = value {
        q.push((key, v.to_string()));
    }
}

pub async fn find_sessions(ctx: &Ctx, args: FindSessionsArgs) -> Result<String, ToolError> {
    let window = ctx.window(&args.window)?;
    let limit = params::limit(args.limit, 20, 200)?;
    let mut q = window.query();
    q.push(("limit", limit.to_string()));
    push_opt(&mut q, "service", params::given(&args.service));
    push_opt(&mut q, "user", params::given(&args.user));
    if args.has_errors == Some(true) {
        q.push(("has_errors", "true".to_string()));
    }
    if args.exclude_synthetic == Some(true) {
        q.push(("exclude_synthetic", "true".to_string()));
    }
    let page = ctx.get("/api/v1/web/sessions", &q).await?;
    let sessions = page["sessions"].as_array().cloned().unwrap_or_default();
    let mut doc = Doc::new(DEFAULT_BUDGET);
    doc.line(window.header());
    doc.line(format!(
        "{} browser sessions (newest first){}",
        u64_of(&page, "total"),
        if page["truncated"].as_bool() == Some(true) {
            "; more events than read: counts are of the newest"
        } else {
            ""
        }
    ));
    if sessions.is_empty() {
        doc.line("no sessions: no browser telemetry (session.id) in this window; widen `from` or drop filters");
        return Ok(doc.finish());
    }
    let mut table = Table::new(&[
        "session_id",
        "start",
        "duration",
        "pages",
        "errors",
        "user",
        "browser",
        "os",
        "device",
        "entry",
        "exit",
        "bounce",
    ]);
    for s in &sessions {
        let device = match str_of(s, "synthetic") {
            "" => str_of(s, "device").to_string(),
            kind => format!("{} ({kind})", str_of(s, "device")),
        };
        table.row(vec![
            str_of(s, "session_id").to_string(),
            utc_time_of_day(s["start_unix_nano"].as_i64().unwrap_or(0)),
            fmt_ms(f64_of(s, "duration_ms")),
            u64_of(s, "page_views").to_string(),
            u64_of(s, "errors").to_string(),
            cell(str_of(s, "user_id"), 30),
            cell(str_of(s, "browser"), 20),
            cell(str_of(s, "os"), 12),
            device,
            cell(str_of(s, "entry_page"), 40),
            cell(str_of(s, "exit_page"), 40),
            if s["bounce"].as_bool() == Some(true) {
                "yes"
            } else {
                ""
            }
            .to_string(),
        ]);
    }
    doc.table(&table, 300);
    doc.line("one session's timeline: get_session session_id=<id>");
    doc.line(format!(
        "UI: {}",
        ctx.link(&format!("/web/sessions?{}", window.ui_query()))
    ));
    Ok(doc.finish())
}

pub async fn get_session(ctx: &Ctx, args: GetSessionArgs) -> Result<String, ToolError> {
    let id = params::given(&Some(args.session_id.clone()))
        .ok_or_else(|| ToolError::bad("session_id", "is required; find one with find_sessions"))?
        .to_string();
    let mut window_args = args.window;
    if window_args.from.is_none() {
        window_args.from = Some(crate::window::TimeArg::Text("now-24h".to_string()));
    }
    let window = ctx.window(&window_args)?;
    let path = format!(
        "/api/v1/web/sessions/{}",
        form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
    );
    let detail = match ctx.get(&path, &window.query()).await {
        Ok(d) => d,
        Err(ToolError::Backend(e)) if e.status() == Some(404) => {
            return Err(ToolError::NotFound(format!(
                "no session '{id}' between {} and {}; widen `from` or list sessions with find_sessions",
                utc(window.from_ns),
                utc(window.to_ns)
            )));
        }
        Err(e) => return Err(e),
    };
    let s = &detail["summary"];
    let mut doc = Doc::new(DEFAULT_BUDGET);
    doc.line(window.header());
    doc.line(format!(
        "session {id}: started {}, {} · {} page views · {} errors · {} requests · user {} · {} {} on {} ({})",
        utc(s["start_unix_nano"].as_i64().unwrap_or(0)),
        fmt_ms(f64_of(s, "duration_ms")),
        u64_of(s, "page_views"),
        u64_of(s, "errors"),
        u64_of(s, "requests"),
        match str_of(s, "user_id") { "" => "anonymous", u => u },
        str_of(s, "browser"),
        str_of(s, "browser_version"),
        str_of(s, "os"),
        str_of(s, "device"),
    ));
    let mut pages = Table::new(&["time", "route", "LCP", "INP", "CLS", "requests", "errors"]);
    for p in detail["page_views"].as_array().into_iter().flatten() {
        let vital = |name: &str| {
            let v = &p["vitals"][name];
            match v["value"].as_f64() {
                Some(x) => format!(
                    "{} {}",
                    if name == "CLS" {
                        format!("{x:.3}")
                    } else {
                        fmt_ms(x)
                    },
                    str_of(v, "rating")
                ),
                None => "–".to_string(),
            }
        };
        pages.row(vec![
            utc_time_of_day(p["time_unix_nano"].as_i64().unwrap_or(0)),
            cell(str_of(p, "route"), 50),
            vital("LCP"),
            vital("INP"),
            vital("CLS"),
            p["requests"].as_array().map_or(0, Vec::len).to_string(),
            u64_of(p, "errors").to_string(),
        ]);
    }
    doc.line("## page views");
    doc.table(&pages, 1500);
    let mut timeline = Table::new(&["time", "kind", "name", "details", "trace_id"]);
    for item in detail["timeline"].as_array().into_iter().flatten() {
        let details = item["details"].as_object().map(|m| {
            m.iter()
                .map(|(k, v)| {
                    format!(
                        "{k}={}",
                        v.as_str().map_or_else(|| v.to_string(), str::to_string)
                    )
                })
                .collect::<Vec<_>>()
                .join(" ")
        });
        timeline.row(vec![
            utc_time_of_day(item["time_unix_nano"].as_i64().unwrap_or(0)),
            str_of(item, "kind").to_string(),
            cell(str_of(item, "name"), 40),
            cell(&details.unwrap_or_default(), 160),
            str_of(item, "trace_id").to_string(),
        ]);
    }
    doc.line("## timeline");
    doc.table(&timeline, 300);
    doc.line("backend traces behind its requests: get_trace trace_id=<id>");
    let link = form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>();
    doc.line(format!(
        "UI: {}",
        ctx.link(&format!("/web/sessions/{link}"))
    ));
    Ok(doc.finish())
}

pub async fn web_errors(ctx: &Ctx, args: WebErrorsArgs) -> Result<String, ToolError> {
    let window = ctx.window(&args.window)?;
    let mut doc = Doc::new(DEFAULT_BUDGET);
    doc.line(window.header());
    if let Some(fp) = params::given(&args.fingerprint) {
        let detail = match ctx
            .get(&format!("/api/v1/web/errors/{fp}"), &window.query())
            .await
        {
            Err(ToolError::Backend(e)) if e.status() == Some(404) => {
                return Err(ToolError::NotFound(format!(
                    "no error group '{fp}' in this window; widen `from` or list groups with web_errors"
                )));
            }
            other => other?,
        };
        let g = &detail["group"];
        group_line(&mut doc, g);
        let stack = str_of(g, "stack");
        if !stack.is_empty() {
            doc.line(format!(
                "## stack{}",
                if g["symbolicated"].as_bool() == Some(true) {
                    " (symbolicated with the uploaded source map)"
                } else {
                    ""
                }
            ));
            doc.line(fenced(&truncate(stack, 1500)));
        }
        let mut crumbs = Table::new(&["time", "kind", "name", "details"]);
        for b in detail["breadcrumbs"].as_array().into_iter().flatten() {
            crumbs.row(vec![
                utc_time_of_day(b["time_unix_nano"].as_i64().unwrap_or(0)),
                str_of(b, "kind").to_string(),
                cell(str_of(b, "name"), 40),
                cell(&b["details"].to_string(), 120),
            ]);
        }
        doc.line("## breadcrumbs (what the session of the latest occurrence did before it)");
        doc.table(&crumbs, 200);
        doc.line(format!("UI: {}", ctx.link(&format!("/web/errors/{fp}"))));
        return Ok(doc.finish());
    }
    let limit = params::limit(args.limit, 20, 200)?;
    let mut q = window.query();
    q.push(("limit", limit.to_string()));
    push_opt(&mut q, "service", params::given(&args.service));
    let page = ctx.get("/api/v1/web/errors", &q).await?;
    let groups = page["groups"].as_array().cloned().unwrap_or_default();
    doc.line(format!(
        "{} browser error groups (by fingerprint, most frequent first)",
        u64_of(&page, "total")
    ));
    if groups.is_empty() {
        doc.line("no browser errors in this window; widen `from`");
        return Ok(doc.finish());
    }
    let mut table = Table::new(&[
        "fingerprint",
        "type",
        "message",
        "count",
        "users",
        "sessions",
        "first seen",
        "last seen",
        "releases",
    ]);
    for g in &groups {
        table.row(vec![
            str_of(g, "fingerprint").to_string(),
            cell(str_of(g, "type"), 30),
            cell(str_of(g, "message"), 120),
            u64_of(g, "count").to_string(),
            u64_of(g, "users").to_string(),
            u64_of(g, "sessions").to_string(),
            utc(g["first_seen_unix_nano"].as_i64().unwrap_or(0)),
            utc(g["last_seen_unix_nano"].as_i64().unwrap_or(0)),
            cell(&strings(&g["releases"]), 40),
        ]);
    }
    doc.table(&table, 200);
    doc.line("one group with its stack and breadcrumbs: web_errors fingerprint=<fingerprint>");
    doc.line(format!(
        "UI: {}",
        ctx.link(&format!("/web/errors?{}", window.ui_query()))
    ));
    Ok(doc.finish())
}

fn strings(v: &Value) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn group_line(doc: &mut Doc, g: &Value) {
    doc.line(format!(
        "error {}: {}: {} · {} times · {} users · {} sessions · first {} · last {} · releases {} · routes {}",
        str_of(g, "fingerprint"),
        str_of(g, "type"),
        truncate(str_of(g, "message"), 200),
        u64_of(g, "count"),
        u64_of(g, "users"),
        u64_of(g, "sessions"),
        utc(g["first_seen_unix_nano"].as_i64().unwrap_or(0)),
        utc(g["last_seen_unix_nano"].as_i64().unwrap_or(0)),
        strings(&g["releases"]),
        strings(&g["routes"]),
    ));
}

pub async fn web_vitals(ctx: &Ctx, args: WebVitalsArgs) -> Result<String, ToolError> {
    let window = ctx.window(&args.window)?;
    let mut q = window.query();
    let group_by = params::given(&args.group_by).unwrap_or("none");
    q.push(("group_by", group_by.to_string()));
    push_opt(&mut q, "service", params::given(&args.service));
    let answer = ctx.get("/api/v1/web/vitals", &q).await?;
    let groups = answer["groups"].as_array().cloned().unwrap_or_default();
    let mut doc = Doc::new(DEFAULT_BUDGET);
    doc.line(window.header());
    doc.line(format!(
        "Web Vitals p75 (last value per page view) by {group_by}, with good / needs-improvement / poor shares; LCP, INP, FCP, TTFB in ms, CLS unitless"
    ));
    if groups.is_empty() {
        doc.line("no browser.web_vital events in this window; widen `from`");
        return Ok(doc.finish());
    }
    let mut table = Table::new(&[
        "group",
        "vital",
        "p75",
        "count",
        "good",
        "needs improvement",
        "poor",
    ]);
    for g in &groups {
        for v in g["vitals"].as_array().into_iter().flatten() {
            let name = str_of(v, "name");
            let p75 = f64_of(v, "p75");
            table.row(vec![
                cell(str_of(g, "key"), 50),
                name.to_string(),
                if name == "CLS" {
                    format!("{p75:.3}")
                } else {
                    fmt_ms(p75)
                },
                u64_of(v, "count").to_string(),
                fmt_pct(f64_of(v, "good")),
                fmt_pct(f64_of(v, "needs_improvement")),
                fmt_pct(f64_of(v, "poor")),
            ]);
        }
    }
    doc.table(&table, 200);
    doc.line(format!(
        "UI: {}",
        ctx.link(&format!("/web/pages?{}", window.ui_query()))
    ));
    Ok(doc.finish())
}
