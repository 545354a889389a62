//! Forum pages (`kind = "forum"`): a board (a list of threads) or one page of a thread,
//! read with the preset of the forum's engine (`engines`, chosen by `engine = "…"` or told
//! from the page) and the source's own `[sources.forum]` selectors over it. A board gives
//! its threads (address, title, the mark that changes when a post is added); a thread
//! page gives its posts — author, time (`dates`, relative forms against the fetch time),
//! number, own link, first-post flag, and the text without quotes of earlier posts,
//! signatures, "edited by" and reaction lines — and its page bar (`nav`). Each post
//! becomes its own `RawEntry`, keyed by the forum's post id so that a post read again (on
//! another page, after a move) is the same item. Pure: the crawl (`crawl`) fetches.

pub mod engines;
mod nav;

use std::sync::LazyLock;

use chrono::{DateTime, TimeZone, Utc};
use regex::Regex;
use scraper::{ElementRef, Html, Selector};
use sha2::{Digest, Sha256};

use crate::config::{ForumEngine, ForumSelectors, Sel, parse_selector};
use crate::error::{Error, Result};
use crate::extract::bounded::bounded;
use crate::extract::dates::parse_date_at;
use crate::extract::feed::absolutize;
use crate::extract::page::text_of;
use crate::model::{InThread, RawEntry};
use engines::Preset;
pub use nav::PageNav;

/// What one forum page is.
#[derive(Debug, Clone)]
pub enum ForumPage {
    Board(Board),
    Thread(ThreadPage),
}

/// A board page: its threads in page order, and its page bar.
#[derive(Debug, Clone)]
pub struct Board {
    pub threads: Vec<ThreadLink>,
    pub nav: PageNav,
}

/// One thread as a board lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadLink {
    pub url: url::Url,
    pub key: String,
    pub title: String,
    /// What changes on the board when the thread gets a post (last post link, time, count).
    pub activity: Option<String>,
    /// The last activity's time, when the board shows one.
    pub active_at: Option<DateTime<Utc>>,
}

/// One page of a thread.
#[derive(Debug, Clone)]
pub struct ThreadPage {
    pub key: String,
    pub title: String,
    /// The address of the thread's first page.
    pub first_url: url::Url,
    pub nav: PageNav,
    pub posts: Vec<Post>,
    /// Post elements without a readable text (deleted, hidden).
    pub skipped: usize,
}

/// One post as its page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    /// The forum's id of the post (stable across pages, edits and moves).
    pub id: Option<String>,
    pub number: Option<u32>,
    pub first: bool,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub edited: bool,
    pub edited_at: Option<DateTime<Utc>>,
    /// The post's own title, when it has one worth keeping.
    pub title: Option<String>,
    /// The post's HTML without quotes, signature, edit and reaction lines (unsanitized).
    pub content_html: String,
    /// The post's own address.
    pub permalink: String,
}

/// A selector of a preset or of `[sources.forum]`: `@attr` of the element itself, or a
/// descendant (`css`, `css@attr`).
#[derive(Debug, Clone)]
enum Pick {
    Own(String),
    In(Sel),
}

impl Pick {
    fn new(s: &str) -> Result<Pick> {
        let s = s.trim();
        if let Some(attr) = s.strip_prefix('@') {
            return Ok(Pick::Own(attr.to_ascii_lowercase()));
        }
        parse_selector(s)
            .map(Pick::In)
            .map_err(|message| Error::Selector {
                url: String::new(),
                message,
            })
    }

