//! The sources, from the browser. `/sources` is every source's health for everyone —
//! failing sources first with their count, each error kind explained in plain Vietnamese
//! with what to do, a 30-day sparkline — and for admins the buttons: "Tải ngay" (which
//! says honestly what happened: "Vẫn lỗi: 404", "3 tin mới"), edit, turn off/on, delete
//! (with the item count), "Tải lại cấu hình". `/sources/new` finds a site's feeds from a
//! pasted address, `/sources/{id}/edit` changes one, both with "Kiểm tra" (a real fetch,
//! nothing stored); `/sources/import` previews and imports OPML. The JSON API under
//! `/api/sources` does the same for scripts; the work is `admin::sources`'.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;
use serde_json::Value;

use super::form::{blocking, body, page};
use crate::admin;
use crate::model::OutcomeKind;
use crate::web::actions;
use crate::web::auth::{Admin, Staff};
use crate::web::error::WebError;
use crate::web::state::AppState;
use crate::web::view::{full_time, relative_time, safe_url, sparkline_points, urlencode};

// ---------------------------------------------------------------------------------------
// Errors in plain words

/// What a fetch error means and what to do about it, in plain Vietnamese.
pub fn explain(kind: Option<&str>, message: &str) -> (String, &'static str) {
    let m = message.to_lowercase();
    match kind.unwrap_or("") {
        "http_status" => {
            let code = http_code(message);
            let c = code.map(|c| c.to_string()).unwrap_or_default();
            match code {
                Some(404 | 410) => (
                    format!("Không tìm thấy trang ({c})"),
                    "Địa chỉ của nguồn có thể đã đổi. Mở trang chủ của báo, tìm lại liên kết RSS rồi sửa địa chỉ (hoặc thêm lại nguồn bằng địa chỉ trang chủ).",
                ),
                Some(401 | 403) => (
                    format!("Trang từ chối cho đọc ({c})"),
                    "Trang chặn máy đọc tin. Thử lại sau; nếu kéo dài, liên hệ người quản lý trang để được cho phép.",
                ),
                Some(429) => (
                    "Tải quá thường xuyên (429)".into(),
                    "Trang giới hạn số lần tải: tăng khoảng cách giữa hai lần tải (interval) của nguồn.",
                ),
                Some(500..=599) => (
                    format!("Máy chủ của trang đang lỗi ({c})"),
                    "Lỗi ở phía trang nguồn, không phải ở gomtin. gomtin tự thử lại, thưa dần.",
                ),
                _ => (
                    format!("Máy chủ trả về lỗi {c}"),
                    "Mở địa chỉ nguồn trong trình duyệt để xem trang nói gì.",
                ),
            }
        }
        "network" if m.contains("timeout") || m.contains("timed out") => (
            "Quá thời gian chờ".into(),
            "Trang trả lời quá chậm hoặc mạng chập chờn. gomtin tự thử lại; nếu kéo dài, tăng [fetch] timeout.",
        ),
        "network" if m.contains("dns") || m.contains("resolve") || m.contains("lookup") => (
            "Không tìm thấy tên miền".into(),
            "Kiểm tra chính tả tên miền trong địa chỉ, hoặc mạng của máy chạy gomtin.",
        ),
        "network" => (
            "Không kết nối được tới máy chủ".into(),
            "Kiểm tra mạng của máy chạy gomtin và địa chỉ nguồn; gomtin tự thử lại.",
        ),
        "parse" => (
            "Không phải nguồn RSS/Atom".into(),
            "Địa chỉ này trả về một trang thường, không phải nguồn tin. Bấm “Thêm nguồn” và dán địa chỉ trang chủ để tìm nguồn RSS, hoặc đọc nó như trang web với bộ chọn CSS.",
        ),
        "selector" => (
            "Bộ chọn CSS không khớp mục nào".into(),
            "Trang có thể đã đổi giao diện. Bấm “Sửa”, chỉnh bộ chọn rồi bấm “Kiểm tra” cho tới khi thấy tin.",
        ),
        "robots" => (
            "robots.txt của trang không cho tải".into(),
            "Trang không muốn bị máy đọc. Chỉ tắt “Tuân theo robots.txt” khi trang đã đồng ý cho đọc.",
        ),
        "private_address" => (
            "Địa chỉ mạng nội bộ bị chặn".into(),
            "Đặt [fetch] allow_private_networks = true trong tệp cấu hình nếu đây là chủ ý.",
        ),
        "body_too_large" => (
            "Nội dung quá lớn".into(),
            "Tăng [fetch] max_body_bytes nếu nguồn này đúng là lớn như vậy.",
        ),
        "bad_url" => (
            "Địa chỉ nguồn sai".into(),
            "Bấm “Sửa” và sửa địa chỉ (bắt đầu bằng http:// hoặc https://).",
        ),
        "local_file" => (
            "Không đọc được tệp".into(),
            "Kiểm tra đường dẫn tệp (path) trong tệp cấu hình.",
        ),
        "article" => (
            "Không trích được nội dung bài".into(),
            "Đặt bộ chọn nội dung bài (article) cho nguồn, rồi bấm “Kiểm tra”.",
        ),
        _ => ("Lỗi".into(), "Xem chi tiết bên dưới."),
    }
}

