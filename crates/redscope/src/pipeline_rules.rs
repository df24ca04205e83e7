//! The pipeline rules in force (`[pipeline] rules_file`), read again when the file changes.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
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

/// The rules of the file (none when it does not exist); a file that does not parse stops
/// the start, so that a typo never turns rules off unnoticed.
pub fn open(config: &Config) -> anyhow::Result<Arc<pipeline::Pipeline>> {
    let path = rules_file(config);
    let rules = pipeline::Pipeline::open(&path)
        .with_context(|| format!("pipeline rules in {}", path.display()))?;
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
/// they counted).
pub fn write_metrics(
    rules: Arc<pipeline::Pipeline>,
    ingest: ingest::Pipeline,
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
