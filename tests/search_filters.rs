//! The query language's date filters and sort, as the README promises them, through the
//! real `gomtin search --json`: `sort:date` (newest first, where relevance puts the oldest
//! first), `after:DAY` (from that day on, the day included) and `before:DAY` (before that
//! day, the day excluded), each asserted as the exact list of hits in order. Five flood
//! stories a few weeks apart (noon, Vietnam time) and one unrelated story that must never
//! appear.

mod support;

use support::TestConfig;

/// (guid, published at noon Vietnam time, title, description).
const STORIES: &[(&str, &str, &str, &str)] = &[
    (
        "a-thang-1",
        "2026-01-10",
        "Lũ lụt nhấn chìm ba xã vùng trũng",
        "Lũ lụt kéo dài, nước lũ lụt dâng cao, lũ lụt cô lập ba xã.",
    ),
    (
        "b-thang-2",
        "2026-02-15",
        "Hội nghị tổng kết phòng chống thiên tai",
        "Tỉnh rút kinh nghiệm sau đợt lũ lụt năm trước.",
    ),
    (
        "c-dau-thang-3",
        "2026-03-01",
        "Diễn tập cứu hộ tại huyện miền núi",
        "Lực lượng cứu hộ diễn tập ứng phó lũ lụt.",
    ),
    (
        "d-cuoi-thang-3",
        "2026-03-20",
        "Kiểm tra hồ chứa trước mùa mưa",
        "Các hồ chứa được kiểm tra để giảm nguy cơ lũ lụt cho hạ du.",
    ),
    (
        "e-ca-phe",
        "2026-04-05",
        "Giá cà phê tăng mạnh",
        "Nông dân Tây Nguyên phấn khởi vì giá cà phê cao.",
    ),
];

fn setup() -> TestConfig {
    let mut rss = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>Báo thử</title><link>https://bao.example.vn/</link>",
    );
    for (guid, day, title, body) in STORIES {
        let at =
            chrono::DateTime::parse_from_rfc3339(&format!("{day}T12:00:00+07:00")).expect("date");
        rss.push_str(&format!(
            "<item><title>{title}</title><link>https://bao.example.vn/{guid}.html</link><guid>{guid}</guid><pubDate>{}</pubDate><description>{body}</description></item>",
            at.to_rfc2822()
        ));
    }
    rss.push_str("</channel></rss>");
    let cfg = TestConfig::new(
        "[[sources]]\nid = \"bao\"\nname = \"Báo thử\"\nkind = \"feed\"\npath = \"bao.xml\"\n",
    );
    std::fs::write(cfg.dir.path().join("bao.xml"), rss).expect("feed");
    cfg.cmd(&["fetch"]).assert().success();
    cfg
}

/// The hits of `q`, as the story ids (the last path segment of the URL, without `.html`).
fn hits(cfg: &TestConfig, q: &str) -> Vec<String> {
    let v = cfg.json(&["search", "--json", "--limit", "20", q]);
    v["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|h| {
            let url = h["url"].as_str().expect("url");
            url.rsplit('/')
                .next()
                .and_then(|s| s.strip_suffix(".html"))
                .expect("story url")
                .to_string()
        })
        .collect()
}

/// Harm prevented: `sort:date` or a date filter ignored (or off by a day at the edges)
/// shows the staff last month's news as today's, or hides the story of the day asked for.
#[test]
fn sort_date_and_after_before_change_the_answer_exactly() {
    let cfg = setup();
    let by_relevance = hits(&cfg, "lũ lụt");
    assert_eq!(
        by_relevance.first().map(String::as_str),
        Some("a-thang-1"),
        "the story about the flood ranks first: {by_relevance:?}"
    );
    let mut set = by_relevance.clone();
    set.sort();
    assert_eq!(
        set,
        ["a-thang-1", "b-thang-2", "c-dau-thang-3", "d-cuoi-thang-3"],
        "every flood story, not the coffee one"
    );
    assert_eq!(
        hits(&cfg, "lũ lụt sort:date"),
        ["d-cuoi-thang-3", "c-dau-thang-3", "b-thang-2", "a-thang-1"],
        "newest first"
    );
    assert_eq!(
        hits(&cfg, "lũ lụt after:2026-03-01 sort:date"),
        ["d-cuoi-thang-3", "c-dau-thang-3"],
        "after: includes its own day"
    );
    assert_eq!(
        hits(&cfg, "lũ lụt before:2026-03-01 sort:date"),
        ["b-thang-2", "a-thang-1"],
        "before: excludes its own day"
    );
    assert_eq!(
        hits(&cfg, "lũ lụt after:2026-02-01 before:2026-03-20 sort:date"),
        ["c-dau-thang-3", "b-thang-2"]
    );
    assert_eq!(
        hits(&cfg, "lũ lụt after:2026-03-21"),
        Vec::<String>::new(),
        "nothing that late"
    );
}

/// Harm prevented: `gomtin search lũ lụt --json` (the flag typed after the query, as most
/// people type it) searched for "lũ lụt --json", found nothing and printed text where a
/// script expected JSON. Flags may stand before or after the query words; a word that
/// starts with `-` and is no flag stays an exclusion.
#[test]
fn flags_after_the_query_are_read_as_flags() {
    let cfg = setup();
    let before = cfg.json(&["search", "--json", "--limit", "2", "lũ lụt", "sort:date"]);
    let after = cfg.json(&["search", "lũ", "lụt", "sort:date", "--json", "-n", "2"]);
    assert_eq!(before["hits"], after["hits"], "same answer: {after}");
    assert_eq!(after["hits"].as_array().map(Vec::len), Some(2), "{after}");
    let excluded = cfg.json(&["search", "lũ", "lụt", "-tháng", "--json"]);
    assert!(excluded["total"].is_u64(), "{excluded}");
    let out = cfg.cmd(&["search", "--json"]).assert().failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        !err.is_empty(),
        "a query of flags only is refused with a message"
    );
}
