//! Access control of the web app. The gate, [`require_login`], sits between the router and
//! every page or API handler: it turns a session cookie or an `Authorization: Bearer`
//! token into an [`Identity`] put in the request, answers 401 (with the login page for
//! browsers) when there is none, and refuses any state-changing request whose CSRF token
//! does not match the session's (403). Handlers then ask for the caller with the
//! extractors [`Staff`] (any logged-in user) and [`Admin`] (403 for staff). A link
//! followed from another site gets one same-site hop first (the session cookie is
//! `SameSite=Strict`, so the browser withholds it from such a navigation). The login and
//! logout handlers and the login page live here too; passwords, tokens and sessions are
//! `accounts`' and the login brake is `limiter`'s.

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

use super::error::WebError;
use super::state::{AppState, Chrome};
use crate::accounts::{self, same_secret};
use crate::error::Result;
use crate::store::User;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "gomtin_session";
/// Name of the cookie that carries the login form's CSRF value (double submit).
pub const LOGIN_COOKIE: &str = "gomtin_login";
/// Header carrying the CSRF token on script-made requests.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Form field carrying the CSRF token on HTML forms.
pub const CSRF_FIELD: &str = "csrf";
/// Largest form body read while looking for the CSRF field.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// Who is making a request, and how they proved it.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user: User,
    /// The session's CSRF token (None for bearer-token requests, which carry no cookie).
    pub csrf: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Extractors

/// A logged-in caller of any role.
#[derive(Debug, Clone)]
pub struct Staff(pub Identity);

/// A logged-in admin; staff get 403.
#[derive(Debug, Clone)]
pub struct Admin(pub Identity);

/// The identity the gate put in the request (every route behind the gate has one).
fn identity(parts: &Parts) -> std::result::Result<Identity, WebError> {
    parts
        .extensions
        .get::<Identity>()
        .cloned()
        .ok_or_else(|| WebError::new(StatusCode::UNAUTHORIZED, "Cần đăng nhập (hoặc mã API)."))
}

impl<S: Send + Sync> FromRequestParts<S> for Staff {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> std::result::Result<Self, WebError> {
        identity(parts).map(Staff)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> std::result::Result<Self, WebError> {
        let who = identity(parts)?;
        if !who.user.is_admin() {
            return Err(WebError::new(
                StatusCode::FORBIDDEN,
                "Chỉ quản trị viên (admin) được làm việc này.",
            ));
        }
        Ok(Admin(who))
    }
}

// ---------------------------------------------------------------------------------------
// Client address and cookies

/// The client address: the socket peer, or the last `X-Forwarded-For` hop behind a proxy.
pub fn client_ip(
    state: &AppState,
    req_headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Option<IpAddr> {
    if state.behind_proxy()
        && let Some(v) = req_headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
        && let Some(ip) = v.rsplit(',').next().and_then(|s| s.trim().parse().ok())
    {
        return Some(ip);
    }
    peer.map(|p| p.ip())
}

/// The value of cookie `name` in the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value with the house attributes.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Option<u64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if state.behind_proxy() {
        c.push_str("; Secure");
    }
    c
}

