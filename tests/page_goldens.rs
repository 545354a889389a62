//! Golden tests of article and list-page extraction on the saved Vietnamese pages in
//! `../shared/data/pages/`. Each page is SERVED by the local fixture server and fetched
//! through the real `Fetcher` (bytes over HTTP, decoded once by `charset`), then run
//! through `extract::article` and `normalize`. The expected values live in
//! `tests/fixtures/pages/NAME.expected.json`; they were written by reading each page
//! (title, where the article text starts and ends, the date line, the lead image), not
//! copied from the program's output. `{base}` in an expected URL stands for the server.

mod support;

use gomtin::config::PageSelectors;
use gomtin::extract::page::{CompiledSelectors, extract_list};
use gomtin::fetch::RobotsPolicy;
use serde_json::Value;
use support::{FixtureServer, Route, shared_data};
use unicode_normalization::UnicodeNormalization;

const TZ: chrono_tz::Tz = chrono_tz::Asia::Ho_Chi_Minh;

fn expected(name: &str) -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pages")
        .join(format!("{name}.expected.json"));
    serde_json::from_str(&std::fs::read_to_string(&p).expect("golden file")).expect("json")
}

fn fetcher() -> gomtin::fetch::Fetcher {
    let cfg = gomtin::config::FetchConfig {
        allow_private_networks: true,
        ..Default::default()
    };
    gomtin::fetch::Fetcher::new(&cfg).expect("fetcher")
}

fn serve_page(server: &FixtureServer, file: &str) -> String {
    let bytes = std::fs::read(shared_data().join("pages").join(file)).expect("page");
    let path = format!("/bai/{file}");
    // No charset in the header: the page's own <meta> must be found.
    server.set(&path, Route::ok(bytes, "text/html"));
    server.url(&path)
}

fn opt(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

const ARTICLES: &[&str] = &[
    "24h1",
    "dantri1",
    "nld1",
    "soha1",
    "thanhnien1",
    "tinhte1",
    "vnexpress1",
    "zing1",
];

#[test]
fn article_pages_match_their_goldens() {
    let server = FixtureServer::start();
    let base = server.url("");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let f = fetcher();
    let mut failures = Vec::new();
    for name in ARTICLES {
        let url = url::Url::parse(&serve_page(&server, &format!("{name}.html"))).expect("url");
        let article = rt
            .block_on(gomtin::pipeline::fetch_article(
                &f,
                &url,
                RobotsPolicy::Ignore,
                None,
                TZ,
            ))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let item = gomtin::normalize::normalize_entry(
            "golden",
            article.into_entry(&url),
            Some(&url),
            chrono::Utc::now(),
        )
        .expect("item");
        // Compared on one line: the stored text keeps its paragraph breaks (issue 16).
        let text = &gomtin::normalize::one_line(&item.content_text);
        let got = serde_json::json!({
            "title": item.title,
            "text_start": text.chars().take(80).collect::<String>(),
            "text_end": text.chars().rev().take(80).collect::<Vec<_>>().into_iter().rev().collect::<String>(),
            "date": item.published_at.map(|d| d.to_rfc3339()),
            "image": item.image_url.as_ref().map(|u| u.replace(&base, "{base}")),
        });
        if std::env::var_os("GOMTIN_SHOW_GOLDEN").is_some() {
            println!(
                "{name}: {}",
                serde_json::to_string_pretty(&got).expect("json")
            );
        }
        let want = expected(name);
        // Output is NFC, decoded text: no entities, no tags, no decomposed marks.
        for field in [&item.title, text] {
            assert_eq!(field.nfc().collect::<String>(), *field, "{name}: not NFC");
            assert!(
                !field.contains("&#") && !field.contains("&nbsp;"),
                "{name}: entity left"
            );
            assert!(
                !field.contains("<p") && !field.contains("<div"),
                "{name}: markup left"
            );
        }
        let mut check = |what: &str, ok: bool| {
            if !ok {
                failures.push(format!("{name}: {what}: got {got}, want {want}"));
            }
        };
        check(
            "title",
            opt(&want["title"]).as_deref() == Some(item.title.as_str()),
        );
        check(
            "text_start",
            opt(&want["text_start"]).is_some_and(|s| text.starts_with(&s)),
        );
        check(
            "text_end",
            opt(&want["text_end"]).is_some_and(|s| text.ends_with(&s)),
        );
        check(
            "date",
            opt(&want["date"]) == item.published_at.map(|d| d.to_rfc3339()),
        );
        check(
            "image",
            opt(&want["image"]).map(|u| u.replace("{base}", &base)) == item.image_url,
        );
        if let Some(min) = want["min_chars"].as_u64() {
            check("min_chars", text.chars().count() as u64 >= min);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn vnexpress_homepage_lists_its_top_stories_by_selectors() {
    let server = FixtureServer::start();
    let base = server.url("");
    let url = url::Url::parse(&serve_page(&server, "vnexpress.hompage.html")).expect("url");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let body = match rt
        .block_on(fetcher().fetch(&url, &Default::default()))
        .expect("fetch")
    {
        gomtin::fetch::Fetched::Body(b) => b,
        other => panic!("{other:?}"),
    };
    let text = gomtin::fetch::charset::decode(&body.bytes, body.content_type.as_deref()).text;
    let want = expected("vnexpress.hompage");
    let sel: PageSelectors =
        serde_json::from_value(want["selectors"].clone()).expect("selectors in golden");
    let entries = extract_list(
        &text,
        &body.final_url,
        &CompiledSelectors::new(&sel).expect("selectors"),
        TZ,
    )
    .expect("list");
    let items: Vec<_> = entries
        .into_iter()
        .filter_map(|e| {
            gomtin::normalize::normalize_entry("vne", e, Some(&body.final_url), chrono::Utc::now())
        })
        .collect();
    if std::env::var_os("GOMTIN_SHOW_GOLDEN").is_some() {
        for i in &items {
            println!(
                "{} | {:?} | {:?} | {}",
                i.title, i.url, i.image_url, i.summary
            );
        }
    }
    assert_eq!(items.len() as u64, want["count"].as_u64().expect("count"));
    for (i, w) in [(0, &want["first"]), (items.len() - 1, &want["last"])] {
        let it = &items[i];
        assert_eq!(Some(it.title.as_str()), w["title"].as_str(), "{i}");
        assert_eq!(
            it.url
                .as_deref()
                .map(|u| u.replace(&base, "{base}"))
                .as_deref(),
            w["link"].as_str(),
            "{i}"
        );
        assert_eq!(
            it.image_url
                .as_deref()
                .map(|u| u.replace(&base, "{base}"))
                .as_deref(),
            w["image"].as_str(),
            "{i}"
        );
        assert!(
            it.summary
                .starts_with(w["summary_start"].as_str().expect("summary")),
            "{i}: {}",
            it.summary
        );
    }
}
