//! Every decoder Log AI runs on outside input: `cargo +nightly fuzz run process` from
//! `crates/logai/fuzz`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logai::{Config, LogAi, LogInput, Multiline};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut logai = LogAi::new(Config { max_templates_per_resource: 16, ..Config::default() });
    let mut joiner = Multiline::new();
    for line in text.split('\n') {
        let _ = logai.process("fuzz", &LogInput::text(line));
        let _ = joiner.push(line);
    }
    let _ = logai.process("fuzz", &LogInput::text(&text));
    let _ = joiner.flush();
    let mut out = Vec::new();
    let _ = logai::cli::parse(data, &mut out);
});