/// Add a `Set-Cookie` header to a response.
pub fn add_cookie(
    resp: &mut Response,
    state: &AppState,
    name: &str,
    value: &str,
    max_age: Option<u64>,
) {
    if let Ok(v) = set_cookie(state, name, value, max_age).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

// ---------------------------------------------------------------------------------------
// The gate

/// Paths served without a session.
fn is_public(path: &str) -> bool {
    path == "/login"
        || path == "/setup"
        || path.starts_with("/static/")
        || path == "/favicon.ico"
        || path == "/healthz"
        || path == "/metrics"
}

/// The two read-only feeds that feed readers fetch with `?token=`.
fn is_feed(path: &str) -> bool {
    path == "/feed.atom" || path == "/sources.opml"
}

/// Whether the request carries a valid session cookie or API token — for the public
/// pages that show more to staff (`/healthz`). Lookup errors count as "no".
pub async fn signed_in(state: &AppState, headers: &HeaderMap) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    let session = cookie(headers, SESSION_COOKIE);
    if bearer.is_none() && session.is_none() {
        return false;
    }
    let store = state.app.store.clone();
    tokio::task::spawn_blocking(move || -> Result<bool> {
        let now = Utc::now();
        if let Some(t) = bearer {
            return Ok(accounts::api_token_user(&store, &t, now)?.is_some());
        }
        match session {
            Some(s) => Ok(accounts::session_user(&store, &s, now)?.is_some()),
            None => Ok(false),
        }
    })
    .await
    .is_ok_and(|r| r.unwrap_or(false))
}

/// Resolve the caller, enforce login and CSRF; handlers then take [`Staff`] or [`Admin`].
pub async fn require_login(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if is_public(&path) {
        return next.run(req).await;
    }
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    // Feed readers cannot log in: the two read-only feeds also take `?token=`.
    let query_token = if is_feed(&path) {
        req.uri().query().and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "token")
                .map(|(_, v)| v.into_owned())
        })
    } else {
        None
    };
    let session = cookie(req.headers(), SESSION_COOKIE);
    let store = state.app.store.clone();
    let lookup = tokio::task::spawn_blocking(move || -> Result<Option<Identity>> {
        let now = Utc::now();
        if let Some(t) = bearer.or(query_token) {
            return Ok(accounts::api_token_user(&store, &t, now)?
                .map(|user| Identity { user, csrf: None }));
        }
        if let Some(s) = session {
            return Ok(
                accounts::session_user(&store, &s, now)?.map(|(user, csrf)| Identity {
                    user,
                    csrf: Some(csrf),
                }),
            );
        }
        Ok(None)
    })
    .await;
    let identity = match lookup {
        Ok(Ok(id)) => id,
        Ok(Err(e)) => return WebError::internal(e).into_response(),
        Err(e) => return WebError::internal(e).into_response(),
    };
    let Some(identity) = identity else {
        if path.starts_with("/api/") || is_feed(&path) || path == "/export" {
            return WebError::new(StatusCode::UNAUTHORIZED, "Cần đăng nhập (hoặc mã API).")
                .json()
                .into_response();
        }
        let next_url = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        // A link followed from another site (the bookmarklet on a Facebook page) arrives
        // without the `SameSite=Strict` session cookie: go once more to the same address
        // from this site, which sends it; only then is a login asked for.
        if *req.method() == Method::GET
            && req
                .headers()
                .get("sec-fetch-site")
                .is_some_and(|v| v.as_bytes() == b"cross-site")
        {
            return same_site_again(&state, &next_url);
        }
        return login_page(
            &state,
            req.headers(),
            StatusCode::UNAUTHORIZED,
            &next_url,
            None,
        );
    };
    let mut req = req;
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if changes_state && let Some(expected) = identity.csrf.clone() {
        let (ok, rebuilt) = csrf_matches(req, &expected).await;
        req = rebuilt;
        if !ok {
            return WebError::new(
                StatusCode::FORBIDDEN,
                "Yêu cầu bị từ chối: mã chống giả mạo (CSRF) thiếu hoặc đã hết hạn. Hãy tải lại trang rồi thử lại.",
            )
            .into_response();
        }
    }
    if identity.user.must_change_password && !allowed_before_new_password(&req, &identity) {
        if path.starts_with("/api/") {
            return WebError::new(
                StatusCode::FORBIDDEN,
                "Cần đổi mật khẩu dùng một lần trước (trang Tài khoản).",
            )
            .into_response();
        }
        return Redirect::to("/account").into_response();
    }
    // The error pages (drawn outside this gate, by `error::render_errors`) keep the menu.
    let chrome = Chrome {
        user: identity.user.name.clone(),
        is_admin: identity.user.is_admin(),
        csrf: identity.csrf.clone().unwrap_or_default(),
        current: "",
    };
    req.extensions_mut().insert(identity);
    let mut resp = next.run(req).await;
    resp.extensions_mut().insert(chrome);
    resp
}

