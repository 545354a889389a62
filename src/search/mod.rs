//! Search: the query language, its routing onto the exact/folded fields, ranking,
//! snippets and facets. It sits on top of `index` (documents) and `store` (the hits'
//! stored fields); the CLI, the web API and digests all search through `Searcher::search`.
//!
//! Query language (words are required, AND):
//! - `"quoted phrase"` — words adjacent, in order; `-word` / `-"phrase"` — exclude;
//! - `a OR b` — either; `source:ID`, `topic:ID` — filters (repeat for OR);
//! - `after:2026-01-01` (from that day on), `before:2026-02-01` (up to the day before),
//!   in the display timezone; `sort:date` (newest first) or `sort:relevance` (default).
//!
//! Routing: a word typed without diacritics matches the folded form only; a word with
//! diacritics must match the folded form and scores extra when the exact (tone-normalized)
//! form matches too. Adjacent words get a phrase boost, titles weigh more than bodies, and
//! newer items get a mild boost. Spelling variants (i/y, `Đăk`/`Đắk`, `TP.HCM`...) are
//! added as alternatives. A query with no hits is retried once read as Telex/VNI
//! keystrokes, then with edit-distance-1 fuzzy matching on the folded form.

use std::ops::Bound;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Serialize;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Score, Term};

use crate::error::{Error, Result};
use crate::index::{Fields, SearchIndex, body_text};
use crate::store::Store;
use crate::vietnamese::{self, telex, variants::Variants};

mod any_of;
mod collect;
mod parallel;
mod proximity;
use any_of::AnyOf;
use collect::{Gathered, Matches, Rank};
use proximity::{ProximityBoost, ProximityScorer};

/// Longest query text considered (characters); the rest is ignored with a notice.
pub const MAX_QUERY_CHARS: usize = 1_000;
/// Most words/phrases used from one query; the rest is ignored with a notice.
pub const MAX_UNITS: usize = 24;
/// Largest page size.
pub const MAX_LIMIT: usize = 200;
/// Deepest offset.
pub const MAX_OFFSET: usize = 10_000;

const TITLE_BOOST: Score = 1.5;
const EXACT_BOOST: Score = 2.0;
const PHRASE_BOOST: Score = 2.0;
const PAIR_BOOST: Score = 1.0;
const SNIPPET_CHARS: usize = 220;

/// Result order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    #[default]
    Relevance,
    Date,
}

/// One search request.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: String,
    pub limit: usize,
    pub offset: usize,
    /// Extra filters given outside the query text (web form fields).
    pub sources: Vec<String>,
    pub topics: Vec<String>,
    pub after: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
    /// Item ids left out of the results (the web's "chưa chia sẻ" filter).
    pub exclude_ids: Vec<i64>,
}

