//! Load on the real `gomtin serve`: 200 clients searching `/api/search` at once while the
//! daemon ingests 8,000 real articles. Harm prevented: searches failing (5xx) or SQLite's
//! "database is locked" reaching staff while the scheduler writes. The latency figures
//! (p50, p99, max) are printed, not asserted beyond a generous ceiling.

mod support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use support::{FixtureServer, Route, TestConfig, baomoi, corpus, feed_source};

const CLIENTS: usize = 200;
const QUERIES: &[&str] = &[
    "Việt Nam",
    "nong thon moi",
    "\"Hà Nội\"",
    "bão OR lũ",
    "giá vàng -USD",
    "kinh tế",
    "Đắk Lắk",
    "bóng đá",
];

#[test]
fn two_hundred_searches_at_once_during_a_large_ingest() {
    let server = FixtureServer::start();
    let (feeds, per_feed) = (32, 250);
    let articles = baomoi(Some(feeds * per_feed));
    let mut sources = String::new();
    for (f, chunk) in articles.chunks(per_feed).enumerate() {
        let path = format!("/load/{f}.xml");
        server.set(&path, Route::ok(corpus::rss(chunk), "application/rss+xml"));
        sources.push_str(
            &feed_source(&format!("load-{f}"), &server.url(&path)).replace("\"15m\"", "\"1h\""),
        );
    }
    // The search gate may queue all 200 at once and let each wait (the default answers a
    // burst this size with fast 503s: tests/search_admission.rs), so that every search here
    // still has to be answered while the daemon writes.
    let gate = "[server.limits]\nsearch_queue_length = 256\nsearch_queue_budget = \"60s\"\n\n";
    let cfg = TestConfig::new(&format!("{gate}{sources}"));
    cfg.cmd(&["users", "add", "tai", "--role", "staff", "--password-stdin"])
        .write_stdin("mat-khau-dai\n")
        .assert()
        .success();
    let token = cfg.stdout(&["users", "token", "tai"]).trim().to_string();
    let d = cfg.serve();
    let base = d.url("");
    let want = (feeds * per_feed) as u64;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    let (latencies, failures) = rt.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for c in 0..CLIENTS {
            // Ten client addresses of 20 clients each, as an office LAN would have.
            let from = IpAddr::V4(Ipv4Addr::new(127, 0, 2, (c % 10) as u8 + 2));
            let client = reqwest::Client::builder()
                .local_address(from)
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client");
            let (base, token) = (base.clone(), token.clone());
            tasks.spawn(async move {
                let mut lat = Vec::new();
                let mut bad = Vec::new();
                for round in 0..6 {
                    let q = QUERIES[(c + round) % QUERIES.len()];
                    let t = Instant::now();
                    let r = client
                        .get(format!("{base}/api/search"))
                        .query(&[("q", q), ("limit", "20")])
                        .bearer_auth(&token)
                        .send()
                        .await;
                    match r {
                        Ok(r) => {
                            let status = r.status();
                            let body = r.text().await.unwrap_or_default();
                            lat.push(t.elapsed());
                            if status.is_server_error()
                                || status != reqwest::StatusCode::OK
                                || body.contains("database is locked")
                            {
                                bad.push(format!("{q}: {status} {}", &body[..body.len().min(200)]));
                            }
                        }
                        Err(e) => bad.push(format!("{q}: {e}")),
                    }
                }
                (lat, bad)
            });
        }
        let (mut lat, mut bad) = (Vec::new(), Vec::new());
        while let Some(r) = tasks.join_next().await {
            let (l, b) = r.expect("client task");
            lat.extend(l);
            bad.extend(b);
        }
        (lat, bad)
    });
    let searching = started.elapsed();
    let health = d.health().expect("health after the load");
    let mut lat = latencies;
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    eprintln!(
        "{} searches by {CLIENTS} clients in {searching:?} while ingesting ({} of {want} items stored by then): p50 {:?}, p99 {:?}, max {:?}",
        lat.len(),
        health["items"],
        pct(0.5),
        pct(0.99),
        lat[lat.len() - 1]
    );
    assert!(
        failures.is_empty(),
        "{} failures, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert_eq!(lat.len(), CLIENTS * 6);
    assert!(pct(0.99) < Duration::from_secs(20), "p99 {:?}", pct(0.99));
    d.wait_health(Duration::from_secs(180), |v| {
        v["items"] == want && v["index_lag"] == 0
    })
    .unwrap_or_else(|e| panic!("ingest finished: {e}"));
    assert!(!d.stderr().contains("database is locked"), "{}", d.stderr());
}
