//! The web app's use-cases, shared by the pages (`pages`, `feeds`, `shares`, `capture`)
//! and the JSON API (`api`) so each is written once: search parameters to a search
//! request and its results (every hit, for exports), an item with its shares, its story's
//! share and the other sources' copies, the display names of sources, recording and
//! undoing a share, the sources' health, and "fetch this source now". The team's work
//! (proposals, saved items, "Tin mới", the ledger) is in `team`, capturing posts in
//! `capture`. They return data or a [`WebError`] with the status the answer should have;
//! the handlers choose the page or JSON around them.

pub mod capture;
pub mod team;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::error::WebError;
use super::state::AppState;
use super::view::{safe_url, share_text};
use crate::error::{Error, Result};
use crate::metrics::OutcomeLabels;
use crate::model::{Item, SourceOutcome, SourceStatus};
use crate::search::{SearchRequest, SearchResults, Status};
use crate::store::{
    NewShare, Proposal, RelatedItem, Share, StoryShare, ThreadPostRef, ToneShare, User,
};

// ---------------------------------------------------------------------------------------
// Search

/// Query-string parameters of the search page, `/export`, `/feed.atom` and `/api/search`.
#[derive(Debug, Default, Deserialize, Serialize, Clone)]
pub struct SearchParams {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub topic: String,
    /// First day, `YYYY-MM-DD` (also accepted as `after`).
    #[serde(default, alias = "after")]
    pub from: String,
    /// Last day included, `YYYY-MM-DD` (`before` is exclusive, as in the query language).
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub before: String,
    /// "1" keeps only items nobody has marked shared.
    #[serde(default)]
    pub unshared: String,
    /// `positive`, `neutral`, `negative` (comma-separated for several): the items' tone.
    #[serde(default)]
    pub tone: String,
    /// `status:` filters (`proposed`, `approved`, `shared`, `unshared`), comma-separated.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub page: Option<usize>,
    #[serde(default)]
    pub limit: Option<usize>,
    #[serde(default)]
    pub offset: Option<usize>,
    #[serde(default)]
    pub format: String,
}

impl SearchParams {
    pub fn unshared(&self) -> bool {
        matches!(self.unshared.as_str(), "1" | "true" | "on")
    }

    /// The tones asked for (`tone=positive,negative`); an unknown name is an error.
    pub fn tones(&self) -> Result<Vec<crate::model::Tone>> {
        self.tone
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| t.parse().map_err(Error::Query))
            .collect()
    }

    /// True when only good news is asked for (the "Tin tích cực" box).
    pub fn positive_only(&self) -> bool {
        self.tones()
            .is_ok_and(|t| t == [crate::model::Tone::Positive])
    }

    /// True when a filter beside the query text is set.
    pub fn has_filters(&self) -> bool {
        !(self.source.is_empty()
            && self.topic.is_empty()
            && self.from.is_empty()
            && self.to.is_empty()
            && self.before.is_empty()
            && self.status.is_empty()
            && self.tone.is_empty()
            && !self.unshared())
    }

    /// The parameters as a query string, without paging (for links that keep the search).
    pub fn query_string(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", &self.q),
            ("source", &self.source),
            ("topic", &self.topic),
            ("from", &self.from),
            ("to", &self.to),
            ("before", &self.before),
            ("tone", &self.tone),
            ("status", &self.status),
        ] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        if self.unshared() {
            s.append_pair("unshared", "1");
        }
        s.finish()
    }
}

fn day_start(s: &str, tz: chrono_tz::Tz, what: &str) -> Result<Option<DateTime<Utc>>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| Error::Query(format!("{what} `{s}` không phải ngày dạng YYYY-MM-DD")))?;
    let local = d
        .and_hms_opt(0, 0, 0)
        .and_then(|t| tz.from_local_datetime(&t).earliest())
        .ok_or_else(|| Error::Query(format!("{what} `{s}` không hợp lệ")))?;
    Ok(Some(local.with_timezone(&Utc)))
}

