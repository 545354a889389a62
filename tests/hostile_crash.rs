//! Crashes and broken disks with the real binary: the index folder garbled, missing a
//! segment or deleted (and `gomtin reindex` / `gomtin search` / `gomtin fetch` facing it),
//! SIGKILL of `gomtin serve` at random moments of an ingest (20 times), and a data folder
//! on a small tmpfs that fills up during a fetch (as root; skipped with a message
//! otherwise). Each test names the harm it prevents.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use support::{FixtureServer, Route, TestConfig, baomoi, corpus, feed_source};

/// `feeds` corpus feeds of `per_feed` articles on `server`, as `[[sources]]` blocks.
fn corpus_sources(server: &FixtureServer, first: usize, feeds: usize, per_feed: usize) -> String {
    let articles = baomoi(Some(first + feeds * per_feed));
    let mut out = String::new();
    for (f, chunk) in articles[first..].chunks(per_feed).enumerate() {
        let path = format!("/c{first}-{f}.xml");
        server.set(&path, Route::ok(corpus::rss(chunk), "application/rss+xml"));
        out.push_str(
            &feed_source(&format!("c{first}-{f}"), &server.url(&path)).replace("\"15m\"", "\"1h\""),
        );
    }
    out
}

fn index_dir(cfg: &TestConfig) -> PathBuf {
    cfg.data_dir().join("index")
}

/// (SQLite items, index documents, committed seq == max seq).
fn counts(cfg: &TestConfig) -> (i64, u64, bool) {
    let store = gomtin::store::Store::open(&cfg.data_dir()).expect("store");
    let index = gomtin::index::SearchIndex::open(&index_dir(cfg)).expect("index opens");
    (
        store.item_count().expect("count"),
        index.doc_count(),
        index.indexed_seq().expect("seq") == store.max_seq().expect("seq"),
    )
}

fn search(cfg: &TestConfig, q: &str) -> Value {
    cfg.json(&["search", "--json", "--limit", "200", q])
}

/// Harm prevented: with a garbled `meta.json` or a missing segment file, `gomtin reindex`
/// failed with the very error it should repair; with the index folder deleted, `gomtin
/// search` answered 0 hits silently while SQLite held every item. Now reindex rebuilds
/// from SQLite whatever the folder's state, search says the index is empty or damaged
/// and names the repair, and `gomtin fetch` (holding the lock) heals it by itself.
#[test]
fn the_index_is_repaired_from_sqlite_whatever_its_state() {
    let server = FixtureServer::start();
    let cfg = TestConfig::new(&corpus_sources(&server, 0, 8, 125));
    cfg.cmd(&["fetch"]).assert().success();
    let total = 1_000;
    assert_eq!(counts(&cfg), (total, total as u64, true));
    let found = search(&cfg, "Việt Nam")["total"].as_u64().unwrap_or(0);
    assert!(found > 50, "{found}");

    // Deleted: search says so instead of a silent 0.
    std::fs::remove_dir_all(index_dir(&cfg)).expect("rm index");
    let v = search(&cfg, "Việt Nam");
    assert_eq!(v["total"], 0);
    assert!(
        v["notices"][0]
            .as_str()
            .is_some_and(|n| n.contains("chỉ mục trống, chạy gomtin reindex")),
        "{v}"
    );
    let text = cfg.stdout(&["search", "Việt Nam"]);
    assert!(
        text.contains("chỉ mục trống, chạy gomtin reindex"),
        "{text}"
    );
    cfg.cmd(&["reindex"]).assert().success();
    assert_eq!(counts(&cfg), (total, total as u64, true));
    assert_eq!(search(&cfg, "Việt Nam")["total"].as_u64(), Some(found));

    // Garbled meta.json, then a missing segment file: search names the repair, reindex does it.
    type Damage = fn(&Path);
    let damages: [(&str, Damage); 2] = [
        ("garbled meta.json", |dir| {
            std::fs::write(dir.join("meta.json"), b"{\"segments\": [garbage").expect("garble")
        }),
        ("a missing segment file", |dir| {
            let victim = std::fs::read_dir(dir)
                .expect("ls index")
                .flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "idx" || x == "store"))
                .expect("a segment file");
            std::fs::remove_file(victim).expect("rm segment file")
        }),
    ];
    for (what, damage) in damages {
        damage(&index_dir(&cfg));
        let out = cfg.cmd(&["search", "Việt Nam"]).output().expect("search");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{what}: search cannot pretend");
        assert!(stderr.contains("chạy gomtin reindex"), "{what}: {stderr}");
        let out = cfg.cmd(&["reindex"]).output().expect("reindex");
        assert!(
            out.status.success(),
            "{what}: reindex repairs: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(counts(&cfg), (total, total as u64, true), "{what}");
        assert_eq!(
            search(&cfg, "Việt Nam")["total"].as_u64(),
            Some(found),
            "{what}"
        );
    }

    // `gomtin fetch` holds the lock: it starts a damaged index over and refills it.
    std::fs::write(index_dir(&cfg).join("meta.json"), b"not json").expect("garble");
    cfg.cmd(&["fetch"]).assert().success();
    assert_eq!(counts(&cfg), (total, total as u64, true), "healed by fetch");
}

