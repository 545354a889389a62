//! The web app over plain HTTP against the real `gomtin serve`: the login gate (login page
//! or 401), CSRF (403 and nothing changes), roles (staff cannot touch sources), bearer
//! tokens from `gomtin users token`, security headers, escaping in error pages and the
//! payload item, the JSON API's shape, exports, Atom and OPML, login rate limiting (per name,
//! per address, and its window).

mod support;
mod webapp;

use reqwest::StatusCode;
use reqwest::header;
use support::web::{Session, set_cookies};
use webapp::{ADMIN, STAFF, WebApp};

/// `GET /api/items/ID` with an API session.
async fn api_item(api: &Session, id: i64) -> serde_json::Value {
    api.json(&format!("/api/items/{id}")).await
}

/// The id of the first hit of `q` in `/api/search`.
async fn first_hit(api: &Session, q: &str) -> i64 {
    let v: serde_json::Value = api
        .get("/api/search")
        .query(&[("q", q)])
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("json");
    v["hits"][0]["id"].as_i64().expect("a hit")
}

/// `GET /api/search` with these parameters, as JSON.
async fn api_search(api: &Session, params: &[(&str, &str)]) -> serde_json::Value {
    api.get("/api/search")
        .query(params)
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_requests_get_the_login_page_or_401() {
    let app = WebApp::start();
    let anon = app.anonymous();
    for path in [
        "/",
        "/?q=nong+thon+moi",
        "/items/1",
        "/sources",
        "/export?q=a",
    ] {
        let (status, body) = anon.fetch(path).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        if path != "/export?q=a" {
            assert!(
                body.contains("action=\"/login\""),
                "{path}: login form expected"
            );
        }
    }
    for path in [
        "/api/search?q=a",
        "/api/items/1",
        "/api/sources",
        "/feed.atom?q=a",
        "/sources.opml",
    ] {
        assert_eq!(anon.fetch(path).await.0, StatusCode::UNAUTHORIZED, "{path}");
    }
    let r = anon
        .post("/api/items/1/shares")
        .json(&serde_json::json!({"channel": "Zalo"}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let bad_token = Session::bearer(&app.url(""), "not-a-token");
    assert_eq!(
        bad_token.fetch("/api/search?q=a").await.0,
        StatusCode::UNAUTHORIZED
    );
    // Public: login, static assets, health.
    for path in [
        "/login",
        "/static/app.js",
        "/static/app.css",
        "/healthz",
        "/metrics",
    ] {
        assert_eq!(anon.fetch(path).await.0, StatusCode::OK, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers() {
    let app = WebApp::start();
    let anon = app.anonymous();
    for path in ["/login", "/", "/static/app.js", "/api/sources", "/nowhere"] {
        let r = anon.get(path).send().await.expect("get");
        let h = r.headers();
        let csp = h
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{path}: no CSP"));
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(h[header::REFERRER_POLICY], "same-origin", "{path}");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY", "{path}");
    }
    // No inline script anywhere in the pages: every <script> has a src.
    let s = app.login(STAFF).await;
    for path in ["/", "/?q=nong+thon+moi", "/sources", "/login"] {
        let html = s.text(path).await;
        for tag in html.split("<script").skip(1) {
            let open = tag.split('>').next().unwrap_or("");
            assert!(
                open.contains("src=\"/static/"),
                "{path}: inline script {open}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_checks_password_and_its_own_csrf_and_is_rate_limited() {
    let app = WebApp::start();
    let anon = app.anonymous();
    // No login CSRF cookie/field: refused.
    let r = anon
        .post("/login")
        .form(&[("name", STAFF.0), ("password", STAFF.1)])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        set_cookies(r.headers())
            .iter()
            .all(|(k, v, _)| k != "gomtin_session" || v.is_empty())
    );
    let _ = app.login(STAFF).await;
    // Wrong passwords: 401 five times, then 429 even with the right one.
    let form = anon.login_form().await;
    let attempt = |password: &'static str| {
        anon.post("/login")
            .header(header::COOKIE, format!("gomtin_login={}", form.cookie))
            .form(&[
                ("name", ADMIN.0),
                ("password", password),
                ("csrf", form.csrf.as_str()),
            ])
            .send()
    };
    for _ in 0..5 {
        let r = attempt("sai-mat-khau").await.expect("attempt");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(
            r.text()
                .await
                .expect("body")
                .contains("Sai tên đăng nhập hoặc mật khẩu")
        );
    }
    let r = attempt(ADMIN.1).await.expect("attempt");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key(header::RETRY_AFTER));
}

/// The address brake and the window, over HTTP: an office behind one router address
/// gets 20 failed logins (any names) per window before the login page answers 429 for
/// everyone there, even with the right password; when the window (`[server.limits]
/// login_failure_window`, short here) has passed, the right password works again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_is_braked_per_address_until_the_window_passes() {
    const WINDOW_SECS: u64 = 8;
    let app = WebApp::start_with(&format!(
        "[server.limits]\nlogin_failure_window = \"{WINDOW_SECS}s\"\n"
    ));
    let anon = app.anonymous();
    let form = anon.login_form().await;
    let attempt = |name: String, password: &'static str| {
        anon.post("/login")
            .header(header::COOKIE, format!("gomtin_login={}", form.cookie))
            .form(&[
                ("name", name.as_str()),
                ("password", password),
                ("csrf", form.csrf.as_str()),
            ])
            .send()
    };
    let started = std::time::Instant::now();
    for i in 0..20 {
        if i == 19 {
            // 19 failures: still under the address's limit.
            let r = attempt(STAFF.0.to_string(), STAFF.1).await.expect("login");
            assert_eq!(
                r.status(),
                StatusCode::SEE_OTHER,
                "19 failures do not brake"
            );
        }
        let r = attempt(format!("khach-{i}"), "sai-mat-khau")
            .await
            .expect("attempt");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "failure {i}");
    }
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(WINDOW_SECS - 2),
        "20 failures must fall in one window for this test to mean anything ({took:?})"
    );
    let r = attempt(STAFF.0.to_string(), STAFF.1).await.expect("login");
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the address is braked"
    );
    let wait: u64 = r.headers()[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=WINDOW_SECS).contains(&wait), "Retry-After {wait}");
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("Đăng nhập sai quá nhiều lần")
    );
    let r = attempt("nguoi-moi".into(), "gi-cung-duoc")
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "any name there");
    tokio::time::sleep(std::time::Duration::from_millis(wait * 1000 + 300)).await;
    let r = attempt(STAFF.0.to_string(), STAFF.1).await.expect("login");
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "the window has passed: the right password works"
    );
    assert!(
        set_cookies(r.headers())
            .iter()
            .any(|(k, v, _)| k == "gomtin_session" && !v.is_empty())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_without_or_with_a_stale_csrf_token_change_nothing() {
    let app = WebApp::start();
    let api = app.api(STAFF.0);
    let id = first_hit(&api, "nong thon moi").await;
    let old = app.login(STAFF).await;
    // Log out (with the token) and in again: the old session's CSRF token is stale.
    let r = old.post_form("/logout", &[]).send().await.expect("logout");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        old.fetch("/").await.0,
        StatusCode::UNAUTHORIZED,
        "logged-out cookie still works"
    );
    let s = app.login(STAFF).await;
    assert_ne!(s.csrf(), old.csrf());
    let shares = format!("/items/{id}/shares");
    let share = |csrf: Option<&str>| {
        let mut form = vec![("channel", "Zalo".to_string())];
        if let Some(t) = csrf {
            form.push(("csrf", t.to_string()));
        }
        s.post_without_csrf(&shares).form(&form).send()
    };
    let r = share(None).await.expect("no token");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = share(Some(old.csrf())).await.expect("stale token");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = share(Some("")).await.expect("empty token");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // JSON with the session cookie but no X-CSRF-Token header.
    let api_shares = format!("/api/items/{id}/shares");
    let r = s
        .post_without_csrf(&api_shares)
        .json(&serde_json::json!({"channel": "Zalo"}))
        .send()
        .await
        .expect("json post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        api_item(&api, id).await["shares"],
        serde_json::json!([]),
        "a refused POST changed something"
    );
    // Logout without a token is refused too (the session survives).
    let r = s.post_without_csrf("/logout").send().await.expect("logout");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // With the right token it works, and the header form works for scripts.
    let r = share(Some(s.csrf())).await.expect("good token");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = s
        .post(&api_shares)
        .json(&serde_json::json!({"channel": "Facebook", "link": "https://facebook.com/p/1"}))
        .send()
        .await
        .expect("json post");
    assert_eq!(r.status(), StatusCode::CREATED);
    let shares = api_item(&api, id).await["shares"].clone();
    assert_eq!(shares.as_array().map(Vec::len), Some(2), "{shares}");
    assert_eq!(shares[0]["user"], STAFF.0);
    // Undo from the page: refused without the token, done with it.
    let undo = format!("/items/{id}/shares/{}/undo", shares[0]["id"]);
    let r = s
        .post_without_csrf(&undo)
        .form(&[("csrf", old.csrf())])
        .send()
        .await
        .expect("stale undo");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = s.post_form(&undo, &[]).send().await.expect("undo");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let shares = api_item(&api, id).await["shares"].clone();
    assert_eq!(shares.as_array().map(Vec::len), Some(1), "{shares}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_proxy_cookies_are_secure() {
    let app = WebApp::start_with("[server]\nbehind_proxy = true\n");
    let r = app
        .anonymous()
        .get("/login")
        .send()
        .await
        .expect("login page");
    let (_, _, attrs) = set_cookies(r.headers())
        .into_iter()
        .find(|(k, _, _)| k == "gomtin_login")
        .expect("login cookie");
    assert!(
        attrs.contains("Secure") && attrs.contains("HttpOnly"),
        "{attrs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_page_keeps_the_query_in_links_and_pages() {
    let app = WebApp::start();
    let s = app.login(STAFF).await;
    let html = s.text("/?q=nong+thon+moi&source=bao-thu").await;
    assert!(
        html.contains("value=\"nong thon moi\""),
        "query kept in the box"
    );
    assert!(
        html.contains("<option value=\"bao-thu\" selected>"),
        "source filter kept"
    );
    assert!(
        html.contains("/export?q=nong+thon+moi&amp;source=bao-thu&amp;format=csv"),
        "export keeps the search"
    );
    assert!(html.contains("<mark>"), "highlight");
    assert!(
        !html.contains("Cổng thông tin huyện</span>"),
        "filtered to one source"
    );
    // Past the last page: the last page (issue 15), not an empty one, and a 200 (`text`).
    let html = s.text("/?q=nong+thon+moi&page=2").await;
    assert!(
        html.contains("class=\"hit"),
        "page 2 of 4 results (one page) shows that page"
    );
    assert!(html.contains("id=\"total\""), "the results page: {html}");
    let html = s
        .text("/?q=nong+thon+moi&from=2000-01-01&to=2000-01-02")
        .await;
    assert!(
        html.contains("Không tìm thấy tin nào."),
        "date range filters"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_cannot_change_sources_but_admins_can_fetch_now() {
    let app = WebApp::start();
    let staff = app.login(STAFF).await;
    let admin_api = app.api(ADMIN.0);
    let before = admin_api.text("/api/sources").await;
    for path in ["/sources", "/sources/bao-thu/fetch"] {
        let r = staff
            .post_form(path, &[("id", "moi"), ("url", "https://moi.example/rss")])
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let staff_api = app.api(STAFF.0);
    for path in ["/api/sources", "/api/sources/bao-thu/fetch"] {
        let r = staff_api
            .post(path)
            .json(&serde_json::json!({"id": "moi", "url": "https://moi.example/rss"}))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert!(
        !staff.text("/sources").await.contains("Tải ngay"),
        "staff see no admin buttons"
    );
    let after_staff = admin_api.text("/api/sources").await;
    assert_eq!(before, after_staff, "staff requests changed the sources");
    // An admin fetches now (page form and API).
    let admin = app.login(ADMIN).await;
    let page = admin.text("/sources").await;
    assert!(page.contains("Tải ngay"));
    assert!(page.contains("<polyline points=\""), "sparkline");
    let r = admin
        .post_form("/sources/bao-thu/fetch", &[])
        .send()
        .await
        .expect("fetch now");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = admin_api
        .post("/api/sources/cong-huyen/fetch")
        .send()
        .await
        .expect("api fetch now");
    assert_eq!(r.status(), StatusCode::OK);
    let v: serde_json::Value = r.json().await.expect("outcome");
    assert_eq!(v["source_id"], "cong-huyen");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_search_has_the_cli_shape_and_shares_round_trip() {
    let app = WebApp::start();
    let api = app.api(STAFF.0);
    let v = api_search(&api, &[("q", "nong thon moi"), ("limit", "2")]).await;
    support::assert_keys(
        &v,
        &[
            "total", "hits", "facets", "notices", "offset", "limit", "sort",
        ],
    );
    assert_eq!(v["limit"], 2);
    assert!(v["total"].as_u64().unwrap_or(0) >= 3, "{v}");
    let hit = &v["hits"][0];
    support::assert_keys(hit, support::HIT_KEYS);
    support::assert_keys(hit, &["snippet_html", "highlights", "image_url"]);
    assert!(
        hit["snippet_html"]
            .as_str()
            .unwrap_or("")
            .contains("<mark>")
    );
    // Filters as parameters.
    let v = api_search(&api, &[("q", "nong thon moi"), ("source", "cong-huyen")]).await;
    let hits = v["hits"].as_array().expect("hits");
    assert!(
        !hits.is_empty() && hits.iter().all(|h| h["source"] == "cong-huyen"),
        "{v}"
    );
    // Share, see it, undo it.
    let id = v["hits"][0]["id"].as_i64().expect("id");
    let shares = format!("/api/items/{id}/shares");
    let r = api
        .post(&shares)
        .json(&serde_json::json!({"channel": "Zalo", "link": "javascript:alert(1)"}))
        .send()
        .await
        .expect("bad link");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = api
        .post(&shares)
        .json(&serde_json::json!({"channel": "Zalo", "link": "https://zalo.me/p/1"}))
        .send()
        .await
        .expect("share");
    assert_eq!(r.status(), StatusCode::CREATED);
    let share: serde_json::Value = r.json().await.expect("share json");
    let item = api_item(&api, id).await;
    assert_eq!(item["shares"][0]["channel"], "Zalo");
    assert!(
        item["share_text"]
            .as_str()
            .unwrap_or("")
            .contains("Nguồn: Cổng thông tin huyện")
    );
    let unshared = api_search(
        &api,
        &[("q", "nong thon moi"), ("unshared", "1"), ("limit", "50")],
    )
    .await;
    assert!(
        unshared["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .all(|h| h["id"] != id)
    );
    let r = api
        .delete(&format!("{shares}/{}", share["id"]))
        .send()
        .await
        .expect("undo");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(api_item(&api, id).await["shares"], serde_json::json!([]));
    assert_eq!(
        api.fetch("/api/items/999999").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_atom_and_opml() {
    let app = WebApp::start();
    let s = app.login(STAFF).await;
    let r = s
        .get("/export?q=nong+thon+moi&format=csv")
        .send()
        .await
        .expect("csv");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap_or("")
            .starts_with("text/csv")
    );
    let csv = r.text().await.expect("csv");
    assert!(csv.lines().count() >= 4, "{csv}");
    assert!(csv.contains("Đăk Tờ Re"), "{csv}");
    let md = s.text("/export?q=nong+thon+moi&format=md").await;
    assert!(md.contains("- [Xã Đăk Tờ Re đạt chuẩn nông thôn mới nâng cao](<https://tin.example/dak-to-re.html>)"), "{md}");
    assert_eq!(
        s.fetch("/export?q=a&format=exe").await.0,
        StatusCode::BAD_REQUEST
    );
    // Atom of a topic, with an API token in the URL (feed readers cannot log in).
    let token = app.token(STAFF.0);
    let (status, atom) = app
        .anonymous()
        .fetch(&format!("/feed.atom?q=topic:ntm&token={token}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        atom.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">"),
        "{atom}"
    );
    assert!(atom.matches("<entry>").count() >= 3, "{atom}");
    assert!(atom.contains("Đăk Tờ Re"));
    let opml = s.text("/sources.opml").await;
    assert!(opml.contains("<opml version=\"2.0\">"));
    assert!(
        opml.contains("xmlUrl=\"https://doc-hai.example/rss\""),
        "{opml}"
    );
    assert!(!opml.contains("<script>"), "names are escaped: {opml}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_pages_and_payloads_are_escaped() {
    let app = WebApp::start();
    let s = app.login(STAFF).await;
    let (status, body) = s.fetch("/?from=%3Cscript%3Ealert(1)%3C/script%3E").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!body.contains("<script>alert(1)"), "{body}");
    assert!(body.contains("&lt;script&gt;alert(1)"), "{body}");
    let body = s
        .text("/?q=%22%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
        .await;
    assert!(!body.contains("<img src=x"), "query echoed raw");
    for path in [
        "/items/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/?page=%3Cb%3E",
    ] {
        let r = s.get(path).send().await.expect("bad parameter");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(
            r.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap_or("")
                .starts_with("text/html")
        );
        let body = r.text().await.expect("body");
        assert!(
            !body.contains("<script>alert") && !body.contains("<b>"),
            "{body}"
        );
        assert!(body.contains("Yêu cầu không hợp lệ"), "{body}");
    }
    let api = app.api(STAFF.0);
    let (status, body) = api.fetch("/api/search?limit=%3Cb%3E").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v: serde_json::Value = serde_json::from_str(&body).expect("json error");
    assert!(v["error"].is_string(), "{v}");
    assert_eq!(s.fetch("/items/999999").await.0, StatusCode::NOT_FOUND);
    let (status, body) = s.fetch("/no/%3Csvg%20onload=alert(1)%3E").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.contains("<svg"));
    // The payload item, its search hit and its source.
    for path in [
        format!("/items/{}", app.payload_id),
        "/?q=ma+doc".to_string(),
        "/sources".to_string(),
    ] {
        let html = s.text(&path).await;
        for bad in [
            "<script>window",
            "<script>alert",
            "<svg onload",
            "<iframe",
            "onerror=\"",
            "href=\"javascript:",
            "src=\"javascript:",
        ] {
            assert!(!html.contains(bad), "{path}: {bad} survived");
        }
    }
    let item = s.text(&format!("/items/{}", app.payload_id)).await;
    assert!(
        item.contains("Bài có mã độc để thử."),
        "the harmless text stays"
    );
    assert!(
        !item.contains("Xem bài gốc"),
        "a javascript: original link is not a link"
    );
}

#[test]
fn users_commands_validate_their_input() {
    let cfg = support::TestConfig::new("");
    cfg.cmd(&["users", "add", "lan", "--role", "admin", "--password-stdin"])
        .write_stdin("ngan\n")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("ít nhất 8"));
    cfg.cmd(&["users", "add", "lan", "--role", "boss", "--password-stdin"])
        .write_stdin("mat-khau-dai\n")
        .assert()
        .code(2);
    cfg.cmd(&["users", "add", "lan", "--role", "staff"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--password-stdin"));
    cfg.cmd(&["users", "add", "lan", "--role", "staff", "--password-stdin"])
        .write_stdin("mat-khau-dai\n")
        .assert()
        .success();
    cfg.cmd(&["users", "add", "lan", "--role", "admin", "--password-stdin"])
        .write_stdin("mat-khau-dai\n")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("đã có"));
    let out = cfg.cmd(&["users", "token", "lan"]).assert().success();
    let token = String::from_utf8_lossy(&out.get_output().stdout)
        .trim()
        .to_string();
    assert_eq!(token.len(), 64, "{token}");
    cfg.cmd(&["users", "token", "ai-do"]).assert().code(2);
    cfg.cmd(&["users", "list"])
        .assert()
        .success()
        .stdout(predicates::str::contains("lan\tstaff"));
}
