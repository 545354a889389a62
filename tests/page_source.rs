//! A `kind = "page"` source end to end, with the real binary: a local list page read by
//! CSS selectors, each item's article page fetched and extracted by the `article`
//! selector, stored, indexed; fetched again (no duplicates), after an edit (updated in
//! place), with a per-pass budget, and after a layout change (a clear source error).

mod support;

use serde_json::Value;
use support::{FixtureServer, Route, TestConfig};

fn list_page(items: &[(u32, &str, &str)]) -> String {
    let mut li = String::new();
    for (n, title, date) in items {
        li.push_str(&format!(
            r#"<div class="news-item"><h3><a href="/bai/{n}.html">{title}</a></h3>
               <span class="ngay">{date}</span><p class="tom-tat">Tóm tắt tin số {n}.</p></div>"#
        ));
    }
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>UBND xã</title></head>
        <body><nav><a href="/">Trang chủ</a></nav><div class="list">{li}</div></body></html>"#
    )
}

fn article_page(n: u32, body: &str) -> String {
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8">
        <meta property="og:image" content="/anh/{n}.jpg"><title>Bài {n} - Cổng TTĐT xã</title></head>
        <body><h1>Tin số {n} của xã Đắk Ruồng</h1><div class="menu"><a href="/">Trang chủ</a></div>
        <div class="noi-dung"><p>{body}</p><p>Đoạn hai của bài {n}.</p>
        <script>alert(1)</script><svg onload="alert(2)"><circle r="1"/></svg>
        <p><a href="javascript:alert(3)">xấu</a> <a href="/lien-he">liên hệ</a>
        <img src="/anh/trong-bai-{n}.jpg" onerror="alert(4)"></p></div>
        <div class="footer">Bản quyền UBND xã</div></body></html>"#
    )
}

const ITEMS: &[(u32, &str, &str)] = &[
    (1, "Họp dân thôn 3 về đường giao thông", "12/03/2024 08:15"),
    (2, "Tiêm chủng mở rộng tháng 3", "11/03/2024 14:00"),
    (3, "Ra quân làm thủy lợi", "10/03/2024 07:30"),
];

fn setup(extra: &str) -> (FixtureServer, TestConfig) {
    let server = FixtureServer::start();
    server.set(
        "/tin-tuc",
        Route::ok(list_page(ITEMS), "text/html; charset=utf-8"),
    );
    for (n, _, _) in ITEMS {
        server.set(
            &format!("/bai/{n}.html"),
            Route::ok(
                article_page(*n, &format!("Nội dung đầy đủ của bài số {n}, viết tại xã.")),
                "text/html; charset=utf-8",
            ),
        );
    }
    let cfg = TestConfig::new(&format!(
        r#"[[sources]]
id = "xa-dak-ruong"
name = "UBND xã Đắk Ruồng"
kind = "page"
url = "{}"
article = ".noi-dung"
{extra}
[sources.selectors]
item = ".news-item"
link = "h3 a"
date = ".ngay"
date_format = "%d/%m/%Y %H:%M"
summary = ".tom-tat"
"#,
        server.url("/tin-tuc")
    ));
    (server, cfg)
}

fn items(cfg: &TestConfig) -> Vec<gomtin::model::Item> {
    let store = gomtin::store::Store::open(&cfg.data_dir()).expect("store");
    store
        .list_items(&gomtin::store::ItemQuery::default())
        .expect("items")
}

