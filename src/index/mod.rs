//! The tantivy index: derived from SQLite, never the other way round. It sits after the
//! store and before search. Items are fed in `seq` order; each commit records the last
//! `seq` it contains in tantivy's commit payload, so after any crash `reconcile` replays
//! exactly the gap, and `rebuild` recreates everything from SQLite. An upsert is
//! `delete_term(id)` + `add_document` in the same commit, so an item is indexed once.
//!
//! The index is derived data, so a damaged one is never a dead end: [`SearchIndex::open`]
//! says so and names `gomtin reindex`; [`SearchIndex::open_or_reset`] (for the processes
//! that hold the data folder's lock) starts over empty, to be refilled from SQLite by the
//! catch-up; [`SearchIndex::rebuild_in`] builds a new index beside the old one and swaps
//! it in, whatever state the old folder is in (garbled `meta.json`, a missing segment,
//! deleted).
//!
//! The schema and text analysis are in `schema`. Items are tagged with their topics as
//! they are added, by a `Tagger` this module declares and `topics` implements (wired in
//! `app`), so the index needs neither the topics nor the search that tags them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term};

use crate::error::{Error, Result};
use crate::model::Item;
use crate::store::Store;
use queue::{Queue, Queued};

mod queue;
pub mod schema;
#[cfg(test)]
pub(crate) use schema::in_memory_index;
pub use schema::{
    EXACT, FOLD, Fields, ViTokenStream, ViTokenizer, body_text, build_schema, item_document,
    register_analyzers,
};

/// Indexing memory per writer thread: tantivy's arena, a segment is written when it is
/// full. 24 MB rather than 64: the 35k ingest's `gomtin fetch` peaked lower (64 MB: 326,
/// 32 MB: 301–306, 20 MB: 260, with the rest of the pass alike), and was not slower;
/// segments are smaller (~2,700 documents instead of ~7,300) and merged eight at a
/// time, and the merge's reads of the segment files take back part of the saving.
const WRITER_BUDGET: usize = 24_000_000;
/// Items fed per batch while catching up.
const BATCH: usize = 2_000;
/// Items between two commits while catching up (bounds replay after a crash).
const COMMIT_EVERY: usize = 20_000;

/// Tags items as the index adds them (the topics they match). Declared here, implemented
/// by `topics::TopicTagger`, so the index does not depend on topics or search.
pub trait Tagger: Send + Sync {
    /// A short hash of the tag definitions, recorded with each commit: when it changes,
    /// items must be re-tagged.
    fn fingerprint(&self) -> &str;
    /// True when there is nothing to tag with.
    fn is_empty(&self) -> bool;
    /// Tag ids per item id (items matching no tag are absent).
    fn tag(&self, items: &[Item]) -> Result<HashMap<i64, Vec<String>>>;
}

/// The search index with its reader and (lazily opened) single writer.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<Option<IndexWriter<Queued>>>,
    /// The documents handed to the writer and not yet indexed (see `queue`).
    queue: Queue,
    fields: Fields,
    dir: PathBuf,
    writer_threads: usize,
    /// The topics tagger; swapped when the topic definitions change in a running daemon.
    tagger: RwLock<Option<Arc<dyn Tagger>>>,
    /// Highest `seq` handed to the writer, committed or not (0: nothing beyond the commit).
    fed_seq: AtomicI64,
    /// One catch-up at a time, so two callers never feed the same batch.
    catching_up: Mutex<()>,
    /// Opstamp of the commit the reader was last reloaded on (see `refresh_if_changed`).
    seen_opstamp: AtomicU64,
    /// While the writer is open: the highest item id any document of the index may have
    /// (committed when the writer was opened — deleted ones included —, or handed to it
    /// since). An item above it cannot be in the index, so adding it needs no
    /// `delete_term`: a fetch pass of new items queued one delete per item, kept by
    /// tantivy until the next commit (35k ingest: 25 MB) and applied to every segment.
    max_id: AtomicU64,
}

