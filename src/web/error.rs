//! The web app's one error type. A handler, extractor or middleware returns a
//! [`WebError`] (a status and a Vietnamese message; `?` turns a crate [`Error`] into one:
//! the caller's mistakes 400 — with the key at fault for a bad field — a taken id 409,
//! something unknown 404, ours 500); it answers `{"error": message}` (plus `"field": KEY`
//! for a bad field) by itself — with `Retry-After` when it says when to try again (a busy
//! search gate's 503) — and
//! the [`render_errors`] layer turns it into the escaped error page on every route outside
//! `/api/`. The same layer answers axum's own rejections (a bad id in the path, a
//! malformed form or JSON body: plain text that may quote the input) the same way, and
//! [`not_found`] is the router's fallback. The error page keeps the menu of the person
//! logged in (the gate leaves their `Chrome` on the response) and says what to do next.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::state::{AppState, Chrome};
use crate::error::Error;

/// How an error is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// The error page for people.
    Page,
    /// `{"error": …}` for programs.
    Json,
}

/// An error answer of the web app.
#[derive(Debug, Clone)]
pub struct WebError {
    status: StatusCode,
    message: String,
    /// The key of the form field at fault, when one is.
    field: Option<String>,
    /// None: by the route (`/api/…` JSON, the rest a page).
    format: Option<Format>,
    /// Seconds to wait before trying again (`Retry-After`), when known.
    retry_after: Option<u64>,
}

impl WebError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> WebError {
        WebError {
            status,
            message: message.into(),
            field: None,
            format: None,
            retry_after: None,
        }
    }

    /// A 400 about the form field `field`.
    pub fn field(field: &str, message: impl Into<String>) -> WebError {
        let mut e = WebError::bad_request(message);
        e.field = Some(field.to_string());
        e
    }

    pub fn bad_request(message: impl Into<String>) -> WebError {
        WebError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> WebError {
        WebError::new(StatusCode::NOT_FOUND, message)
    }

    /// A failure on our side, whatever the error says about itself.
    pub fn internal(message: impl ToString) -> WebError {
        WebError::new(StatusCode::INTERNAL_SERVER_ERROR, message.to_string())
    }

    /// A 503 for a server too busy to search now: try again in `secs` seconds.
    pub fn busy(secs: u64) -> WebError {
        let mut e = WebError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "Máy chủ đang bận vì có quá nhiều lượt tìm kiếm cùng lúc. Hãy thử lại sau {secs} giây."
            ),
        );
        e.retry_after = Some(secs);
        e
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Answer in JSON whatever the route (for callers that are programs on a page route,
    /// such as feed readers).
    pub fn json(mut self) -> WebError {
        self.format = Some(Format::Json);
        self
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<Error> for WebError {
    /// Bad queries and unknown names are the caller's (400; a bad field names its key),
    /// a taken id is a conflict (409), an unknown thing 404, the rest ours (500).
    fn from(e: Error) -> WebError {
        match e {
            Error::Invalid { field, message } => return WebError::field(&field, message),
            Error::Conflict(m) => return WebError::new(StatusCode::CONFLICT, m),
            Error::NotFound(m) => return WebError::not_found(m),
            Error::Forbidden(m) => return WebError::new(StatusCode::FORBIDDEN, m),
            _ => {}
        }
        let status = if e.is_usage() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        WebError::new(status, e.to_string())
    }
}

impl From<tokio::task::JoinError> for WebError {
    fn from(e: tokio::task::JoinError) -> WebError {
        WebError::internal(e)
    }
}

impl IntoResponse for WebError {
    /// `{"error": …}`, carrying the error along for [`render_errors`] to show as a page.
    fn into_response(self) -> Response {
        let body = match &self.field {
            Some(f) => axum::Json(serde_json::json!({ "error": self.message, "field": f })),
            None => axum::Json(serde_json::json!({ "error": self.message })),
        };
        let mut resp = (self.status, body).into_response();
        with_retry_after(&mut resp, self.retry_after);
        resp.extensions_mut().insert(self);
        resp
    }
}

fn with_retry_after(resp: &mut Response, secs: Option<u64>) {
    if let Some(secs) = secs {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
    }
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// What to do after an error with this status, in words.
fn what_to_do(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Kiểm tra lại điều vừa nhập (câu tìm kiếm, ngày, liên kết) rồi thử lại.",
        401 => "Hãy đăng nhập rồi thử lại.",
        403 => "Tải lại trang rồi thử lại; nếu cần quyền quản trị, hãy nhờ quản trị viên.",
        404 => {
            "Địa chỉ này không còn hoặc chưa bao giờ có: tìm tin ở ô tìm kiếm, hoặc quay lại trang trước."
        }
        413 => "Nội dung gửi lên quá lớn: hãy rút ngắn rồi gửi lại.",
        429 => "Chờ vài phút rồi thử lại.",
        503 => "Máy chủ đang quá tải: chờ vài giây rồi tải lại trang.",
        501 => "Việc này chưa làm được trên web: xem hướng dẫn bên dưới.",
        _ => "Thử lại sau ít phút; nếu vẫn lỗi, hãy báo quản trị viên (kèm giờ xảy ra lỗi).",
    }
}

/// The error page, `message` escaped, with the menu when someone is logged in.
fn page(state: &AppState, status: StatusCode, message: &str, chrome: Option<Chrome>) -> Response {
    let title = match status.as_u16() {
        400 => "Yêu cầu chưa đúng",
        401 => "Cần đăng nhập",
        403 => "Không được phép",
        404 => "Không tìm thấy",
        429 => "Quá nhiều lần thử",
        503 => "Máy chủ đang bận",
        501 => "Chưa làm được trên web",
        _ => "Có lỗi xảy ra",
    };
    state.render(
        status,
        "error.html",
        minijinja::context! {
            status => status.as_u16(),
            title => title,
            message => message,
            advice => what_to_do(status),
            chrome => chrome,
        },
    )
}

/// Show errors as the route wants them: a [`WebError`] outside `/api/` becomes the error
/// page; an axum rejection (a client error in plain text) becomes a [`WebError`] too.
pub async fn render_errors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let api = is_api(req.uri().path());
    let resp = next.run(req).await;
    let chrome = resp.extensions().get::<Chrome>().cloned();
    if let Some(e) = resp.extensions().get::<WebError>() {
        let format = e
            .format
            .unwrap_or(if api { Format::Json } else { Format::Page });
        return match format {
            Format::Json => resp,
            Format::Page => {
                let mut resp = page(&state, e.status, &e.message, chrome);
                with_retry_after(&mut resp, e.retry_after);
                resp
            }
        };
    }
    let plain = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !(resp.status().is_client_error() && plain) {
        return resp;
    }
    let status = resp.status();
    let detail = axum::body::to_bytes(resp.into_body(), 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let message = format!("Yêu cầu không hợp lệ: {detail}");
    if api {
        WebError::new(status, message).into_response()
    } else {
        page(&state, status, &message, chrome)
    }
}

/// The router's fallback.
pub async fn not_found(req: Request) -> WebError {
    WebError::not_found(format!("Không có trang {}.", req.uri().path()))
}
