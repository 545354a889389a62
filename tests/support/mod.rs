//! Test support: a real HTTP server on 127.0.0.1 that serves fixture bodies, answers
//! conditional GETs, can be told to fail, and records every request it sees; helpers to
//! write a config and run the real `gomtin` binary; and, in submodules, the real
//! `gomtin serve` (`daemon`), the baomoi corpus (`corpus`), logged-in web sessions (`web`),
//! a real SMTP server (`smtp`), the digest runner's setup (`digest`), headless Chromium
//! (`browser`), the judged tone set (`tone_eval`) and a webhook receiver (`webhook`).
#![allow(dead_code)]

pub mod browser;
pub mod corpus;
pub mod daemon;
pub mod digest;
pub mod hostile;
pub mod smtp;
pub mod tone_eval;
pub mod web;
pub mod webhook;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Request, Response, header};

/// What the server answers on one path.
#[derive(Clone, Debug)]
pub struct Route {
    pub status: u16,
    pub body: Vec<u8>,
    pub content_type: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub extra_headers: Vec<(String, String)>,
    pub delay: Duration,
}

impl Route {
    pub fn ok(body: impl Into<Vec<u8>>, content_type: &str) -> Route {
        Route {
            status: 200,
            body: body.into(),
            content_type: content_type.to_string(),
            etag: None,
            last_modified: None,
            extra_headers: Vec::new(),
            delay: Duration::ZERO,
        }
    }
    pub fn status(status: u16) -> Route {
        Route {
            status,
            ..Route::ok(Vec::new(), "text/plain")
        }
    }
    pub fn with_etag(mut self, etag: &str) -> Route {
        self.etag = Some(etag.to_string());
        self
    }
    /// Sends `Last-Modified: lm` and answers 304 to an `If-Modified-Since` equal to it
    /// (when the request has no `If-None-Match` the route's ETag would decide).
    pub fn with_last_modified(mut self, lm: &str) -> Route {
        self.last_modified = Some(lm.to_string());
        self
    }
    pub fn with_header(mut self, k: &str, v: &str) -> Route {
        self.extra_headers.push((k.to_string(), v.to_string()));
        self
    }
    pub fn with_delay(mut self, d: Duration) -> Route {
        self.delay = d;
        self
    }
}

/// One request the server saw.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub headers: HeaderMap,
    pub at: Instant,
    pub status: u16,
}

#[derive(Default)]
struct Shared {
    routes: Mutex<HashMap<String, Route>>,
    seen: Mutex<Vec<Seen>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// A fixture HTTP server running on its own thread and runtime.
pub struct FixtureServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request<Body>) -> Response<Body> {
    let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let path = req.uri().path().to_string();
    // Record on arrival (a slow response is still visible as in flight).
    let slot = {
        let mut seen = shared.seen.lock().expect("seen");
        seen.push(Seen {
            path: path.clone(),
            headers: req.headers().clone(),
            at: Instant::now(),
            status: 0,
        });
        seen.len() - 1
    };
    let route = shared.routes.lock().expect("routes").get(&path).cloned();
    let response = match route {
        None => Response::builder()
            .status(404)
            .body(Body::from("not found"))
            .expect("response"),
        Some(r) => {
            if !r.delay.is_zero() {
                tokio::time::sleep(r.delay).await;
            }
            let inm = req
                .headers()
                .get(header::IF_NONE_MATCH)
                .map(|v| v.as_bytes().to_vec());
            let ims = req
                .headers()
                .get(header::IF_MODIFIED_SINCE)
                .map(|v| v.as_bytes().to_vec());
            // If-None-Match decides when both are sent and the route has an ETag (RFC 9110
            // 13.2.2); the date is compared as the server sent it, byte for byte.
            let not_modified = r.status == 200
                && match (&r.etag, inm.as_deref()) {
                    (Some(e), Some(inm)) => inm == e.as_bytes(),
                    _ => r
                        .last_modified
                        .as_ref()
                        .is_some_and(|lm| ims.as_deref() == Some(lm.as_bytes())),
                };
            let mut b = Response::builder().status(if not_modified { 304 } else { r.status });
            if let Some(e) = &r.etag {
                b = b.header(header::ETAG, e.as_str());
            }
            if let Some(lm) = &r.last_modified {
                b = b.header(header::LAST_MODIFIED, lm.as_str());
            }
            for (k, v) in &r.extra_headers {
                b = b.header(k.as_str(), v.as_str());
            }
            b = b.header(header::CONTENT_TYPE, r.content_type.as_str());
            let body = if not_modified {
                Vec::new()
            } else {
                r.body.clone()
            };
            b.body(Body::from(body)).expect("response")
        }
    };
    if let Some(s) = shared.seen.lock().expect("seen").get_mut(slot) {
        s.status = response.status().as_u16();
    }
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

impl FixtureServer {
    /// Start a server on 127.0.0.1 with a free port.
    pub fn start() -> FixtureServer {
        let shared = Arc::new(Shared::default());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let s2 = shared.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                addr_tx
                    .send(listener.local_addr().expect("addr"))
                    .expect("send addr");
                let app = axum::Router::new().fallback(handle).with_state(s2);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await
                    .expect("serve");
            });
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("server up");
        FixtureServer {
            addr,
            shared,
            _shutdown: tx,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn set(&self, path: &str, route: Route) {
        self.shared
            .routes
            .lock()
            .expect("routes")
            .insert(path.to_string(), route);
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.shared.seen.lock().expect("seen").clone()
    }

    pub fn requests_to(&self, path: &str) -> Vec<Seen> {
        self.requests()
            .into_iter()
            .filter(|s| s.path == path)
            .collect()
    }

    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }
}

