//! Recent search pages (`[server.limits] search_cache`): a search asked again is answered
//! the same; an item stored and indexed after it is found by the very next identical
//! search (an entry holds for one index generation only); a `status:shared` search sees
//! a share recorded after it was first asked (such searches are never kept); hits are read
//! from the store on every answer; `search_cache = 0` keeps nothing and answers the same.

mod support;

use chrono::Utc;
use gomtin::app::App;
use gomtin::config::Config;
use gomtin::model::RawEntry;
use gomtin::search::{SearchRequest, SearchResults};
use gomtin::store::{NewShare, Role};
use support::TestConfig;

fn entry(n: usize, title: &str) -> RawEntry {
    RawEntry {
        guid: Some(format!("g{n}")),
        title: Some(title.to_string()),
        link: Some(format!("https://bao.example.vn/{n}")),
        summary_html: Some(format!("{title}. Bà con xã Đăk Kôi đón tin vui, lần {n}.")),
        published: Some(Utc::now() - chrono::Duration::hours(n as i64 + 1)),
        ..Default::default()
    }
}

fn store(app: &App, from: usize, to: usize) {
    let items: Vec<_> = (from..to)
        .map(|n| {
            gomtin::normalize::normalize_entry(
                "a",
                entry(n, &format!("Kon Rẫy về đích nông thôn mới, bài {n}")),
                None,
                Utc::now(),
            )
            .expect("item")
        })
        .collect();
    app.store.upsert_items(&items, Utc::now()).expect("store");
    gomtin::pipeline::after_store_blocking(app, None).expect("after store");
}

fn app(extra: &str) -> (TestConfig, App) {
    let cfg = TestConfig::new(&format!(
        "{extra}\n[[sources]]\nid = \"a\"\nname = \"Nguồn A\"\nkind = \"manual\"\n"
    ));
    let app = App::open(Config::load(&cfg.path).expect("config")).expect("app");
    store(&app, 0, 6);
    (cfg, app)
}

fn ids(r: &SearchResults) -> Vec<i64> {
    r.hits.iter().map(|h| h.id).collect()
}

fn search(app: &App, q: &str) -> SearchResults {
    app.search(&SearchRequest::new(q, 20)).expect("search")
}

#[test]
fn a_kept_page_never_hides_what_changed() {
    let (_cfg, app) = app("");
    let first = search(&app, "kon ray nong thon moi");
    assert_eq!(first.total, 6);
    let again = search(&app, "kon ray nong thon moi");
    assert_eq!(ids(&again), ids(&first));
    assert_eq!(again.total, first.total);
    assert_eq!(
        again.hits.iter().map(|h| &h.snippet).collect::<Vec<_>>(),
        first.hits.iter().map(|h| &h.snippet).collect::<Vec<_>>()
    );
    // The same request without snippets: the same page, snippets left out.
    let mut lean = SearchRequest::new("kon ray nong thon moi", 20);
    lean.snippets = false;
    let lean = app.search(&lean).expect("search");
    assert_eq!(ids(&lean), ids(&first));
    assert!(lean.hits.iter().all(|h| h.snippet.is_empty()));

    // A new item, stored and indexed: the next identical search finds it.
    store(&app, 6, 7);
    let after = search(&app, "kon ray nong thon moi");
    assert_eq!(after.total, 7, "{:?}", ids(&after));

    // `status:shared` reads the store: a share made after the first ask is seen.
    assert_eq!(search(&app, "nong thon moi status:shared").total, 0);
    let user = app
        .store
        .add_user("nhanvien", Role::Staff, "x", Utc::now())
        .expect("user");
    let shared = ids(&after)[0];
    app.store
        .add_share(
            shared,
            &user,
            &NewShare {
                channel: "facebook".into(),
                link: None,
            },
            Utc::now(),
        )
        .expect("share");
    // (The whole story counts as shared: these near-copies are one story.)
    let now_shared = search(&app, "nong thon moi status:shared");
    assert!(ids(&now_shared).contains(&shared), "{:?}", ids(&now_shared));
    assert_eq!(
        search(&app, "nong thon moi status:unshared").total,
        7 - now_shared.total
    );

    // A hit's title comes from the store on every answer, kept page or not.
    let renamed = gomtin::normalize::normalize_entry(
        "a",
        entry(0, "Kon Rẫy về đích nông thôn mới, bài 0 (cập nhật)"),
        None,
        Utc::now(),
    )
    .expect("item");
    let before = search(&app, "dak koi");
    app.store
        .upsert_items(&[renamed], Utc::now())
        .expect("edit");
    let edited = search(&app, "dak koi");
    assert_eq!(edited.total, before.total);
    assert!(
        edited.hits.iter().any(|h| h.title.ends_with("(cập nhật)")),
        "{:?}",
        edited.hits.iter().map(|h| &h.title).collect::<Vec<_>>()
    );
}

#[test]
fn nothing_kept_answers_the_same() {
    let (_a, kept) = app("");
    let (_b, fresh) = app("[server.limits]\nsearch_cache = 0\n");
    for q in [
        "kon ray nong thon moi",
        "dak koi",
        "\"nông thôn mới\"",
        "zzqq",
    ] {
        for _ in 0..2 {
            let (x, y) = (search(&kept, q), search(&fresh, q));
            assert_eq!(x.total, y.total, "{q}");
            assert_eq!(
                x.hits.iter().map(|h| &h.title).collect::<Vec<_>>(),
                y.hits.iter().map(|h| &h.title).collect::<Vec<_>>(),
                "{q}"
            );
        }
    }
}
