//! The Prometheus HTTP API under `/prometheus/api/v1` (query, query_range, series, labels,
//! label values, metadata), so that Grafana's Prometheus data source and other Prometheus
//! clients work with the base URL `http://HOST:8080/prometheus`. GET parameters or a POST
//! form body; answers in Prometheus' envelope (`{"status":"success","data":...}`, errors with
//! `errorType`), times as float seconds and values as strings. A thin adapter over
//! [`promql::Engine`].

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use promql::{PromError, QueryValue};
use serde_json::{Value, json};

use crate::ApiState;

/// How far back the metadata endpoints look without `start`.
const DEFAULT_LOOKBACK_MS: i64 = 6 * 3_600_000;

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/prometheus/api/v1/query", get(query).post(query))
        .route(
            "/prometheus/api/v1/query_range",
            get(query_range).post(query_range),
        )
        .route("/prometheus/api/v1/series", get(series).post(series))
        .route("/prometheus/api/v1/labels", get(labels).post(labels))
        .route("/prometheus/api/v1/label/{name}/values", get(label_values))
        .route("/prometheus/api/v1/metadata", get(metadata))
        .route("/prometheus/api/v1/status/buildinfo", get(buildinfo))
        .route(
            "/prometheus/api/v1/query_exemplars",
            get(no_exemplars).post(no_exemplars),
        )
        .route("/prometheus/api/v1/{*rest}", axum::routing::any(unknown))
}

/// The request's parameters: the query string, then a form body.
struct Params(Vec<(String, String)>);

impl Params {
    fn of(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Params {
        let mut pairs: Vec<(String, String)> = uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let form = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if form {
            pairs.extend(form_urlencoded::parse(body).into_owned());
        }
        Params(pairs)
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    /// A parameter that must be given.
    fn required(&self, key: &str) -> Result<&str, PromError> {
        self.get(key)
            .ok_or_else(|| bad(format!("invalid parameter \"{key}\": missing")))
    }

    fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.clone())
            .collect()
    }
}

fn bad(message: String) -> PromError {
    PromError::BadData(message)
}

/// A time: float unix seconds or RFC 3339; unix milliseconds.
fn parse_time(param: &str, s: &str) -> Result<i64, PromError> {
    if let Ok(secs) = s.parse::<f64>()
        && secs.is_finite()
    {
        return Ok((secs * 1000.0).round() as i64);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_millis())
        .map_err(|_| {
            bad(format!(
                "invalid parameter \"{param}\": cannot parse \"{s}\" to a valid timestamp"
            ))
        })
}

/// A duration: float seconds or a Prometheus duration (`1h30m`, `15s`); milliseconds.
fn parse_duration(param: &str, s: &str) -> Result<i64, PromError> {
    let err = || {
        bad(format!(
            "invalid parameter \"{param}\": cannot parse \"{s}\" to a valid duration"
        ))
    };
    if let Ok(secs) = s.parse::<f64>() {
        if !secs.is_finite() || secs < 0.0 {
            return Err(err());
        }
        return Ok((secs * 1000.0).round() as i64);
    }
    let mut total: i64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
        let n: i64 = rest[..digits].parse().map_err(|_| err())?;
        let unit_rest = &rest[digits..];
        let unit_len = unit_rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(unit_rest.len());
        let ms = match &unit_rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            "y" => 365 * 86_400_000,
            _ => return Err(err()),
        };
        total = n
            .checked_mul(ms)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(err)?;
        rest = &unit_rest[unit_len..];
    }
    Ok(total)
}

fn now_ms() -> i64 {
    model::now_unix_nano() / 1_000_000
}

fn success(data: Value) -> Response {
    (
        StatusCode::OK,
        axum::Json(json!({"status": "success", "data": data})),
    )
        .into_response()
}

