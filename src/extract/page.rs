//! List pages read with CSS selectors (`kind = "page"`), the way RSS-Bridge's generic CSS
//! bridge reads a site without a feed. It sits where `extract::feed` sits: decoded HTML of
//! the list page comes in, one `RawEntry` per item goes out (link, and when the selectors
//! say so title, date, summary, image). The pipeline then follows each item's link to the
//! article page (`extract::article`). A selector that matches nothing is an error, never
//! an empty success, so that a changed layout is noticed.
//!
//! A selector may end in `@attr` to read an attribute instead of the text
//! (`img.thumb@data-src`, `time@datetime`).

use std::sync::LazyLock;

use scraper::{ElementRef, Html, Selector};

use crate::error::{Error, Result};
use crate::extract::bounded::bounded;
pub use crate::extract::dates::{parse_date, parse_date_at};
use crate::extract::feed::absolutize;
use crate::model::RawEntry;

// The selector keys are config's: their types and `css@attr` syntax are read and checked
// with the file (`config::sources`); this module compiles a source's set and runs it.
use crate::config::{PageSelectors, Sel, parse_selector};

/// The parsed selectors of a source, ready to run many times.
#[derive(Debug, Clone)]
pub struct CompiledSelectors {
    item: Option<Sel>,
    link: Sel,
    title: Option<Sel>,
    date: Option<Sel>,
    date_format: Option<String>,
    summary: Option<Sel>,
    image: Option<Sel>,
    author: Option<Sel>,
    next: Option<Sel>,
}

impl CompiledSelectors {
    pub fn new(p: &PageSelectors) -> Result<CompiledSelectors> {
        let one = |s: &str| {
            parse_selector(s).map_err(|message| Error::Selector {
                url: String::new(),
                message,
            })
        };
        let opt = |s: &Option<String>| s.as_deref().map(one).transpose();
        Ok(CompiledSelectors {
            item: opt(&p.item)?,
            link: one(&p.link)?,
            title: opt(&p.title)?,
            date: opt(&p.date)?,
            date_format: p.date_format.clone(),
            summary: opt(&p.summary)?,
            image: opt(&p.image)?,
            author: opt(&p.author)?,
            next: opt(&p.next)?,
        })
    }
}

/// The message of a selector that matched nothing on `url`.
pub fn zero_match(selector: &str, url: &str) -> Error {
    Error::Selector {
        url: url.to_string(),
        message: format!(
            "selector `{selector}` matched 0 elements on {url} (bộ chọn không khớp phần tử nào — trang đổi bố cục?)"
        ),
    }
}

/// Read the list page: one entry per item, in page order (relative dates against now).
pub fn extract_list(
    html: &str,
    base: &url::Url,
    sel: &CompiledSelectors,
    tz: chrono_tz::Tz,
) -> Result<Vec<RawEntry>> {
    extract_list_page(html, base, sel, tz, chrono::Utc::now()).map(|(entries, _)| entries)
}

/// Read the list page fetched at `now`: its entries in page order, and the next page's
/// address when the source has a `next` selector and the page links one.
pub fn extract_list_page(
    html: &str,
    base: &url::Url,
    sel: &CompiledSelectors,
    tz: chrono_tz::Tz,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Vec<RawEntry>, Option<url::Url>)> {
    // No tree deeper than `bounded::MAX_DEPTH` is built from a page (see `bounded`).
    let doc = Html::parse_document(&bounded(html));
    let next = sel.next.as_ref().and_then(|n| {
        let found = doc.select(&n.css).next()?;
        let href = match &n.attr {
            Some(a) => found.value().attr(a).map(str::to_string),
            None => link_href(found),
        }?;
        let u = url::Url::parse(&absolutize(base, &href)?).ok()?;
        (u != *base).then_some(u)
    });
    let items: Vec<ElementRef<'_>> = match &sel.item {
        Some(item) => doc.select(&item.css).collect(),
        None => doc.select(&sel.link.css).collect(),
    };
    if items.is_empty() {
        let which = sel.item.as_ref().unwrap_or(&sel.link);
        return Err(zero_match(&which.source, base.as_str()));
    }
    let mut out = Vec::new();
    let mut links_found = 0;
    for el in items {
        let link_el = if sel.item.is_some() {
            el.select(&sel.link.css).next().or_else(|| {
                // The item element may itself be the link (`item = "a.news"`).
                sel.link.css.matches(&el).then_some(el)
            })
        } else {
            Some(el)
        };
        let Some(link_el) = link_el else { continue };
        let href = match &sel.link.attr {
            Some(a) => link_el.value().attr(a).map(str::to_string),
            None => link_href(link_el),
        };
        let Some(link) = href.and_then(|h| absolutize(base, &h)) else {
            continue;
        };
        links_found += 1;
        let title = match &sel.title {
            Some(t) => first_value(el, t),
            None => Some(text_of(link_el))
                .filter(|t| !t.is_empty())
                .or_else(|| link_el.value().attr("title").map(str::to_string)),
        };
        let published = sel
            .date
            .as_ref()
            .and_then(|d| {
                let found = el.select(&d.css).next()?;
                match &d.attr {
                    Some(a) => found.value().attr(a).map(str::to_string),
                    None => found
                        .value()
                        .attr("datetime")
                        .map(str::to_string)
                        .or_else(|| Some(text_of(found))),
                }
            })
            .and_then(|t| parse_date_at(&t, sel.date_format.as_deref(), tz, now));
        let author = sel.author.as_ref().and_then(|a| first_value(el, a));
        let summary_html = sel.summary.as_ref().and_then(|s| {
            let found = el.select(&s.css).next()?;
            match &s.attr {
                Some(a) => found.value().attr(a).map(str::to_string),
                None => Some(found.inner_html()),
            }
        });
        let image = sel
            .image
            .as_ref()
            .and_then(|s| {
                let found = el.select(&s.css).next()?;
                match &s.attr {
                    Some(a) => found.value().attr(a).map(str::to_string),
                    None => image_src(found),
                }
            })
            .and_then(|u| absolutize(base, &u));
        out.push(RawEntry {
            guid: None,
            title,
            link: Some(link),
            author,
            published,
            updated: None,
            summary_html,
            content_html: None,
            image,
            thread: None,
        });
    }
    if links_found == 0 {
        return Err(zero_match(&sel.link.source, base.as_str()));
    }
    Ok((out, next))
}

