//! Snippets: the part of a hit's body shown under its title, with the matched words
//! marked — as plain text with character offsets (`highlights`, for the JSON answers) and
//! as escaped HTML with `<mark>` (for pages). Tantivy's snippet generator picks the
//! fragment; a hit whose body does not show the query's words gets its summary's excerpt.

use std::ops::Range;

use tantivy::query::Query;
use tantivy::snippet::SnippetGenerator;

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

/// Makes the snippets of one query's hits.
pub(super) struct Snippets {
    generator: Option<SnippetGenerator>,
    /// On the exact body, for queries that match it only (a quoted phrase with diacritics).
    exact: Option<SnippetGenerator>,
}

impl Snippets {
    /// Snippets of the body field for `query` (none when tantivy cannot make them: then
    /// every hit gets its summary's excerpt).
    pub(super) fn new(searcher: &tantivy::Searcher, query: &dyn Query, f: Fields) -> Snippets {
        let make = |field| {
            let mut g = SnippetGenerator::create(searcher, query, field).ok()?;
            g.set_max_num_chars(SNIPPET_CHARS);
            Some(g)
        };
        Snippets {
            generator: make(f.body_f),
            exact: make(f.body),
        }
    }

    /// The snippet of `item`.
    pub(super) fn of(&self, item: &Item) -> Snippet {
        let body = body_text(item);
        let snippet = [&self.generator, &self.exact]
            .into_iter()
            .flatten()
            .map(|g| g.snippet(&body))
            .find(|s| !s.is_empty());
        let (text, ranges) = match snippet {
            Some(s) => (s.fragment().to_string(), s.highlighted().to_vec()),
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

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn mark_html_escapes() {
        assert_eq!(
            mark_html("<b> bão & lũ", &[4..8]),
            "&lt;b&gt; <mark>bão</mark> &amp; lũ"
        );
    }
}
