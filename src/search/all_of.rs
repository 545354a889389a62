//! `AllOf`: the required spans of a search — each span any of its ways (a word or a
//! phrase on one field) — as one conjunction checked in two phases. First every span's
//! ways are matched by their words alone (a phrase's words all in the document, in any
//! place), and the spans are intersected on that; only a document every span reaches
//! this way has its phrases' word positions read. tantivy's own phrase scorer, jumped to
//! a document by an intersection, walks on to the next document where the phrase stands
//! whole, reading positions in documents the other spans never match (at a million items
//! `đề thi Ngữ văn THPT quốc gia 2017`, with "trung học phổ thông" as a way of `THPT`,
//! spent half its time there). Lucene calls this two-phase iteration.
//!
//! It matches the documents, and gives the scores, of a boolean query requiring every span
//! as a `Should` union of its ways (each a `TermQuery` or `PhraseQuery` in a `BoostQuery`):
//! BM25 of each matching way, times its boost, summed. A unit test holds them equal.

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::{Postings, SegmentPostings};
use tantivy::query::{Bm25Weight, EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, Term};

use super::proximity::{ProximityBoost, any_run, count_runs};

/// Every one of `spans` (each any of its ways); see the module.
#[derive(Debug, Clone)]
pub struct AllOf {
    spans: Vec<Vec<Way>>,
}

/// A way: words in sequence on one field (one word: a term), and its boost.
#[derive(Debug, Clone)]
struct Way {
    terms: Vec<Term>,
    boost: Score,
}

impl AllOf {
    pub fn new(spans: &[Vec<ProximityBoost>]) -> Self {
        let spans = spans
            .iter()
            .map(|span| {
                span.iter()
                    .filter(|w| !w.words.is_empty())
                    .map(|w| Way {
                        terms: w
                            .words
                            .iter()
                            .map(|word| Term::from_field_text(w.field, word))
                            .collect(),
                        boost: w.boost,
                    })
                    .collect()
            })
            .collect();
        AllOf { spans }
    }
}

/// One way of a span, ready to be opened on each segment.
struct WayWeight {
    terms: Vec<Term>,
    /// None when scoring is disabled.
    bm25: Option<Bm25Weight>,
}

impl Query for AllOf {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let mut spans = Vec::with_capacity(self.spans.len());
        for span in &self.spans {
            let mut ways = Vec::with_capacity(span.len());
            for way in span {
                let terms = way.terms.clone();
                let bm25 = match scoring {
                    EnableScoring::Enabled {
                        statistics_provider,
                        ..
                    } => Some(
                        Bm25Weight::for_terms(statistics_provider, &terms)?.boost_by(way.boost),
                    ),
                    EnableScoring::Disabled { .. } => None,
                };
                ways.push(WayWeight { terms, bm25 });
            }
            spans.push(ways);
        }
        Ok(Box::new(AllOfWeight { spans }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for way in self.spans.iter().flatten() {
            for t in &way.terms {
                // Positions are needed for a phrase, as `PhraseQuery` says.
                visitor(t, way.terms.len() > 1);
            }
        }
    }
}

struct AllOfWeight {
    spans: Vec<Vec<WayWeight>>,
}

impl AllOfWeight {
    fn open(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Option<AllOfScorer>> {
        let mut spans = Vec::with_capacity(self.spans.len());
        for span in &self.spans {
            let mut ways = Vec::with_capacity(span.len());
            for w in span {
                let bm25 = w.bm25.as_ref().map(|b| b.boost_by(boost));
                if let Some(way) = WayScorer::open(reader, &w.terms, bm25)? {
                    ways.push(way);
                }
            }
            if ways.is_empty() {
                return Ok(None);
            }
            let mut s = SpanScorer { ways, doc: 0 };
            s.doc = s.lowest();
            spans.push(s);
        }
        if spans.is_empty() {
            return Ok(None);
        }
        // The span with the fewest documents leads; the others are checked rarest first.
        spans.sort_by_key(|s| s.cost());
        let mut scorer = AllOfScorer {
            spans,
            doc: 0,
            scratch: Vec::new(),
        };
        scorer.settle(0);
        Ok(Some(scorer))
    }
}

impl Weight for AllOfWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(match self.open(reader, boost)? {
            Some(s) if s.doc != TERMINATED => Box::new(s),
            _ => Box::new(EmptyScorer),
        })
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.doc() > doc || scorer.seek(doc) != doc {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "document #({doc}) does not match"
            )));
        }
        Ok(Explanation::new("all of, sum of", scorer.score()))
    }
}

