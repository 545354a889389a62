//! "Send now" sends what is new (issue 17): `digest send` right after a fetch includes the
//! items just fetched (a period of its own, up to now); a second send sends nothing new;
//! the next scheduled period starts where the send ended, so nothing is repeated or
//! skipped, and the scheduled time the send already covered is not sent at all. Against
//! a real SMTP server (aiosmtpd) and a real feed server, the library and the CLI.

mod support;

use chrono::{DateTime, Utc};
use gomtin::store::DeliveryStatus;
use support::digest::DigestHarness;
use support::smtp::SmtpSink;
use support::{FixtureServer, Route, TestConfig};

const DIGEST: &str = r#"
[[digests]]
id = "sang"
name = "Tin tốt buổi sáng"
schedule = "0 7 * * *"
to = ["a@example.vn", "Chị Bình <b@example.vn>"]
query = '"nông thôn mới" OR "hiến máu"'
"#;

/// A digest of good news only (its own config, so it never fires in the other tests).
const GOOD_ONLY: &str = r#"
[[digests]]
id = "chi-tin-tot"
name = "Chỉ tin tốt"
schedule = "0 17 * * *"
to = ["a@example.vn"]
query = '"nông thôn mới" OR "hiến máu" OR "tai nạn"'
tone = "positive"
"#;

fn feed_toml(feed: &FixtureServer, digests: &str) -> String {
    format!(
        "[[sources]]\nid = \"bao\"\nname = \"Báo Kon Tum\"\nkind = \"feed\"\nurl = \"{}\"\ninterval = \"15m\"\n\n{digests}",
        feed.url("/rss")
    )
}

fn rss(titles: &[&str]) -> Vec<u8> {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>Báo</title>",
    );
    for (i, t) in titles.iter().enumerate() {
        xml.push_str(&format!(
            "<item><title>{t}</title><link>https://bao.example.vn/{i}</link><guid>g-{t}</guid><description>Tin của báo.</description></item>"
        ));
    }
    xml.push_str("</channel></rss>");
    xml.into_bytes()
}

const FIRST: &str = "Xã Đăk Ruồng về đích nông thôn mới";
const SECOND: &str = "Thanh niên Kon Rẫy hiến máu tình nguyện";
const LATER: &str = "Huyện Kon Plông có thêm hai xã nông thôn mới";

fn titles_in(sink: &SmtpSink, from: usize) -> Vec<String> {
    sink.messages()[from..]
        .iter()
        .map(|m| m.part("text/plain").to_string())
        .collect()
}

/// The digest, first seen two days ago, so that its first period is long over.
fn harness(sink: SmtpSink, feed: &FixtureServer) -> DigestHarness {
    let h = DigestHarness::new(sink, &feed_toml(feed, DIGEST));
    h.app
        .store
        .digest_seen("sang", Utc::now() - chrono::Duration::days(2))
        .expect("register");
    h
}

fn fetch(h: &DigestHarness) {
    h.block_on(gomtin::pipeline::fetch_pass(&h.app, &[], |_| {}))
        .expect("fetch pass");
}

