//! The share ledger: who reshared which item, when, on which channel and (optionally)
//! where the reshared post lives. Undo stamps `undone_at` instead of deleting, so the
//! ledger keeps its history; only live shares count. The ledger is per item, but "already
//! shared" is per story: a share of one copy marks every item of its story (the
//! `cluster::StoryKey` rule, read through `store::related`), for the badges, the "chưa
//! chia sẻ" filter and `status:shared|unshared`. A repeated click (same person, item,
//! channel and link within [`REPEAT_WINDOW_SECS`]) records nothing new.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::related::story_closure_sql;
use super::{Store, User, from_ts, ts};
use crate::error::Result;

/// A second identical share within this many seconds is the same click again.
pub const REPEAT_WINDOW_SECS: i64 = 60;

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

/// Who may undo a share: the id of the account that recorded it (None when the account
/// was removed) and the item it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct ShareOwner {
    pub item_id: i64,
    pub user_id: Option<i64>,
    pub user: String,
}

/// The live share that makes an item's story "shared": the latest of any copy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoryShare {
    /// The share itself (its `item_id` is the copy that was shared).
    pub share: Share,
    /// Source of the copy that was shared.
    pub source_id: String,
    /// How many live shares the story has in all.
    pub count: usize,
}

/// One row of the ledger export, undone shares included.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerRow {
    pub id: i64,
    pub item_id: i64,
    pub title: String,
    pub source_id: String,
    pub url: Option<String>,
    pub user: String,
    pub channel: String,
    pub link: Option<String>,
    pub shared_at: DateTime<Utc>,
    pub undone_at: Option<DateTime<Utc>>,
}

/// Live shares, for [`story_closure_sql`].
const LIVE_SHARED_ITEMS: &str = "SELECT item_id FROM shares WHERE undone_at IS NULL";

