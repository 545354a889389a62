//! Query abuse through the real web API (`tests/query_abuse.rs` covers the library): what
//! a script or a curious user can put in `/api/search` and `/` — huge queries, thousands
//! of ORs, invalid UTF-8, NUL bytes, absurd or malformed paging, repeated parameters.
//! Harm prevented: a 500 (or a worker stuck for seconds) from input any page can send.

mod support;

use std::time::{Duration, Instant};

use support::{FixtureServer, Route, TestConfig, baomoi, corpus, feed_source};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abusive_search_requests_answer_quickly_without_5xx() {
    let server = FixtureServer::start();
    server.set(
        "/bm.xml",
        Route::ok(corpus::rss(&baomoi(Some(500))), "application/rss+xml"),
    );
    let cfg = TestConfig::new(&feed_source("bm", &server.url("/bm.xml")));
    cfg.cmd(&["fetch"]).assert().success();
    cfg.cmd(&["users", "add", "lan", "--role", "staff", "--password-stdin"])
        .write_stdin("mat-khau-dai\n")
        .assert()
        .success();
    let token = cfg.stdout(&["users", "token", "lan"]).trim().to_string();
    let d = cfg.serve();
    let api = support::web::Session::bearer(&d.url(""), &token);
    let long = "n%C3%B4ng+th%C3%B4n+".repeat(3_000);
    let ors = vec!["b%C3%A3o"; 2_000].join("+OR+");
    let repeated = "q=a&".repeat(2_000);
    let cases: Vec<(&str, String)> = vec![
        ("a 60 KB query", format!("/api/search?q={long}")),
        ("2,000 ORs", format!("/api/search?q={ors}")),
        ("invalid UTF-8", "/api/search?q=%FF%FE%FD".into()),
        (
            "NUL and controls",
            "/api/search?q=b%00%C3%A3o%07%1B%5B31m".into(),
        ),
        (
            "huge limit",
            "/api/search?q=b%C3%A3o&limit=99999999999".into(),
        ),
        ("negative offset", "/api/search?q=b%C3%A3o&offset=-5".into()),
        (
            "offset past u64",
            "/api/search?q=b%C3%A3o&offset=999999999999999999999999".into(),
        ),
        (
            "limit not a number",
            "/api/search?q=b%C3%A3o&limit=mot-tram".into(),
        ),
        ("repeated parameters", format!("/api/search?{repeated}")),
        (
            "only operators",
            "/api/search?q=-+-+OR+%22+source%3A+topic%3A".into(),
        ),
        (
            "bad dates",
            "/api/search?q=after%3A31%2F02%2F2024+before%3Ahom-qua".into(),
        ),
        (
            "unknown source and topic",
            "/api/search?q=source%3Akhong-co+topic%3Akhong-co".into(),
        ),
        ("the page, a huge query", format!("/?q={long}")),
        ("the page, invalid UTF-8", "/?q=%C3%28".into()),
    ];
    for (what, path) in cases {
        let started = Instant::now();
        let r = api.get(&path).send().await;
        let took = started.elapsed();
        let r = r.unwrap_or_else(|e| panic!("{what}: {e}"));
        let status = r.status();
        let body = r.text().await.unwrap_or_default();
        assert!(!status.is_server_error(), "{what}: {status} {body}");
        assert!(took < Duration::from_secs(3), "{what}: {took:?}");
        if status.is_client_error() {
            assert!(
                body.chars().any(|c| "ăâđêôơưàảãáạ".contains(c))
                    || status.as_u16() == 414
                    || status.as_u16() == 431,
                "{what}: a 4xx says why, in Vietnamese: {status} {body}"
            );
        }
    }
    assert!(d.health().is_ok(), "{}", d.stderr());
}
