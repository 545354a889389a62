//! Digests against a real SMTP server on 127.0.0.1 (Python's aiosmtpd, see
//! `support/smtp_sink.py`): one message per recipient per period, outages, a connection
//! cut after DATA, a rejected recipient, a temporary refusal retried, giving up after 24
//! hours, `skip_empty` and `max_items`, a daemon restart right after a send, a CLI send
//! racing the daemon, STARTTLS required but not offered, STARTTLS and TLS with a login, an
//! untrusted certificate, a wrong password, and hostile titles. The digest runner takes
//! `now`, so scheduled periods are driven without waiting for real cron times.

mod support;

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use gomtin::app::App;
use gomtin::config::Config;
use gomtin::model::RawEntry;
use gomtin::store::DeliveryStatus;
use support::digest::DigestHarness;
use support::smtp::{SinkOptions, SmtpSink, Tls};
use support::{TestConfig, feed_source};

const TOPICS: &str = r#"
[[topics]]
id = "nong-thon-moi"
name = "Nông thôn mới"
query = '"nông thôn mới"'

[[topics]]
id = "nguoi-tot"
name = "Gương người tốt việc tốt"
query = '"hiến máu" OR "hiến đất"'
"#;

const DIGEST: &str = r#"
[[digests]]
id = "sang"
name = "Tin tốt buổi sáng"
schedule = "0 7 * * *"
to = ["a@example.vn", "Chị Bình <b@example.vn>"]
topics = ["nong-thon-moi", "nguoi-tot"]
max_items = 10
"#;

/// 07:00 on 28/11/2026 in Hà Nội: the scheduled time of the period under test.
fn fire() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0)
        .single()
        .expect("time")
}

fn mins(m: i64) -> chrono::Duration {
    chrono::Duration::minutes(m)
}

/// Sources `a` and `b`, the topics and `digest`.
fn sources_topics(digest: &str) -> String {
    let mut text = String::new();
    for id in ["a", "b"] {
        text.push_str(&feed_source(id, &format!("https://{id}.example.vn/rss")));
    }
    text.push_str(TOPICS);
    text.push_str(digest);
    text
}

/// The harness on `sink` with `digest`, the period's items seeded and the digest
/// registered before `fire()`.
fn seeded(sink: SmtpSink, digest: &str) -> DigestHarness {
    let h = DigestHarness::new(sink, &sources_topics(digest));
    seed(&h.app, fire());
    register(&h);
    h
}

/// Store one item as first seen at `seen` (straight through normalize -> SQLite).
fn add_item(app: &App, source: &str, title: &str, link: &str, seen: DateTime<Utc>) {
    add_item_with(
        app,
        source,
        title,
        link,
        &format!("Tóm tắt của nguồn {source}."),
        seen,
    );
}

fn add_item_with(
    app: &App,
    source: &str,
    title: &str,
    link: &str,
    summary: &str,
    seen: DateTime<Utc>,
) {
    let raw = RawEntry {
        guid: Some(format!("{source}-{link}")),
        title: Some(title.to_string()),
        link: Some(link.to_string()),
        summary_html: Some(summary.to_string()),
        published: Some(seen - mins(30)),
        ..Default::default()
    };
    let item = gomtin::normalize::normalize_entry(source, raw, None, seen).expect("item");
    app.store.upsert_items(&[item], seen).expect("store");
}

/// The period's items: two stories in two topics, a duplicate posted by source b, plus
/// items that must stay out (no topic, seen before the period, seen after it).
fn seed(app: &App, end: DateTime<Utc>) {
    let t = "Xã Đăk Ruồng đạt chuẩn nông thôn mới";
    add_item(
        app,
        "a",
        t,
        "https://a.example.vn/ntm-dak-ruong",
        end - mins(180),
    );
    add_item(
        app,
        "b",
        t,
        "https://a.example.vn/ntm-dak-ruong",
        end - mins(170),
    );
    add_item(
        app,
        "b",
        "Thanh niên hiến máu tình nguyện",
        "https://b.example.vn/hien-mau",
        end - mins(60),
    );
    add_item(
        app,
        "a",
        "Giá vàng hôm nay",
        "https://a.example.vn/vang",
        end - mins(50),
    );
    add_item(
        app,
        "a",
        "Nông thôn mới ở Cư M'gar (tin cũ)",
        "https://a.example.vn/cu",
        end - mins(60 * 30),
    );
    add_item(
        app,
        "a",
        "Nông thôn mới ở Krông Pắc (tin sau kỳ)",
        "https://a.example.vn/sau",
        end + mins(5),
    );
}