/// Turn parameters into a search request (limit/offset are the caller's), with the
/// notices of what was read differently from what was given (dates the wrong way round).
fn build_request(
    state: &AppState,
    p: &SearchParams,
    limit: usize,
    offset: usize,
) -> Result<(SearchRequest, Vec<String>)> {
    let tz = state.timezone();
    let mut notices = Vec::new();
    let mut req = SearchRequest::new(p.q.trim(), limit);
    req.offset = offset;
    if !p.source.is_empty() {
        req.sources.push(p.source.clone());
    }
    if !p.topic.is_empty() {
        req.topics.push(p.topic.clone());
    }
    let (mut from, mut to) = (
        day_start(&p.from, tz, "từ ngày")?,
        day_start(&p.to, tz, "đến ngày")?,
    );
    if let (Some(a), Some(b)) = (from, to)
        && a > b
    {
        notices.push(format!(
            "Ngày bắt đầu ({}) sau ngày kết thúc ({}): đã đổi chỗ hai ngày.",
            p.from.trim(),
            p.to.trim()
        ));
        (from, to) = (Some(b), Some(a));
    }
    req.after = from;
    req.before = match to {
        Some(d) => Some(d + chrono::Duration::days(1)),
        None => day_start(&p.before, tz, "before")?,
    };
    for s in p
        .status
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let status = Status::parse(s).ok_or_else(|| {
            Error::Query(format!(
                "status={s} không được hỗ trợ; dùng proposed, approved, shared hoặc unshared"
            ))
        })?;
        req.statuses.push(status);
    }
    req.tones = p.tones()?;
    if p.unshared() {
        req.statuses.push(Status::Unshared);
    }
    Ok((req, notices))
}

/// Run a search off the async workers, once the search gate gives it a turn (on one
/// thread when others run or wait); a 503 with `Retry-After` when the gate refuses it.
pub async fn run_search(
    state: &AppState,
    p: &SearchParams,
    limit: usize,
    offset: usize,
) -> std::result::Result<SearchResults, WebError> {
    let (mut req, notices) = build_request(state, p, limit, offset)?;
    let outcome = |o: &str| OutcomeLabels { outcome: o.into() };
    let turn = match state.search_gate.enter().await {
        Ok(turn) => turn,
        Err(busy) => {
            state
                .metrics
                .searches
                .get_or_create(&outcome("rejected"))
                .inc();
            return Err(WebError::busy(busy.retry_after_secs));
        }
    };
    state.metrics.searches.get_or_create(&outcome("run")).inc();
    req.threads = turn.threads();
    let app = state.app.clone();
    let mut results = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        app.search(&req)
    })
    .await??;
    results.notices.splice(0..0, notices);
    Ok(results)
}

/// Every hit of a search (up to `max`), walking pages.
pub async fn all_hits(
    state: &AppState,
    p: &SearchParams,
    max: usize,
) -> std::result::Result<SearchResults, WebError> {
    let mut first = run_search(state, p, crate::search::MAX_LIMIT.min(max), 0).await?;
    while first.hits.len() < first.total.min(max) {
        let more = run_search(state, p, crate::search::MAX_LIMIT, first.hits.len()).await?;
        if more.hits.is_empty() {
            break;
        }
        first.hits.extend(more.hits);
    }
    first.hits.truncate(max);
    Ok(first)
}

/// What a result list shows beside each hit: its ready-to-post text (for the one-tap
/// copy), its story's latest share, its current proposal, and how many other sources
/// posted its story.
#[derive(Default)]
pub struct HitDetails {
    pub share_text: HashMap<i64, String>,
    pub story_shares: HashMap<i64, StoryShare>,
    pub proposals: HashMap<i64, Proposal>,
    pub also: HashMap<i64, usize>,
}

/// The [`HitDetails`] of items `ids` (what cannot be read is left out).
pub async fn hit_details(state: &AppState, ids: &[i64]) -> HitDetails {
    let store = state.app.store.clone();
    let ids = ids.to_vec();
    let loaded = tokio::task::spawn_blocking(move || -> Result<_> {
        Ok((
            store.items_by_ids(&ids)?,
            store.story_shares(&ids)?,
            store.current_proposals(&ids)?,
            store.related_counts(&ids)?,
        ))
    })
    .await;
    let Ok(Ok((items, story_shares, proposals, also))) = loaded else {
        return HitDetails::default();
    };
    let config = state.app.config();
    let names = source_names(state);
    let share_text = items
        .iter()
        .map(|i| {
            let name = names.get(&i.source_id).unwrap_or(&i.source_id);
            (i.id, share_text(&config, i, name))
        })
        .collect();
    HitDetails {
        share_text,
        story_shares,
        proposals,
        also,
    }
}

/// A source as the search filter offers it.
pub struct SourceChoice {
    pub id: String,
    pub name: String,
    /// Its last fetch failed.
    pub failing: bool,
    /// It has no item yet.
    pub empty: bool,
}

