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