/// Register the digest an hour before `fire()` (after the run of the day before), so the
/// period ending at `fire()` is the first one due.
fn register(h: &DigestHarness) {
    let attempts = h.tick(fire() - mins(60));
    assert!(
        attempts.is_empty(),
        "nothing is due before the first period"
    );
}

fn statuses(app: &App) -> Vec<(String, DeliveryStatus)> {
    app.store
        .digest_deliveries("sang", fire())
        .expect("ledger")
        .into_iter()
        .map(|d| (d.recipient, d.status))
        .collect()
}

#[test]
fn one_period_gives_one_multipart_message_per_recipient() {
    let h = seeded(SmtpSink::start(), DIGEST);

    let sent = h.tick(fire() + chrono::Duration::seconds(5));
    assert_eq!(sent.len(), 2);
    assert!(
        sent.iter().all(|a| a.status == DeliveryStatus::Sent),
        "{sent:?}"
    );
    // Later looks at the clock send nothing more for this period.
    for later in [1, 30, 60 * 5] {
        assert!(h.tick(fire() + mins(later)).is_empty());
    }

    let msgs = h.sink.messages();
    assert_eq!(msgs.len(), 2, "exactly one message per recipient");
    let mut rcpts: Vec<String> = msgs.iter().flat_map(|m| m.rcpt_tos.clone()).collect();
    rcpts.sort();
    assert_eq!(rcpts, vec!["a@example.vn", "b@example.vn"]);
    assert_ne!(msgs[0].message_id, msgs[1].message_id);
    for m in &msgs {
        assert_eq!(m.subject, "Tin tốt buổi sáng 28/11/2026: 2 tin mới");
        assert!(m.from.contains("Ban Tuyên giáo"), "{}", m.from);
        assert_eq!(m.mail_from, "tuyengiao@example.vn");
        assert!(m.headers_ascii, "UTF-8 headers must be encoded");
        assert!(m.defects.is_empty(), "{:?}", m.defects);
        assert_eq!(m.content_type, "multipart/alternative");
        assert!(m.message_id.contains("gomtin.sang.20261128T0000Z"));
        let text = m.part("text/plain");
        let html = m.part("text/html");
        // minijinja escapes `/` too (`&#x2f;`): compare what a mail client shows.
        let shown = html_escape::decode_html_entities(html).to_string();
        for body in [text, shown.as_str()] {
            assert!(body.contains("2 tin, 2 chủ đề"), "{body}");
            assert_eq!(
                body.matches("Xã Đăk Ruồng đạt chuẩn nông thôn mới").count(),
                1,
                "the duplicate is collapsed into one story: {body}"
            );
            assert!(body.contains("cũng đăng trên: Nguồn a"), "{body}");
            assert!(body.contains("Thanh niên hiến máu tình nguyện"));
            assert!(body.contains("Gương người tốt việc tốt"));
            assert!(body.contains("Tin từ 07:00 27/11/2026 đến 07:00 28/11/2026"));
            for outside in ["Giá vàng", "tin cũ", "tin sau kỳ", "về đích"] {
                assert!(
                    !body.contains(outside),
                    "{outside} must not be in the digest"
                );
            }
        }
        assert!(shown.contains(r#"<a href="https://b.example.vn/hien-mau">"#));
        assert!(!html.contains("<img"), "no remote images");
    }
    let to_b = msgs
        .iter()
        .find(|m| m.rcpt_tos == ["b@example.vn"])
        .expect("b's copy");
    assert!(to_b.to.contains("Chị Bình"), "{}", to_b.to);
    assert_eq!(
        statuses(&h.app),
        vec![
            ("Chị Bình <b@example.vn>".to_string(), DeliveryStatus::Sent),
            ("a@example.vn".to_string(), DeliveryStatus::Sent)
        ]
    );
}

#[test]
fn smtp_down_at_the_scheduled_time_is_delivered_once_when_back() {
    let mut h = seeded(SmtpSink::down(), DIGEST);

    let first = h.tick(fire() + chrono::Duration::seconds(5));
    assert_eq!(first.len(), 2);
    for a in &first {
        assert_eq!(a.status, DeliveryStatus::Pending, "{a:?}");
        assert!(a.retry_at.is_some_and(|t| t > fire()));
    }
    assert!(
        h.tick(fire() + chrono::Duration::seconds(20)).is_empty(),
        "no retry before the backoff ends"
    );

    h.sink.up();
    let second = h.tick(fire() + mins(3));
    assert_eq!(second.len(), 2);
    assert!(
        second.iter().all(|a| a.status == DeliveryStatus::Sent),
        "{second:?}"
    );
    for later in [10, 60, 600] {
        assert!(h.tick(fire() + mins(later)).is_empty());
    }
    assert_eq!(h.sink.messages().len(), 2, "delivered once per recipient");
    let ledger = h
        .app
        .store
        .digest_deliveries("sang", fire())
        .expect("ledger");
    assert!(
        ledger
            .iter()
            .all(|d| d.attempts == 2 && d.sent_at.is_some())
    );
}

#[test]
fn runs_missed_while_down_are_sent_once_covering_the_gap() {
    let h = seeded(SmtpSink::start(), DIGEST);

    // Down through the runs of 28/11 and 29/11 (and 30/11); back at 08:00 on 30/11.
    let back = fire() + mins(60 * 49);
    let attempts = h.tick(back);
    assert_eq!(
        attempts.len(),
        2,
        "one message per recipient, not one per missed run"
    );
    for later in [1, 60, 60 * 12] {
        assert!(h.tick(back + mins(later)).is_empty());
    }
    let msgs = h.sink.messages();
    assert_eq!(msgs.len(), 2);
    for m in &msgs {
        // Both stories of 28/11 and the item seen just after that run: nothing is lost.
        assert_eq!(m.subject, "Tin tốt buổi sáng 30/11/2026: 3 tin mới");
        let text = m.part("text/plain");
        assert!(
            text.contains("Tin từ 07:00 27/11/2026 đến 07:00 30/11/2026"),
            "{text}"
        );
        assert!(
            text.contains("Krông Pắc") && !text.contains("tin cũ"),
            "{text}"
        );
    }
    assert!(
        h.app
            .store
            .digest_period("sang", fire())
            .expect("p")
            .is_none()
    );
    let exported = h.metrics.encode();
    assert!(
        exported.contains("gomtin_digests_total{outcome=\"sent\"} 2"),
        "{exported}"
    );
}

#[test]
fn a_connection_cut_after_data_is_recorded_and_not_resent() {
    let sink = SmtpSink::start();
    sink.drop_after_data(true);
    let h = seeded(sink, DIGEST);

    let attempts = h.tick(fire() + chrono::Duration::seconds(5));
    assert_eq!(attempts.len(), 2);
    assert!(
        attempts.iter().all(|a| a.status == DeliveryStatus::Unknown),
        "{attempts:?}"
    );
    h.sink.drop_after_data(false);
    for later in [1, 5, 30, 120, 60 * 20] {
        assert!(
            h.tick(fire() + mins(later)).is_empty(),
            "no resend at +{later}m"
        );
    }
    assert_eq!(
        h.sink.messages().len(),
        2,
        "the server got each message once"
    );
    for d in h
        .app
        .store
        .digest_deliveries("sang", fire())
        .expect("ledger")
    {
        assert_eq!(d.status, DeliveryStatus::Unknown);
        assert_eq!(d.attempts, 1);
        let reply = d.last_reply.unwrap_or_default();
        assert!(reply.contains("final reply never came"), "{reply}");
    }
}

#[test]
fn a_rejected_recipient_is_recorded_and_the_others_receive() {
    let sink = SmtpSink::start();
    sink.reject("b@example.vn");
    let h = seeded(sink, DIGEST);

    h.tick(fire() + chrono::Duration::seconds(5));
    for later in [5, 60, 60 * 6] {
        assert!(h.tick(fire() + mins(later)).is_empty());
    }
    let msgs = h.sink.messages();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].rcpt_tos, vec!["a@example.vn"]);
    let ledger = h
        .app
        .store
        .digest_deliveries("sang", fire())
        .expect("ledger");
    let b = ledger
        .iter()
        .find(|d| d.recipient.contains("b@example.vn"))
        .expect("b");
    assert_eq!(b.status, DeliveryStatus::Failed);
    assert_eq!(b.attempts, 1, "a permanent refusal is not retried");
    let reply = b.last_reply.clone().unwrap_or_default();
    assert!(
        reply.contains("550") && reply.contains("User unknown"),
        "{reply}"
    );
    let a = ledger
        .iter()
        .find(|d| d.recipient == "a@example.vn")
        .expect("a");
    assert_eq!(a.status, DeliveryStatus::Sent);
}

