//! One story's items, by the one "same story" rule (`cluster::StoryKey`: the same
//! near-duplicate cluster, or the same canonical URL). "Also posted by" (`also_posted`,
//! and on the web `related_items`, `related_counts`) and search collapsing
//! (`search::collapse`: `story_keys`, `story_members`) read a story through these
//! functions; none spells the rule again. Shares and search filters that must cover a
//! whole story (`store::shares`, `status:shared|unshared`) use [`stories_of`] for a few
//! items and [`story_closure_sql`] for a set given by SQL — the same rule, as one query.
//!
//! [`stories_of`]: Store::stories_of

use std::collections::{HashMap, HashSet};

use rusqlite::Connection;
use serde::Serialize;

use super::{Store, from_ts};
use crate::cluster::StoryKey;
use crate::error::Result;

/// Another item carrying the same story.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RelatedItem {
    pub id: i64,
    pub source_id: String,
    pub title: String,
    pub url: Option<String>,
}

/// One item of a story.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterMember {
    pub id: i64,
    pub source_id: String,
    pub title: String,
    pub url: Option<String>,
    pub published_at: chrono::DateTime<chrono::Utc>,
}

/// The columns [`member_from_row`] reads.
const MEMBER_COLUMNS: &str = "id, source_id, title, url, published_at";

fn member_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ClusterMember> {
    Ok(ClusterMember {
        id: r.get(0)?,
        source_id: r.get(1)?,
        title: r.get(2)?,
        url: r.get(3)?,
        published_at: from_ts(r.get(4)?),
    })
}

/// The story keys of the stored item `id` (`None` when there is no such item).
fn keys_of(conn: &Connection, id: i64) -> Result<Option<Vec<StoryKey>>> {
    let mut stmt =
        conn.prepare_cached("SELECT cluster_id, canonical_url FROM items WHERE id = ?1")?;
    let mut rows = stmt.query_map([id], |r| {
        Ok(StoryKey::of(
            r.get::<_, Option<i64>>(0)?,
            r.get::<_, Option<String>>(1)?.as_deref(),
        ))
    })?;
    Ok(rows.next().transpose()?)
}

/// The items carrying one story key (each lookup is an indexed column).
fn with_key(conn: &Connection, key: &StoryKey) -> Result<Vec<ClusterMember>> {
    let rows = match key {
        StoryKey::Cluster(c) => conn
            .prepare_cached(&format!(
                "SELECT {MEMBER_COLUMNS} FROM items WHERE cluster_id = ?1"
            ))?
            .query_map([c], member_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?,
        StoryKey::Url(u) => conn
            .prepare_cached(&format!(
                "SELECT {MEMBER_COLUMNS} FROM items WHERE canonical_url = ?1"
            ))?
            .query_map([u], member_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?,
    };
    Ok(rows)
}

/// SQL selecting the id of every item that tells the same story as an item of `ids_sql`
/// (a `SELECT id …` subquery; the items themselves included): the [`StoryKey`] rule —
/// same cluster, or same non-empty canonical URL — over a set, as one statement that
/// walks the `items_cluster` and `items_canonical_url` indexes.
pub(super) fn story_closure_sql(ids_sql: &str) -> String {
    format!(
        "SELECT id FROM items WHERE id IN ({ids_sql})
         UNION SELECT m.id FROM items m JOIN items t ON m.cluster_id = t.cluster_id
             WHERE t.id IN ({ids_sql}) AND t.cluster_id IS NOT NULL
         UNION SELECT m.id FROM items m JOIN items t ON m.canonical_url = t.canonical_url
             WHERE t.id IN ({ids_sql}) AND t.canonical_url IS NOT NULL AND t.canonical_url <> ''"
    )
}

impl Store {
    /// For each of these items, the ids of every item of its story (itself included).
    pub fn stories_of(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<i64>>> {
        let conn = self.reader();
        let mut out = HashMap::new();
        for &id in ids {
            let Some(keys) = keys_of(&conn, id)? else {
                continue;
            };
            let mut members = vec![id];
            for key in &keys {
                for m in with_key(&conn, key)? {
                    if !members.contains(&m.id) {
                        members.push(m.id);
                    }
                }
            }
            out.insert(id, members);
        }
        Ok(out)
    }

    /// The story keys of each of these items (items not found are absent).
    pub fn story_keys(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<StoryKey>>> {
        let conn = self.reader();
        let mut out = HashMap::new();
        for &id in ids {
            if let Some(keys) = keys_of(&conn, id)? {
                out.insert(id, keys);
            }
        }
        Ok(out)
    }

    /// Every item sharing a story key with `item_id`, itself included, earliest first
    /// (published time, then id); empty when the item has no story key (or is not stored).
    pub fn story_members(&self, item_id: i64) -> Result<Vec<ClusterMember>> {
        let conn = self.reader();
        let Some(keys) = keys_of(&conn, item_id)? else {
            return Ok(Vec::new());
        };
        let mut seen = HashSet::new();
        let mut members = Vec::new();
        for key in &keys {
            for m in with_key(&conn, key)? {
                if seen.insert(m.id) {
                    members.push(m);
                }
            }
        }
        members.sort_by_key(|m| (m.published_at, m.id));
        Ok(members)
    }

    /// The other items of `item_id`'s story ("also posted by …"), earliest first.
    pub fn also_posted(&self, item_id: i64) -> Result<Vec<ClusterMember>> {
        Ok(self
            .story_members(item_id)?
            .into_iter()
            .filter(|m| m.id != item_id)
            .collect())
    }

    /// The items of `item_id`'s story posted by other sources, earliest first.
    pub fn related_items(&self, item_id: i64) -> Result<Vec<RelatedItem>> {
        let members = self.story_members(item_id)?;
        let Some(own) = members.iter().find(|m| m.id == item_id) else {
            return Ok(Vec::new());
        };
        let own_source = own.source_id.clone();
        Ok(members
            .into_iter()
            .filter(|m| m.source_id != own_source)
            .map(|m| RelatedItem {
                id: m.id,
                source_id: m.source_id,
                title: m.title,
                url: m.url,
            })
            .collect())
    }

    /// For each item, how many other sources posted the same story (absent = none).
    pub fn related_counts(&self, ids: &[i64]) -> Result<HashMap<i64, usize>> {
        let mut out = HashMap::new();
        for &id in ids {
            let sources: HashSet<String> = self
                .related_items(id)?
                .into_iter()
                .map(|r| r.source_id)
                .collect();
            if !sources.is_empty() {
                out.insert(id, sources.len());
            }
        }
        Ok(out)
    }
}
