//! Access control end to end: tokens made with `redscope token`, then every interface of the
//! real server (OTLP/HTTP, OTLP/gRPC, API, SQL, MCP, UI) with and without them, CORS, the
//! `Origin` check, reserved metric names, revocation without a restart, and the refusal to
//! listen beyond loopback without any token.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use reqwest::StatusCode;

use crate::common::{Server, free_port, now_ns};

/// `redscope token create` and the secret it prints.
pub(crate) fn create_token(data: &Path, scope: &str, extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_redscope"))
        .args(["token", "create", "--scope", scope, "--data"])
        .arg(data)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(secret.starts_with(&format!("rs_{scope}_")), "{secret}");
    secret
}

fn token_cli(data: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_redscope"))
        .arg("token")
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

struct Tokens {
    ingest: String,
    read: String,
    admin: String,
    browser: String,
}

const SHOP: &str = "https://shop.example.com";
const GRAFANA: &str = "https://grafana.example.com";
const EVIL: &str = "https://evil.example";

/// A server over a data directory that already has one token of each scope.
fn server_with_tokens(dir: &Path) -> (Server, Tokens) {
    let tokens = Tokens {
        ingest: create_token(dir, "ingest", &["--name", "collector"]),
        read: create_token(dir, "read", &[]),
        admin: create_token(dir, "admin", &[]),
        browser: create_token(dir, "browser", &["--origin", SHOP]),
    };
    let server = Server::start(dir, &[("REDSCOPE_SERVER__CORS_ORIGINS", GRAFANA)]);
    (server, tokens)
}

fn spans_json(service: &str) -> serde_json::Value {
    let t = now_ns();
    serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
        "scopeSpans": [{"spans": [{
            "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
            "name": "GET /", "kind": 2,
            "startTimeUnixNano": t.to_string(), "endTimeUnixNano": (t + 1_000_000).to_string()
        }]}]
    }]})
}

async fn post_spans(server: &Server, token: Option<&str>, origin: Option<&str>) -> StatusCode {
    let mut request = reqwest::Client::new()
        .post(server.otlp_url("/v1/traces"))
        .json(&spans_json("auth-svc"));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    if let Some(o) = origin {
        request = request.header("origin", o);
    }
    request.send().await.unwrap().status()
}