#[test]
fn crlf_and_html_in_a_title_inject_no_header_and_no_markup() {
    let one_recipient = DIGEST.replace(", \"Chị Bình <b@example.vn>\"", "");
    let h = DigestHarness::new(SmtpSink::start(), &sources_topics(&one_recipient));
    let raw = RawEntry {
        guid: Some("evil".into()),
        title: Some("x".into()),
        link: Some("https://a.example.vn/evil".into()),
        ..Default::default()
    };
    let mut item = gomtin::normalize::normalize_entry("a", raw, None, fire()).expect("item");
    // As if a source (or an older extractor) let it through: CRLF, a header, markup.
    item.title = "Nông thôn mới\r\nBcc: evil@attacker.example\r\n<script>alert(1)</script><b>Đắk Lắk</b>\"><img src=x>".into();
    item.summary = "<iframe src=\"https://tracker.example/\"></iframe>Tóm tắt\r\nTo: x@y".into();
    h.app
        .store
        .upsert_items(&[item], fire() - mins(30))
        .expect("store");
    register(&h);
    h.tick(fire() + chrono::Duration::seconds(5));

    let msgs = h.sink.messages();
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    assert_eq!(m.rcpt_tos, vec!["a@example.vn"], "no extra recipient");
    assert!(
        !m.header_names.iter().any(|h| h == "bcc"),
        "{:?}",
        m.header_names
    );
    let head_end = m
        .raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&m.raw[..head_end]);
    assert!(!head.contains("attacker"), "{head}");
    let text = m.part("text/plain");
    let html = m.part("text/html");
    assert!(text.contains("Đắk Lắk") && html.contains("Đắk Lắk"));
    for tag in ["<script", "<b>", "<img", "<iframe"] {
        assert!(!html.contains(tag), "{tag} in html: {html}");
        assert!(!text.contains(tag), "{tag} in text: {text}");
    }
    assert!(
        !text.contains("Nông thôn mới\r\nBcc"),
        "the title is one line"
    );
}

