//! Which LSH band keys the `minhash_bands` table may hold, in memory, so that clustering
//! looks up only keys that may be there. Nearly every key of a new item is its own (at a
//! million items, 31.3M distinct keys among 32.0M rows), so of the 64 index seeks
//! `find_cluster` made per item almost all found nothing; a Bloom filter answers those
//! without touching the database. It never says "absent" for a key the table holds —
//! what the table holds decides, as before; a false "may be there" costs one seek.
//!
//! One filter per time bucket (the keys' high 32 bits), built from the bucket's rows the
//! first time it is asked about, so memory goes to the buckets being written (a daemon
//! fetching recent news: two or three) and a bucket is read once. A full filter gets a
//! second, twice as large, beside it rather than a rebuild. Keys written through this
//! store are added as they are written; a commit by any other connection (`PRAGMA
//! data_version` changed: `gomtin post add` beside the daemon) forgets every filter, to
//! be rebuilt from the table.

use std::collections::HashMap;

use fastbloom::BloomFilter;
use rusqlite::Connection;

use crate::error::Result;

/// The false-positive rate a bucket's first filter is sized for; each later one is sized
/// for half the rate of the one before, so that together they stay under twice this.
const FALSE_POSITIVE: f64 = 0.01;
/// Keys the smallest filter is sized for.
const MIN_CAPACITY: usize = 4096;
/// The low 32 bits of a key: the band hash under the bucket.
const LOW: i64 = 0xFFFF_FFFF;

#[derive(Default)]
pub(super) struct BandFilter {
    /// `PRAGMA data_version` of the writer connection when the filters were last known to
    /// hold every key; `None` before the first look.
    version: Option<i64>,
    /// By bucket (a key with its low 32 bits cleared).
    buckets: HashMap<i64, Layers>,
}

/// A bucket's filters, the newest (and largest) last.
struct Layers(Vec<Layer>);

struct Layer {
    bloom: BloomFilter,
    capacity: usize,
    len: usize,
}

impl Layer {
    /// The `nth` filter of a bucket (from 0), for `capacity` keys.
    fn new(nth: usize, capacity: usize) -> Layer {
        let capacity = capacity.max(MIN_CAPACITY);
        let rate = FALSE_POSITIVE / f64::from(1u32 << nth.min(20));
        Layer {
            bloom: BloomFilter::with_false_pos(rate).expected_items(capacity),
            capacity,
            len: 0,
        }
    }
}

impl Layers {
    fn add(&mut self, key: i64) {
        let full = self.0.last().is_none_or(|l| l.len >= l.capacity);
        if full {
            let total: usize = self.0.iter().map(|l| l.capacity).sum();
            self.0.push(Layer::new(self.0.len(), total * 2));
        }
        if let Some(l) = self.0.last_mut() {
            l.bloom.insert(&key);
            l.len += 1;
        }
    }

    fn may_hold(&self, key: i64) -> bool {
        self.0.iter().any(|l| l.bloom.contains(&key))
    }
}

impl BandFilter {
    /// Forget every filter if another connection has committed since the last look.
    /// Call it inside the transaction that then uses the filter, after its first read
    /// (an `IMMEDIATE` one: at once), so that what the filter holds is what that
    /// transaction sees.
    pub(super) fn sync(&mut self, conn: &Connection) -> Result<()> {
        let version: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        if self.version != Some(version) {
            if self.version.is_some() && !self.buckets.is_empty() {
                tracing::debug!("another connection wrote the database; band filters rebuilt");
            }
            self.buckets.clear();
            self.version = Some(version);
        }
        Ok(())
    }

    /// Forget every filter (many keys were written at once, or some removed in bulk).
    pub(super) fn clear(&mut self) {
        self.buckets.clear();
    }

    /// False when the table surely holds no row with `key`; true when it may.
    pub(super) fn may_hold(&mut self, conn: &Connection, key: i64) -> Result<bool> {
        let bucket = key & !LOW;
        let layers = match self.buckets.entry(bucket) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(load(conn, bucket)?),
        };
        Ok(layers.may_hold(key))
    }

    /// `key` was written to the table. A bucket not loaded yet needs nothing: it will be
    /// read from the table, this row included.
    pub(super) fn add(&mut self, key: i64) {
        if let Some(layers) = self.buckets.get_mut(&(key & !LOW)) {
            layers.add(key);
        }
    }
}