async fn get_api(server: &Server, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(server.api_url(path));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn auth_without_tokens_on_loopback_everything_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    assert_eq!(post_spans(&server, None, None).await, StatusCode::OK);
    let status = server.get_json("/api/v1/status").await;
    assert_eq!(status["status"]["auth"]["enforcing"], false);
    assert_eq!(status["status"]["auth"]["tokens"], 0);
    server.sql("SELECT 1").await;
    let r = get_api(&server, "/api/v1/tokens", None).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn auth_otlp_http_needs_an_ingest_token() {
    let dir = tempfile::tempdir().unwrap();
    let (server, t) = server_with_tokens(dir.path());
    let r = reqwest::Client::new()
        .post(server.otlp_url("/v1/traces"))
        .json(&spans_json("auth-svc"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], 16, "{body}");
    let forged = "rs_ingest_0000000000000000000000000000000000000000000000000";
    assert_eq!(
        post_spans(&server, Some(forged), None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post_spans(&server, Some(&t.read), None).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post_spans(&server, Some(&t.ingest), None).await,
        StatusCode::OK
    );
    assert_eq!(
        post_spans(&server, Some(&t.admin), None).await,
        StatusCode::OK
    );
    // A browser token sends only from its origins.
    assert_eq!(
        post_spans(&server, Some(&t.browser), Some(SHOP)).await,
        StatusCode::OK
    );
    let from_elsewhere = post_spans(&server, Some(&t.browser), Some(EVIL)).await;
    assert_eq!(from_elsewhere, StatusCode::FORBIDDEN);
    assert_eq!(
        post_spans(&server, Some(&t.browser), None).await,
        StatusCode::FORBIDDEN
    );
    let status = get_api(&server, "/api/v1/status", Some(&t.read)).await;
    let status: serde_json::Value = status.json().await.unwrap();
    let counters = &status["status"]["auth"];
    assert_eq!(counters["enforcing"], true);
    assert!(
        counters["unauthenticated"].as_u64().unwrap() >= 2,
        "{counters}"
    );
    assert!(counters["forbidden"].as_u64().unwrap() >= 3, "{counters}");
    assert_eq!(status["status"]["ingest"]["spans_accepted"], 3);
}

async fn grpc_export(server: &Server, token: Option<&str>) -> Result<(), tonic::Status> {
    let mut client = TraceServiceClient::connect(format!("http://127.0.0.1:{}", server.grpc))
        .await
        .unwrap();
    let mut request = tonic::Request::new(ExportTraceServiceRequest::default());
    if let Some(t) = token {
        let value = format!("Bearer {t}").parse().unwrap();
        request.metadata_mut().insert("authorization", value);
    }
    client.export(request).await.map(|_| ())
}

#[tokio::test]
async fn auth_otlp_grpc_needs_an_ingest_token_in_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let (server, t) = server_with_tokens(dir.path());
    let none = grpc_export(&server, None).await.unwrap_err();
    assert_eq!(none.code(), tonic::Code::Unauthenticated, "{none:?}");
    let forged = grpc_export(&server, Some("rs_ingest_nope"))
        .await
        .unwrap_err();
    assert_eq!(forged.code(), tonic::Code::Unauthenticated);
    let read = grpc_export(&server, Some(&t.read)).await.unwrap_err();
    assert_eq!(read.code(), tonic::Code::PermissionDenied, "{read:?}");
    let browser = grpc_export(&server, Some(&t.browser)).await.unwrap_err();
    assert_eq!(browser.code(), tonic::Code::PermissionDenied);
    grpc_export(&server, Some(&t.ingest)).await.unwrap();
    grpc_export(&server, Some(&t.admin)).await.unwrap();
}

#[tokio::test]
async fn auth_api_sql_and_admin_routes_need_their_scopes() {
    let dir = tempfile::tempdir().unwrap();
    let (server, t) = server_with_tokens(dir.path());
    let r = get_api(&server, "/api/v1/services", None).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized", "{body}");
    let r = get_api(&server, "/api/v1/services", Some(&t.ingest)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden", "{body}");
    assert_eq!(
        get_api(&server, "/api/v1/services", Some(&t.read))
            .await
            .status(),
        200
    );
    assert_eq!(
        get_api(&server, "/api/v1/services", Some(&t.admin))
            .await
            .status(),
        200
    );
    assert_eq!(get_api(&server, "/healthz", None).await.status(), 200);
    let sql = |token: Option<&str>| {
        let mut r = reqwest::Client::new()
            .post(server.api_url("/api/v1/sql"))
            .json(&serde_json::json!({"query": "SELECT count(*) FROM spans"}));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    assert_eq!(sql(None).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        sql(Some(&t.browser)).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(sql(Some(&t.read)).await.unwrap().status(), StatusCode::OK);
    // Listing tokens is for admins, and never shows a secret or its hash's preimage.
    let r = get_api(&server, "/api/v1/tokens", Some(&t.read)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = get_api(&server, "/api/v1/tokens", Some(&t.admin)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(text.contains("\"collector\""), "{text}");
    for secret in [&t.ingest, &t.read, &t.admin, &t.browser] {
        assert!(!text.contains(secret.as_str()));
    }
    // A state-changing method on the API is an admin matter.
    let r = reqwest::Client::new()
        .delete(server.api_url("/api/v1/services"))
        .bearer_auth(&t.read)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn auth_ui_login_sets_an_http_only_strict_cookie_the_api_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let (server, t) = server_with_tokens(dir.path());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client
        .get(server.api_url("/service/checkout"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::UNAUTHORIZED);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("action=\"/login\"") && html.contains("/service/checkout"),
        "{html}"
    );
    // The UI sends a browser here on a 401; `next` stays on this server.
    let form = |query: &str| {
        client
            .get(server.api_url(&format!("/login?{query}")))
            .send()
    };
    let html = form("next=%2Ftraces%3Fstatus%3Derror")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("value=\"/traces?status=error\""), "{html}");
    let html = form("next=%2F%2Fevil.example")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("name=\"next\" value=\"/\""), "{html}");
    // A page elsewhere cannot sign a browser in (or out).
    let forged = client
        .post(server.api_url("/login"))
        .header("origin", EVIL)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={}", t.read))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let login = |token: &str| {
        client
            .post(server.api_url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={token}&next=%2Fservice%2Fcheckout"))
            .send()
    };
    assert_eq!(
        login("rs_read_wrong").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&t.ingest).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let ok = login(&t.read).await.unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(ok.headers()["location"], "/service/checkout");
    let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let pair = cookie.split(';').next().unwrap().to_string();
    let with_cookie = |path: &str| {
        client
            .get(server.api_url(path))
            .header("cookie", &pair)
            .send()
    };
    assert_eq!(with_cookie("/api/v1/services").await.unwrap().status(), 200);
    assert_eq!(with_cookie("/").await.unwrap().status(), 200);
    let out = client.post(server.api_url("/logout")).send().await.unwrap();
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
}

async fn preflight(url: &str, origin: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, url)
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap()
}

fn allowed_origin(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test]
async fn auth_cors_only_for_configured_and_browser_token_origins() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _t) = server_with_tokens(dir.path());
    let api = server.api_url("/api/v1/sql");
    assert_eq!(
        allowed_origin(&preflight(&api, GRAFANA).await).as_deref(),
        Some(GRAFANA)
    );
    assert_eq!(allowed_origin(&preflight(&api, EVIL).await), None);
    // The browser token's origin may send telemetry, not read the API.
    assert_eq!(allowed_origin(&preflight(&api, SHOP).await), None);
    let otlp = server.otlp_url("/v1/traces");
    assert_eq!(
        allowed_origin(&preflight(&otlp, SHOP).await).as_deref(),
        Some(SHOP)
    );
    assert_eq!(
        allowed_origin(&preflight(&otlp, GRAFANA).await).as_deref(),
        Some(GRAFANA)
    );
    assert_eq!(allowed_origin(&preflight(&otlp, EVIL).await), None);
    for r in [preflight(&api, GRAFANA).await, preflight(&otlp, SHOP).await] {
        assert_ne!(allowed_origin(&r).as_deref(), Some("*"));
        assert!(
            r.headers()
                .get("access-control-allow-credentials")
                .is_none()
        );
    }
    // A browser token created while the server runs is allowed within a second or two.
    let late = "https://late.example.com";
    create_token(dir.path(), "browser", &["--origin", late]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while allowed_origin(&preflight(&otlp, late).await).is_none() {
        assert!(
            Instant::now() < deadline,
            "new browser origin not picked up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn auth_origin_is_checked_on_the_api_and_mcp() {
    let dir = tempfile::tempdir().unwrap();
    // No tokens: the Origin check holds even on an open server.
    let server = Server::start(dir.path(), &[("REDSCOPE_SERVER__CORS_ORIGINS", GRAFANA)]);
    let client = reqwest::Client::new();
    let get = |origin: &str| {
        client
            .get(server.api_url("/api/v1/services"))
            .header("origin", origin)
            .send()
    };
    assert_eq!(get(EVIL).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(get("null").await.unwrap().status(), StatusCode::FORBIDDEN);
    let same = format!("http://127.0.0.1:{}", server.api);
    assert_eq!(get(&same).await.unwrap().status(), StatusCode::OK);
    let listed = get(GRAFANA).await.unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    assert_eq!(allowed_origin(&listed).as_deref(), Some(GRAFANA));
    let initialize = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "t", "version": "1"}}});
    let mcp = |origin: Option<&str>| {
        let mut r = client
            .post(server.api_url("/mcp"))
            .header("accept", "application/json, text/event-stream")
            .json(&initialize);
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        r.send()
    };
    assert_eq!(
        mcp(Some(EVIL)).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(mcp(None).await.unwrap().status(), StatusCode::OK);
    let status = server.get_json("/api/v1/status").await;
    assert!(status["status"]["auth"]["origin_refused"].as_u64().unwrap() >= 3);
}

#[tokio::test]
async fn auth_reserved_metric_names_are_refused_through_partial_success() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let t = now_ns().to_string();
    let point = serde_json::json!({"timeUnixNano": t, "asDouble": 1.0});
    let body = serde_json::json!({"resourceMetrics": [{"scopeMetrics": [{"metrics": [
        {"name": "redscope.red.duration", "gauge": {"dataPoints": [point, point]}},
        {"name": "client.queue", "gauge": {"dataPoints": [point]}}
    ]}]}]});
    let r = reqwest::Client::new()
        .post(server.otlp_url("/v1/metrics"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let answer: serde_json::Value = r.json().await.unwrap();
    let partial = &answer["partialSuccess"];
    assert_eq!(partial["rejectedDataPoints"], 2, "{answer}");
    assert!(
        partial["errorMessage"]
            .as_str()
            .unwrap()
            .contains("reserved"),
        "{answer}"
    );
    let status = server.get_json("/api/v1/status").await;
    assert_eq!(status["status"]["ingest"]["items_rejected"], 2);
    assert_eq!(status["status"]["ingest"]["metric_points_accepted"], 1);
}

#[tokio::test]
async fn auth_tokens_created_and_revoked_take_effect_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    assert_eq!(
        get_api(&server, "/api/v1/services", None).await.status(),
        200
    );
    let read = create_token(dir.path(), "read", &["--name", "dashboard"]);
    let wait_for = |token: Option<String>, want: StatusCode| {
        let server = &server;
        async move {
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                let got = get_api(server, "/api/v1/services", token.as_deref())
                    .await
                    .status();
                if got == want {
                    return;
                }
                assert!(Instant::now() < deadline, "still {got}, want {want}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    // Once a token exists, every request needs one.
    wait_for(None, StatusCode::UNAUTHORIZED).await;
    wait_for(Some(read.clone()), StatusCode::OK).await;
    let list = token_cli(dir.path(), &["list"]);
    assert!(
        list.contains("dashboard") && !list.contains(&read),
        "{list}"
    );
    let id = list
        .lines()
        .find(|l| l.contains("dashboard"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    // Revoking the last token would open the server again (no tokens, loopback only): keep one.
    let admin = create_token(dir.path(), "admin", &[]);
    token_cli(dir.path(), &["revoke", &id]);
    wait_for(Some(read), StatusCode::UNAUTHORIZED).await;
    wait_for(Some(admin), StatusCode::OK).await;
}

#[test]
fn auth_refuses_to_listen_beyond_loopback_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let serve = |extra: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_redscope"));
        cmd.args(["serve", "--data"])
            .arg(dir.path())
            .args(["--otlp-grpc", &format!("127.0.0.1:{}", free_port())])
            .args(["--otlp-http", &format!("127.0.0.1:{}", free_port())])
            .args(["--api", &format!("0.0.0.0:{}", free_port())])
            .args(extra)
            .env("REDSCOPE_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        cmd
    };
    let refused = serve(&[]).output().unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("refusing to listen on 0.0.0.0"), "{stderr}");
    assert!(stderr.contains("--insecure-no-auth"), "{stderr}");
    // With the flag it starts, and says so.
    let log = dir.path().join("insecure.log");
    let mut child = serve(&["--insecure-no-auth"])
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(
        child.try_wait().unwrap().is_none(),
        "did not keep running: {stderr}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(stderr.contains("insecure_no_auth"), "{stderr}");
    // With a token, an exposed listener is fine.
    create_token(dir.path(), "admin", &[]);
    let mut child = serve(&[]).spawn().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        child.try_wait().unwrap().is_none(),
        "refused despite a token"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

const SITE: &str = "http://site.example";

/// OTLP/HTTP JSON spans as a page on `SITE` sends them with `token`, claiming to forward for
/// `forwarded_for` (honoured only from a trusted proxy).
async fn post_from_site(
    client: &reqwest::Client,
    server: &Server,
    token: &str,
    forwarded_for: &str,
) -> reqwest::Response {
    client
        .post(server.otlp_url("/v1/traces"))
        .bearer_auth(token)
        .header("origin", SITE)
        .header("x-forwarded-for", forwarded_for)
        .json(&spans_json("browser-app"))
        .send()
        .await
        .unwrap()
}

/// Checks a rate-limited answer: 429, `Retry-After`, CORS headers for the page, and a
/// RESOURCE_EXHAUSTED status naming `which` limit. Returns `Retry-After` in seconds.
async fn assert_rate_limited(r: reqwest::Response, which: &str) -> u64 {
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(allowed_origin(&r).as_deref(), Some(SITE));
    let exposed = r.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("retry-after"), "{exposed}");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], 8, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains(which), "{body}");
    retry_after
}

async fn rate_limited_counters(server: &Server, read: &str) -> serde_json::Value {
    let status = get_api(server, "/api/v1/status", Some(read)).await;
    let status: serde_json::Value = status.json().await.unwrap();
    status["status"]["auth"]["rate_limited"].clone()
}

#[tokio::test]
async fn auth_browser_tokens_are_rate_limited_per_client_address() {
    let dir = tempfile::tempdir().unwrap();
    let browser = create_token(dir.path(), "browser", &["--origin", SITE]);
    let ingest = create_token(dir.path(), "ingest", &[]);
    let read = create_token(dir.path(), "read", &[]);
    let server = Server::start(
        dir.path(),
        &[
            ("REDSCOPE_BROWSER_LIMITS__ADDRESS_REQUESTS_PER_SEC", "2"),
            ("REDSCOPE_BROWSER_LIMITS__ADDRESS_REQUESTS_BURST", "5"),
        ],
    );
    let client = reqwest::Client::new();
    let start = Instant::now();
    let (mut ok, mut refused, mut retry_after) = (0usize, 0usize, 0);
    for i in 0..30 {
        // No trusted proxy is configured: a different X-Forwarded-For each time changes
        // nothing, the TCP peer is the client.
        let r = post_from_site(&client, &server, &browser, &format!("203.0.113.{i}")).await;
        if r.status() == StatusCode::OK {
            ok += 1;
        } else {
            retry_after = assert_rate_limited(r, "client address").await;
            refused += 1;
        }
        if i < 5 {
            assert_eq!(ok, i + 1, "the burst of 5 passes");
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    assert_eq!(ok + refused, 30);
    assert!(
        ok as f64 <= 5.0 + 2.0 * elapsed + 1.0,
        "{ok} in {elapsed} s"
    );
    assert!(refused >= 10, "{refused}");
    // An ingest token from the same address and page is not limited.
    for _ in 0..30 {
        let r = post_from_site(&client, &server, &ingest, "203.0.113.1").await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    // Once Retry-After has passed, the browser token sends again.
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    let r = post_from_site(&client, &server, &browser, "203.0.113.1").await;
    assert_eq!(r.status(), StatusCode::OK);
    let counters = rate_limited_counters(&server, &read).await;
    assert_eq!(counters["address"], refused as u64, "{counters}");
    assert_eq!(counters["token"], 0, "{counters}");
}

#[tokio::test]
async fn auth_browser_tokens_are_rate_limited_per_token_and_per_forwarded_address() {
    let dir = tempfile::tempdir().unwrap();
    let browser = create_token(dir.path(), "browser", &["--origin", SITE]);
    let other = create_token(dir.path(), "browser", &["--origin", SITE]);
    let read = create_token(dir.path(), "read", &[]);
    let server = Server::start(
        dir.path(),
        &[
            ("REDSCOPE_SERVER__TRUSTED_PROXIES", "127.0.0.1"),
            ("REDSCOPE_BROWSER_LIMITS__ADDRESS_REQUESTS_PER_SEC", "1"),
            ("REDSCOPE_BROWSER_LIMITS__ADDRESS_REQUESTS_BURST", "3"),
            ("REDSCOPE_BROWSER_LIMITS__TOKEN_REQUESTS_PER_SEC", "1"),
            ("REDSCOPE_BROWSER_LIMITS__TOKEN_REQUESTS_BURST", "10"),
        ],
    );
    let client = reqwest::Client::new();
    let start = Instant::now();
    // The proxy (our loopback peer) names the client: each address has its own bucket.
    let mut by_address = 0;
    for address in ["203.0.113.1", "203.0.113.2"] {
        for i in 0..5 {
            let r = post_from_site(&client, &server, &browser, address).await;
            if i < 3 {
                assert_eq!(r.status(), StatusCode::OK, "{address} #{i}");
            } else {
                assert_rate_limited(r, "client address").await;
                by_address += 1;
            }
        }
    }
    // Many addresses together run into the token's limit: 4 of its 10 are left, plus what
    // refills meanwhile.
    let (mut ok, mut by_token) = (0usize, 0usize);
    for i in 3..40 {
        let r = post_from_site(&client, &server, &browser, &format!("203.0.113.{i}")).await;
        if r.status() == StatusCode::OK {
            ok += 1;
        } else {
            assert_rate_limited(r, "browser token").await;
            by_token += 1;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    assert!(
        ok >= 4 && ok as f64 <= 4.0 + elapsed + 1.0,
        "{ok} in {elapsed} s"
    );
    assert!(by_token >= 20, "{by_token}");
    // Another browser token has buckets of its own.
    let r = post_from_site(&client, &server, &other, "198.51.100.1").await;
    assert_eq!(r.status(), StatusCode::OK);
    let counters = rate_limited_counters(&server, &read).await;
    assert_eq!(counters["address"], by_address, "{counters}");
    assert_eq!(counters["token"], by_token as u64, "{counters}");
}

/// `spans_json` with a resource attribute of `pad` bytes, to make a body of a given size.
fn padded_spans(pad: usize) -> Vec<u8> {
    let mut body = spans_json("browser-app");
    let attribute = serde_json::json!({"key": "pad", "value": {"stringValue": "x".repeat(pad)}});
    body["resourceSpans"][0]["resource"]["attributes"]
        .as_array_mut()
        .unwrap()
        .push(attribute);
    serde_json::to_vec(&body).unwrap()
}

/// Posts `body` from `SITE` with `token`: with a `Content-Length`, or chunked (without one)
/// on a connection of its own. The status code.
async fn post_bytes_from_site(server: &Server, token: &str, body: Vec<u8>, chunked: bool) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if !chunked {
        let r = reqwest::Client::new()
            .post(server.otlp_url("/v1/traces"))
            .bearer_auth(token)
            .header("origin", SITE)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        return r.status().as_u16();
    }
    let mut request = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Origin: {SITE}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\
         Connection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in body.chunks(700) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", server.http))
        .await
        .unwrap();
    stream.write_all(&request).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response);
    let status_line = text.lines().next().unwrap_or_default();
    status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text}"))
}

#[tokio::test]
async fn auth_browser_bytes_are_limited_with_or_without_a_content_length() {
    let dir = tempfile::tempdir().unwrap();
    let browser = create_token(dir.path(), "browser", &["--origin", SITE]);
    let read = create_token(dir.path(), "read", &[]);
    let server = Server::start(
        dir.path(),
        &[
            ("REDSCOPE_BROWSER_LIMITS__ADDRESS_BYTES_PER_SEC", "1000"),
            ("REDSCOPE_BROWSER_LIMITS__ADDRESS_BYTES_BURST", "4000"),
        ],
    );
    let (large, small) = (padded_spans(2700), padded_spans(0));
    assert!(
        (3000..3600).contains(&large.len()) && small.len() < 600,
        "{} {}",
        large.len(),
        small.len()
    );
    assert_eq!(
        post_bytes_from_site(&server, &browser, large.clone(), false).await,
        200
    );
    // 4000 bytes of burst, 3000 and more taken: another large body waits, a small one fits.
    assert_eq!(
        post_bytes_from_site(&server, &browser, large.clone(), false).await,
        429
    );
    assert_eq!(
        post_bytes_from_site(&server, &browser, small.clone(), false).await,
        200
    );
    // Full again after four seconds. A chunked body declares nothing and is admitted, but its
    // bytes are charged as they arrive: the bucket is in debt, even a small body waits.
    tokio::time::sleep(Duration::from_millis(4200)).await;
    let chunked = padded_spans(6000);
    assert_eq!(
        post_bytes_from_site(&server, &browser, chunked, true).await,
        200
    );
    assert_eq!(
        post_bytes_from_site(&server, &browser, small, false).await,
        429
    );
    let counters = rate_limited_counters(&server, &read).await;
    assert_eq!(counters["address"], 2, "{counters}");
    let status = get_api(&server, "/api/v1/status", Some(&read)).await;
    let status: serde_json::Value = status.json().await.unwrap();
    assert_eq!(status["status"]["ingest"]["spans_accepted"], 3, "{status}");
}
