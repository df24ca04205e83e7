//! The web UI served by the binary at `/`: the built single-page app from `web/dist` (any path
//! that is not a file gets its `index.html`, so deep links work), or a small built-in page when
//! the app was not built.

use std::path::Path;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::services::{ServeDir, ServeFile};

const INDEX: &str = include_str!("ui_index.html");

pub fn router(ui_dir: &Path) -> Router {
    let index = ui_dir.join("index.html");
    if index.is_file() {
        tracing::info!(dir = %ui_dir.display(), "serving the web UI");
        return Router::new()
            .fallback_service(ServeDir::new(ui_dir).fallback(ServeFile::new(index)));
    }
    tracing::warn!(dir = %ui_dir.display(), "web UI not built (run scripts/demo.sh or npm run build in web/); serving the minimal page");
    Router::new().route("/", get(minimal))
}

async fn minimal() -> Response {
    let mut r = INDEX.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}
