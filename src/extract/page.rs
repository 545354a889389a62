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

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use scraper::{ElementRef, Html, Selector};

use crate::error::{Error, Result};
use crate::extract::bounded::bounded;
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

/// Read the list page: one entry per item, in page order.
pub fn extract_list(
    html: &str,
    base: &url::Url,
    sel: &CompiledSelectors,
    tz: chrono_tz::Tz,
) -> Result<Vec<RawEntry>> {
    // No tree deeper than `bounded::MAX_DEPTH` is built from a page (see `bounded`).
    let doc = Html::parse_document(&bounded(html));
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
            .and_then(|t| parse_date(&t, sel.date_format.as_deref(), tz));
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
            author: None,
            published,
            updated: None,
            summary_html,
            content_html: None,
            image,
        });
    }
    if links_found == 0 {
        return Err(zero_match(&sel.link.source, base.as_str()));
    }
    Ok(out)
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

/// Read a date written by people or machines. With `format`, that format first (a date-only
/// format gives midnight); then RFC 3339 / RFC 2822, then the Vietnamese habits
/// `dd/mm/yyyy [hh:mm]`, `dd-mm-yyyy`, `hh:mm dd/mm/yyyy`, `ngày d tháng m năm yyyy`.
/// Local times are read in `tz`.
pub fn parse_date(text: &str, format: Option<&str>, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let local = |n: NaiveDateTime| {
        tz.from_local_datetime(&n)
            .earliest()
            .map(|d| d.with_timezone(&Utc))
    };
    if let Some(f) = format {
        if let Ok(d) = DateTime::parse_from_str(t, f) {
            return Some(d.with_timezone(&Utc));
        }
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            return local(n);
        }
        if let Ok(d) = NaiveDate::parse_from_str(t, f) {
            return local(d.and_hms_opt(0, 0, 0)?);
        }
        // The format may describe only part of the text ("Cập nhật: 12/03/2024 08:15").
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(t) {
        return Some(d.with_timezone(&Utc));
    }
    // ISO without seconds or without zone: 2012-12-23T14:02+07:00, 2012-12-23 14:02:00
    for f in ["%Y-%m-%dT%H:%M%:z", "%Y-%m-%dT%H:%M%z"] {
        if let Ok(d) = DateTime::parse_from_str(t, f) {
            return Some(d.with_timezone(&Utc));
        }
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            return local(n);
        }
    }
    static VN: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
        regex::Regex::new(
            r"(?ix)
            (?:(?P<h1>\d{1,2})\s*[:hg]\s*(?P<m1>\d{2})(?:\s*:\s*\d{2})?\s*(?P<ap1>sáng|trưa|chiều|tối|am|pm|sa|ch)?\s*(?:,|-|\||ngày)?\s*)?
            \b(?P<d>\d{1,2})\s*[/.-]\s*(?P<mo>\d{1,2})\s*[/.-]\s*(?P<y>\d{4}|\d{2})\b
            (?:\s*(?:,|-|\||lúc|at)?\s*(?P<h2>\d{1,2})\s*[:hg]\s*(?P<m2>\d{2})(?:\s*:\s*\d{2})?\s*(?P<ap2>sáng|trưa|chiều|tối|am|pm|sa|ch)?)?",
        )
        .ok()
    });
    static VN_WORDS: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
        regex::Regex::new(r"(?i)ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})").ok()
    });
    static ISO_IN_TEXT: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
        regex::Regex::new(r"\b(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?").ok()
    });
    let num = |c: &regex::Captures<'_>, name: &str| -> Option<u32> {
        c.name(name).and_then(|m| m.as_str().parse().ok())
    };
    if let Some(c) = ISO_IN_TEXT.as_ref().and_then(|re| re.captures(t)) {
        let get = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
        let date = NaiveDate::from_ymd_opt(get(1)? as i32, get(2)?, get(3)?)?;
        return local(date.and_hms_opt(get(4).unwrap_or(0), get(5).unwrap_or(0), 0)?);
    }
    if let Some(c) = VN.as_ref().and_then(|re| re.captures(t)) {
        let (d, mo, mut y) = (num(&c, "d")?, num(&c, "mo")?, num(&c, "y")?);
        if y < 100 {
            y += 2000;
        }
        let (mut h, m, ap) = match (num(&c, "h1"), num(&c, "m1"), num(&c, "h2"), num(&c, "m2")) {
            (Some(h), Some(m), _, _) => (h, m, c.name("ap1")),
            (_, _, Some(h), Some(m)) => (h, m, c.name("ap2")),
            _ => (0, 0, None),
        };
        let pm = ap.is_some_and(|a| {
            matches!(
                a.as_str().to_lowercase().as_str(),
                "chiều" | "tối" | "pm" | "ch"
            )
        });
        if pm && h < 12 {
            h += 12;
        }
        let date = NaiveDate::from_ymd_opt(y as i32, mo, d)?;
        return local(date.and_hms_opt(h, m, 0)?);
    }
    if let Some(c) = VN_WORDS.as_ref().and_then(|re| re.captures(t)) {
        let get = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
        let date = NaiveDate::from_ymd_opt(get(3)? as i32, get(2)?, get(1)?)?;
        return local(date.and_hms_opt(0, 0, 0)?);
    }
    None
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
            title: None,
            date: None,
            date_format: None,
            summary: None,
            image: None,
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

    #[test]
    fn vietnamese_dates() {
        let rfc = |s: &str| parse_date(s, None, TZ).map(|d| d.to_rfc3339());
        assert_eq!(
            rfc("Thứ Hai, 24/12/2012 - 07:30").as_deref(),
            Some("2012-12-24T00:30:00+00:00")
        );
        assert_eq!(
            rfc("08:15 12-03-2024").as_deref(),
            Some("2024-03-12T01:15:00+00:00")
        );
        assert_eq!(
            rfc("Cập nhật ngày 5 tháng 1 năm 2025").as_deref(),
            Some("2025-01-04T17:00:00+00:00")
        );
        assert_eq!(
            rfc("2012-12-23T14:02+07:00").as_deref(),
            Some("2012-12-23T07:02:00+00:00")
        );
        assert_eq!(
            rfc("Cập nhật thứ hai, ngày 24/12/12 11:05 tối").as_deref(),
            Some("2012-12-24T16:05:00+00:00")
        );
        assert_eq!(
            rfc("14/12/12 at 16:18").as_deref(),
            Some("2012-12-14T09:18:00+00:00")
        );
        assert_eq!(
            rfc("2012-12-25").as_deref(),
            Some("2012-12-24T17:00:00+00:00")
        );
        assert_eq!(rfc("hôm qua"), None);
    }
}
