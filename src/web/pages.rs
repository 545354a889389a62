//! The staff pages, rendered on the server: search (with filters, badges, pagination and
//! a bookmarkable URL), one item (sanitized article, share text, share history, the
//! "mark shared" and undo forms), and the sources health page (with "fetch now" for
//! admins). What they show is built by `view` from what `actions` loads; errors are
//! [`WebError`]s, shown as the error page.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::actions::{self, SearchParams};
use super::auth::{Admin, Staff};
use super::error::WebError;
use super::state::AppState;
use super::view::{
    Chrome, error_in_words, facebook_link, full_time, relative_time, safe_url, sanitize_html,
    sparkline_points, urlencode, zalo_link,
};

/// Results per page on the search page.
const PAGE_SIZE: usize = 20;

// ---------------------------------------------------------------------------------------
// Search page

#[derive(Serialize)]
struct HitView {
    id: i64,
    title: String,
    url: Option<String>,
    source: String,
    source_name: String,
    when: String,
    when_full: String,
    when_iso: String,
    snippet_html: String,
    image_url: Option<String>,
    shared: bool,
    also: usize,
    /// `positive`, `neutral`, `negative` (a CSS class and the badge).
    tone: &'static str,
    tone_label: &'static str,
    /// The phrases that decided, for the badge's tooltip.
    tone_why: String,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct PageLink {
    number: usize,
    href: String,
    current: bool,
}

/// `GET /`: the search page (also the home page, with an empty query).
pub async fn search(
    State(state): State<AppState>,
    Staff(who): Staff,
    Query(p): Query<SearchParams>,
) -> Response {
    let page = p.page.unwrap_or(1).max(1);
    let offset = (page - 1) * PAGE_SIZE;
    let tz = state.timezone();
    let (results, error) = match actions::run_search(&state, &p, PAGE_SIZE, offset).await {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(e.message().to_string())),
    };
    let names = actions::source_names(&state);
    let now = Utc::now();
    let mut hits = Vec::new();
    let mut total = 0;
    let mut notices = Vec::new();
    if let Some(r) = &results {
        total = r.total;
        notices = r.notices.clone();
        let ids: Vec<i64> = r.hits.iter().map(|h| h.id).collect();
        let store = state.app.store.clone();
        let ids2 = ids.clone();
        let (shared, also) = tokio::task::spawn_blocking(move || {
            (
                store.shared_among(&ids2).unwrap_or_default(),
                store.related_counts(&ids2).unwrap_or_default(),
            )
        })
        .await
        .unwrap_or_default();
        for h in &r.hits {
            let published = DateTime::parse_from_rfc3339(&h.published)
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or(now);
            hits.push(HitView {
                id: h.id,
                title: h.title.clone(),
                url: safe_url(h.url.as_deref()),
                source_name: names.get(&h.source).cloned().unwrap_or(h.source.clone()),
                source: h.source.clone(),
                when: relative_time(published, now, tz),
                when_full: full_time(published, tz),
                when_iso: published.to_rfc3339(),
                snippet_html: h.snippet_html.clone(),
                image_url: safe_url(h.image_url.as_deref()),
                shared: shared.contains(&h.id),
                also: also.get(&h.id).copied().unwrap_or(0),
                tone: h.tone.as_str(),
                tone_label: h.tone.label_vi(),
                tone_why: tone_why(&h.tone_reasons),
            });
        }
    }
    let pages_total = total.div_ceil(PAGE_SIZE).max(1);
    let base = p.query_string();
    let href = |n: usize| {
        if base.is_empty() {
            format!("/?page={n}")
        } else {
            format!("/?{base}&page={n}")
        }
    };
    let first = page.saturating_sub(3).max(1);
    let last = (page + 3).min(pages_total);
    let page_links: Vec<PageLink> = (first..=last)
        .map(|n| PageLink {
            number: n,
            href: href(n),
            current: n == page,
        })
        .collect();
    let mut sources: Vec<Choice> = state
        .app
        .config()
        .sources
        .iter()
        .map(|s| Choice {
            value: s.id().to_string(),
            label: s.name.clone(),
            selected: s.id() == p.source,
        })
        .collect();
    sources.sort_by(|a, b| a.label.cmp(&b.label));
    let topics: Vec<Choice> = state
        .app
        .config()
        .topics
        .iter()
        .map(|t| Choice {
            value: t.id().to_string(),
            label: t.name.clone(),
            selected: t.id() == p.topic,
        })
        .collect();
    let export_base = if base.is_empty() {
        String::new()
    } else {
        format!("{base}&")
    };
    state.render(
        if error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        "search.html",
        minijinja::context! {
            chrome => Chrome::of(&who),
            p => p,
            unshared => p.unshared(),
            positive_only => p.positive_only(),
            hits => hits,
            total => total,
            notices => notices,
            error => error,
            shown_from => if total == 0 { 0 } else { offset + 1 },
            shown_to => offset + hits.len(),
            page => page,
            pages_total => pages_total,
            page_links => page_links,
            prev_href => (page > 1).then(|| href(page - 1)),
            next_href => (page < pages_total).then(|| href(page + 1)),
            sources => sources,
            topics => topics,
            export_base => export_base,
            searched => !p.q.trim().is_empty() || !base.is_empty(),
        },
    )
}

