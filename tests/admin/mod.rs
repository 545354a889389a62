//! Test harness for the admin's pages and API: a local news site on 127.0.0.1 (a homepage
//! announcing its feed with `<link rel="alternate">`, the feed, a second feed, a list page
//! for a page source, an OPML file), a fresh install — a config file with comments and no
//! account — run by the real `gomtin serve`, and the first-run setup done over HTTP the way
//! a browser does it (the link serve prints, the form, its CSRF cookie).
#![allow(dead_code)]

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header;

use crate::support::daemon::Daemon;
use crate::support::web::{Session, client, hidden, set_cookies};
use crate::support::{FixtureServer, Route, TestConfig};

pub const ADMIN: (&str, &str) = ("quantri", "mat-khau-quan-tri");

fn rss(title: &str, items: &[(&str, &str, &str)]) -> String {
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>{title}</title><link>https://tin.example/</link>"
    );
    for (guid, t, body) in items {
        x.push_str(&format!(
            "<item><title>{t}</title><link>https://tin.example/{guid}.html</link><guid isPermaLink=\"false\">{guid}</guid><pubDate>{}</pubDate><description>{body}</description></item>",
            (chrono::Utc::now() - chrono::Duration::hours(2)).to_rfc2822()
        ));
    }
    x.push_str("</channel></rss>");
    x
}

/// The local news site.
pub fn site() -> FixtureServer {
    let s = FixtureServer::start();
    let feed = rss(
        "Báo Sông Pô Kô (thử)",
        &[
            (
                "ca-phe-dak-ha",
                "Nông dân Đăk Hà thu hoạch cà phê",
                "Vụ cà phê năm nay ở Đăk Hà được mùa, giá bán cao hơn năm trước.",
            ),
            (
                "duong-kon-ray",
                "Kon Rẫy bê tông hoá đường nông thôn mới",
                "Huyện Kon Rẫy hoàn thành thêm mười cây số đường bê tông nông thôn mới.",
            ),
        ],
    );
    s.set("/rss/tin-moi.xml", Route::ok(feed, "application/rss+xml"));
    let other = rss(
        "Cổng thông tin xã (thử)",
        &[(
            "hop-dan-dak-to",
            "Xã Đăk Tô họp dân về lúa nước",
            "Bà con xã Đăk Tô bàn kế hoạch gieo cấy lúa nước vụ đông xuân.",
        )],
    );
    s.set("/xa/rss.xml", Route::ok(other, "application/rss+xml"));
    let home = format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Báo Sông Pô Kô</title>\
         <link rel=\"alternate\" type=\"application/rss+xml\" title=\"Tin mới nhất\" href=\"{}\"></head>\
         <body><h1>Báo Sông Pô Kô</h1><p>Trang chủ.</p></body></html>",
        s.url("/rss/tin-moi.xml")
    );
    s.set("/", Route::ok(home, "text/html; charset=utf-8"));
    let list = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Tin huyện</title></head><body>\
        <ul><li class=\"tin\"><h3><a href=\"/bai/1.html\">Huyện Sa Thầy trồng rừng thay thế</a></h3><span class=\"ngay\">01/12/2026 08:00</span><p class=\"sapo\">Sa Thầy trồng thêm hai trăm héc-ta rừng.</p></li>\
        <li class=\"tin\"><h3><a href=\"/bai/2.html\">Ngọc Hồi mở phiên chợ nông sản</a></h3><span class=\"ngay\">30/11/2026 07:30</span><p class=\"sapo\">Phiên chợ nông sản đầu tiên của Ngọc Hồi.</p></li></ul></body></html>";
    s.set("/tin-huyen", Route::ok(list, "text/html; charset=utf-8"));
    for (n, title) in [
        (1, "Huyện Sa Thầy trồng rừng thay thế"),
        (2, "Ngọc Hồi mở phiên chợ nông sản"),
    ] {
        let page = format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head><body><article><h1>{title}</h1>\
             <div class=\"noi-dung\"><p>{title}: bài viết đầy đủ với nhiều chi tiết về công việc của huyện trong năm nay.</p>\
             <p>Người dân phấn khởi, chính quyền hỗ trợ cây giống và kỹ thuật chăm sóc.</p></div></article></body></html>"
        );
        s.set(
            &format!("/bai/{n}.html"),
            Route::ok(page, "text/html; charset=utf-8"),
        );
    }
    s
}

