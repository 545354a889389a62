//! The LSH band keys of the clustered items, held in memory by time bucket, so that
//! clustering finds an item's candidate duplicates without one index seek per band.
//!
//! On disk each filed item has one row of `item_bands`: its time bucket, its id and its
//! 32 band hashes as one blob. The row's key is (bucket, id), and ids only grow, so a new
//! item's row goes where its bucket's rows end — close to an append. (The earlier table
//! held one row per band keyed by the band's hash: 32 inserts at random places of a table
//! of 32 rows per item, each dirtying its own page; at a million items they were the
//! largest part of storing.) Looking a band up by its hash is done here: a bucket's rows
//! are read the first time the bucket is asked about (a daemon fetching recent news
//! reads two or three), and kept as one sorted array of (hash, id) pairs with a
//! directory on the hash's top bits (one or two cache lines per lookup), plus a small
//! map of the pairs filed since, merged into the array when it grows. Eight bytes per
//! band key: 256 bytes per item of the buckets held.
//!
//! Keys written through this store are filed here as their rows are written; a commit by
//! any other connection (`PRAGMA data_version` changed: `gomtin post add` beside the
//! daemon) forgets every bucket, to be read again from the table, and so does a
//! transaction that failed after filing keys (`clear`).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rusqlite::Connection;

use crate::cluster::BANDS;
use crate::error::{Error, Result};

/// The id of a pair removed from a bucket's sorted array (an edited or deleted item).
const GONE: u32 = u32::MAX;
/// Pairs filed since the last merge that a bucket keeps beside its array at least and at
/// most (an eighth of the array in between).
const TAIL_MIN: usize = 1024;
const TAIL_MAX: usize = 32_768;

/// One item's band hashes as `item_bands` stores them (`BANDS` little-endian `u32`s).
pub(super) fn hashes_to_blob(hashes: &[u32; BANDS]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.to_le_bytes()).collect()
}

/// The band hashes of a stored blob; `None` when it is not of the stored length.
pub(super) fn hashes_from_blob(blob: &[u8]) -> Option<[u32; BANDS]> {
    if blob.len() != BANDS * 4 {
        return None;
    }
    Some(std::array::from_fn(|b| {
        u32::from_le_bytes([
            blob[4 * b],
            blob[4 * b + 1],
            blob[4 * b + 2],
            blob[4 * b + 3],
        ])
    }))
}

#[derive(Default)]
pub(super) struct BandIndex {
    /// `PRAGMA data_version` of the writer connection when the buckets were last known
    /// to hold every row; `None` before the first look.
    version: Option<i64>,
    buckets: HashMap<i64, Bucket>,
}

/// The band hashes are hashes already: the tail map uses them as they are.
#[derive(Default)]
struct SameHash(u64);

impl Hasher for SameHash {
    fn finish(&self) -> u64 {
        // Spread over the high bits too (the map takes its control bits from there).
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n);
    }
}

/// One time bucket's (hash, id) pairs.
#[derive(Default)]
struct Bucket {
    /// `hash << 32 | id`, sorted; a removed pair keeps its hash with the id [`GONE`].
    sorted: Vec<u64>,
    /// `dir[s]`: the first pair of `sorted` whose hash's top bits are `s` or more.
    dir: Vec<u32>,
    /// `32 - ` the number of top bits the directory goes by.
    shift: u32,
    /// Pairs filed since the last merge, by hash.
    tail: HashMap<u32, Vec<u32>, BuildHasherDefault<SameHash>>,
    tail_len: usize,
    gone: usize,
}

impl Bucket {
    fn from_pairs(mut pairs: Vec<u64>) -> Bucket {
        pairs.sort_unstable();
        let mut b = Bucket {
            sorted: pairs,
            ..Bucket::default()
        };
        b.index();
        b
    }

