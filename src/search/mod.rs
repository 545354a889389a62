//! Search: the query language, its routing onto the exact/folded fields, ranking,
//! snippets and facets. It sits on top of `index` (documents) and `store` (the hits'
//! stored fields); the CLI, the web API and digests all search through `Searcher::search`.
//! This file is the small public API (request, results, hits, `Searcher`); the work is
//! done in its parts, in the order a search goes through them:
//!
//! - `query`: the language people type, read into a `ParsedQuery` (see there for the syntax);
//! - `build`: a parsed query turned into a tantivy query and its proximity boosts
//!   (the routing: folded forms always, exact forms as a boost, variants as alternatives);
//! - `run`: the search itself, with its corrections (Telex/VNI keystrokes, then fuzzy),
//!   using `parallel` (one search on every core), `collect` (count, facets, best matches,
//!   the recency factor), `any_of` (a lazy union), `all_of` (the required spans),
//!   `none_of` (exclusions checked lazily) and `proximity` (phrase boosts);
//! - `snippet`: the marked-up excerpt of each hit;
//! - `suggest`: "Có phải bạn muốn tìm: …" for a query that finds nothing or little;
//! - `cache`: recent pages, answered again without searching while the index is the same.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::index::SearchIndex;
use crate::store::Store;
use crate::vietnamese::variants::Variants;

mod all_of;
mod any_of;
mod build;
pub mod cache;
pub mod collapse;
mod collect;
mod none_of;
mod parallel;
mod phrase_ends;
mod proximity;
pub mod query;
mod run;
mod snippet;
mod suggest;

pub use build::build_query;
pub use query::{MAX_QUERY_CHARS, MAX_UNITS, ParsedQuery, SortOrder, Status, parse_query};

/// Largest page size.
pub const MAX_LIMIT: usize = 200;
/// Deepest offset.
pub const MAX_OFFSET: usize = 10_000;

/// One search request.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: String,
    pub limit: usize,
    pub offset: usize,
    /// Extra filters given outside the query text (web form fields).
    pub sources: Vec<String>,
    pub topics: Vec<String>,
    /// Tones asked for outside the query text (the web's "Tin tích cực", the API's `tone=`).
    pub tones: Vec<crate::model::Tone>,
    pub after: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
    /// Item ids left out of the results.
    pub exclude_ids: Vec<i64>,
    /// `status:` filters given outside the query text (the web's "chưa chia sẻ" box,
    /// `/api/search?status=…`); every one must hold, as in the query.
    pub statuses: Vec<Status>,
    /// Build each hit's snippet (`snippet`, `highlights`, `snippet_html`); `false` leaves
    /// them empty (the benchmark's lean setting). Default `true`.
    pub snippets: bool,
    /// Count the matches per source (`SearchResults::facets`); `false` leaves the facets
    /// empty and the exact total as it is. Default `true`.
    pub facets: bool,
    /// Threads this search may use: `None` (the default) is `parallel::search_threads()`
    /// with the 100,000-document rule; `Some(1)` keeps it on the calling thread.
    pub threads: Option<usize>,
}

impl SearchRequest {
    pub fn new(query: impl Into<String>, limit: usize) -> Self {
        SearchRequest {
            query: query.into(),
            limit,
            offset: 0,
            sources: Vec::new(),
            topics: Vec::new(),
            tones: Vec::new(),
            after: None,
            before: None,
            exclude_ids: Vec::new(),
            statuses: Vec::new(),
            snippets: true,
            facets: true,
            threads: None,
        }
    }
}

/// One hit, as printed by `gomtin search --json` and `/api/search`.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub id: i64,
    pub title: String,
    pub url: Option<String>,
    pub source: String,
    /// RFC 3339, UTC.
    pub published: String,
    /// Plain-text snippet.
    pub snippet: String,
    /// The snippet's matched words as `[start, end)` character (Unicode scalar) offsets.
    pub highlights: Vec<[usize; 2]>,
    /// The snippet as HTML-escaped text with `<mark>` around matched words.
    pub snippet_html: String,
    pub score: f32,
    pub image_url: Option<String>,
    /// `positive`, `neutral` or `negative`.
    pub tone: crate::model::Tone,
    /// Good minus bad phrases, weighted (see `tone`).
    pub tone_score: f32,
    /// The phrases that decided the tone, strongest first.
    pub tone_reasons: Vec<crate::model::ToneReason>,
    /// Sources that posted the same story (near-duplicate cluster), when collapsed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_posted_by: Vec<String>,
}

/// Hits of one source among all matches.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FacetCount {
    pub source: String,
    pub count: u64,
}

/// A page of results with totals and what was done to the query.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    pub total: usize,
    pub hits: Vec<Hit>,
    pub facets: Vec<FacetCount>,
    /// When the query was corrected (keystrokes or fuzzy), the reading used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrected_query: Option<String>,
    /// Human-readable notes (Vietnamese): ignored parts, corrections.
    pub notices: Vec<String>,
    /// When the query found nothing or little: a query with its syllables corrected that
    /// finds more ("Có phải bạn muốn tìm: …"), filters kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    pub offset: usize,
    pub limit: usize,
    pub sort: SortOrder,
}

/// Recent searches' pages (see `cache`).
pub type SearchCache = cache::Recent<run::Found>;

/// Searches the index and fills hits from the store.
pub struct Searcher<'a> {
    pub index: &'a SearchIndex,
    pub store: &'a Store,
    pub variants: &'a Variants,
    pub tz: chrono_tz::Tz,
    /// Where recent pages are kept (`None`: every search searches).
    pub cache: Option<&'a SearchCache>,
}
