//! Alerts end to end, with the real `gomtin serve` running: a local feed (a real HTTP
//! server), a real SMTP server (aiosmtpd, `support/smtp_sink.py`) and a real webhook
//! receiver (`support::webhook`). A new matching item in the feed is one email and one
//! webhook POST within 60 s; a burst of 20 matches is one more of each; a crash while a
//! batch waits loses nothing and a restart after the send repeats nothing; a webhook that
//! answers 500 then 200 gets the alert once.

mod support;

use std::time::{Duration, Instant};

use gomtin::store::{DeliveryStatus, Store};
use support::smtp::SmtpSink;
use support::webhook::WebhookReceiver;
use support::{FixtureServer, Route, TestConfig};

/// Bad news about Kon Tum, by email and webhook; a batch gathers 30 s of matches.
fn alert_toml(sink: &SmtpSink, hook: &WebhookReceiver, feed: &FixtureServer) -> String {
    format!(
        r#"
[scheduler]
min_interval = "1s"
jitter = 0.0
shutdown_grace = "2s"

[[sources]]
id = "bao-kon-tum"
name = "Báo Kon Tum"
kind = "feed"
url = "{feed}"
interval = "1s"

[[alerts]]
id = "tin-xau-kon-tum"
name = "Tin xấu về Kon Tum"
query = '"Kon Tum"'
tone = "negative"
to = ["Chánh văn phòng <cvp@example.vn>"]
webhook = "{hook}"
batch = "30s"

{smtp}"#,
        feed = feed.url("/rss"),
        hook = hook.url("/gomtin"),
        smtp = sink.config(),
    )
}

/// An RSS feed of `(guid, title, description)`.
fn rss(items: &[(String, String, String)]) -> Vec<u8> {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>Báo Kon Tum</title>",
    );
    for (guid, title, desc) in items {
        xml.push_str(&format!(
            "<item><title>{}</title><link>https://baokontum.example.vn/{guid}</link><guid>{guid}</guid><description>{}</description></item>",
            html_escape::encode_text(title),
            html_escape::encode_text(desc)
        ));
    }
    xml.push_str("</channel></rss>");
    xml.into_bytes()
}

fn item(guid: &str, title: &str, desc: &str) -> (String, String, String) {
    (guid.to_string(), title.to_string(), desc.to_string())
}

/// The feed before anything happens: nothing the alert wants (good news about Kon Tum,
/// bad news elsewhere).
fn calm() -> Vec<(String, String, String)> {
    vec![
        item(
            "calm-1",
            "Kon Tum khánh thành cầu treo cho bà con xã Đăk Kôi",
            "Cây cầu giúp hơn 300 hộ dân đi lại thuận tiện.",
        ),
        item(
            "calm-2",
            "Tai nạn giao thông trên quốc lộ 1 ở Quảng Ngãi, 2 người bị thương",
            "Xe tải va chạm xe máy.",
        ),
    ]
}

fn bad(n: usize) -> (String, String, String) {
    item(
        &format!("bad-{n}"),
        &format!("Tai nạn giao thông ở Kon Tum, người thứ {n} bị thương"),
        "Vụ tai nạn xảy ra trên quốc lộ 14, đoạn qua thành phố Kon Tum.",
    )
}

struct Setup {
    sink: SmtpSink,
    hook: WebhookReceiver,
    feed: FixtureServer,
    cfg: TestConfig,
}

fn setup() -> Setup {
    let sink = SmtpSink::start();
    let hook = WebhookReceiver::start();
    let feed = FixtureServer::start();
    feed.set("/rss", Route::ok(rss(&calm()), "application/rss+xml"));
    let cfg = TestConfig::new(&alert_toml(&sink, &hook, &feed));
    Setup {
        sink,
        hook,
        feed,
        cfg,
    }
}

fn publish(s: &Setup, items: &[(String, String, String)]) {
    s.feed
        .set("/rss", Route::ok(rss(items), "application/rss+xml"));
}

fn wait_for(what: &str, within: Duration, mut ok: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < within,
            "timed out after {within:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    start.elapsed()
}

fn store(s: &Setup) -> Store {
    Store::open(&s.cfg.data_dir()).expect("store")
}

/// The daemon fetched the feed at least once.
fn fetched(s: &Setup) -> bool {
    store(s)
        .source_statuses(chrono::Utc::now())
        .ok()
        .and_then(|v| v.into_iter().find(|x| x.id == "bao-kon-tum"))
        .is_some_and(|x| x.last_success_at.is_some())
}

fn summary(s: &Setup) -> gomtin::store::AlertSummary {
    store(s)
        .alert_summary("tin-xau-kon-tum", 10)
        .expect("summary")
}

