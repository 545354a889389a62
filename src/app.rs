//! The handles every command shares: the loaded config, the store, the index, the one
//! HTTP fetcher, the spelling variants and the tone model. Opening an `App` opens the data folder; it is
//! what the CLI, the daemon and the tests hand to the pipeline and to search.
//!
//! The config and the variants can be replaced while the daemon runs ([`App::reload`]:
//! the web admin's edits, `SIGHUP`): readers take a snapshot with [`App::config`] and keep
//! it for one job, so a reload never changes a config under a pass that is using it.
//! [`App::config_changes`] wakes the loops (scheduler, digests) that must look again.
//! `[storage]`, `[server]` and `[fetch]` are read once at start: a reload that changes
//! them takes effect on the next start.

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::config::{Config, resolve};
use crate::error::{Error, Result};
use crate::fetch::Fetcher;
use crate::index::SearchIndex;
use crate::search::{SearchCache, SearchRequest, SearchResults, Searcher};
use crate::store::Store;
use crate::tone::ToneModel;
use crate::vietnamese::variants::Variants;

/// Folder of the tantivy index inside the data folder.
pub const INDEX_DIR: &str = "index";

/// Shared state of a running gomtin.
#[derive(Clone)]
pub struct App {
    config: Arc<ArcSwap<Config>>,
    pub store: Arc<Store>,
    pub index: Arc<SearchIndex>,
    /// The one HTTP client; it also holds robots.txt rules per host.
    pub fetcher: Fetcher,
    variants: Arc<ArcSwap<Variants>>,
    /// The tone lexicon (built-in plus `[tone] lexicon_file`).
    tone: Arc<ArcSwap<ToneModel>>,
    /// Bumped by every reload; loops that plan from the config watch it.
    changes: Arc<tokio::sync::watch::Sender<u64>>,
    /// Recent search pages (`[server.limits] search_cache`; none when 0).
    search_cache: Arc<Option<SearchCache>>,
}

impl App {
    /// Open the data folder named by the config (creating it on first run) and sync the
    /// config's sources into SQLite. A damaged index is an error naming `gomtin reindex`.
    pub fn open(config: Config) -> Result<App> {
        Self::open_with(config, false)
    }

    /// [`App::open`] for a process holding the data folder's lock (`serve`, `fetch`): a
    /// damaged index is started over empty and refilled from SQLite by the catch-up.
    pub fn open_locked(config: Config, _lock: &DataLock) -> Result<App> {
        Self::open_with(config, true)
    }

    fn open_with(config: Config, repair: bool) -> Result<App> {
        let data_dir = config.data_dir();
        let store = Store::open(&data_dir)?;
        store.sync_sources(&config, chrono::Utc::now())?;
        let (variants, tagger, tone) = derived(&config)?;
        let index_dir = data_dir.join(INDEX_DIR);
        let index = if repair {
            SearchIndex::open_or_reset(&index_dir)?
        } else {
            SearchIndex::open(&index_dir)?
        };
        let index = index
            .with_topics(tagger)
            .with_writer_threads(SearchIndex::default_writer_threads());
        let fetcher = Fetcher::new(&config.fetch)?;
        let search_cache =
            SearchCache::new(config.server.limits.search_cache, crate::search::cache::TTL);
        Ok(App {
            config: Arc::new(ArcSwap::from_pointee(config)),
            store: Arc::new(store),
            index: Arc::new(index),
            fetcher,
            variants: Arc::new(ArcSwap::from_pointee(variants)),
            tone: Arc::new(ArcSwap::from_pointee(tone)),
            changes: Arc::new(tokio::sync::watch::channel(0).0),
            search_cache: Arc::new(search_cache),
        })
    }

    /// The config as it is now: a snapshot to keep for the whole of one job.
    pub fn config(&self) -> Arc<Config> {
        self.config.load_full()
    }

    /// The spelling variants as they are now (built-in plus `[search] variants_file`).
    pub fn variants(&self) -> Arc<Variants> {
        self.variants.load_full()
    }

    /// The tone model as it is now (a changed lexicon re-scores items on the next
    /// after-store step).
    pub fn tone(&self) -> Arc<ToneModel> {
        self.tone.load_full()
    }

