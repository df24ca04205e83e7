//! Every question answered both ways over the same events: from the events (as at query
//! time) and from the parts the rollups stored, drained at arbitrary points with events
//! arriving late and out of order.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::answer::{self, SessionQuery};
use super::*;
use crate::event::Event;
use crate::vitals::GroupBy;

const T0: i64 = 1_800_000_000_000_000_000;
const SEC: i64 = 1_000_000_000;

fn ev(t: i64, name: &str, session: &str, attrs: Value) -> Event {
    let mut attrs: Map<String, Value> = attrs.as_object().cloned().unwrap_or_default();
    attrs.insert(SESSION_ID.into(), session.into());
    Event {
        time_ns: t,
        name: name.to_string(),
        session_id: session.to_string(),
        service: "shop-web".into(),
        release: Some(if t > T0 + 300 * SEC { "2.4.0" } else { "2.3.1" }.into()),
        attrs,
        ..Event::default()
    }
}

/// Sessions over several minutes: a person's on Chrome with a user, a bot's, an anonymous
/// mobile one; page views, vitals (one reported twice for its page view), clicks, errors, a
/// request span and custom events.
fn events() -> Vec<Event> {
    let mut out = Vec::new();
    let sessions = [
        ("s-ada", Some("ada"), "Chrome", "desktop", None),
        ("s-bot", None, "Googlebot", "desktop", Some("bot")),
        ("s-mob", None, "Safari", "mobile", None),
    ];
    for (n, (id, user, browser, device, synthetic)) in sessions.into_iter().enumerate() {
        for page in 0..6i64 {
            // One session's pages spread over many minutes.
            let t = T0 + (n as i64) * 7 * SEC + page * 83 * SEC;
            let path = ["/", "/products/12", "/cart", "/checkout"][page as usize % 4];
            let route = path.replace("12", ":id");
            let pv = format!("{id}-pv{page}");
            let mut common = json!({
                "browser.name": browser, "device.type": device,
                "url.path": path, "url.template": route, "page_view.id": pv,
            });
            if let Some(u) = user.filter(|_| page >= 2) {
                common["user.id"] = json!(u);
            }
            if let Some(s) = synthetic {
                common["user_agent.synthetic.type"] = json!(s);
            }
            let with = |extra: Value| {
                let mut a = common.clone();
                for (k, v) in extra.as_object().cloned().unwrap_or_default() {
                    a[k] = v;
                }
                a
            };
            out.push(ev(t, EVENT_PAGE_VIEW, id, with(json!({}))));
            for (i, (vital, value)) in [
                ("LCP", 1200.0 + 700.0 * page as f64),
                ("CLS", 0.02 * page as f64),
            ]
            .into_iter()
            .enumerate()
            {
                let a = with(
                    json!({"browser.web_vital.name": vital, "browser.web_vital.value": value}),
                );
                out.push(ev(t + (2 + i as i64) * SEC, EVENT_WEB_VITAL, id, a));
            }
            if page == 3 {
                // Reported again later (CLS grows): the later value counts.
                let a =
                    with(json!({"browser.web_vital.name": "CLS", "browser.web_vital.value": 0.4}));
                out.push(ev(t + 50 * SEC, EVENT_WEB_VITAL, id, a));
            }
            if page % 2 == 1 {
                out.push(ev(t + 4 * SEC, EVENT_CLICK, id, with(json!({}))));
                out.push(ev(t + 5 * SEC, "cart.add", id, with(json!({"sku": "A1"}))));
            }
            if page == 2 || page == 5 {
                let fp = if page == 2 { "fp-type" } else { "fp-range" };
                let a = with(
                    json!({"exception.type": "TypeError", "exception.message": format!("boom {page}"),
                    "exception.fingerprint": fp, "exception.stacktrace": "at a (app.js:1:2)"}),
                );
                out.push(ev(t + 6 * SEC, EVENT_ERROR, id, a));
            }
            let mut req = ev(
                t + SEC,
                crate::event::SPAN_REQUEST,
                id,
                with(json!({"url.full": "https://x/api"})),
            );
            req.duration_ns = Some(1_500_000_000);
            out.push(req);
        }
    }
    out
}

/// The stored parts of sessions, errors and vitals.
type Stored = (
    Vec<Row<SessionPart>>,
    Vec<Row<ErrorPart>>,
    Vec<Row<VitalPart>>,
);

