//! What every tool shares: the backend, the UI's address, the clock, and the checks that
//! turn an empty answer into an actionable one ("did you mean ...?").

use serde_json::Value;

use crate::backend::Backend;
use crate::error::ToolError;
use crate::params::WindowArgs;
use crate::suggest;
use crate::window::{Window, utc};

const WEEK_NS: i64 = 7 * 24 * 3_600_000_000_000;

pub struct Ctx {
    pub backend: Backend,
    /// Base URL of the web UI (the server's own URL), without a trailing slash.
    pub ui_base: String,
}

impl Ctx {
    pub fn new(backend: Backend, ui_base: &str) -> Self {
        Ctx {
            backend,
            ui_base: ui_base.trim_end_matches('/').to_string(),
        }
    }

    pub fn window(&self, args: &WindowArgs) -> Result<Window, ToolError> {
        Window::resolve(args.from.as_ref(), args.to.as_ref(), model::now_unix_nano())
    }

    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, ToolError> {
        Ok(self.backend.get(path, query).await?)
    }

    /// A UI link: `path` may carry a query string.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.ui_base)
    }

    /// Names of the services with data in `window`.
    pub async fn service_names(&self, window: &Window) -> Result<Vec<String>, ToolError> {
        let v = self.get("/api/v1/services", &window.query()).await?;
        Ok(names_of(&v))
    }

    /// Ok when `name` has data in the window; otherwise says whether it exists at all
    /// (with the closest known name) or only outside the window.
    pub async fn check_service(&self, name: &str, window: &Window) -> Result<(), ToolError> {
        let known = self.service_names(window).await?;
        if known.iter().any(|k| k == name) {
            return Ok(());
        }
        Err(self.missing_service(name, window, known).await)
    }

    /// The error for a service without data in `window` (`known`: the names that have some).
    pub async fn missing_service(
        &self,
        name: &str,
        window: &Window,
        mut known: Vec<String>,
    ) -> ToolError {
        let week = [
            ("from", (window.now_ns - WEEK_NS).to_string()),
            ("to", (window.now_ns + 1).to_string()),
        ];
        if let Ok(v) = self.get("/api/v1/services", &week).await {
            let services = v["services"].as_array().cloned().unwrap_or_default();
            if let Some(s) = services.iter().find(|s| s["name"].as_str() == Some(name)) {
                let last = s["last_seen_unix_nano"].as_i64().unwrap_or(0);
                return ToolError::NotFound(format!(
                    "service '{name}' sent no data between {} and {} (last seen {}); widen `from`/`to`",
                    utc(window.from_ns),
                    utc(window.to_ns),
                    utc(last)
                ));
            }
            for n in names_of(&v) {
                if !known.contains(&n) {
                    known.push(n);
                }
            }
        }
        ToolError::NotFound(suggest::unknown(
            "service",
            name,
            &known,
            "call list_services to see the services with data",
        ))
    }
}

fn names_of(services: &Value) -> Vec<String> {
    services["services"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
