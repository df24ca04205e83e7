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

/// Per-minute deltas of counters keyed by label set, summed up into counter series.
#[derive(Default)]
struct Deltas {
    by_key: HashMap<Labels, BTreeMap<i64, f64>>,
    last_minute: i64,
}

impl Deltas {
    fn add(&mut self, labels: &Labels, minute_ms: i64, v: f64) {
        self.last_minute = self.last_minute.max(minute_ms);
        *self
            .by_key
            .entry(labels.clone())
            .or_default()
            .entry(minute_ms)
            .or_default() += v;
    }

    fn into_series(self, out: &mut SeriesSet) {
        for (labels, minutes) in self.by_key {
            let Some((&first, _)) = minutes.first_key_value() else {
                continue;
            };
            out.push(&labels, first, 0.0);
            let mut total = 0.0;
            let mut m = first;
            while m <= self.last_minute {
                total += minutes.get(&m).copied().unwrap_or(0.0);
                out.push(&labels, m + MINUTE_MS, total);
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

/// The wanted series (by name) of the span RED families.
pub(crate) fn red_series(minutes: &[RedMinute], wanted: &dyn Fn(&str) -> bool) -> Vec<Series> {
    let bucket_name = format!("{SPAN_DURATION}_bucket");
    let sum_name = format!("{SPAN_DURATION}_sum");
    let count_name = format!("{SPAN_DURATION}_count");
    let (want_requests, want_errors) = (wanted(SPAN_REQUESTS), wanted(SPAN_ERRORS));
    let (want_buckets, want_sum, want_count) =
        (wanted(&bucket_name), wanted(&sum_name), wanted(&count_name));
    let bounds = analysis::BOUNDS_MS();
    // The highest bucket used per key, so that only the buckets up to it become series.
    let mut top: HashMap<(&str, &str, &str), usize> = HashMap::new();
    for m in minutes {
        let used = m.counts.iter().rposition(|c| *c > 0).unwrap_or(0);
        let e = top
            .entry((&m.service, &m.operation, &m.span_kind))
            .or_default();
        *e = (*e).max(used);
    }
    let mut deltas = Deltas::default();
    for m in minutes {
        let minute = m.t.div_euclid(1_000_000);
        let base = [
            ("job", m.service.as_str()),
            ("operation", m.operation.as_str()),
            ("span_kind", m.span_kind.as_str()),
        ];
        let with_name = |name: &str| {
            let mut l = labels(&base);
            l.set(NAME, name);
            l
        };
        let requests = m.requests as f64;
        if want_requests {
            deltas.add(&with_name(SPAN_REQUESTS), minute, requests);
        }
        if want_errors {
            let errors = if m.error { requests } else { 0.0 };
            deltas.add(&with_name(SPAN_ERRORS), minute, errors);
        }
        if want_sum {
            deltas.add(&with_name(&sum_name), minute, m.sum_ms / 1000.0);
        }
        if want_count {
            deltas.add(&with_name(&count_name), minute, requests);
        }
        if want_buckets {
            let highest = top
                .get(&(
                    m.service.as_str(),
                    m.operation.as_str(),
                    m.span_kind.as_str(),
                ))
                .copied()
                .unwrap_or(0)
                .min(bounds.len().saturating_sub(1));
            let mut cumulative = 0.0;
            for (i, bound) in bounds.iter().enumerate().take(highest + 1) {
                cumulative += m.counts.get(i).copied().unwrap_or(0) as f64;
                // Bounds in seconds, rounded to the nanosecond so that labels read well.
                let le = format_float((bound * 1e6).round() / 1e9);
                let mut l = with_name(&bucket_name);
                l.set("le", &le);
                deltas.add(&l, minute, cumulative);
            }
            let mut l = with_name(&bucket_name);
            l.set("le", "+Inf");
            deltas.add(&l, minute, requests);
        }
    }
    let mut set = SeriesSet::default();
    deltas.into_series(&mut set);
    set.finish()
}

/// The name of a severity number's range, as OpenTelemetry names them.
pub fn severity_text(n: i32) -> &'static str {
    match n {
        1..=4 => "TRACE",
        5..=8 => "DEBUG",
        9..=12 => "INFO",
        13..=16 => "WARN",
        17..=20 => "ERROR",
        21..=24 => "FATAL",
        _ => "UNSPECIFIED",
    }
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
        deltas.add(&l, m.t.div_euclid(1_000_000), m.records as f64);
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
        // Buckets up to the highest one used (0.152 ms), then +Inf.
        let buckets: Vec<&str> = series
            .iter()
            .filter(|s| s.labels.name() == "redscope_span_duration_seconds_bucket")
            .map(|s| s.labels.get("le"))
            .collect();
        assert_eq!(buckets.len(), 5, "{buckets:?}");
        let highest = series
            .iter()
            .filter(|s| s.labels.name() == "redscope_span_duration_seconds_bucket")
            .find(|s| {
                s.labels
                    .get("le")
                    .parse::<f64>()
                    .is_ok_and(|le| (le - 0.000152).abs() < 1e-6)
            })
            .map(|s| s.samples.clone())
            .unwrap_or_default();
        assert_eq!(highest.last(), Some(&(m(13), 8.0)));
        assert_eq!(series[0].labels.get("job"), "cart");
    }
}
