//! Query building: a `ParsedQuery` turned into the tantivy query that decides what matches
//! and scores it, plus the proximity boosts that only reorder the best of those matches.
//!
//! Routing: a word typed without diacritics matches the folded form only; a word with
//! diacritics must match the folded form and scores extra when the exact (tone-normalized)
//! form matches too — an extra scored, like the phrase boosts, for the best candidates by
//! their folded words only (`run`'s rescoring window), since the exact form matches
//! nowhere the folded one does not. Adjacent words get a phrase boost and titles weigh
//! more than bodies.
//! Spelling variants (i/y, `Đăk`/`Đắk`, `TP.HCM`...) are added as alternatives; the fuzzy
//! reading (edit distance 1 on the folded form) is the runner's last retry. A quoted
//! phrase typed with diacritics matches its exact (tone-normalized) form only, so
//! `"chuyển đổi số"` does not match "chuyển đổi sở hữu"; typed without, the folded form.
//!
//! Filters on item ids (`status:`, the web's "chưa chia sẻ") come resolved from the store
//! as [`IdFilters`] and become one term-set clause each, which add nothing to the score.

use std::ops::Bound;

use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, RangeQuery,
    TermQuery, TermSetQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{Score, Term};

use super::SearchRequest;
use super::all_of::AllOf;
use super::any_of::AnyOf;
use super::none_of::NoneOf;
use super::proximity::ProximityBoost;
use super::query::{MAX_UNITS, ParsedQuery, Unit, UnitKind};
use crate::index::schema::Fields;
use crate::vietnamese::{self, variants::Variants};

const TITLE_BOOST: Score = 1.5;
const EXACT_BOOST: Score = 2.0;
const PHRASE_BOOST: Score = 2.0;
const PAIR_BOOST: Score = 1.0;

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

/// Item-id filters resolved from the store (`status:` and the web's "chưa chia sẻ").
#[derive(Debug, Clone, Default)]
pub(super) struct IdFilters {
    /// Each set is required: a document must be in every one.
    pub(super) within: Vec<Vec<i64>>,
    /// Documents left out.
    pub(super) without: Vec<i64>,
}

/// The documents of these item ids.
fn id_set(f: Fields, ids: &[i64]) -> TermSetQuery {
    TermSetQuery::new(
        ids.iter()
            .filter_map(|id| u64::try_from(*id).ok())
            .map(|id| Term::from_field_u64(f.id, id)),
    )
}

