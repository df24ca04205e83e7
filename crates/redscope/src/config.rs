//! The configuration tree: defaults → TOML file → environment (`REDSCOPE_<SECTION>__<KEY>`)
//! → command-line flags. Validated once at start and passed down.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub data_dir: PathBuf,
    pub server: ServerConfig,
    pub limits: LimitsConfig,
    pub storage: StorageConfig,
    pub query: QueryConfig,
    pub promql: PromqlConfig,
    pub alerts: crate::alerting::AlertsConfig,
    pub browser_limits: BrowserLimitsConfig,
    pub dashboards: DashboardsConfig,
    pub usage: UsageConfig,
    pub pipeline: PipelineConfig,
}

/// Pipeline rules applied at ingest (drop, sample, redact ...): a TOML file, read again when
/// it changes and written by `PUT /api/v1/pipeline`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// The rule file; empty for `pipeline.toml` in the data directory.
    pub rules_file: PathBuf,
}

/// The usage report (`/api/v1/usage`): prices per GB of records sent, per signal
/// (`[usage.prices]`: `currency`, `spans_per_gb`, `logs_per_gb`, `metrics_per_gb`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UsageConfig {
    pub prices: query::UsagePrices,
}

/// Dashboards as code: Perses dashboard files (JSON or YAML) in a directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DashboardsConfig {
    /// The directory of dashboard files (searched 4 levels deep); empty for none.
    pub dir: PathBuf,
    /// How often the directory is checked for changed files.
    pub reload_interval_secs: u64,
}

