//! The web UI served by the binary at `/`: the built single-page app from `web/dist` (any path
//! that is not a file gets its `index.html`, so deep links work), or a small built-in page when
//! the app was not built. The browser SDK is served from `web/dist/sdk` at `/sdk/` (a missing
//! file is a 404, never the app's page), to any origin, cached for five minutes.

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
    let sdk = Router::new()
        .nest_service("/sdk", ServeDir::new(ui_dir.join("sdk")))
        .layer(middleware::from_fn(sdk_headers));
    if index.is_file() {
        tracing::info!(dir = %ui_dir.display(), "serving the web UI");
        return Router::new()
            .fallback_service(ServeDir::new(ui_dir).fallback(ServeFile::new(index)))
            .layer(middleware::from_fn(cache_control))
            .merge(sdk);
    }
    tracing::warn!(dir = %ui_dir.display(), "web UI not built (run scripts/demo.sh or npm run build in web/); serving the minimal page");
    Router::new().route("/", get(minimal)).merge(sdk)
}

/// The SDK is loaded by other sites' pages, as a classic script and as an ES module (which
/// needs CORS), under a fixed name: anyone may load it, and a new version reaches browsers
/// within five minutes.
async fn sdk_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    if response.status().is_success() {
        let h = response.headers_mut();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        );
    }
    response
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

    async fn get_header(
        app: &Router,
        path: &str,
        name: header::HeaderName,
    ) -> (u16, Option<String>) {
        let response = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let value = response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string());
        (response.status().as_u16(), value)
    }

    async fn cache_header(app: &Router, path: &str) -> (u16, Option<String>) {
        get_header(app, path, header::CACHE_CONTROL).await
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

    #[tokio::test]
    async fn the_sdk_is_served_to_any_origin_with_a_short_cache() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<html></html>").unwrap();
        std::fs::create_dir(dir.path().join("sdk")).unwrap();
        std::fs::write(dir.path().join("sdk/redscope.js"), "1").unwrap();
        std::fs::write(dir.path().join("sdk/replay.mjs"), "2").unwrap();
        let with_ui = router(dir.path());
        std::fs::remove_file(dir.path().join("index.html")).unwrap();
        let without_ui = router(dir.path());
        for app in [with_ui, without_ui] {
            let short = Some("public, max-age=300".to_string());
            assert_eq!(
                cache_header(&app, "/sdk/redscope.js").await,
                (200, short.clone())
            );
            assert_eq!(cache_header(&app, "/sdk/replay.mjs").await, (200, short));
            let any = Some("*".to_string());
            let cors = header::ACCESS_CONTROL_ALLOW_ORIGIN;
            assert_eq!(
                get_header(&app, "/sdk/replay.mjs", cors.clone()).await,
                (200, any)
            );
            // A missing SDK file is a 404, not the app's index.html.
            assert_eq!(get_header(&app, "/sdk/missing.js", cors).await.0, 404);
        }
    }
}
