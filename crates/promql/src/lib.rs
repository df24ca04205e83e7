//! PromQL over everything redscope stores: the OpenTelemetry metrics (named and labelled the
//! way the OpenTelemetry-to-Prometheus conventions do) and metrics derived from spans and logs
//! (see [`synthetic`]). Expressions are parsed with the `promql-parser` crate and evaluated
//! here, with Prometheus' semantics (lookback delta, staleness markers, extrapolated rates).
//!
//! - [`Engine`]: evaluates instant and range queries and answers the series, label and
//!   metadata questions of the Prometheus HTTP API. The HTTP adapter (in `api`) and a rule
//!   evaluator both call it.
//! - [`QueryValue`]: a result (scalar, string, vector or matrix), [`PromError`]: why not.
//!
//! ```no_run
//! # async fn run(q: std::sync::Arc<query::QueryService>) -> Result<(), promql::PromError> {
//! let engine = promql::Engine::new(q, promql::EngineOptions::default());
//! let now = model::now_unix_nano() / 1_000_000;
//! let value = engine.evaluate_instant("sum by (job) (rate(redscope_span_requests_total[5m]))", now).await?;
//! # let _ = value; Ok(()) }
//! ```

mod aggregate;
mod binary;
mod convert;
mod eval;
mod functions;
mod histogram;
pub mod labels;
pub mod names;
mod source;
pub mod synthetic;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use promql_parser::parser::Expr;

pub use convert::{STALE_NAN_BITS, Series, is_stale};
pub use labels::Labels;
pub use source::TARGET_INFO;

use eval::{Evaluator, QueryTimes, SelectorData, Value};

/// Why a query was not answered; each kind is one of the Prometheus API's `errorType`s.
#[derive(Debug, thiserror::Error)]
pub enum PromError {
    /// The query or its parameters are wrong.
    #[error("{0}")]
    BadData(String),
    /// The query is right but cannot be evaluated on this data (e.g. ambiguous matching).
    #[error("{0}")]
    Execution(String),
    #[error("query timed out")]
    Timeout,
    #[error("internal error")]
    Internal(String),
}

impl PromError {
    /// The Prometheus API's `errorType`.
    pub fn error_type(&self) -> &'static str {
        match self {
            PromError::BadData(_) => "bad_data",
            PromError::Execution(_) => "execution",
            PromError::Timeout => "timeout",
            PromError::Internal(_) => "internal",
        }
    }
}

impl From<query::QueryError> for PromError {
    fn from(e: query::QueryError) -> Self {
        match e {
            query::QueryError::BadParam { .. } | query::QueryError::BadQuery(_) => {
                PromError::BadData(e.to_string())
            }
            query::QueryError::NotFound(m) => PromError::Execution(format!("{m} not found")),
            query::QueryError::Timeout(_) => PromError::Timeout,
            query::QueryError::Internal(m) => PromError::Internal(m),
        }
    }
}

/// How queries are evaluated.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample (Prometheus: 5 m).
    pub lookback_ms: i64,
    /// Range windows and the lookback exclude their start, as in Prometheus 3; `false` includes
    /// it, as Prometheus 2 did.
    pub left_open_windows: bool,
    /// The step of a subquery without one (Prometheus: the global evaluation interval, 1 m).
    pub default_subquery_step_ms: i64,
    /// Most evaluation times of one range query (Prometheus: 11,000).
    pub max_steps: usize,
    /// Most points read for one stored metric.
    pub max_points: usize,
    /// Longest one query may take.
    pub timeout: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_ms: 300_000,
            left_open_windows: true,
            default_subquery_step_ms: 60_000,
            max_steps: 11_000,
            max_points: 5_000_000,
            timeout: Duration::from_secs(30),
        }
    }
}

/// One sample of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    /// Unix milliseconds.
    pub t: i64,
    pub v: f64,
}

/// The result of a query.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryValue {
    Scalar {
        t: i64,
        v: f64,
    },
    String {
        t: i64,
        v: String,
    },
    Vector(Vec<Sample>),
    /// Series with `(unix ms, value)` points.
    Matrix(Vec<Series>),
}

impl QueryValue {
    /// The Prometheus API's `resultType`.
    pub fn result_type(&self) -> &'static str {
        match self {
            QueryValue::Scalar { .. } => "scalar",
            QueryValue::String { .. } => "string",
            QueryValue::Vector(_) => "vector",
            QueryValue::Matrix(_) => "matrix",
        }
    }
}

