//! The staff's day in a real headless Chromium (issue 15), at 1366×800 and 390×844:
//! capture a post through the form and through the bookmarklet (run on another site's
//! page), copy a result's share text with one tap, mark a story shared as one person and
//! see it shared as another (then undo it, confirmed), search with the keyboard alone
//! (focus on load, Esc/j/k/c/o/s/?), the phone layout (three results on the first screen,
//! filters behind "Bộ lọc", share box above the article), the focus ring, the installable
//! app (manifest with its share target, service worker), and an error page with the menu.
//! Screenshots of each state go to tests/artifacts/staff-*.png.

mod support;
mod webapp;

#[path = "support/chrome.rs"]
mod chrome;

use std::time::{Duration, Instant};

use chrome::Chrome;
use fantoccini::{Client, Locator, key::Key};
use support::{FixtureServer, Route};
use webapp::{STAFF, WebApp};

const MANUAL: &str =
    "[[sources]]\nid = \"toi-yeu-kon-ray\"\nname = \"Tôi yêu Kon Rẫy\"\nkind = \"manual\"\n\n";
const LAN: (&str, &str) = ("lan", "mat-khau-cua-lan");

async fn log_in(c: &Client, app: &WebApp, who: (&str, &str)) {
    c.goto(&app.url("/login")).await.expect("login page");
    c.find(Locator::Id("name"))
        .await
        .expect("name")
        .send_keys(who.0)
        .await
        .expect("type name");
    c.find(Locator::Id("password"))
        .await
        .expect("password")
        .send_keys(who.1)
        .await
        .expect("type password");
    c.find(Locator::Id("login"))
        .await
        .expect("button")
        .click()
        .await
        .expect("submit");
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("q"))
        .await
        .expect("search page after login");
}

/// Wait until `js` (an expression) is true in the page.
async fn until(c: &Client, js: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v = c
            .execute(&format!("return !!({js});"), vec![])
            .await
            .unwrap_or_default();
        if v.as_bool() == Some(true) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: `{js}` never held");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn js(c: &Client, script: &str) -> serde_json::Value {
    c.execute(script, vec![]).await.expect(script)
}

/// Record what the page copies (the clipboard itself needs a permission headless Chromium
/// does not grant): the text handed to `navigator.clipboard.writeText`, or selected for
/// `execCommand("copy")`.
async fn record_copies(c: &Client) {
    js(
        c,
        r#"window.__copied = [];
        if (navigator.clipboard) {
          const orig = navigator.clipboard.writeText.bind(navigator.clipboard);
          navigator.clipboard.writeText = function (t) { window.__copied.push(t); return orig(t).catch(function () {}); };
        }
        const exec = document.execCommand.bind(document);
        document.execCommand = function (cmd) {
          if (cmd === 'copy') { const a = document.activeElement; window.__copied.push(a && a.value !== undefined ? a.value.substring(a.selectionStart, a.selectionEnd) : String(getSelection())); }
          return exec.apply(document, arguments);
        };
        return true;"#,
    )
    .await;
}

