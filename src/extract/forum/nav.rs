//! Page navigation of forum threads and boards: which page this is, how many there are,
//! where the next one is, and the address of any page — also of pages the page bar does
//! not link (a long thread's bar shows "1 2 3 … 40"). Forums write page addresses in a few
//! ways: a page number (`?page=3`, `/page-3`, `/page3`, `page/3`) or an offset of posts
//! (`&start=30` in phpBB, `topic=12.30` in SMF); the way is learnt from the bar's own
//! links, whose text is the page number, so no forum needs a rule of its own.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

/// How a page's number sits in its address.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Style {
    /// `prefix` N `suffix` with N the page number.
    Number { prefix: String, suffix: String },
    /// `prefix` K `suffix` with K = (N - 1) × `per_page`.
    Offset {
        prefix: String,
        suffix: String,
        per_page: u32,
    },
}

/// What a thread or board page says about its pages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageNav {
    /// This page's number (1 when the page says nothing).
    pub current: u32,
    /// The number of pages, when the page tells it.
    pub last: Option<u32>,
    /// The next page's address, when there is one.
    pub next: Option<url::Url>,
    /// Addresses of the pages the bar links, by number.
    pub known: BTreeMap<u32, url::Url>,
    style: Option<Style>,
    /// The address of page 1 (this one without its page part).
    first: Option<url::Url>,
}

/// The page parts of addresses, by number: `([?&;]page=)N`, `(/page-)N`, `(/page)N`,
/// `(/page/)N`, and by offset: `([?&;]start=)K`, `(topic=\d+\.)K`.
static NUMBER_PARTS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"([?&;](?:page|trang)=)(\d+)",
        r"(/page-)(\d+)",
        r"(/page)(\d+)",
        r"(/page/)(\d+)",
        r"(/trang-)(\d+)",
    ]
    .iter()
    .filter_map(|p| Regex::new(p).ok())
    .collect()
});
static OFFSET_PARTS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [r"([?&;]start=)(\d+)", r"([?&;]topic=\d+\.)(\d+)"]
        .iter()
        .filter_map(|p| Regex::new(p).ok())
        .collect()
});

/// The page number an address shows by itself (`?page=3` → 3), if any.
fn number_in(u: &str) -> Option<u32> {
    NUMBER_PARTS
        .iter()
        .find_map(|re| re.captures(u))
        .and_then(|c| c[2].parse().ok())
}

/// Learn the style from a link known to lead to page `n`.
fn style_of(link: &str, n: u32) -> Option<Style> {
    for re in NUMBER_PARTS.iter() {
        if let Some(c) = re.captures(link)
            && c[2].parse::<u32>().ok() == Some(n)
        {
            let m = c.get(2)?;
            return Some(Style::Number {
                prefix: link[..m.start()].to_string(),
                suffix: link[m.end()..].to_string(),
            });
        }
    }
    if n < 2 {
        return None;
    }
    for re in OFFSET_PARTS.iter() {
        if let Some(c) = re.captures(link)
            && let Ok(offset) = c[2].parse::<u32>()
            && offset > 0
            && offset % (n - 1) == 0
        {
            let m = c.get(2)?;
            return Some(Style::Offset {
                prefix: link[..m.start()].to_string(),
                suffix: link[m.end()..].to_string(),
                per_page: offset / (n - 1),
            });
        }
    }
    None
}

impl Style {
    fn url(&self, n: u32) -> Option<url::Url> {
        let s = match self {
            Style::Number { prefix, suffix } => format!("{prefix}{n}{suffix}"),
            Style::Offset {
                prefix,
                suffix,
                per_page,
            } => format!("{prefix}{}{suffix}", (n.max(1) - 1) * per_page),
        };
        url::Url::parse(&s).ok()
    }

