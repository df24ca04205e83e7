//! Load generators that drive a running server over loopback with pre-encoded OTLP/HTTP
//! protobuf batches, and time trace lookups.

use std::time::{Duration, Instant};

use clap::Args;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

#[derive(Args)]
pub struct BenchArgs {
    /// What to measure: logs, spans, browser (OTLP/HTTP JSON browser events, as the browser
    /// SDK sends them; point --otlp at the API port to measure that path), or trace-lookup.
    #[arg(value_parser = ["logs", "spans", "browser", "trace-lookup"])]
    pub what: String,
    /// OTLP/HTTP base URL (logs, spans).
    #[arg(long, default_value = "http://127.0.0.1:4318")]
    pub otlp: String,
    /// API base URL (trace-lookup).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub api: String,
    /// Seconds to run.
    #[arg(long, default_value_t = 20)]
    pub duration: u64,
    /// Records per request.
    #[arg(long, default_value_t = 2000)]
    pub batch: usize,
    /// Requests in flight.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Trace lookups to time (trace-lookup).
    #[arg(long, default_value_t = 300)]
    pub samples: usize,
}

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn resource(i: usize) -> Resource {
    Resource {
        attributes: vec![
            kv("service.name", &format!("bench-svc-{}", i % 8)),
            kv("host.name", "bench-host"),
        ],
        ..Default::default()
    }
}

