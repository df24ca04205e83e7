//! One test per kind of failure seen on logs of software that Log AI was not developed on:
//! level tokens the header scanner did not know, explicit levels losing to inference, headers
//! that swallowed or dropped message words, values that were masked in part or as booleans.
//! Each line is its own resource, processed a few times as ingest would see it.

use logai::{Config, LogAi, LogInput, Severity, Structured};

fn structure(line: &str) -> Structured {
    let mut logai = LogAi::new(Config::default());
    let mut out = Structured::default();
    for _ in 0..3 {
        logai.process_into("service.name=probe", &LogInput::text(line), &mut out);
    }
    out
}

/// `(line, level, message)`: the line's own level, read explicitly, and the message after the
/// header.
fn check_explicit(cases: &[(&str, Severity, &str)]) {
    let mut wrong = Vec::new();
    for &(line, level, message) in cases {
        let out = structure(line);
        if out.severity != Some(level) || out.severity_inferred || out.message != message {
            wrong.push(format!(
                "{line}\n  got {:?} (inferred {}) message {:?}",
                out.severity, out.severity_inferred, out.message
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn level_words_after_a_bracketed_pid_and_other_header_words() {
    check_explicit(&[
        (
            "2026-12-01 20:25:01.123 UTC [2517] DEBUG:  registering background worker failed",
            Severity::Debug,
            "registering background worker failed",
        ),
        (
            "2026-12-01 20:25:01.123 UTC [2517] LOG:  database system is ready",
            Severity::Info,
            "database system is ready",
        ),
        (
            "2026-12-01 20:25:05.001 UTC [2601] app@shop ERROR:  relation \"x\" does not exist",
            Severity::Error,
            "relation \"x\" does not exist",
        ),
    ]);
}

#[test]
fn levels_in_angle_brackets_square_brackets_and_with_a_module() {
    check_explicit(&[
        (
            "2026.12.01 20:25:01.123456 [ 12345 ] {} <Information> Application: Starting 23.8",
            Severity::Info,
            "Starting 23.8",
        ),
        (
            "2026.12.01 20:25:01.123456 [ 12345 ] {ab-1} <Error> executeQuery: Code: 62 failed",
            Severity::Error,
            "Code: 62 failed",
        ),
        (
            "2026-12-01T20:25:01.123456Z 0 [Note] [MY-010311] [Server] Server hostname: 'db'",
            Severity::Info,
            "[MY-010311] [Server] Server hostname: 'db'",
        ),
        (
            "[Tue Dec 01 20:25:01.123456 2026] [core:error] [pid 1234:tid 5678] AH00126: bad URI",
            Severity::Error,
            "bad URI",
        ),
        (
            "[20:25:01 WRN] Slow request",
            Severity::Warn,
            "Slow request",
        ),
    ]);
}

#[test]
fn one_character_level_marks_between_time_and_message() {
    check_explicit(&[
        (
            "12345:M 01 Dec 2026 20:25:01.123 * Ready to accept connections",
            Severity::Info,
            "Ready to accept connections",
        ),
        (
            "12345:M 01 Dec 2026 20:25:01.123 # Memory overcommit must be enabled",
            Severity::Warn,
            "Memory overcommit must be enabled",
        ),
        (
            "12345:M 01 Dec 2026 20:25:01.123 . Client closed connection failed",
            Severity::Debug,
            "Client closed connection failed",
        ),
    ]);
}

#[test]
fn levels_after_the_logger_and_glued_to_it() {
    check_explicit(&[
        (
            "01-Dec-2026 20:25:01.123 general: notice: running",
            Severity::Info,
            "running",
        ),
        (
            "Dec 01 20:25:01 auth: Error: auth failed for user",
            Severity::Error,
            "auth failed for user",
        ),
        (
            "WARNING:root:disk almost full",
            Severity::Warn,
            "WARNING:root:disk almost full",
        ),
        (
            "2026-12-01T20:25:01Z DBG retry failed, trying again",
            Severity::Debug,
            "retry failed, trying again",
        ),
    ]);
}

/// A line's own level wins over what its words suggest, whatever the words.
#[test]
fn the_explicit_level_wins_over_inference() {
    check_explicit(&[
        (
            "20:25:01.123 [main] DEBUG com.example.Job -- job failed with exception, retrying",
            Severity::Debug,
            "job failed with exception, retrying",
        ),
        (
            "2026-12-01 10:00:00,000 INFO [pool-1] a.B: 3 errors fixed, Exception counters reset",
            Severity::Info,
            "3 errors fixed, Exception counters reset",
        ),
    ]);
}

#[test]
fn a_go_runtime_panic_is_an_error_even_among_other_formats() {
    let mut logai = LogAi::new(Config::default());
    let resource = "service.name=api";
    for i in 0..20 {
        let line = format!("time=2026-12-01T10:00:{i:02}Z level=INFO msg=\"served\" ms={i}");
        logai.process(resource, &LogInput::text(&line));
    }
    let mut input =
        LogInput::text("panic: runtime error: invalid memory address or nil pointer dereference");
    input.stream = logai::Stream::from_iostream("stdout");
    let out = logai.process(resource, &input);
    assert!(
        out.severity >= Some(Severity::Error),
        "{:?} inferred {}",
        out.severity,
        out.severity_inferred
    );
}

#[test]
fn a_message_starting_like_a_logger_is_not_swallowed() {
    let out = structure(
        "INFO  [main] 2026-12-01 20:25:01,123 CassandraDaemon.java:600 - Component State Change: ready",
    );
    assert_eq!(out.message, "Component State Change: ready");
    let out = structure("2026-12-01 20:25:01 [req-1234] 10.0.0.5 GET /api/orders 200");
    assert!(out.message.contains("10.0.0.5"), "{:?}", out.message);
}

#[test]
fn host_names_with_a_port_are_one_value() {
    let mut logai = LogAi::new(Config::default());
    let mut templates = Vec::new();
    for host in [
        "web.example.org:443",
        "db-primary.internal:5432",
        "localhost:8080",
    ] {
        let line = format!("2026-12-01 10:00:00 INFO connected to {host} now");
        let out = logai.process("service.name=proxy", &LogInput::text(&line));
        assert_eq!(out.params, [host], "{line}");
        templates.push(out.template);
    }
    assert!(
        templates.iter().all(|t| t == "connected to <*> now"),
        "{templates:?}"
    );
}

#[test]
fn ordinary_words_are_not_masked_as_booleans() {
    let out = structure("2026-12-01 10:00:00 INFO session opened for user root by admin");
    assert_eq!(out.template, "session opened for user root by admin");
    let out = structure("2026-12-01 10:00:00 INFO flag enabled=true");
    assert_eq!(out.template, "flag enabled=<*>");
}

#[test]
fn values_lose_the_punctuation_of_their_sentence() {
    let out = structure("2026-12-01 10:00:00 INFO rebalancing zone=APAC: started");
    let zone = out.attributes.iter().find(|(k, _)| k == "zone");
    assert_eq!(zone.map(|(_, v)| v.as_str()), Some(Some("APAC")));
    assert!(out.attributes.iter().all(|(k, _)| k != "log.logger"));
}

/// One resource, two header shapes: a bracketed tag on most lines, a bracketed level on the
/// rest. The learned header is their common prefix; the level past it is not cut off.
#[test]
fn a_level_past_the_learned_header_is_kept() {
    let mut logai = LogAi::new(Config::default());
    let mut last = None;
    for i in 0..40 {
        let line = if i % 3 == 0 {
            format!("2026-12-01T20:32:22.{i:03}Z [WARN] slow request {i}ms")
        } else {
            format!("2026-12-01T20:32:22.{i:03}Z [HTTP] GET /health 200 {i}ms")
        };
        let out = logai.process("service.name=web", &LogInput::text(&line));
        if i % 3 == 0 {
            last = Some((out.severity, out.severity_inferred));
        }
    }
    assert_eq!(last, Some((Some(Severity::Warn), false)));
}

#[test]
fn numbered_levels_and_report_headers() {
    check_explicit(&[
        (
            "[Tue Dec 01 20:29:49.835773 2026] [rewrite:trace3] [pid 1:tid 2] rewrite done",
            Severity::Trace,
            "[pid 1:tid 2] rewrite done",
        ),
        (
            "time=2026-12-01T10:00:00Z level=DEBUG-4 msg=\"reconcile start\"",
            Severity::Trace,
            "reconcile start",
        ),
        (
            "time=2026-12-01T10:00:00Z level=ERROR+4 msg=\"store corrupted\"",
            Severity::Fatal,
            "store corrupted",
        ),
    ]);
    let out = structure("=WARNING REPORT==== 1-Dec-2026::20:38:07.217220 ===");
    assert_eq!(
        (out.severity, out.severity_inferred),
        (Some(Severity::Warn), false)
    );
}

/// A `-` after the time is a level mark only where the resource writes marks there.
#[test]
fn a_dash_is_a_level_mark_only_where_marks_are_written() {
    let mut logai = LogAi::new(Config::default());
    let marks = ["*", "#", "*", "*"];
    for (i, mark) in marks.iter().enumerate() {
        let line = format!("19384:M 01 Dec 2026 20:27:38.87{i} {mark} background saving started");
        logai.process("service.name=kv", &LogInput::text(&line));
    }
    let line = "19384:M 01 Dec 2026 20:27:38.876 - Accepted 127.0.0.1:60186";
    let out = logai.process("service.name=kv", &LogInput::text(line));
    assert_eq!(
        (out.severity, out.message.as_str()),
        (Some(Severity::Debug), "Accepted 127.0.0.1:60186")
    );
    let out = structure("2026-12-01 10:00:00 - Accepted 127.0.0.1:60186");
    assert_eq!(out.severity, None);
}

/// Words the header scan ends with that vary while the word after them never does are the
/// message's first words (the event), learned per resource: `FAIL LOGIN:` stays in the message.
#[test]
fn ending_words_that_vary_before_a_constant_word_are_message() {
    let events = [
        "CONNECT:",
        "FTP command:",
        "FTP response:",
        "OK LOGIN:",
        "FAIL LOGIN:",
    ];
    let mut logai = LogAi::new(Config::default());
    let mut lines = Vec::new();
    for index in 0..60 {
        let event = events[index % events.len()];
        lines.push(format!(
            "Tue Dec  1 20:25:{:02} 2026 [pid {}] [ftp] {event} Client \"127.0.0.{}\"",
            index % 60,
            1000 + index,
            index % 7
        ));
    }
    for line in &lines {
        logai.learn("service.name=ftp", &LogInput::text(line));
    }
    let out = logai.parse("service.name=ftp", &LogInput::text(&lines[4]));
    assert_eq!(out.message, "FAIL LOGIN: Client \"127.0.0.4\"");
    assert_eq!(out.template, "FAIL LOGIN: Client \"<*>\"");

    // A real logger before varied messages stays a logger.
    let mut logai = LogAi::new(Config::default());
    let words = [
        "started", "stopped", "waiting", "loaded", "refused", "closed",
    ];
    let loggers = ["net", "db", "cache"];
    let mut lines = Vec::new();
    for index in 0..60 {
        lines.push(format!(
            "2026-12-01 20:25:01 [main] {}: {} item {index}",
            loggers[index % 3],
            words[index % words.len()]
        ));
    }
    for line in &lines {
        logai.learn("service.name=app", &LogInput::text(line));
    }
    let out = logai.parse("service.name=app", &LogInput::text(&lines[1]));
    assert_eq!(out.message, "stopped item 1");
}

/// npm-style level names (`http`, `silly`) are levels where the resource writes its levels,
/// learned from its other lines: at the line start after `info:` lines, in brackets after the
/// time after `[INFO]` lines; a lone `http:` line stays a message.
#[test]
fn logger_only_level_names_are_levels_where_the_resource_writes_levels() {
    let cases = [
        (
            "info: cart saved",
            "http: GET /health 200 1ms",
            "silly: health probe",
        ),
        (
            "2026-12-01T20:32:22.227Z [INFO] cart saved",
            "2026-12-01T20:32:22.229Z [HTTP] GET /health 200 1ms",
            "2026-12-01T20:32:22.228Z [SILLY] health probe",
        ),
    ];
    for (level_line, http_line, silly_line) in cases {
        let mut logai = LogAi::new(Config::default());
        for _ in 0..4 {
            logai.process("service.name=api", &LogInput::text(level_line));
        }
        let http = logai.process("service.name=api", &LogInput::text(http_line));
        assert_eq!(http.severity, Some(Severity::Info), "{http_line}");
        assert!(!http.severity_inferred);
        assert_eq!(http.message, "GET /health 200 1ms");
        let silly = logai.process("service.name=api", &LogInput::text(silly_line));
        assert_eq!(silly.severity, Some(Severity::Trace), "{silly_line}");
        assert_eq!(silly.message, "health probe");
    }
    let alone = structure("http: TLS handshake error from 10.0.0.1:5000: EOF");
    assert!(alone.message.starts_with("http: TLS"));
}

/// A remembered header shape whose time test read a long word past the shape's bytes (a word
/// of digits and letters right after the header) must not be applied to a shorter line of the
/// same start: that panicked on the shorter line (a slice past its end), which at ingest takes
/// the whole request down.
#[test]
fn a_remembered_header_never_reads_past_a_shorter_line() {
    let mut logai = LogAi::new(Config::default());
    let mut out = Structured::default();
    let lines = [
        "Jul  1 09:41:34 host-7 kernel[0]: eth0::Driver7Interface::postMessage link changed",
        "Jul  1 10:08:20 host-7 kernel[0]: eth0: mode changed to 1",
        "Jul  1 10:08:21 host-7 kernel[0]: eth0: up",
        "Jul  1 10:08:22 host-7 kernel[0]: é",
    ];
    for line in lines.iter().chain(lines.iter().rev()) {
        logai.process_into("service.name=probe", &LogInput::text(line), &mut out);
        assert!(!out.message.is_empty(), "{line}: {out:?}");
    }
}

/// A status line whose only word after its header is a level word (`... warning`, a protocol
/// trace answering `ERROR`) keeps that word as its message: a record that said something never
/// has an empty message or an empty template.
#[test]
fn a_level_word_that_is_the_whole_message_stays_the_message() {
    let mut logai = LogAi::new(Config::default());
    let mut out = Structured::default();
    let lines = [
        "3301 node-12 unix.hw state_change 1084680778 1 running",
        "3302 node-13 unix.hw state_change 1084680779 1 warning",
        "3303 node-14 unix.hw state_change 1084680780 1 configured out",
        "3304 node-15 unix.hw state_change 1084680781 1 warning",
    ];
    for _ in 0..3 {
        for line in lines {
            logai.process_into("service.name=probe", &LogInput::text(line), &mut out);
            assert!(!out.message.is_empty(), "{line}: {out:?}");
            assert!(!out.template.is_empty(), "{line}: {out:?}");
        }
    }
    assert!(out.message.ends_with("warning"), "{out:?}");
}

/// A module path right after the level and a bracketed context after it (with blanks inside,
/// as request contexts have) are the header: the message starts after them, so one message
/// logged by two modules is one template.
#[test]
fn a_module_path_and_its_bracketed_context_after_the_level_are_header() {
    let mut logai = LogAi::new(Config::default());
    let mut out = Structured::default();
    let mut templates = std::collections::BTreeSet::new();
    for i in 0..6 {
        let module = if i % 2 == 0 {
            "shop.api.server"
        } else {
            "shop.meta.server"
        };
        let line = format!(
            "2026-05-16 00:00:0{i}.008 2574{i} INFO {module} [req-{i}a3dc421-6604 u{i}9 - - -] 10.0.0.{i} \"GET /v2/items HTTP/1.1\" status: 200 len: 18{i}3"
        );
        logai.process_into("service.name=probe", &LogInput::text(&line), &mut out);
        assert!(
            out.message.starts_with("10.0.0."),
            "{line}: {:?}",
            out.message
        );
        templates.insert(out.template.clone());
    }
    assert_eq!(templates.len(), 1, "{templates:?}");
}

/// Runs `lines` through one resource, in order, and returns each line's message and template.
fn templates(lines: &[String]) -> Vec<(String, String)> {
    let mut logai = LogAi::new(Config::default());
    lines
        .iter()
        .map(|line| {
            let out = logai.process("service.name=probe", &LogInput::text(line));
            (out.message.to_string(), out.template.to_string())
        })
        .collect()
}

/// A date written in words inside the message (`at Fri Jul  1 07:57:30 2005`) is one value: its
/// weekday and month names do not give every day its own template.
#[test]
fn dates_in_the_message_are_one_value() {
    let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let lines: Vec<String> = (0..28)
        .map(|i| {
            let day = days[i % 7];
            let month = if i % 2 == 0 { "Jul" } else { "Aug" };
            format!(
                "2026-12-01T10:00:{:02}Z INFO accepted connection from 10.0.0.{i} at {day} {month} {:>2} 07:57:{:02} 2005",
                i,
                1 + i % 28,
                i
            )
        })
        .collect();
    let out = templates(&lines);
    let distinct: std::collections::BTreeSet<&str> = out.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        distinct.into_iter().collect::<Vec<_>>(),
        vec!["accepted connection from <*> at <*>"]
    );
    let rfc = templates(&["mail queued, expires Fri, 01 Jul 2005 07:57:30 +0000".to_string()]);
    assert_eq!(rfc[0].1, "mail queued, expires <*>");
}

/// Where a resource's header ends at a separator (`[time] program - ...`), a line with a level
/// word further on (`host:port error : ...`) keeps its level, and its message still starts
/// where the header ends, as on the resource's other lines; a program name with a blank in it
/// (`app.exe *64 - `) is the same header.
#[test]
fn a_level_behind_message_words_does_not_move_the_boundary() {
    let mut lines = Vec::new();
    for i in 0..40 {
        let program = if i % 5 == 0 { "app.exe *64" } else { "app.exe" };
        let line = if i % 4 == 3 {
            format!(
                "[10.30 16:49:{i:02}] {program} - host{i}.example.org:443 error : connection reset"
            )
        } else {
            format!("[10.30 16:49:{i:02}] {program} - host{i}.example.org:443 open through gateway")
        };
        lines.push(line);
    }
    let mut logai = LogAi::new(Config::default());
    let mut errors = Vec::new();
    for line in &lines {
        let out = logai.process("service.name=probe", &LogInput::text(line));
        if line.contains("error :") {
            errors.push((out.severity, out.severity_inferred, out.message.to_string()));
        } else {
            assert!(
                out.message.starts_with("host"),
                "{line}: message {:?}",
                out.message
            );
        }
    }
    for (index, (severity, inferred, message)) in errors.iter().enumerate().skip(1) {
        assert_eq!(*severity, Some(Severity::Error), "{index}");
        assert!(!inferred, "{index}");
        assert!(message.ends_with("error : connection reset"), "{message}");
        assert!(message.starts_with("host"), "{message}");
    }
}

/// A column of small integers that opens most messages after the header (a flag, a status
/// code) is the header's: without it, one-word messages (`running`, `normal`) would be two
/// tokens whose first is a number, and merge into one template.
#[test]
fn an_integer_column_that_opens_most_messages_is_the_header_s() {
    let words = ["running", "normal", "halted", "degraded", "booting"];
    let lines: Vec<String> = (0..60)
        .map(|i| {
            let flag = if i % 3 == 0 { "-1" } else { "1" };
            format!(
                "{} node-{} node status {} {flag} {}",
                100_000 + i * 7,
                i % 9,
                1_077_804_742 + i,
                words[i % words.len()]
            )
        })
        .collect();
    let out = templates(&lines);
    for (line, (message, template)) in lines.iter().zip(&out).skip(40) {
        let word = line.rsplit(' ').next().unwrap_or_default();
        assert_eq!(
            (message.as_str(), template.as_str()),
            (word, word),
            "{line}"
        );
    }
}

/// `SOCKS5` next to `HTTPS`: an upper-case name with one digit is a word (a protocol, an
/// algorithm), so a rare variant does not turn a common event's word into a variable.
#[test]
fn versioned_names_are_words_not_values() {
    let mut lines: Vec<String> = (0..40)
        .map(|i| format!("2026-12-01T10:00:{i:02}Z INFO tunnel {i} open through relay HTTPS"))
        .collect();
    lines.push("2026-12-01T10:00:59Z INFO tunnel 99 open through relay SOCKS5".to_string());
    let out = templates(&lines);
    assert_eq!(out[10].1, "tunnel <*> open through relay HTTPS");
    assert_eq!(out[40].1, "tunnel <*> open through relay SOCKS5");
}

/// Four states seen in one place (`VM Started`, `VM Paused`, ...) stay four events, while four
/// user names in one place become a variable: verb forms need more evidence than other words.
#[test]
fn states_stay_apart_where_names_merge() {
    let states = ["Started", "Paused", "Resumed", "Stopped"];
    let users = ["alice", "bob", "carol", "dave"];
    let mut lines = Vec::new();
    for round in 0..3 {
        for (i, (state, user)) in states.iter().zip(users).enumerate() {
            lines.push(format!(
                "2026-12-01 10:00:0{i}.{round}00 INFO [instance: {i}b7c1d2e-35a0-4c4e-9d8b-0c7f5e1a9a{round}{i}] VM {state} (Lifecycle Event)"
            ));
            lines.push(format!(
                "2026-12-01 10:00:0{i}.{round}50 INFO session opened for user {user} by uid={i}"
            ));
        }
    }
    let out = templates(&lines);
    let last: std::collections::BTreeSet<&str> = out[out.len() - 8..]
        .iter()
        .map(|(_, t)| t.as_str())
        .collect();
    assert!(
        last.contains("session opened for user <*> by uid=<*>"),
        "{last:?}"
    );
    for state in states {
        let template = format!("[instance: <*>] VM {state} (Lifecycle Event)");
        assert!(
            last.contains(template.as_str()),
            "{template} not in {last:?}"
        );
    }
}

/// Lines that differ only in their first word, a name without digits (`com.example.backup`,
/// `com.example.sync`), become one template once enough names were seen, as a word elsewhere
/// does; two-token lines that share no word (`onStepChanged 5`, `generating core.5`) do not.
#[test]
fn a_first_word_that_varies_becomes_a_variable() {
    let jobs = ["backup", "sync", "heartbeat", "cleanup", "rotate"];
    let mut lines = Vec::new();
    for round in 0..2 {
        for job in jobs {
            lines.push(format!(
                "com.example.{job} scheduler told me to run this job, ignoring for {round}0 seconds"
            ));
        }
    }
    lines.push("onStepChanged 5".to_string());
    lines.push("generating core.5".to_string());
    lines.push("calculateCalories total=5".to_string());
    lines.push("getTodayData records=5".to_string());
    lines.push("onAltitudeChanged 7".to_string());
    let out = templates(&lines);
    for (_, template) in &out[5..10] {
        assert_eq!(
            template,
            "com.example.<*> scheduler told me to run this job, ignoring for <*> seconds"
        );
    }
    assert_eq!(out[10].1, "onStepChanged <*>");
    assert_eq!(out[14].1, "onAltitudeChanged <*>");
}

/// A size written twice (`1190 bytes (1.16 KB)`, the second a conversion for people) is one
/// value, so it shares the template of a size written once (`0 bytes`); a bound below a unit
/// (`<1 sec`) is one value where a clock (`00:02`) stands on other lines.
#[test]
fn sizes_with_a_conversion_and_bounded_durations_are_one_value() {
    let sizes = [
        "0 bytes",
        "1190 bytes (1.16 KB)",
        "403 bytes",
        "10547 bytes (10.2 KB)",
    ];
    let lifetimes = ["00:01", "<1 sec", "00:17", "01:02:03"];
    let mut lines = Vec::new();
    for i in 0..24 {
        lines.push(format!(
            "[10.30 16:49:{i:02}] client.bin - host{}.example.org:443 close, {} sent, {} received, lifetime {}",
            i % 7,
            sizes[i % 4],
            sizes[(i / 4) % 4],
            lifetimes[(i / 2) % 4]
        ));
    }
    let out = templates(&lines);
    let distinct: std::collections::BTreeSet<&str> =
        out[8..].iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        distinct.into_iter().collect::<Vec<_>>(),
        vec!["<*> close, <*> bytes sent, <*> bytes received, lifetime <*>"]
    );
    // The conversion is part of the message, and the value parameter is the first number.
    let mut logai = LogAi::new(Config::default());
    let out = logai.process(
        "service.name=probe",
        &LogInput::text("copied 1190 bytes (1.16 KB) in 3 files"),
    );
    assert_eq!(out.template, "copied <*> bytes in <*> files");
    assert_eq!(out.message, "copied 1190 bytes (1.16 KB) in 3 files");
    assert_eq!(out.params, ["1190", "3"]);
}

/// A context in parentheses between a syslog tag and its colon (`agentd[129] ([4711]):`,
/// `initd[1] (job.backup.4711):`) is the header's: the message starts after it, so one event
/// reported for many processes is one template.
#[test]
fn a_context_between_the_tag_and_its_colon_is_header() {
    let mut lines = Vec::new();
    for i in 0..12 {
        lines.push(format!(
            "Dec  1 10:00:{i:02} web-3 agentd[129] ([47{i:02}]): worker{i}(47{i:02}) deny file-read /etc/x{i}"
        ));
        lines.push(format!(
            "Dec  1 10:00:{i:02} web-3 initd[1] (job.backup.47{i:02}): Service exited with code {i}"
        ));
        lines.push(format!(
            "Dec  1 10:00:{i:02} web-3 kernel[0]: worker{i}(47{i:02}) deny(1) file-read /etc/x{i}"
        ));
    }
    let out = templates(&lines);
    for (line, (message, _)) in lines.iter().zip(&out) {
        if line.contains("agentd") {
            assert!(message.starts_with("worker"), "{line}: {message:?}");
        } else if line.contains("initd") {
            assert!(message.starts_with("Service exited"), "{line}: {message:?}");
        }
    }
    assert_eq!(out[34].1, "Service exited with code <*>");
    // A parenthesis with blanks inside is the message's own.
    let own = templates(&["Dec  1 10:00:01 web-3 agentd[129] (retrying later): ok".to_string()]);
    assert_eq!(own[0].0, "(retrying later): ok");
}

/// What a resource's first lines show can differ from the rest (a run of one event whose
/// message opens with a padded word, read as a header field at first): the integer column
/// that opens every message is still taken into the header soon after the learned header
/// settles, since what was counted behind the first header is forgotten when it changes.
#[test]
fn the_integer_column_is_learned_again_after_the_header_changed() {
    let states = ["running", "normal", "halted", "degraded", "booting"];
    let mut lines = Vec::new();
    for i in 0..100 {
        let verb = ["boot", "wait", "halt"][i % 3];
        lines.push(format!(
            "{} node-{} action start {} 1 {verb}  (command {})",
            20_000 + i * 7,
            i % 9,
            1_077_804_742 + i,
            1900 + i
        ));
    }
    for i in 0..400 {
        lines.push(format!(
            "{} node-{} node status {} 1 {}",
            30_000 + i * 7,
            i % 9,
            1_077_805_742 + i,
            states[i % states.len()]
        ));
    }
    let out = templates(&lines);
    for (line, (message, _)) in lines.iter().zip(&out).skip(300) {
        let word = line.rsplit(' ').next().unwrap_or_default();
        assert_eq!(message, word, "{line}");
    }
}

/// In a quoted request line the target and the protocol are one value (`"GET <*>"`): what the
/// request asked for varies, its method tells events apart.
#[test]
fn a_quoted_request_line_is_its_method_and_one_value() {
    let out = templates(&[
        "10.0.0.1 \"GET /v2/items/42/detail HTTP/1.1\" status: 200 len: 1893 time: 0.24"
            .to_string(),
        "10.0.0.2 \"POST /v2/items HTTP/1.0\", status: 201".to_string(),
    ]);
    assert_eq!(out[0].1, "<*> \"GET <*>\" status: <*> len: <*> time: <*>");
    assert_eq!(out[1].1, "<*> \"POST <*>\", status: <*>");
}
