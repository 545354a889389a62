//! Forum engines that cannot run here, read from hand-made pages that follow their real
//! markup (`tests/forums/MARKUP.md`: XenForo 2's `post_macros`, vBulletin 4's
//! postbit_legacy), served on 127.0.0.1 and fetched by the real binary; and the saved
//! tinhte.vn thread (XenForo 1, `../shared/data/pages/tinhte1.html`), whose first post and
//! nineteen replies must each be their own item. The pages are built by the small
//! functions below from one template per engine, so the markup is written once.

mod support;

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use gomtin::model::Item;
use support::{FixtureServer, Route, TestConfig, shared_data};

const HCM: chrono_tz::Tz = chrono_tz::Asia::Ho_Chi_Minh;

/// One post of a hand-made page.
struct P<'a> {
    id: u32,
    n: u32,
    author: &'a str,
    /// Unix seconds (XenForo's `data-time`) or the text the forum prints (vBulletin).
    when: &'a str,
    body: &'a str,
    /// Extra markup after the body inside the post (edit line, signature).
    after: &'a str,
}

impl P<'_> {
    /// An engine's post template with this post's values in place of `{id}`, `{n}`, `{a}`,
    /// `{body}` and `{after}`.
    fn fill(&self, template: &str) -> String {
        template
            .replace("{id}", &self.id.to_string())
            .replace("{n}", &self.n.to_string())
            .replace("{a}", self.author)
            .replace("{body}", self.body)
            .replace("{after}", self.after)
    }
}

// ---------------------------------------------------------------------------------------
// XenForo 2

const XF_THREAD: &str = "/threads/cau-vuot-nut-giao-ngo-thi-nham.501/";

const XF_POST: &str = r#"<article class="message message--post js-post js-inlineModContainer" data-author="{a}" data-content="post-{id}" id="js-post-{id}" itemscope="" itemtype="https://schema.org/Comment">
  <span class="u-anchorTarget" id="post-{id}"></span>
  <div class="message-inner">
    <div class="message-cell message-cell--user"><section class="message-user"><div class="message-userDetails">
      <h4 class="message-name"><a href="/members/{a}.2{n}/" class="username" dir="auto" data-user-id="2{n}" itemprop="name">{a}</a></h4>
      <h5 class="userTitle message-userTitle" dir="auto">Thành viên</h5>
    </div></section></div>
    <div class="message-cell message-cell--main"><div class="message-main js-quickEditTarget">
      <header class="message-attribution message-attribution--split">
        <ul class="message-attribution-main listInline"><li class="u-concealed"><a href="{link}" rel="nofollow"><time class="u-dt" dir="auto" datetime="{iso}" data-time="{t}" title="{iso}">{iso}</time></a></li></ul>
        <ul class="message-attribution-opposite message-attribution-opposite--list">
          <li><a href="{link}" class="message-attribution-gadget" data-xf-init="share-tooltip" rel="nofollow"><i class="fa--xf far fa-share-alt" aria-hidden="true"></i></a></li>
          <li><a href="{link}" rel="nofollow">#{n}</a></li>
        </ul>
      </header>
      <div class="message-content js-messageContent">
        <div class="message-userContent lbContainer js-lbContainer" data-lb-id="post-{id}">
          <article class="message-body js-selectToQuote"><div class="bbWrapper">{body}</div><div class="js-selectToQuoteEnd">&nbsp;</div></article>
        </div>
        {after}
      </div>
      <footer class="message-footer"><div class="reactionsBar js-reactionsList is-active"><a class="reactionsBar-link" href="/posts/{id}/reactions" rel="nofollow"><bdi>lan_anh</bdi> và 3 người khác</a></div></footer>
    </div></div>
  </div>
</article>"#;

fn xf_post(p: &P<'_>) -> String {
    let link = format!("{XF_THREAD}post-{}", p.id);
    let iso = Utc
        .timestamp_opt(p.when.parse().expect("unix"), 0)
        .single()
        .expect("time")
        .with_timezone(&HCM)
        .format("%Y-%m-%dT%H:%M:%S%z")
        .to_string();
    p.fill(
        &XF_POST
            .replace("{link}", &link)
            .replace("{iso}", &iso)
            .replace("{t}", p.when),
    )
}

