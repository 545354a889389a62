//! Hostile feeds and pages against the real `gomtin` binary: what a stranger can publish
//! to crash, stall or corrupt gomtin — HTML nested beyond any stack, XML entity tricks,
//! mislabelled charsets, GUIDs that change on every fetch, relative links under
//! `xml:base`. Each test names the harm it prevents.

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::hostile::{Act, HostileServer, item, rss};
use support::{TestConfig, feed_source};

/// `gomtin fetch --json` (any exit code) and its JSON.
fn fetch_json(cfg: &TestConfig) -> (Option<i32>, Value, String) {
    let out = cfg
        .cmd(&["fetch", "--json"])
        .output()
        .expect("run gomtin fetch");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "fetch printed no JSON ({e}); status {:?}, stderr:\n{stderr}",
            out.status
        )
    });
    (out.status.code(), v, stderr)
}

/// The outcome of source `id` in a `fetch --json` answer.
fn outcome<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["sources"]
        .as_array()
        .and_then(|a| a.iter().find(|o| o["source_id"] == id))
        .unwrap_or_else(|| panic!("no outcome for {id} in {v}"))
}

fn items(cfg: &TestConfig) -> Vec<gomtin::model::Item> {
    let store = gomtin::store::Store::open(&cfg.data_dir()).expect("store");
    store
        .list_items(&gomtin::store::ItemQuery::default())
        .expect("items")
}

fn nested(depth: usize, inner: &str) -> String {
    format!("{}{inner}{}", "<div>".repeat(depth), "</div>".repeat(depth))
}

/// Harm prevented: one item nested 20,000 (or 200,000) `<div>`s deep overflowed a worker's
/// stack — `gomtin fetch` aborted with SIGABRT and every other source of the pass was lost.
#[test]
fn deeply_nested_description_neither_crashes_nor_stalls_the_pass() {
    let server = HostileServer::start();
    for (path, depth) in [("/deep20k.xml", 20_000), ("/deep200k.xml", 200_000)] {
        server.on(
            path,
            Act::ok(
                rss(&[item(
                    &format!("g-{depth}"),
                    &format!("https://bao.example.vn/sau-{depth}.html"),
                    "Bài lồng sâu",
                    &nested(depth, "Nông thôn mới ở Kon Rẫy"),
                )]),
                "application/rss+xml",
            ),
        );
    }
    server.on(
        "/ok.xml",
        Act::ok(
            rss(&[item(
                "ok-1",
                "https://bao.example.vn/ok.html",
                "Tin bình thường",
                "<p>Bình thường</p>",
            )]),
            "application/rss+xml",
        ),
    );
    let cfg = TestConfig::new(&format!(
        "{}{}{}",
        feed_source("sau20k", &server.url("/deep20k.xml")),
        feed_source("sau200k", &server.url("/deep200k.xml")),
        feed_source("binhthuong", &server.url("/ok.xml")),
    ));
    let started = Instant::now();
    let (code, v, stderr) = fetch_json(&cfg);
    let took = started.elapsed();
    assert_eq!(code, Some(0), "fetch ends normally: {v}\n{stderr}");
    assert!(took < Duration::from_secs(30), "bounded time: {took:?}");
    for id in ["sau20k", "sau200k", "binhthuong"] {
        assert_eq!(outcome(&v, id)["new"], 1, "{id}: {v}");
    }
    let stored = items(&cfg);
    let deep = stored
        .iter()
        .find(|i| i.source_id == "sau200k")
        .expect("deep item stored");
    assert!(
        deep.content_text.contains("Nông thôn mới ở Kon Rẫy"),
        "the text survives flattening: {:?}",
        deep.content_text
    );
    assert!(
        gomtin::extract::bounded::modelled_depth(&deep.content_html)
            <= gomtin::extract::bounded::MAX_DEPTH,
        "stored HTML is bounded"
    );
    // The search finds it, and the item page renders (the web sanitizer sees it again).
    let hits = cfg.json(&["search", "--json", "kon rẫy"]);
    assert!(hits["total"].as_u64().unwrap_or(0) >= 2, "{hits}");
}

