//! The demo shop's storefront, served by redscope at `/shop/` in demo mode: a few pages a
//! visitor can click (products, a product, the cart, checkout) with the browser SDK on them,
//! and the shop's backend on the same origin (`/shop/api/...`). A request there continues the
//! page's trace (its `traceparent`) into the demo's backend spans, so its trace runs
//! browser → frontend → backend like the synthetic sessions' do, and the faults of the
//! workload's schedule apply to it too.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

use super::{DemoArgs, Schedule, Shop, now_ns};

const PAGE: &str = include_str!("shop/index.html");
const SCRIPT: &str = include_str!("shop/shop.js");
/// The name of the browser token the demo creates for its storefront (replaced at each start).
pub const TOKEN_NAME: &str = "demo-shop";
/// A backend answer is held back as long as its spans say it took, up to this.
const MAX_DELAY: Duration = Duration::from_secs(3);

/// What the storefront's backend does for a request.
#[derive(Debug, Clone, Copy)]
enum Call {
    Products,
    Product,
    AddToCart,
    Checkout,
}

struct Storefront {
    shop: Mutex<Shop>,
    client: reqwest::Client,
    /// Where the backend's spans go (the server's OTLP/HTTP receiver).
    target: String,
    /// The browser token the page sends with, when the server needs tokens.
    token: Option<String>,
}

/// The storefront's routes, its spans sent to `target`.
pub fn router(args: &DemoArgs, target: String, token: Option<String>) -> axum::Router {
    let start = now_ns();
    let schedule = Schedule::new(args, start);
    let state = Arc::new(Storefront {
        shop: Mutex::new(Shop::new(start ^ 0x5eed, schedule, start)),
        client: super::otlp_client(),
        target,
        token,
    });
    axum::Router::new()
        .route(
            "/shop",
            get(|| async { axum::response::Redirect::permanent("/shop/") }),
        )
        .route("/shop/", get(page))
        .route("/shop/products/{id}", get(page))
        .route("/shop/cart", get(page))
        .route("/shop/checkout", get(page))
        .route("/shop/shop.js", get(script))
        .route("/shop/api/products", get(|s, h| call(s, h, Call::Products)))
        .route(
            "/shop/api/products/{id}",
            get(|s, h| call(s, h, Call::Product)),
        )
        .route("/shop/api/cart", post(|s, h| call(s, h, Call::AddToCart)))
        .route(
            "/shop/api/checkout",
            post(|s, h| call(s, h, Call::Checkout)),
        )
        .with_state(state)
}

/// Every page is the same document; its script draws what the path asks for. The release and
/// the token are filled in, so the page sends what the workload's schedule says it runs.
async fn page(State(sf): State<Arc<Storefront>>) -> Response {
    let release = match sf.shop.lock() {
        Ok(mut shop) => {
            shop.active = shop.schedule.active(now_ns());
            shop.web_release()
        }
        Err(_) => super::browser::RELEASE,
    };
    let token = serde_json::to_string(sf.token.as_deref().unwrap_or("")).unwrap_or_default();
    let html = PAGE
        .replace("{{RELEASE}}", release)
        .replace("\"{{TOKEN}}\"", &token);
    let mut response = Html(html).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
        .into_response()
}

