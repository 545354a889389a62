//! Every feed-rs fixture goes through the whole ingest (HTTP fetch, parse, normalize,
//! store, index) without a panic; where feed-rs ships the expected parse, the stored
//! titles and links match it.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use gomtin::model::OutcomeKind;
use gomtin::normalize::html_to_text;
use support::{FixtureServer, Route, TestConfig, feed_source, shared_data};

fn fixtures() -> Vec<PathBuf> {
    let root = shared_data().join("feeds/feed-rs");
    let mut out = Vec::new();
    for dir in std::fs::read_dir(&root).expect("feed-rs fixtures") {
        let dir = dir.expect("entry").path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).expect("dir") {
            let p = f.expect("entry").path();
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            if !name.ends_with(".serde.json") && (name.ends_with(".xml") || name.ends_with(".json"))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_feed_rs_fixture_ingests() {
    let files = fixtures();
    assert!(
        files.len() > 50,
        "expected the feed-rs fixtures, found {}",
        files.len()
    );
    let server = FixtureServer::start();
    let mut sources = String::new();
    let mut by_id: HashMap<String, PathBuf> = HashMap::new();
    for (i, f) in files.iter().enumerate() {
        let id = format!("f{i}");
        let path = format!("/{id}/feed");
        server.set(
            &path,
            Route::ok(std::fs::read(f).expect("read"), "application/xml"),
        );
        sources.push_str(&feed_source(&id, &server.url(&path)));
        by_id.insert(id, f.clone());
    }
    let cfg = TestConfig::new(&sources);
    let config = gomtin::config::Config::load(&cfg.path).expect("config");
    let app = gomtin::app::App::open(config).expect("app");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let outcomes = rt
        .block_on(gomtin::pipeline::fetch_pass(&app, &[], |_| {}))
        .expect("pass completes");
    assert_eq!(outcomes.len(), files.len());

    let mut compared = 0;
    for o in &outcomes {
        let file = &by_id[&o.source_id];
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let expected_path = file.with_file_name(format!(
            "{}.serde.json",
            name.trim_end_matches(".xml").trim_end_matches(".json")
        ));
        if !expected_path.exists() {
            // No expected parse (e.g. deliberately invalid feeds): surviving is the check.
            continue;
        }
        let OutcomeKind::Fetched { .. } = &o.result else {
            panic!("{name}: feed-rs parses it, we must too: {:?}", o.result);
        };
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&expected_path).expect("read"))
                .expect("expected json");
        let items = app
            .store
            .list_items(&gomtin::store::ItemQuery {
                source_id: Some(o.source_id.clone()),
                ..Default::default()
            })
            .expect("items");
        let stored_titles: BTreeSet<String> = items.iter().map(|i| i.title.clone()).collect();
        let base = url::Url::parse(&server.url(&format!("/{}/feed", o.source_id))).expect("base");
        for entry in expected["entries"].as_array().expect("entries") {
            let Some(title) = entry["title"]["content"].as_str() else {
                continue;
            };
            let want = html_to_text(title);
            if want.is_empty() {
                continue;
            }
            assert!(
                stored_titles.contains(&want),
                "{name}: title {want:?} not among stored {stored_titles:?}"
            );
            let links: Vec<String> = entry["links"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|l| l["href"].as_str())
                        .filter_map(|h| base.join(h.trim()).ok())
                        .map(|u| u.to_string())
                        .collect()
                })
                .unwrap_or_default();
            if links.is_empty() {
                continue;
            }
            let item = items
                .iter()
                .find(|i| i.title == want)
                .expect("item by title");
            let url = item.url.as_ref().unwrap_or_else(|| {
                panic!("{name}: {want:?} stored without the link feed-rs gives: {links:?}")
            });
            assert!(
                links.contains(url),
                "{name}: link {url} not in expected {links:?}"
            );
            compared += 1;
        }
    }
    assert!(
        compared > 50,
        "compared {compared} entries against expected parses"
    );
    assert_eq!(
        app.index.doc_count() as i64,
        app.store.item_count().expect("count"),
        "everything stored is indexed once"
    );
}
