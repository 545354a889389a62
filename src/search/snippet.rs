//! Snippets: the part of a hit's body shown under its title, with the matched words
//! marked — as plain text with character offsets (`highlights`, for the JSON answers) and
//! as escaped HTML with `<mark>` (for pages). Tantivy's snippet generator picks the
//! fragment; a hit whose body does not show the query's words gets its summary's excerpt.

use std::collections::HashMap;
use std::ops::Range;

use tantivy::Score;
use tantivy::query::Query;
use tantivy::schema::Field;
use tantivy::tokenizer::{TextAnalyzer, TokenStream};

use crate::index::schema::{Fields, body_text};
use crate::model::Item;

/// Longest snippet (characters).
const SNIPPET_CHARS: usize = 220;

/// A hit's snippet in the three forms a `Hit` carries.
#[derive(Default)]
pub(super) struct Snippet {
    pub(super) text: String,
    /// Matched words as `[start, end)` character offsets into `text`.
    pub(super) highlights: Vec<[usize; 2]>,
    pub(super) html: String,
}

/// The best fragment of a text for one field's query words: the words of the text, in
/// the field's own forms, cut into consecutive fragments of at most `SNIPPET_CHARS`
/// (bytes, from a word's start to a word's end), each worth the sum of its matched words'
/// weights (1 / (1 + the word's document frequency): a rare word counts more); the
/// highest wins, the earliest among equals. What tantivy's snippet generator does, with
/// the words looked up as the field's analyzer makes them (no lowercased copy of each).
struct Picker {
    /// Query word (the field's form) → its weight.
    words: HashMap<String, Score>,
    /// The field's analyzer, as registered on the index (None: not a text field).
    analyzer: Option<TextAnalyzer>,
}

/// A fragment: its byte range in the text and its matched words' ranges in it.
struct Fragment {
    start: usize,
    stop: usize,
    worth: Score,
    marks: Vec<Range<usize>>,
}

impl Picker {
    /// The words of `query` on `field` that some document has.
    fn new(searcher: &tantivy::Searcher, query: &dyn Query, field: Field) -> Self {
        let mut terms = Vec::new();
        query.query_terms(&mut |term, _| {
            if term.field() == field {
                terms.push(term.clone());
            }
        });
        let mut words = HashMap::new();
        for term in terms {
            let Some(text) = term.value().as_str().map(str::to_string) else {
                continue;
            };
            let df = searcher.doc_freq(&term).unwrap_or(0);
            if df > 0 {
                words.insert(text, 1.0 / (1.0 + df as Score));
            }
        }
        let analyzer = searcher.index().tokenizer_for_field(field).ok();
        Picker { words, analyzer }
    }

    /// The best fragment of `text` and its marks (relative to the fragment); None when no
    /// word of the query is in it.
    fn pick<'t>(&self, text: &'t str) -> Option<(&'t str, Vec<Range<usize>>)> {
        let mut analyzer = self.analyzer.clone().filter(|_| !self.words.is_empty())?;
        let mut tokens = analyzer.token_stream(text);
        let mut best: Option<Fragment> = None;
        let mut current = Fragment {
            start: 0,
            stop: 0,
            worth: 0.0,
            marks: Vec::new(),
        };
        let close = |f: Fragment, best: &mut Option<Fragment>| {
            if f.worth > 0.0 && best.as_ref().is_none_or(|b| f.worth > b.worth) {
                *best = Some(f);
            }
        };
        while let Some(token) = tokens.next() {
            let (from, to) = (token.offset_from, token.offset_to);
            if to - current.start > SNIPPET_CHARS {
                let next = Fragment {
                    start: from,
                    stop: from,
                    worth: 0.0,
                    marks: Vec::new(),
                };
                close(std::mem::replace(&mut current, next), &mut best);
            }
            current.stop = to;
            if let Some(w) = self.words.get(token.text.as_str()) {
                current.worth += w;
                current.marks.push(from..to);
            }
        }
        close(current, &mut best);
        let best = best?;
        let marks = best
            .marks
            .iter()
            .map(|m| m.start - best.start..m.end - best.start)
            .collect();
        Some((&text[best.start..best.stop], marks))
    }
}

/// Makes the snippets of one query's hits.
pub(super) struct Snippets {
    folded: Picker,
    /// On the exact body, for queries that match it only (a quoted phrase with diacritics).
    exact: Picker,
}

impl Snippets {
    /// Snippets of the body field for `query` (a hit whose body shows none of its words
    /// gets its summary's excerpt).
    pub(super) fn new(searcher: &tantivy::Searcher, query: &dyn Query, f: Fields) -> Snippets {
        Snippets {
            folded: Picker::new(searcher, query, f.body_f),
            exact: Picker::new(searcher, query, f.body),
        }
    }