fn first_value(el: ElementRef<'_>, sel: &Sel) -> Option<String> {
    let found = el.select(&sel.css).next()?;
    let v = match &sel.attr {
        Some(a) => found.value().attr(a)?.to_string(),
        None => text_of(found),
    };
    Some(v).filter(|v| !v.trim().is_empty())
}

/// `href` of the element, or of its first `<a href>` descendant.
fn link_href(el: ElementRef<'_>) -> Option<String> {
    if let Some(h) = el.value().attr("href") {
        return Some(h.to_string());
    }
    static A: LazyLock<Option<Selector>> = LazyLock::new(|| Selector::parse("a[href]").ok());
    let a = A.as_ref()?;
    el.select(a)
        .next()
        .and_then(|a| a.value().attr("href"))
        .map(str::to_string)
}

/// The image URL of an element: lazy-loading attributes first, then `src`, `srcset`.
pub fn image_src(el: ElementRef<'_>) -> Option<String> {
    static IMG: LazyLock<Option<Selector>> = LazyLock::new(|| Selector::parse("img").ok());
    let img = if el.value().name() == "img" {
        Some(el)
    } else {
        IMG.as_ref().and_then(|s| el.select(s).next())
    }?;
    let v = img.value();
    for a in ["data-src", "data-original", "data-lazy-src", "src"] {
        if let Some(u) = v.attr(a).map(str::trim).filter(|u| !u.is_empty())
            && !u.starts_with("data:")
        {
            return Some(u.to_string());
        }
    }
    v.attr("srcset")
        .and_then(|s| s.split(',').next())
        .and_then(|s| s.split_whitespace().next())
        .map(str::to_string)
}

/// The text of an element, whitespace collapsed.
pub fn text_of(el: ElementRef<'_>) -> String {
    el.text()
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TZ: chrono_tz::Tz = chrono_tz::Asia::Ho_Chi_Minh;

    fn list(html: &str, sel: PageSelectors) -> Result<Vec<RawEntry>> {
        let base = url::Url::parse("https://xa.example.vn/tin-tuc/").expect("url");
        extract_list(html, &base, &CompiledSelectors::new(&sel)?, TZ)
    }

    fn selectors(item: Option<&str>, link: &str) -> PageSelectors {
        PageSelectors {
            item: item.map(str::to_string),
            link: link.to_string(),
            ..Default::default()
        }
    }

    #[test]
    fn items_with_all_fields() {
        let html = r#"<ul><li class="news-item"><a href="/a/1.html">Họp dân ở thôn 3</a>
            <span class="d">12/03/2024 08:15</span><p class="s">Tóm <b>tắt</b></p>
            <img data-src="/i/1.jpg"></li>
            <li class="news-item"><a href="b/2.html" title="T2"></a></li></ul>"#;
        let mut sel = selectors(Some(".news-item"), "a");
        sel.date = Some(".d".into());
        sel.date_format = Some("%d/%m/%Y %H:%M".into());
        sel.summary = Some(".s".into());
        sel.image = Some("img".into());
        let got = list(html, sel).expect("items");
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].link.as_deref(),
            Some("https://xa.example.vn/a/1.html")
        );
        assert_eq!(got[0].title.as_deref(), Some("Họp dân ở thôn 3"));
        assert_eq!(
            got[0].published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2024-03-12T01:15:00+00:00")
        );
        assert_eq!(
            got[0].image.as_deref(),
            Some("https://xa.example.vn/i/1.jpg")
        );
        assert!(
            got[0]
                .summary_html
                .as_deref()
                .is_some_and(|s| s.contains("<b>tắt</b>"))
        );
        assert_eq!(got[1].title.as_deref(), Some("T2"));
        assert_eq!(
            got[1].link.as_deref(),
            Some("https://xa.example.vn/tin-tuc/b/2.html")
        );
    }

    #[test]
    fn zero_matches_is_an_error_naming_the_selector() {
        let err = list("<p>nothing</p>", selectors(Some(".news-item"), "a"))
            .expect_err("no items")
            .to_string();
        assert!(
            err.contains(
                "selector `.news-item` matched 0 elements on https://xa.example.vn/tin-tuc/"
            ),
            "{err}"
        );
        let err = list(
            "<div class=news-item><span>no link</span></div>",
            selectors(Some(".news-item"), "a.title"),
        )
        .expect_err("no links")
        .to_string();
        assert!(err.contains("selector `a.title` matched 0"), "{err}");
    }
}
