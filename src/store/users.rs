//! Accounts in SQLite: users with their role and argon2id password hash (hashing itself
//! lives in `accounts`), browser sessions keyed by the SHA-256 of their cookie token and
//! carrying the session's CSRF token, and API tokens (also stored only as hashes).

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
}

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
        })
    }

    /// The account with this name and its password hash.
    pub fn user_with_hash(&self, name: &str) -> Result<Option<(User, String)>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, name, role, created_at, password_hash FROM users WHERE name = ?1",
                [name],
                |r| Ok((user_from_row(r)?, r.get(4)?)),
            )
            .optional()?)
    }

    /// The account with this name.
    pub fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        Ok(self.user_with_hash(name)?.map(|(u, _)| u))
    }

    /// Every account, oldest first.
    pub fn users(&self) -> Result<Vec<User>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT id, name, role, created_at FROM users ORDER BY id")?;
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
                "SELECT u.id, u.name, u.role, u.created_at, s.csrf FROM sessions s
                 JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2",
                params![token_hash, ts(now)],
                |r| Ok((user_from_row(r)?, r.get(4)?)),
            )
            .optional()?)
    }

    /// End a session (logout).
    pub fn delete_session(&self, token_hash: &str) -> Result<()> {
        self.conn()
            .execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
        Ok(())
    }

    /// Record a new API token for a user (only its hash).
    pub fn add_api_token(&self, user_id: i64, token_hash: &str, now: DateTime<Utc>) -> Result<()> {
        self.conn().execute(
            "INSERT INTO api_tokens (token_hash, user_id, created_at) VALUES (?1, ?2, ?3)",
            params![token_hash, user_id, ts(now)],
        )?;
        Ok(())
    }

    /// The owner of an API token, stamping its last use.
    pub fn user_by_api_token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<User>> {
        let conn = self.conn();
        let user = conn
            .query_row(
                "SELECT u.id, u.name, u.role, u.created_at FROM api_tokens t
                 JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?1",
                [token_hash],
                user_from_row,
            )
            .optional()?;
        if user.is_some() {
            conn.execute(
                "UPDATE api_tokens SET last_used_at = ?2 WHERE token_hash = ?1",
                params![token_hash, ts(now)],
            )?;
        }
        Ok(user)
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
        let (found, hash) = s.user_with_hash("lan").expect("q").expect("found");
        assert_eq!((found.id, hash.as_str()), (u.id, "HASH"));

        let later = now + chrono::Duration::hours(1);
        s.create_session(u.id, "sess", "csrf1", now, later)
            .expect("session");
        let (su, csrf) = s.session("sess", now).expect("q").expect("live");
        assert_eq!((su.name.as_str(), csrf.as_str()), ("lan", "csrf1"));
        assert!(s.session("sess", later).expect("q").is_none(), "expired");
        s.delete_session("sess").expect("logout");
        assert!(s.session("sess", now).expect("q").is_none());

        s.add_api_token(u.id, "tok", now).expect("token");
        assert_eq!(
            s.user_by_api_token("tok", now).expect("q").map(|u| u.name),
            Some("lan".to_string())
        );
        assert!(s.user_by_api_token("other", now).expect("q").is_none());
    }
}
