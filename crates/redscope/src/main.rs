//! redscope: an OpenTelemetry-native observability server in one binary.
//!
//! `redscope serve` receives OTLP on 127.0.0.1:4317 (gRPC) and :4318 (HTTP), stores it under
//! ./data and answers the API and UI on :8080. `redscope token` manages access tokens; `redscope sourcemaps upload` sends a browser build's source maps. `redscope demo` does the same with a built-in online-shop
//! workload. `redscope logai parse` structures log lines offline; `redscope bench` drives a
//! running server with load; `redscope mcp` serves AI agents over stdio from a running server.

mod access;
mod alerting;
mod bench;
mod config;
mod demo;
mod listen;
mod login;
mod pipeline_rules;
mod rollups;
mod server;
mod sourcemaps_cli;
mod token_cli;
mod ui;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Ingest allocates many small strings on every core at once; mimalloc's per-thread heaps keep
/// that from contending the way the system allocator's arenas do.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "redscope",
    version,
    about = "OpenTelemetry-native observability in one binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Receive, store and serve telemetry.
    Serve(ServeArgs),
    /// Like serve, plus a built-in online-shop workload sending traces, logs and metrics.
    Demo {
        #[command(flatten)]
        serve: ServeArgs,
        #[command(flatten)]
        workload: demo::DemoArgs,
    },
    /// Log AI tools.
    Logai {
        #[command(subcommand)]
        command: LogaiCommand,
    },
    /// Load generators against a running server.
    Bench(bench::BenchArgs),
    /// MCP server for AI agents on stdin/stdout, answering from a running redscope.
    Mcp {
        /// The redscope server to answer from.
        #[arg(long, env = "REDSCOPE_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
        /// A read token for that server, when it has tokens.
        #[arg(long, env = "REDSCOPE_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// Source maps of browser builds, for symbolicated stack traces.
    Sourcemaps {
        #[command(subcommand)]
        command: sourcemaps_cli::SourcemapsCommand,
    },
    /// Access tokens (scopes ingest, read, admin, browser).
    Token {
        #[command(subcommand)]
        command: token_cli::TokenCommand,
    },
}

#[derive(Subcommand)]
enum LogaiCommand {
    /// Structure log lines from stdin (one resource) and print one JSON object per line.
    Parse {
        /// Print JSON lines (the default and only output format; kept for scripts).
        #[arg(long)]
        jsonl: bool,
    },
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Configuration file (TOML). Also REDSCOPE_CONFIG.
    #[arg(long, env = "REDSCOPE_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (default ./data).
    #[arg(long)]
    data: Option<PathBuf>,
    /// OTLP/gRPC listen address (default 127.0.0.1:4317).
    #[arg(long)]
    otlp_grpc: Option<SocketAddr>,
    /// OTLP/HTTP listen address (default 127.0.0.1:4318).
    #[arg(long)]
    otlp_http: Option<SocketAddr>,
    /// API and UI listen address (default 127.0.0.1:8080).
    #[arg(long)]
    api: Option<SocketAddr>,
    /// Listen beyond loopback even though no token exists (anyone who can connect reads and
    /// writes everything). Without it, such a start is refused.
    #[arg(long)]
    insecure_no_auth: bool,
}

impl ServeArgs {
    fn config(&self) -> anyhow::Result<config::Config> {
        let mut c = config::Config::load(self.config.as_deref(), std::env::vars())?;
        if let Some(d) = &self.data {
            c.data_dir = d.clone();
        }
        if let Some(a) = self.otlp_grpc {
            c.server.otlp_grpc = a;
        }
        if let Some(a) = self.otlp_http {
            c.server.otlp_http = a;
        }
        if let Some(a) = self.api {
            c.server.api = a;
        }
        if self.insecure_no_auth {
            c.server.insecure_no_auth = true;
        }
        Ok(c)
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("REDSCOPE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Logai {
            command: LogaiCommand::Parse { jsonl: _ },
        } => {
            let stdin = std::io::stdin();
            let stdout = std::io::stdout();
            logai::cli::parse(stdin.lock(), std::io::BufWriter::new(stdout.lock()))?;
            Ok(())
        }
        Command::Token { command } => token_cli::run(command),
        command => {
            init_tracing();
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .max_blocking_threads(blocking_threads())
                .enable_all()
                .build()?;
            runtime.block_on(run(command))
        }
    }
}

/// Threads for blocking work: request conversion and encoding at ingest, file reads of
/// queries. The work is CPU-bound, so more threads than about twice the cores add no speed;
/// but each thread that has run a conversion keeps its own allocator heap, and the freed
/// memory parked in many such heaps is what drove peak RSS over 1 GiB under load (tokio's
/// default allows 512 threads; a burst of requests started one per request).
fn blocking_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    (cores * 2).max(4)
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => {
            let config = args.config()?;
            let running = server::start(&config).await?;
            server::run_until_signal(running).await
        }
        Command::Demo { serve, workload } => {
            let mut config = serve.config()?;
            demo::alert_defaults(&mut config);
            let target = demo::target_url(config.server.otlp_http);
            let token = demo::storefront::browser_token(&config)?;
            let shop = demo::storefront::router(&workload, target.clone(), token);
            let running = server::start_with(&config, Some(shop)).await?;
            let ui = config.server.api;
            let host = if ui.ip().is_unspecified() {
                "localhost".to_string()
            } else {
                ui.ip().to_string()
            };
            tracing::info!(
                "demo workload started: open http://{host}:{}/ (the shop's storefront: http://{host}:{}/shop/)",
                ui.port(),
                ui.port()
            );
            let warm = std::sync::Arc::clone(&running.query);
            let workload = tokio::spawn(demo::run(target, workload, Some(warm)));
            let result = server::run_until_signal(running).await;
            workload.abort();
            result
        }
        Command::Bench(args) => bench::run(args).await,
        Command::Sourcemaps { command } => sourcemaps_cli::run(command).await,
        Command::Mcp { server, token } => {
            // stdout carries the protocol; tracing already writes to stderr.
            let backend = mcp::Backend::remote_with_token(&server, token.as_deref())?;
            mcp::serve_stdio(backend, &server).await?;
            Ok(())
        }
        Command::Logai { .. } | Command::Token { .. } => Ok(()),
    }
}
