//! Shared domain types of redscope: no I/O, no protocols, no storage formats.
//!
//! - [`SpanRow`], [`LogRow`], [`MetricPointRow`]: one flattened record per span, log record and
//!   metric data point, with the frequently filtered semantic-convention attributes as real
//!   fields and everything else as JSON maps. Ingest produces them, storage keeps them.
//! - [`Batch`]: the rows of one request, per signal.
//! - [`TimeRange`] and [`parse_time`]: the `from`/`to` grammar every reader shares
//!   (RFC 3339, unix nanoseconds, `now-15m`).
//!
//! ```
//! use model::{parse_time, TimeRange};
//! let now = 1_700_000_000_000_000_000;
//! let from = parse_time("now-15m", now).unwrap();
//! assert_eq!(TimeRange::new(from, now).unwrap().len_ns(), 15 * 60 * 1_000_000_000);
//! ```

mod rows;
mod time;

pub use rows::{
    Batch, Events, LogRow, MetricPointRow, MetricType, Resource, SpanKind, SpanRow, StatusCode,
    span_failed,
};
pub use time::{TimeError, TimeRange, now_unix_nano, parse_duration_ns, parse_time};

/// JSON object of attributes, values keep their OTLP type where JSON can express it
/// (bytes become base64 strings).
pub type Attributes = serde_json::Map<String, serde_json::Value>;

/// The telemetry signals redscope stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signal {
    Spans,
    Logs,
    Metrics,
}

impl Signal {
    pub const ALL: [Signal; 3] = [Signal::Spans, Signal::Logs, Signal::Metrics];

    /// Table and directory name of the signal.
    pub fn table_name(self) -> &'static str {
        match self {
            Signal::Spans => "spans",
            Signal::Logs => "logs",
            Signal::Metrics => "metric_points",
        }
    }

    /// The signal's name where users read and write it (API parameters, rule files, usage).
    pub fn name(self) -> &'static str {
        match self {
            Signal::Spans => "spans",
            Signal::Logs => "logs",
            Signal::Metrics => "metrics",
        }
    }

    /// The signal a user named ([`Self::name`], or `traces` for spans).
    pub fn from_name(name: &str) -> Option<Signal> {
        match name {
            "traces" => Some(Signal::Spans),
            _ => Signal::ALL.into_iter().find(|s| s.name() == name),
        }
    }

    /// Name of the column that orders and partitions the signal in time.
    pub fn time_column(self) -> &'static str {
        match self {
            Signal::Spans => "start_time_unix_nano",
            Signal::Logs | Signal::Metrics => "time_unix_nano",
        }
    }

    pub fn from_table_name(name: &str) -> Option<Signal> {
        Signal::ALL.into_iter().find(|s| s.table_name() == name)
    }

    pub fn as_u8(self) -> u8 {
        match self {
            Signal::Spans => 1,
            Signal::Logs => 2,
            Signal::Metrics => 3,
        }
    }

    pub fn from_u8(v: u8) -> Option<Signal> {
        Signal::ALL.into_iter().find(|s| s.as_u8() == v)
    }
}

/// The name of a severity number's band, as OpenTelemetry names them (`None` outside 1–24).
pub fn severity_band(n: i32) -> Option<&'static str> {
    Some(match n {
        1..=4 => "TRACE",
        5..=8 => "DEBUG",
        9..=12 => "INFO",
        13..=16 => "WARN",
        17..=20 => "ERROR",
        21..=24 => "FATAL",
        _ => return None,
    })
}

/// The lowest OpenTelemetry severity number of a level name (`TRACE` … `FATAL`, any case).
pub fn severity_number(level: &str) -> Option<i32> {
    Some(match level.to_ascii_uppercase().as_str() {
        "TRACE" => 1,
        "DEBUG" => 5,
        "INFO" => 9,
        "WARN" | "WARNING" => 13,
        "ERROR" => 17,
        "FATAL" => 21,
        _ => return None,
    })
}
