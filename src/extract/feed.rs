//! Feed extraction through feed-rs: RSS 0.9x/1.0/2.0, Atom and JSON Feed. The raw bytes
//! go to the parser untouched (it reads the XML declaration's encoding itself), relative
//! links are resolved against the feed's URL, and each entry becomes a `RawEntry`.
//! feed-rs invents ids for entries without one; we turn that off so that "no GUID" stays
//! visible and `normalize` can fall back to the canonical link.
//!
//! feed-rs applies `xml:base` to an entry's link but not to the HTML of its content, which
//! `normalize` resolves against the feed's URL; so [`content_bases`] reads the `xml:base`
//! in force at each entry's content, and content under another base has its relative
//! links resolved here (`bounded::bounded_rebased`).

use feed_rs::model::{Entry, Feed, Link};

use crate::error::{Error, Result};
use crate::extract::bounded::bounded_rebased;
use crate::model::RawEntry;

/// What a feed document holds besides its entries that later stages use.
#[derive(Debug, Clone, Default)]
pub struct FeedMeta {
    pub title: Option<String>,
    /// RSS `<ttl>` in minutes.
    pub ttl_minutes: Option<u32>,
}

/// Parse a feed document. `base` is the URL it was fetched from.
pub fn parse_feed(bytes: &[u8], base: &url::Url) -> Result<(FeedMeta, Vec<RawEntry>)> {
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        .id_generator(|_links, _title, _uri| String::new())
        .sanitize_content(false)
        .build();
    let feed: Feed = parser.parse(bytes).map_err(|e| Error::FeedParse {
        url: base.to_string(),
        message: e.to_string(),
    })?;
    let meta = FeedMeta {
        title: feed.title.as_ref().map(|t| t.content.clone()),
        ttl_minutes: feed.ttl,
    };
    let mut entries: Vec<RawEntry> = feed.entries.iter().map(|e| entry_to_raw(e, base)).collect();
    let bases = content_bases(bytes, base);
    // The scan and feed-rs must agree on the entries, else no base is applied.
    if bases.len() == entries.len() {
        for (entry, content_base) in entries.iter_mut().zip(bases) {
            let Some(content_base) = content_base.filter(|b| b != base) else {
                continue;
            };
            for html in [&mut entry.content_html, &mut entry.summary_html]
                .into_iter()
                .flatten()
            {
                *html = bounded_rebased(html, &content_base);
            }
        }
    }
    Ok((meta, entries))
}

/// For each entry (`<item>`, `<entry>`) in document order, the `xml:base` in force at its
/// content (`content`, `content:encoded`, else `description`/`summary`, else the entry
/// itself), resolved against `base`; `None` where no `xml:base` applies. Empty when the
/// document has no `xml:base` or is not well-formed XML. A streaming scan: no tree, and
/// only elements that carry `xml:base` are remembered, so nesting costs nothing.
pub fn content_bases(bytes: &[u8], base: &url::Url) -> Vec<Option<url::Url>> {
    use quick_xml::events::Event;
    if !bytes.windows(8).any(|w| w == b"xml:base") {
        return Vec::new();
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Vec::new();
    };
    let mut reader = quick_xml::Reader::from_str(text);
    // (depth of the element that set it, the base): the innermost is in force.
    let mut bases: Vec<(usize, url::Url)> = Vec::new();
    let mut depth = 0usize;
    // Per entry: (depth of the entry element, base at the entry, at its summary, at its content).
    type Bases = (usize, Option<url::Url>, Option<url::Url>, Option<url::Url>);
    let mut entry: Option<Bases> = None;
    let mut out = Vec::new();
    loop {
        let (start, empty) = match reader.read_event() {
            Ok(Event::Start(e)) => (e, false),
            Ok(Event::Empty(e)) => (e, true),
            Ok(Event::End(_)) => {
                if let Some((d, at_entry, at_summary, at_content)) = entry.take() {
                    if d == depth {
                        out.push(at_content.or(at_summary).or(at_entry));
                    } else {
                        entry = Some((d, at_entry, at_summary, at_content));
                    }
                }
                while bases.last().is_some_and(|(d, _)| *d >= depth) {
                    bases.pop();
                }
                depth = depth.saturating_sub(1);
                continue;
            }
            Ok(Event::Eof) => break,
            Ok(_) => continue,
            Err(_) => return Vec::new(),
        };
        depth += 1;
        let current = bases.last().map(|(_, b)| b).unwrap_or(base);
        let own = start
            .attributes()
            .flatten()
            .find(|a| a.key.as_ref() == "xml:base")
            .and_then(|a| {
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .ok()
                    .map(|v| v.trim().to_string())
            })
            .and_then(|v| current.join(&v).ok());
        let here = own.clone().or_else(|| bases.last().map(|(_, b)| b.clone()));
        match (start.local_name().as_ref(), &mut entry) {
            ("item" | "entry", None) => entry = Some((depth, here, None, None)),
            ("content" | "encoded", Some((_, _, _, c))) if c.is_none() => *c = here,
            ("description" | "summary", Some((_, _, s, _))) if s.is_none() => *s = here,
            _ => {}
        }
        if empty {
            if entry.as_ref().is_some_and(|(d, ..)| *d == depth)
                && let Some((_, at_entry, _, _)) = entry.take()
            {
                out.push(at_entry);
            }
            depth -= 1;
        } else if let Some(own) = own {
            bases.push((depth, own));
        }
    }
    out
}

