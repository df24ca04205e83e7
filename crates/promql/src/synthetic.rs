//! Metrics derived from the other signals, read from the per-minute rollups kept at ingest:
//! span RED per service and operation, and log records per service, severity and template.
//!
//! The rollups are per-minute deltas; here they become counters that start at 0 where the
//! window read starts, with one sample at the end of each minute (`minute + 60 s`) from the
//! first minute a key was seen to the last minute of the data, so that a quiet key stays a flat
//! counter. Only `rate`, `increase` and the like are meaningful on them, as on any counter.

use std::collections::{BTreeMap, HashMap};

use query::{LogMinute, RedMinute};

use crate::convert::{Series, SeriesSet};
use crate::labels::{Labels, NAME};
use crate::names::{Kind, format_float};

pub const SPAN_REQUESTS: &str = "redscope_span_requests_total";
pub const SPAN_ERRORS: &str = "redscope_span_errors_total";
pub const SPAN_DURATION: &str = "redscope_span_duration_seconds";
pub const LOG_RECORDS: &str = "redscope_log_records_total";

const MINUTE_MS: i64 = 60_000;

/// A synthetic metric family: its name, kind and help text.
#[derive(Debug, Clone, Copy)]
pub struct Family {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
    pub unit: &'static str,
    /// Which rollup it is read from.
    pub source: Rollup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rollup {
    Red,
    Logs,
}

pub const FAMILIES: [Family; 4] = [
    Family {
        name: SPAN_REQUESTS,
        kind: Kind::Counter,
        help: "Spans per service (job), operation and span kind, from redscope's RED rollups",
        unit: "",
        source: Rollup::Red,
    },
    Family {
        name: SPAN_ERRORS,
        kind: Kind::Counter,
        help: "Spans with an error status per service (job), operation and span kind",
        unit: "",
        source: Rollup::Red,
    },
    Family {
        name: SPAN_DURATION,
        kind: Kind::Histogram,
        help: "Span durations per service (job), operation and span kind",
        unit: "seconds",
        source: Rollup::Red,
    },
    Family {
        name: LOG_RECORDS,
        kind: Kind::Counter,
        help: "Log records with a Log AI template per service (job), severity and template",
        unit: "",
        source: Rollup::Logs,
    },
];

/// Every how many of the sketch's bounds (15% apart) one becomes an `le` bucket: every 5th,
/// so that bounds double (0.1 ms, 0.2 ms, 0.4 ms, ... 105 s), as coarse as usual Prometheus
/// buckets and a fifth of the series.
const BUCKET_STRIDE: usize = 5;

/// Per-minute deltas of counters, by series id, summed up into counter series.
#[derive(Default)]
struct Deltas {
    index: HashMap<Labels, usize>,
    series: Vec<(Labels, BTreeMap<i64, f64>)>,
    last_minute: i64,
}

impl Deltas {
    fn id(&mut self, labels: Labels) -> usize {
        if let Some(&id) = self.index.get(&labels) {
            return id;
        }
        let id = self.series.len();
        self.index.insert(labels.clone(), id);
        self.series.push((labels, BTreeMap::new()));
        id
    }

    fn add(&mut self, id: usize, minute_ms: i64, v: f64) {
        self.last_minute = self.last_minute.max(minute_ms);
        if let Some(s) = self.series.get_mut(id) {
            *s.1.entry(minute_ms).or_default() += v;
        }
    }

