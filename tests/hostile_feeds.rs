//! Hostile feeds and pages against the real `gomtin` binary: what a stranger can publish
//! to crash, stall or corrupt gomtin — HTML nested beyond any stack, XML entity tricks,
//! mislabelled charsets, GUIDs that change on every fetch, relative links under
//! `xml:base`. Each test names the harm it prevents.

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::hostile::{Act, HostileServer, item, rss};
use support::{TestConfig, feed_source};

/// `gomtin fetch --json` (any exit code) and its JSON.
fn fetch_json(cfg: &TestConfig) -> (Option<i32>, Value, String) {
    let out = cfg
        .cmd(&["fetch", "--json"])
        .output()
        .expect("run gomtin fetch");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "fetch printed no JSON ({e}); status {:?}, stderr:\n{stderr}",
            out.status
        )
    });
    (out.status.code(), v, stderr)
}

/// The outcome of source `id` in a `fetch --json` answer.
fn outcome<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["sources"]
        .as_array()
        .and_then(|a| a.iter().find(|o| o["source_id"] == id))
        .unwrap_or_else(|| panic!("no outcome for {id} in {v}"))
}

fn items(cfg: &TestConfig) -> Vec<gomtin::model::Item> {
    let store = gomtin::store::Store::open(&cfg.data_dir()).expect("store");
    store
        .list_items(&gomtin::store::ItemQuery::default())
        .expect("items")
}

fn nested(depth: usize, inner: &str) -> String {
    format!("{}{inner}{}", "<div>".repeat(depth), "</div>".repeat(depth))
}

/// Harm prevented: one item nested 20,000 (or 200,000) `<div>`s deep overflowed a worker's
/// stack — `gomtin fetch` aborted with SIGABRT and every other source of the pass was lost.
#[test]
fn deeply_nested_description_neither_crashes_nor_stalls_the_pass() {
    let server = HostileServer::start();
    for (path, depth) in [("/deep20k.xml", 20_000), ("/deep200k.xml", 200_000)] {
        server.on(
            path,
            Act::ok(
                rss(&[item(
                    &format!("g-{depth}"),
                    &format!("https://bao.example.vn/sau-{depth}.html"),
                    "Bài lồng sâu",
                    &nested(depth, "Nông thôn mới ở Kon Rẫy"),
                )]),
                "application/rss+xml",
            ),
        );
    }
    server.on(
        "/ok.xml",
        Act::ok(
            rss(&[item(
                "ok-1",
                "https://bao.example.vn/ok.html",
                "Tin bình thường",
                "<p>Bình thường</p>",
            )]),
            "application/rss+xml",
        ),
    );
    let cfg = TestConfig::new(&format!(
        "{}{}{}",
        feed_source("sau20k", &server.url("/deep20k.xml")),
        feed_source("sau200k", &server.url("/deep200k.xml")),
        feed_source("binhthuong", &server.url("/ok.xml")),
    ));
    let started = Instant::now();
    let (code, v, stderr) = fetch_json(&cfg);
    let took = started.elapsed();
    assert_eq!(code, Some(0), "fetch ends normally: {v}\n{stderr}");
    assert!(took < Duration::from_secs(30), "bounded time: {took:?}");
    for id in ["sau20k", "sau200k", "binhthuong"] {
        assert_eq!(outcome(&v, id)["new"], 1, "{id}: {v}");
    }
    let stored = items(&cfg);
    let deep = stored
        .iter()
        .find(|i| i.source_id == "sau200k")
        .expect("deep item stored");
    assert!(
        deep.content_text.contains("Nông thôn mới ở Kon Rẫy"),
        "the text survives flattening: {:?}",
        deep.content_text
    );
    assert!(
        gomtin::extract::bounded::modelled_depth(&deep.content_html)
            <= gomtin::extract::bounded::MAX_DEPTH,
        "stored HTML is bounded"
    );
    // The search finds it, and the item page renders (the web sanitizer sees it again).
    let hits = cfg.json(&["search", "--json", "kon rẫy"]);
    assert!(hits["total"].as_u64().unwrap_or(0) >= 2, "{hits}");
}

