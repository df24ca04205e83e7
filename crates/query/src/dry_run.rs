//! "What would these pipeline rules have matched and saved?" answered from the stored records
//! of a range, before the rules are switched on: each rule's conditions as SQL over the
//! signal's table, its savings estimated from the records' sizes as sent (see `usage`).

use model::{Signal, TimeRange};
use pipeline::{Action, Match, Rule};
use serde::Serialize;

use crate::service::{to_json_rows, u64_of};
use crate::sql::{attribute_filter, quote};
use crate::usage::bytes_sql;
use crate::{QueryError, QueryService};

#[derive(Debug, Clone, Serialize)]
pub struct DryRun {
    pub from_unix_nano: i64,
    pub to_unix_nano: i64,
    pub rules: Vec<DryRunRule>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DryRunRule {
    pub name: String,
    pub signal: &'static str,
    pub action: &'static str,
    /// Stored records the rule's conditions match (for `redact`: those with a finding; the
    /// card detector's check digit is not applied, so this is an upper bound; for
    /// `tail_sample`: the spans of traces without an error or a slow span, of which the
    /// rule keeps its share).
    pub matched_records: u64,
    pub matched_bytes: u64,
    /// Bytes as sent the rule would have kept out of the store (`None`: it saves none by
    /// design, as a cardinality limit).
    pub saved_bytes: Option<u64>,
}

/// A rule's conditions on `signal`'s table, as SQL.
fn match_sql(m: &Match, signal: Signal) -> Vec<String> {
    let table = signal.table_name();
    let name_col = if signal == Signal::Metrics {
        "metric_name"
    } else {
        "name"
    };
    let mut conds = Vec::new();
    if let Some(s) = &m.service {
        conds.push(format!("service_name = {}", quote(s)));
    }
    if let Some(r) = &m.service_regex {
        conds.push(format!("regexp_like(service_name, {})", quote(r.as_str())));
    }
    if let Some(below) = m.severity_below {
        conds.push(format!("severity_number > 0 AND severity_number < {below}"));
    }
    if let Some(t) = &m.template_id {
        conds.push(format!("log_template_id = {}", quote(t)));
    }
    if let Some(r) = &m.body_regex {
        conds.push(format!("regexp_like(body, {})", quote(r.as_str())));
    }
    if let Some(n) = &m.name {
        conds.push(format!("{name_col} = {}", quote(n)));
    }
    if let Some(r) = &m.name_regex {
        conds.push(format!("regexp_like({name_col}, {})", quote(r.as_str())));
    }
    for (k, v) in &m.attributes {
        conds.push(attribute_filter(table, k, v));
    }
    conds
}

/// What an action's matches are counted by, and what of their bytes it saves; `range` bounds
/// the traces a tail sampling rule judges.
fn action_sql(
    action: &Action,
    signal: Signal,
    range: TimeRange,
) -> (Option<String>, Option<String>) {
    let text = if signal == Signal::Logs {
        "concat(body, attributes)"
    } else {
        "attributes"
    };
    match action {
        Action::Drop => (None, Some(bytes_sql(signal).to_string())),
        Action::Sample { rate } => (
            None,
            Some(format!("{} * {}", bytes_sql(signal), 1.0 - rate)),
        ),
        Action::RemoveAttributes { keys } => {
            let parts: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "coalesce(octet_length(attr(attributes, {})) + {}, 0)",
                        quote(k),
                        k.len() + 6
                    )
                })
                .collect();
            let any: Vec<String> = keys
                .iter()
                .map(|k| format!("attr(attributes, {}) IS NOT NULL", quote(k)))
                .collect();
            (
                Some(format!("({})", any.join(" OR "))),
                Some(parts.join(" + ")),
            )
        }
        Action::Redact {
            detectors,
            patterns,
            ..
        } => {
            let mut res: Vec<String> = detectors.iter().map(|d| d.pattern().to_string()).collect();
            res.extend(patterns.iter().map(|p| p.as_str().to_string()));
            let any: Vec<String> = res
                .iter()
                .map(|r| format!("regexp_like({text}, {})", quote(r)))
                .collect();
            (Some(format!("({})", any.join(" OR "))), Some("0".into()))
        }
        // The spans of ordinary traces (no error, no slow span), of which the share is kept.
        Action::TailSample(policy) => {
            let slow = policy
                .slow_ns
                .map(|s| format!(" AND max(duration_ns) < {s}"))
                .unwrap_or_default();
            // `model::span_failed` as SQL.
            let failed =
                "status_code = 'ERROR' OR (kind = 'SERVER' AND http_response_status_code >= 500)";
            let ordinary = format!(
                "trace_id IN (SELECT trace_id FROM spans WHERE start_time_unix_nano >= {} AND start_time_unix_nano < {} \
                 GROUP BY trace_id HAVING max(CASE WHEN {failed} THEN 1 ELSE 0 END) = 0{slow})",
                range.start_ns, range.end_ns
            );
            (
                Some(ordinary),
                Some(format!("{} * {}", bytes_sql(signal), 1.0 - policy.rate)),
            )
        }
        // What is past its keep at the end of the range.
        Action::Retain { keep_ns } => (
            None,
            Some(format!(
                "CASE WHEN {} < {} THEN {} ELSE 0 END",
                signal.time_column(),
                range.end_ns.saturating_sub(*keep_ns),
                bytes_sql(signal)
            )),
        ),
        // A metric rule saves nothing itself (the drop rule after it does).
        Action::LimitCardinality { .. } | Action::Metric(_) => (None, None),
    }
}

