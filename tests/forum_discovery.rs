//! `gomtin sources add URL` on a forum and on a closed platform (issue 16): a page made by
//! forum software is told by its engine, the engine's own feed is proposed (here phpBB's
//! `feed.php`, which the page does not advertise) beside a `kind = "forum"` block; a
//! facebook.com address is recognised without being fetched, and the answer says that
//! gomtin does not log in to Facebook and offers the capture form and the bridge addresses.
//! Pages are served on 127.0.0.1 and read by the real binary.

mod support;

use support::{FixtureServer, Route, TestConfig};

const PHPBB_BOARD: &str = r#"<!DOCTYPE html>
<html dir="ltr" lang="vi"><head><meta charset="utf-8"><title>Diễn đàn Kon Tum - Hỏi đáp</title></head>
<body id="phpbb" class="nojs notouch section-viewforum ltr">
<div id="wrap"><div class="forumbg"><ul class="topiclist topics">
<li class="row bg1"><dl class="row-item topic_read"><dt><div class="list-inner">
<a href="./viewtopic.php?t=12" class="topictitle">Đường vào xã Đăk Ruồng sạt lở</a></div></dt></dl></li>
</ul></div>
<div class="copyright">Powered by <a href="https://www.phpbb.com/">phpBB</a>® Forum Software © phpBB Limited</div>
</div></body></html>"#;

const PHPBB_FEED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="vi">
<title>Diễn đàn Kon Tum</title><id>urn:kontum</id><updated>2026-11-30T08:00:00+07:00</updated>
<entry><title>Hỏi đáp • Đường vào xã Đăk Ruồng sạt lở</title><id>urn:t12p1</id>
<updated>2026-11-30T08:00:00+07:00</updated><link href="viewtopic.php?p=1#p1"/>
<content type="html">Sáng nay đường vào xã bị sạt lở.</content></entry>
</feed>"#;

#[test]
fn a_forum_gets_its_engine_feed_and_a_forum_block() {
    let server = FixtureServer::start();
    server.set(
        "/forum/viewforum.php",
        Route::ok(PHPBB_BOARD, "text/html; charset=utf-8"),
    );
    server.set(
        "/forum/feed.php",
        Route::ok(PHPBB_FEED, "application/atom+xml"),
    );
    let cfg = TestConfig::new("");
    let board = server.url("/forum/viewforum.php");
    let text = cfg.stdout(&["sources", "add", &board]);
    assert!(
        text.contains(&format!(
            "1. Diễn đàn Kon Tum — {}",
            server.url("/forum/feed.php")
        )),
        "{text}"
    );
    assert!(text.contains("là một diễn đàn (phpbb)"), "{text}");
    assert!(text.contains(r#"kind = "forum""#), "{text}");
    assert!(text.contains(r#"engine = "phpbb""#), "{text}");
    assert!(text.contains(&format!(r#"url = "{board}""#)), "{text}");
    // The engine's feed can be picked like any other.
    cfg.cmd(&["sources", "add", &board, "--pick", "1"])
        .assert()
        .success();
    let toml = std::fs::read_to_string(&cfg.path).expect("config");
    assert!(toml.contains(&server.url("/forum/feed.php")), "{toml}");
}

#[test]
fn a_facebook_address_is_answered_honestly_without_a_fetch() {
    let cfg = TestConfig::new("");
    for (address, bridge) in [
        (
            "https://www.facebook.com/ubnd.xa.dakruong",
            "https://RSSHUB/facebook/page/ubnd.xa.dakruong",
        ),
        (
            "https://www.facebook.com/groups/123456/",
            "bridge=FacebookBridge&context=Group&g=123456",
        ),
    ] {
        // No network here: a fetch of facebook.com would fail the command with an error.
        let out = cfg.cmd(&["sources", "add", address]).output().expect("run");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "nothing added: {text}");
        assert!(text.contains("gomtin không đăng nhập Facebook"), "{text}");
        assert!(text.contains("Thêm bài"), "the capture form: {text}");
        assert!(text.contains("gomtin post add --source"), "{text}");
        assert!(text.contains(bridge), "{text}");
        assert!(text.contains("cầu nối RSS có thể đã hỏng"), "{text}");
    }
    let toml = std::fs::read_to_string(&cfg.path).expect("config");
    assert!(!toml.contains("[[sources]]"), "{toml}");
}
