//! The pipeline rules in force (`[pipeline] rules_file`), read again when the file changes.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::watch;

use crate::config::Config;

/// How often the rule file is checked for changes.
const CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

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
