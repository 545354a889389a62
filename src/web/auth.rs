//! Accounts and access control for the web layer. It sits between the router and every
//! page or API handler: `require_login` turns a session cookie or an `Authorization:
//! Bearer` token into an [`Identity`], answers 401 (with the login page for browsers)
//! when there is none, and refuses any state-changing request whose CSRF token does not
//! match the session's (403). Passwords are argon2id hashes; session and API tokens are
//! random 256-bit values stored only as SHA-256 hashes. The login form is rate-limited per
//! client address and per user name. The `gomtin users …` commands live here too, since
//! they share the hashing and token code.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use clap::Subcommand;
use sha2::{Digest, Sha256};

use super::ui::Ui;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::{Role, Store, User};

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
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Who is making a request, and how they proved it.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user: User,
    /// The session's CSRF token (None for bearer-token requests, which carry no cookie).
    pub csrf: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Secrets

/// 32 random bytes from the operating system, as lowercase hex.
pub fn random_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| Error::Task(format!("không lấy được số ngẫu nhiên: {e}")))?;
    Ok(hex(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How a token is stored: SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// An argon2id hash (PHC string) of a password.
pub fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt)
        .map_err(|e| Error::Task(format!("không lấy được số ngẫu nhiên: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Task(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Task(format!("không băm được mật khẩu: {e}")))
}

/// True when `password` matches the stored PHC string.
pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Compare two secrets without an early exit.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// ---------------------------------------------------------------------------------------
// `gomtin users`

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Tạo tài khoản (mật khẩu hỏi trên terminal, hoặc đọc từ stdin với --password-stdin)
    Add {
        /// Tên đăng nhập
        name: String,
        /// Vai trò: staff (tìm, chia sẻ) hoặc admin (thêm: quản lý nguồn, tài khoản)
        #[arg(long, value_parser = ["staff", "admin"])]
        role: String,
        /// Đọc mật khẩu từ dòng đầu của đầu vào chuẩn
        #[arg(long)]
        password_stdin: bool,
    },
    /// In một mã API mới cho tài khoản (dùng: Authorization: Bearer MÃ)
    Token {
        /// Tên đăng nhập
        name: String,
    },
    /// Liệt kê tài khoản
    List,
}

/// Run `gomtin users …`. Works while `gomtin serve` runs (SQLite only, no data lock).
pub fn run_users_command(config: &Config, cmd: UsersCommand) -> Result<crate::cli::Exit> {
    let store = Store::open(&config.data_dir())?;
    match cmd {
        UsersCommand::Add {
            name,
            role,
            password_stdin,
        } => {
            let role = Role::parse(&role)
                .ok_or_else(|| Error::User(format!("vai trò `{role}` không hợp lệ")))?;
            if crate::store::valid_user_name(&name) && store.user_by_name(&name)?.is_some() {
                return Err(Error::User(format!("đã có tài khoản tên `{name}`")));
            }
            let password = read_password(password_stdin)?;
            let hash = hash_password(&password)?;
            let user = store.add_user(&name, role, &hash, Utc::now())?;
            println!(
                "Đã tạo tài khoản `{}` (vai trò {}).",
                user.name,
                user.role.as_str()
            );
        }
        UsersCommand::Token { name } => {
            let user = store
                .user_by_name(&name)?
                .ok_or_else(|| Error::User(format!("không có tài khoản tên `{name}`")))?;
            let token = random_token()?;
            store.add_api_token(user.id, &token_hash(&token), Utc::now())?;
            println!("{token}");
        }
        UsersCommand::List => {
            for u in store.users()? {
                println!(
                    "{}\t{}\t{}",
                    u.name,
                    u.role.as_str(),
                    u.created_at.format("%Y-%m-%d")
                );
            }
        }
    }
    Ok(crate::cli::Exit::Ok)
}

fn read_password(from_stdin: bool) -> Result<String> {
    use std::io::{BufRead, IsTerminal};
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Error::User(format!("không đọc được mật khẩu từ stdin: {e}")))?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Mật khẩu: ")
            .map_err(|e| Error::User(format!("không đọc được mật khẩu: {e}")))?;
        let again = rpassword::prompt_password("Nhập lại mật khẩu: ")
            .map_err(|e| Error::User(format!("không đọc được mật khẩu: {e}")))?;
        if first != again {
            return Err(Error::User("hai lần nhập mật khẩu không khớp".into()));
        }
        first
    } else {
        return Err(Error::User(
            "stdin không phải terminal: dùng --password-stdin để đọc mật khẩu từ stdin".into(),
        ));
    };
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::User(format!(
            "mật khẩu cần ít nhất {MIN_PASSWORD_CHARS} ký tự"
        )));
    }
    Ok(password)
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
            return Ok(store
                .user_by_api_token(&token_hash(&t), now)?
                .map(|user| Identity { user, csrf: None }));
        }
        if let Some(s) = session {
            return Ok(store
                .session(&token_hash(&s), now)?
                .map(|(user, csrf)| Identity {
                    user,
                    csrf: Some(csrf),
                }));
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

/// A constant hash to verify against when the user does not exist (same timing).
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("không-có-tài-khoản-này").unwrap_or_default())
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
    let outcome = tokio::task::spawn_blocking(move || -> Result<Option<(String, User)>> {
        let found = store.user_with_hash(&n)?;
        let hash = found
            .as_ref()
            .map(|(_, h)| h.as_str())
            .unwrap_or(dummy_hash());
        let ok = verify_password(&password, hash);
        match found {
            Some((user, _)) if ok => {
                let token = random_token()?;
                let csrf = random_token()?;
                let now = Utc::now();
                let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(12));
                store.create_session(user.id, &token_hash(&token), &csrf, now, now + ttl)?;
                Ok(Some((token, user)))
            }
            _ => Ok(None),
        }
    })
    .await;
    match outcome {
        Ok(Ok(Some((token, user)))) => {
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
        let _ = tokio::task::spawn_blocking(move || store.delete_session(&token_hash(&s))).await;
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
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("mật khẩu dài").expect("hash");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("mật khẩu dài", &h));
        assert!(!verify_password("mat khau dai", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (random_token().expect("a"), random_token().expect("b"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }

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
