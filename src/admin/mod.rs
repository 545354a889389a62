//! The admin's use-cases, one level above the stages they call, so the command line and
//! the web admin pages run exactly the same logic. This file has those around sources:
//! discover the
//! feeds of a homepage and turn the chosen one into a `[[sources]]` block appended to the
//! config; check a source (one fetch through the real stages, nothing stored: the items
//! that would be stored — the tool for writing selectors); import an OPML file (the
//! sources not yet in the config); add a post pasted by staff to a `manual` source (from
//! `gomtin post add` or the web's "Thêm bài": a new manual source by name, and "Lấy nội
//! dung", which reads a public page's title, excerpt and image to fill the form).
//! Every function returns data; the faces print it (`cli::sources`, `cli::post`, `web`).
//!
//! Beside it: `edit` (the one way the running config changes: edit the file, check,
//! write atomically, reload, audit; `SIGHUP`), `sources` (a source from a form or the
//! API: add, change, remove, check, import), `entries` (topics, digests and `[smtp]`) and
//! `people` (accounts, with the audit log).

pub mod edit;
pub mod entries;
pub mod people;
pub mod sources;

use std::collections::HashSet;

use chrono::Utc;
use serde::Serialize;

use crate::app::App;
use crate::config::{Config, SourceConfig, SourceKind};
use crate::discover::Candidate;
use crate::error::{Error, Result};
use crate::fetch::{Fetched, Fetcher, Validators};
use crate::model::{NewItem, RawEntry};
use crate::normalize::{excerpt, normalize_entry};
use crate::opml::{SourceBlock, append_to_config, make_id};

fn taken_ids(config: &Config) -> HashSet<String> {
    config.sources.iter().map(|s| s.id().to_string()).collect()
}

/// The configured source `id`, or [`Error::UnknownSource`].
pub fn source(config: &Config, id: &str) -> Result<SourceConfig> {
    config
        .source(id)
        .cloned()
        .ok_or_else(|| Error::UnknownSource(id.to_string()))
}

/// Append new source blocks to the config file (checked as a whole before writing);
/// the config it now loads as.
pub fn add_sources(config: &Config, blocks: &[SourceBlock]) -> Result<Config> {
    append_to_config(&config.path, blocks)
}

// ---------------------------------------------------------------------------------------
// Discovery

/// The feeds found on a page.
#[derive(Debug, Clone)]
pub struct Found {
    /// The page asked about, parsed.
    pub url: url::Url,
    /// Its `<title>`, when it is an HTML page.
    pub page_title: Option<String>,
    /// The RSS/Atom feeds it announces (or that answer at the usual paths).
    pub feeds: Vec<Candidate>,
}

/// Look for RSS/Atom feeds on `address` (a homepage, or a feed itself).
pub async fn discover(fetcher: &Fetcher, address: &str) -> Result<Found> {
    let url = url::Url::parse(address.trim()).map_err(|e| Error::BadUrl {
        url: address.to_string(),
        message: e.to_string(),
    })?;
    let found = crate::discover::discover(fetcher, &url).await?;
    Ok(Found {
        url,
        page_title: found.page_title,
        feeds: found.feeds,
    })
}

/// When a page has no feed: a `page` source block to start from, with placeholder
/// selectors for the admin to fill in.
pub fn page_suggestion(config: &Config, found: &Found) -> SourceBlock {
    let url = &found.url;
    SourceBlock {
        id: make_id(url.host_str().unwrap_or("trang"), &taken_ids(config)),
        name: found.page_title.clone().unwrap_or_else(|| url.to_string()),
        kind: SourceKind::Page,
        url: Some(url.to_string()),
        interval: None,
        selectors: Some(crate::config::PageSelectors {
            item: Some(".news-item".into()),
            link: "a".into(),
            title: None,
            date: None,
            date_format: None,
            summary: None,
            image: None,
        }),
        article: None,
        full_content: false,
    }
}

/// The block for feed number `pick` (1-based) of `found`, named `name` (default: the
/// feed's title, else the page's) with id `id` (default: made from the name, unique).
pub fn feed_block(
    config: &Config,
    found: &Found,
    pick: usize,
    id: Option<String>,
    name: Option<String>,
) -> Result<SourceBlock> {
    let Some(feed) = pick.checked_sub(1).and_then(|i| found.feeds.get(i)) else {
        return Err(Error::ConfigInvalid {
            path: config.path.clone(),
            message: format!(
                "--pick {pick}: chỉ có {} nguồn để chọn (1-{})",
                found.feeds.len(),
                found.feeds.len()
            ),
        });
    };
    let name = name
        .or_else(|| feed.title.clone())
        .or(found.page_title.clone())
        .unwrap_or_else(|| feed.url.clone());
    let taken = taken_ids(config);
    let id = match id {
        Some(id) if taken.contains(&id) => {
            return Err(Error::ConfigInvalid {
                path: config.path.clone(),
                message: format!("sources.id `{id}` đã có trong cấu hình"),
            });
        }
        Some(id) => id,
        None => make_id(&name, &taken),
    };
    Ok(SourceBlock {
        id,
        name,
        kind: SourceKind::Feed,
        url: Some(feed.url.clone()),
        interval: None,
        selectors: None,
        article: None,
        full_content: false,
    })
}

