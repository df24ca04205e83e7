//! Log views beyond search: the histogram by time and severity and the facets with counts (over
//! the same filters as the search), Log AI patterns with change against the previous period, and
//! the structure learned from one record.

use std::collections::HashMap;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int32Type, Int64Type};
use model::TimeRange;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::rollup::{MINUTE_NS, column, floor_minute};
use crate::service::{LogFilterSkip, log_conditions, log_filter_conditions, to_json_rows};
use crate::sql::quote;
use crate::{FacetValue, LogBucket, LogFacets, LogHistogram, LogSearch, QueryError, QueryService};

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

/// The step of the per-template counts that stands for the whole previous period.
const PREVIOUS: i64 = -1;

/// Per-template counts per step, from rollups and from records, ranked into patterns.
#[derive(Default)]
struct Tally {
    /// Keyed by service and template id joined with a NUL.
    by_template: HashMap<String, Pattern>,
    key: String,
}

impl Tally {
    /// `n` records of template `id` of `service` at step `t` ([`PREVIOUS`]: in the previous
    /// period), the first at `first_seen`, the highest severity number `sev`.
    fn add(&mut self, id: &str, service: &str, t: i64, n: u64, first_seen: i64, sev: Option<i32>) {
        self.key.clear();
        self.key.push_str(service);
        self.key.push('\0');
        self.key.push_str(id);
        // A day of rollups adds a template's minutes one by one: look up without allocating.
        if !self.by_template.contains_key(self.key.as_str()) {
            self.by_template.insert(
                self.key.clone(),
                Pattern {
                    template_id: id.to_string(),
                    template: String::new(),
                    service: service.to_string(),
                    count: 0,
                    previous_count: 0,
                    max_severity_number: 0,
                    series: Vec::new(),
                    first_seen_unix_nano: i64::MAX,
                    is_new: true,
                    sample: String::new(),
                },
            );
        }
        let Some(p) = self.by_template.get_mut(self.key.as_str()) else {
            return;
        };
        if t == PREVIOUS {
            p.previous_count += n;
        } else {
            p.count += n;
            // Minutes mostly arrive in time order: the step is usually the last one.
            match p.series.last_mut() {
                Some((step, count)) if *step == t => *count += n,
                _ => match p.series.iter_mut().find(|(step, _)| *step == t) {
                    Some((_, count)) => *count += n,
                    None => p.series.push((t, n)),
                },
            }
        }
        p.first_seen_unix_nano = p.first_seen_unix_nano.min(first_seen);
        if let Some(sev) = sev {
            p.max_severity_number = p.max_severity_number.max(sev);
        }
    }

    /// Adds per-template, per-step counts (`id`, `service`, `t`, `n`, `first_seen`, `sev`).
    fn add_batches(&mut self, batches: &[RecordBatch]) -> Result<(), QueryError> {
        for batch in batches {
            let ids = column(batch, "id", &DataType::Utf8)?;
            let services = column(batch, "service", &DataType::Utf8)?;
            let steps = column(batch, "t", &DataType::Int64)?;
            let counts = column(batch, "n", &DataType::Int64)?;
            let firsts = column(batch, "first_seen", &DataType::Int64)?;
            let sevs = column(batch, "sev", &DataType::Int32)?;
            let (ids, services) = (ids.as_string::<i32>(), services.as_string::<i32>());
            let steps = steps.as_primitive::<Int64Type>();
            let counts = counts.as_primitive::<Int64Type>();
            let firsts = firsts.as_primitive::<Int64Type>();
            let sevs = sevs.as_primitive::<Int32Type>();
            for row in 0..batch.num_rows() {
                self.add(
                    ids.value(row),
                    services.value(row),
                    steps.value(row),
                    u64::try_from(counts.value(row)).unwrap_or(0),
                    firsts.value(row),
                    sevs.is_valid(row).then(|| sevs.value(row)),
                );
            }
        }
        Ok(())
    }

    /// The `limit` most frequent in the window (more records first, then by id), their series
    /// in time order; text and sample left empty.
    fn top(self, limit: usize) -> Vec<Pattern> {
        let mut patterns: Vec<Pattern> = self
            .by_template
            .into_values()
            .filter(|p| p.count > 0)
            .collect();
        patterns.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.template_id.cmp(&b.template_id))
                .then_with(|| a.service.cmp(&b.service))
        });
        patterns.truncate(limit);
        for p in &mut patterns {
            p.is_new = p.previous_count == 0;
            p.series.sort_unstable();
        }
        patterns
    }
}

/// The step of a window's series: a sixtieth of it, in whole seconds, and in whole minutes
/// from a minute on (so that per-minute rollups fill its steps exactly).
fn pattern_step(range: TimeRange) -> i64 {
    let step = ((range.len_ns() / 60).max(1_000_000_000) / 1_000_000_000) * 1_000_000_000;
    if step < MINUTE_NS {
        return step;
    }
    ((step + MINUTE_NS / 2) / MINUTE_NS) * MINUTE_NS
}