impl SearchRequest {
    pub fn new(query: impl Into<String>, limit: usize) -> Self {
        SearchRequest {
            query: query.into(),
            limit,
            offset: 0,
            sources: Vec::new(),
            topics: Vec::new(),
            after: None,
            before: None,
            exclude_ids: Vec::new(),
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
    pub offset: usize,
    pub limit: usize,
    pub sort: SortOrder,
}

// ---------------------------------------------------------------------------------------
// Parsing

/// One word or quoted phrase of a query.
#[derive(Debug, Clone, PartialEq)]
enum UnitKind {
    Word,
    Phrase,
}

#[derive(Debug, Clone, PartialEq)]
struct Unit {
    kind: UnitKind,
    text: String,
    negated: bool,
}

/// A parsed query: OR-groups of units (each group required), plus filters.
#[derive(Debug, Clone, Default)]
pub struct ParsedQuery {
    groups: Vec<Vec<Unit>>,
    excluded: Vec<Unit>,
    pub sources: Vec<String>,
    pub topics: Vec<String>,
    pub after: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
    pub sort: SortOrder,
    pub notices: Vec<String>,
}

impl ParsedQuery {
    /// True when the query has no word to match (only filters, or nothing).
    pub fn is_match_all(&self) -> bool {
        self.groups.is_empty()
    }

    /// The words of the query, as typed (for corrections).
    fn plain_text(&self) -> String {
        self.groups
            .iter()
            .flatten()
            .map(|u| u.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Split query text into raw tokens, honouring quotes (an unbalanced quote runs to the end).
fn lex(q: &str) -> Vec<(bool, String, bool)> {
    // (negated, text, quoted)
    let mut out = Vec::new();
    let mut chars = q.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut negated = false;
        if c == '-' {
            chars.next();
            negated = true;
        }
        if matches!(chars.peek(), Some('"' | '“' | '”')) {
            chars.next();
            let mut s = String::new();
            for c in chars.by_ref() {
                if matches!(c, '"' | '“' | '”') {
                    break;
                }
                s.push(c);
            }
            out.push((negated, s, true));
            continue;
        }
        let mut s = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            if matches!(c, '"' | '“' | '”') && !s.is_empty() {
                break;
            }
            s.push(c);
            chars.next();
        }
        if !s.is_empty() || negated {
            out.push((negated, s, false));
        }
    }
    out
}

/// Parse a day `YYYY-MM-DD` (or `DD/MM/YYYY`) as the start of that day in `tz`.
fn parse_day(s: &str, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .ok()?;
    let local = tz
        .from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
        .earliest()?;
    Some(local.with_timezone(&Utc))
}

/// Parse the query language. Never panics; unknown syntax is read as plain words.
pub fn parse_query(input: &str, tz: chrono_tz::Tz) -> Result<ParsedQuery> {
    let mut pq = ParsedQuery::default();
    let text: String = if input.chars().count() > MAX_QUERY_CHARS {
        pq.notices.push(format!(
            "Câu tìm kiếm quá dài: chỉ dùng {MAX_QUERY_CHARS} ký tự đầu."
        ));
        input.chars().take(MAX_QUERY_CHARS).collect()
    } else {
        input.to_string()
    };
    let text = vietnamese::clean(&text);
    let mut pending_or = false;
    let mut units = 0usize;
    let mut truncated = false;
    for (negated, raw, quoted) in lex(&text) {
        if !quoted && !negated && raw == "OR" {
            pending_or = !pq.groups.is_empty();
            continue;
        }
        if !quoted && let Some((key, value)) = raw.split_once(':') {
            let key_l = key.to_lowercase();
            let value = value.trim();
            let handled = match key_l.as_str() {
                "source" | "nguon" | "nguồn" if !value.is_empty() => {
                    pq.sources.push(value.to_lowercase());
                    true
                }
                "topic" | "chude" | "chủđề" if !value.is_empty() => {
                    pq.topics.push(value.to_lowercase());
                    true
                }
                "after" | "sau" => {
                    pq.after = Some(parse_day(value, tz).ok_or_else(|| {
                        Error::Query(format!(
                            "ngày `{value}` trong after: không hợp lệ; dùng dạng 2026-01-31"
                        ))
                    })?);
                    true
                }
                "before" | "truoc" | "trước" => {
                    pq.before = Some(parse_day(value, tz).ok_or_else(|| {
                        Error::Query(format!(
                            "ngày `{value}` trong before: không hợp lệ; dùng dạng 2026-01-31"
                        ))
                    })?);
                    true
                }
                "sort" => {
                    pq.sort = match value.to_lowercase().as_str() {
                        "date" | "ngay" | "ngày" | "new" => SortOrder::Date,
                        "relevance" | "score" => SortOrder::Relevance,
                        other => {
                            return Err(Error::Query(format!(
                                "sort:{other} không được hỗ trợ; dùng sort:date hoặc sort:relevance"
                            )));
                        }
                    };
                    true
                }
                _ => false,
            };
            if handled {
                pending_or = false;
                continue;
            }
        }
        // Keep only text that has at least one word in it.
        if vietnamese::tokenize(&raw).is_empty() {
            continue;
        }
        if units >= MAX_UNITS {
            truncated = true;
            continue;
        }
        units += 1;
        let unit = Unit {
            kind: if quoted {
                UnitKind::Phrase
            } else {
                UnitKind::Word
            },
            text: raw,
            negated,
        };
        if negated {
            pq.excluded.push(unit);
            pending_or = false;
        } else if pending_or && let Some(last) = pq.groups.last_mut() {
            last.push(unit);
            pending_or = false;
        } else {
            pq.groups.push(vec![unit]);
        }
    }
    if truncated {
        pq.notices.push(format!(
            "Câu tìm kiếm có quá nhiều từ: chỉ dùng {MAX_UNITS} từ đầu."
        ));
    }
    if let (Some(a), Some(b)) = (pq.after, pq.before)
        && a >= b
    {
        pq.notices
            .push("Khoảng ngày rỗng: after: phải trước before:.".to_string());
    }
    Ok(pq)
}

// ---------------------------------------------------------------------------------------
// Query building

/// A word of the query as analysed.
#[derive(Debug, Clone)]
struct QWord {
    exact: String,
    folded: String,
    diacritics: bool,
}

fn analyse(text: &str) -> Vec<QWord> {
    vietnamese::tokenize(text)
        .into_iter()
        .map(|t| {
            let folded = vietnamese::fold(&t.text);
            let exact = vietnamese::exact_form(&t.text);
            QWord {
                diacritics: vietnamese::has_diacritics(&t.text),
                exact,
                folded,
            }
        })
        .filter(|w| !w.folded.is_empty())
        .collect()
}

struct Builder<'a> {
    f: Fields,
    variants: &'a Variants,
    fuzzy: bool,
    /// The index searched, to estimate which required clause is rarest (see `build`).
    searcher: Option<&'a tantivy::Searcher>,
}

/// Whether any of `ways` is a phrase: without document frequencies to go by, such a
/// union is an `AnyOf` (see `Builder::union_of`).
fn has_phrase(ways: &[ProximityBoost]) -> bool {
    ways.iter().any(|w| w.words.len() > 1)
}

impl Builder<'_> {
    fn term(&self, field: tantivy::schema::Field, text: &str) -> Term {
        Term::from_field_text(field, text)
    }

    /// Words in sequence on one field (a term when one word, a phrase otherwise).
    fn seq(&self, field: tantivy::schema::Field, words: &[&str]) -> Box<dyn Query> {
        if words.len() == 1 {
            if self.fuzzy && words[0].chars().count() >= 5 {
                return Box::new(FuzzyTermQuery::new(self.term(field, words[0]), 1, true));
            }
            Box::new(TermQuery::new(
                self.term(field, words[0]),
                IndexRecordOption::WithFreqs,
            ))
        } else {
            Box::new(PhraseQuery::new(
                words.iter().map(|w| self.term(field, w)).collect(),
            ))
        }
    }

    fn boosted(q: Box<dyn Query>, boost: Score) -> Box<dyn Query> {
        if (boost - 1.0).abs() < f32::EPSILON {
            q
        } else {
            Box::new(BoostQuery::new(q, boost))
        }
    }

    /// The ways one sequence of words can match: folded on title and body, plus the
    /// exact forms (boosted) when the words carry diacritics.
    fn alternatives_for(&self, words: &[QWord], out: &mut Vec<ProximityBoost>, weight: Score) {
        if words.is_empty() {
            return;
        }
        let folded: Vec<String> = words.iter().map(|w| w.folded.clone()).collect();
        let mut push = |field, words: &Vec<String>, boost| {
            out.push(ProximityBoost {
                field,
                words: words.clone(),
                boost,
            })
        };
        push(self.f.title_f, &folded, TITLE_BOOST * weight);
        push(self.f.body_f, &folded, weight);
        if words.iter().any(|w| w.diacritics) && !self.fuzzy {
            let exact: Vec<String> = words.iter().map(|w| w.exact.clone()).collect();
            push(self.f.title, &exact, TITLE_BOOST * EXACT_BOOST * weight);
            push(self.f.body, &exact, EXACT_BOOST * weight);
        }
    }

    /// A required clause for `words`, with their spelling variants as alternatives.
    ///
    /// An alternative that contains another one on the same field ("thành phố Hồ Chí
    /// Minh" contains "Hồ Chí Minh") matches no document the shorter one doesn't, so it
    /// leaves the required clause and, given `boosts`, is scored with the proximity
    /// boosts instead: the same addition to the score of the best candidates, without
    /// checking a long phrase of common words in every document.
    fn span_clause(
        &self,
        words: &[QWord],
        alts: &[Vec<QWord>],
        boosts: Option<&mut Vec<ProximityBoost>>,
    ) -> Box<dyn Query> {
        let ways = self.span_ways(words, alts, boosts);
        self.union_of(&ways, has_phrase(&ways))
    }

    /// The ways a required span can match (see `span_clause`).
    fn span_ways(
        &self,
        words: &[QWord],
        alts: &[Vec<QWord>],
        boosts: Option<&mut Vec<ProximityBoost>>,
    ) -> Vec<ProximityBoost> {
        let mut ways = Vec::new();
        self.alternatives_for(words, &mut ways, 1.0);
        for alt in alts {
            // A variant is nearly as good as the spelling typed.
            self.alternatives_for(alt, &mut ways, 0.9);
        }
        if let Some(boosts) = boosts {
            let contains = |long: &ProximityBoost, short: &ProximityBoost| {
                long.field == short.field
                    && long.words.len() > short.words.len()
                    && long
                        .words
                        .windows(short.words.len())
                        .any(|w| w == short.words)
            };
            let (wider, kept): (Vec<usize>, Vec<usize>) =
                (0..ways.len()).partition(|&i| ways.iter().any(|other| contains(&ways[i], other)));
            boosts.extend(wider.iter().map(|&i| ways[i].clone()));
            ways = kept.into_iter().map(|i| ways[i].clone()).collect();
        }
        ways
    }

    /// The query matching any of `ways`. `lazy`: an `AnyOf`, which moves each way only
    /// as far as asked — right for a clause the rest of the query jumps through, and for
    /// phrases; otherwise tantivy's buffered union, faster for the clause that leads.
    fn union_of(&self, ways: &[ProximityBoost], lazy: bool) -> Box<dyn Query> {
        let queries: Vec<Box<dyn Query>> = ways
            .iter()
            .map(|w| {
                let words: Vec<&str> = w.words.iter().map(String::as_str).collect();
                Self::boosted(self.seq(w.field, &words), w.boost)
            })
            .collect();
        if lazy {
            Box::new(AnyOf::new(queries))
        } else {
            Box::new(BooleanQuery::new(
                queries.into_iter().map(|q| (Occur::Should, q)).collect(),
            ))
        }
    }

    /// About how many documents `ways` match: for each way its rarest word's document
    /// frequency, the largest of those. None without a searcher.
    fn estimate(&self, ways: &[ProximityBoost]) -> Option<u64> {
        let searcher = self.searcher?;
        let mut largest = 0;
        for w in ways {
            let rarest = w
                .words
                .iter()
                .map(|word| {
                    searcher
                        .doc_freq(&Term::from_field_text(w.field, word))
                        .unwrap_or(u64::MAX)
                })
                .min()
                .unwrap_or(0);
            largest = largest.max(rarest);
        }
        Some(largest)
    }

    /// Build the clauses of a run of consecutive plain words (variants + phrase boost).
    /// The phrase and pair boosts go to `boosts`: they only reorder what the required
    /// clauses match, so search scores them for the best candidates only (see `rescore`).
    fn run_clauses(
        &self,
        units: &[&Unit],
        spans: &mut Vec<Vec<ProximityBoost>>,
        boosts: &mut Vec<ProximityBoost>,
    ) {
        // Flatten to words, remembering which unit each came from.
        let mut words: Vec<QWord> = Vec::new();
        let mut originals: Vec<String> = Vec::new();
        let mut unit_of: Vec<usize> = Vec::new();
        for (ui, u) in units.iter().enumerate() {
            for t in vietnamese::tokenize(&u.text) {
                let a = analyse(&t.text);
                if let Some(w) = a.into_iter().next() {
                    words.push(w);
                    originals.push(t.text.clone());
                    unit_of.push(ui);
                }
            }
        }
        let refs: Vec<&str> = originals.iter().map(String::as_str).collect();
        let expansions = self.variants.expand(&refs);
        let mut i = 0;
        while i < words.len() {
            if let Some(exp) = expansions.iter().find(|e| e.start == i && e.end > i) {
                let alts: Vec<Vec<QWord>> = exp
                    .alternatives
                    .iter()
                    .map(|alt| analyse(&alt.join(" ")))
                    .filter(|a| !a.is_empty())
                    .collect();
                let end = exp.end.min(words.len());
                spans.push(self.span_ways(&words[i..end], &alts, Some(&mut *boosts)));
                i = end;
                continue;
            }
            // Words from the same typed unit ("covid-19", "TP.HCM") stay together.
            let mut j = i + 1;
            while j < words.len()
                && unit_of[j] == unit_of[i]
                && !expansions.iter().any(|e| e.start == j)
            {
                j += 1;
            }
            let alts: Vec<Vec<QWord>> = if j == i + 1 {
                vietnamese::variants::iy_variant(&originals[i])
                    .map(|v| analyse(&v))
                    .into_iter()
                    .filter(|a| !a.is_empty())
                    .collect()
            } else {
                Vec::new()
            };
            spans.push(self.span_ways(&words[i..j], &alts, Some(&mut *boosts)));
            i = j;
        }
        // Phrase boost for adjacent words.
        if words.len() >= 2 && !self.fuzzy {
            let folded: Vec<String> = words.iter().map(|w| w.folded.clone()).collect();
            let boost = |field, words: &[String], boost| ProximityBoost {
                field,
                words: words.to_vec(),
                boost,
            };
            boosts.push(boost(self.f.title_f, &folded, PHRASE_BOOST * TITLE_BOOST));
            boosts.push(boost(self.f.body_f, &folded, PHRASE_BOOST));
            // Vietnamese words are mostly two syllables ("phá rừng", "Tây Nguyên"): reward
            // each adjacent pair too, so a query longer than the phrase in the text still
            // prefers documents where its words stand together.
            if folded.len() >= 3 {
                for pair in folded.windows(2).take(MAX_UNITS) {
                    boosts.push(boost(self.f.title_f, pair, PAIR_BOOST * TITLE_BOOST));
                    boosts.push(boost(self.f.body_f, pair, PAIR_BOOST));
                }
            }
        }
    }

    /// A query matching one unit (word or phrase), for OR groups.
    fn unit_query(&self, u: &Unit) -> Option<Box<dyn Query>> {
        let words = analyse(&u.text);
        if words.is_empty() {
            return None;
        }
        let alts: Vec<Vec<QWord>> = if words.len() == 1 {
            vietnamese::variants::iy_variant(&u.text)
                .map(|v| analyse(&v))
                .into_iter()
                .collect()
        } else {
            Vec::new()
        };
        Some(self.span_clause(&words, &alts, None))
    }

    /// A query matching what `-unit` excludes: exact forms when typed with diacritics.
    fn exclusion(&self, u: &Unit) -> Vec<Box<dyn Query>> {
        let words = analyse(&u.text);
        if words.is_empty() {
            return Vec::new();
        }
        if words.iter().any(|w| w.diacritics) {
            let exact: Vec<&str> = words.iter().map(|w| w.exact.as_str()).collect();
            vec![
                self.seq(self.f.title, &exact),
                self.seq(self.f.body, &exact),
            ]
        } else {
            let folded: Vec<&str> = words.iter().map(|w| w.folded.as_str()).collect();
            vec![
                self.seq(self.f.title_f, &folded),
                self.seq(self.f.body_f, &folded),
            ]
        }
    }

    fn build(&self, pq: &ParsedQuery, extra: &SearchRequest) -> Built {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut boosts: Vec<ProximityBoost> = Vec::new();
        let mut spans: Vec<Vec<ProximityBoost>> = Vec::new();
        let mut run: Vec<&Unit> = Vec::new();
        for group in &pq.groups {
            let single_word = group.len() == 1 && group[0].kind == UnitKind::Word;
            if single_word {
                run.push(&group[0]);
                continue;
            }
            if !run.is_empty() {
                self.run_clauses(&run, &mut spans, &mut boosts);
                run.clear();
            }
            let options: Vec<(Occur, Box<dyn Query>)> = group
                .iter()
                .filter_map(|u| self.unit_query(u))
                .map(|q| (Occur::Should, q))
                .collect();
            if !options.is_empty() {
                clauses.push((Occur::Must, Box::new(BooleanQuery::new(options))));
            }
        }
        if !run.is_empty() {
            self.run_clauses(&run, &mut spans, &mut boosts);
        }
        // The rarest required span leads the intersection: tantivy walks it and jumps the
        // others to its documents. The leader gets the buffered union (fast to walk), the
        // spans jumped through get `AnyOf` (no window filled ahead of each jump): on the
        // 1M benchmark index, selective queries 1.5–2× faster, two common words ~25%
        // slower, every class's p99 lower (`AnyOf` only for spans 4× more common than the
        // leader was tried: no better). Without estimates, phrases get `AnyOf` and plain
        // words the buffered union.
        let estimates: Vec<Option<u64>> = spans.iter().map(|w| self.estimate(w)).collect();
        let rarest = estimates.iter().flatten().min().copied();
        for (i, ways) in spans.iter().enumerate() {
            let lazy = match (estimates[i], rarest) {
                (Some(n), Some(rarest)) => n > rarest,
                _ => has_phrase(ways),
            };
            clauses.push((Occur::Must, self.union_of(ways, lazy)));
        }
        let has_positive = clauses.iter().any(|(o, _)| *o == Occur::Must);
        // One exclusion clause: a document is checked against each excluded word or
        // phrase only when the rest of the query matches it.
        let excluded: Vec<Box<dyn Query>> =
            pq.excluded.iter().flat_map(|u| self.exclusion(u)).collect();
        if !excluded.is_empty() {
            clauses.push((Occur::MustNot, Box::new(AnyOf::new(excluded))));
        }
        // Filters: any of the given sources, any of the given topics.
        for (field, values) in [
            (self.f.source, [&pq.sources, &extra.sources]),
            (self.f.topics, [&pq.topics, &extra.topics]),
        ] {
            let any: Vec<(Occur, Box<dyn Query>)> = values
                .iter()
                .flat_map(|v| v.iter())
                .map(|value| {
                    let q: Box<dyn Query> = Box::new(TermQuery::new(
                        Term::from_field_text(field, value),
                        IndexRecordOption::Basic,
                    ));
                    (Occur::Should, q)
                })
                .collect();
            if !any.is_empty() {
                clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
            }
        }
        let after = pq.after.or(extra.after);
        let before = pq.before.or(extra.before);
        if after.is_some() || before.is_some() {
            let lower = after
                .map(|a| Bound::Included(Term::from_field_i64(self.f.published, a.timestamp())))
                .unwrap_or(Bound::Unbounded);
            let upper = before
                .map(|b| Bound::Excluded(Term::from_field_i64(self.f.published, b.timestamp())))
                .unwrap_or(Bound::Unbounded);
            clauses.push((Occur::Must, Box::new(RangeQuery::new(lower, upper))));
        }
        for id in &extra.exclude_ids {
            if let Ok(id) = u64::try_from(*id) {
                clauses.push((
                    Occur::MustNot,
                    Box::new(TermQuery::new(
                        Term::from_field_u64(self.f.id, id),
                        IndexRecordOption::Basic,
                    )),
                ));
            }
        }
        if !has_positive {
            clauses.push((Occur::Must, Box::new(AllQuery)));
        }
        Built {
            main: Box::new(BooleanQuery::new(clauses)),
            boosts,
        }
    }
}

/// A built query: `main` decides what matches and scores it; `boosts` (phrase and pair
/// proximity) add to the score of the documents they also match. The full score of a
/// document is the one of `main` plus the sum of the matching boosts — exactly what the
/// two as one boolean query (`main` required, boosts optional) would give.
struct Built {
    main: Box<dyn Query>,
    boosts: Vec<ProximityBoost>,
}

/// Build the tantivy query of a parsed query, without the proximity boosts, which change
/// no match (used by topic tagging, which only asks what matches).
pub fn build_query(pq: &ParsedQuery, fields: Fields, variants: &Variants) -> Box<dyn Query> {
    Builder {
        f: fields,
        variants,
        fuzzy: false,
        searcher: None,
    }
    .build(pq, &SearchRequest::new("", 1))
    .main
}

/// How many of the best documents by the main query get their proximity boosts scored
/// (at least the page asked for). Phrase scoring reads positions, and doing it for every
/// match of a common word costs more than the rest of the search at a million items;
/// a document ranked below this many by its words alone is assumed not to be lifted onto
/// the page by its phrases.
const RESCORE_WINDOW: usize = 200;

/// The mild recency factor on scores: at most +10% for today's items, fading with a
/// 14-day half-life.
fn recency_factor(now: i64, published: Option<i64>) -> Score {
    let age_days = published
        .map(|p| ((now - p).max(0) as f32) / 86_400.0)
        .unwrap_or(365.0);
    1.0 + 0.1 * 0.5f32.powf(age_days / 14.0)
}

/// Add the proximity boosts to the scores of `docs` (scored by the main query, recency
/// included); the bonus of a document gets its recency factor too.
fn rescore(
    searcher: &tantivy::Searcher,
    boosts: &[ProximityBoost],
    docs: &mut [(Score, DocAddress)],
    now: i64,
) -> Result<()> {
    let scorer = ProximityScorer::new(searcher, boosts)?;
    let addrs: Vec<DocAddress> = docs.iter().map(|d| d.1).collect();
    let mut published: Option<(u32, Option<tantivy::columnar::Column<i64>>)> = None;
    scorer.score_docs(searcher, &addrs, |i, bonus| {
        let addr = addrs[i];
        if published.as_ref().map(|p| p.0) != Some(addr.segment_ord) {
            let column = searcher
                .segment_reader(addr.segment_ord)
                .fast_fields()
                .i64("published")
                .ok();
            published = Some((addr.segment_ord, column));
        }
        let p = published
            .as_ref()
            .and_then(|(_, c)| c.as_ref())
            .and_then(|c| c.first(addr.doc_id));
        docs[i].0 += bonus * recency_factor(now, p);
    })
}

// ---------------------------------------------------------------------------------------
// Running

/// Searches the index and fills hits from the store.
pub struct Searcher<'a> {
    pub index: &'a SearchIndex,
    pub store: &'a Store,
    pub variants: &'a Variants,
    pub tz: chrono_tz::Tz,
}

