//! The listeners: admission before any work is done for a connection.
//!
//! Each listener (OTLP/HTTP, OTLP/gRPC, API) holds at most `max_connections` connections; one
//! beyond it is closed as soon as it is accepted, so idle connections cannot use up the
//! process's file descriptors and stop the other listeners. HTTP/1 connections are served by
//! hyper with a header read timeout, which also closes a kept-alive connection that sends no
//! next request; request bodies have their own timeout; requests in flight are limited per
//! listener (OTLP refuses beyond it with 429, the API queues). gRPC connections on which
//! nothing moves for `idle_timeout` are closed (see [`Counted`]). Each HTTP request carries
//! its connection's peer address (`axum::extract::ConnectInfo<SocketAddr>`) and the browser
//! rate limiter ([`crate::access::BrowserAdmission`]) for the access gates.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

/// Limits of one listener.
#[derive(Debug, Clone)]
pub struct ListenLimits {
    /// What browser tokens may send; clones share one limiter, so every listener counts
    /// against the same buckets.
    pub browser: crate::access::BrowserAdmission,
    pub max_connections: usize,
    pub max_concurrent_requests: usize,
    /// HTTP/1: the request line and headers must arrive within this, and a kept-alive
    /// connection is closed when no next request starts within it.
    pub header_read_timeout: Duration,
    /// HTTP: a request body must arrive within this once its headers are in.
    pub body_read_timeout: Duration,
    /// gRPC: a connection with no bytes in either direction for this long is closed.
    pub idle_timeout: Duration,
}

/// What a listener did, for `GET /api/v1/status`.
#[derive(Debug, Default)]
pub struct ListenerStats {
    pub accepted: AtomicU64,
    /// Closed at once because the listener held `max_connections`.
    pub refused: AtomicU64,
    /// Requests refused (OTLP/HTTP) because `max_concurrent_requests` were in flight.
    pub requests_refused: AtomicU64,
    /// Accept failures (for example no file descriptor left).
    pub accept_errors: AtomicU64,
}

/// A bound socket with its connection slots.
pub struct Listener {
    name: &'static str,
    tcp: TcpListener,
    slots: Arc<Semaphore>,
    max_connections: usize,
    stats: Arc<ListenerStats>,
}

/// Binds `addr` without tying it to the current runtime, so that another runtime can serve it.
pub fn bind(name: &str, addr: SocketAddr) -> anyhow::Result<std::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    }?;
    socket.set_reuseaddr(true)?;
    socket
        .bind(addr)
        .with_context(|| format!("binding {name} on {addr}"))?;
    let listener = socket.listen(1024)?;
    Ok(listener.into_std()?)
}

impl Listener {
    /// Takes over a socket from [`bind`]; call inside the runtime that serves it.
    pub fn new(
        name: &'static str,
        std: std::net::TcpListener,
        max_connections: usize,
        stats: Arc<ListenerStats>,
    ) -> io::Result<Listener> {
        std.set_nonblocking(true)?;
        Ok(Listener {
            name,
            tcp: TcpListener::from_std(std)?,
            slots: Arc::new(Semaphore::new(max_connections.max(1))),
            max_connections: max_connections.max(1),
            stats,
        })
    }

