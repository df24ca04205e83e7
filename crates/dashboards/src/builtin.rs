//! The dashboards that come with redscope: RED (rate, errors, duration) per service, over the
//! synthetic span metrics of the Prometheus API and the typed log query. Each is a plain Perses
//! document, so that its export is a file a user can put in the dashboards directory and edit.

use serde_json::{Value, json};

use crate::document::Dashboard;

/// The project of the built-in dashboards.
pub const BUILTIN_PROJECT: &str = "redscope";

/// The name of the RED dashboard of `service`: `red-<service>`, with characters a Perses name
/// may not hold replaced by `-`.
pub fn red_dashboard_name(service: &str) -> String {
    let cleaned: String = service
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || matches!(ch, '_' | '.' | '-') {
                ch
            } else {
                '-'
            }
        })
        .take(70)
        .collect();
    format!("red-{cleaned}")
}

fn promql(query: &str, series_name: &str) -> Value {
    json!({
        "kind": "TimeSeriesQuery",
        "spec": {"plugin": {"kind": "PrometheusTimeSeriesQuery", "spec": {
            "query": query,
            "seriesNameFormat": series_name,
        }}}
    })
}

fn panel(name: &str, description: &str, plugin: Value, queries: Vec<Value>) -> Value {
    json!({
        "kind": "Panel",
        "spec": {
            "display": {"name": name, "description": description},
            "plugin": plugin,
            "queries": queries,
        }
    })
}

fn item(x: u32, y: u32, width: u32, height: u32, panel: &str) -> Value {
    json!({"x": x, "y": y, "width": width, "height": height,
        "content": {"$ref": format!("{}{panel}", crate::validate::PANEL_REF_PREFIX)}})
}

const REQUESTS: &str =
    "sum(rate(redscope_span_requests_total{job=\"$service\"}[$__rate_interval]))";
const ERRORS: &str = "sum(rate(redscope_span_errors_total{job=\"$service\"}[$__rate_interval]))";

fn quantile(q: &str) -> String {
    format!(
        "histogram_quantile({q}, sum by (le) (rate(redscope_span_duration_seconds_bucket{{job=\"$service\"}}[$__rate_interval])))"
    )
}

fn red_panels() -> Value {
    let ratio = format!("{ERRORS} / {REQUESTS}");
    let by_op = |metric: &str| {
        format!("sum by (operation) (rate({metric}{{job=\"$service\"}}[$__rate_interval]))")
    };
    let p95_by_op = "histogram_quantile(0.95, sum by (le, operation) (rate(redscope_span_duration_seconds_bucket{job=\"$service\"}[$__rate_interval])))";
    let series = json!({"kind": "TimeSeriesChart", "spec": {}});
    let stat = |calculation: &str, unit: &str| json!({"kind": "StatChart", "spec": {"calculation": calculation, "format": {"unit": unit}}});
    json!({
        "requests_now": panel("Requests/s", "mean request rate over the range", stat("mean", "requests/sec"), vec![promql(REQUESTS, "requests/s")]),
        "error_ratio_now": panel("Error ratio", "mean share of requests that failed", stat("mean", "percent-decimal"), vec![promql(&ratio, "error ratio")]),
        "p99_now": panel("p99 duration", "last p99 of span duration", stat("last-number", "seconds"), vec![promql(&quantile("0.99"), "p99")]),
        "requests": panel("Request rate", "spans per second", series.clone(), vec![promql(REQUESTS, "requests/s")]),
        "errors": panel("Error rate", "failed spans per second, and their share", series.clone(), vec![promql(ERRORS, "errors/s"), promql(&ratio, "error ratio")]),
        "duration": panel("Duration", "p50, p95 and p99 of span duration (seconds)", series, vec![
            promql(&quantile("0.5"), "p50"), promql(&quantile("0.95"), "p95"), promql(&quantile("0.99"), "p99"),
        ]),
        "operations": panel("Top operations", "rate, error rate and p95 per operation", json!({"kind": "Table", "spec": {}}), vec![
            promql(&by_op("redscope_span_requests_total"), "requests/s"),
            promql(&by_op("redscope_span_errors_total"), "errors/s"),
            promql(p95_by_op, "p95 (s)"),
        ]),
        "error_logs": panel("Recent error logs", "records of severity ERROR and above", json!({"kind": "LogsTable", "spec": {"showTime": true}}), vec![json!({
            "kind": "LogQuery",
            "spec": {"plugin": {"kind": crate::LOG_QUERY_PLUGIN, "spec": {"service": "$service", "severity": "ERROR", "limit": 50}}}
        })]),
    })
}

/// The RED dashboard of `service` as a Perses document: a `service` variable (defaulting to
/// `service`, listing every service with spans), stats, time series of rate, errors and
/// duration quantiles, a table of the top operations and the recent error logs.
pub fn red_document(service: &str) -> Value {
    json!({
        "kind": "Dashboard",
        "metadata": {"name": red_dashboard_name(service), "project": BUILTIN_PROJECT},
        "spec": {
            "display": {"name": format!("{service} RED"), "description": format!("Rate, errors and duration of {service}")},
            "duration": "1h",
            "refreshInterval": "0s",
            "variables": [{
                "kind": "ListVariable",
                "spec": {
                    "name": "service",
                    "display": {"name": "Service"},
                    "allowAllValue": false,
                    "allowMultiple": false,
                    "defaultValue": service,
                    "plugin": {"kind": "PrometheusLabelValuesVariable", "spec": {
                        "labelName": "job", "matchers": ["redscope_span_requests_total"],
                    }},
                }
            }],
            "panels": red_panels(),
            "layouts": [{
                "kind": "Grid",
                "spec": {"display": {"title": "RED", "collapse": {"open": true}}, "items": [
                    item(0, 0, 8, 4, "requests_now"), item(8, 0, 8, 4, "error_ratio_now"), item(16, 0, 8, 4, "p99_now"),
                    item(0, 4, 12, 8, "requests"), item(12, 4, 12, 8, "errors"),
                    item(0, 12, 12, 8, "duration"), item(12, 12, 12, 8, "operations"),
                    item(0, 20, 24, 10, "error_logs"),
                ]}
            }],
        }
    })
}

/// [`red_document`], validated like any file (it always is valid; a test holds it to that).
pub fn red_dashboard(service: &str) -> Result<Dashboard, crate::DashboardError> {
    Dashboard::from_value(red_document(service), "builtin")
}
