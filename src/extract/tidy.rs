//! The article body tidied after `extract::article` found it: what readers see as part of
//! the story but sits outside the body container comes in — the lead paragraph (sapo)
//! just before or beside it (VnExpress `h2.Lead`, Dân trí `h2.fon33`, NLĐ's `h3`, 24h's
//! `div.baiviet-head-noidung`) — and what is not the story goes out: "Tweet", "Chia sẻ
//! bài viết…" and other share lines, `>> related` links, and the byline or credit line at
//! the end ("Tin, ảnh: …", "Quang Phong - Tùng Nguyên"), which becomes the author. Also
//! the one test of a page that is no article at all (a homepage, a category list: many
//! headline links, little running text). Pure; works on HTML text with `scraper` (reading
//! the page) and `dom_query` (editing the body).

use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Html, Selector};

use crate::extract::page::{parse_date, text_of};

fn sel(css: &str) -> Option<Selector> {
    Selector::parse(css).ok()
}

fn re(p: &str) -> Option<Regex> {
    Regex::new(p).ok()
}

/// Elements that hold a paragraph of their own.
const BLOCKS: &str = "p, div, h2, h3, h4, h5, h6, li, td, blockquote, section, figcaption";

/// Whitespace-collapsed text of an HTML fragment.
fn fragment_text(html: &str) -> String {
    text_of(Html::parse_fragment(html).root_element())
}

/// Share, tweet, print and "like" lines: the whole (short) text is one of them ("Tweet",
/// "Chia sẻ bài viết của bạn…", "Facebook | Zalo | Email", "12 bình luận"); a paragraph
/// that only starts so ("Chia sẻ với PV, anh Nam…") is content.
fn is_share_line(t: &str) -> bool {
    static SHARE: LazyLock<Vec<Regex>> = LazyLock::new(|| {
        [
            r"(?i)^(?:tweet|share|like|thích|chia sẻ|gửi|in|email|bình luận|lưu|bản in|\+1)[\s:.…!]*$",
            r"(?i)^(?:chia sẻ|gửi|in|lưu|đánh dấu)\s+(?:bài viết|bài này|bài|tin này|tin|trang này|trang)\b.{0,40}$",
            r"(?i)^(?:facebook|zalo|twitter|google\+?|email|tweet|chia sẻ)(?:\s*[|·/,•-]?\s*(?:facebook|zalo|twitter|google\+?|email|tweet|in|chia sẻ))*$",
            r"(?i)^\d+\s*(?:thích|like|chia sẻ|bình luận|lượt xem)$",
        ]
        .iter()
        .filter_map(|p| re(p))
        .collect()
    });
    let t = t.trim();
    !t.is_empty() && t.chars().count() <= 80 && SHARE.iter().any(|r| r.is_match(t))
}

/// A related-story link: `>> Tiêu đề`, `» Tiêu đề`, `Xem thêm: …`, `Tin liên quan: …`.
fn is_related_link(t: &str) -> bool {
    let t = t.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{a0}');
    t.starts_with(">>")
        || t.starts_with('»')
        || t.starts_with("&gt;&gt;")
        || t.to_lowercase().starts_with("xem thêm")
        || t.to_lowercase().starts_with("tin liên quan")
}

