//! The pipeline rules in force (`[pipeline] rules_file`), read again when the file changes.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Int64Type};
use tokio::sync::watch;

use crate::config::Config;

/// How often the rule file is checked for changes.
const CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(2);
/// How often the points of the `metric` rules are written (their resolution in PromQL).
const METRICS_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// The rule file: as configured, else `pipeline.toml` in the data directory.
pub fn rules_file(config: &Config) -> PathBuf {
    if config.pipeline.rules_file.as_os_str().is_empty() {
        config.data_dir.join("pipeline.toml")
    } else {
        config.pipeline.rules_file.clone()
    }
}

/// Where the budgets' counts of the day and the month are kept between runs.
pub fn ledger_file(config: &Config) -> PathBuf {
    config.data_dir.join("budgets.json")
}

/// The rules of the file (none when it does not exist), with the budgets' counts of the last
/// run; a file that does not parse stops the start, so that a typo never turns rules off
/// unnoticed.
pub fn open(config: &Config) -> anyhow::Result<Arc<pipeline::Pipeline>> {
    let path = rules_file(config);
    let rules = pipeline::Pipeline::open(&path)
        .with_context(|| format!("pipeline rules in {}", path.display()))?
        .with_ledger(pipeline::Ledger::load(&ledger_file(config)));
    Ok(Arc::new(rules))
}

/// Checks the rule file every few seconds until `stop`.
pub fn watch(
    rules: Arc<pipeline::Pipeline>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<anyhow::Result<()>> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(CHECK_EVERY) => {}
                _ = stop.wait_for(|v| *v) => return Ok(()),
            }
            let r = Arc::clone(&rules);
            if let Ok(true) = tokio::task::spawn_blocking(move || r.reload_if_changed()).await {
                tracing::info!(version = rules.current().version, "pipeline rules reloaded");
            }
        }
    })
}

/// Writes the series of the `metric` rules every [`METRICS_EVERY`] and at `stop`, from the
/// rules in force and, once more, from the version they replaced (so a reload loses nothing
/// they counted); with them the budgets' gauges, and saves the budgets' counts to `ledger`.
pub fn write_metrics(
    rules: Arc<pipeline::Pipeline>,
    ingest: ingest::Pipeline,
    ledger: PathBuf,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<anyhow::Result<()>> {
    tokio::spawn(async move {
        let mut last: Option<Arc<pipeline::Loaded>> = None;
        loop {
            let stopping = tokio::select! {
                _ = tokio::time::sleep(METRICS_EVERY) => false,
                _ = stop.wait_for(|v| *v) => true,
            };
            let current = rules.current();
            let now = model::now_unix_nano();
            let mut points = Vec::new();
            if let Some(previous) = last.take()
                && !Arc::ptr_eq(&previous, &current)
            {
                points.extend(previous.rules.metric_points(now, loaded_ns(&previous)));
            }
            if current.rules.makes_metrics() {
                points.extend(current.rules.metric_points(now, loaded_ns(&current)));
            }
            if !current.budgets.is_empty() {
                points.extend(rules.ledger().points(&current.budgets, now));
            }
            let counts = Arc::clone(rules.ledger());
            let path = ledger.clone();
            match tokio::task::spawn_blocking(move || counts.save(&path)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "budget counts not saved"),
                Err(e) => tracing::warn!(error = %e, "budget counts not saved"),
            }
            last = Some(current);
            if let Err(e) = ingest.write_points(points).await {
                tracing::warn!(error = %e, "points of the pipeline's metric rules not written");
            }
            if stopping {
                return Ok(());
            }
        }
    })
}

