//! `NoneOf`: what a query's exclusions (`-từ`, `-"cụm từ"`) leave out — any of its ways, a
//! word or a phrase on one field — checked lazily, one document at a time. A search asks
//! an exclusion only about the documents the rest of the query matches, in order; this
//! answers each such question at that document alone: its words' postings are moved to
//! it, and only if every word of a phrase is there are their positions read. tantivy's
//! phrase scorer, asked the same, walks on to the next document where the phrase stands
//! whole, reading positions in documents nobody asked about (at a million items `ha noi
//! -"giao thong"` read the positions of every document with both words).
//!
//! Inside the exclusion of a boolean query (tantivy's `Exclude`), which asks
//! `doc() <= d && seek(d) == d` for each candidate `d` in increasing order, the document
//! it is at is a lower bound of its next match: either a verified match, or the first
//! document it has not yet ruled out. Walked on its own (`advance`) it visits exactly its
//! matches, so it stays a correct query anywhere else.

use tantivy::query::{EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, Term};

use super::all_of::WayScorer;

/// Any of its ways: each words in sequence on one field; see the module.
#[derive(Debug, Clone)]
pub struct NoneOf {
    ways: Vec<Vec<Term>>,
}

impl NoneOf {
    /// `ways`: each a non-empty sequence of terms of one field.
    pub fn new(ways: Vec<Vec<Term>>) -> Self {
        NoneOf {
            ways: ways.into_iter().filter(|w| !w.is_empty()).collect(),
        }
    }
}

impl Query for NoneOf {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(NoneOfWeight {
            ways: self.ways.clone(),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for way in &self.ways {
            for t in way {
                visitor(t, way.len() > 1);
            }
        }
    }
}

struct NoneOfWeight {
    ways: Vec<Vec<Term>>,
}

impl Weight for NoneOfWeight {
    fn scorer(&self, reader: &SegmentReader, _boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut ways = Vec::with_capacity(self.ways.len());
        for terms in &self.ways {
            if let Some(w) = WayScorer::open(reader, terms, None)? {
                ways.push(w);
            }
        }
        if ways.is_empty() {
            return Ok(Box::new(EmptyScorer));
        }
        let mut scorer = NoneOfScorer {
            ways,
            doc: 0,
            verified: false,
            cursors: Vec::new(),
        };
        // A scorer starts at its first match.
        scorer.advance();
        Ok(Box::new(scorer))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "document #({doc}) does not match"
            )));
        }
        Ok(Explanation::new("excluded", 0.0))
    }
}

struct NoneOfScorer {
    ways: Vec<WayScorer>,
    /// A verified match when `verified`; otherwise the first document not ruled out.
    doc: DocId,
    verified: bool,
    cursors: Vec<usize>,
}

impl NoneOfScorer {
    /// Whether some way matches `target` itself (`target` at or after every way's
    /// last target); sets `doc` to `target` when one does, to the next document not
    /// ruled out when none does.
    fn check(&mut self, target: DocId) -> bool {
        let mut next = TERMINATED;
        for w in &mut self.ways {
            let d = if w.doc() < target {
                w.seek(target)
            } else {
                w.doc()
            };
            if d == target {
                if w.matches(&mut self.cursors) {
                    self.doc = target;
                    self.verified = true;
                    return true;
                }
                // Its words are here but not in sequence: it can match next at target + 1.
                next = next.min(target + 1);
            } else {
                next = next.min(d);
            }
        }
        self.doc = next;
        self.verified = false;
        false
    }
}

impl DocSet for NoneOfScorer {
    /// The next true match (used when the query is walked on its own).
    fn advance(&mut self) -> DocId {
        let mut target = if self.verified {
            self.doc.saturating_add(1)
        } else {
            self.doc
        };
        while target != TERMINATED {
            if self.check(target) {
                return target;
            }
            target = self.doc;
        }
        self.doc = TERMINATED;
        self.verified = true;
        TERMINATED
    }

    /// `target` when a way matches it; otherwise a document after it that no match
    /// precedes (a verified match only when walked by `advance`).
    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc > target || (self.doc == target && self.verified) {
            return self.doc;
        }
        if target == TERMINATED {
            self.doc = TERMINATED;
            self.verified = true;
            return TERMINATED;
        }
        self.check(target);
        self.doc
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.ways
            .iter()
            .map(WayScorer::cost)
            .fold(0u32, u32::saturating_add)
    }
}