/// The author named by a byline or credit line, when `t` is one: "Tin, ảnh: Vũ Phương
/// Thảo" → "Vũ Phương Thảo"; "Quang Phong - Tùng Nguyên", "K. Miên" as they are. A
/// source credit ("Theo Infonet") is content and stays.
pub fn byline_author(t: &str) -> Option<String> {
    static CREDIT: LazyLock<Option<Regex>> = LazyLock::new(|| {
        re(
            r"(?i)^(?:tin,?\s*ảnh|tin và ảnh|bài,?\s*ảnh|bài và ảnh|ảnh|bài|tin|video|clip|nhóm phóng viên|phóng viên|pv|thực hiện|bài viết)\s*:\s*(.{2,80})$",
        )
    });
    static NAMES: LazyLock<Option<Regex>> = LazyLock::new(|| {
        re(
            r"^\p{Lu}[\p{L}.]*(?:\s+\p{Lu}[\p{L}.]*){0,4}(?:\s*(?:-|–|,|&|và)\s*\p{Lu}[\p{L}.]*(?:\s+\p{Lu}[\p{L}.]*){0,4}){0,3}(?:\s*\([^)]{1,40}\))?$",
        )
    });
    let t = t.trim().trim_end_matches(['.', ' ']);
    if t.is_empty() || t.chars().count() > 90 {
        return None;
    }
    if let Some(c) = CREDIT.as_ref()?.captures(t) {
        return Some(c[1].trim().to_string());
    }
    let lower = t.to_lowercase();
    if lower.starts_with("theo ") || lower.starts_with("nguồn") {
        return None;
    }
    (t.chars().count() <= 60 && NAMES.as_ref()?.is_match(t)).then(|| t.to_string())
}

/// What tidying took out of a body.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tidied {
    pub html: String,
    /// The byline found at its end, as an author name.
    pub byline: Option<String>,
}

/// Take share lines, related links and the closing byline out of a body.
pub fn tidy_body(html: &str) -> Tidied {
    let doc = dom_query::Document::from(html);
    // Links first: a related link goes with its "Xem thêm:" block when nothing else is left.
    for a in doc.select("a").nodes().iter().rev() {
        if is_related_link(&a.text()) {
            a.remove_from_parent();
        }
    }
    let blocks = doc.select(BLOCKS);
    for node in blocks.nodes().iter().rev() {
        let t = node.text();
        let t = t.trim();
        let has_media = !dom_query::Selection::from(*node)
            .select("img, video, iframe")
            .is_empty();
        if has_media {
            continue;
        }
        if is_share_line(t) || (t.is_empty() && node.has_name("p")) {
            node.remove_from_parent();
        }
    }
    // A date line left at the top ("Thứ bảy, 16/11/2024 17:40") is metadata.
    let top: Vec<_> = doc
        .select(BLOCKS)
        .nodes()
        .iter()
        .filter(|n| !n.text().trim().is_empty())
        .take(3)
        .cloned()
        .collect();
    for n in top {
        let t = n.text();
        let t = t.trim();
        if t.chars().count() <= 80
            && t.chars().any(|c| c.is_ascii_digit())
            && dom_query::Selection::from(n).select(BLOCKS).is_empty()
            && parse_date(t, None, chrono_tz::UTC).is_some()
        {
            n.remove_from_parent();
        }
    }
    // The byline: the last block with text (or the body's last line).
    let mut byline = None;
    let leaves: Vec<_> = doc
        .select(BLOCKS)
        .nodes()
        .iter()
        .filter(|n| {
            dom_query::Selection::from(**n)
                .select(BLOCKS)
                .nodes()
                .is_empty()
                && !n.text().trim().is_empty()
        })
        .cloned()
        .collect();
    if let Some(last) = leaves.last()
        && let Some(a) = byline_author(&last.text())
    {
        byline = Some(a);
        last.remove_from_parent();
    } else if leaves.is_empty() {
        // A body of bare text and <br>s: its last line.
        let body = doc.select("body").inner_html().to_string();
        if let Some((head, tail)) = body.rsplit_once("<br>")
            && let Some(a) = byline_author(&fragment_text(tail))
        {
            return Tidied {
                html: head.to_string(),
                byline: Some(a),
            };
        }
    }
    Tidied {
        html: doc.select("body").inner_html().to_string(),
        byline,
    }
}

