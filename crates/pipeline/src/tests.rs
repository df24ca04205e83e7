use std::sync::Arc;

use model::{LogRow, MetricPointRow, Resource, SpanRow};

use super::*;

fn log(service: &str, severity: i32, body: &str, attributes: &str) -> LogRow {
    LogRow {
        resource: Arc::new(Resource {
            service_name: service.into(),
            ..Resource::default()
        }),
        severity_number: severity,
        body: body.into(),
        attributes: attributes.into(),
        ..LogRow::default()
    }
}

fn point(name: &str, attributes: &str) -> MetricPointRow {
    MetricPointRow {
        metric_name: name.into(),
        attributes: attributes.into(),
        ..MetricPointRow::default()
    }
}

const RULES: &str = r#"
[[rule]]
name = "no debug of cart"
signal = "logs"
action = "drop"
match = { service = "cart", severity_below = "INFO" }

[[rule]]
name = "health checks"
signal = "logs"
action = "drop"
match = { body_regex = "GET /healthz" }

[[rule]]
name = "secrets"
signal = "any"
action = "redact"
detectors = ["email", "token"]

[[rule]]
name = "no user agent"
signal = "any"
action = "remove_attributes"
keys = ["user_agent.original"]
"#;

#[test]
fn drops_by_service_and_level_and_body_and_counts_what_it_saved() {
    let p = Pipeline::from_text(RULES).unwrap();
    let mut rows = vec![
        log("cart", 5, "cache miss for item 1", "{}"),
        log("cart", 0, "no level at all", "{}"),
        log("cart", 9, "added item 2", "{}"),
        log("shop", 5, "debug of another service", "{}"),
        log("shop", 9, "GET /healthz 200", "{}"),
        log(
            "shop",
            9,
            "mail to bob@example.com sent",
            r#"{"user_agent.original":"Mozilla/5.0","k":1}"#,
        ),
    ];
    let current = p.current();
    current.rules.apply_logs(&mut rows);
    let bodies: Vec<&str> = rows.iter().map(|r| r.body.as_str()).collect();
    assert_eq!(
        bodies,
        vec![
            "no level at all",
            "added item 2",
            "debug of another service",
            "mail to [REDACTED:email] sent"
        ]
    );
    assert_eq!(rows[3].attributes, r#"{"k":1}"#);
    let stats: Vec<RuleStatsView> = current.rules.stats.iter().map(RuleStats::view).collect();
    assert_eq!((stats[0].matched, stats[0].dropped), (1, 1));
    assert_eq!((stats[1].matched, stats[1].dropped), (1, 1));
    assert!(stats[0].bytes_saved > 40);
    assert_eq!(stats[2].changed, 1);
    assert_eq!(stats[3].changed, 1);
}

#[test]
fn sampling_keeps_about_its_rate_marks_the_kept_and_keeps_a_trace_together() {
    let p = Pipeline::from_text(
        "[[rule]]\nname = \"tenth\"\nsignal = \"logs\"\naction = \"sample\"\nrate = 0.1\n",
    )
    .unwrap();
    let mut rows: Vec<LogRow> = (0..10_000)
        .map(|i| log("s", 9, &format!("line {i}"), "{}"))
        .collect();
    p.current().rules.apply_logs(&mut rows);
    assert!((800..1200).contains(&rows.len()), "kept {}", rows.len());
    assert!(
        rows.iter()
            .all(|r| r.attributes.contains(SAMPLE_RATE_ATTRIBUTE))
    );
    let mut same_trace: Vec<LogRow> = (0..50)
        .map(|i| {
            let mut r = log("s", 9, &format!("line {i}"), "{}");
            r.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736".into();
            r
        })
        .collect();
    p.current().rules.apply_logs(&mut same_trace);
    assert!(
        same_trace.is_empty() || same_trace.len() == 50,
        "a trace split: {}",
        same_trace.len()
    );
}

#[test]
fn metric_labels_past_their_limit_become_one_overflow_value() {
    let p = Pipeline::from_text(
        "[[rule]]\nname = \"users\"\nsignal = \"metrics\"\naction = \"limit_cardinality\"\nkeys = [\"user\"]\nmax_values = 2\nmatch = { name = \"logins\" }\n",
    )
    .unwrap();
    let mut rows: Vec<MetricPointRow> = ["a", "b", "c", "a", "d"]
        .iter()
        .map(|u| point("logins", &format!(r#"{{"user":"{u}","region":"eu"}}"#)))
        .collect();
    rows.push(point("other", r#"{"user":"z"}"#));
    p.current().rules.apply_metrics(&mut rows);
    let users: Vec<String> = rows
        .iter()
        .map(|r| {
            serde_json::from_str::<serde_json::Value>(&r.attributes).unwrap()["user"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        users,
        vec!["a", "b", OVERFLOW_VALUE, "a", OVERFLOW_VALUE, "z"]
    );
    assert!(rows[2].attributes.contains("\"region\":\"eu\""));
}

#[test]
fn spans_are_redacted_but_never_dropped() {
    let err =
        Pipeline::from_text("[[rule]]\nname = \"x\"\nsignal = \"spans\"\naction = \"drop\"\n")
            .unwrap_err();
    assert!(err.to_string().contains("spans feed RED"), "{err}");
    let p = Pipeline::from_text(RULES).unwrap();
    let mut spans = vec![SpanRow {
        name: "POST /login".into(),
        attributes: r#"{"enduser.email":"eve@example.org"}"#.into(),
        status_message: "token=abcd1234efgh rejected".into(),
        ..SpanRow::default()
    }];
    p.current().rules.apply_spans(&mut spans);
    assert!(
        !spans[0].attributes.contains("eve@"),
        "{}",
        spans[0].attributes
    );
    assert!(
        !spans[0].status_message.contains("abcd1234"),
        "{}",
        spans[0].status_message
    );
}

#[test]
fn problems_name_the_rule_and_field_and_all_are_reported() {
    let text = r#"
[[rule]]
name = "a"
signal = "logs"
action = "sample"
rate = 2.0

[[rule]]
name = "b"
signal = "metrics"
action = "drop"
match = { severity_below = "LOUD", body_regex = "(" }

[[rule]]
name = "a"
signal = "events"
action = "explode"
"#;
    let err = Pipeline::from_text(text).unwrap_err();
    let fields: Vec<(String, String)> = err
        .problems()
        .iter()
        .map(|p| (p.rule.clone().unwrap_or_default(), p.field.clone()))
        .collect();
    for want in [
        ("#1 a", "rate"),
        ("#2 b", "match.severity_below"),
        ("#2 b", "match.body_regex"),
        ("#3 a", "name"),
        ("#3 a", "signal"),
        ("#3 a", "action"),
    ] {
        assert!(
            fields.iter().any(|(r, f)| r == want.0 && f == want.1),
            "{want:?} in {fields:?}"
        );
    }
    assert!(
        Pipeline::from_text(
            "[[rule]]\nname = \"x\"\nsignal = \"logs\"\naction = \"drop\"\ncolour = 1\n"
        )
        .is_err()
    );
}

#[test]
fn a_changed_file_is_reloaded_a_broken_one_keeps_the_rules_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pipeline.toml");
    std::fs::write(&path, RULES).unwrap();
    let p = Pipeline::open(&path).unwrap();
    assert_eq!(p.current().version, 1);
    assert!(!p.reload_if_changed());
    std::fs::write(&path, "[[rule]]\nname = \"only\"\nsignal = \"logs\"\naction = \"drop\"\nmatch = { service = \"x\" }\n").unwrap();
    assert!(p.reload_if_changed());
    assert_eq!(p.current().version, 2);
    assert_eq!(p.current().rules.rules.len(), 1);
    std::fs::write(&path, "[[rule]]\nname = \"broken\"\n").unwrap();
    assert!(!p.reload_if_changed());
    assert_eq!(p.current().version, 2, "the rules in force stay");
    assert!(p.last_error().is_some());
    let v = p.save(RULES).unwrap();
    assert_eq!(v, 3);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), RULES);
    assert_eq!(
        p.history().iter().map(|h| h.version).collect::<Vec<_>>(),
        vec![2, 1]
    );
}

fn span(service: &str, name: &str, duration_ms: i64, attributes: &str) -> SpanRow {
    SpanRow {
        resource: Resource {
            service_name: service.into(),
            service_instance_id: Some("pod-1".into()),
            ..Resource::default()
        },
        name: name.into(),
        kind: "SERVER".into(),
        status_code: "UNSET".into(),
        duration_ns: duration_ms * 1_000_000,
        attributes: attributes.into(),
        ..SpanRow::default()
    }
}

fn attrs_of(p: &MetricPointRow) -> serde_json::Value {
    serde_json::from_str(&p.attributes).unwrap()
}

const METRIC_RULES: &str = r#"
[[rule]]
name = "payment errors"
signal = "logs"
action = "metric"
metric = "payment.errors"
group_by = ["severity", "region"]
match = { service = "payment", severity_below = "FATAL" }

[[rule]]
name = "then drop what was counted"
signal = "logs"
action = "drop"
match = { service = "payment" }

[[rule]]
name = "checkout latency"
signal = "spans"
action = "metric"
metric = "checkout.latency"
value = "duration"
group_by = ["span.name", "http.route"]

[[rule]]
name = "response sizes"
signal = "spans"
action = "metric"
metric = "response.size"
value = "attribute:http.response.body.size"
unit = "By"
buckets = [100, 1000]
"#;

#[test]
fn a_metric_rule_counts_logs_before_a_later_rule_drops_them() {
    let p = Pipeline::from_text(METRIC_RULES).unwrap();
    let rules = &p.current().rules;
    assert!(rules.makes_metrics());
    let mut rows = vec![
        log("payment", 17, "card declined", r#"{"region":"eu"}"#),
        log("payment", 17, "card declined", r#"{"region":"eu"}"#),
        log("payment", 13, "slow bank", r#"{"region":"us"}"#),
        log("payment", 21, "out of memory", r#"{"region":"eu"}"#),
        log("cart", 17, "not payment", r#"{"region":"eu"}"#),
    ];
    rules.apply_logs(&mut rows);
    assert_eq!(
        rows.len(),
        1,
        "payment's records were dropped after counting"
    );
    let all = rules.metric_points(2_000, 1_000);
    // A new series is written with 0 just before its first point, so `increase` counts it.
    let (zeros, points): (Vec<MetricPointRow>, Vec<MetricPointRow>) =
        all.into_iter().partition(|p| p.value == Some(0.0));
    assert_eq!(zeros.len(), 2);
    assert!(zeros.iter().all(|z| z.time_unix_nano == 1_999));
    let counts: Vec<(String, String, f64)> = points
        .iter()
        .map(|p| {
            let a = attrs_of(p);
            (
                a["severity"].as_str().unwrap().to_string(),
                a["region"].as_str().unwrap().to_string(),
                p.value.unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        vec![
            ("ERROR".into(), "eu".into(), 2.0),
            ("WARN".into(), "us".into(), 1.0)
        ],
        "FATAL is not below FATAL, cart is another service"
    );
    for p in &points {
        assert_eq!(p.metric_name, "payment.errors");
        assert_eq!(p.metric_type, "sum");
        assert!(p.is_monotonic);
        assert_eq!(p.aggregation_temporality, 2, "cumulative");
        assert_eq!((p.start_time_unix_nano, p.time_unix_nano), (1_000, 2_000));
        assert_eq!(p.resource.service_name, "payment");
    }
    let stats = rules.stats[0].view();
    assert_eq!((stats.matched, stats.dropped), (3, 0));
    // Later: the same series, cumulative, without zero points again.
    let mut more = vec![log("payment", 17, "card declined", r#"{"region":"eu"}"#)];
    rules.apply_logs(&mut more);
    let next = rules.metric_points(4_000, 1_000);
    let values: Vec<f64> = next.iter().map(|p| p.value.unwrap()).collect();
    assert_eq!(values, vec![3.0, 1.0]);
    assert!(
        next.iter()
            .all(|p| p.start_time_unix_nano == 1_000 && p.time_unix_nano == 4_000)
    );
}

#[test]
fn a_metric_rule_makes_histograms_of_span_durations_and_numeric_attributes() {
    let p = Pipeline::from_text(METRIC_RULES).unwrap();
    let rules = &p.current().rules;
    let mut rows = vec![
        span(
            "checkout",
            "POST /pay",
            3,
            r#"{"http.route":"/pay","http.response.body.size":50}"#,
        ),
        span(
            "checkout",
            "POST /pay",
            300,
            r#"{"http.route":"/pay","http.response.body.size":"5000"}"#,
        ),
        span("checkout", "POST /pay", 20_000, r#"{"http.route":"/pay"}"#),
        span("checkout", "GET /cart", 10, "{}"),
    ];
    let before: Vec<String> = rows.iter().map(|r| r.attributes.clone()).collect();
    rules.apply_spans(&mut rows);
    assert_eq!(rows.len(), 4, "spans pass on");
    assert_eq!(
        rows.iter()
            .map(|r| r.attributes.clone())
            .collect::<Vec<_>>(),
        before
    );
    let points: Vec<MetricPointRow> = rules
        .metric_points(2_000, 1_000)
        .into_iter()
        .filter(|p| p.time_unix_nano == 2_000)
        .collect();
    let latency: Vec<&MetricPointRow> = points
        .iter()
        .filter(|p| p.metric_name == "checkout.latency")
        .collect();
    assert_eq!(latency.len(), 2, "one series per span name and route");
    let pay = latency
        .iter()
        .find(|p| attrs_of(p)["span.name"] == "POST /pay")
        .unwrap();
    assert_eq!(attrs_of(pay)["http.route"], "/pay");
    assert_eq!(pay.metric_type, "histogram");
    assert_eq!(pay.unit, "s");
    assert_eq!(pay.explicit_bounds, derive::DURATION_BOUNDS.to_vec());
    assert_eq!(pay.count, Some(3));
    assert!((pay.sum.unwrap() - 20.303).abs() < 1e-9);
    let mut expected = vec![0u64; derive::DURATION_BOUNDS.len() + 1];
    expected[0] = 1; // 3 ms <= 5 ms
    expected[7] = 1; // 300 ms in (250 ms, 500 ms], the bucket of bound 7
    expected[14] = 1; // 20 s above the last bound
    assert_eq!(pay.bucket_counts, expected);
    assert_eq!((pay.min, pay.max), (Some(0.003), Some(20.0)));
    assert_eq!(
        pay.resource.service_instance_id, None,
        "one series per service, not per instance"
    );
    let cart = latency
        .iter()
        .find(|p| attrs_of(p)["span.name"] == "GET /cart")
        .unwrap();
    assert!(
        attrs_of(cart).get("http.route").is_none(),
        "a missing label is left out"
    );
    let sizes: Vec<&MetricPointRow> = points
        .iter()
        .filter(|p| p.metric_name == "response.size")
        .collect();
    assert_eq!(sizes.len(), 1);
    assert_eq!(
        sizes[0].count,
        Some(2),
        "spans without the attribute are not measured"
    );
    assert_eq!(sizes[0].bucket_counts, vec![1, 0, 1]);
    assert_eq!(sizes[0].unit, "By");
}

#[test]
fn metric_rules_are_checked_with_errors_naming_the_field() {
    let bad = r#"
[[rule]]
name = "a"
signal = "metrics"
action = "metric"
metric = "x"

[[rule]]
name = "b"
signal = "logs"
action = "metric"
metric = "9lives"
value = "duration"

[[rule]]
name = "c"
signal = "spans"
action = "metric"
metric = "sizes"
value = "attribute:size"

[[rule]]
name = "d"
signal = "spans"
action = "metric"
metric = "redscope.mine"
value = "duration"
buckets = [1, 0.5]
"#;
    let problems = match Pipeline::from_text(bad) {
        Err(e) => e.problems().to_vec(),
        Ok(_) => panic!("accepted"),
    };
    let got: Vec<(String, String)> = problems
        .iter()
        .map(|p| (p.rule.clone().unwrap_or_default(), p.field.clone()))
        .collect();
    for want in [
        ("#1 a", "signal"),
        ("#2 b", "metric"),
        ("#2 b", "value"),
        ("#3 c", "buckets"),
        ("#4 d", "metric"),
        ("#4 d", "buckets"),
    ] {
        assert!(
            got.contains(&(want.0.to_string(), want.1.to_string())),
            "{want:?} in {got:?}"
        );
    }
}

#[test]
fn a_metric_rule_keeps_its_series_bounded() {
    let p = Pipeline::from_text(
        "[[rule]]\nname = \"per user\"\nsignal = \"logs\"\naction = \"metric\"\nmetric = \"logins\"\ngroup_by = [\"user\"]\n",
    )
    .unwrap();
    let rules = &p.current().rules;
    let n = derive::MAX_SERIES_PER_RULE + 50;
    let mut rows: Vec<LogRow> = (0..n)
        .map(|i| log("auth", 9, "login", &format!(r#"{{"user":"u{i}"}}"#)))
        .collect();
    rules.apply_logs(&mut rows);
    let points: Vec<MetricPointRow> = rules
        .metric_points(3, 1)
        .into_iter()
        .filter(|p| p.time_unix_nano == 3)
        .collect();
    assert_eq!(points.len(), derive::MAX_SERIES_PER_RULE + 1);
    let overflow: Vec<&MetricPointRow> = points
        .iter()
        .filter(|p| attrs_of(p)["user"] == OVERFLOW_VALUE)
        .collect();
    assert_eq!(overflow.len(), 1);
    assert_eq!(overflow[0].value, Some(50.0));
    let total: f64 = points.iter().map(|p| p.value.unwrap()).sum();
    assert_eq!(total, n as f64, "every record is counted somewhere");
}

#[test]
fn a_tail_rule_is_checked_and_decides_traces_counting_what_it_dropped() {
    let problems = |text: &str| -> Vec<String> {
        match Pipeline::from_text(text) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems().iter().map(|p| p.field.clone()).collect(),
        }
    };
    let tail = |signal: &str, extra: &str| {
        format!(
            "[[rule]]\nname = \"t\"\nsignal = \"{signal}\"\naction = \"tail_sample\"\n{extra}\n"
        )
    };
    assert_eq!(problems(&tail("logs", "rate = 0.1")), ["signal"]);
    assert_eq!(problems(&tail("spans", "rate = 1.0")), ["rate"]);
    assert_eq!(problems(&tail("spans", "")), ["rate"]);
    assert_eq!(
        problems(&tail("spans", "rate = 0.1\nslow_ms = -1")),
        ["slow_ms"]
    );
    let two = format!(
        "{}{}",
        tail("spans", "rate = 0.1"),
        tail("spans", "rate = 0.2").replace("\"t\"", "\"u\"")
    );
    assert_eq!(problems(&two), ["action"]);

    let p = Pipeline::from_text(&tail(
        "spans",
        "rate = 0\nslow_ms = 500\nmatch = { service = \"cart\" }",
    ))
    .unwrap();
    let rules = &p.current().rules;
    assert!(rules.tail_matches("cart", "GET /cart", "{}"));
    assert!(!rules.tail_matches("shop", "GET /", "{}"));
    let facts = |error: bool, longest_ms: i64| TraceFacts {
        spans: 4,
        bytes: 400,
        error,
        longest_ns: longest_ms * 1_000_000,
        matched: true,
    };
    let id = "4bf92f3577b34da6a3ce929d0e0e4736";
    assert_eq!(rules.decide_trace(id, &facts(true, 1)), Verdict::Error);
    assert_eq!(
        rules.decide_trace("0af7651916cd43dd8448eb211c80319c", &facts(false, 900)),
        Verdict::Slow
    );
    assert_eq!(
        rules.decide_trace("b7ad6b7169203331b7ad6b7169203331", &facts(false, 10)),
        Verdict::Dropped
    );
    let unmatched = TraceFacts {
        matched: false,
        ..facts(false, 10)
    };
    assert_eq!(rules.decide_trace("c0ffee", &unmatched), Verdict::Unmatched);
    let stats = rules.stats[0].view();
    assert_eq!(
        (stats.matched, stats.dropped, stats.bytes_saved),
        (12, 4, 400)
    );
    // At ingest the rule leaves spans alone.
    let mut spans = vec![span("cart", "GET /cart", 10, "{}")];
    rules.apply_spans(&mut spans);
    assert_eq!(spans.len(), 1);
    assert_eq!(rules.stats[0].view().matched, 12);
}
