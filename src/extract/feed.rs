//! Feed extraction through feed-rs: RSS 0.9x/1.0/2.0, Atom and JSON Feed. The raw bytes
//! go to the parser untouched (it reads the XML declaration's encoding itself), relative
//! links are resolved against the feed's URL, and each entry becomes a `RawEntry`.
//! feed-rs invents ids for entries without one; we turn that off so that "no GUID" stays
//! visible and `normalize` can fall back to the canonical link.

use feed_rs::model::{Entry, Feed, Link};

use crate::error::{Error, Result};
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
    // feed-rs drops a `media:thumbnail` that stands alone in an item (outside
    // `media:content`/`media:group`): read those from the XML, item by item.
    if entries.iter().any(|e| e.image.is_none()) {
        let thumbs = bare_thumbnails(bytes);
        if thumbs.len() == entries.len() {
            for (e, t) in entries.iter_mut().zip(thumbs) {
                if e.image.is_none() {
                    e.image = t.and_then(|u| absolutize(base, &u));
                }
            }
        }
    }
    Ok((meta, entries))
}

/// Per `<item>`/`<entry>` in document order: the `url` of its first `media:thumbnail`.
/// Not a feed (or not XML): nothing.
fn bare_thumbnails(bytes: &[u8]) -> Vec<Option<String>> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut out: Vec<Option<String>> = Vec::new();
    let mut depth_in_item = 0usize;
    let mut buf = Vec::new();
    loop {
        let ev = match reader.read_event_into(&mut buf) {
            Ok(ev) => ev,
            Err(_) => return Vec::new(),
        };
        match ev {
            Event::Start(e) => {
                let name = e.local_name();
                let local = name.as_ref();
                if depth_in_item == 0 && (local == "item" || local == "entry") {
                    out.push(None);
                    depth_in_item = 1;
                } else if depth_in_item > 0 {
                    depth_in_item += 1;
                    thumb_of(&e, &mut out);
                }
            }
            Event::Empty(e) if depth_in_item > 0 => thumb_of(&e, &mut out),
            Event::End(_) if depth_in_item > 0 => depth_in_item -= 1,
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    out
}

fn thumb_of(e: &quick_xml::events::BytesStart<'_>, out: &mut [Option<String>]) {
    if e.name().as_ref() != "media:thumbnail" {
        return;
    }
    let Some(slot) = out.last_mut().filter(|s| s.is_none()) else {
        return;
    };
    *slot = e
        .attributes()
        .flatten()
        .find(|a| a.key.as_ref() == "url")
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.to_string())
        })
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty());
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
        thread: None,
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
}