/// "Vì có: khánh thành (+12), tai nạn (−2)": why a hit got its tone, for its badge.
fn tone_why(reasons: &[crate::model::ToneReason]) -> String {
    if reasons.is_empty() {
        return "Không có cụm từ nào quyết định sắc thái.".to_string();
    }
    let v = crate::model::ToneVerdict {
        label: crate::model::Tone::Neutral,
        score: 0.0,
        reasons: reasons.to_vec(),
    };
    format!("Vì có: {}", v.reasons_line())
}

// ---------------------------------------------------------------------------------------
// Item page

#[derive(Serialize)]
struct ShareView {
    id: i64,
    user: String,
    channel: String,
    link: Option<String>,
    when: String,
    when_full: String,
}

/// Names of channels offered in the "mark shared" form.
pub const CHANNELS: &[&str] = &["Facebook", "Zalo", "Cổng thông tin", "Khác"];

/// `GET /items/{id}`: one item, its share text and share history.
pub async fn item(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let loaded = actions::load_item(&state, id).await?;
    let (item, source_name) = (&loaded.item, &loaded.source_name);
    let tz = state.timezone();
    let now = Utc::now();
    let names = actions::source_names(&state);
    let url = safe_url(item.url.as_deref());
    let content = if item.content_html.trim().is_empty() {
        html_escape::encode_text(&item.summary).to_string()
    } else {
        sanitize_html(&item.content_html)
    };
    let share_views: Vec<ShareView> = loaded
        .shares
        .iter()
        .map(|s| ShareView {
            id: s.id,
            user: s.user.clone(),
            channel: s.channel.clone(),
            link: safe_url(s.link.as_deref()),
            when: relative_time(s.shared_at, now, tz),
            when_full: full_time(s.shared_at, tz),
        })
        .collect();
    let related: Vec<minijinja::Value> = loaded
        .related
        .iter()
        .map(|r| {
            minijinja::context! {
                id => r.id,
                title => r.title,
                source_name => names.get(&r.source_id).cloned().unwrap_or(r.source_id.clone()),
            }
        })
        .collect();
    Ok(state.render(
        StatusCode::OK,
        "item.html",
        minijinja::context! {
            chrome => Chrome::of(&who),
            item => minijinja::context! {
                id => item.id,
                title => item.title,
                author => item.author,
                source => item.source_id,
                source_name => source_name,
                when => relative_time(item.published_at, now, tz),
                when_full => full_time(item.published_at, tz),
                image_url => safe_url(item.image_url.as_deref()),
                content_html => content,
                tone => item.tone.as_ref().map_or("neutral", |t| t.label.as_str()),
                tone_label => item.tone.as_ref().map_or("Trung tính", |t| t.label.label_vi()),
                tone_why => tone_why(item.tone.as_ref().map_or(&[][..], |t| &t.reasons[..])),
            },
            url => url,
            share_text => loaded.share_text,
            facebook => url.as_deref().map(facebook_link),
            zalo => url.as_deref().map(zalo_link),
            shares => share_views,
            related => related,
            channels => CHANNELS,
        },
    ))
}

