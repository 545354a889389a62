//! The tantivy index: derived from SQLite, never the other way round. It sits after the
//! store and before search. Items are fed in `seq` order; each commit records the last
//! `seq` it contains in tantivy's commit payload, so after any crash `reconcile` replays
//! exactly the gap, and `rebuild` recreates everything from SQLite. An upsert is
//! `delete_term(id)` + `add_document` in the same commit, so an item is indexed once.
//!
//! Text analysis is plugged in at one place, `register_analyzers`: every text field has an
//! *exact* twin (tone-normalized, `vi_exact`) and a *folded* twin (all marks removed,
//! `vi_fold`), both with positions. See `vietnamese` for the analysis itself.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use tantivy::schema::{
    FAST, Facet, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term, doc};

use crate::error::{Error, Result};
use crate::model::Item;
use crate::store::Store;
use crate::topics::TopicTagger;
use crate::vietnamese;

/// Name of the exact-form analyzer (tone-normalized, lowercased).
pub const EXACT: &str = "vi_exact";
/// Name of the folded analyzer (no marks, đ -> d).
pub const FOLD: &str = "vi_fold";

/// Items fed per batch while catching up.
const BATCH: usize = 2_000;
/// Items between two commits while catching up (bounds replay after a crash).
const COMMIT_EVERY: usize = 20_000;

/// Handles on the schema's fields.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub source: Field,
    pub source_facet: Field,
    pub topics: Field,
    pub title: Field,
    pub title_f: Field,
    pub body: Field,
    pub body_f: Field,
    pub published: Field,
}

/// The schema every gomtin index uses (also the in-memory ones of topic tagging).
pub fn build_schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |analyzer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(analyzer)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
    };
    let fields = Fields {
        id: b.add_u64_field("id", INDEXED | FAST | STORED),
        source: b.add_text_field("source", STRING | FAST),
        source_facet: b.add_facet_field("source_facet", FacetOptions::default()),
        topics: b.add_text_field("topics", STRING),
        title: b.add_text_field("title", text(EXACT)),
        title_f: b.add_text_field("title_f", text(FOLD)),
        body: b.add_text_field("body", text(EXACT)),
        body_f: b.add_text_field("body_f", text(FOLD)),
        published: b.add_i64_field("published", INDEXED | FAST),
    };
    (b.build(), fields)
}

/// An empty in-memory index with gomtin's schema and analyzers, and a one-thread writer
/// (for tests of the search parts).
#[cfg(test)]
pub(crate) fn in_memory_index() -> (Index, Fields, IndexWriter) {
    let (schema, f) = build_schema();
    let index = Index::create_in_ram(schema);
    register_analyzers(&index);
    let writer = index
        .writer_with_num_threads(1, 15_000_000)
        .expect("in-memory index writer");
    (index, f, writer)
}

/// The Vietnamese tokenizer: `vietnamese::tokenize`, then either the exact or folded form.
#[derive(Clone)]
pub struct ViTokenizer {
    folded: bool,
}

/// Words cut by `vietnamese::word_spans`, each turned into its exact or folded form in one
/// reused buffer as tantivy asks for it. Positions count every word, also one whose form
/// comes out empty (it is skipped), as the query side does.
pub struct ViTokenStream<'a> {
    text: &'a str,
    spans: vietnamese::WordSpans<'a>,
    folded: bool,
    next_position: usize,
    token: Token,
}

