//! Wires storage, ingest, query and the API into one running server.

use std::sync::Arc;

use anyhow::Context;
use axum::response::IntoResponse;
use tokio::sync::watch;

use crate::config::Config;
use crate::listen::{Listener, ListenerStats};
use crate::rollups::Rollups;

/// The store as ingest's sink: the template counts of a log batch go with it to the rollups.
struct StoreSink(Arc<storage::Store>);

#[async_trait::async_trait]
impl ingest::Sink for StoreSink {
    async fn write(
        &self,
        batch: model::Batch,
        patterns: Option<analysis::PatternCounts>,
    ) -> Result<(), ingest::SinkError> {
        let note = patterns.map(|p| Box::new(p) as storage::Note);
        match self.0.append_with(batch, note).await {
            Ok(()) => Ok(()),
            Err(storage::StorageError::Overloaded(why)) => {
                tracing::warn!(%why, "refusing a write: storage is behind");
                Err(ingest::SinkError::Overloaded {
                    retry_after_secs: 1,
                })
            }
            Err(e) if e.is_disk_full() => Err(ingest::SinkError::DiskFull(e.to_string())),
            Err(e) => Err(ingest::SinkError::Failed(e.to_string())),
        }
    }
}

/// What readers that need whole data call first: the rollups held in memory are written, and
/// the answer is up to when the spans are complete.
fn rollup_feed(rollups: &Arc<Rollups>, store: &Arc<storage::Store>) -> query::RollupFeed {
    let (rollups, store) = (Arc::clone(rollups), Arc::clone(store));
    Arc::new(move || {
        let (rollups, store) = (Arc::clone(&rollups), Arc::clone(&store));
        Box::pin(async move {
            let completeness = rollups.completeness().await;
            rollups.flush_for_reader(&store).await;
            completeness
        })
    })
}

/// A running server; dropping the shutdown sender stops it.
pub struct Running {
    pub shutdown: watch::Sender<bool>,
    pub tasks: Vec<tokio::task::JoinHandle<anyhow::Result<()>>>,
    /// What the API answers from (the demo warms its caches after writing history).
    pub query: Arc<query::QueryService>,
}

/// The token store and the decision whether this configuration may start: a listener beyond
/// loopback without any token is refused unless `insecure_no_auth` says otherwise.
fn access_gate(config: &Config) -> anyhow::Result<crate::access::Gate> {
    let tokens =
        Arc::new(auth::TokenStore::open(&config.data_dir).context("reading the access tokens")?);
    let exposed: Vec<String> = config
        .exposed_listeners()
        .iter()
        .map(|a| a.to_string())
        .collect();
    let insecure = config.server.insecure_no_auth;
    if !exposed.is_empty() && insecure {
        tracing::warn!(listeners = %exposed.join(", "), tokens = tokens.tokens().len(),
            "insecure_no_auth: listening beyond loopback; without a token anyone who can connect reads and writes everything");
    } else if !exposed.is_empty() && tokens.is_empty() {
        anyhow::bail!(
            "refusing to listen on {} without any access token: create one with `redscope token create --scope admin --data {}`, listen on 127.0.0.1, or pass --insecure-no-auth",
            exposed.join(", "),
            config.data_dir.display()
        );
    }
    let authorizer = Arc::new(auth::Authorizer::new(
        tokens,
        !exposed.is_empty() && !insecure,
    ));
    let origins = auth::OriginPolicy::new(&config.server.cors_origins)?;
    Ok(crate::access::Gate {
        authorizer,
        origins,
    })
}

pub async fn start(config: &Config) -> anyhow::Result<Running> {
    start_with(config, None).await
}

