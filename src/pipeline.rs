//! The pipeline: `refresh_source` reads as the whole journey of one source's items, each
//! step below the one before and all the I/O here, in order — fetch (robots.txt first for
//! page sources that obey it) → charset → extract → follow-up fetches of article pages →
//! normalize → tone → store — and records the outcome. `after_store` is what follows every
//! store (clustering, tones left to compute, alerts, the index), on every path that stores
//! items. `fetch_pass` runs
//! `refresh_source` over many sources at once (bounded), never letting one failing source
//! stop the others, while its index feeder (`feeder`) indexes what they store.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use tracing::Instrument;

use crate::app::App;
use crate::config::{Sel, parse_selector};
use crate::config::{SourceConfig, SourceKind, resolve};
use crate::error::{Error, Result};
use crate::extract::article::{Article, extract_article};
use crate::extract::bridge;
use crate::extract::feed::{FeedMeta, parse_feed};
use crate::extract::follow::{self, Collected};
use crate::extract::page::{CompiledSelectors, extract_list_page};
use crate::feeder::{Commit, FeedHandle, Feeder};
use crate::fetch::{Body, CacheHints, Fetched, Fetcher, RobotsPolicy, Validators, charset};
use crate::model::{NewItem, OutcomeKind, PageReport, RawEntry, SourceOutcome};
use crate::normalize::{item_key, normalize_entry};
use crate::offload;
use crate::tone::ToneModel;

/// What a refresh learned besides the outcome, for the scheduler.
#[derive(Debug, Clone, Default)]
pub struct RefreshInfo {
    pub hints: CacheHints,
    pub feed: FeedMeta,
    /// Seconds the server asked us to wait before trying again.
    pub retry_after: Option<u64>,
}

/// The URL a source is read from (`url`, or `path` as a `file://` URL).
pub fn source_url(app: &App, source: &SourceConfig) -> Result<url::Url> {
    if let Some(u) = &source.url {
        return Ok(u.clone());
    }
    let path = source
        .path
        .as_ref()
        .map(|p| resolve(&app.config().base_dir, p))
        .ok_or_else(|| Error::BadUrl {
            url: String::new(),
            message: format!("source {} has neither url nor path", source.id()),
        })?;
    let abs = if path.is_absolute() {
        path
    } else {
        std::env::current_dir()
            .map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?
            .join(path)
    };
    url::Url::from_file_path(&abs).map_err(|_| Error::BadUrl {
        url: abs.display().to_string(),
        message: "not an absolute path".into(),
    })
}

/// Fetch one source, store what is new or changed, and record the outcome in SQLite.
/// Errors become a `Failed` outcome (a full disk is kind `disk_full`); a failure to record
/// it is logged and, for a success, turns it into a failure — never lost.
/// What follows the store is the caller's next step: [`after_store`] when the outcome
/// says items were stored or changed.
pub async fn refresh_source(
    app: &App,
    source: &SourceConfig,
) -> Result<(SourceOutcome, RefreshInfo)> {
    let started_at = Utc::now();
    let clock = Instant::now();
    let span = tracing::info_span!("refresh", source = source.id());
    let mut info = RefreshInfo::default();
    let result = fetch_and_store(app, source, &mut info)
        .instrument(span)
        .await;
    let (result, validators) = match result {
        Ok((kind, validators)) => (kind, validators),
        Err(e) => {
            if let Error::HttpStatus { retry_after, .. } = &e {
                info.retry_after = *retry_after;
            }
            tracing::warn!(error = %e, kind = e.kind(), "source failed");
            (failed(&e), None)
        }
    };
    let mut outcome = SourceOutcome {
        source_id: source.id().to_string(),
        result,
        duration_ms: clock.elapsed().as_millis() as u64,
    };
    let store = app.store.clone();
    let rec = outcome.clone();
    let recorded = tokio::task::spawn_blocking(move || {
        store.record_outcome(&rec, started_at, validators.as_ref())
    })
    .await
    .map_err(Error::from)
    .and_then(|r| r);
    // A full disk (or a failing database) must not swallow the outcome: the pass still
    // reports this source; a success that could not be recorded is reported as a failure.
    if let Err(e) = recorded {
        tracing::error!(source = source.id(), error = %e, "could not record the source's outcome");
        if !outcome.is_failure() {
            outcome.result = failed(&e);
        }
    }
    Ok((outcome, info))
}

