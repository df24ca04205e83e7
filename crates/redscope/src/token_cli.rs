//! `redscope token create|list|revoke`: manage the tokens in a data directory. A running
//! server over the same directory picks the change up within a second.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret (shown only this once).
    Create {
        /// ingest (send OTLP), read (API, SQL, MCP, UI), admin (all of them, plus rules,
        /// tokens, retention) or browser (browser telemetry from its --origin pages only).
        #[arg(long)]
        scope: auth::Scope,
        /// A name to recognise it by (default: scope and id).
        #[arg(long)]
        name: Option<String>,
        /// For browser tokens: a page origin allowed to send with it (repeatable).
        #[arg(long = "origin")]
        origins: Vec<String>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// List the tokens (never their secrets).
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Revoke a token by id (or by name when the name is unique).
    Revoke {
        id: String,
        #[command(flatten)]
        data: DataArgs,
    },
}

/// Where the tokens are: the data directory `serve` would use.
#[derive(Args)]
pub struct DataArgs {
    /// Configuration file (TOML), as for serve. Also REDSCOPE_CONFIG.
    #[arg(long, env = "REDSCOPE_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (default: as serve, ./data or REDSCOPE_DATA_DIR).
    #[arg(long)]
    data: Option<PathBuf>,
}

impl DataArgs {
    fn store(&self) -> anyhow::Result<auth::TokenStore> {
        let dir = match &self.data {
            Some(d) => d.clone(),
            None => crate::config::Config::load(self.config.as_deref(), std::env::vars())?.data_dir,
        };
        auth::TokenStore::open(&dir).with_context(|| format!("tokens of {}", dir.display()))
    }
}

pub fn run(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            scope,
            name,
            origins,
            data,
        } => {
            let store = data.store()?;
            let token = store.create(scope, auth::TokenSpec { name, origins })?;
            let r = &token.record;
            eprintln!(
                "created {} token '{}' (id {}) in {}; the secret is shown only now:",
                r.scope,
                r.name,
                r.id,
                store.path().display()
            );
            println!("{}", token.secret);
            Ok(())
        }
        TokenCommand::List { data } => {
            let tokens = data.store()?.list()?;
            println!(
                "{:<14} {:<8} {:<21} {:<24} origins",
                "id", "scope", "created", "name"
            );
            for t in tokens {
                println!(
                    "{:<14} {:<8} {:<21} {:<24} {}",
                    t.id,
                    t.scope,
                    t.created,
                    t.name,
                    t.origins.join(",")
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { id, data } => {
            let removed = data.store()?.revoke(&id)?;
            eprintln!(
                "revoked {} token '{}' (id {})",
                removed.scope, removed.name, removed.id
            );
            Ok(())
        }
    }
}