// ---------------------------------------------------------------------------------------
// The real binary: `gomtin serve` and `gomtin digest ...`.

/// The config of the CLI tests: sources, topics, `DIGEST` and `sink`'s `[smtp]`.
fn cli_config(sink: &SmtpSink) -> TestConfig {
    support::digest::config(sink, &sources_topics(DIGEST))
}

fn wait_for(what: &str, within: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < within, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Checks completed by daemons so far (read from SQLite while a daemon runs).
fn checks(cfg: &TestConfig) -> i64 {
    gomtin::store::Store::open(&cfg.data_dir())
        .expect("store")
        .digest_state("sang")
        .expect("state")
        .map(|(_, n)| n)
        .unwrap_or(0)
}

/// Seed items in the period that ended last (real clock) and register the digest before it.
fn seed_real_period(cfg: &TestConfig) -> DateTime<Utc> {
    let app = App::open(Config::load(&cfg.path).expect("config")).expect("app");
    let d = app.config().digest("sang").expect("digest").clone();
    let end = gomtin::digest::latest_fire(&d, Utc::now())
        .expect("cron")
        .expect("a past run");
    seed(&app, end);
    app.store
        .digest_seen("sang", end - mins(60))
        .expect("register");
    end
}

#[test]
fn restarting_the_daemon_right_after_a_send_sends_no_second_copy() {
    let sink = SmtpSink::start();
    let cfg = cli_config(&sink);
    let end = seed_real_period(&cfg);

    let mut daemon = cfg.serve();
    wait_for("the digest to arrive", Duration::from_secs(60), || {
        sink.messages().len() >= 2
    });
    // Crash right after the send.
    daemon.kill().expect("kill");
    let before = checks(&cfg);

    let mut again = cfg.serve();
    wait_for(
        "the restarted daemon to check digests",
        Duration::from_secs(60),
        || checks(&cfg) > before,
    );
    assert_eq!(sink.messages().len(), 2, "no second copy after a restart");
    let store = gomtin::store::Store::open(&cfg.data_dir()).expect("store");
    for d in store.digest_deliveries("sang", end).expect("ledger") {
        // The kill may land between the server's 250 and our commit: then the ledger says
        // `sending` (maybe delivered) — never due again either way.
        assert!(
            matches!(d.status, DeliveryStatus::Sent | DeliveryStatus::Sending),
            "{d:?}"
        );
        assert_eq!(d.attempts, 1);
    }
    again.kill().expect("kill");
}

#[test]
fn cli_send_twice_sends_once_and_preview_and_list_tell_the_story() {
    let sink = SmtpSink::start();
    let cfg = cli_config(&sink);
    seed_real_period(&cfg);

    let html = cfg.dir.path().join("preview.html");
    let out = cfg
        .cmd(&["digest", "preview", "sang", "--html"])
        .arg(&html)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).expect("utf-8");
    assert!(text.contains("Tiêu đề: Tin tốt buổi sáng"), "{text}");
    assert!(
        text.contains("Xã Đăk Ruồng đạt chuẩn nông thôn mới"),
        "{text}"
    );
    let page = std::fs::read_to_string(&html).expect("html");
    assert!(page.contains("<h2") && page.contains("Thanh niên hiến máu"));
    assert!(sink.messages().is_empty(), "preview sends nothing");

    cfg.cmd(&["digest", "send", "sang"])
        .assert()
        .success()
        .stdout(predicates::str::contains("a@example.vn: đã gửi"));
    assert_eq!(sink.messages().len(), 2);
    cfg.cmd(&["digest", "send", "sang"])
        .assert()
        .success()
        .stdout(predicates::str::contains("không gửi lại"));
    assert_eq!(sink.messages().len(), 2, "a second send sends nothing");

    cfg.cmd(&["digest", "list"])
        .assert()
        .success()
        .stdout(predicates::str::contains("2 đã gửi"));

    cfg.cmd(&["digest", "send", "sang", "--force"])
        .assert()
        .success();
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 4, "--force sends again");
    assert_ne!(
        msgs[0].message_id, msgs[2].message_id,
        "a resend has its own Message-ID"
    );

    cfg.cmd(&["digest", "send", "khong-co"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "không có bản tin nào mã `khong-co`",
        ));
}

