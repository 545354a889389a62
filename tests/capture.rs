//! Capturing posts without a terminal (issue 15), against the real `gomtin serve`:
//! `POST /api/posts` is searchable within 2 seconds and `/healthz` counts agree; the same
//! link again updates the post; a new manual source by name; `gomtin post add` run beside
//! the daemon is searchable too (the daemon follows the change log other processes
//! write); the "Thêm bài" form, pre-filled as the bookmarklet and the share sheet open it,
//! and its "Lấy nội dung" from a public page; the manifest's share target.

mod support;
mod webapp;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use support::web::{Session, hidden};
use support::{FixtureServer, Route};
use webapp::{STAFF, WebApp};

/// A manual source for the posts staff paste.
const MANUAL: &str =
    "[[sources]]\nid = \"toi-yeu-kon-ray\"\nname = \"Tôi yêu Kon Rẫy\"\nkind = \"manual\"\n\n";

/// Two more manual sources whose names test the Vietnamese order of the menus.
const MORE: &str = "[[sources]]\nid = \"dak-ha\"\nname = \"Đăk Hà ngày nay\"\nkind = \"manual\"\n\n[[sources]]\nid = \"dan-xa\"\nname = \"Dân xã Đăk Kôi\"\nkind = \"manual\"\n\n";

