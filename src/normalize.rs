//! Normalization: the stage between extraction and the store. A `RawEntry` comes in with
//! whatever the publisher wrote; a `NewItem` goes out with plain text cleaned once
//! (entities, NFC, look-alike letters, invisible characters — see `vietnamese::clean`),
//! HTML passed through an allowlist sanitizer, the link made canonical, dates sanity
//! checked, and a stable key and content hash computed.

use std::collections::HashSet;
use std::sync::LazyLock;

use chrono::{DateTime, TimeZone, Utc};
use sha2::{Digest, Sha256};

use crate::extract::bounded::bounded;
use crate::model::{NewItem, RawEntry};
use crate::vietnamese;

/// Query parameters that only track clicks; dropped from canonical URLs.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "zarsrc",
    "zalo_source",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "yclid",
    "ref_src",
    "spm",
    "cmpid",
    "s_cid",
];

/// The canonical form of a link: lowercase scheme and host, no fragment, no default port,
/// tracking parameters (`utm_*`, `fbclid`, `zarsrc`, ...) removed, other parameters kept in order.
pub fn canonical_url(raw: &str) -> Option<String> {
    let mut u = url::Url::parse(raw.trim()).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    u.set_fragment(None);
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            !k.starts_with("utm_") && !TRACKING_PARAMS.contains(&k.as_str())
        })
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(kept);
    }
    Some(u.to_string())
}

fn sanitizer(base: Option<&url::Url>) -> ammonia::Builder<'static> {
    let mut b = ammonia::Builder::default();
    b.url_schemes(HashSet::from(["http", "https"]))
        .link_rel(Some("noopener noreferrer"))
        .add_tag_attributes("img", ["loading"])
        .url_relative(match base {
            Some(base) => ammonia::UrlRelative::RewriteWithBase(base.clone()),
            None => ammonia::UrlRelative::Deny,
        });
    b
}

/// Allowlist-sanitize HTML: no scripts, styles, SVG/MathML, event handlers or non-http(s)
/// URLs; links get `rel="noopener noreferrer"`; relative URLs are resolved against `base`
/// (or dropped when there is none). The input is depth-bounded first
/// (`extract::bounded`), so no nesting makes the sanitizer slow or deep.
pub fn sanitize_html(html: &str, base: Option<&url::Url>) -> String {
    if html.trim().is_empty() {
        return String::new();
    }
    sanitizer(base).clean(&bounded(html)).to_string()
}

/// Plain text of an HTML fragment on one line: tags dropped, entities decoded, block
/// elements separated by spaces, script/style contents removed, then cleaned (titles,
/// summaries, authors). The walk over the tree is a loop, not a recursion, and the tree
/// is depth-bounded (`extract::bounded`). [`html_to_paragraphs`] keeps the paragraphs.
pub fn html_to_text(html: &str) -> String {
    if !html.contains('<') && !html.contains('&') {
        return vietnamese::clean(html);
    }
    let frag = scraper::Html::parse_fragment(&bounded(html));
    let mut out = String::with_capacity(html.len());
    collect_text(frag.root_element(), &mut out);
    let spaced: String = out
        .chars()
        .map(|c| match c {
            BLOCK_MARK | BREAK_MARK => ' ',
            c => c,
        })
        .collect();
    vietnamese::clean(&spaced)
}

/// Elements whose content is not text a reader sees.
fn is_hidden(name: &str) -> bool {
    matches!(
        name,
        "script" | "style" | "noscript" | "template" | "svg" | "math"
    )
}

/// Block elements: a paragraph break before and after each in [`html_to_paragraphs`],
/// a space in [`html_to_text`].
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "tr"
            | "td"
            | "th"
            | "table"
            | "blockquote"
            | "pre"
            | "section"
            | "article"
            | "aside"
            | "figure"
            | "figcaption"
            | "header"
            | "footer"
            | "hr"
    )
}

/// Marks left in the raw text by [`collect_text`]: a block boundary, a `<br>`.
const BLOCK_MARK: char = '\u{2029}';
const BREAK_MARK: char = '\u{2028}';