    /// The next connection that has a slot; connections beyond the limit are closed here.
    pub async fn accept(&self, idle_timeout: Option<Duration>) -> Counted<TcpStream> {
        loop {
            let stream = match self.tcp.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors (or a connection reset before it was accepted):
                    // wait a little instead of spinning; the peer stays in the backlog.
                    if self
                        .stats
                        .accept_errors
                        .fetch_add(1, Ordering::Relaxed)
                        .is_multiple_of(1000)
                    {
                        tracing::warn!(listener = self.name, error = %e, "could not accept a connection");
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            let Ok(slot) = Arc::clone(&self.slots).try_acquire_owned() else {
                if self
                    .stats
                    .refused
                    .fetch_add(1, Ordering::Relaxed)
                    .is_multiple_of(1000)
                {
                    tracing::warn!(
                        listener = self.name,
                        max = self.max_connections,
                        "connection limit reached: closing new connections"
                    );
                }
                drop(stream);
                continue;
            };
            self.stats.accepted.fetch_add(1, Ordering::Relaxed);
            let _ = stream.set_nodelay(true);
            return Counted::new(stream, slot, idle_timeout);
        }
    }

    /// Waits until every connection has closed, at most `grace`.
    async fn drain(&self, grace: Duration) {
        let all = u32::try_from(self.max_connections).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(grace, self.slots.acquire_many(all)).await;
    }
}

/// A connection holding its listener's slot until it is dropped, optionally closed when idle.
pub struct Counted<T> {
    io: T,
    _slot: OwnedSemaphorePermit,
    idle: Option<Idle>,
}

struct Idle {
    after: Duration,
    last: Instant,
    timer: Pin<Box<tokio::time::Sleep>>,
}

impl Idle {
    /// Whether the connection has been idle for `after`; if not, the timer is set to the
    /// moment it would be (and wakes the reader then).
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            if self.timer.as_mut().poll(cx).is_pending() {
                return false;
            }
            let due = self.last + self.after;
            if Instant::now() >= due {
                return true;
            }
            self.timer.as_mut().reset(due.into());
        }
    }
}

impl<T> Counted<T> {
    fn new(io: T, slot: OwnedSemaphorePermit, idle_timeout: Option<Duration>) -> Self {
        let idle = idle_timeout.map(|after| Idle {
            after,
            last: Instant::now(),
            timer: Box::pin(tokio::time::sleep(after)),
        });
        Counted {
            io,
            _slot: slot,
            idle,
        }
    }

    fn touch(&mut self) {
        if let Some(idle) = &mut self.idle {
            idle.last = Instant::now();
        }
    }
}

impl Counted<TcpStream> {
    /// The address of the other end.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.peer_addr()
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Counted<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    self.touch();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => {
                let idle = self.idle.as_mut().is_some_and(|idle| idle.expired(cx));
                if idle {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "connection idle",
                    )));
                }
                Poll::Pending
            }
            other => other,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Counted<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.io).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

impl tonic::transport::server::Connected for Counted<TcpStream> {
    type ConnectInfo = tonic::transport::server::TcpConnectInfo;
    fn connect_info(&self) -> Self::ConnectInfo {
        self.io.connect_info()
    }
}

/// The connections of a gRPC listener as tonic's incoming stream.
pub fn incoming(
    listener: Listener,
    idle_timeout: Duration,
) -> impl futures::Stream<Item = io::Result<Counted<TcpStream>>> {
    futures::stream::unfold(listener, move |l| async move {
        let conn = l.accept(Some(idle_timeout)).await;
        Some((Ok(conn), l))
    })
}

/// What an HTTP listener serves, which decides how it treats requests beyond
/// `max_concurrent_requests` and who times request bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpKind {
    /// OTLP/HTTP: refused with 429 at once (the client retries later); the receiver reads
    /// bodies itself, with `ingest::Limits::body_timeout`, and answers 408.
    Otlp,
    /// The API: waits for a slot (a page's requests arrive together); a body stalled for
    /// `body_read_timeout` fails the request.
    Api,
}

#[derive(Clone)]
struct RequestSlots {
    slots: Arc<Semaphore>,
    kind: HttpKind,
    stats: Arc<ListenerStats>,
}

async fn limit_requests(
    State(gate): State<RequestSlots>,
    request: Request,
    next: Next,
) -> Response {
    let slot = match gate.kind {
        HttpKind::Otlp => Arc::clone(&gate.slots).try_acquire_owned().ok(),
        HttpKind::Api => Arc::clone(&gate.slots).acquire_owned().await.ok(),
    };
    let Some(_slot) = slot else {
        gate.stats.requests_refused.fetch_add(1, Ordering::Relaxed);
        let headers = [
            (http::header::RETRY_AFTER, "1"),
            (http::header::CONNECTION, "close"),
        ];
        return (
            http::StatusCode::TOO_MANY_REQUESTS,
            headers,
            "too many requests in flight, retry later",
        )
            .into_response();
    };
    next.run(request).await
}