/// The outcome of a source that failed with `e`; a full disk is said in plain words.
fn failed(e: &Error) -> OutcomeKind {
    if e.is_disk_full() {
        return OutcomeKind::Failed {
            kind: "disk_full".to_string(),
            message: format!(
                "ổ đĩa đầy: không ghi được tin của nguồn này (hãy giải phóng dung lượng thư mục dữ liệu; lần tải sau sẽ thử lại) — {e}"
            ),
        };
    }
    OutcomeKind::Failed {
        kind: e.kind().to_string(),
        message: e.to_string(),
    }
}

/// True when `outcome` stored new or changed items (so [`after_store`] has work).
pub fn stored_changes(outcome: &SourceOutcome) -> bool {
    matches!(&outcome.result, OutcomeKind::Fetched { counts, .. } if counts.new + counts.updated > 0)
}

async fn fetch_and_store(
    app: &App,
    source: &SourceConfig,
    info: &mut RefreshInfo,
) -> Result<(OutcomeKind, Option<Validators>)> {
    if source.kind == SourceKind::Manual {
        // Manual sources are filled by `gomtin post add`; there is nothing to fetch.
        return Ok((
            OutcomeKind::Fetched {
                counts: Default::default(),
                skipped: 0,
                notes: Vec::new(),
            },
            None,
        ));
    }
    // Fetch: conditionally, and asking robots.txt first for page sources that obey it.
    let url = source_url(app, source)?;
    let store = app.store.clone();
    let id = source.id().to_string();
    let validators = tokio::task::spawn_blocking(move || store.validators(&id)).await??;
    let robots = RobotsPolicy::obey_if(
        matches!(source.kind, SourceKind::Page | SourceKind::Forum) && source.obey_robots,
    );
    let fetched = app
        .fetcher
        .fetch_polite(&url, &validators, robots)
        .await
        .map_err(|e| bridge_error(&url, e));
    let mut body = match fetched? {
        Fetched::NotModified { hints } => {
            info.hints = hints;
            tracing::debug!(%url, "not modified");
            return Ok((OutcomeKind::NotModified, None));
        }
        Fetched::Body(body) => body,
    };
    info.hints = body.hints.clone();
    // Charset, extract, follow-up fetches.
    let collected = collect(app, source, &body, Pass::Store).await?;
    // The raw body is parsed: its bytes need not wait with the items for the store.
    body.bytes = Vec::new();
    info.feed = collected.meta;
    // Normalize and judge the tone (CPU work: off the async workers, within its budget).
    let source_id = source.id().to_string();
    let base = body.final_url.clone();
    let (entries, deferred) = (collected.entries, collected.deferred);
    let (threads, notes) = (collected.threads, collected.notes);
    let tone = app.tone();
    let (items, skipped, cut_short) = offload::run(
        body.final_url.as_str(),
        offload::NORMALIZE_BUDGET * 2,
        move || Ok(normalize_all(&source_id, entries, &base, deferred, &tone)),
    )
    .await?;
    // Store: the items, then what a forum crawl read of each thread (so a failed write,
    // or posts left out for lack of time, leave the threads to be read again).
    let store = app.store.clone();
    let id = source.id().to_string();
    let counts = tokio::task::spawn_blocking(move || {
        let counts = store.upsert_items(&items, Utc::now())?;
        if !cut_short {
            store.save_thread_states(&id, &threads)?;
        }
        Ok::<_, Error>(counts)
    })
    .await??;
    tracing::info!(
        new = counts.new,
        updated = counts.updated,
        unchanged = counts.unchanged,
        skipped,
        "source stored"
    );
    // Entries left out for lack of time come on the next pass: no validators, so that
    // pass is not answered 304.
    let validators = (!cut_short).then_some(body.validators);
    Ok((
        OutcomeKind::Fetched {
            counts,
            skipped,
            notes,
        },
        validators,
    ))
}

/// Normalize a source's entries within [`offload::NORMALIZE_BUDGET`]: the items, how many
/// entries were skipped (dropped, deferred by the follow-up plan, or left for lack of
/// time), and whether time ran out.
fn normalize_all(
    source_id: &str,
    entries: Vec<RawEntry>,
    base: &url::Url,
    deferred: usize,
    tone: &ToneModel,
) -> (Vec<NewItem>, usize, bool) {
    let now = Utc::now();
    let deadline = Instant::now() + offload::NORMALIZE_BUDGET;
    let total = entries.len();
    let mut items = Vec::with_capacity(total);
    let mut cut_short = false;
    for (i, entry) in entries.into_iter().enumerate() {
        if Instant::now() > deadline {
            tracing::warn!(
                source = source_id,
                left = total - i,
                "normalizing ran out of its time budget; the rest waits for the next pass"
            );
            cut_short = true;
            break;
        }
        items.extend(
            normalize_entry(source_id, entry, Some(base), now).map(|item| with_tone(tone, item)),
        );
    }
    let skipped = total - items.len() + deferred;
    (dedupe_keys(items), skipped, cut_short)
}