/// Metadata of a metric family, as `/api/v1/metadata` answers.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Metadata {
    #[serde(rename = "type")]
    pub metric_type: String,
    pub help: String,
    pub unit: String,
}

/// Evaluates PromQL over a [`query::QueryService`]. Cheap to share behind an `Arc`.
pub struct Engine {
    source: source::Source,
    options: EngineOptions,
}

/// Parses an expression, with the parser's message on error.
pub fn parse(expr: &str) -> Result<Expr, PromError> {
    promql_parser::parser::parse(expr).map_err(PromError::BadData)
}

/// Parses a series selector (`match[]` of the metadata endpoints).
fn parse_selector(s: &str) -> Result<promql_parser::parser::VectorSelector, PromError> {
    match parse(s)? {
        Expr::VectorSelector(vs) => Ok(vs),
        _ => Err(PromError::BadData(format!(
            "invalid parameter \"match[]\": {s} is not a series selector"
        ))),
    }
}

fn strip_parens(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip_parens(&p.expr),
        other => other,
    }
}

impl Engine {
    pub fn new(query: Arc<query::QueryService>, options: EngineOptions) -> Engine {
        Engine {
            source: source::Source {
                query,
                max_points: options.max_points,
                families: Default::default(),
            },
            options,
        }
    }

    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// Reads the series every selector of `expr` needs for evaluation times in `[lo, hi]`.
    async fn load(
        &self,
        expr: &Expr,
        lo: i64,
        hi: i64,
        times: QueryTimes,
    ) -> Result<SelectorData, PromError> {
        let mut needs = Vec::new();
        eval::needs(expr, lo, hi, times, &self.options, &mut needs);
        let mut data = SelectorData::new();
        if needs.is_empty() {
            return Ok(data);
        }
        let from = needs.iter().map(|n| n.lo).min().unwrap_or(lo);
        let to = needs.iter().map(|n| n.hi).max().unwrap_or(hi);
        let started = Instant::now();
        let catalog = self.source.catalog(from, to).await?;
        let catalog_ms = started.elapsed().as_millis();
        for need in needs {
            let sets = source::matcher_sets(need.selector.name.as_deref(), &need.selector.matchers);
            let series = self
                .source
                .select(&catalog, &sets, need.lo, need.hi)
                .await?;
            data.insert(eval::selector_key(need.selector), series);
        }
        let samples: usize = data.values().flatten().map(|s| s.samples.len()).sum();
        tracing::debug!(
            catalog_ms,
            read_ms = started.elapsed().as_millis(),
            samples,
            "promql data read"
        );
        Ok(data)
    }

    /// Evaluates `expr` at `at_ms` (unix milliseconds).
    pub async fn evaluate_instant(&self, expr: &str, at_ms: i64) -> Result<QueryValue, PromError> {
        // Boxed: the data read is keyed by the addresses of the selectors in the tree.
        let parsed = Box::new(parse(expr)?);
        let times = QueryTimes {
            start: at_ms,
            end: at_ms,
        };
        let data = self.load(&parsed, at_ms, at_ms, times).await?;
        let options = self.options.clone();
        run_blocking(move || evaluate_loaded(&parsed, &data, &options, times, &[at_ms], true)).await
    }

