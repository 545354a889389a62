//! The `[fetch]` limits the README promises, set in the config and exercised through the
//! real `gomtin fetch --json` against a local server: `max_body_bytes` (a body over the
//! configured cap is refused, one under it stored — both far below the 10 MiB default, so
//! the key must be read) and `max_redirects` (a chain as long as the cap is followed, one
//! hop more is refused — both under the default 10). The fetch `timeout` key is exercised
//! by `tests/hostile_network.rs` (2 s configured; stalls and drips must end within 6 s,
//! which the 30 s default would not).

mod support;

use serde_json::Value;
use support::{FixtureServer, Route, TestConfig, feed_source};

/// A config over these sources with `[fetch]` keys `fetch_keys`.
fn config(fetch_keys: &str, sources: &str) -> TestConfig {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("gomtin.toml");
    std::fs::write(
        &path,
        format!(
            "[storage]\ndata_dir = \"data\"\n[fetch]\nallow_private_networks = true\ntimeout = \"10s\"\n{fetch_keys}\n\n{sources}"
        ),
    )
    .expect("config");
    TestConfig { dir, path }
}

/// An RSS feed of one item whose description pads the body to about `size` bytes.
fn feed(tag: &str, size: usize) -> Vec<u8> {
    let head = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>{tag}</title><item><title>Tin {tag}</title><link>https://bao.example.vn/{tag}.html</link><guid>{tag}</guid><description>"
    );
    let tail = "</description></item></channel></rss>";
    let pad = "lũ ".repeat(size.saturating_sub(head.len() + tail.len()) / 4);
    format!("{head}{pad}{tail}").into_bytes()
}

fn fetch(cfg: &TestConfig) -> Value {
    let out = cfg.cmd(&["fetch", "--json"]).output().expect("run");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON ({e}): {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn by_id<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["sources"]
        .as_array()
        .and_then(|a| a.iter().find(|o| o["source_id"] == id))
        .unwrap_or_else(|| panic!("{id} in {v}"))
}

/// Harm prevented: an admin who lowers `max_body_bytes` for a small machine still had
/// 10 MiB bodies read into memory.
#[test]
fn max_body_bytes_from_the_config_is_the_cap() {
    let server = FixtureServer::start();
    let small = feed("nho", 3_000);
    let big = feed("to", 6_000);
    assert!(small.len() < 4096 && big.len() > 4096);
    server.set("/nho.xml", Route::ok(small, "application/rss+xml"));
    server.set("/to.xml", Route::ok(big, "application/rss+xml"));
    let cfg = config(
        "max_body_bytes = 4096",
        &(feed_source("nho", &server.url("/nho.xml")) + &feed_source("to", &server.url("/to.xml"))),
    );
    let v = fetch(&cfg);
    let nho = by_id(&v, "nho");
    assert_eq!(nho["outcome"], "fetched", "{nho}");
    assert_eq!(nho["new"], 1, "{nho}");
    let to = by_id(&v, "to");
    assert_eq!(to["outcome"], "failed", "{to}");
    assert_eq!(to["kind"], "body_too_large", "{to}");
    let store = gomtin::store::Store::open(&cfg.data_dir()).expect("store");
    assert_eq!(
        store.item_count().expect("count"),
        1,
        "nothing of the big body"
    );
}

/// Harm prevented: `max_redirects` was ignored, so a chain of hops the admin capped was
/// followed anyway (up to the built-in 10).
#[test]
fn max_redirects_from_the_config_is_the_cap() {
    let server = FixtureServer::start();
    server.set(
        "/feed.xml",
        Route::ok(feed("dich", 500), "application/rss+xml"),
    );
    // /two-1 -> /two-2 -> /feed.xml (2 redirects); /three-1 -> ... -> /feed.xml (3).
    for (chain, hops) in [("two", 2), ("three", 3)] {
        for i in 1..=hops {
            let next = if i == hops {
                "/feed.xml".to_string()
            } else {
                format!("/{chain}-{}", i + 1)
            };
            server.set(
                &format!("/{chain}-{i}"),
                Route::status(302).with_header("location", &next),
            );
        }
    }
    let cfg = config(
        "max_redirects = 2",
        &(feed_source("two", &server.url("/two-1"))
            + &feed_source("three", &server.url("/three-1"))),
    );
    let v = fetch(&cfg);
    let two = by_id(&v, "two");
    assert_eq!(two["outcome"], "fetched", "{two}");
    assert_eq!(two["new"], 1, "{two}");
    let three = by_id(&v, "three");
    assert_eq!(three["outcome"], "failed", "{three}");
    assert_eq!(three["kind"], "network", "{three}");
    assert!(
        three["message"]
            .as_str()
            .unwrap_or_default()
            .contains("more than 2 redirects"),
        "{three}"
    );
    // The long chain was walked to its third redirect and no further: the feed was read
    // once, for the short chain.
    assert_eq!(server.requests_to("/three-3").len(), 1);
    assert_eq!(server.requests_to("/feed.xml").len(), 1);
}