#[test]
fn a_new_match_is_one_email_and_one_webhook_post_and_a_burst_of_twenty_is_one_more() {
    let s = setup();
    let mut daemon = s.cfg.serve();
    wait_for("the first fetch", Duration::from_secs(30), || fetched(&s));

    // One new bad item about Kon Tum (and a good one, which must not alert).
    let mut items = calm();
    items.push(bad(1));
    items.push(item(
        "good-1",
        "Kon Tum tuyên dương 50 học sinh giỏi",
        "Lễ tuyên dương diễn ra sáng nay.",
    ));
    publish(&s, &items);
    let took = wait_for(
        "the alert email and webhook",
        Duration::from_secs(60),
        || s.sink.messages().len() == 1 && s.hook.accepted().len() == 1,
    );
    assert!(took < Duration::from_secs(60), "{took:?}");
    let m = &s.sink.messages()[0];
    assert_eq!(m.subject, "[Cảnh báo] Tin xấu về Kon Tum: 1 tin mới");
    assert_eq!(m.rcpt_tos, vec!["cvp@example.vn"]);
    assert!(m.headers_ascii && m.defects.is_empty(), "{m:?}");
    let text = m.part("text/plain");
    assert!(
        text.contains("Tai nạn giao thông ở Kon Tum, người thứ 1 bị thương"),
        "{text}"
    );
    assert!(
        text.contains("Tiêu cực"),
        "the tone and its reasons are shown: {text}"
    );
    assert!(
        !text.contains("tuyên dương 50 học sinh"),
        "good news does not alert: {text}"
    );
    let html = m.part("text/html");
    assert!(
        html.contains("<a href=") && html.contains("baokontum.example.vn"),
        "{html}"
    );
    let h = &s.hook.accepted()[0];
    assert_eq!(h.path, "/gomtin");
    assert_eq!(h.body["alert"]["id"], "tin-xau-kon-tum");
    assert_eq!(h.body["count"], 1);
    assert_eq!(h.body["items"][0]["tone"], "negative");
    assert!(
        h.body["items"][0]["tone_reasons"]
            .as_str()
            .is_some_and(|r| r.contains("tai nạn") || r.contains("Tai nạn")),
        "{}",
        h.body
    );
    let delivery = h.body["delivery_id"]
        .as_str()
        .expect("delivery id")
        .to_string();
    assert_eq!(
        h.headers
            .get("x-gomtin-delivery")
            .and_then(|v| v.to_str().ok()),
        Some(delivery.as_str())
    );

    // A burst: 20 more bad items, in two fetches a few seconds apart.
    for n in 2..12 {
        items.push(bad(n));
    }
    publish(&s, &items);
    std::thread::sleep(Duration::from_secs(3));
    for n in 12..22 {
        items.push(bad(n));
    }
    publish(&s, &items);
    wait_for("the burst's email", Duration::from_secs(60), || {
        s.sink.messages().len() >= 2 && s.hook.accepted().len() >= 2
    });
    // Nothing else comes for the burst.
    std::thread::sleep(Duration::from_secs(3));
    let msgs = s.sink.messages();
    assert_eq!(msgs.len(), 2, "a burst is one email");
    assert_eq!(msgs[1].subject, "[Cảnh báo] Tin xấu về Kon Tum: 20 tin mới");
    let hooks = s.hook.accepted();
    assert_eq!(hooks.len(), 2, "a burst is one webhook POST");
    assert_eq!(hooks[1].body["count"], 20);
    assert_ne!(hooks[1].body["delivery_id"], hooks[0].body["delivery_id"]);
    let sum = summary(&s);
    assert_eq!(sum.matches, 21);
    assert_eq!(sum.batches.len(), 2);
    for (_, deliveries) in &sum.batches {
        assert!(
            deliveries
                .iter()
                .all(|d| d.status == DeliveryStatus::Sent && d.attempts == 1),
            "{deliveries:?}"
        );
    }
    daemon.terminate(Duration::from_secs(20)).expect("stop");
}

#[test]
fn a_restart_neither_loses_nor_repeats_an_alert() {
    let s = setup();
    let mut daemon = s.cfg.serve();
    wait_for("the first fetch", Duration::from_secs(30), || fetched(&s));
    let mut items = calm();
    items.push(bad(1));
    publish(&s, &items);
    // The match is in the ledger, its batch not sent yet: the daemon dies.
    wait_for("the match to be recorded", Duration::from_secs(30), || {
        summary(&s).pending.pending == 1
    });
    daemon.kill().expect("crash");
    assert!(
        s.sink.messages().is_empty(),
        "killed before the batch went out"
    );
    assert!(s.hook.accepted().is_empty());

    // Back up: the waiting match goes out, once.
    let mut daemon = s.cfg.serve();
    wait_for(
        "the alert after the restart",
        Duration::from_secs(60),
        || s.sink.messages().len() == 1 && s.hook.accepted().len() == 1,
    );
    daemon.terminate(Duration::from_secs(20)).expect("stop");

    // Another restart, the same feed fetched again: nothing is sent twice.
    let mut daemon = s.cfg.serve();
    wait_for("a fetch by the new daemon", Duration::from_secs(30), || {
        s.feed.requests_to("/rss").len() >= 4
    });
    std::thread::sleep(Duration::from_secs(12));
    assert_eq!(s.sink.messages().len(), 1, "no repeat after a restart");
    assert_eq!(s.hook.accepted().len(), 1, "no repeat after a restart");
    let sum = summary(&s);
    assert_eq!((sum.matches, sum.batches.len()), (1, 1));
    daemon.terminate(Duration::from_secs(20)).expect("stop");
}

