//! What each staff member keeps and where they left off: items saved for later ("Lưu")
//! and the visits behind "Tin mới" (what arrived since the previous visit). A visit is a
//! run of views of "Tin mới" with less than [`VISIT_GAP_SECS`] between them, so reloading
//! the page within a visit keeps showing the same news.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::items::{ITEM_COLUMNS, item_from_row};
use super::{Store, from_ts, ts};
use crate::error::Result;
use crate::model::Item;

/// Views further apart than this start a new visit.
pub const VISIT_GAP_SECS: i64 = 30 * 60;
/// A first visit shows what arrived in the last day.
const FIRST_VISIT_SECS: i64 = 24 * 3600;

/// A saved item with when it was saved.
#[derive(Debug, Clone)]
pub struct SavedItem {
    pub item: Item,
    pub saved_at: DateTime<Utc>,
}

impl Store {
    /// Save (`true`) or unsave item `item_id` for user `user_id`.
    pub fn set_saved(
        &self,
        user_id: i64,
        item_id: i64,
        saved: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let conn = self.conn();
        if saved {
            conn.execute(
                "INSERT OR IGNORE INTO saved_items (user_id, item_id, saved_at) VALUES (?1, ?2, ?3)",
                params![user_id, item_id, ts(now)],
            )?;
        } else {
            conn.execute(
                "DELETE FROM saved_items WHERE user_id = ?1 AND item_id = ?2",
                params![user_id, item_id],
            )?;
        }
        Ok(())
    }

    /// Which of these items user `user_id` has saved.
    pub fn saved_among(&self, user_id: i64, ids: &[i64]) -> Result<std::collections::HashSet<i64>> {
        let conn = self.reader();
        let mut stmt =
            conn.prepare_cached("SELECT 1 FROM saved_items WHERE user_id = ?1 AND item_id = ?2")?;
        let mut out = std::collections::HashSet::new();
        for &id in ids {
            if stmt.exists(params![user_id, id])? {
                out.insert(id);
            }
        }
        Ok(out)
    }

    /// User `user_id`'s saved items, last saved first.
    pub fn saved_items(&self, user_id: i64, limit: usize) -> Result<Vec<SavedItem>> {
        let conn = self.reader();
        let columns = ITEM_COLUMNS
            .split(',')
            .map(|c| format!("i.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {columns}, s.saved_at FROM saved_items s JOIN items i ON i.id = s.item_id
             WHERE s.user_id = ?1 ORDER BY s.saved_at DESC, i.id DESC LIMIT ?2"
        ))?;
        // `saved_at` comes right after the item's columns.
        let saved_at = ITEM_COLUMNS.split(',').count();
        let rows = stmt.query_map(params![user_id, limit as i64], |r| {
            Ok(SavedItem {
                item: item_from_row(r)?,
                saved_at: from_ts(r.get(saved_at)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Record a view of "Tin mới" by user `user_id` at `now`; returns the moment its
    /// visit's news starts from: the end of the previous visit (a day back on a first one).
    pub fn visit_news(&self, user_id: i64, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
        let conn = self.conn();
        let row: Option<(i64, i64)> = conn
            .query_row(
                "SELECT last_seen_at, since_at FROM user_visits WHERE user_id = ?1",
                [user_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let now_s = ts(now);
        let since = match row {
            None => now_s - FIRST_VISIT_SECS,
            Some((last, since)) if now_s - last < VISIT_GAP_SECS => since,
            Some((last, _)) => last,
        };
        conn.execute(
            "INSERT INTO user_visits (user_id, last_seen_at, since_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (user_id) DO UPDATE SET last_seen_at = ?2, since_at = ?3",
            params![user_id, now_s, since],
        )?;
        Ok(from_ts(since))
    }

    /// When user `user_id`'s current visit's news starts, without recording a view (for
    /// the count on the search page); None before any visit.
    pub fn news_since(&self, user_id: i64, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        let row: Option<(i64, i64)> = self
            .reader()
            .query_row(
                "SELECT last_seen_at, since_at FROM user_visits WHERE user_id = ?1",
                [user_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row.map(|(last, since)| {
            if ts(now) - last < VISIT_GAP_SECS {
                from_ts(since)
            } else {
                from_ts(last)
            }
        }))
    }

    /// How many items arrived (were first stored) after `since`.
    pub fn count_first_seen_after(&self, since: DateTime<Utc>) -> Result<i64> {
        Ok(self.reader().query_row(
            "SELECT COUNT(*) FROM items WHERE first_seen_at > ?1",
            [ts(since)],
            |r| r.get(0),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_items_and_visits() {
        let (s, lan, _) = crate::store::shares::tests::setup();
        let now = Utc::now();
        s.set_saved(lan.id, 2, true, now).expect("save");
        s.set_saved(lan.id, 2, true, now).expect("save twice");
        assert_eq!(s.saved_items(lan.id, 10).expect("saved").len(), 1);
        assert!(s.saved_among(lan.id, &[1, 2]).expect("among").contains(&2));
        s.set_saved(lan.id, 2, false, now).expect("unsave");
        assert!(s.saved_items(lan.id, 10).expect("saved").is_empty());
        // First visit: the last day. Views within a visit keep its start; after a gap
        // the news starts where the previous visit ended.
        assert_eq!(s.news_since(lan.id, now).expect("none"), None);
        let first = s.visit_news(lan.id, now).expect("first");
        assert_eq!(ts(first), ts(now) - FIRST_VISIT_SECS);
        let soon = now + chrono::Duration::minutes(5);
        assert_eq!(s.visit_news(lan.id, soon).expect("reload"), first);
        let later = soon + chrono::Duration::hours(3);
        assert_eq!(
            ts(s.visit_news(lan.id, later).expect("next visit")),
            ts(soon)
        );
        assert_eq!(s.count_first_seen_after(first).expect("count"), 3);
    }
}
