//! Article pages: the main content of one news page. It sits after `fetch` and
//! `fetch::charset` for the item links that page sources (and `full_content` feeds) follow,
//! and before `normalize`, which sanitizes the HTML and cleans the text. The body comes
//! from the source's `article` selector when the config gives one, otherwise from
//! dom_smoothie (a readability port). Title, author, published time and lead image come
//! from the page's metadata — `<meta>` (Open Graph, `article:*`, `itemprop`), JSON-LD —
//! with a visible date line as the last resort, since many Vietnamese CMSs leave the meta
//! tags empty.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use scraper::{ElementRef, Html, Selector};

use crate::config::Sel;
use crate::error::{Error, Result};
use crate::extract::bounded::bounded;
use crate::extract::feed::absolutize;
use crate::extract::page::{parse_date, text_of};
use crate::model::RawEntry;

/// What an article page yields. Text fields are raw (not yet cleaned); `content_html`
/// is not yet sanitized.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Article {
    pub title: Option<String>,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub modified: Option<DateTime<Utc>>,
    pub image: Option<String>,
    pub description: Option<String>,
    pub content_html: String,
}

impl Article {
    /// This article as an entry for `normalize`, linked to `url`.
    pub fn into_entry(self, url: &url::Url) -> RawEntry {
        RawEntry {
            guid: None,
            title: self.title,
            link: Some(url.to_string()),
            author: self.author,
            published: self.published,
            updated: self.modified,
            summary_html: self.description,
            content_html: Some(self.content_html).filter(|c| !c.trim().is_empty()),
            image: self.image,
        }
    }

    /// Fill what a feed or list entry lacks from this article. The entry's own title and
    /// dates win for feeds (`prefer_entry_title`); the article's body always wins.
    pub fn merge_into(self, mut entry: RawEntry, prefer_entry_title: bool) -> RawEntry {
        let entry_title = entry.title.take().filter(|t| !t.trim().is_empty());
        entry.title = if prefer_entry_title {
            entry_title.or(self.title)
        } else {
            self.title.or(entry_title)
        };
        entry.author = self.author.or(entry.author);
        entry.published = entry.published.or(self.published);
        entry.updated = entry.updated.or(self.modified);
        entry.summary_html = entry.summary_html.or(self.description);
        if !self.content_html.trim().is_empty() {
            entry.content_html = Some(self.content_html);
        }
        entry.image = entry.image.or(self.image);
        entry
    }
}

fn sel(css: &str) -> Option<Selector> {
    Selector::parse(css).ok()
}

