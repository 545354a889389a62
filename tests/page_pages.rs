//! A `kind = "page"` source's pagination, author and dates (issue 16), with the real
//! binary: the `next` selector is followed up to `max_pages` list pages (the page after
//! that is never asked for), the `author` selector fills the author, and the dates the
//! list prints — relative ("2 giờ trước", "Hôm qua lúc 10:30") and written ("Thứ sáu,
//! 28/12/2012, 14:46 GMT+7") — are read in the configured timezone relative to the fetch.

mod support;

use chrono::{Duration, TimeZone, Utc};
use support::{FixtureServer, Route, TestConfig};

const HCM: chrono_tz::Tz = chrono_tz::Asia::Ho_Chi_Minh;

fn list_page(items: &[(u32, &str, &str, &str)], next: Option<&str>) -> String {
    let mut li = String::new();
    for (n, title, author, date) in items {
        li.push_str(&format!(
            r#"<div class="tin"><h3><a href="/bai/{n}.html">{title}</a></h3>
               <span class="tac-gia">{author}</span> · <span class="ngay">{date}</span></div>"#
        ));
    }
    let next = next
        .map(|n| format!(r#"<p class="phan-trang"><a href="/tin">1</a> <a class="sau" href="{n}">Trang sau »</a></p>"#))
        .unwrap_or_default();
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Tin xã</title></head>
        <body><div class="ds">{li}</div>{next}</body></html>"#
    )
}

/// Two list pages at most, each item's author and date read from the list.
const SOURCE: &str = r#"[[sources]]
id = "xa"
name = "Tin xã"
kind = "page"
url = "{url}"
article = ".noi-dung"
max_pages = 2
[sources.selectors]
item = ".tin"
link = "h3 a"
date = ".ngay"
author = ".tac-gia"
next = "a.sau@href"
"#;

#[test]
fn next_pages_authors_and_every_date_form() {
    let server = FixtureServer::start();
    server.set(
        "/tin",
        Route::ok(
            list_page(
                &[
                    (1, "Họp dân thôn 3", "Lan Anh", "2 giờ trước"),
                    (2, "Tiêm chủng tháng 12", "Minh", "Hôm qua lúc 10:30"),
                ],
                Some("/tin/trang-2"),
            ),
            "text/html; charset=utf-8",
        ),
    );
    server.set(
        "/tin/trang-2",
        Route::ok(
            list_page(
                &[
                    (
                        3,
                        "Ra quân làm thủy lợi",
                        "Hùng",
                        "Thứ sáu, 28/12/2012, 14:46 GMT+7",
                    ),
                    (4, "Trao nhà tình nghĩa", "Lan Anh", "28 tháng 12, 2012"),
                ],
                Some("/tin/trang-3"),
            ),
            "text/html; charset=utf-8",
        ),
    );
    server.set(
        "/tin/trang-3",
        Route::ok(
            list_page(&[(5, "Tin quá trang cuối", "Ai đó", "vừa xong")], None),
            "text/html; charset=utf-8",
        ),
    );
    for n in 1..=5 {
        server.set(
            &format!("/bai/{n}.html"),
            Route::ok(
                format!(
                    r#"<!doctype html><html><head><meta charset="utf-8"><title>Bài {n}</title></head>
                    <body><div class="noi-dung"><p>Nội dung bài số {n} của xã, đủ dài để đọc.</p></div></body></html>"#
                ),
                "text/html; charset=utf-8",
            ),
        );
    }
    let cfg = TestConfig::new(&SOURCE.replace("{url}", &server.url("/tin")));
    let before = Utc::now();
    cfg.cmd(&["fetch"]).assert().success();
    let after = Utc::now();
    assert!(
        server.requests_to("/tin/trang-3").is_empty(),
        "max_pages = 2: the third list page is not read"
    );
    let store = gomtin::store::Store::open(&cfg.data_dir()).expect("store");
    let items = store.list_items(&Default::default()).expect("items");
    // By link: the article page's own title wins over the list's (`extract::follow`).
    let by_link = |n: u32| {
        let url = server.url(&format!("/bai/{n}.html"));
        items
            .iter()
            .find(|i| i.url.as_deref() == Some(url.as_str()))
            .unwrap_or_else(|| {
                panic!(
                    "{url} not stored: {:?}",
                    items.iter().map(|i| &i.url).collect::<Vec<_>>()
                )
            })
    };
    assert_eq!(items.len(), 4, "two list pages, two items each");

    let one = by_link(1);
    assert_eq!(one.author.as_deref(), Some("Lan Anh"));
    assert!(
        one.published_at >= before - Duration::hours(2) - Duration::seconds(5)
            && one.published_at <= after - Duration::hours(2) + Duration::seconds(5),
        "2 giờ trước: {}",
        one.published_at
    );

    let two = by_link(2);
    assert_eq!(two.author.as_deref(), Some("Minh"));
    let yesterday = before.with_timezone(&HCM).date_naive() - Duration::days(1);
    let want = HCM
        .from_local_datetime(&yesterday.and_hms_opt(10, 30, 0).expect("time"))
        .single()
        .expect("local")
        .with_timezone(&Utc);
    assert_eq!(
        two.published_at, want,
        "Hôm qua lúc 10:30 in Asia/Ho_Chi_Minh"
    );

    let three = by_link(3);
    assert_eq!(three.author.as_deref(), Some("Hùng"));
    assert_eq!(
        three.published_at,
        Utc.with_ymd_and_hms(2012, 12, 28, 7, 46, 0)
            .single()
            .expect("utc")
    );
    let four = by_link(4);
    assert_eq!(
        four.published_at.with_timezone(&HCM).date_naive(),
        chrono::NaiveDate::from_ymd_opt(2012, 12, 28).expect("day")
    );
    assert!(
        one.content_text.contains("Nội dung bài số 1"),
        "{}",
        one.content_text
    );
}