/// The configured sources for the search filter, in Vietnamese alphabetical order, with
/// the failing and empty ones marked.
pub fn source_choices(state: &AppState) -> Vec<SourceChoice> {
    let statuses: HashMap<String, SourceStatus> = state
        .app
        .store
        .source_statuses(Utc::now())
        .unwrap_or_default()
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    let mut out: Vec<SourceChoice> = state
        .app
        .config()
        .sources
        .iter()
        .map(|s| {
            let status = statuses.get(s.id());
            SourceChoice {
                id: s.id().to_string(),
                name: s.name.clone(),
                failing: status.is_some_and(|st| st.last_error.is_some()),
                empty: status.is_none_or(|st| st.item_count == 0),
            }
        })
        .collect();
    out.sort_by(|a, b| crate::vietnamese::collate::compare(&a.name, &b.name));
    out
}

/// Display names of sources (config first, SQLite rows for retired ones).
pub fn source_names(state: &AppState) -> HashMap<String, String> {
    let mut names: HashMap<String, String> = HashMap::new();
    if let Ok(rows) = state.app.store.source_statuses(Utc::now()) {
        for s in rows {
            names.insert(s.id, s.name);
        }
    }
    for s in &state.app.config().sources {
        names.insert(s.id().to_string(), s.name.clone());
    }
    names
}

// ---------------------------------------------------------------------------------------
// Items and shares

/// An item with what its page shows beside it.
pub struct LoadedItem {
    pub item: Item,
    /// Its live shares, newest first.
    pub shares: Vec<Share>,
    /// The latest live share of any copy of its story.
    pub story_share: Option<StoryShare>,
    /// Its current (open or approved) proposal.
    pub proposal: Option<Proposal>,
    /// The other sources' copies of the story.
    pub related: Vec<RelatedItem>,
    /// Display name of its source.
    pub source_name: String,
    /// The ready-to-post text (`[share] template`).
    pub share_text: String,
    /// A forum post: the thread's stored posts (the first ones) and how many there are.
    pub thread_posts: Vec<ThreadPostRef>,
    pub thread_total: usize,
}

/// Posts of a thread listed on one of its posts' page.
const THREAD_POSTS_SHOWN: usize = 30;

fn no_such_item(id: i64) -> WebError {
    WebError::not_found(format!("Không có tin số {id}."))
}

/// The item page's and `/api/items/{id}`'s data (404 when there is no such item).
pub async fn load_item(state: &AppState, id: i64) -> std::result::Result<LoadedItem, WebError> {
    let store = state.app.store.clone();
    let loaded = tokio::task::spawn_blocking(move || -> Result<_> {
        let Some(item) = store.item(id)? else {
            return Ok(None);
        };
        let thread = match &item.thread {
            Some(t) => store.thread_posts(&item.source_id, &t.key, THREAD_POSTS_SHOWN)?,
            None => (Vec::new(), 0),
        };
        Ok(Some((
            item,
            store.shares_of(id)?,
            store.related_items(id)?,
            store.story_shares(&[id])?.remove(&id),
            store.current_proposals(&[id])?.remove(&id),
            thread,
        )))
    })
    .await??;
    let (item, shares, related, story_share, proposal, (thread_posts, thread_total)) =
        loaded.ok_or_else(|| no_such_item(id))?;
    let source_name = source_names(state)
        .remove(&item.source_id)
        .unwrap_or(item.source_id.clone());
    let share_text = share_text(&state.app.config(), &item, &source_name);
    Ok(LoadedItem {
        item,
        shares,
        story_share,
        proposal,
        related,
        source_name,
        share_text,
        thread_posts,
        thread_total,
    })
}

/// Check a share's channel and link; both come from people (400 when wrong).
pub fn validate_share(channel: &str, link: &str) -> std::result::Result<NewShare, WebError> {
    let channel = channel.trim();
    if channel.is_empty() || channel.chars().count() > 40 {
        return Err(WebError::bad_request("Kênh chia sẻ cần từ 1 đến 40 ký tự."));
    }
    let link = link.trim();
    let link = if link.is_empty() {
        None
    } else {
        Some(safe_url(Some(link)).ok_or_else(|| {
            WebError::bad_request(
                "Liên kết bài đã chia sẻ phải bắt đầu bằng http:// hoặc https://.",
            )
        })?)
    };
    Ok(NewShare {
        channel: channel.to_string(),
        link,
    })
}