fn fetch_json(cfg: &TestConfig) -> Value {
    let out = cfg.cmd(&["fetch", "--json"]).output().expect("run");
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn page_source_twice_then_edit_then_layout_change() {
    let (server, cfg) = setup("");
    let out = cfg.cmd(&["fetch"]).assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.contains("xa-dak-ruong: 3 tin mới"), "{stdout}");
    let stored = items(&cfg);
    assert_eq!(stored.len(), 3);
    let one = stored
        .iter()
        .find(|i| i.url.as_deref() == Some(server.url("/bai/1.html").as_str()))
        .expect("item 1");
    // Page items take the article page's own title (its <h1>), not the list's link text.
    assert_eq!(one.title, "Tin số 1 của xã Đắk Ruồng");
    assert!(
        one.content_text.starts_with("Nội dung đầy đủ của bài số 1"),
        "{}",
        one.content_text
    );
    assert!(
        !one.content_text.contains("Bản quyền"),
        "{}",
        one.content_text
    );
    assert!(
        !one.content_text.contains("Trang chủ"),
        "{}",
        one.content_text
    );
    assert_eq!(one.summary, "Tóm tắt tin số 1.");
    // Stored HTML passed the allowlist sanitizer: no script, SVG, handlers or js: links;
    // links are absolute and carry rel="noopener noreferrer".
    for bad in [
        "<script",
        "<svg",
        "onload",
        "onerror",
        "javascript:",
        "class=",
    ] {
        assert!(
            !one.content_html.contains(bad),
            "{bad} in {}",
            one.content_html
        );
    }
    assert!(
        one.content_html.contains(&format!(
            r#"<a href="{}" rel="noopener noreferrer">"#,
            server.url("/lien-he")
        )),
        "{}",
        one.content_html
    );
    assert!(
        one.content_html
            .contains(&server.url("/anh/trong-bai-1.jpg"))
    );
    assert!(!one.title.contains('<') && !one.summary.contains('<'));
    assert_eq!(one.published_at.to_rfc3339(), "2024-03-12T01:15:00+00:00");
    assert_eq!(
        one.image_url.as_deref(),
        Some(server.url("/anh/1.jpg").as_str())
    );

    // Second pass: nothing new, nothing duplicated.
    let v = fetch_json(&cfg);
    assert_eq!(v["sources"][0]["new"], 0, "{v}");
    assert_eq!(v["sources"][0]["unchanged"], 3, "{v}");
    assert_eq!(items(&cfg).len(), 3);

    // The site edits article 2: updated in place, same id.
    let id2 = items(&cfg)
        .into_iter()
        .find(|i| i.url.as_deref() == Some(server.url("/bai/2.html").as_str()))
        .expect("item 2")
        .id;
    server.set(
        "/bai/2.html",
        Route::ok(
            article_page(2, "Cập nhật: lịch tiêm chủng đổi sang ngày 20/3."),
            "text/html; charset=utf-8",
        ),
    );
    let v = fetch_json(&cfg);
    assert_eq!(v["sources"][0]["updated"], 1, "{v}");
    assert_eq!(v["sources"][0]["new"], 0, "{v}");
    let after = items(&cfg);
    assert_eq!(after.len(), 3);
    let two = after.iter().find(|i| i.id == id2).expect("same row");
    assert!(
        two.content_text.contains("đổi sang ngày 20/3"),
        "{}",
        two.content_text
    );
    // Search sees the edit.
    let out = cfg
        .cmd(&["search", "--json", "lich tiem chung doi sang"])
        .assert()
        .success();
    let res: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(res["total"], 1, "{res}");

    // The site changes its layout: a source error naming the selector, nothing lost.
    server.set(
        "/tin-tuc",
        Route::ok(
            r#"<html><body><ul class="tin"><li><a href="/bai/1.html">x</a></li></ul></body></html>"#,
            "text/html",
        ),
    );
    let out = cfg.cmd(&["fetch"]).assert().code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let expected = format!(
        "selector `.news-item` matched 0 elements on {}",
        server.url("/tin-tuc")
    );
    assert!(
        stdout.contains("✗ xa-dak-ruong: lỗi [selector]"),
        "{stdout}"
    );
    assert!(stdout.contains(&expected), "{stdout}");
    assert_eq!(items(&cfg).len(), 3);
    let list = cfg.cmd(&["sources", "list", "--json"]).assert().success();
    let v: Value = serde_json::from_slice(&list.get_output().stdout).expect("json");
    assert_eq!(v[0]["last_error_kind"], "selector", "{v}");
}