/// One way in one segment: its words' postings (with each word's place in the phrase),
/// at the first document at or after the last target that has all of them.
pub(super) struct WayScorer {
    postings: Vec<(usize, SegmentPostings)>,
    /// Positions of each word at the current document, by place in the phrase.
    positions: Vec<Vec<u32>>,
    bm25: Option<Bm25Weight>,
    norms: FieldNormReader,
    doc: DocId,
    /// Times the phrase stands whole at `doc` (set by `verify`; a word's frequency for a
    /// one-word way).
    count: u32,
}

impl WayScorer {
    /// The way of `terms` (words in sequence, all on one field) in the segment of
    /// `reader`, at its first document holding every word; None when the segment lacks
    /// one of them or no document has them all. Scored with `bm25` when given.
    pub(super) fn open(
        reader: &SegmentReader,
        terms: &[Term],
        bm25: Option<Bm25Weight>,
    ) -> tantivy::Result<Option<WayScorer>> {
        let option = match (terms.len() > 1, bm25.is_some()) {
            (true, _) => IndexRecordOption::WithFreqsAndPositions,
            (false, true) => IndexRecordOption::WithFreqs,
            (false, false) => IndexRecordOption::Basic,
        };
        let Some(field) = terms.first().map(Term::field) else {
            return Ok(None);
        };
        let inverted = reader.inverted_index(field)?;
        let mut postings = Vec::with_capacity(terms.len());
        for (offset, t) in terms.iter().enumerate() {
            match inverted.read_postings(t, option)? {
                Some(p) => postings.push((offset, p)),
                // A word the segment lacks: this way matches nothing here.
                None => return Ok(None),
            }
        }
        // The rarest word leads the way's own intersection.
        postings.sort_by_key(|(_, p)| p.doc_freq());
        let norms = match bm25 {
            Some(_) => reader.get_fieldnorms_reader(field)?,
            None => FieldNormReader::constant(reader.max_doc(), 1),
        };
        let mut way = WayScorer {
            positions: vec![Vec::new(); postings.len()],
            postings,
            bm25,
            norms,
            doc: 0,
            count: 0,
        };
        way.seek(0);
        Ok((way.doc != TERMINATED).then_some(way))
    }

    /// The document the way is at (TERMINATED past its last).
    pub(super) fn doc(&self) -> DocId {
        self.doc
    }

    /// The documents of its rarest word (an upper bound of its matches).
    pub(super) fn cost(&self) -> u32 {
        self.postings.first().map_or(0, |(_, p)| p.doc_freq())
    }

    /// Go to the first document at or after `target` holding every word.
    pub(super) fn seek(&mut self, target: DocId) -> DocId {
        fn move_to(p: &mut SegmentPostings, target: DocId) -> DocId {
            let at = p.doc();
            if at >= target {
                at
            } else if at + 1 == target {
                // Walking on (the leading span does): cheaper than a seek.
                p.advance()
            } else {
                p.seek(target)
            }
        }
        if let [(_, p)] = self.postings.as_mut_slice() {
            self.doc = move_to(p, target);
            return self.doc;
        }
        let mut candidate = target;
        'align: while candidate != TERMINATED {
            for (_, p) in &mut self.postings {
                let d = move_to(p, candidate);
                if d > candidate {
                    candidate = d;
                    continue 'align;
                }
            }
            break;
        }
        self.doc = candidate;
        candidate
    }

    /// Whether the way truly matches its current document (a phrase: its words in order),
    /// keeping the count its score needs.
    pub(super) fn verify(&mut self, scratch: &mut Vec<u32>) -> bool {
        if self.postings.len() == 1 {
            self.count = match self.bm25 {
                Some(_) => self.postings[0].1.term_freq(),
                None => 1,
            };
            return true;
        }
        self.read_positions();
        self.count = count_runs(self.positions.iter().map(Vec::as_slice), scratch);
        self.count > 0
    }

    /// Whether the way matches its current document, without counting (an exclusion's
    /// question): a phrase stops at the first place its words stand in sequence.
    pub(super) fn matches(&mut self, cursors: &mut Vec<usize>) -> bool {
        if self.postings.len() == 1 {
            return true;
        }
        self.read_positions();
        any_run(&self.positions, cursors)
    }

    /// Each word's positions at the current document, by its place in the phrase.
    fn read_positions(&mut self) {
        for (offset, p) in &mut self.postings {
            let out = &mut self.positions[*offset];
            out.clear();
            p.positions(out);
        }
    }

    fn score(&self, doc: DocId) -> Score {
        match &self.bm25 {
            Some(b) => b.score(self.norms.fieldnorm_id(doc), self.count),
            None => 0.0,
        }
    }
}

/// A span in one segment: any of its ways, at the lowest of their documents.
struct SpanScorer {
    ways: Vec<WayScorer>,
    doc: DocId,
}

