//! A local HTTP server for the benchmarks: serves prepared feed bodies with ETags and
//! answers `If-None-Match` with 304, on its own thread and runtime so that it does not
//! share the measured process's async workers; and the /proc readings of a process's
//! memory.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, Response, header};

pub struct Feeds {
    pub bodies: HashMap<String, (Vec<u8>, String)>,
    pub requests: AtomicU64,
    pub not_modified: AtomicU64,
}

pub struct FeedServer {
    pub addr: SocketAddr,
    pub feeds: Arc<Feeds>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn handle(State(feeds): State<Arc<Feeds>>, req: Request<Body>) -> Response<Body> {
    feeds.requests.fetch_add(1, Ordering::Relaxed);
    let Some((body, etag)) = feeds.bodies.get(req.uri().path()) else {
        return Response::builder()
            .status(404)
            .body(Body::empty())
            .unwrap_or_default();
    };
    let inm = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .map(|v| v.as_bytes());
    if inm == Some(etag.as_bytes()) {
        feeds.not_modified.fetch_add(1, Ordering::Relaxed);
        return Response::builder()
            .status(304)
            .header(header::ETAG, etag.as_str())
            .body(Body::empty())
            .unwrap_or_default();
    }
    Response::builder()
        .header(header::CONTENT_TYPE, "application/rss+xml; charset=utf-8")
        .header(header::ETAG, etag.as_str())
        .body(Body::from(body.clone()))
        .unwrap_or_default()
}

impl FeedServer {
    pub fn start(bodies: HashMap<String, (Vec<u8>, String)>) -> std::io::Result<FeedServer> {
        let feeds = Arc::new(Feeds {
            bodies,
            requests: AtomicU64::new(0),
            not_modified: AtomicU64::new(0),
        });
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let f2 = feeds.clone();
        std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::bind("127.0.0.1:0").await else {
                    return;
                };
                let _ = addr_tx.send(listener.local_addr());
                let app = axum::Router::new().fallback(handle).with_state(f2);
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stop_rx.await;
                    })
                    .await;
            });
        });
        let addr = addr_rx
            .recv()
            .map_err(|e| std::io::Error::other(e.to_string()))??;
        Ok(FeedServer {
            addr,
            feeds,
            _stop: stop_tx,
        })
    }
}

/// Peak resident set size of process `pid` in MB (VmHWM), if readable.
pub fn peak_rss_mb(pid: u32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Current resident set size of process `pid` in MB (VmRSS).
pub fn rss_mb(pid: u32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
