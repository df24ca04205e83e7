//! Trace search: the list of traces matching a search, newest or longest first, and the
//! scatter of all of them over the range (counts per step and a sample of points spread over
//! the whole range, so an hour's scatter is not the last minute's).

use std::collections::HashMap;

use crate::service::{
    TRACE_SLACK_NS, i64_of, recent_start, sorted_strings, str_of, to_json_rows, u64_of,
};
use crate::sql::{attribute_filter, quote};
use crate::types::*;
use crate::{QueryError, QueryService, ReadKind, encode_cursor};
use model::Signal;

/// The share of a scatter's points given to the range's slowest traces, whatever the sample.
const SLOWEST_SHARE: usize = 10;

impl QueryService {
    pub async fn search_traces(&self, q: &TraceSearch) -> Result<TracesPage, QueryError> {
        self.note_trace_read(q);
        // Traces are listed newest first (chosen by their latest matching span, each page in the
        // order of the traces' starts, see `summarise_traces`). The first page is
        // looked for in the most recent part of the range first: when that part alone holds more
        // than a page of traces, those are the range's newest too (a trace with a matching span
        // in it has its latest one there, every other trace is older), and the rest of the range
        // is never read. Otherwise the whole range is searched.
        // Longest first has no such shortcut: the whole range is searched.
        let mut ids = Vec::new();
        if q.order == TraceOrder::Newest
            && let Some(recent) = recent_start(q.range).filter(|_| q.offset == 0)
        {
            ids = self.trace_ids(q, recent).await?;
        }
        if ids.len() <= q.limit {
            ids = self.trace_ids(q, q.range.start_ns).await?;
        }
        self.summarise_traces(q, ids).await
    }

    /// Up to `limit + 1` ids of the traces with spans matching `q` from `from_ns` to the end of
    /// its range, in `q.order`, skipping `offset`.
    async fn trace_ids(&self, q: &TraceSearch, from_ns: i64) -> Result<Vec<String>, QueryError> {
        let conds = trace_conditions(q, from_ns);
        let sql = match q.order {
            TraceOrder::Newest => format!(
                "SELECT trace_id, max(start_time_unix_nano) AS k FROM spans WHERE {} GROUP BY trace_id ORDER BY k DESC, trace_id LIMIT {} OFFSET {}",
                conds.join(" AND "),
                q.limit + 1,
                q.offset
            ),
            // The traces' durations as their summaries measure them (first start to last end,
            // over all their spans), so the listed durations fall.
            TraceOrder::Longest => format!(
                "SELECT trace_id, max(end_time_unix_nano) - min(start_time_unix_nano) AS k FROM spans \
                 WHERE start_time_unix_nano >= {} AND start_time_unix_nano < {} \
                 AND trace_id IN (SELECT DISTINCT trace_id FROM spans WHERE {}) \
                 GROUP BY trace_id ORDER BY k DESC, trace_id LIMIT {} OFFSET {}",
                q.range.start_ns.saturating_sub(TRACE_SLACK_NS),
                q.range.end_ns.saturating_add(TRACE_SLACK_NS),
                conds.join(" AND "),
                q.limit + 1,
                q.offset
            ),
        };
        Ok(to_json_rows(&self.collect(&sql).await?)?
            .iter()
            .map(|r| str_of(r, "trace_id"))
            .collect())
    }

    /// The summaries of `ids` (as listed by [`Self::trace_ids`]), in that order.
    async fn summarise_traces(
        &self,
        q: &TraceSearch,
        mut ids: Vec<String>,
    ) -> Result<TracesPage, QueryError> {
        let more = ids.len() > q.limit;
        ids.truncate(q.limit);
        if ids.is_empty() {
            return Ok(TracesPage {
                traces: Vec::new(),
                next_cursor: None,
            });
        }
        let list: Vec<String> = ids.iter().map(|i| quote(i)).collect();
        let sql = format!(
            "SELECT trace_id, min(start_time_unix_nano) AS start, max(end_time_unix_nano) AS finish, count(*) AS spans, \
             sum(CASE WHEN status_code = 'ERROR' THEN 1 ELSE 0 END) AS errors, \
             COALESCE(max(CASE WHEN parent_span_id = '' THEN service_name END), first_value(service_name ORDER BY start_time_unix_nano)) AS root_service, \
             COALESCE(max(CASE WHEN parent_span_id = '' THEN name END), first_value(name ORDER BY start_time_unix_nano)) AS root_name, \
             array_agg(DISTINCT service_name) AS services \
             FROM spans WHERE trace_id IN ({}) AND start_time_unix_nano >= {} AND start_time_unix_nano < {} GROUP BY trace_id",
            list.join(","),
            q.range.start_ns.saturating_sub(TRACE_SLACK_NS),
            q.range.end_ns.saturating_add(TRACE_SLACK_NS)
        );
        let mut summaries: HashMap<String, TraceSummary> = Default::default();
        for r in to_json_rows(&self.collect(&sql).await?)? {
            let start = i64_of(&r, "start");
            let services = sorted_strings(&r, "services");
            let id = str_of(&r, "trace_id");
            summaries.insert(
                id.clone(),
                TraceSummary {
                    trace_id: id,
                    root_service: str_of(&r, "root_service"),
                    root_name: str_of(&r, "root_name"),
                    start_time_unix_nano: start,
                    duration_ns: i64_of(&r, "finish") - start,
                    span_count: u64_of(&r, "spans"),
                    error_count: u64_of(&r, "errors"),
                    services,
                },
            );
        }
        let mut traces: Vec<TraceSummary> =
            ids.iter().filter_map(|id| summaries.remove(id)).collect();
        // Newest first means by the start the list shows: the page holds the traces with the
        // latest matching spans (what lets the recent part of the range answer alone), and a
        // long trace's latest span comes after later-started short ones, so the page is put in
        // the order of the traces' starts (ties keep the listed order).
        if q.order == TraceOrder::Newest {
            traces.sort_by_key(|t| std::cmp::Reverse(t.start_time_unix_nano));
        }
        let next_cursor = more.then(|| encode_cursor(q.range, q.offset + q.limit));
        Ok(TracesPage {
            traces,
            next_cursor,
        })
    }

