//! Metric names and metric series, summarised rather than dumped.

use serde_json::Value;

use super::str_of;
use crate::backend::BackendError;
use crate::ctx::Ctx;
use crate::error::ToolError;
use crate::params::{self, ListMetricsArgs, QueryMetricArgs};
use crate::render::{DEFAULT_BUDGET, Doc, Table, cell, fmt_num, sparkline};
use crate::suggest;
use crate::window::fmt_span_ns;

pub async fn list_metrics(ctx: &Ctx, args: ListMetricsArgs) -> Result<String, ToolError> {
    let window = ctx.window(&args.window)?;
    let limit = params::limit(args.limit, 40, 200)?;
    let answer = ctx.get("/api/v1/metrics", &window.query()).await?;
    let all = answer["metrics"].as_array().cloned().unwrap_or_default();
    let needle = params::given(&args.name_contains).map(str::to_lowercase);
    let service = params::given(&args.service);
    let matching: Vec<&Value> = all
        .iter()
        .filter(|m| {
            needle
                .as_ref()
                .is_none_or(|n| str_of(m, "name").to_lowercase().contains(n))
        })
        .filter(|m| {
            service.is_none_or(|s| {
                m["services"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(s)))
            })
        })
        .collect();
    if matching.is_empty()
        && let Some(s) = service
    {
        ctx.check_service(s, &window).await?;
    }

    let mut doc = Doc::new(DEFAULT_BUDGET);
    doc.line(window.header());
    doc.line(format!(
        "{} metrics{}{}",
        matching.len(),
        if matching.len() < all.len() {
            format!(" match (of {})", all.len())
        } else {
            String::new()
        },
        if matching.len() > limit {
            format!("; {limit} shown, use name_contains to narrow")
        } else {
            String::new()
        }
    ));
    if matching.is_empty() {
        doc.line("no metrics: widen `from` or drop the filters");
    } else {
        let mut table = Table::new(&["name", "type", "unit", "services", "points", "description"]);
        for m in matching.iter().take(limit) {
            let services: Vec<&str> = m["services"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            table.row(vec![
                cell(str_of(m, "name"), 70),
                cell(str_of(m, "type"), 24),
                cell(str_of(m, "unit"), 12),
                cell(&services.join(","), 50),
                m["points"].as_u64().unwrap_or(0).to_string(),
                cell(str_of(m, "description"), 80),
            ]);
        }
        doc.table(&table, 200);
    }
    doc.line(format!(
        "UI: {} · chart one: query_metric name=<name>",
        ctx.link(&format!("/metrics?{}", window.ui_query()))
    ));
    Ok(doc.finish())
}

/// min, avg, max and last of a series' values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub min: f64,
    pub avg: f64,
    pub max: f64,
    pub last: f64,
}

pub fn summarize(values: &[f64]) -> Option<Stats> {
    let last = *values.last()?;
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let avg = values.iter().sum::<f64>() / values.len() as f64;
    Some(Stats {
        min,
        avg,
        max,
        last,
    })
}

/// One row of the answer: a series' labels, size, summary and sparkline.
struct SeriesRow {
    label: String,
    points: usize,
    stats: Stats,
    trend: String,
}

