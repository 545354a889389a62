//! The store: SQLite, the source of truth. Every item is committed here first; the index
//! is derived from it through the `seq` change log (see `index`). The database runs in WAL
//! mode with a busy timeout, behind one writer connection, and its schema is an
//! append-only, ordered list of migrations tracked by `PRAGMA user_version`.

mod alerts;
mod audit;
mod bands;
mod checkpoint;
mod clusters;
mod digests;
mod forum;
mod items;
mod proposals;
mod reading;
mod related;
mod shares;
mod sources;
mod tone;
mod users;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Connection;

use crate::error::{Error, Result};

pub use alerts::{AlertBatch, AlertDelivery, AlertMatch, AlertSummary};
pub use audit::AuditEntry;
pub use digests::{Claim, Delivery, DeliveryStatus, DigestPeriod, NewDelivery};
pub use forum::ThreadPostRef;
pub use items::ItemQuery;
pub use proposals::{Proposal, ProposalState, Proposed};
pub use reading::{SavedItem, VISIT_GAP_SECS};
pub use related::{ClusterMember, RelatedItem};
pub use shares::{LedgerRow, NewShare, REPEAT_WINDOW_SECS, Share, ShareOwner, StoryShare};
pub use tone::{ToneShare, Untoned};
pub use users::{Account, FirstAdmin, Role, TokenInfo, User, valid_user_name};

