//! Accounts and access control for the web layer. It sits between the router and every
//! page or API handler: `require_login` turns a session cookie or an `Authorization:
//! Bearer` token into an [`Identity`], answers 401 (with the login page for browsers)
//! when there is none, and refuses any state-changing request whose CSRF token does not
//! match the session's (403). Passwords are argon2id hashes; session and API tokens are
//! random 256-bit values stored only as SHA-256 hashes (both in `accounts`). The login form
//! is rate-limited per client address and per user name.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

use super::ui::Ui;
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
// Login rate limiting

/// Failed logins allowed per window for one user name, and (higher, since an office shares
/// one address behind its router) for one client address.
const MAX_FAILURES_PER_NAME: u32 = 5;
const MAX_FAILURES_PER_ADDRESS: u32 = 20;
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Failed-login counters kept in memory (a restart forgives; that is acceptable).
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginLimiter {
    fn keys(ip: Option<IpAddr>, name: &str) -> Vec<(String, u32)> {
        let mut keys = vec![(
            format!("user:{}", name.to_lowercase()),
            MAX_FAILURES_PER_NAME,
        )];
        if let Some(ip) = ip {
            keys.push((format!("ip:{ip}"), MAX_FAILURES_PER_ADDRESS));
        }
        keys
    }

    /// Seconds to wait when the name or the address is over its limit.
    pub fn blocked_for(&self, ip: Option<IpAddr>, name: &str) -> Option<u64> {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        Self::keys(ip, name)
            .iter()
            .filter_map(|(k, max)| map.get(k).map(|v| (v, *max)))
            .filter(|((n, since), max)| *n >= *max && since.elapsed() < FAILURE_WINDOW)
            .map(|((_, since), _)| (FAILURE_WINDOW - since.elapsed()).as_secs() + 1)
            .max()
    }

    pub fn failed(&self, ip: Option<IpAddr>, name: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, since)| since.elapsed() < FAILURE_WINDOW);
        }
        for (k, _) in Self::keys(ip, name) {
            let e = map.entry(k).or_insert((0, Instant::now()));
            if e.1.elapsed() >= FAILURE_WINDOW {
                *e = (0, Instant::now());
            }
            e.0 += 1;
        }
    }

    pub fn succeeded(&self, name: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("user:{}", name.to_lowercase()));
    }
}

/// The client address: the socket peer, or the last `X-Forwarded-For` hop behind a proxy.
pub fn client_ip(ui: &Ui, req_headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<IpAddr> {
    if ui.state.app.config.server.behind_proxy
        && let Some(v) = req_headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
        && let Some(ip) = v.rsplit(',').next().and_then(|s| s.trim().parse().ok())
    {
        return Some(ip);
    }
    peer.map(|p| p.ip())
}

// ---------------------------------------------------------------------------------------
// Cookies

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
pub fn set_cookie(ui: &Ui, name: &str, value: &str, max_age: Option<u64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if ui.state.app.config.server.behind_proxy {
        c.push_str("; Secure");
    }
    c
}

// ---------------------------------------------------------------------------------------
// The gate

/// Paths served without a session.
fn is_public(path: &str) -> bool {
    path == "/login"
        || path.starts_with("/static/")
        || path == "/favicon.ico"
        || path == "/healthz"
        || path == "/metrics"
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// Resolve the caller, enforce login and CSRF; handlers then read `Extension<Identity>`.
pub async fn require_login(State(ui): State<Ui>, req: Request, next: Next) -> Response {
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
    let query_token = if path == "/feed.atom" || path == "/sources.opml" {
        req.uri().query().and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "token")
                .map(|(_, v)| v.into_owned())
        })
    } else {
        None
    };
    let session = cookie(req.headers(), SESSION_COOKIE);
    let store = ui.state.app.store.clone();
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
        Ok(Err(e)) => {
            return ui.error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &e.to_string(),
                is_api(&path),
            );
        }
        Err(e) => {
            return ui.error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &e.to_string(),
                is_api(&path),
            );
        }
    };
    let Some(identity) = identity else {
        if is_api(&path) || path == "/feed.atom" || path == "/sources.opml" || path == "/export" {
            return ui.error(
                StatusCode::UNAUTHORIZED,
                "Cần đăng nhập (hoặc mã API).",
                true,
            );
        }
        let next_url = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        return ui.login_page(req.headers(), StatusCode::UNAUTHORIZED, &next_url, None);
    };
    let mut req = req;
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if changes_state && let Some(expected) = identity.csrf.clone() {
        let (ok, rebuilt) = csrf_matches(req, &expected).await;
        req = rebuilt;
        if !ok {
            return ui.error(
                StatusCode::FORBIDDEN,
                "Yêu cầu bị từ chối: mã chống giả mạo (CSRF) thiếu hoặc đã hết hạn. Hãy tải lại trang rồi thử lại.",
                is_api(&path),
            );
        }
    }
    req.extensions_mut().insert(identity);
    next.run(req).await
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

