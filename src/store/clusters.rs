//! Near-duplicate clusters in SQLite: each item's MinHash signature, its LSH band keys and
//! its cluster id. An item is clustered in the same transaction that stores it
//! (`upsert_items`, through [`find_cluster`] and [`file_bands`]) whenever every earlier item
//! has been; the `seq` change log with its own high-water mark (like the index) catches up
//! the rest — rows from before signatures were stored, or a database whose clustering fell
//! behind — so each new or edited item is clustered once. See `cluster` for the
//! similarity rule.

use std::collections::HashMap;

use chrono::Duration;
use rusqlite::{OptionalExtension, Transaction, params};

use super::Store;
use super::bands::{BandIndex, BandsTx, Member, write_row};
use crate::cluster::{Signature, WINDOW_DAYS, bucket_of, buckets_near, item_text, signature};
use crate::error::Result;

/// Candidates compared per item at most: when a story is everywhere (boilerplate posted by
/// hundreds of pages), the newest few already tell which cluster it belongs to.
const MAX_CANDIDATES: usize = 64;
/// Newest items looked up per LSH band.
const PER_BAND: usize = 8;

/// The cluster a signed item published at `published` (Unix seconds) joins: that of the
/// stored item in the window telling the same story most closely, or `None` when there
/// is none and the item starts its own. `id` is the item's own id when it is stored
/// already (an edit), so that it does not find itself.
pub(super) fn find_cluster(
    tx: &Transaction<'_>,
    bands: &mut BandIndex,
    id: Option<i64>,
    sig: &Signature,
    published: i64,
) -> Result<Option<i64>> {
    let window = Duration::days(WINDOW_DAYS).num_seconds();
    // Newest few items of each band in the buckets the window spans — the item's own,
    // whose keys it is filed under, and a neighbour — then their signatures; bounded
    // however common the story is.
    let [own, neighbour] = buckets_near(published);
    let hashes = sig.band_hashes();
    let mut candidates: Vec<(i64, i64)> = Vec::new();
    let mut ids = Vec::new();
    for bucket in [own, neighbour] {
        for h in &hashes {
            ids.clear();
            bands.ids(tx, bucket, *h, &mut ids)?;
            // Newest first; those of the band beyond the first few are not looked at.
            ids.sort_unstable_by(|a, b| b.cmp(a));
            for other in ids.iter().take(PER_BAND) {
                if Some(*other) != id && !candidates.iter().any(|(_, c)| c == other) {
                    candidates.push((bucket, *other));
                }
            }
        }
    }
    candidates.truncate(MAX_CANDIDATES);
    // Compared as they were filed (`file_bands`): no read of the item rows.
    let mut best: Option<(f64, i64)> = None;
    for (bucket, other) in &candidates {
        let Some(o) = bands.member(*bucket, *other) else {
            continue;
        };
        if (o.published - published).abs() > window {
            continue;
        }
        let c = sig.containment(&o.sig);
        if sig.same_story(&o.sig) && best.is_none_or(|(b, _)| c > b) {
            best = Some((c, o.cluster));
        }
    }
    Ok(best.map(|(_, c)| c))
}

/// File item `id`, published at `published` and joining `cluster`, under the time bucket
/// of `published`, so that later items find it and compare with it: its row of
/// `item_bands` (in place of any it had), and in `bands`.
pub(super) fn file_bands(
    tx: &Transaction<'_>,
    bands: &mut BandIndex,
    id: i64,
    sig: &Signature,
    published: i64,
    cluster: i64,
) -> Result<()> {
    let bucket = bucket_of(published);
    let member = Member {
        published,
        cluster,
        sig: sig.clone(),
    };
    write_row(tx, bucket, id, &member)?;
    bands.file(bucket, id, member)
}

/// Remove what item `id` was filed under, before its text changes or it goes: its row of
/// `item_bands` (under the bucket of its stored publication time), and its entry in
/// `bands`.
pub(super) fn forget_bands(tx: &Transaction<'_>, bands: &mut BandIndex, id: i64) -> Result<()> {
    let Some(published) = tx
        .prepare_cached("SELECT published_at FROM items WHERE id = ?1")?
        .query_row([id], |r| r.get::<_, i64>(0))
        .optional()?
    else {
        return Ok(());
    };
    let bucket = bucket_of(published);
    tx.prepare_cached("DELETE FROM item_bands WHERE bucket = ?1 AND item_id = ?2")?
        .execute(params![bucket, id])?;
    bands.forget(bucket, id)
}