/// The HTTP status in a message such as "… trả về mã HTTP 404".
fn http_code(message: &str) -> Option<u16> {
    message
        .rsplit("HTTP ")
        .next()
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|s| s.parse().ok())
}

/// What "Tải ngay" did, in words ("Vẫn lỗi: 404", "3 tin mới").
fn fetched_words(q: &SourcesQuery, kind: Option<&str>, message: &str) -> String {
    if q.failed == "1" {
        let short = match http_code(message).filter(|_| kind == Some("http_status")) {
            Some(c) => c.to_string(),
            None => explain(kind, message).0,
        };
        let lead = if q.before == "loi" {
            "Vẫn lỗi"
        } else {
            "Lỗi"
        };
        return format!("{lead}: {short}");
    }
    if q.same == "1" {
        return "Không có tin mới (máy chủ báo chưa có gì thay đổi).".into();
    }
    let new: usize = q.new.parse().unwrap_or(0);
    let updated: usize = q.updated.parse().unwrap_or(0);
    match (new, updated) {
        (0, 0) => "Đã tải: không có tin mới.".into(),
        (n, 0) => format!("{n} tin mới"),
        (0, u) => format!("{u} tin được cập nhật, không có tin mới"),
        (n, u) => format!("{n} tin mới, {u} tin được cập nhật"),
    }
}

// ---------------------------------------------------------------------------------------
// Pages

#[derive(Deserialize, Default)]
pub struct SourcesQuery {
    #[serde(default)]
    fetched: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    updated: String,
    #[serde(default)]
    failed: String,
    #[serde(default)]
    same: String,
    #[serde(default)]
    before: String,
    #[serde(default)]
    saved: String,
    #[serde(default)]
    chao: String,
}

/// `GET /sources`: every source's health, failing ones first.
pub async fn sources_page(
    State(state): State<AppState>,
    Staff(who): Staff,
    Query(q): Query<SourcesQuery>,
) -> Result<Response, WebError> {
    let mut rows = actions::source_activity(&state, 30).await?;
    // Failing sources still in the config first, retired ones last; otherwise as listed.
    rows.sort_by_key(|(s, _)| match (s.in_config, s.last_error.is_some()) {
        (true, true) => 0,
        (true, false) => 1,
        (false, _) => 2,
    });
    let now = Utc::now();
    let tz = state.timezone();
    let config = state.app.config();
    let failing = rows
        .iter()
        .filter(|(s, _)| s.in_config && s.last_error.is_some())
        .count();
    let views: Vec<minijinja::Value> = rows
        .iter()
        .map(|(s, per_day)| {
            let condition = if s.last_error.is_some() {
                "loi"
            } else if s.last_success_at.is_some() {
                "tot"
            } else {
                "chua"
            };
            let message = s.last_error.clone().unwrap_or_default();
            let (headline, advice) = explain(s.last_error_kind.as_deref(), &message);
            let fetched = q.fetched == s.id;
            let configured = config.source(&s.id);
            minijinja::context! {
                id => s.id,
                name => s.name,
                kind => s.kind,
                url => safe_url(Some(&s.url)),
                location => s.url,
                in_config => s.in_config,
                disabled => configured.is_some_and(|c| !c.enabled),
                local_file => configured.is_some_and(|c| c.path.is_some()),
                state => condition,
                last_success => s.last_success_at.map(|t| relative_time(t, now, tz)),
                last_success_full => s.last_success_at.map(|t| full_time(t, tz)),
                last_attempt => s.last_attempt_at.map(|t| relative_time(t, now, tz)),
                next_check => s.next_check_at.filter(|_| s.in_config).map(|t| full_time(t, tz)),
                error_words => s.last_error.as_ref().map(|_| headline),
                advice => s.last_error.as_ref().map(|_| advice),
                error => s.last_error,
                failures => s.consecutive_failures,
                item_count => s.item_count,
                week => s.items_last_7_days,
                month => per_day.iter().sum::<i64>(),
                points => sparkline_points(per_day),
                fetched => fetched,
                fetched_words => fetched.then(|| fetched_words(&q, s.last_error_kind.as_deref(), &message)),
                fetched_failed => fetched && q.failed == "1",
                saved => q.saved == s.id,
            }
        })
        .collect();
    Ok(state.render(
        StatusCode::OK,
        "admin/sources.html",
        minijinja::context! {
            ..page(&state, &who, "sources"),
            ..minijinja::context! {
                sources => views,
                failing => failing,
                total => rows.iter().filter(|(s, _)| s.in_config).count(),
                welcome => q.chao == "1",
            }
        },
    ))
}