impl TokenStream for ViTokenStream<'_> {
    fn advance(&mut self) -> bool {
        for (start, end) in self.spans.by_ref() {
            let position = self.next_position;
            self.next_position += 1;
            let word = &self.text[start..end];
            self.token.text.clear();
            if self.folded {
                vietnamese::fold_into(word, &mut self.token.text);
            } else {
                vietnamese::exact_form_into(word, &mut self.token.text);
            }
            if self.token.text.is_empty() {
                continue;
            }
            self.token.offset_from = start;
            self.token.offset_to = end;
            self.token.position = position;
            self.token.position_length = 1;
            return true;
        }
        false
    }
    fn token(&self) -> &Token {
        &self.token
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

impl Tokenizer for ViTokenizer {
    type TokenStream<'a> = ViTokenStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> ViTokenStream<'a> {
        ViTokenStream {
            text,
            spans: vietnamese::word_spans(text),
            folded: self.folded,
            next_position: 0,
            token: Token::default(),
        }
    }
}

/// Register the analyzers on an index: the one place to swap text analysis.
pub fn register_analyzers(index: &Index) {
    index
        .tokenizers()
        .register(EXACT, ViTokenizer { folded: false });
    index
        .tokenizers()
        .register(FOLD, ViTokenizer { folded: true });
}

/// The text indexed as an item's body (and used for its snippet).
pub fn body_text(item: &Item) -> String {
    if item.content_text.is_empty() || item.content_text.starts_with(&item.summary) {
        if item.content_text.is_empty() {
            item.summary.clone()
        } else {
            item.content_text.clone()
        }
    } else if item.summary.is_empty() {
        item.content_text.clone()
    } else {
        format!("{}\n{}", item.summary, item.content_text)
    }
}

/// The tantivy document of an item, tagged with `topics`.
pub fn item_document(f: Fields, item: &Item, topics: &[String]) -> TantivyDocument {
    let body = body_text(item);
    let mut d = doc!(
        f.id => item.id as u64,
        f.source => item.source_id.as_str(),
        f.source_facet => Facet::from_path([item.source_id.as_str()]),
        f.title => item.title.as_str(),
        f.title_f => item.title.as_str(),
        f.body => body.as_str(),
        f.body_f => body.as_str(),
        f.published => item.published_at.timestamp(),
    );
    if let Some(author) = &item.author {
        d.add_text(f.body, author);
        d.add_text(f.body_f, author);
    }
    for t in topics {
        d.add_text(f.topics, t);
    }
    d
}

/// The search index with its reader and (lazily opened) single writer.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<Option<IndexWriter>>,
    fields: Fields,
    dir: PathBuf,
    writer_threads: usize,
    tagger: Option<TopicTagger>,
    /// Highest `seq` handed to the writer, committed or not (0: nothing beyond the commit).
    fed_seq: AtomicI64,
    /// One catch-up at a time, so two callers never feed the same batch.
    catching_up: Mutex<()>,
}

impl SearchIndex {
    /// Open the index in `dir`, creating it if needed. An index with an older schema is
    /// derived data: it is wiped and rebuilt from SQLite by the next `reconcile`.
    pub fn open(dir: &Path) -> Result<SearchIndex> {
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
                std::fs::remove_dir_all(dir).map_err(|source| Error::Io {
                    path: dir.to_path_buf(),
                    source,
                })?;
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
            fields,
            dir: dir.to_path_buf(),
            writer_threads: 1,
            tagger: None,
            fed_seq: AtomicI64::new(0),
            catching_up: Mutex::new(()),
        })
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

    /// Tag items with these topics as they are indexed.
    pub fn with_topics(mut self, tagger: TopicTagger) -> Self {
        self.tagger = Some(tagger).filter(|t| !t.is_empty());
        self
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

    fn topics_fingerprint(&self) -> &str {
        self.tagger.as_ref().map_or("none", |t| t.fingerprint())
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
        self.reader.reload()?;
        Ok(())
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

    fn with_writer<T>(&self, f: impl FnOnce(&mut IndexWriter) -> Result<T>) -> Result<T> {
        let mut guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let w = self
                .index
                .writer_with_num_threads(self.writer_threads, 64_000_000 * self.writer_threads)
                .map_err(|e| match e {
                    tantivy::TantivyError::LockFailure(..) => Error::Index(format!(
                        "chỉ mục {} đang được một tiến trình gomtin khác ghi ({e})",
                        self.dir.display()
                    )),
                    other => other.into(),
                })?;
            *guard = Some(w);
        }
        match guard.as_mut() {
            Some(w) => f(w),
            None => Err(Error::Index("index writer unavailable".into())),
        }
    }

    /// Replace-or-add these items (not yet committed).
    pub fn upsert(&self, items: &[Item]) -> Result<()> {
        let tags = match &self.tagger {
            Some(t) => t.tag(items)?,
            None => Default::default(),
        };
        self.with_writer(|w| {
            for item in items {
                w.delete_term(Term::from_field_u64(self.fields.id, item.id as u64));
                let topics = tags.get(&item.id).map(Vec::as_slice).unwrap_or(&[]);
                w.add_document(item_document(self.fields, item, topics))?;
            }
            Ok(())
        })
    }

    /// Commit pending changes, recording `seq` as the high-water mark, and reload the reader.
    pub fn commit(&self, seq: i64) -> Result<()> {
        self.with_writer(|w| {
            let mut prepared = w.prepare_commit()?;
            prepared.set_payload(&format!("seq:{seq};topics:{}", self.topics_fingerprint()));
            prepared.commit()?;
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

    /// Drop every document and index the whole store again, in one commit.
    pub fn rebuild(&self, store: &Store) -> Result<usize> {
        let _one_at_a_time = self.catching_up.lock().unwrap_or_else(|p| p.into_inner());
        self.with_writer(|w| {
            w.delete_all_documents()?;
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
