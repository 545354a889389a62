//! Proximity boosts of a search: the phrase and adjacent-pair bonuses, and the extra of
//! words' exact forms, that reorder the best candidates once `search` has ranked every
//! match by its words. They are scored
//! here for a given list of documents only, by reading each query word's positions at
//! those documents — never by walking phrase matches through the whole index, which is
//! what a phrase query does and what made long queries slow at a million items.
//!
//! A boost scores exactly what tantivy's `PhraseQuery` (slop 0) inside a `BoostQuery`
//! would: BM25 of the phrase (summed idf of its words, the field's norm, the number of
//! times the phrase occurs) times the boost — for a one-word boost (a word's exact form),
//! what a `TermQuery` would. A unit test holds them equal.

use tantivy::postings::{Postings, SegmentPostings};
use tantivy::query::Bm25Weight;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, DocSet, Score, Searcher, SegmentReader, Term};

use crate::error::{Error, Result};

/// Words that score `boost` more where they stand next to each other, in order, in
/// `field`.
#[derive(Debug, Clone)]
pub struct ProximityBoost {
    pub field: Field,
    pub words: Vec<String>,
    pub boost: Score,
}

/// The boosts of one query, ready to score documents of any segment of one searcher.
pub struct ProximityScorer {
    /// Distinct (field, word) terms over all boosts.
    terms: Vec<Term>,
    /// Per boost: its field, the index in `terms` of each of its words, its BM25 weight.
    boosts: Vec<(Field, Vec<usize>, Bm25Weight)>,
}

impl ProximityScorer {
    pub fn new(searcher: &Searcher, boosts: &[ProximityBoost]) -> Result<Self> {
        let mut terms: Vec<Term> = Vec::new();
        let mut prepared = Vec::with_capacity(boosts.len());
        for b in boosts.iter().filter(|b| !b.words.is_empty()) {
            let phrase: Vec<Term> = b
                .words
                .iter()
                .map(|w| Term::from_field_text(b.field, w))
                .collect();
            let slots = phrase
                .iter()
                .map(|t| match terms.iter().position(|k| k == t) {
                    Some(i) => i,
                    None => {
                        terms.push(t.clone());
                        terms.len() - 1
                    }
                })
                .collect();
            let weight = Bm25Weight::for_terms(searcher, &phrase)?.boost_by(b.boost);
            prepared.push((b.field, slots, weight));
        }
        Ok(ProximityScorer {
            terms,
            boosts: prepared,
        })
    }

    fn is_empty(&self) -> bool {
        self.boosts.is_empty()
    }

    /// Call `add(i, bonus)` for each of `docs` that some boost matches, with the sum of
    /// the boosts it matches. Documents are visited segment by segment in doc order, so
    /// each word's postings are read forward once.
    pub fn score_docs(
        &self,
        searcher: &Searcher,
        docs: &[DocAddress],
        mut add: impl FnMut(usize, Score),
    ) -> Result<()> {
        if self.is_empty() || docs.is_empty() {
            return Ok(());
        }
        let mut order: Vec<usize> = (0..docs.len()).collect();
        order.sort_by_key(|&i| (docs[i].segment_ord, docs[i].doc_id));
        let mut start = 0;
        while start < order.len() {
            let segment_ord = docs[order[start]].segment_ord;
            let end = order[start..]
                .iter()
                .position(|&i| docs[i].segment_ord != segment_ord)
                .map_or(order.len(), |n| start + n);
            let reader = searcher.segment_reader(segment_ord);
            let mut segment = SegmentPositions::open(reader, &self.terms)?;
            let mut norms = Vec::with_capacity(self.boosts.len());
            for (field, _, _) in &self.boosts {
                norms.push(reader.get_fieldnorms_reader(*field)?);
            }
            for &i in &order[start..end] {
                let doc = docs[i].doc_id;
                segment.load(doc);
                let mut bonus: Score = 0.0;
                let mut matched = false;
                for ((_, slots, weight), norm) in self.boosts.iter().zip(&norms) {
                    let count = segment.phrase_count(slots);
                    if count > 0 {
                        bonus += weight.score(norm.fieldnorm_id(doc), count);
                        matched = true;
                    }
                }
                if matched {
                    add(i, bonus);
                }
            }
            start = end;
        }
        Ok(())
    }
}

