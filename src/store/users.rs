//! Accounts in SQLite: users with their role and argon2id password hash (hashing itself
//! lives in `accounts`), browser sessions keyed by the SHA-256 of their cookie token and
//! carrying the session's CSRF token, and API tokens (also stored only as hashes). A
//! disabled account keeps its rows but no session or token of it works. The last active
//! admin can be neither demoted, disabled nor removed: each of those checks it in the same
//! transaction as the change. The first-run setup token (its hash) lives here too.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Store, from_ts, ts};
use crate::error::{Error, Result};

/// What a user may do: staff search and share; admins also run sources and accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Staff,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "staff" => Some(Role::Staff),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// One account, without its password hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    /// Logged in with a one-time password: must choose their own before anything else.
    pub must_change_password: bool,
}

/// The columns `user_from_row` reads, in its order.
/// Seconds between two stamps of an API token's last use.
pub const TOKEN_STAMP_SECS: i64 = 60;

const USER_COLUMNS: &str = "u.id, u.name, u.role, u.created_at, u.must_change_password";

impl User {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(2)?;
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&role).unwrap_or(Role::Staff),
        created_at: from_ts(r.get(3)?),
        must_change_password: r.get::<_, i64>(4)? != 0,
    })
}

/// A user name: 1–64 characters, letters, digits, `.`, `_`, `-`.
pub fn valid_user_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

impl Store {
    /// Create an account. The name must be new.
    pub fn add_user(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<User> {
        if !valid_user_name(name) {
            return Err(Error::User(format!(
                "tên `{name}` không hợp lệ: dùng chữ, số, '.', '_' hoặc '-', tối đa 64 ký tự"
            )));
        }
        if self.user_by_name(name)?.is_some() {
            return Err(Error::User(format!("đã có tài khoản tên `{name}`")));
        }
        let conn = self.conn();
        conn.execute(
            "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![name, role.as_str(), password_hash, ts(now)],
        )?;
        Ok(User {
            id: conn.last_insert_rowid(),
            name: name.to_string(),
            role,
            created_at: from_ts(ts(now)),
            must_change_password: false,
        })
    }

    /// The account with this name, its password hash, and whether it is disabled.
    pub fn user_with_hash(&self, name: &str) -> Result<Option<(User, String, bool)>> {
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {USER_COLUMNS}, u.password_hash, u.disabled_at IS NOT NULL
                     FROM users u WHERE u.name = ?1"
                ),
                [name],
                |r| Ok((user_from_row(r)?, r.get(5)?, r.get(6)?)),
            )
            .optional()?)
    }

    /// The account with this name.
    pub fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        Ok(self.user_with_hash(name)?.map(|(u, _, _)| u))
    }

    /// Every account, oldest first.
    pub fn users(&self) -> Result<Vec<User>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare(&format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.id"))?;
        let rows = stmt.query_map([], user_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Open a browser session (only the token's hash is stored).
    pub fn create_session(
        &self,
        user_id: i64,
        token_hash: &str,
        csrf: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let conn = self.conn();
        conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [ts(now)])?;
        conn.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token_hash, user_id, csrf, ts(now), ts(expires_at)],
        )?;
        Ok(())
    }

    /// The user and CSRF token of a live session.
    pub fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<(User, String)>> {
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {USER_COLUMNS}, s.csrf FROM sessions s
                     JOIN users u ON u.id = s.user_id
                     WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND u.disabled_at IS NULL"
                ),
                params![token_hash, ts(now)],
                |r| Ok((user_from_row(r)?, r.get(5)?)),
            )
            .optional()?)
    }

    /// End a session (logout).
    pub fn delete_session(&self, token_hash: &str) -> Result<()> {
        self.conn()
            .execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
        Ok(())
    }

    /// Record a new API token for a user (only its hash), with a label to recognise it by.
    pub fn add_api_token(
        &self,
        user_id: i64,
        token_hash: &str,
        label: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO api_tokens (token_hash, user_id, created_at, label) VALUES (?1, ?2, ?3, ?4)",
            params![token_hash, user_id, ts(now), label],
        )?;
        Ok(())
    }

    /// The owner of an API token, stamping its last use — at most once a
    /// [`TOKEN_STAMP_SECS`]: a script asking many times a second reads the database, it
    /// does not write to it on every request.
    pub fn user_by_api_token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<User>> {
        let found = self
            .reader()
            .query_row(
                &format!(
                    "SELECT {USER_COLUMNS}, t.last_used_at FROM api_tokens t
                     JOIN users u ON u.id = t.user_id
                     WHERE t.token_hash = ?1 AND u.disabled_at IS NULL"
                ),
                [token_hash],
                |r| Ok((user_from_row(r)?, r.get::<_, Option<i64>>(5)?)),
            )
            .optional()?;
        let Some((user, last_used)) = found else {
            return Ok(None);
        };
        if last_used.is_none_or(|t| ts(now) - t >= TOKEN_STAMP_SECS) {
            self.conn().execute(
                "UPDATE api_tokens SET last_used_at = ?2 WHERE token_hash = ?1",
                params![token_hash, ts(now)],
            )?;
        }
        Ok(Some(user))
    }
}

