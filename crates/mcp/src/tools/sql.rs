//! Read-only SQL, rendered as a bounded markdown table.

use serde_json::Value;

use crate::ctx::Ctx;
use crate::error::ToolError;
use crate::params::{self, RunSqlArgs};
use crate::render::{DEFAULT_BUDGET, Doc, Table, cell, fmt_num};
use crate::window::utc;

const READ_ONLY: [&str; 7] = [
    "select", "with", "explain", "show", "describe", "desc", "values",
];

/// The first keyword of a statement, after comments and opening parentheses.
fn first_keyword(sql: &str) -> String {
    let mut rest = sql.trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("--") {
            rest = r
                .split_once('\n')
                .map_or("", |(_, after)| after)
                .trim_start();
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r
                .split_once("*/")
                .map_or("", |(_, after)| after)
                .trim_start();
        } else if let Some(r) = rest.strip_prefix('(') {
            rest = r.trim_start();
        } else {
            break;
        }
    }
    rest.chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// A refusal for anything that is not a read-only query (the API refuses it too).
pub fn check_read_only(sql: &str) -> Result<(), ToolError> {
    if sql.trim().is_empty() {
        return Err(ToolError::bad("query", "is empty"));
    }
    let keyword = first_keyword(sql);
    if READ_ONLY.contains(&keyword.as_str()) {
        return Ok(());
    }
    Err(ToolError::bad(
        "query",
        format!(
            "run_sql is read-only: '{}' statements are refused; use SELECT (or WITH/EXPLAIN/SHOW/DESCRIBE)",
            keyword.to_ascii_uppercase()
        ),
    ))
}

fn value_text(v: &Value, column: &str) -> String {
    match v {
        Value::Null => "NULL".to_string(),
        Value::String(s) => s.clone(),
        Value::Number(n) => {
            // Nanosecond timestamps read better as times.
            if column.ends_with("unix_nano")
                && let Some(t) = n.as_i64()
            {
                return utc(t);
            }
            n.as_f64().map_or_else(|| n.to_string(), fmt_num)
        }
        other => other.to_string(),
    }
}

pub async fn run_sql(ctx: &Ctx, args: RunSqlArgs) -> Result<String, ToolError> {
    check_read_only(&args.query)?;
    let limit = params::limit(args.limit, 50, 500)?;
    let answer = ctx.backend.sql(&args.query).await?;
    let columns: Vec<String> = answer["columns"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let rows = answer["rows"].as_array().cloned().unwrap_or_default();
    let capped = answer["truncated"].as_bool().unwrap_or(false);

    let mut doc = Doc::new(DEFAULT_BUDGET);
    doc.line(format!("server time now: {}", utc(model::now_unix_nano())));
    doc.line(format!(
        "{} rows{}{}",
        rows.len(),
        if capped {
            " (the server stopped at its row limit; add LIMIT or aggregate)"
        } else {
            ""
        },
        if rows.len() > limit {
            format!(", first {limit} shown")
        } else {
            String::new()
        }
    ));
    if columns.is_empty() {
        return Ok(doc.finish());
    }
    let width = (480 / columns.len()).clamp(16, 80);
    let headers: Vec<String> = columns.iter().map(|c| cell(c, 40)).collect();
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut table = Table::new(&header_refs);
    for r in rows.iter().take(limit) {
        let cells: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| cell(&value_text(&r[i], c), width))
            .collect();
        table.row(cells);
    }
    doc.table(&table, 0);
    Ok(doc.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reads_pass() {
        assert!(check_read_only("SELECT 1").is_ok());
        assert!(check_read_only("  -- note\n with x as (select 1) select * from x").is_ok());
        assert!(check_read_only("(select 1)").is_ok());
        let e = check_read_only("DELETE FROM spans").expect_err("refused");
        assert!(e.to_string().contains("read-only"), "{e}");
        assert!(e.to_string().contains("'DELETE'"), "{e}");
        assert!(check_read_only("/* x */ drop table logs").is_err());
        assert!(check_read_only("   ").is_err());
    }

    #[test]
    fn values_render_compactly() {
        assert_eq!(value_text(&Value::Null, "x"), "NULL");
        assert_eq!(
            value_text(&serde_json::json!(0), "start_time_unix_nano"),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(value_text(&serde_json::json!(2.5), "x"), "2.5");
    }
}