    /// Replace the running config with `config` (already loaded and validated, e.g. by
    /// `Config::load`): the sources are synced into SQLite (a new source is due at once, a
    /// removed one is no longer scheduled; items are kept), the variants and the topics
    /// tagger are rebuilt (changed topics re-tag every item on the next index catch-up),
    /// and the loops watching [`App::config_changes`] are woken. On an error nothing is
    /// replaced and the running config stays.
    pub fn reload(&self, config: Config) -> Result<()> {
        let (variants, tagger, tone) = derived(&config)?;
        self.store.sync_sources(&config, chrono::Utc::now())?;
        self.variants.store(Arc::new(variants));
        self.tone.store(Arc::new(tone));
        self.index.set_topics(tagger);
        self.config.store(Arc::new(config));
        // Topics and variants change what a query finds.
        if let Some(c) = self.search_cache.as_ref() {
            c.clear();
        }
        self.changes.send_modify(|n| *n += 1);
        tracing::info!("configuration reloaded");
        Ok(())
    }

    /// A receiver that changes on every [`App::reload`].
    pub fn config_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Search with this app's index, store, variants and timezone. An empty index over a
    /// store that has items says so in the notices (never a silent "no hits").
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResults> {
        let variants = self.variants();
        let mut results = Searcher {
            index: &self.index,
            store: &self.store,
            variants: &variants,
            tz: self.config().display.timezone,
            cache: self.search_cache.as_ref().as_ref(),
        }
        .search(req)?;
        if let Some(notice) = self.index_notice(false)? {
            results.notices.insert(0, notice);
        }
        Ok(results)
    }

    /// What to tell someone searching when the index does not hold what SQLite holds:
    /// empty while the store has items; with `lag_too`, also behind it (for a process that
    /// does not feed the index itself, such as `gomtin search` beside no daemon).
    pub fn index_notice(&self, lag_too: bool) -> Result<Option<String>> {
        // The index's meta file is read only when the answer depends on it (an empty
        // index, or `lag_too`): not on every search of a full one.
        let docs = self.index.doc_count();
        if !lag_too && docs > 0 {
            return Ok(None);
        }
        let indexed = self.index.indexed_seq()?;
        if docs == 0 && indexed == 0 {
            let items = self.store.item_count()?;
            if items > 0 {
                return Ok(Some(format!(
                    "chỉ mục trống, chạy gomtin reindex (cơ sở dữ liệu có {items} tin)"
                )));
            }
        }
        if lag_too {
            let behind = self.store.max_seq()? - indexed;
            if behind > 0 {
                return Ok(Some(format!(
                    "chỉ mục chậm hơn cơ sở dữ liệu ({behind} thay đổi chưa vào chỉ mục): gomtin serve đang chạy sẽ tự cập nhật, nếu không thì chạy gomtin reindex"
                )));
            }
        }
        Ok(None)
    }
}

/// Rebuild the index of the data folder from SQLite, whatever state its folder is in (see
/// `SearchIndex::rebuild_in`): `gomtin reindex`, under the data folder's lock. Items
/// without a tone (or scored by another lexicon) are scored first.
pub fn rebuild_index(config: &Config, _lock: &DataLock) -> Result<usize> {
    let data_dir = config.data_dir();
    let store = Store::open(&data_dir)?;
    store.sync_sources(config, chrono::Utc::now())?;
    let (_, tagger, tone) = derived(config)?;
    backfill_tones(&store, &tone)?;
    SearchIndex::rebuild_in(
        &data_dir.join(INDEX_DIR),
        &store,
        tagger,
        SearchIndex::default_writer_threads(),
    )
}

/// Items scored per back-fill batch.
const TONE_BATCH: usize = 500;

/// Give a tone to every stored item that has none (rows from before tones existed, or
/// stored by a path that left it to the store). When the lexicon changed since the stored
/// tones were computed, every item is scored again. Each scored item moves to the end of
/// the change log, so the index takes its tone. Blocking; returns how many were scored.
pub fn backfill_tones(store: &Store, model: &ToneModel) -> Result<usize> {
    let fingerprint = model.fingerprint();
    if store.tone_fingerprint()?.as_deref() != Some(fingerprint) {
        let reset = store.reset_tones(fingerprint)?;
        if reset > 0 {
            tracing::info!(
                items = reset,
                "tone lexicon changed; scoring every item again"
            );
        }
    }
    let mut done = 0;
    loop {
        let batch = store.items_without_tone(TONE_BATCH)?;
        if batch.is_empty() {
            break;
        }
        let tones: Vec<_> = batch
            .into_iter()
            .map(|(id, hash, title, summary, text)| {
                (id, hash, model.judge(&title, &summary, &text))
            })
            .collect();
        let written = store.set_tones(&tones)?;
        done += written;
        if written == 0 {
            // Every row changed under us; the next step takes them.
            break;
        }
        if done % 20_000 < TONE_BATCH {
            tracing::info!(items = done, "tones computed");
        }
    }
    if done > 0 {
        tracing::info!(items = done, "tone back-fill done");
    }
    Ok(done)
}