    fn find<'a>(&self, el: ElementRef<'a>) -> Option<ElementRef<'a>> {
        match self {
            Pick::Own(_) => Some(el),
            Pick::In(s) => el.select(&s.css).next(),
        }
    }

    fn attr(&self) -> Option<&str> {
        match self {
            Pick::Own(a) => Some(a),
            Pick::In(s) => s.attr.as_deref(),
        }
    }

    /// Every match's value (attribute or text), in page order, empty ones left out.
    fn values(&self, el: ElementRef<'_>) -> Vec<String> {
        let found: Vec<ElementRef<'_>> = match self {
            Pick::Own(_) => vec![el],
            Pick::In(s) => el.select(&s.css).collect(),
        };
        found
            .into_iter()
            .filter_map(|f| match self.attr() {
                Some(a) => f.value().attr(a).map(|v| v.trim().to_string()),
                None => Some(text_of(f)),
            })
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// The attribute it names, else the text (whitespace collapsed); `None` when empty.
    fn read(&self, el: ElementRef<'_>) -> Option<String> {
        let found = self.find(el)?;
        let v = match self.attr() {
            Some(a) => found.value().attr(a)?.trim().to_string(),
            None => text_of(found),
        };
        Some(v).filter(|v| !v.is_empty())
    }
}

fn picks(preset: &[&str], over: &Option<String>) -> Result<Vec<Pick>> {
    match over {
        Some(s) => Ok(vec![Pick::new(s)?]),
        None => preset.iter().map(|s| Pick::new(s)).collect(),
    }
}

fn first_value(picks: &[Pick], el: ElementRef<'_>) -> Option<String> {
    picks.iter().find_map(|p| p.read(el))
}

fn css(s: &str) -> Result<Option<Selector>> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    Selector::parse(s).map(Some).map_err(|e| Error::Selector {
        url: String::new(),
        message: format!("bộ chọn CSS `{s}` không hợp lệ ({e})"),
    })
}

/// The compiled reader of one source: its engine's preset with `[sources.forum]` over it.
#[derive(Debug, Clone)]
pub struct ForumReader {
    pub engine: ForumEngine,
    preset: Preset,
    thread: Option<Selector>,
    thread_link: Vec<Pick>,
    thread_activity: Vec<Pick>,
    thread_title: Vec<Pick>,
    post: Option<Selector>,
    post_id: Vec<Pick>,
    author: Vec<Pick>,
    date: Vec<Pick>,
    date_format: Option<String>,
    content: Vec<Pick>,
    number: Vec<Pick>,
    permalink: Vec<Pick>,
    title: Vec<Pick>,
    remove: Vec<String>,
    edited: Vec<Pick>,
    next: Vec<Pick>,
    pages: Vec<Selector>,
    thread_id: Option<Regex>,
}

impl ForumReader {
    /// The reader for `engine` (told from `html` when `None` or versionless), with
    /// `over` replacing parts of the preset.
    pub fn new(
        engine: Option<ForumEngine>,
        over: Option<&ForumSelectors>,
        html: &str,
        url: &url::Url,
    ) -> Result<ForumReader> {
        // No tree deeper than `bounded::MAX_DEPTH` is built from a page (see `bounded`).
        let html = &*bounded(html);
        let doc = Html::parse_document(html);
        let engine = match engine.or_else(|| engines::detect(&doc, html)) {
            Some(e) => e,
            None if over.is_some_and(|f| f.post.is_some()) => ForumEngine::Selectors,
            None => {
                return Err(Error::Selector {
                    url: url.to_string(),
                    message: format!(
                        "could not tell the forum software of {url} (không nhận ra phần mềm diễn đàn: đặt `engine = \"…\"`, một trong {}, hoặc [sources.forum])",
                        ForumEngine::NAMES.join(", ")
                    ),
                });
            }
        };
        let preset = engines::preset(engine, &doc, html);
        let none = ForumSelectors::default();
        let o = over.unwrap_or(&none);
        let thread_sel = o.thread.as_deref().unwrap_or(preset.thread);
        let post_sel = o.post.as_deref().unwrap_or(preset.post);
        let mut remove: Vec<String> = preset.remove.iter().map(|s| s.to_string()).collect();
        remove.extend(o.remove.iter().cloned());
        let pages = preset
            .pages
            .iter()
            .map(|s| css(s))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .flatten()
            .collect();
        Ok(ForumReader {
            engine: preset.engine,
            thread: css(thread_sel)?,
            thread_link: picks(preset.thread_link, &o.thread_link)?,
            thread_activity: picks(preset.thread_activity, &o.thread_activity)?,
            thread_title: picks(preset.thread_title, &o.thread_title)?,
            post: css(post_sel)?,
            post_id: picks(preset.post_id, &o.post_id)?,
            author: picks(preset.author, &o.author)?,
            date: picks(preset.date, &o.date)?,
            date_format: o.date_format.clone(),
            content: picks(preset.content, &o.content)?,
            number: picks(preset.number, &o.number)?,
            permalink: picks(preset.permalink, &o.permalink)?,
            title: picks(preset.title, &o.title)?,
            remove,
            edited: picks(preset.edited, &None)?,
            next: picks(preset.next, &o.next)?,
            pages,
            thread_id: Some(preset.thread_id)
                .filter(|p| !p.is_empty())
                .and_then(|p| Regex::new(p).ok()),
            preset,
        })
    }

