//! The admin's source tools with the real binary: OPML export -> import round trip,
//! import of a foreign OPML, feed discovery against a local homepage with
//! `<link rel="alternate">` (and the fallback to common paths), manual posts, and the
//! config messages for the new keys.

mod support;

use support::{FixtureServer, Route, TestConfig, vietnamese_feed};

fn config_sources(cfg: &TestConfig) -> Vec<(String, String, String, String)> {
    let c = gomtin::config::Config::load(&cfg.path).expect("config");
    c.sources
        .iter()
        .map(|s| {
            (
                s.id().to_string(),
                s.name.clone(),
                s.kind.as_str().to_string(),
                s.location(&c.base_dir),
            )
        })
        .collect()
}

#[test]
fn opml_export_import_round_trip() {
    let original = TestConfig::new(
        r#"[[sources]]
id = "bao-kon-tum"
name = "Báo Kon Tum – Thời sự & \"Chính trị\""
kind = "feed"
url = "https://baokontum.com.vn/rss/thoi-su.rss?a=1&b=2"
interval = "15m"

[[sources]]
id = "vnexpress"
name = "VnExpress"
kind = "feed"
url = "https://vnexpress.net/rss/tin-moi-nhat.rss"
full_content = true
article = "article.fck_detail"

[[sources]]
id = "xa-dak-ruong"
name = "UBND xã Đắk Ruồng"
kind = "page"
url = "https://dakruong.example.gov.vn/tin-tuc"
[sources.selectors]
item = ".news-item"
link = "h3 a"
date = ".ngay"
date_format = "%d/%m/%Y %H:%M"
image = "img@data-src"

[[sources]]
id = "fb-xa"
name = "Trang Facebook xã (dán tay)"
kind = "manual"
"#,
    );
    let text = original.stdout(&["sources", "export"]);
    assert!(
        text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        "{text}"
    );
    assert!(text.contains("<opml version=\"2.0\""), "{text}");
    assert!(
        text.contains(r#"type="rss""#)
            && text.contains("xmlUrl=\"https://baokontum.com.vn/rss/thoi-su.rss?a=1&amp;b=2\""),
        "{text}"
    );

    let opml_path = original.dir.path().join("export.opml");
    std::fs::write(&opml_path, &text).expect("write");
    let fresh = TestConfig::new("");
    fresh
        .cmd(&["sources", "import", opml_path.to_str().expect("path")])
        .assert()
        .success();
    let a = gomtin::config::Config::load(&original.path).expect("a");
    let b = gomtin::config::Config::load(&fresh.path).expect("b");
    assert_eq!(config_sources(&original), config_sources(&fresh));
    for (x, y) in a.sources.iter().zip(b.sources.iter()) {
        assert_eq!(x.interval, y.interval, "{}", x.id());
        assert_eq!(x.selectors, y.selectors, "{}", x.id());
        assert_eq!(x.article, y.article, "{}", x.id());
        assert_eq!(x.full_content, y.full_content, "{}", x.id());
    }
    // Export of the import is the same document (but for its date).
    let again = fresh.stdout(&["sources", "export"]);
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("dateCreated"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&again), strip(&text));
    // Importing again adds nothing.
    assert!(
        fresh
            .stdout(&["sources", "import", opml_path.to_str().expect("path")])
            .contains("Không có nguồn mới"),
        "second import is a no-op"
    );
    assert_eq!(config_sources(&fresh).len(), 4);
}

#[test]
fn discovery_lists_advertised_feeds_and_appends_the_pick() {
    let server = FixtureServer::start();
    let feed = vietnamese_feed("vnexpress_tin-moi-nhat_2017_string1407.xml");
    server.set(
        "/rss/tin-moi-nhat.rss",
        Route::ok(feed.clone(), "application/rss+xml"),
    );
    server.set("/rss/thoi-su.rss", Route::ok(feed, "application/rss+xml"));
    server.set(
        "/",
        Route::ok(
            r#"<!doctype html><html><head><meta charset="utf-8"><title>Cổng thông tin huyện Kon Rẫy</title>
            <link rel="alternate" type="application/rss+xml" title="Tin mới nhất" href="/rss/tin-moi-nhat.rss">
            <link rel="alternate" type="application/rss+xml" title="Thời sự" href="rss/thoi-su.rss">
            <link rel="stylesheet" href="/a.css"></head><body><p>Trang chủ</p></body></html>"#,
            "text/html; charset=utf-8",
        ),
    );
    let cfg = TestConfig::new("");
    let text = cfg.stdout(&["sources", "add", &server.url("/")]);
    assert!(text.contains("1. Tin mới nhất"), "{text}");
    assert!(text.contains("2. Thời sự"), "{text}");
    assert!(
        config_sources(&cfg).is_empty(),
        "nothing added without --pick"
    );

    cfg.cmd(&["sources", "add", &server.url("/"), "--pick", "2"])
        .assert()
        .success();
    let got = config_sources(&cfg);
    assert_eq!(
        got,
        vec![(
            "thoi-su".to_string(),
            "Thời sự".to_string(),
            "feed".to_string(),
            server.url("/rss/thoi-su.rss")
        )]
    );
    // The appended block works: the new source fetches.
    assert!(
        cfg.stdout(&["fetch"]).contains("thoi-su: 25 tin mới"),
        "appended source fetches"
    );
    // A bad pick is a usage error.
    cfg.cmd(&["sources", "add", &server.url("/"), "--pick", "9"])
        .assert()
        .code(2);
}