static META: LazyLock<Option<Selector>> = LazyLock::new(|| sel("meta[content]"));
static JSON_LD: LazyLock<Option<Selector>> =
    LazyLock::new(|| sel(r#"script[type="application/ld+json"]"#));
static AUTHOR: LazyLock<Option<Selector>> = LazyLock::new(|| sel(r#"[itemprop="author"]"#));
static H1: LazyLock<Option<Selector>> = LazyLock::new(|| sel("h1"));
static TITLE: LazyLock<Option<Selector>> = LazyLock::new(|| sel("title"));
static TIME: LazyLock<Option<Selector>> = LazyLock::new(|| sel("time[datetime]"));
static DATEISH: LazyLock<Option<Selector>> = LazyLock::new(|| {
    sel(
        r#"[class*="date"], [class*="Date"], [class*="time"], [class*="Time"], [id*="date"], [id*="Date"], [id*="time"], [class*="ngay"]"#,
    )
});

/// Extract the article at `url` from its decoded HTML.
pub fn extract_article(
    html: &str,
    url: &url::Url,
    body_selector: Option<&Sel>,
    tz: chrono_tz::Tz,
) -> Result<Article> {
    // No tree deeper than `bounded::MAX_DEPTH` is built from a page (see `bounded`).
    let html = &*bounded(html);
    let doc = Html::parse_document(html);
    let meta = meta_map(&doc);
    let ld = json_ld(&doc);
    let get = |keys: &[&str]| -> Option<String> {
        keys.iter()
            .find_map(|k| meta.get(*k))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };

    let content_html = match body_selector {
        Some(s) => {
            let parts: Vec<String> = doc.select(&s.css).map(|e| e.inner_html()).collect();
            if parts.is_empty() {
                return Err(crate::extract::page::zero_match(&s.source, url.as_str()));
            }
            parts.join("\n")
        }
        None => readable_content(html, url)?,
    };

    let h1 = H1
        .as_ref()
        .and_then(|s| doc.select(s).map(text_of).find(|t| t.chars().count() >= 8));
    let page_title = TITLE
        .as_ref()
        .and_then(|s| doc.select(s).map(text_of).find(|t| !t.is_empty()));
    let meta_title = get(&["og:title", "twitter:title"])
        .or_else(|| ld.get("headline").cloned())
        .or_else(|| get(&["title"]));
    let title = choose_title(meta_title, h1, page_title);
    let content_html = match (&title, body_selector) {
        (Some(t), None) => drop_title_heading(&content_html, t),
        _ => content_html,
    };

    let published = [
        get(&[
            "article:published_time",
            "datepublished",
            "pubdate",
            "og:published_time",
            "dc.date.issued",
            "dc.date",
            "date",
        ]),
        ld.get("datePublished").cloned(),
    ]
    .into_iter()
    .flatten()
    .find_map(|t| {
        let d = parse_date(&t, None, tz)?;
        // A date-only meta ("2012-12-25") is midnight; the visible line may add the time.
        if !t.contains(':')
            && let Some(v) = meta_parent_date(&doc, tz).or_else(|| visible_date(&doc, tz))
            && v.with_timezone(&tz).date_naive() == d.with_timezone(&tz).date_naive()
        {
            return Some(v);
        }
        Some(d)
    })
    .or_else(|| {
        let s = TIME.as_ref()?;
        doc.select(s)
            .filter_map(|e| e.value().attr("datetime"))
            .find_map(|t| parse_date(t, None, tz))
    })
    .or_else(|| visible_date(&doc, tz));
    let modified = [
        get(&["article:modified_time", "datemodified", "og:updated_time"]),
        ld.get("dateModified").cloned(),
    ]
    .into_iter()
    .flatten()
    .find_map(|t| parse_date(&t, None, tz));

    let image = get(&["og:image", "og:image:url", "twitter:image", "image"])
        .or_else(|| ld.get("image").cloned())
        .and_then(|u| absolutize(url, &u));
    let author = ld
        .get("author")
        .cloned()
        .or_else(|| get(&["article:author"]).filter(|a| !a.starts_with("http")))
        .or_else(|| get(&["author"]).filter(|a| !looks_like_vendor(a)))
        .or_else(|| {
            let s = AUTHOR.as_ref()?;
            doc.select(s)
                .filter(|e| e.value().name() != "meta")
                .map(text_of)
                .find(|t| !t.is_empty() && t.chars().count() <= 80)
        });
    let description = get(&["og:description", "description", "twitter:description"])
        .or_else(|| ld.get("description").cloned())
        .map(|d| html_escape::encode_text(&d).into_owned());

    Ok(Article {
        title,
        author,
        published,
        modified,
        image,
        description,
        content_html,
    })
}

/// Main content by readability (dom_smoothie).
fn readable_content(html: &str, url: &url::Url) -> Result<String> {
    let err = |message: String| Error::Article {
        url: url.to_string(),
        message,
    };
    let cfg = dom_smoothie::Config {
        max_elements_to_parse: 100_000,
        // Classes let the clean-up below recognise date lines; ammonia drops them later.
        keep_classes: true,
        ..Default::default()
    };
    let mut r = dom_smoothie::Readability::new(html, Some(url.as_str()), Some(cfg))
        .map_err(|e| err(e.to_string()))?;
    let article = r.parse().map_err(|e| err(e.to_string()))?;
    let content = dom_query::Document::from(article.content.to_string());
    drop_link_lists(&content);
    drop_date_lines(&content);
    Ok(content.select("body").inner_html().to_string())
}

/// Remove "related news" blocks that readability kept: lists, tables and boxes made mostly
/// of links (at least 3 links, link text >= 60% of the text, little other text). Deepest
/// first, so that a wrapper around the article loses its link lists and stays.
fn drop_link_lists(doc: &dom_query::Document) {
    // No `form`: ASP.NET sites wrap the whole page in one.
    let sel = doc.select("ul, ol, dl, table, div, p, section, aside, nav, select");
    let nodes: Vec<_> = sel.nodes().iter().rev().cloned().collect();
    for node in nodes {
        if node.has_name("select") || node.has_name("nav") {
            drop_with_label(&node);
            continue;
        }
        let text = node.text();
        let text_len = text
            .split_whitespace()
            .map(|w| w.chars().count())
            .sum::<usize>();
        if text_len == 0 {
            continue;
        }
        // A dangling label whose control readability removed ("Xem theo ngày tháng:").
        let t = text.trim();
        if t.ends_with(':') && t.chars().count() <= 40 && node.next_element_sibling().is_none() {
            node.remove_from_parent();
            continue;
        }
        let links = dom_query::Selection::from(node).select("a");
        let n_links = links.nodes().len();
        if n_links < 3 {
            continue;
        }
        let link_len: usize = links
            .nodes()
            .iter()
            .map(|a| {
                a.text()
                    .split_whitespace()
                    .map(|w| w.chars().count())
                    .sum::<usize>()
            })
            .sum();
        if link_len * 10 >= text_len * 6 && text_len - link_len.min(text_len) < 200 {
            drop_with_label(&node);
        }
    }
}

/// The title is metadata; a copy of it at the top of the body is noise (readability
/// turns `h1` into `h2`).
fn drop_title_heading(html: &str, title: &str) -> String {
    let title = crate::vietnamese::clean(title);
    let doc = dom_query::Document::from(html);
    let mut changed = false;
    for h in doc.select("h1, h2").nodes() {
        if crate::vietnamese::clean(&h.text()) == title {
            h.remove_from_parent();
            changed = true;
        }
    }
    if changed {
        doc.select("body").inner_html().to_string()
    } else {
        html.to_string()
    }
}

/// Remove the "source | date" line that sits above many articles (`class="…date…"`).
fn drop_date_lines(doc: &dom_query::Document) {
    let sel = doc.select(r#"[class*="date"], [class*="time"], [id*="date"], [id*="time"]"#);
    for node in sel.nodes().iter().rev() {
        let text = node.text();
        let t = text.trim();
        if !t.is_empty() && t.chars().count() <= 80 && parse_date(t, None, chrono_tz::UTC).is_some()
        {
            node.remove_from_parent();
        }
    }
}

/// Remove `node` and the short label just before it ("Tin liên quan", "Xem theo ngày:").
fn drop_with_label(node: &dom_query::NodeRef<'_>) {
    if let Some(prev) = node.prev_element_sibling() {
        let t = prev.text();
        let t = t.trim();
        let heading = ["h2", "h3", "h4", "h5", "h6"]
            .iter()
            .any(|h| prev.has_name(h));
        if t.chars().count() <= 40 && (heading || t.ends_with(':')) {
            prev.remove_from_parent();
        }
    }
    node.remove_from_parent();
}

/// Meta tags by lowercased `property`, `name` or `itemprop` (first non-empty wins).
fn meta_map(doc: &Html) -> HashMap<String, String> {
    let mut m = HashMap::new();
    let Some(s) = META.as_ref() else { return m };
    for e in doc.select(s) {
        let v = e.value();
        let Some(content) = v.attr("content").filter(|c| !c.trim().is_empty()) else {
            continue;
        };
        for a in ["property", "name", "itemprop"] {
            if let Some(k) = v.attr(a) {
                m.entry(k.trim().to_ascii_lowercase())
                    .or_insert_with(|| content.to_string());
            }
        }
    }
    m
}

/// The first JSON-LD article-like object's string fields we use.
fn json_ld(doc: &Html) -> HashMap<&'static str, String> {
    let mut out = HashMap::new();
    let Some(s) = JSON_LD.as_ref() else {
        return out;
    };
    for script in doc.select(s) {
        let text: String = script.text().collect();
        let Ok(v) = serde_json::from_str::<serde_json::Value>(text.trim()) else {
            continue;
        };
        let mut objects = Vec::new();
        collect_ld_objects(&v, &mut objects);
        for o in objects {
            let ty = o.get("@type").map(|t| t.to_string()).unwrap_or_default();
            if !(ty.contains("Article") || ty.contains("Posting") || ty.contains("Report")) {
                continue;
            }
            for key in [
                "headline",
                "datePublished",
                "dateModified",
                "description",
                "image",
                "author",
            ] {
                if let Some(val) = o.get(key).and_then(ld_string) {
                    out.entry(key).or_insert(val);
                }
            }
            return out;
        }
    }
    out
}

fn collect_ld_objects<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a serde_json::Value>) {
    match v {
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_ld_objects(x, out)),
        serde_json::Value::Object(o) => {
            out.push(v);
            if let Some(g) = o.get("@graph") {
                collect_ld_objects(g, out);
            }
        }
        _ => {}
    }
}

/// A string, the first of an array, or the `name`/`url` of an object.
fn ld_string(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()).filter(|s| !s.trim().is_empty()),
        serde_json::Value::Array(a) => a.iter().find_map(ld_string),
        serde_json::Value::Object(o) => ["name", "url", "@id"]
            .iter()
            .find_map(|k| o.get(*k).and_then(ld_string)),
        _ => None,
    }
}