// ---------------------------------------------------------------------------------------
// What the ledger promises: skip_empty, max_items, temporary refusals, giving up after 24 h.

/// The delivery to the address `email` (of the `fire()` period).
fn delivery(app: &App, email: &str) -> gomtin::store::Delivery {
    app.store
        .digest_deliveries("sang", fire())
        .expect("ledger")
        .into_iter()
        .find(|d| d.recipient.contains(email))
        .unwrap_or_else(|| panic!("no delivery to {email}"))
}

#[test]
fn an_empty_period_is_skipped_with_skip_empty_and_announced_without() {
    // skip_empty: nothing is sent, the ledger says skipped, later looks send nothing.
    let skipping = DIGEST.replace("max_items = 10", "max_items = 10\nskip_empty = true");
    let h = DigestHarness::new(SmtpSink::start(), &sources_topics(&skipping));
    register(&h);
    assert!(h.tick(fire() + chrono::Duration::seconds(5)).is_empty());
    for later in [1, 60, 60 * 12] {
        assert!(h.tick(fire() + mins(later)).is_empty());
    }
    assert!(h.sink.messages().is_empty(), "no email for an empty period");
    assert!(h.sink.mail_log().is_empty());
    assert_eq!(
        statuses(&h.app),
        vec![
            (
                "Chị Bình <b@example.vn>".to_string(),
                DeliveryStatus::Skipped
            ),
            ("a@example.vn".to_string(), DeliveryStatus::Skipped)
        ]
    );
    assert!(
        h.metrics
            .encode()
            .contains("gomtin_digests_total{outcome=\"skipped\"} 2"),
        "{}",
        h.metrics.encode()
    );

    // Without it, each recipient is told there was nothing new.
    let h = DigestHarness::new(SmtpSink::start(), &sources_topics(DIGEST));
    register(&h);
    let sent = h.tick(fire() + chrono::Duration::seconds(5));
    assert_eq!(sent.len(), 2);
    let msgs = h.sink.messages();
    assert_eq!(msgs.len(), 2);
    for m in &msgs {
        assert_eq!(m.subject, "Tin tốt buổi sáng 28/11/2026: không có tin mới");
        assert!(
            m.part("text/plain")
                .contains("Không có tin mới trong kỳ này."),
            "{}",
            m.part("text/plain")
        );
    }
}