/// Builds the tantivy query of a parsed query on the index's fields.
pub(super) struct Builder<'a> {
    pub(super) f: Fields,
    pub(super) variants: &'a Variants,
    pub(super) fuzzy: bool,
    /// The index searched, to estimate which required clause is rarest (see `build`).
    pub(super) searcher: Option<&'a tantivy::Searcher>,
    /// Item-id filters (none for topic tagging).
    pub(super) ids: Option<&'a IdFilters>,
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
            // Likewise every way on an exact field (a word or a phrase with diacritics): it
            // matches only where its folded form (kept above, or a shorter way it
            // contains) matches on the folded field, so it only adds to the score — scored
            // with the boosts of the best candidates instead of being read, positions and
            // all, for every match (`đề thi Ngữ văn THPT quốc gia 2017`: "trung học phổ
            // thông" for THPT; `lễ hội Lồng Tồng`: four words, each on four fields).
            let exact = |w: &ProximityBoost| w.field == self.f.title || w.field == self.f.body;
            boosts.extend(ways.iter().filter(|w| exact(w)).cloned());
            ways.retain(|w| !exact(w));
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
        if u.kind == UnitKind::Phrase && words.iter().any(|w| w.diacritics) {
            // Typed with its marks: that exact (tone-normalized) form only.
            let exact: Vec<String> = words.iter().map(|w| w.exact.clone()).collect();
            let ways = [
                ProximityBoost {
                    field: self.f.title,
                    words: exact.clone(),
                    boost: TITLE_BOOST * EXACT_BOOST,
                },
                ProximityBoost {
                    field: self.f.body,
                    words: exact,
                    boost: EXACT_BOOST,
                },
            ];
            return Some(self.union_of(&ways, has_phrase(&ways)));
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

    /// What `-unit` excludes: its words on the title and the body fields — the exact
    /// forms when typed with diacritics, the folded ones otherwise.
    fn excluded_words(&self, u: &Unit) -> Vec<(tantivy::schema::Field, Vec<String>)> {
        let words = analyse(&u.text);
        if words.is_empty() {
            return Vec::new();
        }
        let exact = words.iter().any(|w| w.diacritics);
        let forms: Vec<String> = words
            .iter()
            .map(|w| {
                if exact {
                    w.exact.clone()
                } else {
                    w.folded.clone()
                }
            })
            .collect();
        let (title, body) = if exact {
            (self.f.title, self.f.body)
        } else {
            (self.f.title_f, self.f.body_f)
        };
        vec![(title, forms.clone()), (body, forms)]
    }

    /// What `-unit` excludes, as terms in sequence (`none_of`'s ways).
    fn exclusion_ways(&self, u: &Unit) -> Vec<Vec<Term>> {
        self.excluded_words(u)
            .into_iter()
            .map(|(field, words)| words.iter().map(|w| self.term(field, w)).collect())
            .collect()
    }

    /// A query matching what `-unit` excludes, for a fuzzy search (one word of five
    /// letters or more is matched fuzzily there too).
    fn exclusion(&self, u: &Unit) -> Vec<Box<dyn Query>> {
        self.excluded_words(u)
            .into_iter()
            .map(|(field, words)| {
                let words: Vec<&str> = words.iter().map(String::as_str).collect();
                self.seq(field, &words)
            })
            .collect()
    }

    pub(super) fn build(&self, pq: &ParsedQuery, extra: &SearchRequest) -> Built {
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
        // Two spans or more without fuzzy words (every way a word or a phrase) are one
        // `AllOf`, which reads a phrase's positions only where every span's words are (the
        // 1M benchmark: `đề thi Ngữ văn THPT quốc gia 2017` 34 → 24 ms one thread). One
        // span alone has nothing to intersect: tantivy's union walks it faster.
        //
        // Otherwise the rarest required span leads tantivy's intersection, which walks it
        // and jumps the others to its documents. The leader gets the buffered union (fast
        // to walk), the spans jumped through get `AnyOf` (no window filled ahead of each
        // jump): on the 1M benchmark index, selective queries 1.5–2× faster, two common
        // words ~25% slower, every class's p99 lower (`AnyOf` only for spans 4× more
        // common than the leader was tried: no better). Without estimates, phrases get
        // `AnyOf` and plain words the buffered union.
        if !self.fuzzy && spans.len() > 1 {
            clauses.push((Occur::Must, Box::new(AllOf::new(&spans))));
        } else {
            let estimates: Vec<Option<u64>> = spans.iter().map(|w| self.estimate(w)).collect();
            let rarest = estimates.iter().flatten().min().copied();
            for (i, ways) in spans.iter().enumerate() {
                let lazy = match (estimates[i], rarest) {
                    (Some(n), Some(rarest)) => n > rarest,
                    _ => has_phrase(ways),
                };
                clauses.push((Occur::Must, self.union_of(ways, lazy)));
            }
        }
        let has_positive = clauses.iter().any(|(o, _)| *o == Occur::Must);
        // One exclusion clause: a document is checked against each excluded word or
        // phrase only when the rest of the query matches it.
        if self.fuzzy {
            let excluded: Vec<Box<dyn Query>> =
                pq.excluded.iter().flat_map(|u| self.exclusion(u)).collect();
            if !excluded.is_empty() {
                clauses.push((Occur::MustNot, Box::new(AnyOf::new(excluded))));
            }
        } else {
            // Checked at each document the rest matches, and there only (`none_of`).
            let ways: Vec<Vec<Term>> = pq
                .excluded
                .iter()
                .flat_map(|u| self.exclusion_ways(u))
                .collect();
            if !ways.is_empty() {
                clauses.push((Occur::MustNot, Box::new(NoneOf::new(ways))));
            }
        }
        // Filters: any of the given sources, any of the given topics.
        let no_threads = Vec::new();
        for (field, values) in [
            (self.f.source, [&pq.sources, &extra.sources]),
            (self.f.topics, [&pq.topics, &extra.topics]),
            (self.f.thread, [&pq.threads, &no_threads]),
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
        // Tone: any of the asked tones, none of the excluded ones (`tone` fast field).
        let tone_term = |t: &crate::model::Tone| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_i64(self.f.tone, t.rank()),
                IndexRecordOption::Basic,
            ))
        };
        let tones: Vec<(Occur, Box<dyn Query>)> = pq
            .tones
            .iter()
            .chain(&extra.tones)
            .map(|t| (Occur::Should, tone_term(t)))
            .collect();
        if !tones.is_empty() {
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(tones))));
        }
        for t in &pq.excluded_tones {
            clauses.push((Occur::MustNot, tone_term(t)));
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
        // Id filters match or exclude; they add nothing to the score.
        let mut without: Vec<i64> = extra.exclude_ids.clone();
        if let Some(ids) = self.ids {
            without.extend_from_slice(&ids.without);
            for within in &ids.within {
                let set = Box::new(id_set(self.f, within));
                clauses.push((Occur::Must, Box::new(BoostQuery::new(set, 0.0))));
            }
        }
        if !without.is_empty() {
            let set = id_set(self.f, &without);
            clauses.push((Occur::MustNot, Box::new(set)));
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
pub(super) struct Built {
    pub(super) main: Box<dyn Query>,
    pub(super) boosts: Vec<ProximityBoost>,
}

/// Build the tantivy query of a parsed query, without the proximity boosts, which change
/// no match (used by topic tagging, which only asks what matches).
pub fn build_query(pq: &ParsedQuery, fields: Fields, variants: &Variants) -> Box<dyn Query> {
    Builder {
        f: fields,
        variants,
        fuzzy: false,
        searcher: None,
        ids: None,
    }
    .build(pq, &SearchRequest::new("", 1))
    .main
}
