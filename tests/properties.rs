//! Property tests (proptest, in the normal test run) for the code that reads what
//! strangers write: the text normalizer, the charset decoder, the query parser, the
//! sanitizer and depth bound, and the feed, list-page and article extractors. Harm
//! prevented: an input nobody thought of that panics a parser (one source's error at
//! best), hangs it, lets live markup through, or changes text on a second pass.
//! `cargo fuzz` targets for the same functions live in `fuzz/` (see its README).

use std::time::{Duration, Instant};

use gomtin::extract::bounded::{MAX_DEPTH, bounded, modelled_depth};
use gomtin::fetch::charset;
use gomtin::normalize::{html_to_text, sanitize_html};
use gomtin::vietnamese::clean;
use proptest::prelude::*;

/// Pieces of HTML, hostile and ordinary, that random documents are made of.
fn html_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<div>".to_string()),
        Just("</div>".to_string()),
        Just("<p>".to_string()),
        Just("</p>".to_string()),
        Just("<li>".to_string()),
        Just("<b><i>".to_string()),
        Just("</i></b>".to_string()),
        Just("<table><tr><td>".to_string()),
        Just("<script>alert(1)</script>".to_string()),
        Just("<svg onload=alert(1)><path/></svg>".to_string()),
        Just("<math><mi>x</mi></math>".to_string()),
        Just("<img src=x onerror=alert(1)>".to_string()),
        Just("<a href=\"javascript:alert(1)\">x</a>".to_string()),
        Just("<a href=\"https://bao.vn/a?b=1&c=2\" onclick=\"x()\">y</a>".to_string()),
        Just("<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>".to_string()),
        Just("<style>*{}</style>".to_string()),
        Just("<!-- c -->".to_string()),
        Just("<![CDATA[x]]>".to_string()),
        Just("<template><p>t</template>".to_string()),
        Just("<noscript><img src=x></noscript>".to_string()),
        Just("<select><option>1<option>2</select>".to_string()),
        Just("<textarea></textarea><img src=x>".to_string()),
        Just("&lt;script&gt;".to_string()),
        Just("&amp;&#x1F600;&#0;&#xD800;&nbsp;".to_string()),
        Just("<".to_string()),
        Just(">".to_string()),
        Just("\"".to_string()),
        "[a-zđăâêôơưàảãáạ ]{0,12}".prop_map(|s| s),
        "\\PC{0,6}",
    ]
}

fn html_doc() -> impl Strategy<Value = String> {
    prop::collection::vec(html_piece(), 0..60).prop_map(|v| v.concat())
}