/// [`start`], with `public` routes on the API port outside its gate (the demo's storefront,
/// which visitors open without a token).
pub async fn start_with(config: &Config, public: Option<axum::Router>) -> anyhow::Result<Running> {
    let gate = access_gate(config)?;
    let rollups = Arc::new(Rollups::new(&config.data_dir)?);
    let store = Arc::new(
        tokio::task::spawn_blocking({
            let sc = config.store_config();
            let tap = rollups.tap();
            move || storage::Store::open_with_tap(sc, Some(tap))
        })
        .await?
        .with_context(|| format!("opening the store in {}", config.data_dir.display()))?,
    );
    tokio::task::spawn_blocking({
        let (rollups, store) = (Arc::clone(&rollups), Arc::clone(&store));
        move || rollups.start(&store)
    })
    .await?
    .context("rebuilding the rollups")?;
    let sink: Arc<dyn ingest::Sink> = Arc::new(StoreSink(Arc::clone(&store)));
    let logai = Arc::new(ingest::logai_processor::LogAiProcessor::open(Some(
        config.data_dir.join("logai").join("state.json"),
    )));
    let processor: Arc<dyn ingest::LogProcessor> = logai.clone();
    let logai_status = Arc::clone(&logai);
    let sourcemaps = Arc::new(rum::SourceMaps::open(&config.data_dir));
    let replay = Arc::new(rum::ReplayStore::open(
        &config.data_dir,
        std::time::Duration::from_secs(config.storage.retention_replay_hours.saturating_mul(3600)),
        config.storage.fsync,
    ));
    let enricher = Arc::new(
        rum::Enricher::new(Some(Arc::clone(&sourcemaps))).with_replay(Arc::clone(&replay)),
    );
    let rules = crate::pipeline_rules::open(config)?;
    store.set_flush_filter(Some(Arc::new(crate::pipeline_rules::SpanFilter(
        Arc::clone(&rules),
    ))));
    store.set_row_expiry(Some(Arc::new(crate::pipeline_rules::Retention(
        Arc::clone(&rules),
    ))));
    let pipeline =
        ingest::Pipeline::with_log_processor(sink, config.ingest_limits(), Some(processor))
            .with_pattern_counts()
            .with_record_limits(config.record_limits())
            .with_rum(Arc::clone(&enricher))
            .with_rules(Arc::clone(&rules));
    let query = Arc::new(
        query::QueryService::new(Arc::clone(&store), config.query_limits())?
            .with_rollup_feed(rollup_feed(&rollups, &store))
            .with_replay(Arc::clone(&replay)),
    );

    // Read the last day of rollups (RED, edges, reach) once, so that the first question about
    // a day is as fast as the next (closed hours stay parsed).
    let warm = Arc::clone(&query);
    tokio::spawn(async move {
        let end_ns = model::now_unix_nano();
        let day = model::TimeRange {
            start_ns: end_ns - 86_400_000_000_000,
            end_ns,
        };
        if let Err(e) = warm.warm_rollups(day).await {
            tracing::debug!(error = %e, "rollup warm-up");
        }
    });

    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    // Rules read PromQL through the engine the Prometheus API answers from (one cache).
    let promql_engine = Arc::new(promql::Engine::new(
        Arc::clone(&query),
        config.promql_options(),
    ));
    let alerting = crate::alerting::start(
        config,
        !rules.current().budgets.is_empty(),
        &query,
        &promql_engine,
        shutdown_rx.clone(),
        &mut tasks,
    )?;

    tasks.push(crate::pipeline_rules::watch(
        Arc::clone(&rules),
        shutdown_rx.clone(),
    ));
    tasks.push(crate::pipeline_rules::write_metrics(
        Arc::clone(&rules),
        pipeline.clone(),
        crate::pipeline_rules::ledger_file(config),
        shutdown_rx.clone(),
    ));

    // RED and log pattern rollups are written every few seconds and at shutdown.
    let mut red_stop = shutdown_rx.clone();
    let red_store = Arc::clone(&store);
    let drainer = Arc::clone(&rollups);
    tasks.push(tokio::spawn(async move {
        loop {
            let stopping = tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => false,
                _ = red_stop.wait_for(|v| *v) => true,
            };
            drainer.flush(&red_store, stopping).await;
            if stopping {
                return Ok(());
            }
        }
    }));

    // Replay segments past their retention are dropped by the hour, checked every minute.
    let mut replay_stop = shutdown_rx.clone();
    let expiring = Arc::clone(&replay);
    tasks.push(tokio::spawn(async move {
        loop {
            let r = Arc::clone(&expiring);
            let _ = tokio::task::spawn_blocking(move || r.expire(model::now_unix_nano())).await;
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
                _ = replay_stop.wait_for(|v| *v) => return Ok(()),
            }
        }
    }));

    // Log AI state is saved every minute and at shutdown.
    let mut save_stop = shutdown_rx.clone();
    tasks.push(tokio::spawn(async move {
        loop {
            let stopping = tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => false,
                _ = save_stop.wait_for(|v| *v) => true,
            };
            let l = Arc::clone(&logai);
            if let Ok(Err(e)) = tokio::task::spawn_blocking(move || l.save()).await {
                tracing::warn!(error = %e, "could not save Log AI state");
            }
            if stopping {
                return Ok(());
            }
        }
    }));

    let listeners = Listeners::bind(config)?;
    let stats = listeners.stats.clone();
    let http_app = ingest::otlp_http::router(pipeline.clone())
        .layer(axum::middleware::from_fn_with_state(
            gate.clone(),
            crate::access::otlp_http_gate,
        ))
        .layer(crate::access::otlp_cors(&gate));
    let status_store = Arc::clone(&store);
    let status_pipeline = pipeline.clone();
    let status_auth = Arc::clone(&gate.authorizer);
    let status_rollups = Arc::clone(&rollups);
    let status_logai = Arc::clone(&logai_status);
    let status_alerts = alerting.clone();
    let status: api::StatusFn = Arc::new(move || {
        let mut status = status_json(&status_store, &status_pipeline);
        status["rollups"] = status_rollups.stats.snapshot();
        status["logai"] = serde_json::json!({
            "failures": status_logai.failures.load(std::sync::atomic::Ordering::Relaxed),
        });
        status["auth"] = status_auth.snapshot();
        status["rum"] = enricher.stats.snapshot();
        if let Some(r) = enricher.replay() {
            status["rum"]["replay"] = r.stats.snapshot();
        }
        status["listeners"] = stats.snapshot();
        if let Some(a) = &status_alerts {
            status["alerts"] = a.stats_json();
        }
        status
    });
    let dashboards = Arc::new(dashboards::Library::new(
        Some(config.dashboards.dir.clone()).filter(|d| !d.as_os_str().is_empty()),
    ));
    let first_read = Arc::clone(&dashboards);
    tokio::task::spawn_blocking(move || first_read.refresh()).await?;
    let reload = std::time::Duration::from_secs(config.dashboards.reload_interval_secs.max(1));
    let watching = Arc::clone(&dashboards).watch(reload, shutdown_rx.clone());
    tasks.push(tokio::spawn(async move {
        watching.await;
        Ok(())
    }));
    let api_state = api::ApiState::new(Arc::clone(&query))
        .with_dashboards(dashboards)
        .with_status(status)
        .with_sourcemaps(sourcemaps)
        .with_promql(config.promql_options())
        .with_usage_prices(config.usage.prices.clone())
        .with_pipeline(Arc::clone(&rules));
    let mut api_state = api_state;
    api_state.promql = promql_engine;
    if let Some(a) = alerting {
        api_state = api_state.with_alerts(a);
    }
    let api_router = api::router(api_state);
    // MCP for agents, answering through the same routes in-process.
    let mcp_service = mcp::http_service(
        mcp::Backend::in_process(api_router.clone()),
        &mcp::ui_base_for(config.server.api),
        mcp::HttpOptions::for_listen_addr(config.server.api),
    );
    let api_app = api_router
        .merge(crate::access::routes(gate.clone()))
        .merge(ingest::prom_remote_write::router(pipeline.clone()))
        .nest_service("/mcp", mcp_service)
        .merge(crate::ui::router(&config.server.ui_dir))
        .layer(axum::middleware::from_fn_with_state(
            gate.clone(),
            crate::access::api_gate,
        ))
        .layer(crate::access::api_cors(&gate.origins))
        .layer(axum::middleware::from_fn(crate::access::public_sdk));
    // Everything but the three OTLP paths goes to the API with its own gate and fallback.
    let api_app = ingest_on_api_port(http_app.clone(), tokio::runtime::Handle::current())
        .merge(public.unwrap_or_default())
        .fallback_service(api_app);
    tasks.push(listeners.serve_otlp_http(http_app, shutdown_rx.clone()));
    tasks.push(listeners.serve_otlp_grpc(&pipeline, &gate, shutdown_rx.clone()));
    tasks.push(listeners.serve_api(api_app, shutdown_rx));

    tracing::info!(
        otlp_grpc = %config.server.otlp_grpc,
        otlp_http = %config.server.otlp_http,
        api = %config.server.api,
        data = %config.data_dir.display(),
        tokens_required = gate.authorizer.enforcing(),
        "redscope is listening"
    );
    Ok(Running {
        shutdown,
        tasks,
        query,
    })
}