/// Prefer the page's `<h1>` when the meta title only adds SEO words or a site name to it.
fn choose_title(meta: Option<String>, h1: Option<String>, page: Option<String>) -> Option<String> {
    let norm = |s: &str| crate::vietnamese::clean(s).to_lowercase();
    if let Some(h1) = &h1 {
        let h = norm(h1);
        for candidate in [&meta, &page].into_iter().flatten() {
            let c = norm(candidate);
            if c == h || (c.starts_with(&h) && h.chars().count() >= 15) {
                return Some(h1.clone());
            }
        }
    }
    if let Some(m) = meta {
        return Some(m);
    }
    if let Some(h1) = h1 {
        return Some(h1);
    }
    let page = page?;
    // "Tiêu đề - Tên báo | Chuyên mục": drop the site part after the first separator.
    for sep in [" | ", " - ", " – ", " — "] {
        if let Some((head, _)) = page.split_once(sep)
            && head.chars().count() >= 15
        {
            return Some(head.trim().to_string());
        }
    }
    Some(page)
}

/// `meta name="author"` on many Vietnamese sites names the CMS vendor, not the writer.
fn looks_like_vendor(a: &str) -> bool {
    let l = a.to_lowercase();
    ["channelvn", "vccorp", "fpt", "cms", ".vn", ".com", "admin"]
        .iter()
        .any(|v| l.contains(v))
}

