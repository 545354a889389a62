//! `kind = "forum"` against real forum software on 127.0.0.1: FlaskBB 3.0.0rc5 and Spirit
//! 0.14.3, installed from PyPI, seeded with Vietnamese threads (pages, quotes, edits, a
//! moved post, a moved thread, a signature) and started by `tests/forums/ci.sh`, which
//! writes their addresses to `$GOMTIN_FORUMS/env` (default `/tmp/gomtin-forums/env`). The
//! real `gomtin` binary fetches the boards; each manifest (`expected.json`, what the seed
//! wrote) says what must be stored: every post an item exactly once, with its author,
//! time, link, thread and text — without the quoted posts, signature or edit line — a
//! second pass adding nothing, a new reply on the last page picked up by the next pass,
//! and a long thread read from its end when the budget is short. Without the forums the
//! tests skip loudly, except in CI (`CI=true`), where that is a failure.

mod support;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use gomtin::model::Item;
use serde_json::Value;
use support::TestConfig;

/// The forums' env file as a map (the process environment wins), or `None` (skip).
fn forums_env() -> Option<HashMap<String, String>> {
    let dir = std::env::var("GOMTIN_FORUMS").unwrap_or_else(|_| "/tmp/gomtin-forums".into());
    let file = PathBuf::from(dir).join("env");
    let mut env: HashMap<String, String> = std::fs::read_to_string(&file)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (k, v) in std::env::vars() {
        if k.starts_with("GOMTIN_FORUM_") {
            env.insert(k, v);
        }
    }
    if env.contains_key("GOMTIN_FORUM_FLASKBB_URL") && env.contains_key("GOMTIN_FORUM_SPIRIT_URL") {
        return Some(env);
    }
    let msg = format!(
        "the forum engines are not running ({} missing): run `bash tests/forums/ci.sh` first",
        file.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("CI=true and {msg}");
    }
    use std::io::Write;
    let bar = "!".repeat(78);
    let _ = writeln!(
        std::io::stderr(),
        "\n{bar}\n!!! SKIPPING FORUM TEST: {msg}\n{bar}\n"
    );
    None
}

/// One running engine: its address, manifest and reply script.
struct Engine {
    name: &'static str,
    base: String,
    manifest: Value,
    add_reply: String,
}