/// The text under `root`, in document order, with [`BLOCK_MARK`] around each block and
/// [`BREAK_MARK`] for each `<br>`, walked with ego-tree's open/close edges (a loop over
/// parent/sibling links: no stack grows with the depth).
fn collect_text(root: scraper::ElementRef<'_>, out: &mut String) {
    use ego_tree::iter::Edge;
    // The hidden element being skipped, until its closing edge.
    let mut skipping: Option<ego_tree::NodeId> = None;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() || node.id() == root.id() {
                    continue;
                }
                match node.value() {
                    // A mark typed into the text itself is only a space.
                    scraper::Node::Text(t) => out.extend(t.chars().map(|c| match c {
                        BLOCK_MARK | BREAK_MARK => ' ',
                        c => c,
                    })),
                    scraper::Node::Element(e) if is_hidden(e.name()) => skipping = Some(node.id()),
                    scraper::Node::Element(e) if e.name() == "br" => out.push(BREAK_MARK),
                    scraper::Node::Element(e) if is_block(e.name()) => out.push(BLOCK_MARK),
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                } else if skipping.is_none()
                    && node.id() != root.id()
                    && let scraper::Node::Element(e) = node.value()
                    && is_block(e.name())
                {
                    out.push(BLOCK_MARK);
                }
            }
        }
    }
}

/// Plain text of an HTML fragment with its paragraphs kept: one blank line between
/// blocks (paragraphs, list items, headings, quotes), a line break for a `<br>` and a
/// paragraph break for two or more in a row; each line cleaned (`vietnamese::clean`), so
/// spaces are collapsed within it. The stored text of an item.
pub fn html_to_paragraphs(html: &str) -> String {
    let raw = if html.contains('<') || html.contains('&') {
        let frag = scraper::Html::parse_fragment(&bounded(html));
        let mut out = String::with_capacity(html.len());
        collect_text(frag.root_element(), &mut out);
        out
    } else {
        // Plain text: its blank lines are its paragraphs, its newlines its line breaks.
        html.replace("\r\n", "\n")
            .replace("\n\n", &BLOCK_MARK.to_string())
            .replace('\n', &BREAK_MARK.to_string())
    };
    let mut paragraphs: Vec<String> = Vec::new();
    for block in raw.split(BLOCK_MARK) {
        let mut lines: Vec<String> = Vec::new();
        for line in block.split(BREAK_MARK) {
            let line = vietnamese::clean(line);
            if line.is_empty() {
                // An empty line (two <br> in a row) ends the paragraph.
                if !lines.is_empty() {
                    paragraphs.push(lines.join("\n"));
                    lines.clear();
                }
            } else {
                lines.push(line);
            }
        }
        if !lines.is_empty() {
            paragraphs.push(lines.join("\n"));
        }
    }
    paragraphs.join("\n\n")
}

/// `text` on one line: every run of whitespace (paragraph breaks too) one space.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// First `max_chars` characters of `text`, cut at a word boundary, with an ellipsis.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let cut: String = text.chars().take(max_chars).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max_chars / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end_matches([',', ';', ':', ' ']))
}