/// The lead paragraph of the article at `doc` whose title heading reads `title`, when it
/// sits outside `body_html`: the first block of running text after the title heading and
/// before the body (date lines, bylines, breadcrumbs and link lists skipped), as HTML
/// without its related links. `None` when the body already starts with it.
pub fn lead_of(doc: &Html, title: &str, body_html: &str) -> Option<String> {
    static H1: LazyLock<Option<Selector>> = LazyLock::new(|| sel("h1"));
    static BLOCK: LazyLock<Option<Selector>> = LazyLock::new(|| sel(BLOCKS));
    static A: LazyLock<Option<Selector>> = LazyLock::new(|| sel("a"));
    let norm = |s: &str| crate::vietnamese::clean(s).to_lowercase();
    let want = norm(title);
    let h1 = doc.select(H1.as_ref()?).find(|h| {
        let t = norm(&text_of(*h));
        t.chars().count() >= 8 && (t == want || want.starts_with(&t) || t.starts_with(&want))
    })?;
    let body = norm(&fragment_text(body_html));
    let block = BLOCK.as_ref()?;
    let mut looked = 0;
    let mut past = false;
    for node in doc.root_element().descendants() {
        if node.id() == h1.id() {
            past = true;
            continue;
        }
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        if !past || !block.matches(&el) || el.ancestors().any(|a| a.id() == h1.id()) {
            continue;
        }
        // Innermost blocks only (a wrapper's text is its children's).
        if el.select(block).next().is_some() {
            continue;
        }
        looked += 1;
        if looked > 30 {
            break;
        }
        let links: Vec<ElementRef<'_>> = el.select(A.as_ref()?).collect();
        let link_text: usize = links
            .iter()
            .filter(|a| !is_related_link(&text_of(**a)))
            .map(|a| text_of(*a).chars().count())
            .sum();
        let mut text = text_of(el);
        for a in &links {
            let t = text_of(*a);
            if is_related_link(&t) {
                text = text.replace(&t, "");
            }
        }
        let text = text.trim().to_string();
        let n = text.chars().count();
        if n < 60 {
            continue;
        }
        // The whole block: a lead often repeats a sentence of the body word for word.
        if body.contains(&norm(&text)) {
            // The body starts here (or already holds this lead).
            return None;
        }
        if link_text * 2 > n || (n < 120 && parse_date(&text, None, chrono_tz::UTC).is_some()) {
            continue;
        }
        if is_share_line(&text) || byline_author(&text).is_some() {
            continue;
        }
        let frag = dom_query::Document::from(el.inner_html().as_str());
        for a in frag.select("a").nodes().iter().rev() {
            if is_related_link(&a.text()) {
                a.remove_from_parent();
            }
        }
        let inner = frag.select("body").inner_html().to_string();
        let inner = inner.trim().trim_end_matches("<br>").trim_end();
        return Some(format!("<p>{inner}</p>"));
    }
    None
}