fn loaded_ns(l: &pipeline::Loaded) -> i64 {
    l.loaded_at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// What the store writes of its spans to files: the tail sampling rule (see `pipeline::tail`)
/// and the span budgets (see `pipeline::budget`), applied then because by then a trace's
/// spans are in, so it is judged whole. Spans kept as part of the share of ordinary traces
/// note the share (`redscope.sample_rate`), so counts can be weighted back.
pub struct SpanFilter(pub Arc<pipeline::Pipeline>);

impl storage::FlushFilter for SpanFilter {
    fn keep(&self, signal: model::Signal, batch: &RecordBatch) -> Option<RecordBatch> {
        if signal != model::Signal::Spans {
            return None;
        }
        let current = self.0.current();
        let sampled = match current.rules.tail_rule() {
            Some((_, _, policy)) => match tail_sample(&current.rules, policy.rate, batch) {
                Ok(kept) => kept,
                Err(e) => {
                    tracing::warn!(error = %e, "tail sampling skipped: every span of this flush is written");
                    None
                }
            },
            None => None,
        };
        if !current
            .budgets
            .iter()
            .any(|b| b.signal == model::Signal::Spans)
        {
            return sampled;
        }
        let input = sampled.as_ref().unwrap_or(batch);
        match within_budgets(self.0.ledger(), &current.budgets, input) {
            Ok(None) => sampled,
            Ok(kept) => kept,
            Err(e) => {
                tracing::warn!(error = %e, "span budgets skipped: every span of this flush is written");
                sampled
            }
        }
    }
}

/// The spans of `batch` their budgets keep, or `None` when they keep them all. A trace's
/// spans of one service are judged together, and kept over a cap when the trace has a
/// failed span (in this batch, or seen at ingest).
fn within_budgets(
    ledger: &pipeline::Ledger,
    budgets: &[pipeline::Budget],
    batch: &RecordBatch,
) -> anyhow::Result<Option<RecordBatch>> {
    use std::collections::{HashMap, HashSet};
    let utf8 = |name: &str| column_as(batch, name, &DataType::Utf8);
    let (traces, services, names, status, kinds) = (
        utf8("trace_id")?,
        utf8("service_name")?,
        utf8("name")?,
        utf8("status_code")?,
        utf8("kind")?,
    );
    let (attrs, events, links, messages) = (
        utf8("attributes")?,
        utf8("events")?,
        utf8("links")?,
        utf8("status_message")?,
    );
    let http = column_as(batch, "http_response_status_code", &DataType::Int64)?;
    let (traces, services, names, status, kinds) = (
        traces.as_string::<i32>(),
        services.as_string::<i32>(),
        names.as_string::<i32>(),
        status.as_string::<i32>(),
        kinds.as_string::<i32>(),
    );
    let (attrs, events, links, messages) = (
        attrs.as_string::<i32>(),
        events.as_string::<i32>(),
        links.as_string::<i32>(),
        messages.as_string::<i32>(),
    );
    let http = http.as_primitive::<Int64Type>();
    let mut failed: HashSet<&str> = HashSet::new();
    let mut groups: HashMap<(&str, &str), usize> = HashMap::new();
    let mut items: Vec<(&str, &str, u64, u64)> = Vec::new();
    let mut group_of = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let (trace, service) = (traces.value(i), services.value(i));
        let http_status = http.is_valid(i).then(|| http.value(i));
        if model::span_failed(status.value(i), kinds.value(i), http_status) {
            failed.insert(trace);
        }
        let bytes = pipeline::size::span_bytes_of(
            names.value(i),
            attrs.value(i),
            events.value(i),
            links.value(i),
            messages.value(i),
        );
        let g = *groups.entry((trace, service)).or_insert_with(|| {
            items.push((trace, service, 0, 0));
            items.len() - 1
        });
        items[g].2 += 1;
        items[g].3 += bytes;
        group_of.push(g);
    }
    let worth = |trace: &str| {
        if failed.contains(trace) || ledger.trace_failed(trace) {
            pipeline::budget::Worth::Kept
        } else {
            pipeline::budget::Worth::Ordinary
        }
    };
    let verdicts = ledger.admit(
        budgets,
        model::Signal::Spans,
        items
            .iter()
            .map(|(trace, service, records, bytes)| pipeline::budget::Item {
                service,
                records: *records,
                bytes: *bytes,
                worth: worth(trace),
            }),
        model::now_unix_nano(),
    );
    if verdicts.iter().all(|k| *k) {
        return Ok(None);
    }
    let mask: BooleanArray = group_of.iter().map(|g| Some(verdicts[*g])).collect();
    Ok(Some(arrow::compute::filter_record_batch(batch, &mask)?))
}