    /// Read one page: a thread page when it has posts, a board when it lists threads; an
    /// error naming the selectors when it has neither (a changed layout, a wrong address).
    pub fn read(
        &self,
        html: &str,
        url: &url::Url,
        tz: chrono_tz::Tz,
        now: DateTime<Utc>,
    ) -> Result<ForumPage> {
        let outer = Html::parse_document(&bounded(html));
        let doc = match self
            .preset
            .noscript
            .then(|| noscript_content(&outer))
            .flatten()
        {
            Some(inner) => Html::parse_document(&bounded(&inner)),
            None => outer,
        };
        let base = page_base(&doc, url);
        let ctx = Ctx {
            doc: &doc,
            url,
            base: &base,
            tz,
            now,
        };
        if let Some(post_sel) = &self.post
            && doc.select(post_sel).next().is_some()
        {
            return Ok(ForumPage::Thread(self.thread_page(&ctx, post_sel)));
        }
        if let Some(thread_sel) = &self.thread {
            let threads = self.board_threads(&ctx, thread_sel);
            if !threads.is_empty() {
                return Ok(ForumPage::Board(Board {
                    threads,
                    nav: self.nav(&ctx),
                }));
            }
        }
        let post = if self.preset.post.is_empty() && self.post.is_none() {
            "(none)"
        } else {
            self.preset.post
        };
        Err(Error::Selector {
            url: url.to_string(),
            message: format!(
                "no posts (`{post}`) and no threads (`{}`) on {url} — {} (không thấy bài viết hay chủ đề nào: trang đổi bố cục, hoặc đây không phải trang chủ đề/chuyên mục?)",
                self.preset.thread,
                self.engine.as_str()
            ),
        })
    }

    /// The key of a thread from its address: the engine's thread id when the address
    /// shows it, else the address of its first page.
    pub fn thread_key(&self, url: &url::Url) -> String {
        if let Some(re) = &self.thread_id
            && let Some(c) = re.captures(url.as_str())
            && let Some(m) = c.iter().skip(1).flatten().next()
        {
            return m.as_str().to_string();
        }
        let mut first = PageNav::read(url, &[], &[], None)
            .first_page()
            .cloned()
            .unwrap_or_else(|| url.clone());
        first.set_fragment(None);
        first.to_string()
    }

    fn nav(&self, ctx: &Ctx<'_>) -> PageNav {
        static A: LazyLock<Option<Selector>> = LazyLock::new(|| Selector::parse("a[href]").ok());
        let mut links = Vec::new();
        let mut texts = Vec::new();
        for sel in &self.pages {
            for bar in ctx.doc.select(sel) {
                for attr in ["data-last", "data-total"] {
                    if let Some(v) = bar.value().attr(attr) {
                        texts.push(v.to_string());
                    }
                }
                texts.push(text_of(bar));
                if let Some(a) = A.as_ref() {
                    for link in bar.select(a) {
                        let href = link.value().attr("href").unwrap_or_default();
                        if href.trim().is_empty() || href.trim() == "#" {
                            continue;
                        }
                        if let Some(u) =
                            absolutize(ctx.base, href).and_then(|u| url::Url::parse(&u).ok())
                        {
                            links.push((u, text_of(link)));
                        }
                    }
                }
            }
        }
        let root = ctx.doc.root_element();
        let next = self
            .next
            .iter()
            .find_map(|p| p.read(root))
            .and_then(|h| absolutize(ctx.base, &h))
            .and_then(|u| url::Url::parse(&u).ok())
            .filter(|u| u != ctx.url);
        PageNav::read(ctx.url, &links, &texts, next)
    }