impl SpanScorer {
    fn lowest(&self) -> DocId {
        self.ways.iter().map(|w| w.doc).min().unwrap_or(TERMINATED)
    }

    fn cost(&self) -> u32 {
        self.ways
            .iter()
            .map(WayScorer::cost)
            .fold(0u32, u32::saturating_add)
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        let mut lowest = TERMINATED;
        for w in &mut self.ways {
            let d = if w.doc < target {
                w.seek(target)
            } else {
                w.doc
            };
            if d == target {
                // No way can be lower: the rest catch up in `verify`, if it comes to that.
                self.doc = target;
                return target;
            }
            lowest = lowest.min(d);
        }
        self.doc = lowest;
        lowest
    }

    /// Whether some way at the current document truly matches it (every way there is
    /// verified: the score needs each one's count).
    fn verify(&mut self, scratch: &mut Vec<u32>) -> bool {
        let doc = self.doc;
        let mut any = false;
        for w in &mut self.ways {
            if w.doc < doc {
                w.seek(doc);
            }
            if w.doc == doc {
                // Not short-circuited: a matching way's count is its score.
                any |= w.verify(scratch);
            } else {
                w.count = 0;
            }
        }
        any
    }

    fn score(&self) -> Score {
        let doc = self.doc;
        self.ways
            .iter()
            .filter(|w| w.doc == doc && w.count > 0)
            .map(|w| w.score(doc))
            .sum()
    }
}

/// The spans of one segment, every one at the current document.
struct AllOfScorer {
    spans: Vec<SpanScorer>,
    doc: DocId,
    scratch: Vec<u32>,
}

impl AllOfScorer {
    /// Go to the first document at or after `target` that every span matches.
    fn settle(&mut self, target: DocId) -> DocId {
        let mut candidate = target;
        while candidate != TERMINATED {
            // Phase one: every span's ways by their words alone.
            'align: loop {
                candidate = self.spans[0].seek(candidate);
                if candidate == TERMINATED {
                    break;
                }
                for s in &mut self.spans[1..] {
                    let d = s.seek(candidate);
                    if d > candidate {
                        candidate = d;
                        continue 'align;
                    }
                }
                break;
            }
            if candidate == TERMINATED {
                break;
            }
            // Phase two: the phrases' positions, only here.
            let scratch = &mut self.scratch;
            if self.spans.iter_mut().all(|s| s.verify(scratch)) {
                break;
            }
            candidate += 1;
        }
        self.doc = candidate;
        candidate
    }
}

impl DocSet for AllOfScorer {
    fn advance(&mut self) -> DocId {
        if self.doc == TERMINATED {
            return TERMINATED;
        }
        self.settle(self.doc + 1)
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        self.settle(target)
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.spans.first().map_or(0, SpanScorer::cost)
    }
}

impl Scorer for AllOfScorer {
    fn score(&mut self) -> Score {
        self.spans.iter().map(SpanScorer::score).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::in_memory_index;
    use tantivy::collector::TopDocs;
    use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, TermQuery};
    use tantivy::schema::Field;
    use tantivy::{DocAddress, TantivyDocument, doc};

    fn way(field: Field, words: &str, boost: Score) -> ProximityBoost {
        ProximityBoost {
            field,
            words: words.split(' ').map(String::from).collect(),
            boost,
        }
    }

    /// What `AllOf` stands for: every span required, each a `Should` union of its ways.
    fn as_boolean(spans: &[Vec<ProximityBoost>]) -> Box<dyn Query> {
        let span = |ways: &[ProximityBoost]| -> Box<dyn Query> {
            let any = ways
                .iter()
                .map(|w| {
                    let terms: Vec<Term> = w
                        .words
                        .iter()
                        .map(|x| Term::from_field_text(w.field, x))
                        .collect();
                    let q: Box<dyn Query> = if terms.len() == 1 {
                        Box::new(TermQuery::new(
                            terms[0].clone(),
                            IndexRecordOption::WithFreqs,
                        ))
                    } else {
                        Box::new(PhraseQuery::new(terms))
                    };
                    let q: Box<dyn Query> = Box::new(BoostQuery::new(q, w.boost));
                    (Occur::Should, q)
                })
                .collect();
            Box::new(BooleanQuery::new(any))
        };
        Box::new(BooleanQuery::new(
            spans.iter().map(|s| (Occur::Must, span(s))).collect(),
        ))
    }

