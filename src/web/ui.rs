//! The staff web app's frame: the shared [`Ui`] state (app handles, compiled templates,
//! login limiter), the route table that `web::router` mounts, the security headers every
//! response carries, the embedded static assets, and the render/error helpers that
//! `pages`, `api` and `auth` use. Templates and assets are compiled into the binary with
//! `include_str!`: the daemon ships as one file (see README, Deployment), and the escaping
//! guarantees cannot be undone by an edited template on disk.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post};
use minijinja::Environment;
use serde::Serialize;

use super::AppState;
use super::auth::{self, LoginLimiter};
use super::{api, pages};

/// What the staff UI handlers share.
#[derive(Clone)]
pub struct Ui {
    pub state: AppState,
    env: Arc<Environment<'static>>,
    pub limiter: Arc<LoginLimiter>,
}

/// Templates, compiled in.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("assets/templates/base.html")),
    ("login.html", include_str!("assets/templates/login.html")),
    ("search.html", include_str!("assets/templates/search.html")),
    ("item.html", include_str!("assets/templates/item.html")),
    (
        "sources.html",
        include_str!("assets/templates/sources.html"),
    ),
    ("error.html", include_str!("assets/templates/error.html")),
];

/// Static files: (name, content type, body).
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("assets/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/app.js"),
    ),
];

/// The Content-Security-Policy of every response: scripts and styles only from this
/// server (no inline script at all, so no nonce is needed), images also from news sites
/// (thumbnails), no frames, no plugins, forms only back to us.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' https: http:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
    frame-ancestors 'none'; object-src 'none'";

impl Ui {
    pub fn new(state: AppState) -> Ui {
        let mut env = Environment::new();
        for (name, src) in TEMPLATES {
            if let Err(e) = env.add_template(name, src) {
                // A broken built-in template is a programming error caught by the tests.
                tracing::error!(template = name, error = %e, "template does not compile");
            }
        }
        Ui {
            state,
            env: Arc::new(env),
            limiter: Arc::new(LoginLimiter::default()),
        }
    }

    /// Render a template with `ctx` (auto-escaped HTML).
    pub fn render(&self, status: StatusCode, name: &str, ctx: minijinja::Value) -> Response {
        let ctx = minijinja::context! { asset_version => env!("CARGO_PKG_VERSION"), ..ctx };
        match self.env.get_template(name).and_then(|t| t.render(ctx)) {
            Ok(body) => (status, Html(body)).into_response(),
            Err(e) => {
                tracing::error!(template = name, error = %e, "render failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    "Lỗi hiển thị trang.",
                )
                    .into_response()
            }
        }
    }

    /// An error for people (HTML page) or programs (`{"error": …}`); `message` is escaped.
    pub fn error(&self, status: StatusCode, message: &str, json: bool) -> Response {
        if json {
            return (status, axum::Json(serde_json::json!({ "error": message }))).into_response();
        }
        self.render(
            status,
            "error.html",
            minijinja::context! { status => status.as_u16(), message => message },
        )
    }

    /// The login page and its CSRF cookie. A login cookie the browser already has is kept:
    /// a parallel request (a favicon, a second tab) must not invalidate an open form.
    pub fn login_page(
        &self,
        headers: &axum::http::HeaderMap,
        status: StatusCode,
        next: &str,
        message: Option<&str>,
    ) -> Response {
        let existing = auth::cookie(headers, auth::LOGIN_COOKIE)
            .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()));
        let token = match existing
            .map(Ok)
            .unwrap_or_else(crate::accounts::random_token)
        {
            Ok(t) => t,
            Err(e) => return self.error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string(), false),
        };
        let mut resp = self.render(
            status,
            "login.html",
            minijinja::context! { csrf => token, next => next, message => message },
        );
        if let Ok(v) = auth::set_cookie(self, auth::LOGIN_COOKIE, &token, Some(3600)).parse() {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
        resp
    }
}

/// Values every logged-in page needs (menu, logout form).
#[derive(Serialize)]
pub struct Chrome {
    pub user: String,
    pub is_admin: bool,
    pub csrf: String,
}

impl Chrome {
    pub fn of(who: &auth::Identity) -> Chrome {
        Chrome {
            user: who.user.name.clone(),
            is_admin: who.user.is_admin(),
            csrf: who.csrf.clone().unwrap_or_default(),
        }
    }
}

/// The staff UI and JSON API, behind the login gate and the security headers.
pub fn routes(state: AppState) -> Router {
    let ui = Ui::new(state);
    Router::new()
        .route("/", get(pages::search))
        .route("/items/{id}", get(pages::item))
        .route("/items/{id}/shares", post(pages::add_share))
        .route("/items/{id}/shares/{share}/undo", post(pages::undo_share))
        .route("/export", get(pages::export))
        .route("/feed.atom", get(pages::atom))
        .route("/sources", get(pages::sources).post(pages::add_source))
        .route("/sources.opml", get(pages::opml))
        .route("/sources/{id}/fetch", post(pages::fetch_now))
        .route("/login", get(auth::login_form).post(auth::login_submit))
        .route("/logout", post(auth::logout))
        .route("/static/{name}", get(asset))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route("/api/search", get(api::search))
        .route("/api/items/{id}", get(api::item))
        .route("/api/items/{id}/shares", post(api::add_share))
        .route("/api/items/{id}/shares/{share}", delete(api::undo_share))
        .route("/api/sources", get(api::sources).post(api::add_source))
        .route("/api/sources/{id}/fetch", post(api::fetch_now))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            ui.clone(),
            auth::require_login,
        ))
        .layer(middleware::from_fn_with_state(
            ui.clone(),
            rejections_as_pages,
        ))
        .with_state(ui)
}

async fn not_found(axum::extract::State(ui): axum::extract::State<Ui>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    ui.error(
        StatusCode::NOT_FOUND,
        &format!("Không có trang {path}."),
        path.starts_with("/api/"),
    )
}

/// axum's extractor rejections (a bad id in the path, a bad number in the query, a malformed
/// form or JSON body) are plain text that may quote the input: answer them like every other
/// error instead — an escaped page, or `{"error": …}` under `/api/`.
async fn rejections_as_pages(
    axum::extract::State(ui): axum::extract::State<Ui>,
    req: Request,
    next: Next,
) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let resp = next.run(req).await;
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
    ui.error(status, &format!("Yêu cầu không hợp lệ: {detail}"), api)
}

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, ct, body)) => (
            [
                (header::CONTENT_TYPE, *ct),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *body,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "không có tệp này",
        )
            .into_response(),
    }
}

/// Security headers on every response of the server.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}