/// Ordered schema migrations. Append only: never edit or reorder a released entry.
const MIGRATIONS: &[&str] = &[
    // 1: sources, items with their change sequence, fetch log.
    r#"
    CREATE TABLE sources (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        url TEXT NOT NULL,
        in_config INTEGER NOT NULL DEFAULT 1,
        etag TEXT,
        last_modified TEXT,
        next_check_at INTEGER,
        last_attempt_at INTEGER,
        last_success_at INTEGER,
        last_error_kind TEXT,
        last_error TEXT,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        source_id TEXT NOT NULL REFERENCES sources(id),
        item_key TEXT NOT NULL,
        guid TEXT,
        url TEXT,
        canonical_url TEXT,
        title TEXT NOT NULL,
        author TEXT,
        summary TEXT NOT NULL DEFAULT '',
        content_html TEXT NOT NULL DEFAULT '',
        content_text TEXT NOT NULL DEFAULT '',
        image_url TEXT,
        published_at INTEGER NOT NULL,
        updated_at INTEGER,
        first_seen_at INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        seq INTEGER NOT NULL,
        UNIQUE (source_id, item_key)
    );
    CREATE UNIQUE INDEX items_seq ON items(seq);
    CREATE INDEX items_canonical_url ON items(canonical_url);
    CREATE INDEX items_source_first_seen ON items(source_id, first_seen_at);
    CREATE TABLE fetch_log (
        id INTEGER PRIMARY KEY,
        source_id TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        items_new INTEGER NOT NULL DEFAULT 0,
        items_updated INTEGER NOT NULL DEFAULT 0,
        error_kind TEXT,
        error TEXT
    );
    CREATE INDEX fetch_log_source ON fetch_log(source_id, started_at);
    "#,
    // 2: near-duplicate clusters (issue 4): MinHash signature, cluster id, and the seq
    // up to which items have been clustered.
    r#"
    ALTER TABLE items ADD COLUMN cluster_id INTEGER;
    ALTER TABLE items ADD COLUMN minhash BLOB;
    ALTER TABLE items ADD COLUMN shingles INTEGER;
    CREATE INDEX items_cluster ON items(cluster_id);
    CREATE INDEX items_published ON items(published_at);
    CREATE TABLE cluster_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        clustered_seq INTEGER NOT NULL
    );
    INSERT INTO cluster_state (id, clustered_seq) VALUES (1, 0);
    "#,
    // 3: accounts (argon2id hashes), browser sessions with their CSRF token, API tokens,
    // and the share ledger (undo keeps the row, stamped `undone_at`).
    r#"
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('staff', 'admin')),
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        csrf TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE INDEX sessions_user ON sessions(user_id);
    CREATE TABLE api_tokens (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER
    );
    CREATE TABLE shares (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items(id),
        user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
        user_name TEXT NOT NULL,
        channel TEXT NOT NULL,
        link TEXT,
        shared_at INTEGER NOT NULL,
        undone_at INTEGER
    );
    CREATE INDEX shares_item ON shares(item_id);
    "#,
    // 4: the digest ledger: when each digest was first seen, one row per (digest, period)
    // and one delivery per (digest, period, recipient).
    r#"
    CREATE TABLE digest_state (
        digest_id TEXT PRIMARY KEY,
        first_seen_at INTEGER NOT NULL,
        last_checked_at INTEGER,
        checks INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE digest_periods (
        digest_id TEXT NOT NULL,
        period_end INTEGER NOT NULL,
        period_start INTEGER NOT NULL,
        item_count INTEGER NOT NULL,
        trigger TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (digest_id, period_end)
    );
    CREATE TABLE digest_deliveries (
        digest_id TEXT NOT NULL,
        period_end INTEGER NOT NULL,
        recipient TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        claimed_at INTEGER,
        message_id TEXT NOT NULL,
        last_reply TEXT,
        sent_at INTEGER,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (digest_id, period_end, recipient),
        FOREIGN KEY (digest_id, period_end) REFERENCES digest_periods(digest_id, period_end)
    );
    CREATE INDEX digest_deliveries_status ON digest_deliveries(status, next_attempt_at);
    CREATE INDEX items_first_seen ON items(first_seen_at);
    "#,
    // 5: locality-sensitive hashing bands of each item's MinHash signature, so clustering
    // looks up candidate duplicates by index instead of comparing every item in the window.
    r#"
    CREATE TABLE minhash_bands (
        band INTEGER NOT NULL,
        item_id INTEGER NOT NULL REFERENCES items(id)
    );
    CREATE INDEX minhash_bands_band ON minhash_bands(band, item_id);
    CREATE INDEX minhash_bands_item ON minhash_bands(item_id);
    "#,
    // 6: the bands as a clustered (WITHOUT ROWID) key on (band, item_id), without the
    // foreign-key check, and with keys of a 32-bit band hash under a time bucket (see
    // `cluster::band_keys`): one B-tree less to write per band, smaller rows, and writes
    // that stay in the recent part of the index. The rows are rebuilt from the stored
    // signatures by `backfill_bands` on the next clustering run.
    r#"
    DROP TABLE minhash_bands;
    CREATE TABLE minhash_bands (
        band INTEGER NOT NULL,
        item_id INTEGER NOT NULL,
        PRIMARY KEY (band, item_id)
    ) WITHOUT ROWID;
    CREATE INDEX minhash_bands_item ON minhash_bands(item_id);
    "#,
    // 7: no index of the bands by item. It served only to remove an edited item's old
    // keys, which are now worked out from its old signature and removed by primary key
    // (`store::clusters::forget_bands`); every band written cost a second B-tree insert.
    r#"
    DROP INDEX minhash_bands_item;
    "#,
    // 8 (issue 15, the staff's day): items saved for later per user, proposals to share
    // (open -> approved | dismissed, decided by an admin), each user's visits for "Tin
    // mới", and the shares of one person looked up by item (a repeated click).
    r#"
    CREATE TABLE saved_items (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        item_id INTEGER NOT NULL REFERENCES items(id),
        saved_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, item_id)
    );
    CREATE TABLE proposals (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items(id),
        user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
        user_name TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        proposed_at INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'approved', 'dismissed')),
        decided_by TEXT,
        decided_at INTEGER
    );
    CREATE INDEX proposals_item ON proposals(item_id, status);
    CREATE INDEX proposals_status ON proposals(status, proposed_at);
    CREATE TABLE user_visits (
        user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        last_seen_at INTEGER NOT NULL,
        since_at INTEGER NOT NULL
    );
    CREATE INDEX shares_item_user ON shares(item_id, user_id, shared_at);
    "#,
    // 9 (issue 14, the web admin): accounts that can be disabled, must change a one-time
    // password, and show their last login; API tokens with a label; the audit log of admin
    // actions; the first-run setup token (only its hash, one row).
    r#"
    ALTER TABLE users ADD COLUMN disabled_at INTEGER;
    ALTER TABLE users ADD COLUMN last_login_at INTEGER;
    ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE api_tokens ADD COLUMN label TEXT NOT NULL DEFAULT '';
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        user_name TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE setup_token (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        token_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    "#,
    // 10 (issue 16, forums as sources): a forum post's thread and place in it; what the
    // crawl knows of each thread (where it stopped, the board's activity mark, which
    // early pages of a long thread are still unread); the notes of a source's last pass
    // ("trang không phải bài viết").
    r#"
    ALTER TABLE items ADD COLUMN thread_key TEXT;
    ALTER TABLE items ADD COLUMN thread_title TEXT;
    ALTER TABLE items ADD COLUMN thread_url TEXT;
    ALTER TABLE items ADD COLUMN post_number INTEGER;
    ALTER TABLE items ADD COLUMN first_post INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX items_thread ON items(source_id, thread_key) WHERE thread_key IS NOT NULL;
    CREATE TABLE forum_threads (
        source_id TEXT NOT NULL,
        thread_key TEXT NOT NULL,
        url TEXT NOT NULL,
        title TEXT NOT NULL,
        activity TEXT,
        last_page INTEGER NOT NULL,
        last_page_url TEXT NOT NULL,
        backfill_below INTEGER,
        crawled_at INTEGER NOT NULL,
        PRIMARY KEY (source_id, thread_key)
    ) WITHOUT ROWID;
    ALTER TABLE sources ADD COLUMN last_notes TEXT;
    "#,
    // 11 (issue 17, tone and alerts): each item's tone (label, score, the phrases that
    // decided, as JSON; NULL until scored, found by a partial index) and the lexicon's
    // fingerprint; the alert ledger: how far each alert has looked (`seq`), one match per
    // (alert, item), the batches a minute of matches makes, one delivery per batch and
    // channel (an address or the webhook), moving as digest deliveries do.
    r#"
    ALTER TABLE items ADD COLUMN tone TEXT;
    ALTER TABLE items ADD COLUMN tone_score REAL;
    ALTER TABLE items ADD COLUMN tone_reasons TEXT;
    CREATE INDEX items_tone_pending ON items(id) WHERE tone IS NULL;
    CREATE TABLE tone_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        fingerprint TEXT NOT NULL
    );
    CREATE TABLE alert_state (
        alert_id TEXT PRIMARY KEY,
        first_seen_at INTEGER NOT NULL,
        checked_seq INTEGER NOT NULL
    );
    CREATE TABLE alert_matches (
        alert_id TEXT NOT NULL,
        item_id INTEGER NOT NULL REFERENCES items(id),
        matched_at INTEGER NOT NULL,
        batch_id INTEGER,
        PRIMARY KEY (alert_id, item_id)
    );
    CREATE INDEX alert_matches_batch ON alert_matches(batch_id);
    CREATE TABLE alert_batches (
        id INTEGER PRIMARY KEY,
        alert_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        item_count INTEGER NOT NULL
    );
    CREATE INDEX alert_batches_alert ON alert_batches(alert_id, created_at);
    CREATE TABLE alert_deliveries (
        batch_id INTEGER NOT NULL REFERENCES alert_batches(id),
        channel TEXT NOT NULL,
        target TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        claimed_at INTEGER,
        last_reply TEXT,
        sent_at INTEGER,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (batch_id, channel, target)
    );
    CREATE INDEX alert_deliveries_status ON alert_deliveries(status, next_attempt_at);
    "#,
    // 12 (issue 18, ingest at a million items): one row of band keys per item, keyed by
    // (time bucket, item id) so that a new item's row goes where its bucket's rows end,
    // instead of 32 rows at random places; the lookup by band is held in memory
    // (`store::bands`). The rows are rebuilt from the stored signatures by
    // `backfill_bands` on the next store or clustering run.
    r#"
    DROP TABLE minhash_bands;
    CREATE TABLE item_bands (
        bucket INTEGER NOT NULL,
        item_id INTEGER NOT NULL,
        keys BLOB NOT NULL,
        PRIMARY KEY (bucket, item_id)
    ) WITHOUT ROWID;
    "#,
    // 13 (issue 18, ingest at a million items): a row of `item_bands` holds what
    // clustering compares of the item (publication time, cluster, signature) in place of
    // its band hashes, which are worked out from the signature; candidates are compared
    // in memory instead of being read from their item rows, past the text. Rebuilt like
    // those of 12.
    r#"
    DROP TABLE item_bands;
    CREATE TABLE item_bands (
        bucket INTEGER NOT NULL,
        item_id INTEGER NOT NULL,
        published_at INTEGER NOT NULL,
        cluster_id INTEGER NOT NULL,
        shingles INTEGER NOT NULL,
        minhash BLOB NOT NULL,
        PRIMARY KEY (bucket, item_id)
    ) WITHOUT ROWID;
    "#,
];

