//! The admin's use-cases around sources, one level above the stages they call, so the
//! command line and (next) the web admin pages run exactly the same logic: discover the
//! feeds of a homepage and turn the chosen one into a `[[sources]]` block appended to the
//! config; check a source (one fetch through the real stages, nothing stored: the items
//! that would be stored — the tool for writing selectors); import an OPML file (the
//! sources not yet in the config); add a post pasted by staff to a `manual` source.
//! Every function returns data; the faces print it (`cli::sources`, `cli::post`).

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

/// Append new source blocks to the config file (checked as a whole before writing).
pub fn add_sources(config: &Config, blocks: &[SourceBlock]) -> Result<()> {
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

/// The sources of an OPML document that the config does not have yet — same address, or
/// (manual sources, which have none) same name — with ids unique against the config's.
pub fn new_from_opml(config: &Config, opml: &[u8]) -> Result<Vec<SourceBlock>> {
    let mut taken = taken_ids(config);
    let existing: HashSet<String> = config
        .sources
        .iter()
        .map(|s| s.location(&config.base_dir))
        .collect();
    let manual_names: HashSet<&str> = config
        .sources
        .iter()
        .filter(|s| s.kind == SourceKind::Manual)
        .map(|s| s.name.as_str())
        .collect();
    Ok(crate::opml::import(opml, &mut taken)?
        .into_iter()
        .filter(|b| match &b.url {
            Some(u) => !existing.contains(u),
            None => !manual_names.contains(b.name.as_str()),
        })
        .collect())
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
        image: None,
    };
    normalize_entry(&post.source, raw, None, Utc::now())
        .ok_or_else(|| usage("bài dán tay trống".into()))
}

/// Store a prepared post, then cluster and index it like any fetched item.
pub async fn store_post(app: &App, item: NewItem) -> Result<StoredPost> {
    let item = crate::pipeline::with_tone(&app.tone(), item);
    let store = app.store.clone();
    let key = item.key.clone();
    let counts =
        tokio::task::spawn_blocking(move || store.upsert_items(&[item], Utc::now())).await??;
    crate::pipeline::after_store(app, None).await?;
    let outcome = if counts.new > 0 {
        PostOutcome::Added
    } else if counts.updated > 0 {
        PostOutcome::Updated
    } else {
        PostOutcome::AlreadyThere
    };
    Ok(StoredPost { key, outcome })
}