#[test]
fn send_now_right_after_a_fetch_sends_the_new_items_once_and_the_next_period_starts_after_it() {
    let feed = FixtureServer::start();
    feed.set(
        "/rss",
        Route::ok(rss(&[FIRST, SECOND]), "application/rss+xml"),
    );
    let h = harness(SmtpSink::start(), &feed);
    let d = h.app.config().digest("sang").expect("digest").clone();

    // Fetched just now, sent just now: both items are in.
    fetch(&h);
    let report = h
        .block_on(h.runner.send_now(&d, Utc::now(), false))
        .expect("send");
    assert!(!report.nothing_new && !report.already_done, "{report:?}");
    assert!(
        report
            .deliveries
            .iter()
            .all(|x| x.status == DeliveryStatus::Sent),
        "{report:?}"
    );
    let sent_until: DateTime<Utc> = report.period.end;
    assert!(sent_until <= Utc::now() + chrono::Duration::seconds(1));
    let msgs = h.sink.messages();
    assert_eq!(msgs.len(), 2, "one message per recipient");
    for body in titles_in(&h.sink, 0) {
        assert!(body.contains(FIRST) && body.contains(SECOND), "{body}");
        assert!(body.contains("Tin tích cực"), "each story's tone: {body}");
    }
    assert!(msgs[0].subject.contains("2 tin mới"), "{}", msgs[0].subject);
    let ledger = h
        .app
        .store
        .digest_period("sang", sent_until)
        .expect("ledger")
        .expect("the send is a period of its own");
    assert_eq!((ledger.trigger.as_str(), ledger.item_count), ("manual", 2));

    // A second send right away: nothing new, nothing sent, nothing recorded.
    let again = h
        .block_on(h.runner.send_now(&d, Utc::now(), false))
        .expect("send again");
    assert!(again.nothing_new, "{again:?}");
    assert_eq!(again.period.start, sent_until);
    assert_eq!(
        h.sink.messages().len(),
        2,
        "a second send sends nothing new"
    );

    // The scheduled time the send covered is not sent on its own.
    let covered = gomtin::digest::latest_fire(&d, Utc::now())
        .expect("cron")
        .expect("a past 07:00");
    assert!(covered < sent_until);
    assert!(h.tick(Utc::now()).is_empty());
    assert_eq!(h.sink.messages().len(), 2);
    assert!(
        h.app
            .store
            .digest_period("sang", covered)
            .expect("ledger")
            .is_none(),
        "no period for a scheduled time a send covered"
    );

    // One more item later; the next scheduled run sends it, and only it.
    feed.set(
        "/rss",
        Route::ok(rss(&[FIRST, SECOND, LATER]), "application/rss+xml"),
    );
    fetch(&h);
    let next = gomtin::digest::next_fire(&d, Utc::now())
        .expect("cron")
        .expect("a next 07:00");
    let attempts = h.tick(next + chrono::Duration::seconds(5));
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    let period = h
        .app
        .store
        .digest_period("sang", next)
        .expect("ledger")
        .expect("the scheduled period");
    assert_eq!(period.start, sent_until, "it starts where the send ended");
    assert_eq!(period.item_count, 1);
    for body in titles_in(&h.sink, 2) {
        assert!(body.contains(LATER), "{body}");
        assert!(
            !body.contains(FIRST) && !body.contains(SECOND),
            "repeated: {body}"
        );
    }
}

#[test]
fn a_scheduled_run_right_after_an_empty_send_now_stays_quiet() {
    // A send now at 06:59 leaves nothing for 07:00: no "nothing new" email a minute later.
    let feed = FixtureServer::start();
    feed.set("/rss", Route::ok(rss(&[FIRST]), "application/rss+xml"));
    let h = harness(SmtpSink::start(), &feed);
    let d = h.app.config().digest("sang").expect("digest").clone();
    fetch(&h);
    let report = h
        .block_on(h.runner.send_now(&d, Utc::now(), false))
        .expect("send");
    assert_eq!(h.sink.messages().len(), 2, "{report:?}");
    let next = gomtin::digest::next_fire(&d, Utc::now())
        .expect("cron")
        .expect("next");
    h.tick(next + chrono::Duration::seconds(5));
    assert_eq!(h.sink.messages().len(), 2, "nothing came after the send");
    let p = h.app.store.digest_deliveries("sang", next).expect("ledger");
    assert!(
        p.iter().all(|x| x.status == DeliveryStatus::Skipped),
        "{p:?}"
    );
}

#[test]
fn cli_preview_shows_what_send_would_send_then_send_sends_it_once() {
    let sink = SmtpSink::start();
    let feed = FixtureServer::start();
    feed.set(
        "/rss",
        Route::ok(rss(&[FIRST, SECOND]), "application/rss+xml"),
    );
    let cfg: TestConfig = support::digest::config(&sink, &feed_toml(&feed, DIGEST));
    cfg.cmd(&["fetch"]).assert().success();

    let out = cfg.stdout(&["digest", "preview", "sang"]);
    assert!(out.contains("Gửi ngay sẽ gửi kỳ"), "{out}");
    assert!(out.contains("(2 tin)"), "{out}");
    assert!(out.contains(FIRST) && out.contains(SECOND), "{out}");
    assert!(sink.messages().is_empty(), "preview sends nothing");

    let out = cfg.stdout(&["digest", "send", "sang"]);
    assert!(out.contains("a@example.vn: đã gửi"), "{out}");
    assert_eq!(sink.messages().len(), 2);
    assert!(sink.messages()[0].part("text/plain").contains(FIRST));

    let out = cfg.stdout(&["digest", "send", "sang"]);
    assert!(out.contains("không có tin mới"), "{out}");
    assert_eq!(sink.messages().len(), 2, "a second send sends nothing new");
    let out = cfg.stdout(&["digest", "preview", "sang"]);
    assert!(out.contains("sẽ không gửi gì"), "{out}");

    // `--force` keeps its meaning: the latest period again.
    cfg.cmd(&["digest", "send", "sang", "--force"])
        .assert()
        .success();
    assert_eq!(sink.messages().len(), 4, "--force sends again");
}

