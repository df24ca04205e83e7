//! Property tests: no input panics, every record gets an id, and learning is deterministic.

#![allow(clippy::unwrap_used)]

use logai::{Config, LogAi, LogInput, Multiline, Stream};
use proptest::prelude::*;

fn line_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,200}",
        // Header-like prefixes with arbitrary tails, to exercise the header scanner.
        ("(<[0-9]{1,3}>)?[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9:.,]{0,14} (INFO|WARN|E|\\[main\\]|-|\\|)? ?[a-zA-Z.:\\[\\]0-9 =\"{}]{0,80}"),
        "\\{[a-z\":, 0-9{}\\[\\]]{0,80}\\}",
        "[a-z]{1,6}=[a-z0-9\"]{0,8}( [a-z]{1,6}=[a-z0-9\" ]{0,8}){0,5}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_input_panics(lines in proptest::collection::vec(line_strategy(), 1..20), number in -5i32..30) {
        let mut logai = LogAi::new(Config { max_templates_per_resource: 8, ..Config::default() });
        let mut joiner = Multiline::new();
        for (index, line) in lines.iter().enumerate() {
            let input = LogInput {
                body: line,
                severity_number: (index % 3 == 0).then_some(number),
                severity_text: (index % 4 == 1).then_some(line.as_str()),
                stream: (index % 2 == 0).then_some(Stream::Stderr),
            };
            let record = logai.process("r", &input);
            prop_assert_eq!(record.template_id.len(), 16);
            let again = logai.parse("r", &input);
            prop_assert_eq!(again.template_id.len(), 16);
            let _ = joiner.push(line);
        }
        let _ = joiner.flush();
        let input = lines.join("\n");
        let mut out = Vec::new();
        logai::cli::parse(input.as_bytes(), &mut out).unwrap();
        let expected = if input.is_empty() { 0 } else { input.split('\n').count() - usize::from(input.ends_with('\n')) };
        prop_assert_eq!(String::from_utf8(out).unwrap().lines().count(), expected);
    }

    #[test]
    fn template_ids_are_deterministic(lines in proptest::collection::vec("[ -~]{0,80}", 1..30)) {
        let mut first = LogAi::new(Config::default());
        let mut second = LogAi::new(Config::default());
        for line in &lines {
            let a = first.process("r", &LogInput::text(line));
            let b = second.process("r", &LogInput::text(line));
            prop_assert_eq!(a, b);
        }
    }
}

#[test]
fn memory_is_bounded_with_many_distinct_templates() {
    let config = Config {
        max_templates_per_resource: 1000,
        ..Config::default()
    };
    let mut logai = LogAi::new(config);
    let words = [
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    ];
    for index in 0..100_000usize {
        let line = format!(
            "2026-11-23 10:00:00 INFO a.B: {} {} {} {} event",
            words[index % 10],
            words[(index / 10) % 10],
            words[(index / 100) % 10],
            words[(index / 1000) % 10].repeat(1 + index / 10_000)
        );
        logai.process("r", &LogInput::text(&line));
    }
    assert!(logai.patterns("r").len() <= 1000);
}
