//! Where the tools get their data: the redscope HTTP API, either called in-process through the
//! axum router (the `/mcp` endpoint of a running server) or over the network (`redscope mcp`).
//!
//! Both answer the same JSON, so the tools cannot tell them apart, and the MCP server always
//! agrees with the API and the UI.

use axum::body::Body;
use serde_json::Value;
use tower::ServiceExt;

/// Answers larger than this are refused rather than buffered.
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// How long a remote call may take before the tool gives up.
const REMOTE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The redscope API, in-process or remote. The set is closed, so this is an enum.
#[derive(Clone)]
pub enum Backend {
    /// The API router of this process, called without a network hop.
    InProcess(axum::Router),
    /// A redscope server reached over HTTP.
    Remote(Remote),
}

/// A redscope server at `base` (e.g. `http://127.0.0.1:8080`).
#[derive(Clone)]
pub struct Remote {
    client: reqwest::Client,
    base: String,
    /// A read token, sent as `Authorization: Bearer` when the server has tokens.
    token: Option<String>,
}

/// Why a call to the API failed, in words an agent can act on.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The API answered with its error body (`{"error": {"code", "message", "param"}}`).
    #[error("{message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        param: Option<String>,
    },
    /// Nothing answered at the configured address.
    #[error(
        "could not reach redscope at {url} ({reason}); start it with `redscope serve` (or `redscope demo`), or point this MCP server at the right address with `redscope mcp --server URL`"
    )]
    Unreachable { url: String, reason: String },
    /// Something answered, but not what the API answers.
    #[error("unexpected answer from redscope: {0}")]
    Invalid(String),
}

impl BackendError {
    /// The HTTP status of an API error, if this is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            BackendError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl Backend {
    /// Calls the given API router directly (`tower::ServiceExt::oneshot`).
    pub fn in_process(router: axum::Router) -> Self {
        Backend::InProcess(router)
    }

    /// Calls a redscope server at `base_url` over HTTP.
    pub fn remote(base_url: &str) -> Result<Self, BackendError> {
        Self::remote_with_token(base_url, None)
    }

    /// Calls a redscope server at `base_url` over HTTP with a read token.
    pub fn remote_with_token(base_url: &str, token: Option<&str>) -> Result<Self, BackendError> {
        let base = base_url.trim().trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(BackendError::Invalid(format!(
                "'{base_url}' is not a server URL; use e.g. http://127.0.0.1:8080"
            )));
        }
        let client = reqwest::Client::builder()
            .timeout(REMOTE_TIMEOUT)
            .build()
            .map_err(|e| BackendError::Invalid(e.to_string()))?;
        let token = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        Ok(Backend::Remote(Remote {
            client,
            base,
            token,
        }))
    }

    /// `GET path?query` and the JSON it answers.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, BackendError> {
        let target = path_and_query(path, query);
        self.send(http::Method::GET, &target, None).await
    }

    /// `POST /api/v1/sql` with `{"query": sql}`.
    pub async fn sql(&self, sql: &str) -> Result<Value, BackendError> {
        let body = serde_json::json!({ "query": sql }).to_string().into_bytes();
        self.send(http::Method::POST, "/api/v1/sql", Some(body))
            .await
    }

    async fn send(
        &self,
        method: http::Method,
        target: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Value, BackendError> {
        let (status, bytes) = match self {
            Backend::InProcess(router) => call_router(router, method, target, body).await?,
            Backend::Remote(remote) => remote.call(method, target, body).await?,
        };
        decode(status, &bytes)
    }
}

impl Remote {
    async fn call(
        &self,
        method: http::Method,
        target: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(u16, Vec<u8>), BackendError> {
        let url = format!("{}{target}", self.base);
        let mut request = self.client.request(method, &url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let mut response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                BackendError::Invalid(format!(
                    "{url} did not answer within {} s; try a shorter time range",
                    REMOTE_TIMEOUT.as_secs()
                ))
            } else {
                BackendError::Unreachable {
                    url: self.base.clone(),
                    reason: reason_of(&e),
                }
            }
        })?;
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| BackendError::Invalid(format!("reading the answer of {url}: {e}")))?
        {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((status, bytes))
    }
}