/// `POST /sources/{id}/fetch` (admin): fetch the source now, back to its row with what
/// happened.
pub async fn fetch_now(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let before = {
        let statuses = actions::source_statuses(&state).await?;
        statuses
            .iter()
            .find(|s| s.id == id)
            .is_some_and(|s| s.last_error.is_some())
    };
    let outcome = actions::fetch_source_now(&state, &who.user, &id).await?;
    let e = urlencode(&id);
    let result = match &outcome.result {
        OutcomeKind::Fetched { counts, .. } => {
            format!("new={}&updated={}", counts.new, counts.updated)
        }
        OutcomeKind::NotModified => "same=1".to_string(),
        OutcomeKind::Failed { .. } => "failed=1".to_string(),
    };
    let before = if before { "&before=loi" } else { "" };
    Ok(Redirect::to(&format!("/sources?fetched={e}&{result}{before}#nguon-{e}")).into_response())
}

/// `GET /sources/new` (admin): find a site's feeds, or write a page source.
pub async fn new_page(State(state): State<AppState>, Admin(who): Admin) -> Response {
    state.render(
        StatusCode::OK,
        "admin/source_form.html",
        minijinja::context! {
            ..page(&state, &who, "sources"),
            ..minijinja::context! { creating => true, source => Value::Null }
        },
    )
}

/// `GET /sources/{id}/edit` (admin): the source's settings as the file has them.
pub async fn edit_page(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let i = id.clone();
    let (source, items) = blocking(&state, move |app| {
        let file = crate::config::edit::ConfigFile::read(&app.config().path)?;
        let entry = file.entry("sources", &i).ok_or_else(|| {
            crate::error::Error::NotFound(format!(
                "Không có nguồn tin nào mã `{i}` trong tệp cấu hình."
            ))
        })?;
        let json = crate::config::edit::item_to_json(&toml_edit::Item::Table(entry.clone()));
        let items = app
            .store
            .source_statuses(Utc::now())?
            .into_iter()
            .find(|s| s.id == i)
            .map_or(0, |s| s.item_count);
        Ok((json, items))
    })
    .await?;
    Ok(state.render(
        StatusCode::OK,
        "admin/source_form.html",
        minijinja::context! {
            ..page(&state, &who, "sources"),
            ..minijinja::context! {
                creating => false,
                id => id,
                source => minijinja::Value::from_serialize(&source),
                item_count => items,
                local_file => source.get("path").is_some(),
            }
        },
    ))
}

/// `GET /sources/import` (admin): OPML upload with a preview.
pub async fn import_page(State(state): State<AppState>, Admin(who): Admin) -> Response {
    state.render(
        StatusCode::OK,
        "admin/import.html",
        page(&state, &who, "sources"),
    )
}