/// Harm prevented: a page source whose article is 20,000 `<div>`s deep took 70 s of CPU
/// (readability's tree walks are quadratic in depth) and the daemon aborted on the text
/// walk; now the article is read in well under its budget.
#[test]
fn deeply_nested_article_page_is_read_quickly() {
    let server = HostileServer::start();
    let list = r#"<html><body><div class="news-item"><h3><a href="/bai/1.html">Bài lồng sâu trên trang</a></h3></div></body></html>"#;
    server.on("/tin-tuc", Act::ok(list, "text/html; charset=utf-8"));
    let article = format!(
        "<html><head><title>Bài lồng sâu trên trang</title></head><body><article><h1>Bài lồng sâu trên trang</h1><p>Đoạn mở đầu đủ dài để đọc được, viết tại xã Đắk Ruồng.</p>{}</article></body></html>",
        nested(20_000, "<p>Đoạn cuối cùng của bài viết ở rất sâu.</p>")
    );
    server.on("/bai/1.html", Act::ok(article, "text/html; charset=utf-8"));
    let cfg = TestConfig::new(&format!(
        r#"[[sources]]
id = "trang-sau"
name = "Trang sâu"
kind = "page"
url = "{}"
obey_robots = false

[sources.selectors]
item = ".news-item"
link = "h3 a"
"#,
        server.url("/tin-tuc")
    ));
    let started = Instant::now();
    let (code, v, stderr) = fetch_json(&cfg);
    let took = started.elapsed();
    assert_eq!(code, Some(0), "{v}\n{stderr}");
    assert!(took < Duration::from_secs(15), "read in {took:?}");
    assert_eq!(outcome(&v, "trang-sau")["new"], 1, "{v}");
    let stored = items(&cfg);
    assert!(
        stored[0].content_text.contains("Đoạn mở đầu"),
        "{:?}",
        stored[0].content_text
    );
}

/// Harm prevented: the same deep feed killed `gomtin serve` within seconds of every
/// restart, and `sources list` never said which source did it. Now the daemon keeps
/// answering, and every source's outcome is on record.
#[test]
fn the_daemon_survives_a_hostile_source_and_says_which_one() {
    let server = HostileServer::start();
    server.on(
        "/deep.xml",
        Act::ok(
            rss(&[item(
                "d",
                "https://bao.example.vn/d.html",
                "Sâu",
                &nested(100_000, "chữ"),
            )]),
            "application/rss+xml",
        ),
    );
    server.on(
        "/garbage.xml",
        Act::Garbage(b"\x00\x01not http at all\r\n\r\n".to_vec()),
    );
    server.on(
        "/ok.xml",
        Act::ok(
            rss(&[item(
                "ok",
                "https://bao.example.vn/ok.html",
                "Tin thường",
                "<p>thường</p>",
            )]),
            "application/rss+xml",
        ),
    );
    let cfg = TestConfig::new(&format!(
        "{}{}{}",
        feed_source("sau", &server.url("/deep.xml")),
        feed_source("rac", &server.url("/garbage.xml")),
        feed_source("thuong", &server.url("/ok.xml")),
    ));
    let mut d = cfg.serve();
    d.wait_health(Duration::from_secs(60), |h| h["items"] == 2)
        .unwrap_or_else(|e| panic!("both good sources stored: {e}\n{}", d.stderr()));
    // Still alive a moment later, and answering quickly.
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    d.health().expect("daemon alive");
    assert!(started.elapsed() < Duration::from_secs(2));
    let status = d.terminate(Duration::from_secs(15)).expect("stops");
    assert!(status.success(), "{status:?}\n{}", d.stderr());
    let list: Value = cfg.json(&["sources", "list", "--json"]);
    let by_id = |id: &str| {
        list.as_array()
            .and_then(|a| a.iter().find(|s| s["id"] == id))
            .cloned()
            .unwrap_or_else(|| panic!("{id} in {list}"))
    };
    assert_eq!(by_id("sau")["last_error"], Value::Null, "{list}");
    assert_eq!(by_id("sau")["item_count"], 1);
    assert!(
        by_id("rac")["last_error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "the broken source says why: {list}"
    );
}

/// Harm prevented: a feed labelled ISO-8859-1 (in HTTP and/or `<?xml encoding>`) that is
/// really UTF-8 was stored as "NÃ´ng thÃ´n má»›i", and one labelled UTF-8 that is really
/// windows-1258 as "N�ng th�n" — stored for good. The bytes now overrule the label.
#[test]
fn mislabelled_charsets_are_read_as_the_bytes_say() {
    let server = HostileServer::start();
    let title = "Nông thôn mới ở Kon Rẫy: đường về các xã";
    let utf8_feed = |decl: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"{decl}\"?><rss version=\"2.0\"><channel><title>t</title>{}</channel></rss>",
            item("g1", "https://bao.example.vn/1.html", title, "<p>Người dân phấn khởi</p>")
        )
        .into_bytes()
    };
    server.on(
        "/latin1-header.xml",
        Act::ok(
            utf8_feed("UTF-8"),
            "application/rss+xml; charset=ISO-8859-1",
        ),
    );
    server.on(
        "/latin1-decl.xml",
        Act::ok(utf8_feed("ISO-8859-1"), "application/rss+xml"),
    );
    server.on(
        "/latin1-both.xml",
        Act::ok(utf8_feed("ISO-8859-1"), "text/xml; charset=iso-8859-1"),
    );
    let as_text = String::from_utf8(utf8_feed("UTF-8")).expect("utf8");
    let (legacy, _, _) = encoding_rs::WINDOWS_1258.encode(&as_text);
    server.on(
        "/cp1258-as-utf8.xml",
        Act::ok(legacy.into_owned(), "application/rss+xml; charset=utf-8"),
    );
    let names = [
        "latin1-header",
        "latin1-decl",
        "latin1-both",
        "cp1258-as-utf8",
    ];
    let cfg = TestConfig::new(
        &names
            .iter()
            .map(|n| feed_source(n, &server.url(&format!("/{n}.xml"))))
            .collect::<String>(),
    );
    let (code, v, stderr) = fetch_json(&cfg);
    assert_eq!(code, Some(0), "{v}\n{stderr}");
    for it in items(&cfg) {
        assert_eq!(it.title, title, "{}", it.source_id);
        assert!(
            it.content_text.contains("Người dân phấn khởi"),
            "{}: {}",
            it.source_id,
            it.content_text
        );
    }
    assert_eq!(items(&cfg).len(), names.len());
}