    fn board_threads(&self, ctx: &Ctx<'_>, thread_sel: &Selector) -> Vec<ThreadLink> {
        let mut out: Vec<ThreadLink> = Vec::new();
        for el in ctx.doc.select(thread_sel) {
            let Some((link_el, href)) = self.thread_link.iter().find_map(|p| {
                let found = p.find(el)?;
                let href = match p.attr() {
                    Some(a) => found.value().attr(a)?.to_string(),
                    None => found.value().attr("href")?.to_string(),
                };
                Some((found, href))
            }) else {
                continue;
            };
            let Some(url) = absolutize(ctx.base, &href).and_then(|u| url::Url::parse(&u).ok())
            else {
                continue;
            };
            let values: Vec<String> = self
                .thread_activity
                .iter()
                .filter_map(|p| p.read(el))
                .collect();
            let active_at = values.iter().find_map(|v| self.time_of(v, ctx));
            let key = self.thread_key(&url);
            if out.iter().any(|t| t.key == key) {
                continue;
            }
            out.push(ThreadLink {
                title: Some(text_of(link_el))
                    .filter(|t| !t.is_empty())
                    .or_else(|| link_el.value().attr("title").map(str::to_string))
                    .unwrap_or_else(|| url.to_string()),
                key,
                url,
                activity: Some(values.join(" | ")).filter(|v| !v.is_empty()),
                active_at,
            });
        }
        out
    }

    fn thread_page(&self, ctx: &Ctx<'_>, post_sel: &Selector) -> ThreadPage {
        let nav = self.nav(ctx);
        let root = ctx.doc.root_element();
        let title = first_value(&self.thread_title, root)
            .or_else(|| {
                let t = Selector::parse("title").ok()?;
                ctx.doc.select(&t).next().map(text_of)
            })
            .unwrap_or_default();
        let first_url = nav.first_page().cloned().unwrap_or_else(|| ctx.url.clone());
        let key = self.thread_key(ctx.url);
        let mut posts = Vec::new();
        let mut skipped = 0;
        for (i, el) in ctx.doc.select(post_sel).enumerate() {
            match self.post(ctx, el, i, &nav, &title, &first_url) {
                Some(p) => posts.push(p),
                None => skipped += 1,
            }
        }
        ThreadPage {
            key,
            title,
            first_url,
            nav,
            posts,
            skipped,
        }
    }

    fn post(
        &self,
        ctx: &Ctx<'_>,
        el: ElementRef<'_>,
        index: usize,
        nav: &PageNav,
        thread_title: &str,
        first_url: &url::Url,
    ) -> Option<Post> {
        let content_el = self.content.iter().find_map(|p| p.find(el))?;
        let content_html = strip(&content_el.inner_html(), &self.remove);
        let id = first_value(&self.post_id, el).map(|v| digits_of(&v));
        let number = self
            .number
            .iter()
            .flat_map(|p| p.values(el))
            .find_map(|v| number_of(&v))
            .map(|n| n + self.preset.number_offset)
            .or_else(|| {
                let per = nav.per_page()?;
                Some((nav.current - 1) * per + index as u32 + 1)
            })
            .or_else(|| {
                (nav.current == 1)
                    .then_some(index as u32 + 1)
                    .filter(|_| self.number.is_empty())
            });
        let first = number.map_or(nav.current == 1 && index == 0, |n| n == 1);
        let published = self.date.iter().find_map(|p| self.time_at(p, el, ctx));
        let edit_el = self.edited.iter().find_map(|p| p.find(el).map(|f| (p, f)));
        let edited_at = edit_el.and_then(|(p, _)| self.time_at(p, el, ctx));
        let title = first_value(&self.title, el).filter(|t| {
            let l = t.to_lowercase();
            !(l.starts_with("re:") || l.starts_with("trả lời:") || l == thread_title.to_lowercase())
        });
        let anchor = match (self.preset.anchor, &id) {
            ("", _) | (_, None) => el.value().attr("id").map(str::to_string),
            (tpl, Some(id)) => Some(tpl.replace("{id}", id)),
        };
        let permalink = self
            .permalink
            .iter()
            .find_map(|p| p.read(el))
            .map(|h| h.trim_end_matches("/permalink").to_string())
            .or_else(|| {
                let tpl = self.preset.permalink_template;
                if tpl.is_empty()
                    || (tpl.contains("{id}") && id.is_none())
                    || (tpl.contains("{n}") && number.is_none())
                {
                    return None;
                }
                Some(
                    tpl.replace("{id}", id.as_deref().unwrap_or_default())
                        .replace("{n}", &number.unwrap_or_default().to_string())
                        .replace("{thread}", first_url.as_str().trim_end_matches('/')),
                )
            })
            .and_then(|h| absolutize(ctx.base, &h))
            .or_else(|| {
                let mut u = ctx.url.clone();
                u.set_fragment(anchor.as_deref());
                Some(u.to_string())
            })?;
        Some(Post {
            id,
            number,
            first,
            author: first_value(&self.author, el),
            published,
            edited: edit_el.is_some(),
            edited_at,
            title,
            content_html,
            permalink,
        })
    }

