//! Bounds on what one record may bring into the store, in the spirit of the OpenTelemetry
//! SDKs' limits: how many attributes, how long a value, and how far from now its time may be.
//!
//! Nothing is refused for these: the excess attributes are dropped (and the record's
//! `dropped_attributes_count` says how many), long values are cut, and a record dated outside
//! the window around now is stored at its observed or receive time with its own time kept in
//! the reserved attribute [`ORIGINAL_TIME_ATTRIBUTE`]. Each is counted and said in the partial
//! success message. Without the time window, one client with a wrong clock spread records over
//! thousands of hour partitions (files per signal and hour) and retention deleted them within a
//! minute of acknowledging them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use model::{LogRow, MetricPointRow, Signal, SpanRow};
use serde_json::{Map, Value};

/// Where a record moved into the time window keeps its own time (unix ns, as a string-free
/// integer). Reserved: clients cannot write it.
pub const ORIGINAL_TIME_ATTRIBUTE: &str = "redscope.original_time_unix_nano";

/// The limits applied to every record. [`Default`] follows the OpenTelemetry SDK defaults
/// (128 attributes) with a generous value length.
#[derive(Debug, Clone)]
pub struct RecordLimits {
    /// Most attributes per record, span, event, link, data point or resource.
    pub max_attributes: usize,
    /// Longest string value (bytes, cut at a character boundary).
    pub max_value_bytes: usize,
    /// How far in the past a record's time may lie, per signal (spans, logs, metrics).
    pub max_past: [Duration; 3],
    /// How far in the future a record's time may lie.
    pub max_future: Duration,
}

impl Default for RecordLimits {
    fn default() -> Self {
        RecordLimits {
            max_attributes: 128,
            max_value_bytes: 16 << 10,
            max_past: [Duration::from_secs(7 * 86_400); 3],
            max_future: Duration::from_secs(3600),
        }
    }
}

impl RecordLimits {
    /// The accepted window `[lo, hi]` (unix ns) of a signal's record times at `now`.
    pub fn window(&self, signal: Signal, now: i64) -> (i64, i64) {
        let past = self.max_past[match signal {
            Signal::Spans => 0,
            Signal::Logs => 1,
            Signal::Metrics => 2,
        }];
        (
            now.saturating_sub(nanos(past)),
            now.saturating_add(nanos(self.max_future)),
        )
    }
}

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// What the limits changed in one request (nothing of it was refused).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Adjusted {
    pub attributes_dropped: u64,
    pub values_truncated: u64,
    pub times_moved: u64,
}

