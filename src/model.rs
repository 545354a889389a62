//! Plain data passed between the pipeline stages: what extraction finds (`RawEntry`),
//! what normalization makes of it (`NewItem`), what the store keeps (`Item`, `SourceStatus`)
//! and what a pass reports (`SourceOutcome`). No I/O happens here.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One entry as a parser found it, before any cleaning. Text fields may hold HTML.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawEntry {
    /// The feed's own identifier (GUID / Atom id), when the feed gives one.
    pub guid: Option<String>,
    pub title: Option<String>,
    /// The item's link, already absolute when the parser could resolve it.
    pub link: Option<String>,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    /// Summary / description, possibly HTML.
    pub summary_html: Option<String>,
    /// Full content, possibly HTML.
    pub content_html: Option<String>,
    /// Lead image URL given by the feed (media, enclosure, thumbnail).
    pub image: Option<String>,
}

/// An item ready to be stored: cleaned, sanitized, keyed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewItem {
    pub source_id: String,
    /// Stable identity within the source (GUID, else canonical link, else a hash).
    pub key: String,
    pub guid: Option<String>,
    pub url: Option<String>,
    pub canonical_url: Option<String>,
    pub title: String,
    pub author: Option<String>,
    /// Plain-text summary.
    pub summary: String,
    /// Sanitized HTML of the content (may be empty).
    pub content_html: String,
    /// Plain text of the content.
    pub content_text: String,
    pub image_url: Option<String>,
    /// Publication time when the feed gave a believable one.
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Hash of the visible fields, to tell an edit from a refetch.
    pub content_hash: String,
}

/// An item as stored in SQLite.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub id: i64,
    pub source_id: String,
    pub key: String,
    pub guid: Option<String>,
    pub url: Option<String>,
    pub canonical_url: Option<String>,
    pub title: String,
    pub author: Option<String>,
    pub summary: String,
    pub content_html: String,
    pub content_text: String,
    pub image_url: Option<String>,
    /// Publication time; first-seen time when the feed gave none.
    pub published_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
    pub first_seen_at: DateTime<Utc>,
    /// Position in the change log that feeds the index.
    pub seq: i64,
}

/// What storing one item did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsert {
    Inserted,
    Updated,
    Unchanged,
}

/// Counts of one store batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UpsertCounts {
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl UpsertCounts {
    pub fn add(&mut self, u: Upsert) {
        match u {
            Upsert::Inserted => self.new += 1,
            Upsert::Updated => self.updated += 1,
            Upsert::Unchanged => self.unchanged += 1,
        }
    }
}

/// How one source fared in one fetch pass.
#[derive(Debug, Clone, Serialize)]
pub struct SourceOutcome {
    pub source_id: String,
    #[serde(flatten)]
    pub result: OutcomeKind,
    pub duration_ms: u64,
}

/// The result part of a `SourceOutcome`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum OutcomeKind {
    /// Fetched and stored; counts tell what changed.
    Fetched {
        #[serde(flatten)]
        counts: UpsertCounts,
        /// Entries the parser returned but that could not be stored (no title and no link...).
        skipped: usize,
    },
    /// The server said nothing changed (HTTP 304).
    NotModified,
    /// The source failed; the message is for people, the kind for machines.
    Failed { kind: String, message: String },
}

impl SourceOutcome {
    pub fn is_failure(&self) -> bool {
        matches!(self.result, OutcomeKind::Failed { .. })
    }
}

/// A source's row in SQLite with its health.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub url: String,
    pub in_config: bool,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error_kind: Option<String>,
    pub last_error: Option<String>,
    pub consecutive_failures: i64,
    pub item_count: i64,
    pub items_last_7_days: i64,
    /// Items first seen per day, averaged over the last 30 days.
    pub avg_items_per_day: f64,
    pub next_check_at: Option<DateTime<Utc>>,
}
