//! Property: OTLP → rows → WAL/memtable → Parquet → query API preserves every field.

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, any_value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use proptest::prelude::*;
use serde_json::{Value, json};

fn scalar() -> impl Strategy<Value = (any_value::Value, Value)> {
    prop_oneof![
        "[ -~]{0,12}".prop_map(|s| (any_value::Value::StringValue(s.clone()), json!(s))),
        any::<bool>().prop_map(|b| (any_value::Value::BoolValue(b), json!(b))),
        any::<i64>().prop_map(|i| (any_value::Value::IntValue(i), json!(i))),
        (-1e12f64..1e12).prop_map(|d| (any_value::Value::DoubleValue(d), json!(d))),
    ]
}

fn attribute() -> impl Strategy<Value = (String, any_value::Value, Value)> {
    let value = prop_oneof![
        3 => scalar(),
        1 => proptest::collection::vec(scalar(), 0..3).prop_map(|items| {
            let (vals, json): (Vec<_>, Vec<_>) = items.into_iter().unzip();
            (
                any_value::Value::ArrayValue(ArrayValue { values: vals.into_iter().map(|v| AnyValue { value: Some(v) }).collect() }),
                Value::Array(json),
            )
        }),
    ];
    ("[a-z]{1,6}(\\.[a-z]{1,6})?", value).prop_map(|(k, (v, j))| (k, v, j))
}

fn kvs(attrs: &[(String, any_value::Value, Value)]) -> (Vec<KeyValue>, Value) {
    let mut map = serde_json::Map::new();
    let mut list = Vec::new();
    for (k, v, j) in attrs {
        if map.contains_key(k) {
            continue;
        }
        map.insert(k.clone(), j.clone());
        list.push(KeyValue {
            key: k.clone(),
            value: Some(AnyValue {
                value: Some(v.clone()),
            }),
            ..Default::default()
        });
    }
    (list, Value::Object(map))
}

#[derive(Debug, Clone)]
struct GenSpan {
    name: String,
    kind: i32,
    start: u64,
    dur: u64,
    status: i32,
    message: String,
    attrs: Vec<(String, any_value::Value, Value)>,
    event_name: String,
    trace_state: String,
    flags: u32,
}

fn gen_span() -> impl Strategy<Value = GenSpan> {
    (
        "[ -~]{1,20}",
        0i32..6,
        0u64..3_000_000_000,
        0u64..10_000_000_000,
        0i32..3,
        "[ -~]{0,10}",
        proptest::collection::vec(attribute(), 0..6),
        "[a-z ]{0,8}",
        "[a-z0-9=,]{0,8}",
        0u32..512,
    )
        .prop_map(
            |(name, kind, start, dur, status, message, attrs, event_name, trace_state, flags)| {
                GenSpan {
                    name,
                    kind,
                    start,
                    dur,
                    status,
                    message,
                    attrs,
                    event_name,
                    trace_state,
                    flags,
                }
            },
        )
}

