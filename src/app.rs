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
        let index = SearchIndex::open(&data_dir.join(INDEX_DIR))?;
        let fetcher = Fetcher::new(&config.fetch)?;
        let variants = load_variants(&config)?;
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