pub async fn query_metric(ctx: &Ctx, args: QueryMetricArgs) -> Result<String, ToolError> {
    let window = ctx.window(&args.window)?;
    let limit = params::limit(args.limit, 20, 100)?;
    let name = args.name.trim().to_string();
    if name.is_empty() {
        return Err(ToolError::bad(
            "name",
            "is required; call list_metrics for names",
        ));
    }
    let mut q = window.query();
    q.push(("name", name.clone()));
    let agg = params::given(&args.agg).map(str::to_ascii_lowercase);
    if let Some(a) = &agg {
        q.push(("agg", a.clone()));
    }
    let group_by = args
        .group_by
        .unwrap_or_default()
        .into_iter()
        .map(|g| g.trim().to_string())
        .filter(|g| !g.is_empty())
        .collect::<Vec<_>>()
        .join(",");
    if !group_by.is_empty() {
        q.push(("group_by", group_by.clone()));
    }
    if let Some(s) = params::given(&args.step) {
        q.push(("step", s.to_string()));
    }
    let service = params::given(&args.service);
    if let Some(s) = service {
        q.push(("service", s.to_string()));
    }
    let answer = match ctx.backend.get("/api/v1/metrics/query", &q).await {
        Ok(v) => v,
        Err(BackendError::Api { status: 404, .. }) => {
            return Err(metric_not_found(ctx, &name, service, &window).await);
        }
        Err(e) => return Err(e.into()),
    };
    let series = answer["series"].as_array().cloned().unwrap_or_default();

    let mut doc = Doc::new(DEFAULT_BUDGET);
    doc.line(window.header());
    let unit = str_of(&answer, "unit");
    doc.line(format!(
        "metric {} ({}{}) · agg {} · step {} · {} series{}",
        cell(&name, 80),
        str_of(&answer, "type"),
        if unit.is_empty() {
            String::new()
        } else {
            format!(", unit {}", cell(unit, 16))
        },
        str_of(&answer, "agg"),
        fmt_span_ns(answer["step_ns"].as_i64().unwrap_or(0)),
        series.len(),
        if series.len() > limit {
            format!(" ({limit} shown, largest last value first)")
        } else {
            String::new()
        }
    ));
    let mut rows: Vec<SeriesRow> = Vec::new();
    for s in &series {
        let values: Vec<f64> = s["points"]
            .as_array()
            .map(|a| a.iter().filter_map(|p| p[1].as_f64()).collect())
            .unwrap_or_default();
        let Some(stats) = summarize(&values) else {
            continue;
        };
        let labels: Vec<String> = s["labels"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| match v {
                        Value::String(t) => format!("{k}={t}"),
                        other => format!("{k}={other}"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let label = if labels.is_empty() {
            "(all)".to_string()
        } else {
            labels.join(" ")
        };
        rows.push(SeriesRow {
            label,
            points: values.len(),
            stats,
            trend: sparkline(&values, 16),
        });
    }
    rows.sort_by(|a, b| b.stats.last.total_cmp(&a.stats.last));
    if rows.is_empty() {
        doc.line("no points in this window: widen `from`");
    } else {
        let mut table = Table::new(&["series", "points", "min", "avg", "max", "last", "trend"]);
        for r in rows.iter().take(limit) {
            table.row(vec![
                cell(&r.label, 100),
                r.points.to_string(),
                fmt_num(r.stats.min),
                fmt_num(r.stats.avg),
                fmt_num(r.stats.max),
                fmt_num(r.stats.last),
                r.trend.clone(),
            ]);
        }
        doc.table(&table, 300);
    }
    let mut ui = form_urlencoded::Serializer::new(String::new());
    ui.append_pair("metric", &name);
    if let Some(a) = &agg {
        ui.append_pair("agg", a);
    }
    if !group_by.is_empty() {
        ui.append_pair("group_by", &group_by);
    }
    ui.append_pair("from", &window.from_ns.to_string());
    ui.append_pair("to", &window.to_ns.to_string());
    doc.line(format!(
        "UI: {}",
        ctx.link(&format!("/metrics?{}", ui.finish()))
    ));
    Ok(doc.finish())
}

async fn metric_not_found(
    ctx: &Ctx,
    name: &str,
    service: Option<&str>,
    window: &crate::window::Window,
) -> ToolError {
    if let Some(s) = service
        && let Err(e) = ctx.check_service(s, window).await
    {
        return e;
    }
    let known: Vec<String> = match ctx.get("/api/v1/metrics", &window.query()).await {
        Ok(v) => v["metrics"]
            .as_array()
            .map(|a| a.iter().map(|m| str_of(m, "name").to_string()).collect())
            .unwrap_or_default(),
        Err(e) => return e,
    };
    if known.iter().any(|k| k == name) {
        return ToolError::NotFound(format!(
            "metric '{name}' has no points{} in this window; widen `from`",
            service.map(|s| format!(" from {s}")).unwrap_or_default()
        ));
    }
    ToolError::NotFound(suggest::unknown(
        "metric",
        name,
        &known,
        "call list_metrics to see the names",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_summaries() {
        assert_eq!(
            summarize(&[1.0, 3.0, 2.0]),
            Some(Stats {
                min: 1.0,
                avg: 2.0,
                max: 3.0,
                last: 2.0
            })
        );
        assert_eq!(summarize(&[]), None);
    }
}