/// The filter of one bucket, from its rows (a range of the table's key), sized for twice
/// as many keys as it has.
fn load(conn: &Connection, bucket: i64) -> Result<Layers> {
    let started = std::time::Instant::now();
    let keys = conn
        .prepare_cached("SELECT band FROM minhash_bands WHERE band BETWEEN ?1 AND ?2")?
        .query_map([bucket, bucket | LOW], |r| r.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    let mut layers = Layers(vec![Layer::new(0, keys.len() * 2)]);
    for key in &keys {
        layers.add(*key);
    }
    tracing::debug!(
        bucket = bucket >> 32,
        rows = keys.len(),
        ms = started.elapsed().as_millis() as u64,
        "band filter built"
    );
    Ok(layers)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = "CREATE TABLE minhash_bands (band INTEGER NOT NULL,
        item_id INTEGER NOT NULL, PRIMARY KEY (band, item_id)) WITHOUT ROWID";

    fn table() -> Connection {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(SCHEMA).expect("schema");
        conn
    }

    fn key(bucket: i64, low: u32) -> i64 {
        (bucket << 32) | i64::from(low)
    }

    #[test]
    fn every_key_in_the_table_or_added_is_reported_as_maybe_there() {
        let conn = table();
        // Keys stored before the filter is built, in two buckets (one before 1970).
        let stored: Vec<i64> = (0..3000u32)
            .map(|i| {
                key(
                    if i % 2 == 0 { 1500 } else { -3 },
                    i.wrapping_mul(2_654_435_761),
                )
            })
            .collect();
        for (i, k) in stored.iter().enumerate() {
            conn.execute(
                "INSERT INTO minhash_bands (band, item_id) VALUES (?1, ?2)",
                [*k, i as i64],
            )
            .expect("insert");
        }
        let mut f = BandFilter::default();
        f.sync(&conn).expect("sync");
        for k in &stored {
            assert!(
                f.may_hold(&conn, *k).expect("look"),
                "stored key {k} missed"
            );
        }
        // Far more keys added than the first filter was sized for: layers grow.
        let added: Vec<i64> = (0..40_000u32).map(|i| key(1500, i ^ 0x5bd1_e995)).collect();
        for k in &added {
            f.add(*k);
        }
        assert!(f.buckets[&key(1500, 0)].0.len() > 1, "no second layer");
        for k in added.iter().chain(&stored) {
            assert!(f.may_hold(&conn, *k).expect("look"), "key {k} missed");
        }
        // And it still tells most absent keys apart (under 2% in all: allow 2.5%).
        let absent = (0..10_000u32)
            .filter(|i| {
                f.may_hold(&conn, key(1500, 0x8000_0000 | (i * 7919)))
                    .expect("look")
            })
            .count();
        assert!(absent < 250, "{absent} of 10000 absent keys reported");
        // A bucket nobody wrote holds nothing.
        assert!(!f.may_hold(&conn, key(77, 5)).expect("look"));
    }

    #[test]
    fn a_commit_by_another_connection_rebuilds_the_filter() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("b.sqlite");
        let a = Connection::open(&path).expect("a");
        a.pragma_update(None, "journal_mode", "WAL").expect("wal");
        a.execute_batch(SCHEMA).expect("schema");
        let b = Connection::open(&path).expect("b");
        let mut f = BandFilter::default();
        f.sync(&a).expect("sync");
        let k = key(2000, 42);
        assert!(!f.may_hold(&a, k).expect("look"));
        b.execute("INSERT INTO minhash_bands VALUES (?1, 9)", [k])
            .expect("other writer");
        f.sync(&a).expect("sync");
        assert!(
            f.may_hold(&a, k).expect("look"),
            "the other connection's key missed"
        );
        // The connection's own writes do not reset it (they are added as written).
        a.execute("INSERT INTO minhash_bands VALUES (?1, 10)", [key(2000, 43)])
            .expect("own write");
        f.add(key(2000, 43));
        f.sync(&a).expect("sync");
        assert!(
            f.buckets.contains_key(&key(2000, 0)),
            "own write reset the filter"
        );
        // Nor does the writer truncating its own log (`checkpoint::truncate_if_large`).
        let _: i64 = a
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
            .expect("truncate");
        f.sync(&a).expect("sync");
        assert!(
            f.buckets.contains_key(&key(2000, 0)),
            "own truncate reset the filter"
        );
    }
}