/// A date line shown on the page (`class="date"`, `id="...time"`): the first element of
/// that kind whose text holds a parsable, short date.
fn visible_date(doc: &Html, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    let s = DATEISH.as_ref()?;
    doc.select(s).filter(|e| !is_elsewhere(*e)).find_map(|e| {
        let from_title = e
            .value()
            .attr("title")
            .and_then(|t| parse_date(t, None, tz));
        let text = text_of(e);
        from_title.or_else(|| {
            (!text.is_empty() && text.chars().count() <= 120)
                .then(|| parse_date(&text, None, tz))
                .flatten()
        })
    })
}

/// The text around an in-body `<meta itemprop="datePublished">` (it often carries the time).
fn meta_parent_date(doc: &Html, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    static M: LazyLock<Option<Selector>> =
        LazyLock::new(|| sel(r#"body meta[itemprop="datePublished"]"#));
    let m = doc.select(M.as_ref()?).next()?;
    let parent = m.parent().and_then(ElementRef::wrap)?;
    parse_date(&text_of(parent), None, tz)
}

/// Dates inside links or list items belong to other articles (related news, tickers).
fn is_elsewhere(e: ElementRef<'_>) -> bool {
    let mut node = Some(*e);
    while let Some(n) = node {
        if let Some(el) = n.value().as_element()
            && matches!(
                el.name(),
                "a" | "li" | "script" | "style" | "option" | "select"
            )
        {
            return true;
        }
        node = n.parent();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_from_json_ld_and_meta() {
        let html = r#"<html><head><title>Trang - Báo X</title>
            <meta property="og:image" content="/anh/1.jpg">
            <script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle",
              "headline":"Kon Rẫy đạt chuẩn nông thôn mới","datePublished":"2024-03-12T08:15:00+07:00",
              "author":{"@type":"Person","name":"Minh Anh"}}</script></head>
            <body><article><p>Đoạn một khá dài để đọc.</p><p>Đoạn hai.</p></article></body></html>"#;
        let url = url::Url::parse("https://bao.example.vn/a/1.html").expect("url");
        let body = crate::config::parse_selector("article").expect("sel");
        let a = extract_article(html, &url, Some(&body), chrono_tz::Asia::Ho_Chi_Minh)
            .expect("article");
        assert_eq!(a.title.as_deref(), Some("Kon Rẫy đạt chuẩn nông thôn mới"));
        assert_eq!(a.author.as_deref(), Some("Minh Anh"));
        assert_eq!(
            a.published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2024-03-12T01:15:00+00:00")
        );
        assert_eq!(a.image.as_deref(), Some("https://bao.example.vn/anh/1.jpg"));
        assert!(a.content_html.contains("Đoạn hai."));
    }

    #[test]
    fn missing_body_selector_is_an_error() {
        let url = url::Url::parse("https://bao.example.vn/a/1.html").expect("url");
        let body = crate::config::parse_selector(".noi-dung").expect("sel");
        let err =
            extract_article("<p>x</p>", &url, Some(&body), chrono_tz::UTC).expect_err("zero match");
        assert_eq!(err.kind(), "selector");
    }
}
