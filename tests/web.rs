//! The web app over plain HTTP against the real `gomtin serve`: the login gate (login page
//! or 401), CSRF (403 and nothing changes), roles (staff cannot touch sources), bearer
//! tokens from `gomtin users token`, security headers, escaping in error pages and the
//! payload item, the JSON API's shape, exports, Atom and OPML, login rate limiting.

mod support;
mod webapp;

use reqwest::header::{self, HeaderMap};
use reqwest::{Client, StatusCode, redirect};
use webapp::{ADMIN, STAFF, WebApp};

fn client() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .expect("client")
}

/// Cookies set by a response, as `name=value` pairs.
fn set_cookies(h: &HeaderMap) -> Vec<(String, String, String)> {
    h.get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| {
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = pair.split_once('=')?;
            Some((k.to_string(), val.to_string(), attrs.to_string()))
        })
        .collect()
}

/// The value of `name="…"`'s `value` attribute in a form.
fn hidden(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + needle.len();
    html[start..].split('"').next().expect("value").to_string()
}

/// A logged-in browser-like session: its cookie header and CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

async fn login(app: &WebApp, who: (&str, &str)) -> Session {
    let c = client();
    let page = c.get(app.url("/login")).send().await.expect("login page");
    assert_eq!(page.status(), StatusCode::OK);
    let login_cookie = set_cookies(page.headers())
        .into_iter()
        .find(|(k, _, _)| k == "gomtin_login")
        .expect("login cookie");
    let html = page.text().await.expect("html");
    let csrf = hidden(&html, "csrf");
    let r = c
        .post(app.url("/login"))
        .header(header::COOKIE, format!("gomtin_login={}", login_cookie.1))
        .form(&[
            ("name", who.0),
            ("password", who.1),
            ("csrf", csrf.as_str()),
            ("next", "/"),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login of {}", who.0);
    let (_, token, attrs) = set_cookies(r.headers())
        .into_iter()
        .find(|(k, v, _)| k == "gomtin_session" && !v.is_empty())
        .expect("session cookie");
    assert!(attrs.contains("HttpOnly"), "{attrs}");
    assert!(attrs.contains("SameSite=Strict"), "{attrs}");
    assert!(
        !attrs.contains("Secure"),
        "plain HTTP without a proxy: {attrs}"
    );
    let cookie = format!("gomtin_session={token}");
    let home = c
        .get(app.url("/"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .expect("home");
    assert_eq!(home.status(), StatusCode::OK);
    let csrf = hidden(&home.text().await.expect("home html"), "csrf");
    Session { cookie, csrf }
}

async fn api_item(app: &WebApp, token: &str, id: i64) -> serde_json::Value {
    client()
        .get(app.url(&format!("/api/items/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("item")
        .json()
        .await
        .expect("json")
}

async fn first_hit(app: &WebApp, token: &str, q: &str) -> i64 {
    let v: serde_json::Value = client()
        .get(app.url("/api/search"))
        .query(&[("q", q)])
        .bearer_auth(token)
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("json");
    v["hits"][0]["id"].as_i64().expect("a hit")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_requests_get_the_login_page_or_401() {
    let app = WebApp::start();
    let c = client();
    for path in [
        "/",
        "/?q=nong+thon+moi",
        "/items/1",
        "/sources",
        "/export?q=a",
    ] {
        let r = c.get(app.url(path)).send().await.expect("get");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
        let body = r.text().await.expect("body");
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
        let r = c.get(app.url(path)).send().await.expect("get");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let r = c
        .post(app.url("/api/items/1/shares"))
        .json(&serde_json::json!({"channel": "Zalo"}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = c
        .get(app.url("/api/search?q=a"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .expect("bad token");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Public: login, static assets, health.
    for path in [
        "/login",
        "/static/app.js",
        "/static/app.css",
        "/healthz",
        "/metrics",
    ] {
        let r = c.get(app.url(path)).send().await.expect("get");
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers() {
    let app = WebApp::start();
    for path in ["/login", "/", "/static/app.js", "/api/sources", "/nowhere"] {
        let r = client().get(app.url(path)).send().await.expect("get");
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
        assert!(h.contains_key(header::REFERRER_POLICY), "{path}");
    }
    // No inline script anywhere in the pages: every <script> has a src.
    let s = login(&app, STAFF).await;
    for path in ["/", "/?q=nong+thon+moi", "/sources", "/login"] {
        let html = client()
            .get(app.url(path))
            .header(header::COOKIE, &s.cookie)
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
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
    let c = client();
    // No login CSRF cookie/field: refused.
    let r = c
        .post(app.url("/login"))
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
    let _ = login(&app, STAFF).await;
    // Wrong passwords: 401 five times, then 429 even with the right one.
    let page = c.get(app.url("/login")).send().await.expect("page");
    let lc = set_cookies(page.headers())
        .into_iter()
        .find(|(k, _, _)| k == "gomtin_login")
        .expect("cookie");
    let csrf = hidden(&page.text().await.expect("html"), "csrf");
    let attempt = |password: &'static str| {
        c.post(app.url("/login"))
            .header(header::COOKIE, format!("gomtin_login={}", lc.1))
            .form(&[
                ("name", ADMIN.0),
                ("password", password),
                ("csrf", csrf.as_str()),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_without_or_with_a_stale_csrf_token_change_nothing() {
    let app = WebApp::start();
    let token = app.token(STAFF.0);
    let id = first_hit(&app, &token, "nong thon moi").await;
    let c = client();
    let old = login(&app, STAFF).await;
    // Log out (with the token) and in again: the old session's CSRF token is stale.
    let r = c
        .post(app.url("/logout"))
        .header(header::COOKIE, &old.cookie)
        .form(&[("csrf", old.csrf.as_str())])
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = c
        .get(app.url("/"))
        .header(header::COOKIE, &old.cookie)
        .send()
        .await
        .expect("after logout");
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "logged-out cookie still works"
    );
    let s = login(&app, STAFF).await;
    assert_ne!(s.csrf, old.csrf);
    let share = |csrf: Option<&str>| {
        let mut form = vec![("channel", "Zalo".to_string())];
        if let Some(t) = csrf {
            form.push(("csrf", t.to_string()));
        }
        c.post(app.url(&format!("/items/{id}/shares")))
            .header(header::COOKIE, &s.cookie)
            .form(&form)
            .send()
    };
    let r = share(None).await.expect("no token");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = share(Some(&old.csrf)).await.expect("stale token");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = share(Some("")).await.expect("empty token");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // JSON with the session cookie but no X-CSRF-Token header.
    let r = c
        .post(app.url(&format!("/api/items/{id}/shares")))
        .header(header::COOKIE, &s.cookie)
        .json(&serde_json::json!({"channel": "Zalo"}))
        .send()
        .await
        .expect("json post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        api_item(&app, &token, id).await["shares"],
        serde_json::json!([]),
        "a refused POST changed something"
    );
    // Logout without a token is refused too (the session survives).
    let r = c
        .post(app.url("/logout"))
        .header(header::COOKIE, &s.cookie)
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // With the right token it works, and the header form works for scripts.
    let r = share(Some(&s.csrf)).await.expect("good token");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = c
        .post(app.url(&format!("/api/items/{id}/shares")))
        .header(header::COOKIE, &s.cookie)
        .header("X-CSRF-Token", &s.csrf)
        .json(&serde_json::json!({"channel": "Facebook", "link": "https://facebook.com/p/1"}))
        .send()
        .await
        .expect("json post");
    assert_eq!(r.status(), StatusCode::CREATED);
    let shares = api_item(&app, &token, id).await["shares"].clone();
    assert_eq!(shares.as_array().map(Vec::len), Some(2), "{shares}");
    assert_eq!(shares[0]["user"], STAFF.0);
    // Undo from the page: refused without the token, done with it.
    let undo = format!("/items/{id}/shares/{}/undo", shares[0]["id"]);
    let r = c
        .post(app.url(&undo))
        .header(header::COOKIE, &s.cookie)
        .form(&[("csrf", old.csrf.as_str())])
        .send()
        .await
        .expect("stale undo");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .post(app.url(&undo))
        .header(header::COOKIE, &s.cookie)
        .form(&[("csrf", s.csrf.as_str())])
        .send()
        .await
        .expect("undo");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let shares = api_item(&app, &token, id).await["shares"].clone();
    assert_eq!(shares.as_array().map(Vec::len), Some(1), "{shares}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_proxy_cookies_are_secure() {
    let app = WebApp::start_with("[server]\nbehind_proxy = true\n");
    let r = client()
        .get(app.url("/login"))
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
    let s = login(&app, STAFF).await;
    let get = |path: &'static str| {
        client()
            .get(app.url(path))
            .header(header::COOKIE, &s.cookie)
            .send()
    };
    let html = get("/?q=nong+thon+moi&source=bao-thu")
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
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
    let html = get("/?q=nong+thon+moi&page=2")
        .await
        .expect("page 2")
        .text()
        .await
        .expect("html");
    assert!(
        !html.contains("class=\"hit"),
        "page 2 of 4 results is empty"
    );
    let html = get("/?q=nong+thon+moi&from=2000-01-01&to=2000-01-02")
        .await
        .expect("dates")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("Không tìm thấy tin nào."),
        "date range filters"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_cannot_change_sources_but_admins_can_fetch_now() {
    let app = WebApp::start();
    let staff = login(&app, STAFF).await;
    let c = client();
    let before = client()
        .get(app.url("/api/sources"))
        .bearer_auth(app.token(ADMIN.0))
        .send()
        .await
        .expect("sources")
        .text()
        .await
        .expect("json");
    for path in ["/sources", "/sources/bao-thu/fetch"] {
        let r = c
            .post(app.url(path))
            .header(header::COOKIE, &staff.cookie)
            .form(&[
                ("csrf", staff.csrf.as_str()),
                ("id", "moi"),
                ("url", "https://moi.example/rss"),
            ])
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let staff_token = app.token(STAFF.0);
    for path in ["/api/sources", "/api/sources/bao-thu/fetch"] {
        let r = c
            .post(app.url(path))
            .bearer_auth(&staff_token)
            .json(&serde_json::json!({"id": "moi", "url": "https://moi.example/rss"}))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let staff_page = c
        .get(app.url("/sources"))
        .header(header::COOKIE, &staff.cookie)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        !staff_page.contains("Tải ngay"),
        "staff see no admin buttons"
    );
    let after_staff = client()
        .get(app.url("/api/sources"))
        .bearer_auth(app.token(ADMIN.0))
        .send()
        .await
        .expect("sources")
        .text()
        .await
        .expect("json");
    assert_eq!(before, after_staff, "staff requests changed the sources");
    // An admin fetches now (page form and API).
    let admin = login(&app, ADMIN).await;
    let page = c
        .get(app.url("/sources"))
        .header(header::COOKIE, &admin.cookie)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(page.contains("Tải ngay"));
    assert!(page.contains("<polyline points=\""), "sparkline");
    let r = c
        .post(app.url("/sources/bao-thu/fetch"))
        .header(header::COOKIE, &admin.cookie)
        .form(&[("csrf", admin.csrf.as_str())])
        .send()
        .await
        .expect("fetch now");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = c
        .post(app.url("/api/sources/cong-huyen/fetch"))
        .bearer_auth(app.token(ADMIN.0))
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
    let token = app.token(STAFF.0);
    let c = client();
    let v: serde_json::Value = c
        .get(app.url("/api/search"))
        .query(&[("q", "nong thon moi"), ("limit", "2")])
        .bearer_auth(&token)
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("json");
    for key in [
        "total", "hits", "facets", "notices", "offset", "limit", "sort",
    ] {
        assert!(v.get(key).is_some(), "{key} missing in {v}");
    }
    assert_eq!(v["limit"], 2);
    assert!(v["total"].as_u64().unwrap_or(0) >= 3, "{v}");
    let hit = &v["hits"][0];
    for key in [
        "id",
        "title",
        "url",
        "source",
        "published",
        "snippet",
        "snippet_html",
        "highlights",
        "score",
        "image_url",
    ] {
        assert!(hit.get(key).is_some(), "{key} missing in {hit}");
    }
    assert!(
        hit["snippet_html"]
            .as_str()
            .unwrap_or("")
            .contains("<mark>")
    );
    // Filters as parameters.
    let v: serde_json::Value = c
        .get(app.url("/api/search"))
        .query(&[("q", "nong thon moi"), ("source", "cong-huyen")])
        .bearer_auth(&token)
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("json");
    let hits = v["hits"].as_array().expect("hits");
    assert!(
        !hits.is_empty() && hits.iter().all(|h| h["source"] == "cong-huyen"),
        "{v}"
    );
    // Share, see it, undo it.
    let id = v["hits"][0]["id"].as_i64().expect("id");
    let r = c
        .post(app.url(&format!("/api/items/{id}/shares")))
        .bearer_auth(&token)
        .json(&serde_json::json!({"channel": "Zalo", "link": "javascript:alert(1)"}))
        .send()
        .await
        .expect("bad link");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = c
        .post(app.url(&format!("/api/items/{id}/shares")))
        .bearer_auth(&token)
        .json(&serde_json::json!({"channel": "Zalo", "link": "https://zalo.me/p/1"}))
        .send()
        .await
        .expect("share");
    assert_eq!(r.status(), StatusCode::CREATED);
    let share: serde_json::Value = r.json().await.expect("share json");
    let item = api_item(&app, &token, id).await;
    assert_eq!(item["shares"][0]["channel"], "Zalo");
    assert!(
        item["share_text"]
            .as_str()
            .unwrap_or("")
            .contains("Nguồn: Cổng thông tin huyện")
    );
    let unshared: serde_json::Value = c
        .get(app.url("/api/search"))
        .query(&[("q", "nong thon moi"), ("unshared", "1"), ("limit", "50")])
        .bearer_auth(&token)
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("json");
    assert!(
        unshared["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .all(|h| h["id"] != id)
    );
    let r = c
        .delete(app.url(&format!("/api/items/{id}/shares/{}", share["id"])))
        .bearer_auth(&token)
        .send()
        .await
        .expect("undo");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        api_item(&app, &token, id).await["shares"],
        serde_json::json!([])
    );
    let r = c
        .get(app.url("/api/items/999999"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("missing");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_atom_and_opml() {
    let app = WebApp::start();
    let s = login(&app, STAFF).await;
    let get = |path: &str| {
        client()
            .get(app.url(path))
            .header(header::COOKIE, &s.cookie)
            .send()
    };
    let r = get("/export?q=nong+thon+moi&format=csv")
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
    let md = get("/export?q=nong+thon+moi&format=md")
        .await
        .expect("md")
        .text()
        .await
        .expect("md");
    assert!(md.contains("- [Xã Đăk Tờ Re đạt chuẩn nông thôn mới nâng cao](<https://tin.example/dak-to-re.html>)"), "{md}");
    let r = get("/export?q=a&format=exe").await.expect("bad format");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Atom of a topic, with an API token in the URL (feed readers cannot log in).
    let token = app.token(STAFF.0);
    let r = client()
        .get(app.url(&format!("/feed.atom?q=topic:ntm&token={token}")))
        .send()
        .await
        .expect("atom");
    assert_eq!(r.status(), StatusCode::OK);
    let atom = r.text().await.expect("atom");
    assert!(
        atom.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">"),
        "{atom}"
    );
    assert!(atom.matches("<entry>").count() >= 3, "{atom}");
    assert!(atom.contains("Đăk Tờ Re"));
    let opml = get("/sources.opml")
        .await
        .expect("opml")
        .text()
        .await
        .expect("opml");
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
    let s = login(&app, STAFF).await;
    let get = |path: String| {
        client()
            .get(app.url(&path))
            .header(header::COOKIE, &s.cookie)
            .send()
    };
    let r = get("/?from=%3Cscript%3Ealert(1)%3C/script%3E".into())
        .await
        .expect("bad date");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = r.text().await.expect("body");
    assert!(!body.contains("<script>alert(1)"), "{body}");
    assert!(body.contains("&lt;script&gt;alert(1)"), "{body}");
    let r = get("/?q=%22%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E".into())
        .await
        .expect("q");
    let body = r.text().await.expect("body");
    assert!(!body.contains("<img src=x"), "query echoed raw");
    for path in [
        "/items/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/?page=%3Cb%3E",
    ] {
        let r = get(path.into()).await.expect("bad parameter");
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
    let r = client()
        .get(app.url("/api/search?limit=%3Cb%3E"))
        .bearer_auth(app.token(STAFF.0))
        .send()
        .await
        .expect("api bad parameter");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: serde_json::Value = r.json().await.expect("json error");
    assert!(v["error"].is_string(), "{v}");
    let r = get("/items/999999".into()).await.expect("missing");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = get("/no/%3Csvg%20onload=alert(1)%3E".into())
        .await
        .expect("404");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(!r.text().await.expect("body").contains("<svg"));
    // The payload item, its search hit and its source.
    for path in [
        format!("/items/{}", app.payload_id),
        "/?q=ma+doc".to_string(),
        "/sources".to_string(),
    ] {
        let html = get(path.clone())
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
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
    let item = get(format!("/items/{}", app.payload_id))
        .await
        .expect("item")
        .text()
        .await
        .expect("html");
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
