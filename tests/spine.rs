//! End-to-end checks of the spine: real feeds served over real HTTP on 127.0.0.1, fetched
//! by the real `gomtin` binary, stored in SQLite, indexed, searched and reindexed.

mod support;

use serde_json::Value;
use support::{
    FixtureServer, HIT_KEYS, Route, TestConfig, assert_keys, feed_source, vietnamese_feed,
};

fn vnexpress_server() -> (FixtureServer, TestConfig) {
    let server = FixtureServer::start();
    let mut sources = String::new();
    for (i, name) in [
        "vnexpress_tin-moi-nhat_2017_string1407.xml",
        "vnexpress_tin-moi-nhat_2017_vnexpress2810.xml",
    ]
    .iter()
    .enumerate()
    {
        let path = format!("/rss/{name}");
        server.set(
            &path,
            Route::ok(vietnamese_feed(name), "application/rss+xml; charset=utf-8"),
        );
        sources.push_str(&feed_source(&format!("vne-{i}"), &server.url(&path)));
    }
    let cfg = TestConfig::new(&sources);
    (server, cfg)
}

fn search_json(cfg: &TestConfig, query: &str) -> Value {
    cfg.json(&["search", "--json", "--limit", "50", query])
}

fn hit_ids(v: &Value) -> Vec<i64> {
    v["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["id"].as_i64().expect("id"))
        .collect()
}

#[test]
fn fetch_twice_search_and_reindex() {
    let (_server, cfg) = vnexpress_server();

    let stdout = cfg.stdout(&["fetch"]);
    assert!(
        stdout.contains("vne-0") && stdout.contains("vne-1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("25 tin mới"),
        "one line per source with counts: {stdout}"
    );

    let store = gomtin::store::Store::open(&cfg.data_dir()).expect("store");
    assert_eq!(store.item_count().expect("count"), 50);
    drop(store);

    let v = cfg.json(&["fetch", "--json"]);
    let added: u64 = v["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .map(|s| s["new"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(added, 0, "second pass adds nothing: {v}");
    let store = gomtin::store::Store::open(&cfg.data_dir()).expect("store");
    assert_eq!(store.item_count().expect("count"), 50);
    drop(store);

    // A word from a title: "Hà Nội" appears in the first feed's titles.
    let res = search_json(&cfg, "Hà Nội");
    assert!(res["total"].as_u64().expect("total") >= 1, "{res}");
    let first_hit = &res["hits"][0];
    assert_keys(first_hit, HIT_KEYS);
    chrono::DateTime::parse_from_rfc3339(first_hit["published"].as_str().expect("published"))
        .expect("published is RFC 3339");
    // Unaccented typing finds at least the same items (the folded form is broader).
    let folded = hit_ids(&search_json(&cfg, "ha noi"));
    for id in hit_ids(&res) {
        assert!(folded.contains(&id), "ha noi misses {id}");
    }

    let before = hit_ids(&res);
    cfg.cmd(&["reindex"]).assert().success();
    let after = hit_ids(&search_json(&cfg, "Hà Nội"));
    let (mut b, mut a) = (before.clone(), after.clone());
    b.sort_unstable();
    a.sort_unstable();
    assert_eq!(a, b, "reindex gives the same hits");

    let idx = gomtin::index::SearchIndex::open(&cfg.data_dir().join("index")).expect("index");
    assert_eq!(idx.doc_count(), 50, "each item indexed exactly once");
}

#[test]
fn one_broken_source_does_not_stop_the_others() {
    let (server, _) = vnexpress_server();
    server.set(
        "/broken.xml",
        Route::ok("<html>not a feed</html>", "text/html"),
    );
    server.set("/gone.xml", Route::status(500));
    let mut sources = feed_source(
        "ok",
        &server.url("/rss/vnexpress_tin-moi-nhat_2017_string1407.xml"),
    );
    sources.push_str(&feed_source("broken", &server.url("/broken.xml")));
    sources.push_str(&feed_source("gone", &server.url("/gone.xml")));
    let cfg = TestConfig::new(&sources);
    let out = cfg.cmd(&["fetch"]).assert().code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.contains("✓ ok: 25 tin mới"), "{stdout}");
    assert!(stdout.contains("✗ broken: lỗi [parse]"), "{stdout}");
    assert!(
        stdout.contains("✗ gone: lỗi [http_status]") && stdout.contains("500"),
        "{stdout}"
    );

    let v = cfg.json(&["sources", "list", "--json"]);
    let gone = v
        .as_array()
        .expect("array")
        .iter()
        .find(|s| s["id"] == "gone")
        .expect("gone listed");
    assert_eq!(gone["consecutive_failures"], 1);
    assert_eq!(gone["last_error_kind"], "http_status");
    let ok = v
        .as_array()
        .expect("array")
        .iter()
        .find(|s| s["id"] == "ok")
        .expect("ok");
    assert_eq!(ok["item_count"], 25);
    assert!(ok["last_success_at"].is_string());

    // Human listing names the failing source and why.
    let text = cfg.stdout(&["sources", "list"]);
    assert!(text.contains("✗ gone") && text.contains("500"), "{text}");
}

#[test]
fn private_addresses_refused_unless_allowed() {
    let (server, _) = vnexpress_server();
    let cfg = TestConfig::new(&feed_source(
        "local",
        &server.url("/rss/vnexpress_tin-moi-nhat_2017_string1407.xml"),
    ));
    let text = std::fs::read_to_string(&cfg.path).expect("read").replace(
        "allow_private_networks = true",
        "allow_private_networks = false",
    );
    std::fs::write(&cfg.path, text).expect("write");
    let out = cfg.cmd(&["fetch"]).assert().code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.contains("private_address"), "{stdout}");
    assert!(
        server.requests().is_empty(),
        "no request reached the server"
    );
}
