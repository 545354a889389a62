//! "Thêm bài": capturing a post staff found elsewhere (a commune's Facebook page, a Zalo
//! group) without a terminal. The form takes the link, title, text, time and picture and
//! a manual source (or a new one by name); "Lấy nội dung" fills it from a public page.
//! The same form opens pre-filled from the bookmarklet "Gửi vào gomtin" (the current
//! page's address, title and selected text) and from the phone's share sheet: the web
//! app manifest (`/manifest.webmanifest`) declares a Web Share Target on `/capture`, and
//! a minimal service worker (`/sw.js`, no offline data) makes the app installable.
//! Saving goes through `actions::capture` (the checks and storing of `gomtin post add`)
//! and lands on the item's page, share box first.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::actions::capture::{self, Capture};
use super::auth::Staff;
use super::state::AppState;
use super::view::Chrome;

/// The address this server is reached at, from the request (for the bookmarklet).
fn origin(state: &AppState, headers: &HeaderMap) -> String {
    let host: String = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '[' | ']'))
        .collect();
    let https = state.behind_proxy()
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    format!("{}://{host}", if https { "https" } else { "http" })
}

/// The bookmarklet: open this server's capture form with the current page's address,
/// title and selected text.
fn bookmarklet(origin: &str) -> String {
    format!(
        "javascript:(function(){{var s=window.getSelection?String(window.getSelection()):'';\
         location.href='{origin}/capture?url='+encodeURIComponent(location.href)\
         +'&title='+encodeURIComponent(document.title)+'&text='+encodeURIComponent(s);}})();"
    )
}

/// Render the form with `post`'s values.
fn form_page(
    state: &AppState,
    who: &super::auth::Identity,
    headers: &HeaderMap,
    status: StatusCode,
    post: &Capture,
    error: Option<&str>,
    notice: Option<&str>,
) -> Response {
    let sources: Vec<minijinja::Value> = capture::manual_sources(state)
        .into_iter()
        .map(|(id, name)| {
            minijinja::context! { selected => id == post.source, value => id, label => name }
        })
        .collect();
    let origin = origin(state, headers);
    state.render(
        status,
        "capture.html",
        minijinja::context! {
            chrome => Chrome::at(who, "capture"),
            post => minijinja::context! {
                url => post.url,
                title => post.title,
                text => post.text,
                published => post.published.replace(' ', "T"),
                image => post.image,
                new_source => post.new_source,
                source => post.source,
            },
            no_source => sources.is_empty(),
            sources => sources,
            error => error,
            notice => notice,
            bookmarklet => bookmarklet(&origin),
        },
    )
}

/// `GET /capture?url=…&title=…&text=…`: the form, pre-filled by the bookmarklet or the
/// share sheet (which often puts the link inside the text).
pub async fn form(
    State(state): State<AppState>,
    Staff(who): Staff,
    headers: HeaderMap,
    Query(mut post): Query<Capture>,
) -> Response {
    if post.url.trim().is_empty()
        && let Some(link) = capture::link_in(&post.text)
    {
        post.text = post
            .text
            .split_whitespace()
            .filter(|w| !w.contains(link.trim_end_matches('/')))
            .collect::<Vec<_>>()
            .join(" ");
        post.url = link;
    }
    // With one manual source there is nothing to choose.
    if post.source.is_empty()
        && let [(id, _)] = capture::manual_sources(&state).as_slice()
    {
        post.source = id.clone();
    }
    form_page(&state, &who, &headers, StatusCode::OK, &post, None, None)
}

/// `POST /capture`: store the post, then its page (or the form again with the problem).
pub async fn submit(
    State(state): State<AppState>,
    Staff(who): Staff,
    headers: HeaderMap,
    Form(post): Form<Capture>,
) -> Response {
    match capture::capture(&state, &who.user, &post).await {
        Ok(done) => {
            Redirect::to(&format!("/items/{}?them={}", done.id, done.outcome)).into_response()
        }
        Err(e) => form_page(
            &state,
            &who,
            &headers,
            StatusCode::BAD_REQUEST,
            &post,
            Some(e.message()),
            None,
        ),
    }
}

/// `POST /capture/fetch`: "Lấy nội dung" — fill what the form lacks from the page.
pub async fn fetch(
    State(state): State<AppState>,
    Staff(who): Staff,
    headers: HeaderMap,
    Form(mut post): Form<Capture>,
) -> Response {
    if post.url.trim().is_empty() {
        return form_page(
            &state,
            &who,
            &headers,
            StatusCode::BAD_REQUEST,
            &post,
            Some("Dán liên kết của bài trước, rồi bấm \"Lấy nội dung\"."),
            None,
        );
    }
    match capture::preview(&state, &post.url).await {
        Ok(found) => {
            let fill = |field: &mut String, value: Option<String>| {
                if field.trim().is_empty()
                    && let Some(v) = value
                {
                    *field = v;
                }
            };
            fill(&mut post.title, found.title);
            fill(&mut post.text, found.text);
            fill(&mut post.image, found.image);
            fill(&mut post.published, found.published);
            form_page(
                &state,
                &who,
                &headers,
                StatusCode::OK,
                &post,
                None,
                Some("Đã lấy nội dung từ trang: kiểm tra, sửa nếu cần, rồi bấm Lưu bài."),
            )
        }
        Err(e) => form_page(
            &state,
            &who,
            &headers,
            StatusCode::OK,
            &post,
            Some(e.message()),
            None,
        ),
    }
}

/// `GET /manifest.webmanifest` (public): the installable app, with its Web Share Target.
pub async fn manifest() -> Response {
    let body = serde_json::json!({
        "name": "gomtin — gom tin địa phương",
        "short_name": "gomtin",
        "description": "Tìm, thêm và chia sẻ tin địa phương",
        "lang": "vi",
        "id": "/",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f4f6f8",
        "theme_color": "#b3261e",
        "icons": [
            {"src": "/static/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": "/static/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {"src": "/static/icon.svg", "sizes": "any", "type": "image/svg+xml"}
        ],
        "share_target": {
            "action": "/capture",
            "method": "GET",
            "params": {"title": "title", "text": "text", "url": "url"}
        },
        "shortcuts": [
            {"name": "Thêm bài", "url": "/capture"},
            {"name": "Tin mới", "url": "/moi"}
        ]
    });
    (
        [
            (
                header::CONTENT_TYPE,
                "application/manifest+json; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// `GET /sw.js` (public): the service worker, only what installing the app needs.
pub async fn service_worker() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("assets/sw.js"),
    )
        .into_response()
}