/// Harm prevented: a feed that makes up a new GUID on every fetch for the same link left
/// three copies of one story after three fetches. Same canonical link and same content
/// is the same item; distinct posts behind one page (anchors) stay distinct.
#[test]
fn guids_that_change_on_every_fetch_make_one_item() {
    let server = HostileServer::start();
    let cfg = TestConfig::new(&feed_source("doi-guid", &server.url("/rss")));
    for fetch in 0..3 {
        server.on(
            "/rss",
            Act::ok(
                rss(&[
                    item(
                        &format!("urn:uuid:{fetch}-a"),
                        "https://bao.example.vn/tin/1.html?utm_source=rss",
                        "Mưa lớn ở Kon Tum",
                        "<p>Mưa lớn kéo dài</p>",
                    ),
                    item(
                        &format!("urn:uuid:{fetch}-p1"),
                        "https://dien-dan.example.vn/chu-de/9#post-1",
                        "Trả lời",
                        "<p>Đồng ý</p>",
                    ),
                    item(
                        &format!("urn:uuid:{fetch}-p2"),
                        "https://dien-dan.example.vn/chu-de/9#post-2",
                        "Trả lời",
                        "<p>Đồng ý</p>",
                    ),
                ]),
                "application/rss+xml",
            ),
        );
        let (code, v, _) = fetch_json(&cfg);
        assert_eq!(code, Some(0), "{v}");
        let new = outcome(&v, "doi-guid")["new"].as_u64();
        assert_eq!(
            new,
            Some(if fetch == 0 { 3 } else { 0 }),
            "fetch {fetch}: {v}"
        );
    }
    assert_eq!(items(&cfg).len(), 3, "one story, two forum posts");
}

