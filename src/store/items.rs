//! Items in SQLite: insert-or-update by stable key (a refetch adds nothing, an edit updates
//! in place), each write stamped with the next `seq` so the index can follow the change
//! log in order and clustered in the same transaction (see `store::clusters`), and the
//! reads the index and search need.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::bands::{BandIndex, BandsTx};
use super::clusters::{file_bands, find_cluster, forget_bands};
use super::{Store, from_ts, ts};
use crate::cluster::{Signature, item_text, signature};
use crate::error::Result;
use crate::model::{InThread, Item, NewItem, Upsert, UpsertCounts};

pub(super) const ITEM_COLUMNS: &str =
    "id, source_id, item_key, guid, url, canonical_url, title, author, summary,
    content_html, content_text, image_url, published_at, updated_at, first_seen_at, seq,
    thread_key, thread_title, thread_url, post_number, first_post,
    tone, tone_score, tone_reasons";

/// [`ITEM_COLUMNS`] with `content_html` selected as `''`: for readers of the plain text
/// (the index, search hits), since the HTML is as large as the rest of the row.
static PLAIN_ITEM_COLUMNS: LazyLock<String> =
    LazyLock::new(|| ITEM_COLUMNS.replacen("content_html", "'' AS content_html", 1));

/// How many columns [`ITEM_COLUMNS`] names: the index of a column selected after them.
pub(super) const ITEM_COLUMN_COUNT: usize = 24;

pub(super) fn item_from_row(r: &Row<'_>) -> rusqlite::Result<Item> {
    Ok(Item {
        id: r.get(0)?,
        source_id: r.get(1)?,
        key: r.get(2)?,
        guid: r.get(3)?,
        url: r.get(4)?,
        canonical_url: r.get(5)?,
        title: r.get(6)?,
        author: r.get(7)?,
        summary: r.get(8)?,
        content_html: r.get(9)?,
        content_text: r.get(10)?,
        image_url: r.get(11)?,
        published_at: from_ts(r.get(12)?),
        updated_at: r.get::<_, Option<i64>>(13)?.map(from_ts),
        first_seen_at: from_ts(r.get(14)?),
        seq: r.get(15)?,
        thread: match r.get::<_, Option<String>>(16)? {
            Some(key) => Some(InThread {
                key,
                title: r.get::<_, Option<String>>(17)?.unwrap_or_default(),
                url: r.get(18)?,
                number: r.get(19)?,
                first: r.get(20)?,
            }),
            None => None,
        },
        tone: super::tone::verdict_from_columns(r.get(21)?, r.get(22)?, r.get(23)?),
    })
}

/// Filters for listing items straight from SQLite (digests, exports).
#[derive(Debug, Clone, Default)]
pub struct ItemQuery {
    pub source_id: Option<String>,
    pub first_seen_after: Option<DateTime<Utc>>,
    pub limit: Option<usize>,
}

