//! HTML and XSS: a feed that puts live markup in every field it controls (title, link,
//! author, description, content, image, GUID) and a source name an admin pasted, read by
//! the real `gomtin fetch` and served by the real `gomtin serve` — through the search and
//! item pages, the JSON API, the Atom feed, the OPML export and the CSV/Markdown exports.
//! Harm prevented: script running in a staff member's browser (session theft inside a
//! government office) or in whatever opens the exported files. Every page also keeps the
//! strict Content-Security-Policy.

mod support;

use support::TestConfig;
use support::hostile::{Act, HostileServer, rss};

/// Markup that must never come out live.
const LIVE: &[&str] = &[
    "<script",
    "<img src=x",
    "<svg",
    "<iframe",
    "<style",
    "href=\"javascript:",
    "src=\"javascript:",
    "onerror=\"",
    "onload=\"",
    "<math",
];

fn payload_item() -> String {
    let evil = r#"<script>alert(1)</script>"><img src=x onerror=alert(2)><svg onload=alert(3)>"#;
    format!(
        "<item><guid>{g}</guid><title>{t}</title><link>javascript:alert(4)</link><author>{a}</author>\
         <description><![CDATA[<p>Tin <b>đậm</b> <a href=\"javascript:alert(5)\">bấm</a>\
         <iframe src=\"https://evil.example/\"></iframe><style>body{{display:none}}</style>\
         <img src=\"javascript:alert(6)\" onerror=\"alert(7)\"><math><mi>x</mi></math>\
         <a href=\"https://ok.example.vn/\" onclick=\"alert(8)\">ổn</a> Kon Rẫy</p>]]></description>\
         <media:thumbnail xmlns:media=\"http://search.yahoo.com/mrss/\" url=\"javascript:alert(9)\"/></item>",
        g = html_escape::encode_text(evil),
        t = html_escape::encode_text(&format!("Kon Rẫy {evil}")),
        a = html_escape::encode_text(evil),
    )
}

/// Fails naming the first live markup found in `body` (from `what`).
fn assert_inert(what: &str, body: &str) {
    // The page's own scripts (from its own origin) and sparklines are not the feed's.
    let body = body
        .to_ascii_lowercase()
        .replace("<script src=\"/static/", "")
        .replace("<svg class=\"spark\"", "");
    for bad in LIVE {
        assert!(!body.contains(bad), "{what}: live {bad:?} in\n{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_in_every_field_comes_out_inert_everywhere() {
    let server = HostileServer::start();
    let mut feed = rss(&[payload_item()]);
    // A second item with a plain link, so that links are shown somewhere.
    feed = feed.replace(
        "</channel>",
        "<item><guid>2</guid><title>Kon Rẫy hai</title><link>https://bao.example.vn/2.html\"><script>alert(10)</script></link><description>&lt;p&gt;hai&lt;/p&gt;</description></item></channel>",
    );
    server.on("/rss", Act::ok(feed, "application/rss+xml"));
    let cfg = TestConfig::new(&format!(
        "[[sources]]\nid = \"doc\"\nname = \"Báo <script>alert(11)</script>\"\nkind = \"feed\"\nurl = \"{}\"\ninterval = \"1h\"\n",
        server.url("/rss")
    ));
    cfg.cmd(&["users", "add", "lan", "--role", "admin", "--password-stdin"])
        .write_stdin("mat-khau-dai\n")
        .assert()
        .success();
    cfg.cmd(&["fetch"]).assert().success();
    let store = gomtin::store::Store::open(&cfg.data_dir()).expect("store");
    let items = store
        .list_items(&gomtin::store::ItemQuery::default())
        .expect("items");
    assert_eq!(items.len(), 2);
    for it in &items {
        assert_inert("stored content_html", &it.content_html);
        assert!(
            it.image_url
                .as_deref()
                .is_none_or(|u| u.starts_with("http")),
            "{:?}",
            it.image_url
        );
    }
    let d = cfg.serve();
    let s = support::web::Session::login(&d.url(""), ("lan", "mat-khau-dai")).await;
    let id = items[0].id;
    for path in [
        "/?q=kon+r%E1%BA%ABy".to_string(),
        format!("/items/{id}"),
        format!("/items/{}", items[1].id),
        "/sources".to_string(),
        "/?q=%3Cscript%3Ealert(12)%3C%2Fscript%3E".to_string(),
        "/login?next=%22%3E%3Cscript%3Ealert(13)%3C%2Fscript%3E".to_string(),
    ] {
        let r = s.get(&path).send().await.expect("page");
        let csp = r
            .headers()
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            csp.contains("script-src 'self'") || csp.contains("default-src 'self'"),
            "{path}: CSP {csp:?}"
        );
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        let body = r.text().await.expect("body");
        assert_inert(&path, &body);
    }
    for path in [
        "/api/search?q=kon+r%E1%BA%ABy".to_string(),
        format!("/api/items/{id}"),
        "/feed.atom?q=kon".to_string(),
        "/sources.opml".to_string(),
        "/export?q=kon&format=csv".to_string(),
        "/export?q=kon&format=md".to_string(),
    ] {
        let (status, body) = s.fetch(&path).await;
        assert!(status.is_success(), "{path}: {status} {body}");
        if path.starts_with("/api/") {
            // JSON carries text, never markup a browser would run: HTML fields are sanitized.
            let v: serde_json::Value = serde_json::from_str(&body).expect("json");
            let html = v.to_string();
            assert!(!html.contains("javascript:"), "{path}: {html}");
            assert!(
                !html.contains("<iframe")
                    && !html.contains("<svg")
                    && !html.contains("onerror=\\\""),
                "{path}: {html}"
            );
        } else if path.contains("format=md") {
            // Markdown renders raw HTML: every `<` of the text is escaped (`\<`); only the
            // `](<https://…>)` link form is left.
            assert!(
                !body.contains("](javascript:") && !body.contains("(<javascript:"),
                "{body}"
            );
            let stripped = body.replace("\\<", "").replace("](<http", "");
            assert!(!stripped.contains('<'), "{path}: unescaped < in\n{body}");
        } else if !path.contains("format=csv") {
            // CSV is text for a spreadsheet, not markup (checked for formulas below).
            assert_inert(&path, &body);
        }
        if path.contains("format=csv") {
            // Formula injection: no cell starts with = + - @ unquoted.
            for line in body.lines().skip(1) {
                for cell in line.split(',') {
                    let c = cell.trim_start_matches('"');
                    assert!(!c.starts_with(['=', '+', '@']), "{path}: {line}");
                }
            }
        }
    }
}
