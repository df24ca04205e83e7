//! The web UI served by the binary at `/`: the built single-page app from `web/dist` (any path
//! that is not a file gets its `index.html`, so deep links work), or a small built-in page when
//! the app was not built.

use std::path::Path;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::services::{ServeDir, ServeFile};

const INDEX: &str = include_str!("ui_index.html");

pub fn router(ui_dir: &Path) -> Router {
    let index = ui_dir.join("index.html");
    if index.is_file() {
        tracing::info!(dir = %ui_dir.display(), "serving the web UI");
        return Router::new()
            .fallback_service(ServeDir::new(ui_dir).fallback(ServeFile::new(index)))
            .layer(middleware::from_fn(cache_control));
    }
    tracing::warn!(dir = %ui_dir.display(), "web UI not built (run scripts/demo.sh or npm run build in web/); serving the minimal page");
    Router::new().route("/", get(minimal))
}

/// Built assets carry a content hash in their names (`/assets/index-<hash>.js`), so browsers may
/// keep them for good; everything else (`index.html` and deep links to it) is revalidated on
/// each load, so a new build is picked up at once.
async fn cache_control(request: Request, next: Next) -> Response {
    let hashed = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    if response.status().is_success() {
        // A missing asset is answered with `index.html` (the deep-link fallback): never for good.
        let html = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
        let value = if hashed && !html {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}

async fn minimal() -> Response {
    let mut r = INDEX.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt;

    async fn cache_header(app: &Router, path: &str) -> (u16, Option<String>) {
        let response = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let value = response
            .headers()
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap().to_string());
        (response.status().as_u16(), value)
    }

    #[tokio::test]
    async fn hashed_assets_are_cached_for_good_and_pages_revalidated() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<html></html>").unwrap();
        std::fs::create_dir(dir.path().join("assets")).unwrap();
        std::fs::write(dir.path().join("assets/index-abc.js"), "1").unwrap();
        let app = router(dir.path());
        let immutable = Some("public, max-age=31536000, immutable".to_string());
        assert_eq!(
            cache_header(&app, "/assets/index-abc.js").await,
            (200, immutable)
        );
        let no_cache = Some("no-cache".to_string());
        assert_eq!(cache_header(&app, "/").await, (200, no_cache.clone()));
        assert_eq!(
            cache_header(&app, "/service/frontend").await,
            (200, no_cache.clone())
        );
        assert_eq!(cache_header(&app, "/assets/missing.js").await.1, no_cache);
    }
}
