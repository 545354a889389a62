//! The handles every command shares: the loaded config, the store, the index, the one
//! HTTP fetcher and the spelling variants. Opening an `App` opens the data folder; it is
//! what the CLI, the daemon and the tests hand to the pipeline and to search.

use std::sync::Arc;

use crate::config::{Config, resolve};
use crate::error::{Error, Result};
use crate::fetch::Fetcher;
use crate::index::SearchIndex;
use crate::search::{SearchRequest, SearchResults, Searcher};
use crate::store::Store;
use crate::vietnamese::variants::Variants;

/// Folder of the tantivy index inside the data folder.
pub const INDEX_DIR: &str = "index";

/// Shared state of a running gomtin.
#[derive(Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub store: Arc<Store>,
    pub index: Arc<SearchIndex>,
    /// The one HTTP client; it also holds robots.txt rules per host.
    pub fetcher: Fetcher,
    pub variants: Arc<Variants>,
}

impl App {
    /// Open the data folder named by the config (creating it on first run) and sync the
    /// config's sources into SQLite.
    pub fn open(config: Config) -> Result<App> {
        let data_dir = config.data_dir();
        let store = Store::open(&data_dir)?;
        store.sync_sources(&config, chrono::Utc::now())?;
        let variants = load_variants(&config)?;
        let tagger = crate::topics::TopicTagger::new(
            &config.topics,
            variants.clone(),
            config.display.timezone,
        )?;
        let index = SearchIndex::open(&data_dir.join(INDEX_DIR))?
            .with_topics(tagger)
            .with_writer_threads(SearchIndex::default_writer_threads());
        let fetcher = Fetcher::new(&config.fetch)?;
        Ok(App {
            config: Arc::new(config),
            store: Arc::new(store),
            index: Arc::new(index),
            fetcher,
            variants: Arc::new(variants),
        })
    }

    /// Search with this app's index, store, variants and timezone.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResults> {
        Searcher {
            index: &self.index,
            store: &self.store,
            variants: &self.variants,
            tz: self.config.display.timezone,
        }
        .search(req)
    }
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