/// Whether a page is a listing rather than an article. The page links many headlines and
/// its body has no pictures of its own to speak of (linked thumbnails are teasers), and either little running text (under 400
/// characters in blocks that are not mostly links) or, when no heading bears the page's
/// title and no article metadata says otherwise, no more than a few teasers' worth.
/// `titles`: the page's `<title>` and meta titles; `article_meta`: `og:type = article`,
/// a publication time or a JSON-LD article.
pub fn looks_like_listing(
    doc: &Html,
    body_html: &str,
    titles: &[&str],
    article_meta: bool,
) -> bool {
    static A: LazyLock<Option<Selector>> = LazyLock::new(|| sel("a[href]"));
    static BLOCK: LazyLock<Option<Selector>> = LazyLock::new(|| sel(BLOCKS));
    static IMG: LazyLock<Option<Selector>> = LazyLock::new(|| sel("img"));
    static HEADING: LazyLock<Option<Selector>> = LazyLock::new(|| sel("h1, h2"));
    let (Some(a), Some(block), Some(img), Some(heading)) =
        (A.as_ref(), BLOCK.as_ref(), IMG.as_ref(), HEADING.as_ref())
    else {
        return false;
    };
    let headlines = doc
        .select(a)
        .filter(|l| text_of(*l).split_whitespace().count() >= 6)
        .count();
    if headlines < 20 {
        return false;
    }
    let body = Html::parse_fragment(body_html);
    // Pictures of the story itself: photographs (or figures) not inside a link — a linked
    // thumbnail is a teaser's, a GIF or PNG in a widget an icon, a logo or a chart.
    let pictures = body
        .select(img)
        .filter(|i| {
            let ancestors: Vec<ElementRef<'_>> =
                i.ancestors().filter_map(ElementRef::wrap).collect();
            let linked = ancestors.iter().any(|a| a.value().name() == "a");
            let figure = ancestors.iter().any(|a| a.value().name() == "figure");
            let src = i
                .value()
                .attr("src")
                .unwrap_or_default()
                .to_ascii_lowercase();
            let path = src.split(['?', '#']).next().unwrap_or_default();
            let photo = [".jpg", ".jpeg", ".webp", ".avif"]
                .iter()
                .any(|x| path.ends_with(x));
            !linked && (photo || figure)
        })
        .count();
    if pictures >= 3 {
        return false;
    }
    // Running text: blocks whose text is not mostly links.
    let mostly_text = |e: ElementRef<'_>| {
        let all = text_of(e).chars().count();
        let linked: usize = e.select(a).map(|l| text_of(l).chars().count()).sum();
        if linked * 10 < all * 3 { all } else { 0 }
    };
    let mut prose: usize = body
        .select(block)
        .filter(|b| b.select(block).next().is_none())
        .map(mostly_text)
        .sum();
    if prose == 0 {
        prose = mostly_text(body.root_element());
    }
    if prose < 400 {
        return true;
    }
    let norm = |s: &str| crate::vietnamese::clean(s).to_lowercase();
    let titles: Vec<String> = titles
        .iter()
        .map(|t| norm(t))
        .filter(|t| !t.is_empty())
        .collect();
    let titled = doc.select(heading).any(|e| {
        let t = norm(&text_of(e));
        t.chars().count() >= 8
            && titles
                .iter()
                .any(|x| x.starts_with(&t) || t.starts_with(x.as_str()))
    });
    !titled && !article_meta && prose < 1500
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bylines_and_credits() {
        assert_eq!(
            byline_author("Tin, ảnh: Vũ Phương Thảo").as_deref(),
            Some("Vũ Phương Thảo")
        );
        assert_eq!(
            byline_author("Quang Phong - Tùng Nguyên").as_deref(),
            Some("Quang Phong - Tùng Nguyên")
        );
        assert_eq!(byline_author("K. Miên").as_deref(), Some("K. Miên"));
        assert_eq!(
            byline_author("Ảnh: Ngọc Thắng").as_deref(),
            Some("Ngọc Thắng")
        );
        assert_eq!(byline_author("Theo Infonet"), None);
        assert_eq!(
            byline_author("Lượng người tập trung đông nghịt tại hang đá."),
            None
        );
        assert_eq!(byline_author("Hà Nội, ngày 5/1"), None);
    }

    #[test]
    fn share_lines_related_links_and_the_byline_go() {
        let html = r#"<p>Đoạn một của bài, đủ dài để là nội dung thật của một bài báo.</p>
            <p><a href="/x">&gt;&gt; Công chức được nghỉ 9 ngày</a></p>
            <div>Tweet</div><p>Chia sẻ bài viết của bạn…</p>
            <p>Đoạn hai.</p><p><strong>Quang Phong - Tùng Nguyên</strong></p>"#;
        let t = tidy_body(html);
        assert_eq!(t.byline.as_deref(), Some("Quang Phong - Tùng Nguyên"));
        let text = fragment_text(&t.html);
        assert_eq!(
            text,
            "Đoạn một của bài, đủ dài để là nội dung thật của một bài báo. Đoạn hai."
        );
    }
}
