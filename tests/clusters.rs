//! Near-duplicate clusters on real articles from `../shared/data/corpus/baomoi-35k.jsonl.gz`:
//! reposts found in the corpus itself (the same story under another title), reposts made
//! from corpus articles the way pages repost (changed title, trimmed ending, a
//! "Chia sẻ từ …" prefix), and unrelated articles on the same topic that must stay apart.
//! Items go through `normalize` and the real store, clustered as they are stored or later by
//! `cluster_pending` (both must agree); the CLI test adds
//! manual posts and checks `search --collapse`.

mod support;

use std::collections::HashMap;

use chrono::{TimeZone, Utc};
use gomtin::model::RawEntry;
use support::TestConfig;
use support::corpus::{Article, by_ids, default_corpus};

/// The corpus articles with these ids (all of them must be found).
fn corpus(ids: &[&str]) -> HashMap<String, Article> {
    by_ids(&default_corpus(), ids).expect("all corpus ids found")
}

/// Reposts already in the corpus (two publishers, one story).
const REAL_REPOSTS: &[(&str, &str, &str)] = &[
    (
        "21476055",
        "21481421",
        "title changed: '…giải hạn cho... xe' / '…cho... ô tô'",
    ),
    ("21478514", "21479027", "same story, two publishers"),
    ("21477812", "21478806", "same story, two publishers"),
];

/// Same topic, different articles: must stay apart.
const SAME_TOPIC: &[(&str, &str, &str)] = &[
    (
        "21471100",
        "21472420",
        "Cameroon wins CAN 2017, two write-ups",
    ),
    ("21477798", "21481215", "petrol tax of 8,000 đồng/litre"),
    ("21474529", "21478253", "Hyundai Grand i10 2017 launch"),
    ("21480999", "21481743", "Syrian army at Al-Bab"),
    ("21473842", "21473956", "Premier League team of round 24"),
    ("21487188", "21490267", "Suarez, Barcelona, Copa del Rey"),
    ("21474285", "21491825", "timber thieves in Gia Lai"),
    ("21473858", "21474323", "Minh Tú, Asia's Next Top Model"),
];

/// Articles reposted with edits by other pages.
const EDITED: &[&str] = &["21472944", "21490770", "21478074"];

fn html(body: &str) -> String {
    // The corpus has no paragraphs; cut into sentences so trimming works like on a page.
    body.split(". ")
        .map(|s| format!("<p>{}</p>", html_escape::encode_text(s.trim())))
        .collect()
}

fn trimmed(body: &str) -> String {
    let keep = body.chars().count() * 6 / 10;
    body.chars().take(keep).collect()
}

struct Harness {
    store: gomtin::store::Store,
    _dir: tempfile::TempDir,
    ids: HashMap<String, i64>,
}

impl Harness {
    fn new(sources: &[&str]) -> Harness {
        let dir = tempfile::tempdir().expect("tmp");
        let mut toml = String::new();
        for s in sources {
            toml.push_str(&format!(
                "[[sources]]\nid = \"{s}\"\nname = \"{s}\"\nkind = \"manual\"\n\n"
            ));
        }
        let cfg = gomtin::config::Config::parse(&toml, &dir.path().join("g.toml")).expect("cfg");
        let store = gomtin::store::Store::open(dir.path()).expect("store");
        store.sync_sources(&cfg, Utc::now()).expect("sync");
        Harness {
            store,
            _dir: dir,
            ids: HashMap::new(),
        }
    }

    fn add(&mut self, label: &str, source: &str, title: &str, body: &str, hour: u32) {
        let published = Utc.with_ymd_and_hms(2017, 2, 7, hour, 0, 0).single();
        let raw = RawEntry {
            title: Some(title.to_string()),
            link: Some(format!("https://{source}.example.vn/{label}.html")),
            content_html: Some(html(body)),
            published,
            ..Default::default()
        };
        let item = gomtin::normalize::normalize_entry(source, raw, None, Utc::now()).expect("item");
        self.store
            .upsert_items(&[item], Utc::now())
            .expect("upsert");
        let id = self
            .store
            .list_items(&gomtin::store::ItemQuery::default())
            .expect("items")
            .into_iter()
            .find(|i| {
                i.url
                    .as_deref()
                    .is_some_and(|u| u.ends_with(&format!("/{label}.html")))
            })
            .expect("stored")
            .id;
        self.ids.insert(label.to_string(), id);
    }

