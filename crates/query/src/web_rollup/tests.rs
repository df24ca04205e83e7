//! The web questions both ways over the same stored events: from the rollups (parts written
//! in several drains, some flushed to files and some still in memory, one arriving late) and
//! from the events.

use std::sync::Arc;

use model::{Batch, LogRow, Resource, SpanRow, TimeRange};
use serde_json::json;

use crate::web::{SessionSearch, WebFilter};
use crate::{QueryLimits, QueryService};

const SEC: i64 = 1_000_000_000;
const MINUTE: i64 = 60 * SEC;

/// The start of the previous hour: recent enough for retention to keep it.
fn last_hour() -> i64 {
    let now = model::now_unix_nano();
    (now.div_euclid(60 * MINUTE) - 1) * 60 * MINUTE
}

fn resource(version: &str) -> Arc<Resource> {
    Arc::new(Resource {
        service_name: "shop-web".into(),
        service_version: Some(version.into()),
        ..Resource::default()
    })
}

fn log(t: i64, name: &str, attrs: serde_json::Value, version: &str) -> LogRow {
    let mut attrs = attrs;
    attrs["event.name"] = json!(name);
    LogRow {
        time_unix_nano: t,
        observed_time_unix_nano: t,
        event_name: name.into(),
        resource: resource(version),
        attributes: attrs.to_string(),
        body_type: "empty".into(),
        ..LogRow::default()
    }
}

/// Three sessions over several minutes (one a bot's), with page views, vitals, clicks,
/// errors and a request span each.
fn events(t0: i64) -> (Vec<LogRow>, Vec<SpanRow>) {
    let (mut logs, mut spans) = (Vec::new(), Vec::new());
    let who = [
        ("s1", "Chrome", None),
        ("s2", "Firefox", None),
        ("s3", "Googlebot", Some("bot")),
    ];
    for (n, (session, browser, synthetic)) in who.into_iter().enumerate() {
        for page in 0..5i64 {
            let t = t0 + n as i64 * 5 * SEC + page * 97 * SEC;
            let version = if page < 3 { "1.0" } else { "1.1" };
            let path = ["/", "/products/7", "/cart"][page as usize % 3];
            let mut a = json!({"session.id": session, "page_view.id": format!("{session}-{page}"),
                "url.path": path, "url.template": path.replace('7', ":id"), "browser.name": browser,
                "device.type": "desktop", "user.id": format!("user-{n}")});
            if let Some(s) = synthetic {
                a["user_agent.synthetic.type"] = json!(s);
            }
            logs.push(log(t, "browser.page_view", a.clone(), version));
            let mut v = a.clone();
            v["browser.web_vital.name"] = json!("LCP");
            v["browser.web_vital.value"] = json!(1500.0 + 900.0 * page as f64 + n as f64);
            logs.push(log(t + SEC, "browser.web_vital", v, version));
            let mut c = a.clone();
            c["browser.web_vital.name"] = json!("CLS");
            c["browser.web_vital.value"] = json!(0.05 * page as f64);
            logs.push(log(t + SEC, "browser.web_vital", c, version));
            if page % 2 == 0 {
                logs.push(log(t + 2 * SEC, "browser.click", a.clone(), version));
            }
            if page >= 3 {
                let mut e = a.clone();
                e["exception.type"] = json!("TypeError");
                e["exception.message"] = json!(format!("x is undefined ({page})"));
                e["exception.fingerprint"] = json!(format!("fp{}", page % 2));
                logs.push(log(t + 3 * SEC, "browser.error", e, version));
            }
            spans.push(SpanRow {
                start_time_unix_nano: t + SEC / 2,
                end_time_unix_nano: t + 2 * SEC,
                duration_ns: 3 * SEC / 2,
                trace_id: format!("{:032x}", n * 10 + page as usize),
                span_id: format!("{:016x}", page),
                name: "GET /api/cart".into(),
                kind: "CLIENT".into(),
                resource: Resource {
                    service_name: "shop-web".into(),
                    service_version: Some(version.into()),
                    ..Resource::default()
                },
                url_full: Some("https://shop/api/cart".into()),
                session_id: Some(session.into()),
                attributes: json!({"url.full": "https://shop/api/cart", "session.id": session})
                    .to_string(),
                ..SpanRow::default()
            });
        }
    }
    // A page load as the OpenTelemetry document load instrumentation shows it.
    let mut load = spans[0].clone();
    load.name = "documentLoad".into();
    load.kind = "INTERNAL".into();
    load.span_id = "00000000000000dd".into();
    load.start_time_unix_nano = t0 + 30 * SEC;
    load.attributes =
        json!({"session.id": "s2", "url.full": "https://shop/cart", "url.path": "/cart"})
            .to_string();
    load.session_id = Some("s2".into());
    spans.push(load);
    (logs, spans)
}