#[test]
fn discovery_falls_back_to_common_paths_then_suggests_a_page_source() {
    let server = FixtureServer::start();
    let feed = vietnamese_feed("vnexpress_tin-moi-nhat_2017_vnexpress2810.xml");
    server.set(
        "/",
        Route::ok(
            "<html><head><title>Xã</title></head><body>Không có RSS</body></html>",
            "text/html",
        ),
    );
    server.set("/feed", Route::ok(feed, "application/rss+xml"));
    let cfg = TestConfig::new("");
    let out = cfg.stdout(&[
        "sources",
        "add",
        &server.url("/"),
        "--pick",
        "1",
        "--id",
        "xa-feed",
    ]);
    assert!(out.contains("/feed"));
    assert_eq!(config_sources(&cfg)[0].0, "xa-feed");

    let bare = FixtureServer::start();
    bare.set(
        "/",
        Route::ok("<html><body>Chỉ có HTML</body></html>", "text/html"),
    );
    let out = cfg
        .cmd(&["sources", "add", &bare.url("/")])
        .assert()
        .code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        text.contains("kind = \"page\"") && text.contains("[sources.selectors]"),
        "{text}"
    );
}

#[test]
fn manual_post_is_an_item() {
    let cfg = TestConfig::new(
        "[[sources]]\nid = \"fb-xa\"\nname = \"Trang xã\"\nkind = \"manual\"\n\n\
         [[sources]]\nid = \"bao\"\nname = \"Báo\"\nkind = \"feed\"\nurl = \"https://bao.example.vn/rss\"\nenabled = false\n",
    );
    cfg.post_add(
        "fb-xa",
        "https://facebook.com/xa/posts/9?fbclid=x",
        "Thông báo: sáng mai cắt điện thôn 2 từ 7h đến 11h.\n\nBà con chú ý <b>sắp xếp</b>.",
        &[],
    );
    let store = gomtin::store::Store::open(&cfg.data_dir()).expect("store");
    let items = store
        .list_items(&gomtin::store::ItemQuery::default())
        .expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].source_id, "fb-xa");
    assert_eq!(
        items[0].canonical_url.as_deref(),
        Some("https://facebook.com/xa/posts/9")
    );
    assert!(
        items[0].title.starts_with("Thông báo: sáng mai cắt điện"),
        "{}",
        items[0].title
    );
    assert!(
        items[0].content_text.contains("<b>sắp xếp</b>"),
        "pasted text is text, not markup"
    );
    drop(store);
    // The same URL again updates, never duplicates.
    cfg.post_add(
        "fb-xa",
        "https://facebook.com/xa/posts/9",
        "Thông báo (sửa): cắt điện thôn 2 từ 7h đến 10h.",
        &[],
    );
    let v = cfg.json(&["search", "--json", "cat dien thon"]);
    assert_eq!(v["total"], 1, "{v}");
    // Posting to a non-manual source is refused (usage error).
    cfg.cmd(&["post", "add", "--source", "bao", "--text", "x"])
        .assert()
        .code(2);
    // Manual sources are skipped by fetch, successfully.
    cfg.cmd(&["fetch", "fb-xa"]).assert().success();
}

#[test]
fn config_messages_for_page_keys() {
    for (body, needle) in [
        (
            "[[sources]]\nid = \"p\"\nname = \"P\"\nkind = \"page\"\nurl = \"https://x.vn/\"\n",
            "thiếu bảng [sources.selectors]",
        ),
        (
            "[[sources]]\nid = \"p\"\nname = \"P\"\nkind = \"page\"\nurl = \"https://x.vn/\"\n[sources.selectors]\nlink = \"a[\"\n",
            "dòng 13",
        ),
        (
            "[[sources]]\nid = \"p\"\nname = \"P\"\nkind = \"page\"\nurl = \"https://x.vn/\"\n[sources.selectors]\nlink = \"a\"\nitem_selector = \".x\"\n",
            "item_selector",
        ),
        (
            "[[sources]]\nid = \"m\"\nname = \"M\"\nkind = \"manual\"\nurl = \"https://x.vn/\"\n",
            "kind = \\\"manual\\\"",
        ),
        (
            "[[sources]]\nid = \"p\"\nname = \"P\"\nkind = \"page\"\nurl = \"https://x.vn/\"\n[sources.selectors]\nlink = \"a\"\ndate_format = \"%Q\"\n",
            "date_format",
        ),
    ] {
        let cfg = TestConfig::new(body);
        let out = cfg.cmd(&["sources", "list"]).assert().code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        let needle = needle.replace("\\\"", "\"");
        assert!(err.contains(&needle), "{body:?} -> {err}");
    }
}