#[test]
fn a_webhook_answering_500_then_200_gets_the_alert_once() {
    let s = setup();
    s.hook.answer(&[500]);
    s.cfg
        .cmd(&[
            "users",
            "add",
            "quantri",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .write_stdin("mat-khau-quan-tri\n")
        .assert()
        .success();
    let mut daemon = s.cfg.serve();
    wait_for("the first fetch", Duration::from_secs(30), || fetched(&s));
    let mut items = calm();
    items.push(bad(1));
    publish(&s, &items);
    wait_for("the webhook to accept", Duration::from_secs(60), || {
        s.hook.accepted().len() == 1
    });
    std::thread::sleep(Duration::from_secs(5));
    let hooks = s.hook.hooks();
    let statuses: Vec<u16> = hooks.iter().map(|h| h.status).collect();
    assert_eq!(
        statuses,
        vec![500, 200],
        "retried once after the 500, then done"
    );
    assert_eq!(
        hooks[0].body["delivery_id"], hooks[1].body["delivery_id"],
        "a retry is the same delivery"
    );
    assert_eq!(s.sink.messages().len(), 1, "the email went once");
    let sum = summary(&s);
    let webhook = sum.batches[0]
        .1
        .iter()
        .find(|d| d.channel == "webhook")
        .expect("webhook delivery");
    assert_eq!(webhook.status, DeliveryStatus::Sent);
    assert_eq!(webhook.attempts, 2);

    // The admins' page lists the alert with its last deliveries; staff may not see it.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let page = rt.block_on(async {
        let admin =
            support::web::Session::login(&daemon.url(""), ("quantri", "mat-khau-quan-tri")).await;
        let r = admin.get("/alerts").send().await.expect("alerts page");
        assert_eq!(r.status(), 200);
        let anon = support::web::Session::anonymous(&daemon.url(""));
        let r2 = anon.get("/alerts").send().await.expect("anonymous");
        assert_ne!(r2.status(), 200, "not for strangers");
        r.text().await.expect("body")
    });
    assert!(page.contains("Tin xấu về Kon Tum"), "{page}");
    assert!(page.contains("đã gửi (2 lần thử)"), "{page}");
    assert!(page.contains("HTTP 200"), "{page}");
    assert!(page.contains("cvp@example.vn"), "{page}");
    daemon.terminate(Duration::from_secs(20)).expect("stop");

    // `gomtin alert list` tells the story.
    let out = s.cfg.stdout(&["alert", "list"]);
    assert!(
        out.contains("tin-xau-kon-tum — Tin xấu về Kon Tum"),
        "{out}"
    );
    assert!(out.contains("1 tin đã khớp"), "{out}");
    assert!(out.contains("webhook http://"), "{out}");
    assert!(out.contains(": đã gửi"), "{out}");
    let json = s.cfg.json(&["alert", "list", "--json"]);
    assert_eq!(json[0]["matches"], 1);
    assert_eq!(json[0]["batches"][0]["deliveries"][1]["attempts"], 2);
}

#[test]
fn alert_test_sends_a_marked_message_to_every_channel_outside_the_ledger() {
    let s = setup();
    // Store a matching item with a fetch (no daemon): the test shows it.
    let mut items = calm();
    items.push(bad(7));
    publish(&s, &items);
    s.cfg.cmd(&["fetch"]).assert().success();
    let out = s.cfg.stdout(&["alert", "test", "tin-xau-kon-tum"]);
    assert!(
        out.contains("✓ thư") && out.contains("cvp@example.vn"),
        "{out}"
    );
    assert!(out.contains("✓ webhook"), "{out}");
    let m = &s.sink.messages()[0];
    assert!(
        m.subject.starts_with("[Thử] [Cảnh báo] Tin xấu về Kon Tum"),
        "{}",
        m.subject
    );
    assert!(m.part("text/plain").contains("người thứ 7 bị thương"));
    assert_eq!(s.hook.accepted()[0].body["test"], true);
    // A test is not an alert: the ledger holds no batch, and an unknown id is an error.
    assert!(summary(&s).batches.is_empty());
    s.cfg
        .cmd(&["alert", "test", "khong-co"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "không có cảnh báo nào mã `khong-co`",
        ));
}
