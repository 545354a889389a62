//! The LSH band keys and signatures of the clustered items, held in memory by time
//! bucket, so that clustering finds an item's candidate duplicates, and compares them,
//! without reading the items table.
//!
//! On disk each filed item has one row of `item_bands`: its time bucket, its id, what
//! clustering compares of it (publication time, cluster, signature). The row's key is
//! (bucket, id), and ids only grow, so a new item's row goes where its bucket's rows end —
//! close to an append. (The earlier table held one row per band keyed by the band's hash:
//! 32 inserts at random places of a table of 32 rows per item, each dirtying its own page;
//! and each of up to 64 candidates was then read from its item row, past the text, in
//! overflow pages: at a million items these were the largest part of storing.) Looking a
//! band up by its hash is done here: a bucket's rows are read the first time the bucket
//! is asked about (a daemon fetching recent news reads two or three), and kept as one
//! sorted array of (hash, id) pairs with a directory on the hash's top bits (one or two
//! cache lines per lookup), plus a small map of the pairs filed since, merged into the
//! array when it grows; beside them, each item's [`Member`]. About 550 bytes per item of
//! the buckets held (8 per band key, the rest its signature).
//!
//! Items filed through this store are filed here as their rows are written; a commit by
//! any other connection (`PRAGMA data_version` changed: `gomtin post add` beside the
//! daemon) forgets every bucket, to be read again from the table, and so does a
//! transaction that filed or forgot items here and then did not commit (`BandsTx`).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

use crate::cluster::{BANDS, Signature};
use crate::error::{Error, Result};

/// The id of a pair removed from a bucket's sorted array (an edited or deleted item).
const GONE: u32 = u32::MAX;
/// Pairs filed since the last merge that a bucket keeps beside its array at least and at
/// most (an eighth of the array in between).
const TAIL_MIN: usize = 1024;
const TAIL_MAX: usize = 32_768;

/// What clustering compares of a filed item.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Member {
    /// Publication time, Unix seconds.
    pub(super) published: i64,
    /// The cluster it was filed in (its own id when it started one).
    pub(super) cluster: i64,
    pub(super) sig: Signature,
}

/// Write item `id`'s row of `item_bands` under `bucket`, in place of any it had.
pub(super) fn write_row(conn: &Connection, bucket: i64, id: i64, m: &Member) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO item_bands
            (bucket, item_id, published_at, cluster_id, shingles, minhash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(rusqlite::params![
        bucket,
        id,
        m.published,
        m.cluster,
        m.sig.shingles,
        m.sig.to_bytes()
    ])?;
    Ok(())
}

#[derive(Default)]
pub(super) struct BandIndex {
    /// `PRAGMA data_version` of the writer connection when the buckets were last known
    /// to hold every row; `None` before the first look.
    version: Option<i64>,
    buckets: HashMap<i64, Bucket>,
}

/// The band hashes are hashes already, and item ids are spread by `finish`: the maps use
/// them as they are.
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

/// One time bucket's (hash, id) pairs and members.
#[derive(Default)]
struct Bucket {
    members: HashMap<u32, Member, BuildHasherDefault<SameHash>>,
    /// `hash << 32 | id`, sorted; a removed pair keeps its hash with the id [`GONE`].
    sorted: Vec<u64>,
    /// `dir[s]`: the first pair of `sorted` whose hash's top bits are `s` or more.
    dir: Vec<u32>,
    /// `32 - ` the number of top bits the directory goes by.
    shift: u32,
    /// Pairs filed since the last merge, by hash: the first id of each hash here (nearly
    /// every hash has one: no allocation per pair), any further ids in `more`.
    tail: HashMap<u32, u32, BuildHasherDefault<SameHash>>,
    more: HashMap<u32, Vec<u32>, BuildHasherDefault<SameHash>>,
    tail_len: usize,
    gone: usize,
}

