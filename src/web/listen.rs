//! The web server's socket side: the accept loop `gomtin serve` runs the router on. axum's
//! own `serve` gives no header-read timeout and no connection caps, so a stranger holding
//! a thousand half-sent requests (slowloris) would use up the process's file descriptors
//! and starve everyone. Here each connection is driven by hyper directly, with
//! `[server.limits]`:
//! - a request head must arrive within `header_timeout` (the first one and every later
//!   one on a kept-alive connection), else the connection is closed;
//! - at most `max_connections` are open at once (kept below `ulimit -n`), at most
//!   `max_connections_per_client` from one address (not behind a proxy); a connection
//!   over either cap gets a short 503 in Vietnamese and is closed;
//! - a request must be answered within [`REQUEST_TIMEOUT`] (a body sent slowly counts).
//!
//! Accept errors (out of file descriptors included) pause the loop briefly instead of
//! ending it. On shutdown the listener closes and open connections finish their request.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::config::ServerLimits;

/// Longest time one request may take, from its head to the end of its answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// File descriptors left for SQLite, the index and outgoing fetches when the connection
/// cap is fitted under `ulimit -n`.
const FD_RESERVE: usize = 256;
/// Refusals being written at once; beyond that a connection is just closed.
const MAX_REFUSING: usize = 256;
/// How long open connections may take to finish after a shutdown request.
const DRAIN: Duration = Duration::from_secs(10);

/// The caps in force: `[server.limits]`, the total fitted under the open-file limit.
#[derive(Debug, Clone)]
pub struct Caps {
    pub header_timeout: Duration,
    pub max_connections: usize,
    /// 0: none.
    pub max_per_client: usize,
}

impl Caps {
    /// The caps for `limits`; `behind_proxy` lifts the per-client one (every connection
    /// comes from the proxy).
    pub fn new(limits: &ServerLimits, behind_proxy: bool) -> Caps {
        let mut max = limits.max_connections;
        if let Some(fds) = open_file_limit() {
            let fit = fds.saturating_sub(FD_RESERVE).max(16);
            if fit < max {
                tracing::warn!(
                    configured = max,
                    open_file_limit = fds,
                    used = fit,
                    "max_connections lowered to fit the open-file limit (raise ulimit -n / LimitNOFILE)"
                );
                max = fit;
            }
        }
        Caps {
            header_timeout: limits.header_timeout,
            max_connections: max,
            max_per_client: if behind_proxy {
                0
            } else {
                limits.max_connections_per_client
            },
        }
    }
}

/// The soft open-file limit of this process (Linux: `/proc/self/limits`).
fn open_file_limit() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Open connections, overall and per client address.
#[derive(Default)]
struct Counts {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
    refusing: usize,
}

/// Why a connection is refused.
#[derive(Clone, Copy)]
enum Refusal {
    Busy,
    ThisClient,
}

/// A slot taken for one open connection, given back when the connection ends.
struct Slot {
    counts: Arc<Mutex<Counts>>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        c.total = c.total.saturating_sub(1);
        if let Some(n) = c.per_client.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                c.per_client.remove(&self.ip);
            }
        }
    }
}

/// Take a slot for a connection from `ip`, or say why not.
fn admit(counts: &Arc<Mutex<Counts>>, caps: &Caps, ip: IpAddr) -> Result<Slot, Refusal> {
    let mut c = counts.lock().unwrap_or_else(|p| p.into_inner());
    if c.total >= caps.max_connections {
        return Err(Refusal::Busy);
    }
    let mine = c.per_client.get(&ip).copied().unwrap_or(0);
    if caps.max_per_client > 0 && mine >= caps.max_per_client {
        return Err(Refusal::ThisClient);
    }
    c.total += 1;
    *c.per_client.entry(ip).or_insert(0) += 1;
    Ok(Slot {
        counts: counts.clone(),
        ip,
    })
}