#[test]
fn max_items_shows_that_many_stories_and_counts_the_rest() {
    let h = seeded(
        SmtpSink::start(),
        &DIGEST.replace("max_items = 10", "max_items = 1"),
    );
    h.tick(fire() + chrono::Duration::seconds(5));
    let msgs = h.sink.messages();
    assert_eq!(msgs.len(), 2);
    for m in &msgs {
        // Two stories in the period: the subject counts both, the body shows one.
        assert_eq!(m.subject, "Tin tốt buổi sáng 28/11/2026: 2 tin mới");
        let text = m.part("text/plain");
        let shown = html_escape::decode_html_entities(m.part("text/html")).to_string();
        for body in [text, shown.as_str()] {
            assert!(
                body.contains("Xã Đăk Ruồng đạt chuẩn nông thôn mới"),
                "{body}"
            );
            assert!(
                !body.contains("Thanh niên hiến máu tình nguyện"),
                "over max_items: {body}"
            );
            assert!(
                body.contains("và 1 tin khác"),
                "the rest is counted: {body}"
            );
        }
    }
}

#[test]
fn a_temporary_refusal_before_data_is_retried_and_delivered_once() {
    let sink = SmtpSink::start();
    sink.tempfail("b@example.vn", true);
    let h = seeded(sink, DIGEST);

    let first = h.tick(fire() + chrono::Duration::seconds(5));
    assert_eq!(first.len(), 2);
    let b = first
        .iter()
        .find(|a| a.recipient.contains("b@example.vn"))
        .expect("b");
    assert_eq!(b.status, DeliveryStatus::Pending, "a 450 is retried: {b:?}");
    assert!(b.reply.contains("450"), "{b:?}");
    let retry_at = b.retry_at.expect("a retry time");
    assert_eq!(
        retry_at,
        fire() + chrono::Duration::seconds(5) + mins(1),
        "first retry a minute later"
    );
    assert_eq!(
        delivery(&h.app, "a@example.vn").status,
        DeliveryStatus::Sent
    );
    assert!(
        h.tick(retry_at - chrono::Duration::seconds(1)).is_empty(),
        "not before its time"
    );

    h.sink.tempfail("b@example.vn", false);
    let second = h.tick(retry_at);
    assert_eq!(second.len(), 1, "{second:?}");
    assert_eq!(second[0].status, DeliveryStatus::Sent);
    for later in [10, 60, 600] {
        assert!(h.tick(fire() + mins(later)).is_empty());
    }
    let msgs = h.sink.messages();
    let mut rcpts: Vec<&str> = msgs.iter().map(|m| m.rcpt_tos[0].as_str()).collect();
    rcpts.sort();
    assert_eq!(rcpts, ["a@example.vn", "b@example.vn"], "each once");
    let b = delivery(&h.app, "b@example.vn");
    assert_eq!((b.status, b.attempts), (DeliveryStatus::Sent, 2));
}

