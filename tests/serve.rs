//! The real `gomtin serve` binary: crash safety under SIGKILL, graceful SIGTERM, a second
//! instance refused, `/healthz` and `/metrics`.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{FixtureServer, Route, TestConfig, baomoi, feed_source};

struct Daemon {
    child: Child,
    addr: String,
}

fn start(cfg: &TestConfig) -> Daemon {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gomtin"))
        .arg("--config")
        .arg(&cfg.path)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("GOMTIN_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn gomtin serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    let mut reader = BufReader::new(stdout);
    reader.read_line(&mut line).expect("first line");
    // Keep draining stdout so the daemon never writes into a closed pipe.
    std::thread::spawn(move || {
        let mut sink = String::new();
        while reader.read_line(&mut sink).unwrap_or(0) > 0 {
            sink.clear();
        }
    });
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Daemon { child, addr }
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(ok.success());
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if start.elapsed() > within {
            let _ = child.kill();
            panic!("gomtin serve did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn get(addr: &str, path: &str) -> (u16, String) {
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let r = reqwest::get(format!("http://{addr}{path}"))
            .await
            .expect("get");
        (r.status().as_u16(), r.text().await.expect("body"))
    })
}

/// Feeds built from the real corpus: `feeds` feeds of `per_feed` items each.
fn corpus_feeds(server: &FixtureServer, feeds: usize, per_feed: usize) -> String {
    let articles = baomoi(Some(feeds * per_feed));
    let mut sources = String::new();
    for (f, chunk) in articles.chunks(per_feed).enumerate() {
        let mut xml = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>bm</title>",
        );
        for a in chunk {
            xml.push_str(&format!(
                "<item><title>{}</title><link>{}</link><guid>{}</guid><description>{}</description></item>",
                html_escape::encode_text(&a.title),
                html_escape::encode_text(&a.url),
                a.id,
                html_escape::encode_text(&a.body),
            ));
        }
        xml.push_str("</channel></rss>");
        let path = format!("/bm/{f}.xml");
        server.set(&path, Route::ok(xml, "application/rss+xml"));
        sources.push_str(
            &feed_source(&format!("bm-{f}"), &server.url(&path)).replace("\"15m\"", "\"1h\""),
        );
    }
    sources
}