/// An RSS bridge's failure in its own words (`extract::bridge`): an HTTP error of a bridge
/// address becomes "cầu nối RSS có thể đã hỏng"; other errors stay as they are.
fn bridge_error(url: &url::Url, e: Error) -> Error {
    match (&e, bridge::bridge_kind(url)) {
        (Error::HttpStatus { status, .. }, Some(_)) => Error::Bridge {
            url: url.to_string(),
            message: format!("cầu nối trả về mã HTTP {status}"),
        },
        _ => e,
    }
}

/// Why a source is collected: a pass that stores what it finds (forum threads already
/// read are skipped or read from where the last pass stopped), or a check that stores
/// nothing and shows what the source has now (`gomtin sources check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    Store,
    Check,
}

/// From a fetched body to the entries of one source: decode it once (`fetch::charset`),
/// parse it as the source's kind says (`extract::feed` or `extract::page`), and — for
/// page sources and `full_content` feeds — fetch the article pages `extract::follow`
/// plans and merge what `extract::article` reads from them. `gomtin sources check` runs
/// this too, storing nothing.
pub async fn collect(
    app: &App,
    source: &SourceConfig,
    body: &Body,
    pass: Pass,
) -> Result<Collected> {
    if source.kind == SourceKind::Forum {
        // Boards, threads and their pages: the crawl's (`crawl`).
        return crate::crawl::crawl_forum(app, source, body, pass == Pass::Check).await;
    }
    let selectors = match (&source.selectors, source.kind) {
        (Some(p), SourceKind::Page) => Some(CompiledSelectors::new(p)?),
        _ => None,
    };
    let bridge = bridge::bridge_kind(&body.final_url).filter(|_| source.kind == SourceKind::Feed);
    let parsed = parse_body(app, body, selectors.clone()).await;
    let (meta, entries, next) = match (parsed, bridge) {
        (Ok(p), _) => p,
        (Err(_), Some(_)) => {
            return Err(Error::Bridge {
                url: body.final_url.to_string(),
                message: bridge::error_page_message(&String::from_utf8_lossy(&body.bytes)),
            });
        }
        (Err(e), None) => return Err(e),
    };
    if bridge.is_some()
        && let Some(message) = bridge::feed_failure(&entries)
    {
        return Err(Error::Bridge {
            url: body.final_url.to_string(),
            message,
        });
    }
    let mut listed = Collected {
        meta,
        entries,
        ..Default::default()
    };
    // A paginated list page: the pages after the first (`next`, up to `max_pages`).
    if let Some(sel) = &selectors
        && next.is_some()
    {
        listed.pages.push(PageReport {
            url: body.final_url.to_string(),
            kind: "list",
            page: 1,
            thread: None,
            threads: 0,
            posts: listed.entries.len(),
        });
        crate::crawl::more_list_pages(app, source, sel, next, &mut listed).await?;
    }
    if !follow::follows(source) {
        return Ok(listed);
    }
    let mut out = follow_articles(app, source, listed.entries).await?;
    out.meta = listed.meta;
    out.pages = listed.pages;
    out.article_errors.extend(listed.article_errors);
    Ok(out)
}

/// Decode and parse a source's body (off the async workers, within its budget).
async fn parse_body(
    app: &App,
    body: &Body,
    selectors: Option<CompiledSelectors>,
) -> Result<(FeedMeta, Vec<RawEntry>, Option<url::Url>)> {
    let base = body.final_url.clone();
    let bytes = body.bytes.clone();
    let content_type = body.content_type.clone();
    let tz = app.config().display.timezone;
    offload::run(body.final_url.as_str(), offload::PARSE_BUDGET, move || {
        let decoded = charset::decode(&bytes, content_type.as_deref());
        drop(bytes);
        tracing::debug!(
            url = %base,
            charset = %decoded.charset.name(),
            signal = ?decoded.signal,
            "decoded body"
        );
        match selectors {
            Some(sel) => {
                let (entries, next) =
                    extract_list_page(&decoded.text, &base, &sel, tz, Utc::now())?;
                Ok((FeedMeta::default(), entries, next))
            }
            None => parse_feed(charset::xml_as_utf8(&decoded.text).as_bytes(), &base)
                .map(|(meta, entries)| (meta, entries, None)),
        }
    })
    .await
}

