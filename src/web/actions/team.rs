//! The team's work around items, for the pages (`shares`) and the JSON API (`api`):
//! proposing an item for sharing and an admin's decision on it, the list of proposals,
//! saving items for later, "Tin mới" (what arrived since the person's previous visit,
//! grouped by story with the one rule, `cluster::StoryKey`) and the share ledger.

use chrono::{DateTime, Utc};

use super::super::error::WebError;
use super::super::state::AppState;
use crate::cluster::group_stories;
use crate::error::Result;
use crate::model::Item;
use crate::store::{
    ItemQuery, LedgerRow, Proposal, ProposalState, Proposed, SavedItem, StoryShare, User,
};

/// Longest note on a proposal (characters).
pub const MAX_NOTE: usize = 500;
/// Most items "Tin mới" lists.
const NEWS_MAX: usize = 300;

fn no_such_item(id: i64) -> WebError {
    WebError::not_found(format!("Không có tin số {id}."))
}

/// Propose item `id` for sharing, as `user`, with `note` (404 for no such item, 400 for
/// a note too long). An item with a current proposal keeps it (`Proposed::Already`).
pub async fn propose(
    state: &AppState,
    user: &User,
    id: i64,
    note: &str,
) -> std::result::Result<Proposed, WebError> {
    let note = note.trim().to_string();
    if note.chars().count() > MAX_NOTE {
        return Err(WebError::bad_request(format!(
            "Ghi chú đề xuất dài quá {MAX_NOTE} ký tự."
        )));
    }
    let store = state.app.store.clone();
    let user = user.clone();
    let done = tokio::task::spawn_blocking(move || -> Result<Option<Proposed>> {
        if store.item(id)?.is_none() {
            return Ok(None);
        }
        Ok(Some(store.propose(id, &user, &note, Utc::now())?))
    })
    .await??;
    let done = done.ok_or_else(|| no_such_item(id))?;
    if let Proposed::New(p) = &done {
        tracing::info!(user = %p.user, item = id, "proposed");
    }
    Ok(done)
}

/// An admin approves (`true`) or dismisses proposal `proposal` (404 when there is no such
/// current proposal, or it already is in that state).
pub async fn decide(
    state: &AppState,
    admin: &User,
    proposal: i64,
    approve: bool,
) -> std::result::Result<Proposal, WebError> {
    let store = state.app.store.clone();
    let admin = admin.clone();
    let to = if approve {
        ProposalState::Approved
    } else {
        ProposalState::Dismissed
    };
    let decided = tokio::task::spawn_blocking(move || {
        store.decide_proposal(proposal, &admin, to, Utc::now())
    })
    .await??;
    let decided = decided.ok_or_else(|| {
        WebError::not_found("Không có đề xuất này, hoặc nó đã được xử lý như vậy.")
    })?;
    tracing::info!(proposal, state = decided.state.as_str(), "proposal decided");
    Ok(decided)
}

/// A proposal with its item (None when the item is gone) and its story's share.
pub struct ProposalRow {
    pub proposal: Proposal,
    pub item: Option<Item>,
    pub story_share: Option<StoryShare>,
}

/// The current proposals (or the dismissed ones), newest first.
pub async fn proposals(
    state: &AppState,
    dismissed: bool,
) -> std::result::Result<Vec<ProposalRow>, WebError> {
    let store = state.app.store.clone();
    Ok(
        tokio::task::spawn_blocking(move || -> Result<Vec<ProposalRow>> {
            let list = store.proposals(dismissed, 500)?;
            let ids: Vec<i64> = list.iter().map(|p| p.item_id).collect();
            let items = store.items_by_ids(&ids)?;
            let mut shares = store.story_shares(&ids)?;
            Ok(list
                .into_iter()
                .map(|p| ProposalRow {
                    item: items.iter().find(|i| i.id == p.item_id).cloned(),
                    story_share: shares.remove(&p.item_id),
                    proposal: p,
                })
                .collect())
        })
        .await??,
    )
}

