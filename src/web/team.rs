//! The team's pages: "Đề xuất" (proposals, newest first, with who proposed and their
//! note; admins approve or dismiss), "Đã lưu" (the person's saved items) and "Tin mới"
//! (what arrived since their previous visit, newest first, one entry per story). The work
//! is `actions::team`'s.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::actions::{self, team};
use super::auth::{Admin, Staff};
use super::error::WebError;
use super::state::AppState;
use super::view::{
    Chrome, article_text, excerpt, full_time, relative_time, safe_url, shared_words,
};

#[derive(Deserialize, Default)]
pub struct ProposalsQuery {
    /// "1": the dismissed proposals.
    #[serde(default)]
    dismissed: String,
    /// What was just done (`approved`, `dismissed`).
    #[serde(default)]
    da: String,
}

/// `GET /proposals`: "Đề xuất".
pub async fn proposals(
    State(state): State<AppState>,
    Staff(who): Staff,
    Query(q): Query<ProposalsQuery>,
) -> Result<Response, WebError> {
    let dismissed = q.dismissed == "1";
    let rows = team::proposals(&state, dismissed).await?;
    let names = actions::source_names(&state);
    let (now, tz) = (Utc::now(), state.timezone());
    let views: Vec<minijinja::Value> = rows
        .iter()
        .map(|r| {
            let p = &r.proposal;
            minijinja::context! {
                id => p.id,
                item_id => p.item_id,
                title => r.item.as_ref().map(|i| i.title.clone()),
                source_name => r.item.as_ref().map(|i| names.get(&i.source_id).cloned().unwrap_or(i.source_id.clone())),
                user => p.user,
                note => p.note,
                when => relative_time(p.proposed_at, now, tz),
                when_full => full_time(p.proposed_at, tz),
                state => p.state.as_str(),
                decided_by => p.decided_by,
                decided_when => p.decided_at.map(|t| relative_time(t, now, tz)),
                shared_by => r.story_share.as_ref().map(|s| {
                    let name = names.get(&s.source_id).unwrap_or(&s.source_id);
                    shared_words(s, name, now, tz)
                }),
            }
        })
        .collect();
    let done = match q.da.as_str() {
        "approved" => Some("Đã duyệt đề xuất."),
        "dismissed" => Some("Đã bỏ qua đề xuất."),
        _ => None,
    };
    Ok(state.render(
        StatusCode::OK,
        "proposals.html",
        minijinja::context! {
            chrome => Chrome::at(&who, "proposals"),
            proposals => views,
            dismissed => dismissed,
            notice => done,
        },
    ))
}

/// `POST /proposals/{id}/approve` (admin).
pub async fn approve(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    team::decide(&state, &who.user, id, true).await?;
    Ok(Redirect::to("/proposals?da=approved").into_response())
}

/// `POST /proposals/{id}/dismiss` (admin).
pub async fn dismiss(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    team::decide(&state, &who.user, id, false).await?;
    Ok(Redirect::to("/proposals?da=dismissed").into_response())
}

/// `GET /saved`: "Đã lưu".
pub async fn saved(State(state): State<AppState>, Staff(who): Staff) -> Result<Response, WebError> {
    let rows = team::saved(&state, &who.user).await?;
    let names = actions::source_names(&state);
    let (now, tz) = (Utc::now(), state.timezone());
    let views: Vec<minijinja::Value> = rows
        .iter()
        .map(|s| {
            minijinja::context! {
                id => s.item.id,
                title => s.item.title,
                source_name => names.get(&s.item.source_id).cloned().unwrap_or(s.item.source_id.clone()),
                when => relative_time(s.item.published_at, now, tz),
                saved_when => relative_time(s.saved_at, now, tz),
                excerpt => excerpt(&article_text(&s.item)),
            }
        })
        .collect();
    Ok(state.render(
        StatusCode::OK,
        "saved.html",
        minijinja::context! { chrome => Chrome::at(&who, "saved"), saved => views },
    ))
}

/// `GET /moi`: "Tin mới", what arrived since the previous visit, one entry per story.
pub async fn news(State(state): State<AppState>, Staff(who): Staff) -> Result<Response, WebError> {
    let news = team::news(&state, &who.user).await?;
    let names = actions::source_names(&state);
    let (now, tz) = (Utc::now(), state.timezone());
    let name_of = |id: &String| names.get(id).cloned().unwrap_or(id.clone());
    let stories: Vec<minijinja::Value> = news
        .stories
        .iter()
        .filter_map(|s| {
            let lead = s.items.first()?;
            let others: Vec<minijinja::Value> = s.items[1..]
                .iter()
                .map(|i| minijinja::context! { id => i.id, source_name => name_of(&i.source_id) })
                .collect();
            Some(minijinja::context! {
                id => lead.id,
                title => lead.title,
                url => safe_url(lead.url.as_deref()),
                source_name => name_of(&lead.source_id),
                when => relative_time(lead.published_at, now, tz),
                when_full => full_time(lead.published_at, tz),
                excerpt => excerpt(&article_text(lead)),
                image_url => safe_url(lead.image_url.as_deref()),
                others => others,
                shared_by => s.shared.as_ref().map(|sh| shared_words(sh, &name_of(&sh.source_id), now, tz)),
            })
        })
        .collect();
    Ok(state.render(
        StatusCode::OK,
        "news.html",
        minijinja::context! {
            chrome => Chrome::at(&who, "news"),
            stories => stories,
            total => news.total,
            since => relative_time(news.since, now, tz),
            since_full => full_time(news.since, tz),
        },
    ))
}
