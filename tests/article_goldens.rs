//! Issue 16's goldens for article pages (`tests/fixtures/articles/expected.json`, judged
//! by reading each page): the lead paragraph kept when it sits outside the body
//! container (VnExpress, Dân trí, NLĐ, 24h), share lines, related links and bylines out
//! of the text — the byline becomes the author — paragraph breaks kept, on the saved pages
//! and on a photo story made for the test; a homepage recognised as no article, and what
//! a `full_content` feed does with an item that links to one (keeps the feed's summary,
//! notes "trang không phải bài viết" in the source's health); `media:thumbnail` outside
//! `media:content` as the item's image. Pages are served on 127.0.0.1 and fetched by the
//! real `Fetcher` (or the real binary).

mod support;

use gomtin::fetch::RobotsPolicy;
use serde_json::Value;
use support::{FixtureServer, Route, TestConfig, feed_source, shared_data};

const TZ: chrono_tz::Tz = chrono_tz::Asia::Ho_Chi_Minh;

fn expected() -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/articles/expected.json");
    serde_json::from_str(&std::fs::read_to_string(p).expect("golden")).expect("json")
}

fn page_bytes(case: &Value) -> (String, Vec<u8>) {
    match (case["page"].as_str(), case["file"].as_str()) {
        (Some(page), _) => (
            format!("{page}.html"),
            std::fs::read(shared_data().join("pages").join(format!("{page}.html"))).expect("page"),
        ),
        (None, Some(file)) => (
            file.to_string(),
            std::fs::read(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures/articles")
                    .join(file),
            )
            .expect("fixture"),
        ),
        _ => panic!("a case names a page or a file: {case}"),
    }
}

fn fetcher() -> gomtin::fetch::Fetcher {
    let cfg = gomtin::config::FetchConfig {
        allow_private_networks: true,
        ..Default::default()
    };
    gomtin::fetch::Fetcher::new(&cfg).expect("fetcher")
}

fn article(
    server: &FixtureServer,
    rt: &tokio::runtime::Runtime,
    name: &str,
    bytes: Vec<u8>,
) -> gomtin::error::Result<gomtin::model::NewItem> {
    let path = format!("/bai/{name}");
    server.set(&path, Route::ok(bytes, "text/html"));
    let url = url::Url::parse(&server.url(&path)).expect("url");
    let a = rt.block_on(gomtin::pipeline::fetch_article(
        &fetcher(),
        &url,
        RobotsPolicy::Ignore,
        None,
        TZ,
    ))?;
    Ok(gomtin::normalize::normalize_entry(
        "golden",
        a.into_entry(&url),
        Some(&url),
        chrono::Utc::now(),
    )
    .expect("item"))
}

#[test]
fn leads_kept_bylines_and_share_lines_out() {
    let server = FixtureServer::start();
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let want = expected();
    let mut failures = Vec::new();
    for case in want["articles"].as_array().expect("articles") {
        let (name, bytes) = page_bytes(case);
        let item = article(&server, &rt, &name, bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let text = &item.content_text;
        if std::env::var_os("GOMTIN_SHOW_GOLDEN").is_some() {
            println!("{name}: author {:?}\n{text}\n----", item.author);
        }
        let mut check = |what: &str, ok: bool| {
            if !ok {
                failures.push(format!(
                    "{name}: {what}\n  text: {text:?}\n  author: {:?}",
                    item.author
                ));
            }
        };
        let lead = case["lead_start"].as_str().expect("lead_start");
        check("lead first", text.starts_with(lead));
        let then = case["then"].as_str().expect("then");
        // The lead is a paragraph of its own, before the body.
        let lead_end = text.find("\n\n").unwrap_or(text.len());
        check(
            "lead is its own paragraph, before the body",
            text[lead_end..].contains(then),
        );
        for bad in case["absent"].as_array().expect("absent") {
            let bad = bad.as_str().expect("str");
            check(&format!("`{bad}` left in the text"), !text.contains(bad));
        }
        check("author", item.author.as_deref() == case["author"].as_str());
        let breaks = text.matches("\n\n").count() as u64;
        check(
            &format!("{breaks} paragraph breaks"),
            breaks >= case["paragraphs"].as_u64().expect("paragraphs"),
        );
        check("no line left empty at the edges", text.trim() == text);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_homepage_is_not_an_article() {
    let server = FixtureServer::start();
    let rt = tokio::runtime::Runtime::new().expect("rt");
    for case in expected()["not_articles"].as_array().expect("not_articles") {
        let (name, bytes) = page_bytes(case);
        match article(&server, &rt, &name, bytes) {
            Err(e) => {
                assert_eq!(e.kind(), "not_article", "{name}: {e}");
                assert!(e.to_string().contains("trang không phải bài viết"), "{e}");
            }
            Ok(item) => panic!("{name} read as an article: {:?}", item.content_text),
        }
    }
    // And none of the real articles is taken for a listing.
    for case in expected()["articles"].as_array().expect("articles") {
        let (name, bytes) = page_bytes(case);
        assert!(article(&server, &rt, &name, bytes).is_ok(), "{name}");
    }
}

/// A `full_content` feed whose item links to a homepage: the item keeps the feed's own
/// summary and the source's health says why. The feed's `media:thumbnail` (outside any
/// `media:content`) is the item's image.
#[test]
fn a_feed_item_linking_to_a_homepage_keeps_its_summary() {
    let server = FixtureServer::start();
    let home = std::fs::read(shared_data().join("pages/vnexpress.hompage.html")).expect("home");
    server.set("/trang-chu", Route::ok(home, "text/html"));
    let feed = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>Tin xã</title><link>{base}/</link>
<item><title>Lịch tiếp dân tháng 12</title><link>{base}/trang-chu</link><guid>lich-tiep-dan</guid>
<description>UBND xã tiếp dân vào sáng thứ năm hằng tuần tại hội trường.</description>
<media:thumbnail url="{base}/anh/tiep-dan.jpg" width="120" height="80"/></item>
</channel></rss>"#,
        base = server.url("")
    );
    server.set("/rss", Route::ok(feed, "application/rss+xml"));
    let cfg = TestConfig::new(&format!(
        "{}\nfull_content = true\n",
        feed_source("xa", &server.url("/rss")).trim_end()
    ));
    let v = cfg.json(&["fetch", "--json"]);
    let o = &v["sources"][0];
    assert_eq!(o["outcome"], "fetched", "{v}");
    assert_eq!(o["new"], 1, "{v}");
    let notes = o["notes"].as_array().expect("notes in the outcome");
    assert!(
        notes.iter().any(|n| n
            .as_str()
            .is_some_and(|n| n.contains("trang không phải bài viết"))),
        "{v}"
    );
    let store = gomtin::store::Store::open(&cfg.data_dir()).expect("store");
    let items = store.list_items(&Default::default()).expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0].content_text,
        "UBND xã tiếp dân vào sáng thứ năm hằng tuần tại hội trường."
    );
    assert_eq!(
        items[0].image_url.as_deref(),
        Some(server.url("/anh/tiep-dan.jpg").as_str())
    );
    let list = cfg.json(&["sources", "list", "--json"]);
    assert!(
        list[0]["notes"]
            .as_str()
            .is_some_and(|n| n.contains("trang không phải bài viết")),
        "{list}"
    );
}
