//! Running a search: parse the request, build and run its query over the index's
//! segments, rescore the best matches with their proximity boosts, and fill the page's
//! hits from the store. A query with no hits is retried once read as Telex/VNI
//! keystrokes, then with edit-distance-1 fuzzy matching on the folded form; one with no
//! or few hits also gets a spelling suggestion (`suggest`). `status:` filters are
//! resolved here, from the store, into item-id filters for the query.

use chrono::Utc;
use tantivy::query::Query;
use tantivy::{DocAddress, Score};

use super::build::{Builder, Built, IdFilters};
use super::collect::{Gathered, Matches, Rank, recency_factor};
use super::parallel;
use super::proximity::{ProximityBoost, ProximityScorer};
use super::query::{ParsedQuery, SortOrder, Status, parse_query};
use super::snippet::Snippets;
use super::suggest;
use super::{FacetCount, Hit, MAX_LIMIT, MAX_OFFSET, SearchRequest, SearchResults, Searcher};
use crate::error::{Error, Result};
use crate::store::ProposalState;
use crate::vietnamese::telex;

/// How many of the best documents by the main query get their proximity boosts scored
/// (at least the page asked for). Phrase scoring reads positions, and doing it for every
/// match of a common word costs more than the rest of the search at a million items;
/// a document ranked below this many by its words alone is assumed not to be lifted onto
/// the page by its phrases.
const RESCORE_WINDOW: usize = 200;

/// Fewer hits than this and a spelling suggestion is looked for.
const FEW_HITS: usize = 5;

/// Add the proximity boosts to the scores of `docs` (scored by the main query, recency
/// included); the bonus of a document gets its recency factor too.
fn rescore(
    searcher: &tantivy::Searcher,
    boosts: &[ProximityBoost],
    docs: &mut [(Score, DocAddress)],
    now: i64,
) -> Result<()> {
    let scorer = ProximityScorer::new(searcher, boosts)?;
    let addrs: Vec<DocAddress> = docs.iter().map(|d| d.1).collect();
    let mut published: Option<(u32, Option<tantivy::columnar::Column<i64>>)> = None;
    scorer.score_docs(searcher, &addrs, |i, bonus| {
        let addr = addrs[i];
        if published.as_ref().map(|p| p.0) != Some(addr.segment_ord) {
            let column = searcher
                .segment_reader(addr.segment_ord)
                .fast_fields()
                .i64("published")
                .ok();
            published = Some((addr.segment_ord, column));
        }
        let p = published
            .as_ref()
            .and_then(|(_, c)| c.as_ref())
            .and_then(|c| c.first(addr.doc_id));
        docs[i].0 += bonus * recency_factor(now, p);
    })
}

/// One page of matches, before the hits are read from the store.
struct RawPage {
    total: usize,
    docs: Vec<(Score, u64)>,
    facets: Vec<FacetCount>,
    query: Box<dyn Query>,
}

/// What the index decided for one request: its page of matches, the correction made to
/// the query, the notices and the suggestion — all but the hits, which are read from the
/// store for each answer (what `cache` keeps).
pub struct Found {
    page: RawPage,
    corrected: Option<String>,
    notices: Vec<String>,
    suggestion: Option<String>,
}

/// Everything of `req` that decides what the index finds (not how many threads look, nor
/// whether the hits get snippets).
fn cache_key(req: &SearchRequest) -> String {
    format!(
        "{:?}",
        (
            &req.query,
            req.limit,
            req.offset,
            &req.sources,
            &req.topics,
            &req.tones,
            (req.after, req.before),
            &req.exclude_ids,
            req.facets,
        )
    )
}