impl Store {
    /// Record a share by `user`; a repeat of the same share within
    /// [`REPEAT_WINDOW_SECS`] returns the one already recorded. The flag says whether a
    /// new row was written.
    pub fn add_share(
        &self,
        item_id: i64,
        user: &User,
        share: &NewShare,
        now: DateTime<Utc>,
    ) -> Result<(Share, bool)> {
        let conn = self.conn();
        // One writer connection: the check and the insert cannot interleave with another click.
        let repeat = conn
            .query_row(
                "SELECT id, item_id, user_name, channel, link, shared_at FROM shares
                 WHERE item_id = ?1 AND user_id = ?2 AND channel = ?3 AND link IS ?4
                   AND undone_at IS NULL AND shared_at >= ?5
                 ORDER BY id DESC LIMIT 1",
                params![
                    item_id,
                    user.id,
                    share.channel,
                    share.link,
                    ts(now) - REPEAT_WINDOW_SECS
                ],
                share_from_row,
            )
            .optional()?;
        if let Some(existing) = repeat {
            return Ok((existing, false));
        }
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
        Ok((
            Share {
                id: conn.last_insert_rowid(),
                item_id,
                user: user.name.clone(),
                channel: share.channel.clone(),
                link: share.link.clone(),
                shared_at: from_ts(ts(now)),
            },
            true,
        ))
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

    /// Who recorded the live share `share_id` (None when there is no such live share).
    pub fn share_owner(&self, share_id: i64) -> Result<Option<ShareOwner>> {
        Ok(self
            .reader()
            .query_row(
                "SELECT item_id, user_id, user_name FROM shares
                 WHERE id = ?1 AND undone_at IS NULL",
                [share_id],
                |r| {
                    Ok(ShareOwner {
                        item_id: r.get(0)?,
                        user_id: r.get(1)?,
                        user: r.get(2)?,
                    })
                },
            )
            .optional()?)
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

    /// For each of these items whose story has a live share, the latest such share.
    pub fn story_shares(&self, ids: &[i64]) -> Result<HashMap<i64, StoryShare>> {
        let stories = self.stories_of(ids)?;
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT s.id, s.item_id, s.user_name, s.channel, s.link, s.shared_at, i.source_id
             FROM shares s JOIN items i ON i.id = s.item_id
             WHERE s.item_id = ?1 AND s.undone_at IS NULL",
        )?;
        let mut out = HashMap::new();
        for (id, members) in stories {
            let mut latest: Option<(Share, String)> = None;
            let mut count = 0;
            for m in members {
                let rows = stmt.query_map([m], |r| Ok((share_from_row(r)?, r.get(6)?)))?;
                for row in rows {
                    let (share, source) = row?;
                    count += 1;
                    if latest
                        .as_ref()
                        .is_none_or(|(l, _)| (share.shared_at, share.id) > (l.shared_at, l.id))
                    {
                        latest = Some((share, source));
                    }
                }
            }
            if let Some((share, source_id)) = latest {
                out.insert(
                    id,
                    StoryShare {
                        share,
                        source_id,
                        count,
                    },
                );
            }
        }
        Ok(out)
    }

    /// Which of these items belong to a story with at least one live share.
    pub fn shared_among(&self, ids: &[i64]) -> Result<HashSet<i64>> {
        Ok(self.story_shares(ids)?.into_keys().collect())
    }

    /// Every item whose story has a live share (the "chưa chia sẻ" filter leaves them out).
    pub fn shared_item_ids(&self) -> Result<Vec<i64>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(&story_closure_sql(LIVE_SHARED_ITEMS))?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The whole ledger, undone shares included, newest first (the CSV export).
    pub fn share_ledger(&self) -> Result<Vec<LedgerRow>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT s.id, s.item_id, i.title, i.source_id, i.url, s.user_name, s.channel,
                    s.link, s.shared_at, s.undone_at
             FROM shares s JOIN items i ON i.id = s.item_id
             ORDER BY s.shared_at DESC, s.id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(LedgerRow {
                id: r.get(0)?,
                item_id: r.get(1)?,
                title: r.get(2)?,
                source_id: r.get(3)?,
                url: r.get(4)?,
                user: r.get(5)?,
                channel: r.get(6)?,
                link: r.get(7)?,
                shared_at: from_ts(r.get(8)?),
                undone_at: r.get::<_, Option<i64>>(9)?.map(from_ts),
            })
        })?;
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::Config;
    use crate::model::NewItem;
    use crate::store::Role;

    /// A store with a source, two copies of one story (same canonical URL), one other
    /// item, and two staff members.
    pub(crate) fn setup() -> (Store, User, User) {
        let s = Store::open_in_memory().expect("db");
        let cfg = Config::parse(
            "[[sources]]\nid = \"a\"\nname = \"A\"\nkind = \"manual\"\n[[sources]]\nid = \"b\"\nname = \"B\"\nkind = \"manual\"\n",
            std::path::Path::new("x.toml"),
        )
        .expect("cfg");
        let now = Utc::now();
        s.sync_sources(&cfg, now).expect("sync");
        let item = |source: &str, key: &str, url: &str| NewItem {
            source_id: source.into(),
            key: key.into(),
            guid: None,
            url: Some(url.into()),
            canonical_url: Some(url.into()),
            title: format!("Tin {key}"),
            author: None,
            summary: String::new(),
            content_html: String::new(),
            content_text: String::new(),
            image_url: None,
            published_at: Some(now),
            updated_at: None,
            content_hash: key.into(),
            thread: None,
            tone: None,
        };
        s.upsert_items(
            &[
                item("a", "1", "https://x.vn/cau-chuyen"),
                item("a", "3", "https://x.vn/khac"),
            ],
            now,
        )
        .expect("a");
        s.upsert_items(&[item("b", "2", "https://x.vn/cau-chuyen")], now)
            .expect("b");
        let lan = s.add_user("lan", Role::Staff, "h", now).expect("lan");
        let minh = s.add_user("minh", Role::Staff, "h", now).expect("minh");
        (s, lan, minh)
    }

    #[test]
    fn a_share_marks_its_story_and_a_repeat_records_nothing() {
        let (s, lan, minh) = setup();
        let (copy_a, copy_b, other) = (1, 3, 2);
        assert_eq!(
            s.item(copy_b).expect("item").map(|i| i.source_id),
            Some("b".into())
        );
        let now = Utc::now();
        let zalo = NewShare {
            channel: "Zalo".into(),
            link: None,
        };
        let (first, new) = s.add_share(copy_a, &lan, &zalo, now).expect("share");
        assert!(new);
        let (again, new) = s
            .add_share(copy_a, &lan, &zalo, now + chrono::Duration::seconds(20))
            .expect("again");
        assert!(!new, "a repeat within a minute is the same share");
        assert_eq!(again.id, first.id);
        // Another person, or a minute later, is a new share.
        assert!(s.add_share(copy_a, &minh, &zalo, now).expect("minh").1);
        let later = now + chrono::Duration::seconds(REPEAT_WINDOW_SECS + 1);
        assert!(s.add_share(copy_a, &lan, &zalo, later).expect("later").1);
        // Every copy of the story is shared; the other item is not.
        let shared = s.shared_among(&[copy_a, copy_b, other]).expect("among");
        assert!(
            shared.contains(&copy_a) && shared.contains(&copy_b),
            "{shared:?}"
        );
        assert!(!shared.contains(&other));
        let mut ids = s.shared_item_ids().expect("ids");
        ids.sort_unstable();
        assert_eq!(ids, vec![copy_a, copy_b]);
        let story = s
            .story_shares(&[copy_b])
            .expect("story")
            .remove(&copy_b)
            .expect("b");
        assert_eq!(story.share.item_id, copy_a);
        assert_eq!(story.source_id, "a");
        assert_eq!(story.count, 3);
        // The ledger stays per item, undone shares included.
        assert!(s.shares_of(copy_b).expect("b").is_empty());
        assert!(s.undo_share(copy_a, first.id, later).expect("undo"));
        assert_eq!(s.share_owner(first.id).expect("owner"), None);
        let ledger = s.share_ledger().expect("ledger");
        assert_eq!(ledger.len(), 3);
        assert!(
            ledger
                .iter()
                .any(|r| r.id == first.id && r.undone_at.is_some())
        );
    }
}