/// The `retain` rules applied to stored rows by the store's upkeep (see `storage::keep`).
/// redscope's own series (`redscope.*`: RED, edges, log patterns) follow their signal's
/// retention whatever a rule says, so that history keeps its numbers.
pub struct Retention(pub Arc<pipeline::Pipeline>);

impl storage::RowExpiry for Retention {
    fn keeps_ns(&self, signal: model::Signal) -> Vec<i64> {
        self.0.current().rules.keeps(signal)
    }

    fn version(&self) -> u64 {
        self.0.current().version
    }

    fn expire(
        &self,
        signal: model::Signal,
        batch: &RecordBatch,
        now_ns: i64,
    ) -> Option<RecordBatch> {
        let current = self.0.current();
        if current.rules.keeps(signal).is_empty() {
            return None;
        }
        match expired_rows(&current.rules, signal, batch, now_ns) {
            Ok(kept) => kept,
            Err(e) => {
                tracing::warn!(error = %e, "retention rules skipped for a file");
                None
            }
        }
    }
}

/// `batch` without the rows past their `retain` rule's keep, or `None` when none is.
fn expired_rows(
    rules: &pipeline::RuleSet,
    signal: model::Signal,
    batch: &RecordBatch,
    now_ns: i64,
) -> anyhow::Result<Option<RecordBatch>> {
    let utf8 = |name: &str| column_as(batch, name, &DataType::Utf8);
    let times = column_as(batch, signal.time_column(), &DataType::Int64)?;
    let times = times.as_primitive::<Int64Type>();
    let services = utf8("service_name")?;
    let attrs = utf8("attributes")?;
    let (services, attrs) = (services.as_string::<i32>(), attrs.as_string::<i32>());
    let name_column = match signal {
        model::Signal::Spans => Some(utf8("name")?),
        model::Signal::Metrics => Some(utf8("metric_name")?),
        model::Signal::Logs => None,
    };
    let names = name_column.as_ref().map(|c| c.as_string::<i32>());
    let log_columns = match signal {
        model::Signal::Logs => Some((
            utf8("body")?,
            utf8("log_template_id")?,
            column_as(batch, "severity_number", &DataType::Int32)?,
            utf8("severity_text")?,
        )),
        _ => None,
    };
    let logs = log_columns.as_ref().map(|(b, t, s, st)| {
        (
            b.as_string::<i32>(),
            t.as_string::<i32>(),
            s.as_primitive::<arrow::datatypes::Int32Type>(),
            st.as_string::<i32>(),
        )
    });
    let mut any = false;
    let keep: BooleanArray = (0..batch.num_rows())
        .map(|i| {
            let name = names.map_or("", |n| n.value(i));
            if signal == model::Signal::Metrics
                && name.starts_with(ingest::convert::RESERVED_METRIC_PREFIX)
            {
                return Some(true);
            }
            let mut fields = pipeline::Fields {
                service: services.value(i),
                name,
                attributes: attrs.value(i),
                ..Default::default()
            };
            let mut bytes = 0;
            if let Some((body, template, severity, severity_text)) = &logs {
                fields.body = body.value(i);
                fields.template_id = template.is_valid(i).then(|| template.value(i));
                fields.severity = Some(severity.value(i));
                bytes = pipeline::size::log_bytes_of(
                    fields.body,
                    fields.attributes,
                    severity_text.value(i),
                );
            }
            let gone = rules.expired(signal, &fields, now_ns - times.value(i), bytes);
            any |= gone;
            Some(!gone)
        })
        .collect();
    if !any {
        return Ok(None);
    }
    Ok(Some(arrow::compute::filter_record_batch(batch, &keep)?))
}

