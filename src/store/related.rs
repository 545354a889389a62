//! "Also posted by": other items, from other sources, that carry the same story — the same
//! canonical URL (exact reposts; tracking parameters already removed by `normalize`) or the
//! same near-duplicate cluster (`cluster`: reposts with small edits). The web layer only
//! calls these two functions.

use std::collections::HashMap;

use serde::Serialize;

use super::Store;
use crate::error::Result;

/// Another item carrying the same story.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RelatedItem {
    pub id: i64,
    pub source_id: String,
    pub title: String,
    pub url: Option<String>,
}

/// Items of other sources with the same canonical URL or in the same cluster as item ?1.
/// Two indexed lookups joined by UNION (an OR in the join would scan the table).
const SAME_STORY: &str = "
    SELECT o.id, o.source_id, o.title, o.url, o.published_at FROM items i
    JOIN items o ON o.canonical_url = i.canonical_url
    WHERE i.id = ?1 AND i.canonical_url IS NOT NULL AND i.canonical_url <> ''
      AND o.id <> i.id AND o.source_id <> i.source_id
    UNION
    SELECT o.id, o.source_id, o.title, o.url, o.published_at FROM items i
    JOIN items o ON o.cluster_id = i.cluster_id
    WHERE i.id = ?1 AND i.cluster_id IS NOT NULL
      AND o.id <> i.id AND o.source_id <> i.source_id";

impl Store {
    /// Items from other sources with the same canonical URL as `item_id`.
    pub fn related_items(&self, item_id: i64) -> Result<Vec<RelatedItem>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            &format!("SELECT id, source_id, title, url, published_at FROM ({SAME_STORY}) ORDER BY published_at"),
        )?;
        let rows = stmt.query_map([item_id], |r| {
            Ok(RelatedItem {
                id: r.get(0)?,
                source_id: r.get(1)?,
                title: r.get(2)?,
                url: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// For each item, how many other sources posted the same story (absent = none).
    pub fn related_counts(&self, ids: &[i64]) -> Result<HashMap<i64, usize>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT COUNT(DISTINCT source_id) FROM ({SAME_STORY})"
        ))?;
        let mut out = HashMap::new();
        for id in ids {
            let n: i64 = stmt.query_row([id], |r| r.get(0))?;
            if n > 0 {
                out.insert(*id, n as usize);
            }
        }
        Ok(out)
    }
}