// ---------------------------------------------------------------------------------------
// OPML import

/// A source of an OPML document that is not imported, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub name: String,
    pub url: Option<String>,
    pub reason: String,
}

/// What importing an OPML document would do: the sources the config does not have yet —
/// by address, or (manual sources, which have none) by name — with ids unique against the
/// config's, and the others with the reason they are left out. `local_files` allows
/// `file://` addresses (the command line; never the web).
pub fn plan_opml(
    config: &Config,
    opml: &[u8],
    local_files: bool,
) -> Result<(Vec<SourceBlock>, Vec<Skipped>)> {
    let mut taken = taken_ids(config);
    let mut existing: HashSet<String> = config
        .sources
        .iter()
        .map(|s| s.location(&config.base_dir))
        .collect();
    let mut manual_names: HashSet<String> = config
        .sources
        .iter()
        .filter(|s| s.kind == SourceKind::Manual)
        .map(|s| s.name.clone())
        .collect();
    let (mut added, mut skipped) = (Vec::new(), Vec::new());
    for b in crate::opml::import(opml, &mut taken)? {
        let reason = match &b.url {
            Some(u) if !local_files && !u.starts_with("http://") && !u.starts_with("https://") => {
                Some(
                    "chỉ nhập được địa chỉ http(s); nguồn đọc từ tệp trên máy khai báo trong tệp cấu hình",
                )
            }
            Some(u) if !existing.insert(u.clone()) => Some("đã có nguồn cùng địa chỉ"),
            None if !manual_names.insert(b.name.clone()) => Some("đã có nguồn dán tay cùng tên"),
            _ => None,
        };
        match reason {
            Some(r) => skipped.push(Skipped {
                name: b.name.clone(),
                url: b.url.clone(),
                reason: r.to_string(),
            }),
            None => added.push(b),
        }
    }
    Ok((added, skipped))
}

/// The sources of an OPML document that the config does not have yet (see [`plan_opml`]).
pub fn new_from_opml(config: &Config, opml: &[u8]) -> Result<Vec<SourceBlock>> {
    Ok(plan_opml(config, opml, true)?.0)
}

/// Import an OPML document: append its new sources to the config; returns them (none
/// appended when empty).
pub fn import_opml(config: &Config, opml: &[u8]) -> Result<Vec<SourceBlock>> {
    let blocks = new_from_opml(config, opml)?;
    if !blocks.is_empty() {
        add_sources(config, &blocks)?;
    }
    Ok(blocks)
}

// ---------------------------------------------------------------------------------------
// Checking a source

/// What checking a source found (the `--json` of `gomtin sources check`).
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub source_id: String,
    pub url: String,
    /// The items that a fetch now would store.
    pub items: Vec<CheckedItem>,
    /// Entries left for a later pass or dropped (no title/link).
    pub skipped: usize,
    pub article_errors: Vec<String>,
    /// `[kind] message` of the error that stopped the check.
    pub error: Option<String>,
}

/// One item as `sources check` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CheckedItem {
    pub key: String,
    pub title: String,
    pub url: Option<String>,
    pub published: Option<String>,
    pub author: Option<String>,
    pub image_url: Option<String>,
    pub summary: String,
    pub text_chars: usize,
    pub text_start: String,
}

impl From<&NewItem> for CheckedItem {
    fn from(i: &NewItem) -> Self {
        CheckedItem {
            key: i.key.clone(),
            title: i.title.clone(),
            url: i.url.clone(),
            published: i.published_at.map(|d| d.to_rfc3339()),
            author: i.author.clone(),
            image_url: i.image_url.clone(),
            summary: excerpt(&i.summary, 160),
            text_chars: i.content_text.chars().count(),
            text_start: excerpt(&i.content_text, 160),
        }
    }
}

