//! The audit log: one row per admin action (who, what, on what, when), written by the
//! use-cases that change sources, topics, digests, accounts or the running config, and
//! shown newest first on the admin's audit page. Rows are never edited.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

use super::{Store, from_ts, ts};
use crate::error::Result;

/// One admin action.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Who did it (an account name, or `dòng lệnh` for the command line).
    pub user: String,
    /// A stable code such as `source.add`, `user.role`.
    pub action: String,
    /// What it was done to (a source id, an account name).
    pub target: String,
    /// Anything else worth keeping, in words.
    pub detail: String,
}

impl Store {
    /// Record an admin action.
    pub fn audit(
        &self,
        user: &str,
        action: &str,
        target: &str,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO audit_log (at, user_name, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![ts(now), user, action, target, detail],
        )?;
        Ok(())
    }

    /// The latest `limit` actions older than entry `before` (all when `None`), newest first.
    pub fn audit_entries(&self, limit: usize, before: Option<i64>) -> Result<Vec<AuditEntry>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, at, user_name, action, target, detail FROM audit_log
             WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![before.unwrap_or(i64::MAX), limit as i64], |r| {
            Ok(AuditEntry {
                id: r.get(0)?,
                at: from_ts(r.get(1)?),
                user: r.get(2)?,
                action: r.get(3)?,
                target: r.get(4)?,
                detail: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_newest_first_and_page_back() {
        let s = Store::open_in_memory().expect("db");
        let now = Utc::now();
        for i in 0..5 {
            s.audit("quantri", "source.add", &format!("nguon-{i}"), "", now)
                .expect("audit");
        }
        let first = s.audit_entries(2, None).expect("page");
        assert_eq!(first[0].target, "nguon-4");
        assert_eq!(first[1].target, "nguon-3");
        let next = s.audit_entries(10, Some(first[1].id)).expect("page");
        assert_eq!(next.len(), 3);
        assert_eq!(next[0].target, "nguon-2");
    }
}
