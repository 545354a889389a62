//! What one pass over the matches of a search gathers: how many there are, how many per
//! source (the facet shown beside the results), and the best `limit` of them — by score
//! with the mild recency factor, or newest first. One collector does all three so each
//! match is visited once; it sits between `search` (which builds the query) and
//! `parallel` (which runs it over doc ranges).
//!
//! Ties between equal keys go to the lower document address, as tantivy's own top-docs
//! collector does, so the order does not depend on how the work was split.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

/// The mild recency factor on scores: at most +10% for today's items, fading with a
/// 14-day half-life.
pub fn recency_factor(now: i64, published: Option<i64>) -> Score {
    let age_days = published
        .map(|p| ((now - p).max(0) as f32) / 86_400.0)
        .unwrap_or(365.0);
    1.0 + 0.1 * 0.5f32.powf(age_days / 14.0)
}

/// Largest recency factor (see `recency_factor`): a match whose plain score times this
/// cannot beat the current cut-off is passed over without reading its date.
const MAX_RECENCY: Score = 1.1;

/// How the best matches are chosen.
#[derive(Debug, Clone, Copy)]
pub enum Rank {
    /// Score × recency factor at `now` (Unix seconds).
    Relevance { now: i64 },
    /// Publication time, newest first (score not computed).
    Newest,
    /// `sort:tone`: positive, then neutral, then negative (the `tone` fast field); within
    /// each, by relevance at `now`, or newest first when `now` is `None` (no words).
    Tone { now: Option<i64> },
}

/// The ranking key of one tone class above the next: more than any relevance score or
/// publication time (seconds) can add, and exact in an f64.
const TONE_STEP: f64 = 1e12;

/// Count, per-source counts and the best `limit` matches.
pub struct Matches {
    pub limit: usize,
    pub rank: Rank,
    /// Count per source; `false` skips the `source` column (no facets).
    pub facets: bool,
}

/// One kept match: its ranking key (higher first), its score, its address.
#[derive(Debug, Clone, Copy)]
struct Kept {
    key: f64,
    score: Score,
    addr: DocAddress,
}

impl PartialEq for Kept {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Kept {}
impl PartialOrd for Kept {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Kept {
    /// Better is greater: higher key, then lower address.
    fn cmp(&self, other: &Self) -> Ordering {
        self.key
            .total_cmp(&other.key)
            .then_with(|| other.addr.cmp(&self.addr))
    }
}

/// Per-source counts of one part of a segment, by the `source` column's ordinals.
pub struct SourceOrds {
    segment_ord: SegmentOrdinal,
    column: Option<StrColumn>,
    counts: Vec<u64>,
}

/// What a pass gathered.
pub struct Gathered {
    /// Best first: (score with its recency factor, address); the score is 0 when ranked
    /// by date.
    pub top: Vec<(Score, DocAddress)>,
    pub count: usize,
    /// Matches per source id.
    pub per_source: HashMap<String, u64>,
}

/// What one part gathered, before merging.
pub struct PartFruit {
    top: Vec<Kept>,
    count: u64,
    sources: SourceOrds,
}

pub struct MatchesSegment {
    limit: usize,
    rank: Rank,
    segment_ord: SegmentOrdinal,
    /// The best so far, worst on top.
    heap: BinaryHeap<Reverse<Kept>>,
    count: u64,
    source_column: Option<StrColumn>,
    source_counts: Vec<u64>,
    published: Option<Column<i64>>,
    tone: Option<Column<i64>>,
}

impl MatchesSegment {
    fn offer(&mut self, key: f64, score: Score, doc: DocId) {
        let kept = Kept {
            key,
            score,
            addr: DocAddress::new(self.segment_ord, doc),
        };
        if self.heap.len() < self.limit {
            self.heap.push(Reverse(kept));
        } else if let Some(mut worst) = self.heap.peek_mut()
            && kept > worst.0
        {
            *worst = Reverse(kept);
        }
    }

