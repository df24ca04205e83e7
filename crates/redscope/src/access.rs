//! Access control at the edges of the server: which listener needs which scope, the `Origin`
//! check, CORS, the rate limits of browser tokens, and the mapping of [`auth::Denied`] to
//! each protocol's answer. The decision itself is [`auth::Authorizer`]'s.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use auth::{Authorizer, Denied, Need, OriginPolicy};

/// What the gates share.
#[derive(Clone)]
pub struct Gate {
    pub authorizer: Arc<Authorizer>,
    pub origins: OriginPolicy,
}

/// The rate limits of browser tokens and how a request's client address is found; each
/// listener hands it to every request (see [`crate::listen`]), clones share the buckets.
#[derive(Debug, Clone)]
pub struct BrowserAdmission {
    limiter: Arc<auth::BrowserLimiter>,
    proxies: Arc<auth::TrustedProxies>,
}

impl BrowserAdmission {
    pub fn new(limiter: auth::BrowserLimiter, proxies: auth::TrustedProxies) -> BrowserAdmission {
        BrowserAdmission {
            limiter: Arc::new(limiter),
            proxies: Arc::new(proxies),
        }
    }

    /// Admits a request of browser `principal`, or answers 429 (counted by `authorizer`).
    /// A body without `Content-Length` is charged as it arrives.
    fn admit(
        &self,
        authorizer: &Authorizer,
        principal: &auth::Principal,
        request: Request,
    ) -> Result<Request, Box<Response>> {
        let headers = request.headers();
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        let client = self.proxies.client_address(peer, headers);
        let length = header_str(headers, header::CONTENT_LENGTH).and_then(|v| v.parse().ok());
        let token = principal.id.clone().unwrap_or_default();
        if let Err(limited) = self.limiter.admit(&token, client, length) {
            authorizer.rate_limited(limited.by);
            return Err(Box::new(otlp_rate_limited(&limited, headers)));
        }
        if length.is_some() {
            return Ok(request);
        }
        let limiter = Arc::clone(&self.limiter);
        let (parts, body) = request.into_parts();
        let counted = futures::TryStreamExt::inspect_ok(body.into_data_stream(), move |chunk| {
            limiter.charge_bytes(&token, client, chunk.len() as u64);
        });
        Ok(Request::from_parts(
            parts,
            axum::body::Body::from_stream(counted),
        ))
    }
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// What a request on the API port needs; `None` for what is public (health, the login page).
/// Anything that changes state needs admin, except the read-only SQL endpoint.
pub fn need_for(method: &Method, path: &str) -> Option<Need> {
    if path == "/healthz" || path == "/login" || path == "/logout" || is_public_sdk(method, path) {
        return None;
    }
    let reads = method == Method::GET || method == Method::HEAD || method == Method::OPTIONS;
    // Rules and silences are read with `read` and changed with `admin`, as below.
    let admin_area = ["/api/v1/tokens", "/api/v1/retention"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")));
    let read_only_post = method == Method::POST
        && (path == "/api/v1/sql"
            || path == "/api/v1/dashboards/validate"
            || path == "/api/v1/pipeline/dry-run"
            || is_prometheus_read(path));
    // Prometheus remote write sends samples with an ingest token.
    if path == ingest::prom_remote_write::PATH {
        return Some(Need::Ingest {
            browser_allowed: false,
        });
    }
    // A build pipeline uploads source maps with the token it sends telemetry with.
    if method == Method::POST && path == "/api/v1/sourcemaps" {
        return Some(Need::Ingest {
            browser_allowed: false,
        });
    }
    let mcp = path == "/mcp" || path.starts_with("/mcp/");
    if admin_area || (path.starts_with("/api/") && !reads && !read_only_post) {
        return Some(Need::Admin);
    }
    if mcp || path.starts_with("/api/") || reads || read_only_post {
        return Some(Need::Read);
    }
    Some(Need::Admin)
}

/// The Prometheus API's queries, which clients may POST as forms.
fn is_prometheus_read(path: &str) -> bool {
    [
        "query",
        "query_range",
        "series",
        "labels",
        "query_exemplars",
    ]
    .iter()
    .any(|p| path.strip_prefix("/prometheus/api/v1/") == Some(p))
}

/// The query parameter a browser token may be passed in, for `navigator.sendBeacon`, which
/// cannot set headers.
pub const TOKEN_PARAMETER: &str = "token";

/// The token of a `?token=` query parameter.
fn query_token(uri: &http::Uri) -> Option<String> {
    let query = uri.query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == TOKEN_PARAMETER)
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

/// The OTLP/HTTP receiver (on its own port and on the API port): an ingest token (or admin),
/// or a browser token from its origins, within the browser rate limits (the listener's
/// [`BrowserAdmission`]). Without an `Authorization` header, a browser token may come as
/// `?token=` (beacons); any other token there is refused, since URLs end up in logs.
pub async fn otlp_http_gate(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let in_url = match auth::credential(headers) {
        Some(_) => None,
        None => query_token(request.uri()),
    };
    let decision = gate.authorizer.authorize(
        auth::credential(headers).or(in_url.as_deref()),
        Need::Ingest {
            browser_allowed: true,
        },
        header_str(headers, header::ORIGIN),
    );
    let decision = decision.and_then(|principal| {
        if in_url.is_some() && principal.id.is_some() && !principal.is_browser() {
            gate.authorizer
                .counters()
                .forbidden
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Err(Denied::Forbidden(format!(
                "only browser tokens may be sent as ?{TOKEN_PARAMETER}= (a URL ends up in logs): send 'Authorization: Bearer <token>'"
            )));
        }
        Ok(principal)
    });
    match decision {
        Ok(principal) => {
            let mut request = request;
            let admission = request.extensions().get::<BrowserAdmission>().cloned();
            if let Some(admission) = admission.filter(|_| principal.is_browser()) {
                request = match admission.admit(&gate.authorizer, &principal, request) {
                    Ok(request) => request,
                    Err(refused) => return *refused,
                };
            }
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(denied) => otlp_denied(&denied, headers),
    }
}

fn otlp_denied(denied: &Denied, headers: &HeaderMap) -> Response {
    let (status, code) = match denied {
        Denied::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, 16),
        Denied::Forbidden(_) => (StatusCode::FORBIDDEN, 7),
    };
    let mut response = otlp_status(status, code, denied.to_string(), headers);
    if status == StatusCode::UNAUTHORIZED {
        let h = response.headers_mut();
        h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// 429 with `Retry-After` and RESOURCE_EXHAUSTED; the OTLP/HTTP receiver's CORS layer adds
/// its headers (and exposes `Retry-After`), so the page's exporter can read it.
fn otlp_rate_limited(limited: &auth::Limited, headers: &HeaderMap) -> Response {
    let secs = limited.retry_after_secs();
    let which = match limited.by {
        auth::LimitedBy::Token => "this browser token",
        auth::LimitedBy::Address => "this client address",
    };
    let message = format!("rate limit of {which} reached: retry after {secs} s");
    let mut response = otlp_status(StatusCode::TOO_MANY_REQUESTS, 8, message, headers);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    response
}

/// google.rpc.Status in the request's encoding, as the OTLP/HTTP spec asks for errors.
fn otlp_status(status: StatusCode, code: i32, message: String, headers: &HeaderMap) -> Response {
    let json = header_str(headers, header::CONTENT_TYPE).is_some_and(|c| {
        c.trim()
            .to_ascii_lowercase()
            .starts_with("application/json")
    });
    let (content_type, body) = if json {
        let body = serde_json::json!({"code": code, "message": message}).to_string();
        ("application/json", body.into_bytes())
    } else {
        let rpc = ingest::RpcStatus {
            code,
            message,
            details: vec![],
        };
        (
            "application/x-protobuf",
            prost::Message::encode_to_vec(&rpc),
        )
    };
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The browser SDK's files (`/sdk/...`): public scripts any site loads, with or without
/// tokens, from any origin (a module import is a cross-origin request).
fn is_public_sdk(method: &Method, path: &str) -> bool {
    (method == Method::GET || method == Method::HEAD) && path.starts_with("/sdk/")
}

/// Lets any page load the SDK's files: `Access-Control-Allow-Origin: *` (no credentials) and
/// `Cross-Origin-Resource-Policy: cross-origin` on `/sdk/...`. Outermost on the API port, so
/// that it sets the one value of the header.
pub async fn public_sdk(request: Request, next: Next) -> Response {
    let public = is_public_sdk(request.method(), request.uri().path());
    let mut response = next.run(request).await;
    if public {
        let h = response.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        h.insert(
            header::HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("cross-origin"),
        );
    }
    response
}

/// The API port (API, SQL, MCP, UI): the `Origin` check, then the scope the route needs. A
/// page of the UI asked for without a token gets the login form instead.
pub async fn api_gate(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let origin = header_str(headers, header::ORIGIN);
    if is_public_sdk(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    if !gate
        .origins
        .allows(origin, header_str(headers, header::HOST))
    {
        gate.authorizer.origin_refused();
        return api::ApiError::Forbidden(
            "cross-origin request from an origin that is not allowed (server.cors_origins)"
                .to_string(),
        )
        .into_response();
    }
    let Some(need) = need_for(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    match gate
        .authorizer
        .authorize(auth::credential(headers), need, origin)
    {
        Ok(principal) => {
            let mut request = request;
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(denied) => {
            let page = is_ui_page(request.method(), request.uri().path());
            match denied {
                Denied::Unauthenticated(_) if page => {
                    crate::login::page(request.uri().path_and_query().map(|p| p.as_str()))
                }
                Denied::Unauthenticated(m) => {
                    api::ApiError::Unauthorized(m.to_string()).into_response()
                }
                Denied::Forbidden(m) => api::ApiError::Forbidden(m).into_response(),
            }
        }
    }
}

fn is_ui_page(method: &Method, path: &str) -> bool {
    method == Method::GET
        && !path.starts_with("/api/")
        && path != "/mcp"
        && !path.starts_with("/mcp/")
}

/// OTLP/gRPC: `authorization: Bearer <token>` metadata with an ingest (or admin) token;
/// browser tokens never (browsers do not speak gRPC).
pub fn grpc_interceptor(
    authorizer: Arc<Authorizer>,
) -> impl Fn(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Clone {
    move |request: tonic::Request<()>| {
        let credential = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(auth::bearer_token);
        let need = Need::Ingest {
            browser_allowed: false,
        };
        match authorizer.authorize(credential, need, None) {
            Ok(_) => Ok(request),
            Err(Denied::Unauthenticated(m)) => Err(tonic::Status::unauthenticated(m)),
            Err(Denied::Forbidden(m)) => Err(tonic::Status::permission_denied(m)),
        }
    }
}

/// CORS of the API port: only the configured origins, no credentials (a page elsewhere sends
/// its own `Authorization` header; the UI's cookie is same-site only).
pub fn api_cors(policy: &OriginPolicy) -> CorsLayer {
    let origins: Vec<HeaderValue> = policy
        .origins()
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("mcp-session-id"),
            header::HeaderName::from_static("mcp-protocol-version"),
        ])
        .expose_headers([header::HeaderName::from_static("mcp-session-id")])
}

/// CORS of the OTLP/HTTP receiver: the configured origins and those of browser tokens (read
/// from the token store as it is now, so a new browser token works without a restart).
pub fn otlp_cors(gate: &Gate) -> CorsLayer {
    let gate = gate.clone();
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            let Ok(o) = origin.to_str() else {
                return false;
            };
            gate.origins.is_listed(o) || gate.authorizer.browser_origin_known(o)
        }))
        .allow_methods([Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::CONTENT_ENCODING,
        ])
        .expose_headers([header::RETRY_AFTER])
}

/// `GET /api/v1/tokens`: the tokens (never their secrets), for admins.
pub async fn list_tokens(State(gate): State<Gate>) -> Response {
    match gate.authorizer.store().list() {
        Ok(tokens) => axum::Json(serde_json::json!({ "tokens": tokens })).into_response(),
        Err(e) => api::ApiError::Internal(e.to_string()).into_response(),
    }
}

/// The routes of this module on the API port.
pub fn routes(gate: Gate) -> axum::Router {
    axum::Router::new()
        .route("/api/v1/tokens", axum::routing::get(list_tokens))
        .route(
            "/login",
            axum::routing::get(crate::login::form).post(crate::login::submit),
        )
        .route("/logout", axum::routing::post(crate::login::logout))
        .with_state(gate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_need_read_admin_or_nothing() {
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(need_for(&get, "/healthz"), None);
        assert_eq!(need_for(&post, "/login"), None);
        assert_eq!(need_for(&get, "/api/v1/services"), Some(Need::Read));
        assert_eq!(need_for(&post, "/api/v1/sql"), Some(Need::Read));
        assert_eq!(
            need_for(&post, "/api/v1/dashboards/validate"),
            Some(Need::Read)
        );
        assert_eq!(need_for(&post, "/api/v1/dashboards/x"), Some(Need::Admin));
        assert_eq!(
            need_for(&Method::PUT, "/api/v1/dashboards/p/n"),
            Some(Need::Admin)
        );
        assert_eq!(need_for(&post, "/mcp"), Some(Need::Read));
        assert_eq!(need_for(&get, "/"), Some(Need::Read));
        assert_eq!(need_for(&get, "/service/checkout"), Some(Need::Read));
        assert_eq!(need_for(&get, "/api/v1/tokens"), Some(Need::Admin));
        assert_eq!(
            need_for(&Method::DELETE, "/api/v1/tokens/x"),
            Some(Need::Admin)
        );
        assert_eq!(need_for(&post, "/api/v1/rules"), Some(Need::Admin));
        assert_eq!(need_for(&get, "/api/v1/rules"), Some(Need::Read));
        assert_eq!(need_for(&get, "/api/v1/alerts/history"), Some(Need::Read));
        assert_eq!(need_for(&post, "/api/v1/silences"), Some(Need::Admin));
        assert_eq!(
            need_for(&Method::DELETE, "/api/v1/rules/shop"),
            Some(Need::Admin)
        );
        assert_eq!(need_for(&get, "/prometheus/api/v1/rules"), Some(Need::Read));
        assert_eq!(
            need_for(&Method::PUT, "/api/v1/anything"),
            Some(Need::Admin)
        );
        assert_eq!(need_for(&post, "/somewhere"), Some(Need::Admin));
        assert_eq!(
            need_for(&post, "/api/v1/sourcemaps"),
            Some(Need::Ingest {
                browser_allowed: false
            })
        );
        assert_eq!(need_for(&get, "/api/v1/sourcemaps"), Some(Need::Read));
        assert_eq!(need_for(&get, "/prometheus/api/v1/query"), Some(Need::Read));
        assert_eq!(
            need_for(&post, "/prometheus/api/v1/query_range"),
            Some(Need::Read)
        );
        assert_eq!(
            need_for(&post, "/prometheus/api/v1/labels"),
            Some(Need::Read)
        );
        assert_eq!(
            need_for(&post, "/prometheus/api/v1/write"),
            Some(Need::Ingest {
                browser_allowed: false
            })
        );
        assert_eq!(
            need_for(&post, "/prometheus/api/v1/admin/x"),
            Some(Need::Admin)
        );
        assert_eq!(need_for(&get, "/sdk/redscope.js"), None);
        assert_eq!(need_for(&post, "/sdk/redscope.js"), Some(Need::Admin));
    }
}
