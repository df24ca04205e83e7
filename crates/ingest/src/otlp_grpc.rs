//! OTLP/gRPC receiver: the three collector services over tonic, gzip accepted.

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codec::CompressionEncoding;
use tonic::{Code, Status};

use crate::admission::DECODED_FACTOR;
use crate::pipeline::{ExportOutcome, IngestError, Pipeline, Request};
use crate::status::retry_status_details;

/// One handler for the three services.
#[derive(Clone)]
pub struct OtlpGrpc {
    pipeline: Pipeline,
}

fn to_status(err: IngestError) -> Status {
    match err {
        IngestError::Overloaded { retry_after_secs }
        | IngestError::DiskFull { retry_after_secs } => {
            let message = err.to_string();
            let details =
                retry_status_details(Code::ResourceExhausted as i32, &message, retry_after_secs);
            Status::with_details(Code::ResourceExhausted, message, details.into())
        }
        IngestError::BadRequest(m) | IngestError::Unsupported(m) => Status::invalid_argument(m),
        // Never retryable: the same message can never fit (OTLP exporters retry
        // RESOURCE_EXHAUSTED and OUT_OF_RANGE).
        IngestError::TooLarge { .. } => Status::invalid_argument(err.to_string()),
        IngestError::TimedOut { .. } => Status::deadline_exceeded(err.to_string()),
        IngestError::Internal(detail) => {
            tracing::error!(%detail, "ingest failed");
            Status::unavailable("storage is unavailable, retry later")
        }
    }
}

impl OtlpGrpc {
    async fn run(&self, request: Request, size: usize) -> Result<ExportOutcome, Status> {
        // The encoded message was charged before decoding (admission layer); this adds the
        // decoded request it became.
        let _charge = self
            .pipeline
            .admit(size.saturating_mul(DECODED_FACTOR))
            .map_err(to_status)?;
        self.pipeline.export(request).await.map_err(|e| {
            if !matches!(e, IngestError::Overloaded { .. }) {
                self.pipeline.stats().refused(e.reason());
            }
            to_status(e)
        })
    }
}

fn saturating(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

#[tonic::async_trait]
impl TraceService for OtlpGrpc {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, Status> {
        let msg = request.into_inner();
        let size = prost::Message::encoded_len(&msg);
        let o = self.run(Request::Traces(msg), size).await?;
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: o.has_partial_success().then(|| ExportTracePartialSuccess {
                rejected_spans: saturating(o.rejected),
                error_message: o.message,
            }),
        }))
    }
}

#[tonic::async_trait]
impl LogsService for OtlpGrpc {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, Status> {
        let msg = request.into_inner();
        let size = prost::Message::encoded_len(&msg);
        let o = self.run(Request::Logs(msg), size).await?;
        Ok(tonic::Response::new(ExportLogsServiceResponse {
            partial_success: o.has_partial_success().then(|| ExportLogsPartialSuccess {
                rejected_log_records: saturating(o.rejected),
                error_message: o.message,
            }),
        }))
    }
}

#[tonic::async_trait]
impl MetricsService for OtlpGrpc {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, Status> {
        let msg = request.into_inner();
        let size = prost::Message::encoded_len(&msg);
        let o = self.run(Request::Metrics(msg), size).await?;
        Ok(tonic::Response::new(ExportMetricsServiceResponse {
            partial_success: o
                .has_partial_success()
                .then(|| ExportMetricsPartialSuccess {
                    rejected_data_points: saturating(o.rejected),
                    error_message: o.message,
                }),
        }))
    }
}

/// The three services, ready to add to a `tonic::transport::Server`.
pub fn services(
    pipeline: Pipeline,
) -> (
    TraceServiceServer<OtlpGrpc>,
    LogsServiceServer<OtlpGrpc>,
    MetricsServiceServer<OtlpGrpc>,
) {
    let max = pipeline.limits().max_decompressed_bytes;
    let handler = OtlpGrpc { pipeline };
    (
        TraceServiceServer::new(handler.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(max),
        LogsServiceServer::new(handler.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(max),
        MetricsServiceServer::new(handler)
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(max),
    )
}