/// The OTLP/HTTP receiver (its gate, CORS, limits and pipeline) also at `/v1/traces`,
/// `/v1/logs` and `/v1/metrics` of the API port, so that a site needs one origin for the API
/// and its browsers' telemetry. The requests run on the ingest runtime (`ingest`), not on the
/// API's own threads, which stay free for queries.
fn ingest_on_api_port(app: axum::Router, ingest: tokio::runtime::Handle) -> axum::Router {
    let forward = move |request: axum::extract::Request| {
        let (app, ingest) = (app.clone(), ingest.clone());
        async move {
            let served = ingest.spawn(tower::ServiceExt::oneshot(app, request)).await;
            match served {
                Ok(Ok(response)) => response,
                Ok(Err(never)) => match never {},
                Err(e) => {
                    tracing::error!(error = %e, "browser ingest task failed");
                    axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response()
                }
            }
        }
    };
    axum::Router::new()
        .route("/v1/traces", axum::routing::any(forward.clone()))
        .route("/v1/logs", axum::routing::any(forward.clone()))
        .route("/v1/metrics", axum::routing::any(forward))
}

/// The three bound sockets and their limits, before they are served.
struct Listeners {
    limits: crate::listen::ListenLimits,
    otlp_http: std::net::TcpListener,
    otlp_grpc: std::net::TcpListener,
    api: std::net::TcpListener,
    stats: AllListenerStats,
}