    /// The snippet of `item`.
    pub(super) fn of(&self, item: &Item) -> Snippet {
        let body = body_text(item);
        let picked = self.folded.pick(&body).or_else(|| self.exact.pick(&body));
        let (text, ranges) = match picked {
            Some((fragment, marks)) => (fragment.to_string(), marks),
            _ => (
                crate::normalize::excerpt(&item.summary, SNIPPET_CHARS),
                Vec::new(),
            ),
        };
        let highlights = ranges
            .iter()
            .filter(|r| {
                r.end <= text.len()
                    && text.is_char_boundary(r.start)
                    && text.is_char_boundary(r.end)
            })
            .map(|r| {
                [
                    text[..r.start].chars().count(),
                    text[..r.end].chars().count(),
                ]
            })
            .collect::<Vec<_>>();
        let html = mark_html(&text, &ranges);
        Snippet {
            text,
            highlights,
            html,
        }
    }
}

/// Escape `text` for HTML and wrap the byte `ranges` in `<mark>`.
fn mark_html(text: &str, ranges: &[Range<usize>]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::in_memory_index;
    use tantivy::query::{BooleanQuery, Occur, TermQuery};
    use tantivy::schema::IndexRecordOption;
    use tantivy::snippet::SnippetGenerator;
    use tantivy::{TantivyDocument, Term, doc};

    /// The fragment and marks picked are tantivy's snippet generator's, for both body
    /// fields, on pseudo-random Vietnamese texts: one fragment or many, ties, words
    /// typed in capitals, punctuation and runs that make no word, words of different
    /// document frequencies.
    #[test]
    fn picks_what_tantivys_generator_picks() {
        let vocab = [
            "Kon",
            "Rẫy",
            "nông",
            "thôn",
            "mới",
            "NÔNG",
            "THÔN",
            "xã",
            "đạt",
            "chuẩn",
            "huyện",
            "Tây",
            "Nguyên",
            "bão",
            "lũ",
            "—",
            "…",
            "2017",
            "cà",
            "phê",
            "(",
            "đường",
            "giao",
            "thông",
            "hòa",
            "hoà",
            "Đắk",
            "Lắk",
            "dân",
            "vui",
        ];
        let mut seed = 11u64;
        let mut next = move |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as usize) % n
        };
        let mut texts: Vec<String> = (0..400)
            .map(|_| {
                let len = next(140);
                (0..len)
                    .map(|_| vocab[next(vocab.len())])
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        texts.push(String::new());
        let (index, f, mut w) = in_memory_index();
        for (i, t) in texts.iter().enumerate().take(120) {
            let d: TantivyDocument =
                doc!(f.id => i as u64, f.body_f => t.as_str(), f.body => t.as_str());
            w.add_document(d).expect("in-memory index");
        }
        w.commit().expect("in-memory index");
        let searcher = index.reader().expect("in-memory index").searcher();
        let term_query = |field, word: &str| -> (Occur, Box<dyn Query>) {
            let q = TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::Basic);
            (Occur::Should, Box::new(q))
        };
        let queries = [
            BooleanQuery::new(vec![
                term_query(f.body_f, "nong"),
                term_query(f.body_f, "thon"),
                term_query(f.body_f, "moi"),
            ]),
            BooleanQuery::new(vec![
                term_query(f.body_f, "kon"),
                term_query(f.body_f, "ray"),
                term_query(f.body_f, "khongco"),
                term_query(f.body, "rây4"),
                term_query(f.body, "kon"),
            ]),
            BooleanQuery::new(vec![term_query(f.body, "hoa2"), term_query(f.body, "2017")]),
        ];
        let mut compared = 0;
        for q in &queries {
            for field in [f.body_f, f.body] {
                let mut g = SnippetGenerator::create(&searcher, q, field).expect("generator");
                g.set_max_num_chars(SNIPPET_CHARS);
                let picker = Picker::new(&searcher, q, field);
                for t in &texts {
                    let want = g.snippet(t);
                    let got = picker.pick(t);
                    if want.is_empty() {
                        assert!(got.is_none(), "{t}");
                        continue;
                    }
                    let (fragment, marks) = got.expect("a fragment");
                    assert_eq!(fragment, want.fragment(), "{t}");
                    assert_eq!(marks, want.highlighted(), "{t}");
                    compared += 1;
                }
            }
        }
        assert!(compared > 500, "{compared}");
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
