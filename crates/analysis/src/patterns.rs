//! Per-minute counts of log templates, kept at ingest like RED, so that the patterns of any
//! window answer from rollups instead of counting the window's records.

use model::{LogRow, MetricPointRow};
use rustc_hash::FxHashMap;
use serde_json::json;

/// Log records per service, template and minute (`redscope.log.patterns`, a delta sum). The
/// point's `min` is when the minute's first record was written, in nanoseconds after the
/// minute's start; its `max` the highest severity number seen (0: none).
pub const PATTERN_METRIC: &str = "redscope.log.patterns";

const MINUTE_NS: i64 = 60_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Count {
    records: u64,
    first_ns: i64,
    max_severity: i32,
}

/// Template counts of some log records, by service, template id and minute. Records without a
/// template id are not counted. (Nested maps with a fast hash: a record of a known service and
/// template is counted without allocating, on the ingest path.)
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PatternCounts {
    counts: FxHashMap<String, FxHashMap<String, FxHashMap<i64, Count>>>,
}

impl PatternCounts {
    /// The counts of `rows`.
    pub fn of(rows: &[LogRow]) -> PatternCounts {
        let mut out = PatternCounts::default();
        for row in rows {
            let Some(id) = row.log_template_id.as_deref() else {
                continue;
            };
            out.count(
                &row.resource.service_name,
                id,
                row.time_unix_nano,
                row.severity_number,
            );
        }
        out
    }

    /// Counts one record of `service` with template `template_id`.
    pub fn count(&mut self, service: &str, template_id: &str, time_unix_nano: i64, severity: i32) {
        let minute = time_unix_nano.div_euclid(MINUTE_NS) * MINUTE_NS;
        let count = Count {
            records: 1,
            first_ns: time_unix_nano,
            max_severity: severity,
        };
        self.add(service, template_id, minute, count);
    }

    fn add(&mut self, service: &str, id: &str, minute: i64, count: Count) {
        if !self.counts.contains_key(service) {
            self.counts
                .insert(service.to_string(), FxHashMap::default());
        }
        let Some(ids) = self.counts.get_mut(service) else {
            return;
        };
        if !ids.contains_key(id) {
            ids.insert(id.to_string(), FxHashMap::default());
        }
        let Some(minutes) = ids.get_mut(id) else {
            return;
        };
        minutes
            .entry(minute)
            .and_modify(|c| {
                c.records += count.records;
                c.first_ns = c.first_ns.min(count.first_ns);
                c.max_severity = c.max_severity.max(count.max_severity);
            })
            .or_insert(count);
    }

    /// Adds `other`'s counts to these.
    pub fn merge(&mut self, other: PatternCounts) {
        for (service, ids) in other.counts {
            for (id, minutes) in ids {
                for (minute, count) in minutes {
                    self.add(&service, &id, minute, count);
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The counts as metric points (one per minute, service and template), leaving none.
    pub fn drain(&mut self) -> Vec<MetricPointRow> {
        let rows = self.rows();
        self.counts.clear();
        rows
    }

    /// The counts as metric points (one per minute, service and template).
    pub fn rows(&self) -> Vec<MetricPointRow> {
        let flat = self.counts.iter().flat_map(|(service, ids)| {
            ids.iter().flat_map(move |(id, minutes)| {
                minutes
                    .iter()
                    .map(move |(&minute, &count)| (minute, service, id, count))
            })
        });
        flat.map(|(minute, service, id, count)| MetricPointRow {
            time_unix_nano: minute,
            start_time_unix_nano: minute,
            metric_name: PATTERN_METRIC.to_string(),
            metric_type: "sum".to_string(),
            unit: "{record}".to_string(),
            description: "log records per Log AI template, derived by redscope".to_string(),
            metric_metadata: "{}".to_string(),
            resource: crate::red::derived_resource(service),
            attributes: json!({"template_id": id}).to_string(),
            aggregation_temporality: 1,
            is_monotonic: true,
            value: Some(count.records as f64),
            value_int: i64::try_from(count.records).ok(),
            count: Some(count.records),
            sum: Some(count.records as f64),
            // Offsets within a minute and severity numbers are exact in an f64.
            min: Some((count.first_ns - minute) as f64),
            max: Some(f64::from(count.max_severity)),
            bucket_counts: vec![count.records],
            exemplars: "[]".to_string(),
            ..MetricPointRow::default()
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(t: i64, service: &str, id: Option<&str>, severity: i32) -> LogRow {
        LogRow {
            time_unix_nano: t,
            severity_number: severity,
            resource: std::sync::Arc::new(model::Resource {
                service_name: service.into(),
                ..model::Resource::default()
            }),
            log_template_id: id.map(str::to_string),
            ..LogRow::default()
        }
    }

    #[test]
    fn records_count_per_minute_service_and_template() {
        let m = 1_000 * MINUTE_NS;
        let mut counts = PatternCounts::of(&[
            log(m + 7, "api", Some("a"), 9),
            log(m + 3, "api", Some("a"), 17),
            log(m + MINUTE_NS, "api", Some("a"), 9),
            log(m + 5, "web", Some("a"), 9),
            log(m + 1, "api", None, 21),
        ]);
        // A second request's counts for the first minute.
        counts.merge(PatternCounts::of(&[log(m + 2, "api", Some("a"), 13)]));
        // Reading the rows leaves the counts (a failed write is retried with them).
        assert_eq!(counts.rows().len(), 3);
        let pending = std::mem::take(&mut counts);
        counts.merge(pending);
        let mut rows = counts.drain();
        assert!(counts.is_empty());
        rows.sort_by_key(|r| (r.time_unix_nano, r.resource.service_name.clone()));
        let seen: Vec<(i64, &str, &str, u64, f64, f64)> = rows
            .iter()
            .map(|r| {
                (
                    r.time_unix_nano,
                    r.resource.service_name.as_str(),
                    r.attributes.as_str(),
                    r.bucket_counts[0],
                    r.min.unwrap(),
                    r.max.unwrap(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                (m, "api", r#"{"template_id":"a"}"#, 3, 2.0, 17.0),
                (m, "web", r#"{"template_id":"a"}"#, 1, 5.0, 9.0),
                (m + MINUTE_NS, "api", r#"{"template_id":"a"}"#, 1, 0.0, 9.0),
            ]
        );
        assert!(rows.iter().all(|r| r.metric_name == PATTERN_METRIC));
    }
}