/// `POST /sources` (admin, an HTML form without script): add a source from form fields
/// (`selectors.link` and so on for a page source), then back to the list.
pub async fn add_source_form(
    State(state): State<AppState>,
    Admin(who): Admin,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let mut body = serde_json::Map::new();
    let mut selectors = serde_json::Map::new();
    for (k, v) in fields {
        let v = v.trim().to_string();
        if k == "csrf" || v.is_empty() {
            continue;
        }
        let value = match v.as_str() {
            "true" | "on" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => v
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or(Value::String(v)),
        };
        match k.strip_prefix("selectors.") {
            Some(s) => {
                selectors.insert(s.to_string(), value);
            }
            None => {
                body.insert(k, value);
            }
        }
    }
    if !selectors.is_empty() {
        body.insert("selectors".into(), Value::Object(selectors));
    }
    let body = Value::Object(body);
    let name = who.user.name.clone();
    let source = blocking(&state, move |app| admin::sources::create(app, &name, &body)).await?;
    let e = urlencode(source.id());
    Ok(Redirect::to(&format!("/sources?saved={e}#nguon-{e}")).into_response())
}

// ---------------------------------------------------------------------------------------
// JSON API

/// `POST /api/sources` (admin): 201 and the source.
pub async fn api_create(
    State(state): State<AppState>,
    Admin(who): Admin,
    json: std::result::Result<Json<Value>, JsonRejection>,
) -> Result<Response, WebError> {
    let body = body(json)?;
    let name = who.user.name.clone();
    let json = blocking(&state, move |app| {
        let s = admin::sources::create(app, &name, &body)?;
        Ok(admin::sources::source_json(&s, &app.config().base_dir))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(json)).into_response())
}

/// `GET /api/sources/{id}` (admin): the source as configured, with its health.
pub async fn api_get(
    State(state): State<AppState>,
    Admin(_who): Admin,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let json = blocking(&state, move |app| {
        let config = app.config();
        let s = config.source(&id).ok_or_else(|| {
            crate::error::Error::NotFound(format!("Không có nguồn tin nào mã `{id}`."))
        })?;
        let mut v = admin::sources::source_json(s, &config.base_dir);
        let status = app
            .store
            .source_statuses(Utc::now())?
            .into_iter()
            .find(|x| x.id == id);
        v["status"] = serde_json::to_value(status).unwrap_or(Value::Null);
        Ok(v)
    })
    .await?;
    Ok(Json(json).into_response())
}

/// `PATCH /api/sources/{id}` (admin): 200 and the source.
pub async fn api_update(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(id): Path<String>,
    json: std::result::Result<Json<Value>, JsonRejection>,
) -> Result<Response, WebError> {
    let body = body(json)?;
    let name = who.user.name.clone();
    let json = blocking(&state, move |app| {
        let s = admin::sources::update(app, &name, &id, &body)?;
        Ok(admin::sources::source_json(&s, &app.config().base_dir))
    })
    .await?;
    Ok(Json(json).into_response())
}

#[derive(Deserialize)]
pub struct DeleteQuery {
    #[serde(default)]
    items: String,
}

