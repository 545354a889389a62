//! A real webhook receiver for alert tests: an HTTP server on 127.0.0.1 (its own thread
//! and runtime) that records every POST it gets — headers and JSON body — and answers
//! with the statuses it was told to, in order (then 200).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

/// One POST the receiver got.
#[derive(Debug, Clone)]
pub struct Hook {
    pub path: String,
    pub headers: HeaderMap,
    pub body: serde_json::Value,
    /// What the receiver answered.
    pub status: u16,
}

#[derive(Default)]
struct Shared {
    got: Mutex<Vec<Hook>>,
    answers: Mutex<VecDeque<u16>>,
}

/// The receiver; stops when dropped.
pub struct WebhookReceiver {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let status = shared
        .answers
        .lock()
        .expect("answers")
        .pop_front()
        .unwrap_or(200);
    shared.got.lock().expect("got").push(Hook {
        path: uri.path().to_string(),
        headers,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        status,
    });
    StatusCode::from_u16(status).unwrap_or(StatusCode::OK)
}

impl WebhookReceiver {
    /// Start on a free port.
    pub fn start() -> WebhookReceiver {
        let shared = Arc::new(Shared::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let s2 = shared.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                addr_tx
                    .send(listener.local_addr().expect("addr"))
                    .expect("send");
                let app = axum::Router::new().fallback(receive).with_state(s2);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("serve");
            });
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(10)).expect("up");
        WebhookReceiver {
            addr,
            shared,
            _stop: stop,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Answer the next POSTs with these statuses, in order (then 200 again).
    pub fn answer(&self, statuses: &[u16]) {
        self.shared
            .answers
            .lock()
            .expect("answers")
            .extend(statuses.iter().copied());
    }

    /// Every POST so far, in arrival order.
    pub fn hooks(&self) -> Vec<Hook> {
        self.shared.got.lock().expect("got").clone()
    }

    /// The POSTs answered with a 2xx.
    pub fn accepted(&self) -> Vec<Hook> {
        self.hooks()
            .into_iter()
            .filter(|h| (200..300).contains(&h.status))
            .collect()
    }
}