/// The events through the rollups: observed in a scrambled order (late events after the
/// drain of their minute), drained now and then, the stored rows read back.
fn through_rollups(events: &[Event]) -> Stored {
    let mut order: Vec<&Event> = events.iter().collect();
    // Newest first within chunks of seven, chunks oldest first: late arrivals everywhere.
    order.sort_by_key(|e| e.time_ns);
    let mut scrambled = Vec::new();
    for chunk in order.chunks(7) {
        scrambled.extend(chunk.iter().rev());
    }
    scrambled.swap(1, 40);
    let mut m = Minutes::default();
    let mut rows = Vec::new();
    for (i, e) in scrambled.into_iter().enumerate() {
        m.observe(e);
        if i % 11 == 10 {
            rows.extend(m.drain());
        }
    }
    rows.extend(m.drain());
    let (mut s, mut er, mut v) = (Vec::new(), Vec::new(), Vec::new());
    for r in rows {
        let service = r.resource.service_name.as_str();
        match r.metric_name.as_str() {
            SESSION_METRIC => s.extend(parse(r.time_unix_nano, service, &r.attributes)),
            ERROR_METRIC => er.extend(parse(r.time_unix_nano, service, &r.attributes)),
            VITAL_METRIC => v.extend(parse(r.time_unix_nano, service, &r.attributes)),
            other => panic!("unexpected metric {other}"),
        }
    }
    (s, er, v)
}

/// The events of the whole minutes `[from, to)`, without synthetic sessions when asked (as
/// the query-time reader does).
fn window(events: &[Event], from: i64, to: i64, exclude_synthetic: bool) -> Vec<Event> {
    let synthetic: HashSet<&str> = events
        .iter()
        .filter(|e| e.str(SYNTHETIC).is_some())
        .map(|e| e.session_id.as_str())
        .collect();
    let mut out: Vec<Event> = events
        .iter()
        .filter(|e| e.time_ns >= from && e.time_ns < to)
        .filter(|e| !exclude_synthetic || !synthetic.contains(e.session_id.as_str()))
        .cloned()
        .collect();
    out.sort_by_key(|e| e.time_ns);
    out
}

fn windows() -> Vec<(i64, i64)> {
    let m = minute_of(T0);
    vec![
        (m, m + 60 * MINUTE_NS),
        (m + 2 * MINUTE_NS, m + 5 * MINUTE_NS),
        (m + 4 * MINUTE_NS, m + 6 * MINUTE_NS),
    ]
}

fn in_window<P>(rows: &[Row<P>], from: i64, to: i64) -> impl Iterator<Item = &Row<P>> {
    rows.iter()
        .filter(move |r| r.minute >= from && r.minute < to)
}

#[test]
fn sessions_from_rollups_equal_sessions_from_events() {
    let all = events();
    let (parts, _, _) = through_rollups(&all);
    for (from, to) in windows() {
        for exclude in [false, true] {
            let queries = [
                SessionQuery {
                    limit: 50,
                    exclude_synthetic: exclude,
                    ..Default::default()
                },
                SessionQuery {
                    limit: 1,
                    exclude_synthetic: exclude,
                    ..Default::default()
                },
                SessionQuery {
                    user: Some("ada".into()),
                    limit: 50,
                    exclude_synthetic: exclude,
                    ..Default::default()
                },
                SessionQuery {
                    errors_only: true,
                    min_duration_ms: Some(60_000),
                    limit: 50,
                    exclude_synthetic: exclude,
                    ..Default::default()
                },
            ];
            for q in queries {
                let mut raw = crate::sessions::summaries(&window(&all, from, to, exclude));
                raw.retain(|s| {
                    q.user
                        .as_ref()
                        .is_none_or(|u| s.user_id.as_ref() == Some(u))
                        && (!q.errors_only || s.errors > 0)
                        && q.min_duration_ms.is_none_or(|d| s.duration_ms >= d)
                });
                let total = raw.len();
                raw.truncate(q.limit);
                let got = answer::sessions(in_window(&parts, from, to), &q);
                assert_eq!(got, (total, raw), "window {from}..{to}, {q:?}");
            }
        }
    }
}

#[test]
fn error_groups_from_rollups_equal_groups_from_events() {
    let all = events();
    let (_, parts, _) = through_rollups(&all);
    for (from, to) in windows() {
        for exclude in [false, true] {
            let errors: Vec<Event> = window(&all, from, to, exclude)
                .into_iter()
                .filter(|e| e.name == EVENT_ERROR)
                .collect();
            let raw = crate::errors::groups(&errors);
            let got = answer::errors(in_window(&parts, from, to), exclude);
            assert_eq!(got, raw, "window {from}..{to}, exclude synthetic {exclude}");
        }
    }
    let (from, to) = windows()[0];
    assert!(!answer::errors(in_window(&parts, from, to), false).is_empty());
}