    fn cluster(&self, label: &str) -> i64 {
        let id = self.ids[label];
        self.store.clusters_of(&[id]).expect("clusters")[&id]
    }
}

/// How the items of a scenario get clustered.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Clustering {
    /// Each in the transaction that stores it (the normal case).
    AsStored,
    /// Later, by `cluster_pending`: the high-water mark is put back after the first item,
    /// as in a database whose clustering fell behind, so the store defers to the change log.
    FromTheChangeLog,
}

#[test]
fn reposts_cluster_and_same_topic_articles_stay_apart() {
    let as_stored = reposts_scenario(Clustering::AsStored);
    let later = reposts_scenario(Clustering::FromTheChangeLog);
    assert_eq!(as_stored, later, "both ways give the same clusters");
}

/// Stores the scenario's items, checks the clusters, and returns each label's cluster by
/// label (the cluster's first member).
fn reposts_scenario(clustering: Clustering) -> std::collections::BTreeMap<String, String> {
    let mut wanted: Vec<&str> = EDITED.to_vec();
    for (a, b, _) in REAL_REPOSTS.iter().chain(SAME_TOPIC) {
        wanted.push(a);
        wanted.push(b);
    }
    let docs = corpus(&wanted);
    let mut h = Harness::new(&["bao-a", "bao-b", "trang-xa", "fb-xa"]);

    for (a, b, _) in REAL_REPOSTS.iter().chain(SAME_TOPIC) {
        h.add(a, "bao-a", &docs[*a].title, &docs[*a].body, 7);
        if clustering == Clustering::FromTheChangeLog && h.ids.len() == 1 {
            let db = rusqlite::Connection::open(h._dir.path().join("gomtin.sqlite")).expect("db");
            db.execute("UPDATE cluster_state SET clustered_seq = 0", [])
                .expect("rewind");
        }
        h.add(b, "bao-b", &docs[*b].title, &docs[*b].body, 9);
    }
    for id in EDITED {
        let d = &docs[*id];
        h.add(id, "bao-a", &d.title, &d.body, 6);
        h.add(
            &format!("{id}-title"),
            "bao-b",
            &format!("NÓNG: {} (cập nhật)", d.title.to_uppercase()),
            &d.body,
            8,
        );
        h.add(
            &format!("{id}-trim"),
            "trang-xa",
            &d.title,
            &trimmed(&d.body),
            10,
        );
        h.add(
            &format!("{id}-share"),
            "fb-xa",
            &format!("Chia sẻ từ Báo Thanh Niên: {}", d.title),
            &format!("Chia sẻ từ Báo Thanh Niên. {}", d.body),
            11,
        );
    }
    let n = h.store.cluster_pending().expect("cluster");
    let pending = match clustering {
        Clustering::AsStored => 0,
        Clustering::FromTheChangeLog => h.ids.len(),
    };
    assert_eq!(n, pending, "every item clustered once ({clustering:?})");
    assert_eq!(
        h.store.cluster_pending().expect("again"),
        0,
        "nothing left to do"
    );

    let mut failures = Vec::new();
    for (a, b, why) in REAL_REPOSTS {
        if h.cluster(a) != h.cluster(b) {
            failures.push(format!("real repost {a}/{b} ({why}) not clustered"));
        }
    }
    for id in EDITED {
        let root = h.cluster(id);
        assert_eq!(root, h.ids[*id], "the first item names its cluster");
        for v in ["title", "trim", "share"] {
            if h.cluster(&format!("{id}-{v}")) != root {
                failures.push(format!("{id}-{v} not in the cluster of {id}"));
            }
        }
    }
    for (a, b, why) in SAME_TOPIC {
        if h.cluster(a) == h.cluster(b) {
            failures.push(format!("same-topic {a}/{b} ({why}) wrongly clustered"));
        }
    }
    // Stories stay apart from each other.
    let roots: std::collections::HashSet<i64> = EDITED.iter().map(|id| h.cluster(id)).collect();
    assert_eq!(roots.len(), EDITED.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // "Also posted by": the earliest is first; the others list the same story.
    let also = h.store.also_posted(h.ids[EDITED[0]]).expect("also");
    let sources: Vec<&str> = also.iter().map(|m| m.source_id.as_str()).collect();
    assert_eq!(sources, ["bao-b", "trang-xa", "fb-xa"]);

    let label_of: HashMap<i64, &String> = h.ids.iter().map(|(l, id)| (*id, l)).collect();
    h.ids
        .keys()
        .map(|l| (l.clone(), label_of[&h.cluster(l)].clone()))
        .collect()
}

#[test]
fn search_collapse_says_also_posted_by() {
    let docs = corpus(&[EDITED[1]]);
    let d = &docs[EDITED[1]];
    let cfg = TestConfig::new(
        "[[sources]]\nid = \"bao-a\"\nname = \"Báo A\"\nkind = \"manual\"\n\n\
         [[sources]]\nid = \"fb-xa\"\nname = \"Trang xã\"\nkind = \"manual\"\n",
    );
    let body = d.body.replace(". ", ".\n\n");
    cfg.post_add(
        "bao-a",
        "https://bao-a.example.vn/1.html",
        &body,
        &["--title", &d.title, "--published", "2017-02-07 08:00"],
    );
    let share_title = format!("Chia sẻ từ Báo A: {}", d.title);
    cfg.post_add(
        "fb-xa",
        "https://facebook.com/xa/posts/1?fbclid=abc",
        &format!("Chia sẻ từ Báo A.\n\n{body}"),
        &["--title", &share_title, "--published", "2017-02-07 10:00"],
    );
    let v = cfg.json(&["search", "--json", "ca si nhat ban"]);
    assert_eq!(v["hits"].as_array().expect("hits").len(), 2, "{v}");
    let v = cfg.json(&["search", "--json", "--collapse", "ca si nhat ban"]);
    let hits = v["hits"].as_array().expect("hits");
    assert_eq!(hits.len(), 1, "{v}");
    assert_eq!(hits[0]["source"], "bao-a", "the earliest item stays");
    assert_eq!(hits[0]["also_posted_by"], serde_json::json!(["fb-xa"]));
    let text = cfg.stdout(&["search", "--collapse", "ca si nhat ban"]);
    assert!(text.contains("cũng đăng bởi: fb-xa"), "{text}");
}

#[test]
fn fetch_pass_clusters_the_same_story_from_two_feeds() {
    let docs = corpus(&[EDITED[2]]);
    let d = &docs[EDITED[2]];
    let server = support::FixtureServer::start();
    let feed = |title: &str, link: &str, date: &str, body: &str| {
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>
            <item><title>{}</title><link>{link}</link><pubDate>{date}</pubDate>
            <description>{}</description></item></channel></rss>"#,
            html_escape::encode_text(title),
            html_escape::encode_text(&html(body))
        )
    };
    server.set(
        "/a.rss",
        support::Route::ok(
            feed(
                &d.title,
                "https://bao-a.example.vn/ca.html",
                "Tue, 07 Feb 2017 08:00:00 +0700",
                &d.body,
            ),
            "application/rss+xml",
        ),
    );
    server.set(
        "/b.rss",
        support::Route::ok(
            feed(
                &format!("Clip: {}", d.title),
                "https://bao-b.example.vn/ca-lia-thia.html?utm_source=zalo",
                "Tue, 07 Feb 2017 12:00:00 +0700",
                &trimmed(&d.body),
            ),
            "application/rss+xml",
        ),
    );
    let cfg = TestConfig::new(&format!(
        "{}{}",
        support::feed_source("bao-a", &server.url("/a.rss")),
        support::feed_source("bao-b", &server.url("/b.rss"))
    ));
    cfg.cmd(&["fetch"]).assert().success();
    let v = cfg.json(&["search", "--json", "--collapse", "xuc ca lia thia"]);
    let hits = v["hits"].as_array().expect("hits");
    assert_eq!(hits.len(), 1, "{v}");
    assert_eq!(hits[0]["source"], "bao-a");
    assert_eq!(hits[0]["also_posted_by"], serde_json::json!(["bao-b"]));
}
