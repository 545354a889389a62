//! The real `gomtin serve` binary: crash safety under SIGKILL, graceful SIGTERM, a second
//! instance refused, `/healthz` and `/metrics`.

mod support;

use std::time::Duration;

use support::{FixtureServer, Route, TestConfig, baomoi, corpus, feed_source};

/// Feeds built from the real corpus: `feeds` feeds of `per_feed` items each, each answered
/// after `delay`.
fn corpus_feeds_slowed(
    server: &FixtureServer,
    feeds: usize,
    per_feed: usize,
    delay: Duration,
) -> String {
    let articles = baomoi(Some(feeds * per_feed));
    let mut sources = String::new();
    for (f, chunk) in articles.chunks(per_feed).enumerate() {
        let path = format!("/bm/{f}.xml");
        server.set(
            &path,
            Route::ok(corpus::rss(chunk), "application/rss+xml").with_delay(delay),
        );
        sources.push_str(
            &feed_source(&format!("bm-{f}"), &server.url(&path)).replace("\"15m\"", "\"1h\""),
        );
    }
    sources
}

fn corpus_feeds(server: &FixtureServer, feeds: usize, per_feed: usize) -> String {
    corpus_feeds_slowed(server, feeds, per_feed, Duration::ZERO)
}

/// What the data folder held right after one SIGKILL.
#[derive(Debug)]
struct Kill {
    /// Items stored before this run started, and after it was killed.
    before: i64,
    after: i64,
    /// Changes in SQLite the index had not committed (SQLite's last seq - the index's).
    lag: i64,
}

impl Kill {
    /// The kill landed in the middle of the work: the pass had stored part of the items,
    /// or SQLite was ahead of the index.
    fn mid_write(&self, total: i64) -> bool {
        (self.before < self.after && self.after < total) || self.lag > 0
    }
}

/// The item count and index lag of the (stopped) data folder of `cfg`.
fn state(cfg: &TestConfig) -> (i64, i64) {
    let store = gomtin::store::Store::open(&cfg.data_dir()).expect("store");
    let index = gomtin::index::SearchIndex::open(&cfg.data_dir().join("index")).expect("index");
    let lag = store.max_seq().expect("seq") - index.indexed_seq().expect("seq");
    (store.item_count().expect("count"), lag)
}

#[test]
fn sigkill_at_any_moment_loses_and_duplicates_nothing() {
    let server = FixtureServer::start();
    // 3,000 real articles in 24 feeds; each feed answers after 100 ms, so a pass (two at a
    // time per host) lasts over a second and a kill can land inside it.
    let (feeds, per_feed) = (24, 125);
    let total = (feeds * per_feed) as i64;
    let cfg = TestConfig::new(&corpus_feeds_slowed(
        &server,
        feeds,
        per_feed,
        Duration::from_millis(100),
    ));
    // Each run is killed as soon as it has stored something new: the kill lands while the
    // pass is writing (feeds still to store, the index perhaps behind), not before it
    // starts or after it ends. Each kill's state is read from the data folder afterwards.
    let mut kills: Vec<Kill> = Vec::new();
    let mut before = 0;
    while kills.len() < 8 && before < total {
        let mut d = cfg.serve();
        let seen = d.wait_health(Duration::from_secs(60), |v| {
            v["items"].as_i64().unwrap_or(0) > before
        });
        d.kill().expect("SIGKILL");
        seen.unwrap_or_else(|e| panic!("run {} stored nothing new: {e}", kills.len() + 1));
        let (after, lag) = state(&cfg);
        assert!(after >= before, "items lost by a kill: {before} -> {after}");
        kills.push(Kill { before, after, lag });
        before = after;
    }
    let mid = kills.iter().filter(|k| k.mid_write(total)).count();
    eprintln!("{mid} of {} kills mid-write: {kills:?}", kills.len());
    assert!(
        mid >= 4,
        "only {mid} of {} kills landed mid-write: {kills:?}",
        kills.len()
    );
    // A last run that is allowed to finish.
    let mut d = cfg.serve();
    d.wait_health(Duration::from_secs(120), |v| {
        v["items"] == total && v["index_lag"] == 0 && v["index_documents"] == total
    })
    .unwrap_or_else(|e| panic!("never caught up after {kills:?}: {e}"));
    let status = d.terminate(Duration::from_secs(60)).expect("exit");
    assert!(status.success(), "{status:?}: {}", d.stderr());

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
    let v = cfg.json(&["search", "--json", "--limit", "200", "Việt Nam"]);
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

/// The slow feed answers after this: far longer than any sane shutdown.
const SLOW: Duration = Duration::from_secs(600);

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
        .with_delay(SLOW),
    );
    sources.push_str(&feed_source("slow", &server.url("/slow.xml")));
    let cfg = TestConfig::new(&sources);
    cfg.append("\n[scheduler]\nshutdown_grace = \"1s\"\n");

    let mut d = cfg.serve();
    // Wait until the slow request is in flight and the fast feeds are stored.
    d.wait_health(Duration::from_secs(30), |v| {
        server.requests().len() >= 3 && v["items"] == 100
    })
    .unwrap_or_else(|e| panic!("fast feeds never stored: {e}"));
    // A generous bound: what is tested is that serve does not wait for the slow fetch
    // (10 minutes), not how many milliseconds a loaded machine takes to shut down.
    let status = d.terminate(Duration::from_secs(60)).expect("exit");
    assert!(
        status.success(),
        "exit 0 on SIGTERM, got {status:?}: {}",
        d.stderr()
    );
    let log = regex::Regex::new("\x1b\\[[0-9;]*m")
        .expect("regex")
        .replace_all(&d.stderr(), "")
        .to_string();
    assert!(
        log.contains("abandoning fetches still in flight") && log.contains("abandoned=1"),
        "the slow fetch is abandoned after the grace period: {log}"
    );
    assert!(log.contains("scheduler stopped, index committed"), "{log}");
    let slow: Vec<u16> = server
        .requests_to("/slow.xml")
        .iter()
        .map(|s| s.status)
        .collect();
    assert_eq!(slow, [0], "the slow response never completed: {slow:?}");
    let index = gomtin::index::SearchIndex::open(&cfg.data_dir().join("index")).expect("index");
    assert_eq!(index.doc_count(), 100, "index committed before exit");
    // The lock is released: a new command can use the data folder.
    cfg.cmd(&["reindex"]).assert().success();
}

#[test]
fn second_instance_refused_and_endpoints_answer() {
    let server = FixtureServer::start();
    let cfg = TestConfig::new(&corpus_feeds(&server, 1, 20));
    let mut d = cfg.serve();
    let second = cfg
        .cmd(&["serve", "--listen", "127.0.0.1:0"])
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&second.get_output().stderr).to_string();
    assert!(
        err.contains("đang được một tiến trình gomtin khác sử dụng"),
        "{err}"
    );

    // Every answer on the way must be a 200 with JSON.
    let health = d
        .wait_health(Duration::from_secs(30), |v| {
            v["items"] == 20 && v["index_lag"] == 0
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(health["status"], "ok");
    assert_eq!(health["sources_failing"], 0);

    let (code, text) = d.get("/metrics").expect("/metrics");
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
    let status = d.terminate(Duration::from_secs(10)).expect("exit");
    assert!(status.success(), "{status:?}: {}", d.stderr());
}