struct RawPage {
    total: usize,
    docs: Vec<(Score, u64)>,
    facets: Vec<FacetCount>,
    query: Box<dyn Query>,
}

impl Searcher<'_> {
    /// Run a search request: parse, search, retry with corrections when nothing matches.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResults> {
        let pq = parse_query(&req.query, self.tz)?;
        let limit = req.limit.clamp(1, MAX_LIMIT);
        let offset = req.offset.min(MAX_OFFSET);
        let mut notices = pq.notices.clone();
        let mut corrected = None;
        let mut page = self.run(&pq, req, limit, offset, false)?;
        if page.total == 0 && !pq.is_match_all() {
            // 1. Raw Telex / VNI keystrokes.
            let plain = pq.plain_text();
            let reading =
                telex::telex_to_vietnamese(&plain).or_else(|| telex::vni_to_vietnamese(&plain));
            if let Some(reading) = reading {
                let rebuilt = rebuild_query(&req.query, &plain, &reading);
                if let Ok(pq2) = parse_query(&rebuilt, self.tz) {
                    let p2 = self.run(&pq2, req, limit, offset, false)?;
                    if p2.total > 0 {
                        notices.push(format!("Đã hiểu là: {reading}"));
                        corrected = Some(reading);
                        page = p2;
                    }
                }
            }
            // 2. Fuzzy, edit distance 1 on the folded form.
            if page.total == 0 {
                let p3 = self.run(&pq, req, limit, offset, true)?;
                if p3.total > 0 {
                    notices.push(format!(
                        "Không có kết quả khớp đúng cho \"{plain}\"; hiển thị kết quả gần đúng."
                    ));
                    corrected = Some(format!("~{plain}"));
                    page = p3;
                }
            }
        }
        let hits = self.hydrate(&page)?;
        Ok(SearchResults {
            total: page.total,
            hits,
            facets: page.facets,
            corrected_query: corrected,
            notices,
            offset,
            limit,
            sort: pq.sort,
        })
    }

    fn run(
        &self,
        pq: &ParsedQuery,
        req: &SearchRequest,
        limit: usize,
        offset: usize,
        fuzzy: bool,
    ) -> Result<RawPage> {
        let f = self.index.fields();
        let searcher = self.index.reader().searcher();
        let builder = Builder {
            f,
            variants: self.variants,
            fuzzy,
            searcher: Some(&searcher),
        };
        let Built {
            main: query,
            boosts,
        } = builder.build(pq, req);
        let id_of = |addr: DocAddress| -> Result<u64> {
            let seg = searcher.segment_reader(addr.segment_ord);
            let col = seg.fast_fields().u64("id")?;
            col.first(addr.doc_id)
                .ok_or_else(|| Error::Index("document without id".into()))
        };
        let by_date = pq.sort == SortOrder::Date || pq.is_match_all();
        let now = Utc::now().timestamp();
        let matches = Matches {
            // By relevance, the best `RESCORE_WINDOW` by words get their proximity boosts
            // and the page is cut from the re-sorted window.
            limit: if by_date {
                offset + limit
            } else {
                (offset + limit).max(RESCORE_WINDOW)
            },
            rank: if by_date {
                Rank::Newest
            } else {
                Rank::Relevance { now }
            },
        };
        let Gathered {
            top: mut docs,
            count: total,
            per_source,
        } = parallel::search(&searcher, &query, &matches, parallel::search_threads())?;
        if !by_date {
            rescore(&searcher, &boosts, &mut docs, now)?;
            docs.sort_by(|a, b| {
                b.0.total_cmp(&a.0)
                    .then(a.1.segment_ord.cmp(&b.1.segment_ord))
                    .then(a.1.doc_id.cmp(&b.1.doc_id))
            });
        }
        let mut out = Vec::with_capacity(limit);
        for (score, addr) in docs.into_iter().skip(offset).take(limit) {
            out.push((score, id_of(addr)?));
        }
        let mut facet_counts: Vec<FacetCount> = per_source
            .into_iter()
            .map(|(source, count)| FacetCount { source, count })
            .collect();
        facet_counts.sort_by(|a, b| b.count.cmp(&a.count).then(a.source.cmp(&b.source)));
        Ok(RawPage {
            total,
            docs: out,
            facets: facet_counts,
            query,
        })
    }

    fn hydrate(&self, page: &RawPage) -> Result<Vec<Hit>> {
        let ids: Vec<i64> = page.docs.iter().map(|(_, id)| *id as i64).collect();
        let items = self.store.items_by_ids(&ids)?;
        let searcher = self.index.reader().searcher();
        let f = self.index.fields();
        let mut snip_gen = SnippetGenerator::create(&searcher, &*page.query, f.body_f).ok();
        if let Some(g) = snip_gen.as_mut() {
            g.set_max_num_chars(SNIPPET_CHARS);
        }
        let mut hits = Vec::with_capacity(items.len());
        for (score, id) in &page.docs {
            let Some(item) = items.iter().find(|i| i.id == *id as i64) else {
                continue;
            };
            let body = body_text(item);
            let (snippet, ranges) = match snip_gen.as_ref().map(|g| g.snippet(&body)) {
                Some(s) if !s.is_empty() => (s.fragment().to_string(), s.highlighted().to_vec()),
                _ => (
                    crate::normalize::excerpt(&item.summary, SNIPPET_CHARS),
                    Vec::new(),
                ),
            };
            let highlights = ranges
                .iter()
                .filter(|r| {
                    r.end <= snippet.len()
                        && snippet.is_char_boundary(r.start)
                        && snippet.is_char_boundary(r.end)
                })
                .map(|r| {
                    [
                        snippet[..r.start].chars().count(),
                        snippet[..r.end].chars().count(),
                    ]
                })
                .collect::<Vec<_>>();
            let snippet_html = mark_html(&snippet, &ranges);
            hits.push(Hit {
                id: item.id,
                title: item.title.clone(),
                url: item.url.clone(),
                source: item.source_id.clone(),
                published: item
                    .published_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                snippet,
                highlights,
                snippet_html,
                score: *score,
                image_url: item.image_url.clone(),
                also_posted_by: Vec::new(),
            });
        }
        Ok(hits)
    }
}

