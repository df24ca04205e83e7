//! The web questions answered from the browser rollups end to end: a session over many
//! minutes, a late event, a bot's session left out on request, a vital reported again for its
//! page view, every answer including what was just acknowledged, and the same answers after a
//! SIGKILL and restart (the rollups are as durable as the events).

use serde_json::{Value, json};

use super::{CHROME, GOOGLEBOT, browser_resource, event, logs, page_view, post_api};
use crate::common::{Server, now_ns};

const MIN: u64 = 60_000_000_000;

fn vital(t: u64, session: &str, pv: &str, name: &str, value: f64) -> Value {
    event(
        t,
        "browser.web_vital",
        &[
            ("session.id", json!(session)),
            ("page_view.id", json!(pv)),
            ("browser.web_vital.name", json!(name)),
            ("browser.web_vital.value", json!(value)),
        ],
    )
}

fn error(t: u64, session: &str) -> Value {
    event(
        t,
        "browser.error",
        &[
            ("session.id", json!(session)),
            ("url.full", json!("https://shop.example.com/cart")),
            ("exception.type", json!("TypeError")),
            ("exception.message", json!("x is undefined")),
            (
                "exception.stacktrace",
                json!("TypeError: x is undefined\n    at f (https://shop.example.com/app.js:1:2)"),
            ),
        ],
    )
}

async fn answers(server: &Server) -> [Value; 4] {
    [
        server.get_json("/api/v1/web/sessions").await,
        server
            .get_json("/api/v1/web/sessions?exclude_synthetic=true")
            .await,
        server.get_json("/api/v1/web/errors").await,
        server.get_json("/api/v1/web/vitals").await,
    ]
}

#[tokio::test]
async fn rum_web_answers_come_from_durable_rollups() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[]);
    let t0 = (now_ns() - 40 * MIN) / MIN * MIN;
    let person = vec![
        page_view(t0, "long", "pv1", "/", &[]),
        vital(t0 + 1_000_000_000, "long", "pv1", "LCP", 1800.0),
        vital(t0 + 2_000_000_000, "long", "pv1", "CLS", 0.05),
        page_view(
            t0 + 3 * MIN,
            "long",
            "pv2",
            "/cart",
            &[("user.id", json!("ada"))],
        ),
        error(t0 + 3 * MIN + 5_000_000_000, "long"),
        page_view(
            t0 + 7 * MIN,
            "long",
            "pv3",
            "/checkout",
            &[("user.id", json!("ada"))],
        ),
        vital(t0 + 7 * MIN + 1_000_000_000, "long", "pv3", "LCP", 4200.0),
    ];
    post_api(
        &server,
        "/v1/logs",
        &logs(browser_resource("1.0.0", CHROME), person),
    )
    .await;
    let bot = vec![
        page_view(t0 + MIN, "bot", "b1", "/", &[]),
        error(t0 + MIN + 1_000_000_000, "bot"),
    ];
    post_api(
        &server,
        "/v1/logs",
        &logs(browser_resource("1.0.0", GOOGLEBOT), bot),
    )
    .await;
    // Late: a click of the first minute, and the first page's CLS reported again (it grew).
    let late = vec![
        event(
            t0 + 30_000_000_000,
            "browser.click",
            &[
                ("session.id", json!("long")),
                ("page_view.id", json!("pv1")),
            ],
        ),
        vital(t0 + 50_000_000_000, "long", "pv1", "CLS", 0.3),
    ];
    post_api(
        &server,
        "/v1/logs",
        &logs(browser_resource("1.0.0", CHROME), late),
    )
    .await;

    let [all, people, errors, vitals] = answers(&server).await;
    assert_eq!(
        (all["total"].as_u64(), people["total"].as_u64()),
        (Some(2), Some(1)),
        "{all}"
    );
    let long = &people["sessions"][0];
    assert_eq!(long["session_id"], "long");
    assert_eq!(
        (
            long["page_views"].as_u64(),
            long["clicks"].as_u64(),
            long["errors"].as_u64()
        ),
        (Some(3), Some(1), Some(1))
    );
    assert_eq!(long["duration_ms"].as_i64(), Some(7 * 60_000 + 1_000));
    assert_eq!(
        (long["entry_page"].as_str(), long["exit_page"].as_str()),
        (Some("/"), Some("/checkout"))
    );
    assert_eq!(
        (long["user_id"].as_str(), long["bounce"].as_bool()),
        (Some("ada"), Some(false))
    );
    let group = &errors["groups"][0];
    assert_eq!(
        (group["count"].as_u64(), group["sessions"].as_u64()),
        (Some(2), Some(2)),
        "{errors}"
    );
    let cls = vitals["groups"][0]["vitals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "CLS")
        .unwrap();
    assert_eq!(
        (
            cls["count"].as_u64(),
            cls["p75"].as_f64(),
            cls["poor"].as_f64()
        ),
        (Some(1), Some(0.3), Some(1.0)),
        "{vitals}"
    );

    server.kill_and_restart();
    assert_eq!(
        answers(&server).await,
        [all, people, errors, vitals],
        "after SIGKILL"
    );

    let more = vec![page_view(t0 + 9 * MIN, "long", "pv4", "/thanks", &[])];
    post_api(
        &server,
        "/v1/logs",
        &logs(browser_resource("1.0.0", CHROME), more),
    )
    .await;
    let [_, people, ..] = answers(&server).await;
    assert_eq!(people["sessions"][0]["exit_page"], "/thanks", "{people}");
}