impl Default for DashboardsConfig {
    fn default() -> Self {
        DashboardsConfig {
            dir: PathBuf::new(),
            reload_interval_secs: 2,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub otlp_grpc: SocketAddr,
    pub otlp_http: SocketAddr,
    pub api: SocketAddr,
    /// The built web UI (`npm run build` in web/).
    pub ui_dir: PathBuf,
    /// Web origins (`https://grafana.example.com`) whose pages may call the API, `/mcp` and
    /// the OTLP/HTTP receiver across origins (CORS). Browser tokens add their own origins to
    /// the OTLP/HTTP receiver's.
    pub cors_origins: Vec<String>,
    /// Serve a listener beyond loopback even though no token exists (warned at every start).
    pub insecure_no_auth: bool,
    /// Addresses or networks (`10.0.0.0/8`, `::1`) of reverse proxies whose
    /// `X-Forwarded-For` names the client; from any other peer the header is ignored.
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    pub max_request_bytes: usize,
    pub max_decompressed_bytes: usize,
    pub max_inflight_bytes: usize,
    /// Most attributes per record, span, event, link, data point and resource.
    pub max_attributes: usize,
    /// Longest attribute string value, in bytes.
    pub max_attribute_value_bytes: usize,
    /// How far in the past a record's time may lie before it is stored at its receive time;
    /// 0 means each signal's retention.
    pub max_time_past_hours: u64,
    /// How far in the future a record's time may lie.
    pub max_time_future_secs: u64,
    /// Open connections per listener (OTLP/gRPC, OTLP/HTTP, API); more are closed at once.
    pub max_connections: usize,
    /// Requests in flight per listener; beyond it OTLP gets 429 and the API waits.
    pub max_concurrent_requests: usize,
    /// HTTP: headers must arrive within this; also how long a kept-alive connection waits.
    pub header_read_timeout_secs: u64,
    /// HTTP: a request body must arrive within this once its headers are in.
    pub body_read_timeout_secs: u64,
    /// OTLP/gRPC: a connection with no traffic for this long is closed.
    pub idle_timeout_secs: u64,
}

/// Token-bucket limits on requests sent with a browser token (public by design), per client
/// address and per token; a rate of 0 turns that limit off, a burst of 0 is one second's worth.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrowserLimitsConfig {
    pub address_requests_per_sec: u64,
    pub address_requests_burst: u64,
    pub address_bytes_per_sec: u64,
    pub address_bytes_burst: u64,
    pub token_requests_per_sec: u64,
    pub token_requests_burst: u64,
    pub token_bytes_per_sec: u64,
    pub token_bytes_burst: u64,
    /// Most client addresses tracked at once (idle ones are dropped first).
    pub max_addresses: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    pub fsync: bool,
    pub flush_interval_secs: u64,
    pub flush_rows: usize,
    pub flush_mb: usize,
    pub max_memtable_mb: usize,
    pub retention_spans_hours: u64,
    pub retention_logs_hours: u64,
    pub retention_metrics_hours: u64,
    /// Session replay segments (`<data>/replay`), apart from the logs that point at them.
    pub retention_replay_hours: u64,
    pub compaction_interval_secs: u64,
    /// Files written this recently are kept whatever their rows' times (retention and
    /// `retain` rules alike): nothing goes minutes after it was acknowledged.
    pub retention_grace_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueryConfig {
    pub sql_max_rows: usize,
    pub timeout_secs: u64,
    pub memory_mb: usize,
}

/// PromQL evaluation (the Prometheus API under `/prometheus`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PromqlConfig {
    /// How far back an instant selector looks for a sample.
    pub lookback_delta_secs: u64,
    /// The step of a subquery that names none.
    pub default_subquery_step_secs: u64,
    /// Range windows include their start, as Prometheus 2 did (Prometheus 3 excludes it).
    pub prometheus2_windows: bool,
}

impl Default for PromqlConfig {
    fn default() -> Self {
        let d = promql::EngineOptions::default();
        PromqlConfig {
            lookback_delta_secs: (d.lookback_ms / 1000) as u64,
            default_subquery_step_secs: (d.default_subquery_step_ms / 1000) as u64,
            prometheus2_windows: !d.left_open_windows,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./data"),
            server: ServerConfig::default(),
            limits: LimitsConfig::default(),
            storage: StorageConfig::default(),
            query: QueryConfig::default(),
            promql: PromqlConfig::default(),
            alerts: crate::alerting::AlertsConfig::default(),
            browser_limits: BrowserLimitsConfig::default(),
            dashboards: DashboardsConfig::default(),
            usage: UsageConfig::default(),
            pipeline: PipelineConfig::default(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            otlp_grpc: SocketAddr::from(([127, 0, 0, 1], 4317)),
            otlp_http: SocketAddr::from(([127, 0, 0, 1], 4318)),
            api: SocketAddr::from(([127, 0, 0, 1], 8080)),
            ui_dir: PathBuf::from("web/dist"),
            cors_origins: Vec::new(),
            insecure_no_auth: false,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let d = ingest::Limits::default();
        let r = ingest::RecordLimits::default();
        LimitsConfig {
            max_request_bytes: d.max_request_bytes,
            max_decompressed_bytes: d.max_decompressed_bytes,
            max_inflight_bytes: d.max_inflight_bytes,
            max_attributes: r.max_attributes,
            max_attribute_value_bytes: r.max_value_bytes,
            max_time_past_hours: 0,
            max_time_future_secs: r.max_future.as_secs(),
            max_connections: 512,
            max_concurrent_requests: 128,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: d.body_timeout.as_secs(),
            idle_timeout_secs: 120,
        }
    }
}

impl Default for BrowserLimitsConfig {
    fn default() -> Self {
        let d = auth::RateLimits::default();
        let int = |x: f64| x as u64;
        BrowserLimitsConfig {
            address_requests_per_sec: int(d.per_address.requests.per_sec),
            address_requests_burst: int(d.per_address.requests.burst),
            address_bytes_per_sec: int(d.per_address.bytes.per_sec),
            address_bytes_burst: int(d.per_address.bytes.burst),
            token_requests_per_sec: int(d.per_token.requests.per_sec),
            token_requests_burst: int(d.per_token.requests.burst),
            token_bytes_per_sec: int(d.per_token.bytes.per_sec),
            token_bytes_burst: int(d.per_token.bytes.burst),
            max_addresses: d.max_addresses,
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            fsync: true,
            flush_interval_secs: 60,
            flush_rows: 500_000,
            flush_mb: 64,
            max_memtable_mb: 192,
            retention_spans_hours: 7 * 24,
            retention_logs_hours: 7 * 24,
            retention_metrics_hours: 30 * 24,
            retention_replay_hours: 3 * 24,
            compaction_interval_secs: 30,
            retention_grace_secs: 900,
        }
    }
}

impl Default for QueryConfig {
    fn default() -> Self {
        let d = query::QueryLimits::default();
        QueryConfig {
            sql_max_rows: d.sql_max_rows,
            timeout_secs: d.timeout.as_secs(),
            memory_mb: d.memory_bytes >> 20,
        }
    }
}

/// Parses an environment value as a TOML scalar (bool, integer, float), else a string.
fn env_value(raw: &str) -> toml::Value {
    if let Ok(b) = raw.parse::<bool>() {
        return toml::Value::Boolean(b);
    }
    if let Ok(i) = raw.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    if let Ok(f) = raw.parse::<f64>() {
        return toml::Value::Float(f);
    }
    toml::Value::String(raw.to_string())
}

impl Config {
    /// Defaults, then the file (if any), then `REDSCOPE_*` variables from `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl Iterator<Item = (String, String)>,
    ) -> anyhow::Result<Config> {
        let mut tree = toml::Value::try_from(Config::default())?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading config file {}", path.display()))?;
            let file_tree: toml::Value = toml::from_str(&text)
                .with_context(|| format!("parsing config file {}", path.display()))?;
            merge(&mut tree, file_tree);
        }
        for (key, value) in env {
            let Some(rest) = key.strip_prefix("REDSCOPE_") else {
                continue;
            };
            // Settings are REDSCOPE_<SECTION>__<KEY> (and REDSCOPE_DATA_DIR); other REDSCOPE_
            // variables (REDSCOPE_LOG, REDSCOPE_CONFIG, a script's own) are not settings.
            if !rest.contains("__") && rest != "DATA_DIR" {
                continue;
            }
            let path: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
            set_path(&mut tree, &path, env_value(&value))
                .with_context(|| format!("environment variable {key}"))?;
        }
        let config: Config = tree.try_into().context("invalid configuration")?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.limits.max_request_bytes == 0
            || self.limits.max_decompressed_bytes < self.limits.max_request_bytes
        {
            bail!(
                "limits: max_decompressed_bytes must be at least max_request_bytes, and both above 0"
            );
        }
        if self.storage.flush_rows == 0 || self.storage.max_memtable_mb == 0 {
            bail!("storage: flush_rows and max_memtable_mb must be above 0");
        }
        self.alerts.validate()?;
        auth::OriginPolicy::new(&self.server.cors_origins).context("server.cors_origins")?;
        auth::TrustedProxies::new(&self.server.trusted_proxies)
            .context("server.trusted_proxies")?;
        Ok(())
    }

