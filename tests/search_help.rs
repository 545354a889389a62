//! Search that helps (issue 15), over HTTP against the real `gomtin serve` on the first
//! 3,000 baomoi articles: the four typos of the issue get "Có phải bạn muốn tìm: …" with
//! the intended phrase (built from syllables that exist, ranked by how often the phrase
//! occurs) and following it finds that phrase; a quoted phrase typed with diacritics
//! matches its exact form only, typed without the folded form; every malformed query
//! gets its message; an empty result shows tips and "Bỏ bộ lọc".

mod support;

use gomtin::app::App;
use gomtin::config::Config;
use support::TestConfig;
use support::corpus::{Article, ingest_direct};
use support::web::Session;

/// Articles of the corpus indexed (the intended phrases occur 13–229 times in them).
const ARTICLES: usize = 3_000;

/// Two articles a folded phrase cannot tell apart: "chuyển đổi số" and "chuyển đổi sở hữu".
fn phrase_pair() -> Vec<Article> {
    let a = |id: &str, title: &str, body: &str| Article {
        id: id.into(),
        url: format!("http://www.baomoi.com/a/c/{id}.epi"),
        title: title.into(),
        summary: body.into(),
        body: body.into(),
    };
    vec![
        a(
            "99000001",
            "Kon Tum đẩy mạnh chuyển đổi số trong cải cách hành chính",
            "Tỉnh triển khai chuyển đổi số ở cấp xã, người dân nộp hồ sơ trực tuyến.",
        ),
        a(
            "99000002",
            "Hoàn tất chuyển đổi sở hữu nhà máy thủy điện",
            "Doanh nghiệp hoàn tất việc chuyển đổi sở hữu nhà máy sau nhiều tháng đàm phán.",
        ),
    ]
}

struct Fixture {
    _cfg: TestConfig,
    daemon: support::daemon::Daemon,
    api: Session,
}

fn start() -> Fixture {
    let mut toml = String::new();
    for s in 0..4 {
        toml.push_str(&format!(
            "[[sources]]\nid = \"bm-{s}\"\nname = \"Báo mới {s}\"\nkind = \"manual\"\n\n"
        ));
    }
    let cfg = TestConfig::new(&toml);
    {
        let app = App::open(Config::load(&cfg.path).expect("config")).expect("app");
        let mut articles = support::baomoi(Some(ARTICLES));
        articles.extend(phrase_pair());
        ingest_direct(&app, &articles, 4).expect("ingest");
        app.index.close().expect("close");
    }
    cfg.cmd(&[
        "users",
        "add",
        "canbo",
        "--role",
        "staff",
        "--password-stdin",
    ])
    .write_stdin("mat-khau-can-bo\n")
    .assert()
    .success();
    let token = cfg.stdout(&["users", "token", "canbo"]).trim().to_string();
    let daemon = cfg.serve();
    let api = Session::bearer(&daemon.url(""), &token);
    Fixture {
        _cfg: cfg,
        daemon,
        api,
    }
}

async fn search(api: &Session, params: &[(&str, &str)]) -> serde_json::Value {
    let r = api
        .get("/api/search")
        .query(params)
        .send()
        .await
        .expect("search");
    assert!(r.status().is_success(), "{params:?}: {}", r.status());
    r.json().await.expect("json")
}

fn fold(s: &str) -> String {
    gomtin::vietnamese::tokenize(s)
        .iter()
        .map(|t| gomtin::vietnamese::fold(&t.text))
        .collect::<Vec<_>>()
        .join(" ")
}