#[test]
fn a_digest_that_requires_a_tone_leaves_the_other_news_out() {
    let bad = "Tai nạn giao thông ở Kon Tum, hai người tử vong";
    let feed = FixtureServer::start();
    feed.set("/rss", Route::ok(rss(&[FIRST, bad]), "application/rss+xml"));
    let h = DigestHarness::new(SmtpSink::start(), &feed_toml(&feed, GOOD_ONLY));
    h.app
        .store
        .digest_seen("chi-tin-tot", Utc::now() - chrono::Duration::days(2))
        .expect("register");
    let d = h
        .app
        .config()
        .digest("chi-tin-tot")
        .expect("digest")
        .clone();
    fetch(&h);
    h.block_on(h.runner.send_now(&d, Utc::now(), false))
        .expect("send");
    let msgs = h.sink.messages();
    assert_eq!(msgs.len(), 1);
    let body = msgs[0].part("text/plain");
    assert!(body.contains(FIRST), "{body}");
    assert!(
        !body.contains(bad),
        "bad news in a good-news digest: {body}"
    );
    assert!(msgs[0].subject.contains("1 tin mới"), "{}", msgs[0].subject);
}

/// The web admin's "Gửi ngay" (`POST /api/digests/{id}/send`, what the button on
/// `/admin/digests` calls) and its preview, with `serve` running: the preview shows the
/// items the daemon just fetched, "Gửi ngay" sends them once, a second press sends nothing
/// (`nothing_new`); staff cannot.
#[test]
fn gui_ngay_on_the_admin_page_sends_what_is_new_once() {
    let sink = SmtpSink::start();
    let feed = FixtureServer::start();
    feed.set("/rss", Route::ok(rss(&[FIRST]), "application/rss+xml"));
    let toml = format!(
        "[scheduler]\nmin_interval = \"1s\"\njitter = 0.0\nshutdown_grace = \"2s\"\n\n{}\n{}",
        feed_toml(&feed, DIGEST).replace("interval = \"15m\"", "interval = \"1s\""),
        sink.config()
    );
    let cfg = TestConfig::new(&toml);
    for (name, role, pw) in [
        ("quantri", "admin", "mat-khau-quan-tri"),
        ("lan", "staff", "mat-khau-cua-lan"),
    ] {
        cfg.cmd(&["users", "add", name, "--role", role, "--password-stdin"])
            .write_stdin(format!("{pw}\n"))
            .assert()
            .success();
    }
    let mut daemon = cfg.serve();
    let start = std::time::Instant::now();
    loop {
        let store = gomtin::store::Store::open(&cfg.data_dir()).expect("store");
        let n: usize = store
            .source_statuses(Utc::now())
            .ok()
            .and_then(|v| v.into_iter().find(|x| x.id == "bao"))
            .map_or(0, |x| x.item_count as usize);
        if n >= 1 {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "no fetch"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let base = daemon.url("");
        let staff = support::web::Session::login(&base, ("lan", "mat-khau-cua-lan")).await;
        let r = staff
            .post("/api/digests/sang/send")
            .json(&serde_json::json!({}))
            .send()
            .await
            .expect("staff");
        assert_eq!(r.status(), 403, "staff may not send");
        let admin = support::web::Session::login(&base, ("quantri", "mat-khau-quan-tri")).await;
        let preview = admin.text("/admin/digests/sang/preview").await;
        assert!(
            preview.contains(FIRST),
            "the preview shows what is new: {preview}"
        );
        let r = admin
            .post("/api/digests/sang/send")
            .json(&serde_json::json!({}))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200);
        let report: serde_json::Value = r.json().await.expect("report");
        assert_eq!(report["nothing_new"], false, "{report}");
        let sent = report["attempts"]
            .as_array()
            .expect("attempts")
            .iter()
            .filter(|a| a["status"] == "sent")
            .count();
        assert_eq!(sent, 2, "{report}");
        assert_eq!(sink.messages().len(), 2, "one per recipient");
        assert!(titles_in(&sink, 0).iter().all(|t| t.contains(FIRST)));
        let page = admin.text("/admin/digests").await;
        assert!(page.contains("Gửi ngay"), "{page}");
        // The preview now has nothing new; pressed again: nothing sent.
        let preview = admin.text("/admin/digests/sang/preview").await;
        assert!(!preview.contains(FIRST), "{preview}");
        let r = admin
            .post("/api/digests/sang/send")
            .json(&serde_json::json!({}))
            .send()
            .await
            .expect("again");
        let report: serde_json::Value = r.json().await.expect("report");
        assert_eq!(report["nothing_new"], true, "{report}");
    });
    assert_eq!(sink.messages().len(), 2, "the second press sent nothing");
    daemon
        .terminate(std::time::Duration::from_secs(20))
        .expect("stop");
}