/// Harm prevented: relative links inside an entry's content were resolved against the
/// feed's URL, not its `xml:base`, so images and links pointed at pages that do not exist.
#[test]
fn xml_base_resolves_links_inside_content() {
    let server = HostileServer::start();
    let atom = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://bao.example.vn/">
  <title>Báo</title><id>urn:bao</id><updated>2024-03-12T08:00:00Z</updated>
  <entry xml:base="/2024/03/">
    <id>urn:1</id><title>Một</title><link href="bai-1.html"/><updated>2024-03-12T08:00:00Z</updated>
    <content type="html">&lt;p&gt;Xem &lt;a href="bai-2.html"&gt;bài trước&lt;/a&gt; &lt;img src="anh/1.jpg"&gt;&lt;/p&gt;</content>
  </entry>
</feed>"#;
    server.on("/atom.xml", Act::ok(atom, "application/atom+xml"));
    let cfg = TestConfig::new(&feed_source("atom", &server.url("/atom.xml")));
    let (code, v, _) = fetch_json(&cfg);
    assert_eq!(code, Some(0), "{v}");
    let it = &items(&cfg)[0];
    assert_eq!(
        it.url.as_deref(),
        Some("https://bao.example.vn/2024/03/bai-1.html")
    );
    assert!(
        it.content_html
            .contains(r#"href="https://bao.example.vn/2024/03/bai-2.html""#),
        "{}",
        it.content_html
    );
    assert!(
        it.content_html
            .contains("https://bao.example.vn/2024/03/anh/1.jpg"),
        "{}",
        it.content_html
    );
}

/// Harm prevented (regressions): entity expansion (billion laughs), external entities
/// reading local files (XXE), external DTDs fetched from the network, and malformed XML
/// must neither hang, nor balloon memory, nor leak a file into an item.
#[test]
fn xml_entity_tricks_stay_inert() {
    let server = HostileServer::start();
    let laughs = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">{}]><rss version=\"2.0\"><channel><title>&lol9;</title><item><title>a&lol9;</title><link>https://x.vn/1</link></item></channel></rss>",
        (1..10)
            .map(|i| format!(
                "<!ENTITY lol{i} \"{}\">",
                format!("&lol{};", i - 1)
                    .repeat(10)
                    .replace("&lol0;", "&lol;")
            ))
            .collect::<String>()
    );
    let secret = std::env::temp_dir().join("gomtin-xxe-bi-mat.txt");
    std::fs::write(&secret, "BI-MAT-CUA-MAY-CHU").expect("secret file");
    let xxe = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY xxe SYSTEM \"file://{}\">]><rss version=\"2.0\"><channel><title>t</title><item><title>x &xxe;</title><link>https://x.vn/2</link><description>&xxe;</description></item></channel></rss>",
        secret.display()
    );
    let dtd = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE rss SYSTEM \"{}\"><rss version=\"2.0\"><channel><title>t</title><item><title>dtd</title><link>https://x.vn/3</link></item></channel></rss>",
        server.url("/evil.dtd")
    );
    server.on("/laughs.xml", Act::ok(laughs, "application/rss+xml"));
    server.on("/xxe.xml", Act::ok(xxe, "application/rss+xml"));
    server.on("/dtd.xml", Act::ok(dtd, "application/rss+xml"));
    server.on(
        "/broken.xml",
        Act::ok("<rss><channel><item><title>a</titl", "application/rss+xml"),
    );
    let cfg = TestConfig::new(&format!(
        "{}{}{}{}",
        feed_source("laughs", &server.url("/laughs.xml")),
        feed_source("xxe", &server.url("/xxe.xml")),
        feed_source("dtd", &server.url("/dtd.xml")),
        feed_source("broken", &server.url("/broken.xml")),
    ));
    let started = Instant::now();
    let (_, v, stderr) = fetch_json(&cfg);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        v["sources"].as_array().map(Vec::len),
        Some(4),
        "{v}\n{stderr}"
    );
    for it in items(&cfg) {
        assert!(
            !it.title.contains("BI-MAT") && !it.content_text.contains("BI-MAT"),
            "{it:?}"
        );
        assert!(it.title.len() < 10_000, "no expansion: {}", it.title.len());
    }
    assert_eq!(server.hits_to("/evil.dtd"), 0, "no external DTD fetched");
    assert!(outcome(&v, "broken")["outcome"] == "failed", "{v}");
}