/// The follow-up fetches: which entries the source already has (the store), the plan,
/// the article pages (at once, within the fetcher's limits), the merge.
async fn follow_articles(
    app: &App,
    source: &SourceConfig,
    entries: Vec<RawEntry>,
) -> Result<Collected> {
    let id = source.id().to_string();
    let keys: Vec<Option<String>> = entries.iter().map(|e| item_key(&id, e)).collect();
    let lookup: Vec<String> = keys.iter().flatten().cloned().collect();
    let (store, sid) = (app.store.clone(), id.clone());
    let known: HashSet<String> =
        tokio::task::spawn_blocking(move || store.known_keys(&sid, &lookup)).await??;
    let plan = follow::plan(source, &entries, &keys, &known);
    let body_sel = source
        .article
        .as_deref()
        .map(parse_selector)
        .transpose()
        .map_err(|message| Error::Selector {
            url: String::new(),
            message,
        })?;
    let tz = app.config().display.timezone;
    let robots = RobotsPolicy::obey_if(source.obey_robots);
    let mut tasks = tokio::task::JoinSet::new();
    for (i, link) in plan.fetch.iter().cloned() {
        let fetcher = app.fetcher.clone();
        let body_sel = body_sel.clone();
        tasks.spawn(async move {
            let res = fetch_article(&fetcher, &link, robots, body_sel, tz).await;
            (i, res)
        });
    }
    let mut fetched = Vec::with_capacity(plan.fetch.len());
    while let Some(joined) = tasks.join_next().await {
        let (i, res) = joined?;
        if let Err(e) = &res {
            tracing::warn!(error = %e, source = %id, "article page failed");
        }
        fetched.push((i, res));
    }
    follow::merge(&plan, entries, fetched)
}

/// Fetch one article page (asking robots.txt first when `robots` says so), decode it once
/// and extract its main content and metadata.
pub async fn fetch_article(
    fetcher: &Fetcher,
    link: &url::Url,
    robots: RobotsPolicy,
    body_selector: Option<Sel>,
    tz: chrono_tz::Tz,
) -> Result<Article> {
    let fetched = fetcher
        .fetch_polite(link, &Validators::default(), robots)
        .await?;
    let Fetched::Body(body) = fetched else {
        return Err(Error::Article {
            url: link.to_string(),
            message: "304 without validators".into(),
        });
    };
    offload::run(link.as_str(), offload::ARTICLE_BUDGET, move || {
        let text = charset::decode(&body.bytes, body.content_type.as_deref()).text;
        extract_article(&text, &body.final_url, body_selector.as_ref(), tz)
    })
    .await
}

/// `item` with its tone judged by `tone` (title, lead, body).
pub fn with_tone(tone: &ToneModel, mut item: NewItem) -> NewItem {
    item.tone = Some(tone.judge(&item.title, &item.summary, &item.content_text));
    item
}

/// Give a tone to every stored item that has none, scoring every item again when the
/// lexicon changed (see [`crate::app::backfill_tones`]). Blocking; returns how many were
/// scored.
pub fn backfill_tones(app: &App) -> Result<usize> {
    crate::app::backfill_tones(&app.store, &app.tone())
}

/// A feed may list the same entry twice; keep the last occurrence of each key.
fn dedupe_keys(items: Vec<NewItem>) -> Vec<NewItem> {
    let mut seen = HashSet::new();
    let mut out: Vec<NewItem> = items
        .into_iter()
        .rev()
        .filter(|i| seen.insert(i.key.clone()))
        .collect();
    out.reverse();
    out
}