    /// The page number of `u` in this style.
    fn number_of(&self, u: &str) -> Option<u32> {
        match self {
            Style::Number { prefix, suffix } => u
                .strip_prefix(prefix.as_str())?
                .strip_suffix(suffix.as_str())?
                .parse()
                .ok(),
            Style::Offset {
                prefix,
                suffix,
                per_page,
            } => {
                let k: u32 = u
                    .strip_prefix(prefix.as_str())?
                    .strip_suffix(suffix.as_str())?
                    .parse()
                    .ok()?;
                Some(k / per_page.max(&1) + 1)
            }
        }
    }
}

/// Remove the page part from an address: the address of page 1.
fn without_page(u: &url::Url) -> url::Url {
    let mut out = u.clone();
    out.set_fragment(None);
    static SMF_OFFSET: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"([?&;]topic=\d+)\.\d+").ok());
    if let Some(re) = SMF_OFFSET.as_ref()
        && let Some(q) = out.query().map(str::to_string)
        && re.is_match(&format!("?{q}"))
    {
        let fixed = re.replace(&format!("?{q}"), "${1}.0").to_string();
        out.set_query(Some(fixed.trim_start_matches('?')));
        return out;
    }
    if out.query().is_some() {
        let kept: Vec<(String, String)> = out
            .query_pairs()
            .filter(|(k, _)| !matches!(k.as_ref(), "page" | "trang" | "start"))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            out.set_query(None);
        } else {
            out.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    static PATH_PAGE: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"/(?:page-?|trang-)\d+/?$|/page/\d+/?$").ok());
    if let Some(re) = PATH_PAGE.as_ref() {
        let path = out.path().to_string();
        let trimmed = re.replace(&path, "/").to_string();
        if trimmed != path {
            out.set_path(&trimmed);
        }
    }
    out
}

impl PageNav {
    /// Read the navigation of the page at `here` from the links of its page bars:
    /// `links` are (address, link text) pairs, `numbers` texts such as "Trang 2 / 5",
    /// "Page 1 of 3" or attributes such as `data-last`, `next` the next-page link when the
    /// page marks one.
    pub fn read(
        here: &url::Url,
        links: &[(url::Url, String)],
        texts: &[String],
        next: Option<url::Url>,
    ) -> PageNav {
        let mut nav = PageNav {
            current: 1,
            ..Default::default()
        };
        // Links whose text is a page number teach the style; the others may still say
        // their number in the address ("Last" → ?page=3).
        for (u, text) in links {
            let t = text.trim();
            if let Ok(n) = t.parse::<u32>() {
                if nav.style.is_none() {
                    nav.style = style_of(u.as_str(), n);
                }
                nav.known.insert(n, u.clone());
            }
        }
        for (u, _) in links {
            let n = match &nav.style {
                Some(s) => s.number_of(u.as_str()),
                None => number_in(u.as_str()),
            };
            if let Some(n) = n {
                nav.known.entry(n).or_insert_with(|| u.clone());
                if nav.style.is_none() {
                    nav.style = style_of(u.as_str(), n);
                }
            }
        }
        let here_s = here.as_str();
        nav.current = nav
            .style
            .as_ref()
            .and_then(|s| s.number_of(here_s))
            .or_else(|| number_in(here_s))
            .unwrap_or(1);
        static OF: LazyLock<Option<Regex>> =
            LazyLock::new(|| Regex::new(r"(?i)(\d+)\s*(?:/|of|trên|trong số|của)\s*(\d+)").ok());
        let mut last = nav.known.keys().next_back().copied();
        for t in texts {
            let t = t.trim();
            if let Ok(n) = t.parse::<u32>() {
                last = last.max(Some(n));
            } else if let Some(c) = OF.as_ref().and_then(|r| r.captures(t)) {
                if let Ok(cur) = c[1].parse::<u32>()
                    && nav.current == 1
                {
                    nav.current = cur;
                }
                last = last.max(c[2].parse().ok());
            }
        }
        nav.last = last.map(|l| l.max(nav.current));
        nav.first = Some(without_page(here));
        nav.next = next.or_else(|| {
            nav.url_of(nav.current + 1)
                .filter(|_| nav.has(nav.current + 1))
        });
        nav
    }