fn entry_to_raw(e: &Entry, base: &url::Url) -> RawEntry {
    let guid = Some(e.id.trim().to_string()).filter(|s| !s.is_empty());
    let link = pick_link(&e.links).and_then(|href| absolutize(base, href));
    let author = e
        .authors
        .iter()
        .filter_map(|p| p.name.as_deref().map(str::trim))
        .find(|n| !n.is_empty())
        .map(str::to_string);
    let summary_html = e
        .summary
        .as_ref()
        .map(|t| t.content.clone())
        .filter(|s| !s.trim().is_empty());
    let content_html = e
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .filter(|s| !s.trim().is_empty());
    RawEntry {
        guid,
        title: e.title.as_ref().map(|t| t.content.clone()),
        link,
        author,
        published: e.published,
        updated: e.updated,
        summary_html,
        content_html,
        image: lead_image(e).and_then(|u| absolutize(base, &u)),
    }
}

/// The entry's main link: `alternate` or unlabelled first, then anything but `self`/`enclosure`.
fn pick_link(links: &[Link]) -> Option<&str> {
    let usable = |l: &&Link| !l.href.trim().is_empty();
    links
        .iter()
        .filter(usable)
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or_else(|| {
            links
                .iter()
                .filter(usable)
                .find(|l| !matches!(l.rel.as_deref(), Some("self" | "enclosure" | "edit")))
        })
        .map(|l| l.href.trim())
}

/// Media thumbnails/contents of an image type, then image enclosures.
fn lead_image(e: &Entry) -> Option<String> {
    for m in &e.media {
        if let Some(t) = m.thumbnails.first() {
            return Some(t.image.uri.clone());
        }
        for c in &m.content {
            let is_image = c.content_type.as_ref().is_some_and(|t| t.ty() == "image");
            if is_image && let Some(u) = &c.url {
                return Some(u.to_string());
            }
        }
    }
    e.links
        .iter()
        .find(|l| {
            l.rel.as_deref() == Some("enclosure")
                && l.media_type
                    .as_deref()
                    .is_some_and(|t| t.starts_with("image/"))
        })
        .map(|l| l.href.clone())
}

/// Resolve `href` against `base`; only http(s) results are kept.
pub fn absolutize(base: &url::Url, href: &str) -> Option<String> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    let u = base.join(href).ok()?;
    matches!(u.scheme(), "http" | "https").then(|| u.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_item_without_guid_keeps_guid_empty() {
        let xml = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
            <item><title>Xin chào</title><link> /a/1.html </link></item></channel></rss>"#
            .as_bytes();
        let base = url::Url::parse("https://bao.example.vn/rss/x.rss").expect("url");
        let (_, entries) = parse_feed(xml, &base).expect("parse");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].guid, None);
        assert_eq!(
            entries[0].link.as_deref(),
            Some("https://bao.example.vn/a/1.html")
        );
        assert_eq!(entries[0].title.as_deref(), Some("Xin chào"));
    }

    #[test]
    fn garbage_is_a_parse_error() {
        let base = url::Url::parse("https://x.vn/").expect("url");
        let err = parse_feed(b"<html><body>not a feed</body></html>", &base).expect_err("bad");
        assert_eq!(err.kind(), "parse");
    }

    #[test]
    fn xml_base_applies_to_links_inside_content() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://bao.example.vn/">
  <title>t</title>
  <entry xml:base="/2024/03/">
    <id>1</id><title>Một</title><link href="bai-1.html"/>
    <content type="html">&lt;p&gt;&lt;a href="bai-2.html"&gt;tiếp&lt;/a&gt; &lt;img src="anh/1.jpg"&gt;&lt;/p&gt;</content>
  </entry>
  <entry>
    <id>2</id><title>Hai</title><link href="/khac.html"/>
    <summary type="html" xml:base="https://cdn.example.vn/x/">&lt;img src="a.png"&gt;</summary>
  </entry>
</feed>"#;
        let base = url::Url::parse("https://feeds.example.vn/atom.xml").expect("url");
        let (_, entries) = parse_feed(xml.as_bytes(), &base).expect("parse");
        assert_eq!(
            entries[0].link.as_deref(),
            Some("https://bao.example.vn/2024/03/bai-1.html")
        );
        let content = entries[0].content_html.as_deref().unwrap_or_default();
        assert!(
            content.contains("https://bao.example.vn/2024/03/bai-2.html"),
            "{content}"
        );
        assert!(
            content.contains("https://bao.example.vn/2024/03/anh/1.jpg"),
            "{content}"
        );
        let summary = entries[1].summary_html.as_deref().unwrap_or_default();
        assert!(
            summary.contains("https://cdn.example.vn/x/a.png"),
            "{summary}"
        );
    }
}