/// `/api/search?q=…` until a hit satisfies `found`, for at most `within`; how long it took.
async fn searchable(
    api: &Session,
    q: &str,
    within: Duration,
    found: impl Fn(&serde_json::Value) -> bool,
) -> Result<Duration, String> {
    let started = Instant::now();
    loop {
        let v: serde_json::Value = api
            .get("/api/search")
            .query(&[("q", q)])
            .send()
            .await
            .expect("search")
            .json()
            .await
            .expect("json");
        if v["hits"].as_array().is_some_and(|h| h.iter().any(&found)) {
            return Ok(started.elapsed());
        }
        if started.elapsed() > within {
            return Err(format!("{q}: not found within {within:?}: {v}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn counts_agree(app: &WebApp) -> serde_json::Value {
    app.daemon
        .wait_health(Duration::from_secs(5), |v| {
            v["index_lag"] == 0 && v["index_documents"] == v["items"]
        })
        .unwrap_or_else(|e| panic!("health counts disagree: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_posts_are_searchable_at_once_and_the_same_link_updates() {
    let app = WebApp::start_with(&format!("{MANUAL}{MORE}"));
    let api = app.api(STAFF.0);
    let before = counts_agree(&app);
    // The source menu: Vietnamese order (Đ after D), empty sources marked.
    let page = app.login(STAFF).await.text("/").await;
    let order: Vec<usize> = [
        "Báo Kon Tum (thử)<",
        "Cổng thông tin huyện<",
        "Dân xã Đăk Kôi (chưa có tin)<",
        "Đăk Hà ngày nay (chưa có tin)<",
        "Tôi yêu Kon Rẫy (chưa có tin)<",
    ]
    .iter()
    .map(|name| {
        page.find(name)
            .unwrap_or_else(|| panic!("{name} not in the menu: {page}"))
    })
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    let post = serde_json::json!({
        "source": "toi-yeu-kon-ray",
        "url": "https://www.facebook.com/toiyeukonray/posts/1001",
        "title": "Lễ hội cồng chiêng ở xã Đăk Kôi",
        "text": "Sáng nay, bà con xã Đăk Kôi tổ chức lễ hội cồng chiêng mừng lúa mới.\n\nHơn 300 người tham dự.",
        "published": "2026-03-12 08:15",
        "image": "https://www.facebook.com/anh/1001.jpg",
    });
    let started = Instant::now();
    let r = api
        .post("/api/posts")
        .json(&post)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::CREATED);
    let done: serde_json::Value = r.json().await.expect("json");
    assert_eq!(done["outcome"], "added");
    let id = done["id"].as_i64().expect("id");
    let took = searchable(&api, "cong chieng dak koi", Duration::from_secs(2), |h| {
        h["id"] == id
    })
    .await
    .expect("searchable");
    assert!(started.elapsed() < Duration::from_secs(2), "{took:?}");
    let after = counts_agree(&app);
    assert_eq!(
        after["items"].as_i64(),
        before["items"].as_i64().map(|n| n + 1)
    );
    let item = api.json(&format!("/api/items/{id}")).await;
    assert_eq!(item["source"], "toi-yeu-kon-ray");
    assert_eq!(item["image_url"], "https://www.facebook.com/anh/1001.jpg");
    assert!(
        item["published"]
            .as_str()
            .unwrap_or("")
            .starts_with("2026-03-12T01:15"),
        "{item}"
    );

    // The same link again (tracking parameters aside) updates the post: same id, new text.
    let mut again = post.clone();
    again["url"] = "https://www.facebook.com/toiyeukonray/posts/1001?fbclid=abc".into();
    again["text"] = "Bà con xã Đăk Kôi mừng lúa mới với lễ hội cồng chiêng và đâm trâu.".into();
    let r = api
        .post("/api/posts")
        .json(&again)
        .send()
        .await
        .expect("again");
    assert_eq!(r.status(), StatusCode::OK);
    let done: serde_json::Value = r.json().await.expect("json");
    assert_eq!(done["outcome"], "updated");
    assert_eq!(done["id"].as_i64(), Some(id));
    searchable(&api, "dam trau", Duration::from_secs(2), |h| h["id"] == id)
        .await
        .expect("the update is searchable");
    let after = counts_agree(&app);
    assert_eq!(
        after["items"].as_i64(),
        before["items"].as_i64().map(|n| n + 1),
        "no duplicate"
    );

    // A new manual source by name; the config file has it, the sources list shows it.
    let r = api
        .post("/api/posts")
        .json(&serde_json::json!({
            "new_source": "Ngọc Linh Xanh",
            "url": "https://www.facebook.com/ngoclinhxanh/posts/7",
            "text": "Trồng sâm Ngọc Linh dưới tán rừng già.",
        }))
        .send()
        .await
        .expect("new source");
    assert_eq!(r.status(), StatusCode::CREATED);
    let done: serde_json::Value = r.json().await.expect("json");
    assert_eq!(done["source"], "ngoc-linh-xanh");
    let config = std::fs::read_to_string(&app.config).expect("config");
    assert!(config.contains("name = \"Ngọc Linh Xanh\""), "{config}");
    assert!(api.text("/api/sources").await.contains("ngoc-linh-xanh"));
    searchable(&api, "sam ngoc linh", Duration::from_secs(2), |h| {
        h["source"] == "ngoc-linh-xanh"
    })
    .await
    .expect("searchable");

    // What people get wrong is refused with a reason, and changes nothing.
    for (body, words) in [
        (
            serde_json::json!({"source": "toi-yeu-kon-ray"}),
            "tiêu đề hoặc nội dung",
        ),
        (
            serde_json::json!({"source": "bao-thu", "text": "x"}),
            "manual",
        ),
        (
            serde_json::json!({"source": "khong-co", "text": "x"}),
            "khong-co",
        ),
        (serde_json::json!({"text": "x"}), "nguồn"),
        (
            serde_json::json!({"source": "toi-yeu-kon-ray", "text": "x", "url": "javascript:alert(1)"}),
            "http",
        ),
        (
            serde_json::json!({"source": "toi-yeu-kon-ray", "text": "x", "published": "hôm kia"}),
            "ngày",
        ),
    ] {
        let r = api
            .post("/api/posts")
            .json(&body)
            .send()
            .await
            .expect("bad");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
        let v: serde_json::Value = r.json().await.expect("json");
        assert!(
            v["error"].as_str().unwrap_or("").contains(words),
            "{body}: {v}"
        );
    }
    let s = app.login(STAFF).await;
    let r = s
        .post_without_csrf("/api/posts")
        .json(&post)
        .send()
        .await
        .expect("no csrf");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    counts_agree(&app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cli_post_beside_serve_is_searchable_and_health_agrees() {
    let app = WebApp::start_with(MANUAL);
    let api = app.api(STAFF.0);
    // The daemon writes to the index first, so it holds the index writer.
    let r = api
        .post("/api/posts")
        .json(&serde_json::json!({"source": "toi-yeu-kon-ray", "text": "Bài đầu tiên về rẫy lúa."}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::CREATED);
    let out = std::process::Command::new(support::gomtin_bin())
        .arg("--config")
        .arg(&app.config)
        .args([
            "post",
            "add",
            "--source",
            "toi-yeu-kon-ray",
            "--url",
            "https://www.facebook.com/toiyeukonray/posts/2002",
            "--title",
            "Thôn Kon Rế làm đường bê tông",
            "--text",
            "Người dân thôn Kon Rế góp công làm đường bê tông liên thôn.",
        ])
        .env_remove("GOMTIN_CONFIG")
        .output()
        .expect("post add");
    assert!(
        out.status.success(),
        "post add beside serve failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Đã thêm"));
    searchable(&api, "kon re duong be tong", Duration::from_secs(5), |h| {
        h["title"] == "Thôn Kon Rế làm đường bê tông"
    })
    .await
    .expect("a CLI post is searchable in the running daemon");
    counts_agree(&app);
}

/// A public article page with OpenGraph tags, as "Lấy nội dung" reads it.
const PAGE: &str = r#"<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>Trang tin huyện</title>
<meta property="og:title" content="Huyện Kon Rẫy khánh thành cầu treo Đăk Pne">
<meta property="og:description" content="Cây cầu treo dài 120 mét giúp 300 hộ dân qua sông an toàn mùa mưa.">
<meta property="og:image" content="https://tin.example/anh/cau-treo.jpg">
<meta property="article:published_time" content="2026-02-20T09:30:00+07:00">
</head><body><article><h1>Huyện Kon Rẫy khánh thành cầu treo Đăk Pne</h1>
<p>Cây cầu treo dài 120 mét giúp 300 hộ dân qua sông an toàn mùa mưa. Công trình do tỉnh hỗ trợ vốn.</p>
<p>Người dân phấn khởi vì không còn phải lội suối.</p></article></body></html>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_capture_form_prefills_fetches_and_saves() {
    let app = WebApp::start_with(MANUAL);
    let site = FixtureServer::start();
    site.set(
        "/bai/cau-treo.html",
        Route::ok(PAGE, "text/html; charset=utf-8"),
    );
    let s = app.login(STAFF).await;

    // Opened as the bookmarklet opens it: the page's address, title and selected text.
    let (status, html) = s
        .fetch("/capture?url=https%3A%2F%2Fwww.facebook.com%2Fx%2Fposts%2F9&title=T%C3%B4i+y%C3%AAu+Kon+R%E1%BA%ABy&text=Ch%E1%BB%A3+phi%C3%AAn+x%C3%A3")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("value=\"https:&#x2f;&#x2f;www.facebook.com&#x2f;x&#x2f;posts&#x2f;9\""),
        "{html}"
    );
    assert!(html.contains("value=\"Tôi yêu Kon Rẫy\""));
    assert!(html.contains(">Chợ phiên xã</textarea>"));
    // The bookmarklet shown on the page points back at this server.
    assert!(
        html.contains("id=\"bookmarklet\" href=\"javascript:"),
        "{html}"
    );
    assert!(html.contains(&app.daemon.addr().to_string()));
    // As a phone's share sheet opens it: the link inside the text.
    let html = s
        .text("/capture?title=B%C3%A0i+hay&text=Xem+b%C3%A0i+n%C3%A0y+https%3A%2F%2Fzalo.me%2Fg%2Fabc")
        .await;
    assert!(
        html.contains("id=\"c-url\" value=\"https:&#x2f;&#x2f;zalo.me&#x2f;g&#x2f;abc\""),
        "{html}"
    );
    assert!(html.contains(">Xem bài này</textarea>"), "{html}");

    // "Lấy nội dung" from a public page fills title, text, picture and time.
    let page_url = site.url("/bai/cau-treo.html");
    let r = s
        .post_form(
            "/capture/fetch",
            &[("url", page_url.as_str()), ("source", "toi-yeu-kon-ray")],
        )
        .send()
        .await
        .expect("fetch");
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.expect("html");
    assert!(
        html.contains("value=\"Huyện Kon Rẫy khánh thành cầu treo Đăk Pne\""),
        "{html}"
    );
    assert!(html.contains("Cây cầu treo dài 120 mét"), "{html}");
    assert!(html.contains("cau-treo.jpg"), "{html}");
    assert!(html.contains("value=\"2026-02-20T09:30\""), "{html}");
    assert!(html.contains("Đã lấy nội dung"), "{html}");
    // A login-walled page is not fetched: the form says to paste by hand.
    let html = s
        .post_form(
            "/capture/fetch",
            &[("url", "https://www.facebook.com/x/posts/1")],
        )
        .send()
        .await
        .expect("facebook")
        .text()
        .await
        .expect("html");
    assert!(html.contains("dán tiêu đề và nội dung bằng tay"), "{html}");

    // Saving goes to the item's page, share box first, and the post is searchable.
    let r = s
        .post_form(
            "/capture",
            &[
                ("url", page_url.as_str()),
                ("title", "Huyện Kon Rẫy khánh thành cầu treo Đăk Pne"),
                (
                    "text",
                    "Cây cầu treo dài 120 mét giúp 300 hộ dân qua sông an toàn mùa mưa.",
                ),
                ("published", "2026-02-20T09:30"),
                ("image", "https://tin.example/anh/cau-treo.jpg"),
                ("source", "toi-yeu-kon-ray"),
                ("new_source", ""),
            ],
        )
        .send()
        .await
        .expect("save");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(location.contains("them=added"), "{location}");
    let page = s.text(&location).await;
    assert!(page.contains("Đã thêm bài"), "{page}");
    let share_at = page.find("id=\"chia-se\"").expect("share box");
    let article_at = page.find("id=\"item-title\"").expect("article");
    assert!(share_at < article_at, "the share box comes first");
    searchable(
        &app.api(STAFF.0),
        "cau treo dak pne",
        Duration::from_secs(2),
        |h| h["source"] == "toi-yeu-kon-ray",
    )
    .await
    .expect("searchable");
    // A form without text or title comes back with the reason and the values kept.
    let r = s
        .post_form(
            "/capture",
            &[("url", "https://a.vn/x"), ("source", "toi-yeu-kon-ray")],
        )
        .send()
        .await
        .expect("empty");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.expect("html");
    assert!(html.contains("Cần ít nhất tiêu đề hoặc nội dung"), "{html}");
    assert!(html.contains("value=\"https:&#x2f;&#x2f;a.vn&#x2f;x\""));
    let _ = hidden(&html, "csrf");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manifest_declares_a_share_target_and_is_public() {
    let app = WebApp::start();
    let anon = app.anonymous();
    let r = anon
        .get("/manifest.webmanifest")
        .send()
        .await
        .expect("manifest");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("application/manifest+json")
    );
    let m: serde_json::Value = r.json().await.expect("manifest json");
    assert_eq!(m["share_target"]["action"], "/capture");
    assert_eq!(m["share_target"]["method"], "GET");
    for p in ["title", "text", "url"] {
        assert_eq!(m["share_target"]["params"][p], p, "{m}");
    }
    assert_eq!(m["start_url"], "/");
    assert_eq!(m["display"], "standalone");
    let icons = m["icons"].as_array().expect("icons");
    for size in ["192x192", "512x512"] {
        let icon = icons
            .iter()
            .find(|i| i["sizes"] == size)
            .expect("icon size");
        let src = icon["src"].as_str().expect("src");
        let r = anon.get(src).send().await.expect("icon");
        assert_eq!(r.status(), StatusCode::OK, "{src}");
        assert!(
            r.bytes().await.expect("png").starts_with(b"\x89PNG"),
            "{src}"
        );
    }
    let (status, sw) = anon.fetch("/sw.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(sw.contains("addEventListener"), "{sw}");
    // The pages link the manifest, and the CSP lets it (and the worker) load.
    let s = app.login(STAFF).await;
    let r = s.get("/").send().await.expect("home");
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_string();
    assert!(
        csp.contains("manifest-src 'self'") && csp.contains("worker-src 'self'"),
        "{csp}"
    );
    let html = r.text().await.expect("html").replace("&#x2f;", "/");
    assert!(
        html.contains("<link rel=\"manifest\" href=\"/manifest.webmanifest\">"),
        "{html}"
    );
}
