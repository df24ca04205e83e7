//! `redscope sourcemaps upload --service S --version V DIR`: sends a build's source maps (and
//! the minified files they map, for original function names) to a running server's
//! `POST /api/v1/sourcemaps`, with an ingest or admin token.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};

#[derive(Subcommand)]
pub enum SourcemapsCommand {
    /// Upload every `*.map` under DIR (and the `.js` file beside each) for a service and version.
    Upload(UploadArgs),
}

#[derive(Args)]
pub struct UploadArgs {
    /// The browser application's service.name, as its SDK sends it.
    #[arg(long)]
    service: String,
    /// The release (service.version) the build is deployed as.
    #[arg(long)]
    version: String,
    /// The build output directory.
    dir: PathBuf,
    /// The redscope server (its API port).
    #[arg(long, env = "REDSCOPE_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// An ingest (or admin) token, when the server has tokens.
    #[arg(long, env = "REDSCOPE_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

/// The files to send, as (path on disk, path relative to `dir` with `/`).
fn files_of(dir: &Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))?;
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "map") {
                continue;
            }
            let minified = path.with_extension("");
            for p in [path.clone(), minified] {
                if p.is_file()
                    && let Ok(rel) = p.strip_prefix(dir)
                {
                    let rel = rel.to_string_lossy().replace('\\', "/");
                    out.push((p, rel));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

pub async fn run(command: SourcemapsCommand) -> anyhow::Result<()> {
    let SourcemapsCommand::Upload(args) = command;
    let files = files_of(&args.dir)?;
    if !files.iter().any(|(_, rel)| rel.ends_with(".map")) {
        anyhow::bail!("no .map files under {}", args.dir.display());
    }
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/sourcemaps", args.server.trim_end_matches('/'));
    let mut sent = 0;
    for (path, rel) in &files {
        let body = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let mut request = client
            .post(&url)
            .query(&[
                ("service", args.service.as_str()),
                ("version", args.version.as_str()),
                ("file", rel.as_str()),
            ])
            .body(body);
        if let Some(t) = &args.token {
            request = request.bearer_auth(t);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("sending {rel} to {url}"))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            anyhow::bail!("{rel}: the server answered {status}: {text}");
        }
        sent += 1;
    }
    println!(
        "uploaded {sent} files for {} {}",
        args.service, args.version
    );
    Ok(())
}