/// An OPML file with one new feed of `site`, one already configured, and one local file.
pub fn opml(site: &FixtureServer) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><opml version="2.0"><head><title>Nguồn</title></head><body>
<outline text="Cổng thông tin xã" type="rss" xmlUrl="{}"/>
<outline text="Báo Sông Pô Kô" type="rss" xmlUrl="{}"/>
<outline text="Tệp trên máy" type="rss" xmlUrl="file:///etc/passwd"/>
</body></opml>"#,
        site.url("/xa/rss.xml"),
        site.url("/rss/tin-moi.xml")
    )
}

/// The config of a fresh install: comments, a disabled source, nothing else.
pub const CONFIG: &str = "# Cấu hình của phòng (ghi chú này phải còn sau mọi lần sửa từ web)\n\
[scheduler]\nmin_interval = \"1s\"\n\n\
# Nguồn cũ, để tắt\n[[sources]]\nid = \"nguon-cu\"\nname = \"Nguồn cũ\" # giữ tên này\nkind = \"feed\"\nurl = \"https://nguon-cu.example/rss\"\nenabled = false\n\n";

/// A fresh install run by the real `gomtin serve`.
pub struct Fresh {
    pub cfg: TestConfig,
    pub daemon: Daemon,
}

impl Fresh {
    pub fn start() -> Fresh {
        Fresh::start_with(CONFIG)
    }

    pub fn start_with(toml: &str) -> Fresh {
        let cfg = TestConfig::new(toml);
        let daemon = cfg.serve();
        Fresh { cfg, daemon }
    }

    pub fn base(&self) -> String {
        self.daemon.url("")
    }

    /// Stop serve and start it again on the same install.
    pub fn restart(&mut self) {
        self.daemon
            .terminate(Duration::from_secs(30))
            .expect("serve stops");
        self.daemon = self.cfg.serve();
    }

    /// The setup link serve printed (it prints it right after its address).
    pub fn setup_link(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = self.daemon.stdout();
            if let Some(line) = out.lines().find(|l| l.contains("/setup?token=")) {
                let start = line.find("http://").expect("link in the line");
                return line[start..]
                    .split_whitespace()
                    .next()
                    .expect("link")
                    .to_string();
            }
            assert!(
                Instant::now() < deadline,
                "serve printed no setup link:\n{out}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The setup link's path and query (`/setup?token=…`).
    pub fn setup_path(&self) -> String {
        let link = self.setup_link();
        link[link.find("/setup").expect("path")..].to_string()
    }

    /// Complete the first-run setup as `who` and log in; the admin's session.
    pub async fn first_admin(&self, who: (&str, &str)) -> Session {
        let r = submit_setup(&self.base(), &self.setup_path(), who.0, who.1, who.1).await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "setup answered {}",
            r.status()
        );
        Session::login(&self.base(), who).await
    }

    /// The config file as it is on disk now.
    pub fn config_text(&self) -> String {
        std::fs::read_to_string(&self.cfg.path).expect("config file")
    }

    /// Replace the config file (a hand edit).
    pub fn write_config(&self, text: &str) {
        std::fs::write(&self.cfg.path, text).expect("write config");
    }
}

/// Fill and send the setup form of `path` (`/setup?token=…`) like a browser: GET it for the
/// form's cookie and CSRF value, then POST name and passwords.
pub async fn submit_setup(
    base: &str,
    path: &str,
    name: &str,
    password: &str,
    again: &str,
) -> reqwest::Response {
    let c = client();
    let page = c
        .get(format!("{base}{path}"))
        .send()
        .await
        .expect("setup page");
    assert_eq!(page.status(), StatusCode::OK, "GET {path}");
    let (_, cookie, _) = set_cookies(page.headers())
        .into_iter()
        .find(|(k, _, _)| k == "gomtin_setup")
        .expect("setup cookie");
    let html = page.text().await.expect("html");
    let csrf = hidden(&html, "csrf");
    let token = hidden(&html, "token");
    c.post(format!("{base}/setup"))
        .header(header::COOKIE, format!("gomtin_setup={cookie}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("token", token.as_str()),
            ("name", name),
            ("password", password),
            ("password2", again),
        ])
        .send()
        .await
        .expect("setup post")
}

/// Poll `/api/search?q=` with `s` until a hit's title contains `title`.
pub async fn wait_searchable(s: &Session, q: &str, title: &str, within: Duration) {
    let deadline = Instant::now() + within;
    let path = format!("/api/search?q={}", url_encode(q));
    loop {
        let v = s.json(&path).await;
        let found = v["hits"].as_array().is_some_and(|h| {
            h.iter()
                .any(|x| x["title"].as_str().is_some_and(|t| t.contains(title)))
        });
        if found {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{title:?} not found by {q:?} within {within:?}: {v}"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

pub fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