/// Serves an axum app on `listener` until `stop`, then lets open connections finish (up to
/// ten seconds).
pub async fn serve_http(
    listener: Listener,
    app: axum::Router,
    limits: ListenLimits,
    kind: HttpKind,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let gate = RequestSlots {
        slots: Arc::new(Semaphore::new(limits.max_concurrent_requests.max(1))),
        kind,
        stats: Arc::clone(&listener.stats),
    };
    let mut app = app.layer(axum::middleware::from_fn_with_state(gate, limit_requests));
    if kind == HttpKind::Api {
        app = app.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            limits.body_read_timeout,
        ));
    }
    loop {
        let conn = tokio::select! {
            conn = listener.accept(None) => conn,
            _ = stopped(&mut stop) => break,
        };
        tokio::spawn(serve_connection(
            conn,
            app.clone(),
            limits.browser.clone(),
            limits.header_read_timeout,
            stop.clone(),
        ));
    }
    listener.drain(Duration::from_secs(10)).await;
    Ok(())
}

/// Resolves once `stop` says so.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|v| *v).await;
}

async fn serve_connection(
    conn: Counted<TcpStream>,
    app: axum::Router,
    browser: crate::access::BrowserAdmission,
    header_read_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    // A peer that is already gone has nothing to serve.
    let Ok(peer) = conn.peer_addr() else {
        return;
    };
    let app = tower::ServiceExt::map_request(app, move |mut request: Request<_>| {
        let extensions = request.extensions_mut();
        extensions.insert(axum::extract::ConnectInfo(peer));
        extensions.insert(browser.clone());
        request
    });
    let service = hyper_util::service::TowerToHyperService::new(app);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .keep_alive(true);
    let served = builder.serve_connection(hyper_util::rt::TokioIo::new(conn), service);
    tokio::pin!(served);
    let result = tokio::select! {
        r = served.as_mut() => r,
        _ = stopped(&mut stop) => {
            served.as_mut().graceful_shutdown();
            served.await
        }
    };
    if let Err(e) = result {
        // Timeouts and clients that went away: the connection is closed, nothing to report.
        tracing::debug!(error = %e, "connection ended");
    }
}

/// Lowers the connection limits when the open-file limit cannot hold them all: connections
/// of all listeners together may take half of the descriptors, the other half is the store's.
pub fn fit_to_open_files(per_listener: usize, listeners: usize, open_files: u64) -> usize {
    let budget = usize::try_from(open_files / 2).unwrap_or(usize::MAX);
    let fit = budget / listeners.max(1);
    per_listener.min(fit.max(16))
}

impl ListenerStats {
    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "connections_accepted": self.accepted.load(Ordering::Relaxed),
            "connections_refused": self.refused.load(Ordering::Relaxed),
            "requests_refused": self.requests_refused.load(Ordering::Relaxed),
            "accept_errors": self.accept_errors.load(Ordering::Relaxed),
        })
    }
}

/// Raises the soft open-file limit to the hard limit; returns the limit in force.
pub fn raise_open_file_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => {
            tracing::info!(open_files = n, "open-file limit raised to the hard limit");
            n
        }
        Err(e) => {
            let now = rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft);
            tracing::warn!(error = %e, open_files = now, "could not raise the open-file limit");
            now
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_limits_fit_the_open_file_limit() {
        assert_eq!(fit_to_open_files(512, 3, 1 << 20), 512);
        assert_eq!(fit_to_open_files(512, 3, 1024), 170);
        assert_eq!(fit_to_open_files(512, 3, 20), 16);
    }
}