    /// The listeners bound beyond loopback (`0.0.0.0` and specific addresses alike).
    pub fn exposed_listeners(&self) -> Vec<SocketAddr> {
        [
            self.server.otlp_grpc,
            self.server.otlp_http,
            self.server.api,
        ]
        .into_iter()
        .filter(|a| !a.ip().is_loopback())
        .collect()
    }

    pub fn store_config(&self) -> storage::StoreConfig {
        let hours = |h: u64| std::time::Duration::from_secs(h.saturating_mul(3600));
        let mut c = storage::StoreConfig::new(self.data_dir.clone());
        c.fsync = self.storage.fsync;
        c.flush_interval = std::time::Duration::from_secs(self.storage.flush_interval_secs.max(1));
        c.flush_rows = self.storage.flush_rows;
        c.flush_bytes = self.storage.flush_mb << 20;
        c.max_memtable_bytes = self.storage.max_memtable_mb << 20;
        c.retention = [
            hours(self.storage.retention_spans_hours),
            hours(self.storage.retention_logs_hours),
            hours(self.storage.retention_metrics_hours),
        ];
        c.maintenance_interval =
            std::time::Duration::from_secs(self.storage.compaction_interval_secs.max(1));
        c.retention_grace = std::time::Duration::from_secs(self.storage.retention_grace_secs);
        c
    }

    pub fn ingest_limits(&self) -> ingest::Limits {
        ingest::Limits {
            max_request_bytes: self.limits.max_request_bytes,
            max_decompressed_bytes: self.limits.max_decompressed_bytes,
            max_inflight_bytes: self.limits.max_inflight_bytes,
            body_timeout: std::time::Duration::from_secs(self.limits.body_read_timeout_secs.max(1)),
        }
    }

