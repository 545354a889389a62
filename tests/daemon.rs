//! The daemon's politeness and scheduling, against a real local HTTP server that counts
//! requests: conditional GET, Retry-After, per-host limits, backoff and recovery.

mod support;

use std::sync::Arc;
use std::time::Duration;

use gomtin::app::App;
use gomtin::config::Config;
use gomtin::metrics::Metrics;
use gomtin::model::OutcomeKind;
use support::{FixtureServer, Route, TestConfig, feed_source, vietnamese_feed};
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

/// Run the real scheduler for `secs`, then shut it down cleanly.
fn run_scheduler(app: &App, secs: f64) {
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let token = CancellationToken::new();
        let t2 = token.clone();
        let handle = tokio::spawn(gomtin::scheduler::run(
            app.clone(),
            Arc::new(Metrics::new()),
            token.clone(),
        ));
        tokio::time::sleep(Duration::from_secs_f64(secs)).await;
        t2.cancel();
        handle.await.expect("join").expect("scheduler ok");
    });
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
    sources.push_str(&feed_source("healthy", &healthy_url).replace("\"15m\"", "\"1s\""));
    sources = sources.replace("\"15m\"", "\"1s\"");
    let cfg = TestConfig::new(&sources);
    let app = app_for(&cfg, FAST_SCHEDULER);
    run_scheduler(&app, 4.5);
    assert_eq!(
        limited.requests().len(),
        1,
        "429 + Retry-After: 120 means no retry soon"
    );
    assert!(
        healthy.requests().len() >= 3,
        "other host keeps its pace: {}",
        healthy.requests().len()
    );
    let sched = app.store.schedules().expect("schedules");
    let next = sched
        .iter()
        .find(|s| s.id == "limited")
        .and_then(|s| s.next_check_at)
        .expect("next");
    let wait = (next - chrono::Utc::now()).num_seconds();
    assert!(
        (100..=121).contains(&wait),
        "next check of limited in {wait}s"
    );
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
    run_scheduler(&app, 7.5);
    let times: Vec<_> = server.requests().iter().map(|r| r.at).collect();
    assert!(times.len() >= 3, "tried several times: {}", times.len());
    let gaps: Vec<f64> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    for w in gaps.windows(2) {
        assert!(w[1] > w[0] * 1.5, "intervals grow: {gaps:?}");
    }
    let status = app
        .store
        .source_statuses(chrono::Utc::now())
        .expect("status");
    assert!(status[0].consecutive_failures >= 3);
    assert_eq!(status[0].last_error_kind.as_deref(), Some("http_status"));

    // The server recovers; the next due check succeeds and resets the counter.
    server.set(
        "/feed.xml",
        Route::ok(small_feed("flaky"), "application/rss+xml"),
    );
    app.store
        .set_next_check("flaky", chrono::Utc::now())
        .expect("make due");
    run_scheduler(&app, 1.5);
    let status = app
        .store
        .source_statuses(chrono::Utc::now())
        .expect("status");
    assert_eq!(status[0].consecutive_failures, 0);
    assert!(status[0].last_error.is_none());
    assert_eq!(status[0].item_count, 1);
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
