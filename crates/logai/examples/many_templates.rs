//! Memory with many distinct templates: `cargo run --release -p logai --example many_templates
//! -- [LINES] [RESOURCES]` (default 400,000 lines, one resource) feeds lines that each make a
//! new template (no two share their words), in turn to each resource, with `Config::default()`,
//! and prints, after every 10% of the lines, the templates kept (all resources) and the
//! process's peak resident memory (Linux `VmHWM`).

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
    let arg = |n: usize, default: usize| {
        std::env::args()
            .nth(n)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let total = arg(1, 400_000);
    let resources: Vec<String> = (0..arg(2, 1).max(1))
        .map(|r| format!("service-{r}"))
        .collect();
    let mut logai = LogAi::new(Config::default());
    let mut record = Structured::default();
    println!("  lines  templates  peak_rss_kib");
    for index in 0..total {
        // Four words of their own per line: no template can absorb another line's.
        let line = format!(
            "2026-11-23 10:00:00,000 INFO [main] a.B: {} {} {} {} finished",
            word(index * 4),
            word(index * 4 + 1),
            word(index * 4 + 2),
            word(index * 4 + 3)
        );
        let resource = &resources[index % resources.len()];
        logai.process_into(resource, &LogInput::text(&line), &mut record);
        if (index + 1) % (total / 10).max(1) == 0 {
            let templates: usize = resources.iter().map(|r| logai.patterns(r).len()).sum();
            println!("{:>7}  {templates:>9}  {:>12}", index + 1, peak_rss_kib());
        }
    }
}
