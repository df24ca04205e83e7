//! OpenTelemetry names as Prometheus names, the way the OpenTelemetry-to-Prometheus
//! compatibility conventions write them: names and label names with only `[a-zA-Z0-9_:]`,
//! the unit as a suffix (`_seconds`, `_bytes`, `_per_second`), `_total` on monotonic sums,
//! `_ratio` on gauges of unit `1`; `service.namespace`/`service.name` become `job` and
//! `service.instance.id` becomes `instance`.

use serde_json::Value;

/// What the points of a metric family are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    /// A monotonic sum.
    Counter,
    /// A sum that can go down: a gauge for Prometheus.
    UpDownSum,
    Histogram,
    Summary,
}

impl Kind {
    pub fn of(metric_type: &str, is_monotonic: bool) -> Kind {
        match metric_type {
            "sum" if is_monotonic => Kind::Counter,
            "sum" => Kind::UpDownSum,
            "histogram" | "exponential_histogram" => Kind::Histogram,
            "summary" => Kind::Summary,
            _ => Kind::Gauge,
        }
    }

    /// The Prometheus metadata type.
    pub fn prometheus_type(self) -> &'static str {
        match self {
            Kind::Gauge | Kind::UpDownSum => "gauge",
            Kind::Counter => "counter",
            Kind::Histogram => "histogram",
            Kind::Summary => "summary",
        }
    }
}

/// Which series of a family a name stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// The value itself (gauges, counters, summary quantiles).
    Value,
    Bucket,
    Sum,
    Count,
}

/// The series names of a family named `base`.
pub fn series_names(base: &str, kind: Kind) -> Vec<(String, Part)> {
    match kind {
        Kind::Histogram => vec![
            (format!("{base}_bucket"), Part::Bucket),
            (format!("{base}_sum"), Part::Sum),
            (format!("{base}_count"), Part::Count),
        ],
        Kind::Summary => vec![
            (base.to_string(), Part::Value),
            (format!("{base}_sum"), Part::Sum),
            (format!("{base}_count"), Part::Count),
        ],
        _ => vec![(base.to_string(), Part::Value)],
    }
}

fn main_unit(unit: &str) -> Option<&'static str> {
    Some(match unit {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "%" => "percent",
        _ => return None,
    })
}

fn per_unit(unit: &str) -> Option<&'static str> {
    Some(match unit {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        _ => return None,
    })
}

/// Words of a name: runs of ASCII letters and digits (and `:`), everything else separates.
fn tokens(s: &str) -> Vec<String> {
    s.split(|c: char| !(c.is_ascii_alphanumeric() || c == ':'))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// The unit's words: `ms` → `milliseconds`, `By/s` → `bytes_per_second`; annotations in
/// braces (`{request}`) are dropped.
fn unit_words(unit: &str) -> Vec<String> {
    let mut plain = String::new();
    let mut depth = 0usize;
    for c in unit.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            c if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    let plain = plain.trim();
    if plain.is_empty() || plain == "1" {
        return Vec::new();
    }
    let (main, per) = match plain.split_once('/') {
        Some((m, p)) => (m.trim(), Some(p.trim())),
        None => (plain, None),
    };
    let mut words = Vec::new();
    if !main.is_empty() && main != "1" {
        match main_unit(main) {
            Some(w) => words.push(w.to_string()),
            None => words.extend(tokens(main)),
        }
    }
    if let Some(per) = per.filter(|p| !p.is_empty()) {
        words.push("per".to_string());
        match per_unit(per) {
            Some(w) => words.push(w.to_string()),
            None => words.extend(tokens(per)),
        }
    }
    words
}

/// The Prometheus name of an OpenTelemetry metric (the base name of a histogram or summary).
pub fn metric_name(name: &str, unit: &str, kind: Kind) -> String {
    // A gauge that already has a valid Prometheus name and no unit keeps it (what remote
    // write and Prometheus-style instrumentation send).
    if kind == Kind::Gauge && unit.is_empty() && is_metric_name(name) {
        return name.to_string();
    }
    let mut words = tokens(name);
    let suffix = unit_words(unit);
    // The unit is appended unless the name already ends with it.
    if !suffix.is_empty() && !words.ends_with(&suffix) {
        words.extend(suffix);
    }
    if kind == Kind::Counter {
        words.retain(|w| w != "total");
        words.push("total".to_string());
    }
    if kind == Kind::Gauge && unit.trim() == "1" && !words.iter().any(|w| w == "ratio") {
        words.push("ratio".to_string());
    }
    let joined = words.join("_");
    match joined.chars().next() {
        Some(c) if c.is_ascii_digit() => format!("_{joined}"),
        None => "_".to_string(),
        _ => joined,
    }
}

fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// A label name: characters outside `[a-zA-Z0-9_]` become `_`, a leading digit gets `key_`.
pub fn label_name(key: &str) -> String {
    let mut out: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "key_");
    }
    out
}

/// An attribute value as label text: strings as they are, anything else as JSON.
pub fn label_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `job`: `service.namespace/service.name`, or the name alone.
pub fn job(service_name: &str, namespace: Option<&str>) -> String {
    match namespace.filter(|n| !n.is_empty()) {
        Some(ns) if !service_name.is_empty() => format!("{ns}/{service_name}"),
        _ => service_name.to_string(),
    }
}

/// The `job` and `instance` labels of a resource.
pub fn target_labels(
    service_name: &str,
    namespace: Option<&str>,
    instance_id: Option<&str>,
) -> [(String, String); 2] {
    [
        ("job".to_string(), job(service_name, namespace)),
        (
            "instance".to_string(),
            instance_id.unwrap_or_default().to_string(),
        ),
    ]
}

/// A float as Prometheus writes it in labels and values (`+Inf`, shortest round-trip form).
pub fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v == f64::INFINITY {
        "+Inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_compatibility_conventions() {
        let cases = [
            (
                "http.server.request.duration",
                "ms",
                Kind::Histogram,
                "http_server_request_duration_milliseconds",
            ),
            (
                "http.server.request.duration",
                "s",
                Kind::Histogram,
                "http_server_request_duration_seconds",
            ),
            (
                "process.memory.usage",
                "By",
                Kind::Gauge,
                "process_memory_usage_bytes",
            ),
            ("shop.orders", "{order}", Kind::Counter, "shop_orders_total"),
            ("requests_total", "", Kind::Counter, "requests_total"),
            (
                "requests.total.count",
                "",
                Kind::Counter,
                "requests_count_total",
            ),
            ("net.io", "By/s", Kind::Gauge, "net_io_bytes_per_second"),
            (
                "queue.latency_seconds",
                "s",
                Kind::Gauge,
                "queue_latency_seconds",
            ),
            ("2xx", "", Kind::Gauge, "_2xx"),
            ("up", "", Kind::Gauge, "up"),
            ("node__cpu:rate", "", Kind::Gauge, "node__cpu:rate"),
            (
                "process.cpu.utilization",
                "1",
                Kind::Gauge,
                "process_cpu_utilization_ratio",
            ),
        ];
        for (name, unit, kind, want) in cases {
            assert_eq!(metric_name(name, unit, kind), want, "{name} {unit}");
        }
        assert_eq!(label_name("http.route"), "http_route");
        assert_eq!(label_name("1a"), "key_1a");
        assert_eq!(job("cart", Some("shop")), "shop/cart");
        assert_eq!(format_float(0.25), "0.25");
        assert_eq!(format_float(f64::INFINITY), "+Inf");
        assert_eq!(format_float(1e21), "1000000000000000000000");
    }
}
