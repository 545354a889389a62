//! "Also posted by": other items that point at the same story. For now the link is the
//! canonical URL (tracking parameters already removed by `normalize`); the near-duplicate
//! clusters being built elsewhere should replace `related_items` / `related_counts` and
//! nothing else needs to change — the web layer only calls these two functions.

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

impl Store {
    /// Items from other sources with the same canonical URL as `item_id`.
    pub fn related_items(&self, item_id: i64) -> Result<Vec<RelatedItem>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT o.id, o.source_id, o.title, o.url FROM items i
             JOIN items o ON o.canonical_url = i.canonical_url AND o.id <> i.id
                AND o.source_id <> i.source_id
             WHERE i.id = ?1 AND i.canonical_url IS NOT NULL AND i.canonical_url <> ''
             ORDER BY o.published_at",
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
        let mut stmt = conn.prepare_cached(
            "SELECT COUNT(DISTINCT o.source_id) FROM items i
             JOIN items o ON o.canonical_url = i.canonical_url AND o.source_id <> i.source_id
             WHERE i.id = ?1 AND i.canonical_url IS NOT NULL AND i.canonical_url <> ''",
        )?;
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