impl Adjusted {
    /// A sentence for the partial success message, when anything was changed.
    pub fn describe(&self, limits: &RecordLimits) -> Option<String> {
        let mut parts = Vec::new();
        if self.attributes_dropped > 0 {
            parts.push(format!(
                "{} attributes dropped beyond {} per record",
                self.attributes_dropped, limits.max_attributes
            ));
        }
        if self.values_truncated > 0 {
            parts.push(format!(
                "{} attribute values cut to {} bytes",
                self.values_truncated, limits.max_value_bytes
            ));
        }
        if self.times_moved > 0 {
            parts.push(format!(
                "{} records dated more than {}h before or {}s after now stored at their \
                 receive time (their own time is in {ORIGINAL_TIME_ATTRIBUTE})",
                self.times_moved,
                limits.max_past[0].as_secs() / 3600,
                limits.max_future.as_secs()
            ));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// Totals of [`Adjusted`] over every request, for the stats.
#[derive(Debug, Default)]
pub struct AdjustedCounters {
    pub attributes_dropped: AtomicU64,
    pub values_truncated: AtomicU64,
    pub times_moved: AtomicU64,
}

impl AdjustedCounters {
    pub fn add(&self, a: &Adjusted) {
        self.attributes_dropped
            .fetch_add(a.attributes_dropped, Ordering::Relaxed);
        self.values_truncated
            .fetch_add(a.values_truncated, Ordering::Relaxed);
        self.times_moved.fetch_add(a.times_moved, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "attributes_dropped": self.attributes_dropped.load(Ordering::Relaxed),
            "attribute_values_truncated": self.values_truncated.load(Ordering::Relaxed),
            "times_moved": self.times_moved.load(Ordering::Relaxed),
        })
    }
}

/// Cuts strings longer than the limit (at a character boundary) and bounds nested arrays and
/// maps to the attribute count, counting what it changed.
pub(crate) fn limit_value(value: &mut Value, limits: &RecordLimits, adjusted: &mut Adjusted) {
    match value {
        Value::String(s) if s.len() > limits.max_value_bytes => {
            let mut end = limits.max_value_bytes;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s.truncate(end);
            adjusted.values_truncated += 1;
        }
        Value::Array(items) => {
            if items.len() > limits.max_attributes {
                adjusted.attributes_dropped += (items.len() - limits.max_attributes) as u64;
                items.truncate(limits.max_attributes);
            }
            for item in items {
                limit_value(item, limits, adjusted);
            }
        }
        Value::Object(map) => {
            if map.len() > limits.max_attributes {
                adjusted.attributes_dropped += (map.len() - limits.max_attributes) as u64;
                let keep: Map<String, Value> = std::mem::take(map)
                    .into_iter()
                    .take(limits.max_attributes)
                    .collect();
                *map = keep;
            }
            for item in map.values_mut() {
                limit_value(item, limits, adjusted);
            }
        }
        _ => {}
    }
}

/// Adds the original time to a row's attributes (JSON text).
fn keep_original_time(attributes: &mut String, original: i64) {
    let mut map: Map<String, Value> = serde_json::from_str(attributes).unwrap_or_default();
    map.insert(ORIGINAL_TIME_ATTRIBUTE.to_string(), Value::from(original));
    *attributes = serde_json::to_string(&map).unwrap_or_else(|_| "{}".to_string());
}

fn outside(t: i64, (lo, hi): (i64, i64)) -> bool {
    t < lo || t > hi
}

/// Spans starting outside the window end at `now` instead, keeping their duration (up to half
/// the window back).
pub fn bound_span_times(rows: &mut [SpanRow], limits: &RecordLimits, now: i64) -> u64 {
    let window = limits.window(Signal::Spans, now);
    let longest = (now - window.0) / 2;
    let mut moved = 0;
    for row in rows
        .iter_mut()
        .filter(|r| outside(r.start_time_unix_nano, window))
    {
        keep_original_time(&mut row.attributes, row.start_time_unix_nano);
        let duration = row.duration_ns.clamp(0, longest.max(0));
        row.end_time_unix_nano = now;
        row.start_time_unix_nano = now - duration;
        row.duration_ns = duration;
        moved += 1;
    }
    moved
}

/// Log records dated outside the window take their observed time when that is inside it, else
/// `now`.
pub fn bound_log_times(rows: &mut [LogRow], limits: &RecordLimits, now: i64) -> u64 {
    let window = limits.window(Signal::Logs, now);
    let mut moved = 0;
    for row in rows
        .iter_mut()
        .filter(|r| outside(r.time_unix_nano, window))
    {
        keep_original_time(&mut row.attributes, row.time_unix_nano);
        row.time_unix_nano = if outside(row.observed_time_unix_nano, window) {
            now
        } else {
            row.observed_time_unix_nano
        };
        moved += 1;
    }
    moved
}

/// Data points dated outside the window take `now` (a start time after it moves with it).
pub fn bound_point_times(rows: &mut [MetricPointRow], limits: &RecordLimits, now: i64) -> u64 {
    let window = limits.window(Signal::Metrics, now);
    let mut moved = 0;
    for row in rows
        .iter_mut()
        .filter(|r| outside(r.time_unix_nano, window))
    {
        keep_original_time(&mut row.attributes, row.time_unix_nano);
        row.time_unix_nano = now;
        row.start_time_unix_nano = row.start_time_unix_nano.min(now);
        moved += 1;
    }
    moved
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000_000_000;

    #[test]
    fn records_outside_the_window_move_to_now_and_keep_their_time() {
        let limits = RecordLimits::default();
        let now = 1_800_000_000_000_000_000;
        let mut logs: Vec<LogRow> = [0, 1, now - HOUR, now + 2 * HOUR, i64::MAX]
            .iter()
            .map(|t| LogRow {
                time_unix_nano: *t,
                observed_time_unix_nano: now - 5,
                attributes: r#"{"a":1}"#.to_string(),
                ..Default::default()
            })
            .collect();
        assert_eq!(bound_log_times(&mut logs, &limits, now), 4);
        let times: Vec<i64> = logs.iter().map(|r| r.time_unix_nano).collect();
        assert_eq!(times, vec![now - 5, now - 5, now - HOUR, now - 5, now - 5]);
        let attrs: Value = serde_json::from_str(&logs[3].attributes).unwrap();
        assert_eq!(attrs["a"], 1);
        assert_eq!(attrs[ORIGINAL_TIME_ATTRIBUTE], now + 2 * HOUR);
        assert_eq!(logs[2].attributes, r#"{"a":1}"#);

        let mut spans = vec![SpanRow {
            start_time_unix_nano: 10,
            end_time_unix_nano: 1_010,
            duration_ns: 1_000,
            attributes: "{}".to_string(),
            ..Default::default()
        }];
        assert_eq!(bound_span_times(&mut spans, &limits, now), 1);
        assert_eq!(
            (spans[0].start_time_unix_nano, spans[0].end_time_unix_nano),
            (now - 1_000, now)
        );
        let mut points = vec![MetricPointRow {
            time_unix_nano: now + 100 * HOUR,
            start_time_unix_nano: now + 99 * HOUR,
            attributes: "{}".to_string(),
            ..Default::default()
        }];
        assert_eq!(bound_point_times(&mut points, &limits, now), 1);
        assert_eq!(points[0].time_unix_nano, now);
        assert_eq!(points[0].start_time_unix_nano, now);
    }

    #[test]
    fn long_values_are_cut_at_a_character_boundary() {
        let limits = RecordLimits {
            max_value_bytes: 5,
            max_attributes: 2,
            ..Default::default()
        };
        let mut adjusted = Adjusted::default();
        let mut v = serde_json::json!(["abcdé", "ok", "dropped"]);
        limit_value(&mut v, &limits, &mut adjusted);
        assert_eq!(v, serde_json::json!(["abcd", "ok"]));
        assert_eq!(
            adjusted,
            Adjusted {
                attributes_dropped: 1,
                values_truncated: 1,
                times_moved: 0
            }
        );
        assert!(
            adjusted
                .describe(&limits)
                .unwrap()
                .contains("1 attributes dropped")
        );
    }
}
