//! The network edge: how connections are accepted, bounded and timed out,
//! and how fast each client may send requests.
//!
//! - At most `max_connections` connections are open (kept well under the
//!   process's file-descriptor limit, which is raised to its hard limit at
//!   start). At the cap a new connection closes the one idle longest, so a
//!   flood of idle connections cannot lock new clients out.
//! - A request's headers must arrive within `header_timeout` of the
//!   connection opening or of the previous response, its body within
//!   `body_timeout` of its headers (408 otherwise); a connection with no
//!   request in progress for `idle_timeout` is closed.
//! - Requests per API token and per client IP are rate limited (429 with
//!   `Retry-After`); `/healthz` is exempt, so that health checks from a
//!   load balancer's single address keep answering.

mod body;
mod conns;
mod rate;

pub use body::BodyTimedOut;
pub use rate::{Limited, Rate, RateLimits};

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use crate::http::ApiError;
use conns::{Conns, Slot};

/// The limits of the edge; `kith serve` flags set them.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// Open connections at most (lowered to fit the descriptor limit).
    pub max_connections: usize,
    /// From a connection opening (or its last response) to a whole request head.
    pub header_timeout: Duration,
    /// From a request's head to the end of its body.
    pub body_timeout: Duration,
    /// A connection with no request in progress for this long is closed.
    pub idle_timeout: Duration,
    /// Requests per API token.
    pub token_rate: Rate,
    /// Requests per client IP address.
    pub ip_rate: Rate,
}

impl Default for EdgeConfig {
    /// Limits far above what the load benchmarks need from one client.
    fn default() -> Self {
        EdgeConfig {
            max_connections: 10_000,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            token_rate: Rate {
                per_second: 2_000.0,
                burst: 4_000.0,
            },
            ip_rate: Rate {
                per_second: 5_000.0,
                burst: 10_000.0,
            },
        }
    }
}

/// Descriptors kept for the database, the plugin cache and the rest.
const RESERVED_FDS: u64 = 256;

/// Serves `app` on `listener` within the limits of `config` until
/// `shutdown` resolves, then lets requests in progress finish.
///
/// # Errors
/// None so far: failed accepts (e.g. a descriptor limit) are logged and retried.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    config: &EdgeConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let cap = connection_cap(config.max_connections);
    let conns = Conns::new(cap, config.idle_timeout);
    let limits = Arc::new(RateLimits::new(config.token_rate, config.ip_rate));
    let app = app
        .layer(axum::middleware::from_fn(per_ip))
        .layer(Extension(limits));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let slot = conns.admit().await;
        let connection = Connection {
            app: app.clone(),
            http: http.clone(),
            body_timeout: config.body_timeout,
            peer,
        };
        tokio::spawn(connection.run(stream, slot));
    }
    conns.close_all();
    while !conns.is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// The kernel's queue of connections not yet accepted: longer than tokio's
/// default (1024), so that a burst of attack connections is less likely to
/// crowd out a new client's (Linux caps it at `net.core.somaxconn`).
const LISTEN_BACKLOG: u32 = 8192;

/// A listening socket on `addr`.
///
/// # Errors
/// If the address cannot be bound.
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// `wanted`, or less if the descriptor limit (raised as far as allowed)
/// would not leave a quarter spare.
fn connection_cap(wanted: usize) -> usize {
    let fds = match raise_fd_limit() {
        Ok(fds) => fds,
        Err(e) => {
            tracing::warn!("cannot read the file-descriptor limit: {e}");
            return wanted;
        }
    };
    let fit = (fds.saturating_sub(RESERVED_FDS) / 4 * 3).max(1);
    if (wanted as u64) > fit {
        tracing::warn!(
            "at most {fit} connections (not {wanted}): the file-descriptor limit is {fds}"
        );
        return fit as usize;
    }
    wanted
}

/// Raises the soft limit on open files to the hard limit; the new limit.
fn raise_fd_limit() -> std::io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write `limit`.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    Ok(limit.rlim_cur)
}

/// One accepted connection and what serving it needs.
struct Connection {
    app: Router,
    http: hyper::server::conn::http1::Builder,
    body_timeout: Duration,
    peer: SocketAddr,
}

impl Connection {
    /// Serves requests until the client closes, a timeout passes, or the
    /// table asks for the place back; then lets a request in progress
    /// finish (a client that stops reading is dropped a second later).
    async fn run(self, stream: TcpStream, slot: Slot) {
        let slot = Arc::new(slot);
        let (app, body_timeout, peer) = (self.app, self.body_timeout, self.peer);
        let in_slot = slot.clone();
        let service = hyper::service::service_fn(move |request| {
            let busy = in_slot.busy();
            let app = app.clone();
            async move {
                let response = handle(app, request, body_timeout, peer).await;
                drop(busy);
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        let conn = self.http.serve_connection(TokioIo::new(stream), service);
        let mut conn = std::pin::pin!(conn);
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = slot.should_close() => {}
        }
        conn.as_mut().graceful_shutdown();
        loop {
            let grace = tokio::time::timeout(Duration::from_secs(1), conn.as_mut()).await;
            if grace.is_ok() || !slot.is_busy() {
                return;
            }
        }
    }
}

/// One request: the client address for the rate limit, the body deadline,
/// and a 408 if the body was not all there in time.
async fn handle(
    app: Router,
    request: hyper::Request<hyper::body::Incoming>,
    body_timeout: Duration,
    peer: SocketAddr,
) -> Response {
    let fired = Arc::new(AtomicBool::new(false));
    let mut request = request
        .map(|b| axum::body::Body::new(body::DeadlineBody::new(b, body_timeout, fired.clone())));
    request.extensions_mut().insert(ConnectInfo(peer));
    let response = app.oneshot(request).await.unwrap_or_else(|e| match e {});
    if !fired.load(Ordering::Relaxed) {
        return response;
    }
    let mut response = ApiError::RequestTimeout(format!(
        "the request body was not received within {} ms",
        body_timeout.as_millis()
    ))
    .into_response();
    response.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    response
}

/// The per-IP limit, before routing (so unknown paths count too).
async fn per_ip(request: Request, next: Next) -> Result<Response, ApiError> {
    let limits = request.extensions().get::<Arc<RateLimits>>();
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>();
    if let (Some(limits), Some(ConnectInfo(peer))) = (limits, peer) {
        if !crate::domain::is_rate_exempt(request.uri().path()) {
            limits.check_ip(peer.ip())?;
        }
    }
    Ok(next.run(request).await)
}
