//! Test support: a real HTTP server on 127.0.0.1 that serves fixture bodies, answers
//! conditional GETs, can be told to fail, and records every request it sees; plus helpers
//! to write a config and run the real `gomtin` binary.
#![allow(dead_code)]

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
            let not_modified = r.status == 200
                && r.etag
                    .as_ref()
                    .is_some_and(|e| inm.as_deref() == Some(e.as_bytes()));
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
}

/// A `[[sources]]` block for a feed URL.
pub fn feed_source(id: &str, url: &str) -> String {
    format!(
        "[[sources]]\nid = \"{id}\"\nname = \"Nguồn {id}\"\nkind = \"feed\"\nurl = \"{url}\"\ninterval = \"15m\"\n\n"
    )
}

/// One article of the baomoi corpus.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct Article {
    pub id: String,
    pub url: String,
    pub title: String,
    pub summary: String,
    pub body: String,
}

/// The first `n` articles of `../shared/data/corpus/baomoi-35k.jsonl.gz` (all when `None`).
pub fn baomoi(n: Option<usize>) -> Vec<Article> {
    use std::io::BufRead;
    let f = std::fs::File::open(shared_data().join("corpus/baomoi-35k.jsonl.gz")).expect("corpus");
    let r = std::io::BufReader::new(flate2::read::GzDecoder::new(f));
    r.lines()
        .take(n.unwrap_or(usize::MAX))
        .map(|l| serde_json::from_str(&l.expect("line")).expect("article json"))
        .collect()
}

/// Store and index `articles` as items of source `src` (by `id % sources`) straight through
/// normalize -> SQLite -> tantivy, without HTTP. Returns the config used.
pub fn ingest_articles(data_dir: &Path, articles: &[Article], sources: usize) -> gomtin::app::App {
    let mut toml = format!("[storage]\ndata_dir = \"{}\"\n", data_dir.display());
    for s in 0..sources {
        toml.push_str(&format!(
            "[[sources]]\nid = \"bm-{s}\"\nname = \"Báo mới {s}\"\nkind = \"feed\"\nurl = \"https://baomoi.example/{s}.rss\"\n"
        ));
    }
    let cfg_path = data_dir.with_extension("toml");
    std::fs::write(&cfg_path, toml).expect("write config");
    let config = gomtin::config::Config::load(&cfg_path).expect("config");
    let app = gomtin::app::App::open(config).expect("app");
    let now = chrono::Utc::now();
    let mut batch = Vec::new();
    for a in articles {
        let src = a.id.parse::<u64>().unwrap_or(0) % sources as u64;
        let raw = gomtin::model::RawEntry {
            guid: Some(a.id.clone()),
            title: Some(a.title.clone()),
            link: Some(a.url.clone()),
            summary_html: Some(a.summary.clone()),
            content_html: Some(a.body.clone()),
            published: Some(now - chrono::Duration::days(30)),
            ..Default::default()
        };
        if let Some(item) = gomtin::normalize::normalize_entry(&format!("bm-{src}"), raw, None, now)
        {
            batch.push(item);
        }
        if batch.len() >= 1000 {
            app.store.upsert_items(&batch, now).expect("upsert");
            batch.clear();
        }
    }
    app.store.upsert_items(&batch, now).expect("upsert");
    app.index.reconcile(&app.store).expect("reconcile");
    app
}