/// Record that `user` shared item `id` (404 when there is no such item). A repeated click
/// (the same share again within a minute) records nothing new: the flag is false and the
/// share is the one already recorded.
pub async fn record_share(
    state: &AppState,
    user: &User,
    id: i64,
    share: NewShare,
) -> std::result::Result<(Share, bool), WebError> {
    let store = state.app.store.clone();
    let user = user.clone();
    let recorded = tokio::task::spawn_blocking(move || -> Result<Option<(Share, bool)>> {
        if store.item(id)?.is_none() {
            return Ok(None);
        }
        Ok(Some(store.add_share(id, &user, &share, Utc::now())?))
    })
    .await??;
    let recorded = recorded.ok_or_else(|| no_such_item(id))?;
    if recorded.1 {
        tracing::info!(user = %recorded.0.user, item = id, channel = %recorded.0.channel, "shared");
    }
    Ok(recorded)
}

/// Whether `who` may undo a share recorded by account `owner_id` named `owner`: the
/// sharer themself or an admin.
pub fn may_undo(who: &User, owner_id: Option<i64>, owner: &str) -> bool {
    who.is_admin() || owner_id.map_or(who.name == owner, |o| o == who.id)
}

/// Undo share `share` of item `id` as `who` (404 when there is no such live share, 403
/// unless `who` recorded it or is an admin).
pub async fn undo_share(
    state: &AppState,
    who: &User,
    id: i64,
    share: i64,
) -> std::result::Result<(), WebError> {
    let store = state.app.store.clone();
    let owner = tokio::task::spawn_blocking(move || store.share_owner(share)).await??;
    let gone = || WebError::not_found("Không có lượt chia sẻ này (có thể đã được hoàn tác).");
    let owner = owner.filter(|o| o.item_id == id).ok_or_else(gone)?;
    if !may_undo(who, owner.user_id, &owner.user) {
        return Err(WebError::new(
            axum::http::StatusCode::FORBIDDEN,
            format!(
                "Chỉ {} (người đã chia sẻ) hoặc quản trị viên được hoàn tác lượt chia sẻ này.",
                owner.user
            ),
        ));
    }
    let store = state.app.store.clone();
    let undone =
        tokio::task::spawn_blocking(move || store.undo_share(id, share, Utc::now())).await??;
    if undone {
        tracing::info!(user = %who.name, item = id, share, "share undone");
        Ok(())
    } else {
        Err(gone())
    }
}

// ---------------------------------------------------------------------------------------
// Sources

/// Every source's health, as `gomtin sources list --json`.
pub async fn source_statuses(state: &AppState) -> std::result::Result<Vec<SourceStatus>, WebError> {
    let store = state.app.store.clone();
    Ok(tokio::task::spawn_blocking(move || store.source_statuses(Utc::now())).await??)
}

/// Every source's health with its items per day over the last `days` days and the tones
/// of the items it brought in that time.
pub async fn source_activity(
    state: &AppState,
    days: i64,
) -> std::result::Result<Vec<(SourceStatus, Vec<i64>, ToneShare)>, WebError> {
    let store = state.app.store.clone();
    let now = Utc::now();
    let rows = tokio::task::spawn_blocking(move || -> Result<_> {
        let statuses = store.source_statuses(now)?;
        let shares = store.tone_shares(now - chrono::Duration::days(days))?;
        let mut out = Vec::new();
        for s in statuses {
            let per_day = store.items_per_day(&s.id, days, now)?;
            let share = shares.get(&s.id).copied().unwrap_or_default();
            out.push((s, per_day, share));
        }
        Ok(out)
    })
    .await??;
    Ok(rows)
}

/// Fetch one source now, as asked by `user`, and index what it brought (404 for an
/// unknown source).
pub async fn fetch_source_now(
    state: &AppState,
    user: &User,
    id: &str,
) -> std::result::Result<SourceOutcome, WebError> {
    let app = &state.app;
    let source = app
        .config()
        .source(id)
        .ok_or_else(|| WebError::not_found(Error::UnknownSource(id.to_string()).to_string()))?
        .clone();
    tracing::info!(user = %user.name, source = %id, "fetch now");
    let (outcome, _) = crate::pipeline::refresh_source(app, &source).await?;
    crate::pipeline::after_store(app, None).await?;
    let detail = match &outcome.result {
        crate::model::OutcomeKind::Fetched { counts, .. } => {
            format!("{} tin mới, {} cập nhật", counts.new, counts.updated)
        }
        crate::model::OutcomeKind::NotModified => "không đổi".to_string(),
        crate::model::OutcomeKind::Failed { message, .. } => format!("lỗi: {message}"),
    };
    crate::admin::edit::audit(
        app,
        &crate::admin::edit::Action {
            who: &user.name,
            what: "source.fetch",
            target: id,
            detail,
        },
    );
    Ok(outcome)
}
