//! Small helpers to build SQL safely: every user value goes through [`quote`]; and the check
//! that a user's SQL only reads the store's tables ([`check_user_sql`]).

use std::ops::ControlFlow;

use datafusion::sql::parser::{DFParser, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::{ObjectName, Statement, TableFactor, Visit, Visitor};
use datafusion::sql::sqlparser::dialect::GenericDialect;

/// Table functions a user's SQL may call: they compute rows and read nothing.
const ALLOWED_TABLE_FUNCTIONS: [&str; 2] = ["generate_series", "range"];

/// Refuses what `/api/v1/sql` must never run, with a message that says why: anything but one
/// query (`SELECT`, `WITH`, `VALUES`, or `EXPLAIN` of one), and any relation that would read a
/// file or URL (`FROM 'data.parquet'`, `read_csv(...)`). DataFusion's own options refuse DDL,
/// DML and statements too; this check comes first so the answer names the reason.
pub fn check_user_sql(sql: &str) -> Result<(), String> {
    let statements =
        DFParser::parse_sql_with_dialect(sql, &GenericDialect {}).map_err(|e| e.to_string())?;
    if statements.len() != 1 {
        return Err(format!(
            "one query at a time, got {} statements",
            statements.len()
        ));
    }
    let Some(statement) = statements.front() else {
        return Err("no query".to_string());
    };
    check_statement(statement)
}

fn check_statement(statement: &DfStatement) -> Result<(), String> {
    const ONLY: &str =
        "/api/v1/sql runs read-only queries (SELECT) over spans, logs and metric_points";
    match statement {
        DfStatement::Statement(inner) => match inner.as_ref() {
            Statement::Query(_) => check_relations(inner),
            Statement::Explain { statement, .. } => match statement.as_ref() {
                Statement::Query(_) => check_relations(statement),
                other => Err(format!("EXPLAIN of {}: {ONLY}", statement_kind(other))),
            },
            other => Err(format!("{} is not allowed: {ONLY}", statement_kind(other))),
        },
        DfStatement::Explain(explain) => check_statement(&explain.statement),
        DfStatement::CopyTo(_) => Err(format!("COPY is not allowed: {ONLY}")),
        DfStatement::CreateExternalTable(_) => {
            Err(format!("CREATE EXTERNAL TABLE is not allowed: {ONLY}"))
        }
        DfStatement::Reset(_) => Err(format!("RESET is not allowed: {ONLY}")),
    }
}

/// The statement's first keywords (`CREATE TABLE`, `INSERT`, `SET`), for messages.
fn statement_kind(statement: &Statement) -> String {
    let text = statement.to_string();
    // Keywords print in capitals, names as written: two keywords say what it is.
    let words: Vec<&str> = text
        .split_whitespace()
        .take_while(|w| w.chars().all(|c| c.is_ascii_uppercase()))
        .filter(|w| !matches!(*w, "OR" | "REPLACE" | "TEMPORARY" | "IF"))
        .take(2)
        .collect();
    if words.is_empty() {
        "this statement".to_string()
    } else {
        words.join(" ")
    }
}

/// Refuses table functions that may read something and relation names that are paths or URLs.
fn check_relations(statement: &Statement) -> Result<(), String> {
    struct Relations;
    impl Visitor for Relations {
        type Break = String;
        fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<String> {
            match factor {
                TableFactor::Table {
                    name,
                    args: Some(_),
                    ..
                }
                | TableFactor::Function { name, .. } => check_table_function(name),
                TableFactor::Table { name, .. } => check_table_name(name),
                TableFactor::TableFunction { .. } => {
                    ControlFlow::Break("TABLE(...) functions are not allowed".to_string())
                }
                _ => ControlFlow::Continue(()),
            }
        }
    }
    match statement.visit(&mut Relations) {
        ControlFlow::Break(why) => Err(why),
        ControlFlow::Continue(()) => Ok(()),
    }
}

fn check_table_function(name: &ObjectName) -> ControlFlow<String> {
    let text = name.to_string().to_ascii_lowercase();
    if ALLOWED_TABLE_FUNCTIONS.contains(&text.as_str()) {
        return ControlFlow::Continue(());
    }
    ControlFlow::Break(format!(
        "table function '{text}' is not allowed: queries read only spans, logs and metric_points \
         (no files or URLs)"
    ))
}

fn check_table_name(name: &ObjectName) -> ControlFlow<String> {
    let text = name.to_string();
    let looks_like_location = text.contains('/')
        || text.contains('\\')
        || text.contains("://")
        || [".parquet", ".csv", ".json", ".avro", ".arrow", ".gz"]
            .iter()
            .any(|ext| {
                text.to_ascii_lowercase()
                    .trim_end_matches(['\'', '"'])
                    .ends_with(ext)
            });
    if looks_like_location {
        return ControlFlow::Break(format!(
            "reading files or URLs is not allowed ({text}): queries read only spans, logs and \
             metric_points"
        ));
    }
    ControlFlow::Continue(())
}

/// A SQL string literal.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Columns that hold an attribute of the given key, so filters can use the real column.
pub fn column_for_attribute(table: &str, key: &str) -> Option<&'static str> {
    let common = match key {
        "service.name" => Some("service_name"),
        "service.namespace" => Some("service_namespace"),
        "service.version" => Some("service_version"),
        "service.instance.id" => Some("service_instance_id"),
        "deployment.environment" | "deployment.environment.name" => Some("deployment_environment"),
        "host.name" => Some("host_name"),
        "k8s.namespace.name" => Some("k8s_namespace_name"),
        "k8s.pod.name" => Some("k8s_pod_name"),
        "container.id" => Some("container_id"),
        _ => None,
    };
    if common.is_some() || table != "spans" {
        return common;
    }
    match key {
        "http.request.method" | "http.method" => Some("http_request_method"),
        "http.route" => Some("http_route"),
        "http.response.status_code" | "http.status_code" => Some("http_response_status_code"),
        "url.full" => Some("url_full"),
        "server.address" => Some("server_address"),
        "server.port" => Some("server_port"),
        "db.system" | "db.system.name" => Some("db_system"),
        "db.namespace" | "db.name" => Some("db_namespace"),
        "db.operation.name" | "db.operation" => Some("db_operation_name"),
        "rpc.system" => Some("rpc_system"),
        "rpc.service" => Some("rpc_service"),
        "rpc.method" => Some("rpc_method"),
        "messaging.system" => Some("messaging_system"),
        "messaging.destination.name" => Some("messaging_destination_name"),
        "peer.service" => Some("peer_service"),
        "enduser.id" => Some("enduser_id"),
        "session.id" => Some("session_id"),
        _ => None,
    }
}

