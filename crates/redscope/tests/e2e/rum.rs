//! Real user monitoring end to end: browser telemetry on the API port (CORS, beacons with
//! `?token=`, gzip, protobuf, bad input), enrichment at ingest (user agent, route, bots,
//! fingerprints), source maps uploaded with the CLI and stacks symbolicated with them, the
//! shapes of the OpenTelemetry JS web instrumentations, and the `/api/v1/web` answers over
//! scripted sessions (funnel numbers worked out by hand below).

mod rollups;

use std::io::Write;
use std::path::Path;
use std::process::Command;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::auth::create_token;
use crate::common::{Server, now_ns};

const SHOP: &str = "https://shop.example.com";
const EVIL: &str = "https://evil.example";
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 Safari/537.36";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
const FIREFOX: &str =
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/// An OTLP JSON attribute list.
fn kvs(pairs: &[(&str, Value)]) -> Value {
    let list: Vec<Value> = pairs
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => json!({"stringValue": s}),
                Value::Bool(b) => json!({"boolValue": b}),
                Value::Number(n) if n.is_i64() => json!({"intValue": n.to_string()}),
                Value::Number(n) => json!({"doubleValue": n.as_f64()}),
                other => json!({"stringValue": other.to_string()}),
            };
            json!({"key": k, "value": value})
        })
        .collect();
    Value::Array(list)
}

/// The resource our browser SDK sends.
fn browser_resource(version: &str, user_agent: &str) -> Value {
    json!({"attributes": kvs(&[
        ("service.name", json!("shop-web")),
        ("service.version", json!(version)),
        ("telemetry.sdk.name", json!("redscope-browser")),
        ("user_agent.original", json!(user_agent)),
    ])})
}

/// One event record at `t` (unix ns).
fn event(t: u64, name: &str, attrs: &[(&str, Value)]) -> Value {
    let mut all = vec![("event.name", json!(name))];
    all.extend(attrs.iter().cloned());
    json!({"timeUnixNano": t.to_string(), "eventName": name, "attributes": kvs(&all)})
}

