//! The item page and its forms: the share box first (beside the article on a desktop,
//! above it on a phone) with the editable ready-to-post text, "Sao chép", Facebook and
//! Zalo ("Dán bài vừa sao chép"), "Đánh dấu đã chia sẻ" with its channel and link, the
//! story's share ("Đã chia sẻ — bản của Báo X, bởi Lan, 2 giờ trước"), this copy's share
//! history with undo for the sharer or an admin (confirmed in the page), "Lưu" and
//! "Đề xuất chia sẻ"; then the sanitized article, for a forum post the "Trong chủ đề …"
//! block with the thread's other posts, and the other sources' copies.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::actions::{self, team};
use super::auth::Staff;
use super::error::WebError;
use super::state::AppState;
use super::view::{
    Chrome, facebook_link, full_time, relative_time, safe_url, sanitize_html, shared_words,
    tone_why, urlencode, zalo_link,
};
use crate::model::InThread;
use crate::store::{ProposalState, Proposed};

#[derive(Serialize)]
struct ShareView {
    id: i64,
    user: String,
    channel: String,
    link: Option<String>,
    when: String,
    when_full: String,
    can_undo: bool,
}

/// Names of channels offered in the "mark shared" form.
pub const CHANNELS: &[&str] = &["Facebook", "Zalo", "Cổng thông tin", "Khác"];

/// What the item page says after a form sent the person back to it.
#[derive(Deserialize, Default)]
pub struct ItemQuery {
    /// After a capture: `added`, `updated`, `unchanged`.
    #[serde(default)]
    them: String,
    /// After a form of this page.
    #[serde(default)]
    da: String,
}

fn notice(q: &ItemQuery) -> Option<&'static str> {
    Some(match (q.them.as_str(), q.da.as_str()) {
        ("added", _) => "Đã thêm bài. Bài đã tìm được trong ô tìm kiếm.",
        ("updated", _) => "Bài có liên kết này đã có: đã cập nhật theo nội dung mới.",
        ("unchanged", _) => "Bài này đã có sẵn, không có gì thay đổi.",
        (_, "shared") => "Đã đánh dấu đã chia sẻ — cả các bản khác của tin này.",
        (_, "repeat") => "Lượt chia sẻ này vừa được ghi rồi: không ghi thêm.",
        (_, "undone") => "Đã hoàn tác lượt chia sẻ.",
        (_, "saved") => "Đã lưu tin để xem sau (trang \"Đã lưu\").",
        (_, "unsaved") => "Đã bỏ lưu tin này.",
        (_, "proposed") => "Đã đề xuất chia sẻ tin này với cả nhóm.",
        (_, "already") => "Tin này đã được đề xuất rồi.",
        (_, "approved") => "Đã duyệt đề xuất.",
        (_, "dismissed") => "Đã bỏ qua đề xuất.",
        _ => return None,
    })
}

/// `GET /items/{id}`: one item, its share box, its share history and its other copies.
pub async fn item(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<i64>,
    Query(q): Query<ItemQuery>,
) -> Result<Response, WebError> {
    let loaded = actions::load_item(&state, id).await?;
    let saved = team::is_saved(&state, &who.user, id).await;
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
            can_undo: who.user.is_admin() || s.user == who.user.name,
        })
        .collect();
    let story_shared = loaded.story_share.as_ref().map(|s| {
        let name = names.get(&s.source_id).unwrap_or(&s.source_id);
        minijinja::context! {
            words => shared_words(s, name, now, tz),
            this_copy => s.share.item_id == id,
            item_id => s.share.item_id,
            count => s.count,
        }
    });
    let proposal = loaded.proposal.as_ref().map(|p| {
        minijinja::context! {
            id => p.id,
            user => p.user,
            note => p.note,
            when => relative_time(p.proposed_at, now, tz),
            approved => p.state == ProposalState::Approved,
            decided_by => p.decided_by,
        }
    });
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
            story_shared => story_shared,
            proposal => proposal,
            saved => saved,
            related => related,
            thread => thread_view(&loaded, now, tz),
            channels => CHANNELS,
            notice => notice(&q),
        },
    ))
}

/// A forum post's "Trong chủ đề …" block: the thread, a search for all its posts and the
/// first stored ones, this post marked. `None` for an item that is no forum post.
fn thread_view(
    loaded: &actions::LoadedItem,
    now: chrono::DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Option<minijinja::Value> {
    let item = &loaded.item;
    let t = item.thread.as_ref()?;
    let search = format!(
        "/?q={}",
        urlencode(&format!(
            "thread:{} sort:date",
            InThread::search_key(&item.source_id, &t.key)
        ))
    );
    let posts: Vec<minijinja::Value> = loaded
        .thread_posts
        .iter()
        .map(|p| {
            minijinja::context! {
                id => p.id,
                title => p.title,
                author => p.author,
                number => p.number,
                first => p.first,
                current => p.id == item.id,
                when => relative_time(p.published_at, now, tz),
            }
        })
        .collect();
    Some(minijinja::context! {
        title => t.title,
        url => safe_url(t.url.as_deref()),
        number => t.number,
        first => t.first,
        total => loaded.thread_total,
        search => search,
        posts => posts,
    })
}

#[derive(Deserialize)]
pub struct ShareForm {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    link: String,
}

/// `POST /items/{id}/shares`: mark the item (and so its story) shared, back to its page.
pub async fn add_share(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<i64>,
    Form(form): Form<ShareForm>,
) -> Result<Response, WebError> {
    let share = actions::validate_share(&form.channel, &form.link)?;
    let (_, new) = actions::record_share(&state, &who.user, id, share).await?;
    let da = if new { "shared" } else { "repeat" };
    Ok(Redirect::to(&format!("/items/{id}?da={da}")).into_response())
}

/// `POST /items/{id}/shares/{share}/undo`: undo a share (the sharer or an admin; the page
/// asks first), back to the item's page.
pub async fn undo_share(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path((id, share)): Path<(i64, i64)>,
) -> Result<Response, WebError> {
    actions::undo_share(&state, &who.user, id, share).await?;
    Ok(Redirect::to(&format!("/items/{id}?da=undone")).into_response())
}

#[derive(Deserialize)]
pub struct SaveForm {
    /// "1" saves, anything else unsaves.
    #[serde(default)]
    save: String,
    /// Where to go back to (a local path; default the item page).
    #[serde(default)]
    back: String,
}

/// Only local paths may be a destination.
fn local(path: &str) -> Option<&str> {
    (path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/\\")).then_some(path)
}

/// `POST /items/{id}/save`: "Lưu" / "Bỏ lưu".
pub async fn save(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<i64>,
    Form(form): Form<SaveForm>,
) -> Result<Response, WebError> {
    let saved = form.save == "1";
    team::set_saved(&state, &who.user, id, saved).await?;
    let back = local(&form.back)
        .map(str::to_string)
        .unwrap_or_else(|| format!("/items/{id}?da={}", if saved { "saved" } else { "unsaved" }));
    Ok(Redirect::to(&back).into_response())
}

#[derive(Deserialize)]
pub struct ProposeForm {
    #[serde(default)]
    note: String,
}

/// `POST /items/{id}/proposals`: "Đề xuất chia sẻ" with a note.
pub async fn propose(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<i64>,
    Form(form): Form<ProposeForm>,
) -> Result<Response, WebError> {
    let da = match team::propose(&state, &who.user, id, &form.note).await? {
        Proposed::New(_) => "proposed",
        Proposed::Already(_) => "already",
    };
    Ok(Redirect::to(&format!("/items/{id}?da={da}")).into_response())
}