/// A condition matching rows whose attribute `key` equals `value` (as text), looking at the
/// real column when there is one, else at the record's and the resource's attributes.
pub fn attribute_filter(table: &str, key: &str, value: &str) -> String {
    if let Some(col) = column_for_attribute(table, key) {
        return format!("CAST({col} AS VARCHAR) = {}", quote(value));
    }
    let k = quote(key);
    let v = quote(value);
    format!("(attr(attributes, {k}) = {v} OR attr(resource_attributes, {k}) = {v})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_single_quotes() {
        assert_eq!(quote("it's"), "'it''s'");
        assert_eq!(
            attribute_filter("spans", "http.route", "/a'b"),
            "CAST(http_route AS VARCHAR) = '/a''b'"
        );
        assert!(
            attribute_filter("logs", "http.route", "x")
                .starts_with("(attr(attributes, 'http.route')")
        );
    }

    #[test]
    fn user_sql_that_writes_or_reads_files_is_refused_with_the_reason() {
        let refused = [
            ("COPY logs TO '/tmp/out.csv'", "COPY is not allowed"),
            (
                "COPY (SELECT 1) TO '/tmp/x.parquet' STORED AS PARQUET",
                "COPY",
            ),
            (
                "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'",
                "CREATE EXTERNAL TABLE is not allowed",
            ),
            ("CREATE TABLE t AS SELECT 1", "CREATE TABLE is not allowed"),
            ("CREATE VIEW v AS SELECT 1", "CREATE VIEW"),
            ("DROP TABLE logs", "DROP TABLE"),
            ("INSERT INTO logs SELECT * FROM logs", "INSERT"),
            ("DELETE FROM logs", "DELETE"),
            ("SET datafusion.execution.batch_size = 1", "SET"),
            ("SELECT * FROM '/etc/passwd'", "files or URLs"),
            ("SELECT * FROM 'data.parquet'", "files or URLs"),
            ("SELECT * FROM 'https://example.com/x.csv'", "files or URLs"),
            (
                "SELECT * FROM read_parquet('/x.parquet')",
                "table function 'read_parquet'",
            ),
            ("SELECT * FROM read_csv('https://e.com/a.csv')", "read_csv"),
            (
                "SELECT * FROM logs WHERE body IN (SELECT * FROM read_json('/x'))",
                "read_json",
            ),
            (
                "WITH a AS (SELECT * FROM '/x.csv') SELECT * FROM a",
                "files or URLs",
            ),
            ("EXPLAIN COPY logs TO '/tmp/x.csv'", "COPY"),
            ("SELECT 1; SELECT 2", "one query at a time"),
        ];
        for (sql, why) in refused {
            let err = check_user_sql(sql).expect_err(sql);
            assert!(err.contains(why), "{sql}: {err}");
        }
        for sql in [
            "SELECT count(*) FROM logs",
            "WITH x AS (SELECT service_name FROM spans) SELECT * FROM x",
            "SELECT * FROM generate_series(1, 3)",
            "EXPLAIN SELECT * FROM logs JOIN spans USING (trace_id)",
            "VALUES (1), (2)",
            "SELECT table_name FROM information_schema.tables",
        ] {
            assert_eq!(check_user_sql(sql), Ok(()), "{sql}");
        }
    }
}