const BASE: u64 = 1_790_000_000_000_000_000;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn open(dir: &std::path::Path) -> (Arc<storage::Store>, query::QueryService) {
    let store = Arc::new(storage::Store::open(storage::StoreConfig::new(dir)).unwrap());
    let q = query::QueryService::new(Arc::clone(&store), query::QueryLimits::default()).unwrap();
    (store, q)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn spans_round_trip_through_parquet(spans in proptest::collection::vec(gen_span(), 1..8), res_attrs in proptest::collection::vec(attribute(), 0..4), scope in "[a-z.]{0,10}") {
        let (mut res_kvs, mut res_json) = kvs(&res_attrs);
        res_kvs.retain(|kv| kv.key != "service.name");
        res_json.as_object_mut().unwrap().remove("service.name");
        res_kvs.push(KeyValue { key: "service.name".into(), value: Some(AnyValue { value: Some(any_value::Value::StringValue("prop-svc".into())) }), ..Default::default() });
        res_json.as_object_mut().unwrap().insert("service.name".into(), json!("prop-svc"));
        let trace_id = vec![0xab; 16];
        let mut otlp = Vec::new();
        let mut expected = Vec::new();
        for (i, g) in spans.iter().enumerate() {
            let (attrs, attrs_json) = kvs(&g.attrs);
            let span_id = vec![i as u8 + 1; 8];
            let parent = if i == 0 { vec![] } else { vec![1u8; 8] };
            otlp.push(Span {
                trace_id: trace_id.clone(),
                span_id: span_id.clone(),
                parent_span_id: parent.clone(),
                trace_state: g.trace_state.clone(),
                flags: g.flags,
                name: g.name.clone(),
                kind: g.kind,
                start_time_unix_nano: BASE + g.start,
                end_time_unix_nano: BASE + g.start + g.dur,
                attributes: attrs,
                events: vec![span::Event { time_unix_nano: BASE + g.start, name: g.event_name.clone(), attributes: vec![], dropped_attributes_count: 0 }],
                status: Some(Status { code: g.status, message: g.message.clone() }),
                dropped_attributes_count: 1,
                ..Default::default()
            });
            expected.push((hex::encode(&span_id), hex::encode(&parent), g.clone(), attrs_json));
        }
        let req = ExportTraceServiceRequest { resource_spans: vec![ResourceSpans {
            resource: Some(Resource { attributes: res_kvs, ..Default::default() }),
            scope_spans: vec![ScopeSpans { scope: Some(InstrumentationScope { name: scope.clone(), version: "9".into(), ..Default::default() }), spans: otlp, schema_url: String::new() }],
            schema_url: String::new(),
        }]};
        let converted = ingest::convert::convert_traces(&req);
        prop_assert_eq!(converted.rejected, 0);
        let dir = tempfile::tempdir().unwrap();
        runtime().block_on(async {
            let (store, q) = open(dir.path()).await;
            store.append(model::Batch::Spans(converted.rows)).await.unwrap();
            store.flush().await.unwrap();
            assert!(store.disk_usage()[0].3 >= 1, "flushed to at least one Parquet file");
            let trace = q.get_trace(&hex::encode(&trace_id)).await.unwrap();
            assert_eq!(trace.spans.len(), expected.len());
            for (span_id, parent, g, attrs_json) in &expected {
                let got = trace.spans.iter().find(|s| &s.span_id == span_id).unwrap();
                assert_eq!(&got.parent_span_id, parent);
                assert_eq!(got.name, g.name);
                assert_eq!(got.kind, model::SpanKind::from_otlp(g.kind).as_str());
                assert_eq!(got.start_time_unix_nano as u64, BASE + g.start);
                assert_eq!(got.end_time_unix_nano as u64, BASE + g.start + g.dur);
                assert_eq!(got.status_code, model::StatusCode::from_otlp(g.status).as_str());
                assert_eq!(got.status_message, g.message);
                assert_eq!(got.trace_state, g.trace_state);
                assert_eq!(got.flags, g.flags);
                assert_eq!(&got.attributes, attrs_json);
                assert_eq!(got.resource_attributes, res_json);
                assert_eq!(got.scope_name, scope);
                assert_eq!(got.scope_version, "9");
                assert_eq!(got.events[0]["name"], json!(g.event_name));
                assert_eq!(got.dropped_attributes_count, 1);
                assert_eq!(got.service_name, "prop-svc");
            }
        });
    }

    #[test]
    fn logs_round_trip_through_parquet(bodies in proptest::collection::vec(("[ -~\\n]{0,40}", 0i32..25, "[A-Z]{0,5}", proptest::collection::vec(attribute(), 0..5)), 1..10)) {
        let mut records = Vec::new();
        for (i, (body, sev, sev_text, attrs)) in bodies.iter().enumerate() {
            let (kv, _) = kvs(attrs);
            records.push(LogRecord {
                time_unix_nano: BASE + i as u64,
                observed_time_unix_nano: BASE + 7,
                severity_number: *sev,
                severity_text: sev_text.clone(),
                body: Some(AnyValue { value: Some(any_value::Value::StringValue(body.clone())) }),
                attributes: kv,
                trace_id: vec![7; 16],
                span_id: vec![i as u8; 8],
                flags: 1,
                event_name: "evt".into(),
                ..Default::default()
            });
        }
        let req = ExportLogsServiceRequest { resource_logs: vec![ResourceLogs { scope_logs: vec![ScopeLogs { log_records: records, ..Default::default() }], ..Default::default() }] };
        let converted = ingest::convert::convert_logs(req);
        let dir = tempfile::tempdir().unwrap();
        runtime().block_on(async {
            let (store, q) = open(dir.path()).await;
            store.append(model::Batch::Logs(converted.rows)).await.unwrap();
            store.flush().await.unwrap();
            let page = q.search_logs(&query::LogSearch {
                range: model::TimeRange::new(BASE as i64 - 1, BASE as i64 + 100).unwrap(),
                service: None, severity_min: None, text: None, trace_id: Some(hex::encode([7u8; 16])), span_id: None,
                template_id: None, attributes: vec![], limit: 100, offset: 0,
            }).await.unwrap();
            assert_eq!(page.records.len(), bodies.len());
            for rec in &page.records {
                let i = (rec.time_unix_nano as u64 - BASE) as usize;
                let (body, sev, sev_text, attrs) = &bodies[i];
                assert_eq!(&rec.body, &json!(body));
                assert_eq!(rec.severity_number, *sev);
                assert_eq!(&rec.severity_text, sev_text);
                assert_eq!(rec.attributes, kvs(attrs).1);
                assert_eq!(rec.span_id, hex::encode([i as u8; 8]));
                assert_eq!(rec.observed_time_unix_nano as u64, BASE + 7);
                assert_eq!(rec.flags, 1);
                assert_eq!(rec.event_name, "evt");
                assert_eq!(rec.service_name, "unknown_service");
            }
        });
    }
}