fn xf_page(title: &str, page: u32, pages: u32, posts: &[P<'_>]) -> String {
    let url = |n: u32| {
        if n == 1 {
            XF_THREAD.to_string()
        } else {
            format!("{XF_THREAD}page-{n}")
        }
    };
    let bar: String = (1..=pages)
        .map(|n| {
            format!(
                r#"<li class="pageNav-page{}"><a href="{}">{n}</a></li>"#,
                if n == page {
                    " pageNav-page--current"
                } else {
                    ""
                },
                url(n)
            )
        })
        .collect();
    let next = if page < pages {
        format!(r#"<link rel="next" href="{}" />"#, url(page + 1))
    } else {
        String::new()
    };
    format!(
        r#"<!DOCTYPE html>
<html id="XF" lang="vi-VN" dir="LTR" data-app="public" data-template="thread_view" data-content-key="thread-501" data-logged-in="false">
<head><meta charset="utf-8" /><title>{title} | Diễn đàn Phố Hiến</title>{next}</head>
<body data-template="thread_view">
<div class="p-title"><h1 class="p-title-value">{title}</h1></div>
<nav class="pageNavWrapper pageNavWrapper--mixed"><div class="pageNav"><ul class="pageNav-main">{bar}</ul></div></nav>
<div class="block-body js-replyNewMessageContainer">{}</div>
</body></html>"#,
        posts.iter().map(xf_post).collect::<String>()
    )
}

/// A board: (thread path, title, last post id, its unix time).
fn xf_board(threads: &[(&str, &str, u32, i64)]) -> String {
    let rows: String = threads
        .iter()
        .map(|(path, title, last, t)| {
            format!(
                r#"<div class="structItem structItem--thread js-inlineModContainer" data-author="x">
  <div class="structItem-cell structItem-cell--main"><div class="structItem-title"><a href="{path}" data-tp-primary="on" data-xf-init="preview-tooltip">{title}</a></div></div>
  <div class="structItem-cell structItem-cell--latest"><a href="{path}post-{last}" rel="nofollow"><time class="structItem-latestDate u-dt" dir="auto" data-time="{t}">Hôm nay</time></a></div>
</div>"#
            )
        })
        .collect();
    format!(
        r#"<!DOCTYPE html>
<html id="XF" lang="vi-VN" dir="LTR" data-app="public" data-template="forum_view">
<head><meta charset="utf-8" /><title>Hỏi đáp giao thông | Diễn đàn Phố Hiến</title>
<link rel="alternate" type="application/rss+xml" title="RSS" href="/forums/hoi-dap-giao-thong.12/index.rss" /></head>
<body><div class="structItemContainer">{rows}</div></body></html>"#
    )
}

const XF_QUOTE: &str = r##"<blockquote data-attributes="member: 21" data-quote="minh_chau" data-source="post: 9001" class="bbCodeBlock bbCodeBlock--expandable bbCodeBlock--quote js-expandWatch">
  <div class="bbCodeBlock-title"><a href="/goto/post?id=9001" class="bbCodeBlock-sourceJump" rel="nofollow" data-xf-click="attribution" data-content-selector="#post-9001">minh_chau đã viết:</a></div>
  <div class="bbCodeBlock-content"><div class="bbCodeBlock-expandContent js-expandContent">Có ai biết bao giờ thông xe không ạ?</div><div class="bbCodeBlock-expandLink js-expandLink"><a role="button" tabindex="0">Bấm để xem thêm...</a></div></div>
</blockquote>"##;

const XF_EDITED: &str = r#"<div class="message-lastEdit">Sửa lần cuối: <time class="u-dt" dir="auto" datetime="2024-06-08T08:05:00+0700" data-time="1717808700">8/6/24</time></div>
<aside class="message-signature"><div class="bbWrapper">Sống ở Hà Đông từ bé.</div></aside>"#;

fn xf_first_page(fourth: &str) -> (String, String) {
    let first = [
        P {
            id: 9001,
            n: 1,
            author: "minh_chau",
            when: "1717806600",
            body: "Cầu vượt ở nút giao Ngô Thì Nhậm – Nguyễn Văn Lộc rào đã gần một năm.<br />\n<br />\nCó ai biết bao giờ thông xe không ạ?",
            after: XF_EDITED,
        },
        P {
            id: 9002,
            n: 2,
            author: "lan_anh",
            when: "1717814700",
            body: &format!(
                "{XF_QUOTE}Ban quản lý dự án hẹn cuối tháng 9 thông nhánh cầu hướng Văn Phú."
            ),
            after: "",
        },
        P {
            id: 9003,
            n: 3,
            author: "tuan_hung",
            when: "1717938600",
            body: "Sáng nay đi qua thấy đã lắp xong dầm nhịp giữa.",
            after: "",
        },
    ];
    let second = [P {
        id: 9004,
        n: 4,
        author: "minh_chau",
        when: "1717984923",
        body: fourth,
        after: r#"<aside class="message-signature"><div class="bbWrapper">Sống ở Hà Đông từ bé.</div></aside>"#,
    }];
    let title = "Cầu vượt nút giao Ngô Thì Nhậm bao giờ xong?";
    (xf_page(title, 1, 2, &first), xf_page(title, 2, 2, &second))
}

fn serve_xf(server: &FixtureServer, fourth: &str, last_time: i64) {
    let html = |s: String| Route::ok(s, "text/html; charset=utf-8");
    server.set(
        "/forums/hoi-dap-giao-thong.12/",
        html(xf_board(&[(
            XF_THREAD,
            "Cầu vượt nút giao Ngô Thì Nhậm bao giờ xong?",
            9004,
            last_time,
        )])),
    );
    let (p1, p2) = xf_first_page(fourth);
    server.set(XF_THREAD, html(p1));
    server.set(&format!("{XF_THREAD}page-2"), html(p2));
}

fn forum_source(id: &str, url: &str, extra: &str) -> String {
    format!(
        "[[sources]]\nid = \"{id}\"\nname = \"Diễn đàn {id}\"\nkind = \"forum\"\nurl = \"{url}\"\n{extra}\n"
    )
}

fn fetch_counts(cfg: &TestConfig) -> (u64, u64) {
    let v = cfg.json(&["fetch", "--json"]);
    let o = &v["sources"][0];
    assert_eq!(o["outcome"], "fetched", "{v}");
    (
        o["new"].as_u64().expect("new"),
        o["updated"].as_u64().expect("updated"),
    )
}

fn items_by_guid(cfg: &TestConfig) -> HashMap<String, Item> {
    let store = gomtin::store::Store::open(&cfg.data_dir()).expect("store");
    store
        .list_items(&gomtin::store::ItemQuery::default())
        .expect("items")
        .into_iter()
        .map(|i| (i.guid.clone().expect("guid"), i))
        .collect()
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

#[test]
fn xenforo2_board_thread_pages_and_an_edit() {
    let server = FixtureServer::start();
    serve_xf(
        &server,
        "Cảm ơn hai bác. Vậy em đi đường Tố Hữu tạm mấy tháng nữa.",
        1717984923,
    );
    let cfg = TestConfig::new(&forum_source(
        "pho-hien",
        &server.url("/forums/hoi-dap-giao-thong.12/"),
        "",
    ));
    // `sources check` shows each page read with what is on it, and stores nothing.
    let check = cfg.json(&["sources", "check", "pho-hien", "--json"]);
    let pages: Vec<(String, u64, u64)> = check["pages"]
        .as_array()
        .expect("pages")
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().expect("kind").to_string(),
                p["threads"].as_u64().expect("threads"),
                p["posts"].as_u64().expect("posts"),
            )
        })
        .collect();
    assert_eq!(
        pages,
        vec![
            ("board".into(), 1, 0),
            ("thread".into(), 0, 3),
            ("thread".into(), 0, 1)
        ],
        "{check}"
    );
    assert_eq!(check["items"].as_array().map(Vec::len), Some(4));
    assert!(items_by_guid(&cfg).is_empty(), "check stored something");

    assert_eq!(fetch_counts(&cfg), (4, 0));
    let items = items_by_guid(&cfg);
    let post = |id: u32| {
        items
            .get(&format!("post:{id}"))
            .unwrap_or_else(|| panic!("post {id}: {items:#?}"))
    };
    let first = post(9001);
    assert_eq!(first.title, "Cầu vượt nút giao Ngô Thì Nhậm bao giờ xong?");
    assert_eq!(
        first.content_text,
        "Cầu vượt ở nút giao Ngô Thì Nhậm – Nguyễn Văn Lộc rào đã gần một năm.\n\nCó ai biết bao giờ thông xe không ạ?"
    );
    assert_eq!(first.author.as_deref(), Some("minh_chau"));
    assert_eq!(first.published_at, at("2024-06-08T07:30:00+07:00"));
    assert_eq!(
        first.url.as_deref(),
        Some(server.url(&format!("{XF_THREAD}post-9001")).as_str())
    );
    let t = first.thread.as_ref().expect("thread");
    assert_eq!((t.key.as_str(), t.number, t.first), ("501", Some(1), true));
    // The reply: without the quote of #1; no signature, edit line or reactions anywhere.
    let reply = post(9002);
    assert_eq!(
        reply.title,
        "Cầu vượt nút giao Ngô Thì Nhậm bao giờ xong? — #2"
    );
    assert_eq!(
        reply.content_text,
        "Ban quản lý dự án hẹn cuối tháng 9 thông nhánh cầu hướng Văn Phú."
    );
    for i in items.values() {
        for noise in [
            "Sống ở Hà Đông",
            "Sửa lần cuối",
            "người khác",
            "đã viết:",
            "Bấm để xem",
        ] {
            assert!(
                !i.content_text.contains(noise),
                "{noise} in {:?}",
                i.content_text
            );
        }
    }
    let last = post(9004);
    assert_eq!(last.thread.as_ref().and_then(|t| t.number), Some(4));
    assert!(!last.thread.as_ref().expect("thread").first);

    // Nothing changed on the board: the second pass reads no thread page.
    let before = server.requests_to(XF_THREAD).len();
    assert_eq!(fetch_counts(&cfg), (0, 0));
    assert_eq!(
        server.requests_to(XF_THREAD).len(),
        before,
        "unchanged thread re-read"
    );

    // #4 edited (the board's last-post time moves): one update, no new item; only the
    // last page read was fetched again.
    serve_xf(
        &server,
        "Cảm ơn hai bác. Em đi đường Tố Hữu, qua Lê Văn Lương cũng được.",
        1717985000,
    );
    assert_eq!(fetch_counts(&cfg), (0, 1));
    assert_eq!(
        server.requests_to(XF_THREAD).len(),
        before,
        "page 1 re-read"
    );
    let items = items_by_guid(&cfg);
    assert_eq!(items.len(), 4);
    assert_eq!(
        items["post:9004"].content_text,
        "Cảm ơn hai bác. Em đi đường Tố Hữu, qua Lê Văn Lương cũng được."
    );

    // `thread:` finds the thread's posts, newest first.
    let hits = cfg.json(&["search", "--json", "thread:pho-hien/501 sort:date"]);
    let titles: Vec<&str> = hits["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter_map(|h| h["title"].as_str())
        .collect();
    assert_eq!(titles.len(), 4, "{hits}");
    assert!(titles[0].ends_with("#4"), "{titles:?}");
    let none = cfg.json(&["search", "--json", "thread:pho-hien/999"]);
    assert_eq!(none["hits"].as_array().map(Vec::len), Some(0));
}

// ---------------------------------------------------------------------------------------
// vBulletin 4 (Vietnamese board: d-m-Y dates, "Hôm nay"/"Hôm qua")

const VB_THREAD: &str = "/threads/3344-mat-dien-khu-dong-anh";

const VB_POST: &str = r#"<li class="postbitlegacy postbitim postcontainer old" id="post_{id}">
  <div class="posthead"><span class="postdate old"><span class="date">{t}</span></span>
    <span class="nodecontrols"><a name="post{id}" href="showthread.php?t=3344&amp;p={id}#post{id}" class="postcounter">#{n}</a><a id="postcount{id}" name="{n}"></a></span></div>
  <div class="postdetails">
    <div class="userinfo"><div class="username_container"><div class="popupmenu memberaction"><a class="username offline popupctrl" href="member.php?u=50{n}" title="{a} đang ngoại tuyến"><strong>{a}</strong></a></div></div><span class="usertitle">Thành viên</span></div>
    <div class="postbody"><div class="postrow has_after_content"><h2 class="title icon">{title}</h2>
      <div class="content"><div id="post_message_{id}"><blockquote class="postcontent restore ">{body}</blockquote></div></div></div>
      <div class="after_content">{after}</div>
    </div>
  </div>
</li>"#;

fn vb_post(p: &P<'_>, title: &str) -> String {
    p.fill(&VB_POST.replace("{title}", title).replace("{t}", p.when))
}

fn vb_page() -> String {
    let quote = r#"<div class="bbcode_container"><div class="bbcode_quote"><div class="quote_container"><div class="bbcode_quote_container"></div>
<div class="bbcode_postedby"><img src="images/misc/quote_icon.png" alt="Trích dẫn" /> Nguyên văn bởi <strong>hoang_nam</strong> <a href="showthread.php?p=77001#post77001" rel="nofollow"><img class="inlineimg" src="images/buttons/viewpost-right.png" alt="Xem bài viết" /></a></div>
<div class="message">Cả xóm Đoài mất điện từ 13 giờ.</div></div></div></div>"#;
    let posts = [
        (
            P {
                id: 77001,
                n: 1,
                author: "hoang_nam",
                when: "09-06-2024,&nbsp;<span class=\"time\">21:40</span>",
                body: "Cả xóm Đoài mất điện từ 13 giờ.<br />\n<br />\nCó ai biết lịch cắt điện không?",
                after: r#"<blockquote class="postcontent lastedited">Sửa lần cuối bởi hoang_nam; 09-06-2024 lúc <span class="time">22:05</span>. Lý do: thêm giờ</blockquote>
<blockquote class="signature restore"><div class="signaturecontainer">Đông Anh mến yêu</div></blockquote>"#,
            },
            "Mất điện khu Đông Anh chiều nay",
        ),
        (
            P {
                id: 77002,
                n: 2,
                author: "thu_ha",
                when: "Hôm qua,&nbsp;<span class=\"time\">22:10</span>",
                body: &format!("{quote}Điện lực báo bảo dưỡng trạm biến áp, 17 giờ có điện lại."),
                after: "",
            },
            "Re: Mất điện khu Đông Anh chiều nay",
        ),
        (
            P {
                id: 77003,
                n: 3,
                author: "hoang_nam",
                when: "Hôm nay,&nbsp;<span class=\"time\">08:15</span>",
                body: "Đã có điện lại từ 16 giờ 40.",
                after: "",
            },
            "Cập nhật: đã có điện",
        ),
    ];
    format!(
        r#"<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" dir="ltr" lang="vi" id="vbulletin_html">
<head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8" /><meta name="generator" content="vBulletin 4.2.5" />
<script type="text/javascript">var SECURITYTOKEN = "guest";</script>
<title>Mất điện khu Đông Anh chiều nay</title>
<link rel="alternate" type="application/rss+xml" title="Diễn đàn RSS" href="external.php?type=RSS2" /></head>
<body><div id="pagetitle"><h1>Chủ đề: <span class="threadtitle"><a href="{VB_THREAD}">Mất điện khu Đông Anh chiều nay</a></span></h1></div>
<div id="postlist" class="postlist restrain"><ol id="posts" class="posts" start="1">{}</ol></div>
</body></html>"#,
        posts.iter().map(|(p, t)| vb_post(p, t)).collect::<String>()
    )
}

#[test]
fn vbulletin4_thread_with_todays_and_yesterdays_dates() {
    let server = FixtureServer::start();
    server.set(VB_THREAD, Route::ok(vb_page(), "text/html; charset=utf-8"));
    let cfg = TestConfig::new(&forum_source(
        "dong-anh",
        &server.url(VB_THREAD),
        "engine = \"vbulletin\"\n",
    ));
    let before = Utc::now();
    assert_eq!(fetch_counts(&cfg), (3, 0));
    let items = items_by_guid(&cfg);
    let today = before.with_timezone(&HCM).date_naive();
    let local = |d: chrono::NaiveDate, h: u32, m: u32| {
        HCM.from_local_datetime(&d.and_hms_opt(h, m, 0).expect("time"))
            .single()
            .expect("local")
            .with_timezone(&Utc)
    };
    let first = &items["post:77001"];
    assert_eq!(first.published_at, at("2024-06-09T21:40:00+07:00"));
    assert_eq!(
        first.content_text,
        "Cả xóm Đoài mất điện từ 13 giờ.\n\nCó ai biết lịch cắt điện không?"
    );
    assert_eq!(first.title, "Mất điện khu Đông Anh chiều nay");
    assert_eq!(first.updated_at, Some(at("2024-06-09T22:05:00+07:00")));
    let second = &items["post:77002"];
    assert_eq!(
        second.published_at,
        local(today.pred_opt().expect("day"), 22, 10)
    );
    assert_eq!(
        second.content_text,
        "Điện lực báo bảo dưỡng trạm biến áp, 17 giờ có điện lại."
    );
    assert_eq!(
        second.title, "Mất điện khu Đông Anh chiều nay — #2",
        "Re: titles give way"
    );
    let third = &items["post:77003"];
    assert_eq!(
        third.published_at,
        local(today, 8, 15).min(Utc::now() + chrono::Duration::days(1))
    );
    assert_eq!(
        third.title, "Cập nhật: đã có điện",
        "a post's own title is kept"
    );
    assert_eq!(third.author.as_deref(), Some("hoang_nam"));
    for i in items.values() {
        for noise in ["Đông Anh mến yêu", "Sửa lần cuối", "Nguyên văn bởi"] {
            assert!(
                !i.content_text.contains(noise),
                "{noise} in {:?}",
                i.content_text
            );
        }
        assert_eq!(i.thread.as_ref().map(|t| t.key.as_str()), Some("3344"));
    }
}

// ---------------------------------------------------------------------------------------
// The saved tinhte.vn thread (XenForo 1)

#[test]
fn tinhte_thread_first_post_and_every_reply_are_items() {
    let server = FixtureServer::start();
    let page = std::fs::read(shared_data().join("pages/tinhte1.html")).expect("tinhte1.html");
    server.set("/threads/1739393/", Route::ok(page, "text/html"));
    let cfg = TestConfig::new(&forum_source(
        "tinhte",
        &server.url("/threads/1739393/"),
        // The page's other pages are on tinhte.vn itself: read this one only.
        "max_pages_per_thread = 1\n",
    ));
    assert_eq!(fetch_counts(&cfg), (20, 0));
    let items = items_by_guid(&cfg);
    let first = &items["post:29281579"];
    assert_eq!(first.title, "[Vui vẻ] Chuyện giữa 2 người trên Facebook");
    assert_eq!(first.author.as_deref(), Some("cuLong"));
    assert_eq!(first.published_at, at("2012-12-14T16:18:00+07:00"));
    assert_eq!(
        first.updated_at,
        Some(at("2012-12-14T23:23:00+07:00")),
        "Sửa lần cuối … 14/12/12 at 23:23"
    );
    assert!(
        first
            .content_text
            .starts_with("Có rất nhiều điều thú vị với Facebook"),
        "{}",
        first.content_text
    );
    assert!(
        first
            .content_text
            .ends_with("Trang Facebook chung của mình và anh cuhiep"),
        "{}",
        first.content_text
    );
    assert!(
        first.content_text.contains("\n"),
        "paragraphs kept: {}",
        first.content_text
    );
    let t = first.thread.as_ref().expect("thread");
    assert_eq!(
        (t.key.as_str(), t.number, t.first),
        ("1739393", Some(1), true)
    );
    assert_eq!(
        first.url.as_deref(),
        Some("http://www.tinhte.vn/posts/29281579/")
    );
    let replies: Vec<&Item> = items
        .values()
        .filter(|i| i.guid.as_deref() != Some("post:29281579"))
        .collect();
    assert_eq!(replies.len(), 19);
    let mut numbers: Vec<u32> = replies
        .iter()
        .filter_map(|i| i.thread.as_ref()?.number)
        .collect();
    numbers.sort();
    assert_eq!(numbers, (2..=20).collect::<Vec<_>>());
    for i in items.values() {
        assert!(
            !i.content_text.contains("thích nội dung này"),
            "{:?}",
            i.content_text
        );
        assert!(
            !i.content_text.contains("Sửa lần cuối"),
            "{:?}",
            i.content_text
        );
        assert!(
            !i.content_text.contains("said:"),
            "quote kept: {:?}",
            i.content_text
        );
        assert!(i.author.is_some(), "{i:?}");
    }
    // A reply that quotes another: only its own words.
    let quoting = items
        .values()
        .find(|i| i.content_text.starts_with("nhanh gọn lẹ"))
        .expect("the reply quoting FullOfLove");
    assert!(
        !quoting.content_text.contains("see friendship"),
        "{}",
        quoting.content_text
    );
    assert!(
        items
            .values()
            .any(|i| i.author.as_deref() == Some("FullOfLove")
                && i.content_text.contains("see friendship")),
        "the quoted post itself keeps its text"
    );
}

// ---------------------------------------------------------------------------------------
// The web: "Trong chủ đề …" on a post's page

#[test]
fn a_post_page_shows_its_thread() {
    let server = FixtureServer::start();
    serve_xf(&server, "Cảm ơn hai bác.", 1717984923);
    let cfg = TestConfig::new(&forum_source(
        "pho-hien",
        &server.url("/forums/hoi-dap-giao-thong.12/"),
        "",
    ));
    assert_eq!(fetch_counts(&cfg), (4, 0));
    cfg.cmd(&[
        "users",
        "add",
        "bientap",
        "--role",
        "staff",
        "--password-stdin",
    ])
    .write_stdin("mat-khau-bien-tap\n")
    .assert()
    .success();
    let items = items_by_guid(&cfg);
    let reply_id = items["post:9002"].id;
    let daemon = cfg.serve();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let staff =
            support::web::Session::login(&daemon.url(""), ("bientap", "mat-khau-bien-tap")).await;
        let page = staff.text(&format!("/items/{reply_id}")).await;
        assert!(page.contains("Trong chủ đề"), "{page}");
        assert!(page.contains("Bài #2"), "{page}");
        assert!(page.contains("4 bài đã lưu"), "{page}");
        assert!(
            page.contains("?q=thread%3Apho-hien%2F501+sort%3Adate\" id=\"thread-link\""),
            "{page}"
        );
        for other in ["post:9001", "post:9003", "post:9004"] {
            assert!(
                page.contains(&format!("href=\"/items/{}\"", items[other].id)),
                "{other}: {page}"
            );
        }
        assert!(page.contains("/static/forum.css"), "{page}");
        let css = staff.text("/static/forum.css").await;
        assert!(css.contains(".thread-posts"), "{css}");
        let search = staff.text("/?q=thread%3Apho-hien%2F501+sort%3Adate").await;
        assert!(search.contains("— #4"), "{search}");
    });
}