#[test]
fn a_recipient_refused_for_24_hours_is_given_up_as_failed() {
    let sink = SmtpSink::start();
    sink.tempfail("b@example.vn", true);
    let h = seeded(sink, DIGEST);

    // Attempts for this period (from 29/11 07:00 on, the next period is sent too).
    let tick = |at| -> Vec<gomtin::digest::Attempt> {
        h.tick(at)
            .into_iter()
            .filter(|a| a.period_end == fire())
            .collect()
    };
    tick(fire() + chrono::Duration::seconds(5));
    // Still retried just under a day after the period ended...
    let late = tick(fire() + mins(23 * 60));
    assert_eq!(late.len(), 1, "{late:?}");
    assert_eq!(late[0].status, DeliveryStatus::Pending);
    // ...and given up on at the first attempt after 24 hours.
    let last = tick(fire() + mins(24 * 60 + 1));
    assert_eq!(last.len(), 1, "{last:?}");
    assert_eq!(last[0].status, DeliveryStatus::Failed);
    assert!(
        last[0].reply.contains("gave up after 3 attempts over 24h")
            && last[0].reply.contains("450"),
        "{:?}",
        last[0]
    );
    for later in [25 * 60, 30 * 60] {
        assert!(
            tick(fire() + mins(later)).is_empty(),
            "no retry after failing"
        );
    }
    let b = delivery(&h.app, "b@example.vn");
    assert_eq!((b.status, b.attempts), (DeliveryStatus::Failed, 3));
    assert_eq!(
        delivery(&h.app, "a@example.vn").status,
        DeliveryStatus::Sent
    );
    assert!(
        h.sink
            .messages()
            .iter()
            .all(|m| m.rcpt_tos == ["a@example.vn"]),
        "b never received anything"
    );
    assert!(
        h.metrics
            .encode()
            .contains("gomtin_digests_total{outcome=\"failed\"} 1"),
        "{}",
        h.metrics.encode()
    );
}

// ---------------------------------------------------------------------------------------
// Mail security through the real binary (the password comes from the environment):
// STARTTLS required but not offered, STARTTLS and TLS with a login, an untrusted
// certificate, a wrong password.

const SMTP_USER: &str = "tuyengiao";
const SMTP_PASSWORD: &str = "mat-khau-hop-thu";
const PASSWORD_ENV: &str = "GOMTIN_TEST_SMTP_PASSWORD";

/// The CLI tests' config with `keys` in `[smtp]` instead of `security = "none"`.
fn secured_config(sink: &SmtpSink, keys: &str) -> TestConfig {
    TestConfig::new(&format!(
        "{}\n{}",
        sources_topics(DIGEST),
        sink.config_with(keys)
    ))
}

/// `security`, a login, and (when `trust`) the test CA as `ca_file`.
fn login_keys(security: &str, trust: bool) -> String {
    let mut keys = format!(
        "security = \"{security}\"\nusername = \"{SMTP_USER}\"\npassword_env = \"{PASSWORD_ENV}\"\n"
    );
    if trust {
        let ca = support::smtp::tls_fixture("ca.pem").display().to_string();
        keys.push_str(&format!(
            "ca_file = {}\n",
            serde_json::to_string(&ca).expect("toml string")
        ));
    }
    keys
}

fn login_sink(tls: Tls) -> SmtpSink {
    SmtpSink::with(SinkOptions {
        tls,
        auth: Some((SMTP_USER.into(), SMTP_PASSWORD.into())),
        down: false,
    })
}

/// `gomtin digest send sang` with `password` in the environment: exit code and stdout.
fn send_with_password(cfg: &TestConfig, password: &str) -> (i32, String) {
    let out = cfg
        .cmd(&["digest", "send", "sang"])
        .env(PASSWORD_ENV, password)
        .output()
        .expect("digest send");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

#[test]
fn starttls_required_but_not_offered_sends_nothing_in_the_clear() {
    let sink = SmtpSink::start();
    let cfg = secured_config(&sink, "security = \"starttls\"\n");
    seed_real_period(&cfg);
    let (code, out) = send_with_password(&cfg, SMTP_PASSWORD);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("does not offer STARTTLS") && out.contains("chờ gửi lại"),
        "{out}"
    );
    assert!(
        sink.mail_log().is_empty(),
        "an envelope went out in the clear"
    );
    assert!(sink.messages().is_empty());
}

#[test]
fn starttls_and_a_login_deliver_over_an_encrypted_connection() {
    let sink = login_sink(Tls::Starttls);
    let cfg = secured_config(&sink, &login_keys("starttls", true));
    seed_real_period(&cfg);
    let (code, out) = send_with_password(&cfg, SMTP_PASSWORD);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("a@example.vn: đã gửi"), "{out}");
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 2);
    for m in &msgs {
        assert!(m.tls, "sent in the clear");
        assert_eq!(m.login.as_deref(), Some(SMTP_USER));
    }
    let log = sink.mail_log();
    assert!(
        log.len() == 2 && log.iter().all(|l| l.ends_with("tls=True")),
        "{log:?}"
    );
}