    fn into_series(self, out: &mut SeriesSet) {
        for (labels, minutes) in self.series {
            let Some((&first, _)) = minutes.first_key_value() else {
                continue;
            };
            let id = out.id(&labels);
            out.push_id(id, first, 0.0);
            let mut total = 0.0;
            let mut m = first;
            while m <= self.last_minute {
                total += minutes.get(&m).copied().unwrap_or(0.0);
                out.push_id(id, m + MINUTE_MS, total);
                m += MINUTE_MS;
            }
        }
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// The series ids of one RED key (service, operation, span kind).
struct RedIds {
    requests: usize,
    errors: usize,
    sum: usize,
    count: usize,
    /// (sketch bucket index, id) of each `le` bucket, then +Inf.
    buckets: Vec<(usize, usize)>,
    inf: usize,
}

/// The wanted series (by name) of the span RED families.
pub(crate) fn red_series(minutes: &[RedMinute], wanted: &dyn Fn(&str) -> bool) -> Vec<Series> {
    let bucket_name = format!("{SPAN_DURATION}_bucket");
    let sum_name = format!("{SPAN_DURATION}_sum");
    let count_name = format!("{SPAN_DURATION}_count");
    let (want_requests, want_errors) = (wanted(SPAN_REQUESTS), wanted(SPAN_ERRORS));
    let (want_buckets, want_sum, want_count) =
        (wanted(&bucket_name), wanted(&sum_name), wanted(&count_name));
    let bounds = analysis::BOUNDS_MS();
    // The highest bucket used by any key: every key gets the same `le` buckets up to it, so
    // that `sum by (le)` over keys adds like bounds (a key's own top would leave the others'
    // higher buckets out of the sum and bend every quantile taken from it).
    let highest = minutes
        .iter()
        .filter_map(|m| m.counts.iter().rposition(|c| *c > 0))
        .max()
        .unwrap_or(0)
        .min(bounds.len() - 1);
    let mut deltas = Deltas::default();
    let mut ids: HashMap<(&str, &str, &str), RedIds> = HashMap::new();
    for m in minutes {
        let key = (
            m.service.as_str(),
            m.operation.as_str(),
            m.span_kind.as_str(),
        );
        let ids = ids.entry(key).or_insert_with(|| {
            let base = labels(&[("job", key.0), ("operation", key.1), ("span_kind", key.2)]);
            let mut named = |name: &str, le: Option<&str>| {
                let mut l = base.clone();
                l.set(NAME, name);
                if let Some(le) = le {
                    l.set("le", le);
                }
                deltas.id(l)
            };
            // Buckets up to the first kept bound at or above the highest one used.
            let mut buckets = Vec::new();
            let mut i = 0;
            while i < bounds.len() {
                // Bounds in seconds, rounded to the nanosecond so that labels read well.
                let le = format_float((bounds[i] * 1e6).round() / 1e9);
                buckets.push((i, named(&bucket_name, Some(&le))));
                if i >= highest {
                    break;
                }
                i += BUCKET_STRIDE;
            }
            RedIds {
                requests: named(SPAN_REQUESTS, None),
                errors: named(SPAN_ERRORS, None),
                sum: named(&sum_name, None),
                count: named(&count_name, None),
                buckets,
                inf: named(&bucket_name, Some("+Inf")),
            }
        });
        let minute = m.t.div_euclid(1_000_000);
        let requests = m.requests as f64;
        if want_requests {
            deltas.add(ids.requests, minute, requests);
        }
        if want_errors {
            deltas.add(ids.errors, minute, if m.error { requests } else { 0.0 });
        }
        if want_sum {
            deltas.add(ids.sum, minute, m.sum_ms / 1000.0);
        }
        if want_count {
            deltas.add(ids.count, minute, requests);
        }
        if want_buckets {
            let mut cumulative = 0.0;
            let mut from = 0;
            for (upto, id) in &ids.buckets {
                let end = (*upto + 1).min(m.counts.len());
                if from < end {
                    cumulative += m.counts[from..end].iter().sum::<u64>() as f64;
                }
                from = from.max(end);
                deltas.add(*id, minute, cumulative);
            }
            deltas.add(ids.inf, minute, requests);
        }
    }
    let mut set = SeriesSet::default();
    deltas.into_series(&mut set);
    set.finish()
}

/// The name of a severity number's range, as OpenTelemetry names them.
pub fn severity_text(n: i32) -> &'static str {
    model::severity_band(n).unwrap_or("UNSPECIFIED")
}

/// `redscope_log_records_total{job, severity, template_id}` from the log-pattern rollups (the
/// severity of a template's minute is the highest seen in it).
pub(crate) fn log_series(minutes: &[LogMinute]) -> Vec<Series> {
    let mut deltas = Deltas::default();
    for m in minutes {
        let l = labels(&[
            (NAME, LOG_RECORDS),
            ("job", m.service.as_str()),
            ("severity", severity_text(m.max_severity)),
            ("template_id", m.template_id.as_str()),
        ]);
        let id = deltas.id(l);
        deltas.add(id, m.t.div_euclid(1_000_000), m.records as f64);
    }
    let mut set = SeriesSet::default();
    deltas.into_series(&mut set);
    set.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minute(t_min: i64, error: bool, requests: u64) -> RedMinute {
        let mut counts = vec![0; 10];
        counts[3] = requests;
        RedMinute {
            t: t_min * 60_000_000_000,
            service: "cart".into(),
            operation: "GET /cart".into(),
            span_kind: "SERVER".into(),
            error,
            requests,
            counts,
            sum_ms: requests as f64 * 0.15,
        }
    }

    #[test]
    fn red_rollups_become_counters_that_stay_flat_when_quiet() {
        let minutes = vec![
            minute(10, false, 5),
            minute(10, true, 1),
            minute(12, false, 2),
        ];
        let series = red_series(&minutes, &|_| true);
        let get = |name: &str, le: &str| {
            series
                .iter()
                .find(|s| s.labels.name() == name && s.labels.get("le") == le)
                .map(|s| s.samples.clone())
                .unwrap_or_default()
        };
        let m = |i: i64| i * 60_000;
        assert_eq!(
            get(SPAN_REQUESTS, ""),
            vec![(m(10), 0.0), (m(11), 6.0), (m(12), 6.0), (m(13), 8.0)]
        );
        assert_eq!(
            get(SPAN_ERRORS, ""),
            vec![(m(10), 0.0), (m(11), 1.0), (m(12), 1.0), (m(13), 1.0)]
        );
        assert_eq!(
            get("redscope_span_duration_seconds_bucket", "+Inf").len(),
            4
        );
        // The used bucket (0.152 ms) lies between the kept bounds 0.1 ms and 0.2 ms: buckets
        // 0.1 ms (empty), 0.2 ms (all), then +Inf.
        let buckets: Vec<&str> = series
            .iter()
            .filter(|s| s.labels.name() == "redscope_span_duration_seconds_bucket")
            .map(|s| s.labels.get("le"))
            .collect();
        assert_eq!(buckets, vec!["+Inf", "0.0001", "0.000201136"]);
        let bucket = |le: &str| get("redscope_span_duration_seconds_bucket", le);
        assert_eq!(bucket("0.0001").last(), Some(&(m(13), 0.0)));
        assert_eq!(bucket("0.000201136").last(), Some(&(m(13), 8.0)));
        assert_eq!(series[0].labels.get("job"), "cart");
    }

    #[test]
    fn every_operation_has_the_same_buckets_so_that_sums_by_le_add_up() {
        let fast = minute(10, false, 4);
        let mut slow = minute(10, false, 2);
        slow.operation = "POST /checkout".into();
        slow.counts = vec![0; 40];
        slow.counts[37] = 2;
        let series = red_series(&[fast, slow], &|_| true);
        let les = |op: &str| -> Vec<String> {
            series
                .iter()
                .filter(|s| {
                    s.labels.name() == "redscope_span_duration_seconds_bucket"
                        && s.labels.get("operation") == op
                })
                .map(|s| s.labels.get("le").to_string())
                .collect()
        };
        assert_eq!(les("GET /cart"), les("POST /checkout"));
        assert!(les("GET /cart").len() > 3, "{:?}", les("GET /cart"));
        // The fast operation's highest bucket holds all of its spans.
        let top = series
            .iter()
            .filter(|s| {
                s.labels.name() == "redscope_span_duration_seconds_bucket"
                    && s.labels.get("operation") == "GET /cart"
                    && s.labels.get("le") != "+Inf"
            })
            .map(|s| s.samples.last().map(|p| p.1).unwrap_or(0.0))
            .fold(0.0, f64::max);
        assert_eq!(top, 4.0);
    }
}
