//! The daemon's politeness and scheduling, against a real local HTTP server that counts
//! requests: conditional GET (ETag and Last-Modified), Retry-After, per-host limits, backoff and recovery. The
//! scheduler runs on a clock the test moves (`TestClock`), so each next-check time it
//! computes is asserted to the second instead of being inferred from wall-clock gaps on a
//! busy machine; real time only bounds how long a step may take (the harm is a hang).

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use gomtin::app::App;
use gomtin::config::Config;
use gomtin::metrics::Metrics;
use gomtin::model::OutcomeKind;
use gomtin::scheduler::Clock;
use support::{FixtureServer, Route, TestConfig, feed_source, vietnamese_feed};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

fn vne_feed() -> Vec<u8> {
    vietnamese_feed("vnexpress_tin-moi-nhat_2017_string1407.xml")
}

fn small_feed(tag: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{tag}</title>
        <item><title>Tin {tag} số một</title><link>https://x.vn/{tag}/1</link><guid>{tag}-1</guid></item>
        </channel></rss>"#
    )
    .into_bytes()
}

fn app_for(cfg: &TestConfig, extra: &str) -> App {
    cfg.append(extra);
    App::open(Config::load(&cfg.path).expect("config")).expect("app")
}

const FAST_SCHEDULER: &str = "\n[scheduler]\nmin_interval = \"1s\"\nbackoff_max = \"8s\"\njitter = 0.0\nshutdown_grace = \"2s\"\n";

/// How long one step of a scheduler test may take in real time before it is a hang.
const STEP: Duration = Duration::from_secs(30);

/// A clock the test sets: the scheduler reads `now()` from it and its waits end only when
/// the test moves it past their time.
struct TestClock(watch::Sender<DateTime<Utc>>);

impl TestClock {
    /// Starts at a whole second a day from now (every source synced at the real time is due).
    fn new() -> Arc<TestClock> {
        let start = (Utc::now() + chrono::Duration::days(1)).trunc_subsecs(0);
        Arc::new(TestClock(watch::Sender::new(start)))
    }

    fn set(&self, t: DateTime<Utc>) {
        self.0.send_replace(t);
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.borrow()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let mut rx = self.0.subscribe();
        Box::pin(async move {
            while *rx.borrow_and_update() < at {
                if rx.changed().await.is_err() {
                    return;
                }
            }
        })
    }
}

/// The real scheduler running on `clock` in a runtime of its own, until `stop`.
struct Running {
    rt: tokio::runtime::Runtime,
    token: CancellationToken,
    handle: tokio::task::JoinHandle<gomtin::error::Result<()>>,
}

impl Running {
    fn start(app: &App, clock: &Arc<TestClock>) -> Running {
        let rt = tokio::runtime::Runtime::new().expect("rt");
        let token = CancellationToken::new();
        let handle = rt.spawn(gomtin::scheduler::run_with_clock(
            app.clone(),
            Arc::new(Metrics::new()),
            token.clone(),
            clock.clone(),
        ));
        Running { rt, token, handle }
    }

    /// Clean shutdown (the index is committed).
    fn stop(self) {
        self.token.cancel();
        self.rt
            .block_on(self.handle)
            .expect("join")
            .expect("scheduler ok");
    }
}