#[test]
fn budget_per_pass_new_items_first() {
    let (server, cfg) = setup("max_articles_per_pass = 2");
    let v = fetch_json(&cfg);
    assert_eq!(v["sources"][0]["new"], 2, "{v}");
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/bai/"))
            .count(),
        2
    );
    let v = fetch_json(&cfg);
    assert_eq!(v["sources"][0]["new"], 1, "the third waits one pass: {v}");
    assert_eq!(items(&cfg).len(), 3);
    assert!(
        server.requests_to("/bai/3.html").len() == 1,
        "the new item is fetched before known ones are refreshed"
    );
}

#[test]
fn sources_check_prints_without_storing() {
    let (_server, cfg) = setup("");
    let out = cfg
        .cmd(&["sources", "check", "xa-dak-ruong", "--json"])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(v["items"].as_array().expect("items").len(), 3, "{v}");
    assert_eq!(v["items"][0]["title"], "Tin số 1 của xã Đắk Ruồng");
    assert_eq!(v["error"], Value::Null);
    let human = cfg
        .cmd(&["sources", "check", "xa-dak-ruong"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&human.get_output().stdout).to_string();
    assert!(text.contains("3 tin sẽ được lưu"), "{text}");
    assert!(items(&cfg).is_empty(), "check stores nothing");
}

#[test]
fn full_content_feed_fetches_the_article() {
    let server = FixtureServer::start();
    let feed = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Báo tỉnh</title>
        <item><title>Tin có tóm tắt</title><link>{}</link><guid>g-1</guid>
        <description>Chỉ là đoạn mở đầu…</description><pubDate>Tue, 12 Mar 2024 08:15:00 +0700</pubDate></item>
        </channel></rss>"#,
        server.url("/bai/1.html")
    );
    server.set("/rss", Route::ok(feed, "application/rss+xml"));
    server.set(
        "/bai/1.html",
        Route::ok(
            article_page(1, "Toàn văn bài báo với nhiều chi tiết hơn phần tóm tắt của nguồn RSS, đủ dài để đọc."),
            "text/html; charset=utf-8",
        ),
    );
    let cfg = TestConfig::new(&format!(
        "[[sources]]\nid = \"bao\"\nname = \"Báo\"\nkind = \"feed\"\nurl = \"{}\"\nfull_content = true\n",
        server.url("/rss")
    ));
    cfg.cmd(&["fetch"]).assert().success();
    let stored = items(&cfg);
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].title, "Tin có tóm tắt",
        "the feed's title wins for feeds"
    );
    assert_eq!(stored[0].summary, "Chỉ là đoạn mở đầu…");
    assert!(
        stored[0].content_text.contains("Toàn văn bài báo"),
        "{}",
        stored[0].content_text
    );
}

#[test]
fn robots_txt_is_obeyed_for_list_and_article_pages_unless_turned_off() {
    // Article 2 is off limits; the list page and the others are fine.
    let (server, cfg) = setup("");
    server.set(
        "/robots.txt",
        Route::ok("User-agent: gomtin\nDisallow: /bai/2.html\n", "text/plain"),
    );
    cfg.cmd(&["fetch"]).assert().success();
    assert!(
        server.requests_to("/bai/2.html").is_empty(),
        "disallowed article never requested"
    );
    let stored = items(&cfg);
    assert!(
        stored
            .iter()
            .any(|i| i.url.as_deref().is_some_and(|u| u.ends_with("/bai/1.html")))
    );
    assert_eq!(server.requests_to("/robots.txt").len(), 1);

    // The whole site disallowed: the source fails with a clear reason.
    let (server, cfg) = setup("");
    server.set(
        "/robots.txt",
        Route::ok("User-agent: *\nDisallow: /\n", "text/plain"),
    );
    let out = cfg.cmd(&["fetch"]).assert().code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.contains("[robots]") && stdout.contains("obey_robots"),
        "{stdout}"
    );
    assert!(server.requests_to("/tin-tuc").is_empty());

    // The admin turns it off for this source (the site agreed): fetched.
    let (server, cfg) = setup("obey_robots = false");
    server.set(
        "/robots.txt",
        Route::ok("User-agent: *\nDisallow: /\n", "text/plain"),
    );
    cfg.cmd(&["fetch"]).assert().success();
    assert!(server.requests_to("/robots.txt").is_empty());
    assert!(!server.requests_to("/tin-tuc").is_empty());
}