/// Fetch `source` once through the pipeline's stages and report what would be stored;
/// nothing is stored. A failure is part of the report, not an error.
pub async fn check_source(app: &App, source: &SourceConfig) -> Result<CheckReport> {
    let id = source.id();
    let url = crate::pipeline::source_url(app, source)?;
    let mut report = CheckReport {
        source_id: id.to_string(),
        url: url.to_string(),
        items: Vec::new(),
        skipped: 0,
        article_errors: Vec::new(),
        error: None,
    };
    let result: Result<()> = async {
        if source.kind == SourceKind::Manual {
            return Ok(());
        }
        let Fetched::Body(body) = app.fetcher.fetch(&url, &Validators::default()).await? else {
            return Ok(());
        };
        let collected = crate::pipeline::collect(app, source, &body).await?;
        report.skipped = collected.deferred;
        report.article_errors = collected.article_errors;
        let now = Utc::now();
        for e in collected.entries {
            match normalize_entry(id, e, Some(&body.final_url), now) {
                Some(item) => report.items.push(CheckedItem::from(&item)),
                None => report.skipped += 1,
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = &result {
        report.error = Some(format!("[{}] {e}", e.kind()));
    }
    Ok(report)
}

// ---------------------------------------------------------------------------------------
// Manual posts

/// A post pasted by staff.
#[derive(Debug, Clone)]
pub struct ManualPost {
    /// Id of a `kind = "manual"` source.
    pub source: String,
    pub url: Option<String>,
    pub title: Option<String>,
    /// Paragraphs separated by a blank line.
    pub text: String,
    /// When it was posted, in the formats of page sources (default: now).
    pub published: Option<String>,
    /// Link of its picture (http(s)).
    pub image: Option<String>,
}

/// What storing a manual post did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostOutcome {
    Added,
    Updated,
    /// The same post was already stored, unchanged.
    AlreadyThere,
}

/// A manual post once stored.
#[derive(Debug, Clone)]
pub struct StoredPost {
    /// The item's key in its source.
    pub key: String,
    pub outcome: PostOutcome,
}

/// Check a post against the config and turn it into the item to store (no I/O): the
/// source must be `manual`, the post needs a text or a title, a link must be http(s),
/// a date must be readable.
pub fn prepare_post(config: &Config, post: &ManualPost) -> Result<NewItem> {
    let source = source(config, &post.source)?;
    let usage = |message: String| Error::ConfigInvalid {
        path: config.path.clone(),
        message,
    };
    if source.kind != SourceKind::Manual {
        return Err(usage(format!(
            "nguồn `{}` là kind = \"{}\"; bài dán tay chỉ thêm vào nguồn kind = \"manual\"",
            post.source,
            source.kind.as_str()
        )));
    }
    if post.text.trim().is_empty() && post.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Err(usage("bài dán tay cần --text hoặc --title".into()));
    }
    if let Some(u) = &post.url
        && !matches!(
            url::Url::parse(u)
                .map(|u| u.scheme().to_string())
                .as_deref(),
            Ok("http" | "https")
        )
    {
        return Err(usage(format!("--url `{u}` phải là địa chỉ http(s)")));
    }
    let image = post
        .image
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| {
            crate::normalize::safe_url(Some(u))
                .ok_or_else(|| usage(format!("ảnh `{u}` phải là địa chỉ http(s)")))
        })
        .transpose()?;
    let tz = config.display.timezone;
    let published = match &post.published {
        Some(p) => Some(
            crate::extract::page::parse_date(p, None, tz)
                .ok_or_else(|| usage(format!("--published `{p}`: không đọc được ngày giờ")))?,
        ),
        None => Some(Utc::now()),
    };
    let html: String = post
        .text
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            format!(
                "<p>{}</p>",
                html_escape::encode_text(p).replace('\n', "<br>")
            )
        })
        .collect();
    let raw = RawEntry {
        guid: None,
        title: post
            .title
            .clone()
            .map(|t| html_escape::encode_text(&t).into_owned()),
        link: post.url.clone(),
        author: None,
        published,
        updated: None,
        summary_html: None,
        content_html: Some(html),
        image,
    };
    normalize_entry(&post.source, raw, None, Utc::now())
        .ok_or_else(|| usage("bài dán tay trống".into()))
}

/// Store a prepared post, then cluster and index it like any fetched item.
pub async fn store_post(app: &App, item: NewItem) -> Result<StoredPost> {
    store_post_then(app, item, true).await
}

/// Store and cluster a prepared post, leaving the index to the running daemon that
/// holds it (its feeder follows the change log, see `feeder`).
pub async fn store_post_beside_daemon(app: &App, item: NewItem) -> Result<StoredPost> {
    store_post_then(app, item, false).await
}

