//! Structures stdin the way ingest does: one [`logai::LogAi::process`] call per line, in order,
//! no second pass. `cargo run --release -p logai --example single_pass [-- --canonical] < FILE`.
//!
//! Prints one JSON object per line (as `redscope logai parse` does). With `--canonical`, every
//! record's `template_id` is mapped through [`logai::LogAi::canonical_id`] once the whole input
//! was processed — what a reader resolving stored ids through the alias map would see.

use std::io::{BufRead, Write};

use logai::{Config, LogAi, LogInput};

fn main() -> std::io::Result<()> {
    let canonical = std::env::args().any(|a| a == "--canonical");
    let mut logai = LogAi::new(Config::default());
    let stdin = std::io::stdin();
    let mut records = Vec::new();
    for line in stdin.lock().lines() {
        let line = line?;
        records.push(logai.process("stdin", &LogInput::text(&line)));
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for mut record in records {
        if canonical {
            record.template_id = logai.canonical_id(&record.template_id);
        }
        serde_json::to_writer(&mut out, &logai::cli::to_json(&record))?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