impl QueryService {
    /// What each of `rules` matches and saves over the stored records of `range`.
    pub async fn pipeline_dry_run(
        &self,
        rules: &[Rule],
        range: TimeRange,
    ) -> Result<DryRun, QueryError> {
        let mut out = Vec::new();
        for rule in rules {
            let signals: Vec<Signal> = match rule.signal {
                Some(s) => vec![s],
                None => Signal::ALL.to_vec(),
            };
            for signal in signals {
                out.push(self.dry_run_rule(rule, signal, range).await?);
            }
        }
        Ok(DryRun {
            from_unix_nano: range.start_ns,
            to_unix_nano: range.end_ns,
            rules: out,
        })
    }

    async fn dry_run_rule(
        &self,
        rule: &Rule,
        signal: Signal,
        range: TimeRange,
    ) -> Result<DryRunRule, QueryError> {
        let time = signal.time_column();
        let mut conds = vec![
            format!("{time} >= {}", range.start_ns),
            format!("{time} < {}", range.end_ns),
        ];
        conds.extend(match_sql(&rule.when, signal));
        let (extra, saved) = action_sql(&rule.action, signal, range);
        conds.extend(extra);
        let sql = format!(
            "SELECT count(*) AS n, sum({bytes}) AS b, sum({saved}) AS s FROM {table} WHERE {conds}",
            bytes = bytes_sql(signal),
            saved = saved.as_deref().unwrap_or("0"),
            table = signal.table_name(),
            conds = conds.join(" AND "),
        );
        let rows = to_json_rows(&self.collect(&sql).await?)?;
        let row = rows.first();
        let get = |k: &str| row.map(|r| u64_of(r, k)).unwrap_or(0);
        // Sums of floats (sampling) come back as floats.
        let saved_bytes = saved.map(|_| {
            row.and_then(|r| r.get("s"))
                .and_then(serde_json::Value::as_f64)
                .map(|f| f.round() as u64)
                .unwrap_or_else(|| get("s"))
        });
        Ok(DryRunRule {
            name: rule.name.clone(),
            signal: signal.name(),
            action: rule.action.name(),
            matched_records: get("n"),
            matched_bytes: get("b"),
            saved_bytes,
        })
    }
}