    /// A time read through `pick` inside `el`: the attribute it names, else the element's
    /// machine-readable attributes (`datetime`, `data-time`, `title`), else its text.
    fn time_at(&self, pick: &Pick, el: ElementRef<'_>, ctx: &Ctx<'_>) -> Option<DateTime<Utc>> {
        let found = pick.find(el)?;
        if let Some(a) = pick.attr() {
            return self.time_of(found.value().attr(a)?, ctx);
        }
        let v = found.value();
        [
            "datetime",
            "data-time",
            "data-timestamp",
            "title",
            "content",
        ]
        .iter()
        .filter_map(|a| v.attr(a))
        .find_map(|t| self.time_of(t, ctx))
        .or_else(|| {
            static INNER: LazyLock<Option<Selector>> = LazyLock::new(|| {
                Selector::parse("time[datetime], [data-time], .DateTime[title]").ok()
            });
            let inner = found.select(INNER.as_ref()?).next()?;
            let iv = inner.value();
            ["datetime", "data-time", "title"]
                .iter()
                .filter_map(|a| iv.attr(a))
                .find_map(|t| self.time_of(t, ctx))
        })
        .or_else(|| self.time_of(&text_of(found), ctx))
    }

    /// A time from a value: Unix seconds (`data-time`), else a written date.
    fn time_of(&self, v: &str, ctx: &Ctx<'_>) -> Option<DateTime<Utc>> {
        let v = v.trim();
        if (9..=11).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit()) {
            return Utc.timestamp_opt(v.parse().ok()?, 0).single();
        }
        if v.chars().count() > 200 {
            return None;
        }
        parse_date_at(v, self.date_format.as_deref(), ctx.tz, ctx.now)
    }

    /// Whether this engine's post ids count within a thread only.
    pub fn ids_per_thread(&self) -> bool {
        self.preset.id_per_thread
    }
}

struct Ctx<'a> {
    doc: &'a Html,
    url: &'a url::Url,
    base: &'a url::Url,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
}

/// The page's `<base href>` (XenForo 1 writes every link relative to it), else the page.
fn page_base(doc: &Html, url: &url::Url) -> url::Url {
    static BASE: LazyLock<Option<Selector>> = LazyLock::new(|| Selector::parse("base[href]").ok());
    BASE.as_ref()
        .and_then(|s| doc.select(s).next())
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| url.join(h).ok())
        .unwrap_or_else(|| url.clone())
}

/// The markup inside `<noscript>` (read as text by the parser), when the page has any.
fn noscript_content(doc: &Html) -> Option<String> {
    let s = Selector::parse("noscript#flarum-content, noscript").ok()?;
    doc.select(&s)
        .map(|n| n.text().collect::<String>())
        .find(|t| t.contains('<'))
}