    /// Rebuild the directory of `sorted`: about eight pairs per entry, 2^16 entries at most.
    fn index(&mut self) {
        let bits = (self.sorted.len() / 8).max(1).ilog2().min(16);
        self.shift = 32 - bits;
        let slots = 1usize << bits;
        let mut dir = Vec::with_capacity(slots + 1);
        let mut i = 0;
        for s in 0..=slots as u64 {
            let first = s << self.shift;
            while i < self.sorted.len() && (self.sorted[i] >> 32) < first {
                i += 1;
            }
            dir.push(i as u32);
        }
        self.dir = dir;
    }

    /// The range of `sorted` holding the pairs of `hash`.
    fn range(&self, hash: u32) -> std::ops::Range<usize> {
        let s = (u64::from(hash) >> self.shift) as usize;
        let (a, b) = (self.dir[s] as usize, self.dir[s + 1] as usize);
        let part = &self.sorted[a..b];
        let from = part.partition_point(|e| (e >> 32) < u64::from(hash));
        let len = part[from..]
            .iter()
            .take_while(|e| (*e >> 32) as u32 == hash)
            .count();
        a + from..a + from + len
    }

    fn ids(&self, hash: u32, out: &mut Vec<i64>) {
        for e in &self.sorted[self.range(hash)] {
            let id = *e as u32;
            if id != GONE {
                out.push(i64::from(id));
            }
        }
        if let Some(t) = self.tail.get(&hash) {
            out.extend(t.iter().map(|id| i64::from(*id)));
        }
    }

    fn add(&mut self, hash: u32, id: u32) {
        self.tail.entry(hash).or_default().push(id);
        self.tail_len += 1;
        if self.tail_len > (self.sorted.len() / 8).clamp(TAIL_MIN, TAIL_MAX) {
            self.merge();
        }
    }

    fn remove(&mut self, hash: u32, id: u32) {
        if let Some(t) = self.tail.get_mut(&hash)
            && let Some(at) = t.iter().position(|x| *x == id)
        {
            t.swap_remove(at);
            if t.is_empty() {
                self.tail.remove(&hash);
            }
            self.tail_len -= 1;
            return;
        }
        let range = self.range(hash);
        let pair = (u64::from(hash) << 32) | u64::from(id);
        if let Some(e) = self.sorted[range].iter_mut().find(|e| **e == pair) {
            *e = (u64::from(hash) << 32) | u64::from(GONE);
            self.gone += 1;
        }
    }

    /// The tail into the sorted array, without the removed pairs.
    fn merge(&mut self) {
        let mut new: Vec<u64> = Vec::with_capacity(self.tail_len);
        for (hash, ids) in self.tail.drain() {
            new.extend(
                ids.iter()
                    .map(|id| (u64::from(hash) << 32) | u64::from(*id)),
            );
        }
        new.sort_unstable();
        let old = std::mem::take(&mut self.sorted);
        let mut out = Vec::with_capacity(old.len() - self.gone + new.len());
        let (mut a, mut b) = (
            old.into_iter().filter(|e| *e as u32 != GONE).peekable(),
            new.into_iter().peekable(),
        );
        loop {
            let next = match (a.peek().copied(), b.peek().copied()) {
                (Some(x), Some(y)) if x <= y => a.next(),
                (Some(_), Some(_)) | (None, Some(_)) => b.next(),
                (Some(_), None) => a.next(),
                (None, None) => break,
            };
            out.extend(next);
        }
        self.sorted = out;
        self.tail_len = 0;
        self.gone = 0;
        self.index();
    }
}

/// An item id as a bucket holds it.
fn narrow(id: i64) -> Result<u32> {
    u32::try_from(id)
        .ok()
        .filter(|id| *id != GONE)
        .ok_or(Error::Store(rusqlite::Error::IntegralValueOutOfRange(
            0, id,
        )))
}

impl BandIndex {
    /// Forget every bucket if another connection has committed since the last look.
    /// Call it inside the transaction that then uses the index, after its first read
    /// (an `IMMEDIATE` one: at once), so that what it holds is what that transaction sees.
    pub(super) fn sync(&mut self, conn: &Connection) -> Result<()> {
        let version: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        if self.version != Some(version) {
            if self.version.is_some() && !self.buckets.is_empty() {
                tracing::debug!("another connection wrote the database; band index reread");
            }
            self.buckets.clear();
            self.version = Some(version);
        }
        Ok(())
    }

