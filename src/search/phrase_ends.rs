//! Where a phrase ends, document by document, so that a longer phrase can be counted
//! from a shorter one: `suggest` extends many prefixes by a few candidate syllables each,
//! and counting every extension as a fresh `PhraseQuery` re-reads the positions of every
//! word of the prefix again (it was most of the time of a six-syllable query with few
//! hits). Here the end positions of a prefix are kept per segment and field, and adding a
//! word only reads that word's positions in the documents the prefix is already in.
//!
//! The counts are those of a `PhraseQuery` (slop 0) over the same fields, a document
//! counted once when either field holds the phrase, deleted documents left out; a unit
//! test compares the two on random phrases.

use tantivy::postings::{Postings, SegmentPostings};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Searcher, TERMINATED, Term};

/// A phrase's matches in one field of one segment: the documents holding it (ascending)
/// and, for document `i`, the positions of its last word there: `pos[offs[i]..offs[i + 1]]`
/// (ascending).
#[derive(Debug, Clone)]
struct FieldEnds {
    docs: Vec<DocId>,
    offs: Vec<u32>,
    pos: Vec<u32>,
}

impl FieldEnds {
    fn new() -> FieldEnds {
        FieldEnds {
            docs: Vec::new(),
            offs: vec![0],
            pos: Vec::new(),
        }
    }

    fn ends(&self, i: usize) -> &[u32] {
        &self.pos[self.offs[i] as usize..self.offs[i + 1] as usize]
    }

    /// Add document `doc` with the positions of `next` that follow one of `before`.
    fn push_following(&mut self, doc: DocId, before: &[u32], next: &[u32]) {
        let start = self.pos.len();
        let mut j = 0;
        for &p in next {
            if p == 0 {
                continue;
            }
            while j < before.len() && before[j] < p - 1 {
                j += 1;
            }
            if j < before.len() && before[j] == p - 1 {
                self.pos.push(p);
            }
        }
        if self.pos.len() > start {
            self.docs.push(doc);
            self.offs.push(self.pos.len() as u32);
        }
    }
}

/// A phrase of two words or more, matched over `fields` in every segment of one searcher.
#[derive(Debug, Clone)]
pub(super) struct PhraseEnds {
    /// `[segment][field]`.
    parts: Vec<Vec<FieldEnds>>,
}

/// The postings of `word` in `field` of segment `seg`, with positions.
fn postings(searcher: &Searcher, seg: usize, field: Field, word: &str) -> Option<SegmentPostings> {
    let inverted = searcher
        .segment_reader(seg as u32)
        .inverted_index(field)
        .ok()?;
    inverted
        .read_postings(
            &Term::from_field_text(field, word),
            IndexRecordOption::WithFreqsAndPositions,
        )
        .ok()
        .flatten()
}

/// The first document of `p` at or after `target` (tantivy's `seek` wants a target at or
/// after the current document).
fn seek_to(p: &mut SegmentPostings, target: DocId) -> DocId {
    if p.doc() >= target {
        p.doc()
    } else {
        p.seek(target)
    }
}

impl PhraseEnds {
    /// The two-word phrase `first second` in `fields`.
    pub(super) fn pair(searcher: &Searcher, fields: &[Field], first: &str, second: &str) -> Self {
        let (mut pa, mut pb) = (Vec::new(), Vec::new());
        let parts = (0..searcher.segment_readers().len())
            .map(|seg| {
                fields
                    .iter()
                    .map(|&field| {
                        let mut out = FieldEnds::new();
                        let (Some(mut a), Some(mut b)) = (
                            postings(searcher, seg, field, first),
                            postings(searcher, seg, field, second),
                        ) else {
                            return out;
                        };
                        loop {
                            let doc = a.doc();
                            if doc == TERMINATED {
                                break;
                            }
                            let at = seek_to(&mut b, doc);
                            if at == TERMINATED {
                                break;
                            }
                            if at != doc {
                                seek_to(&mut a, at);
                                continue;
                            }
                            a.positions(&mut pa);
                            b.positions(&mut pb);
                            out.push_following(doc, &pa, &pb);
                            a.advance();
                        }
                        out
                    })
                    .collect()
            })
            .collect();
        PhraseEnds { parts }
    }