/// `id`'s stored next check, once it differs from `previous`.
fn next_check_after(app: &App, id: &str, previous: Option<DateTime<Utc>>) -> DateTime<Utc> {
    let deadline = Instant::now() + STEP;
    loop {
        let next = app
            .store
            .schedules()
            .expect("schedules")
            .into_iter()
            .find(|s| s.id == id)
            .and_then(|s| s.next_check_at);
        if let Some(at) = next.filter(|at| Some(*at) != previous) {
            return at;
        }
        assert!(Instant::now() < deadline, "{id} was not rescheduled");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `server` has seen `n` requests, then a little more to see that no more come.
fn requests_settle(server: &FixtureServer, n: usize) {
    let deadline = Instant::now() + STEP;
    while server.requests().len() < n {
        assert!(
            Instant::now() < deadline,
            "{} requests, want {n}",
            server.requests().len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.requests().len(), n, "no request before it is due");
}

#[test]
fn etag_is_echoed_and_304_stores_nothing() {
    let server = FixtureServer::start();
    let etag = "W/\"vne-2017 ünïcode-free\"";
    server.set(
        "/feed.xml",
        Route::ok(vne_feed(), "application/rss+xml").with_etag(etag),
    );
    let cfg = TestConfig::new(&feed_source("vne", &server.url("/feed.xml")));
    let app = app_for(&cfg, "");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let first = rt
        .block_on(gomtin::pipeline::fetch_pass(&app, &[], |_| {}))
        .expect("pass");
    assert!(matches!(first[0].result, OutcomeKind::Fetched { counts, .. } if counts.new == 25));
    let seq_before = app.store.max_seq().expect("seq");
    let second = rt
        .block_on(gomtin::pipeline::fetch_pass(&app, &[], |_| {}))
        .expect("pass");
    assert!(
        matches!(second[0].result, OutcomeKind::NotModified),
        "{:?}",
        second[0].result
    );
    let reqs = server.requests_to("/feed.xml");
    assert_eq!(reqs.len(), 2);
    assert!(reqs[0].headers.get("if-none-match").is_none());
    assert_eq!(
        reqs[1]
            .headers
            .get("if-none-match")
            .map(|v| v.as_bytes().to_vec()),
        Some(etag.as_bytes().to_vec()),
        "ETag echoed byte for byte"
    );
    assert_eq!(reqs[1].status, 304);
    assert_eq!(
        app.store.max_seq().expect("seq"),
        seq_before,
        "a 304 writes no item"
    );
    assert_eq!(app.store.item_count().expect("count"), 25);
}

/// Harm prevented: a server that offers only `Last-Modified` (no ETag) had every feed
/// downloaded and parsed again each pass. The date is sent back as `If-Modified-Since`
/// byte for byte, a 304 writes nothing, and the validator survives the 304; when the
/// server then has a newer feed (new date), the old date is sent, the feed is read and
/// only its new item is stored.
#[test]
fn last_modified_is_sent_back_and_304_stores_nothing() {
    let server = FixtureServer::start();
    let lm = "Wed, 01 Apr 2026 03:04:05 GMT";
    server.set(
        "/feed.xml",
        Route::ok(vne_feed(), "application/rss+xml").with_last_modified(lm),
    );
    let cfg = TestConfig::new(&feed_source("vne", &server.url("/feed.xml")));
    let app = app_for(&cfg, "");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let pass = || {
        rt.block_on(gomtin::pipeline::fetch_pass(&app, &[], |_| {}))
            .expect("pass")
            .remove(0)
            .result
    };
    assert!(matches!(pass(), OutcomeKind::Fetched { counts, .. } if counts.new == 25));
    let seq_before = app.store.max_seq().expect("seq");
    for _ in 0..2 {
        let r = pass();
        assert!(matches!(r, OutcomeKind::NotModified), "{r:?}");
    }
    assert_eq!(
        app.store.max_seq().expect("seq"),
        seq_before,
        "a 304 writes no item"
    );
    assert_eq!(app.store.item_count().expect("count"), 25);
    // The feed changes: one more item, a newer date.
    let mut feed = String::from_utf8(vne_feed()).expect("utf-8");
    let at = feed.find("<item>").expect("an item");
    feed.insert_str(
        at,
        "<item><title>Tin mới sau ngày sửa</title><link>https://vnexpress.net/moi-1.html</link><guid>moi-1</guid></item>",
    );
    let newer = "Thu, 02 Apr 2026 00:00:00 GMT";
    server.set(
        "/feed.xml",
        Route::ok(feed, "application/rss+xml").with_last_modified(newer),
    );
    assert!(matches!(pass(), OutcomeKind::Fetched { counts, .. } if counts.new == 1));
    assert_eq!(app.store.item_count().expect("count"), 26);
    let r = pass();
    assert!(matches!(r, OutcomeKind::NotModified), "{r:?}");
    let sent: Vec<Option<String>> = server
        .requests_to("/feed.xml")
        .iter()
        .map(|s| {
            assert!(
                s.headers.get("if-none-match").is_none(),
                "no ETag was offered"
            );
            s.headers
                .get("if-modified-since")
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        })
        .collect();
    let lm = Some(lm.to_string());
    assert_eq!(
        sent,
        [None, lm.clone(), lm.clone(), lm, Some(newer.to_string())],
        "the last date the server gave, byte for byte, on every later request"
    );
    let statuses: Vec<u16> = server
        .requests_to("/feed.xml")
        .iter()
        .map(|s| s.status)
        .collect();
    assert_eq!(statuses, [200, 304, 304, 200, 304]);
}

#[test]
fn retry_after_delays_only_that_source() {
    let limited = FixtureServer::start();
    let healthy = FixtureServer::start();
    limited.set(
        "/feed.xml",
        Route::status(429).with_header("retry-after", "120"),
    );
    healthy.set(
        "/feed.xml",
        Route::ok(small_feed("ok"), "application/rss+xml"),
    );
    // Different hosts: 127.0.0.1 and localhost.
    let mut sources = feed_source("limited", &limited.url("/feed.xml"));
    let healthy_url = format!("http://localhost:{}/feed.xml", healthy.addr.port());
    sources.push_str(&feed_source("healthy", &healthy_url));
    let cfg = TestConfig::new(&sources.replace("\"15m\"", "\"1s\""));
    let app = app_for(&cfg, FAST_SCHEDULER);
    let clock = TestClock::new();
    let t0 = clock.now();
    let run = Running::start(&app, &clock);

    let limited_next = next_check_after(&app, "limited", None);
    assert_eq!(
        limited_next - t0,
        chrono::Duration::seconds(120),
        "429 + Retry-After: 120 is honoured to the second"
    );
    // The other host keeps its 1 s pace while the limited one waits.
    let mut healthy_next = next_check_after(&app, "healthy", None);
    for step in 1..=5 {
        assert_eq!(healthy_next - clock.now(), chrono::Duration::seconds(1));
        clock.set(healthy_next);
        requests_settle(&healthy, step + 1);
        healthy_next = next_check_after(&app, "healthy", Some(healthy_next));
    }
    assert_eq!(limited.requests().len(), 1, "no retry before Retry-After");
    // At the time the server asked for, it is tried again.
    clock.set(limited_next);
    requests_settle(&limited, 2);
    run.stop();
}

#[test]
fn per_host_limit_holds_across_sources() {
    let server = FixtureServer::start();
    let mut sources = String::new();
    for i in 0..5 {
        let path = format!("/s{i}.xml");
        server.set(
            &path,
            Route::ok(small_feed(&format!("s{i}")), "application/rss+xml")
                .with_delay(Duration::from_millis(300)),
        );
        sources.push_str(&feed_source(&format!("s{i}"), &server.url(&path)));
    }
    let cfg = TestConfig::new(&sources);
    let app = app_for(&cfg, "");
    assert_eq!(app.config().fetch.per_host, 2);
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let out = rt
        .block_on(gomtin::pipeline::fetch_pass(&app, &[], |_| {}))
        .expect("pass");
    assert!(out.iter().all(|o| !o.is_failure()));
    assert_eq!(server.requests().len(), 5);
    assert_eq!(
        server.max_in_flight(),
        2,
        "never more than per_host=2 at once, and it does use 2"
    );
}

#[test]
fn failing_source_backs_off_then_recovers() {
    let server = FixtureServer::start();
    server.set("/feed.xml", Route::status(503));
    let cfg = TestConfig::new(
        &feed_source("flaky", &server.url("/feed.xml")).replace("\"15m\"", "\"1s\""),
    );
    let app = app_for(&cfg, FAST_SCHEDULER);
    let clock = TestClock::new();
    let run = Running::start(&app, &clock);

    // interval 1 s, min_interval 1 s, backoff_max 8 s, no jitter: the waits after 1..5
    // failures in a row are 1, 2, 4, 8 and 8 s (the ceiling holds), counted from the
    // moment of each failed check.
    let mut waits = Vec::new();
    let mut next = None;
    for n in 1..=5 {
        requests_settle(&server, n);
        let checked_at = clock.now();
        let at = next_check_after(&app, "flaky", next);
        waits.push((at - checked_at).num_milliseconds());
        next = Some(at);
        if n < 5 {
            clock.set(at);
        }
    }
    assert_eq!(waits, [1_000, 2_000, 4_000, 8_000, 8_000]);
    let status = app.store.source_statuses(Utc::now()).expect("status");
    assert_eq!(status[0].consecutive_failures, 5);
    assert_eq!(status[0].last_error_kind.as_deref(), Some("http_status"));

    // The server recovers; the next due check succeeds, resets the counter and the wait.
    server.set(
        "/feed.xml",
        Route::ok(small_feed("flaky"), "application/rss+xml"),
    );
    clock.set(next.expect("scheduled"));
    requests_settle(&server, 6);
    let at = next_check_after(&app, "flaky", next);
    assert_eq!(
        at - clock.now(),
        chrono::Duration::seconds(1),
        "back to the interval"
    );
    let status = app.store.source_statuses(Utc::now()).expect("status");
    assert_eq!(status[0].consecutive_failures, 0);
    assert!(status[0].last_error.is_none());
    assert_eq!(status[0].item_count, 1);
    run.stop();
    assert_eq!(app.index.doc_count(), 1, "indexed by the daemon's indexer");
}

#[test]
fn robots_txt_is_fetched_once_per_host_and_obeyed() {
    let server = FixtureServer::start();
    server.set(
        "/robots.txt",
        Route::ok(
            "User-agent: *\nDisallow: /rieng/\n\nUser-agent: gomtin\nDisallow: /cam/\nAllow: /\n",
            "text/plain",
        ),
    );
    let missing = FixtureServer::start();
    let broken = FixtureServer::start();
    broken.set("/robots.txt", Route::status(503));
    let cfg = TestConfig::new("");
    let app = app_for(&cfg, "");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let allowed = |u: String| {
        rt.block_on(app.fetcher.robots_allow(&url::Url::parse(&u).expect("url")))
            .expect("robots")
    };
    assert!(allowed(server.url("/tin/1.html")));
    assert!(!allowed(server.url("/cam/1.html")), "our own group applies");
    assert!(
        allowed(server.url("/rieng/1.html")),
        "the * group does not apply to gomtin"
    );
    assert_eq!(
        server.requests_to("/robots.txt").len(),
        1,
        "cached per host"
    );
    assert!(
        allowed(missing.url("/any")),
        "404 robots.txt allows everything"
    );
    assert!(
        !allowed(broken.url("/any")),
        "5xx robots.txt disallows for now"
    );
}