/// Held while a process writes to the data folder; released on drop (or process death).
#[derive(Debug)]
pub struct DataLock {
    _file: std::fs::File,
    pub path: std::path::PathBuf,
}

/// Take the data folder's exclusive lock, or say clearly who has it.
pub fn lock_data_dir(data_dir: &std::path::Path) -> Result<DataLock> {
    std::fs::create_dir_all(data_dir).map_err(|source| Error::Io {
        path: data_dir.to_path_buf(),
        source,
    })?;
    let path = data_dir.join("gomtin.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => {
            use std::io::Write;
            let mut f = &file;
            let _ = f.set_len(0);
            let _ = writeln!(f, "{}", std::process::id());
            Ok(DataLock { _file: file, path })
        }
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Locked {
            path: data_dir.to_path_buf(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(Error::Io { path, source }),
    }
}

/// What a config implies beyond itself: the spelling variants, the topics tagger and the
/// tone model.
fn derived(config: &Config) -> Result<(Variants, crate::topics::TopicTagger, ToneModel)> {
    let variants = load_variants(config)?;
    let tagger =
        crate::topics::TopicTagger::new(&config.topics, variants.clone(), config.display.timezone)?;
    Ok((variants, tagger, load_tone(config)?))
}

/// The built-in tone lexicon plus the admin's file when `[tone] lexicon_file` is set (a bad
/// line is reported with the file and its line number).
pub fn load_tone(config: &Config) -> Result<ToneModel> {
    let Some(p) = &config.tone.lexicon_file else {
        return Ok(ToneModel::builtin());
    };
    let path = resolve(&config.base_dir, p);
    let text = std::fs::read_to_string(&path).map_err(|source| Error::ConfigRead {
        path: path.clone(),
        source,
    })?;
    ToneModel::with_extra(&text).map_err(|e| Error::ConfigInvalid {
        path,
        message: format!("từ điển sắc thái: {e}"),
    })
}

/// The built-in variants plus the admin's file when `[search] variants_file` is set.
pub fn load_variants(config: &Config) -> Result<Variants> {
    let mut text = String::new();
    if let Some(p) = &config.search.variants_file {
        let path = resolve(&config.base_dir, p);
        text = std::fs::read_to_string(&path).map_err(|source| Error::ConfigRead {
            path: path.clone(),
            source,
        })?;
    }
    let invalid = |e: crate::vietnamese::variants::VariantsError| Error::ConfigInvalid {
        path: config
            .search
            .variants_file
            .as_ref()
            .map(|p| resolve(&config.base_dir, p))
            .unwrap_or_else(|| "config/variants.txt".into()),
        message: e.to_string(),
    };
    if text.is_empty() {
        return Ok(Variants::builtin());
    }
    // Parse the admin's file alone first so that line numbers in errors are theirs.
    Variants::parse(&text).map_err(invalid)?;
    let builtin = include_str!("../config/variants.txt");
    Variants::parse(&format!("{builtin}\n{text}")).map_err(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &std::path::Path, extra: &str) -> Config {
        let text = format!(
            "[storage]\ndata_dir = \"{}\"\n\n[[sources]]\nid = \"a\"\nname = \"A\"\nkind = \"manual\"\n{extra}",
            dir.display()
        );
        Config::parse(&text, &dir.join("gomtin.toml")).expect("config")
    }

    #[test]
    fn reload_swaps_the_config_syncs_sources_and_signals() {
        let dir = tempfile::tempdir().expect("tmp");
        let app = App::open(config(dir.path(), "")).expect("open");
        let changes = app.config_changes();
        app.index.commit(0).expect("commit");
        assert!(!app.index.topics_changed().expect("meta"));
        let before = app.config();
        assert_eq!(before.sources.len(), 1);
        let extra = "\n[[sources]]\nid = \"b\"\nname = \"B\"\nkind = \"manual\"\n\n[[topics]]\nid = \"t\"\nname = \"T\"\nquery = \"nông thôn mới\"\n";
        app.reload(config(dir.path(), extra)).expect("reload");
        // The snapshot taken before stays as it was; a new one sees the new file.
        assert_eq!(before.sources.len(), 1);
        assert_eq!(app.config().sources.len(), 2);
        assert!(changes.has_changed().expect("sender alive"));
        let ids: Vec<String> = app
            .store
            .schedules()
            .expect("schedules")
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert!(ids.contains(&"b".to_string()), "{ids:?}");
        // A topic appeared: the index must re-tag what it holds on its next catch-up.
        assert!(app.index.topics_changed().expect("meta"));
    }
}