impl Engine {
    fn get(env: &HashMap<String, String>, name: &'static str) -> Engine {
        let up = name.to_uppercase();
        let var = |k: &str| {
            env.get(&format!("GOMTIN_FORUM_{up}_{k}"))
                .cloned()
                .unwrap_or_else(|| panic!("GOMTIN_FORUM_{up}_{k} missing from the forums env"))
        };
        let manifest = std::fs::read_to_string(var("MANIFEST")).expect("manifest");
        Engine {
            name,
            base: var("URL"),
            manifest: serde_json::from_str(&manifest).expect("manifest json"),
            add_reply: var("ADD_REPLY"),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A forum source per board of the manifest (`engine` left to detection).
    fn sources(&self, extra: &str) -> String {
        self.manifest["boards"]
            .as_array()
            .expect("boards")
            .iter()
            .map(|b| {
                format!(
                    "[[sources]]\nid = \"{}-{}\"\nname = \"{} {}\"\nkind = \"forum\"\nurl = \"{}\"\n{extra}\n",
                    self.name,
                    b["key"].as_str().expect("key"),
                    self.name,
                    b["title"].as_str().expect("title"),
                    self.url(b["url"].as_str().expect("url")),
                )
            })
            .collect()
    }

    fn posts(&self) -> Vec<(&Value, &Value)> {
        let mut out = Vec::new();
        for t in self.manifest["threads"].as_array().expect("threads") {
            for p in t["posts"].as_array().expect("posts") {
                out.push((t, p));
            }
        }
        out
    }

    /// `add_reply.sh THREAD TEXT` against the running forum: the new post.
    fn add_reply(&self, thread: &str, text: &str) -> Value {
        let out = std::process::Command::new("bash")
            .arg(&self.add_reply)
            .arg(thread)
            .arg(text)
            .output()
            .expect("add_reply.sh");
        assert!(
            out.status.success(),
            "add_reply.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = String::from_utf8_lossy(&out.stdout);
        let line = line
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .expect("JSON line");
        serde_json::from_str(line).expect("reply json")
    }
}

/// `gomtin fetch --json`: per source (new, updated).
fn fetch(cfg: &TestConfig) -> HashMap<String, (u64, u64)> {
    let v = cfg.json(&["fetch", "--json"]);
    let outcomes = v["sources"]
        .as_array()
        .or(v.as_array())
        .expect("outcomes")
        .clone();
    outcomes
        .iter()
        .map(|o| {
            assert_eq!(o["outcome"], "fetched", "{o}");
            (
                o["source_id"].as_str().expect("id").to_string(),
                (
                    o["new"].as_u64().expect("new"),
                    o["updated"].as_u64().expect("updated"),
                ),
            )
        })
        .collect()
}

/// Every stored item of the config's sources.
fn items(cfg: &TestConfig) -> Vec<Item> {
    let store = gomtin::store::Store::open(&cfg.data_dir()).expect("store");
    store
        .list_items(&gomtin::store::ItemQuery::default())
        .expect("items")
}

fn post_id(item: &Item) -> String {
    item.guid
        .as_deref()
        .and_then(|g| g.strip_prefix("post:"))
        .unwrap_or_else(|| panic!("not a post: {item:?}"))
        .to_string()
}

/// The whole life of one engine's boards: first pass, second pass, a new reply.
fn engine_end_to_end(engine: &Engine) {
    let cfg = TestConfig::new(&engine.sources(""));
    let first = fetch(&cfg);
    let stored = items(&cfg);
    let by_id: HashMap<String, &Item> = stored.iter().map(|i| (post_id(i), i)).collect();
    assert_eq!(by_id.len(), stored.len(), "two items for one post");
    let reply_prefix = "Trả lời thử của gomtin";
    let mut wrong = Vec::new();
    let mut seen = HashSet::new();
    for (thread, post) in engine.posts() {
        let id = post["id"].as_u64().expect("id").to_string();
        seen.insert(id.clone());
        let Some(item) = by_id.get(&id) else {
            wrong.push(format!("{} {}: not stored", engine.name, post["key"]));
            continue;
        };
        let mut check = |what: &str, ok: bool, got: String| {
            if !ok {
                wrong.push(format!("{} {} {what}: got {got}", engine.name, post["key"]));
            }
        };
        let text = post["text"].as_str().expect("text");
        check(
            "text",
            item.content_text == text,
            format!("{:?} want {text:?}", item.content_text),
        );
        check(
            "author",
            item.author.as_deref() == post["author"].as_str(),
            format!("{:?}", item.author),
        );
        let created =
            chrono::DateTime::parse_from_rfc3339(post["created"].as_str().expect("created"))
                .expect("time");
        check(
            "time",
            item.published_at == created,
            item.published_at.to_rfc3339(),
        );
        check(
            "link",
            item.url.as_deref()
                == Some(
                    engine
                        .url(post["permalink"].as_str().expect("permalink"))
                        .as_str(),
                ),
            format!("{:?}", item.url),
        );
        let t = item.thread.as_ref().expect("a post has its thread");
        let number = post["number"].as_u64().expect("number") as u32;
        check(
            "first",
            t.first == post["first"].as_bool().expect("first"),
            format!("{}", t.first),
        );
        check(
            "number",
            t.number == Some(number),
            format!("{:?}", t.number),
        );
        let thread_id = thread["id"].to_string();
        check("thread", t.key == thread_id, t.key.clone());
        let thread_title = thread["title"].as_str().expect("title");
        check("thread title", t.title == thread_title, t.title.clone());
        let want_title = if t.first {
            thread_title.to_string()
        } else {
            format!("{thread_title} — #{number}")
        };
        check("title", item.title == want_title, item.title.clone());
        // A quoted post's text is the other post's, never this one's.
        if let Some(q) = post["quotes"].as_object() {
            let quoted = engine
                .posts()
                .into_iter()
                .find(|(_, p)| p["key"] == q["post"])
                .map(|(_, p)| p["text"].as_str().expect("text").to_string())
                .expect("quoted post");
            let first_line = quoted.lines().next().expect("line");
            check(
                "quote kept",
                !item.content_text.contains(first_line),
                item.content_text.clone(),
            );
        }
        if let Some(sig) = post["signature"].as_str() {
            check(
                "signature kept",
                !item.content_text.contains(sig),
                item.content_text.clone(),
            );
        }
        check(
            "edit line kept",
            !["Last modified", "Sửa lần cuối", "history"]
                .iter()
                .any(|w| item.content_text.contains(w)),
            item.content_text.clone(),
        );
    }
    // Anything else stored is a reply an earlier run added (the forum keeps it until reseeded).
    for item in &stored {
        if !seen.contains(&post_id(item)) {
            assert!(
                item.content_text.starts_with(reply_prefix),
                "{}: a post that is not in the manifest: {item:?}",
                engine.name
            );
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let total_new: u64 = first.values().map(|(n, _)| n).sum();
    assert_eq!(total_new as usize, stored.len());

    // A second pass: nothing new, nothing changed.
    let second = fetch(&cfg);
    assert!(
        second.values().all(|(n, u)| *n == 0 && *u == 0),
        "{}: second pass stored {second:?}",
        engine.name
    );

    // A new reply on the last page of the long thread: the next pass stores it, only it.
    let text = format!(
        "{reply_prefix}: nước đã rút, đường Giải Phóng thông xe ({})",
        engine.name
    );
    let reply = engine.add_reply("ngap-lut", &text);
    let third = fetch(&cfg);
    let new: u64 = third.values().map(|(n, _)| n).sum();
    let updated: u64 = third.values().map(|(_, u)| u).sum();
    assert_eq!(
        (new, updated),
        (1, 0),
        "{}: {third:?} after {reply}",
        engine.name
    );
    let stored = items(&cfg);
    let id = reply["id"].to_string();
    let item = stored
        .iter()
        .find(|i| post_id(i) == id)
        .unwrap_or_else(|| panic!("{}: reply {id} not stored", engine.name));
    assert_eq!(item.content_text, text);
    assert!(!item.thread.as_ref().expect("thread").first);
    let age = chrono::Utc::now() - item.published_at;
    assert!(
        age.num_minutes().abs() < 10,
        "{}: reply time {}",
        engine.name,
        item.published_at
    );
}

#[test]
fn flaskbb_boards_end_to_end() {
    let Some(env) = forums_env() else { return };
    engine_end_to_end(&Engine::get(&env, "flaskbb"));
}

#[test]
fn spirit_boards_end_to_end() {
    let Some(env) = forums_env() else { return };
    engine_end_to_end(&Engine::get(&env, "spirit"));
}

/// A thread longer than the budget: its last pages first, the early ones on later passes;
/// the moved post is one item, in the thread it was moved to.
#[test]
fn a_long_thread_is_read_from_its_end() {
    let Some(env) = forums_env() else { return };
    let engine = Engine::get(&env, "spirit");
    let cfg = TestConfig::new(&engine.sources("max_pages_per_thread = 2\n"));
    fetch(&cfg);
    let ngap = &engine.manifest["threads"][0];
    assert_eq!(ngap["key"], "ngap-lut");
    let ngap_id = ngap["id"].to_string();
    let numbers = |cfg: &TestConfig| -> Vec<u32> {
        let mut n: Vec<u32> = items(cfg)
            .iter()
            .filter_map(|i| i.thread.as_ref())
            .filter(|t| t.key == ngap_id)
            .filter_map(|t| t.number)
            .collect();
        n.sort();
        n
    };
    let after_first = numbers(&cfg);
    assert!(after_first.contains(&1), "page 1 first: {after_first:?}");
    assert!(
        after_first.contains(&14),
        "then the last page: {after_first:?}"
    );
    assert!(!after_first.contains(&6), "page 2 waits: {after_first:?}");
    fetch(&cfg);
    let after_second = numbers(&cfg);
    for n in 1..=14 {
        assert!(
            after_second.contains(&n),
            "#{n} after the second pass: {after_second:?}"
        );
    }
    // The moved post (written in ngap-lut, moved to cho-phien) is stored once, in cho-phien.
    let moved = items(&cfg)
        .into_iter()
        .filter(|i| post_id(i) == "21")
        .collect::<Vec<_>>();
    assert_eq!(moved.len(), 1);
    assert_eq!(
        moved[0].thread.as_ref().map(|t| t.key.clone()),
        Some(engine.manifest["threads"][1]["id"].to_string())
    );
}
