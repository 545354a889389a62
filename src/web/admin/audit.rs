//! The audit log, from the browser (admin): `/admin/audit` lists every admin action —
//! who, what in words, on what, when (in `[display] timezone`) — newest first, a page at
//! a time (`?before=ID`); `GET /api/audit` gives the same rows as JSON.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::form::{blocking, page};
use crate::web::auth::Admin;
use crate::web::error::WebError;
use crate::web::state::AppState;
use crate::web::view::full_time;

/// Rows per page.
const PAGE: usize = 50;

/// An action code in words.
pub fn action_words(code: &str) -> &'static str {
    match code {
        "user.setup" => "tạo tài khoản quản trị đầu tiên",
        "source.add" => "thêm nguồn tin",
        "source.edit" => "sửa nguồn tin",
        "source.delete" => "xoá nguồn tin",
        "source.purge" => "xoá các tin của nguồn đã bỏ",
        "sources.import" => "nhập nguồn từ OPML",
        "config.reload" => "tải lại tệp cấu hình",
        "topic.add" => "thêm chủ đề",
        "topic.edit" => "sửa chủ đề",
        "topic.delete" => "xoá chủ đề",
        "digest.add" => "thêm bản tin",
        "digest.edit" => "sửa bản tin",
        "digest.delete" => "xoá bản tin",
        "digest.send" => "gửi bản tin ngay",
        "smtp.edit" => "sửa máy chủ thư",
        "user.add" => "tạo tài khoản",
        "user.role" => "đổi vai trò",
        "user.disable" => "tắt tài khoản",
        "user.enable" => "bật lại tài khoản",
        "user.delete" => "xoá tài khoản",
        "user.password_reset" => "đặt lại mật khẩu",
        "user.password" => "đổi mật khẩu của mình",
        "token.add" => "tạo mã API",
        "token.revoke" => "thu hồi mã API",
        "source.fetch" => "tải nguồn ngay",
        _ => "việc khác",
    }
}

#[derive(Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    before: Option<i64>,
}

/// `GET /admin/audit` (admin).
pub async fn audit_page(
    State(state): State<AppState>,
    Admin(who): Admin,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let before = q.before;
    let rows = blocking(&state, move |app| app.store.audit_entries(PAGE, before)).await?;
    let tz = state.timezone();
    let older = (rows.len() == PAGE)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let views: Vec<minijinja::Value> = rows
        .iter()
        .map(|r| {
            minijinja::context! {
                when => full_time(r.at, tz),
                when_iso => r.at.to_rfc3339(),
                user => r.user,
                action => r.action,
                words => action_words(&r.action),
                target => r.target,
                detail => r.detail,
            }
        })
        .collect();
    Ok(state.render(
        StatusCode::OK,
        "admin/audit.html",
        minijinja::context! { rows => views, older => older, ..page(&state, &who, "audit") },
    ))
}

/// `GET /api/audit[?before=ID]` (admin): the latest actions, newest first.
pub async fn api_audit(
    State(state): State<AppState>,
    Admin(_who): Admin,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let before = q.before;
    let rows = blocking(&state, move |app| app.store.audit_entries(PAGE, before)).await?;
    Ok(Json(rows).into_response())
}
