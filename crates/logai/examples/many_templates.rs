//! Memory with many distinct templates: `cargo run --release -p logai --example many_templates
//! -- [TEMPLATES]` (default 400,000) feeds one resource lines that each make a new template
//! (no two share their words) with `Config::default()`, and prints, after every 50,000, the
//! templates kept and the process's peak resident memory (Linux `VmHWM`).

use logai::{Config, LogAi, LogInput, Structured};

/// A word no other index gives: the index in base 26, as letters.
fn word(mut index: usize) -> String {
    let mut out = String::new();
    loop {
        out.push(char::from(b'a' + (index % 26) as u8));
        index /= 26;
        if index == 0 {
            return out;
        }
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let total: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(400_000);
    let mut logai = LogAi::new(Config::default());
    let mut record = Structured::default();
    println!("lines  templates  peak_rss_kib");
    for index in 0..total {
        // Four words of their own per line: no template can absorb another line's.
        let line = format!(
            "2026-11-23 10:00:00,000 INFO [main] a.B: {} {} {} {} finished",
            word(index * 4),
            word(index * 4 + 1),
            word(index * 4 + 2),
            word(index * 4 + 3)
        );
        logai.process_into("service", &LogInput::text(&line), &mut record);
        if (index + 1) % 50_000 == 0 {
            println!(
                "{:>6}  {:>9}  {:>12}",
                index + 1,
                logai.patterns("service").len(),
                peak_rss_kib()
            );
        }
    }
}
