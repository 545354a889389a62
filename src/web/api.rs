//! The JSON API (documented in docs/API.md): `/api/search` answers exactly what
//! `gomtin search --json` prints, `/api/items/{id}` one item with its shares,
//! `/api/sources` the sources' health (as `gomtin sources list --json`), and shares are
//! recorded or undone with `POST /api/items/{id}/shares` / `DELETE …/shares/{share}`,
//! a post captured with `POST /api/posts` (searchable when the answer comes back), and
//! proposals made, listed and decided under `/api/items/{id}/proposals` and
//! `/api/proposals`.
//! Callers authenticate with a session cookie (plus `X-CSRF-Token` on writes) or with
//! `Authorization: Bearer TOKEN` from `gomtin users token NAME`. Errors are `{"error": …}`
//! ([`WebError`] under `/api/`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::actions::capture::{self, Capture};
use super::actions::{self, SearchParams, team};
use super::auth::{Admin, Staff};
use super::error::WebError;
use super::state::AppState;
use super::view::{safe_url, sanitize_html};

/// `GET /api/search`.
pub async fn search(
    State(state): State<AppState>,
    Query(p): Query<SearchParams>,
) -> Result<Response, WebError> {
    let limit = p.limit.unwrap_or(state.app.config().search.default_limit);
    let offset = p.offset.unwrap_or(0);
    let results = actions::run_search(&state, &p, limit, offset).await?;
    Ok(Json(results).into_response())
}

/// `GET /api/items/{id}`.
pub async fn item(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let loaded = actions::load_item(&state, id).await?;
    let item = &loaded.item;
    Ok(Json(serde_json::json!({
        "id": item.id,
        "source": item.source_id,
        "source_name": loaded.source_name,
        "title": item.title,
        "url": safe_url(item.url.as_deref()),
        "author": item.author,
        "published": item.published_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "summary": item.summary,
        "content_html": sanitize_html(&item.content_html),
        "content_text": item.content_text,
        "image_url": safe_url(item.image_url.as_deref()),
        "share_text": loaded.share_text,
        "shares": loaded.shares,
        "story_shared": loaded.story_share,
        "proposal": loaded.proposal,
        "also_posted_by": loaded.related,
    }))
    .into_response())
}

/// `GET /api/sources`.
pub async fn sources(State(state): State<AppState>) -> Result<Response, WebError> {
    Ok(Json(actions::source_statuses(&state).await?).into_response())
}

#[derive(Deserialize)]
pub struct ShareBody {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    link: Option<String>,
}

/// `POST /api/items/{id}/shares` with `{"channel": …, "link": …}`: 201 and the share.
pub async fn add_share(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<i64>,
    body: Option<Json<ShareBody>>,
) -> Result<Response, WebError> {
    let Some(Json(body)) = body else {
        return Err(WebError::bad_request(
            "Cần thân JSON {\"channel\": \"…\", \"link\": \"…\"}.",
        ));
    };
    let share = actions::validate_share(&body.channel, body.link.as_deref().unwrap_or(""))?;
    let (recorded, new) = actions::record_share(&state, &who.user, id, share).await?;
    // A repeat within a minute records nothing: 200 with the share already recorded.
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(recorded)).into_response())
}

/// `DELETE /api/items/{id}/shares/{share}`: 204 (the sharer or an admin; 403 otherwise).
pub async fn undo_share(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path((id, share)): Path<(i64, i64)>,
) -> Result<StatusCode, WebError> {
    actions::undo_share(&state, &who.user, id, share).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/posts` with `{"source", "url", "title", "text", "published", "image"}` (or
/// `"new_source": NAME` instead of `source`): 201 and `{"id", "source", "key",
/// "outcome"}` for a new post; the same link again updates it (200, `"updated"`, or
/// `"unchanged"`).
pub async fn add_post(
    State(state): State<AppState>,
    Staff(who): Staff,
    body: Option<Json<Capture>>,
) -> Result<Response, WebError> {
    let Some(Json(post)) = body else {
        return Err(WebError::bad_request(
            "Cần thân JSON {\"source\": \"…\", \"url\": \"…\", \"title\": \"…\", \"text\": \"…\"}.",
        ));
    };
    let done = capture::capture(&state, &who.user, &post).await?;
    let status = if done.outcome == "added" {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(done)).into_response())
}

#[derive(Deserialize)]
pub struct ProposeBody {
    #[serde(default)]
    note: String,
}

/// `POST /api/items/{id}/proposals` with `{"note": …}`: 201 and the proposal, or 200 and
/// the item's current one when it already has one.
pub async fn propose(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<i64>,
    body: Option<Json<ProposeBody>>,
) -> Result<Response, WebError> {
    let note = body.map(|Json(b)| b.note).unwrap_or_default();
    Ok(match team::propose(&state, &who.user, id, &note).await? {
        crate::store::Proposed::New(p) => (StatusCode::CREATED, Json(p)).into_response(),
        crate::store::Proposed::Already(p) => (StatusCode::OK, Json(p)).into_response(),
    })
}

#[derive(Deserialize)]
pub struct ProposalsQuery {
    /// "1": the dismissed ones.
    #[serde(default)]
    dismissed: String,
}

/// `GET /api/proposals`: the current proposals (open and approved), newest first, each
/// with its item's title and source; `?dismissed=1` for the dismissed ones.
pub async fn proposals(
    State(state): State<AppState>,
    Query(q): Query<ProposalsQuery>,
) -> Result<Response, WebError> {
    let rows = team::proposals(&state, q.dismissed == "1").await?;
    let out: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|r| {
            let mut v = serde_json::to_value(&r.proposal).unwrap_or_default();
            if let Some(obj) = v.as_object_mut() {
                obj.insert(
                    "title".into(),
                    r.item.as_ref().map(|i| i.title.clone()).into(),
                );
                obj.insert(
                    "source".into(),
                    r.item.as_ref().map(|i| i.source_id.clone()).into(),
                );
                obj.insert("shared".into(), r.story_share.is_some().into());
            }
            v
        })
        .collect();
    Ok(Json(out).into_response())
}

/// `POST /api/proposals/{id}/approve` (admin): the proposal, approved.
pub async fn approve(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    Ok(Json(team::decide(&state, &who.user, id, true).await?).into_response())
}

/// `POST /api/proposals/{id}/dismiss` (admin): the proposal, dismissed.
pub async fn dismiss(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    Ok(Json(team::decide(&state, &who.user, id, false).await?).into_response())
}

/// `POST /api/sources/{id}/fetch` (admin): fetch the source now; its outcome.
pub async fn fetch_now(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    Ok(Json(actions::fetch_source_now(&state, &who.user, &id).await?).into_response())
}