#[derive(Deserialize)]
pub struct ShareForm {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    link: String,
}

/// `POST /items/{id}/shares`: mark the item shared (form), back to its page.
pub async fn add_share(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<i64>,
    Form(form): Form<ShareForm>,
) -> Result<Response, WebError> {
    let share = actions::validate_share(&form.channel, &form.link)?;
    actions::record_share(&state, &who.user, id, share).await?;
    Ok(Redirect::to(&format!("/items/{id}#chia-se")).into_response())
}

/// `POST /items/{id}/shares/{share}/undo`: undo a share (form), back to the item's page.
pub async fn undo_share(
    State(state): State<AppState>,
    Path((id, share)): Path<(i64, i64)>,
) -> Result<Response, WebError> {
    actions::undo_share(&state, id, share).await?;
    Ok(Redirect::to(&format!("/items/{id}#chia-se")).into_response())
}

// ---------------------------------------------------------------------------------------
// Sources page

#[derive(Deserialize)]
pub struct SourcesQuery {
    #[serde(default)]
    fetched: String,
}

/// `GET /sources`: every source's health, with a 30-day sparkline.
pub async fn sources(
    State(state): State<AppState>,
    Staff(who): Staff,
    Query(q): Query<SourcesQuery>,
) -> Result<Response, WebError> {
    let rows = actions::source_activity(&state, 30).await?;
    let now = Utc::now();
    let tz = state.timezone();
    let views: Vec<minijinja::Value> = rows
        .iter()
        .map(|(s, per_day, tones)| {
            let condition = if s.last_error.is_some() {
                "loi"
            } else if s.last_success_at.is_some() {
                "tot"
            } else {
                "chua"
            };
            minijinja::context! {
                id => s.id,
                name => s.name,
                kind => s.kind,
                url => safe_url(Some(&s.url)),
                location => s.url,
                in_config => s.in_config,
                disabled => state.app.config().source(&s.id).is_some_and(|c| !c.enabled),
                state => condition,
                last_success => s.last_success_at.map(|t| relative_time(t, now, tz)),
                last_success_full => s.last_success_at.map(|t| full_time(t, tz)),
                last_attempt => s.last_attempt_at.map(|t| relative_time(t, now, tz)),
                error_words => s.last_error.as_ref().map(|_| error_in_words(s.last_error_kind.as_deref())),
                error => s.last_error,
                failures => s.consecutive_failures,
                item_count => s.item_count,
                week => s.items_last_7_days,
                month => per_day.iter().sum::<i64>(),
                points => sparkline_points(per_day),
                tone_total => tones.total,
                tone_positive => tones.positive,
                tone_negative => tones.negative,
                positive_pct => (tones.total > 0).then(|| (tones.positive * 100 + tones.total / 2) / tones.total),
                fetched => q.fetched == s.id,
            }
        })
        .collect();
    Ok(state.render(
        StatusCode::OK,
        "sources.html",
        minijinja::context! { chrome => Chrome::of(&who), sources => views },
    ))
}

/// `POST /sources/{id}/fetch` (admin): fetch the source now, back to its row.
pub async fn fetch_now(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    actions::fetch_source_now(&state, &who.user, &id).await?;
    Ok(Redirect::to(&format!(
        "/sources?fetched={}#nguon-{}",
        urlencode(&id),
        urlencode(&id)
    ))
    .into_response())
}

/// `POST /sources` (admin): sources are added in the config file, not here (501).
pub async fn add_source(_admin: Admin) -> WebError {
    actions::add_source()
}
