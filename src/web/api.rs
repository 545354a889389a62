//! The JSON API (documented in docs/API.md): `/api/search` answers exactly what
//! `gomtin search --json` prints, `/api/items/{id}` one item with its shares,
//! `/api/sources` the sources' health (as `gomtin sources list --json`), and shares are
//! recorded or undone with `POST /api/items/{id}/shares` / `DELETE …/shares/{share}`.
//! Callers authenticate with a session cookie (plus `X-CSRF-Token` on writes) or with
//! `Authorization: Bearer TOKEN` from `gomtin users token NAME`. Errors are `{"error": …}`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::Utc;
use serde::Deserialize;

use super::auth::{self, Identity};
use super::pages::{self, SearchParams, error_status, safe_url, sanitize_html};
use super::ui::Ui;
use crate::error::Error;

fn json_error(ui: &Ui, e: &Error) -> Response {
    ui.error(error_status(e), &e.to_string(), true)
}

pub async fn search(State(ui): State<Ui>, Query(p): Query<SearchParams>) -> Response {
    let limit = p.limit.unwrap_or(ui.state.app.config.search.default_limit);
    let offset = p.offset.unwrap_or(0);
    match pages::run_search(&ui, &p, limit, offset).await {
        Ok(r) => Json(r).into_response(),
        Err(e) => json_error(&ui, &e),
    }
}

pub async fn item(State(ui): State<Ui>, Path(id): Path<i64>) -> Response {
    let loaded = pages::load_item(&ui, id).await;
    let (item, shares, related) = match loaded {
        Ok(Some(x)) => x,
        Ok(None) => {
            return ui.error(
                StatusCode::NOT_FOUND,
                &format!("Không có tin số {id}."),
                true,
            );
        }
        Err(e) => return json_error(&ui, &e),
    };
    let names = pages::source_names(&ui);
    let source_name = names
        .get(&item.source_id)
        .cloned()
        .unwrap_or(item.source_id.clone());
    let share_text = pages::share_text(&ui, &item, &source_name);
    Json(serde_json::json!({
        "id": item.id,
        "source": item.source_id,
        "source_name": source_name,
        "title": item.title,
        "url": safe_url(item.url.as_deref()),
        "author": item.author,
        "published": item.published_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "summary": item.summary,
        "content_html": sanitize_html(&item.content_html),
        "content_text": item.content_text,
        "image_url": safe_url(item.image_url.as_deref()),
        "share_text": share_text,
        "shares": shares,
        "also_posted_by": related,
    }))
    .into_response()
}

pub async fn sources(State(ui): State<Ui>) -> Response {
    let store = ui.state.app.store.clone();
    match tokio::task::spawn_blocking(move || store.source_statuses(Utc::now())).await {
        Ok(Ok(s)) => Json(s).into_response(),
        Ok(Err(e)) => json_error(&ui, &e),
        Err(e) => json_error(&ui, &e.into()),
    }
}

#[derive(Deserialize)]
pub struct ShareBody {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    link: Option<String>,
}

pub async fn add_share(
    State(ui): State<Ui>,
    Extension(who): Extension<Identity>,
    Path(id): Path<i64>,
    body: Option<Json<ShareBody>>,
) -> Response {
    let Some(Json(body)) = body else {
        return ui.error(
            StatusCode::BAD_REQUEST,
            "Cần thân JSON {\"channel\": \"…\", \"link\": \"…\"}.",
            true,
        );
    };
    let share = match pages::validate_share(&body.channel, body.link.as_deref().unwrap_or("")) {
        Ok(s) => s,
        Err(msg) => return ui.error(StatusCode::BAD_REQUEST, &msg, true),
    };
    match pages::record_share(&ui, &who, id, share).await {
        Ok(Some(s)) => (StatusCode::CREATED, Json(s)).into_response(),
        Ok(None) => ui.error(
            StatusCode::NOT_FOUND,
            &format!("Không có tin số {id}."),
            true,
        ),
        Err(e) => json_error(&ui, &e),
    }
}

pub async fn undo_share(State(ui): State<Ui>, Path((id, share)): Path<(i64, i64)>) -> Response {
    let store = ui.state.app.store.clone();
    match tokio::task::spawn_blocking(move || store.undo_share(id, share, Utc::now())).await {
        Ok(Ok(true)) => StatusCode::NO_CONTENT.into_response(),
        Ok(Ok(false)) => ui.error(StatusCode::NOT_FOUND, "Không có lượt chia sẻ này.", true),
        Ok(Err(e)) => json_error(&ui, &e),
        Err(e) => json_error(&ui, &e.into()),
    }
}

pub async fn fetch_now(
    State(ui): State<Ui>,
    Extension(who): Extension<Identity>,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = auth::refuse_unless_admin(&ui, &who, true) {
        return r;
    }
    match pages::fetch_source_now(&ui, &id).await {
        Ok(outcome) => Json(outcome).into_response(),
        Err(Error::UnknownSource(s)) => ui.error(
            StatusCode::NOT_FOUND,
            &Error::UnknownSource(s).to_string(),
            true,
        ),
        Err(e) => json_error(&ui, &e),
    }
}

pub async fn add_source(State(ui): State<Ui>, Extension(who): Extension<Identity>) -> Response {
    if let Some(r) = auth::refuse_unless_admin(&ui, &who, true) {
        return r;
    }
    ui.error(StatusCode::NOT_IMPLEMENTED, pages::ADD_SOURCE_MESSAGE, true)
}