#[test]
fn vitals_from_rollups_equal_vitals_from_events() {
    let all = events();
    let (_, _, parts) = through_rollups(&all);
    let by = [
        GroupBy::None,
        GroupBy::Route,
        GroupBy::Release,
        GroupBy::Device,
        GroupBy::Browser,
    ];
    // A vital counts in the minute of its page view's last value: a window holding an earlier
    // value but not the last (minutes 2-5 here) counts neither, where the events counted the
    // earlier one. Windows that do not split a page view's values agree.
    let m = minute_of(T0);
    let whole = [
        (m, m + 60 * MINUTE_NS),
        (m, m + 4 * MINUTE_NS),
        (m + 4 * MINUTE_NS, m + 6 * MINUTE_NS),
    ];
    for (from, to) in whole {
        for exclude in [false, true] {
            for group_by in by {
                let vitals: Vec<Event> = window(&all, from, to, exclude)
                    .into_iter()
                    .filter(|e| e.name == EVENT_WEB_VITAL)
                    .collect();
                let raw = crate::vitals::aggregate(&vitals, group_by);
                let got = answer::vitals(in_window(&parts, from, to), group_by, exclude);
                let what = format!("window {from}..{to}, {group_by:?}, exclude {exclude}");
                // Few values: the p75 is exact too.
                assert_eq!(got, raw, "{what}");
            }
        }
    }
}

#[test]
fn parts_of_another_format_are_not_read() {
    let mut p = SessionPart::new("s", T0);
    p.v = FORMAT_VERSION + 1;
    let text = serde_json::to_string(&p).unwrap();
    assert!(parse::<SessionPart>(T0, "web", &text).is_none());
    assert!(parse::<SessionPart>(T0, "web", "not json").is_none());
    p.v = FORMAT_VERSION;
    let text = serde_json::to_string(&p).unwrap();
    assert_eq!(parse::<SessionPart>(T0, "web", &text).unwrap().part, p);
}

#[test]
fn distinct_users_are_exact_up_to_the_sample_size() {
    let mut m = Minutes::default();
    for i in 0..200 {
        let a = json!({"exception.fingerprint": "fp", "user.id": format!("u{}", i % 150)});
        m.observe(&ev(T0 + i * SEC, EVENT_ERROR, &format!("s{i}"), a));
    }
    let rows: Vec<Row<ErrorPart>> = m
        .drain()
        .into_iter()
        .filter(|r| r.metric_name == ERROR_METRIC)
        .filter_map(|r| parse(r.time_unix_nano, "shop-web", &r.attributes))
        .collect();
    let groups = answer::errors(rows.iter(), false);
    assert_eq!(
        (groups[0].count, groups[0].users, groups[0].sessions),
        (200, 150, 200)
    );
}

/// Beyond [`parts::EXACT_VALUES`] values the p75 comes from the histogram: within a bucket.
#[test]
fn many_vitals_get_the_p75_of_the_histogram() {
    let mut m = Minutes::default();
    let (mut events, mut stored) = (Vec::new(), Vec::new());
    for i in 0..1000i64 {
        let value = 300.0 + (i * 7919 % 1000) as f64 * 4.1;
        for (name, v) in [("LCP", value), ("CLS", value / 10_000.0)] {
            let a = json!({"browser.web_vital.name": name, "browser.web_vital.value": v});
            let e = ev(
                T0 + i * SEC / 10,
                EVENT_WEB_VITAL,
                &format!("s{}", i % 37),
                a,
            );
            m.observe(&e);
            events.push(e);
        }
        if i % 100 == 0 {
            stored.extend(m.drain());
        }
    }
    stored.extend(m.drain());
    let rows: Vec<Row<VitalPart>> = stored
        .into_iter()
        .filter_map(|r| parse(r.time_unix_nano, "shop-web", &r.attributes))
        .collect();
    let raw = crate::vitals::aggregate(&events, GroupBy::None);
    let got = answer::vitals(rows.iter(), GroupBy::None, false);
    assert_eq!(got[0].vitals.len(), 2);
    for (a, b) in got[0].vitals.iter().zip(&raw[0].vitals) {
        assert_eq!((a.count, a.good, a.poor), (b.count, b.good, b.poor));
        assert_ne!(a.p75, b.p75, "{}: from the histogram", a.name);
        assert!(
            (a.p75 - b.p75).abs() <= 0.15 * b.p75,
            "{}: {} vs {}",
            a.name,
            a.p75,
            b.p75
        );
    }
}
