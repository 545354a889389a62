//! The admin's job in a real headless Chromium: a new install from the setup link printed
//! by `gomtin serve` to the first search (adding a feed by pasting the homepage of a site
//! served on 127.0.0.1 that announces it with `<link rel="alternate">`, "Kiểm tra", save);
//! writing a page source's selectors with "Kiểm tra"; and every admin page looked at in
//! 1366×800 and 390×844, its screenshots saved under `tests/artifacts/admin-*.png`.

mod admin;
mod support;

use std::time::Duration;

use admin::{ADMIN, Fresh, site};
use fantoccini::{Client, Locator};
use support::browser::{by_id, click, launch, screenshots, type_into, wait_path, wait_text};

async fn log_in(c: &Client, base: &str, who: (&str, &str)) {
    c.goto(&format!("{base}/login")).await.expect("login page");
    type_into(c, "name", who.0).await;
    type_into(c, "password", who.1).await;
    click(c, "login").await;
    by_id(c, "q").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_install_from_the_setup_link_to_the_first_search() {
    let Some(browser) = launch().await else {
        return;
    };
    let c = &browser.client;
    let news = site();
    let app = Fresh::start();
    let base = app.base();

    // Nobody can log in yet; the login page points at the link serve printed.
    c.goto(&format!("{base}/")).await.expect("open");
    let hint = by_id(c, "first-run").await.text().await.expect("hint");
    assert!(hint.contains("/setup?token="), "{hint}");

    // The link: name, password twice, and we are in, on the sources page.
    c.goto(&app.setup_link()).await.expect("setup link");
    screenshots(c, "admin-setup").await;
    type_into(c, "setup-name", ADMIN.0).await;
    type_into(c, "setup-password", ADMIN.1).await;
    type_into(c, "setup-password2", ADMIN.1).await;
    click(c, "setup-submit").await;
    by_id(c, "welcome").await;
    wait_path(c, "/sources").await;

    // Add a source by pasting the homepage: the feed it announces is found.
    click(c, "add-source").await;
    wait_path(c, "/sources/new").await;
    type_into(c, "discover-url", &news.url("/")).await;
    click(c, "discover-button").await;
    let summary = wait_text(c, "#discover-summary", "Tìm thấy").await;
    assert!(summary.contains("1 nguồn"), "{summary}");
    let choice = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#feed-choices .feed-choice"))
        .await
        .expect("a feed to choose");
    let listed = by_id(c, "feed-choices")
        .await
        .text()
        .await
        .expect("choices");
    assert!(listed.contains(&news.url("/rss/tin-moi.xml")), "{listed}");
    choice.click().await.expect("choose it");
    let url = by_id(c, "f-url").await.prop("value").await.expect("url");
    assert_eq!(url.as_deref(), Some(news.url("/rss/tin-moi.xml").as_str()));
    type_into(c, "f-id", "song-po-ko").await;
    type_into(c, "f-name", "Báo Sông Pô Kô").await;
    // "Kiểm tra": what a fetch would store, before anything is saved.
    click(c, "check-button").await;
    wait_text(c, "#check-summary", "sẽ lưu 2 tin").await;
    wait_text(c, "#check-items", "Nông dân Đăk Hà thu hoạch cà phê").await;
    screenshots(c, "admin-source-new").await;
    // A bad field is shown beside it.
    type_into(c, "f-interval", "sớm").await;
    click(c, "save-button").await;
    wait_text(c, "[data-error-for='interval']", "sớm").await;
    type_into(c, "f-interval", "15m").await;
    click(c, "save-button").await;
    wait_path(c, "/sources").await;
    wait_text(c, "#nguon-song-po-ko", "Báo Sông Pô Kô").await;
    assert!(app.config_text().contains("id = \"song-po-ko\""));

    // The running scheduler fetches it: the first search finds it.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        c.goto(&format!("{base}/?q=ca+phe+dak+ha"))
            .await
            .expect("search");
        let total = by_id(c, "total").await.text().await.expect("total");
        if total.contains("tin") && !total.contains("Không") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never found: {total}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    wait_text(c, "#results", "Nông dân Đăk Hà thu hoạch cà phê").await;
    browser.client.clone().close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_source_is_written_with_its_selectors_and_checked() {
    let Some(browser) = launch().await else {
        return;
    };
    let c = &browser.client;
    let news = site();
    let app = Fresh::start();
    let s = app.first_admin(ADMIN).await;
    drop(s);
    log_in(c, &app.base(), ADMIN).await;
    c.goto(&format!("{}/sources/new", app.base()))
        .await
        .expect("new");
    // A list page without a feed: discovery says so and offers a page source.
    type_into(c, "discover-url", &news.url("/tin-huyen")).await;
    click(c, "discover-button").await;
    wait_text(c, "#discover-summary", "không giới thiệu nguồn RSS").await;
    click(c, "choose-page").await;
    let kind = by_id(c, "f-kind").await.prop("value").await.expect("kind");
    assert_eq!(kind.as_deref(), Some("page"));
    // A selector that matches nothing: "Kiểm tra" says so.
    type_into(c, "f-id", "tin-huyen").await;
    type_into(c, "f-name", "Tin huyện").await;
    type_into(c, "f-sel-item", ".khong-co").await;
    type_into(c, "f-sel-link", "h3 a").await;
    click(c, "check-button").await;
    wait_text(c, "#check-errors", ".khong-co").await;
    // The right selectors: the two items, their dates and summaries.
    type_into(c, "f-sel-item", "li.tin").await;
    type_into(c, "f-sel-date", ".ngay").await;
    type_into(c, "f-sel-summary", ".sapo").await;
    click(c, "check-button").await;
    wait_text(c, "#check-summary", "sẽ lưu 2 tin").await;
    let items = wait_text(c, "#check-items", "Ngọc Hồi mở phiên chợ nông sản").await;
    assert!(
        items.contains("Huyện Sa Thầy trồng rừng thay thế"),
        "{items}"
    );
    // A broken selector is shown beside its field.
    type_into(c, "f-sel-title", "h3[").await;
    click(c, "check-button").await;
    wait_text(c, "[data-error-for='selectors.title']", "h3[").await;
    type_into(c, "f-sel-title", "h3").await;
    click(c, "save-button").await;
    wait_path(c, "/sources").await;
    wait_text(c, "#nguon-tin-huyen", "Tin huyện").await;
    let text = app.config_text();
    assert!(text.contains("[sources.selectors]"), "{text}");
    assert!(text.contains("item = \"li.tin\""), "{text}");
    // Edit it: the form comes back filled, "Kiểm tra" works there too.
    c.goto(&format!("{}/sources/tin-huyen/edit", app.base()))
        .await
        .expect("edit");
    let link = by_id(c, "f-sel-link")
        .await
        .prop("value")
        .await
        .expect("link");
    assert_eq!(link.as_deref(), Some("h3 a"));
    click(c, "check-button").await;
    wait_text(c, "#check-summary", "sẽ lưu 2 tin").await;
    screenshots(c, "admin-source-edit").await;
    browser.client.clone().close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_admin_page_at_desktop_and_phone_size() {
    support::smtp::require_aiosmtpd();
    let Some(browser) = launch().await else {
        return;
    };
    let c = &browser.client;
    let news = site();
    let sink = support::smtp::SmtpSink::start();
    let app = Fresh::start();
    let s = app.first_admin(ADMIN).await;
    // Something on every page: sources (one failing), a topic, a digest sent once, people.
    for body in [
        serde_json::json!({"id": "song-po-ko", "name": "Báo Sông Pô Kô", "kind": "feed", "url": news.url("/rss/tin-moi.xml")}),
        serde_json::json!({"id": "bao-mat-tich", "name": "Báo đã đổi địa chỉ", "kind": "feed", "url": news.url("/rss/cu.xml")}),
    ] {
        let r = s
            .post("/api/sources")
            .json(&body)
            .send()
            .await
            .expect("add");
        assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    }
    admin::wait_searchable(&s, "ca phe", "cà phê", Duration::from_secs(20)).await;
    let ok = |r: reqwest::Response| {
        assert!(r.status().is_success(), "{}", r.status());
    };
    ok(s.post("/api/topics")
        .json(&serde_json::json!({"id": "nong-thon-moi", "name": "Nông thôn mới", "query": "\"nông thôn mới\" OR ntm"}))
        .send()
        .await
        .expect("topic"));
    ok(s.put("/api/smtp")
        .json(&serde_json::json!({"host": "127.0.0.1", "port": sink.port, "security": "none", "from": "Ban Tuyên giáo <tuyengiao@example.vn>"}))
        .send()
        .await
        .expect("smtp"));
    ok(s.post("/api/digests")
        .json(&serde_json::json!({"id": "tin-sang", "name": "Tin sáng", "schedule": "0 7 * * 1-5", "to": ["lanh-dao@example.vn", "van-phong@example.vn"], "topics": ["nong-thon-moi"]}))
        .send()
        .await
        .expect("digest"));
    ok(s.post("/api/digests/tin-sang/send")
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("send"));
    ok(s.post("/api/users")
        .json(&serde_json::json!({"name": "lan", "role": "staff", "password": "mat-khau-cua-lan"}))
        .send()
        .await
        .expect("user"));
    ok(s.post("/api/users")
        .json(&serde_json::json!({"name": "binh", "role": "staff"}))
        .send()
        .await
        .expect("user"));
    log_in(c, &app.base(), ADMIN).await;
    let base = app.base();

    // The sources page: the failing one first, explained.
    c.goto(&format!("{base}/sources")).await.expect("sources");
    let first = c
        .find(Locator::Css("#sources li.source-row"))
        .await
        .expect("a row")
        .attr("id")
        .await
        .expect("id");
    assert_eq!(
        first.as_deref(),
        Some("nguon-bao-mat-tich"),
        "failing first"
    );
    wait_text(c, "#failing-count", "1 nguồn đang lỗi").await;
    wait_text(c, "#nguon-bao-mat-tich", "Không tìm thấy trang (404)").await;
    screenshots(c, "admin-sources").await;

    // The delete dialog says how many items the source has.
    c.find(Locator::Css("#nguon-song-po-ko [data-delete-source]"))
        .await
        .expect("delete button")
        .click()
        .await
        .expect("open dialog");
    wait_text(c, "#delete-count", "có 2 tin").await;
    support::browser::screenshot(c, "admin-sources-delete-1366.png").await;
    c.find(Locator::Css("#delete-form button[value=cancel]"))
        .await
        .expect("cancel")
        .click()
        .await
        .expect("cancel");

    // Topics, with the live count while typing.
    c.goto(&format!("{base}/admin/topics"))
        .await
        .expect("topics");
    type_into(c, "topic-query", "cà phê").await;
    wait_text(c, "#topic-count", "1 tin").await;
    c.execute(
        "document.getElementById('topic-count').scrollIntoView({block: 'center'})",
        vec![],
    )
    .await
    .expect("scroll");
    support::browser::screenshot(c, "admin-topics-typing-1366.png").await;
    screenshots(c, "admin-topics").await;

    // Digests: the schedule in words and the ledger.
    c.goto(&format!("{base}/admin/digests"))
        .await
        .expect("digests");
    wait_text(c, "#ban-tin-tin-sang", "07:00 từ thứ Hai đến thứ Sáu").await;
    wait_text(c, "#ban-tin-tin-sang", "đã gửi").await;
    screenshots(c, "admin-digests").await;

    // Accounts: add one with a one-time password, shown to hand over.
    c.goto(&format!("{base}/admin/users")).await.expect("users");
    type_into(c, "u-name", "hoa").await;
    click(c, "user-add").await;
    let secret = wait_text(c, "#handover", "hoa").await;
    assert!(
        by_id(c, "handover-password")
            .await
            .text()
            .await
            .expect("pw")
            .len()
            >= 16,
        "{secret}"
    );
    support::browser::screenshot(c, "admin-users-handover-1366.png").await;
    screenshots(c, "admin-users").await;

    for (path, name) in [
        ("/account", "admin-account"),
        ("/sources/import", "admin-import"),
        ("/admin/audit", "admin-audit"),
        ("/sources/song-po-ko/edit", "admin-source-form"),
    ] {
        c.goto(&format!("{base}{path}")).await.expect(path);
        screenshots(c, name).await;
    }
    wait_text(c, "h1", "song-po-ko").await;
    browser.client.clone().close().await.expect("close");
}
