//! The share ledger: who reshared which item, when, on which channel and (optionally)
//! where the reshared post lives. Undo stamps `undone_at` instead of deleting, so the
//! ledger keeps its history; only live shares count for badges and the "chưa chia sẻ" filter.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Store, User, from_ts, ts};
use crate::error::Result;

/// One live share of an item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Share {
    pub id: i64,
    pub item_id: i64,
    pub user: String,
    pub channel: String,
    pub link: Option<String>,
    pub shared_at: DateTime<Utc>,
}

/// What a person records when they mark an item shared.
#[derive(Debug, Clone, Default)]
pub struct NewShare {
    pub channel: String,
    pub link: Option<String>,
}

impl Store {
    /// Record a share by `user`.
    pub fn add_share(
        &self,
        item_id: i64,
        user: &User,
        share: &NewShare,
        now: DateTime<Utc>,
    ) -> Result<Share> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO shares (item_id, user_id, user_name, channel, link, shared_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                item_id,
                user.id,
                user.name,
                share.channel,
                share.link,
                ts(now)
            ],
        )?;
        Ok(Share {
            id: conn.last_insert_rowid(),
            item_id,
            user: user.name.clone(),
            channel: share.channel.clone(),
            link: share.link.clone(),
            shared_at: from_ts(ts(now)),
        })
    }

    /// Undo a live share of this item. Returns false when there was none to undo.
    pub fn undo_share(&self, item_id: i64, share_id: i64, now: DateTime<Utc>) -> Result<bool> {
        let n = self.conn().execute(
            "UPDATE shares SET undone_at = ?3
             WHERE id = ?1 AND item_id = ?2 AND undone_at IS NULL",
            params![share_id, item_id, ts(now)],
        )?;
        Ok(n > 0)
    }

    /// One live share.
    pub fn share(&self, share_id: i64) -> Result<Option<Share>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, item_id, user_name, channel, link, shared_at FROM shares
                 WHERE id = ?1 AND undone_at IS NULL",
                [share_id],
                share_from_row,
            )
            .optional()?)
    }

    /// Live shares of an item, newest first.
    pub fn shares_of(&self, item_id: i64) -> Result<Vec<Share>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT id, item_id, user_name, channel, link, shared_at FROM shares
             WHERE item_id = ?1 AND undone_at IS NULL ORDER BY shared_at DESC, id DESC",
        )?;
        let rows = stmt.query_map([item_id], share_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Which of these items have at least one live share.
    pub fn shared_among(&self, ids: &[i64]) -> Result<HashSet<i64>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT 1 FROM shares WHERE item_id = ?1 AND undone_at IS NULL LIMIT 1",
        )?;
        let mut out = HashSet::new();
        for id in ids {
            if stmt.query_row([id], |_| Ok(())).optional()?.is_some() {
                out.insert(*id);
            }
        }
        Ok(out)
    }

    /// Every item with a live share (for the "chưa chia sẻ" filter).
    pub fn shared_item_ids(&self) -> Result<Vec<i64>> {
        let conn = self.reader();
        let mut stmt =
            conn.prepare_cached("SELECT DISTINCT item_id FROM shares WHERE undone_at IS NULL")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

fn share_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Share> {
    Ok(Share {
        id: r.get(0)?,
        item_id: r.get(1)?,
        user: r.get(2)?,
        channel: r.get(3)?,
        link: r.get(4)?,
        shared_at: from_ts(r.get(5)?),
    })
}