/// Counters of each listener.
#[derive(Clone, Default)]
struct AllListenerStats {
    otlp_http: Arc<ListenerStats>,
    otlp_grpc: Arc<ListenerStats>,
    api: Arc<ListenerStats>,
}

impl AllListenerStats {
    fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "otlp_http": self.otlp_http.snapshot(),
            "otlp_grpc": self.otlp_grpc.snapshot(),
            "api": self.api.snapshot(),
        })
    }
}

/// Threads of the API's own runtime: queries keep them however busy ingest is.
const API_THREADS: usize = 2;

impl Listeners {
    /// Raises the open-file limit, fits the connection limits into it, and binds.
    fn bind(config: &Config) -> anyhow::Result<Listeners> {
        let open_files = crate::listen::raise_open_file_limit();
        let mut limits = config.listen_limits();
        let fitted = crate::listen::fit_to_open_files(limits.max_connections, 3, open_files);
        if fitted < limits.max_connections {
            tracing::warn!(
                configured = limits.max_connections,
                max_connections = fitted,
                open_files,
                "the open-file limit cannot hold every connection: fewer connections per listener"
            );
            limits.max_connections = fitted;
        }
        Ok(Listeners {
            otlp_http: crate::listen::bind("OTLP/HTTP", config.server.otlp_http)?,
            otlp_grpc: crate::listen::bind("OTLP/gRPC", config.server.otlp_grpc)?,
            api: crate::listen::bind("the API", config.server.api)?,
            limits,
            stats: AllListenerStats::default(),
        })
    }

    fn serve_otlp_http(&self, app: axum::Router, stop: watch::Receiver<bool>) -> Task {
        let limits = self.limits.clone();
        let stats = Arc::clone(&self.stats.otlp_http);
        let socket = self.otlp_http.try_clone();
        tokio::spawn(async move {
            let listener = Listener::new("otlp_http", socket?, limits.max_connections, stats)?;
            let kind = crate::listen::HttpKind::Otlp;
            crate::listen::serve_http(listener, app, limits, kind, stop).await
        })
    }