/// `html` without the elements `remove` selects (quotes, signatures, edit lines).
fn strip(html: &str, remove: &[String]) -> String {
    if remove.is_empty() {
        return html.to_string();
    }
    let doc = dom_query::Document::from(html);
    for r in remove {
        let css = match parse_selector(r) {
            Ok(s) => s.source,
            Err(_) => continue,
        };
        doc.select(&css).remove();
    }
    doc.select("body").inner_html().to_string()
}

/// The longest run of digits in an id value (`post-123` → `123`), else the value.
fn digits_of(v: &str) -> String {
    let mut best = "";
    for run in v.split(|c: char| !c.is_ascii_digit()) {
        if run.len() > best.len() {
            best = run;
        }
    }
    if best.is_empty() { v.trim() } else { best }.to_string()
}

/// The number in "#3", "Reply #3 - …", "3".
fn number_of(v: &str) -> Option<u32> {
    static HASH: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"#\s*(\d+)").ok());
    if let Some(c) = HASH.as_ref().and_then(|r| r.captures(v)) {
        return c[1].parse().ok();
    }
    v.split(|c: char| !c.is_ascii_digit())
        .find(|r| !r.is_empty())
        .and_then(|r| r.parse().ok())
}

impl ThreadPage {
    /// The posts of this page as entries for `normalize`.
    pub fn entries(&self, ids_per_thread: bool) -> Vec<RawEntry> {
        self.posts
            .iter()
            .map(|p| self.entry(p, ids_per_thread))
            .collect()
    }

    fn entry(&self, p: &Post, ids_per_thread: bool) -> RawEntry {
        let guid = match &p.id {
            Some(id) if ids_per_thread => format!("post:{}-{id}", self.key),
            Some(id) => format!("post:{id}"),
            None => {
                // No id: the post is known by who wrote it, when, and how it starts.
                let mut h = Sha256::new();
                for part in [
                    self.key.as_str(),
                    p.author.as_deref().unwrap_or(""),
                    &p.published.map(|d| d.to_rfc3339()).unwrap_or_default(),
                    &p.content_html.chars().take(200).collect::<String>(),
                ] {
                    h.update(part.as_bytes());
                    h.update([0]);
                }
                let hex: String = h
                    .finalize()
                    .iter()
                    .take(12)
                    .map(|b| format!("{b:02x}"))
                    .collect();
                format!("post:{}:{hex}", self.key)
            }
        };
        let title = match (&p.title, p.first, p.number, &p.author) {
            (Some(t), _, _, _) => t.clone(),
            (None, true, _, _) => self.title.clone(),
            (None, false, Some(n), _) => format!("{} — #{n}", self.title),
            (None, false, None, Some(a)) => format!("{} — {a}", self.title),
            (None, false, None, None) => format!("{} — trả lời", self.title),
        };
        RawEntry {
            guid: Some(guid),
            title: Some(title),
            link: Some(p.permalink.clone()),
            author: p.author.clone(),
            published: p.published,
            updated: p.edited_at.filter(|e| p.published.is_none_or(|d| *e > d)),
            summary_html: None,
            content_html: Some(p.content_html.clone()),
            image: None,
            thread: Some(InThread {
                key: self.key.clone(),
                title: self.title.clone(),
                url: Some(self.first_url.to_string()),
                number: p.number,
                first: p.first,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_numbers() {
        assert_eq!(digits_of("post-29281579"), "29281579");
        assert_eq!(digits_of("js-post-12"), "12");
        assert_eq!(digits_of("abc"), "abc");
        assert_eq!(number_of("#14"), Some(14));
        assert_eq!(number_of("Reply #3 - Re: Chợ"), Some(3));
        assert_eq!(number_of("7"), Some(7));
        assert_eq!(number_of("Trả lời"), None);
    }

    #[test]
    fn removal_keeps_the_rest() {
        let html =
            r#"<blockquote class="q">trích</blockquote><p>Của tôi</p><div class="sig">ký</div>"#;
        let out = strip(html, &["blockquote.q".into(), ".sig".into()]);
        assert!(
            out.contains("Của tôi") && !out.contains("trích") && !out.contains("ký"),
            "{out}"
        );
    }
}
