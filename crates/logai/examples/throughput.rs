//! Lines per second of `LogAi::process` on a file, learning and learned:
//! `cargo run --release -p logai --example throughput -- FILE [FILE...]`
//! Each file is one resource; the files are processed once to learn, then again learned
//! (`ROUNDS` times, default 5; `ROUNDS=0` measures learning alone, e.g. under callgrind).
//! The learned rounds call `LogAi::process`, or `LogAi::process_into` with one reused record
//! when `INTO=1`.

use std::time::Instant;

use logai::{Config, LogAi, LogInput, Structured};

fn main() -> std::io::Result<()> {
    let mut corpus = Vec::new();
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path)?;
        corpus.push((path, text.lines().map(str::to_string).collect::<Vec<_>>()));
    }
    let lines: usize = corpus.iter().map(|(_, l)| l.len()).sum();
    // `MEMO=0`: without the memo of masked messages, to measure what it saves.
    let memo_off = std::env::var_os("MEMO").is_some_and(|v| v == "0");
    let mut logai = LogAi::new(Config {
        mask_memo_slots: if memo_off {
            0
        } else {
            Config::default().mask_memo_slots
        },
        ..Config::default()
    });
    let started = Instant::now();
    let mut checksum = 0usize;
    for (resource, records) in &corpus {
        for line in records {
            checksum += logai
                .process(resource, &LogInput::text(line))
                .template
                .len();
        }
    }
    let learning = started.elapsed().as_secs_f64();
    let into = std::env::var_os("INTO").is_some_and(|v| v == "1");
    let mut record = Structured::default();
    let rounds: u32 = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let started = Instant::now();
    for _ in 0..rounds {
        for (resource, records) in &corpus {
            for line in records {
                if into {
                    logai.process_into(resource, &LogInput::text(line), &mut record);
                    checksum += record.template.len();
                } else {
                    checksum += logai
                        .process(resource, &LogInput::text(line))
                        .template
                        .len();
                }
            }
        }
    }
    let learned = started.elapsed().as_secs_f64() / f64::from(rounds.max(1));
    println!("lines {lines}");
    println!("learning {:.0} lines/s", lines as f64 / learning);
    println!("learned  {:.0} lines/s", lines as f64 / learned);
    let (lookups, hits) = logai.mask_memo_stats();
    println!(
        "mask memo hits {hits} of {lookups} ({} by shape)",
        logai.mask_memo_shape_hits()
    );
    for (resource, _) in &corpus {
        let (lookups, hits) = logai.header_memo_stats(resource);
        println!("header memo hits {hits} of {lookups}: {resource}");
    }
    println!("checksum {checksum}");
    Ok(())
}