/// Publication dates before this are treated as absurd.
fn earliest_believable() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(1995, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Keep a date only when it is believable: after 1995 and not more than a day ahead of `now`.
pub fn believable_date(d: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    d.filter(|d| *d >= earliest_believable() && *d <= now + chrono::Duration::days(1))
}

fn sha256_hex(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    let digest = h.finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The feed's GUID as the key uses it: cleaned, `None` when empty.
fn clean_guid(guid: Option<&str>) -> Option<String> {
    guid.map(vietnamese::clean).filter(|g| !g.is_empty())
}

/// The key from the entry's own identity: its GUID, else its canonical link.
fn identity_key(guid: Option<&str>, canonical: Option<&str>) -> Option<String> {
    match (guid, canonical) {
        (Some(g), _) => Some(format!("guid:{g}")),
        (None, Some(c)) => Some(format!("url:{c}")),
        (None, None) => None,
    }
}

/// The key [`normalize_entry`] gives this entry — GUID, else canonical link, else a hash of
/// source, title, date and summary — or `None` when it would drop the entry. An entry with
/// a link is never dropped, so a GUID or a canonical link is read straight from it; only
/// the rest (no link, or a key hashed from the cleaned text) is normalized to find out.
pub fn item_key(source_id: &str, raw: &RawEntry) -> Option<String> {
    if raw.link.is_some() {
        let guid = clean_guid(raw.guid.as_deref());
        let canonical = raw.link.as_deref().and_then(canonical_url);
        if let Some(key) = identity_key(guid.as_deref(), canonical.as_deref()) {
            return Some(key);
        }
    }
    normalize_entry(source_id, raw.clone(), None, Utc::now()).map(|i| i.key)
}

/// A link fit to show: an absolute http(s) URL (as parsed), else `None` — so no
/// `javascript:` or other scheme reaches a page or an email.
pub fn safe_url(u: Option<&str>) -> Option<String> {
    let parsed = url::Url::parse(u?.trim()).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| parsed.to_string())
}

/// Turn a parsed entry into a storable item. `None` when the entry has neither a title,
/// a link nor any text: there is nothing a person could use.
pub fn normalize_entry(
    source_id: &str,
    raw: RawEntry,
    base: Option<&url::Url>,
    now: DateTime<Utc>,
) -> Option<NewItem> {
    let url = raw.link.clone();
    let canonical = url.as_deref().and_then(canonical_url);
    let content_html = raw
        .content_html
        .as_deref()
        .or(raw.summary_html.as_deref())
        .map(|h| sanitize_html(h, base))
        .unwrap_or_default();
    let content_text = html_to_paragraphs(&content_html);
    let mut summary = raw
        .summary_html
        .as_deref()
        .map(html_to_text)
        .unwrap_or_default();
    if summary.is_empty() {
        summary = excerpt(&one_line(&content_text), 300);
    }
    let mut title = raw.title.as_deref().map(html_to_text).unwrap_or_default();
    if title.is_empty() {
        title = if !summary.is_empty() {
            excerpt(&summary, 90)
        } else if let Some(u) = &url {
            u.clone()
        } else {
            return None;
        };
    }
    let author = raw
        .author
        .as_deref()
        .map(html_to_text)
        .filter(|a| !a.is_empty());
    let image_url = raw
        .image
        .clone()
        .or_else(|| first_image(&content_html))
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"));
    let published_at = believable_date(raw.published.or(raw.updated), now);
    let updated_at = believable_date(raw.updated, now);
    let guid = clean_guid(raw.guid.as_deref());
    let key = identity_key(guid.as_deref(), canonical.as_deref()).unwrap_or_else(|| {
        format!(
            "hash:{}",
            sha256_hex(&[
                source_id,
                &title,
                &published_at.map(|d| d.to_rfc3339()).unwrap_or_default(),
                &summary,
            ])
        )
    });
    let thread = raw.thread.map(|mut t| {
        t.title = html_to_text(&t.title);
        t
    });
    let thread_hash = thread
        .as_ref()
        .map(|t| {
            format!(
                "{}\u{1f}{}\u{1f}{:?}\u{1f}{}",
                t.key, t.title, t.number, t.first
            )
        })
        .unwrap_or_default();
    let mut hashed = vec![
        title.as_str(),
        &summary,
        &content_text,
        url.as_deref().unwrap_or(""),
        author.as_deref().unwrap_or(""),
        image_url.as_deref().unwrap_or(""),
    ];
    // Only posts hash their thread: other items keep the hash they always had.
    if !thread_hash.is_empty() {
        hashed.push(&thread_hash);
    }
    let content_hash = sha256_hex(&hashed);
    Some(NewItem {
        source_id: source_id.to_string(),
        key,
        guid,
        url,
        canonical_url: canonical,
        title,
        author,
        summary,
        content_html,
        content_text,
        image_url,
        published_at,
        updated_at,
        content_hash,
        thread,
        tone: None,
    })
}

/// `src` of the first `<img>` in sanitized HTML.
fn first_image(html: &str) -> Option<String> {
    if !html.contains("<img") {
        return None;
    }
    static IMG: LazyLock<Option<scraper::Selector>> =
        LazyLock::new(|| scraper::Selector::parse("img[src]").ok());
    let sel = IMG.as_ref()?;
    let frag = scraper::Html::parse_fragment(&bounded(html));
    frag.select(sel)
        .find_map(|e| e.value().attr("src"))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_drops_tracking_and_fragment() {
        assert_eq!(
            canonical_url("HTTPS://Bao.VN/tin/1.html?utm_source=fb&id=3&fbclid=xyz&zarsrc=30#top")
                .as_deref(),
            Some("https://bao.vn/tin/1.html?id=3")
        );
        assert_eq!(
            canonical_url("https://bao.vn/a?utm_medium=x").as_deref(),
            Some("https://bao.vn/a")
        );
        assert_eq!(canonical_url("javascript:alert(1)"), None);
    }

    #[test]
    fn sanitizer_removes_active_content() {
        let dirty = r#"<p onclick="x()">Chào <script>alert(1)</script><a href="javascript:alert(1)">a</a>
            <a href="https://ok.vn/">b</a><svg onload="alert(1)"><circle/></svg>
            <iframe srcdoc="<script>alert(1)</script>"></iframe><img src="x" onerror="alert(1)"></p>"#;
        let clean = sanitize_html(dirty, None);
        for bad in [
            "script",
            "onclick",
            "javascript:",
            "svg",
            "onload",
            "iframe",
            "onerror",
        ] {
            assert!(!clean.contains(bad), "{bad} survived in {clean}");
        }
        assert!(clean.contains(r#"rel="noopener noreferrer""#), "{clean}");
    }

    #[test]
    fn relative_links_resolved_before_sanitizing() {
        let base = url::Url::parse("https://bao.vn/tin/").expect("url");
        let clean = sanitize_html(r#"<img src="/a.jpg"><a href="b.html">b</a>"#, Some(&base));
        assert!(clean.contains("https://bao.vn/a.jpg"), "{clean}");
        assert!(clean.contains("https://bao.vn/tin/b.html"), "{clean}");
    }

    #[test]
    fn text_of_html() {
        assert_eq!(
            html_to_text("<p>Kon&nbsp;Rẫy</p><p>nông <b>thôn</b> mới</p><script>x</script>"),
            "Kon Rẫy nông thôn mới"
        );
    }

    #[test]
    fn absurd_dates_dropped() {
        let now = Utc::now();
        assert_eq!(
            believable_date(Some(now + chrono::Duration::days(30)), now),
            None
        );
        let old = Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).single();
        assert_eq!(believable_date(old, now), None);
        assert_eq!(believable_date(Some(now), now), Some(now));
    }

    #[test]
    fn key_prefers_guid_then_canonical_link_then_hash() {
        let now = Utc::now();
        let mut raw = RawEntry {
            guid: Some("abc".into()),
            title: Some("Tiêu đề".into()),
            link: Some("https://bao.vn/1?utm_source=x".into()),
            ..Default::default()
        };
        let a = normalize_entry("s", raw.clone(), None, now).expect("item");
        assert_eq!(a.key, "guid:abc");
        raw.guid = None;
        let b = normalize_entry("s", raw.clone(), None, now).expect("item");
        assert_eq!(b.key, "url:https://bao.vn/1");
        raw.link = None;
        let c = normalize_entry("s", raw.clone(), None, now).expect("item");
        assert!(c.key.starts_with("hash:"));
        assert_eq!(
            c.key,
            normalize_entry("s", raw, None, now).expect("item").key
        );
    }

    #[test]
    fn item_key_is_the_key_normalize_gives() {
        let now = Utc::now();
        let entries = [
            RawEntry {
                guid: Some(" abc\u{200b} ".into()),
                link: Some("https://bao.vn/1".into()),
                ..Default::default()
            },
            RawEntry {
                title: Some("Tiêu đề".into()),
                link: Some("https://bao.vn/1?utm_source=x#top".into()),
                ..Default::default()
            },
            // A link that is not canonical: the key is hashed from the text.
            RawEntry {
                title: Some("<b>Tiêu đề</b>".into()),
                link: Some("javascript:void(0)".into()),
                summary_html: Some("Tóm tắt".into()),
                ..Default::default()
            },
            // No link: a GUID alone, then nothing usable at all.
            RawEntry {
                guid: Some("g".into()),
                content_html: Some("<p>Nội dung</p>".into()),
                ..Default::default()
            },
            RawEntry {
                guid: Some("g".into()),
                ..Default::default()
            },
        ];
        for raw in entries {
            let want = normalize_entry("s", raw.clone(), None, now).map(|i| i.key);
            assert_eq!(item_key("s", &raw), want, "{raw:?}");
        }
        assert_eq!(
            item_key("s", &RawEntry::default()),
            None,
            "dropped entries have no key"
        );
    }

    #[test]
    fn only_web_links_are_safe() {
        assert_eq!(
            safe_url(Some("javascript:alert(1)")),
            None,
            "no script links"
        );
        assert_eq!(safe_url(Some("/relative")), None);
        assert_eq!(safe_url(None), None);
        assert_eq!(
            safe_url(Some(" https://baodaklak.vn/a?b=1 ")).as_deref(),
            Some("https://baodaklak.vn/a?b=1")
        );
    }

    #[test]
    fn empty_entry_is_dropped() {
        assert!(normalize_entry("s", RawEntry::default(), None, Utc::now()).is_none());
    }
}