/// A term at the loaded document: absent, there (positions not read yet), or there with
/// its positions read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Absent,
    There,
    Read,
}

/// The postings of each term in one segment, and their positions at the current document.
struct SegmentPositions {
    postings: Vec<Option<SegmentPostings>>,
    /// Positions of each term at the loaded document, read only when a phrase whose
    /// every word is there asks for them.
    positions: Vec<Vec<u32>>,
    /// Per term: where it stands at the loaded document.
    state: Vec<At>,
    /// Scratch for phrase counting.
    candidates: Vec<u32>,
}

impl SegmentPositions {
    fn open(reader: &SegmentReader, terms: &[Term]) -> Result<Self> {
        let mut postings = Vec::with_capacity(terms.len());
        for t in terms {
            postings.push(
                reader
                    .inverted_index(t.field())?
                    .read_postings(t, IndexRecordOption::WithFreqsAndPositions)
                    .map_err(|e| Error::Index(format!("reading postings: {e}")))?,
            );
        }
        Ok(SegmentPositions {
            positions: vec![Vec::new(); terms.len()],
            state: vec![At::Absent; terms.len()],
            postings,
            candidates: Vec::new(),
        })
    }

    /// Move every term to `doc` (docs must come in increasing order); positions are read
    /// later, and only for the phrases that can match (a one-word boost needs none: its
    /// count is the word's frequency).
    fn load(&mut self, doc: DocId) {
        for (p, state) in self.postings.iter_mut().zip(self.state.iter_mut()) {
            *state = At::Absent;
            let Some(p) = p else { continue };
            let at = if p.doc() < doc { p.seek(doc) } else { p.doc() };
            if at == doc {
                *state = At::There;
            }
        }
    }

    /// How many times the terms at `slots` occur one right after another at the loaded
    /// document.
    fn phrase_count(&mut self, slots: &[usize]) -> u32 {
        if slots.iter().any(|&s| self.state[s] == At::Absent) {
            return 0;
        }
        if let [only] = slots {
            return self.postings[*only].as_ref().map_or(0, |p| p.term_freq());
        }
        for &s in slots {
            if self.state[s] == At::There {
                let out = &mut self.positions[s];
                out.clear();
                if let Some(p) = self.postings[s].as_mut() {
                    p.positions(out);
                }
                self.state[s] = At::Read;
            }
        }
        let positions = &self.positions;
        count_runs(
            slots.iter().map(|&s| positions[s].as_slice()),
            &mut self.candidates,
        )
    }
}

/// How many times the words whose positions at one document are `lists` (in the phrase's
/// order, each sorted) stand one right after another: the number of starts `p` with the
/// `i`-th word at `p + i` — what tantivy's phrase scorer (slop 0) counts.
pub(super) fn count_runs<'a>(
    mut lists: impl Iterator<Item = &'a [u32]>,
    candidates: &mut Vec<u32>,
) -> u32 {
    candidates.clear();
    let Some(first) = lists.next() else {
        return 0;
    };
    candidates.extend_from_slice(first);
    for (offset, next) in lists.enumerate() {
        if candidates.is_empty() {
            break;
        }
        let offset = offset as u32 + 1;
        // Both lists are sorted: keep the starts whose word `offset` later is there.
        let mut j = 0;
        candidates.retain(|&start| {
            let want = start + offset;
            while j < next.len() && next[j] < want {
                j += 1;
            }
            j < next.len() && next[j] == want
        });
    }
    candidates.len() as u32
}