/// The innermost cause of a connection error ("Connection refused"), not reqwest's wrapper.
fn reason_of(e: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = e;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

async fn call_router(
    router: &axum::Router,
    method: http::Method,
    target: &str,
    body: Option<Vec<u8>>,
) -> Result<(u16, Vec<u8>), BackendError> {
    let mut builder = http::Request::builder().method(method).uri(target);
    if body.is_some() {
        builder = builder.header(http::header::CONTENT_TYPE, "application/json");
    }
    let request = builder
        .body(body.map_or_else(Body::empty, Body::from))
        .map_err(|e| BackendError::Invalid(format!("building the request {target}: {e}")))?;
    let response = match router.clone().oneshot(request).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), MAX_RESPONSE_BYTES)
        .await
        .map_err(|_| too_large())?;
    Ok((status, bytes.to_vec()))
}

fn too_large() -> BackendError {
    BackendError::Invalid(format!(
        "the answer is larger than {} MiB; narrow the time range or lower the limit",
        MAX_RESPONSE_BYTES / (1024 * 1024)
    ))
}

/// `path?k=v&...` with every value form-encoded.
fn path_and_query(path: &str, query: &[(&str, String)]) -> String {
    if query.is_empty() {
        return path.to_string();
    }
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in query {
        q.append_pair(k, v);
    }
    format!("{path}?{}", q.finish())
}

fn decode(status: u16, bytes: &[u8]) -> Result<Value, BackendError> {
    if (200..300).contains(&status) {
        return serde_json::from_slice(bytes)
            .map_err(|e| BackendError::Invalid(format!("the answer is not JSON: {e}")));
    }
    let body: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    let error = &body["error"];
    let text = |key: &str| error.get(key).and_then(Value::as_str).map(str::to_string);
    match text("message") {
        Some(message) => Err(BackendError::Api {
            status,
            code: text("code").unwrap_or_default(),
            message,
            param: text("param"),
        }),
        None => {
            let snippet: String = String::from_utf8_lossy(bytes).chars().take(200).collect();
            Err(BackendError::Invalid(format!("HTTP {status}: {snippet}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            path_and_query(
                "/api/v1/logs",
                &[("q", "a b&c".to_string()), ("attr.k", "é".to_string())]
            ),
            "/api/v1/logs?q=a+b%26c&attr.k=%C3%A9"
        );
        assert_eq!(path_and_query("/x", &[]), "/x");
    }

    #[test]
    fn api_errors_keep_message_and_parameter() {
        let body = br#"{"error":{"code":"bad_parameter","message":"invalid parameter 'limit': too big","param":"limit"}}"#;
        match decode(400, body) {
            Err(BackendError::Api {
                status,
                code,
                message,
                param,
            }) => {
                assert_eq!(status, 400);
                assert_eq!(code, "bad_parameter");
                assert!(message.contains("too big"));
                assert_eq!(param.as_deref(), Some("limit"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            decode(502, b"gateway"),
            Err(BackendError::Invalid(_))
        ));
    }

    #[tokio::test]
    async fn unreachable_servers_say_how_to_start_one() {
        // Port 9 (discard) on loopback: nothing listens there in a test environment.
        let backend = Backend::remote("http://127.0.0.1:9").expect("valid url");
        let err = backend
            .get("/api/v1/services", &[])
            .await
            .expect_err("nothing listens");
        let text = err.to_string();
        assert!(text.contains("could not reach redscope at http://127.0.0.1:9"));
        assert!(text.contains("redscope serve"));
    }

    #[tokio::test]
    async fn in_process_calls_the_router() {
        let router = axum::Router::new().route(
            "/api/v1/echo",
            axum::routing::get(|q: axum::extract::RawQuery| async move {
                axum::Json(serde_json::json!({ "q": q.0 }))
            }),
        );
        let backend = Backend::in_process(router);
        let v = backend
            .get("/api/v1/echo", &[("service", "a b".to_string())])
            .await
            .expect("answer");
        assert_eq!(v["q"], "service=a+b");
        let err = backend.get("/nope", &[]).await.expect_err("404");
        assert_eq!(err.status(), None);
    }
}
