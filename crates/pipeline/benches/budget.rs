//! What budgets cost at ingest, per log record: counting a batch when no budget of the signal
//! is in force, and judging it under two budgets (one for the signal, one per service), on
//! one thread. The records are the lines of the real programs' logs in `testdata/corpus`, one
//! service per program, in batches of 1,000.
//!
//! `flock /tmp/redscope-cargo.lock cargo bench -p pipeline --bench budget`

use std::path::Path;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use model::{LogRow, Resource};

const BATCH: usize = 1_000;

/// A batch of corpus lines, 1,000 records, services and severities as the programs wrote them
/// (the severity number from the truth's level is not needed: budgets only tell debug apart,
/// so every fifth record is debug and every fifth an error).
fn batch() -> Vec<LogRow> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/corpus");
    let mut programs: Vec<_> = std::fs::read_dir(&corpus)
        .expect("testdata/corpus")
        .flatten()
        .filter(|e| e.path().is_dir())
        .collect();
    programs.sort_by_key(|e| e.file_name());
    let mut rows = Vec::new();
    'fill: for p in &programs {
        let name = p.file_name().to_string_lossy().to_string();
        let resource = Arc::new(Resource {
            service_name: name.clone(),
            ..Resource::default()
        });
        let Ok(text) = std::fs::read_to_string(p.path().join(format!("{name}.log"))) else {
            continue;
        };
        for line in text.lines().take(40) {
            let n = rows.len();
            rows.push(LogRow {
                resource: Arc::clone(&resource),
                severity_number: [5, 9, 9, 13, 17][n % 5],
                body: line.to_string(),
                attributes: r#"{"log.file.name":"app.log"}"#.into(),
                ..LogRow::default()
            });
            if rows.len() == BATCH {
                break 'fill;
            }
        }
    }
    assert_eq!(rows.len(), BATCH, "the corpus gives a full batch");
    rows
}

fn bench(c: &mut Criterion) {
    let rows = batch();
    let now = model::now_unix_nano();
    let mut group = c.benchmark_group("budgets_at_ingest");
    group.throughput(Throughput::Elements(BATCH as u64));
    let two = "[[budget]]\nname = \"all logs\"\nsignal = \"logs\"\ndaily_bytes = \"1TB\"\n\n[[budget]]\nname = \"per service\"\nsignal = \"logs\"\nservice = \"*\"\ndaily_records = 1000000000000\n";
    for (label, text) in [("count_only", ""), ("two_budgets", two)] {
        let budgets = pipeline::rules::parse_all(text).expect("budgets").budgets;
        let ledger = pipeline::Ledger::default();
        let mut batch = rows.clone();
        group.bench_function(label, |b| {
            b.iter(|| {
                ledger.admit_logs(&budgets, &mut batch, now);
                batch.len()
            })
        });
        assert_eq!(batch.len(), BATCH, "nothing shed under caps this large");
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
