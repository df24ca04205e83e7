//! The `[alerts]` configuration and the task that evaluates the rules on the interval.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// Check rules and alerts.
///
/// ```toml
/// [alerts]
/// interval_secs = 30
/// rules_dir = "/etc/redscope/rules"
/// alertmanager_urls = ["http://127.0.0.1:9093"]
/// slack_webhook_urls = ["https://hooks.slack.com/services/..."]
///
/// [alerts.builtin.red_errors]
/// degraded = 0.05
/// critical = 0.2
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    pub enabled: bool,
    /// How often rules are evaluated (a group's `interval` overrides it).
    pub interval_secs: u64,
    /// Rule files (`*.yml`, `*.yaml`, `*.json`), read again when they change; empty for none.
    pub rules_dir: PathBuf,
    /// Alertmanager base URLs (`POST {url}/api/v2/alerts`).
    pub alertmanager_urls: Vec<String>,
    /// Slack-compatible incoming webhooks (`{"text"}`).
    pub slack_webhook_urls: Vec<String>,
    /// Webhooks that get Alertmanager's webhook payload (version 4).
    pub webhook_urls: Vec<String>,
    /// How often a firing alert is sent to Alertmanager again.
    pub resend_interval_secs: u64,
    pub notify_timeout_secs: u64,
    pub notify_retries: u32,
    /// The server's URL as users reach it, for links in notifications; empty: the API address.
    pub external_url: String,
    /// State changes kept in the history, at most, and for how many days.
    pub history_limit: usize,
    pub history_days: u64,
    /// Built-in rules (`red_errors`, `red_latency`, `log_patterns`, `triage`).
    pub builtin: alerts::BuiltinConfig,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            enabled: true,
            interval_secs: 30,
            rules_dir: PathBuf::new(),
            alertmanager_urls: Vec::new(),
            slack_webhook_urls: Vec::new(),
            webhook_urls: Vec::new(),
            resend_interval_secs: 60,
            notify_timeout_secs: 10,
            notify_retries: 3,
            external_url: String::new(),
            history_limit: 10_000,
            history_days: 30,
            builtin: alerts::BuiltinConfig::default(),
        }
    }
}

impl AlertsConfig {
    /// Checked once at start: URLs and the built-in rules.
    pub fn validate(&self) -> anyhow::Result<()> {
        let lists = [
            ("alertmanager_urls", &self.alertmanager_urls),
            ("slack_webhook_urls", &self.slack_webhook_urls),
            ("webhook_urls", &self.webhook_urls),
        ];
        for (name, urls) in lists {
            for u in urls {
                if !(u.starts_with("http://") || u.starts_with("https://")) {
                    bail!("alerts.{name}: {u:?} is not an http:// or https:// URL");
                }
            }
        }
        if self.interval_secs == 0 {
            bail!("alerts.interval_secs must be above 0");
        }
        alerts::builtin::groups(&self.builtin).map_err(|e| anyhow::anyhow!(e))?;
        Ok(())
    }

    fn options(&self, config: &crate::config::Config) -> alerts::AlertsOptions {
        let secs = |s: u64| i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX);
        alerts::AlertsOptions {
            interval_ms: secs(self.interval_secs.max(1)),
            rules_dir: (!self.rules_dir.as_os_str().is_empty()).then(|| self.rules_dir.clone()),
            state_path: Some(alerts::state::path_in(&config.data_dir)),
            builtin: self.builtin.clone(),
            resend_interval_ms: secs(self.resend_interval_secs.max(1)),
            history_limit: self.history_limit.max(1),
            history_max_age_ms: secs(self.history_days.max(1).saturating_mul(86_400)),
            external_url: self.external_url_or(config),
            external_labels: Default::default(),
        }
    }

    fn external_url_or(&self, config: &crate::config::Config) -> String {
        if !self.external_url.is_empty() {
            return self.external_url.clone();
        }
        let api = config.server.api;
        let host = if api.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            api.ip().to_string()
        };
        format!("http://{host}:{}", api.port())
    }

    fn notify_options(&self, config: &crate::config::Config) -> alerts::NotifyOptions {
        alerts::NotifyOptions {
            alertmanagers: self.alertmanager_urls.clone(),
            slack_webhooks: self.slack_webhook_urls.clone(),
            webhooks: self.webhook_urls.clone(),
            timeout: std::time::Duration::from_secs(self.notify_timeout_secs.max(1)),
            retries: self.notify_retries,
            external_url: self.external_url_or(config),
            ..alerts::NotifyOptions::default()
        }
    }
}