    /// This phrase followed by `word`, in the same fields.
    pub(super) fn then(&self, searcher: &Searcher, fields: &[Field], word: &str) -> PhraseEnds {
        let mut positions = Vec::new();
        let parts = self
            .parts
            .iter()
            .enumerate()
            .map(|(seg, per_field)| {
                per_field
                    .iter()
                    .zip(fields)
                    .map(|(ends, &field)| {
                        let mut out = FieldEnds::new();
                        if ends.docs.is_empty() {
                            return out;
                        }
                        let Some(mut p) = postings(searcher, seg, field, word) else {
                            return out;
                        };
                        let mut i = 0;
                        while i < ends.docs.len() {
                            let doc = ends.docs[i];
                            let at = seek_to(&mut p, doc);
                            if at == TERMINATED {
                                break;
                            }
                            if at != doc {
                                // Jump over the prefix's documents the word is not in.
                                i += ends.docs[i..].partition_point(|d| *d < at);
                                continue;
                            }
                            p.positions(&mut positions);
                            out.push_following(doc, ends.ends(i), &positions);
                            i += 1;
                        }
                        out
                    })
                    .collect()
            })
            .collect();
        PhraseEnds { parts }
    }

    /// Live documents holding the phrase in any of the fields.
    pub(super) fn count(&self, searcher: &Searcher) -> usize {
        let mut total = 0;
        let mut docs: Vec<DocId> = Vec::new();
        for (seg, per_field) in self.parts.iter().enumerate() {
            let alive = searcher.segment_reader(seg as u32).alive_bitset();
            docs.clear();
            docs.extend(
                per_field
                    .iter()
                    .flat_map(|f| f.docs.iter().copied())
                    .filter(|&d| alive.is_none_or(|a| a.is_alive(d))),
            );
            docs.sort_unstable();
            docs.dedup();
            total += docs.len();
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::schema::in_memory_index;
    use tantivy::collector::Count;
    use tantivy::query::{BooleanQuery, Occur, PhraseQuery, Query, TermQuery};
    use tantivy::{Term, doc};

    fn phrase_query(fields: &[Field], words: &[&str]) -> Box<dyn Query> {
        let on = |field: Field| -> Box<dyn Query> {
            if words.len() == 1 {
                Box::new(TermQuery::new(
                    Term::from_field_text(field, words[0]),
                    IndexRecordOption::Basic,
                ))
            } else {
                Box::new(PhraseQuery::new(
                    words
                        .iter()
                        .map(|w| Term::from_field_text(field, w))
                        .collect(),
                ))
            }
        };
        Box::new(BooleanQuery::new(
            fields.iter().map(|&f| (Occur::Should, on(f))).collect(),
        ))
    }

    #[test]
    fn counts_equal_phrase_queries() {
        // Texts over a small vocabulary so that phrases repeat, across two segments,
        // with repeated words inside a document and some documents deleted.
        const VOCAB: [&str; 6] = ["nong", "thon", "moi", "kon", "tum", "moi"];
        let (index, f, mut writer) = in_memory_index();
        let mut seed: u64 = 7;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as usize) % n
        };
        for batch in 0..2 {
            for i in 0..150u64 {
                let text = |len: usize, next: &mut dyn FnMut(usize) -> usize| {
                    (0..len)
                        .map(|_| VOCAB[next(VOCAB.len())])
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                let title = text(1 + next(4), &mut next);
                let body = text(3 + next(12), &mut next);
                writer
                    .add_document(doc!(
                        f.id => batch * 1000 + i,
                        f.title_f => title,
                        f.body_f => body,
                    ))
                    .expect("add");
            }
            writer.commit().expect("commit");
        }
        writer.delete_term(Term::from_field_u64(f.id, 3));
        writer.delete_term(Term::from_field_u64(f.id, 1004));
        writer.commit().expect("commit");
        let searcher = index.reader().expect("reader").searcher();
        assert_eq!(searcher.segment_readers().len(), 2);
        let fields = [f.title_f, f.body_f];
        let mut checked = 0;
        for _ in 0..60 {
            let len = 2 + next(4);
            let words: Vec<&str> = (0..len).map(|_| VOCAB[next(VOCAB.len())]).collect();
            if words.len() < 2 {
                continue;
            }
            let mut ends = PhraseEnds::pair(&searcher, &fields, words[0], words[1]);
            for k in 1..words.len() {
                if k > 1 {
                    ends = ends.then(&searcher, &fields, words[k]);
                }
                let want = searcher
                    .search(&*phrase_query(&fields, &words[..=k]), &Count)
                    .expect("count");
                assert_eq!(ends.count(&searcher), want, "{:?}", &words[..=k]);
                checked += usize::from(want > 0);
            }
        }
        assert!(checked > 20, "too few phrases found: {checked}");
    }
}