/// The 403 answer when the caller is not an admin (None: go ahead).
pub fn refuse_unless_admin(ui: &Ui, who: &Identity, api: bool) -> Option<Response> {
    (!who.user.is_admin()).then(|| {
        ui.error(
            StatusCode::FORBIDDEN,
            "Chỉ quản trị viên (admin) được làm việc này.",
            api,
        )
    })
}

// ---------------------------------------------------------------------------------------
// Login and logout

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

/// Only local paths may be a post-login destination.
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next.to_string()
    } else {
        "/".to_string()
    }
}

pub async fn login_form(
    State(ui): State<Ui>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<LoginQuery>,
) -> Response {
    ui.login_page(
        &headers,
        StatusCode::OK,
        q.next.as_deref().unwrap_or("/"),
        None,
    )
}

pub async fn login_submit(
    State(ui): State<Ui>,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    axum::extract::Form(form): axum::extract::Form<LoginForm>,
) -> Response {
    let next = safe_next(&form.next);
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_secret(&form.csrf, &expected) {
        return ui.login_page(
            &headers,
            StatusCode::FORBIDDEN,
            &next,
            Some("Phiên đăng nhập đã hết hạn. Hãy thử lại."),
        );
    }
    let ip = client_ip(&ui, &headers, peer.map(|axum::Extension(ConnectInfo(a))| a));
    let name = form.name.trim().to_string();
    if let Some(wait) = ui.limiter.blocked_for(ip, &name) {
        let msg = format!(
            "Đăng nhập sai quá nhiều lần. Thử lại sau {} phút.",
            wait.div_ceil(60)
        );
        let mut resp = ui.login_page(&headers, StatusCode::TOO_MANY_REQUESTS, &next, Some(&msg));
        if let Ok(v) = wait.to_string().parse() {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return resp;
    }
    let store = ui.state.app.store.clone();
    let ttl = ui.state.app.config.server.session_ttl;
    let (n, password) = (name.clone(), form.password);
    let outcome = tokio::task::spawn_blocking(move || {
        accounts::log_in(&store, &n, &password, ttl, Utc::now())
    })
    .await;
    match outcome {
        Ok(Ok(Some(accounts::NewSession { token, user }))) => {
            ui.limiter.succeeded(&user.name);
            tracing::info!(user = %user.name, "login");
            let mut resp = Redirect::to(&next).into_response();
            let h = resp.headers_mut();
            let max_age = ttl.as_secs();
            if let Ok(v) = set_cookie(&ui, SESSION_COOKIE, &token, Some(max_age)).parse() {
                h.append(header::SET_COOKIE, v);
            }
            if let Ok(v) = set_cookie(&ui, LOGIN_COOKIE, "", Some(0)).parse() {
                h.append(header::SET_COOKIE, v);
            }
            resp
        }
        Ok(Ok(None)) => {
            ui.limiter.failed(ip, &name);
            tracing::warn!(user = %name, "failed login");
            ui.login_page(
                &headers,
                StatusCode::UNAUTHORIZED,
                &next,
                Some("Sai tên đăng nhập hoặc mật khẩu."),
            )
        }
        Ok(Err(e)) => ui.error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string(), false),
        Err(e) => ui.error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string(), false),
    }
}

pub async fn logout(State(ui): State<Ui>, headers: HeaderMap) -> Response {
    if let Some(s) = cookie(&headers, SESSION_COOKIE) {
        let store = ui.state.app.store.clone();
        let _ = tokio::task::spawn_blocking(move || accounts::log_out(&store, &s)).await;
    }
    let mut resp = Redirect::to("/login").into_response();
    if let Ok(v) = set_cookie(&ui, SESSION_COOKIE, "", Some(0)).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
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
    }

    #[test]
    fn limiter_blocks_after_repeated_failures() {
        let l = LoginLimiter::default();
        let ip: Option<IpAddr> = "10.0.0.1".parse().ok();
        let other: Option<IpAddr> = "10.0.0.2".parse().ok();
        for _ in 0..MAX_FAILURES_PER_NAME {
            assert!(l.blocked_for(ip, "lan").is_none());
            l.failed(ip, "lan");
        }
        assert!(l.blocked_for(ip, "lan").is_some());
        assert!(l.blocked_for(other, "lan").is_some(), "same name");
        assert!(
            l.blocked_for(ip, "hoa").is_none(),
            "colleagues share an address"
        );
        for i in MAX_FAILURES_PER_NAME..MAX_FAILURES_PER_ADDRESS {
            l.failed(ip, &format!("u{i}"));
        }
        assert!(l.blocked_for(ip, "hoa").is_some(), "address over its limit");
        assert!(l.blocked_for(other, "hoa").is_none());
    }
}
