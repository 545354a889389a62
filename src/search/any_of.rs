//! `AnyOf`: a document matches when any of its clauses does, and scores the sum of the
//! clauses it matches — what a boolean query of `Should` clauses gives, but moving each
//! clause only as far as asked. Search uses it where alternatives that may be phrases
//! are not among a query's required spans (`search::all_of` takes those): an OR group,
//! an excluded phrase, the spans of a fuzzy search. tantivy's buffered union
//! fills a window of thousands of documents ahead of each jump, and for phrases that
//! means checking word positions in documents the rest of the query never asks about.

use tantivy::query::{EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, Term};

/// Any of `clauses`; see the module.
#[derive(Debug)]
pub struct AnyOf {
    clauses: Vec<Box<dyn Query>>,
}

impl AnyOf {
    pub fn new(clauses: Vec<Box<dyn Query>>) -> Self {
        AnyOf { clauses }
    }
}

impl Clone for AnyOf {
    fn clone(&self) -> Self {
        AnyOf {
            clauses: self.clauses.iter().map(|q| q.box_clone()).collect(),
        }
    }
}

impl Query for AnyOf {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let weights = self
            .clauses
            .iter()
            .map(|q| q.weight(scoring))
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(Box::new(AnyOfWeight { weights }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for q in &self.clauses {
            q.query_terms(visitor);
        }
    }
}

struct AnyOfWeight {
    weights: Vec<Box<dyn Weight>>,
}

impl Weight for AnyOfWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut children = Vec::with_capacity(self.weights.len());
        for w in &self.weights {
            let s = w.scorer(reader, boost)?;
            if s.doc() != TERMINATED {
                children.push(s);
            }
        }
        Ok(match children.len() {
            0 => Box::new(EmptyScorer),
            1 => children.remove(0),
            _ => Box::new(AnyOfScorer::new(children)),
        })
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "document #({doc}) does not match"
            )));
        }
        let mut explanation = Explanation::new("any of, sum of", scorer.score());
        for w in &self.weights {
            if let Ok(child) = w.explain(reader, doc) {
                explanation.add_detail(child);
            }
        }
        Ok(explanation)
    }
}

/// The clauses' scorers, each at its own document; the current document is the lowest.
struct AnyOfScorer {
    children: Vec<Box<dyn Scorer>>,
    doc: DocId,
}

impl AnyOfScorer {
    fn new(children: Vec<Box<dyn Scorer>>) -> Self {
        let mut s = AnyOfScorer {
            children,
            doc: TERMINATED,
        };
        s.doc = s.lowest();
        s
    }

    fn lowest(&self) -> DocId {
        self.children
            .iter()
            .map(|c| c.doc())
            .min()
            .unwrap_or(TERMINATED)
    }
}

impl DocSet for AnyOfScorer {
    fn advance(&mut self) -> DocId {
        if self.doc == TERMINATED {
            return TERMINATED;
        }
        for c in &mut self.children {
            if c.doc() == self.doc {
                c.advance();
            }
        }
        self.doc = self.lowest();
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        for c in &mut self.children {
            if c.doc() < target {
                c.seek(target);
            }
        }
        self.doc = self.lowest();
        self.doc
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.children
            .iter()
            .map(|c| c.size_hint())
            .fold(0u32, u32::saturating_add)
    }
}

impl Scorer for AnyOfScorer {
    fn score(&mut self) -> Score {
        let doc = self.doc;
        self.children
            .iter_mut()
            .filter(|c| c.doc() == doc)
            .map(|c| c.score())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::in_memory_index;
    use tantivy::collector::TopDocs;
    use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, TermQuery};
    use tantivy::schema::IndexRecordOption;
    use tantivy::{DocAddress, TantivyDocument, doc};

    /// Same documents, same scores as the boolean `Should` union, alone, inside a
    /// required clause and as an exclusion.
    #[test]
    fn matches_and_scores_like_a_should_union() {
        let (index, f, mut w) = in_memory_index();
        let texts = [
            "thành phố Hồ Chí Minh mưa lớn",
            "TP HCM kẹt xe, Hồ Chí Minh nắng",
            "Hà Nội và TP HCM",
            "chí minh hồ thành phố",
            "Sài Gòn về đêm",
            "Hà Nội mưa lớn",
            "không có gì",
        ];
        for round in 0..40u64 {
            for (i, t) in texts.iter().enumerate() {
                let d: TantivyDocument = doc!(
                    f.id => round * 10 + i as u64,
                    f.title_f => *t,
                    f.body_f => format!("{t} {t}"),
                );
                w.add_document(d).expect("in-memory index");
            }
            if round % 13 == 12 {
                w.commit().expect("in-memory index");
            }
        }
        w.commit().expect("in-memory index");
        let searcher = index.reader().expect("in-memory index").searcher();
        let phrase = |field, words: &[&str], boost: f32| -> Box<dyn Query> {
            let terms = words
                .iter()
                .map(|w| Term::from_field_text(field, w))
                .collect();
            Box::new(BoostQuery::new(Box::new(PhraseQuery::new(terms)), boost))
        };
        let clauses = || -> Vec<Box<dyn Query>> {
            vec![
                phrase(f.title_f, &["tp", "hcm"], 1.5),
                phrase(f.body_f, &["tp", "hcm"], 1.0),
                phrase(f.title_f, &["thanh", "pho", "ho", "chi", "minh"], 1.35),
                phrase(f.body_f, &["ho", "chi", "minh"], 0.9),
                phrase(f.body_f, &["sai", "gon"], 0.9),
            ]
        };
        let should = || -> Box<dyn Query> {
            Box::new(BooleanQuery::new(
                clauses().into_iter().map(|q| (Occur::Should, q)).collect(),
            ))
        };
        let any = || -> Box<dyn Query> { Box::new(AnyOf::new(clauses())) };
        let mua: Box<dyn Query> = Box::new(TermQuery::new(
            Term::from_field_text(f.body_f, "mua"),
            IndexRecordOption::WithFreqs,
        ));
        let within = |q: Box<dyn Query>| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(vec![
                (Occur::Must, mua.box_clone()),
                (Occur::Must, q),
            ]))
        };
        let except = |q: Box<dyn Query>| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(vec![
                (Occur::Must, mua.box_clone()),
                (Occur::MustNot, q),
            ]))
        };
        let top = TopDocs::with_limit(1_000);
        for (want, got) in [
            (should(), any()),
            (within(should()), within(any())),
            (except(should()), except(any())),
        ] {
            let want: Vec<(f32, DocAddress)> = searcher.search(&want, &top).expect("search");
            let got: Vec<(f32, DocAddress)> = searcher.search(&got, &top).expect("search");
            assert!(!want.is_empty());
            assert_eq!(want.len(), got.len());
            for ((ws, wd), (gs, gd)) in want.iter().zip(&got) {
                assert_eq!(wd, gd);
                assert!((ws - gs).abs() <= 1e-5 * ws.abs().max(1.0), "{ws} vs {gs}");
            }
        }
        // Its words are the clauses' words (snippets highlight them).
        let mut words = Vec::new();
        any().query_terms(&mut |t, _| words.push(t.value().as_str().unwrap_or("").to_string()));
        for w in ["tp", "hcm", "thanh", "sai", "gon"] {
            assert!(words.iter().any(|x| x == w), "{w} missing from {words:?}");
        }
    }
}