/// File name of the database inside the data folder.
pub const DB_FILE: &str = "gomtin.sqlite";

/// Statements each connection keeps prepared (`prepare_cached`; rusqlite keeps 16): the
/// store path of one item alone uses about a dozen, and the app has some forty in all.
const STATEMENT_CACHE: usize = 64;

/// Handle on the SQLite database: one connection that writes (and does most reads), and
/// one that only reads, for the reads that must not wait while a source's items are
/// being written — the index following the change log during a fetch pass, and what the
/// web app shows (search hits, an item, its shares and clusters). In WAL mode a reader
/// sees the last committed state and neither blocks the writer nor waits for it.
pub struct Store {
    conn: Mutex<Connection>,
    /// `None` for an in-memory database (a second connection would open another one).
    reader: Option<Mutex<Connection>>,
    /// The LSH band keys of the clustered items by bucket (`bands`), read from
    /// `item_bands` as clustering asks. Locked only while `conn` is held.
    bands: Mutex<bands::BandIndex>,
    /// `None` for an in-memory database, which has no log to checkpoint.
    checkpointer: Option<checkpoint::Checkpointer>,
    path: PathBuf,
}

impl Store {
    /// Open (creating if needed) the database in `data_dir` and run pending migrations.
    pub fn open(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir).map_err(|source| Error::Io {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(DB_FILE);
        let conn = Connection::open(&path)?;
        let mut store = Self::init(conn, path)?;
        // Opened after the writer has set WAL mode and migrated the schema.
        let reader = Connection::open(&store.path)?;
        reader.busy_timeout(std::time::Duration::from_secs(10))?;
        reader.pragma_update(None, "query_only", "ON")?;
        // Its reads are of recent rows and single items: a modest cache.
        reader.pragma_update(None, "cache_size", -8_192)?;
        reader.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        store.reader = Some(Mutex::new(reader));
        // Checkpoints run beside the writer (`checkpoint`), not inside its commits.
        store.checkpointer = Some(checkpoint::Checkpointer::start(&store.path)?);
        store.conn().pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(store)
    }

    /// An in-memory database, for tests.
    pub fn open_in_memory() -> Result<Store> {
        Self::init(Connection::open_in_memory()?, PathBuf::from(":memory:"))
    }

    fn init(mut conn: Connection, path: PathBuf) -> Result<Store> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // 8 MB of page cache (the default is 2 MB): the writer's lookups touch index pages
        // all over a large file. It was 32 MB while clustering read each candidate's item
        // row; candidates are compared in memory now (`store::bands`), and the 35k ingest's
        // `gomtin fetch` peaked 214–225 MB with 8 MB against 222–259 MB with 16 MB.
        conn.pragma_update(None, "cache_size", -8_192)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        migrate(&mut conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
            reader: None,
            bands: Mutex::new(bands::BandIndex::default()),
            checkpointer: None,
            path,
        })
    }

    /// Where the database file lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A write was committed on `conn` (the writer, still held): its log pages are
    /// checkpointed soon, off the writer; a log grown large is truncated now.
    fn committed(&self, conn: &Connection) {
        if let Some(c) = &self.checkpointer {
            checkpoint::truncate_if_large(conn, &self.path);
            c.nudge();
        }
    }

    /// The read-only connection (the writer's for an in-memory database). Only for reads
    /// of committed data: it does not see a transaction the writer has not committed.
    fn reader(&self) -> MutexGuard<'_, Connection> {
        match &self.reader {
            Some(r) => r.lock().unwrap_or_else(|p| p.into_inner()),
            None => self.conn(),
        }
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self
            .conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        if version <= current {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "applied database migration");
    }
    Ok(())
}