impl Store {
    /// Store a batch of items from one source in one transaction.
    /// Each item's MinHash signature (see `cluster`) is computed here, before the
    /// connection is taken, so that CPU work of concurrent sources runs in parallel and
    /// clustering later only looks it up.
    pub fn upsert_items(&self, items: &[NewItem], now: DateTime<Utc>) -> Result<UpsertCounts> {
        let signatures: Vec<Option<Signature>> = items
            .iter()
            .map(|i| signature(&item_text(&i.title, &i.summary, &i.content_text)))
            .collect();
        self.backfill_bands()?;
        let mut conn = self.conn();
        // IMMEDIATE: the write lock from the start, so that what is read here (existing
        // keys, the next seq and id, the clustering mark) cannot be changed by another
        // process (`gomtin post add` beside the daemon) before it is written.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Cluster each item as it is written, unless earlier items still wait for
        // `cluster_pending` (which would then take these too, in order).
        let clustered_seq: i64 = tx.query_row(
            "SELECT clustered_seq FROM cluster_state WHERE id = 1",
            [],
            |r| r.get(0),
        )?;
        let cluster_now = clustered_seq
            == tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM items", [], |r| {
                r.get::<_, i64>(0)
            })?;
        // Keys filed in memory by a transaction that does not commit are forgotten.
        let mut bands = BandsTx::begin(&self.bands, &tx)?;
        let mut counts = UpsertCounts::default();
        for (item, sig) in items.iter().zip(&signatures) {
            let sig = sig.as_ref();
            counts.add(upsert_one(&tx, &mut bands, item, sig, now, cluster_now)?);
        }
        if cluster_now && counts.new + counts.updated > 0 {
            tx.execute(
                "UPDATE cluster_state SET clustered_seq = (SELECT MAX(seq) FROM items)
                 WHERE id = 1",
                [],
            )?;
        }
        tx.commit()?;
        bands.keep();
        self.committed(&conn);
        Ok(counts)
    }

    /// Which of `keys` the source already has (page sources follow new links first).
    pub fn known_keys(
        &self,
        source_id: &str,
        keys: &[String],
    ) -> Result<std::collections::HashSet<String>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT 1 FROM items WHERE source_id = ?1 AND item_key = ?2")?;
        let mut out = std::collections::HashSet::new();
        for k in keys {
            if stmt.exists(params![source_id, k])? {
                out.insert(k.clone());
            }
        }
        Ok(out)
    }

    /// The id of the item with this key in this source.
    pub fn item_id_by_key(&self, source_id: &str, key: &str) -> Result<Option<i64>> {
        Ok(self
            .reader()
            .query_row(
                "SELECT id FROM items WHERE source_id = ?1 AND item_key = ?2",
                params![source_id, key],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The highest `seq` committed so far (0 for an empty store).
    pub fn max_seq(&self) -> Result<i64> {
        Ok(self
            .reader()
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM items", [], |r| r.get(0))?)
    }

    /// Items changed after `seq`, in change order, at most `limit` — the change log the
    /// index follows. `content_html` is left empty: the index reads the plain text only,
    /// and the HTML is as large as the rest of the row.
    pub fn items_after_seq(&self, seq: i64, limit: usize) -> Result<Vec<Item>> {
        let conn = self.reader();
        let columns = PLAIN_ITEM_COLUMNS.as_str();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {columns} FROM items WHERE seq > ?1 ORDER BY seq LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![seq, limit as i64], item_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// One item by id.
    pub fn item(&self, id: i64) -> Result<Option<Item>> {
        let conn = self.reader();
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {ITEM_COLUMNS} FROM items WHERE id = ?1"))?;
        Ok(stmt.query_row([id], item_from_row).optional()?)
    }

    /// Several items by id, in the order asked (missing ids are skipped).
    pub fn items_by_ids(&self, ids: &[i64]) -> Result<Vec<Item>> {
        self.rows_by_ids(ids, ITEM_COLUMNS)
    }

    /// [`Store::items_by_ids`] with `content_html` left empty: what a search's hits and
    /// snippets read (the plain text), without reading and checking the HTML, which is as
    /// large as the rest of the row.
    pub fn items_by_ids_plain(&self, ids: &[i64]) -> Result<Vec<Item>> {
        self.rows_by_ids(ids, &PLAIN_ITEM_COLUMNS)
    }

    fn rows_by_ids(&self, ids: &[i64], columns: &str) -> Result<Vec<Item>> {
        let conn = self.reader();
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {columns} FROM items WHERE id = ?1"))?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(item) = stmt.query_row([id], item_from_row).optional()? {
                out.push(item);
            }
        }
        Ok(out)
    }

    /// Items matching simple filters, newest first.
    pub fn list_items(&self, q: &ItemQuery) -> Result<Vec<Item>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {ITEM_COLUMNS} FROM items
             WHERE (?1 IS NULL OR source_id = ?1) AND (?2 IS NULL OR first_seen_at > ?2)
             ORDER BY published_at DESC, id DESC LIMIT ?3"
        ))?;
        let rows = stmt.query_map(
            params![
                q.source_id,
                q.first_seen_after.map(ts),
                q.limit.map(|l| l as i64).unwrap_or(-1)
            ],
            item_from_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Number of items stored.
    pub fn item_count(&self) -> Result<i64> {
        Ok(self
            .reader()
            .query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0))?)
    }
}