impl Store {
    /// Cluster every item changed since the last run. Returns how many were processed.
    pub fn cluster_pending(&self) -> Result<usize> {
        self.backfill_bands()?;
        let mut done = 0;
        loop {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            let hwm: i64 = tx.query_row(
                "SELECT clustered_seq FROM cluster_state WHERE id = 1",
                [],
                |r| r.get(0),
            )?;
            // After the first read: the band index then answers for this transaction's view.
            // Keys filed in memory by a batch that does not commit are forgotten.
            let mut bands = BandsTx::begin(&self.bands, &tx)?;
            // The signature was stored with the item (`upsert_items`): a blob, or no blob
            // and a shingle count (0) when the text is too short to compare. Rows written
            // before signatures were stored have neither and get it computed here.
            type Row = (i64, i64, Option<Vec<u8>>, Option<i64>, i64);
            let batch: Vec<Row> = {
                let mut stmt = tx.prepare_cached(
                    "SELECT id, seq, minhash, shingles, published_at FROM items
                     WHERE seq > ?1 ORDER BY seq LIMIT 1000",
                )?;
                stmt.query_map([hwm], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<rusqlite::Result<_>>()?
            };
            let Some(last_seq) = batch.last().map(|b| b.1) else {
                bands.keep();
                return Ok(done);
            };
            for (id, _, minhash, shingles, published) in &batch {
                let sig = match (minhash, shingles) {
                    (Some(bytes), Some(n)) => Signature::from_stored(bytes, *n),
                    (None, Some(_)) => None,
                    (_, None) => {
                        let (title, summary, content): (String, String, String) = tx
                            .prepare_cached(
                                "SELECT title, summary, content_text FROM items WHERE id = ?1",
                            )?
                            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                        signature(&item_text(&title, &summary, &content))
                    }
                };
                // An edited item's earlier keys went when its text changed (`upsert_items`).
                let cluster = match &sig {
                    None => *id,
                    Some(sig) => {
                        let joined = find_cluster(&tx, &mut bands, Some(*id), sig, *published)?
                            .unwrap_or(*id);
                        file_bands(&tx, &mut bands, *id, sig, *published, joined)?;
                        joined
                    }
                };
                tx.execute(
                    "UPDATE items SET minhash = ?2, shingles = ?3, cluster_id = ?4 WHERE id = ?1",
                    params![
                        id,
                        sig.as_ref().map(Signature::to_bytes),
                        sig.as_ref().map_or(0, |s| i64::from(s.shingles)),
                        cluster
                    ],
                )?;
                done += 1;
            }
            tx.execute(
                "UPDATE cluster_state SET clustered_seq = ?1 WHERE id = 1",
                [last_seq],
            )?;
            tx.commit()?;
            bands.keep();
            self.committed(&conn);
        }
    }

    /// Items clustered before the bands table existed (or changed form) get their bands
    /// once; items not clustered yet get theirs when they are clustered.
    pub(super) fn backfill_bands(&self) -> Result<()> {
        let mut conn = self.conn();
        // Asked before every batch: the empty-bands test first (one page), so the items
        // are only looked at when the bands table is empty.
        let missing: bool = conn.query_row(
            "SELECT NOT EXISTS (SELECT 1 FROM item_bands)
                AND EXISTS (SELECT 1 FROM items WHERE minhash IS NOT NULL AND seq <=
                    (SELECT clustered_seq FROM cluster_state WHERE id = 1))",
            [],
            |r| r.get(0),
        )?;
        if !missing {
            return Ok(());
        }
        let tx = conn.transaction()?;
        {
            let mut read = tx.prepare(
                "SELECT id, minhash, shingles, published_at, COALESCE(cluster_id, id) FROM items
                 WHERE minhash IS NOT NULL
                    AND seq <= (SELECT clustered_seq FROM cluster_state WHERE id = 1)",
            )?;
            let rows = read.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })?;
            for row in rows {
                let (id, bytes, shingles, published, cluster) = row?;
                if let Some(sig) = Signature::from_stored(&bytes, shingles) {
                    let member = Member {
                        published,
                        cluster,
                        sig,
                    };
                    write_row(&tx, bucket_of(published), id, &member)?;
                }
            }
        }
        tx.commit()?;
        // Thousands of rows at once: the buckets are read from the table when asked.
        self.bands.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.committed(&conn);
        Ok(())
    }

    /// The cluster id of each of these items (items not clustered yet are absent).
    pub fn clusters_of(&self, ids: &[i64]) -> Result<HashMap<i64, i64>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT cluster_id FROM items WHERE id = ?1 AND cluster_id IS NOT NULL",
        )?;
        let mut out = HashMap::new();
        for id in ids {
            if let Some(c) = stmt
                .query_map([id], |r| r.get::<_, i64>(0))?
                .next()
                .transpose()?
            {
                out.insert(*id, c);
            }
        }
        Ok(out)
    }
}