    /// Whether page `n` exists, as far as this page tells.
    fn has(&self, n: u32) -> bool {
        self.known.contains_key(&n) || self.last.is_some_and(|l| n <= l)
    }

    /// The address of page `n`: linked from the bar, else made in the bar's style.
    pub fn url_of(&self, n: u32) -> Option<url::Url> {
        if n == 1 {
            return self.first.clone();
        }
        self.known
            .get(&n)
            .cloned()
            .or_else(|| self.style.as_ref()?.url(n))
    }

    /// Posts per page, when the addresses count posts (`start=15`).
    pub fn per_page(&self) -> Option<u32> {
        match &self.style {
            Some(Style::Offset { per_page, .. }) => Some(*per_page),
            _ => None,
        }
    }

    /// The address of page 1.
    pub fn first_page(&self) -> Option<&url::Url> {
        self.first.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> url::Url {
        url::Url::parse(s).expect("url")
    }

    fn links(base: &str, l: &[(&str, &str)]) -> Vec<(url::Url, String)> {
        l.iter()
            .map(|(h, t)| (u(base).join(h).expect("join"), t.to_string()))
            .collect()
    }

    #[test]
    fn numbered_links_teach_the_style() {
        let here = u("https://f.vn/threads/chuyen.17/page-2");
        let l = links(
            here.as_str(),
            &[
                ("page-3", "3"),
                ("/threads/chuyen.17/", "1"),
                ("page-40", "40"),
            ],
        );
        let nav = PageNav::read(&here, &l, &[], None);
        assert_eq!(nav.current, 2);
        assert_eq!(nav.last, Some(40));
        assert_eq!(
            nav.url_of(17).map(|u| u.to_string()).as_deref(),
            Some("https://f.vn/threads/chuyen.17/page-17")
        );
        assert_eq!(
            nav.next.as_ref().map(|u| u.to_string()).as_deref(),
            Some("https://f.vn/threads/chuyen.17/page-3")
        );
        assert_eq!(
            nav.first_page().map(|u| u.to_string()).as_deref(),
            Some("https://f.vn/threads/chuyen.17/")
        );
    }

    #[test]
    fn offsets_and_query_pages() {
        let here = u("https://f.vn/viewtopic.php?t=9&start=30");
        let l = links(
            here.as_str(),
            &[
                ("./viewtopic.php?t=9&start=15", "2"),
                ("./viewtopic.php?t=9&start=60", "5"),
            ],
        );
        let nav = PageNav::read(&here, &l, &[], None);
        assert_eq!(
            (nav.current, nav.last, nav.per_page()),
            (3, Some(5), Some(15))
        );
        assert_eq!(
            nav.url_of(4).map(|u| u.to_string()).as_deref(),
            Some("https://f.vn/viewtopic.php?t=9&start=45")
        );
        // Spirit: no numbered link, "Page 1 of 3", "?page=2" and "Last" (?page=3).
        let here = u("http://127.0.0.1/topic/4/mua/");
        let l = links(here.as_str(), &[("?page=2", ""), ("?page=3", "Last")]);
        let nav = PageNav::read(&here, &l, &["Page 1 of 3".into()], None);
        assert_eq!((nav.current, nav.last), (1, Some(3)));
        assert_eq!(
            nav.next.as_ref().map(|u| u.to_string()).as_deref(),
            Some("http://127.0.0.1/topic/4/mua/?page=2")
        );
        let here = u("http://127.0.0.1/topic/4/mua/?page=3");
        let nav = PageNav::read(&here, &[], &["Trang 3 / 3".into()], None);
        assert_eq!(
            (nav.current, nav.last, nav.next.clone()),
            (3, Some(3), None)
        );
        assert_eq!(
            nav.first_page().map(|u| u.to_string()).as_deref(),
            Some("http://127.0.0.1/topic/4/mua/")
        );
    }
}