    fn serve_otlp_grpc(
        &self,
        pipeline: &ingest::Pipeline,
        gate: &crate::access::Gate,
        mut stop: watch::Receiver<bool>,
    ) -> Task {
        let limits = self.limits.clone();
        let stats = Arc::clone(&self.stats.otlp_grpc);
        let socket = self.otlp_grpc.try_clone();
        let (traces, logs, metrics) = ingest::otlp_grpc::services(pipeline.clone());
        let auth = crate::access::grpc_interceptor(Arc::clone(&gate.authorizer));
        let admission = ingest::admission::GrpcAdmissionLayer::new(pipeline.clone());
        let streams = u32::try_from(limits.max_concurrent_requests).unwrap_or(u32::MAX);
        tokio::spawn(async move {
            let listener = Listener::new("otlp_grpc", socket?, limits.max_connections, stats)?;
            tonic::transport::Server::builder()
                .max_concurrent_streams(streams)
                .concurrency_limit_per_connection(limits.max_concurrent_requests)
                .layer(admission)
                .layer(tonic::service::InterceptorLayer::new(auth))
                .add_service(traces)
                .add_service(logs)
                .add_service(metrics)
                .serve_with_incoming_shutdown(
                    crate::listen::incoming(listener, limits.idle_timeout),
                    async move {
                        let _ = stop.wait_for(|v| *v).await;
                    },
                )
                .await
                .context("OTLP/gRPC server")
        })
    }

    /// The API on a runtime of its own: ingest saturating the main runtime's threads (and its
    /// blocking pool, which conversions fill) cannot starve a query.
    fn serve_api(&self, app: axum::Router, stop: watch::Receiver<bool>) -> Task {
        let limits = self.limits.clone();
        let stats = Arc::clone(&self.stats.api);
        let socket = self.api.try_clone();
        let (done, result) = tokio::sync::oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("redscope-api".to_string())
            .spawn(move || {
                let served = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(API_THREADS)
                    .max_blocking_threads(API_THREADS * 2)
                    .thread_name("redscope-api")
                    .enable_all()
                    .build()
                    .map_err(anyhow::Error::from)
                    .and_then(|runtime| {
                        runtime.block_on(async move {
                            let listener =
                                Listener::new("api", socket?, limits.max_connections, stats)?;
                            let kind = crate::listen::HttpKind::Api;
                            crate::listen::serve_http(listener, app, limits, kind, stop).await
                        })
                    });
                let _ = done.send(served);
            });
        tokio::spawn(async move {
            thread.context("starting the API thread")?;
            result.await.context("the API thread ended")?
        })
    }
}

type Task = tokio::task::JoinHandle<anyhow::Result<()>>;

fn status_json(store: &storage::Store, pipeline: &ingest::Pipeline) -> serde_json::Value {
    use std::sync::atomic::Ordering::Relaxed;
    let s = store.stats();
    let disk: Vec<serde_json::Value> = store
        .disk_usage()
        .into_iter()
        .map(|(signal, bytes, rows, files)| {
            serde_json::json!({"table": signal.table_name(), "bytes": bytes, "rows": rows, "files": files,
                "bytes_per_row": if rows > 0 { bytes as f64 / rows as f64 } else { 0.0 }})
        })
        .collect();
    serde_json::json!({
        "ingest": pipeline.stats().snapshot(),
        "storage": {
            "memtable_bytes": store.memtable_bytes(),
            "wal_groups": s.wal_groups.load(Relaxed),
            "wal_bytes": s.wal_bytes.load(Relaxed),
            "rows_appended": s.rows_appended.load(Relaxed),
            "rows_replayed": s.rows_replayed.load(Relaxed),
            "flushes": s.flushes.load(Relaxed),
            "flush_errors": s.flush_errors.load(Relaxed),
            "rows_filtered": s.rows_filtered.load(Relaxed),
            "rows_expired": s.rows_expired.load(Relaxed),
            "files_written": s.files_written.load(Relaxed),
            "compactions": s.compactions.load(Relaxed),
            "files_expired": s.files_expired.load(Relaxed),
            "disk": disk,
        }
    })
}

/// Runs until Ctrl-C or SIGTERM.
pub async fn run_until_signal(running: Running) -> anyhow::Result<()> {
    wait_for_signal().await;
    tracing::info!("shutting down");
    let _ = running.shutdown.send(true);
    for t in running.tasks {
        match t.await {
            Ok(Err(e)) => tracing::warn!(error = %e, "server task ended with an error"),
            Err(e) => tracing::warn!(error = %e, "server task panicked"),
            Ok(Ok(())) => {}
        }
    }
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