/// The two writes of an item row take the same numbered parameters (see [`upsert_one`]):
/// ?1 id, ?2 source, ?3 key, ?4-?12 the item's fields, ?13 published, ?14 updated,
/// ?15 now (first seen, or updated when the item gives no time), ?16 content hash,
/// ?17 seq, ?18-?19 signature, ?20 cluster (`NULL`: left to `cluster_pending`), ?21-?25
/// a forum post's thread, title, thread address, number and first-post flag, ?26-?28 tone
/// (`NULL`: left to the back-fill, `pipeline::after_store`).
const INSERT_ITEM: &str = "INSERT INTO items (id, source_id, item_key, guid, url, canonical_url,
        title, author, summary, content_html, content_text, image_url, published_at,
        updated_at, first_seen_at, content_hash, seq, minhash, shingles, cluster_id,
        thread_key, thread_title, thread_url, post_number, first_post,
        tone, tone_score, tone_reasons)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
        ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)";
/// An edit keeps the stored cluster when this write does not cluster it.
const UPDATE_ITEM: &str = "UPDATE items SET guid = ?4, url = ?5, canonical_url = ?6,
        title = ?7, author = ?8, summary = ?9, content_html = ?10, content_text = ?11,
        image_url = ?12, published_at = ?13, updated_at = COALESCE(?14, ?15),
        content_hash = ?16, seq = ?17, minhash = ?18, shingles = ?19,
        cluster_id = COALESCE(?20, cluster_id), thread_key = ?21, thread_title = ?22,
        thread_url = ?23, post_number = ?24, first_post = ?25, tone = ?26, tone_score = ?27,
        tone_reasons = ?28
     WHERE id = ?1 AND source_id = ?2 AND item_key = ?3";

/// True when `item`'s key is a GUID this source never gave before, but the source already
/// has an item with the same canonical link and the same content: a feed that makes up a
/// new GUID on every fetch. That item is the same one, unchanged. The content hash covers
/// the link as published (fragment included), so forum posts that share a page and
/// differ by anchor, or distinct items behind one link, stay distinct.
fn same_story_under_new_guid(tx: &Transaction<'_>, item: &NewItem) -> Result<bool> {
    let Some(canonical) = item.canonical_url.as_deref() else {
        return Ok(false);
    };
    if !item.key.starts_with("guid:") {
        return Ok(false);
    }
    Ok(tx.prepare_cached(SAME_LINK_AND_CONTENT)?.exists(params![
        canonical,
        item.source_id,
        item.content_hash
    ])?)
}

/// The lookup of `same_story_under_new_guid`, through the canonical-link index by name:
/// left to itself SQLite takes `items_source_first_seen` (`source_id = ?` is a prefix of
/// it) and then reads every item of the source for every new item — quadratic in the size
/// of a source (a 250,000-item source stored 225 items/s instead of thousands).
const SAME_LINK_AND_CONTENT: &str = "SELECT 1 FROM items INDEXED BY items_canonical_url
     WHERE canonical_url = ?1 AND source_id = ?2 AND content_hash = ?3 LIMIT 1";

