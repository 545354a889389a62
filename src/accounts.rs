//! Accounts of the staff web app, below both faces that manage them (`gomtin users` and the
//! web login): argon2id password hashes, random 256-bit tokens kept in the store only as
//! SHA-256 hashes, and the use-cases built on them — create an account, issue an API
//! token, log in (a session with its CSRF token), resolve a session or API token to its
//! user, log out — and [`FormTokens`], the login form's CSRF values, which only count
//! when this server issued them. Nothing here prints or knows HTTP; the store keeps the rows.

use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::store::{Role, Store, User};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

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
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A constant hash to verify against when the user does not exist (same timing).
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("không-có-tài-khoản-này").unwrap_or_default())
}

// ---------------------------------------------------------------------------------------
// Creating accounts and tokens

/// A role named as on the command line (`staff`, `admin`).
pub fn parse_role(role: &str) -> Result<Role> {
    Role::parse(role).ok_or_else(|| Error::User(format!("vai trò `{role}` không hợp lệ")))
}

/// Refuse a name that an account already has (checked before asking for a password).
pub fn ensure_name_free(store: &Store, name: &str) -> Result<()> {
    if crate::store::valid_user_name(name) && store.user_by_name(name)?.is_some() {
        return Err(Error::User(format!("đã có tài khoản tên `{name}`")));
    }
    Ok(())
}

/// The rules a new password must meet.
pub fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::User(format!(
            "mật khẩu cần ít nhất {MIN_PASSWORD_CHARS} ký tự"
        )));
    }
    Ok(())
}

/// Create an account: a free name, a password that meets the rules, stored hashed.
pub fn add_user(
    store: &Store,
    name: &str,
    role: Role,
    password: &str,
    now: DateTime<Utc>,
) -> Result<User> {
    ensure_name_free(store, name)?;
    check_password(password)?;
    let hash = hash_password(password)?;
    store.add_user(name, role, &hash, now)
}

/// A new API token for the account `name`; only its hash is kept, so this is the one
/// time it can be shown.
pub fn issue_api_token(store: &Store, name: &str, now: DateTime<Utc>) -> Result<String> {
    let user = store
        .user_by_name(name)?
        .ok_or_else(|| Error::User(format!("không có tài khoản tên `{name}`")))?;
    let token = random_token()?;
    store.add_api_token(user.id, &token_hash(&token), now)?;
    Ok(token)
}

// ---------------------------------------------------------------------------------------
// Sessions

/// A session opened by a successful login.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The secret for the session cookie (stored only as its hash).
    pub token: String,
    pub user: User,
}

/// Check a name and password; on success open a session lasting `ttl`. A wrong name
/// costs the same time as a wrong password.
pub fn log_in(
    store: &Store,
    name: &str,
    password: &str,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<Option<NewSession>> {
    let found = store.user_with_hash(name)?;
    let hash = found
        .as_ref()
        .map(|(_, h)| h.as_str())
        .unwrap_or(dummy_hash());
    let ok = verify_password(password, hash);
    match found {
        Some((user, _)) if ok => {
            let token = random_token()?;
            let csrf = random_token()?;
            let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(12));
            store.create_session(user.id, &token_hash(&token), &csrf, now, now + ttl)?;
            Ok(Some(NewSession { token, user }))
        }
        _ => Ok(None),
    }
}

/// The user of a live session and the session's CSRF token.
pub fn session_user(
    store: &Store,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<(User, String)>> {
    store.session(&token_hash(token), now)
}

/// The user an API token belongs to.
pub fn api_token_user(store: &Store, token: &str, now: DateTime<Utc>) -> Result<Option<User>> {
    store.user_by_api_token(&token_hash(token), now)
}

/// End a session.
pub fn log_out(store: &Store, token: &str) -> Result<()> {
    store.delete_session(&token_hash(token))
}

/// The login form's CSRF values (double submit: a cookie and a form field that must
/// agree). A value counts only when this process issued it, and for
/// [`FormTokens::MAX_AGE`]: `{issued}.{nonce}.{mac}`, the MAC an HMAC-SHA256 under a key
/// drawn at start. So a value an attacker planted in a cookie (and copied into the form)
/// is refused; after a restart an open login form is simply asked to be sent again.
pub struct FormTokens {
    key: [u8; 32],
}

impl FormTokens {
    /// Seconds a login form stays valid (the cookie's Max-Age).
    pub const MAX_AGE: i64 = 3600;

    /// Tokens under a fresh random key.
    pub fn new() -> Result<FormTokens> {
        let mut key = [0u8; 32];
        getrandom::getrandom(&mut key)
            .map_err(|e| Error::Task(format!("không lấy được số ngẫu nhiên: {e}")))?;
        Ok(FormTokens { key })
    }

    /// Tokens under the key hashed from `seed` (when the system has no randomness to
    /// give: the seed should still be hard to guess).
    pub fn from_seed(seed: &[u8]) -> FormTokens {
        FormTokens {
            key: Sha256::digest(seed).into(),
        }
    }

    /// A new value, issued at `now`.
    pub fn issue(&self, now: DateTime<Utc>) -> Result<String> {
        let payload = format!("{}.{}", now.timestamp(), &random_token()?[..32]);
        Ok(format!("{payload}.{}", hex(&self.mac(payload.as_bytes()))))
    }

    /// True when `token` was issued by this process less than `MAX_AGE` ago.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> bool {
        let Some((payload, mac)) = token.rsplit_once('.') else {
            return false;
        };
        let Some(issued) = payload
            .split_once('.')
            .and_then(|(t, _)| t.parse::<i64>().ok())
        else {
            return false;
        };
        let age = now.timestamp() - issued;
        (0..=Self::MAX_AGE).contains(&age) && same_secret(mac, &hex(&self.mac(payload.as_bytes())))
    }

    /// HMAC-SHA256 (RFC 2104) of `message` under the key.
    fn mac(&self, message: &[u8]) -> [u8; 32] {
        let (mut inner, mut outer) = (Sha256::new(), Sha256::new());
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&self.key);
        inner.update(block.map(|b| b ^ 0x36));
        inner.update(message);
        outer.update(block.map(|b| b ^ 0x5c));
        outer.update(inner.finalize());
        outer.finalize().into()
    }
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
    fn secrets_compare_by_every_byte() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_password("1234567").is_err());
        assert!(check_password("12345678").is_ok());
        assert!(check_password("mật khẩu").is_ok(), "counted in characters");
    }

    #[test]
    fn form_tokens_count_only_when_issued_here_and_recent() {
        let now = Utc::now();
        let tokens = FormTokens::new().expect("key");
        let t = tokens.issue(now).expect("token");
        assert!(tokens.verify(&t, now));
        assert!(tokens.verify(&t, now + chrono::Duration::seconds(FormTokens::MAX_AGE)));
        assert!(!tokens.verify(&t, now + chrono::Duration::seconds(FormTokens::MAX_AGE + 1)));
        assert!(
            !FormTokens::new().expect("other key").verify(&t, now),
            "another server's"
        );
        let forged = format!("{}0", &t[..t.len() - 1]);
        assert!(!tokens.verify(&forged, now) || t.ends_with('0'));
        for junk in ["", "abc", "1.2.3", &"a".repeat(64), "x.y.z"] {
            assert!(!tokens.verify(junk, now), "{junk}");
        }
        // The RFC 4231 test case 2 shape: a known HMAC-SHA256 value.
        let mut known = FormTokens { key: [0u8; 32] };
        known.key[..4].copy_from_slice(b"Jefe");
        assert_eq!(
            hex(&known.mac(b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
