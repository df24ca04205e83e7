//! The demo's browser side: synthetic sessions of the shop's visitors arrive with the backend
//! traffic, their requests joined to the backend traces; the bad deploy's release brings an
//! error group of its own, the timeout cascade a poor LCP on the checkout page; and a request
//! of the storefront (`/shop/`) continues its browser's trace into the backend.

use std::time::{Duration, Instant};

use crate::common::{Server, now_ns};

const MINUTE: u64 = 60_000_000_000;

/// The demo with 12 minutes of history, both browser-visible faults on for the last five; with
/// when it started (the faults began five minutes before, however long the history took).
async fn demo_with_browser_faults() -> (tempfile::TempDir, Server, u64) {
    let dir = tempfile::tempdir().unwrap();
    let started = now_ns();
    let args = [
        "--rate",
        "5",
        "--backfill",
        "12m",
        "--fault",
        "bad_deploy@5m",
        "--fault",
        "timeout_cascade@5m",
    ];
    let server = Server::start_demo(dir.path(), &args);
    // The history is in once live browser events (sent after the test began) arrive.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let r = server.get_json("/api/v1/web/sessions?from=now-1m").await;
        let live = r["sessions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["start_unix_nano"].as_u64().unwrap_or(0) > started);
        if live {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the demo's sessions never arrived"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    (dir, server, started)
}

fn lcp_poor(vitals: &serde_json::Value, route: &str) -> f64 {
    let group = vitals["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == route)
        .unwrap_or_else(|| panic!("no vitals of {route}: {vitals}"));
    let lcp = group["vitals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "LCP")
        .unwrap_or_else(|| panic!("no LCP of {route}: {group}"));
    lcp["poor"].as_f64().unwrap()
}

#[tokio::test]
async fn demo_sessions_show_the_release_error_and_the_slow_checkout_page() {
    let (_dir, server, started) = demo_with_browser_faults().await;
    let fault_began = started - 5 * MINUTE;

    let sessions = server.get_json("/api/v1/web/sessions?from=now-15m").await;
    assert!(
        sessions["total"].as_u64().unwrap() > 100,
        "{}",
        sessions["total"]
    );

    // The new release's error: only on 2.4.0, first seen once the deploy happened.
    let errors = server.get_json("/api/v1/web/errors?from=now-15m").await;
    let groups = errors["groups"].as_array().unwrap();
    let release_error = groups
        .iter()
        .find(|g| g["message"].as_str().unwrap().contains("reading 'amount'"))
        .unwrap_or_else(|| panic!("no error group of the release: {errors}"));
    assert_eq!(release_error["releases"], serde_json::json!(["2.4.0"]));
    let first_seen = release_error["first_seen_unix_nano"].as_u64().unwrap();
    assert!(
        first_seen >= fault_began - MINUTE / 2,
        "seen before the deploy"
    );
    assert!(groups.iter().any(|g| {
        g["releases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "2.3.1")
    }));

    // The checkout page's LCP: poor during the fault, not before it.
    let during = server
        .get_json(&format!(
            "/api/v1/web/vitals?from={}&group_by=route",
            fault_began + MINUTE
        ))
        .await;
    assert!(lcp_poor(&during, "/checkout") > 0.8, "{during}");
    assert!(lcp_poor(&during, "/products") < 0.1, "{during}");
    let before = server
        .get_json(&format!(
            "/api/v1/web/vitals?from={}&to={}&group_by=route",
            fault_began - 6 * MINUTE,
            fault_began - MINUTE
        ))
        .await;
    assert!(lcp_poor(&before, "/checkout") < 0.1, "{before}");

    // A session's request leads to its backend trace, which started in the browser.
    let id = sessions["sessions"][0]["session_id"].as_str().unwrap();
    let session = server
        .get_json(&format!("/api/v1/web/sessions/{id}?from=now-15m"))
        .await;
    let trace = session["page_views"][0]["requests"][0]["trace_id"]
        .as_str()
        .unwrap_or_else(|| panic!("a request with its trace: {session}"));
    let spans = server.get_json(&format!("/api/v1/traces/{trace}")).await;
    let spans = spans["spans"].as_array().unwrap();
    let browser = spans
        .iter()
        .find(|s| s["service_name"] == "shop-web")
        .unwrap_or_else(|| panic!("the browser's fetch span in {spans:?}"));
    let entry = spans
        .iter()
        .find(|s| s["service_name"] == "frontend" && s["parent_span_id"] == browser["span_id"])
        .unwrap_or_else(|| panic!("the frontend span under the fetch in {spans:?}"));
    assert_eq!(entry["kind"], "SERVER");
    assert!(spans.len() > 2, "and the backend behind it");
}

#[tokio::test]
async fn a_storefront_request_continues_the_pages_trace_into_the_backend() {
    let (_dir, server, _) = demo_with_browser_faults().await;
    let page = reqwest::get(server.api_url("/shop/checkout"))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"(window,document,"/sdk/redscope.js")"#),
        "the stub loads the SDK"
    );
    assert!(
        html.contains(r#"window.SHOP_RELEASE = "2.4.0""#),
        "the bad release is on"
    );

    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let fetch = "00f067aa0ba902b7";
    let r = reqwest::Client::new()
        .post(server.api_url("/shop/api/cart"))
        .header("traceparent", format!("00-{trace}-{fetch}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = reqwest::get(server.api_url(&format!("/api/v1/traces/{trace}")))
            .await
            .unwrap();
        let body: serde_json::Value = got.json().await.unwrap_or_default();
        let spans = body["spans"].as_array().cloned().unwrap_or_default();
        let entry = spans.iter().find(|s| s["parent_span_id"] == fetch);
        if let Some(entry) = entry {
            assert_eq!(entry["service_name"], "frontend");
            assert!(
                spans.iter().any(|s| s["service_name"] == "cart"),
                "{spans:?}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the storefront's spans never arrived"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