/// `DELETE /api/sources/{id}[?items=delete]` (admin): 204.
pub async fn api_delete(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(id): Path<String>,
    Query(q): Query<DeleteQuery>,
) -> Result<StatusCode, WebError> {
    let with_items = matches!(q.items.as_str(), "delete" | "1" | "true");
    let name = who.user.name.clone();
    blocking(&state, move |app| {
        admin::sources::remove(app, &name, &id, with_items)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/sources/check` (admin): what a fetch of the source in the body would store.
pub async fn api_check(
    State(state): State<AppState>,
    Admin(_who): Admin,
    json: std::result::Result<Json<Value>, JsonRejection>,
) -> Result<Response, WebError> {
    let body = body(json)?;
    let answer = admin::sources::check(&state.app, &body).await?;
    Ok(Json(answer).into_response())
}

#[derive(Deserialize)]
pub struct ImportQuery {
    #[serde(default)]
    preview: String,
}

/// `POST /api/sources/import[?preview=1]` (admin), the OPML document as the body: what
/// was (or would be) added and what is skipped, with why.
pub async fn api_import(
    State(state): State<AppState>,
    Admin(who): Admin,
    Query(q): Query<ImportQuery>,
    opml: Bytes,
) -> Result<Response, WebError> {
    if opml.iter().all(u8::is_ascii_whitespace) {
        return Err(WebError::bad_request(
            "Cần nội dung tệp OPML trong thân yêu cầu.",
        ));
    }
    let preview = matches!(q.preview.as_str(), "1" | "true");
    let name = who.user.name.clone();
    let done = blocking(&state, move |app| {
        admin::sources::import(app, &name, &opml, preview)
    })
    .await?;
    let status = if preview || done.added.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(done)).into_response())
}

#[derive(Deserialize)]
pub struct DiscoverBody {
    #[serde(default)]
    url: String,
}

/// `POST /api/sources/discover` (admin) `{"url": …}`: the feeds a page announces, and a
/// page-source block to start from when it has none.
pub async fn api_discover(
    State(state): State<AppState>,
    Admin(_who): Admin,
    json: std::result::Result<Json<Value>, JsonRejection>,
) -> Result<Response, WebError> {
    let body: DiscoverBody = serde_json::from_value(body(json)?)
        .map_err(|_| WebError::field("url", "Cần địa chỉ trang (url)."))?;
    let address = body.url.trim();
    if !(address.starts_with("http://") || address.starts_with("https://")) {
        return Err(WebError::field(
            "url",
            "Dán địa chỉ bắt đầu bằng http:// hoặc https://",
        ));
    }
    let found = match admin::discover(&state.app.fetcher, address).await {
        Ok(f) => f,
        Err(e) => {
            let (headline, advice) = explain(Some(e.kind()), &e.to_string());
            return Err(WebError::field("url", format!("{headline}: {e}. {advice}")));
        }
    };
    let config = state.app.config();
    let suggestion = admin::page_suggestion(&config, &found);
    let taken: std::collections::HashSet<String> =
        config.sources.iter().map(|s| s.id().to_string()).collect();
    let feeds: Vec<Value> = found
        .feeds
        .iter()
        .map(|f| {
            let name = f
                .title
                .clone()
                .or(found.page_title.clone())
                .unwrap_or_else(|| f.url.clone());
            serde_json::json!({
                "url": f.url,
                "title": f.title,
                "via": f.via,
                "id": crate::opml::make_id(&name, &taken),
                "name": name,
                "known": config.sources.iter().any(|s| s.location(&config.base_dir) == f.url),
            })
        })
        .collect();
    Ok(Json(serde_json::json!({
        "url": found.url.to_string(),
        "page_title": found.page_title,
        "feeds": feeds,
        "page_source": {
            "id": suggestion.id,
            "name": suggestion.name,
            "kind": "page",
            "url": suggestion.url,
            "selectors": suggestion.selectors,
        },
    }))
    .into_response())
}

/// `POST /api/config/reload` (admin): read the config file again ("Tải lại cấu hình");
/// `400` with the file's error when it is invalid (the running config stays).
pub async fn api_reload(
    State(state): State<AppState>,
    Admin(who): Admin,
) -> Result<Response, WebError> {
    let name = who.user.name.clone();
    let config = blocking(&state, move |app| admin::edit::reload_from_disk(app, &name))
        .await
        .map_err(|e| {
            WebError::bad_request(format!(
                "Chưa tải lại: {} Cấu hình đang chạy vẫn giữ nguyên.",
                e.message()
            ))
        })?;
    admin::edit::retag_in_background(&state.app);
    Ok(Json(serde_json::json!({
        "reloaded": true,
        "path": config.path.display().to_string(),
        "sources": config.sources.len(),
        "topics": config.topics.len(),
        "digests": config.digests.len(),
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_explained_by_kind_and_status() {
        let (h, _) = explain(Some("http_status"), "https://a.vn/rss trả về mã HTTP 404");
        assert_eq!(h, "Không tìm thấy trang (404)");
        let (h, _) = explain(
            Some("network"),
            "không tải được x: hết thời gian chờ (timeout)",
        );
        assert_eq!(h, "Quá thời gian chờ");
        assert_eq!(explain(Some("parse"), "").0, "Không phải nguồn RSS/Atom");
        assert_eq!(
            explain(Some("selector"), "").0,
            "Bộ chọn CSS không khớp mục nào"
        );
        assert!(explain(Some("robots"), "").0.contains("robots.txt"));
        assert_eq!(http_code("x trả về mã HTTP 503"), Some(503));
    }

    #[test]
    fn fetch_now_says_what_happened() {
        let q = SourcesQuery {
            failed: "1".into(),
            before: "loi".into(),
            ..Default::default()
        };
        assert_eq!(
            fetched_words(&q, Some("http_status"), "u trả về mã HTTP 404"),
            "Vẫn lỗi: 404"
        );
        let q = SourcesQuery {
            new: "3".into(),
            updated: "0".into(),
            ..Default::default()
        };
        assert_eq!(fetched_words(&q, None, ""), "3 tin mới");
    }
}
