//! The benchmark's lean search settings on `SearchRequest`: `snippets = false` leaves every
//! hit's snippet empty and nothing else changes; `facets = false` leaves the per-source
//! counts empty with the same exact total; `threads = Some(1)` and `Some(2)` give the same
//! page, total and facets as the default. Items from two sources, stored through the app.

mod support;

use gomtin::app::App;
use gomtin::config::Config;
use gomtin::model::RawEntry;
use gomtin::search::{SearchRequest, SearchResults};
use support::TestConfig;

fn raw(n: usize, title: &str) -> RawEntry {
    RawEntry {
        guid: Some(format!("g{n}")),
        title: Some(title.to_string()),
        link: Some(format!("https://bao.example.vn/{n}")),
        summary_html: Some(format!(
            "{title}. Bà con xã Đăk Kôi đón tin vui về nông thôn mới lần thứ {n}."
        )),
        published: Some(chrono::Utc::now() - chrono::Duration::hours(n as i64 + 1)),
        ..Default::default()
    }
}

fn app() -> (TestConfig, App) {
    let cfg = TestConfig::new(
        "[[sources]]\nid = \"a\"\nname = \"Nguồn A\"\nkind = \"manual\"\n\n[[sources]]\nid = \"b\"\nname = \"Nguồn B\"\nkind = \"manual\"\n",
    );
    let app = App::open(Config::load(&cfg.path).expect("config")).expect("app");
    for (source, from, to) in [("a", 0, 7), ("b", 7, 10)] {
        let items: Vec<_> = (from..to)
            .map(|n| {
                gomtin::normalize::normalize_entry(
                    source,
                    raw(n, &format!("Kon Rẫy về đích nông thôn mới, bài {n}")),
                    None,
                    chrono::Utc::now(),
                )
                .expect("item")
            })
            .collect();
        app.store
            .upsert_items(&items, chrono::Utc::now())
            .expect("store");
    }
    gomtin::pipeline::after_store_blocking(&app, None).expect("after store");
    (cfg, app)
}

fn page(r: &SearchResults) -> Vec<(i64, String)> {
    r.hits.iter().map(|h| (h.id, h.title.clone())).collect()
}

#[test]
fn lean_settings_skip_snippets_and_facets_only() {
    let (_cfg, app) = app();
    let full = app
        .search(&SearchRequest::new("kon ray nong thon moi", 5))
        .expect("search");
    assert_eq!(full.total, 10);
    assert_eq!(full.hits.len(), 5);
    assert!(full.hits.iter().all(|h| h.snippet_html.contains("<mark>")));
    let counts: Vec<(String, u64)> = full
        .facets
        .iter()
        .map(|f| (f.source.clone(), f.count))
        .collect();
    assert_eq!(counts, vec![("a".to_string(), 7), ("b".to_string(), 3)]);

    let mut req = SearchRequest::new("kon ray nong thon moi", 5);
    req.snippets = false;
    let no_snippets = app.search(&req).expect("search");
    assert_eq!(page(&no_snippets), page(&full));
    assert_eq!(no_snippets.facets, full.facets);
    for h in &no_snippets.hits {
        assert!(h.snippet.is_empty() && h.snippet_html.is_empty() && h.highlights.is_empty());
        assert!(h.url.is_some());
    }

    let mut req = SearchRequest::new("kon ray nong thon moi", 5);
    req.facets = false;
    let no_facets = app.search(&req).expect("search");
    assert_eq!(no_facets.total, full.total);
    assert!(no_facets.facets.is_empty());
    assert_eq!(page(&no_facets), page(&full));
    assert!(no_facets.hits.iter().all(|h| !h.snippet.is_empty()));

    for threads in [1, 2] {
        let mut req = SearchRequest::new("kon ray nong thon moi", 5);
        req.threads = Some(threads);
        let r = app.search(&req).expect("search");
        assert_eq!(page(&r), page(&full), "{threads} threads");
        assert_eq!(r.total, full.total);
        assert_eq!(r.facets, full.facets);
    }
}