/// The trace and parent span of a W3C `traceparent` header.
fn traceparent(headers: &HeaderMap) -> Option<(Vec<u8>, Vec<u8>)> {
    let value = headers.get("traceparent")?.to_str().ok()?;
    let mut parts = value.split('-');
    let (version, trace, span) = (parts.next()?, parts.next()?, parts.next()?);
    if version != "00" || trace.len() != 32 || span.len() != 16 {
        return None;
    }
    let trace = unhex(trace)?;
    let span = unhex(span)?;
    if trace.iter().all(|b| *b == 0) || span.iter().all(|b| *b == 0) {
        return None;
    }
    Some((trace, span))
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

async fn call(State(sf): State<Arc<Storefront>>, headers: HeaderMap, what: Call) -> Response {
    let parent = traceparent(&headers);
    let served = match sf.shop.lock() {
        Ok(mut shop) => {
            let entry = shop.serve(what, parent, now_ns());
            Some((entry, shop.take_requests()))
        }
        Err(_) => None,
    };
    let Some((entry, (traces, logs))) = served else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let (client, target) = (sf.client.clone(), sf.target.clone());
    tokio::spawn(async move {
        use prost::Message;
        super::post(
            &client,
            format!("{target}/v1/traces"),
            traces.encode_to_vec(),
            2,
        )
        .await;
        super::post(
            &client,
            format!("{target}/v1/logs"),
            logs.encode_to_vec(),
            2,
        )
        .await;
    });
    let Some(entry) = entry else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    tokio::time::sleep(Duration::from_nanos(entry.dur).min(MAX_DELAY)).await;
    let status = u16::try_from(entry.status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::json!({ "status": entry.status, "ok": status.is_success() });
    (status, axum::Json(body)).into_response()
}

impl Shop {
    /// One backend request of the storefront arriving at `arrival`: its spans continue the
    /// browser's trace (`parent`: trace id and fetch span id) and start when it arrived.
    fn serve(
        &mut self,
        what: Call,
        parent: Option<(Vec<u8>, Vec<u8>)>,
        arrival: u64,
    ) -> Option<super::Entry> {
        let (trace, span) = match parent {
            Some((t, s)) => (t, Some(s)),
            None => (self.id(16), None),
        };
        self.trace_id = trace;
        self.remote_parent = span;
        self.active = self.schedule.active(arrival);
        // The browser knows its session; the backend sees none (the trace joins them).
        self.visitor = (String::new(), None);
        self.entry = None;
        match what {
            Call::Products => self.browse_products(arrival, false),
            Call::Product => self.browse_products(arrival, true),
            Call::AddToCart => self.add_to_cart(arrival),
            Call::Checkout => self.checkout(arrival),
        }
        self.remote_parent = None;
        // The journey's spans end at `arrival`; the request's begin there.
        let first = self
            .tick
            .spans
            .values()
            .flatten()
            .map(|s| s.start_time_unix_nano)
            .min()
            .unwrap_or(arrival);
        let shift = arrival.saturating_sub(first);
        for s in self.tick.spans.values_mut().flatten() {
            s.start_time_unix_nano += shift;
            s.end_time_unix_nano += shift;
            for e in &mut s.events {
                e.time_unix_nano += shift;
            }
        }
        for l in &mut self.tick.logs {
            l.time += shift;
        }
        let mut entry = self.entry.take()?;
        entry.start += shift;
        Some(entry)
    }
}

/// The browser token of the storefront when the server needs tokens (some exist, or it
/// listens beyond loopback): a new one named [`TOKEN_NAME`] for the API port's origins, the
/// previous one revoked. None when the server is open (the page sends without a token).
pub fn browser_token(config: &crate::config::Config) -> anyhow::Result<Option<String>> {
    let store = auth::TokenStore::open(&config.data_dir)?;
    if store.is_empty() && config.exposed_listeners().is_empty() {
        return Ok(None);
    }
    if store.list()?.iter().any(|t| t.name == TOKEN_NAME) {
        store.revoke(TOKEN_NAME)?;
    }
    let api = config.server.api;
    let port = api.port();
    let mut origins = vec![
        format!("http://localhost:{port}"),
        format!("http://127.0.0.1:{port}"),
    ];
    if !api.ip().is_unspecified() && !api.ip().is_loopback() {
        origins.push(format!("http://{api}"));
    }
    let spec = auth::TokenSpec {
        name: Some(TOKEN_NAME.to_string()),
        origins,
    };
    let token = store.create(auth::Scope::Browser, spec)?;
    Ok(Some(token.secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_continues_the_browsers_trace_from_when_it_arrived() {
        let mut shop = Shop::new(3, Schedule::default(), 0);
        let trace = vec![7u8; 16];
        let fetch = vec![9u8; 8];
        let arrival = 1_800_000_000_000_000_000;
        let entry = shop
            .serve(
                Call::Checkout,
                Some((trace.clone(), fetch.clone())),
                arrival,
            )
            .expect("an entry span");
        assert_eq!(entry.path, "/checkout");
        let (traces, _) = shop.take_requests();
        let spans: Vec<_> = traces
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
            .collect();
        assert!(spans.len() > 3, "frontend, checkout and its calls");
        assert!(spans.iter().all(|s| s.trace_id == trace));
        let roots: Vec<_> = spans.iter().filter(|s| s.parent_span_id == fetch).collect();
        assert_eq!(roots.len(), 1, "one entry span under the browser's fetch");
        assert_eq!(roots[0].start_time_unix_nano, entry.start);
        let first = spans.iter().map(|s| s.start_time_unix_nano).min().unwrap();
        assert_eq!(first, arrival);
    }

    #[test]
    fn traceparent_headers_are_read_or_refused() {
        let mut h = HeaderMap::new();
        let value = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        h.insert("traceparent", value.parse().unwrap());
        let (trace, span) = traceparent(&h).unwrap();
        assert_eq!(trace[0], 0x0a);
        assert_eq!(span[7], 0x31);
        for bad in [
            "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-zz-b7",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
        ] {
            h.insert("traceparent", bad.parse().unwrap());
            assert_eq!(traceparent(&h), None, "{bad}");
        }
    }
}