/// Markup that must never survive the sanitizer.
fn live_markup(html: &str) -> Option<&'static str> {
    let l = html.to_ascii_lowercase();
    [
        "<script",
        "<svg",
        "<math",
        "<iframe",
        "<style",
        "onerror=",
        "onload=",
        "onclick=",
        "javascript:",
        "srcdoc",
        "<template",
        "<noscript",
    ]
    .into_iter()
    .find(|bad| l.contains(bad))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The normalizer is a fixed point after one pass: no controls, no double or edge spaces.
    #[test]
    fn clean_is_idempotent_and_tidy(s in "\\PC{0,80}|[\\x00-\\x7f\u{a0}\u{ad}\u{200b}\u{feff}\u{300}-\u{36f}ÐđĐ ]{0,80}") {
        let once = clean(&s);
        prop_assert_eq!(clean(&once), once.clone());
        prop_assert!(!once.contains("  "));
        prop_assert_eq!(once.trim(), once.as_str());
        prop_assert!(!once.chars().any(|c| c.is_control()));
    }

    /// Text of any HTML: no panic, bounded time, and cleaned.
    #[test]
    fn html_to_text_never_fails(html in html_doc()) {
        let t = Instant::now();
        let text = html_to_text(&html);
        prop_assert!(t.elapsed() < Duration::from_secs(2));
        prop_assert_eq!(clean(&text), text);
    }

    /// The sanitizer: a second pass changes nothing, and no live markup comes out.
    #[test]
    fn sanitize_is_idempotent_and_inert(html in html_doc()) {
        let once = sanitize_html(&html, None);
        prop_assert_eq!(sanitize_html(&once, None), once.clone());
        prop_assert!(live_markup(&once).is_none(), "{:?} in {}", live_markup(&once), once);
    }

    /// The depth bound holds for any nesting, and keeps every word of the text.
    #[test]
    fn bounded_html_is_never_deeper_than_the_limit(
        depth in 0usize..2_000,
        tags in prop::collection::vec(prop_oneof![Just("div"), Just("span"), Just("b"), Just("li"), Just("p"), Just("td"), Just("a")], 1..4),
        word in "[a-zơư]{1,8}",
    ) {
        let open: String = (0..depth).map(|i| format!("<{}>", tags[i % tags.len()])).collect();
        let close: String = (0..depth).rev().map(|i| format!("</{}>", tags[i % tags.len()])).collect();
        let html = format!("{open}{word}{close}");
        let out = bounded(&html);
        prop_assert!(modelled_depth(&out) <= MAX_DEPTH);
        prop_assert!(html_to_text(&out).contains(&word));
    }

    /// The charset decoder: any bytes and any label decode without panic; UTF-8 text
    /// without a label comes back as it was.
    #[test]
    fn decode_never_fails(
        bytes in prop::collection::vec(any::<u8>(), 0..300),
        label in prop_oneof![Just(None), Just(Some("text/xml; charset=utf-8")), Just(Some("text/html; charset=iso-8859-1")), Just(Some("application/rss+xml; charset=windows-1258")), Just(Some("text/xml; charset=utf-16")), Just(Some("text/xml; charset=\"bogus\""))],
        text in "[a-zA-Z0-9 <>/=\"đăâêôơưàảãáạếềểễệ]{0,60}",
    ) {
        let d = charset::decode(&bytes, label);
        prop_assert!(d.text.len() <= bytes.len() * 4 + 4);
        let d = charset::decode(text.as_bytes(), None);
        prop_assert_eq!(d.text, text);
    }

    /// Windows-1258 text labelled UTF-8 (a Vietnamese habit) is read as windows-1258.
    #[test]
    fn cp1258_labelled_utf8_is_not_mojibake(words in prop::collection::vec("(nông|thôn|mới|đường|người|dân|xã|huyện|tỉnh|phấn|khởi|được)", 8..20)) {
        let text = words.join(" ");
        let (bytes, _, _) = encoding_rs::WINDOWS_1258.encode(&text);
        let d = charset::decode(&bytes, Some("text/html; charset=utf-8"));
        prop_assert!(!d.text.contains('\u{FFFD}'), "{}", d.text);
        prop_assert_eq!(clean(&d.text), clean(&text));
    }

    /// The query parser: any input parses or is refused with a message, quickly.
    #[test]
    fn parse_query_never_fails(q in "\\PC{0,120}|[-\"():a-zđ ]{0,120}|(OR |-|\"|source:|topic:|after:|before:|sort:){0,40}") {
        let t = Instant::now();
        let _ = gomtin::search::query::parse_query(&q, chrono_tz::Asia::Ho_Chi_Minh);
        prop_assert!(t.elapsed() < Duration::from_millis(500));
    }

    /// Feeds: any bytes, and feed-shaped documents with hostile bodies, parse or fail
    /// cleanly, quickly.
    #[test]
    fn parse_feed_never_fails(
        raw in prop::collection::vec(any::<u8>(), 0..200),
        body in html_doc(),
        base_attr in prop_oneof![Just(""), Just(" xml:base=\"/x/\""), Just(" xml:base=\"javascript:alert(1)\""), Just(" xml:base=\"::\"")],
    ) {
        let base = url::Url::parse("https://bao.example.vn/rss.xml").expect("url");
        let _ = gomtin::extract::feed::parse_feed(&raw, &base);
        let xml = format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel{base_attr}><title>t</title><item{base_attr}><title>a</title><link>b</link><description>{}</description></item></channel></rss>",
            html_escape::encode_text(&body)
        );
        let t = Instant::now();
        if let Ok((_, entries)) = gomtin::extract::feed::parse_feed(xml.as_bytes(), &base) {
            for e in entries {
                let _ = gomtin::normalize::normalize_entry("s", e, Some(&base), chrono::Utc::now());
            }
        }
        prop_assert!(t.elapsed() < Duration::from_secs(2));
    }

    /// List pages and article pages: any HTML is read or refused, quickly.
    #[test]
    fn page_extractors_never_fail(body in html_doc()) {
        let base = url::Url::parse("https://bao.example.vn/tin/").expect("url");
        let page = format!("<html><body><div class=\"item\"><a href=\"/a\">x</a>{body}</div></body></html>");
        let sel = gomtin::extract::page::CompiledSelectors::new(&gomtin::config::PageSelectors {
            item: Some(".item".into()),
            link: "a".into(),
            title: None,
            date: None,
            date_format: None,
            summary: Some("div".into()),
            image: Some("img".into()),
        }).expect("selectors");
        let t = Instant::now();
        let _ = gomtin::extract::page::extract_list(&page, &base, &sel, chrono_tz::UTC);
        let _ = gomtin::extract::article::extract_article(&page, &base, None, chrono_tz::UTC);
        prop_assert!(t.elapsed() < Duration::from_secs(3));
    }
}