async fn store_post_then(app: &App, item: NewItem, index: bool) -> Result<StoredPost> {
    let store = app.store.clone();
    let key = item.key.clone();
    let counts =
        tokio::task::spawn_blocking(move || store.upsert_items(&[item], Utc::now())).await??;
    if index {
        crate::pipeline::after_store(app, None).await?;
    } else {
        let store = app.store.clone();
        tokio::task::spawn_blocking(move || store.cluster_pending()).await??;
    }
    let outcome = if counts.new > 0 {
        PostOutcome::Added
    } else if counts.updated > 0 {
        PostOutcome::Updated
    } else {
        PostOutcome::AlreadyThere
    };
    Ok(StoredPost { key, outcome })
}

/// A manual source named `name`: the configured one of that name (letter case and marks
/// aside), else a new `kind = "manual"` block appended to the config file, which the
/// running app then reloads. Returns its id.
pub fn manual_source_named(app: &App, who: &str, name: &str) -> Result<String> {
    let config = app.config();
    let name = crate::vietnamese::clean(name).trim().to_string();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(Error::ConfigInvalid {
            path: config.path.clone(),
            message: "tên nguồn mới cần từ 1 đến 120 ký tự".into(),
        });
    }
    let same = |a: &str| {
        crate::vietnamese::fold(&a.to_lowercase()) == crate::vietnamese::fold(&name.to_lowercase())
    };
    if let Some(s) = config
        .sources
        .iter()
        .find(|s| s.kind == SourceKind::Manual && same(&s.name))
    {
        return Ok(s.id().to_string());
    }
    let block = SourceBlock {
        id: make_id(&name, &taken_ids(&config)),
        name,
        kind: SourceKind::Manual,
        url: None,
        interval: None,
        selectors: None,
        article: None,
        full_content: false,
    };
    // Through the one edit path (one edit at a time, checked, atomic, reloaded, audited).
    let action = edit::Action {
        who,
        what: "source.add",
        target: &block.id,
        detail: format!("{} · nguồn dán tay (Thêm bài)", block.name),
    };
    edit::edit_config(app, &action, |file, _| {
        let parsed = crate::config::edit::ConfigFile::parse(&block.render(), file.path())?;
        if let Some(t) = parsed.entry("sources", &block.id) {
            file.push_entry("sources", t.clone())?;
        }
        Ok(())
    })?;
    tracing::info!(source = %block.id, "manual source added");
    Ok(block.id)
}

/// What "Lấy nội dung" read from a public page.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PostPreview {
    pub url: String,
    pub title: Option<String>,
    /// The page's description, else the start of its text.
    pub text: Option<String>,
    pub image: Option<String>,
    /// Local time, `YYYY-MM-DD HH:MM`.
    pub published: Option<String>,
}

/// Hosts whose posts are behind a login: reading them would only give a login page.
const LOGIN_WALLED: &[&str] = &[
    "facebook.com",
    "fb.com",
    "fb.watch",
    "zalo.me",
    "chat.zalo.me",
];

/// Read the page at `address` (http(s) only, robots.txt obeyed) with the one fetcher and
/// the article extractor (OpenGraph, JSON-LD, readability), for the capture form.
pub async fn preview_post(app: &App, address: &str) -> Result<PostPreview> {
    let bad = |message: &str| Error::BadUrl {
        url: address.to_string(),
        message: message.to_string(),
    };
    let url = url::Url::parse(address.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("chỉ đọc được địa chỉ http(s)"));
    }
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    if LOGIN_WALLED
        .iter()
        .any(|h| host == *h || host.ends_with(&format!(".{h}")))
    {
        return Err(bad(
            "trang này cần đăng nhập (Facebook, Zalo) nên gomtin không đọc được: hãy dán tiêu đề và nội dung bằng tay",
        ));
    }
    let tz = app.config().display.timezone;
    let article = crate::pipeline::fetch_article(
        &app.fetcher,
        &url,
        crate::fetch::RobotsPolicy::Obey,
        None,
        tz,
    )
    .await?;
    let text = article
        .description
        .as_deref()
        .map(crate::normalize::html_to_text)
        .filter(|t| !t.trim().is_empty())
        .or_else(|| {
            let t = crate::normalize::html_to_text(&article.content_html);
            (!t.trim().is_empty()).then(|| excerpt(&t, 1_500))
        });
    Ok(PostPreview {
        url: url.to_string(),
        title: article
            .title
            .as_deref()
            .map(crate::normalize::html_to_text)
            .filter(|t| !t.is_empty()),
        text,
        image: crate::normalize::safe_url(article.image.as_deref()),
        published: article
            .published
            .map(|d| d.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()),
    })
}
