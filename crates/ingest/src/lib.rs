//! Receivers and the ingest pipeline: OTLP over gRPC and HTTP (protobuf or JSON, gzip) becomes
//! validated rows that are handed to a [`Sink`] and acknowledged only once the sink says they
//! are durable.
//!
//! - [`Pipeline`]: decode limits, admission control (bounded in-flight bytes), conversion,
//!   log processing hooks, counters. Shared by both protocols.
//! - [`otlp_http::router`]: `/v1/traces`, `/v1/logs`, `/v1/metrics` on an axum router.
//! - [`otlp_grpc::services`]: the three OTLP collector services for a tonic server.
//! - [`prom_remote_write::router`]: Prometheus remote write into the same pipeline.
//! - [`Sink`]: what the pipeline writes to (the storage engine implements it).
//!
//! ```no_run
//! # async fn run(sink: std::sync::Arc<dyn ingest::Sink>) {
//! let pipeline = ingest::Pipeline::new(sink, ingest::Limits::default());
//! let app = ingest::otlp_http::router(pipeline.clone());
//! # let _ = app;
//! # }
//! ```

pub mod admission;
pub mod bounds;
pub mod convert;
pub mod logai_processor;
pub mod otlp_grpc;
pub mod otlp_http;
pub mod pipeline;
pub mod prom_remote_write;
mod status;

pub use bounds::RecordLimits;
pub use pipeline::{
    ExportOutcome, IngestError, IngestStats, Limits, LogProcessor, Pipeline, Request, Sink,
    SinkError,
};
pub use status::{RpcStatus, retry_status_details};