async fn last_copy(c: &Client) -> String {
    until(c, "window.__copied && window.__copied.length > 0", "a copy").await;
    js(c, "return window.__copied[window.__copied.length - 1];")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The item page's id from the current URL.
async fn item_id(c: &Client) -> String {
    let url = c.current_url().await.expect("url");
    url.path().rsplit('/').next().expect("id").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capture_copy_and_share_as_two_people() {
    let Some(browser) = Chrome::launch(1366, 800).await else {
        return;
    };
    browser.resize(1366, 800).await;
    let app = WebApp::start_with(MANUAL);
    app.add_user(LAN.0, "staff", LAN.1);
    let c = &browser.client;
    log_in(c, &app, STAFF).await;

    // 1. Capture through the form.
    c.goto(&app.url("/capture")).await.expect("capture");
    for (id, text) in [
        ("c-url", "https://www.facebook.com/toiyeukonray/posts/31"),
        ("c-title", "Thôn Kon Rế vào mùa tuốt lúa"),
        (
            "c-text",
            "Bà con thôn Kon Rế rộn ràng tuốt lúa rẫy trên nương.",
        ),
    ] {
        c.find(Locator::Id(id))
            .await
            .expect(id)
            .send_keys(text)
            .await
            .expect("type");
    }
    c.find(Locator::Id("c-source"))
        .await
        .expect("source")
        .select_by_value("toi-yeu-kon-ray")
        .await
        .expect("choose source");
    browser.screenshot("staff-capture-form.png").await;
    c.find(Locator::Id("c-save"))
        .await
        .expect("save")
        .click()
        .await
        .expect("save");
    let notice = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("item-notice"))
        .await
        .expect("captured item page");
    assert!(notice.text().await.expect("notice").contains("Đã thêm bài"));
    assert_eq!(
        c.find(Locator::Id("item-title"))
            .await
            .expect("h1")
            .text()
            .await
            .expect("title"),
        "Thôn Kon Rế vào mùa tuốt lúa"
    );
    browser.screenshot("staff-captured-item.png").await;
    // Searchable at once.
    c.goto(&app.url("/?q=tuot+lua+kon+re"))
        .await
        .expect("search");
    until(
        c,
        "document.querySelectorAll('#results li.hit').length === 1",
        "the captured post found",
    )
    .await;

    // 2. Capture through the bookmarklet, run on another site's page ("localhost" is
    // another site than "127.0.0.1": the SameSite=Strict cookie is withheld on the way in).
    let bookmarklet = {
        c.goto(&app.url("/capture")).await.expect("capture");
        c.find(Locator::Id("bookmarklet"))
            .await
            .expect("bookmarklet")
            .attr("href")
            .await
            .expect("href")
            .expect("a javascript: link")
    };
    let code = bookmarklet
        .strip_prefix("javascript:")
        .expect("javascript: link");
    let site = FixtureServer::start();
    site.set(
        "/bai/le-hoi.html",
        Route::ok(
            "<!doctype html><html><head><meta charset=utf-8><title>Lễ hội mừng lúa mới ở Đăk Kôi</title></head><body><h1>Lễ hội mừng lúa mới</h1><p id=chon>Già làng thổi tù và mở đầu lễ hội mừng lúa mới.</p><p>Đoạn không chọn.</p></body></html>",
            "text/html; charset=utf-8",
        ),
    );
    let page = format!("http://localhost:{}/bai/le-hoi.html", site.addr.port());
    c.goto(&page).await.expect("another site");
    js(
        c,
        "const r = document.createRange(); r.selectNodeContents(document.getElementById('chon')); const s = getSelection(); s.removeAllRanges(); s.addRange(r); return true;",
    )
    .await;
    js(c, &format!("{code}; return true;")).await;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("c-url"))
        .await
        .expect("the capture form, logged in, after the bookmarklet");
    let value = |id: &'static str| async move {
        c.find(Locator::Id(id))
            .await
            .expect(id)
            .prop("value")
            .await
            .expect("value")
            .unwrap_or_default()
    };
    assert_eq!(value("c-url").await, page);
    assert_eq!(value("c-title").await, "Lễ hội mừng lúa mới ở Đăk Kôi");
    assert_eq!(
        value("c-text").await.trim(),
        "Già làng thổi tù và mở đầu lễ hội mừng lúa mới."
    );
    assert_eq!(
        value("c-source").await,
        "toi-yeu-kon-ray",
        "the one manual source is chosen"
    );
    browser.screenshot("staff-bookmarklet-form.png").await;
    c.find(Locator::Id("c-save"))
        .await
        .expect("save")
        .click()
        .await
        .expect("save");
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("item-notice"))
        .await
        .expect("item page");

    // 3. One-tap copy from a result.
    c.goto(&app.url("/?q=kieu+mau")).await.expect("search");
    until(
        c,
        "document.querySelectorAll('#results li.hit').length >= 2",
        "results",
    )
    .await;
    record_copies(c).await;
    let first = c
        .find(Locator::Css("#results li.hit"))
        .await
        .expect("first hit");
    let title = first
        .find(Locator::Css(".hit-title"))
        .await
        .expect("title")
        .text()
        .await
        .expect("text");
    first
        .find(Locator::Css(".copy-hit"))
        .await
        .expect("copy button")
        .click()
        .await
        .expect("copy");
    let copied = last_copy(c).await;
    assert!(copied.starts_with(&title), "{copied}");
    assert!(
        copied.contains("Nguồn: ") && copied.contains("https://tin.example/kieu-mau.html"),
        "{copied}"
    );
    until(c, "document.querySelector('#results li.hit .copy-status').textContent.includes('Đã sao chép')", "copy confirmed").await;
    browser.screenshot("staff-copied-result.png").await;

    // 4. Mark the story shared from one copy, with an edited text.
    let copies = js(
        c,
        "return Array.from(document.querySelectorAll('#results li.hit')).filter(li => li.querySelector('.hit-title').textContent.includes('kiểu mẫu')).map(li => li.dataset.id);",
    )
    .await;
    let copies: Vec<String> = copies
        .as_array()
        .expect("ids")
        .iter()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    assert_eq!(copies.len(), 2, "{copies:?}");
    c.goto(&app.url(&format!("/items/{}", copies[0])))
        .await
        .expect("item");
    let text = c.find(Locator::Id("share-text")).await.expect("share text");
    text.send_keys(" #KonTum").await.expect("edit the text");
    record_copies(c).await;
    c.find(Locator::Id("copy-share"))
        .await
        .expect("copy")
        .click()
        .await
        .expect("copy");
    assert!(
        last_copy(c).await.ends_with(" #KonTum"),
        "the edited text is copied"
    );
    assert!(
        c.find(Locator::Id("share-zalo"))
            .await
            .expect("zalo")
            .text()
            .await
            .expect("text")
            .contains("Dán bài vừa sao chép")
    );
    c.find(Locator::Id("share-channel"))
        .await
        .expect("channel")
        .select_by_value("Zalo")
        .await
        .expect("Zalo");
    c.find(Locator::Id("mark-shared"))
        .await
        .expect("mark")
        .click()
        .await
        .expect("mark");
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("ul#share-history li"))
        .await
        .expect("history");
    // The share box sits beside the article on a wide screen.
    let beside = js(
        c,
        "const s = document.getElementById('chia-se').getBoundingClientRect(); const a = document.querySelector('article.item').getBoundingClientRect(); return s.left >= a.right - 1 && s.top < a.bottom;",
    )
    .await;
    assert_eq!(beside.as_bool(), Some(true), "share box beside the article");
    browser.screenshot("staff-item-shared-1366.png").await;
    browser.resize(390, 844).await;
    let above = js(
        c,
        "const s = document.getElementById('chia-se').getBoundingClientRect(); const a = document.querySelector('article.item').getBoundingClientRect(); return s.bottom <= a.top + 1 && s.top < 300;",
    )
    .await;
    assert_eq!(
        above.as_bool(),
        Some(true),
        "share box above the article on a phone"
    );
    browser.screenshot("staff-item-shared-390.png").await;
    browser.resize(1366, 800).await;

    // 5. As another person: the other copy says the story is shared, by whom.
    c.find(Locator::Id("logout"))
        .await
        .expect("logout")
        .click()
        .await
        .expect("log out");
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("login"))
        .await
        .expect("logged out");
    log_in(c, &app, LAN).await;
    c.goto(&app.url(&format!("/items/{}", copies[1])))
        .await
        .expect("other copy");
    let line = c
        .find(Locator::Id("story-shared"))
        .await
        .expect("story shared line")
        .text()
        .await
        .expect("text");
    assert!(
        line.contains("Đã chia sẻ — bản của") && line.contains("bởi canbo"),
        "{line}"
    );
    assert!(
        js(c, "return document.body.textContent.includes('Hoàn tác');")
            .await
            .as_bool()
            == Some(false)
    );
    browser.screenshot("staff-story-shared-other.png").await;
    c.goto(&app.url("/?q=nong+thon+moi&unshared=1"))
        .await
        .expect("unshared");
    let left = js(
        c,
        "return Array.from(document.querySelectorAll('#results li.hit')).map(li => li.dataset.id);",
    )
    .await;
    let left: Vec<&str> = left
        .as_array()
        .expect("ids")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(
        !left.contains(&copies[0].as_str()) && !left.contains(&copies[1].as_str()),
        "{left:?}"
    );

    // 6. The sharer undoes it, confirming in the page.
    c.find(Locator::Id("logout"))
        .await
        .expect("logout")
        .click()
        .await
        .expect("log out");
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("login"))
        .await
        .expect("out");
    log_in(c, &app, STAFF).await;
    c.goto(&app.url(&format!("/items/{}", copies[0])))
        .await
        .expect("item");
    c.find(Locator::Css("details.undo summary"))
        .await
        .expect("undo")
        .click()
        .await
        .expect("open");
    browser.screenshot("staff-undo-confirm.png").await;
    c.find(Locator::Css("details.undo .confirm-undo"))
        .await
        .expect("confirm")
        .click()
        .await
        .expect("confirm");
    until(c, "document.getElementById('item-notice') && document.getElementById('item-notice').textContent.includes('hoàn tác')", "undone").await;
    assert!(
        c.find(Locator::Css("ul#share-history li")).await.is_err(),
        "the share is gone"
    );
    browser.client.clone().close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_only_search_and_the_phone_layout() {
    let Some(browser) = Chrome::launch(1366, 800).await else {
        return;
    };
    browser.resize(1366, 800).await;
    let app = WebApp::start();
    let c = &browser.client;
    log_in(c, &app, STAFF).await;

    // Focus on load; the first Tab stop is the skip link.
    c.goto(&app.url("/")).await.expect("home");
    until(
        c,
        "document.activeElement && document.activeElement.id === 'q'",
        "the search box focused",
    )
    .await;
    let first_tab = js(
        c,
        "return document.querySelector('a, button, input, select, textarea').className;",
    )
    .await;
    assert_eq!(first_tab.as_str(), Some("skip"));
    // Type and search without the mouse.
    c.active_element()
        .await
        .expect("focus")
        .send_keys(&format!("nong thon moi{}", char::from(Key::Enter)))
        .await
        .expect("type the query");
    until(c, "location.search.includes('q=nong+thon+moi') && document.querySelectorAll('#results li.hit').length >= 3", "results").await;
    until(
        c,
        "document.activeElement && document.activeElement.id === 'q'",
        "focused again",
    )
    .await;
    let press = |k: String| async move {
        c.active_element()
            .await
            .expect("focus")
            .send_keys(&k)
            .await
            .expect("key");
    };
    press(char::from(Key::Escape).to_string()).await;
    until(c, "document.querySelector('#results li.hit.current') === document.querySelectorAll('#results li.hit')[0]", "Esc selects the first result").await;
    press("j".into()).await;
    until(c, "document.querySelector('#results li.hit.current') === document.querySelectorAll('#results li.hit')[1]", "j moves down").await;
    press("j".into()).await;
    press("k".into()).await;
    until(c, "document.querySelector('#results li.hit.current') === document.querySelectorAll('#results li.hit')[1]", "k moves up").await;
    // The focused link shows a ring of 3 px in the link blue.
    let ring = js(c, "const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth, s.outlineColor];").await;
    assert_eq!(
        ring,
        serde_json::json!(["solid", "3px", "rgb(11, 87, 208)"]),
        "focus ring"
    );
    browser.screenshot("staff-keyboard-1366.png").await;
    record_copies(c).await;
    press("c".into()).await;
    let copied = last_copy(c).await;
    let second_title = js(
        c,
        "return document.querySelectorAll('#results li.hit .hit-title')[1].textContent;",
    )
    .await;
    assert!(
        copied.starts_with(second_title.as_str().unwrap_or("?")),
        "{copied}"
    );
    press("?".into()).await;
    until(
        c,
        "!document.getElementById('shortcuts').hidden",
        "? lists the shortcuts",
    )
    .await;
    browser.screenshot("staff-shortcuts.png").await;
    press(char::from(Key::Escape).to_string()).await;
    until(
        c,
        "document.getElementById('shortcuts').hidden",
        "Esc closes the list",
    )
    .await;
    // `s` on a result: its share box, the channel focused; `s` there marks it shared.
    let id = js(
        c,
        "return document.querySelectorAll('#results li.hit')[1].dataset.id;",
    )
    .await;
    c.execute(
        "document.querySelectorAll('#results li.hit .hit-title')[1].focus(); return true;",
        vec![],
    )
    .await
    .expect("focus result");
    press("s".into()).await;
    until(
        c,
        "location.pathname.startsWith('/items/') && document.activeElement.id === 'share-channel'",
        "s opens the share box",
    )
    .await;
    assert_eq!(item_id(c).await, id.as_str().unwrap_or("?"));
    c.execute("document.activeElement.blur(); return true;", vec![])
        .await
        .expect("blur");
    c.find(Locator::Css("body"))
        .await
        .expect("body")
        .send_keys("s")
        .await
        .expect("s");
    until(
        c,
        "location.search.includes('da=shared')",
        "s marks it shared",
    )
    .await;
    // `o` opens the selected result.
    c.goto(&app.url("/?q=nong+thon+moi")).await.expect("search");
    press(char::from(Key::Escape).to_string()).await;
    press("o".into()).await;
    until(c, "location.pathname.startsWith('/items/')", "o opens").await;

    // The help beside the search box.
    c.goto(&app.url("/?q=nong+thon+moi")).await.expect("search");
    c.find(Locator::Id("help-toggle"))
        .await
        .expect("?")
        .click()
        .await
        .expect("open help");
    until(
        c,
        "!document.getElementById('search-help').hidden",
        "syntax help",
    )
    .await;
    browser.screenshot("staff-search-help.png").await;

    // The phone: filters behind "Bộ lọc", three results on the first screen.
    browser.resize(390, 844).await;
    c.goto(&app.url("/?q=nong+thon+moi")).await.expect("search");
    until(
        c,
        "document.querySelectorAll('#results li.hit').length >= 3",
        "results",
    )
    .await;
    browser.screenshot("staff-search-390.png").await;
    assert_eq!(
        js(c, "return window.innerHeight;").await,
        844,
        "a 390×844 viewport"
    );
    let shown = js(c, "return Array.from(document.querySelectorAll('#results li.hit')).filter(li => li.getBoundingClientRect().bottom <= window.innerHeight).length;").await;
    assert!(
        shown.as_u64().unwrap_or(0) >= 3,
        "results on the first phone screen: {shown}"
    );
    assert_eq!(
        js(
            c,
            "return getComputedStyle(document.getElementById('filters')).display;"
        )
        .await,
        "none"
    );
    c.find(Locator::Id("filters-toggle"))
        .await
        .expect("Bộ lọc")
        .click()
        .await
        .expect("open filters");
    until(
        c,
        "getComputedStyle(document.getElementById('filters')).display !== 'none'",
        "filters open",
    )
    .await;
    browser.screenshot("staff-filters-390.png").await;
    c.goto(&app.url("/moi")).await.expect("news");
    browser.screenshot("staff-news-390.png").await;
    c.goto(&app.url("/capture")).await.expect("capture");
    browser.screenshot("staff-capture-390.png").await;
    browser.resize(1366, 800).await;

    // An error page keeps the menu and says what to do.
    c.goto(&app.url("/khong-co-trang-nay")).await.expect("404");
    assert!(
        c.find(Locator::Css("nav a[href='/moi']")).await.is_ok(),
        "menu on the error page"
    );
    let advice = c
        .find(Locator::Id("error-advice"))
        .await
        .expect("advice")
        .text()
        .await
        .expect("text");
    assert!(advice.contains("tìm tin"), "{advice}");
    browser.screenshot("staff-error-404.png").await;

    // Installable: the manifest's share target and a running service worker.
    c.goto(&app.url("/")).await.expect("home");
    let manifest = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json()).then(done, e => done(String(e)));",
            vec![],
        )
        .await
        .expect("manifest");
    assert_eq!(manifest["share_target"]["action"], "/capture", "{manifest}");
    assert_eq!(manifest["share_target"]["params"]["text"], "text");
    let worker = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; navigator.serviceWorker.ready.then(r => done(r.active ? r.active.scriptURL : null), e => done(String(e))); setTimeout(() => done('timeout'), 8000);",
            vec![],
        )
        .await
        .expect("service worker");
    assert!(
        worker.as_str().unwrap_or("").ends_with("/sw.js"),
        "{worker}"
    );
    browser.client.clone().close().await.expect("close");
}