/// Escape `text` for HTML and wrap the byte `ranges` in `<mark>`.
fn mark_html(text: &str, ranges: &[std::ops::Range<usize>]) -> String {
    let mut out = String::with_capacity(text.len() + ranges.len() * 13);
    let mut pos = 0;
    for r in ranges {
        if r.start < pos
            || r.end > text.len()
            || !text.is_char_boundary(r.start)
            || !text.is_char_boundary(r.end)
        {
            continue;
        }
        out.push_str(&html_escape::encode_text(&text[pos..r.start]));
        out.push_str("<mark>");
        out.push_str(&html_escape::encode_text(&text[r.start..r.end]));
        out.push_str("</mark>");
        pos = r.end;
    }
    out.push_str(&html_escape::encode_text(&text[pos..]));
    out
}

/// Replace the words part of the original query by the corrected reading, keeping filters.
fn rebuild_query(original: &str, plain: &str, reading: &str) -> String {
    let filters: Vec<&str> = original
        .split_whitespace()
        .filter(|t| {
            t.split_once(':').is_some_and(|(k, _)| {
                matches!(
                    k.to_lowercase().as_str(),
                    "source" | "topic" | "after" | "before" | "sort"
                )
            })
        })
        .collect();
    let _ = plain;
    let mut q = reading.to_string();
    for f in filters {
        q.push(' ');
        q.push_str(f);
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz() -> chrono_tz::Tz {
        chrono_tz::Asia::Ho_Chi_Minh
    }

    #[test]
    fn parses_language() {
        let pq = parse_query(
            "nông thôn \"kon rẫy\" -bão a OR b source:kon-tum after:2026-01-01 sort:date",
            tz(),
        )
        .expect("parse");
        assert_eq!(pq.groups.len(), 4, "{:?}", pq.groups);
        assert_eq!(pq.groups[3].len(), 2);
        assert_eq!(pq.excluded.len(), 1);
        assert_eq!(pq.sources, vec!["kon-tum"]);
        assert_eq!(pq.sort, SortOrder::Date);
        assert_eq!(
            pq.after.map(|d| d.to_rfc3339()),
            Some("2025-12-31T17:00:00+00:00".to_string())
        );
    }

    #[test]
    fn abuse_is_read_sensibly() {
        for q in [
            "a:(^",
            "- *",
            "\"unbalanced",
            "OR OR OR",
            "-",
            "\"\"",
            ":::",
            "((((",
        ] {
            let pq = parse_query(q, tz()).expect(q);
            assert!(pq.groups.len() <= 2, "{q}: {:?}", pq.groups);
        }
        let long = "từ ".repeat(10_000);
        let pq = parse_query(&long, tz()).expect("long");
        assert_eq!(pq.groups.len(), MAX_UNITS);
        assert!(!pq.notices.is_empty());
        assert!(parse_query("after:hôm-qua", tz()).is_err());
        assert!(parse_query("sort:random", tz()).is_err());
        assert!(parse_query("sort:", tz()).is_err());
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn mark_html_escapes() {
        assert_eq!(
            mark_html("<b> bão & lũ", &[4..8]),
            "&lt;b&gt; <mark>bão</mark> &amp; lũ"
        );
    }
}