/// One pass over `sources` (all enabled ones when empty); the fetcher bounds how many
/// requests run at once overall and per host. `on_done` sees each outcome as it arrives.
/// Afterwards the index catches up.
pub async fn fetch_pass(
    app: &App,
    ids: &[String],
    on_done: impl Fn(&SourceOutcome) + Send + Sync + 'static,
) -> Result<Vec<SourceOutcome>> {
    let sources: Vec<SourceConfig> = if ids.is_empty() {
        app.config()
            .sources
            .iter()
            .filter(|s| s.enabled)
            .cloned()
            .collect()
    } else {
        let mut v = Vec::new();
        for id in ids {
            v.push(
                app.config()
                    .source(id)
                    .cloned()
                    .ok_or_else(|| Error::UnknownSource(id.clone()))?,
            );
        }
        v
    };
    let on_done = Arc::new(on_done);
    // Alerts exist from before this pass's items: their new matches alert.
    {
        let app = app.clone();
        tokio::task::spawn_blocking(move || crate::alerts::register(&app, Utc::now())).await??;
    }
    let feeder = Feeder::spawn(app.index.clone(), app.store.clone(), Commit::AtEnd, |_| {});
    // Sources in flight at once: as many as the fetcher lets through. Starting thousands
    // at once only piles them up on the store (each would hold a blocking thread waiting
    // for the connection), and each source in flight holds its parsed items until it has
    // stored them: twice the concurrency (eight 500-item feeds in the 35k ingest) cost
    // 30–40 MB of `gomtin fetch`'s peak, and the pass was no faster (also the 1,000-source
    // poll: 3.9–4.7 s either way).
    let in_flight = Arc::new(tokio::sync::Semaphore::new(
        app.config().fetch.concurrency.max(1),
    ));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, source) in sources.into_iter().enumerate() {
        let app = app.clone();
        let on_done = on_done.clone();
        let feed = feeder.handle();
        let in_flight = in_flight.clone();
        tasks.spawn(async move {
            let _slot = in_flight
                .acquire_owned()
                .await
                .map_err(|e| Error::Task(e.to_string()))?;
            let (outcome, _) = refresh_source(&app, &source).await?;
            if stored_changes(&outcome)
                && let Err(e) = after_store(&app, Some(&feed)).await
            {
                tracing::warn!(source = source.id(), error = %e, "after-store step failed; the pass catches up at its end");
            }
            on_done(&outcome);
            Ok::<_, Error>((i, outcome))
        });
    }
    let mut outcomes = Vec::new();
    let mut first_err = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(o)) => outcomes.push(o),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "could not record a source outcome");
                first_err.get_or_insert(e);
            }
            Err(e) => {
                tracing::error!(error = %e, "fetch task panicked");
                first_err.get_or_insert(Error::Task(e.to_string()));
            }
        }
    }
    outcomes.sort_by_key(|(i, _)| *i);
    tracing::info!(sources = outcomes.len(), "pass done; catching up the index");
    feeder.stop().await;
    after_store(app, None).await?;
    if let Some(e) = first_err {
        return Err(e);
    }
    Ok(outcomes.into_iter().map(|(_, o)| o).collect())
}

/// What follows storing items, on every path that stores them — a source refreshed by a
/// fetch pass or the daemon, the web's "fetch now", `gomtin post add`:
/// 1. cluster whatever was not clustered as it was stored (`Store::cluster_pending`;
///    usually nothing, since `Store::upsert_items` clusters in the same transaction);
/// 2. give a tone to items stored without one ([`backfill_tones`]; usually nothing);
/// 3. look for new matches of the `[[alerts]]` (`alerts::collect`; the daemon's alert
///    runner sends them);
/// 4. the index: with a `feeder` (a pass, the daemon), tell it — it feeds tantivy in the
///    background and its owner commits at the end; without one, catch up now: feed from
///    the change log, tag topics as the index does, rebuild when the topic definitions
///    changed, commit.
///
/// Returns how many items were indexed now (0 when left to the feeder). From async code:
/// `pipeline::after_store(&app, None).await?`; from blocking code (a `spawn_blocking`
/// closure, a test without a runtime): [`after_store_blocking`], same arguments.
pub async fn after_store(app: &App, feeder: Option<&FeedHandle>) -> Result<usize> {
    let (app, feeder) = (app.clone(), feeder.cloned());
    tokio::task::spawn_blocking(move || after_store_blocking(&app, feeder.as_ref())).await?
}

/// [`after_store`] for blocking code: it runs on the calling thread.
pub fn after_store_blocking(app: &App, feeder: Option<&FeedHandle>) -> Result<usize> {
    app.store.cluster_pending()?;
    backfill_tones(app)?;
    if let Err(e) = crate::alerts::collect(app, Utc::now()) {
        tracing::error!(error = %e, "checking alerts failed; the next store looks again");
    }
    match feeder {
        Some(feeder) => {
            feeder.stored();
            Ok(0)
        }
        None => crate::feeder::catch_up(&app.index, &app.store),
    }
}

/// Bring the index up to date with SQLite (off the async workers), without clustering,
/// after giving a tone to the items that have none. When the topic definitions changed
/// since the index was built, everything is re-tagged (rebuilt).
pub async fn catch_up_index(app: &App) -> Result<usize> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || {
        backfill_tones(&app)?;
        crate::feeder::catch_up(&app.index, &app.store)
    })
    .await?
}