    /// Same documents and scores as the boolean query it stands for — phrases that stand
    /// whole, phrases whose words are all there but apart, words a segment lacks — over
    /// several segments; and seeking to any document lands where walking does.
    #[test]
    fn matches_and_scores_like_required_unions() {
        let (index, f, mut w) = in_memory_index();
        let texts = [
            "đề thi ngữ văn trung học phổ thông quốc gia",
            "thi ngữ văn THPT quốc gia năm nay",
            "quốc gia trung học thi phổ thông ngữ văn",
            "học phổ thông trung thi văn ngữ",
            "thi THPT quốc gia môn ngữ văn và trung học phổ thông",
            "lễ hội Lồng Tồng ở Tuyên Quang",
            "không có gì",
        ];
        for round in 0..60u64 {
            for (i, t) in texts.iter().enumerate() {
                // Titles differ from bodies, so the two fields' ways part.
                let title = if (round + i as u64).is_multiple_of(3) {
                    *t
                } else {
                    "tin"
                };
                let d: TantivyDocument = doc!(
                    f.id => round * 10 + i as u64,
                    f.title_f => title,
                    f.body_f => format!("{t} {}", texts[(i + round as usize) % texts.len()]),
                );
                w.add_document(d).expect("in-memory index");
            }
            if round % 17 == 16 {
                w.commit().expect("in-memory index");
            }
        }
        w.commit().expect("in-memory index");
        let searcher = index.reader().expect("in-memory index").searcher();
        assert!(searcher.segment_readers().len() > 1);
        let thpt = vec![
            way(f.title_f, "thpt", 1.5),
            way(f.body_f, "thpt", 1.0),
            way(f.title_f, "trung hoc pho thong", 1.35),
            way(f.body_f, "trung hoc pho thong", 0.9),
        ];
        let word = |x: &str| vec![way(f.title_f, x, 1.5), way(f.body_f, x, 1.0)];
        let cases = [
            vec![word("thi"), thpt.clone(), word("quoc")],
            vec![thpt.clone(), vec![way(f.body_f, "ngu van", 1.0)]],
            vec![word("le"), word("hoi"), word("long"), word("tong")],
            // A word no document has: nothing matches.
            vec![thpt.clone(), word("khongco")],
            // A way whose word is missing leaves the span its other ways.
            vec![
                word("thi"),
                vec![way(f.body_f, "khongco", 1.0), way(f.body_f, "van", 1.0)],
            ],
        ];
        let top = TopDocs::with_limit(10_000);
        for spans in &cases {
            let want: Vec<(f32, DocAddress)> =
                searcher.search(&as_boolean(spans), &top).expect("search");
            let got: Vec<(f32, DocAddress)> =
                searcher.search(&AllOf::new(spans), &top).expect("search");
            assert_eq!(want.len(), got.len(), "{spans:?}");
            let mut want = want;
            let mut got = got;
            want.sort_by_key(|x| x.1);
            got.sort_by_key(|x| x.1);
            for ((ws, wd), (gs, gd)) in want.iter().zip(&got) {
                assert_eq!(wd, gd);
                assert!((ws - gs).abs() <= 1e-5 * ws.abs().max(1.0), "{ws} vs {gs}");
            }
            // Seeking (how a search split into ranges starts each range) agrees with
            // walking, from every target.
            let weight = AllOf::new(spans)
                .weight(EnableScoring::enabled_from_searcher(&searcher))
                .expect("weight");
            for (ord, reader) in searcher.segment_readers().iter().enumerate() {
                let walked: Vec<DocId> = got
                    .iter()
                    .filter(|(_, a)| a.segment_ord as usize == ord)
                    .map(|(_, a)| a.doc_id)
                    .collect();
                for target in 0..reader.max_doc() {
                    let mut s = weight.scorer(reader, 1.0).expect("scorer");
                    let at = if s.doc() >= target {
                        s.doc()
                    } else {
                        s.seek(target)
                    };
                    let expected = walked.iter().copied().find(|&d| d >= target);
                    assert_eq!(Some(at).filter(|&d| d != TERMINATED), expected);
                }
            }
        }
        // Some cases match, some phrases are rejected by their positions alone.
        let count = |q: &dyn Query| {
            searcher
                .search(q, &tantivy::collector::Count)
                .expect("count")
        };
        assert!(count(&AllOf::new(&cases[0])) > 0);
        let words_only = vec![
            word("thi"),
            vec![way(f.body_f, "trung", 1.0)],
            vec![way(f.body_f, "pho", 1.0)],
        ];
        assert!(count(&AllOf::new(&words_only)) > count(&AllOf::new(&cases[0][..2])));
        // Its words are its ways' words (snippets highlight them).
        let mut seen = Vec::new();
        AllOf::new(&cases[0]).query_terms(&mut |t, positions| {
            seen.push((t.value().as_str().unwrap_or("").to_string(), positions))
        });
        assert!(seen.contains(&("trung".to_string(), true)));
        assert!(seen.contains(&("thi".to_string(), false)));
    }
}
