//! The web UI served by the binary at `/`.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const INDEX: &str = include_str!("ui_index.html");

pub fn router() -> Router {
    Router::new().route("/", get(index))
}

async fn index() -> Response {
    let mut r = INDEX.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}
