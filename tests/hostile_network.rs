//! The network side of `gomtin fetch` against a misbehaving server
//! (`support::hostile`): stalls, drips, resets, bodies that lie about their length, that
//! never end, or that decompress a thousandfold; redirect loops and redirects to other
//! schemes; private addresses in their many spellings; garbage instead of HTTP. Every
//! case must end within the fetch timeout, as that one source's error, with the other
//! sources of the pass unaffected. Each test names the harm it prevents.

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::TestConfig;
use support::hostile::{Act, HostileServer, item, rss};

/// A config with a 2-second fetch timeout and a 1 MiB body cap over these sources.
fn config(allow_private: bool, sources: &str) -> TestConfig {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("gomtin.toml");
    std::fs::write(
        &path,
        format!(
            "[storage]\ndata_dir = \"data\"\n[fetch]\nallow_private_networks = {allow_private}\ntimeout = \"2s\"\nmax_body_bytes = 1048576\n\n{sources}"
        ),
    )
    .expect("config");
    TestConfig { dir, path }
}

fn source(id: &str, url: &str) -> String {
    support::feed_source(id, url)
}

/// `gomtin fetch --json`: exit code and JSON.
fn fetch(cfg: &TestConfig) -> (Option<i32>, Value) {
    let out = cfg.cmd(&["fetch", "--json"]).output().expect("run");
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON ({e}): {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), v)
}

fn by_id<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["sources"]
        .as_array()
        .and_then(|a| a.iter().find(|o| o["source_id"] == id))
        .unwrap_or_else(|| panic!("{id} in {v}"))
}

/// Harm prevented: one server that stalls, drips, resets, lies about its length, never
/// ends its body or sends a compression bomb held a fetch pass hostage or filled memory.
/// Each ends as its own source's error within the timeout; a good source beside them is
/// stored.
#[test]
fn a_misbehaving_server_fails_only_its_own_source_quickly() {
    let server = HostileServer::start();
    let good = rss(&[item(
        "g",
        "https://bao.example.vn/1.html",
        "Tin tốt",
        "<p>tốt</p>",
    )]);
    let feed = || Box::new(Act::ok(good.clone(), "application/rss+xml"));
    let cases: Vec<(&str, Act, &str)> = vec![
        ("stall", Act::Stall, "network"),
        ("stall-body", Act::StallAfterHeaders(feed()), "network"),
        (
            "drip",
            Act::Drip {
                reply: feed(),
                bytes: 1,
                every: Duration::from_millis(200),
            },
            "network",
        ),
        ("reset", Act::Reset, "network"),
        (
            "reset-mid-body",
            Act::ResetMidBody {
                reply: feed(),
                after: 40,
            },
            "network",
        ),
        (
            "short-body",
            Act::ShortBody {
                claimed: 100_000,
                body: good.as_bytes()[..60].to_vec(),
            },
            "network",
        ),
        (
            "endless",
            Act::Endless {
                content_type: "application/rss+xml".into(),
                chunk: vec![b' '; 64 * 1024],
            },
            "body_too_large",
        ),
        (
            "gzip-bomb",
            Act::bomb("gzip", 50 << 20, "application/rss+xml"),
            "body_too_large",
        ),
        (
            "deflate-bomb",
            Act::bomb("deflate", 50 << 20, "application/rss+xml"),
            "body_too_large",
        ),
        (
            "brotli-bomb",
            Act::bomb("br", 50 << 20, "application/rss+xml"),
            "body_too_large",
        ),
        (
            "garbage",
            Act::Garbage(b"SSH-2.0-OpenSSH_9.6\r\n".to_vec()),
            "network",
        ),
        ("redirect-loop", Act::redirect("/redirect-loop"), "network"),
        ("not-found", Act::status(404, &[]), "http_status"),
    ];
    let mut sources = source("tot", &server.url("/good.xml"));
    server.on("/good.xml", *feed());
    for (name, act, _) in &cases {
        server.on(&format!("/{name}"), act.clone());
        sources.push_str(&source(name, &server.url(&format!("/{name}"))));
    }
    let cfg = config(true, &sources);
    let started = Instant::now();
    let (code, v) = fetch(&cfg);
    let took = started.elapsed();
    // All run at once within the fetcher's limits: the pass is bounded by a few timeouts.
    assert!(took < Duration::from_secs(25), "pass took {took:?}");
    assert_eq!(code, Some(1), "failures make the exit partial: {v}");
    assert_eq!(by_id(&v, "tot")["new"], 1, "{v}");
    for (name, _, kind) in &cases {
        let o = by_id(&v, name);
        assert_eq!(o["outcome"], "failed", "{name}: {o}");
        assert_eq!(o["kind"], *kind, "{name}: {o}");
        assert!(
            o["duration_ms"].as_u64().unwrap_or(u64::MAX) < 6_000,
            "{name} ended within the timeout: {o}"
        );
    }
    let store = gomtin::store::Store::open(&cfg.data_dir()).expect("store");
    assert_eq!(
        store.item_count().expect("count"),
        1,
        "nothing partial stored"
    );
}

/// Harm prevented: a redirect to `file:` or `data:` was reported as "HTTP 302", which
/// tells the admin nothing; now the source's error says it is a redirect to a non-http(s)
/// address, and nothing is read from it.
#[test]
fn redirects_to_other_schemes_are_named_as_such() {
    let server = HostileServer::start();
    server.on("/to-file", Act::redirect("file:///etc/passwd"));
    server.on("/to-data", Act::redirect("data:text/xml,<rss/>"));
    server.on(
        "/to-ftp",
        Act::status(301, &[("Location", "ftp://bao.example.vn/rss")]),
    );
    let cfg = config(
        true,
        &["to-file", "to-data", "to-ftp"]
            .iter()
            .map(|n| source(n, &server.url(&format!("/{n}"))))
            .collect::<String>(),
    );
    let (_, v) = fetch(&cfg);
    for n in ["to-file", "to-data", "to-ftp"] {
        let o = by_id(&v, n);
        let msg = o["message"].as_str().unwrap_or_default();
        assert!(
            msg.contains("chuyển hướng tới địa chỉ không phải http(s)"),
            "{n}: {o}"
        );
        assert!(!msg.contains("root:"), "{msg}");
    }
}

/// Harm prevented (regression): a source URL naming this machine or the office network
/// in some other spelling than `127.0.0.1` reached internal services.
#[test]
fn private_addresses_are_refused_in_every_spelling() {
    let spellings = [
        "http://127.0.0.1:9/rss",
        "http://localhost:9/rss",
        "http://2130706433:9/rss",
        "http://0x7f000001:9/rss",
        "http://0177.0.0.1:9/rss",
        "http://127.1:9/rss",
        "http://[::1]:9/rss",
        "http://[::ffff:127.0.0.1]:9/rss",
        "http://0.0.0.0:9/rss",
        "http://10.0.0.1:9/rss",
        "http://192.168.1.1:9/rss",
        "http://169.254.169.254/latest/meta-data/",
    ];
    let sources: String = spellings
        .iter()
        .enumerate()
        .map(|(i, u)| source(&format!("p{i}"), u))
        .collect();
    let cfg = config(false, &sources);
    let (_, v) = fetch(&cfg);
    for (i, u) in spellings.iter().enumerate() {
        let o = by_id(&v, &format!("p{i}"));
        assert_eq!(o["kind"], "private_address", "{u}: {o}");
    }
}
