//! Capturing a post from the web ("Thêm bài", the bookmarklet, the phone's share sheet,
//! `POST /api/posts`): the same checks and storing as `gomtin post add`
//! (`admin::prepare_post`, `admin::store_post`, which indexes at once, so the post is
//! searchable as soon as the answer comes back), into a `manual` source chosen or created
//! by name; and "Lấy nội dung" (`admin::preview_post`) for a public page.

use super::super::error::WebError;
use super::super::state::AppState;
use crate::admin::{self, ManualPost, PostOutcome, PostPreview};
use crate::config::SourceKind;
use crate::error::Error;
use crate::store::User;
use crate::vietnamese::collate;

/// Longest text accepted in a captured post (characters).
pub const MAX_TEXT: usize = 50_000;

/// A post as the form or the API gives it; empty strings are "not given".
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Capture {
    /// Id of a `manual` source.
    #[serde(default)]
    pub source: String,
    /// Name of a new manual source (used when `source` is empty).
    #[serde(default)]
    pub new_source: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub published: String,
    #[serde(default)]
    pub image: String,
}

/// A stored capture.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Captured {
    pub id: i64,
    pub source: String,
    pub key: String,
    /// `added`, `updated` or `unchanged`.
    pub outcome: &'static str,
}

fn given(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// The manual sources as (id, name), in Vietnamese alphabetical order.
pub fn manual_sources(state: &AppState) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = state
        .app
        .config()
        .sources
        .iter()
        .filter(|s| s.kind == SourceKind::Manual && s.enabled)
        .map(|s| (s.id().to_string(), s.name.clone()))
        .collect();
    out.sort_by(|a, b| collate::compare(&a.1, &b.1));
    out
}

/// What a person's mistake in a capture is, in words for the form.
fn usage(e: Error) -> WebError {
    match e {
        Error::ConfigInvalid { message, .. } => WebError::bad_request(message),
        Error::UnknownSource(id) => {
            WebError::bad_request(format!("Không có nguồn tay nào mã `{id}`."))
        }
        other => other.into(),
    }
}

/// Check and store `post` as `user`: into its manual source (created when only a new
/// name is given), then indexed. The same link again updates the post.
pub async fn capture(
    state: &AppState,
    user: &User,
    post: &Capture,
) -> std::result::Result<Captured, WebError> {
    let title = given(&post.title);
    let text = post.text.trim().to_string();
    if text.is_empty() && title.is_none() {
        return Err(WebError::bad_request(
            "Cần ít nhất tiêu đề hoặc nội dung bài.",
        ));
    }
    if text.chars().count() > MAX_TEXT {
        return Err(WebError::bad_request(format!(
            "Nội dung dài quá {MAX_TEXT} ký tự."
        )));
    }
    let url = given(&post.url);
    if let Some(u) = &url
        && crate::normalize::safe_url(Some(u)).is_none()
    {
        return Err(WebError::bad_request(
            "Liên kết bài phải bắt đầu bằng http:// hoặc https://.",
        ));
    }
    let source = match (given(&post.source), given(&post.new_source)) {
        (Some(id), _) => id,
        (None, Some(name)) => {
            let (app, who) = (state.app.clone(), user.name.clone());
            let id =
                tokio::task::spawn_blocking(move || admin::manual_source_named(&app, &who, &name))
                    .await?
                    .map_err(usage)?;
            tracing::info!(user = %user.name, source = %id, "manual source chosen by name");
            id
        }
        (None, None) => {
            return Err(WebError::bad_request(
                "Chọn nguồn của bài, hoặc ghi tên một nguồn mới.",
            ));
        }
    };
    let manual = ManualPost {
        source: source.clone(),
        url,
        title,
        text,
        published: given(&post.published).map(|p| p.replace('T', " ")),
        image: given(&post.image),
    };
    let item = admin::prepare_post(&state.app.config(), &manual).map_err(usage)?;
    let stored = admin::store_post(&state.app, item).await?;
    let store = state.app.store.clone();
    let (s, k) = (source.clone(), stored.key.clone());
    let id = tokio::task::spawn_blocking(move || store.item_id_by_key(&s, &k))
        .await??
        .ok_or_else(|| WebError::internal("stored post not found"))?;
    let outcome = match stored.outcome {
        PostOutcome::Added => "added",
        PostOutcome::Updated => "updated",
        PostOutcome::AlreadyThere => "unchanged",
    };
    tracing::info!(user = %user.name, source = %source, item = id, outcome, "post captured");
    Ok(Captured {
        id,
        source,
        key: stored.key,
        outcome,
    })
}

/// "Lấy nội dung": read the public page at `url` (400 with the reason when it cannot).
pub async fn preview(state: &AppState, url: &str) -> std::result::Result<PostPreview, WebError> {
    admin::preview_post(&state.app, url)
        .await
        .map_err(|e| WebError::bad_request(format!("Không lấy được nội dung: {e}")))
}

/// The link in a shared text (the phone's share sheet often puts it there, not in `url`).
pub fn link_in(text: &str) -> Option<String> {
    text.split_whitespace()
        .map(|w| w.trim_matches(|c: char| matches!(c, '(' | ')' | '<' | '>' | '"' | '\'' | ',')))
        .find(|w| w.starts_with("https://") || w.starts_with("http://"))
        .and_then(|w| crate::normalize::safe_url(Some(w)))
}