fn logs(resource: Value, records: Vec<Value>) -> Value {
    json!({"resourceLogs": [{"resource": resource, "scopeLogs": [{"scope": {"name": "redscope-browser"}, "logRecords": records}]}]})
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

async fn post_api(server: &Server, path: &str, body: &Value) {
    let r = reqwest::Client::new()
        .post(server.api_url(path))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    assert_eq!(status, 200, "POST {path}: {}", r.text().await.unwrap());
}

fn page_view(t: u64, session: &str, pv: &str, path: &str, extra: &[(&str, Value)]) -> Value {
    let mut attrs = vec![
        ("session.id", json!(session)),
        ("page_view.id", json!(pv)),
        ("url.full", json!(format!("{SHOP}{path}"))),
    ];
    attrs.extend(extra.iter().cloned());
    event(t, "browser.page_view", &attrs)
}

#[tokio::test]
async fn rum_browser_ingest_on_the_api_port() {
    let dir = tempfile::tempdir().unwrap();
    let browser = create_token(dir.path(), "browser", &["--origin", SHOP]);
    let ingest = create_token(dir.path(), "ingest", &[]);
    let read = create_token(dir.path(), "read", &[]);
    let server = Server::start(
        dir.path(),
        &[("REDSCOPE_LIMITS__MAX_REQUEST_BYTES", "100000")],
    );
    let client = reqwest::Client::new();
    let url = server.api_url("/v1/logs");

    // The preflight of a page of the token's origin is answered; another origin's is not.
    let preflight = |origin: &'static str| {
        client
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type,content-encoding",
            )
            .send()
    };
    let ok = preflight(SHOP).await.unwrap();
    assert!(ok.status().is_success(), "{}", ok.status());
    assert_eq!(ok.headers()["access-control-allow-origin"], SHOP);
    let evil = preflight(EVIL).await.unwrap();
    assert!(evil.headers().get("access-control-allow-origin").is_none());

    let t = now_ns();
    let body = logs(
        browser_resource("1.0.0", CHROME),
        vec![page_view(t, "sess-a", "pv-1", "/orders/8123?ref=mail", &[])],
    );
    let send = |token: Option<&str>,
                origin: &str,
                content_type: &str,
                bytes: Vec<u8>,
                gzipped: bool,
                query: &str| {
        let mut r = client
            .post(format!("{url}{query}"))
            .header("origin", origin)
            .header("content-type", content_type)
            .body(bytes);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if gzipped {
            r = r.header("content-encoding", "gzip");
        }
        r.send()
    };
    let plain = body.to_string().into_bytes();
    // JSON with the token in the header, from the token's origin: CORS headers on the answer.
    let r = send(
        Some(&browser),
        SHOP,
        "application/json",
        plain.clone(),
        false,
        "",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["access-control-allow-origin"], SHOP);
    // Gzip.
    let r = send(
        Some(&browser),
        SHOP,
        "application/json",
        gzip(&plain),
        true,
        "",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // A beacon: text/plain, the token in the URL.
    let beacon_query = format!("?token={browser}");
    let r = send(
        None,
        SHOP,
        "text/plain;charset=UTF-8",
        plain.clone(),
        false,
        &beacon_query,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Only browser tokens may be in the URL.
    let r = send(
        None,
        SHOP,
        "text/plain",
        plain.clone(),
        false,
        &format!("?token={ingest}"),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("only browser tokens"));
    // Wrong origin, bad token, no token, malformed JSON, too large.
    let r = send(
        Some(&browser),
        EVIL,
        "application/json",
        plain.clone(),
        false,
        "",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = send(
        Some("rs_browser_nope"),
        SHOP,
        "application/json",
        plain.clone(),
        false,
        "",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = send(None, SHOP, "application/json", plain.clone(), false, "")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = send(
        Some(&browser),
        SHOP,
        "application/json",
        b"{\"resourceLogs\": [".to_vec(),
        false,
        "",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("invalid JSON"));
    let r = send(
        Some(&browser),
        SHOP,
        "application/json",
        vec![b' '; 150_000],
        false,
        "",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Protobuf spans (a fetch span) with the browser token.
    let span = opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
        resource_spans: vec![opentelemetry_proto::tonic::trace::v1::ResourceSpans {
            resource: Some(opentelemetry_proto::tonic::resource::v1::Resource {
                attributes: serde_json::from_value(json!([])).unwrap(),
                ..Default::default()
            }),
            scope_spans: vec![opentelemetry_proto::tonic::trace::v1::ScopeSpans {
                spans: vec![opentelemetry_proto::tonic::trace::v1::Span {
                    trace_id: vec![7; 16],
                    span_id: vec![8; 8],
                    name: "HTTP GET".into(),
                    kind: 3,
                    start_time_unix_nano: t,
                    end_time_unix_nano: t + 5_000_000,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let r = client
        .post(server.api_url("/v1/traces"))
        .header("origin", SHOP)
        .header("content-type", "application/x-protobuf")
        .bearer_auth(&browser)
        .body(prost::Message::encode_to_vec(&span))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // The server kept serving and counted every refusal.
    let status = status_with(&server, &read).await;
    let s = &status["status"];
    assert!(s["auth"]["forbidden"].as_u64().unwrap() >= 2, "{s}");
    assert!(s["auth"]["unauthenticated"].as_u64().unwrap() >= 2, "{s}");
    assert_eq!(s["ingest"]["requests_refused"]["bad_request"], 1, "{s}");
    assert_eq!(s["ingest"]["requests_refused"]["too_large"], 1, "{s}");
    assert_eq!(s["ingest"]["logs_accepted"], 3, "{s}");
    assert_eq!(s["rum"]["browser_logs"], 3, "{s}");

    // Enriched at ingest: client, route, path.
    let rows = sql(&server, &read, "SELECT attr(attributes, 'browser.name') AS b, attr(attributes, 'os.name') AS os, attr(attributes, 'device.type') AS d, attr(attributes, 'url.template') AS route FROM logs WHERE event_name = 'browser.page_view'").await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(
        rows[0],
        json!(["Chrome", "Windows", "desktop", "/orders/:id"])
    );
}

/// `/api/v1/status` with a read token.
async fn status_with(server: &Server, read: &str) -> Value {
    let r = reqwest::Client::new()
        .get(server.api_url("/api/v1/status"))
        .bearer_auth(read)
        .send()
        .await
        .unwrap();
    r.json().await.unwrap()
}

async fn sql(server: &Server, token: &str, query: &str) -> Vec<Value> {
    let r = reqwest::Client::new()
        .post(server.api_url("/api/v1/sql"))
        .bearer_auth(token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    body["rows"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("{body}"))
}

/// The shapes of the OpenTelemetry JS web instrumentations: document-load, fetch and
/// user-interaction spans with `session.id` (web-common's session processor), and a
/// `browser.web_vital` event with the semantic conventions' body; plus a bot.
#[tokio::test]
async fn rum_opentelemetry_js_shapes_are_understood() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let t = now_ns() - 60_000_000_000;
    let resource = json!({"attributes": kvs(&[
        ("service.name", json!("otel-web")),
        ("telemetry.sdk.language", json!("webjs")),
        ("telemetry.sdk.name", json!("opentelemetry")),
        ("telemetry.sdk.version", json!("2.0.1")),
        ("browser.platform", json!("Linux")),
        ("browser.mobile", json!(false)),
        ("user_agent.original", json!(FIREFOX)),
    ])});
    let span = |id: u8,
                parent: Option<u8>,
                name: &str,
                kind: u8,
                start: u64,
                ms: u64,
                scope_attrs: &[(&str, Value)]| {
        let mut s = json!({
            "traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": format!("00f067aa0ba902{id:02x}"),
            "name": name, "kind": kind,
            "startTimeUnixNano": start.to_string(), "endTimeUnixNano": (start + ms * 1_000_000).to_string(),
            "attributes": kvs(scope_attrs),
        });
        if let Some(p) = parent {
            s["parentSpanId"] = json!(format!("00f067aa0ba902{p:02x}"));
        }
        s
    };
    let session = ("session.id", json!("otel-sess-1"));
    let spans = json!({"resourceSpans": [{"resource": resource, "scopeSpans": [
        {"scope": {"name": "@opentelemetry/instrumentation-document-load"}, "spans": [
            span(1, None, "documentLoad", 1, t, 900, &[session.clone(), ("http.url", json!("https://otel.example.com/products/991")), ("http.user_agent", json!(FIREFOX))]),
            span(2, Some(1), "documentFetch", 1, t, 200, &[session.clone(), ("http.url", json!("https://otel.example.com/products/991"))]),
        ]},
        {"scope": {"name": "@opentelemetry/instrumentation-fetch"}, "spans": [
            span(3, None, "HTTP GET", 3, t + 2_000_000_000, 120, &[session.clone(), ("http.method", json!("GET")), ("http.url", json!("https://api.otel.example.com/cart/items/12")), ("http.status_code", json!(200))]),
        ]},
        {"scope": {"name": "@opentelemetry/instrumentation-user-interaction"}, "spans": [
            span(4, None, "click", 1, t + 1_000_000_000, 5, &[session.clone(), ("event_type", json!("click")), ("target_element", json!("BUTTON")), ("target_xpath", json!("//*[@id=\"add\"]"))]),
        ]},
    ]}]});
    server.post_otlp_json("/v1/traces", &spans).await;
    let vital = json!({"timeUnixNano": (t + 3_000_000_000u64).to_string(), "eventName": "browser.web_vital",
        "attributes": kvs(&[session.clone(), ("url.full", json!("https://otel.example.com/products/991"))]),
        "body": {"kvlistValue": {"values": kvs(&[("name", json!("lcp")), ("value", json!(4800.5)), ("delta", json!(4800.5)), ("id", json!("v4-1"))])}}});
    let bot = event(
        t,
        "browser.page_view",
        &[
            ("session.id", json!("bot-1")),
            ("url.full", json!("https://otel.example.com/")),
            ("user_agent.original", json!(GOOGLEBOT)),
        ],
    );
    let body = json!({"resourceLogs": [{"resource": resource, "scopeLogs": [{"logRecords": [vital, bot]}]}]});
    server.post_otlp_json("/v1/logs", &body).await;

    let rows = server.sql("SELECT name, session_id, url_full, attr(attributes, 'url.template') AS route, attr(attributes, 'browser.name') AS b FROM spans WHERE service_name = 'otel-web' ORDER BY name").await;
    let rows = rows["rows"].as_array().unwrap().clone();
    let fetch = rows.iter().find(|r| r[0] == "HTTP GET").unwrap();
    assert_eq!(
        fetch,
        &json!([
            "HTTP GET",
            "otel-sess-1",
            "https://api.otel.example.com/cart/items/12",
            "/cart/items/:id",
            "Firefox"
        ])
    );

    let detail = server.get_json("/api/v1/web/sessions/otel-sess-1").await;
    let summary = &detail["summary"];
    assert_eq!(summary["page_views"], 1, "{detail}");
    assert_eq!(summary["requests"], 1, "{detail}");
    assert_eq!(summary["clicks"], 1, "{detail}");
    assert_eq!(summary["browser"], "Firefox");
    assert_eq!(summary["entry_page"], "/products/991", "{detail}");
    assert_eq!(
        detail["page_views"][0]["route"], "/products/:id",
        "{detail}"
    );
    assert_eq!(
        detail["page_views"][0]["vitals"]["LCP"]["rating"], "poor",
        "{detail}"
    );
    assert_eq!(
        detail["trace_ids"],
        json!(["4bf92f3577b34da6a3ce929d0e0e4736"])
    );

    let sessions = server.get_json("/api/v1/web/sessions").await;
    let bot = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session_id"] == "bot-1")
        .unwrap()
        .clone();
    assert_eq!(bot["synthetic"], "bot");
    assert_eq!(bot["device"], "bot");
    let humans = server
        .get_json("/api/v1/web/sessions?exclude_synthetic=true")
        .await;
    assert_eq!(humans["total"], 1, "{humans}");
}

/// A map of `assets/app.min.js`: generated line 1, column 15 is `src/cart.ts` line 4,
/// column 5 (VLQ `cAGI`: columns 14 and 4, line 3, zero-based).
/// A replay segment's body: base64 of gzip of rrweb events (here just bytes of that shape).
const REPLAY_BODY: &str = "H4sIAAAAAAAAA4uOBQApu0wNAgAAAA==";

const MAP: &str =
    r#"{"version":3,"file":"app.min.js","sources":["src/cart.ts"],"names":[],"mappings":"cAGI"}"#;

fn upload(data: &Path, server: &Server, token: &str, build: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_redscope"))
        .args([
            "sourcemaps",
            "upload",
            "--service",
            "shop-web",
            "--version",
            "2.0.0",
        ])
        .arg(build)
        .args(["--server", &server.api_url("")])
        .args(["--token", token])
        .current_dir(data)
        .output()
        .unwrap()
}

#[tokio::test]
async fn rum_stacks_are_symbolicated_with_uploaded_source_maps() {
    let dir = tempfile::tempdir().unwrap();
    let ingest = create_token(dir.path(), "ingest", &[]);
    let read = create_token(dir.path(), "read", &[]);
    let server = Server::start(dir.path(), &[]);
    let build = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(build.path().join("assets")).unwrap();
    std::fs::write(build.path().join("assets/app.min.js.map"), MAP).unwrap();
    std::fs::write(
        build.path().join("assets/app.min.js"),
        "function a(){throw new TypeError('boom')}a();",
    )
    .unwrap();

    let refused = upload(dir.path(), &server, &read, build.path());
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("403"));
    let done = upload(dir.path(), &server, &ingest, build.path());
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(String::from_utf8_lossy(&done.stdout).contains("uploaded 2 files"));
    let listed: Value = reqwest::Client::new()
        .get(server.api_url("/api/v1/sourcemaps?service=shop-web&version=2.0.0"))
        .bearer_auth(&read)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["files"],
        json!(["assets/app.min.js", "assets/app.min.js.map"])
    );

    let t = now_ns() - 10_000_000_000;
    let sent = format!("TypeError: boom\n    at a ({SHOP}/assets/app.min.js:1:15)");
    let body = logs(
        browser_resource("2.0.0", CHROME),
        vec![
            page_view(t, "sess-e", "pv-e", "/cart", &[]),
            event(
                t + 1_000_000_000,
                "browser.click",
                &[
                    ("session.id", json!("sess-e")),
                    ("page_view.id", json!("pv-e")),
                ],
            ),
            event(
                t + 2_000_000_000,
                "browser.error",
                &[
                    ("session.id", json!("sess-e")),
                    ("page_view.id", json!("pv-e")),
                    ("url.full", json!(format!("{SHOP}/cart"))),
                    ("exception.type", json!("TypeError")),
                    ("exception.message", json!("boom")),
                    ("exception.stacktrace", json!(sent)),
                ],
            ),
        ],
    );
    let r = reqwest::Client::new()
        .post(server.api_url("/v1/logs"))
        .bearer_auth(&ingest)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let get = |path: String| {
        let read = read.clone();
        let url = server.api_url(&path);
        async move {
            let r = reqwest::Client::new()
                .get(url)
                .bearer_auth(read)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let groups = get("/api/v1/web/errors".to_string()).await;
    let group = &groups["groups"][0];
    assert_eq!(group["count"], 1, "{groups}");
    assert_eq!(group["symbolicated"], true, "{groups}");
    let stack = group["stack"].as_str().unwrap();
    assert!(stack.contains("src/cart.ts:4:5"), "{stack}");
    assert_eq!(group["releases"], json!(["2.0.0"]));
    let fp = group["fingerprint"].as_str().unwrap();
    let detail = get(format!("/api/v1/web/errors/{fp}")).await;
    assert_eq!(detail["original_stack"], sent.as_str());
    let crumbs: Vec<&str> = detail["breadcrumbs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["kind"].as_str().unwrap())
        .collect();
    assert_eq!(crumbs, ["page_view", "click", "error"], "{detail}");
}

/// Six scripted sessions of a shop (times in seconds from `t0`):
///
/// | session | browser | user | events |
/// | s1 | Chrome desktop | ada (identify at 1) | / 0, click 5, /products/12 10, /cart 20, checkout.started 25, /checkout 30, order.placed 40 |
/// | s2 | iPhone | — | / 0, /products/7 10, /cart 20, error 22 |
/// | s3 | Firefox | bob | / 0 (bounce) |
/// | s4 | Chrome | ada | /cart 200, /checkout 210, order.placed 220 |
/// | s5 | Chrome | cy (identify at 5) | / 0, error 8 |
/// | s6 | Chrome | cy | /cart 100, order.placed 110 |
///
/// Funnel `/` → `/cart` → `order.placed`, per session: s1 3 steps, s2 2, s3 1, s5 1, s4 and s6
/// never start → [4, 2, 1]. Per user: ada (s1+s4) 3, s2 2, bob 1, cy (s5+s6: / 0, /cart 100,
/// order 110) 3 → [4, 3, 2]; with a 30 s window ada 2, s2 2, bob 1, cy 1 → [4, 2, 0]. Breakdown by browser per session: Chrome (s1, s5) [2, 1, 1],
/// Mobile Safari (s2) [1, 1, 0], Firefox (s3) [1, 0, 0].
///
/// LCP, last value per page view: s1 `/` 1200 (good), s1 `/products` 3000 (an earlier 2000 is
/// replaced), s2 `/` 5000 (poor), s3 `/` 2000 → p75 (nearest rank 3 of 4) = 3000; shares
/// good 0.5, needs improvement 0.25, poor 0.25. Desktop only: 1200, 3000, 2000 → 3000.
#[tokio::test]
async fn rum_web_api_answers_over_scripted_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let t0 = now_ns() - 1_800_000_000_000;
    let at = |s: u64| t0 + s * 1_000_000_000;
    let s = |id: &str| ("session.id", json!(id));
    let lcp = |t: u64, session: &str, pv: &str, value: f64| {
        event(
            t,
            "browser.web_vital",
            &[
                s(session),
                ("page_view.id", json!(pv)),
                ("browser.web_vital.name", json!("LCP")),
                ("browser.web_vital.value", json!(value)),
            ],
        )
    };
    let error = |t: u64, session: &str, order: u32| {
        event(
            t,
            "browser.error",
            &[
                s(session),
                ("url.full", json!(format!("{SHOP}/cart"))),
                (
                    "exception.stacktrace",
                    json!(format!(
                        "TypeError: order {order} has no total\n    at total ({SHOP}/assets/app.js:1:200)"
                    )),
                ),
            ],
        )
    };
    let ada = || ("user.id", json!("ada"));
    let cy = || ("user.id", json!("cy"));
    let s1 = vec![
        page_view(at(0), "s1", "s1-1", "/", &[]),
        event(at(1), "browser.identify", &[s("s1"), ada()]),
        lcp(at(2), "s1", "s1-1", 1200.0),
        event(
            at(5),
            "browser.click",
            &[s("s1"), ("page_view.id", json!("s1-1")), ada()],
        ),
        page_view(at(10), "s1", "s1-2", "/products/12", &[ada()]),
        lcp(at(11), "s1", "s1-2", 2000.0),
        lcp(at(15), "s1", "s1-2", 3000.0),
        page_view(at(20), "s1", "s1-3", "/cart", &[ada()]),
        event(
            at(25),
            "checkout.started",
            &[s("s1"), ada(), ("cart.items", json!(3))],
        ),
        page_view(at(30), "s1", "s1-4", "/checkout", &[ada()]),
        event(at(40), "order.placed", &[s("s1"), ada()]),
        {
            let mut segment = event(
                at(41),
                "browser.replay_segment",
                &[s("s1"), ("replay.segment.sequence", json!(0))],
            );
            segment["body"] = json!({"stringValue": REPLAY_BODY});
            segment
        },
    ];
    let s2 = vec![
        page_view(at(0), "s2", "s2-1", "/", &[]),
        lcp(at(1), "s2", "s2-1", 5000.0),
        page_view(at(10), "s2", "s2-2", "/products/7", &[]),
        page_view(at(20), "s2", "s2-3", "/cart", &[]),
        error(at(22), "s2", 17),
    ];
    let s3 = vec![
        page_view(at(0), "s3", "s3-1", "/", &[("user.id", json!("bob"))]),
        lcp(at(1), "s3", "s3-1", 2000.0),
    ];
    let s4 = vec![
        page_view(at(200), "s4", "s4-1", "/cart", &[ada()]),
        page_view(at(210), "s4", "s4-2", "/checkout", &[ada()]),
        event(at(220), "order.placed", &[s("s4"), ada()]),
    ];
    let s5 = vec![
        page_view(at(0), "s5", "s5-1", "/", &[]),
        event(at(5), "browser.identify", &[s("s5"), cy()]),
        error(at(8), "s5", 99),
    ];
    let s6 = vec![
        page_view(at(100), "s6", "s6-1", "/cart", &[cy()]),
        event(at(110), "order.placed", &[s("s6"), cy()]),
    ];
    let mut chrome = s1;
    chrome.extend(s4);
    chrome.extend(s6);
    let mut chrome_new = s5;
    chrome_new.push(event(at(9), "browser.click", &[s("s5")]));
    let batches = [
        ("1.0.0", CHROME, chrome),
        ("1.1.0", CHROME, chrome_new),
        ("1.0.0", IPHONE, s2),
        ("1.0.0", FIREFOX, s3),
    ];
    for (version, agent, records) in batches {
        let body = logs(browser_resource(version, agent), records);
        post_api(&server, "/v1/logs", &body).await;
    }
    // A fetch of s1's product page, whose trace continues in the backend.
    let fetch = json!({"resourceSpans": [{"resource": browser_resource("1.0.0", CHROME), "scopeSpans": [{"spans": [{
        "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331", "name": "HTTP GET", "kind": 3,
        "startTimeUnixNano": at(12).to_string(), "endTimeUnixNano": (at(12) + 80_000_000).to_string(),
        "attributes": kvs(&[s("s1"), ("page_view.id", json!("s1-2")), ("http.request.method", json!("GET")), ("url.full", json!("https://api.shop.example.com/products/12")), ("http.response.status_code", json!(200))]),
    }]}]}]});
    post_api(&server, "/v1/traces", &fetch).await;

    let sessions = server.get_json("/api/v1/web/sessions").await;
    assert_eq!(sessions["total"], 6, "{sessions}");
    let by_id = |id: &str| {
        sessions["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["session_id"] == id)
            .cloned()
            .unwrap()
    };
    let one = by_id("s1");
    assert_eq!(one["page_views"], 4);
    assert_eq!(one["user_id"], "ada");
    assert_eq!(one["entry_page"], "/");
    assert_eq!(one["exit_page"], "/checkout");
    assert_eq!(one["requests"], 1);
    assert_eq!(one["duration_ms"], 41_000);
    assert_eq!(one["bounce"], false);
    assert_eq!(one["has_replay"], true);
    assert_eq!(by_id("s3")["bounce"], true);
    assert_eq!(by_id("s2")["errors"], 1);
    assert_eq!(by_id("s2")["device"], "mobile");
    assert_eq!(by_id("s2")["browser"], "Mobile Safari");
    let errored = server
        .get_json("/api/v1/web/sessions?has_errors=true")
        .await;
    assert_eq!(errored["total"], 2);
    let adas = server.get_json("/api/v1/web/sessions?user=ada").await;
    assert_eq!(adas["total"], 2);

    let detail = server.get_json("/api/v1/web/sessions/s1").await;
    let views = detail["page_views"].as_array().unwrap();
    assert_eq!(views.len(), 4);
    assert_eq!(views[1]["route"], "/products/:id");
    assert_eq!(views[1]["vitals"]["LCP"]["value"], 3000.0);
    assert_eq!(views[1]["requests"].as_array().unwrap().len(), 1);
    assert_eq!(
        views[1]["requests"][0]["trace_id"],
        "0af7651916cd43dd8448eb211c80319c"
    );
    assert_eq!(views[0]["clicks"], 1);
    assert_eq!(
        detail["trace_ids"],
        json!(["0af7651916cd43dd8448eb211c80319c"])
    );
    let custom = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "checkout.started")
        .unwrap()
        .clone();
    assert_eq!(custom["details"], json!({"cart.items": 3}));
    let missing = reqwest::get(server.api_url("/api/v1/web/sessions/nope"))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // The segment's body went to the replay store; the record keeps its key.
    let replay = server.get_json("/api/v1/web/sessions/s1/replay").await;
    assert_eq!(replay["segments"].as_array().unwrap().len(), 1);
    assert_eq!(replay["segments"][0]["data"], REPLAY_BODY);
    assert_eq!(replay["expired_segments"], 0);
    let stored = server
        .sql("SELECT body, attr(attributes, 'replay.blob.bytes') FROM logs WHERE event_name = 'browser.replay_segment'")
        .await;
    assert_eq!(
        stored["rows"][0],
        json!(["", REPLAY_BODY.len().to_string()])
    );
    let status = server.get_json("/api/v1/status").await;
    assert_eq!(status["status"]["rum"]["replay"]["segments_stored"], 1);

    let errors = server.get_json("/api/v1/web/errors").await;
    assert_eq!(errors["total"], 1, "{errors}");
    let group = &errors["groups"][0];
    assert_eq!(group["count"], 2);
    assert_eq!(group["sessions"], 2);
    assert_eq!(group["users"], 2);
    assert_eq!(group["type"], "TypeError");
    assert_eq!(group["releases"], json!(["1.0.0", "1.1.0"]));
    assert_eq!(group["routes"], json!(["/cart"]));

    let vitals = server.get_json("/api/v1/web/vitals").await;
    let lcp = &vitals["groups"][0]["vitals"][0];
    assert_eq!(lcp["name"], "LCP");
    assert_eq!(lcp["count"], 4);
    assert_eq!(lcp["p75"], 3000.0);
    assert_eq!(
        (
            lcp["good"].as_f64(),
            lcp["needs_improvement"].as_f64(),
            lcp["poor"].as_f64()
        ),
        (Some(0.5), Some(0.25), Some(0.25))
    );
    let by_device = server.get_json("/api/v1/web/vitals?group_by=device").await;
    let desktop = by_device["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "desktop")
        .unwrap()
        .clone();
    assert_eq!(desktop["vitals"][0]["p75"], 3000.0);
    assert_eq!(desktop["vitals"][0]["count"], 3);

    let steps = "steps=page:/,page:/cart,event:order.placed";
    let counts = |f: &Value| -> Vec<u64> {
        f["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["count"].as_u64().unwrap())
            .collect()
    };
    let per_session = server
        .get_json(&format!(
            "/api/v1/web/funnel?{steps}&breakdown=browser.name"
        ))
        .await;
    assert_eq!(counts(&per_session), [4, 2, 1], "{per_session}");
    assert_eq!(per_session["steps"][1]["dropped"], 2);
    let breakdown: Vec<(String, Vec<u64>)> = per_session["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["value"].as_str().unwrap().to_string(), counts(b)))
        .collect();
    assert!(
        breakdown.contains(&("Chrome".to_string(), vec![2, 1, 1])),
        "{breakdown:?}"
    );
    assert!(
        breakdown.contains(&("Mobile Safari".to_string(), vec![1, 1, 0])),
        "{breakdown:?}"
    );
    assert!(
        breakdown.contains(&("Firefox".to_string(), vec![1, 0, 0])),
        "{breakdown:?}"
    );
    let per_user = server
        .get_json(&format!("/api/v1/web/funnel?{steps}&by=user"))
        .await;
    assert_eq!(counts(&per_user), [4, 3, 2], "{per_user}");
    // Within 30 s of `/`: ada's order (40 s, 220 s) is too late, and so is cy's cart (100 s).
    let short = server
        .get_json(&format!("/api/v1/web/funnel?{steps}&by=user&window=30s"))
        .await;
    assert_eq!(counts(&short), [4, 2, 0], "{short}");
    let spec = server.get_json("/api/v1/openapi.json").await;
    for path in [
        "/api/v1/web/sessions",
        "/api/v1/web/sessions/{id}",
        "/api/v1/web/sessions/{id}/replay",
        "/api/v1/web/errors",
        "/api/v1/web/errors/{fingerprint}",
        "/api/v1/web/vitals",
        "/api/v1/web/funnel",
        "/api/v1/sourcemaps",
    ] {
        assert!(
            spec["paths"][path].is_object(),
            "{path} in the OpenAPI document"
        );
    }
    let bad = reqwest::get(server.api_url("/api/v1/web/funnel?steps=/"))
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

/// The browser rate limits hold on the API port too: beyond the burst, 429 with
/// `Retry-After`, readable by the page (CORS), counted.
#[tokio::test]
async fn rum_browser_rate_limits_apply_on_the_api_port() {
    let dir = tempfile::tempdir().unwrap();
    let browser = create_token(dir.path(), "browser", &["--origin", SHOP]);
    let read = create_token(dir.path(), "read", &[]);
    let server = Server::start(
        dir.path(),
        &[
            ("REDSCOPE_BROWSER_LIMITS__ADDRESS_REQUESTS_PER_SEC", "1"),
            ("REDSCOPE_BROWSER_LIMITS__ADDRESS_REQUESTS_BURST", "3"),
        ],
    );
    let client = reqwest::Client::new();
    let body = logs(
        browser_resource("1.0.0", CHROME),
        vec![page_view(now_ns(), "sess-r", "pv", "/", &[])],
    );
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..6 {
        let r = client
            .post(server.api_url(&format!("/v1/logs?token={browser}")))
            .header("origin", SHOP)
            .header("content-type", "text/plain")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
        }
    }
    assert_eq!(&statuses[..3], [200, 200, 200], "{statuses:?}");
    assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");
    let limited = limited.unwrap();
    assert!(limited.headers().contains_key("retry-after"));
    assert_eq!(limited.headers()["access-control-allow-origin"], SHOP);
    let status = status_with(&server, &read).await;
    assert_eq!(status["status"]["auth"]["rate_limited"]["address"], 3);
}

/// The SDK's files are public: any site loads them, with tokens on the server and from any
/// origin (a module import is a cross-origin request); everything else still needs a token.
#[tokio::test]
async fn rum_sdk_files_are_public_from_any_origin() {
    let dir = tempfile::tempdir().unwrap();
    create_token(dir.path(), "read", &[]);
    let ui = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(ui.path().join("sdk")).unwrap();
    std::fs::write(ui.path().join("index.html"), "<html>ui</html>").unwrap();
    std::fs::write(ui.path().join("sdk/redscope.js"), "/* sdk */").unwrap();
    let ui_dir = ui.path().to_string_lossy().to_string();
    let server = Server::start(dir.path(), &[("REDSCOPE_SERVER__UI_DIR", &ui_dir)]);
    let client = reqwest::Client::new();
    let r = client
        .get(server.api_url("/sdk/redscope.js"))
        .header("origin", EVIL)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert_eq!(r.text().await.unwrap(), "/* sdk */");
    let page = client.get(server.api_url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::UNAUTHORIZED);
    let api = client
        .get(server.api_url("/api/v1/web/sessions"))
        .header("origin", EVIL)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::FORBIDDEN);
}