    /// The key a match must beat to enter (None while the heap has room).
    fn cut_off(&self) -> Option<f64> {
        if self.heap.len() < self.limit {
            None
        } else {
            self.heap.peek().map(|w| w.0.key)
        }
    }
}

impl SegmentCollector for MatchesSegment {
    type Fruit = PartFruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.count += 1;
        if let Some(column) = &self.source_column
            && let Some(ord) = column.ords().first(doc)
            && let Some(n) = self.source_counts.get_mut(ord as usize)
        {
            *n += 1;
        }
        if self.limit == 0 {
            return;
        }
        let published = |doc| self.published.as_ref().and_then(|c| c.first(doc));
        match self.rank {
            Rank::Relevance { now } => {
                // A match that can't enter even with the largest factor is not dated.
                if let Some(cut) = self.cut_off()
                    && f64::from(score * MAX_RECENCY) < cut
                {
                    return;
                }
                let ranked = score * recency_factor(now, published(doc));
                self.offer(f64::from(ranked), ranked, doc);
            }
            Rank::Newest => {
                let key = published(doc).map_or(f64::MIN, |p| p as f64);
                self.offer(key, 0.0, doc);
            }
            Rank::Tone { now } => {
                let class = self.tone.as_ref().and_then(|c| c.first(doc)).unwrap_or(0) + 1;
                let (inner, score) = match now {
                    Some(now) => {
                        let ranked = score * recency_factor(now, published(doc));
                        (f64::from(ranked), ranked)
                    }
                    None => (published(doc).map_or(0.0, |p| p.max(0) as f64), 0.0),
                };
                self.offer(class as f64 * TONE_STEP + inner, score, doc);
            }
        }
    }

    fn harvest(self) -> PartFruit {
        PartFruit {
            top: self.heap.into_iter().map(|r| r.0).collect(),
            count: self.count,
            sources: SourceOrds {
                segment_ord: self.segment_ord,
                column: self.source_column,
                counts: self.source_counts,
            },
        }
    }
}

impl Collector for Matches {
    type Fruit = Gathered;
    type Child = MatchesSegment;

    fn for_segment(
        &self,
        segment_ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<MatchesSegment> {
        let fast = reader.fast_fields();
        let source_column = if self.facets {
            fast.str("source")?
        } else {
            None
        };
        let source_counts = source_column
            .as_ref()
            .map(|c| vec![0; c.num_terms()])
            .unwrap_or_default();
        Ok(MatchesSegment {
            limit: self.limit,
            rank: self.rank,
            segment_ord,
            heap: BinaryHeap::with_capacity(self.limit.min(4_096) + 1),
            count: 0,
            source_column,
            source_counts,
            published: fast.i64("published").ok(),
            tone: fast.i64("tone").ok(),
        })
    }

    fn requires_scoring(&self) -> bool {
        matches!(
            self.rank,
            Rank::Relevance { .. } | Rank::Tone { now: Some(_) }
        )
    }

    fn merge_fruits(&self, fruits: Vec<PartFruit>) -> tantivy::Result<Gathered> {
        let mut top: Vec<Kept> = Vec::new();
        let mut count = 0u64;
        // Sum the parts of each segment, then name the sources once per segment by
        // walking its dictionary in order (cheaper than a lookup per source).
        let mut by_segment: HashMap<SegmentOrdinal, SourceOrds> = HashMap::new();
        for f in fruits {
            top.extend(f.top);
            count += f.count;
            match by_segment.get_mut(&f.sources.segment_ord) {
                Some(acc) => {
                    for (a, b) in acc.counts.iter_mut().zip(&f.sources.counts) {
                        *a += b;
                    }
                }
                None => {
                    by_segment.insert(f.sources.segment_ord, f.sources);
                }
            }
        }
        let mut per_source: HashMap<String, u64> = HashMap::new();
        for part in by_segment.into_values() {
            let Some(column) = part.column else { continue };
            if part.counts.iter().all(|&n| n == 0) {
                continue;
            }
            let mut terms = column.dictionary().stream()?;
            while terms.advance() {
                let n = part
                    .counts
                    .get(terms.term_ord() as usize)
                    .copied()
                    .unwrap_or(0);
                if n > 0 {
                    let name = String::from_utf8_lossy(terms.key()).into_owned();
                    *per_source.entry(name).or_default() += n;
                }
            }
        }
        top.sort_unstable_by(|a, b| b.cmp(a));
        top.truncate(self.limit);
        Ok(Gathered {
            top: top.into_iter().map(|k| (k.score, k.addr)).collect(),
            count: count as usize,
            per_source,
        })
    }
}
