//! Log views beyond search: Log AI patterns with change against the previous period, and the
//! structure learned from one record.

use std::collections::HashMap;

use model::TimeRange;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::sql::quote;
use crate::{QueryError, QueryService};

/// A stable id of a stored log record: its time and a hash of its service and body.
pub fn record_id(time_unix_nano: i64, service: &str, body: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in service.bytes().chain([0u8]).chain(body.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{time_unix_nano}-{h:016x}")
}

#[derive(Debug, Clone, Serialize)]
pub struct Pattern {
    pub template_id: String,
    pub template: String,
    pub service: String,
    pub count: u64,
    pub previous_count: u64,
    /// Highest severity number seen with this template.
    pub max_severity_number: i32,
    /// `[time_unix_nano, count]` per step.
    pub series: Vec<(i64, u64)>,
    pub first_seen_unix_nano: i64,
    /// Not seen in the previous period of equal length.
    pub is_new: bool,
    pub sample: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PatternsResponse {
    pub step_ns: i64,
    pub patterns: Vec<Pattern>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Structure {
    pub record_id: String,
    pub raw: Value,
    pub service_name: String,
    pub time_unix_nano: i64,
    pub format: Option<String>,
    pub severity_number: i32,
    pub severity_text: String,
    pub severity_inferred: bool,
    pub template: Option<String>,
    pub template_id: Option<String>,
    pub params: Value,
    /// What Log AI extracted (fields, named parameters).
    pub extracted: Map<String, Value>,
    /// The attributes the record arrived with.
    pub original_attributes: Map<String, Value>,
}

fn text(row: &Map<String, Value>, key: &str) -> String {
    row.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn int(row: &Map<String, Value>, key: &str) -> i64 {
    row.get(key).and_then(Value::as_i64).unwrap_or_default()
}

impl QueryService {
    /// Templates of the window with counts, a series, and whether they are new.
    pub async fn log_patterns(
        &self,
        range: TimeRange,
        service: Option<&str>,
        limit: usize,
    ) -> Result<PatternsResponse, QueryError> {
        let prev_start = range.start_ns.saturating_sub(range.len_ns());
        let svc = service
            .map(|s| format!(" AND service_name = {}", quote(s)))
            .unwrap_or_default();
        let sql = format!(
            "SELECT log_template_id AS id, service_name, first_value(log_template) AS template, \
             sum(CASE WHEN time_unix_nano >= {start} THEN 1 ELSE 0 END) AS n, \
             sum(CASE WHEN time_unix_nano < {start} THEN 1 ELSE 0 END) AS prev, \
             min(time_unix_nano) AS first_seen, max(severity_number) AS sev, \
             first_value(body ORDER BY time_unix_nano DESC) AS sample \
             FROM logs WHERE time_unix_nano >= {prev_start} AND time_unix_nano < {end} AND log_template_id IS NOT NULL{svc} \
             GROUP BY log_template_id, service_name HAVING sum(CASE WHEN time_unix_nano >= {start} THEN 1 ELSE 0 END) > 0 \
             ORDER BY n DESC LIMIT {limit}",
            start = range.start_ns,
            end = range.end_ns,
        );
        let rows = crate::service::to_json_rows(&self.collect(&sql).await?)?;
        let step = ((range.len_ns() / 60).max(1_000_000_000) / 1_000_000_000) * 1_000_000_000;
        let mut patterns: Vec<Pattern> = rows
            .iter()
            .map(|r| {
                let prev = int(r, "prev") as u64;
                Pattern {
                    template_id: text(r, "id"),
                    template: text(r, "template"),
                    service: text(r, "service_name"),
                    count: int(r, "n") as u64,
                    previous_count: prev,
                    max_severity_number: i32::try_from(int(r, "sev")).unwrap_or(0),
                    series: Vec::new(),
                    first_seen_unix_nano: int(r, "first_seen"),
                    is_new: prev == 0,
                    sample: text(r, "sample"),
                }
            })
            .collect();
        if patterns.is_empty() {
            return Ok(PatternsResponse {
                step_ns: step,
                patterns,
            });
        }
        let ids: Vec<String> = patterns.iter().map(|p| quote(&p.template_id)).collect();
        let sql = format!(
            "SELECT log_template_id AS id, service_name, (time_unix_nano / {step}) * {step} AS t, count(*) AS n FROM logs \
             WHERE time_unix_nano >= {} AND time_unix_nano < {} AND log_template_id IN ({}){svc} GROUP BY 1, 2, 3 ORDER BY 3",
            range.start_ns,
            range.end_ns,
            ids.join(",")
        );
        let mut series: HashMap<(String, String), Vec<(i64, u64)>> = HashMap::new();
        for r in crate::service::to_json_rows(&self.collect(&sql).await?)? {
            series
                .entry((text(&r, "id"), text(&r, "service_name")))
                .or_default()
                .push((int(&r, "t"), int(&r, "n") as u64));
        }
        for p in &mut patterns {
            p.series = series
                .remove(&(p.template_id.clone(), p.service.clone()))
                .unwrap_or_default();
        }
        Ok(PatternsResponse {
            step_ns: step,
            patterns,
        })
    }

    /// The raw record beside everything Log AI learned from it.
    pub async fn log_structure(&self, record_id: &str) -> Result<Structure, QueryError> {
        let bad = || QueryError::bad("record_id", "not a record id returned by the logs API");
        let (time, _) = record_id.split_once('-').ok_or_else(bad)?;
        let time: i64 = time.parse().map_err(|_| bad())?;
        let sql = format!("SELECT * FROM logs WHERE time_unix_nano = {time}");
        for b in &self.collect(&sql).await? {
            let model::Batch::Logs(rows) =
                storage::schema::from_record_batch(model::Signal::Logs, b)?
            else {
                continue;
            };
            for row in rows {
                if record_id
                    != self::record_id(row.time_unix_nano, &row.resource.service_name, &row.body)
                {
                    continue;
                }
                let mut attrs: Map<String, Value> =
                    serde_json::from_str(&row.attributes).unwrap_or_default();
                let added: Vec<String> = attrs
                    .remove("log.extracted")
                    .and_then(|v| v.as_array().cloned())
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect();
                let mut extracted = Map::new();
                for key in &added {
                    if let Some(v) = attrs.remove(key) {
                        extracted.insert(key.clone(), v);
                    }
                }
                let format = extracted
                    .remove("log.format")
                    .and_then(|v| v.as_str().map(str::to_string));
                let params = extracted
                    .remove("log.params")
                    .unwrap_or(Value::Array(vec![]));
                let inferred = extracted
                    .remove("log.severity_inferred")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false);
                extracted.remove("log.template");
                extracted.remove("log.template_id");
                let raw = if row.body_type == "json" {
                    serde_json::from_str(&row.body).unwrap_or(Value::String(row.body.clone()))
                } else {
                    Value::String(row.body.clone())
                };
                return Ok(Structure {
                    record_id: record_id.to_string(),
                    raw,
                    service_name: row.resource.service_name.clone(),
                    time_unix_nano: row.time_unix_nano,
                    format,
                    severity_number: row.severity_number,
                    severity_text: row.severity_text,
                    severity_inferred: inferred,
                    template: row.log_template,
                    template_id: row.log_template_id,
                    params,
                    extracted,
                    original_attributes: attrs,
                });
            }
        }
        Err(QueryError::NotFound(format!("log record {record_id}")))
    }
}