/// A page that goes on to `next` (a local path) from this site, so the browser sends the
/// session cookie it withheld from a navigation that started on another site.
fn same_site_again(state: &AppState, next: &str) -> Response {
    state.render(
        StatusCode::OK,
        "again.html",
        minijinja::context! { next => safe_next(next) },
    )
}

/// With a one-time password, only the account page (and changing the password there),
/// logging out and the static files are open.
fn allowed_before_new_password(req: &Request, who: &Identity) -> bool {
    let path = req.uri().path();
    path == "/account"
        || path == "/logout"
        || path.starts_with("/static/")
        || (req.method() == Method::PATCH && path == format!("/api/users/{}", who.user.name))
}

/// Check the CSRF token in the header or, for HTML forms, in the `csrf` field. The body is
/// read (bounded) and put back so the handler still sees it.
async fn csrf_matches(req: Request, expected: &str) -> (bool, Request) {
    if let Some(v) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        let ok = same_secret(v, expected);
        return (ok, req);
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return (false, req);
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
        Ok(b) => b,
        Err(_) => return (false, Request::from_parts(parts, Body::empty())),
    };
    let ok = url::form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == CSRF_FIELD)
        .is_some_and(|(_, v)| same_secret(&v, expected));
    (ok, Request::from_parts(parts, Body::from(bytes)))
}

// ---------------------------------------------------------------------------------------
// Login and logout

/// The login page and its CSRF cookie. A login cookie the browser already has is kept:
/// a parallel request (a favicon, a second tab) must not invalidate an open form.
fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    next: &str,
    message: Option<&str>,
) -> Response {
    let now = Utc::now();
    let existing = cookie(headers, LOGIN_COOKIE).filter(|t| state.form_tokens.verify(t, now));
    let token = match existing
        .map(Ok)
        .unwrap_or_else(|| state.form_tokens.issue(now))
    {
        Ok(t) => t,
        Err(e) => return WebError::internal(e).into_response(),
    };
    // While no account exists, the page says where the first one comes from.
    let first_run = state.app.store.user_count().is_ok_and(|n| n == 0);
    let mut resp = state.render(
        status,
        "login.html",
        minijinja::context! { csrf => token, next => next, message => message, first_run => first_run },
    );
    add_cookie(
        &mut resp,
        state,
        LOGIN_COOKIE,
        &token,
        Some(accounts::FormTokens::MAX_AGE as u64),
    );
    resp
}

#[derive(serde::Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    name: String,
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

/// The post-login destination: `next` when it is a path on this site, else `/`. Browsers
/// drop tabs and newlines inside URLs and read a backslash as `/`, so `/<TAB>/evil.example/`
/// or `/\evil.example` would leave the site: any control character, whitespace or
/// backslash refuses `next` outright; the rest is resolved as a path (dot segments
/// removed, as the browser will) and must not start with `//`. The fragment is dropped.
pub fn safe_next(next: &str) -> String {
    let refused = || "/".to_string();
    if !next.starts_with('/')
        || next
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return refused();
    }
    let Ok(base) = url::Url::parse("http://gomtin.invalid/") else {
        return refused();
    };
    let Ok(resolved) = base.join(next) else {
        return refused();
    };
    if resolved.origin() != base.origin() {
        return refused();
    }
    let mut out = resolved.path().to_string();
    if out.starts_with("//") {
        return refused();
    }
    if let Some(q) = resolved.query() {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// `GET /login`.
pub async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<LoginQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref().unwrap_or("/"));
    login_page(&state, &headers, StatusCode::OK, &next, None)
}