impl Bucket {
    fn from_members(members: HashMap<u32, Member, BuildHasherDefault<SameHash>>) -> Bucket {
        let mut pairs = Vec::with_capacity(members.len() * BANDS);
        for (id, m) in &members {
            pairs.extend(
                m.sig
                    .band_hashes()
                    .iter()
                    .map(|h| (u64::from(*h) << 32) | u64::from(*id)),
            );
        }
        pairs.sort_unstable();
        let mut b = Bucket {
            members,
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
        if let Some(first) = self.tail.get(&hash) {
            out.push(i64::from(*first));
            if let Some(more) = self.more.get(&hash) {
                out.extend(more.iter().map(|id| i64::from(*id)));
            }
        }
    }

    fn add(&mut self, hash: u32, id: u32) {
        match self.tail.entry(hash) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(id);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.more.entry(hash).or_default().push(id);
            }
        }
        self.tail_len += 1;
        if self.tail_len > (self.sorted.len() / 8).clamp(TAIL_MIN, TAIL_MAX) {
            self.merge();
        }
    }

    fn remove(&mut self, hash: u32, id: u32) {
        if let Some(first) = self.tail.get(&hash).copied() {
            let more = self.more.get_mut(&hash);
            let found = if first == id {
                // The next id of the hash, if any, takes the first place.
                match more.and_then(Vec::pop) {
                    Some(next) => self.tail.insert(hash, next),
                    None => self.tail.remove(&hash),
                };
                true
            } else if let Some(more) = more
                && let Some(at) = more.iter().position(|x| *x == id)
            {
                more.swap_remove(at);
                true
            } else {
                false
            };
            if self.more.get(&hash).is_some_and(Vec::is_empty) {
                self.more.remove(&hash);
            }
            if found {
                self.tail_len -= 1;
                return;
            }
        }
        let range = self.range(hash);
        let pair = (u64::from(hash) << 32) | u64::from(id);
        if let Some(e) = self.sorted[range].iter_mut().find(|e| **e == pair) {
            *e = (u64::from(hash) << 32) | u64::from(GONE);
            self.gone += 1;
        }
    }

    /// Item `id` and its pairs, if it is here.
    fn drop_member(&mut self, id: u32) {
        if let Some(old) = self.members.remove(&id) {
            for h in old.sig.band_hashes() {
                self.remove(h, id);
            }
        }
    }

    /// The tail into the sorted array, without the removed pairs.
    fn merge(&mut self) {
        let mut new: Vec<u64> = Vec::with_capacity(self.tail_len);
        let pair = |hash: u32, id: u32| (u64::from(hash) << 32) | u64::from(id);
        new.extend(self.tail.drain().map(|(hash, id)| pair(hash, id)));
        for (hash, ids) in self.more.drain() {
            new.extend(ids.iter().map(|id| pair(hash, *id)));
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

/// The band index held by one write transaction. What the transaction files or forgets
/// here stands only if it commits and says so (`keep`); dropped otherwise (an error, an
/// early return, a panic), it forgets every bucket, to be read again from the table.
pub(super) struct BandsTx<'a> {
    index: MutexGuard<'a, BandIndex>,
    kept: bool,
}

impl<'a> BandsTx<'a> {
    /// Lock the index for the transaction `conn` is in and `sync` it (after the
    /// transaction's first read).
    pub(super) fn begin(index: &'a Mutex<BandIndex>, conn: &Connection) -> Result<Self> {
        let mut held = BandsTx {
            index: index.lock().unwrap_or_else(|p| p.into_inner()),
            kept: false,
        };
        held.index.sync(conn)?;
        Ok(held)
    }

    /// The transaction committed (or changed nothing here): what it filed stands.
    pub(super) fn keep(mut self) {
        self.kept = true;
    }
}

impl Deref for BandsTx<'_> {
    type Target = BandIndex;
    fn deref(&self) -> &BandIndex {
        &self.index
    }
}

impl DerefMut for BandsTx<'_> {
    fn deref_mut(&mut self) -> &mut BandIndex {
        &mut self.index
    }
}