/// Harm prevented: a crash (power cut, OOM killer, SIGKILL) in the middle of an ingest
/// lost items, indexed some twice, or left the index behind SQLite for good. Twenty kills
/// at random moments, then one run allowed to finish: SQLite count = index count =
/// distinct items, and the database passes its integrity check.
#[test]
fn sigkill_at_twenty_random_moments_loses_and_duplicates_nothing() {
    let server = FixtureServer::start();
    let (feeds, per_feed) = (12, 100);
    let cfg = TestConfig::new(&corpus_sources(&server, 0, feeds, per_feed));
    let seed = std::env::var("GOMTIN_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("kill moments from seed {seed} (GOMTIN_CRASH_SEED to repeat)");
    let mut rng = fastrand::Rng::with_seed(seed);
    for round in 0..20 {
        let mut d = cfg.serve();
        let delay = rng.u64(0..1_200);
        std::thread::sleep(Duration::from_millis(delay));
        d.kill()
            .unwrap_or_else(|e| panic!("round {round}: SIGKILL: {e}"));
    }
    let mut d = cfg.serve();
    let want = (feeds * per_feed) as u64;
    d.wait_health(Duration::from_secs(120), |v| {
        v["items"] == want && v["index_lag"] == 0 && v["index_documents"] == want
    })
    .unwrap_or_else(|e| panic!("never caught up: {e}"));
    let status = d.terminate(Duration::from_secs(15)).expect("exit");
    assert!(status.success(), "{status:?}: {}", d.stderr());
    let store = gomtin::store::Store::open(&cfg.data_dir()).expect("store");
    assert_eq!(store.integrity_check().expect("check"), "ok");
    assert_eq!(counts(&cfg), (want as i64, want, true));
    // Distinct items: every stored link once.
    let items = store
        .list_items(&gomtin::store::ItemQuery::default())
        .expect("items");
    let mut links: Vec<_> = items.iter().filter_map(|i| i.url.clone()).collect();
    links.sort();
    links.dedup();
    assert_eq!(links.len() as u64, want, "no item stored twice");
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .ok()?
            .success();
        ok.then(|| Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// Fill the file system holding `dir` with `filler`, leaving about `keep` bytes free.
fn fill(dir: &Path, keep: u64) -> PathBuf {
    use std::io::Write;
    let filler = dir.join("filler.bin");
    let mut f = std::fs::File::create(&filler).expect("filler");
    let block = vec![0u8; 64 * 1024];
    while f.write_all(&block).is_ok() {}
    let _ = f.flush();
    drop(f);
    let len = std::fs::metadata(&filler).map(|m| m.len()).unwrap_or(0);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&filler)
        .expect("filler");
    f.set_len(len.saturating_sub(keep))
        .expect("leave some room");
    filler
}

/// Harm prevented: a full disk during ingest ended `gomtin fetch` with an index error
/// and no line for any source. Now the source that could not be written says "ổ đĩa đầy"
/// (kind `disk_full`), the others are reported as usual, reads keep working, and once
/// space is freed the next fetch stores everything, consistently.
#[test]
fn a_full_disk_is_reported_per_source_and_reads_go_on() {
    let is_root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false);
    if !is_root {
        eprintln!("skipped: mounting a small tmpfs needs root (CI runs as root)");
        return;
    }
    let server = FixtureServer::start();
    let small = corpus_sources(&server, 0, 1, 20);
    let big = corpus_sources(&server, 20, 1, 1_500);
    let cfg = TestConfig::new(&small);
    let Some(_mount) = Tmpfs::mount(&cfg.data_dir(), "48m") else {
        eprintln!("skipped: mount -t tmpfs failed here");
        return;
    };
    cfg.cmd(&["fetch"]).assert().success();
    cfg.append(&big);
    let filler = fill(&cfg.data_dir(), 256 * 1024);
    let out = cfg.cmd(&["fetch", "--json"]).output().expect("fetch");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "partial: {stderr}");
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("per-source JSON despite the full disk ({e}): {stderr}"));
    let by_id = |id: &str| {
        v["sources"]
            .as_array()
            .and_then(|a| a.iter().find(|o| o["source_id"] == id))
            .cloned()
            .unwrap_or_else(|| panic!("{id} reported: {v}"))
    };
    let failed = by_id("c20-0");
    assert_eq!(failed["kind"], "disk_full", "{failed}");
    assert!(
        failed["message"]
            .as_str()
            .unwrap_or_default()
            .contains("ổ đĩa đầy"),
        "{failed}"
    );
    assert_eq!(by_id("c0-0")["outcome"], "fetched", "the other source: {v}");
    // Reads are unaffected.
    let hits = cfg.json(&["search", "--json", "--limit", "50", "Việt"]);
    assert!(hits["total"].as_u64().is_some(), "{hits}");
    let text = cfg.stdout(&["sources", "list"]);
    assert!(text.contains("c0-0"), "{text}");
    // Room again: the next fetch stores everything, and the counts agree.
    std::fs::remove_file(filler).expect("free space");
    let out = cfg.cmd(&["fetch"]).output().expect("fetch");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let store = gomtin::store::Store::open(&cfg.data_dir()).expect("store");
    assert_eq!(store.integrity_check().expect("check"), "ok");
    assert_eq!(counts(&cfg), (1_520, 1_520, true));
}
