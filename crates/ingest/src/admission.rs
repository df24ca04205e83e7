//! Admission before work: a request is charged to the pipeline's in-flight byte budget as its
//! bytes arrive, before they are buffered, inflated or decoded, so that the budget bounds memory
//! rather than describing it afterwards.
//!
//! - [`Charge`]: one request's share of the budget; it only grows, and is released when dropped.
//! - [`GrpcAdmissionLayer`]: the same for OTLP/gRPC, as a tower layer in front of tonic. It reads
//!   the length prefix of the message, refuses one that can never fit with `INVALID_ARGUMENT`
//!   (non-retryable: OTLP exporters retry `RESOURCE_EXHAUSTED` and `OUT_OF_RANGE` forever),
//!   and charges the encoded length before tonic buffers or decodes anything.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http_body::{Body as HttpBody, Frame};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::{Code, Status};

use crate::pipeline::{IngestError, Pipeline};
use crate::status::retry_status_details;

/// The decoded form of a request (prost structs, strings, vectors) is charged as this many
/// times its protobuf size; measured on OTLP logs it takes about two.
pub const DECODED_FACTOR: usize = 2;

/// One request's share of the in-flight byte budget. Grows with [`Charge::grow_to`]; dropping
/// it gives everything back.
pub struct Charge {
    budget: Arc<Semaphore>,
    cap: usize,
    held: Option<OwnedSemaphorePermit>,
}

impl Charge {
    pub(crate) fn new(budget: Arc<Semaphore>, cap: usize) -> Self {
        Charge {
            budget,
            cap: cap.max(1),
            held: None,
        }
    }

    /// Bytes charged so far.
    pub fn bytes(&self) -> usize {
        self.held.as_ref().map_or(0, |p| p.num_permits())
    }

    /// Raises the charge to `total` bytes at once, or refuses with `Overloaded`. The charge is
    /// capped at the whole budget: a request larger than it still gets in when nothing else is
    /// in flight (the size limits bound it).
    pub fn grow_to(&mut self, total: usize) -> Result<(), IngestError> {
        let want = total.clamp(1, self.cap);
        let more = want.saturating_sub(self.bytes());
        if more == 0 {
            return Ok(());
        }
        let more = u32::try_from(more).unwrap_or(u32::MAX);
        let Ok(permit) = Arc::clone(&self.budget).try_acquire_many_owned(more) else {
            return Err(IngestError::Overloaded {
                retry_after_secs: 1,
            });
        };
        match &mut self.held {
            Some(held) => held.merge(permit),
            None => self.held = Some(permit),
        }
        Ok(())
    }
}

/// Charges OTLP/gRPC requests before tonic reads them; see the module documentation.
#[derive(Clone)]
pub struct GrpcAdmissionLayer {
    pipeline: Pipeline,
}

impl GrpcAdmissionLayer {
    pub fn new(pipeline: Pipeline) -> Self {
        GrpcAdmissionLayer { pipeline }
    }
}

impl<S> tower::Layer<S> for GrpcAdmissionLayer {
    type Service = GrpcAdmission<S>;
    fn layer(&self, inner: S) -> Self::Service {
        GrpcAdmission {
            inner,
            pipeline: self.pipeline.clone(),
        }
    }
}

#[derive(Clone)]
pub struct GrpcAdmission<S> {
    inner: S,
    pipeline: Pipeline,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, ResBody> tower::Service<http::Request<tonic::body::Body>> for GrpcAdmission<S>
where
    S: tower::Service<http::Request<tonic::body::Body>, Response = http::Response<ResBody>>
        + Send
        + 'static,
    S::Future: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let limits = self.pipeline.limits();
        let compressed = request
            .headers()
            .get("grpc-encoding")
            .is_some_and(|v| v.as_bytes() != b"identity");
        // A compressed message is limited as sent; tonic limits what it inflates to.
        let max_message = if compressed {
            limits.max_request_bytes
        } else {
            limits.max_decompressed_bytes
        };
        let shared = Arc::new(Mutex::new(Admitted {
            charge: self.pipeline.charge(),
            refused: None,
        }));
        let (parts, body) = request.into_parts();
        let counted = CountedBody {
            body: Some(body),
            shared: Arc::clone(&shared),
            max_message,
            prefix: Vec::with_capacity(5),
            seen: 0,
        };
        let request = http::Request::from_parts(parts, tonic::body::Body::new(counted));
        let pipeline = self.pipeline.clone();
        let call = self.inner.call(request);
        Box::pin(async move {
            let mut result = call.await;
            if let Ok(response) = &mut result
                && size_errors_not_retryable(response.headers_mut())
            {
                pipeline.stats().refused("too_large");
            }
            // The charge is held until tonic has answered: the decoded request lives that long.
            if let Ok(admitted) = shared.lock()
                && let Some(reason) = admitted.refused
            {
                pipeline.stats().refused(reason);
            }
            drop(shared);
            result
        })
    }
}

