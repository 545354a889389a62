//! Tone where items are found: `tone:` and `-tone:` in the query language, `sort:tone`,
//! the API's `tone=` (through `SearchRequest::tones`), topics that require a tone, the
//! tone fields of every hit (`gomtin search --json`), the back-fill of items stored
//! without a tone, and the admin's lexicon file re-scoring what is stored.

mod support;

use gomtin::app::App;
use gomtin::config::Config;
use gomtin::model::{RawEntry, Tone};
use gomtin::search::SearchRequest;
use support::TestConfig;

const ITEMS: &[(&str, &str)] = &[
    ("tot", "Kon Tum khánh thành cầu treo cho bà con xã Đăk Kôi"),
    ("xau", "Tai nạn giao thông ở Kon Tum, hai người tử vong"),
    ("thuong", "Kon Tum họp bàn kế hoạch du lịch năm tới"),
    ("xa", "Gia Lai tuyên dương học sinh giỏi"),
];

fn config(extra: &str) -> TestConfig {
    TestConfig::new(&format!(
        "[[sources]]\nid = \"tay\"\nname = \"Bài dán tay\"\nkind = \"manual\"\n\n[[topics]]\nid = \"tin-tot-kon-tum\"\nname = \"Tin tốt Kon Tum\"\nquery = '\"Kon Tum\"'\ntone = \"positive\"\n{extra}"
    ))
}

/// Item `n` of `ITEMS`, published `n` hours ago (the first is the newest).
fn raw(n: usize, key: &str, title: &str) -> RawEntry {
    RawEntry {
        guid: Some(key.to_string()),
        title: Some(title.to_string()),
        link: Some(format!("https://bao.example.vn/{key}")),
        summary_html: Some(format!("{title}.")),
        published: Some(chrono::Utc::now() - chrono::Duration::hours(n as i64 + 1)),
        ..Default::default()
    }
}

/// Store the items (`judged`: through the pipeline's tone step, else left to the store),
/// then the after-store step.
fn store(app: &App, judged: bool) {
    let items: Vec<_> = ITEMS
        .iter()
        .enumerate()
        .map(|(n, (k, t))| {
            let item =
                gomtin::normalize::normalize_entry("tay", raw(n, k, t), None, chrono::Utc::now())
                    .expect("item");
            if judged {
                gomtin::pipeline::with_tone(&app.tone(), item)
            } else {
                item
            }
        })
        .collect();
    app.store
        .upsert_items(&items, chrono::Utc::now())
        .expect("store");
    gomtin::pipeline::after_store_blocking(app, None).expect("after store");
}

fn titles(app: &App, req: &SearchRequest) -> Vec<String> {
    app.search(req)
        .expect("search")
        .hits
        .into_iter()
        .map(|h| h.title)
        .collect()
}

fn q(text: &str) -> SearchRequest {
    SearchRequest::new(text, 20)
}

#[test]
fn tone_filters_sort_and_hit_fields() {
    let cfg = config("");
    let app = App::open(Config::load(&cfg.path).expect("config")).expect("app");
    store(&app, true);
    assert_eq!(titles(&app, &q("kon tum tone:positive")), vec![ITEMS[0].1]);
    assert_eq!(titles(&app, &q("kon tum tone:tiêu-cực")), vec![ITEMS[1].1]);
    let mut not_bad = titles(&app, &q("kon tum -tone:negative"));
    not_bad.sort();
    let mut want = vec![ITEMS[0].1.to_string(), ITEMS[2].1.to_string()];
    want.sort();
    assert_eq!(not_bad, want);
    // No words: every positive item, newest first.
    assert_eq!(
        titles(&app, &q("tone:positive")),
        vec![ITEMS[0].1, ITEMS[3].1]
    );
    // The API's `tone=` and the web's "Tin tích cực" box.
    let mut req = q("kon tum");
    req.tones = vec![Tone::Positive];
    assert_eq!(titles(&app, &req), vec![ITEMS[0].1]);
    // sort:tone: good news first, bad news last.
    let sorted = titles(&app, &q("kon tum sort:tone"));
    assert_eq!(sorted.first().map(String::as_str), Some(ITEMS[0].1));
    assert_eq!(sorted.last().map(String::as_str), Some(ITEMS[1].1));
    assert_eq!(sorted.len(), 3);
    // Hits carry the tone and its reasons.
    let r = app.search(&q("kon tum tone:negative")).expect("search");
    let hit = &r.hits[0];
    assert_eq!(hit.tone, Tone::Negative);
    assert!(hit.tone_score < 0.0);
    assert!(
        hit.tone_reasons
            .iter()
            .any(|x| x.phrase.to_lowercase() == "tử vong"),
        "{:?}",
        hit.tone_reasons
    );
    // A topic that requires a tone tags only the good news about Kon Tum.
    assert_eq!(titles(&app, &q("topic:tin-tot-kon-tum")), vec![ITEMS[0].1]);
    // A wrong tone name is a clear error.
    let err = app
        .search(&q("tone:vui"))
        .expect_err("bad tone")
        .to_string();
    assert!(err.contains("tone:positive"), "{err}");
}

#[test]
fn items_stored_without_a_tone_get_one_and_the_admins_lexicon_rescores_them() {
    let cfg = config("");
    let app = App::open(Config::load(&cfg.path).expect("config")).expect("app");
    store(&app, false);
    assert!(
        app.store
            .items_without_tone(10)
            .expect("pending")
            .is_empty(),
        "the after-store step scored them"
    );
    assert_eq!(titles(&app, &q("tone:negative")), vec![ITEMS[1].1]);
    drop(app);

    // The admin decides that planning tourism is good news.
    std::fs::write(
        cfg.dir.path().join("tone-local.txt"),
        "+3 kế hoạch du lịch\n",
    )
    .expect("lexicon");
    cfg.append("\n[tone]\nlexicon_file = \"tone-local.txt\"\n");
    let app = App::open(Config::load(&cfg.path).expect("config")).expect("app");
    gomtin::pipeline::after_store_blocking(&app, None).expect("after store");
    let mut good = titles(&app, &q("kon tum tone:positive"));
    good.sort();
    let mut want = vec![ITEMS[0].1.to_string(), ITEMS[2].1.to_string()];
    want.sort();
    assert_eq!(good, want, "re-scored with the admin's phrase");

    // A bad line in the admin's file stops the start with its line number.
    std::fs::write(cfg.dir.path().join("tone-local.txt"), "+3 ok\nrất tốt\n").expect("lexicon");
    cfg.cmd(&["search", "kon tum"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("tone-local.txt"))
        .stderr(predicates::str::contains("dòng 2"));
}

#[test]
fn gomtin_search_json_prints_the_tone_of_each_hit() {
    let cfg = config("");
    {
        let app = App::open(Config::load(&cfg.path).expect("config")).expect("app");
        store(&app, true);
    }
    let v = cfg.json(&["search", "--json", "kon tum tone:positive"]);
    let hit = &v["hits"][0];
    support::assert_keys(hit, support::HIT_KEYS);
    assert_eq!(hit["tone"], "positive");
    assert!(hit["tone_score"].as_f64().is_some_and(|s| s > 0.0), "{hit}");
    assert_eq!(
        hit["tone_reasons"][0]["phrase"]
            .as_str()
            .map(str::to_lowercase),
        Some("khánh thành".into())
    );
    assert_eq!(v["total"], 1);
}
