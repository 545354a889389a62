//! Topic tagging: each `[[topics]]` entry is a saved query; an item carries the ids of the
//! topics it matches in the index's `topics` field, so `topic:ID` is a plain filter and
//! digests can group by topic. The index calls it through `index::Tagger` (wired in `app`):
//! before a batch of items is added to the main index, the batch is indexed into a small
//! in-memory index with the same schema and analyzers and every topic query is run against
//! it — one query engine, so a topic matches exactly what the same search would.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use tantivy::collector::DocSetCollector;
use tantivy::{Index, IndexWriter, TantivyDocument};

use crate::config::TopicConfig;
use crate::error::{Error, Result};
use crate::index::Tagger;
use crate::index::schema::{Fields, build_schema, item_document, register_analyzers};
use crate::model::Item;
use crate::search::build_query;
use crate::search::query::{ParsedQuery, parse_query};
use crate::vietnamese::variants::Variants;

/// Tags items with the topics whose query they match.
pub struct TopicTagger {
    topics: Vec<(String, ParsedQuery)>,
    variants: Variants,
    fingerprint: String,
}

impl TopicTagger {
    /// Parse the topics' queries once.
    pub fn new(topics: &[TopicConfig], variants: Variants, tz: chrono_tz::Tz) -> Result<Self> {
        let mut parsed = Vec::with_capacity(topics.len());
        let mut h = Sha256::new();
        for t in topics {
            let mut pq = parse_query(&t.query, tz)?;
            // `tone = "positive"`: the topic also requires the item's tone.
            pq.tones.extend(t.tone);
            parsed.push((t.id().to_string(), pq));
            h.update(t.id().as_bytes());
            h.update([0]);
            h.update(t.query.as_bytes());
            h.update([0]);
            if let Some(tone) = t.tone {
                h.update(tone.as_str().as_bytes());
                h.update([0]);
            }
        }
        let fingerprint = if topics.is_empty() {
            "none".to_string()
        } else {
            h.finalize()
                .iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect()
        };
        Ok(TopicTagger {
            topics: parsed,
            variants,
            fingerprint,
        })
    }

    /// A short hash of the topic definitions; when it changes, items must be re-tagged.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    pub fn is_empty(&self) -> bool {
        self.topics.is_empty()
    }

    /// Topic ids per item id (items matching no topic are absent).
    pub fn tag(&self, items: &[Item]) -> Result<HashMap<i64, Vec<String>>> {
        let mut out: HashMap<i64, Vec<String>> = HashMap::new();
        if self.topics.is_empty() || items.is_empty() {
            return Ok(out);
        }
        let (schema, fields): (_, Fields) = build_schema();
        let index = Index::create_in_ram(schema);
        register_analyzers(&index);
        let mut writer: IndexWriter<TantivyDocument> =
            index.writer_with_num_threads(1, 15_000_000)?;
        for item in items {
            writer.add_document(item_document(fields, item, &[]))?;
        }
        writer.commit()?;
        let reader = index.reader()?;
        let searcher = reader.searcher();
        for (id, pq) in &self.topics {
            let q = build_query(pq, fields, &self.variants);
            let docs = searcher.search(&*q, &DocSetCollector)?;
            for addr in docs {
                let col = searcher
                    .segment_reader(addr.segment_ord)
                    .fast_fields()
                    .u64("id")?;
                let item_id = col
                    .first(addr.doc_id)
                    .ok_or_else(|| Error::Index("document without id".into()))?;
                out.entry(item_id as i64).or_default().push(id.clone());
            }
        }
        Ok(out)
    }
}

/// How the index tags what it adds. The inherent methods stay: digests tag a period's items
/// with a `TopicTagger` of their own queries directly.
impl Tagger for TopicTagger {
    fn fingerprint(&self) -> &str {
        TopicTagger::fingerprint(self)
    }

    fn is_empty(&self) -> bool {
        TopicTagger::is_empty(self)
    }

    fn tag(&self, items: &[Item]) -> Result<HashMap<i64, Vec<String>>> {
        TopicTagger::tag(self, items)
    }
}