    /// What browser tokens may send.
    pub fn browser_rate_limits(&self) -> auth::RateLimits {
        let b = &self.browser_limits;
        let rate = |per_sec: u64, burst: u64| auth::Rate::new(per_sec as f64, burst as f64);
        auth::RateLimits {
            per_address: auth::KeyLimits {
                requests: rate(b.address_requests_per_sec, b.address_requests_burst),
                bytes: rate(b.address_bytes_per_sec, b.address_bytes_burst),
            },
            per_token: auth::KeyLimits {
                requests: rate(b.token_requests_per_sec, b.token_requests_burst),
                bytes: rate(b.token_bytes_per_sec, b.token_bytes_burst),
            },
            max_addresses: b.max_addresses.max(1),
        }
    }

    /// The limits of each listener, with `max_connections` as given (see
    /// [`crate::listen::fit_to_open_files`]). Holds the browser-token rate limiter: call once
    /// per server and clone the result for each listener, so that they share it.
    pub fn listen_limits(&self) -> crate::listen::ListenLimits {
        let secs = |s: u64| std::time::Duration::from_secs(s.max(1));
        // Checked by `validate`.
        let proxies = auth::TrustedProxies::new(&self.server.trusted_proxies).unwrap_or_default();
        crate::listen::ListenLimits {
            browser: crate::access::BrowserAdmission::new(
                auth::BrowserLimiter::new(self.browser_rate_limits()),
                proxies,
            ),
            max_connections: self.limits.max_connections.max(1),
            max_concurrent_requests: self.limits.max_concurrent_requests.max(1),
            header_read_timeout: secs(self.limits.header_read_timeout_secs),
            body_read_timeout: secs(self.limits.body_read_timeout_secs),
            idle_timeout: secs(self.limits.idle_timeout_secs),
        }
    }

    /// The limits every record is held to; the time window reaches back as far as each
    /// signal's retention unless `limits.max_time_past_hours` says otherwise.
    pub fn record_limits(&self) -> ingest::RecordLimits {
        let store = self.store_config();
        let past = |signal| match self.limits.max_time_past_hours {
            0 => store.retention_of(signal),
            h => std::time::Duration::from_secs(h.saturating_mul(3600)),
        };
        ingest::RecordLimits {
            max_attributes: self.limits.max_attributes.max(1),
            max_value_bytes: self.limits.max_attribute_value_bytes.max(1),
            max_past: [
                past(model::Signal::Spans),
                past(model::Signal::Logs),
                past(model::Signal::Metrics),
            ],
            max_future: std::time::Duration::from_secs(self.limits.max_time_future_secs),
        }
    }

    pub fn promql_options(&self) -> promql::EngineOptions {
        let secs = |s: u64| i64::try_from(s.max(1).saturating_mul(1000)).unwrap_or(i64::MAX);
        promql::EngineOptions {
            lookback_ms: secs(self.promql.lookback_delta_secs),
            default_subquery_step_ms: secs(self.promql.default_subquery_step_secs),
            left_open_windows: !self.promql.prometheus2_windows,
            timeout: std::time::Duration::from_secs(self.query.timeout_secs.max(1)),
            ..promql::EngineOptions::default()
        }
    }