/// Realistic log lines in several formats with varying values.
fn log_batch(rng: &mut SmallRng, n: usize, i: usize) -> Vec<u8> {
    let now = u64::try_from(model::now_unix_nano()).unwrap_or(0);
    let records = (0..n)
        .map(|j| {
            let body = match j % 4 {
                0 => format!("10.0.{}.{} - - [23/Nov/2026:10:00:00 +0000] \"GET /api/items/{} HTTP/1.1\" 200 {} \"-\" \"curl/8.0\"", rng.random_range(0..255), rng.random_range(0..255), rng.random_range(0..10000), rng.random_range(100..5000)),
                1 => format!("{{\"level\":\"info\",\"msg\":\"request served\",\"user\":\"u{}\",\"duration_ms\":{}}}", rng.random_range(0..1000), rng.random_range(0..500)),
                2 => format!("time=2026-11-23T10:00:00Z level=info msg=\"cache lookup\" key=k{} hit={}", rng.random_range(0..100000), rng.random_bool(0.5)),
                _ => format!("2026-11-23 10:00:00,123 INFO [worker-{}] com.example.Job - processed batch {} in {} ms", rng.random_range(0..16), rng.random_range(0..100000), rng.random_range(1..900)),
            };
            LogRecord {
                time_unix_nano: now + j as u64,
                body: Some(AnyValue { value: Some(any_value::Value::StringValue(body)) }),
                trace_id: (0..16).map(|_| rng.random::<u8>()).collect(),
                span_id: (0..8).map(|_| rng.random::<u8>()).collect(),
                ..Default::default()
            }
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(resource(i)),
            scope_logs: vec![ScopeLogs {
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

/// About `n` browser events of synthetic sessions as OTLP/HTTP JSON (the browser SDK's shape),
/// with how many there are.
fn browser_batch(n: usize, i: usize) -> (Vec<u8>, Vec<usize>, u64) {
    let body = rum::synthetic::logs_request(n, i as u64 + 1, model::now_unix_nano());
    let events: usize = body["resourceLogs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["scopeLogs"][0]["logRecords"].as_array())
        .map(Vec::len)
        .sum();
    (body.to_string().into_bytes(), Vec::new(), events as u64)
}

fn span_batch(rng: &mut SmallRng, n: usize, i: usize) -> Vec<u8> {
    let now = u64::try_from(model::now_unix_nano()).unwrap_or(0);
    let mut spans = Vec::with_capacity(n);
    let mut trace: Vec<u8> = Vec::new();
    for j in 0..n {
        if j % 10 == 0 {
            trace = (0..16).map(|_| rng.random::<u8>()).collect();
        }
        spans.push(Span {
            trace_id: trace.clone(),
            span_id: (0..8).map(|_| rng.random::<u8>()).collect(),
            name: format!("GET /api/items/{{id}} {}", j % 7),
            kind: 2,
            start_time_unix_nano: now + j as u64,
            end_time_unix_nano: now + j as u64 + rng.random_range(100_000..50_000_000),
            attributes: vec![
                kv("http.request.method", "GET"),
                kv("http.route", "/api/items/{id}"),
                kv(
                    "url.path",
                    &format!("/api/items/{}", rng.random_range(0..10000)),
                ),
            ],
            ..Default::default()
        });
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource(i)),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.what.as_str() {
        "trace-lookup" => trace_lookup(&args).await,
        what => ingest_load(&args, what).await,
    }
}

/// Where the trace ids sit in an encoded request: every 16-byte field (length byte 0x10)
/// holding one of the request's trace ids.
fn trace_id_offsets(what: &str, body: &[u8]) -> Vec<usize> {
    let ids: std::collections::HashSet<Vec<u8>> = if what == "logs" {
        ExportLogsServiceRequest::decode(body)
            .map(|r| {
                r.resource_logs
                    .into_iter()
                    .flat_map(|rl| rl.scope_logs)
                    .flat_map(|sl| sl.log_records)
                    .map(|l| l.trace_id)
                    .collect()
            })
            .unwrap_or_default()
    } else {
        ExportTraceServiceRequest::decode(body)
            .map(|r| {
                r.resource_spans
                    .into_iter()
                    .flat_map(|rs| rs.scope_spans)
                    .flat_map(|ss| ss.spans)
                    .map(|s| s.trace_id)
                    .collect()
            })
            .unwrap_or_default()
    };
    (0..body.len().saturating_sub(18))
        .filter(|&p| body[p + 1] == 0x10 && ids.contains(&body[p + 2..p + 18]))
        .map(|p| p + 2)
        .collect()
}

/// A pre-encoded request with fresh trace ids: the first 8 bytes of every trace id become the
/// request's sequence number, so that no two requests share a trace (as with real traffic).
fn with_fresh_trace_ids(body: &[u8], offsets: &[usize], seq: u64) -> Vec<u8> {
    let mut out = body.to_vec();
    for &o in offsets {
        out[o..o + 8].copy_from_slice(&seq.to_be_bytes());
    }
    out
}

async fn ingest_load(args: &BenchArgs, what: &str) -> anyhow::Result<()> {
    let mut rng = SmallRng::seed_from_u64(7);
    let bodies: Vec<(Vec<u8>, Vec<usize>, u64)> = (0..64)
        .map(|i| match what {
            "browser" => browser_batch(args.batch, i),
            "logs" => {
                let b = log_batch(&mut rng, args.batch, i);
                let offsets = trace_id_offsets(what, &b);
                (b, offsets, args.batch as u64)
            }
            _ => {
                let b = span_batch(&mut rng, args.batch, i);
                let offsets = trace_id_offsets(what, &b);
                (b, offsets, args.batch as u64)
            }
        })
        .collect();
    let content_type = if what == "browser" {
        "application/json"
    } else {
        "application/x-protobuf"
    };
    let bodies = std::sync::Arc::new(bodies);
    // Sequence numbers differ between runs too, so repeated runs add new traces.
    let seq = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(
        u64::try_from(model::now_unix_nano()).unwrap_or(0),
    ));
    let url = format!(
        "{}/v1/{}",
        args.otlp.trim_end_matches('/'),
        if what == "spans" { "traces" } else { "logs" }
    );
    let client = crate::demo::with_env_token(reqwest::Client::builder())
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let deadline = Instant::now() + Duration::from_secs(args.duration);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..args.concurrency {
        let client = client.clone();
        let url = url.clone();
        let bodies = std::sync::Arc::clone(&bodies);
        let seq = std::sync::Arc::clone(&seq);
        tasks.push(tokio::spawn(async move {
            let mut ok = 0u64;
            let mut records = 0u64;
            let mut refused = 0u64;
            let mut latencies = Vec::new();
            let mut i = worker;
            while Instant::now() < deadline {
                let t = Instant::now();
                let (body, offsets, events) = &bodies[i % bodies.len()];
                let n = seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let r = client
                    .post(&url)
                    .header("content-type", content_type)
                    .body(with_fresh_trace_ids(body, offsets, n))
                    .send()
                    .await;
                i += 1;
                match r {
                    Ok(resp) if resp.status().is_success() => {
                        ok += 1;
                        records += events;
                        latencies.push(t.elapsed());
                    }
                    Ok(resp) if resp.status().as_u16() == 429 => {
                        refused += 1;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Ok(resp) => anyhow::bail!("server answered {}", resp.status()),
                    Err(e) => anyhow::bail!("request failed: {e}"),
                }
            }
            Ok((ok, records, refused, latencies))
        }));
    }
    let mut ok = 0;
    let mut records = 0;
    let mut refused = 0;
    let mut latencies = Vec::new();
    for t in tasks {
        let (o, n, r, l) = t.await??;
        ok += o;
        records += n;
        refused += r;
        latencies.extend(l);
    }
    let secs = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p) as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    println!(
        "{what}: {records} records in {secs:.1}s = {:.0} records/s ({ok} requests of {}, {refused} refused with 429); request latency p50 {:.1} ms, p99 {:.1} ms",
        records as f64 / secs,
        args.batch,
        pct(0.5),
        pct(0.99)
    );
    Ok(())
}

async fn trace_lookup(args: &BenchArgs) -> anyhow::Result<()> {
    let client = crate::demo::with_env_token(reqwest::Client::builder()).build()?;
    let base = args.api.trim_end_matches('/');
    let sql = serde_json::json!({"query": format!("SELECT trace_id FROM spans GROUP BY trace_id LIMIT {}", args.samples)});
    let resp: serde_json::Value = client
        .post(format!("{base}/api/v1/sql"))
        .json(&sql)
        .send()
        .await?
        .json()
        .await?;
    let ids: Vec<String> = resp["rows"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|r| r[0].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    anyhow::ensure!(!ids.is_empty(), "no traces stored");
    let count: serde_json::Value = client
        .post(format!("{base}/api/v1/sql"))
        .json(&serde_json::json!({"query": "SELECT count(*) AS n FROM spans"}))
        .send()
        .await?
        .json()
        .await?;
    let mut times = Vec::with_capacity(ids.len());
    for id in &ids {
        let t = Instant::now();
        let r = client
            .get(format!("{base}/api/v1/traces/{id}"))
            .send()
            .await?;
        anyhow::ensure!(
            r.status().is_success(),
            "lookup of {id} answered {}",
            r.status()
        );
        let _ = r.bytes().await?;
        times.push(t.elapsed());
    }
    times.sort();
    let pct = |p: f64| {
        times
            .get(((times.len() as f64 - 1.0) * p) as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    println!(
        "trace by id over {} stored spans: {} lookups, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        count["rows"][0][0],
        times.len(),
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_trace_id_of_a_request_is_found_and_made_fresh() {
        let mut rng = SmallRng::seed_from_u64(1);
        for what in ["spans", "logs"] {
            let body = if what == "logs" {
                log_batch(&mut rng, 50, 0)
            } else {
                span_batch(&mut rng, 50, 0)
            };
            let offsets = trace_id_offsets(what, &body);
            // Spans share a trace per 10; every log record has its own.
            assert_eq!(offsets.len(), 50, "{what}");
            let fresh = with_fresh_trace_ids(&body, &offsets, 42);
            let ids: Vec<Vec<u8>> = if what == "logs" {
                ExportLogsServiceRequest::decode(fresh.as_slice())
                    .unwrap()
                    .resource_logs[0]
                    .scope_logs[0]
                    .log_records
                    .iter()
                    .map(|l| l.trace_id.clone())
                    .collect()
            } else {
                ExportTraceServiceRequest::decode(fresh.as_slice())
                    .unwrap()
                    .resource_spans[0]
                    .scope_spans[0]
                    .spans
                    .iter()
                    .map(|s| s.trace_id.clone())
                    .collect()
            };
            assert!(
                ids.iter().all(|id| id[..8] == 42u64.to_be_bytes()),
                "{what}"
            );
        }
    }
}
