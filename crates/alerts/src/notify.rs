//! Sending alerts out: to Alertmanager (`POST {url}/api/v2/alerts`, firing alerts again every
//! resend interval, resolved ones with their `endsAt`), to Slack-compatible incoming webhooks
//! (`{"text"}`) and to generic webhooks with Alertmanager's webhook payload (version 4). Each
//! target has its own bounded queue and task; a request has a timeout and is retried with
//! backoff; what was sent, failed or dropped is counted.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;

/// Where and how to send.
#[derive(Debug, Clone)]
pub struct NotifyOptions {
    pub alertmanagers: Vec<String>,
    pub slack_webhooks: Vec<String>,
    pub webhooks: Vec<String>,
    pub timeout: Duration,
    /// Tries after the first.
    pub retries: u32,
    /// The first wait before a retry; it doubles each time.
    pub backoff: Duration,
    /// Batches waiting per target; beyond it new ones are dropped (and counted).
    pub queue: usize,
    /// The server's own URL, for links in notifications.
    pub external_url: String,
}

impl Default for NotifyOptions {
    fn default() -> Self {
        NotifyOptions {
            alertmanagers: Vec::new(),
            slack_webhooks: Vec::new(),
            webhooks: Vec::new(),
            timeout: Duration::from_secs(10),
            retries: 3,
            backoff: Duration::from_millis(500),
            queue: 256,
            external_url: "http://127.0.0.1:8080".to_string(),
        }
    }
}

/// An alert as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub fingerprint: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at_ms: i64,
    /// For a firing alert: when Alertmanager may consider it resolved if not sent again.
    pub ends_at_ms: Option<i64>,
    pub resolved: bool,
    pub generator_url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Alertmanager,
    Slack,
    Webhook,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Alertmanager => "alertmanager",
            Kind::Slack => "slack",
            Kind::Webhook => "webhook",
        }
    }
}

/// The counters of one target.
#[derive(Default)]
pub struct TargetStats {
    pub sent: AtomicU64,
    pub failed: AtomicU64,
    pub dropped: AtomicU64,
    pub retries: AtomicU64,
    pub alerts_sent: AtomicU64,
}

struct Target {
    kind: Kind,
    url: String,
    tx: mpsc::Sender<Vec<Outgoing>>,
    stats: Arc<TargetStats>,
}

/// The senders of every target. Cheap to share behind an `Arc`.
pub struct Notifier {
    targets: Vec<Target>,
}