/// Whether the words stand in sequence at least once (`count_runs(..) > 0`, stopping at
/// the first run found); `at[k]` is a cursor into `lists[k]`, reset here.
pub(super) fn any_run(lists: &[Vec<u32>], at: &mut Vec<usize>) -> bool {
    let Some((first, rest)) = lists.split_first() else {
        return false;
    };
    at.clear();
    at.resize(rest.len(), 0);
    'starts: for &start in first {
        for (k, next) in rest.iter().enumerate() {
            let want = start + k as u32 + 1;
            let j = &mut at[k];
            while *j < next.len() && next[*j] < want {
                *j += 1;
            }
            if *j == next.len() {
                // This word has no place left this far on: no later start can run.
                return false;
            }
            if next[*j] != want {
                continue 'starts;
            }
        }
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{Fields, in_memory_index};
    use tantivy::collector::DocSetCollector;
    use tantivy::query::{
        AllQuery, BooleanQuery, BoostQuery, EnableScoring, Occur, PhraseQuery, Query, TermQuery,
    };
    use tantivy::{Index, TantivyDocument, doc};

    fn index_of(texts: &[(&str, &str)]) -> (Index, Fields) {
        let (index, f, mut w) = in_memory_index();
        for (i, (title, body)) in texts.iter().enumerate() {
            let d: TantivyDocument = doc!(
                f.id => i as u64,
                f.title_f => *title,
                f.body_f => *body,
                f.title => *title,
                f.body => *body,
                f.published => 0i64,
            );
            w.add_document(d).expect("in-memory index");
            // Two segments, so the per-segment walk is exercised.
            if i == texts.len() / 2 {
                w.commit().expect("in-memory index");
            }
        }
        w.commit().expect("in-memory index");
        (index, f)
    }

    /// Scores of the boosts through tantivy's own phrase queries (term queries for one
    /// word), per document.
    fn reference(
        searcher: &Searcher,
        boosts: &[ProximityBoost],
        docs: &[DocAddress],
    ) -> Vec<Score> {
        let q = BooleanQuery::new(
            boosts
                .iter()
                .map(|b| {
                    let terms: Vec<Term> = b
                        .words
                        .iter()
                        .map(|w| Term::from_field_text(b.field, w))
                        .collect();
                    let phrase: Box<dyn Query> = if terms.len() == 1 {
                        Box::new(TermQuery::new(
                            terms[0].clone(),
                            IndexRecordOption::WithFreqs,
                        ))
                    } else {
                        Box::new(PhraseQuery::new(terms))
                    };
                    let q: Box<dyn Query> = Box::new(BoostQuery::new(phrase, b.boost));
                    (Occur::Should, q)
                })
                .collect(),
        );
        let weight = q
            .weight(EnableScoring::enabled_from_searcher(searcher))
            .expect("in-memory index");
        docs.iter()
            .map(|a| {
                let mut s = weight
                    .scorer(searcher.segment_reader(a.segment_ord), 1.0)
                    .expect("in-memory index");
                if s.seek(a.doc_id) == a.doc_id {
                    s.score()
                } else {
                    0.0
                }
            })
            .collect()
    }

    /// `any_run` says yes exactly when `count_runs` finds a run, on word positions of
    /// every shape (pseudo-random lists of 1–4 words, repeated places, empty lists).
    #[test]
    fn any_run_agrees_with_count_runs() {
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as u32
        };
        let (mut scratch, mut cursors) = (Vec::new(), Vec::new());
        let mut found = 0;
        for _ in 0..5_000 {
            let words = 1 + next() % 4;
            let lists: Vec<Vec<u32>> = (0..words)
                .map(|_| {
                    let mut l: Vec<u32> = (0..next() % 6).map(|_| next() % 12).collect();
                    l.sort_unstable();
                    l.dedup();
                    l
                })
                .collect();
            let want = count_runs(lists.iter().map(Vec::as_slice), &mut scratch) > 0;
            assert_eq!(any_run(&lists, &mut cursors), want, "{lists:?}");
            found += usize::from(want);
        }
        assert!(found > 100 && found < 4_900, "{found}");
        assert!(!any_run(&[], &mut cursors));
    }

    #[test]
    fn scores_equal_tantivys_phrase_and_term_queries() {
        let texts = [
            (
                "Nông thôn mới ở Kon Rẫy",
                "Xã đạt chuẩn nông thôn mới. Nông thôn mới nâng cao.",
            ),
            (
                "Giá vàng hôm nay",
                "giá vàng tăng, vàng giá thấp, giá giá vàng vàng",
            ),
            ("Kon Tum mưa lớn", "mưa lớn ở Kon Tum; Kon Rẫy mưa"),
            ("Không liên quan", "thôn nông mới, mới thôn nông"),
            ("nam nam nam", "nam nam bắc nam nam nam"),
            ("Đắk Lắk", "Đăk Lăk đắk lắk dak lak"),
        ];
        let (index, f) = index_of(&texts);
        let searcher = index.reader().expect("in-memory index").searcher();
        let boosts = vec![
            ProximityBoost {
                field: f.title_f,
                words: vec!["nong".into(), "thon".into(), "moi".into()],
                boost: 3.0,
            },
            ProximityBoost {
                field: f.body_f,
                words: vec!["nong".into(), "thon".into(), "moi".into()],
                boost: 2.0,
            },
            ProximityBoost {
                field: f.body_f,
                words: vec!["gia".into(), "vang".into()],
                boost: 1.0,
            },
            ProximityBoost {
                field: f.title_f,
                words: vec!["kon".into(), "ray".into()],
                boost: 1.5,
            },
            ProximityBoost {
                field: f.body_f,
                words: vec!["kon".into(), "ray".into()],
                boost: 1.0,
            },
            ProximityBoost {
                field: f.body_f,
                words: vec!["nam".into(), "nam".into()],
                boost: 1.0,
            },
            ProximityBoost {
                field: f.title_f,
                words: vec!["nam".into(), "nam".into(), "nam".into()],
                boost: 1.0,
            },
            ProximityBoost {
                field: f.body_f,
                words: vec!["dak".into(), "lak".into()],
                boost: 1.0,
            },
            ProximityBoost {
                field: f.body_f,
                words: vec!["khong".into(), "co".into()],
                boost: 1.0,
            },
            // One word, on the exact fields and a folded one: what `build` scores here
            // for a word typed with diacritics.
            ProximityBoost {
                field: f.body,
                words: vec!["vàng".into()],
                boost: 2.0,
            },
            ProximityBoost {
                field: f.title,
                words: vec!["mưa".into()],
                boost: 3.0,
            },
            ProximityBoost {
                field: f.body_f,
                words: vec!["kon".into()],
                boost: 1.0,
            },
        ];
        let docs: Vec<DocAddress> = searcher
            .search(&AllQuery, &DocSetCollector)
            .expect("in-memory index")
            .into_iter()
            .collect();
        assert_eq!(docs.len(), texts.len());
        let want = reference(&searcher, &boosts, &docs);
        let mut got = vec![0.0; docs.len()];
        ProximityScorer::new(&searcher, &boosts)
            .expect("in-memory index")
            .score_docs(&searcher, &docs, |i, s| got[i] += s)
            .expect("in-memory index");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-4 * w.abs().max(1.0),
                "doc {i}: {g} vs {w}"
            );
        }
        // The documents with phrases score, the one with the words shuffled doesn't.
        assert!(got.iter().filter(|s| **s > 0.0).count() >= 4, "{got:?}");
        let shuffled = docs
            .iter()
            .position(|a| {
                let s = searcher
                    .segment_reader(a.segment_ord)
                    .fast_fields()
                    .u64("id")
                    .expect("in-memory index");
                s.first(a.doc_id) == Some(3)
            })
            .expect("in-memory index");
        assert_eq!(got[shuffled], 0.0);
    }
}