/// Serve `router` on `listener` under `caps` until `shutdown` is cancelled.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    caps: Caps,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    tracing::info!(
        header_timeout_ms = caps.header_timeout.as_millis() as u64,
        max_connections = caps.max_connections,
        max_per_client = caps.max_per_client,
        "web server limits"
    );
    let router = router.layer(axum::middleware::from_fn(answer_in_time));
    let counts = Arc::new(Mutex::new(Counts::default()));
    // Every connection task holds a clone; when all are gone, the drain is over.
    let (alive, mut drained) = tokio::sync::mpsc::channel::<()>(1);
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors (EMFILE/ENFILE) or a connection gone before it
                // was taken: wait for slots to free up instead of spinning or stopping.
                tracing::warn!(error = %e, "accept failed; pausing");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        match admit(&counts, &caps, peer.ip()) {
            Ok(slot) => {
                let (router, caps, shutdown, alive) = (
                    router.clone(),
                    caps.clone(),
                    shutdown.clone(),
                    alive.clone(),
                );
                tokio::spawn(async move {
                    connection(stream, peer, router, &caps, shutdown).await;
                    drop(slot);
                    drop(alive);
                });
            }
            Err(why) => refuse(stream, peer, why, &counts),
        }
    }
    drop(listener);
    drop(alive);
    if tokio::time::timeout(DRAIN, drained.recv()).await.is_err() {
        tracing::warn!("connections still open after the shutdown grace; closing them");
    }
    Ok(())
}

/// Drive one HTTP/1.1 connection with the header timeout; on shutdown, finish the
/// request in flight and close.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    caps: &Caps,
    shutdown: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    // Handlers see the client address as with axum's `into_make_service_with_connect_info`.
    let service = router.map_request(move |mut req: Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(caps.header_timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        res = conn.as_mut() => {
            if let Err(e) = res {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        }
        _ = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Answer a connection over a cap with a short 503 and close it — without waiting on the
/// client for long, and without writing at all when too many refusals are under way.
fn refuse(mut stream: TcpStream, peer: SocketAddr, why: Refusal, counts: &Arc<Mutex<Counts>>) {
    {
        let mut c = counts.lock().unwrap_or_else(|p| p.into_inner());
        if c.refusing >= MAX_REFUSING {
            return; // dropped: closed at once
        }
        c.refusing += 1;
    }
    let body = match why {
        Refusal::Busy => {
            tracing::warn!(%peer, "connection refused: the server is at max_connections");
            "Máy chủ gomtin đang quá tải (quá nhiều kết nối). Xin thử lại sau ít phút.\n"
        }
        Refusal::ThisClient => {
            tracing::warn!(%peer, "connection refused: this address is at max_connections_per_client");
            "Địa chỉ của bạn đang mở quá nhiều kết nối tới gomtin. Hãy đóng bớt rồi thử lại.\n"
        }
    };
    let counts = counts.clone();
    tokio::spawn(async move {
        let answer = format!(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 10\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let written =
            tokio::time::timeout(Duration::from_secs(1), stream.write_all(answer.as_bytes())).await;
        if matches!(written, Ok(Ok(()))) {
            let _ = stream.shutdown().await;
            // Read what the client sent so that closing is a FIN, not a reset that could
            // discard the answer before the client reads it.
            let mut sink = [0u8; 1024];
            let _ = tokio::time::timeout(Duration::from_millis(200), async {
                while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
            })
            .await;
        }
        let mut c = counts.lock().unwrap_or_else(|p| p.into_inner());
        c.refusing = c.refusing.saturating_sub(1);
    });
}

/// A request that is not answered within [`REQUEST_TIMEOUT`] (a body dripped in, a
/// stalled handler) ends with a 503 and frees its connection.
async fn answer_in_time(req: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            tracing::warn!("request not answered in time");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Yêu cầu quá thời gian xử lý. Xin thử lại.\n",
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_count_per_client_and_in_total() {
        let caps = Caps {
            header_timeout: Duration::from_secs(1),
            max_connections: 3,
            max_per_client: 2,
        };
        let counts = Arc::new(Mutex::new(Counts::default()));
        let a: IpAddr = "10.0.0.1".parse().expect("ip");
        let b: IpAddr = "10.0.0.2".parse().expect("ip");
        let a1 = admit(&counts, &caps, a).ok().expect("first");
        let _a2 = admit(&counts, &caps, a).ok().expect("second");
        assert!(matches!(admit(&counts, &caps, a), Err(Refusal::ThisClient)));
        let _b1 = admit(&counts, &caps, b).ok().expect("other client");
        assert!(matches!(admit(&counts, &caps, b), Err(Refusal::Busy)));
        drop(a1);
        assert!(admit(&counts, &caps, b).is_ok(), "a slot came back");
    }

    #[test]
    fn the_open_file_limit_is_read() {
        if cfg!(target_os = "linux") {
            assert!(open_file_limit().is_some_and(|n| n > 0));
        }
    }
}