fn failure(e: PromError) -> Response {
    let status = match &e {
        PromError::BadData(_) => StatusCode::BAD_REQUEST,
        PromError::Execution(_) => StatusCode::UNPROCESSABLE_ENTITY,
        PromError::Timeout => StatusCode::SERVICE_UNAVAILABLE,
        PromError::Internal(detail) => {
            tracing::error!(%detail, "prometheus api request failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    let body = json!({"status": "error", "errorType": e.error_type(), "error": e.to_string()});
    (status, axum::Json(body)).into_response()
}

fn answer(r: Result<Value, PromError>) -> Response {
    match r {
        Ok(v) => success(v),
        Err(e) => failure(e),
    }
}

fn seconds(t_ms: i64) -> Value {
    json!(t_ms as f64 / 1000.0)
}

fn labels_json(l: &promql::Labels) -> Value {
    let map: serde_json::Map<String, Value> = l
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    Value::Object(map)
}

fn point(t: i64, v: f64) -> Value {
    json!([seconds(t), promql::names::format_float(v)])
}

/// A query result in the API's shape.
pub(crate) fn result_json(value: &QueryValue) -> Value {
    let result = match value {
        QueryValue::Scalar { t, v } => point(*t, *v),
        QueryValue::String { t, v } => json!([seconds(*t), v]),
        QueryValue::Vector(samples) => Value::Array(
            samples
                .iter()
                .map(|s| json!({"metric": labels_json(&s.labels), "value": point(s.t, s.v)}))
                .collect(),
        ),
        QueryValue::Matrix(series) => Value::Array(
            series
                .iter()
                .map(|s| {
                    let values: Vec<Value> = s.samples.iter().map(|(t, v)| point(*t, *v)).collect();
                    json!({"metric": labels_json(&s.labels), "values": values})
                })
                .collect(),
        ),
    };
    json!({"resultType": value.result_type(), "result": result})
}

async fn query(
    State(state): State<ApiState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::of(&uri, &headers, &body);
    let run = async {
        let expr = p.required("query")?;
        let at = match p.get("time") {
            Some(t) => parse_time("time", t)?,
            None => now_ms(),
        };
        let value = state.promql.evaluate_instant(expr, at).await?;
        Ok(result_json(&value))
    };
    answer(run.await)
}

async fn query_range(
    State(state): State<ApiState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::of(&uri, &headers, &body);
    let run = async {
        let expr = p.required("query")?;
        let start = parse_time("start", p.required("start")?)?;
        let end = parse_time("end", p.required("end")?)?;
        let step = parse_duration("step", p.required("step")?)?;
        let value = state.promql.evaluate_range(expr, start, end, step).await?;
        Ok(result_json(&value))
    };
    answer(run.await)
}

/// `start` and `end` of a metadata request (the last six hours by default).
fn window(p: &Params) -> Result<(i64, i64), PromError> {
    let end = match p.get("end") {
        Some(t) => parse_time("end", t)?,
        None => now_ms(),
    };
    let start = match p.get("start") {
        Some(t) => parse_time("start", t)?,
        None => end - DEFAULT_LOOKBACK_MS,
    };
    if end < start {
        return Err(bad(
            "invalid parameter \"end\": end timestamp must not be before start time".into(),
        ));
    }
    Ok((start, end))
}

fn limit(p: &Params) -> Result<Option<usize>, PromError> {
    match p.get("limit") {
        None => Ok(None),
        Some(s) => s
            .parse::<usize>()
            .map(|n| (n > 0).then_some(n))
            .map_err(|_| bad(format!("invalid parameter \"limit\": cannot parse \"{s}\""))),
    }
}

async fn series(
    State(state): State<ApiState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::of(&uri, &headers, &body);
    let run = async {
        let selectors = p.all("match[]");
        if selectors.is_empty() {
            return Err(bad("no match[] parameter provided".to_string()));
        }
        let (start, end) = window(&p)?;
        let mut list = state.promql.series(&selectors, start, end).await?;
        if let Some(n) = limit(&p)? {
            list.truncate(n);
        }
        Ok(Value::Array(list.iter().map(labels_json).collect()))
    };
    answer(run.await)
}

async fn labels(
    State(state): State<ApiState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::of(&uri, &headers, &body);
    let run = async {
        let (start, end) = window(&p)?;
        let mut names = state
            .promql
            .label_names(&p.all("match[]"), start, end)
            .await?;
        if let Some(n) = limit(&p)? {
            names.truncate(n);
        }
        Ok(json!(names))
    };
    answer(run.await)
}

async fn label_values(
    State(state): State<ApiState>,
    Path(name): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let p = Params::of(&uri, &headers, &[]);
    let run = async {
        let (start, end) = window(&p)?;
        let mut values = state
            .promql
            .label_values(&name, &p.all("match[]"), start, end)
            .await?;
        if let Some(n) = limit(&p)? {
            values.truncate(n);
        }
        Ok(json!(values))
    };
    answer(run.await)
}

async fn metadata(State(state): State<ApiState>, uri: Uri, headers: HeaderMap) -> Response {
    let p = Params::of(&uri, &headers, &[]);
    let run = async {
        let end = now_ms();
        let mut all = state
            .promql
            .metadata(p.get("metric"), end - DEFAULT_LOOKBACK_MS, end)
            .await?;
        if let Some(n) = limit(&p)? {
            all = all.into_iter().take(n).collect::<BTreeMap<_, _>>();
        }
        serde_json::to_value(all).map_err(|e| PromError::Internal(e.to_string()))
    };
    answer(run.await)
}

/// What Grafana asks to learn the server's features: the Prometheus API level served.
async fn buildinfo() -> Response {
    success(json!({
        "version": "2.42.0",
        "revision": concat!("redscope ", env!("CARGO_PKG_VERSION")),
        "branch": "",
        "buildUser": "",
        "buildDate": "",
        "goVersion": "",
    }))
}

/// Exemplars are not served yet: an empty answer, which Grafana shows as none.
async fn no_exemplars() -> Response {
    success(json!([]))
}

async fn unknown() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"status": "error", "errorType": "not_found", "error": "no such Prometheus API endpoint"})),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations_parse_like_prometheus() {
        assert_eq!(
            parse_time("time", "1435781451.781").ok(),
            Some(1_435_781_451_781)
        );
        assert_eq!(
            parse_time("time", "2015-07-01T20:10:51.781Z").ok(),
            Some(1_435_781_451_781)
        );
        assert!(parse_time("time", "yesterday").is_err());
        assert_eq!(parse_duration("step", "15").ok(), Some(15_000));
        assert_eq!(parse_duration("step", "1h30m").ok(), Some(5_400_000));
        assert_eq!(parse_duration("step", "0.5").ok(), Some(500));
        assert!(parse_duration("step", "5x").is_err());
    }

    #[test]
    fn results_have_the_prometheus_shape() {
        let v = QueryValue::Scalar { t: 1500, v: 0.5 };
        assert_eq!(
            result_json(&v),
            json!({"resultType": "scalar", "result": [1.5, "0.5"]})
        );
        let m = QueryValue::Matrix(vec![promql::Series {
            labels: promql::Labels::new(vec![("job".into(), "a".into())]),
            samples: vec![(1000, f64::INFINITY)],
        }]);
        assert_eq!(
            result_json(&m),
            json!({"resultType": "matrix", "result": [{"metric": {"job": "a"}, "values": [[1.0, "+Inf"]]}]})
        );
    }
}