    /// Forget every bucket (rows written in bulk, or a transaction that filed keys here
    /// did not commit).
    pub(super) fn clear(&mut self) {
        self.buckets.clear();
    }

    /// Append to `out` the ids filed under `hash` in `bucket` (in no particular order),
    /// reading the bucket's rows first if it is not held yet.
    pub(super) fn ids(
        &mut self,
        conn: &Connection,
        bucket: i64,
        hash: u32,
        out: &mut Vec<i64>,
    ) -> Result<()> {
        let b = match self.buckets.entry(bucket) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(load(conn, bucket)?),
        };
        b.ids(hash, out);
        Ok(())
    }

    /// Item `id`'s row with `hashes` was written under `bucket`. A bucket not held yet
    /// needs nothing: it will be read from the table, this row included.
    pub(super) fn file(&mut self, bucket: i64, hashes: &[u32; BANDS], id: i64) -> Result<()> {
        let id = narrow(id)?;
        if let Some(b) = self.buckets.get_mut(&bucket) {
            for h in hashes {
                b.add(*h, id);
            }
        }
        Ok(())
    }

    /// Item `id`'s row with `hashes` under `bucket` was deleted.
    pub(super) fn forget(&mut self, bucket: i64, hashes: &[u32; BANDS], id: i64) -> Result<()> {
        let id = narrow(id)?;
        if let Some(b) = self.buckets.get_mut(&bucket) {
            for h in hashes {
                b.remove(*h, id);
            }
        }
        Ok(())
    }
}