/// `../shared/data` beside the checkout.
pub fn shared_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data")
}

/// A temporary folder holding `gomtin.toml` with the given sources TOML appended.
pub struct TestConfig {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl TestConfig {
    pub fn new(sources_toml: &str) -> TestConfig {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("gomtin.toml");
        let text = format!(
            "[storage]\ndata_dir = \"data\"\n[fetch]\nallow_private_networks = true\ntimeout = \"10s\"\n\n{sources_toml}"
        );
        std::fs::write(&path, text).expect("write config");
        TestConfig { dir, path }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `gomtin --config <this> ARGS...` as an assert_cmd command.
    pub fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::cargo_bin("gomtin").expect("binary");
        c.arg("--config").arg(&self.path).args(args);
        c.env_remove("GOMTIN_CONFIG")
            .timeout(Duration::from_secs(120));
        c
    }

    /// Runs `gomtin ARGS...`, which must succeed; its stdout.
    pub fn stdout(&self, args: &[&str]) -> String {
        let out = self.cmd(args).assert().success();
        String::from_utf8_lossy(&out.get_output().stdout).to_string()
    }

    /// Runs `gomtin ARGS...` (a `--json` form), which must succeed; its stdout as JSON.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.cmd(args).assert().success();
        serde_json::from_slice(&out.get_output().stdout).expect("--json prints JSON")
    }

    /// `gomtin post add --source SOURCE --url URL --text TEXT MORE...`, which must succeed.
    pub fn post_add(&self, source: &str, url: &str, text: &str, more: &[&str]) {
        let mut args = vec![
            "post", "add", "--source", source, "--url", url, "--text", text,
        ];
        args.extend_from_slice(more);
        self.cmd(&args).assert().success();
    }

    /// Appends `toml` to the config file.
    pub fn append(&self, toml: &str) {
        let text = std::fs::read_to_string(&self.path).expect("read config") + toml;
        std::fs::write(&self.path, text).expect("write config");
    }

    /// The real `gomtin serve` on this config, ready to answer.
    pub fn serve(&self) -> daemon::Daemon {
        daemon::Daemon::start(gomtin_bin(), &self.path).expect("start gomtin serve")
    }
}

/// The `gomtin` binary cargo built for these tests.
pub fn gomtin_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gomtin"))
}

/// A `[[sources]]` block for a feed URL.
pub fn feed_source(id: &str, url: &str) -> String {
    format!(
        "[[sources]]\nid = \"{id}\"\nname = \"Nguồn {id}\"\nkind = \"feed\"\nurl = \"{url}\"\ninterval = \"15m\"\n\n"
    )
}

/// The first `n` articles of `../shared/data/corpus/baomoi-35k.jsonl.gz` (all when `None`).
pub fn baomoi(n: Option<usize>) -> Vec<corpus::Article> {
    corpus::load(&corpus::default_corpus(), n).expect("corpus")
}

/// A fixture feed of `../shared/data/feeds/vietnamese/`.
pub fn vietnamese_feed(name: &str) -> Vec<u8> {
    let path = shared_data().join("feeds/vietnamese").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture feed {}: {e}", path.display()))
}

/// The keys every search hit has, in `gomtin search --json` and in `/api/search`.
pub const HIT_KEYS: &[&str] = &[
    "id",
    "title",
    "url",
    "source",
    "published",
    "snippet",
    "score",
];

/// Fails naming every key of `keys` that `v` lacks.
pub fn assert_keys(v: &serde_json::Value, keys: &[&str]) {
    let missing: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| v.get(k).is_none())
        .collect();
    assert!(missing.is_empty(), "{missing:?} missing in {v}");
}
