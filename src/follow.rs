//! From a fetched body to the entries of one source, following links to article pages
//! where needed. It sits inside the pipeline between `fetch` and `normalize`: the body is
//! decoded once (`fetch::charset`), parsed as a feed (`extract::feed`) or a list page
//! (`extract::page`), and — for page sources and `full_content = true` feeds — each item's
//! page is fetched through the same `Fetcher` and its main content read
//! (`extract::article`). At most `max_articles_per_pass` pages are fetched per pass, new
//! items first, then known ones in list order (recent articles are the ones that get
//! edited). A known item whose page was not fetched this pass is left as stored, so a
//! teaser never overwrites a full article.

use std::collections::HashSet;

use chrono::Utc;

use crate::app::App;
use crate::config::{SourceConfig, SourceKind};
use crate::error::{Error, Result};
use crate::extract::article::extract_article;
use crate::extract::feed::{FeedMeta, parse_feed};
use crate::extract::page::{CompiledSelectors, extract_list, parse_selector};
use crate::fetch::{Body, Fetched, RobotsPolicy, Validators, charset};
use crate::model::RawEntry;
use crate::normalize::normalize_entry;

/// Entries of one source after following links, plus what was left aside.
#[derive(Debug, Default)]
pub struct Collected {
    pub meta: FeedMeta,
    pub entries: Vec<RawEntry>,
    /// Entries dropped: article page failed for a known item, or beyond this pass's budget.
    pub deferred: usize,
    /// Article pages that could not be fetched or read (logged).
    pub article_errors: Vec<String>,
}

/// Parse a fetched body as the source's kind says and follow article links as configured.
pub async fn collect(app: &App, source: &SourceConfig, body: &Body) -> Result<Collected> {
    let base = body.final_url.clone();
    let bytes = body.bytes.clone();
    let content_type = body.content_type.clone();
    let kind = source.kind;
    let selectors = match (&source.selectors, kind) {
        (Some(p), SourceKind::Page) => Some(CompiledSelectors::new(p)?),
        _ => None,
    };
    let tz = app.config.display.timezone;
    let (meta, entries) = tokio::task::spawn_blocking(move || -> Result<_> {
        let decoded = charset::decode(&bytes, content_type.as_deref());
        tracing::debug!(
            url = %base,
            charset = %decoded.charset.name(),
            signal = ?decoded.signal,
            "decoded body"
        );
        match selectors {
            Some(sel) => Ok((
                FeedMeta::default(),
                extract_list(&decoded.text, &base, &sel, tz)?,
            )),
            None => parse_feed(charset::xml_as_utf8(&decoded.text).as_bytes(), &base),
        }
    })
    .await??;
    let follow = kind == SourceKind::Page || source.full_content;
    if !follow {
        return Ok(Collected {
            meta,
            entries,
            ..Default::default()
        });
    }
    let mut out = follow_articles(app, source, entries).await?;
    out.meta = meta;
    Ok(out)
}

/// Fetch one article page (asking robots.txt first when `robots` says so), decode it once
/// and extract its main content and metadata.
pub async fn fetch_article(
    fetcher: &crate::fetch::Fetcher,
    link: &url::Url,
    robots: RobotsPolicy,
    body_selector: Option<crate::extract::page::Sel>,
    tz: chrono_tz::Tz,
) -> Result<crate::extract::article::Article> {
    let fetched = fetcher
        .fetch_polite(link, &Validators::default(), robots)
        .await?;
    let Fetched::Body(body) = fetched else {
        return Err(Error::Article {
            url: link.to_string(),
            message: "304 without validators".into(),
        });
    };
    tokio::task::spawn_blocking(move || {
        let text = charset::decode(&body.bytes, body.content_type.as_deref()).text;
        extract_article(&text, &body.final_url, body_selector.as_ref(), tz)
    })
    .await?
}

/// The key `normalize` will give this entry (GUID, else canonical link, else hash).
fn key_of(source_id: &str, e: &RawEntry) -> Option<String> {
    normalize_entry(source_id, e.clone(), None, Utc::now()).map(|i| i.key)
}

async fn follow_articles(
    app: &App,
    source: &SourceConfig,
    entries: Vec<RawEntry>,
) -> Result<Collected> {
    let id = source.id().to_string();
    let keys: Vec<Option<String>> = entries.iter().map(|e| key_of(&id, e)).collect();
    let store = app.store.clone();
    let lookup: Vec<String> = keys.iter().flatten().cloned().collect();
    let sid = id.clone();
    let known: HashSet<String> =
        tokio::task::spawn_blocking(move || store.known_keys(&sid, &lookup)).await??;
    let is_known = |i: usize| keys[i].as_ref().is_some_and(|k| known.contains(k));
    // New items first, then known ones, both in list order.
    let mut order: Vec<usize> = (0..entries.len()).filter(|i| !is_known(*i)).collect();
    order.extend((0..entries.len()).filter(|i| is_known(*i)));
    let budget = source.max_articles_per_pass;
    let body_sel = source
        .article
        .as_deref()
        .map(parse_selector)
        .transpose()
        .map_err(|message| Error::Selector {
            url: String::new(),
            message,
        })?;
    let tz = app.config.display.timezone;
    let prefer_entry_title = source.kind == SourceKind::Feed;

    let mut tasks = tokio::task::JoinSet::new();
    for &i in order.iter().take(budget) {
        let Some(link) = entries[i]
            .link
            .as_deref()
            .and_then(|l| url::Url::parse(l).ok())
        else {
            continue;
        };
        let fetcher = app.fetcher.clone();
        let robots = RobotsPolicy::obey_if(source.obey_robots);
        let body_sel = body_sel.clone();
        tasks.spawn(async move {
            let res = fetch_article(&fetcher, &link, robots, body_sel, tz).await;
            (i, res)
        });
    }
    let mut articles = vec![None; entries.len()];
    let mut errors = Vec::new();
    let mut selector_failures = 0;
    let mut attempted = 0;
    while let Some(joined) = tasks.join_next().await {
        let (i, res) = joined?;
        attempted += 1;
        match res {
            Ok(a) => articles[i] = Some(a),
            Err(e) => {
                tracing::warn!(error = %e, source = %id, "article page failed");
                if e.kind() == "selector" {
                    selector_failures += 1;
                }
                errors.push(e.to_string());
                if selector_failures == attempted && tasks.is_empty() && attempted > 0 {
                    // Every article page missed the body selector: the layout changed.
                    return Err(e);
                }
            }
        }
    }

    let mut out = Collected {
        article_errors: errors,
        ..Default::default()
    };
    for (i, (entry, article)) in entries.into_iter().zip(articles).enumerate() {
        match article {
            Some(a) => out.entries.push(a.merge_into(entry, prefer_entry_title)),
            // A teaser must not overwrite a full article stored earlier.
            None if is_known(i) => out.deferred += 1,
            // New page items wait for a pass with budget left; new feed items keep the teaser.
            None if source.kind == SourceKind::Page
                && order
                    .iter()
                    .position(|&j| j == i)
                    .is_some_and(|p| p >= budget) =>
            {
                out.deferred += 1
            }
            None => out.entries.push(entry),
        }
    }
    Ok(out)
}