impl SearchIndex {
    /// Open the index in `dir`, creating it if needed. An index with an older schema is
    /// derived data: it is wiped and rebuilt from SQLite by the next `reconcile`. A damaged
    /// one (unreadable `meta.json`, missing segment files) is an error that names the repair.
    pub fn open(dir: &Path) -> Result<SearchIndex> {
        Self::open_inner(dir).map_err(|e| {
            Error::Index(format!(
                "chỉ mục {} không mở được ({e}); chạy gomtin reindex để dựng lại từ cơ sở dữ liệu",
                dir.display()
            ))
        })
    }

    /// [`open`](Self::open), and when the index is damaged, start over with an empty one
    /// (the next catch-up refills it from SQLite, from the first change). Only for a
    /// process holding the data folder's lock: no other writer can be using the folder.
    pub fn open_or_reset(dir: &Path) -> Result<SearchIndex> {
        match Self::open_inner(dir) {
            Ok(index) => Ok(index),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "index damaged; starting it over, to be refilled from SQLite");
                remove_dir(dir)?;
                Self::open(dir)
            }
        }
    }

    fn open_inner(dir: &Path) -> Result<SearchIndex> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let (schema, fields) = build_schema();
        let mmap = tantivy::directory::MmapDirectory::open(dir)?;
        let index = match Index::open_or_create(mmap, schema.clone()) {
            Ok(index) => index,
            Err(tantivy::TantivyError::SchemaError(msg)) => {
                tracing::warn!(dir = %dir.display(), %msg, "index schema changed; rebuilding index from SQLite");
                remove_dir(dir)?;
                std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                    path: dir.to_path_buf(),
                    source,
                })?;
                Index::open_or_create(tantivy::directory::MmapDirectory::open(dir)?, schema)?
            }
            Err(e) => return Err(e.into()),
        };
        register_analyzers(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            index,
            reader,
            writer: Mutex::new(None),
            queue: Queue::default(),
            fields,
            dir: dir.to_path_buf(),
            writer_threads: 1,
            tagger: RwLock::new(None),
            fed_seq: AtomicI64::new(0),
            catching_up: Mutex::new(()),
            seen_opstamp: AtomicU64::new(0),
            max_id: AtomicU64::new(u64::MAX),
        })
    }

    /// Build a new index of the whole store in a folder beside `dir`, tagged by `tagger`,
    /// then put it in `dir`'s place — the old folder is never opened, so this works
    /// whatever state it is in. Only under the data folder's lock. Returns the items indexed.
    pub fn rebuild_in(
        dir: &Path,
        store: &Store,
        tagger: impl Tagger + 'static,
        threads: usize,
    ) -> Result<usize> {
        let fresh = dir.with_extension("new");
        let old = dir.with_extension("old");
        remove_dir(&fresh)?;
        remove_dir(&old)?;
        let n = {
            let index = Self::open(&fresh)?
                .with_topics(tagger)
                .with_writer_threads(threads);
            let n = index.rebuild(store)?;
            index.close()?;
            n
        };
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        if dir.exists() {
            std::fs::rename(dir, &old).map_err(io(dir))?;
        }
        std::fs::rename(&fresh, dir).map_err(io(&fresh))?;
        remove_dir(&old)?;
        Ok(n)
    }

    /// Indexing threads for this machine: two where there are two cores (a fetch pass
    /// feeds the index while it stores, and one tantivy thread alone falls behind).
    pub fn default_writer_threads() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(2))
    }

    /// Use more indexing threads (bulk loads, benchmarks).
    pub fn with_writer_threads(mut self, n: usize) -> Self {
        self.writer_threads = n.max(1);
        self
    }

    /// Tag items with `tagger` (the topics) as they are indexed.
    pub fn with_topics(self, tagger: impl Tagger + 'static) -> Self {
        self.set_topics(tagger);
        self
    }

    /// Tag with `tagger` from now on (a config reload changed the topics). When its
    /// fingerprint differs from the last commit's, `topics_changed` says so and the next
    /// catch-up re-tags everything.
    pub fn set_topics(&self, tagger: impl Tagger + 'static) {
        let tagger: Arc<dyn Tagger> = Arc::new(tagger);
        let tagger = Some(tagger).filter(|t| !t.is_empty());
        match self.tagger.write() {
            Ok(mut slot) => *slot = tagger,
            Err(poisoned) => *poisoned.into_inner() = tagger,
        }
    }

    fn tagger(&self) -> Option<Arc<dyn Tagger>> {
        match self.tagger.read() {
            Ok(slot) => slot.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The topics fingerprint recorded with the last commit (None before any commit).
    pub fn indexed_topics(&self) -> Result<Option<String>> {
        let metas = self.index.load_metas()?;
        Ok(metas.payload.as_deref().map(|p| {
            p.split(';')
                .find_map(|part| part.strip_prefix("topics:"))
                .unwrap_or("none")
                .to_string()
        }))
    }

    fn topics_fingerprint(&self) -> String {
        self.tagger()
            .map_or_else(|| "none".to_string(), |t| t.fingerprint().to_string())
    }

    /// True when the index was built with other topic definitions than the current ones.
    pub fn topics_changed(&self) -> Result<bool> {
        Ok(self
            .indexed_topics()?
            .is_some_and(|t| t != self.topics_fingerprint()))
    }

    pub fn fields(&self) -> Fields {
        self.fields
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    pub fn reader(&self) -> &IndexReader {
        &self.reader
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reload the reader so that the latest commit is visible (also from another process).
    pub fn refresh(&self) -> Result<()> {
        let opstamp = self.index.load_metas()?.opstamp;
        self.reader.reload()?;
        self.seen_opstamp.store(opstamp, Ordering::Release);
        Ok(())
    }

    /// Reload the reader only when the index on disk has a commit it has not seen (one
    /// made by another process). True when it reloaded.
    pub fn refresh_if_changed(&self) -> Result<bool> {
        let opstamp = self.index.load_metas()?.opstamp;
        if opstamp == self.seen_opstamp.load(Ordering::Acquire) {
            return Ok(false);
        }
        self.reader.reload()?;
        self.seen_opstamp.store(opstamp, Ordering::Release);
        Ok(true)
    }

    /// Number of documents visible to searches.
    pub fn doc_count(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The `seq` of the last committed change (0 for a new index).
    pub fn indexed_seq(&self) -> Result<i64> {
        let metas = self.index.load_metas()?;
        Ok(metas
            .payload
            .as_deref()
            .and_then(|p| p.split(';').find_map(|part| part.strip_prefix("seq:")))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0))
    }

    fn with_writer<T>(&self, f: impl FnOnce(&mut IndexWriter<Queued>) -> Result<T>) -> Result<T> {
        let mut guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let w = self
                .index
                .writer_with_num_threads(self.writer_threads, WRITER_BUDGET * self.writer_threads)
                .map_err(|e| match e {
                    tantivy::TantivyError::LockFailure(..) => Error::Index(format!(
                        "chỉ mục {} đang được một tiến trình gomtin khác ghi ({e})",
                        self.dir.display()
                    )),
                    other => other.into(),
                })?;
            // The writer holds the index's lock from now on: only it adds documents.
            self.max_id.store(
                self.committed_max_id().unwrap_or(u64::MAX),
                Ordering::Release,
            );
            *guard = Some(w);
        }
        match guard.as_mut() {
            Some(w) => f(w),
            None => Err(Error::Index("index writer unavailable".into())),
        }
    }

    /// The highest item id in the last commit's segments, deleted documents included (0
    /// for an empty index); read from a fresh reader, not the one searches use.
    fn committed_max_id(&self) -> Result<u64> {
        let reader: IndexReader = self
            .index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let mut max = 0;
        for segment in reader.searcher().segment_readers() {
            if segment.max_doc() > 0 {
                max = max.max(segment.fast_fields().u64("id")?.max_value());
            }
        }
        Ok(max)
    }

    /// Replace-or-add these items (not yet committed).
    pub fn upsert(&self, items: &[Item]) -> Result<()> {
        let tags = match self.tagger() {
            Some(t) => t.tag(items)?,
            None => Default::default(),
        };
        self.with_writer(|w| {
            for item in items {
                let id = item.id as u64;
                // Only an id the index may already hold needs its old document deleted.
                if self.max_id.fetch_max(id, Ordering::AcqRel) >= id {
                    w.delete_term(Term::from_field_u64(self.fields.id, id));
                }
                let topics = tags.get(&item.id).map(Vec::as_slice).unwrap_or(&[]);
                self.queue.wait_for_room();
                w.add_document(self.queue.ticket(item_document(self.fields, item, topics)))?;
            }
            Ok(())
        })
    }

    /// Commit pending changes, recording `seq` as the high-water mark, and reload the reader.
    pub fn commit(&self, seq: i64) -> Result<()> {
        self.with_writer(|w| {
            let mut prepared = w.prepare_commit()?;
            prepared.set_payload(&format!("seq:{seq};topics:{}", self.topics_fingerprint()));
            let opstamp = prepared.commit()?;
            self.seen_opstamp.store(opstamp, Ordering::Release);
            Ok(())
        })?;
        self.reader.reload()?;
        Ok(())
    }

    /// Index every change SQLite has after the recorded high-water mark. Returns how many
    /// items were (re)indexed. Safe to call at any time, any number of times.
    pub fn reconcile(&self, store: &Store) -> Result<usize> {
        self.catch_up(store, true)
    }

    /// Hand the writer every change after what it already holds, committing only every
    /// `COMMIT_EVERY` items: a fetch pass feeds the index while it stores, so indexing
    /// overlaps fetching; the uncommitted tail is committed by the next `reconcile`
    /// (and after a crash it is replayed from the committed `seq`).
    pub fn feed(&self, store: &Store) -> Result<usize> {
        self.catch_up(store, false)
    }

    fn catch_up(&self, store: &Store, commit_tail: bool) -> Result<usize> {
        let _one_at_a_time = self.catching_up.lock().unwrap_or_else(|p| p.into_inner());
        let committed = self.indexed_seq()?;
        let mut seq = committed.max(self.fed_seq.load(Ordering::Acquire));
        let mut done = 0usize;
        let mut since_commit = 0usize;
        loop {
            let batch = store.items_after_seq(seq, BATCH)?;
            let Some(last) = batch.last() else { break };
            let last_seq = last.seq;
            self.upsert(&batch)?;
            done += batch.len();
            since_commit += batch.len();
            seq = last_seq;
            self.fed_seq.store(seq, Ordering::Release);
            if since_commit >= COMMIT_EVERY {
                self.commit(seq)?;
                since_commit = 0;
            }
        }
        if commit_tail && seq > self.indexed_seq()? {
            self.commit(seq)?;
            tracing::info!(items = done, seq, "index caught up with store");
        }
        Ok(done)
    }

    /// Drop the documents of these items (removed from the store) and commit.
    pub fn remove(&self, ids: &[i64]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let _one_at_a_time = self.catching_up.lock().unwrap_or_else(|p| p.into_inner());
        self.with_writer(|w| {
            for id in ids {
                w.delete_term(Term::from_field_u64(self.fields.id, *id as u64));
            }
            Ok(())
        })?;
        // Whatever the writer holds beyond the last commit goes in with its own `seq`.
        let seq = self
            .indexed_seq()?
            .max(self.fed_seq.load(Ordering::Acquire));
        self.commit(seq)
    }

    /// Drop every document and index the whole store again, in one commit.
    pub fn rebuild(&self, store: &Store) -> Result<usize> {
        let _one_at_a_time = self.catching_up.lock().unwrap_or_else(|p| p.into_inner());
        self.with_writer(|w| {
            w.delete_all_documents()?;
            // Nothing left in the writer: every item below is added anew.
            self.max_id.store(0, Ordering::Release);
            Ok(())
        })?;
        let mut seq = 0;
        let mut done = 0;
        loop {
            let batch = store.items_after_seq(seq, BATCH)?;
            let Some(last) = batch.last() else { break };
            seq = last.seq;
            self.upsert(&batch)?;
            done += batch.len();
        }
        self.fed_seq.store(seq, Ordering::Release);
        self.commit(seq)?;
        Ok(done)
    }

    /// Wait for background merges and release the writer (clean shutdown).
    pub fn close(&self) -> Result<()> {
        let mut guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(w) = guard.take() {
            // Uncommitted documents go with the writer; the next catch-up replays them.
            self.fed_seq.store(0, Ordering::Release);
            w.wait_merging_threads()?;
        }
        Ok(())
    }
}

/// Remove `dir` and everything in it; nothing to do when it does not exist.
fn remove_dir(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::Io {
            path: dir.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::model::NewItem;
    use chrono::Utc;

    fn store(dir: &Path) -> Store {
        let s = Store::open(dir).expect("db");
        let cfg = Config::parse(
            "[[sources]]\nid = \"a\"\nname = \"A\"\nkind = \"feed\"\nurl = \"https://a.vn/rss\"\n",
            Path::new("x.toml"),
        )
        .expect("cfg");
        s.sync_sources(&cfg, Utc::now()).expect("sync");
        s
    }

    fn item(key: &str, version: &str) -> NewItem {
        NewItem {
            source_id: "a".into(),
            key: key.into(),
            guid: None,
            url: None,
            canonical_url: None,
            title: format!("Tin {key} bản {version}"),
            author: None,
            summary: String::new(),
            content_html: String::new(),
            content_text: format!("nội dung {key} {version}"),
            image_url: None,
            published_at: None,
            updated_at: None,
            content_hash: format!("h-{key}-{version}"),
            thread: None,
            tone: None,
        }
    }

    fn store_version(s: &Store, keys: std::ops::Range<usize>, version: &str) {
        let items: Vec<NewItem> = keys.map(|k| item(&format!("k{k}"), version)).collect();
        s.upsert_items(&items, Utc::now()).expect("upsert");
    }

    /// New items skip `delete_term`; every edit must still replace its document, whether
    /// the old one is uncommitted, committed by this writer, or committed by an earlier
    /// process (a fresh `SearchIndex` on the same folder).
    #[test]
    fn each_item_is_indexed_once_through_edits_and_reopening() {
        let tmp = tempfile::tempdir().expect("tmp");
        let s = store(tmp.path());
        let dir = tmp.path().join("index");
        let index = SearchIndex::open(&dir).expect("index");
        store_version(&s, 0..30, "1");
        index.feed(&s).expect("feed");
        // Edited before the first versions are committed.
        store_version(&s, 0..10, "2");
        index.feed(&s).expect("feed");
        index.reconcile(&s).expect("commit");
        assert_eq!(index.doc_count(), 30);
        // Edited after the commit, and new ones beside them.
        store_version(&s, 5..40, "3");
        index.reconcile(&s).expect("commit");
        assert_eq!(index.doc_count(), 40);
        index.close().expect("close");
        drop(index);
        // Another process: its writer starts from what the folder holds.
        let index = SearchIndex::open(&dir).expect("reopen");
        store_version(&s, 0..50, "4");
        index.reconcile(&s).expect("commit");
        assert_eq!(index.doc_count(), 50);
        let searcher = index.reader().searcher();
        let version_4 = tantivy::query::TermQuery::new(
            Term::from_field_text(index.fields().body, "4"),
            tantivy::schema::IndexRecordOption::Basic,
        );
        let n = searcher
            .search(&version_4, &tantivy::collector::Count)
            .expect("search");
        assert_eq!(n, 50, "every document is the last version");
        // A rebuild adds everything anew, once.
        index.rebuild(&s).expect("rebuild");
        assert_eq!(index.doc_count(), 50);
    }
}
