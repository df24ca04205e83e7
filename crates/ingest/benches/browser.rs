//! Browser event ingest per core: what the pipeline does with an OTLP/HTTP JSON request of
//! browser events before the sink (JSON decoding, conversion with the record limits, RUM
//! enrichment: user agent, route, fingerprint; Log AI is not run on browser records), on one
//! thread.
//!
//! `flock /tmp/redscope-cargo.lock cargo bench -p ingest --bench browser`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;

fn bench(c: &mut Criterion) {
    let body = rum::synthetic::logs_request(2000, 42, model::now_unix_nano()).to_string();
    let request: ExportLogsServiceRequest = serde_json::from_str(&body).unwrap_or_default();
    let events: usize = request
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .map(|s| s.log_records.len())
        .sum();
    let limits = ingest::RecordLimits::default();
    let enricher = rum::Enricher::default();
    let mut group = c.benchmark_group("browser_ingest");
    group.throughput(Throughput::Elements(events as u64));
    group.bench_function("decode_convert_enrich", |b| {
        b.iter(|| {
            let request: ExportLogsServiceRequest = serde_json::from_str(&body).unwrap_or_default();
            let mut converted = ingest::convert::convert_logs_within(request, &limits);
            enricher.enrich_logs(&mut converted.rows);
            converted.rows.len()
        })
    });
    group.bench_function("enrich_only", |b| {
        let request: ExportLogsServiceRequest = serde_json::from_str(&body).unwrap_or_default();
        let rows = ingest::convert::convert_logs_within(request, &limits).rows;
        b.iter_batched(
            || rows.clone(),
            |mut rows| enricher.enrich_logs(&mut rows).len(),
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