/// An account as the admin's list shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account {
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub disabled: bool,
    pub must_change_password: bool,
    pub tokens: Vec<TokenInfo>,
}

/// An API token as its owner and the admins see it (never the secret).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenInfo {
    /// The first characters of the token's hash: enough to name it, nothing to use.
    pub id: String,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// Length of a token's public id (hex characters of its hash).
const TOKEN_ID_CHARS: usize = 12;

/// What the first-run setup did.
#[derive(Debug, Clone, PartialEq)]
pub enum FirstAdmin {
    Created(User),
    /// An account exists already: setup is over.
    AccountsExist,
    /// The token is not the live setup token.
    WrongToken,
}

fn last_admin() -> Error {
    Error::Conflict(
        "đây là quản trị viên cuối cùng còn hoạt động: hãy cho một tài khoản khác làm quản trị viên trước"
            .into(),
    )
}

fn no_user(name: &str) -> Error {
    Error::User(format!("không có tài khoản tên `{name}`"))
}

impl Store {
    /// How many accounts exist (disabled ones too).
    pub fn user_count(&self) -> Result<i64> {
        Ok(self
            .conn()
            .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?)
    }

    /// Every account with its tokens, oldest first.
    pub fn accounts(&self) -> Result<Vec<Account>> {
        let conn = self.reader();
        let mut stmt = conn.prepare(
            "SELECT id, name, role, created_at, last_login_at, disabled_at IS NOT NULL,
                    must_change_password FROM users ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            let role: String = r.get(2)?;
            Ok((
                r.get::<_, i64>(0)?,
                Account {
                    name: r.get(1)?,
                    role: Role::parse(&role).unwrap_or(Role::Staff),
                    created_at: from_ts(r.get(3)?),
                    last_login_at: r.get::<_, Option<i64>>(4)?.map(from_ts),
                    disabled: r.get(5)?,
                    must_change_password: r.get::<_, i64>(6)? != 0,
                    tokens: Vec::new(),
                },
            ))
        })?;
        let mut out = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        drop(stmt);
        let mut tokens = conn.prepare(
            "SELECT substr(token_hash, 1, ?2), label, created_at, last_used_at FROM api_tokens
             WHERE user_id = ?1 ORDER BY created_at, token_hash",
        )?;
        for (id, account) in &mut out {
            let rows = tokens.query_map(params![*id, TOKEN_ID_CHARS as i64], |r| {
                Ok(TokenInfo {
                    id: r.get(0)?,
                    label: r.get(1)?,
                    created_at: from_ts(r.get(2)?),
                    last_used_at: r.get::<_, Option<i64>>(3)?.map(from_ts),
                })
            })?;
            account.tokens = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        }
        Ok(out.into_iter().map(|(_, a)| a).collect())
    }

    /// The account `name` as the admin's list shows it.
    pub fn account(&self, name: &str) -> Result<Option<Account>> {
        Ok(self.accounts()?.into_iter().find(|a| a.name == name))
    }

    /// Stamp a successful login.
    pub fn stamp_login(&self, user_id: i64, now: DateTime<Utc>) -> Result<()> {
        self.conn().execute(
            "UPDATE users SET last_login_at = ?2 WHERE id = ?1",
            params![user_id, ts(now)],
        )?;
        Ok(())
    }

    /// Active admins other than `name`.
    fn other_admins(tx: &rusqlite::Transaction<'_>, name: &str) -> Result<i64> {
        Ok(tx.query_row(
            "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL AND name <> ?1",
            [name],
            |r| r.get(0),
        )?)
    }

    fn role_and_state(tx: &rusqlite::Transaction<'_>, name: &str) -> Result<(Role, bool)> {
        let row: Option<(String, bool)> = tx
            .query_row(
                "SELECT role, disabled_at IS NOT NULL FROM users WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (role, disabled) = row.ok_or_else(|| no_user(name))?;
        Ok((Role::parse(&role).unwrap_or(Role::Staff), disabled))
    }

    /// Change an account's role; the last active admin cannot become staff.
    pub fn set_role(&self, name: &str, role: Role) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (current, disabled) = Self::role_and_state(&tx, name)?;
        if current == Role::Admin
            && role != Role::Admin
            && !disabled
            && Self::other_admins(&tx, name)? == 0
        {
            return Err(last_admin());
        }
        tx.execute(
            "UPDATE users SET role = ?2 WHERE name = ?1",
            params![name, role.as_str()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Disable (ending its sessions) or enable an account; the last active admin cannot be
    /// disabled.
    pub fn set_disabled(&self, name: &str, disabled: bool, now: DateTime<Utc>) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (role, was) = Self::role_and_state(&tx, name)?;
        if disabled && !was && role == Role::Admin && Self::other_admins(&tx, name)? == 0 {
            return Err(last_admin());
        }
        tx.execute(
            "UPDATE users SET disabled_at = ?2 WHERE name = ?1",
            params![name, disabled.then(|| ts(now))],
        )?;
        if disabled {
            tx.execute(
                "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = ?1)",
                [name],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Remove an account (its sessions and tokens go with it; its shares keep its name);
    /// the last active admin cannot be removed.
    pub fn delete_user(&self, name: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (role, disabled) = Self::role_and_state(&tx, name)?;
        if role == Role::Admin && !disabled && Self::other_admins(&tx, name)? == 0 {
            return Err(last_admin());
        }
        tx.execute("DELETE FROM users WHERE name = ?1", [name])?;
        tx.commit()?;
        Ok(())
    }

    /// Set an account's password hash (and whether it is a one-time password) and end its
    /// sessions, except the one whose token hash is `keep`.
    pub fn set_password(
        &self,
        name: &str,
        password_hash: &str,
        one_time: bool,
        keep: Option<&str>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE users SET password_hash = ?2, must_change_password = ?3 WHERE name = ?1",
            params![name, password_hash, one_time as i64],
        )?;
        if n == 0 {
            return Err(no_user(name));
        }
        tx.execute(
            "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = ?1)
               AND token_hash <> ?2",
            params![name, keep.unwrap_or("")],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Revoke the token of `user_id` named `id` (its public id); false when there is none.
    pub fn revoke_api_token(&self, user_id: i64, id: &str) -> Result<bool> {
        if id.len() != TOKEN_ID_CHARS || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(false);
        }
        let n = self.conn().execute(
            "DELETE FROM api_tokens WHERE user_id = ?1 AND substr(token_hash, 1, ?3) = ?2",
            params![user_id, id, TOKEN_ID_CHARS as i64],
        )?;
        Ok(n > 0)
    }

    /// Revoke every token of `user_id`; how many there were.
    pub fn revoke_api_tokens(&self, user_id: i64) -> Result<usize> {
        Ok(self
            .conn()
            .execute("DELETE FROM api_tokens WHERE user_id = ?1", [user_id])?)
    }

    /// Make `token_hash` the one live setup token (replacing any older one).
    pub fn set_setup_token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<()> {
        self.conn().execute(
            "INSERT INTO setup_token (id, token_hash, created_at) VALUES (1, ?1, ?2)
             ON CONFLICT(id) DO UPDATE SET token_hash = excluded.token_hash,
                created_at = excluded.created_at",
            params![token_hash, ts(now)],
        )?;
        Ok(())
    }

    /// True while no account exists and `token_hash` is the live setup token.
    pub fn setup_token_valid(&self, token_hash: &str) -> Result<bool> {
        let conn = self.conn();
        // Hashes of 256-bit random tokens: comparing them in SQL leaks nothing useful.
        Ok(conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM setup_token WHERE token_hash = ?1)
                AND NOT EXISTS (SELECT 1 FROM users)",
            [token_hash],
            |r| r.get(0),
        )?)
    }

    /// The first-run setup: in one transaction, while no account exists and the token is
    /// the live one, create admin `name` and use the token up.
    pub fn create_first_admin(
        &self,
        token_hash: &str,
        name: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<FirstAdmin> {
        if !valid_user_name(name) {
            return Err(Error::User(format!(
                "tên `{name}` không hợp lệ: dùng chữ, số, '.', '_' hoặc '-', tối đa 64 ký tự"
            )));
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let users: i64 = tx.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?;
        if users > 0 {
            return Ok(FirstAdmin::AccountsExist);
        }
        let live: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM setup_token WHERE token_hash = ?1)",
            [token_hash],
            |r| r.get(0),
        )?;
        if !live {
            return Ok(FirstAdmin::WrongToken);
        }
        tx.execute(
            "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, 'admin', ?2, ?3)",
            params![name, password_hash, ts(now)],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute("DELETE FROM setup_token", [])?;
        tx.commit()?;
        Ok(FirstAdmin::Created(User {
            id,
            name: name.to_string(),
            role: Role::Admin,
            created_at: from_ts(ts(now)),
            must_change_password: false,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_sessions_and_tokens_round_trip() {
        let s = Store::open_in_memory().expect("db");
        let now = Utc::now();
        let u = s.add_user("lan", Role::Staff, "HASH", now).expect("add");
        assert!(s.add_user("lan", Role::Admin, "X", now).is_err());
        assert!(s.add_user("bad name", Role::Admin, "X", now).is_err());
        let (found, hash, _) = s.user_with_hash("lan").expect("q").expect("found");
        assert_eq!((found.id, hash.as_str()), (u.id, "HASH"));

        let later = now + chrono::Duration::hours(1);
        s.create_session(u.id, "sess", "csrf1", now, later)
            .expect("session");
        let (su, csrf) = s.session("sess", now).expect("q").expect("live");
        assert_eq!((su.name.as_str(), csrf.as_str()), ("lan", "csrf1"));
        assert!(s.session("sess", later).expect("q").is_none(), "expired");
        s.delete_session("sess").expect("logout");
        assert!(s.session("sess", now).expect("q").is_none());

        s.add_api_token(u.id, "tok", "", now).expect("token");
        assert_eq!(
            s.user_by_api_token("tok", now).expect("q").map(|u| u.name),
            Some("lan".to_string())
        );
        assert!(s.user_by_api_token("other", now).expect("q").is_none());
    }

    /// A token's last use is stamped on its first use and then at most once a minute,
    /// so a script asking many times a second does not write on every request.
    #[test]
    fn a_tokens_use_is_stamped_at_most_once_a_minute() {
        let s = Store::open_in_memory().expect("db");
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        let u = s.add_user("lan", Role::Staff, "H", t0).expect("staff");
        s.add_api_token(u.id, "abcdef0123456789", "", t0)
            .expect("token");
        let last_used = || {
            s.account("lan").expect("q").expect("lan").tokens[0]
                .last_used_at
                .map(|t| t.timestamp())
        };
        assert_eq!(last_used(), None);
        let at = |secs: i64| {
            let now = t0 + chrono::Duration::seconds(secs);
            assert!(
                s.user_by_api_token("abcdef0123456789", now)
                    .expect("q")
                    .is_some()
            );
        };
        at(5);
        assert_eq!(last_used(), Some(t0.timestamp() + 5));
        at(30);
        at(64);
        assert_eq!(last_used(), Some(t0.timestamp() + 5), "within the minute");
        at(65);
        assert_eq!(last_used(), Some(t0.timestamp() + 65));
    }

    #[test]
    fn the_last_active_admin_stays() {
        let s = Store::open_in_memory().expect("db");
        let now = Utc::now();
        s.add_user("an", Role::Admin, "H", now).expect("admin");
        s.add_user("lan", Role::Staff, "H", now).expect("staff");
        assert!(
            s.set_role("an", Role::Staff).is_err(),
            "demote the last admin"
        );
        assert!(
            s.set_disabled("an", true, now).is_err(),
            "disable the last admin"
        );
        assert!(s.delete_user("an").is_err(), "remove the last admin");
        s.set_role("lan", Role::Admin).expect("a second admin");
        s.set_role("an", Role::Staff).expect("now an may step down");
        assert!(s.delete_user("lan").is_err(), "lan is the last admin now");
        s.set_disabled("an", true, now)
            .expect("staff can be disabled");
        assert_eq!(s.accounts().expect("list").len(), 2);
    }

    #[test]
    fn a_disabled_account_has_no_session_or_token() {
        let s = Store::open_in_memory().expect("db");
        let now = Utc::now();
        s.add_user("an", Role::Admin, "H", now).expect("admin");
        let u = s.add_user("lan", Role::Staff, "H", now).expect("staff");
        s.create_session(u.id, "sess", "c", now, now + chrono::Duration::hours(1))
            .expect("session");
        s.add_api_token(u.id, "abcdef0123456789", "máy in", now)
            .expect("token");
        s.set_disabled("lan", true, now).expect("disable");
        assert!(s.session("sess", now).expect("q").is_none());
        assert!(
            s.user_by_api_token("abcdef0123456789", now)
                .expect("q")
                .is_none()
        );
        s.set_disabled("lan", false, now).expect("enable");
        assert!(
            s.user_by_api_token("abcdef0123456789", now)
                .expect("q")
                .is_some()
        );
        let tokens = &s.account("lan").expect("q").expect("lan").tokens;
        assert_eq!(tokens[0].id, "abcdef012345");
        assert_eq!(tokens[0].label, "máy in");
        assert!(s.revoke_api_token(u.id, "abcdef012345").expect("revoke"));
        assert!(
            s.user_by_api_token("abcdef0123456789", now)
                .expect("q")
                .is_none()
        );
    }

    #[test]
    fn the_setup_token_works_once_and_only_before_any_account() {
        let s = Store::open_in_memory().expect("db");
        let now = Utc::now();
        s.set_setup_token("good", now).expect("token");
        assert!(s.setup_token_valid("good").expect("q"));
        assert!(!s.setup_token_valid("bad").expect("q"));
        assert_eq!(
            s.create_first_admin("bad", "an", "H", now).expect("setup"),
            FirstAdmin::WrongToken
        );
        assert_eq!(s.user_count().expect("n"), 0);
        assert!(matches!(
            s.create_first_admin("good", "an", "H", now).expect("setup"),
            FirstAdmin::Created(u) if u.is_admin()
        ));
        assert_eq!(
            s.create_first_admin("good", "binh", "H", now)
                .expect("setup"),
            FirstAdmin::AccountsExist
        );
        assert!(!s.setup_token_valid("good").expect("q"));
        assert_eq!(s.user_count().expect("n"), 1);
    }
}