/// A span column as `to` (dictionary or view columns cast).
fn column_as(batch: &RecordBatch, name: &str, to: &DataType) -> anyhow::Result<ArrayRef> {
    let column = batch
        .column_by_name(name)
        .with_context(|| format!("span column {name} missing"))?;
    Ok(arrow::compute::cast(column, to)?)
}

/// The spans of `batch` the tail rule keeps, or `None` when it keeps them all unchanged.
fn tail_sample(
    rules: &pipeline::RuleSet,
    rate: f64,
    batch: &RecordBatch,
) -> anyhow::Result<Option<RecordBatch>> {
    use std::collections::HashMap;
    let (traces, services, names, status, kinds, attrs) = (
        column_as(batch, "trace_id", &DataType::Utf8)?,
        column_as(batch, "service_name", &DataType::Utf8)?,
        column_as(batch, "name", &DataType::Utf8)?,
        column_as(batch, "status_code", &DataType::Utf8)?,
        column_as(batch, "kind", &DataType::Utf8)?,
        column_as(batch, "attributes", &DataType::Utf8)?,
    );
    let (traces, services, names) = (
        traces.as_string::<i32>(),
        services.as_string::<i32>(),
        names.as_string::<i32>(),
    );
    let (status, kinds, attrs) = (
        status.as_string::<i32>(),
        kinds.as_string::<i32>(),
        attrs.as_string::<i32>(),
    );
    let (durations, http) = (
        column_as(batch, "duration_ns", &DataType::Int64)?,
        column_as(batch, "http_response_status_code", &DataType::Int64)?,
    );
    let (durations, http) = (
        durations.as_primitive::<Int64Type>(),
        http.as_primitive::<Int64Type>(),
    );
    let mut facts: HashMap<&str, pipeline::TraceFacts> = HashMap::new();
    for i in 0..batch.num_rows() {
        let f = facts.entry(traces.value(i)).or_default();
        f.spans += 1;
        f.bytes += pipeline::size::span_bytes_of(names.value(i), attrs.value(i), "", "", "");
        let http_status = http.is_valid(i).then(|| http.value(i));
        f.error |= model::span_failed(status.value(i), kinds.value(i), http_status);
        f.longest_ns = f.longest_ns.max(durations.value(i));
        f.matched =
            f.matched || rules.tail_matches(services.value(i), names.value(i), attrs.value(i));
    }
    let verdicts: HashMap<&str, pipeline::Verdict> = facts
        .iter()
        .map(|(id, f)| (*id, rules.decide_trace(id, f)))
        .collect();
    let verdict = |i: usize| verdicts[traces.value(i)];
    if (0..batch.num_rows()).all(|i| verdict(i) == pipeline::Verdict::Unmatched) {
        return Ok(None);
    }
    let mask: BooleanArray = (0..batch.num_rows())
        .map(|i| Some(verdict(i).keeps()))
        .collect();
    // The kept share of ordinary traces says what it stands for.
    let noted: StringArray = (0..batch.num_rows())
        .map(|i| {
            let a = attrs.value(i);
            Some(if verdict(i) == pipeline::Verdict::Sampled {
                pipeline::note_sample_rate(a, rate)
            } else {
                a.to_string()
            })
        })
        .collect();
    let index = batch.schema().index_of("attributes")?;
    let mut columns = batch.columns().to_vec();
    columns[index] = arrow::compute::cast(&noted, batch.schema().field(index).data_type())?;
    let noted = RecordBatch::try_new(batch.schema(), columns)?;
    Ok(Some(arrow::compute::filter_record_batch(&noted, &mask)?))
}
