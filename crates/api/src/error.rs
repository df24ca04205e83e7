//! One mapping from errors to HTTP responses.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use query::QueryError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid parameter '{param}': {message}")]
    BadParam { param: String, message: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Timeout(String),
    /// No valid token: 401 with `WWW-Authenticate: Bearer`.
    #[error("{0}")]
    Unauthorized(String),
    /// A token without the scope, or a page from an origin that may not call the API: 403.
    #[error("{0}")]
    Forbidden(String),
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn bad(param: &str, message: impl Into<String>) -> Self {
        ApiError::BadParam {
            param: param.to_string(),
            message: message.into(),
        }
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::BadParam { param, message } => ApiError::BadParam { param, message },
            QueryError::BadQuery(m) => ApiError::BadRequest(m),
            QueryError::NotFound(m) => ApiError::NotFound(format!("{m} not found")),
            QueryError::Timeout(_) => ApiError::Timeout(e.to_string()),
            QueryError::Internal(m) => ApiError::Internal(m),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            ApiError::BadParam { .. } => (StatusCode::BAD_REQUEST, "bad_parameter"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Timeout(_) => (StatusCode::GATEWAY_TIMEOUT, "timeout"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "api request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        let mut body = serde_json::json!({"error": {"code": code, "message": self.to_string()}});
        if let ApiError::BadParam { param, .. } = &self {
            body["error"]["param"] = serde_json::Value::String(param.clone());
        }
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static("Bearer realm=\"redscope\""),
            );
        }
        response
    }
}