impl Drop for BandsTx<'_> {
    fn drop(&mut self) {
        if !self.kept {
            self.index.clear();
        }
    }
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

    /// What item `id` filed under `bucket` is compared by (the bucket is held: `ids`
    /// was asked about it in this transaction).
    pub(super) fn member(&self, bucket: i64, id: i64) -> Option<&Member> {
        let id = narrow(id).ok()?;
        self.buckets.get(&bucket)?.members.get(&id)
    }

    /// Item `id`'s row was written under `bucket` (in place of any it had). A bucket not
    /// held yet needs nothing: it will be read from the table, this row included.
    pub(super) fn file(&mut self, bucket: i64, id: i64, member: Member) -> Result<()> {
        let id = narrow(id)?;
        if let Some(b) = self.buckets.get_mut(&bucket) {
            b.drop_member(id);
            for h in member.sig.band_hashes() {
                b.add(h, id);
            }
            b.members.insert(id, member);
        }
        Ok(())
    }

    /// Item `id`'s row under `bucket` was deleted.
    pub(super) fn forget(&mut self, bucket: i64, id: i64) -> Result<()> {
        let id = narrow(id)?;
        if let Some(b) = self.buckets.get_mut(&bucket) {
            b.drop_member(id);
        }
        Ok(())
    }
}