/// Save (`true`) or unsave item `id` for `user` (404 for no such item).
pub async fn set_saved(
    state: &AppState,
    user: &User,
    id: i64,
    saved: bool,
) -> std::result::Result<(), WebError> {
    let store = state.app.store.clone();
    let user_id = user.id;
    let found = tokio::task::spawn_blocking(move || -> Result<bool> {
        if store.item(id)?.is_none() {
            return Ok(false);
        }
        store.set_saved(user_id, id, saved, Utc::now())?;
        Ok(true)
    })
    .await??;
    if found { Ok(()) } else { Err(no_such_item(id)) }
}

/// Whether `user` saved item `id`.
pub async fn is_saved(state: &AppState, user: &User, id: i64) -> bool {
    let store = state.app.store.clone();
    let user_id = user.id;
    tokio::task::spawn_blocking(move || store.saved_among(user_id, &[id]))
        .await
        .ok()
        .and_then(|r| r.ok())
        .is_some_and(|s| s.contains(&id))
}

/// `user`'s saved items, last saved first.
pub async fn saved(state: &AppState, user: &User) -> std::result::Result<Vec<SavedItem>, WebError> {
    let store = state.app.store.clone();
    let user_id = user.id;
    Ok(tokio::task::spawn_blocking(move || store.saved_items(user_id, 500)).await??)
}

/// One story of "Tin mới": its newest item first, then its other new copies.
pub struct NewsStory {
    pub items: Vec<Item>,
    pub shared: Option<StoryShare>,
}

/// What arrived since `user`'s previous visit.
pub struct News {
    pub since: DateTime<Utc>,
    /// How many items arrived (it may be more than are listed).
    pub total: i64,
    pub stories: Vec<NewsStory>,
}

/// "Tin mới" for `user`, recording this view as part of their current visit.
pub async fn news(state: &AppState, user: &User) -> std::result::Result<News, WebError> {
    let store = state.app.store.clone();
    let user_id = user.id;
    Ok(tokio::task::spawn_blocking(move || -> Result<News> {
        let since = store.visit_news(user_id, Utc::now())?;
        let total = store.count_first_seen_after(since)?;
        let items = store.list_items(&ItemQuery {
            source_id: None,
            first_seen_after: Some(since),
            limit: Some(NEWS_MAX),
        })?;
        let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
        let mut keys = store.story_keys(&ids)?;
        let story_keys: Vec<_> = ids
            .iter()
            .map(|id| keys.remove(id).unwrap_or_default())
            .collect();
        let mut shares = store.story_shares(&ids)?;
        let mut stories: Vec<NewsStory> = Vec::new();
        for (item, story) in items.into_iter().zip(group_stories(&story_keys)) {
            if story == stories.len() {
                stories.push(NewsStory {
                    shared: shares.remove(&item.id),
                    items: vec![item],
                });
            } else if let Some(s) = stories.get_mut(story) {
                s.items.push(item);
            }
        }
        Ok(News {
            since,
            total,
            stories,
        })
    })
    .await??)
}

/// How many items arrived since `user`'s previous visit of "Tin mới" (None before their
/// first one), without recording a view.
pub async fn news_count(state: &AppState, user: &User) -> Option<i64> {
    let store = state.app.store.clone();
    let user_id = user.id;
    tokio::task::spawn_blocking(move || -> Result<Option<i64>> {
        match store.news_since(user_id, Utc::now())? {
            Some(since) => Ok(Some(store.count_first_seen_after(since)?)),
            None => Ok(None),
        }
    })
    .await
    .ok()
    .and_then(|r| r.ok())
    .flatten()
}

/// The whole share ledger, undone shares included, newest first.
pub async fn ledger(state: &AppState) -> std::result::Result<Vec<LedgerRow>, WebError> {
    let store = state.app.store.clone();
    Ok(tokio::task::spawn_blocking(move || store.share_ledger()).await??)
}
