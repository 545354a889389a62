//! Topics: items are tagged at indexing time, `topic:ID` filters on the tags, exclusions in
//! a topic query hold, and changing a topic's query re-tags existing items.

mod support;

use gomtin::search::SearchRequest;
use support::{TestConfig, feed_source};

const FEED: &str = r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>
<item><title>Xã Đăk Ruồng đạt chuẩn nông thôn mới</title><guid>1</guid></item>
<item><title>Tai nạn giao thông trên đường nông thôn mới làm</title><guid>2</guid></item>
<item><title>Thanh niên hiến máu tình nguyện</title><guid>3</guid></item>
<item><title>Chuyển đổi số ở xã vùng cao</title><guid>4</guid></item>
</channel></rss>"#;

fn setup(topics: &str) -> TestConfig {
    let dir = tempfile::tempdir().expect("tmp").keep();
    let feed = dir.join("feed.xml");
    std::fs::write(&feed, FEED).expect("feed");
    let src = feed_source("t", &format!("file://{}", feed.display()));
    TestConfig::new(&format!("{src}{topics}"))
}

fn titles(cfg: &TestConfig, q: &str) -> Vec<String> {
    let config = gomtin::config::Config::load(&cfg.path).expect("config");
    let app = gomtin::app::App::open(config).expect("app");
    app.search(&SearchRequest::new(q, 20))
        .expect("search")
        .hits
        .into_iter()
        .map(|h| h.title)
        .collect()
}

#[test]
fn items_are_tagged_and_retagged_when_topics_change() {
    let topics = r#"
[[topics]]
id = "nong-thon-moi"
name = "Nông thôn mới"
query = '"nông thôn mới" -"tai nạn"'

[[topics]]
id = "nguoi-tot"
name = "Gương người tốt việc tốt"
query = '"hiến máu" OR "hiến đất"'
"#;
    let cfg = setup(topics);
    cfg.cmd(&["fetch"]).assert().success();
    assert_eq!(
        titles(&cfg, "topic:nong-thon-moi"),
        vec!["Xã Đăk Ruồng đạt chuẩn nông thôn mới"],
        "tagged, and the topic's exclusion holds"
    );
    assert_eq!(
        titles(&cfg, "topic:nguoi-tot"),
        vec!["Thanh niên hiến máu tình nguyện"]
    );
    assert_eq!(
        titles(&cfg, "topic:nguoi-tot xa"),
        Vec::<String>::new(),
        "filter combines with words"
    );

    // The admin changes a topic: existing items are re-tagged on the next run.
    let text = std::fs::read_to_string(&cfg.path)
        .expect("read")
        .replace(r#"'"hiến máu" OR "hiến đất"'"#, "\"chuyển đổi số\"");
    std::fs::write(&cfg.path, text).expect("write");
    cfg.cmd(&["fetch"]).assert().success();
    assert_eq!(
        titles(&cfg, "topic:nguoi-tot"),
        vec!["Chuyển đổi số ở xã vùng cao"]
    );
}

#[test]
fn bad_topic_query_is_a_config_error() {
    let cfg = setup("[[topics]]\nid = \"x\"\nname = \"X\"\nquery = \"sort:random\"\n");
    cfg.cmd(&["fetch"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("chủ đề `x`"));
}
