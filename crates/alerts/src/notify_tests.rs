#![allow(clippy::unwrap_used)]
use super::*;

fn alert(resolved: bool) -> Outgoing {
    Outgoing {
        fingerprint: "abc".into(),
        labels: [
            ("alertname".to_string(), "RedErrorRatio".to_string()),
            ("service".to_string(), "payment".to_string()),
            ("severity".to_string(), "critical".to_string()),
        ]
        .into(),
        annotations: [(
            "summary".to_string(),
            "payment: 48% of requests fail".to_string(),
        )]
        .into(),
        starts_at_ms: 1_767_225_600_000,
        ends_at_ms: Some(1_767_225_900_000),
        resolved,
        generator_url: "http://x/alerts".into(),
    }
}

#[test]
fn payloads_have_the_shapes_receivers_expect() {
    let am = alertmanager_body(&[alert(false)]);
    assert_eq!(am[0]["labels"]["alertname"], "RedErrorRatio");
    assert_eq!(am[0]["startsAt"], "2026-01-01T00:00:00.000Z");
    assert_eq!(am[0]["endsAt"], "2026-01-01T00:05:00.000Z");
    let slack = slack_body(&[alert(false), alert(true)]);
    let text = slack["text"].as_str().unwrap();
    assert!(
        text.starts_with("[FIRING] RedErrorRatio (critical) service=payment: payment: 48%"),
        "{text}"
    );
    assert!(text.contains("\n[RESOLVED] RedErrorRatio"), "{text}");
    let hook = webhook_body(&[alert(true)], "http://redscope");
    assert_eq!(hook["version"], "4");
    assert_eq!(hook["status"], "resolved");
    assert_eq!(hook["commonLabels"]["service"], "payment");
    assert_eq!(hook["alerts"][0]["status"], "resolved");
    assert_eq!(hook["alerts"][0]["fingerprint"], "abc");
    assert_eq!(hook["externalURL"], "http://redscope");
}

/// A receiver that fails twice, then answers: the batch is retried and counted once sent.
#[tokio::test]
async fn deliveries_are_retried_with_backoff() {
    use std::sync::atomic::AtomicUsize;
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let app = axum::Router::new().route(
        "/api/v2/alerts",
        axum::routing::post(move || {
            let n = seen.fetch_add(1, Relaxed);
            async move {
                if n < 2 {
                    axum::http::StatusCode::SERVICE_UNAVAILABLE
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let options = NotifyOptions {
        alertmanagers: vec![format!("http://{addr}")],
        slack_webhooks: vec!["http://127.0.0.1:1/unreachable".into()],
        backoff: Duration::from_millis(20),
        retries: 3,
        timeout: Duration::from_secs(2),
        ..NotifyOptions::default()
    };
    let n = Notifier::start(&options);
    n.send(&[alert(false)], &[alert(false)]);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let s = n.snapshot();
        let am = &s["targets"][0];
        let slack = &s["targets"][1];
        if am["sent"] == 1 && slack["failed"] == 1 {
            assert_eq!(am["retries"], 2);
            assert_eq!(slack["retries"], 3);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(calls.load(Relaxed), 3);
}