#[test]
fn tls_from_the_first_byte_and_a_login_deliver() {
    let sink = login_sink(Tls::Implicit);
    let cfg = secured_config(&sink, &login_keys("tls", true));
    seed_real_period(&cfg);
    let (code, out) = send_with_password(&cfg, SMTP_PASSWORD);
    assert_eq!(code, 0, "{out}");
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 2);
    assert!(
        msgs.iter()
            .all(|m| m.tls && m.login.as_deref() == Some(SMTP_USER))
    );
}

#[test]
fn a_certificate_nobody_vouches_for_is_refused() {
    // The server's certificate is signed by the test CA, which is not trusted here.
    let sink = login_sink(Tls::Implicit);
    let cfg = secured_config(&sink, &login_keys("tls", false));
    seed_real_period(&cfg);
    let (code, out) = send_with_password(&cfg, SMTP_PASSWORD);
    assert_eq!(code, 1, "{out}");
    assert!(out.to_lowercase().contains("certificate"), "{out}");
    assert!(sink.mail_log().is_empty() && sink.messages().is_empty());
}

#[test]
fn a_wrong_password_is_refused_for_good() {
    let sink = login_sink(Tls::Starttls);
    let cfg = secured_config(&sink, &login_keys("starttls", true));
    let end = seed_real_period(&cfg);
    let (code, out) = send_with_password(&cfg, "sai-mat-khau");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("lỗi") && out.contains("535"), "{out}");
    assert!(sink.messages().is_empty());
    let store = gomtin::store::Store::open(&cfg.data_dir()).expect("store");
    for d in store.digest_deliveries("sang", end).expect("ledger") {
        assert_eq!((d.status, d.attempts), (DeliveryStatus::Failed, 1), "{d:?}");
    }
}

#[test]
fn a_cli_send_racing_the_daemon_sends_each_copy_once() {
    let sink = SmtpSink::start();
    // Each message takes a second and a half: the daemon is still sending the first
    // copy when the command starts.
    sink.slow_data(1.5);
    let cfg = cli_config(&sink);
    let end = seed_real_period(&cfg);
    let mut daemon = cfg.serve();
    wait_for(
        "the daemon to start sending",
        Duration::from_secs(60),
        || !sink.mail_log().is_empty(),
    );
    let out = cfg
        .cmd(&["digest", "send", "sang"])
        .output()
        .expect("digest send");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{:?}: {stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("digest send during the daemon's send: {stdout}");
    // The daemon's scheduled period, and the command's send now: a period of its own,
    // from where the scheduled one ends (only "tin sau kỳ", first seen after it).
    wait_for(
        "both copies of both periods",
        Duration::from_secs(60),
        || sink.messages().len() >= 4,
    );
    // Give the loser of the race time to send a duplicate, if it were going to.
    std::thread::sleep(Duration::from_secs(3));
    daemon.terminate(Duration::from_secs(60)).expect("exit");
    let msgs = sink.messages();
    for (scheduled, what) in [(true, "the scheduled period"), (false, "the send now")] {
        let mut rcpts: Vec<&str> = msgs
            .iter()
            .filter(|m| m.part("text/plain").contains("Đăk Ruồng") == scheduled)
            .map(|m| m.rcpt_tos[0].as_str())
            .collect();
        rcpts.sort();
        assert_eq!(
            rcpts,
            ["a@example.vn", "b@example.vn"],
            "{what}: each copy once; the command said: {stdout}"
        );
    }
    assert!(
        msgs.iter()
            .filter(|m| !m.part("text/plain").contains("Đăk Ruồng"))
            .all(|m| m.part("text/plain").contains("Krông Pắc")),
        "the send now has only what came after the scheduled period"
    );
    let store = gomtin::store::Store::open(&cfg.data_dir()).expect("store");
    for d in store.digest_deliveries("sang", end).expect("ledger") {
        assert_eq!((d.status, d.attempts), (DeliveryStatus::Sent, 1), "{d:?}");
    }
    cfg.cmd(&["digest", "send", "sang"])
        .assert()
        .success()
        .stdout(predicates::str::contains("không gửi lại"));
    assert_eq!(sink.messages().len(), 4);
}