/// Harm prevented: a page source whose article is 20,000 `<div>`s deep took 70 s of CPU
/// (readability's tree walks are quadratic in depth) and the daemon aborted on the text
/// walk; now the article is read in well under its budget.
#[test]
fn deeply_nested_article_page_is_read_quickly() {
    let server = HostileServer::start();
    let list = r#"<html><body><div class="news-item"><h3><a href="/bai/1.html">Bài lồng sâu trên trang</a></h3></div></body></html>"#;
    server.on("/tin-tuc", Act::ok(list, "text/html; charset=utf-8"));
    let article = format!(
        "<html><head><title>Bài lồng sâu trên trang</title></head><body><article><h1>Bài lồng sâu trên trang</h1><p>Đoạn mở đầu đủ dài để đọc được, viết tại xã Đắk Ruồng.</p>{}</article></body></html>",
        nested(20_000, "<p>Đoạn cuối cùng của bài viết ở rất sâu.</p>")
    );
    server.on("/bai/1.html", Act::ok(article, "text/html; charset=utf-8"));
    let cfg = TestConfig::new(&format!(
        r#"[[sources]]
id = "trang-sau"
name = "Trang sâu"
kind = "page"
url = "{}"
obey_robots = false

[sources.selectors]
item = ".news-item"
link = "h3 a"
"#,
        server.url("/tin-tuc")
    ));
    let started = Instant::now();
    let (code, v, stderr) = fetch_json(&cfg);
    let took = started.elapsed();
    assert_eq!(code, Some(0), "{v}\n{stderr}");
    assert!(took < Duration::from_secs(15), "read in {took:?}");
    assert_eq!(outcome(&v, "trang-sau")["new"], 1, "{v}");
    let stored = items(&cfg);
    assert!(
        stored[0].content_text.contains("Đoạn mở đầu"),
        "{:?}",
        stored[0].content_text
    );
}

/// Harm prevented: the same deep feed killed `gomtin serve` within seconds of every
/// restart, and `sources list` never said which source did it. Now the daemon keeps
/// answering, and every source's outcome is on record.
#[test]
fn the_daemon_survives_a_hostile_source_and_says_which_one() {
    let server = HostileServer::start();
    server.on(
        "/deep.xml",
        Act::ok(
            rss(&[item(
                "d",
                "https://bao.example.vn/d.html",
                "Sâu",
                &nested(100_000, "chữ"),
            )]),
            "application/rss+xml",
        ),
    );
    server.on(
        "/garbage.xml",
        Act::Garbage(b"\x00\x01not http at all\r\n\r\n".to_vec()),
    );
    server.on(
        "/ok.xml",
        Act::ok(
            rss(&[item(
                "ok",
                "https://bao.example.vn/ok.html",
                "Tin thường",
                "<p>thường</p>",
            )]),
            "application/rss+xml",
        ),
    );
    let cfg = TestConfig::new(&format!(
        "{}{}{}",
        feed_source("sau", &server.url("/deep.xml")),
        feed_source("rac", &server.url("/garbage.xml")),
        feed_source("thuong", &server.url("/ok.xml")),
    ));
    let mut d = cfg.serve();
    d.wait_health(Duration::from_secs(60), |h| h["items"] == 2)
        .unwrap_or_else(|e| panic!("both good sources stored: {e}\n{}", d.stderr()));
    // Still alive a moment later, and answering quickly.
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    d.health().expect("daemon alive");
    assert!(started.elapsed() < Duration::from_secs(2));
    let status = d.terminate(Duration::from_secs(15)).expect("stops");
    assert!(status.success(), "{status:?}\n{}", d.stderr());
    let list: Value = cfg.json(&["sources", "list", "--json"]);
    let by_id = |id: &str| {
        list.as_array()
            .and_then(|a| a.iter().find(|s| s["id"] == id))
            .cloned()
            .unwrap_or_else(|| panic!("{id} in {list}"))
    };
    assert_eq!(by_id("sau")["last_error"], Value::Null, "{list}");
    assert_eq!(by_id("sau")["item_count"], 1);
    assert!(
        by_id("rac")["last_error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "the broken source says why: {list}"
    );
}