    /// Notes the service and span name a trace question names as read.
    fn note_trace_read(&self, q: &TraceSearch) {
        if let Some(s) = &q.service {
            self.reads.record(Signal::Spans, ReadKind::Service, s);
        }
        if let Some(op) = &q.operation {
            self.reads.record(Signal::Spans, ReadKind::SpanName, op);
        }
    }

    /// Counts per `step_ns` of the traces matching `q` (by their first span's start), and a
    /// sample of at most about `max_points` of them spread evenly over the steps: in each step a
    /// fair share drawn without preference (by trace id, which is random), as many errors again,
    /// and the range's slowest traces (a tenth of `max_points`).
    pub async fn trace_scatter(
        &self,
        q: &TraceSearch,
        step_ns: i64,
        max_points: usize,
    ) -> Result<TraceScatter, QueryError> {
        debug_assert!(step_ns > 0);
        let steps = ((q.range.end_ns - q.range.start_ns) / step_ns).max(1) as usize;
        let per_step = (max_points / steps).max(1);
        let slowest = (max_points / SLOWEST_SHARE).max(1);
        let sql = format!(
            "WITH t AS (SELECT trace_id, min(start_time_unix_nano) AS s, \
               max(end_time_unix_nano) - min(start_time_unix_nano) AS d, \
               max(CASE WHEN status_code = 'ERROR' THEN 1 ELSE 0 END) AS err \
               FROM spans WHERE start_time_unix_nano >= {lo} AND start_time_unix_nano < {hi} \
               AND trace_id IN (SELECT DISTINCT trace_id FROM spans WHERE {conds}) GROUP BY trace_id), \
             b AS (SELECT trace_id, s, d, err, (s - {start}) / {step_ns} AS k FROM t \
               WHERE s >= {start} AND s < {end}), \
             r AS (SELECT trace_id, s, d, err, k, \
               row_number() OVER (PARTITION BY k ORDER BY trace_id) AS rn, \
               row_number() OVER (PARTITION BY k, err ORDER BY trace_id) AS rne, \
               row_number() OVER (ORDER BY d DESC, trace_id) AS rs, \
               count(*) OVER (PARTITION BY k) AS n, sum(err) OVER (PARTITION BY k) AS ne FROM b) \
             SELECT trace_id, s, d, err, k, n, ne FROM r \
             WHERE rn <= {per_step} OR (err = 1 AND rne <= {per_step}) OR rs <= {slowest}",
            lo = q.range.start_ns.saturating_sub(TRACE_SLACK_NS),
            hi = q.range.end_ns.saturating_add(TRACE_SLACK_NS),
            conds = trace_conditions(q, q.range.start_ns).join(" AND "),
            start = q.range.start_ns,
            end = q.range.end_ns,
        );
        let mut buckets: HashMap<i64, TraceBucket> = HashMap::new();
        let mut points = Vec::new();
        for r in to_json_rows(&self.collect(&sql).await?)? {
            let k = i64_of(&r, "k");
            buckets.entry(k).or_insert_with(|| TraceBucket {
                t: q.range.start_ns + k * step_ns,
                count: u64_of(&r, "n"),
                errors: u64_of(&r, "ne"),
            });
            // Every step keeps its first row (per_step >= 1), so every step's counts arrive.
            points.push(TracePoint {
                trace_id: str_of(&r, "trace_id"),
                start_time_unix_nano: i64_of(&r, "s"),
                duration_ns: i64_of(&r, "d"),
                error: i64_of(&r, "err") > 0,
            });
        }
        let mut buckets: Vec<TraceBucket> = buckets.into_values().collect();
        buckets.sort_by_key(|b| b.t);
        points.sort_by(|a, b| {
            (a.start_time_unix_nano, &a.trace_id).cmp(&(b.start_time_unix_nano, &b.trace_id))
        });
        let total = buckets.iter().map(|b| b.count).sum();
        let errors = buckets.iter().map(|b| b.errors).sum();
        Ok(TraceScatter {
            step_ns,
            total,
            errors,
            sampled: (points.len() as u64) < total,
            buckets,
            points,
        })
    }
}

/// What a span must satisfy for its trace to match `q`, from `from_ns` to the end of its range.
fn trace_conditions(q: &TraceSearch, from_ns: i64) -> Vec<String> {
    let mut conds = vec![
        format!("start_time_unix_nano >= {from_ns}"),
        format!("start_time_unix_nano < {}", q.range.end_ns),
    ];
    if let Some(s) = &q.service {
        conds.push(format!("service_name = {}", quote(s)));
    }
    if let Some(op) = &q.operation {
        conds.push(format!(
            "(name = {0} OR http_route = {0} OR rpc_method = {0})",
            quote(op)
        ));
    }
    if q.errors_only {
        conds.push("status_code = 'ERROR'".to_string());
    }
    if let Some(d) = q.min_duration_ns {
        conds.push(format!("duration_ns >= {d}"));
    }
    if let Some(d) = q.max_duration_ns {
        conds.push(format!("duration_ns <= {d}"));
    }
    for (k, v) in &q.attributes {
        conds.push(attribute_filter("spans", k, v));
    }
    conds
}