#[test]
fn sigkill_at_any_moment_loses_and_duplicates_nothing() {
    let server = FixtureServer::start();
    let (feeds, per_feed) = (24, 125); // 3,000 real articles
    let cfg = TestConfig::new(&corpus_feeds(&server, feeds, per_feed));
    for delay_ms in [150u64, 400, 700, 1_100, 1_600, 2_300] {
        let mut d = start(&cfg);
        std::thread::sleep(Duration::from_millis(delay_ms));
        d.child.kill().expect("SIGKILL");
        let _ = d.child.wait();
    }
    // A last run that is allowed to finish.
    let mut d = start(&cfg);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, body) = get(&d.addr, "/healthz");
        let v: serde_json::Value = serde_json::from_str(&body).expect("healthz json");
        if v["items"] == feeds * per_feed
            && v["index_lag"] == 0
            && v["index_documents"] == feeds * per_feed
        {
            break;
        }
        assert!(Instant::now() < deadline, "never caught up: {v}");
        std::thread::sleep(Duration::from_millis(200));
    }
    signal(&d.child, "-TERM");
    assert!(wait_exit(&mut d.child, Duration::from_secs(15)).success());

    let store = gomtin::store::Store::open(&cfg.data_dir()).expect("store");
    assert_eq!(store.integrity_check().expect("check"), "ok");
    assert_eq!(
        store.item_count().expect("count"),
        (feeds * per_feed) as i64
    );
    let index = gomtin::index::SearchIndex::open(&cfg.data_dir().join("index")).expect("index");
    assert_eq!(
        index.doc_count(),
        (feeds * per_feed) as u64,
        "index count = SQLite count"
    );
    assert_eq!(
        index.indexed_seq().expect("seq"),
        store.max_seq().expect("seq")
    );
    // No duplicates in search: every id appears once.
    let out = cfg
        .cmd(&["search", "--json", "--limit", "200", "Việt Nam"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    let ids: Vec<i64> = v["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["id"].as_i64().expect("id"))
        .collect();
    let mut dedup = ids.clone();
    dedup.sort_unstable();
    dedup.dedup();
    assert!(
        ids.len() > 50,
        "common words find many items: {}",
        ids.len()
    );
    assert_eq!(dedup.len(), ids.len(), "no item appears twice");
}

#[test]
fn sigterm_during_a_fetch_exits_zero_with_index_committed() {
    let server = FixtureServer::start();
    let mut sources = corpus_feeds(&server, 2, 50);
    server.set(
        "/slow.xml",
        Route::ok(
            "<rss version=\"2.0\"><channel></channel></rss>",
            "application/rss+xml",
        )
        .with_delay(Duration::from_secs(20)),
    );
    sources.push_str(&feed_source("slow", &server.url("/slow.xml")));
    let cfg = TestConfig::new(&sources);
    let mut text = std::fs::read_to_string(&cfg.path).expect("read");
    text.push_str("\n[scheduler]\nshutdown_grace = \"1s\"\n");
    std::fs::write(&cfg.path, text).expect("write");

    let mut d = start(&cfg);
    // Wait until the slow request is in flight and the fast feeds are stored.
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.requests().len() < 3 || {
        let (_, body) = get(&d.addr, "/healthz");
        serde_json::from_str::<serde_json::Value>(&body).expect("json")["items"] != 100
    } {
        assert!(Instant::now() < deadline, "fast feeds never stored");
        std::thread::sleep(Duration::from_millis(100));
    }
    let t = Instant::now();
    signal(&d.child, "-TERM");
    let status = wait_exit(&mut d.child, Duration::from_secs(10));
    assert!(status.success(), "exit 0 on SIGTERM, got {status:?}");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "exits within a few seconds: {:?}",
        t.elapsed()
    );
    let index = gomtin::index::SearchIndex::open(&cfg.data_dir().join("index")).expect("index");
    assert_eq!(index.doc_count(), 100, "index committed before exit");
    // The lock is released: a new command can use the data folder.
    cfg.cmd(&["reindex"]).assert().success();
}

#[test]
fn second_instance_refused_and_endpoints_answer() {
    let server = FixtureServer::start();
    let cfg = TestConfig::new(&corpus_feeds(&server, 1, 20));
    let mut d = start(&cfg);
    let second = cfg
        .cmd(&["serve", "--listen", "127.0.0.1:0"])
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&second.get_output().stderr).to_string();
    assert!(
        err.contains("đang được một tiến trình gomtin khác sử dụng"),
        "{err}"
    );

    let deadline = Instant::now() + Duration::from_secs(30);
    let health = loop {
        let (code, body) = get(&d.addr, "/healthz");
        assert_eq!(code, 200);
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        if v["items"] == 20 && v["index_lag"] == 0 {
            break v;
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(health["status"], "ok");
    assert_eq!(health["sources_failing"], 0);

    let (code, text) = get(&d.addr, "/metrics");
    assert_eq!(code, 200);
    let lines: Vec<Result<String, std::io::Error>> =
        text.lines().map(|l| Ok(l.to_string())).collect();
    let scrape =
        prometheus_parse::Scrape::parse(lines.into_iter()).expect("Prometheus text parses");
    let value = |name: &str| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name)
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => -1.0,
            })
    };
    let names: Vec<&str> = scrape.samples.iter().map(|s| s.metric.as_str()).collect();
    assert_eq!(value("gomtin_fetches_total"), Some(1.0), "{names:?}");
    assert_eq!(value("gomtin_items"), Some(20.0), "{text}");
    assert_eq!(value("gomtin_index_documents"), Some(20.0), "{text}");
    assert_eq!(value("gomtin_index_lag"), Some(0.0), "{text}");
    assert!(
        scrape
            .samples
            .iter()
            .any(|s| s.metric == "gomtin_fetch_duration_seconds"),
        "{text}"
    );
    signal(&d.child, "-TERM");
    assert!(wait_exit(&mut d.child, Duration::from_secs(10)).success());
}