/// Stores the events, and their rollups as the server's drains would: in three drains, the
/// first two flushed to files, the late events of an early minute in the last.
async fn stored(dir: &std::path::Path, t0: i64) -> QueryService {
    let store = Arc::new(storage::Store::open(storage::StoreConfig::new(dir)).unwrap());
    let (logs, spans) = events(t0);
    let mut minutes = rum::rollup::Minutes::default();
    let (early, late): (Vec<LogRow>, Vec<LogRow>) = logs
        .iter()
        .cloned()
        .partition(|l| l.time_unix_nano >= t0 + 2 * MINUTE || l.event_name != "browser.click");
    for (i, chunk) in early.chunks(early.len() / 2 + 1).enumerate() {
        for e in chunk.iter().filter_map(rum::rollup::events::from_log) {
            minutes.observe(&e);
        }
        if i == 0 {
            for e in spans.iter().filter_map(rum::rollup::events::from_span) {
                minutes.observe(&e);
            }
        }
        store.append(Batch::Metrics(minutes.drain())).await.unwrap();
        store.flush().await.unwrap();
    }
    for e in late.iter().filter_map(rum::rollup::events::from_log) {
        minutes.observe(&e);
    }
    store.append(Batch::Metrics(minutes.drain())).await.unwrap();
    store.append(Batch::Logs(logs)).await.unwrap();
    store.append(Batch::Spans(spans)).await.unwrap();
    QueryService::new(store, QueryLimits::default()).unwrap()
}

fn windows(t0: i64) -> Vec<TimeRange> {
    [(0, 60), (0, 3), (2, 5), (6, 7)]
        .into_iter()
        .map(|(a, b)| TimeRange {
            start_ns: t0 + a * MINUTE,
            end_ns: t0 + b * MINUTE,
        })
        .collect()
}

fn filters() -> Vec<WebFilter> {
    vec![
        WebFilter::default(),
        WebFilter {
            exclude_synthetic: true,
            ..WebFilter::default()
        },
        WebFilter {
            service: Some("shop-web".into()),
            ..WebFilter::default()
        },
        WebFilter {
            service: Some("other".into()),
            ..WebFilter::default()
        },
    ]
}

#[tokio::test]
async fn sessions_and_errors_from_rollups_equal_those_from_events() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = last_hour();
    let q = stored(dir.path(), t0).await;
    let mut seen = 0;
    for range in windows(t0) {
        for filter in filters() {
            for (user, errors_only, limit) in [
                (None, false, 50),
                (Some("user-1"), false, 50),
                (None, true, 1),
            ] {
                let search = SessionSearch {
                    filter: filter.clone(),
                    user: user.map(str::to_string),
                    errors_only,
                    min_duration_ms: None,
                    limit,
                };
                let got = q.web_sessions(range, &search).await.unwrap();
                let want = q.web_sessions_from_events(range, &search).await.unwrap();
                assert_eq!(got.total, want.total, "{range:?} {filter:?} {user:?}");
                assert_eq!(got.sessions, want.sessions, "{range:?} {filter:?} {user:?}");
                seen += got.total;
            }
            let got = q.web_errors(range, &filter, 10).await.unwrap();
            let want = q.web_errors_from_events(range, &filter, 10).await.unwrap();
            assert_eq!(
                (got.total, got.groups),
                (want.total, want.groups),
                "{range:?} {filter:?}"
            );
        }
    }
    assert!(seen > 0);
}

#[tokio::test]
async fn vitals_from_rollups_equal_those_from_events() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = last_hour();
    let q = stored(dir.path(), t0).await;
    use rum::vitals::GroupBy;
    for range in windows(t0) {
        for filter in filters() {
            for by in [
                GroupBy::None,
                GroupBy::Route,
                GroupBy::Release,
                GroupBy::Browser,
            ] {
                let got = q.web_vitals(range, &filter, by).await.unwrap().groups;
                let want = q
                    .web_vitals_from_events(range, &filter, by)
                    .await
                    .unwrap()
                    .groups;
                assert_eq!(got, want, "{range:?} {filter:?} {by:?}");
            }
        }
    }
}

/// Funnels per session read only the events of their steps (and document loads): the same
/// counts as from every event.
#[tokio::test]
async fn funnels_per_session_read_only_their_steps() {
    use rum::funnel::{FunnelQuery, Step, Unit};
    let dir = tempfile::tempdir().unwrap();
    let t0 = last_hour();
    let q = stored(dir.path(), t0).await;
    let steps = [
        vec![Step::Page("/".into()), Step::Page("/cart".into())],
        vec![
            Step::Page("/products/*".into()),
            Step::Event("browser.error".into()),
        ],
        vec![
            Step::Event("browser.click".into()),
            Step::Page("/cart".into()),
        ],
    ];
    for unit in [Unit::Session, Unit::User] {
        for steps in &steps {
            let fq = FunnelQuery {
                steps: steps.clone(),
                window_ns: 10 * MINUTE,
                unit,
                breakdown: Some("browser.name".into()),
            };
            for range in windows(t0) {
                for filter in filters() {
                    let got = q.web_funnel(range, &filter, &fq).await.unwrap();
                    let mut every = filter.clone();
                    let mut keys = crate::web::summary_keys();
                    keys.push("browser.name".into());
                    every.keys = Some(keys);
                    let events = q.web_events(range, &every).await.unwrap().events;
                    let want = rum::funnel::compute(&fq, &events);
                    assert_eq!(got.funnel, want, "{unit:?} {steps:?} {range:?} {filter:?}");
                }
            }
        }
    }
}