fn notices(v: &serde_json::Value) -> Vec<String> {
    v["notices"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn ids(v: &serde_json::Value) -> Vec<i64> {
    v["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter_map(|h| h["id"].as_i64())
        .collect()
}

fn titles(v: &serde_json::Value) -> Vec<String> {
    v["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter_map(|h| h["title"].as_str().map(String::from))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_helps_with_typos_phrases_and_malformed_queries() {
    let f = start();
    let api = &f.api;

    // 1. The four typos of the issue: each suggestion is the intended phrase, and it finds more.
    for (typo, intended) in [
        ("nong thon moy", "nong thon moi"),
        ("bong daa", "bong da"),
        ("giao duk", "giao duc"),
        ("kon tumm", "kon tum"),
    ] {
        let v = search(api, &[("q", typo)]).await;
        let suggestion = v["suggestion"]
            .as_str()
            .unwrap_or_else(|| panic!("{typo}: no suggestion in {v}"));
        assert_eq!(fold(suggestion), intended, "{typo} -> {suggestion}");
        let found = search(api, &[("q", suggestion)]).await;
        assert!(
            found["total"].as_u64().unwrap_or(0) > v["total"].as_u64().unwrap_or(0),
            "{suggestion} finds no more than {typo}"
        );
        // The page offers it as a link that searches.
        let html = api.text(&format!("/?q={}", typo.replace(' ', "+"))).await;
        assert!(html.contains("Có phải bạn muốn tìm:"), "{typo}: {html}");
        assert!(html.contains(&format!(">{suggestion}</a>")), "{typo}: link");
    }
    // A query that is fine gets no suggestion.
    let v = search(api, &[("q", "nong thon moi")]).await;
    assert!(v.get("suggestion").is_none(), "{v}");

    // 2. The quoted phrase rule, both ways.
    let exact = search(api, &[("q", "\"chuyển đổi số\"")]).await;
    let t = titles(&exact);
    assert!(t.iter().any(|t| t.contains("chuyển đổi số")), "{t:?}");
    assert!(
        !t.iter().any(|t| t.contains("chuyển đổi sở hữu")),
        "a quoted phrase with diacritics matched another tone: {t:?}"
    );
    let folded = search(api, &[("q", "\"chuyen doi so\"")]).await;
    let t = titles(&folded);
    assert!(t.iter().any(|t| t.contains("chuyển đổi số")), "{t:?}");
    assert!(t.iter().any(|t| t.contains("chuyển đổi sở hữu")), "{t:?}");

    // 3. Each malformed query gets its message, and is still searched as meant.
    let v = search(api, &[("q", "\"chuyển đổi số")]).await;
    assert!(
        notices(&v)
            .iter()
            .any(|n| n.contains("Thiếu dấu ngoặc kép")),
        "{v}"
    );
    assert_eq!(
        ids(&v),
        ids(&exact),
        "an unclosed quote is searched as closed"
    );
    let v = search(api, &[("q", "bóng đá source:")]).await;
    assert!(
        notices(&v).iter().any(|n| n.contains("source: trống")),
        "{v}"
    );
    assert!(
        v["total"].as_u64().unwrap_or(0) > 0,
        "the words are still searched"
    );
    let v = search(api, &[("q", "(( OR -")]).await;
    assert!(
        notices(&v)
            .iter()
            .any(|n| n.contains("chỉ có dấu và toán tử")),
        "{v}"
    );
    let v = search(api, &[("q", "bóng đá after:2017-12-31 before:2017-01-01")]).await;
    assert!(notices(&v).iter().any(|n| n.contains("đã đổi chỗ")), "{v}");
    let swapped = v["total"].as_u64().unwrap_or(0);
    let right = search(api, &[("q", "bóng đá after:2017-01-01 before:2017-12-31")]).await;
    assert!(swapped > 0, "{v}");
    assert_eq!(swapped, right["total"].as_u64().unwrap_or(0));
    let v = search(
        api,
        &[
            ("q", "bóng đá"),
            ("from", "2017-12-31"),
            ("to", "2017-01-01"),
        ],
    )
    .await;
    assert!(notices(&v).iter().any(|n| n.contains("đã đổi chỗ")), "{v}");
    let r = api
        .get("/api/search")
        .query(&[("q", "status:gì-đó")])
        .send()
        .await
        .expect("bad status");
    assert_eq!(r.status(), reqwest::StatusCode::BAD_REQUEST);

    // 4. An empty result: tips, and "Bỏ bộ lọc" keeps the words and drops the filters.
    let html = api
        .text("/?q=b%C3%B3ng+%C4%91%C3%A1+source:bm-9&unshared=1")
        .await
        .replace("&#x2f;", "/");
    assert!(html.contains("Không tìm thấy tin nào."), "{html}");
    assert!(html.contains("id=\"no-results\""), "tips");
    assert!(
        html.contains("id=\"clear-filters\" href=\"/?q=b%C3%B3ng+%C4%91%C3%A1\""),
        "{html}"
    );
    let html = api
        .text("/?q=\"chuy%E1%BB%83n+%C4%91%E1%BB%95i+s%E1%BB%91")
        .await;
    assert!(
        html.contains("Thiếu dấu ngoặc kép"),
        "the page shows the notice"
    );
    drop(f.daemon);
}