/// A bucket from its rows of `item_bands` (a row whose blob is not of the stored length
/// is left out: it was not written by this program).
fn load(conn: &Connection, bucket: i64) -> Result<Bucket> {
    let started = std::time::Instant::now();
    let mut pairs = Vec::new();
    let mut stmt = conn.prepare_cached("SELECT item_id, keys FROM item_bands WHERE bucket = ?1")?;
    let mut rows = stmt.query([bucket])?;
    while let Some(r) = rows.next()? {
        let id = narrow(r.get(0)?)?;
        let blob = r.get_ref(1)?;
        let Some(hashes) = blob.as_blob().ok().and_then(hashes_from_blob) else {
            continue;
        };
        pairs.extend(hashes.iter().map(|h| (u64::from(*h) << 32) | u64::from(id)));
    }
    let rows = pairs.len() / BANDS;
    let b = Bucket::from_pairs(pairs);
    tracing::debug!(
        bucket,
        rows,
        ms = started.elapsed().as_millis() as u64,
        "band index of a bucket read"
    );
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = "CREATE TABLE item_bands (bucket INTEGER NOT NULL,
        item_id INTEGER NOT NULL, keys BLOB NOT NULL, PRIMARY KEY (bucket, item_id))
        WITHOUT ROWID";

    fn hashes(seed: u32) -> [u32; BANDS] {
        std::array::from_fn(|b| {
            seed.wrapping_mul(2_654_435_761) ^ (b as u32).wrapping_mul(0x5bd1_e995)
        })
    }

    fn store_row(conn: &Connection, bucket: i64, id: i64, h: &[u32; BANDS]) {
        conn.execute(
            "INSERT INTO item_bands (bucket, item_id, keys) VALUES (?1, ?2, ?3)",
            rusqlite::params![bucket, id, hashes_to_blob(h)],
        )
        .expect("insert");
    }

    fn ids_of(ix: &mut BandIndex, conn: &Connection, bucket: i64, hash: u32) -> Vec<i64> {
        let mut out = Vec::new();
        ix.ids(conn, bucket, hash, &mut out).expect("look");
        out.sort_unstable();
        out
    }

    #[test]
    fn the_blob_round_trips() {
        let h = hashes(7);
        assert_eq!(hashes_from_blob(&hashes_to_blob(&h)), Some(h));
        assert_eq!(hashes_from_blob(&[1, 2, 3]), None);
    }

    #[test]
    fn every_filed_pair_is_found_and_removed_ones_are_not() {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(SCHEMA).expect("schema");
        // Rows stored before the bucket is read, in two buckets (one before 1970).
        for id in 1..=300i64 {
            let bucket = if id % 2 == 0 { 1500 } else { -3 };
            store_row(&conn, bucket, id, &hashes(id as u32));
        }
        // Two items sharing one band.
        let mut shared = hashes(9_999);
        shared[5] = hashes(4)[5];
        store_row(&conn, 1500, 301, &shared);
        let mut ix = BandIndex::default();
        ix.sync(&conn).expect("sync");
        for id in 1..=300i64 {
            let bucket = if id % 2 == 0 { 1500 } else { -3 };
            for h in hashes(id as u32) {
                let found = ids_of(&mut ix, &conn, bucket, h);
                assert!(found.contains(&id), "{id} missed under {h}");
            }
        }
        assert_eq!(ids_of(&mut ix, &conn, 1500, hashes(4)[5]), vec![4, 301]);
        // Far more filed than the tail holds: merged into the array, still found.
        for id in 1_000..41_000i64 {
            ix.file(1500, &hashes(id as u32), id).expect("file");
        }
        for id in (1_000..41_000i64).step_by(97) {
            for h in hashes(id as u32) {
                assert!(ids_of(&mut ix, &conn, 1500, h).contains(&id), "{id} missed");
            }
        }
        assert!(ix.buckets[&1500].sorted.len() > 32 * 30_000, "never merged");
        // Removed pairs go, from the array and from the tail, and the rest stay.
        ix.forget(1500, &hashes(4), 4).expect("forget");
        ix.forget(1500, &hashes(40_999), 40_999).expect("forget");
        assert_eq!(ids_of(&mut ix, &conn, 1500, hashes(4)[5]), vec![301]);
        assert!(ids_of(&mut ix, &conn, 1500, hashes(40_999)[0]).is_empty());
        for id in 41_000..80_000i64 {
            ix.file(1500, &hashes(id as u32), id).expect("file");
        }
        assert_eq!(ids_of(&mut ix, &conn, 1500, hashes(4)[5]), vec![301]);
        assert!(ids_of(&mut ix, &conn, 1500, hashes(40_998)[3]).contains(&40_998));
        // A bucket nobody wrote holds nothing; an id out of range is an error.
        assert!(ids_of(&mut ix, &conn, 77, 5).is_empty());
        assert!(ix.file(1500, &hashes(1), i64::from(u32::MAX)).is_err());
    }

    #[test]
    fn a_commit_by_another_connection_rereads_the_buckets() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("b.sqlite");
        let a = Connection::open(&path).expect("a");
        a.pragma_update(None, "journal_mode", "WAL").expect("wal");
        a.execute_batch(SCHEMA).expect("schema");
        let b = Connection::open(&path).expect("b");
        let mut ix = BandIndex::default();
        ix.sync(&a).expect("sync");
        assert!(ids_of(&mut ix, &a, 2000, 42).is_empty());
        store_row(&b, 2000, 9, &hashes(42));
        ix.sync(&a).expect("sync");
        assert_eq!(ids_of(&mut ix, &a, 2000, hashes(42)[0]), vec![9]);
        // The connection's own writes do not reset it (they are filed as written).
        store_row(&a, 2000, 10, &hashes(43));
        ix.file(2000, &hashes(43), 10).expect("file");
        ix.sync(&a).expect("sync");
        assert!(ix.buckets.contains_key(&2000), "own write reset the index");
        // Nor does the writer truncating its own log (`checkpoint::truncate_if_large`).
        let _: i64 = a
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
            .expect("truncate");
        ix.sync(&a).expect("sync");
        assert!(
            ix.buckets.contains_key(&2000),
            "own truncate reset the index"
        );
        assert_eq!(ids_of(&mut ix, &a, 2000, hashes(43)[7]), vec![10]);
    }
}