/// A bucket from its rows of `item_bands` (a row whose signature is not of the stored
/// length is left out: it was not written by this program).
fn load(conn: &Connection, bucket: i64) -> Result<Bucket> {
    let started = std::time::Instant::now();
    let mut members = HashMap::default();
    let mut stmt = conn.prepare_cached(
        "SELECT item_id, published_at, cluster_id, shingles, minhash FROM item_bands
         WHERE bucket = ?1",
    )?;
    let mut rows = stmt.query([bucket])?;
    while let Some(r) = rows.next()? {
        let id = narrow(r.get(0)?)?;
        let shingles: i64 = r.get(3)?;
        let blob = r.get_ref(4)?;
        let Some(sig) = blob
            .as_blob()
            .ok()
            .and_then(|b| Signature::from_stored(b, shingles))
        else {
            continue;
        };
        let (published, cluster) = (r.get(1)?, r.get(2)?);
        members.insert(
            id,
            Member {
                published,
                cluster,
                sig,
            },
        );
    }
    let rows = members.len();
    let b = Bucket::from_members(members);
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
    use crate::cluster::HASHES;

    const SCHEMA: &str = "CREATE TABLE item_bands (bucket INTEGER NOT NULL,
        item_id INTEGER NOT NULL, published_at INTEGER NOT NULL, cluster_id INTEGER NOT NULL,
        shingles INTEGER NOT NULL, minhash BLOB NOT NULL, PRIMARY KEY (bucket, item_id))
        WITHOUT ROWID";

    fn sig(seed: u32) -> Signature {
        Signature {
            mins: std::array::from_fn(|h| {
                seed.wrapping_mul(2_654_435_761) ^ (h as u32).wrapping_mul(0x5bd1_e995)
            }),
            shingles: 40 + seed % 100,
        }
    }

    fn member(seed: u32) -> Member {
        Member {
            published: 1_700_000_000 + i64::from(seed),
            cluster: i64::from(seed % 7),
            sig: sig(seed),
        }
    }

    fn hashes(seed: u32) -> [u32; BANDS] {
        sig(seed).band_hashes()
    }

    fn store_row(conn: &Connection, bucket: i64, id: i64, m: &Member) {
        write_row(conn, bucket, id, m).expect("insert");
    }

    fn ids_of(ix: &mut BandIndex, conn: &Connection, bucket: i64, hash: u32) -> Vec<i64> {
        let mut out = Vec::new();
        ix.ids(conn, bucket, hash, &mut out).expect("look");
        out.sort_unstable();
        out
    }

    #[test]
    fn a_row_reads_back_as_it_was_written() {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(SCHEMA).expect("schema");
        store_row(&conn, 3, 11, &member(11));
        // A signature of another length (not written by this program) is left out.
        conn.execute(
            "INSERT INTO item_bands VALUES (3, 12, 0, 12, 50, x'0102')",
            [],
        )
        .expect("short row");
        let mut ix = BandIndex::default();
        ix.sync(&conn).expect("sync");
        assert_eq!(ids_of(&mut ix, &conn, 3, hashes(11)[0]), vec![11]);
        assert_eq!(ix.member(3, 11), Some(&member(11)));
        assert_eq!(ix.member(3, 12), None);
        assert_eq!(ix.member(4, 11), None, "another bucket");
        // Written again: the new row in place of the old.
        let mut edited = member(11);
        edited.cluster = 99;
        store_row(&conn, 3, 11, &edited);
        let n: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM item_bands WHERE item_id = 11",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(n, 1);
    }

    #[test]
    fn every_filed_pair_is_found_and_removed_ones_are_not() {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(SCHEMA).expect("schema");
        // Rows stored before the bucket is read, in two buckets (one before 1970).
        for id in 1..=300i64 {
            let bucket = if id % 2 == 0 { 1500 } else { -3 };
            store_row(&conn, bucket, id, &member(id as u32));
        }
        // Two items sharing one band (its two rows of minimums).
        let mut shared = member(9_999);
        let rows = HASHES / BANDS;
        shared.sig.mins[5 * rows..6 * rows].copy_from_slice(&sig(4).mins[5 * rows..6 * rows]);
        store_row(&conn, 1500, 301, &shared);
        let mut ix = BandIndex::default();
        ix.sync(&conn).expect("sync");
        for id in 1..=300i64 {
            let bucket = if id % 2 == 0 { 1500 } else { -3 };
            for h in hashes(id as u32) {
                let found = ids_of(&mut ix, &conn, bucket, h);
                assert!(found.contains(&id), "{id} missed under {h}");
            }
            assert_eq!(ix.member(bucket, id), Some(&member(id as u32)));
        }
        assert_eq!(ids_of(&mut ix, &conn, 1500, hashes(4)[5]), vec![4, 301]);
        // Far more filed than the tail holds: merged into the array, still found.
        for id in 1_000..41_000i64 {
            ix.file(1500, id, member(id as u32)).expect("file");
        }
        for id in (1_000..41_000i64).step_by(97) {
            for h in hashes(id as u32) {
                assert!(ids_of(&mut ix, &conn, 1500, h).contains(&id), "{id} missed");
            }
        }
        assert!(ix.buckets[&1500].sorted.len() > 32 * 30_000, "never merged");
        // Removed items go, from the array and from the tail, and the rest stay.
        ix.forget(1500, 4).expect("forget");
        ix.forget(1500, 40_999).expect("forget");
        assert_eq!(ids_of(&mut ix, &conn, 1500, hashes(4)[5]), vec![301]);
        assert!(ids_of(&mut ix, &conn, 1500, hashes(40_999)[0]).is_empty());
        assert_eq!(ix.member(1500, 4), None);
        // Filed again with another signature: found by the new keys only.
        ix.file(1500, 40_998, member(77_777)).expect("refile");
        assert!(!ids_of(&mut ix, &conn, 1500, hashes(40_998)[3]).contains(&40_998));
        assert!(ids_of(&mut ix, &conn, 1500, hashes(77_777)[3]).contains(&40_998));
        for id in 41_000..80_000i64 {
            ix.file(1500, id, member(id as u32)).expect("file");
        }
        assert_eq!(ids_of(&mut ix, &conn, 1500, hashes(4)[5]), vec![301]);
        assert!(ids_of(&mut ix, &conn, 1500, hashes(40_997)[3]).contains(&40_997));
        assert!(!ids_of(&mut ix, &conn, 1500, hashes(40_998)[3]).contains(&40_998));
        // A bucket nobody wrote holds nothing; an id out of range is an error.
        assert!(ids_of(&mut ix, &conn, 77, 5).is_empty());
        assert!(ix.file(1500, i64::from(u32::MAX), member(1)).is_err());
    }

    #[test]
    fn ids_sharing_a_band_in_the_tail_are_each_found_and_removed() {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(SCHEMA).expect("schema");
        let mut ix = BandIndex::default();
        ix.sync(&conn).expect("sync");
        assert!(ids_of(&mut ix, &conn, 5, 0).is_empty());
        // Three items sharing band 2, filed after the bucket was read: all in the tail.
        let rows = HASHES / BANDS;
        let sharing = |seed: u32| {
            let mut m = member(seed);
            m.sig.mins[2 * rows..3 * rows].copy_from_slice(&sig(1).mins[2 * rows..3 * rows]);
            m
        };
        for id in [10, 11, 12] {
            ix.file(5, id, sharing(id as u32)).expect("file");
        }
        let band = hashes(1)[2];
        assert_eq!(ids_of(&mut ix, &conn, 5, band), vec![10, 11, 12]);
        ix.forget(5, 10).expect("first");
        assert_eq!(ids_of(&mut ix, &conn, 5, band), vec![11, 12]);
        ix.forget(5, 12).expect("last");
        assert_eq!(ids_of(&mut ix, &conn, 5, band), vec![11]);
        ix.file(5, 13, sharing(13)).expect("again");
        assert_eq!(ids_of(&mut ix, &conn, 5, band), vec![11, 13]);
        ix.forget(5, 11).expect("first again");
        ix.forget(5, 13).expect("the rest");
        assert!(ids_of(&mut ix, &conn, 5, band).is_empty());
        let b = &ix.buckets[&5];
        assert_eq!(b.tail_len, 0);
        assert!(b.tail.is_empty() && b.more.is_empty() && b.members.is_empty());
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
        assert!(ids_of(&mut ix, &a, 2000, hashes(42)[0]).is_empty());
        store_row(&b, 2000, 9, &member(42));
        ix.sync(&a).expect("sync");
        assert_eq!(ids_of(&mut ix, &a, 2000, hashes(42)[0]), vec![9]);
        // The connection's own writes do not reset it (they are filed as written).
        store_row(&a, 2000, 10, &member(43));
        ix.file(2000, 10, member(43)).expect("file");
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

    #[test]
    fn items_filed_by_a_transaction_that_does_not_commit_are_forgotten() {
        let mut conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(SCHEMA).expect("schema");
        store_row(&conn, 7, 1, &member(1));
        let index = Mutex::new(BandIndex::default());
        // Committed and kept: the filed item stays beside the bucket read from the table.
        {
            let tx = conn.transaction().expect("tx");
            let mut held = BandsTx::begin(&index, &tx).expect("begin");
            assert_eq!(ids_of(&mut held, &tx, 7, hashes(1)[0]), vec![1]);
            store_row(&tx, 7, 2, &member(2));
            held.file(7, 2, member(2)).expect("file");
            tx.commit().expect("commit");
            held.keep();
        }
        assert!(index.lock().expect("lock").buckets.contains_key(&7));
        // Filed, then the transaction fails: the row is rolled back and so is the item.
        {
            let tx = conn.transaction().expect("tx");
            let mut held = BandsTx::begin(&index, &tx).expect("begin");
            store_row(&tx, 7, 3, &member(3));
            held.file(7, 3, member(3)).expect("file");
            held.forget(7, 1).expect("forget");
            // Dropped without `keep`, as on an early `?`.
        }
        let mut ix = index.lock().expect("lock");
        assert!(ix.buckets.is_empty(), "uncommitted items kept");
        assert!(ids_of(&mut ix, &conn, 7, hashes(3)[4]).is_empty());
        assert_eq!(ids_of(&mut ix, &conn, 7, hashes(1)[4]), vec![1]);
        assert_eq!(ids_of(&mut ix, &conn, 7, hashes(2)[4]), vec![2]);
        assert_eq!(ix.member(7, 2), Some(&member(2)));
    }
}