impl Notifier {
    /// Starts one task per target on the current runtime.
    pub fn start(options: &NotifyOptions) -> Notifier {
        let client = reqwest::Client::builder()
            .timeout(options.timeout)
            .user_agent(concat!("redscope/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        let mut targets = Vec::new();
        let all = [
            (Kind::Alertmanager, &options.alertmanagers),
            (Kind::Slack, &options.slack_webhooks),
            (Kind::Webhook, &options.webhooks),
        ];
        for (kind, urls) in all {
            for url in urls {
                let (tx, rx) = mpsc::channel(options.queue.max(1));
                let stats = Arc::new(TargetStats::default());
                let worker = Worker {
                    kind,
                    url: url.trim_end_matches('/').to_string(),
                    client: client.clone(),
                    stats: Arc::clone(&stats),
                    options: options.clone(),
                };
                tokio::spawn(worker.run(rx));
                targets.push(Target {
                    kind,
                    url: url.clone(),
                    tx,
                    stats,
                });
            }
        }
        Notifier { targets }
    }

    /// No targets.
    pub fn none() -> Notifier {
        Notifier {
            targets: Vec::new(),
        }
    }

    pub fn has_alertmanagers(&self) -> bool {
        self.targets.iter().any(|t| t.kind == Kind::Alertmanager)
    }

    /// Queues `to_alertmanager` for each Alertmanager and `changes` (new firing and resolved
    /// alerts) for each webhook.
    pub fn send(&self, to_alertmanager: &[Outgoing], changes: &[Outgoing]) {
        for t in &self.targets {
            let batch = match t.kind {
                Kind::Alertmanager => to_alertmanager,
                Kind::Slack | Kind::Webhook => changes,
            };
            if batch.is_empty() {
                continue;
            }
            if t.tx.try_send(batch.to_vec()).is_err() {
                t.stats.dropped.fetch_add(1, Relaxed);
                tracing::warn!(target = t.kind.name(), url = %t.url, "notification queue full: batch dropped");
            }
        }
    }

    pub fn snapshot(&self) -> Value {
        let targets: Vec<Value> = self
            .targets
            .iter()
            .map(|t| {
                json!({
                    "kind": t.kind.name(),
                    "url": t.url,
                    "sent": t.stats.sent.load(Relaxed),
                    "failed": t.stats.failed.load(Relaxed),
                    "dropped": t.stats.dropped.load(Relaxed),
                    "retries": t.stats.retries.load(Relaxed),
                    "alerts_sent": t.stats.alerts_sent.load(Relaxed),
                })
            })
            .collect();
        json!({ "targets": targets })
    }
}

struct Worker {
    kind: Kind,
    url: String,
    client: reqwest::Client,
    stats: Arc<TargetStats>,
    options: NotifyOptions,
}

impl Worker {
    async fn run(self, mut rx: mpsc::Receiver<Vec<Outgoing>>) {
        while let Some(batch) = rx.recv().await {
            let (url, body) = match self.kind {
                Kind::Alertmanager => (
                    format!("{}/api/v2/alerts", self.url),
                    alertmanager_body(&batch),
                ),
                Kind::Slack => (self.url.clone(), slack_body(&batch)),
                Kind::Webhook => (
                    self.url.clone(),
                    webhook_body(&batch, &self.options.external_url),
                ),
            };
            self.deliver(&url, &body, batch.len()).await;
        }
    }

    async fn deliver(&self, url: &str, body: &Value, alerts: usize) {
        let mut wait = self.options.backoff;
        for attempt in 0..=self.options.retries {
            if attempt > 0 {
                self.stats.retries.fetch_add(1, Relaxed);
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(2);
            }
            match self.client.post(url).json(body).send().await {
                Ok(r) if r.status().is_success() => {
                    self.stats.sent.fetch_add(1, Relaxed);
                    self.stats.alerts_sent.fetch_add(alerts as u64, Relaxed);
                    return;
                }
                // A request the receiver refuses as bad will not get better.
                Ok(r) if r.status().is_client_error() && r.status().as_u16() != 429 => {
                    tracing::warn!(target = self.kind.name(), %url, status = %r.status(), "notification refused");
                    break;
                }
                Ok(r) => {
                    tracing::debug!(target = self.kind.name(), %url, status = %r.status(), attempt, "notification failed")
                }
                Err(e) => {
                    tracing::debug!(target = self.kind.name(), %url, error = %e, attempt, "notification failed")
                }
            }
        }
        self.stats.failed.fetch_add(1, Relaxed);
        tracing::warn!(target = self.kind.name(), %url, "notification not delivered");
    }
}

/// RFC 3339 in UTC with milliseconds.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".to_string())
}

/// The list `POST /api/v2/alerts` takes.
pub fn alertmanager_body(alerts: &[Outgoing]) -> Value {
    let list: Vec<Value> = alerts
        .iter()
        .map(|a| {
            let mut v = json!({
                "labels": a.labels,
                "annotations": a.annotations,
                "startsAt": rfc3339(a.starts_at_ms),
                "generatorURL": a.generator_url,
            });
            if let Some(end) = a.ends_at_ms {
                v["endsAt"] = json!(rfc3339(end));
            }
            v
        })
        .collect();
    Value::Array(list)
}

/// A line of text per alert: state, name, severity, service, summary.
pub fn slack_body(alerts: &[Outgoing]) -> Value {
    let lines: Vec<String> = alerts
        .iter()
        .map(|a| {
            let state = if a.resolved { "RESOLVED" } else { "FIRING" };
            let name = a.labels.get("alertname").map_or("alert", String::as_str);
            let severity = a
                .labels
                .get("severity")
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            let service = crate::lifecycle::service_of(&a.labels)
                .map(|s| format!(" service={s}"))
                .unwrap_or_default();
            let text = a
                .annotations
                .get("summary")
                .or_else(|| a.annotations.get("description"))
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            format!(
                "[{state}] {name}{severity}{service}{text} <{}|details>",
                a.generator_url
            )
        })
        .collect();
    json!({ "text": lines.join("\n") })
}

fn common(maps: &[&BTreeMap<String, String>]) -> BTreeMap<String, String> {
    let Some((first, rest)) = maps.split_first() else {
        return BTreeMap::new();
    };
    first
        .iter()
        .filter(|(k, v)| rest.iter().all(|m| m.get(*k) == Some(*v)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Alertmanager's webhook payload, version 4.
pub fn webhook_body(alerts: &[Outgoing], external_url: &str) -> Value {
    let labels: Vec<&BTreeMap<String, String>> = alerts.iter().map(|a| &a.labels).collect();
    let annotations: Vec<&BTreeMap<String, String>> =
        alerts.iter().map(|a| &a.annotations).collect();
    let firing = alerts.iter().any(|a| !a.resolved);
    let list: Vec<Value> = alerts
        .iter()
        .map(|a| {
            json!({
                "status": if a.resolved { "resolved" } else { "firing" },
                "labels": a.labels,
                "annotations": a.annotations,
                "startsAt": rfc3339(a.starts_at_ms),
                "endsAt": match (a.resolved, a.ends_at_ms) {
                    (true, Some(end)) => rfc3339(end),
                    _ => "0001-01-01T00:00:00Z".to_string(),
                },
                "generatorURL": a.generator_url,
                "fingerprint": a.fingerprint,
            })
        })
        .collect();
    let common_labels = common(&labels);
    json!({
        "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"{}\"}}", common_labels.get("alertname").map_or("", String::as_str)),
        "truncatedAlerts": 0,
        "status": if firing { "firing" } else { "resolved" },
        "receiver": "redscope",
        "groupLabels": {},
        "commonLabels": common_labels,
        "commonAnnotations": common(&annotations),
        "externalURL": external_url,
        "alerts": list,
    })
}

#[cfg(test)]
#[path = "notify_tests.rs"]
mod tests;
