//! Sharing per story and the team's work (issue 15), over HTTP against the real `gomtin
//! serve`: marking one copy shared marks its whole story (every copy says so, and the
//! "chưa chia sẻ" filter and `status:unshared` leave the story out); a repeated click
//! records nothing; only the sharer or an admin can undo; the ledger exports as CSV;
//! proposals with their `status:proposed|approved` filters, approve and dismiss; saved
//! items; "Tin mới" grouped by story.

mod support;
mod webapp;

use reqwest::StatusCode;
use support::web::Session;
use webapp::{ADMIN, STAFF, WebApp};

/// A second staff member, created with the real `gomtin users add` while serve runs.
const LAN: (&str, &str) = ("lan", "mat-khau-cua-lan");

fn add_lan(app: &WebApp) {
    app.add_user(LAN.0, "staff", LAN.1);
}

async fn search(api: &Session, params: &[(&str, &str)]) -> serde_json::Value {
    let r = api
        .get("/api/search")
        .query(params)
        .send()
        .await
        .expect("search");
    assert_eq!(r.status(), StatusCode::OK, "{params:?}");
    r.json().await.expect("json")
}

fn ids(v: &serde_json::Value) -> Vec<i64> {
    v["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter_map(|h| h["id"].as_i64())
        .collect()
}

/// The two copies of the story both fixture feeds carry (same canonical URL).
async fn story_copies(api: &Session) -> (i64, i64) {
    let v = search(api, &[("q", "\"kiểu mẫu\""), ("limit", "50")]).await;
    let copies: Vec<(i64, String)> = v["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter(|h| h["title"] == "Kon Tum đẩy mạnh xây dựng nông thôn mới kiểu mẫu")
        .map(|h| {
            (
                h["id"].as_i64().expect("id"),
                h["source"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let a = copies
        .iter()
        .find(|c| c.1 == "bao-thu")
        .expect("copy of bao-thu")
        .0;
    let b = copies
        .iter()
        .find(|c| c.1 == "cong-huyen")
        .expect("copy of cong-huyen")
        .0;
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_marks_the_story_and_only_the_sharer_or_an_admin_undoes_it() {
    let app = WebApp::start();
    add_lan(&app);
    let canbo = app.api(STAFF.0);
    let (a, b) = story_copies(&canbo).await;
    let all_before = ids(&search(&canbo, &[("q", "nong thon moi"), ("limit", "50")]).await);
    assert!(all_before.contains(&a) && all_before.contains(&b));

    // Share copy A; a repeated click within a minute records nothing new.
    let share = serde_json::json!({"channel": "Zalo", "link": "https://zalo.me/p/77"});
    let r = canbo
        .post(&format!("/api/items/{a}/shares"))
        .json(&share)
        .send()
        .await
        .expect("share");
    assert_eq!(r.status(), StatusCode::CREATED);
    let first: serde_json::Value = r.json().await.expect("json");
    let r = canbo
        .post(&format!("/api/items/{a}/shares"))
        .json(&share)
        .send()
        .await
        .expect("again");
    assert_eq!(r.status(), StatusCode::OK, "a repeat is not a new share");
    let again: serde_json::Value = r.json().await.expect("json");
    assert_eq!(again["id"], first["id"]);
    let s = canbo.json(&format!("/api/items/{a}")).await;
    assert_eq!(s["shares"].as_array().map(Vec::len), Some(1), "{s}");
    // The page form repeats the same way.
    let canbo_page = app.login(STAFF).await;
    let r = canbo_page
        .post_form(
            &format!("/items/{a}/shares"),
            &[("channel", "Zalo"), ("link", "https://zalo.me/p/77")],
        )
        .send()
        .await
        .expect("form again");
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap_or("")
            .contains("da=repeat")
    );
    assert_eq!(
        canbo.json(&format!("/api/items/{a}")).await["shares"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // Copy B, seen by someone else: its story is shared, its own ledger is empty.
    let lan = app.login(LAN).await;
    let item_b = canbo.json(&format!("/api/items/{b}")).await;
    assert_eq!(item_b["shares"], serde_json::json!([]));
    assert_eq!(item_b["story_shared"]["share"]["user"], STAFF.0);
    assert_eq!(item_b["story_shared"]["share"]["item_id"].as_i64(), Some(a));
    let page_b = lan.text(&format!("/items/{b}")).await;
    assert!(
        page_b.contains("Đã chia sẻ</span> — bản của Báo Kon Tum (thử), bởi canbo, vừa xong"),
        "{page_b}"
    );
    assert!(!page_b.contains("Chưa ai chia sẻ tin này"), "{page_b}");
    let results = lan.text("/?q=kieu+mau").await;
    for id in [a, b] {
        let hit = results
            .split("<li class=\"hit")
            .find(|h| h.contains(&format!("data-id=\"{id}\"")))
            .unwrap_or_else(|| panic!("no hit {id}"));
        assert!(
            hit.contains("shared-badge\">Đã chia sẻ</span>"),
            "{id}: {hit}"
        );
        assert!(
            hit.contains("bản của Báo Kon Tum (thử), bởi canbo"),
            "{id}: {hit}"
        );
    }
    // "Chưa chia sẻ" leaves the whole story out; status: filters agree.
    for params in [
        vec![("q", "nong thon moi"), ("unshared", "1"), ("limit", "50")],
        vec![("q", "nong thon moi status:unshared"), ("limit", "50")],
        vec![
            ("q", "nong thon moi"),
            ("status", "unshared"),
            ("limit", "50"),
        ],
    ] {
        let left = ids(&search(&canbo, &params).await);
        assert!(
            !left.contains(&a) && !left.contains(&b),
            "{params:?}: {left:?}"
        );
        assert_eq!(left.len() + 2, all_before.len(), "{params:?}: {left:?}");
    }
    let shared = ids(&search(&canbo, &[("q", "status:shared"), ("limit", "50")]).await);
    let mut shared_sorted = shared.clone();
    shared_sorted.sort_unstable();
    let mut story = vec![a, b];
    story.sort_unstable();
    assert_eq!(shared_sorted, story);

    // Undo: not by another staff member (API or form), and their page offers none.
    let share_id = first["id"].as_i64().expect("share id");
    let lan_api = Session::bearer(&app.url(""), &app.token(LAN.0));
    let r = lan_api
        .delete(&format!("/api/items/{a}/shares/{share_id}"))
        .send()
        .await
        .expect("lan undo");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = lan
        .post_form(&format!("/items/{a}/shares/{share_id}/undo"), &[])
        .send()
        .await
        .expect("lan form undo");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body = r.text().await.expect("error page");
    assert!(
        body.contains("Chỉ canbo (người đã chia sẻ) hoặc quản trị viên"),
        "{body}"
    );
    assert!(
        body.contains("<a href=\"/moi\">Tin mới</a>"),
        "the error page keeps the menu: {body}"
    );
    assert!(!lan.text(&format!("/items/{a}")).await.contains("Hoàn tác"));
    // The sharer's page asks before undoing.
    let own = canbo_page.text(&format!("/items/{a}")).await;
    assert!(
        own.contains("<summary class=\"link undo\">Hoàn tác</summary>"),
        "{own}"
    );
    assert!(own.contains("Bỏ đánh dấu lượt chia sẻ này?"));
    // An admin may undo anyone's share.
    let admin = app.api(ADMIN.0);
    let r = admin
        .delete(&format!("/api/items/{a}/shares/{share_id}"))
        .send()
        .await
        .expect("admin undo");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let left = ids(&search(
        &canbo,
        &[("q", "nong thon moi"), ("unshared", "1"), ("limit", "50")],
    )
    .await);
    assert!(
        left.contains(&a) && left.contains(&b),
        "the story is unshared again"
    );
    // The sharer undoes their own from the page.
    let r = canbo_page
        .post_form(
            &format!("/items/{b}/shares"),
            &[("channel", "Facebook"), ("link", "")],
        )
        .send()
        .await
        .expect("share b");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mine = canbo.json(&format!("/api/items/{b}")).await["shares"][0]["id"]
        .as_i64()
        .expect("share of b");
    let r = canbo_page
        .post_form(&format!("/items/{b}/shares/{mine}/undo"), &[])
        .send()
        .await
        .expect("own undo");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // The ledger keeps every share, undone ones with their time.
    let r = canbo_page.get("/shares.csv").send().await.expect("csv");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/csv")
    );
    let csv = r.text().await.expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].contains("nguoi_chia_se,kenh,lien_ket_bai_chia_se,thoi_gian,hoan_tac_luc"),
        "{csv}"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(csv.contains("\"https://zalo.me/p/77\""), "{csv}");
    assert!(
        lines[1..].iter().all(|l| !l.ends_with(",\"\"")),
        "both undone: {csv}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposals_saved_items_and_news_by_story() {
    let app = WebApp::start();
    add_lan(&app);
    let canbo = app.api(STAFF.0);
    let lan = Session::bearer(&app.url(""), &app.token(LAN.0));
    let admin = app.api(ADMIN.0);
    let (a, b) = story_copies(&canbo).await;
    let other = ids(&search(&canbo, &[("q", "ca phe dak ha")]).await)[0];

    // Propose; a second proposal of the same item is the first one.
    let r = canbo
        .post(&format!("/api/items/{a}/proposals"))
        .json(&serde_json::json!({"note": "Tin tốt cho trang xã"}))
        .send()
        .await
        .expect("propose");
    assert_eq!(r.status(), StatusCode::CREATED);
    let p: serde_json::Value = r.json().await.expect("json");
    let r = lan
        .post(&format!("/api/items/{a}/proposals"))
        .json(&serde_json::json!({"note": "cũng thấy hay"}))
        .send()
        .await
        .expect("again");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<serde_json::Value>().await.expect("json")["id"],
        p["id"]
    );
    let r = lan
        .post(&format!("/api/items/{other}/proposals"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("other");
    assert_eq!(r.status(), StatusCode::CREATED);
    let p2: serde_json::Value = r.json().await.expect("json");
    // Listed newest first, with who proposed.
    let list = canbo.json("/api/proposals").await;
    assert_eq!(list[0]["id"], p2["id"], "{list}");
    assert_eq!(list[1]["user"], STAFF.0);
    assert_eq!(list[1]["note"], "Tin tốt cho trang xã");
    assert_eq!(list[1]["state"], "open");
    let page = app.login(STAFF).await.text("/proposals").await;
    let first = page
        .find(&format!("data-id=\"{}\"", p2["id"]))
        .expect("p2 listed");
    let second = page
        .find(&format!("data-id=\"{}\"", p["id"]))
        .expect("p listed");
    assert!(first < second, "newest first");
    assert!(page.contains("class=\"proposer\">canbo</strong>"), "{page}");
    assert!(
        !page.contains("class=\"small approve\""),
        "staff cannot approve"
    );
    let mut proposed = ids(&search(&canbo, &[("q", "status:proposed")]).await);
    proposed.sort_unstable();
    let mut want = vec![a, other];
    want.sort_unstable();
    assert_eq!(proposed, want);
    assert_eq!(
        search(&canbo, &[("q", "status:approved")]).await["total"],
        0
    );

    // Only an admin approves; then the filters and badges follow.
    let r = canbo
        .post(&format!("/api/proposals/{}/approve", p["id"]))
        .send()
        .await
        .expect("staff approve");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = admin
        .post(&format!("/api/proposals/{}/approve", p["id"]))
        .send()
        .await
        .expect("approve");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<serde_json::Value>().await.expect("json")["state"],
        "approved"
    );
    assert_eq!(
        ids(&search(&canbo, &[("q", "status:approved")]).await),
        vec![a]
    );
    assert_eq!(
        ids(&search(&canbo, &[("q", ""), ("status", "approved")]).await),
        vec![a]
    );
    assert_eq!(
        ids(&search(&canbo, &[("q", "status:proposed")]).await),
        vec![other]
    );
    let results = canbo.text("/?q=kieu+mau").await;
    let hit = results
        .split("<li class=\"hit")
        .find(|h| h.contains(&format!("data-id=\"{a}\"")))
        .expect("hit a");
    assert!(hit.contains("approved-badge\">Đã duyệt</span>"), "{hit}");
    // Approved and not yet shared: until someone shares a copy of its story.
    assert_eq!(
        ids(&search(&canbo, &[("q", "status:approved status:unshared")]).await),
        vec![a]
    );
    let r = lan
        .post(&format!("/api/items/{b}/shares"))
        .json(&serde_json::json!({"channel": "Facebook"}))
        .send()
        .await
        .expect("share b");
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        search(&canbo, &[("q", "status:approved status:unshared")]).await["total"],
        0
    );
    // Dismissed proposals leave the list for their own tab.
    let r = admin
        .post(&format!("/api/proposals/{}/dismiss", p2["id"]))
        .send()
        .await
        .expect("dismiss");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        search(&canbo, &[("q", "status:proposed")]).await["total"],
        0
    );
    let dismissed = canbo.json("/api/proposals?dismissed=1").await;
    assert_eq!(dismissed[0]["id"], p2["id"]);
    assert_eq!(dismissed[0]["decided_by"], ADMIN.0);

    // Saved items are per person.
    let s = app.login(STAFF).await;
    let r = s
        .post_form(&format!("/items/{other}/save"), &[("save", "1")])
        .send()
        .await
        .expect("save");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let saved = s.text("/saved").await;
    assert!(
        saved.contains(&format!("href=\"/items/{other}\"")),
        "{saved}"
    );
    assert!(
        !app.login(LAN)
            .await
            .text("/saved")
            .await
            .contains(&format!("data-id=\"{other}\""))
    );
    assert!(
        s.text(&format!("/items/{other}"))
            .await
            .contains("Đã lưu ✓")
    );
    s.post_form(
        &format!("/items/{other}/save"),
        &[("save", "0"), ("back", "/saved")],
    )
    .send()
    .await
    .expect("unsave");
    assert!(
        !s.text("/saved")
            .await
            .contains(&format!("data-id=\"{other}\""))
    );

    // "Tin mới": everything arrived within the day, one entry per story, newest first.
    let news = s.text("/moi").await;
    assert!(news.contains("id=\"news-since\""), "{news}");
    let entries = news.matches("<li class=\"hit").count();
    let items = app.daemon.health().expect("health")["items"]
        .as_i64()
        .expect("items");
    assert_eq!(entries as i64, items - 1, "one story counted once: {news}");
    let story_entries = [a, b]
        .iter()
        .filter(|id| news.contains(&format!("data-id=\"{id}\"")))
        .count();
    assert_eq!(story_entries, 1, "the two copies are one entry");
    assert!(news.contains("+1 bản"), "{news}");
    // The search page points to it.
    assert!(s.text("/").await.contains("tin mới từ lần xem trước"));
}