fn ceil_minute(t: i64) -> i64 {
    let step = if t.rem_euclid(MINUTE_NS) == 0 {
        0
    } else {
        MINUTE_NS
    };
    floor_minute(t).saturating_add(step)
}

impl QueryService {
    /// Templates of the window with counts, a series, and whether they are new.
    ///
    /// Records are counted per template and step over the window and the previous period (the
    /// previous period as one bucket): the whole minutes from the per-minute pattern rollups
    /// kept at ingest, the parts of minutes at the edges of the two periods from the records
    /// (or all of it from the records when the step is not whole minutes, or no rollups cover
    /// the window: data stored before they were kept). The template text (as its newest record
    /// has it: a template's text can generalise while its id stays) and the newest record as a
    /// sample are then read for the `limit` most frequent templates only, from the
    /// newest minute first, then the newest twelfth of the window, then the rest of it, each
    /// only for the templates not found yet.
    ///
    /// The filters are those of [`QueryService::search_logs`] (`filter.limit` and `offset` are
    /// not used). The rollups are kept per service and template only, so with any filter but
    /// the service every count comes from the records.
    pub async fn log_patterns(
        &self,
        filter: &LogSearch,
        limit: usize,
    ) -> Result<PatternsResponse, QueryError> {
        let range = filter.range;
        let service = filter.service.as_deref();
        let prev_start = range.start_ns.saturating_sub(range.len_ns());
        let filters = log_filter_conditions(filter, LogFilterSkip::None);
        let svc: String = filters.iter().map(|c| format!(" AND {c}")).collect();
        let rollups_apply = filters.len() == usize::from(service.is_some());
        let step = pattern_step(range);
        // Records of the `pieces` of `[prev_start, end)` per template and step. The outer
        // bounds are what the store prunes files and batches by; the pieces (one condition
        // each) what the page index and the filter keep.
        let count_sql = |pieces: &[(i64, i64)]| {
            let within: Vec<String> = pieces
                .iter()
                .map(|(from, to)| format!("(time_unix_nano >= {from} AND time_unix_nano < {to})"))
                .collect();
            format!(
                "SELECT log_template_id AS id, service_name AS service, \
                 CASE WHEN time_unix_nano >= {start} THEN (time_unix_nano / {step}) * {step} ELSE {PREVIOUS} END AS t, \
                 count(*) AS n, min(time_unix_nano) AS first_seen, max(severity_number) AS sev \
                 FROM logs WHERE time_unix_nano >= {prev_start} AND time_unix_nano < {end} \
                 AND ({within}) AND log_template_id IS NOT NULL{svc} GROUP BY 1, 2, 3",
                start = range.start_ns,
                end = range.end_ns,
                within = within.join(" OR "),
            )
        };
        let mut tally = Tally::default();
        let (whole_start, whole_end) = (ceil_minute(prev_start), floor_minute(range.end_ns));
        let mut counted = false;
        if rollups_apply && step % MINUTE_NS == 0 && whole_start < whole_end {
            let whole = TimeRange {
                start_ns: whole_start,
                end_ns: whole_end,
            };
            let rollups = self
                .rollups(analysis::PATTERN_METRIC, whole, service)
                .await?;
            for r in rollups.iter() {
                // The minute holding the window's start is counted from records.
                let t = if r.t.saturating_add(MINUTE_NS) <= range.start_ns {
                    PREVIOUS
                } else if r.t >= range.start_ns {
                    (r.t / step) * step
                } else {
                    continue;
                };
                let first = r.t.saturating_add(r.min.map_or(0, |offset| offset as i64));
                // Severity numbers are small integers, exact in the rollup's f64.
                let sev = r.max.map(|m| m as i32);
                tally.add(r.attr("template_id"), &r.service, t, r.requests, first, sev);
                counted = true;
            }
        }
        let pieces = if counted {
            vec![
                (prev_start, whole_start),
                (floor_minute(range.start_ns), ceil_minute(range.start_ns)),
                (whole_end, range.end_ns),
            ]
        } else {
            vec![(prev_start, range.end_ns)]
        };
        let pieces: Vec<(i64, i64)> = pieces.into_iter().filter(|(a, b)| a < b).collect();
        if !pieces.is_empty() {
            tally.add_batches(&self.collect(&count_sql(&pieces)).await?)?;
        }
        let mut patterns = tally.top(limit);
        // Template text and sample: the newest minute first (a busy service's frequent
        // templates are all there), then the newest twelfth, then the whole window.
        let recent = crate::service::recent_start(range).unwrap_or(range.start_ns);
        let minute = range.end_ns.saturating_sub(MINUTE_NS).max(recent);
        let mut froms = vec![minute, recent, range.start_ns];
        froms.dedup();
        for from in froms {
            let missing: Vec<String> = patterns
                .iter()
                .filter(|p| p.template.is_empty())
                .map(|p| quote(&p.template_id))
                .collect();
            if missing.is_empty() {
                break;
            }
            let sql = format!(
                "SELECT log_template_id AS id, service_name AS service, first_value(log_template ORDER BY time_unix_nano DESC) AS template, \
                 first_value(body ORDER BY time_unix_nano DESC) AS sample FROM logs \
                 WHERE time_unix_nano >= {from} AND time_unix_nano < {end} AND log_template_id IN ({ids}){svc} \
                 GROUP BY 1, 2",
                end = range.end_ns,
                ids = missing.join(","),
            );
            let mut texts: HashMap<(String, String), (String, String)> = HashMap::new();
            for r in crate::service::to_json_rows(&self.collect(&sql).await?)? {
                texts.insert(
                    (text(&r, "id"), text(&r, "service")),
                    (text(&r, "template"), text(&r, "sample")),
                );
            }
            for p in patterns.iter_mut().filter(|p| p.template.is_empty()) {
                if let Some((template, sample)) =
                    texts.remove(&(p.template_id.clone(), p.service.clone()))
                {
                    p.template = template;
                    p.sample = sample;
                }
            }
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

/// Severity bands of the histogram and facets, most severe first: a record is in the first band
/// whose lowest severity number it reaches (`UNSET` below 1).
pub const SEVERITY_BANDS: [(&str, i32); 6] = [
    ("FATAL", 21),
    ("ERROR", 17),
    ("WARN", 13),
    ("INFO", 9),
    ("DEBUG", 5),
    ("TRACE", 1),
];

fn band_sql() -> String {
    let whens: Vec<String> = SEVERITY_BANDS
        .iter()
        .map(|(name, min)| format!("WHEN severity_number >= {min} THEN '{name}'"))
        .collect();
    format!("CASE {} ELSE 'UNSET' END", whens.join(" "))
}

/// Most values of the service facet.
const MAX_FACET_VALUES: usize = 50;

impl QueryService {
    /// Records matching `q` (as [`QueryService::search_logs`] filters them) per `step_ns` and
    /// severity band, with their total.
    pub async fn log_histogram(
        &self,
        q: &LogSearch,
        step_ns: i64,
    ) -> Result<LogHistogram, QueryError> {
        self.note_log_read(q);
        debug_assert!(step_ns > 0);
        let sql = format!(
            "SELECT (time_unix_nano / {step_ns}) * {step_ns} AS t, {band} AS band, count(*) AS n \
             FROM logs WHERE {conds} GROUP BY 1, 2 ORDER BY 1, 2",
            band = band_sql(),
            conds = log_conditions(q, q.range.start_ns, LogFilterSkip::None).join(" AND "),
        );
        let mut buckets = Vec::new();
        let mut total = 0;
        for r in to_json_rows(&self.collect(&sql).await?)? {
            let count = r.get("n").and_then(Value::as_u64).unwrap_or(0);
            total += count;
            buckets.push(LogBucket {
                t: r.get("t").and_then(Value::as_i64).unwrap_or(0),
                severity: text(&r, "band"),
                count,
            });
        }
        Ok(LogHistogram {
            step_ns,
            total,
            buckets,
        })
    }

    /// Counts per service (the most frequent first, at most 50) and per severity band of the
    /// records matching `q`, each facet without its own filter (so that every choice shows).
    pub async fn log_facets(&self, q: &LogSearch) -> Result<LogFacets, QueryError> {
        let facet = |key: &str, skip: LogFilterSkip, tail: &str| {
            format!(
                "SELECT {key} AS k, count(*) AS n FROM logs WHERE {} GROUP BY 1 ORDER BY 2 DESC, 1{tail}",
                log_conditions(q, q.range.start_ns, skip).join(" AND ")
            )
        };
        let limit = format!(" LIMIT {MAX_FACET_VALUES}");
        let services_sql = facet("service_name", LogFilterSkip::Service, &limit);
        let severities_sql = facet(&band_sql(), LogFilterSkip::Severity, "");
        let (services, severities) =
            tokio::try_join!(self.collect(&services_sql), self.collect(&severities_sql),)?;
        let values = |batches: &[RecordBatch]| -> Result<Vec<FacetValue>, QueryError> {
            let mut out = Vec::new();
            for r in to_json_rows(batches)? {
                out.push(FacetValue {
                    value: text(&r, "k"),
                    count: r.get("n").and_then(Value::as_u64).unwrap_or(0),
                });
            }
            Ok(out)
        };
        let services = values(&services)?;
        let mut severities = values(&severities)?;
        // Most severe first, as the bands are listed.
        let rank = |v: &str| SEVERITY_BANDS.iter().position(|(name, _)| *name == v);
        severities.sort_by_key(|f| rank(&f.value).unwrap_or(SEVERITY_BANDS.len()));
        Ok(LogFacets {
            services,
            severities,
        })
    }
}