    pub fn query_limits(&self) -> query::QueryLimits {
        query::QueryLimits {
            sql_max_rows: self.query.sql_max_rows,
            timeout: std::time::Duration::from_secs(self.query.timeout_secs.max(1)),
            memory_bytes: self.query.memory_mb << 20,
            ..query::QueryLimits::default()
        }
    }
}

fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

fn set_path(tree: &mut toml::Value, path: &[String], value: toml::Value) -> anyhow::Result<()> {
    let Some((last, parents)) = path.split_last() else {
        bail!("empty key")
    };
    let mut node = tree;
    for p in parents {
        node = node
            .get_mut(p.as_str())
            .with_context(|| format!("unknown configuration section '{p}'"))?;
    }
    let table = node.as_table_mut().context("not a configuration section")?;
    // Keep the type of the default: a string "8080" for a string field stays a string, and a
    // list takes comma-separated values.
    let value = match (table.get(last.as_str()), value) {
        (Some(toml::Value::Array(_)), toml::Value::String(s)) => toml::Value::Array(
            s.split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| toml::Value::String(v.to_string()))
                .collect(),
        ),
        (Some(toml::Value::String(_)), v) => toml::Value::String(match v {
            toml::Value::String(s) => s,
            other => other.to_string(),
        }),
        (Some(_), v) => v,
        (None, _) => bail!("unknown configuration key '{last}'"),
    };
    table.insert(last.clone(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn file_then_environment_override_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("redscope.toml");
        std::fs::write(
            &file,
            "data_dir = \"/tmp/x\"\n[storage]\nfsync = false\nflush_rows = 10\n",
        )
        .unwrap();
        let env = vec![
            ("REDSCOPE_STORAGE__FLUSH_ROWS".to_string(), "20".to_string()),
            (
                "REDSCOPE_SERVER__API".to_string(),
                "127.0.0.1:9999".to_string(),
            ),
            ("PATH".to_string(), "/bin".to_string()),
            (
                "REDSCOPE_BIN".to_string(),
                "/somewhere/redscope".to_string(),
            ),
            (
                "REDSCOPE_BIN".to_string(),
                "/somewhere/redscope".to_string(),
            ),
        ];
        let c = Config::load(Some(&file), env.into_iter()).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
        assert!(!c.storage.fsync);
        assert_eq!(c.storage.flush_rows, 20);
        assert_eq!(c.server.api.port(), 9999);
        assert_eq!(c.server.otlp_grpc.port(), 4317);
    }

    #[test]
    fn listeners_default_to_loopback_and_lists_come_from_the_environment() {
        let env = vec![(
            "REDSCOPE_SERVER__CORS_ORIGINS".to_string(),
            "https://a.example, http://localhost:5173".to_string(),
        )];
        let c = Config::load(None, env.into_iter()).unwrap();
        assert!(c.exposed_listeners().is_empty());
        assert_eq!(
            c.server.cors_origins,
            vec!["https://a.example", "http://localhost:5173"]
        );
        let bad = vec![("REDSCOPE_SERVER__CORS_ORIGINS".to_string(), "*".to_string())];
        assert!(Config::load(None, bad.into_iter()).is_err());
        let exposed = vec![(
            "REDSCOPE_SERVER__API".to_string(),
            "0.0.0.0:8080".to_string(),
        )];
        let c = Config::load(None, exposed.into_iter()).unwrap();
        assert_eq!(c.exposed_listeners().len(), 1);
    }

    #[test]
    fn browser_limits_and_trusted_proxies_come_from_the_file_and_environment() {
        let d = Config::default().browser_rate_limits();
        assert_eq!(d, auth::RateLimits::default());
        assert!(d.per_address.requests.per_sec >= 10.0 && d.per_address.requests.per_sec < 100.0);
        assert!(d.per_address.requests.burst > d.per_address.requests.per_sec);
        assert!(d.per_token.requests.per_sec >= 1000.0);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("redscope.toml");
        std::fs::write(
            &file,
            "[browser_limits]\naddress_requests_per_sec = 5\ntoken_bytes_per_sec = 0\n",
        )
        .unwrap();
        let env = vec![
            (
                "REDSCOPE_BROWSER_LIMITS__ADDRESS_REQUESTS_BURST".to_string(),
                "7".to_string(),
            ),
            (
                "REDSCOPE_SERVER__TRUSTED_PROXIES".to_string(),
                "10.0.0.0/8, ::1".to_string(),
            ),
        ];
        let c = Config::load(Some(&file), env.into_iter()).unwrap();
        let l = c.browser_rate_limits();
        assert_eq!(l.per_address.requests, auth::Rate::new(5.0, 7.0));
        assert_eq!(l.per_token.bytes.per_sec, 0.0);
        assert_eq!(l.per_token.requests, d.per_token.requests);
        assert_eq!(c.server.trusted_proxies, vec!["10.0.0.0/8", "::1"]);
        let bad = vec![(
            "REDSCOPE_SERVER__TRUSTED_PROXIES".to_string(),
            "10.0.0.0/40".to_string(),
        )];
        let e = Config::load(None, bad.into_iter()).unwrap_err();
        assert!(format!("{e:#}").contains("trusted_proxies"), "{e:#}");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let env = vec![("REDSCOPE_STORAGE__FLUSH_ROWZ".to_string(), "1".to_string())];
        let e = Config::load(None, env.into_iter()).unwrap_err();
        assert!(format!("{e:#}").contains("flush_rowz"), "{e:#}");
    }
}
