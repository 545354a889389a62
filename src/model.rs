//! Plain data passed between the pipeline stages: what extraction finds (`RawEntry`),
//! what normalization makes of it (`NewItem`), what the store keeps (`Item`, `SourceStatus`)
//! and what a pass reports (`SourceOutcome`), and the tone an item was given (`Tone`,
//! `ToneVerdict`). No I/O happens here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
    /// A forum post: its thread and place in it (`None` for articles and feed items).
    pub thread: Option<InThread>,
}

/// Where a forum post sits: the thread it belongs to and its place in it. A reply is
/// linked to its thread by `key`, so search can group a thread (`thread:`) and an item's
/// page can list the thread's other posts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InThread {
    /// The thread's stable key within its source: the forum's own thread id when its
    /// addresses show one, else the address of its first page.
    pub key: String,
    /// The thread's title.
    pub title: String,
    /// The address of the thread's first page.
    pub url: Option<String>,
    /// The post's number in the thread (1 = the post that opened it), when known.
    pub number: Option<u32>,
    /// The thread's first post.
    pub first: bool,
}

impl InThread {
    /// The value of the index's `thread` field and of a `thread:` filter: the source and
    /// the thread's key (thread ids repeat from one forum to the next).
    pub fn search_key(source_id: &str, key: &str) -> String {
        format!("{source_id}/{key}")
    }
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
    /// A forum post's thread and place in it.
    pub thread: Option<InThread>,
    /// The tone the pipeline gave it (`tone::ToneModel::judge`); `None` leaves it to the
    /// store's back-fill (`pipeline::after_store`).
    pub tone: Option<ToneVerdict>,
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
    /// A forum post's thread and place in it (absent from JSON for other items).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread: Option<InThread>,
    /// Its tone; `None` until it has been scored (rows stored before tones existed).
    pub tone: Option<ToneVerdict>,
}

/// Whether an item is good news to reshare, bad news to notice, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tone {
    Positive,
    #[default]
    Neutral,
    Negative,
}

impl Tone {
    pub const ALL: [Tone; 3] = [Tone::Positive, Tone::Neutral, Tone::Negative];

    /// `positive`, `neutral` or `negative` (stored in SQLite, the API, the query language).
    pub fn as_str(self) -> &'static str {
        match self {
            Tone::Positive => "positive",
            Tone::Neutral => "neutral",
            Tone::Negative => "negative",
        }
    }

    /// The label staff see.
    pub fn label_vi(self) -> &'static str {
        match self {
            Tone::Positive => "Tích cực",
            Tone::Neutral => "Trung tính",
            Tone::Negative => "Tiêu cực",
        }
    }

    /// The value of the index's `tone` field: 1, 0, -1 (higher is better news).
    pub fn rank(self) -> i64 {
        match self {
            Tone::Positive => 1,
            Tone::Neutral => 0,
            Tone::Negative => -1,
        }
    }

    /// Read a tone as people write it: `positive`/`tich-cuc`/`tốt`, `neutral`/`trung-tinh`,
    /// `negative`/`tieu-cuc`/`xấu` (case and marks do not matter).
    pub fn parse(s: &str) -> Option<Tone> {
        let folded: String = s
            .trim()
            .to_lowercase()
            .split(|c: char| c == '-' || c == '_' || c.is_whitespace())
            .map(crate::vietnamese::fold)
            .collect();
        match folded.as_str() {
            "positive" | "pos" | "tichcuc" | "tot" | "good" => Some(Tone::Positive),
            "neutral" | "trungtinh" => Some(Tone::Neutral),
            "negative" | "neg" | "tieucuc" | "xau" | "bad" => Some(Tone::Negative),
            _ => None,
        }
    }
}

impl std::str::FromStr for Tone {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Tone, String> {
        Tone::parse(s).ok_or_else(|| {
            format!("sắc thái `{s}` không hợp lệ; dùng positive, neutral hoặc negative")
        })
    }
}

/// One phrase that counted towards an item's tone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToneReason {
    /// The words as the article writes them (`"khánh thành"`, `"phẫu thuật … thành công"`).
    pub phrase: String,
    /// What it added to the score (negative for bad news), after the field's weight;
    /// 0 when it was negated ("không có người tử vong").
    pub weight: f32,
    /// `title`, `lead` or `body`.
    pub field: String,
    /// True when a negation before it cancelled it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub negated: bool,
}

/// An item's tone with its score and the phrases that decided it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToneVerdict {
    pub label: Tone,
    /// Good minus bad, weighted (0 when nothing matched).
    pub score: f32,
    /// The phrases that weighed most, strongest first.
    pub reasons: Vec<ToneReason>,
}

impl ToneVerdict {
    /// The verdict of a text with no tone phrase at all.
    pub fn neutral() -> ToneVerdict {
        ToneVerdict {
            label: Tone::Neutral,
            score: 0.0,
            reasons: Vec::new(),
        }
    }

    /// The reasons in one line for people: "khánh thành (+18), tai nạn (−2)" — a phrase
    /// found in several fields (title, lead, body) once, with its weights added up.
    pub fn reasons_line(&self) -> String {
        let mut merged: Vec<(String, f32, bool)> = Vec::new();
        for r in &self.reasons {
            let key = r.phrase.to_lowercase();
            match merged
                .iter_mut()
                .find(|(k, _, negated)| *k == key && *negated == r.negated)
            {
                Some(m) => m.1 += r.weight,
                None => merged.push((key, r.weight, r.negated)),
            }
        }
        merged
            .iter()
            .map(|(phrase, weight, negated)| {
                if *negated {
                    format!("{phrase} (phủ định, không tính)")
                } else if *weight >= 0.0 {
                    format!("{phrase} (+{})", trim_number(*weight))
                } else {
                    format!("{phrase} (−{})", trim_number(-weight))
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `12`, `4.5`: a weight without trailing zeros.
fn trim_number(x: f32) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
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
        /// Notes for the source's health ("trang không phải bài viết: …"), when any.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        notes: Vec<String>,
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
    /// Notes of the last pass that read the source ("trang không phải bài viết: …").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// What the forum crawl knows of one thread after a pass (kept in the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadState {
    /// The thread's key (`model::InThread::key`).
    pub key: String,
    /// The address of its first page.
    pub url: String,
    pub title: String,
    /// The board's mark of the thread's last activity when it was read (the last post's
    /// link or time, the reply count): unchanged on the board means nothing new.
    pub activity: Option<String>,
    /// The last page read, and its address: where new posts appear.
    pub last_page: u32,
    pub last_page_url: String,
    /// A long thread is read from its end: pages `2..backfill_below` are still unread.
    pub backfill_below: Option<u32>,
    pub crawled_at: DateTime<Utc>,
}

/// One page a forum crawl (or a paginated list) read, for `gomtin sources check`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PageReport {
    pub url: String,
    /// `board`, `thread` or `list`.
    pub kind: &'static str,
    /// The page's number in its thread or list.
    pub page: u32,
    /// The thread it belongs to (thread pages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread: Option<String>,
    /// Threads listed (boards), posts or items found (threads, lists).
    pub threads: usize,
    pub posts: usize,
}