    /// Evaluates `expr` at every `step_ms` from `start_ms` to `end_ms` (unix milliseconds).
    pub async fn evaluate_range(
        &self,
        expr: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryValue, PromError> {
        let ts = range_times(start_ms, end_ms, step_ms, self.options.max_steps)?;
        let parsed = Box::new(parse(expr)?);
        check_range_type(&parsed)?;
        let times = QueryTimes {
            start: start_ms,
            end: end_ms,
        };
        let data = self.load(&parsed, start_ms, end_ms, times).await?;
        let options = self.options.clone();
        run_blocking(move || evaluate_loaded(&parsed, &data, &options, times, &ts, false)).await
    }

    /// The label sets of the series that any of `selectors` selects in `[start_ms, end_ms]`.
    pub async fn series(
        &self,
        selectors: &[String],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Labels>, PromError> {
        let mut out = BTreeSet::new();
        let catalog = self.source.catalog(start_ms, end_ms).await?;
        for s in selectors {
            let vs = parse_selector(s)?;
            let sets = source::matcher_sets(vs.name.as_deref(), &vs.matchers);
            for series in self
                .source
                .select(&catalog, &sets, start_ms, end_ms)
                .await?
            {
                out.insert(series.labels);
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Label sets to answer label questions from: of the selected series, or of every stream
    /// (and the synthetic and `target_info` series) when no selector is given.
    async fn label_sets(
        &self,
        selectors: &[String],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Labels>, PromError> {
        if !selectors.is_empty() {
            return self.series(selectors, start_ms, end_ms).await;
        }
        let mut sets = self.source.stream_labels(start_ms, end_ms).await?;
        // The synthetic families' labels, from their cheapest series (the duration histogram
        // has the same labels plus `le`).
        let derived = format!(
            "{{__name__=~\"{}|{}|{}\"}}",
            synthetic::SPAN_REQUESTS,
            synthetic::LOG_RECORDS,
            source::TARGET_INFO
        );
        for found in self.series(&[derived], start_ms, end_ms).await? {
            if found.name() == synthetic::SPAN_REQUESTS {
                let histogram =
                    names::series_names(synthetic::SPAN_DURATION, names::Kind::Histogram);
                for (name, part) in histogram {
                    let mut l = found.clone();
                    l.set(labels::NAME, &name);
                    if part == names::Part::Bucket {
                        l.set("le", "+Inf");
                    }
                    sets.push(l);
                }
                let mut errors = found.clone();
                errors.set(labels::NAME, synthetic::SPAN_ERRORS);
                sets.push(errors);
            }
            sets.push(found);
        }
        Ok(sets)
    }

    /// Label names, sorted.
    pub async fn label_names(
        &self,
        selectors: &[String],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<String>, PromError> {
        let mut names = BTreeSet::new();
        for labels in self.label_sets(selectors, start_ms, end_ms).await? {
            for (n, _) in labels.iter() {
                names.insert(n.to_string());
            }
        }
        Ok(names.into_iter().collect())
    }

    /// The values of label `name`, sorted.
    pub async fn label_values(
        &self,
        name: &str,
        selectors: &[String],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<String>, PromError> {
        if selectors.is_empty() && name == labels::NAME {
            // Metric names come from the catalog alone.
            let catalog = self.source.catalog(start_ms, end_ms).await?;
            let mut out = BTreeSet::new();
            for f in &catalog.families {
                for (n, _) in names::series_names(&f.name, f.kind) {
                    out.insert(n);
                }
            }
            return Ok(out.into_iter().collect());
        }
        let sets = if selectors.is_empty() && (name == "le" || name == "quantile") {
            // Bucket bounds and quantiles are only known from the points.
            self.series(&["{__name__=~\".+\"}".to_string()], start_ms, end_ms)
                .await?
        } else {
            self.label_sets(selectors, start_ms, end_ms).await?
        };
        let mut values = BTreeSet::new();
        for labels in sets {
            let v = labels.get(name);
            if !v.is_empty() {
                values.insert(v.to_string());
            }
        }
        Ok(values.into_iter().collect())
    }

    /// Metadata per family name (of one metric, or all), within `[start_ms, end_ms]`.
    pub async fn metadata(
        &self,
        metric: Option<&str>,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<BTreeMap<String, Vec<Metadata>>, PromError> {
        let catalog = self.source.catalog(start_ms, end_ms).await?;
        let mut out: BTreeMap<String, Vec<Metadata>> = BTreeMap::new();
        for f in catalog.families {
            if metric.is_some_and(|m| m != f.name) {
                continue;
            }
            let entry = Metadata {
                metric_type: f.kind.prometheus_type().to_string(),
                help: f.help,
                unit: f.unit,
            };
            let list = out.entry(f.name).or_default();
            if !list.contains(&entry) {
                list.push(entry);
            }
        }
        Ok(out)
    }
}

/// The evaluation times of a range query.
fn range_times(
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
    max_steps: usize,
) -> Result<Vec<i64>, PromError> {
    if step_ms <= 0 {
        return Err(PromError::BadData(
            "zero or negative query resolution step widths are not accepted. Try a positive integer".to_string(),
        ));
    }
    if end_ms < start_ms {
        return Err(PromError::BadData(
            "end timestamp must not be before start time".to_string(),
        ));
    }
    let steps = (end_ms - start_ms) / step_ms + 1;
    if usize::try_from(steps).map_or(true, |s| s > max_steps) {
        return Err(PromError::BadData(format!(
            "exceeded maximum resolution of {max_steps} points per timeseries. Try decreasing the query resolution (?step=XX)"
        )));
    }
    Ok((0..steps).map(|i| start_ms + i * step_ms).collect())
}

fn check_range_type(e: &Expr) -> Result<(), PromError> {
    use promql_parser::parser::value::ValueType;
    match e.value_type() {
        ValueType::Vector | ValueType::Scalar => Ok(()),
        other => Err(PromError::BadData(format!(
            "invalid expression type \"{other}\" for range query, must be Scalar or instant Vector"
        ))),
    }
}

/// Evaluates a parsed expression on the series read for it, at times `ts`. `instant`: answer
/// as an instant query (a vector, or a matrix for a range vector expression).
fn evaluate_loaded(
    parsed: &Expr,
    data: &SelectorData,
    options: &EngineOptions,
    times: QueryTimes,
    ts: &[i64],
    instant: bool,
) -> Result<QueryValue, PromError> {
    let ev = Evaluator {
        data,
        opts: options,
        times,
        deadline: Instant::now() + options.timeout,
    };
    let top = strip_parens(parsed);
    let at = ts.first().copied().unwrap_or(times.start);
    if instant && matches!(top, Expr::MatrixSelector(_) | Expr::Subquery(_)) {
        let m = ev.matrix(top, &[at])?;
        let end = m.window_end(at);
        let mut series = Vec::new();
        for (labels, samples) in &m.series {
            let w = ev.window(samples, end, m.range);
            if !w.is_empty() {
                series.push(Series {
                    labels: labels.clone(),
                    samples: w.to_vec(),
                });
            }
        }
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        return Ok(QueryValue::Matrix(series));
    }
    let value = ev.eval(parsed, ts)?;
    if instant {
        return Ok(match value {
            Value::Scalar(v) => QueryValue::Scalar {
                t: at,
                v: v.first().copied().unwrap_or(f64::NAN),
            },
            Value::String(s) => QueryValue::String { t: at, v: s },
            Value::Vector(series) => {
                let mut out: Vec<Sample> = series
                    .into_iter()
                    .filter_map(|s| {
                        s.values.first().copied().flatten().map(|v| Sample {
                            labels: s.labels,
                            t: at,
                            v,
                        })
                    })
                    .collect();
                if !keeps_order(top) {
                    out.sort_by(|a, b| a.labels.cmp(&b.labels));
                }
                QueryValue::Vector(out)
            }
        });
    }
    let to_series = |labels: Labels, values: &[Option<f64>]| Series {
        labels,
        samples: ts
            .iter()
            .zip(values)
            .filter_map(|(t, v)| v.map(|v| (*t, v)))
            .collect(),
    };
    let mut out: Vec<Series> = match value {
        Value::Scalar(v) => {
            let values: Vec<Option<f64>> = v.into_iter().map(Some).collect();
            vec![to_series(Labels::default(), &values)]
        }
        Value::Vector(series) => series
            .into_iter()
            .map(|s| to_series(s.labels, &s.values))
            .filter(|s| !s.samples.is_empty())
            .collect(),
        Value::String(_) => {
            return Err(PromError::BadData(
                "invalid expression type \"string\" for range query".to_string(),
            ));
        }
    };
    out.sort_by(|a, b| a.labels.cmp(&b.labels));
    Ok(QueryValue::Matrix(out))
}

/// Whether the top of an expression orders its result (`sort`, `topk`...), so that an instant
/// vector keeps the evaluation's order.
fn keeps_order(e: &Expr) -> bool {
    match e {
        Expr::Call(c) => c.func.name.starts_with("sort"),
        Expr::Aggregate(a) => {
            let op = a.op.id();
            op == promql_parser::parser::token::T_TOPK
                || op == promql_parser::parser::token::T_BOTTOMK
        }
        _ => false,
    }
}

async fn run_blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, PromError> + Send + 'static,
) -> Result<T, PromError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| PromError::Internal(format!("evaluation task failed: {e}")))?
}

#[cfg(test)]
mod tests;
