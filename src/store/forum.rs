//! Forum threads in SQLite: what the crawl (`crawl`) knows of each thread of a forum
//! source — where it stopped reading (the last page and its address), the board's
//! activity mark when it last read the thread, which early pages of a long thread it has
//! still to read — and the posts of one thread as the item page lists them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Store, from_ts, ts};
use crate::error::Result;
use crate::model::ThreadState;

/// One post of a thread, as listed beside another post of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadPostRef {
    pub id: i64,
    pub title: String,
    pub author: Option<String>,
    pub number: Option<u32>,
    pub first: bool,
    pub published_at: DateTime<Utc>,
}

impl Store {
    /// The stored state of the threads `keys` of a forum source (missing ones are new).
    pub fn thread_states(
        &self,
        source_id: &str,
        keys: &[String],
    ) -> Result<HashMap<String, ThreadState>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT thread_key, url, title, activity, last_page, last_page_url,
                    backfill_below, crawled_at
             FROM forum_threads WHERE source_id = ?1 AND thread_key = ?2",
        )?;
        let mut out = HashMap::new();
        for k in keys {
            let mut rows = stmt.query_map(params![source_id, k], |r| {
                Ok(ThreadState {
                    key: r.get(0)?,
                    url: r.get(1)?,
                    title: r.get(2)?,
                    activity: r.get(3)?,
                    last_page: r.get(4)?,
                    last_page_url: r.get(5)?,
                    backfill_below: r.get(6)?,
                    crawled_at: from_ts(r.get(7)?),
                })
            })?;
            if let Some(state) = rows.next().transpose()? {
                out.insert(k.clone(), state);
            }
        }
        Ok(out)
    }

    /// Record what a pass read of each thread (after its posts are stored).
    pub fn save_thread_states(&self, source_id: &str, states: &[ThreadState]) -> Result<()> {
        if states.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO forum_threads (source_id, thread_key, url, title, activity,
                    last_page, last_page_url, backfill_below, crawled_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT(source_id, thread_key) DO UPDATE SET url = excluded.url,
                    title = excluded.title, activity = excluded.activity,
                    last_page = excluded.last_page, last_page_url = excluded.last_page_url,
                    backfill_below = excluded.backfill_below, crawled_at = excluded.crawled_at",
            )?;
            for s in states {
                stmt.execute(params![
                    source_id,
                    s.key,
                    s.url,
                    s.title,
                    s.activity,
                    s.last_page,
                    s.last_page_url,
                    s.backfill_below,
                    ts(s.crawled_at)
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The posts of one thread in thread order (number, then time), at most `limit`, and
    /// how many it has in all.
    pub fn thread_posts(
        &self,
        source_id: &str,
        thread_key: &str,
        limit: usize,
    ) -> Result<(Vec<ThreadPostRef>, usize)> {
        let conn = self.reader();
        let total: i64 = conn.query_row(
            "SELECT COUNT(*) FROM items WHERE source_id = ?1 AND thread_key = ?2",
            params![source_id, thread_key],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, title, author, post_number, first_post, published_at FROM items
             WHERE source_id = ?1 AND thread_key = ?2
             ORDER BY first_post DESC, post_number IS NULL, post_number, published_at, id
             LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![source_id, thread_key, limit as i64], |r| {
            Ok(ThreadPostRef {
                id: r.get(0)?,
                title: r.get(1)?,
                author: r.get(2)?,
                number: r.get(3)?,
                first: r.get(4)?,
                published_at: from_ts(r.get(5)?),
            })
        })?;
        Ok((
            rows.collect::<rusqlite::Result<Vec<_>>>()?,
            usize::try_from(total).unwrap_or(0),
        ))
    }
}