/// What the body and the response future share: the charge, and why the body refused.
struct Admitted {
    charge: Charge,
    refused: Option<&'static str>,
}

/// The request body as tonic reads it, charged frame by frame against the budget; the first
/// five bytes (the gRPC length prefix) decide whether the message can fit at all.
struct CountedBody {
    body: Option<tonic::body::Body>,
    shared: Arc<Mutex<Admitted>>,
    max_message: usize,
    prefix: Vec<u8>,
    seen: usize,
}

impl CountedBody {
    /// Charges a frame of `data`; an error is the status tonic answers with.
    fn admit(&mut self, data: &Bytes) -> Result<(), Status> {
        self.seen = self.seen.saturating_add(data.len());
        let mut charge_to = self.seen;
        let mut oversized = None;
        if self.prefix.len() < 5 {
            let take = (5 - self.prefix.len()).min(data.len());
            self.prefix.extend_from_slice(&data[..take]);
            if self.prefix.len() == 5 {
                let mut p = &self.prefix[1..5];
                let len = p.get_u32() as usize;
                charge_to = charge_to.max(len.saturating_add(5));
                oversized = (len > self.max_message).then_some(len);
            }
        }
        let Ok(mut admitted) = self.shared.lock() else {
            return Err(Status::internal("admission state poisoned"));
        };
        if let Some(len) = oversized {
            admitted.refused = Some("too_large");
            return Err(too_large(len, self.max_message));
        }
        if let Err(e) = admitted.charge.grow_to(charge_to) {
            admitted.refused = Some(e.reason());
            let message = e.to_string();
            let details = retry_status_details(Code::ResourceExhausted as i32, &message, 1);
            return Err(Status::with_details(
                Code::ResourceExhausted,
                message,
                details.into(),
            ));
        }
        Ok(())
    }
}

/// tonic's own answers to a message over `max_decoding_message_size` (OUT_OF_RANGE) or one
/// that inflates past it (RESOURCE_EXHAUSTED) become INVALID_ARGUMENT: the same message can
/// never fit, and exporters would retry the others forever.
fn size_errors_not_retryable(headers: &mut http::HeaderMap) -> bool {
    let Some(code) = headers.get("grpc-status") else {
        return false;
    };
    let message = headers
        .get("grpc-message")
        .map(|m| m.as_bytes())
        .unwrap_or_default();
    let inflated_too_far =
        code.as_bytes() == b"8" && message.windows(13).any(|w| w == b"decompressing");
    if code.as_bytes() == b"11" || inflated_too_far {
        headers.insert("grpc-status", http::HeaderValue::from_static("3"));
        headers.insert(
            "grpc-message",
            http::HeaderValue::from_static(
                "message%20exceeds%20the%20size%20limit%3B%20send%20smaller%20batches",
            ),
        );
        headers.remove("grpc-status-details-bin");
        return true;
    }
    false
}

/// A message that can never fit: not retryable, unlike tonic's own `OUT_OF_RANGE`.
fn too_large(len: usize, limit: usize) -> Status {
    Status::invalid_argument(format!(
        "message of {len} bytes exceeds the limit of {limit} bytes; send smaller batches"
    ))
}

impl HttpBody for CountedBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let Some(body) = self.body.as_mut() else {
            return Poll::Ready(None);
        };
        let frame = match Pin::new(body).poll_frame(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
            Poll::Ready(Some(Ok(frame))) => frame,
        };
        if let Some(data) = frame.data_ref()
            && let Err(status) = self.admit(data)
        {
            // The rest is never read: the stream is reset once tonic has answered.
            self.body = None;
            return Poll::Ready(Some(Err(status)));
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.body.as_ref().is_none_or(|b| b.is_end_stream())
    }
}