/// Seconds since the epoch, as stored.
pub(crate) fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

/// Back from stored seconds.
pub(crate) fn from_ts(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(s, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_for_the_web_and_the_index_do_not_wait_for_the_writer() {
        use std::sync::{Arc, mpsc};
        use std::time::Duration;
        let dir = tempfile::tempdir().expect("tmp");
        let store = Arc::new(Store::open(dir.path()).expect("open"));
        let (held_tx, held_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let writer = {
            let store = store.clone();
            std::thread::spawn(move || {
                // A long write: the writer's lock and an open write transaction.
                let mut conn = store.conn();
                let tx = conn
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .expect("begin");
                tx.execute("UPDATE cluster_state SET clustered_seq = 7", [])
                    .expect("write");
                held_tx.send(()).expect("send");
                release_rx.recv().expect("release");
            })
        };
        held_rx.recv().expect("writer holds");
        let (read_tx, read_rx) = mpsc::channel();
        {
            let store = store.clone();
            std::thread::spawn(move || {
                let reads = (
                    store.item_count(),
                    store.items_after_seq(0, 10).map(|v| v.len()),
                    store.clusters_of(&[1]).map(|m| m.len()),
                    store.shared_among(&[1]).map(|s| s.len()),
                );
                read_tx.send(reads).expect("send");
            });
        }
        let reads = read_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("the reads waited for the writer");
        assert!(matches!(reads, (Ok(0), Ok(0), Ok(0), Ok(0))), "{reads:?}");
        release_tx.send(()).expect("release");
        writer.join().expect("writer");
    }

    #[test]
    fn migrations_apply_once() {
        let dir = tempfile::tempdir().expect("tmp");
        let s = Store::open(dir.path()).expect("open");
        drop(s);
        let s = Store::open(dir.path()).expect("reopen");
        let v: i64 = s
            .conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("version");
        assert_eq!(v, MIGRATIONS.len() as i64);
        assert_eq!(s.integrity_check().expect("check"), "ok");
        let mode: String = s
            .conn()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .expect("mode");
        assert_eq!(mode, "wal");
    }
}
