//! The JSON API (documented in docs/API.md): `/api/search` answers exactly what
//! `gomtin search --json` prints, `/api/items/{id}` one item with its shares,
//! `/api/sources` the sources' health (as `gomtin sources list --json`), and shares are
//! recorded or undone with `POST /api/items/{id}/shares` / `DELETE …/shares/{share}`.
//! Callers authenticate with a session cookie (plus `X-CSRF-Token` on writes) or with
//! `Authorization: Bearer TOKEN` from `gomtin users token NAME`. Errors are `{"error": …}`
//! ([`WebError`] under `/api/`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::actions::{self, SearchParams};
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
        "also_posted_by": loaded.related,
        "tone": item.tone,
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
    let recorded = actions::record_share(&state, &who.user, id, share).await?;
    Ok((StatusCode::CREATED, Json(recorded)).into_response())
}

/// `DELETE /api/items/{id}/shares/{share}`: 204.
pub async fn undo_share(
    State(state): State<AppState>,
    Path((id, share)): Path<(i64, i64)>,
) -> Result<StatusCode, WebError> {
    actions::undo_share(&state, id, share).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/sources/{id}/fetch` (admin): fetch the source now; its outcome.
pub async fn fetch_now(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    Ok(Json(actions::fetch_source_now(&state, &who.user, &id).await?).into_response())
}

/// `POST /api/sources` (admin): sources are added in the config file, not here (501).
pub async fn add_source(_admin: Admin) -> WebError {
    actions::add_source()
}