/// Insert or update one item. With `cluster`, the item is also clustered here (see
/// `store::clusters`): its cluster is chosen before the row is written, so the row is
/// written once, with its cluster id, and its band keys are filed after it.
fn upsert_one(
    tx: &Transaction<'_>,
    bands: &mut BandIndex,
    item: &NewItem,
    sig: Option<&Signature>,
    now: DateTime<Utc>,
    cluster: bool,
) -> Result<Upsert> {
    let existing: Option<(i64, String, i64)> = tx
        .prepare_cached(
            "SELECT id, content_hash, published_at FROM items
             WHERE source_id = ?1 AND item_key = ?2",
        )?
        .query_row(params![item.source_id, item.key], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    if existing.is_none() && same_story_under_new_guid(tx, item)? {
        return Ok(Upsert::Unchanged);
    }
    let (upsert, id, published) = match existing {
        Some((_, hash, _)) if hash == item.content_hash => return Ok(Upsert::Unchanged),
        Some((id, _, stored_published)) => {
            // The keys of the old text go now, whether or not the new text is clustered here.
            forget_bands(tx, bands, id)?;
            let published = item.published_at.map_or(stored_published, ts);
            (Upsert::Updated, id, published)
        }
        None => {
            // The id SQLite would give the row (one past the largest), taken beforehand so
            // that an item starting its own cluster is written with it as its cluster id.
            // Prepared once per connection: this runs for every new item.
            let id: i64 = tx
                .prepare_cached("SELECT COALESCE(MAX(id), 0) + 1 FROM items")?
                .query_row([], |r| r.get(0))?;
            (Upsert::Inserted, id, ts(item.published_at.unwrap_or(now)))
        }
    };
    let edit = upsert == Upsert::Updated;
    let cluster_id = match (cluster, sig) {
        (false, _) => None,
        (true, None) => Some(id),
        (true, Some(sig)) => {
            let joined = find_cluster(tx, bands, edit.then_some(id), sig, published)?;
            let joined = joined.unwrap_or(id);
            // An edited row exists already: its new keys can go in before it is rewritten.
            if edit {
                file_bands(tx, bands, id, sig, published, joined)?;
            }
            Some(joined)
        }
    };
    // No blob but a count of 0 says "signed, too short to compare" (see `cluster_pending`).
    let minhash = sig.map(Signature::to_bytes);
    let shingles = sig.map_or(0, |s| i64::from(s.shingles));
    let seq: i64 = tx
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM items")?
        .query_row([], |r| r.get(0))?;
    let (tone, tone_score, tone_reasons) = super::tone::verdict_columns(item.tone.as_ref());
    tx.prepare_cached(if edit { UPDATE_ITEM } else { INSERT_ITEM })?
        .execute(params![
            id,
            item.source_id,
            item.key,
            item.guid,
            item.url,
            item.canonical_url,
            item.title,
            item.author,
            item.summary,
            item.content_html,
            item.content_text,
            item.image_url,
            published,
            item.updated_at.map(ts),
            ts(now),
            item.content_hash,
            seq,
            minhash,
            shingles,
            cluster_id,
            item.thread.as_ref().map(|t| t.key.as_str()),
            item.thread.as_ref().map(|t| t.title.as_str()),
            item.thread.as_ref().and_then(|t| t.url.as_deref()),
            item.thread.as_ref().and_then(|t| t.number),
            item.thread.as_ref().is_some_and(|t| t.first),
            tone,
            tone_score,
            tone_reasons
        ])?;
    if !edit
        && let Some(sig) = sig
        && let Some(joined) = cluster_id
    {
        file_bands(tx, bands, id, sig, published, joined)?;
    }
    Ok(upsert)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    #[test]
    fn the_new_guid_lookup_goes_through_the_canonical_link() {
        let s = store_with_source();
        let conn = s.conn();
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {SAME_LINK_AND_CONTENT}"))
            .expect("plan");
        let plan: Vec<String> = stmt
            .query_map(params!["u", "a", "h"], |r| r.get::<_, String>(3))
            .expect("rows")
            .collect::<std::result::Result<_, _>>()
            .expect("plan rows");
        assert_eq!(
            plan,
            ["SEARCH items USING INDEX items_canonical_url (canonical_url=?)"]
        );
    }

    #[test]
    fn committed_items_reach_the_database_file_through_the_checkpoint_thread() {
        let dir = tempfile::tempdir().expect("tmp");
        let s = with_source(Store::open(dir.path()).expect("db"));
        // The writer does not checkpoint in its commits.
        let auto: i64 = s
            .conn()
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
            .expect("pragma");
        assert_eq!(auto, 0);
        let items: Vec<NewItem> = (0..50)
            .map(|i| item(&format!("k{i}"), &format!("Tin {i}")))
            .collect();
        s.upsert_items(&items, Utc::now()).expect("store");
        // The database file alone (the log ignored) holds them once the thread has run.
        let file = format!("file:{}?immutable=1", s.path().display());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let direct = rusqlite::Connection::open_with_flags(
                &file,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI,
            )
            .expect("open file");
            let n: i64 = direct
                .query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0))
                .unwrap_or(0);
            if n == 50 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "not checkpointed: {n} items in the file"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    #[test]
    fn the_column_count_matches_the_list() {
        assert_eq!(ITEM_COLUMNS.split(',').count(), ITEM_COLUMN_COUNT);
    }

    fn store_with_source() -> Store {
        with_source(Store::open_in_memory().expect("db"))
    }

    /// `s` with source "a" configured.
    fn with_source(s: Store) -> Store {
        let cfg = Config::parse(
            "[[sources]]\nid = \"a\"\nname = \"A\"\nkind = \"feed\"\nurl = \"https://a.vn/rss\"\n",
            Path::new("x.toml"),
        )
        .expect("cfg");
        s.sync_sources(&cfg, Utc::now()).expect("sync");
        s
    }

    fn item(key: &str, title: &str) -> NewItem {
        NewItem {
            source_id: "a".into(),
            key: key.into(),
            guid: None,
            url: None,
            canonical_url: None,
            title: title.into(),
            author: None,
            summary: String::new(),
            content_html: String::new(),
            content_text: String::new(),
            image_url: None,
            published_at: None,
            updated_at: None,
            content_hash: format!("h-{title}"),
            thread: None,
            tone: None,
        }
    }

    #[test]
    fn an_edit_files_its_new_band_keys_in_place_of_the_old() {
        let s = store_with_source();
        let now = Utc::now();
        let story = |word: &str| {
            let mut i = item("k1", "Tin");
            i.content_text = (0..40)
                .map(|n| format!("{word}{n}"))
                .collect::<Vec<_>>()
                .join(" ");
            i.content_hash = format!("h-{word}");
            i
        };
        let bands = |s: &Store| -> Vec<(u32, i64)> {
            let conn = s.conn();
            let mut stmt = conn
                .prepare("SELECT minhash, shingles, item_id FROM item_bands")
                .expect("prepare");
            let rows: Vec<(Vec<u8>, i64, i64)> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .expect("query")
                .collect::<rusqlite::Result<_>>()
                .expect("rows");
            rows.iter()
                .flat_map(|(blob, shingles, id)| {
                    let sig = Signature::from_stored(blob, *shingles).expect("blob");
                    sig.band_hashes().map(|h| (h, *id))
                })
                .collect()
        };
        s.upsert_items(&[story("lua")], now).expect("first");
        let first = bands(&s);
        assert_eq!(first.len(), crate::cluster::BANDS);
        s.upsert_items(&[story("mua")], now).expect("edit");
        let second = bands(&s);
        assert_eq!(second.len(), crate::cluster::BANDS);
        assert!(first.iter().all(|b| !second.contains(b)), "old keys left");
        assert!(second.iter().all(|(_, id)| *id == 1));
        // Clustered as stored: nothing waits for the change log.
        assert_eq!(s.cluster_pending().expect("pending"), 0);
        assert_eq!(s.clusters_of(&[1]).expect("cluster").get(&1), Some(&1));
    }

    #[test]
    fn stories_cluster_through_the_band_rows_after_a_rebuild_and_an_edit() {
        let s = store_with_source();
        let now = Utc::now();
        let story = |key: &str, word: &str, tail: &str| {
            let mut i = item(key, "Tin");
            i.content_text = (0..60)
                .map(|n| format!("{word}{n}"))
                .chain(std::iter::once(tail.to_string()))
                .collect::<Vec<_>>()
                .join(" ");
            i.content_hash = format!("h-{key}-{word}-{tail}");
            i
        };
        let cluster = |s: &Store, id: i64| s.clusters_of(&[id]).expect("c")[&id];
        s.upsert_items(&[story("k1", "lua", "a")], now).expect("1");
        // A copy in the same batch as an unrelated story finds it through memory.
        s.upsert_items(&[story("k2", "lua", "b"), story("k3", "mua", "c")], now)
            .expect("2, 3");
        assert_eq!((cluster(&s, 2), cluster(&s, 3)), (1, 3));
        // A database whose band rows are gone (one migrated from the per-band table):
        // the rows come back from the stored signatures, and copies still find them.
        s.conn()
            .execute("DELETE FROM item_bands", [])
            .expect("drop rows");
        s.bands.lock().expect("bands").clear();
        s.upsert_items(&[story("k4", "mua", "d")], now).expect("4");
        assert_eq!(cluster(&s, 4), 3);
        let rows: i64 = s
            .conn()
            .query_row("SELECT COUNT(*) FROM item_bands", [], |r| r.get(0))
            .expect("count");
        assert_eq!(rows, 4);
        // Item 1 rewritten as another story: its old keys no longer lead to it, so a
        // new copy of the old text joins item 2's cluster (1), found through item 2.
        s.upsert_items(&[story("k1", "xuan", "e")], now)
            .expect("edit 1");
        s.upsert_items(&[story("k5", "lua", "f")], now).expect("5");
        assert_eq!(cluster(&s, 5), 1);
        s.upsert_items(&[story("k6", "xuan", "g")], now).expect("6");
        assert_eq!(cluster(&s, 6), 1, "the edited text's new keys are found");
        // A source deleted: its items' keys go from the table and from memory.
        s.delete_source("a").expect("delete");
        let rows: i64 = s
            .conn()
            .query_row("SELECT COUNT(*) FROM item_bands", [], |r| r.get(0))
            .expect("count");
        assert_eq!(rows, 0);
    }

    #[test]
    fn refetch_adds_nothing_and_edit_updates_in_place() {
        let s = store_with_source();
        let now = Utc::now();
        let c = s
            .upsert_items(&[item("k1", "Một"), item("k2", "Hai")], now)
            .expect("first");
        assert_eq!((c.new, c.updated, c.unchanged), (2, 0, 0));
        let c = s
            .upsert_items(&[item("k1", "Một"), item("k2", "Hai")], now)
            .expect("again");
        assert_eq!((c.new, c.updated, c.unchanged), (0, 0, 2));
        assert_eq!(s.max_seq().expect("seq"), 2);
        let c = s
            .upsert_items(&[item("k1", "Một (sửa)")], now)
            .expect("edit");
        assert_eq!(c.updated, 1);
        assert_eq!(s.item_count().expect("count"), 2);
        let changed = s.items_after_seq(2, 10).expect("log");
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].title, "Một (sửa)");
        assert_eq!(changed[0].seq, 3);
    }

    #[test]
    fn a_guid_made_up_on_every_fetch_is_still_one_item() {
        let s = store_with_source();
        let now = Utc::now();
        let story = |guid: &str, url: &str, text: &str| {
            let mut i = item(&format!("guid:{guid}"), "Tin");
            i.guid = Some(guid.into());
            i.url = Some(url.into());
            i.canonical_url = Some(url.split('#').next().unwrap_or(url).into());
            i.content_hash = format!("h-{url}-{text}");
            i
        };
        for n in 0..3 {
            let c = s
                .upsert_items(&[story(&format!("g{n}"), "https://a.vn/1", "x")], now)
                .expect("upsert");
            assert_eq!(c.new, usize::from(n == 0), "fetch {n}");
        }
        assert_eq!(s.item_count().expect("count"), 1);
        // Same link, other content: another item. Same page, other anchor: another item.
        s.upsert_items(&[story("g9", "https://a.vn/1", "y")], now)
            .expect("other content");
        s.upsert_items(
            &[
                story("p1", "https://a.vn/t#post-1", "+1"),
                story("p2", "https://a.vn/t#post-2", "+1"),
            ],
            now,
        )
        .expect("forum posts");
        assert_eq!(s.item_count().expect("count"), 4);
    }
}