/// `POST /login`: check the form's CSRF value and the brake, then the password.
pub async fn login_submit(
    State(state): State<AppState>,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    axum::extract::Form(form): axum::extract::Form<LoginForm>,
) -> Response {
    let next = safe_next(&form.next);
    // Double submit, and the value must be one this server issued (not one planted).
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if !state.form_tokens.verify(&expected, Utc::now()) || !same_secret(&form.csrf, &expected) {
        return login_page(
            &state,
            &headers,
            StatusCode::FORBIDDEN,
            &next,
            Some("Phiên đăng nhập đã hết hạn. Hãy thử lại."),
        );
    }
    let ip = client_ip(
        &state,
        &headers,
        peer.map(|axum::Extension(ConnectInfo(a))| a),
    );
    let name = form.name.trim().to_string();
    if let Some(wait) = state.limiter.blocked_for(ip, &name) {
        let msg = format!(
            "Đăng nhập sai quá nhiều lần. Thử lại sau {} phút.",
            wait.div_ceil(60)
        );
        let mut resp = login_page(
            &state,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            &next,
            Some(&msg),
        );
        if let Ok(v) = wait.to_string().parse() {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return resp;
    }
    let store = state.app.store.clone();
    let ttl = state.app.config().server.session_ttl;
    let (n, password) = (name.clone(), form.password);
    let outcome = tokio::task::spawn_blocking(move || {
        accounts::log_in(&store, &n, &password, ttl, Utc::now())
    })
    .await;
    match outcome {
        Ok(Ok(Some(accounts::NewSession { token, user }))) => {
            state.limiter.succeeded(&user.name);
            tracing::info!(user = %user.name, "login");
            let mut resp = Redirect::to(&next).into_response();
            add_cookie(
                &mut resp,
                &state,
                SESSION_COOKIE,
                &token,
                Some(ttl.as_secs()),
            );
            add_cookie(&mut resp, &state, LOGIN_COOKIE, "", Some(0));
            resp
        }
        // The right password of a disabled account: say so.
        Ok(Err(e @ crate::error::Error::User(_))) => {
            tracing::warn!(user = %name, "login of a disabled account");
            login_page(
                &state,
                &headers,
                StatusCode::FORBIDDEN,
                &next,
                Some(&e.to_string()),
            )
        }
        Ok(Ok(None)) => {
            state.limiter.failed(ip, &name);
            tracing::warn!(user = %name, "failed login");
            login_page(
                &state,
                &headers,
                StatusCode::UNAUTHORIZED,
                &next,
                Some("Sai tên đăng nhập hoặc mật khẩu."),
            )
        }
        Ok(Err(e)) => WebError::internal(e).into_response(),
        Err(e) => WebError::internal(e).into_response(),
    }
}

/// `POST /logout`: end the session and forget its cookie.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(s) = cookie(&headers, SESSION_COOKIE) {
        let store = state.app.store.clone();
        let _ = tokio::task::spawn_blocking(move || accounts::log_out(&store, &s)).await;
    }
    let mut resp = Redirect::to("/login").into_response();
    add_cookie(&mut resp, &state, SESSION_COOKIE, "", Some(0));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_stay_on_this_site() {
        assert_eq!(safe_next("/?q=a"), "/?q=a");
        assert_eq!(safe_next("//evil.example/"), "/");
        assert_eq!(safe_next("https://evil.example/"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        for bad in [
            "/\t/evil.example/",
            "/\n/evil.example",
            "/\r\nSet-Cookie: x=1",
            "/ /evil.example",
            "/.//evil.example/",
            "/a/..//evil.example",
            "/x\\..\\evil",
            "/\u{0}",
            "",
            "evil.example",
            "javascript:alert(1)",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
        assert_eq!(safe_next("/items/3?q=n%C3%B4ng#x"), "/items/3?q=n%C3%B4ng");
        assert_eq!(safe_next("/a/../sources"), "/sources");
    }
}
