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
use super::bands::BandFilter;
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
    filter: &mut BandFilter,
    id: Option<i64>,
    sig: &Signature,
    published: i64,
) -> Result<Option<i64>> {
    let window = Duration::days(WINDOW_DAYS).num_seconds();
    // Newest few items of each band in the buckets the window spans — the item's own,
    // whose keys it is filed under, and a neighbour (index range scans) — then their
    // signatures; bounded however common the story is.
    let [own, neighbour] = buckets_near(published);
    let mut candidates: Vec<i64> = Vec::new();
    {
        let mut by_band = tx.prepare_cached(&format!(
            "SELECT item_id FROM minhash_bands WHERE band = ?1
             ORDER BY item_id DESC LIMIT {PER_BAND}"
        ))?;
        for k in sig.band_keys(own).iter().chain(&sig.band_keys(neighbour)) {
            // Most keys are no other item's: the filter says so without a seek.
            if !filter.may_hold(tx, *k)? {
                continue;
            }
            for other in by_band.query_map([k], |r| r.get::<_, i64>(0))? {
                let other = other?;
                if Some(other) != id && !candidates.contains(&other) {
                    candidates.push(other);
                }
            }
        }
    }
    candidates.truncate(MAX_CANDIDATES);
    let mut stmt = tx.prepare_cached(
        "SELECT cluster_id, minhash, shingles FROM items
         WHERE id = ?1 AND minhash IS NOT NULL AND published_at BETWEEN ?2 AND ?3",
    )?;
    let mut best: Option<(f64, i64)> = None;
    for other in &candidates {
        let row = stmt
            .query_row(
                params![other, published - window, published + window],
                |r| {
                    Ok((
                        r.get::<_, Option<i64>>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                },
            )
            .optional()?;
        let Some((other_cluster, bytes, shingles)) = row else {
            continue;
        };
        let Some(o) = Signature::from_stored(&bytes, shingles) else {
            continue;
        };
        let c = sig.containment(&o);
        if sig.same_story(&o) && best.is_none_or(|(b, _)| c > b) {
            best = Some((c, other_cluster.unwrap_or(*other)));
        }
    }
    Ok(best.map(|(_, c)| c))
}

/// File item `id`'s LSH band keys under the time bucket of `published`, so that later
/// items find it. Keys filed already (an item clustered again) are left as they are.
pub(super) fn file_bands(
    tx: &Transaction<'_>,
    filter: &mut BandFilter,
    id: i64,
    sig: &Signature,
    published: i64,
) -> Result<()> {
    let mut ins =
        tx.prepare_cached("INSERT OR IGNORE INTO minhash_bands (band, item_id) VALUES (?1, ?2)")?;
    for k in sig.band_keys(bucket_of(published)) {
        ins.execute(params![k, id])?;
        filter.add(k);
    }
    Ok(())
}

/// Remove the band keys item `id` was filed under for its stored signature, before its
/// text changes: worked out from that signature and its publication time (Unix seconds)
/// and removed by primary key.
pub(super) fn forget_bands(tx: &Transaction<'_>, id: i64) -> Result<()> {
    let stored = tx
        .prepare_cached("SELECT minhash, shingles, published_at FROM items WHERE id = ?1")?
        .query_row([id], |r| {
            Ok((
                r.get::<_, Option<Vec<u8>>>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .optional()?;
    let Some((Some(bytes), Some(shingles), published)) = stored else {
        return Ok(());
    };
    let Some(sig) = Signature::from_stored(&bytes, shingles) else {
        return Ok(());
    };
    let mut del =
        tx.prepare_cached("DELETE FROM minhash_bands WHERE band = ?1 AND item_id = ?2")?;
    for k in &sig.band_keys(bucket_of(published)) {
        del.execute(params![k, id])?;
    }
    Ok(())
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
            // After the first read: the filter then answers for this transaction's view.
            let mut filter = self.bands.lock().unwrap_or_else(|p| p.into_inner());
            filter.sync(&tx)?;
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
                        let joined = find_cluster(&tx, &mut filter, Some(*id), sig, *published)?;
                        file_bands(&tx, &mut filter, *id, sig, *published)?;
                        joined.unwrap_or(*id)
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
            drop(filter);
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
            "SELECT NOT EXISTS (SELECT 1 FROM minhash_bands)
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
                "SELECT id, minhash, shingles, published_at FROM items WHERE minhash IS NOT NULL
                    AND seq <= (SELECT clustered_seq FROM cluster_state WHERE id = 1)",
            )?;
            let mut ins =
                tx.prepare("INSERT INTO minhash_bands (band, item_id) VALUES (?1, ?2)")?;
            let rows = read.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?;
            for row in rows {
                let (id, bytes, shingles, published) = row?;
                if let Some(sig) = Signature::from_stored(&bytes, shingles) {
                    for k in sig.band_keys(bucket_of(published)) {
                        ins.execute(params![k, id])?;
                    }
                }
            }
        }
        tx.commit()?;
        // Thousands of keys at once: the filters are rebuilt from the table when asked.
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
