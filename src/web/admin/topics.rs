//! Topics, from the browser (admin): `/admin/topics` lists each topic with its query and
//! how many stored items it tags, and a form to add or change one whose query shows a
//! live count of matching items while it is typed (`GET /api/topics/count?q=…`). Saving
//! writes the config file (`admin::entries`) and re-tags the stored items in the
//! background. The JSON API: `GET/POST /api/topics`, `PATCH/DELETE /api/topics/{id}`.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::form::{blocking, body, page};
use crate::admin::edit::retag_in_background;
use crate::admin::entries::{self, Kind};
use crate::search::SearchRequest;
use crate::web::auth::Admin;
use crate::web::error::WebError;
use crate::web::state::AppState;

/// How many stored items `req` finds, and the first titles.
async fn count(state: &AppState, req: SearchRequest) -> Result<(usize, Vec<String>), WebError> {
    let app = state.app.clone();
    let r = tokio::task::spawn_blocking(move || app.search(&req)).await??;
    Ok((r.total, r.hits.into_iter().map(|h| h.title).collect()))
}

/// `GET /admin/topics` (admin).
pub async fn topics_page(
    State(state): State<AppState>,
    Admin(who): Admin,
) -> Result<Response, WebError> {
    let config = state.app.config();
    let mut views = Vec::new();
    for t in &config.topics {
        let mut req = SearchRequest::new("", 1);
        req.topics.push(t.id().to_string());
        let tagged = count(&state, req).await.map(|(n, _)| n).unwrap_or(0);
        let used_by: Vec<String> = config
            .digests
            .iter()
            .filter(|d| d.topics.iter().any(|x| x.get_ref() == t.id()))
            .map(|d| d.name.clone())
            .collect();
        views.push(minijinja::context! {
            id => t.id(),
            name => t.name,
            query => t.query,
            tone => t.tone.map(|x| x.as_str()),
            tone_label => t.tone.map(|x| x.label_vi()),
            tagged => tagged,
            used_by => used_by,
        });
    }
    Ok(state.render(
        StatusCode::OK,
        "admin/topics.html",
        minijinja::context! { topics => views, ..page(&state, &who, "topics") },
    ))
}

#[derive(Deserialize)]
pub struct CountQuery {
    #[serde(default)]
    q: String,
}

/// `GET /api/topics/count?q=…` (admin): `{"count": N, "examples": [titles]}`, or a 400
/// about the `query` field.
pub async fn api_count(
    State(state): State<AppState>,
    Admin(_who): Admin,
    Query(q): Query<CountQuery>,
) -> Result<Response, WebError> {
    let query = q.q.trim();
    if query.is_empty() {
        return Err(WebError::field("query", "Gõ ít nhất một từ."));
    }
    let tz = state.timezone();
    match crate::search::query::parse_query(query, tz) {
        Ok(pq) if pq.is_match_all() => {
            return Err(WebError::field("query", "Cần ít nhất một từ để tìm."));
        }
        Ok(_) => {}
        Err(e) => return Err(WebError::field("query", e.to_string())),
    }
    let (n, examples) = count(&state, SearchRequest::new(query, 3))
        .await
        .map_err(|e| WebError::field("query", e.message().to_string()))?;
    Ok(Json(serde_json::json!({ "count": n, "examples": examples })).into_response())
}

/// `GET /api/topics` (admin): the topics as configured.
pub async fn api_list(State(state): State<AppState>, Admin(_who): Admin) -> Response {
    let topics: Vec<Value> = state
        .app
        .config()
        .topics
        .iter()
        .map(|t| serde_json::json!({ "id": t.id(), "name": t.name, "query": t.query, "tone": t.tone.map(|x| x.as_str()) }))
        .collect();
    Json(topics).into_response()
}

fn topic_json(state: &AppState, id: &str) -> Value {
    state
        .app
        .config()
        .topics
        .iter()
        .find(|t| t.id() == id)
        .map(|t| serde_json::json!({ "id": t.id(), "name": t.name, "query": t.query, "tone": t.tone.map(|x| x.as_str()) }))
        .unwrap_or(Value::Null)
}

/// `POST /api/topics` (admin) `{"id", "name", "query"}`: 201 and the topic.
pub async fn api_create(
    State(state): State<AppState>,
    Admin(who): Admin,
    json: std::result::Result<Json<Value>, JsonRejection>,
) -> Result<Response, WebError> {
    let body = body(json)?;
    let name = who.user.name.clone();
    let id = blocking(&state, move |app| {
        entries::create(app, &name, Kind::Topic, &body)
    })
    .await?;
    retag_in_background(&state.app);
    Ok((StatusCode::CREATED, Json(topic_json(&state, &id))).into_response())
}

/// `PATCH /api/topics/{id}` (admin): 200 and the topic; the items are re-tagged.
pub async fn api_update(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(id): Path<String>,
    json: std::result::Result<Json<Value>, JsonRejection>,
) -> Result<Response, WebError> {
    let body = body(json)?;
    let name = who.user.name.clone();
    let i = id.clone();
    blocking(&state, move |app| {
        entries::update(app, &name, Kind::Topic, &i, &body)
    })
    .await?;
    retag_in_background(&state.app);
    Ok(Json(topic_json(&state, &id)).into_response())
}

/// `DELETE /api/topics/{id}` (admin): 204 (409 while a digest uses it).
pub async fn api_delete(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, WebError> {
    let name = who.user.name.clone();
    blocking(&state, move |app| {
        entries::remove(app, &name, Kind::Topic, &id)
    })
    .await?;
    retag_in_background(&state.app);
    Ok(StatusCode::NO_CONTENT)
}