/// Opens the alerting engine over the server's data and starts its evaluation task; `None`
/// when `[alerts] enabled = false`.
/// With `budgets` (the pipeline rules have budgets), the built-in budget alert is on with its
/// default thresholds unless configured.
pub fn start(
    config: &crate::config::Config,
    budgets: bool,
    query: &Arc<query::QueryService>,
    promql: &Arc<promql::Engine>,
    mut stop: watch::Receiver<bool>,
    tasks: &mut Vec<tokio::task::JoinHandle<anyhow::Result<()>>>,
) -> anyhow::Result<Option<Arc<alerts::Alerts>>> {
    let c = &config.alerts;
    if !c.enabled {
        return Ok(None);
    }
    let querier = Arc::new(alerts::StoreQuerier {
        promql: Arc::clone(promql),
        query: Arc::clone(query),
    });
    let notifier = alerts::Notifier::start(&c.notify_options(config));
    let mut options = c.options(config);
    if budgets && options.builtin.budgets.is_none() {
        options.builtin.budgets = Some(alerts::builtin::BudgetRule::default());
    }
    let engine = Arc::new(
        alerts::Alerts::open(options, querier, notifier).context("opening the alert state")?,
    );
    let evaluating = Arc::clone(&engine);
    tasks.push(tokio::spawn(async move {
        loop {
            evaluating
                .evaluate_once(model::now_unix_nano() / 1_000_000)
                .await;
            let tick = std::time::Duration::from_millis(evaluating.tick_ms().unsigned_abs());
            tokio::select! {
                _ = tokio::time::sleep(tick) => {}
                _ = stop.wait_for(|v| *v) => return Ok(()),
            }
        }
    }));
    Ok(Some(engine))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::config::Config;

    #[test]
    fn alerts_come_from_the_file_and_the_environment_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("redscope.toml");
        std::fs::write(
            &file,
            "[alerts]\ninterval_secs = 5\n[alerts.builtin.red_errors]\ndegraded = 0.05\ncritical = 0.2\nbaseline = \"1d\"\n",
        )
        .unwrap();
        let env = vec![(
            "REDSCOPE_ALERTS__ALERTMANAGER_URLS".to_string(),
            "http://127.0.0.1:9093, http://am2:9093".to_string(),
        )];
        let c = Config::load(Some(&file), env.into_iter()).unwrap();
        assert_eq!(c.alerts.interval_secs, 5);
        assert_eq!(c.alerts.alertmanager_urls.len(), 2);
        let red = c.alerts.builtin.red_errors.as_ref().unwrap();
        assert_eq!(
            (red.degraded, red.baseline.as_deref()),
            (Some(0.05), Some("1d"))
        );
        assert!(c.alerts.builtin.red_latency.is_none());
        let o = c.alerts.options(&c);
        assert_eq!(o.interval_ms, 5_000);
        assert!(o.state_path.unwrap().ends_with("alerts/state.json"));
        assert_eq!(o.external_url, "http://127.0.0.1:8080");

        let bad = vec![(
            "REDSCOPE_ALERTS__WEBHOOK_URLS".to_string(),
            "ftp://x".to_string(),
        )];
        let e = Config::load(None, bad.into_iter()).unwrap_err();
        assert!(format!("{e:#}").contains("webhook_urls"), "{e:#}");
        std::fs::write(
            &file,
            "[alerts.builtin.red_latency]\ndegraded = 5.0\ncritical = 1.0\n",
        )
        .unwrap();
        let e = Config::load(Some(&file), std::iter::empty()).unwrap_err();
        assert!(format!("{e:#}").contains("red_latency"), "{e:#}");
    }
}
