//! The index's schema and text analysis: the fields every gomtin index has, the one place
//! analyzers are plugged in (`register_analyzers`), and how an item becomes a document.
//! Every text field has an *exact* twin (tone-normalized, `vi_exact`) and a *folded* twin
//! (all marks removed, `vi_fold`), both with positions; see `vietnamese` for the analysis
//! itself. The main index, topic tagging's in-memory indexes and the benches share it.

use tantivy::schema::{
    FAST, Facet, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{Index, TantivyDocument, doc};

use crate::model::{InThread, Item};
use crate::vietnamese;

/// Name of the exact-form analyzer (tone-normalized, lowercased).
pub const EXACT: &str = "vi_exact";
/// Name of the folded analyzer (no marks, đ -> d).
pub const FOLD: &str = "vi_fold";

/// Handles on the schema's fields.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub source: Field,
    pub source_facet: Field,
    pub topics: Field,
    pub title: Field,
    pub title_f: Field,
    pub body: Field,
    pub body_f: Field,
    pub published: Field,
    /// A forum post's thread (`model::InThread::search_key`), for `thread:`.
    pub thread: Field,
    /// The item's tone as 1 (positive), 0 (neutral or not scored), -1 (negative).
    pub tone: Field,
}

/// The schema every gomtin index uses (also the in-memory ones of topic tagging).
pub fn build_schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |analyzer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(analyzer)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
    };
    let fields = Fields {
        id: b.add_u64_field("id", INDEXED | FAST | STORED),
        source: b.add_text_field("source", STRING | FAST),
        source_facet: b.add_facet_field("source_facet", FacetOptions::default()),
        topics: b.add_text_field("topics", STRING),
        title: b.add_text_field("title", text(EXACT)),
        title_f: b.add_text_field("title_f", text(FOLD)),
        body: b.add_text_field("body", text(EXACT)),
        body_f: b.add_text_field("body_f", text(FOLD)),
        published: b.add_i64_field("published", INDEXED | FAST),
        thread: b.add_text_field("thread", STRING),
        tone: b.add_i64_field("tone", INDEXED | FAST),
    };
    (b.build(), fields)
}

/// An empty in-memory index with gomtin's schema and analyzers, and a one-thread writer
/// (for tests of the search parts).
#[cfg(test)]
pub(crate) fn in_memory_index() -> (Index, Fields, tantivy::IndexWriter) {
    let (schema, f) = build_schema();
    let index = Index::create_in_ram(schema);
    register_analyzers(&index);
    let writer = index
        .writer_with_num_threads(1, 15_000_000)
        .expect("in-memory index writer");
    (index, f, writer)
}

/// The Vietnamese tokenizer: `vietnamese::tokenize`, then either the exact or folded form.
#[derive(Clone)]
pub struct ViTokenizer {
    folded: bool,
}

/// Words cut by `vietnamese::word_spans`, each turned into its exact or folded form in one
/// reused buffer as tantivy asks for it. Positions count every word, also one whose form
/// comes out empty (it is skipped), as the query side does.
pub struct ViTokenStream<'a> {
    text: &'a str,
    spans: vietnamese::WordSpans<'a>,
    folded: bool,
    next_position: usize,
    token: Token,
}

impl TokenStream for ViTokenStream<'_> {
    fn advance(&mut self) -> bool {
        for (start, end) in self.spans.by_ref() {
            let position = self.next_position;
            self.next_position += 1;
            let word = &self.text[start..end];
            self.token.text.clear();
            if self.folded {
                vietnamese::fold_into(word, &mut self.token.text);
            } else {
                vietnamese::exact_form_into(word, &mut self.token.text);
            }
            if self.token.text.is_empty() {
                continue;
            }
            self.token.offset_from = start;
            self.token.offset_to = end;
            self.token.position = position;
            self.token.position_length = 1;
            return true;
        }
        false
    }
    fn token(&self) -> &Token {
        &self.token
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

impl Tokenizer for ViTokenizer {
    type TokenStream<'a> = ViTokenStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> ViTokenStream<'a> {
        ViTokenStream {
            text,
            spans: vietnamese::word_spans(text),
            folded: self.folded,
            next_position: 0,
            token: Token::default(),
        }
    }
}

/// Register the analyzers on an index: the one place to swap text analysis.
pub fn register_analyzers(index: &Index) {
    index
        .tokenizers()
        .register(EXACT, ViTokenizer { folded: false });
    index
        .tokenizers()
        .register(FOLD, ViTokenizer { folded: true });
}

/// The text indexed as an item's body (and used for its snippet).
pub fn body_text(item: &Item) -> String {
    // Word by word: the stored text keeps its paragraph breaks, the summary is one line.
    let summary_leads = {
        let mut text = item.content_text.split_whitespace();
        item.summary
            .split_whitespace()
            .all(|w| text.next() == Some(w))
    };
    if item.content_text.is_empty() || summary_leads {
        if item.content_text.is_empty() {
            item.summary.clone()
        } else {
            item.content_text.clone()
        }
    } else if item.summary.is_empty() {
        item.content_text.clone()
    } else {
        format!("{}\n{}", item.summary, item.content_text)
    }
}

/// The tantivy document of an item, tagged with `topics`.
pub fn item_document(f: Fields, item: &Item, topics: &[String]) -> TantivyDocument {
    let body = body_text(item);
    let mut d = doc!(
        f.id => item.id as u64,
        f.source => item.source_id.as_str(),
        f.source_facet => Facet::from_path([item.source_id.as_str()]),
        f.title => item.title.as_str(),
        f.title_f => item.title.as_str(),
        f.body => body.as_str(),
        f.body_f => body.as_str(),
        f.published => item.published_at.timestamp(),
        f.tone => item.tone.as_ref().map_or(0, |t| t.label.rank()),
    );
    if let Some(author) = &item.author {
        d.add_text(f.body, author);
        d.add_text(f.body_f, author);
    }
    for t in topics {
        d.add_text(f.topics, t);
    }
    if let Some(t) = &item.thread {
        d.add_text(f.thread, InThread::search_key(&item.source_id, &t.key));
    }
    d
}
