//! Accounts of the staff web app, below both faces that manage them (`gomtin users` and the
//! web login): argon2id password hashes, random 256-bit tokens kept in the store only as
//! SHA-256 hashes, and the use-cases built on them — create an account (with a set or a
//! one-time password), issue an API token, log in (a session with its CSRF token), change
//! or reset a password, resolve a session or API token to its user, log out, and the
//! first-run setup (a single-use token printed by `gomtin serve` while no account exists)
//! — and [`FormTokens`], the login form's CSRF values, which only count when this server
//! issued them. Nothing here prints or knows HTTP; the store keeps the rows.

use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::store::{FirstAdmin, Role, Store, User};

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

/// A new API token for the account `name`, labelled `label`; only its hash is kept, so
/// this is the one time it can be shown.
pub fn issue_api_token(
    store: &Store,
    name: &str,
    label: &str,
    now: DateTime<Utc>,
) -> Result<String> {
    let user = store
        .user_by_name(name)?
        .ok_or_else(|| Error::User(format!("không có tài khoản tên `{name}`")))?;
    let label = label.trim();
    if label.chars().count() > 60 {
        return Err(Error::User("tên gợi nhớ của mã API tối đa 60 ký tự".into()));
    }
    let token = random_token()?;
    store.add_api_token(user.id, &token_hash(&token), label, now)?;
    Ok(token)
}

/// A password to hand over by word of mouth: 16 letters and digits that cannot be
/// confused (no 0/O, 1/l/I), in groups of four — about 80 bits.
pub fn one_time_password() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| Error::Task(format!("không lấy được số ngẫu nhiên: {e}")))?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// Create an account with `password`, or with a one-time password (returned, to hand
/// over; the account must choose its own at first login) when it is `None`.
pub fn create_account(
    store: &Store,
    name: &str,
    role: Role,
    password: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(User, Option<String>)> {
    let generated = match password {
        Some(_) => None,
        None => Some(one_time_password()?),
    };
    let pw = password.or(generated.as_deref()).unwrap_or_default();
    ensure_name_free(store, name)?;
    check_password(pw)?;
    let hash = hash_password(pw)?;
    let mut user = store.add_user(name, role, &hash, now)?;
    if generated.is_some() {
        store.set_password(name, &hash, true, None)?;
        user.must_change_password = true;
    }
    Ok((user, generated))
}

/// Give `name` a new password — `password`, or a one-time one (returned) when `None` —
/// and end their sessions.
pub fn reset_password(store: &Store, name: &str, password: Option<&str>) -> Result<Option<String>> {
    let generated = match password {
        Some(p) => {
            check_password(p)?;
            None
        }
        None => Some(one_time_password()?),
    };
    let pw = password.or(generated.as_deref()).unwrap_or_default();
    store.set_password(name, &hash_password(pw)?, generated.is_some(), None)?;
    Ok(generated)
}

/// Someone changes their own password: the current one must match; their other
/// sessions end, the one with cookie `session` (theirs, now) stays.
pub fn change_own_password(
    store: &Store,
    name: &str,
    current: &str,
    new: &str,
    session: Option<&str>,
) -> Result<()> {
    let (_, hash, _) = store
        .user_with_hash(name)?
        .ok_or_else(|| Error::User(format!("không có tài khoản tên `{name}`")))?;
    if !verify_password(current, &hash) {
        return Err(Error::User("mật khẩu hiện tại không đúng".into()));
    }
    if current == new {
        return Err(Error::User(
            "mật khẩu mới phải khác mật khẩu hiện tại".into(),
        ));
    }
    check_password(new)?;
    let keep = session.map(token_hash);
    store.set_password(name, &hash_password(new)?, false, keep.as_deref())
}

// ---------------------------------------------------------------------------------------
// First run

/// While no account exists: a new single-use setup token (its hash replaces any older
/// one in the store); `None` once an account exists.
pub fn start_setup(store: &Store, now: DateTime<Utc>) -> Result<Option<String>> {
    if store.user_count()? > 0 {
        return Ok(None);
    }
    let token = random_token()?;
    store.set_setup_token(&token_hash(&token), now)?;
    Ok(Some(token))
}

/// True while no account exists and `token` is the live setup token.
pub fn setup_token_valid(store: &Store, token: &str) -> Result<bool> {
    store.setup_token_valid(&token_hash(token))
}

/// Create the first admin with the setup token (used up on success).
pub fn finish_setup(
    store: &Store,
    token: &str,
    name: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<FirstAdmin> {
    if !setup_token_valid(store, token)? {
        // Checked before the (slow) hashing; checked again in the transaction.
        return Ok(if store.user_count()? > 0 {
            FirstAdmin::AccountsExist
        } else {
            FirstAdmin::WrongToken
        });
    }
    check_password(password)?;
    let hash = hash_password(password)?;
    store.create_first_admin(&token_hash(token), name.trim(), &hash, now)
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
/// costs the same time as a wrong password. A disabled account with the right password
/// is told so (an [`Error::User`]).
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
        .map(|(_, h, _)| h.as_str())
        .unwrap_or(dummy_hash());
    let ok = verify_password(password, hash);
    match found {
        Some((_, _, true)) if ok => Err(Error::User(
            "tài khoản này đã bị tắt; hãy hỏi quản trị viên".into(),
        )),
        Some((user, _, false)) if ok => {
            store.stamp_login(user.id, now)?;
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
    fn one_time_passwords_are_readable_and_random() {
        let a = one_time_password().expect("a");
        assert_eq!(a.len(), 19, "{a}");
        assert_eq!(a.matches('-').count(), 3);
        assert!(!a.contains(['0', 'o', '1', 'l']), "{a}");
        assert_ne!(a, one_time_password().expect("b"));
        assert!(check_password(&a).is_ok());
    }

    #[test]
    fn accounts_from_the_web_use_one_time_passwords_and_can_change_them() {
        let store = Store::open_in_memory().expect("db");
        let now = Utc::now();
        let (u, pw) = create_account(&store, "lan", Role::Staff, None, now).expect("add");
        let pw = pw.expect("one-time password");
        let ttl = Duration::from_secs(3600);
        let s = log_in(&store, "lan", &pw, ttl, now)
            .expect("login")
            .expect("ok");
        assert!(s.user.must_change_password && u.name == "lan");
        assert!(
            change_own_password(&store, "lan", "sai-mat-khau", "mat-khau-moi-1", None).is_err()
        );
        change_own_password(&store, "lan", &pw, "mat-khau-moi-1", Some(&s.token)).expect("change");
        assert!(
            session_user(&store, &s.token, now).expect("q").is_some(),
            "own session stays"
        );
        let s2 = log_in(&store, "lan", "mat-khau-moi-1", ttl, now)
            .expect("login")
            .expect("ok");
        assert!(!s2.user.must_change_password);
        store.set_disabled("lan", true, now).expect("disable");
        assert!(
            log_in(&store, "lan", "mat-khau-moi-1", ttl, now).is_err(),
            "told it is disabled"
        );
        assert!(
            log_in(&store, "lan", "sai", ttl, now)
                .expect("login")
                .is_none()
        );
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