impl Searcher<'_> {
    /// Run a search request: parse, search, retry with corrections when nothing matches;
    /// a search asked again on the same index generation is answered from `cache`.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResults> {
        let pq = parse_query(&req.query, self.tz)?;
        let limit = req.limit.clamp(1, MAX_LIMIT);
        let offset = req.offset.min(MAX_OFFSET);
        // Where this search may be kept: the cache, its key and the index generation.
        // `status:` filters read the store: such searches are not kept.
        let slot = self
            .cache
            .filter(|_| pq.statuses.is_empty() && req.statuses.is_empty())
            .map(|c| {
                let generation = self.index.reader().searcher().generation().generation_id();
                (c, cache_key(req), generation)
            });
        let kept = slot.as_ref().and_then(|(c, k, g)| c.get(k, *g));
        let found = match kept {
            Some(f) => f,
            None => {
                let f = std::sync::Arc::new(self.find(&pq, req, limit, offset)?);
                if let Some((c, k, g)) = slot {
                    c.put(k, g, f.clone());
                }
                f
            }
        };
        let hits = self.hydrate(&found.page, req.snippets)?;
        Ok(SearchResults {
            total: found.page.total,
            hits,
            facets: found.page.facets.clone(),
            corrected_query: found.corrected.clone(),
            notices: found.notices.clone(),
            suggestion: found.suggestion.clone(),
            offset,
            limit,
            sort: pq.sort,
        })
    }

    /// The index's part of a search: the page of matches, corrected when nothing matches,
    /// and a suggestion when little does.
    fn find(
        &self,
        pq: &ParsedQuery,
        req: &SearchRequest,
        limit: usize,
        offset: usize,
    ) -> Result<Found> {
        let mut notices = pq.notices.clone();
        let mut corrected = None;
        let ids = self.id_filters(pq, req)?;
        let mut page = self.run(pq, req, &ids, limit, offset, false)?;
        if page.total == 0 && !pq.is_match_all() {
            // 1. Raw Telex / VNI keystrokes.
            let plain = pq.plain_text();
            let reading =
                telex::telex_to_vietnamese(&plain).or_else(|| telex::vni_to_vietnamese(&plain));
            if let Some(reading) = reading {
                let rebuilt = rebuild_query(&req.query, &plain, &reading);
                if let Ok(pq2) = parse_query(&rebuilt, self.tz) {
                    let p2 = self.run(&pq2, req, &ids, limit, offset, false)?;
                    if p2.total > 0 {
                        notices.push(format!("Đã hiểu là: {reading}"));
                        corrected = Some(reading);
                        page = p2;
                    }
                }
            }
            // 2. Fuzzy, edit distance 1 on the folded form.
            if page.total == 0 {
                let p3 = self.run(pq, req, &ids, limit, offset, true)?;
                if p3.total > 0 {
                    notices.push(format!(
                        "Không có kết quả khớp đúng cho \"{plain}\"; hiển thị kết quả gần đúng."
                    ));
                    corrected = Some(format!("~{plain}"));
                    page = p3;
                }
            }
        }
        let suggestion = if page.total < FEW_HITS && !pq.is_match_all() {
            self.suggestion(pq, &req.query, page.total)?
        } else {
            None
        };
        Ok(Found {
            page,
            corrected,
            notices,
            suggestion,
        })
    }

    /// The item-id filters of the query's and the request's `status:` filters.
    fn id_filters(&self, pq: &ParsedQuery, req: &SearchRequest) -> Result<IdFilters> {
        let mut ids = IdFilters::default();
        let mut shared: Option<Vec<i64>> = None;
        let mut seen = Vec::new();
        for &status in pq.statuses.iter().chain(&req.statuses) {
            if seen.contains(&status) {
                continue;
            }
            seen.push(status);
            match status {
                Status::Shared | Status::Unshared => {
                    let set = match &shared {
                        Some(s) => s.clone(),
                        None => {
                            let s = self.store.shared_item_ids()?;
                            shared = Some(s.clone());
                            s
                        }
                    };
                    if status == Status::Shared {
                        ids.within.push(set);
                    } else {
                        ids.without.extend(set);
                    }
                }
                Status::Proposed => ids
                    .within
                    .push(self.store.proposed_item_ids(ProposalState::Open)?),
                Status::Approved => ids
                    .within
                    .push(self.store.proposed_item_ids(ProposalState::Approved)?),
            }
        }
        Ok(ids)
    }

    /// A query with its syllables corrected that finds more than `found` documents, in
    /// the spelling most documents use, with the original's filters and exclusions.
    fn suggestion(&self, pq: &ParsedQuery, original: &str, found: usize) -> Result<Option<String>> {
        let plain = pq.plain_text();
        let searcher = self.index.reader().searcher();
        let Some(s) = suggest::suggest(&searcher, self.index.fields(), &plain) else {
            return Ok(None);
        };
        if s.count <= found {
            return Ok(None);
        }
        let ids: Vec<i64> = s.examples.iter().map(|id| *id as i64).collect();
        let items = self.store.items_by_ids_plain(&ids)?;
        let texts: Vec<String> = items
            .iter()
            .map(|i| format!("{}\n{}", i.title, crate::index::schema::body_text(i)))
            .collect();
        let reading = suggest::surface(&s.folded, texts.iter().map(String::as_str), &plain);
        let mut q = rebuild_query(original, &plain, &reading);
        for t in original.split_whitespace() {
            // Exclusions (a negated filter is already kept by `rebuild_query`).
            if t.starts_with('-') && t.len() > 1 && !is_filter(t) {
                q.push(' ');
                q.push_str(t);
            }
        }
        Ok(Some(q))
    }

    fn run(
        &self,
        pq: &ParsedQuery,
        req: &SearchRequest,
        ids: &IdFilters,
        limit: usize,
        offset: usize,
        fuzzy: bool,
    ) -> Result<RawPage> {
        let f = self.index.fields();
        let searcher = self.index.reader().searcher();
        let builder = Builder {
            f,
            variants: self.variants,
            fuzzy,
            searcher: Some(&searcher),
            ids: Some(ids),
        };
        let Built {
            main: query,
            boosts,
        } = builder.build(pq, req);
        let id_of = |addr: DocAddress| -> Result<u64> {
            let seg = searcher.segment_reader(addr.segment_ord);
            let col = seg.fast_fields().u64("id")?;
            col.first(addr.doc_id)
                .ok_or_else(|| Error::Index("document without id".into()))
        };
        let by_tone = pq.sort == SortOrder::Tone;
        let by_date = !by_tone && (pq.sort == SortOrder::Date || pq.is_match_all());
        let scored = !by_date && !pq.is_match_all();
        let now = Utc::now().timestamp();
        let matches = Matches {
            // By relevance, the best `RESCORE_WINDOW` by words get their proximity boosts
            // and the page is cut from the re-sorted window.
            limit: if scored {
                (offset + limit).max(RESCORE_WINDOW)
            } else {
                offset + limit
            },
            rank: match (by_tone, by_date) {
                (true, _) => Rank::Tone {
                    now: scored.then_some(now),
                },
                (false, true) => Rank::Newest,
                (false, false) => Rank::Relevance { now },
            },
            facets: req.facets,
        };
        let Gathered {
            top: mut docs,
            count: total,
            per_source,
        } = parallel::search(
            &searcher,
            &query,
            &matches,
            req.threads.unwrap_or_else(parallel::search_threads).max(1),
        )?;
        if scored {
            rescore(&searcher, &boosts, &mut docs, now)?;
            // `sort:tone` keeps the tone classes in order; the boosts reorder within them.
            let tones: Vec<i64> = if by_tone {
                docs.iter().map(|d| tone_of(&searcher, d.1)).collect()
            } else {
                vec![0; docs.len()]
            };
            let mut order: Vec<usize> = (0..docs.len()).collect();
            order.sort_by(|&a, &b| {
                tones[b]
                    .cmp(&tones[a])
                    .then(docs[b].0.total_cmp(&docs[a].0))
                    .then(docs[a].1.segment_ord.cmp(&docs[b].1.segment_ord))
                    .then(docs[a].1.doc_id.cmp(&docs[b].1.doc_id))
            });
            docs = order.into_iter().map(|i| docs[i]).collect();
        }
        let mut out = Vec::with_capacity(limit);
        for (score, addr) in docs.into_iter().skip(offset).take(limit) {
            out.push((score, id_of(addr)?));
        }
        let mut facet_counts: Vec<FacetCount> = per_source
            .into_iter()
            .map(|(source, count)| FacetCount { source, count })
            .collect();
        facet_counts.sort_by(|a, b| b.count.cmp(&a.count).then(a.source.cmp(&b.source)));
        Ok(RawPage {
            total,
            docs: out,
            facets: facet_counts,
            query,
        })
    }

    /// The page's hits from the store, with their snippets when `snippets`.
    fn hydrate(&self, page: &RawPage, snippets: bool) -> Result<Vec<Hit>> {
        let ids: Vec<i64> = page.docs.iter().map(|(_, id)| *id as i64).collect();
        let items = self.store.items_by_ids_plain(&ids)?;
        let searcher = self.index.reader().searcher();
        let snippets =
            snippets.then(|| Snippets::new(&searcher, &*page.query, self.index.fields()));
        let mut hits = Vec::with_capacity(items.len());
        for (score, id) in &page.docs {
            let Some(item) = items.iter().find(|i| i.id == *id as i64) else {
                continue;
            };
            let snippet = snippets.as_ref().map(|s| s.of(item)).unwrap_or_default();
            hits.push(Hit {
                id: item.id,
                title: item.title.clone(),
                url: item.url.clone(),
                source: item.source_id.clone(),
                published: item
                    .published_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                snippet: snippet.text,
                highlights: snippet.highlights,
                snippet_html: snippet.html,
                score: *score,
                image_url: item.image_url.clone(),
                tone: item.tone.as_ref().map(|t| t.label).unwrap_or_default(),
                tone_score: item.tone.as_ref().map_or(0.0, |t| t.score),
                tone_reasons: item
                    .tone
                    .as_ref()
                    .map(|t| t.reasons.clone())
                    .unwrap_or_default(),
                also_posted_by: Vec::new(),
            });
        }
        Ok(hits)
    }
}

/// The `tone` fast field of one document (0 when missing).
fn tone_of(searcher: &tantivy::Searcher, addr: DocAddress) -> i64 {
    searcher
        .segment_reader(addr.segment_ord)
        .fast_fields()
        .i64("tone")
        .ok()
        .and_then(|c| c.first(addr.doc_id))
        .unwrap_or(0)
}

/// A `key:value` filter token of the query language (`-tone:negative` too).
fn is_filter(token: &str) -> bool {
    token.split_once(':').is_some_and(|(k, _)| {
        matches!(
            k.trim_start_matches('-').to_lowercase().as_str(),
            "source" | "topic" | "status" | "tone" | "after" | "before" | "sort"
        )
    })
}

/// Replace the words part of the original query by the corrected reading, keeping filters.
fn rebuild_query(original: &str, plain: &str, reading: &str) -> String {
    let filters: Vec<&str> = original
        .split_whitespace()
        .filter(|t| is_filter(t))
        .collect();
    let _ = plain;
    let mut q = reading.to_string();
    for f in filters {
        q.push(' ');
        q.push_str(f);
    }
    q
}
