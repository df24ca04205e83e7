//! Log AI throughput on the Loghub-2k systems (20,000 real lines from ten products).
//!
//! `CARGO_TARGET_DIR=/work/target-logai cargo bench -p logai --bench logai`
//! Set `LOGHUB_DIR` to the `loghub-2k` directory (default: `../shared/data/loghub-2k` next to
//! the workspace).

use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use logai::{Config, LogAi, LogInput, Structured};

const SYSTEMS: [&str; 10] = [
    "Android",
    "Apache",
    "BGL",
    "HDFS",
    "Hadoop",
    "HealthApp",
    "OpenSSH",
    "Spark",
    "Windows",
    "Zookeeper",
];

fn corpus() -> Vec<(&'static str, Vec<String>)> {
    let root = std::env::var_os("LOGHUB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/loghub-2k")
        });
    let mut out = Vec::new();
    for system in SYSTEMS {
        let path = root.join(system).join(format!("{system}_2k.log"));
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        out.push((system, text.lines().map(str::to_string).collect()));
    }
    out
}

fn bench(c: &mut Criterion) {
    let corpus = corpus();
    let lines: usize = corpus.iter().map(|(_, l)| l.len()).sum();
    if lines == 0 {
        eprintln!("loghub-2k not found: set LOGHUB_DIR");
        return;
    }
    let mut group = c.benchmark_group("logai");
    group.throughput(Throughput::Elements(lines as u64));
    group.sample_size(20);

    // Learning: a fresh engine sees every line for the first time.
    group.bench_function("process_learning", |b| {
        b.iter(|| {
            let mut logai = LogAi::new(Config::default());
            let mut templates = 0usize;
            for (system, lines) in &corpus {
                for line in lines {
                    templates += logai.process(system, &LogInput::text(line)).template.len();
                }
            }
            templates
        });
    });

    // The same with one reused output record (`LogAi::process_into`).
    group.bench_function("process_into_learning", |b| {
        b.iter(|| {
            let mut logai = LogAi::new(Config::default());
            let mut record = Structured::default();
            let mut templates = 0usize;
            for (system, lines) in &corpus {
                for line in lines {
                    logai.process_into(system, &LogInput::text(line), &mut record);
                    templates += record.template.len();
                }
            }
            templates
        });
    });

    // Learned: formats and templates known, the steady state of a long-running ingest.
    let mut logai = LogAi::new(Config::default());
    for (system, lines) in &corpus {
        for line in lines {
            logai.process(system, &LogInput::text(line));
        }
    }
    group.bench_function("process_learned", |b| {
        b.iter(|| {
            let mut templates = 0usize;
            for (system, lines) in &corpus {
                for line in lines {
                    templates += logai.process(system, &LogInput::text(line)).template.len();
                }
            }
            templates
        });
    });
    group.bench_function("process_into_learned", |b| {
        let mut record = Structured::default();
        b.iter(|| {
            let mut templates = 0usize;
            for (system, lines) in &corpus {
                for line in lines {
                    logai.process_into(system, &LogInput::text(line), &mut record);
                    templates += record.template.len();
                }
            }
            templates
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
