//! Feed discovery for `gomtin sources add URL`: before any source exists, look at a
//! homepage (through the same polite `Fetcher`) and list the feeds it advertises —
//! `<link rel="alternate">` first, then links that look like feeds, then a few common
//! paths (`/rss`, `/feed`, …), the last two checked by fetching and parsing them. The CLI
//! turns the chosen one into a `[[sources]]` block (`opml::append_to_config`).

use std::collections::HashSet;
use std::sync::LazyLock;

use scraper::{Html, Selector};

use crate::error::Result;
use crate::extract::feed::{absolutize, parse_feed};
use crate::fetch::charset;
use crate::fetch::{Fetched, Fetcher, Validators};

/// A feed found for a site.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Candidate {
    pub url: String,
    pub title: Option<String>,
    /// How it was found: `self` (the URL is a feed), `link`, `a`, `path`.
    pub via: &'static str,
}

/// What a homepage offers.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Discovery {
    pub page_title: Option<String>,
    pub feeds: Vec<Candidate>,
}

const FEED_TYPES: &[&str] = &[
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
    "text/xml",
    "application/xml",
];

const COMMON_PATHS: &[&str] = &[
    "/rss",
    "/feed",
    "/rss.xml",
    "/feed.xml",
    "/atom.xml",
    "/index.xml",
    "/rss/home.rss",
];

/// Fetch `url` and return its feed title when it parses as a feed.
async fn probe(fetcher: &Fetcher, url: &url::Url) -> Option<Option<String>> {
    let Ok(Fetched::Body(body)) = fetcher.fetch(url, &Validators::default()).await else {
        return None;
    };
    let text = charset::decode(&body.bytes, body.content_type.as_deref()).text;
    let (meta, _) = parse_feed(charset::xml_as_utf8(&text).as_bytes(), &body.final_url).ok()?;
    Some(meta.title)
}

/// Look at `url` and list the feeds it offers.
pub async fn discover(fetcher: &Fetcher, url: &url::Url) -> Result<Discovery> {
    let body = match fetcher.fetch(url, &Validators::default()).await? {
        Fetched::Body(b) => b,
        Fetched::NotModified { .. } => return Ok(Discovery::default()),
    };
    let text = charset::decode(&body.bytes, body.content_type.as_deref()).text;
    let base = body.final_url.clone();
    if let Ok((meta, _)) = parse_feed(charset::xml_as_utf8(&text).as_bytes(), &base) {
        return Ok(Discovery {
            page_title: meta.title.clone(),
            feeds: vec![Candidate {
                url: base.to_string(),
                title: meta.title,
                via: "self",
            }],
        });
    }
    let (page_title, advertised, anchors) = read_homepage(&text, &base);
    let mut seen: HashSet<String> = HashSet::new();
    let mut feeds: Vec<Candidate> = Vec::new();
    for c in advertised {
        if seen.insert(c.url.clone()) {
            feeds.push(c);
        }
    }
    for href in anchors.into_iter().take(10) {
        if seen.contains(&href) {
            continue;
        }
        let Ok(u) = url::Url::parse(&href) else {
            continue;
        };
        if let Some(title) = probe(fetcher, &u).await {
            seen.insert(href.clone());
            feeds.push(Candidate {
                url: href,
                title,
                via: "a",
            });
        }
    }
    if feeds.is_empty() {
        for p in COMMON_PATHS {
            let Ok(u) = base.join(p) else { continue };
            if let Some(title) = probe(fetcher, &u).await
                && seen.insert(u.to_string())
            {
                feeds.push(Candidate {
                    url: u.to_string(),
                    title,
                    via: "path",
                });
            }
        }
    }
    Ok(Discovery { page_title, feeds })
}

/// The page title, the advertised feeds and the links that look like feeds.
fn read_homepage(html: &str, base: &url::Url) -> (Option<String>, Vec<Candidate>, Vec<String>) {
    static LINK: LazyLock<Option<Selector>> =
        LazyLock::new(|| Selector::parse("link[rel][href]").ok());
    static A: LazyLock<Option<Selector>> = LazyLock::new(|| Selector::parse("a[href]").ok());
    static TITLE: LazyLock<Option<Selector>> = LazyLock::new(|| Selector::parse("title").ok());
    let doc = Html::parse_document(&crate::extract::bounded::bounded(html));
    let title = TITLE
        .as_ref()
        .and_then(|s| doc.select(s).next())
        .map(|t| crate::vietnamese::clean(&t.text().collect::<String>()))
        .filter(|t| !t.is_empty());
    let mut advertised = Vec::new();
    if let Some(s) = LINK.as_ref() {
        for l in doc.select(s) {
            let v = l.value();
            let rel = v.attr("rel").unwrap_or_default().to_ascii_lowercase();
            let ty = v.attr("type").unwrap_or_default().to_ascii_lowercase();
            let is_feed = rel.split_whitespace().any(|r| r == "alternate")
                && FEED_TYPES.iter().any(|t| ty.starts_with(t));
            if !is_feed {
                continue;
            }
            if let Some(u) = v.attr("href").and_then(|h| absolutize(base, h)) {
                advertised.push(Candidate {
                    url: u,
                    title: v
                        .attr("title")
                        .map(crate::vietnamese::clean)
                        .filter(|t| !t.is_empty()),
                    via: "link",
                });
            }
        }
    }
    let mut anchors = Vec::new();
    if let Some(s) = A.as_ref() {
        for a in doc.select(s) {
            let Some(href) = a.value().attr("href") else {
                continue;
            };
            let h = href.to_ascii_lowercase();
            let looks = h.ends_with(".rss")
                || h.ends_with("/rss")
                || h.ends_with("/feed")
                || h.ends_with("/atom.xml")
                || h.ends_with("rss.xml")
                || h.ends_with("feed.xml");
            if looks
                && let Some(u) = absolutize(base, href)
                && !anchors.contains(&u)
            {
                anchors.push(u);
            }
        }
    }
    (title, advertised, anchors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_link_alternate() {
        let html = r#"<html><head><title>Cổng TTĐT huyện</title>
            <link rel="alternate" type="application/rss+xml" title="Tin mới" href="/rss/tin-moi.rss">
            <link rel="stylesheet" href="/a.css"></head>
            <body><a href="/rss/thoi-su.rss">RSS</a></body></html>"#;
        let base = url::Url::parse("https://huyen.example.vn/").expect("url");
        let (title, adv, anchors) = read_homepage(html, &base);
        assert_eq!(title.as_deref(), Some("Cổng TTĐT huyện"));
        assert_eq!(adv.len(), 1);
        assert_eq!(adv[0].url, "https://huyen.example.vn/rss/tin-moi.rss");
        assert_eq!(adv[0].title.as_deref(), Some("Tin mới"));
        assert_eq!(anchors, vec!["https://huyen.example.vn/rss/thoi-su.rss"]);
    }
}
