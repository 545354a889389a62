//! The admin's JSON API over HTTP against the real `gomtin serve`: every route with its
//! error codes (400 with the field, 403, 404, 409), a source added through the API fetched
//! by the running scheduler and searchable without a restart and still there after one, a
//! hand edit picked up on SIGHUP (and by "Tải lại cấu hình"), an invalid hand edit refused
//! with the running config kept, accounts with the last admin protected, topics that
//! re-tag and digests sent from the web, and the audit log of all of it.

mod admin;
mod support;

use std::time::Duration;

use admin::{ADMIN, Fresh, site, wait_searchable};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::web::Session;

async fn send(r: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let r = r.send().await.expect("request");
    let status = r.status();
    let text = r.text().await.expect("body");
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: {e}: {text}"))
    };
    (status, v)
}

fn patch(s: &Session, path: &str) -> reqwest::RequestBuilder {
    s.patch(path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_api_answers_every_route_with_its_codes() {
    let news = site();
    let app = Fresh::start();
    let s = app.first_admin(ADMIN).await;
    let feed = news.url("/rss/tin-moi.xml");

    // A bad field: 400 naming it, in Vietnamese.
    for (body, field) in [
        (
            json!({"id": "a", "name": "A", "kind": "feed", "url": feed, "interval": "sớm"}),
            "interval",
        ),
        (
            json!({"id": "Bad Id", "name": "A", "kind": "feed", "url": feed}),
            "id",
        ),
        (json!({"id": "a", "kind": "feed", "url": feed}), "name"),
        (
            json!({"id": "a", "name": "A", "kind": "telepathy", "url": feed}),
            "kind",
        ),
        (
            json!({"id": "a", "name": "A", "kind": "feed", "url": "ftp://x.vn/rss"}),
            "url",
        ),
        (
            json!({"id": "a", "name": "A", "kind": "feed", "path": "/etc/passwd"}),
            "path",
        ),
        (
            json!({"id": "a", "name": "A", "kind": "page", "url": feed}),
            "selectors",
        ),
        (
            json!({"id": "a", "name": "A", "kind": "page", "url": feed, "selectors": {"item": ".x"}}),
            "selectors.link",
        ),
        (
            json!({"id": "a", "name": "A", "kind": "page", "url": feed, "selectors": {"link": "a["}}),
            "selectors.link",
        ),
        (
            json!({"id": "a", "name": "A", "kind": "feed", "url": feed, "colour": "đỏ"}),
            "colour",
        ),
    ] {
        let (status, v) = send(s.post("/api/sources").json(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {v}");
        assert_eq!(v["field"], field, "{body} -> {v}");
        assert!(!v["error"].as_str().unwrap_or("").is_empty(), "{v}");
    }
    let (status, _) = send(
        s.post("/api/sources")
            .body("không phải json")
            .header("Content-Type", "application/json"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // 201 with the source, then 409 for the same id.
    let good = json!({"id": "song-po-ko", "name": "Báo Sông Pô Kô", "kind": "feed", "url": feed, "interval": "15m"});
    let (status, v) = send(s.post("/api/sources").json(&good)).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["id"], "song-po-ko");
    assert_eq!(v["interval"], "15m");
    assert_eq!(v["enabled"], true);
    let (status, v) = send(s.post("/api/sources").json(&good)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    // The file kept its comments and got the block after the last source.
    let text = app.config_text();
    assert!(text.contains("# Cấu hình của phòng (ghi chú"), "{text}");
    assert!(text.contains("# Nguồn cũ, để tắt\n[[sources]]"), "{text}");
    assert!(text.contains("name = \"Nguồn cũ\" # giữ tên này"), "{text}");
    assert!(text.contains("id = \"song-po-ko\""), "{text}");

    // PATCH: 200, comments kept; unknown: 404; renaming the id: 400.
    let (status, v) =
        send(patch(&s, "/api/sources/nguon-cu").json(&json!({"enabled": true, "interval": "2h"})))
            .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["enabled"], true);
    assert!(
        app.config_text()
            .contains("name = \"Nguồn cũ\" # giữ tên này")
    );
    let (status, _) = send(patch(&s, "/api/sources/khong-co").json(&json!({"name": "X"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, v) = send(patch(&s, "/api/sources/nguon-cu").json(&json!({"id": "moi"}))).await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("id"))
    );
    let (status, v) =
        send(patch(&s, "/api/sources/nguon-cu").json(&json!({"interval": "x"}))).await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("interval"))
    );
    let (status, _) =
        send(patch(&s, "/api/sources/nguon-cu").json(&json!({"enabled": false}))).await;
    assert_eq!(status, StatusCode::OK);

    // Check: the items a fetch would store, nothing stored.
    let page = json!({"kind": "page", "url": news.url("/tin-huyen"),
        "selectors": {"item": ".tin", "link": "h3 a", "date": ".ngay", "summary": ".sapo"}});
    let (status, v) = send(s.post("/api/sources/check").json(&page)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let items = v["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{v}");
    for k in ["title", "url", "published", "text"] {
        assert!(items[0].get(k).is_some(), "{k} in {v}");
    }
    assert_eq!(items[0]["title"], "Huyện Sa Thầy trồng rừng thay thế");
    assert!(v["errors"].as_array().expect("errors").is_empty(), "{v}");
    let (status, v) = send(s.post("/api/sources/check").json(&json!({"kind": "page", "url": news.url("/tin-huyen"), "selectors": {"item": ".khong-co", "link": "a"}}))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(v["items"].as_array().expect("items").is_empty());
    assert!(
        v["errors"][0]
            .as_str()
            .expect("error")
            .contains(".khong-co"),
        "{v}"
    );
    let (status, v) = send(
        s.post("/api/sources/check")
            .json(&json!({"kind": "page", "url": news.url("/")})),
    )
    .await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("selectors"))
    );
    let search = s.json("/api/search?q=sa+thay").await;
    assert_eq!(search["total"], 0, "check stored nothing: {search}");

    // Discovery of a homepage's feed.
    let (status, v) = send(
        s.post("/api/sources/discover")
            .json(&json!({"url": news.url("/")})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["feeds"][0]["url"], feed);
    assert_eq!(v["feeds"][0]["known"], true, "already added");
    let (status, v) = send(
        s.post("/api/sources/discover")
            .json(&json!({"url": "không phải địa chỉ"})),
    )
    .await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("url"))
    );

    // OPML: a preview writes nothing; the import adds the new feed and says why the others are skipped.
    let opml = admin::opml(&news);
    let (status, v) = send(s.post("/api/sources/import?preview=1").body(opml.clone())).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["preview"], true);
    assert_eq!(v["added"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["skipped"].as_array().map(Vec::len), Some(2), "{v}");
    assert!(
        !app.config_text().contains("/xa/rss.xml"),
        "a preview writes nothing"
    );
    let (status, v) = send(s.post("/api/sources/import").body(opml.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let added = v["added"][0]["id"].as_str().expect("id").to_string();
    assert!(app.config_text().contains("/xa/rss.xml"));
    let reasons: Vec<&str> = v["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .filter_map(|x| x["reason"].as_str())
        .collect();
    assert!(reasons.iter().any(|r| r.contains("đã có")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("http")), "{reasons:?}");
    let (status, v) = send(s.post("/api/sources/import").body(opml)).await;
    assert_eq!(status, StatusCode::OK, "nothing new the second time: {v}");
    assert_eq!(v["added"].as_array().map(Vec::len), Some(0));
    let (status, _) = send(s.post("/api/sources/import").body("<opml")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // GET one, DELETE (items kept, then removed on request), 404 after.
    let (status, v) = send(s.get(&format!("/api/sources/{added}"))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, _) = send(s.delete(&format!("/api/sources/{added}"))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(s.delete(&format!("/api/sources/{added}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "gone from the file");
    assert!(!app.config_text().contains("/xa/rss.xml"));

    // Staff: 403 on every admin route; a cookie without the CSRF token: 403.
    let (status, v) = send(
        s.post("/api/users")
            .json(&json!({"name": "lan", "role": "staff", "password": "mat-khau-cua-lan"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let staff = Session::login(&app.base(), ("lan", "mat-khau-cua-lan")).await;
    for (method, path) in [
        ("POST", "/api/sources"),
        ("PATCH", "/api/sources/song-po-ko"),
        ("DELETE", "/api/sources/song-po-ko"),
        ("POST", "/api/sources/check"),
        ("POST", "/api/sources/import"),
        ("POST", "/api/config/reload"),
        ("POST", "/api/topics"),
        ("POST", "/api/digests"),
        ("GET", "/api/users"),
    ] {
        let r = match method {
            "POST" => staff.post(path).json(&good),
            "PATCH" => patch(&staff, path).json(&json!({"name": "x"})),
            "DELETE" => staff.delete(path),
            _ => staff.get(path),
        };
        let (status, _) = send(r).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
    }
    let r = s
        .post_without_csrf("/api/sources")
        .json(&good)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "no CSRF token");
    for page in [
        "/sources/new",
        "/sources/song-po-ko/edit",
        "/sources/import",
        "/admin/users",
        "/admin/topics",
        "/admin/digests",
        "/admin/audit",
    ] {
        assert_eq!(staff.fetch(page).await.0, StatusCode::FORBIDDEN, "{page}");
        assert_eq!(s.fetch(page).await.0, StatusCode::OK, "{page}");
    }
    assert_eq!(staff.fetch("/sources").await.0, StatusCode::OK);

    // The audit log has it all, with who.
    let log = s.json("/api/audit").await;
    let actions: Vec<&str> = log
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["action"].as_str())
        .collect();
    for a in [
        "user.setup",
        "source.add",
        "source.edit",
        "sources.import",
        "source.delete",
        "user.add",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    assert!(
        log.as_array()
            .expect("rows")
            .iter()
            .all(|r| r["user"] == ADMIN.0),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_added_by_api_is_fetched_searchable_at_once_and_after_a_restart() {
    let news = site();
    let mut app = Fresh::start();
    let s = app.first_admin(ADMIN).await;
    let body = json!({"id": "song-po-ko", "name": "Báo Sông Pô Kô", "kind": "feed", "url": news.url("/rss/tin-moi.xml")});
    let (status, v) = send(s.post("/api/sources").json(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    // The running scheduler fetches it and the index has it: no restart, no "fetch now".
    wait_searchable(
        &s,
        "ca phe dak ha",
        "Nông dân Đăk Hà thu hoạch cà phê",
        Duration::from_secs(20),
    )
    .await;
    assert!(!news.requests_to("/rss/tin-moi.xml").is_empty());
    // Double submit: the second identical request creates nothing.
    let (status, _) = send(s.post("/api/sources").json(&body)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(app.config_text().matches("id = \"song-po-ko\"").count(), 1);

    app.restart();
    let s = Session::login(&app.base(), ADMIN).await;
    let sources = s.json("/api/sources").await;
    let row = sources
        .as_array()
        .expect("list")
        .iter()
        .find(|x| x["id"] == "song-po-ko")
        .cloned()
        .expect("still there");
    assert_eq!(row["in_config"], true, "{row}");
    wait_searchable(
        &s,
        "kon ray be tong",
        "Kon Rẫy bê tông hoá đường nông thôn mới",
        Duration::from_secs(10),
    )
    .await;

    // "Tải ngay" says honestly what happened.
    news.set("/rss/tin-moi.xml", support::Route::status(404));
    let r = s
        .post_form("/sources/song-po-ko/fetch", &[])
        .send()
        .await
        .expect("fetch now");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let page = s.text(&to).await;
    assert!(page.contains("Lỗi: 404"), "{to}");
    assert!(page.contains("Không tìm thấy trang (404)"), "explained");
    assert!(
        page.contains("id=\"failing-count\""),
        "failing sources counted"
    );
    let r = s
        .post_form("/sources/song-po-ko/fetch", &[])
        .send()
        .await
        .expect("fetch now");
    let to = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(s.text(&to).await.contains("Vẫn lỗi: 404"), "{to}");

    // Removing the source with its items: the shares of those items go too, the index
    // forgets them.
    let hits = s.json("/api/search?q=ca+phe+dak+ha").await;
    let id = hits["hits"][0]["id"].as_i64().expect("an item id");
    let (status, v) = send(
        s.post(&format!("/api/items/{id}/shares"))
            .json(&json!({"channel": "Zalo"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let (status, v) = send(s.delete("/api/sources/song-po-ko?items=delete")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{v}");
    let after = s.json("/api/search?q=ca+phe+dak+ha").await;
    assert_eq!(after["total"], 0, "{after}");
    assert_eq!(
        s.fetch(&format!("/api/items/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    let sources = s.json("/api/sources").await;
    assert!(
        !sources.to_string().contains("song-po-ko"),
        "the row goes with its items: {sources}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_edit_is_picked_up_on_sighup_and_an_invalid_one_is_refused() {
    let news = site();
    let app = Fresh::start();
    let s = app.first_admin(ADMIN).await;
    let good = format!(
        "{}[[sources]]\nid = \"xa-dak-to\"\nname = \"Cổng thông tin xã\"\nkind = \"feed\"\nurl = \"{}\"\n",
        app.config_text(),
        news.url("/xa/rss.xml")
    );
    app.write_config(&good);
    app.daemon.signal("-HUP").expect("SIGHUP");
    wait_searchable(
        &s,
        "lua nuoc",
        "Xã Đăk Tô họp dân về lúa nước",
        Duration::from_secs(20),
    )
    .await;

    // An invalid file: refused, logged clearly, and the running config stays.
    app.write_config(&format!("{good}\n[[sources]]\nid = \"xa-dak-to\"\nname = \"Trùng\"\nkind = \"feed\"\nurl = \"https://x.example/\"\n"));
    app.daemon.signal("-HUP").expect("SIGHUP");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !app.daemon.stderr().contains("not reloaded") {
        assert!(
            std::time::Instant::now() < deadline,
            "no message: {}",
            app.daemon.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let err = app.daemon.stderr();
    let line = err
        .lines()
        .find(|l| l.contains("not reloaded"))
        .expect("line");
    assert!(line.contains("bị trùng"), "names the problem: {line}");
    let sources = s.json("/api/sources").await;
    assert!(
        sources
            .as_array()
            .expect("list")
            .iter()
            .any(|x| x["id"] == "xa-dak-to" && x["in_config"] == true)
    );
    // The web button says the same, with 400, and the running config stays too.
    let (status, v) = send(s.post("/api/config/reload")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]
            .as_str()
            .expect("error")
            .contains("vẫn giữ nguyên"),
        "{v}"
    );
    // A web edit is refused too while the file is broken (it names the line).
    let (status, v) = send(patch(&s, "/api/sources/xa-dak-to").json(&json!({"name": "X"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["error"].as_str().expect("error").contains("dòng"), "{v}");
    // Fixed by hand, reloaded from the web.
    app.write_config(&good.replace("Cổng thông tin xã", "Cổng xã Đăk Tô"));
    let (status, v) = send(s.post("/api/config/reload")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let sources = s.json("/api/sources").await;
    assert!(
        sources
            .as_array()
            .expect("list")
            .iter()
            .any(|x| x["name"] == "Cổng xã Đăk Tô"),
        "{sources}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_from_the_web_and_the_last_admin_stays() {
    let app = Fresh::start();
    let s = app.first_admin(ADMIN).await;
    // The last admin can be neither demoted, disabled nor removed (409), nor remove itself.
    let me = format!("/api/users/{}", ADMIN.0);
    let (status, _) = send(patch(&s, &me).json(&json!({"role": "staff"}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = send(s.delete(&me)).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // A new account with a one-time password to hand over.
    let (status, v) = send(
        s.post("/api/users")
            .json(&json!({"name": "lan", "role": "staff"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let one_time = v["one_time_password"]
        .as_str()
        .expect("one-time password")
        .to_string();
    assert_eq!(v["must_change_password"], true);
    let (status, _) = send(
        s.post("/api/users")
            .json(&json!({"name": "lan", "role": "staff"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "double submit creates once");
    let (status, v) = send(
        s.post("/api/users")
            .json(&json!({"name": "hoa", "role": "chef"})),
    )
    .await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("role"))
    );
    let (status, v) = send(
        s.post("/api/users")
            .json(&json!({"name": "hoa", "password": "ngan"})),
    )
    .await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("password"))
    );

    // Lan logs in with it and must choose her own before anything else.
    let lan = Session::login_at(&app.base(), ("lan", &one_time), "/account").await;
    assert_eq!(
        lan.fetch("/").await.0,
        StatusCode::SEE_OTHER,
        "sent to /account first"
    );
    assert_eq!(lan.fetch("/api/search?q=a").await.0, StatusCode::FORBIDDEN);
    let (status, v) = send(
        patch(&lan, "/api/users/lan")
            .json(&json!({"current_password": "sai-roi-nhe", "new_password": "mat-khau-cua-lan"})),
    )
    .await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("current_password"))
    );
    let (status, v) = send(
        patch(&lan, "/api/users/lan")
            .json(&json!({"current_password": one_time, "new_password": "mat-khau-cua-lan"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        lan.fetch("/").await.0,
        StatusCode::OK,
        "her session goes on"
    );
    // Staff may not change another account, nor roles.
    let (status, _) =
        send(patch(&lan, &me).json(&json!({"current_password": "x", "new_password": "yyyyyyyyy"})))
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(patch(&lan, "/api/users/lan").json(&json!({"role": "admin"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Her own API token, listed without its secret, revoked.
    let (status, v) = send(
        lan.post("/api/users/lan/tokens")
            .json(&json!({"label": "bảng tính"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let token = v["token"].as_str().expect("token").to_string();
    let script = Session::bearer(&app.base(), &token);
    assert_eq!(script.fetch("/api/search?q=a").await.0, StatusCode::OK);
    let users = s.json("/api/users").await;
    let lan_row = users
        .as_array()
        .expect("list")
        .iter()
        .find(|u| u["name"] == "lan")
        .cloned()
        .expect("lan");
    assert_eq!(lan_row["tokens"][0]["label"], "bảng tính");
    assert!(
        !users.to_string().contains(&token),
        "the secret is never listed"
    );
    let id = lan_row["tokens"][0]["id"].as_str().expect("id").to_string();
    let (status, _) = send(lan.delete(&format!("/api/users/lan/tokens/{id}"))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        script.fetch("/api/search?q=a").await.0,
        StatusCode::UNAUTHORIZED
    );

    // A second admin; then the first may step down, and the second is the last one.
    let (status, _) = send(patch(&s, "/api/users/lan").json(&json!({"role": "admin"}))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(patch(&s, &me).json(&json!({"role": "staff"}))).await;
    assert_eq!(status, StatusCode::OK);
    let lan = Session::login(&app.base(), ("lan", "mat-khau-cua-lan")).await;
    let (status, _) = send(patch(&lan, "/api/users/lan").json(&json!({"role": "staff"}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "lan is the last admin now");
    let (status, _) = send(patch(&lan, &me).json(&json!({"role": "admin"}))).await;
    assert_eq!(status, StatusCode::OK);

    // Disable: the session stops working; reset: a new one-time password; remove: 204.
    let (status, _) = send(patch(&s, "/api/users/lan").json(&json!({"disabled": true}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        lan.fetch("/api/search?q=a").await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, v) =
        send(patch(&s, "/api/users/lan").json(&json!({"disabled": false, "reset_password": true})))
            .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert!(
        v["one_time_password"]
            .as_str()
            .is_some_and(|p| p.len() >= 16),
        "{v}"
    );
    let (status, _) = send(s.delete("/api/users/lan")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(s.delete("/api/users/lan")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let log = s.json("/api/audit").await.to_string();
    for a in [
        "user.add",
        "user.password",
        "token.add",
        "token.revoke",
        "user.role",
        "user.disable",
        "user.password_reset",
        "user.delete",
    ] {
        assert!(log.contains(a), "{a} in the audit log");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_retag_and_digests_are_sent_from_the_web() {
    support::smtp::require_aiosmtpd();
    let news = site();
    let sink = support::smtp::SmtpSink::start();
    let app = Fresh::start();
    let s = app.first_admin(ADMIN).await;
    let body = json!({"id": "song-po-ko", "name": "Báo Sông Pô Kô", "kind": "feed", "url": news.url("/rss/tin-moi.xml")});
    assert_eq!(
        send(s.post("/api/sources").json(&body)).await.0,
        StatusCode::CREATED
    );
    wait_searchable(&s, "ca phe", "cà phê", Duration::from_secs(20)).await;

    // Topics: a live count, then a topic that tags the stored items (in the background).
    let v = s.json("/api/topics/count?q=c%C3%A0+ph%C3%AA").await;
    assert_eq!(v["count"], 1, "{v}");
    let (status, v) = send(s.get("/api/topics/count?q=")).await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("query"))
    );
    let (status, v) = send(
        s.post("/api/topics")
            .json(&json!({"id": "ca-phe", "name": "Cà phê", "query": ""})),
    )
    .await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("query"))
    );
    let (status, v) = send(
        s.post("/api/topics")
            .json(&json!({"id": "ca-phe", "name": "Cà phê", "query": "cà phê"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(
        send(
            s.post("/api/topics")
                .json(&json!({"id": "ca-phe", "name": "X", "query": "x"}))
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    wait_searchable(&s, "topic:ca-phe", "cà phê", Duration::from_secs(20)).await;
    let (status, _) =
        send(patch(&s, "/api/topics/ca-phe").json(&json!({"query": "bê tông"}))).await;
    assert_eq!(status, StatusCode::OK);
    wait_searchable(&s, "topic:ca-phe", "bê tông", Duration::from_secs(20)).await;

    // A topic of one tone (issue 17's `tone` key) from the web: a bad tone names the
    // field, a good one is written to the file and shown; emptied, it leaves the file.
    let (status, v) = send(
        s.post("/api/topics")
            .json(&json!({"id": "tin-tot", "name": "Tin tốt", "query": "cà phê", "tone": "vui"})),
    )
    .await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("tone")),
        "{v}"
    );
    let (status, v) =
        send(s.post("/api/topics").json(
            &json!({"id": "tin-tot", "name": "Tin tốt", "query": "cà phê", "tone": "positive"}),
        ))
        .await;
    assert_eq!(
        (status, v["tone"].as_str()),
        (StatusCode::CREATED, Some("positive")),
        "{v}"
    );
    assert!(
        app.config_text().contains("tone = \"positive\""),
        "{}",
        app.config_text()
    );
    let page = s.text("/admin/topics").await;
    assert!(
        page.contains("chỉ tin tích cực"),
        "the topic's tone is shown"
    );
    assert!(page.contains("name=\"tone\""), "the form offers the tone");
    let (status, v) = send(patch(&s, "/api/topics/tin-tot").json(&json!({"tone": null}))).await;
    assert_eq!((status, v["tone"].is_null()), (StatusCode::OK, true), "{v}");
    assert!(
        !app.config_text().contains("tone = "),
        "{}",
        app.config_text()
    );
    assert_eq!(
        send(s.delete("/api/topics/tin-tot")).await.0,
        StatusCode::NO_CONTENT
    );

    // Digests: [smtp] first (400 naming it), then one digest; the runner picks it up.
    let digest = json!({"id": "sang", "name": "Tin sáng", "schedule": "0 7 * * *", "to": ["lanh-dao@example.vn"], "topics": ["ca-phe"]});
    let (status, v) = send(s.post("/api/digests").json(&digest)).await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("smtp")),
        "{v}"
    );
    let (status, v) = send(s.put("/api/smtp").json(
        &json!({"host": "127.0.0.1", "port": sink.port, "security": "none", "from": "nobody"}),
    ))
    .await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("from")),
        "{v}"
    );
    let (status, v) = send(s.put("/api/smtp").json(&json!({"host": "127.0.0.1", "port": sink.port, "security": "none", "from": "Ban Tuyên giáo <tuyengiao@example.vn>"}))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, v) = send(s.post("/api/digests").json(&json!({"id": "sang", "name": "Tin sáng", "schedule": "mỗi sáng", "to": ["a@x.vn"], "topics": ["ca-phe"]}))).await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("schedule")),
        "{v}"
    );
    let (status, v) = send(s.post("/api/digests").json(&json!({"id": "sang", "name": "Tin sáng", "schedule": "0 7 * * *", "to": ["không-phải-thư"], "topics": ["ca-phe"]}))).await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("to")),
        "{v}"
    );
    let (status, v) = send(s.post("/api/digests").json(&json!({"id": "sang", "name": "Tin sáng", "schedule": "0 7 * * *", "to": ["a@x.vn"], "topics": ["ca-phe"], "tone": "xấu lắm"}))).await;
    assert_eq!(
        (status, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("tone")),
        "a digest takes a tone from the web too: {v}"
    );
    let (status, v) = send(s.post("/api/digests").json(&digest)).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let (status, _) = send(s.delete("/api/topics/ca-phe")).await;
    assert_eq!(status, StatusCode::CONFLICT, "a digest uses it");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let page = s.text("/admin/digests").await;
        if page.contains("data-watched=\"sang\"") {
            assert!(page.contains("07:00 hằng ngày"), "the schedule in words");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the running digest runner never saw the new digest"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Preview (its own sandboxed policy) and "Gửi ngay" through the real SMTP server.
    let r = s
        .get("/admin/digests/sang/preview")
        .send()
        .await
        .expect("preview");
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_string();
    assert!(
        csp.contains("sandbox") && !csp.contains("script-src"),
        "{csp}"
    );
    assert!(r.text().await.expect("html").contains("Tin sáng"));
    let (status, v) = send(s.post("/api/digests/sang/send").json(&json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["attempts"][0]["status"], "sent", "{v}");
    let got = sink.messages();
    assert_eq!(got.len(), 1, "one email");
    assert!(got[0].subject.contains("Tin sáng"), "{}", got[0].subject);
    let page = s.text("/admin/digests").await;
    assert!(
        page.contains("đã gửi") && page.contains("lanh-dao@example.vn"),
        "the ledger shows it"
    );
    let (status, _) = send(patch(&s, "/api/digests/sang").json(&json!({"max_items": 0}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = send(s.delete("/api/digests/sang")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!app.config_text().contains("[[digests]]"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_has_gomtins_lines_not_the_index_librarys_and_gomtin_log_opens_all() {
    let news = site();
    let cfg = support::TestConfig::new(&support::feed_source(
        "song-po-ko",
        &news.url("/rss/tin-moi.xml"),
    ));
    let mut d = cfg.serve();
    d.wait_health(Duration::from_secs(20), |v| {
        v["items"] == 2 && v["index_documents"] == 2
    })
    .expect("fetched and indexed");
    d.terminate(Duration::from_secs(30)).expect("stops");
    let err = d.stderr();
    assert!(
        !err.contains("tantivy"),
        "the index library's lines:\n{err}"
    );
    assert!(
        err.contains("source stored"),
        "one line per source pass:\n{err}"
    );
    assert!(
        d.stdout().contains("gomtin đang chạy tại http://"),
        "the address"
    );
    // GOMTIN_LOG still opens everything (a reindex commits the index).
    let out = cfg
        .cmd(&["reindex"])
        .env("GOMTIN_LOG", "info")
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("tantivy"), "{err}");
    let out = cfg
        .cmd(&["fetch"])
        .env_remove("GOMTIN_LOG")
        .assert()
        .success();
    assert!(out.get_output().stderr.is_empty(), "a quiet fetch");
}