impl Scorer for NoneOfScorer {
    fn score(&mut self) -> Score {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::in_memory_index;
    use tantivy::collector::{Count, DocSetCollector};
    use tantivy::query::{AllQuery, BooleanQuery, Occur, PhraseQuery, TermQuery};
    use tantivy::schema::{Field, IndexRecordOption};
    use tantivy::{DocAddress, TantivyDocument, doc};

    fn terms(field: Field, words: &str) -> Vec<Term> {
        words
            .split(' ')
            .map(|w| Term::from_field_text(field, w))
            .collect()
    }

    /// What a way stands for in tantivy's own terms.
    fn plain(way: &[Term]) -> Box<dyn Query> {
        if way.len() == 1 {
            Box::new(TermQuery::new(way[0].clone(), IndexRecordOption::Basic))
        } else {
            Box::new(PhraseQuery::new(way.to_vec()))
        }
    }

    fn docs(searcher: &tantivy::Searcher, q: &dyn Query) -> std::collections::HashSet<DocAddress> {
        searcher.search(q, &DocSetCollector).expect("search")
    }

    /// Excluded through it, or walked on its own, it leaves out and keeps exactly what
    /// tantivy's phrase and term queries would — phrases whole or apart, words a segment
    /// lacks, several segments, and a positive side that skips about.
    #[test]
    fn excludes_what_the_plain_queries_match() {
        let (index, f, mut w) = in_memory_index();
        let texts = [
            "tai nan giao thong o ha noi",
            "ha noi giao ban thong tin",
            "thong giao ha noi",
            "ha noi mua thu",
            "giao thong nong thon",
            "noi ha giao thong",
            "khong co gi",
        ];
        for round in 0..50u64 {
            for (i, t) in texts.iter().enumerate() {
                let title = if (round + i as u64).is_multiple_of(4) {
                    *t
                } else {
                    "tin"
                };
                let d: TantivyDocument = doc!(
                    f.id => round * 10 + i as u64,
                    f.title_f => title,
                    f.body_f => format!("{t} {}", texts[(i * 3 + round as usize) % texts.len()]),
                );
                w.add_document(d).expect("in-memory index");
            }
            if round % 13 == 12 {
                w.commit().expect("in-memory index");
            }
        }
        w.commit().expect("in-memory index");
        let searcher = index.reader().expect("in-memory index").searcher();
        assert!(searcher.segment_readers().len() > 1);
        let cases = [
            vec![
                terms(f.title_f, "giao thong"),
                terms(f.body_f, "giao thong"),
            ],
            vec![terms(f.body_f, "ha noi giao")],
            vec![terms(f.body_f, "mua"), terms(f.title_f, "thong tin")],
            // A word no document has: nothing is left out by that way.
            vec![terms(f.body_f, "khongco thong"), terms(f.body_f, "nong")],
        ];
        let positives: [Box<dyn Query>; 2] = [
            Box::new(AllQuery),
            Box::new(TermQuery::new(
                Term::from_field_text(f.body_f, "ha"),
                IndexRecordOption::Basic,
            )),
        ];
        for ways in &cases {
            let any = || -> Box<dyn Query> {
                Box::new(BooleanQuery::new(
                    ways.iter().map(|w| (Occur::Should, plain(w))).collect(),
                ))
            };
            let want_any = docs(&searcher, &*any());
            assert_eq!(docs(&searcher, &NoneOf::new(ways.clone())), want_any);
            assert_eq!(
                searcher
                    .search(&NoneOf::new(ways.clone()), &Count)
                    .expect("count"),
                want_any.len()
            );
            for positive in &positives {
                let excluded = |q: Box<dyn Query>| {
                    BooleanQuery::new(vec![
                        (Occur::Must, positive.box_clone()),
                        (Occur::MustNot, q),
                    ])
                };
                let want = docs(&searcher, &excluded(any()));
                let got = docs(&searcher, &excluded(Box::new(NoneOf::new(ways.clone()))));
                assert_eq!(got, want, "{ways:?}");
                assert!(!got.is_empty());
            }
        }
    }
}
