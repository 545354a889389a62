//! Running one search on every core: the matching documents are collected in doc-id
//! ranges, several per segment when a segment is large, on scoped threads, and the
//! collectors' results are merged as tantivy merges its per-segment results. A grown
//! index is mostly one big merged segment, so splitting by segment alone (tantivy's own
//! executor) would leave the second core idle; splitting by range does not change what
//! is matched, scored or counted.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::{EnableScoring, Query, Weight};
use tantivy::{DocId, Searcher, TERMINATED};

use crate::error::Result;

/// Below this many documents a search runs on the calling thread alone.
const PARALLEL_FROM_DOCS: u32 = 100_000;

/// Threads one search may use: the machine's cores, at most four.
pub fn search_threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(4)
    })
}

/// A range of documents of one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Part {
    segment_ord: u32,
    start: DocId,
    end: DocId,
}

/// Cut the segments (`max_doc` of each) into ranges of about `total / (2 × threads)`
/// documents, so `threads` workers taking the next range as they finish end together.
fn plan(max_docs: &[u32], threads: usize) -> Vec<Part> {
    let total: u64 = max_docs.iter().map(|&n| u64::from(n)).sum();
    let target = (total / (2 * threads as u64).max(1)).max(1);
    let mut parts = Vec::new();
    for (ord, &n) in max_docs.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let pieces = u64::from(n).div_ceil(target).max(1);
        let step = u64::from(n).div_ceil(pieces);
        let mut start = 0u64;
        while start < u64::from(n) {
            let end = (start + step).min(u64::from(n));
            parts.push(Part {
                segment_ord: ord as u32,
                start: start as DocId,
                end: end as DocId,
            });
            start = end;
        }
    }
    parts
}

/// Collect the documents of `part` that `weight` matches.
fn collect_part<C: Collector>(
    searcher: &Searcher,
    weight: &dyn Weight,
    collector: &C,
    part: Part,
) -> tantivy::Result<<C::Child as SegmentCollector>::Fruit> {
    let reader = searcher.segment_reader(part.segment_ord);
    let mut out = collector.for_segment(part.segment_ord, reader)?;
    let mut scorer = weight.scorer(reader, 1.0)?;
    let alive = reader.alive_bitset();
    let scoring = collector.requires_scoring();
    let mut doc = scorer.doc();
    if doc < part.start {
        doc = scorer.seek(part.start);
    }
    while doc != TERMINATED && doc < part.end {
        if alive.is_none_or(|a| a.is_alive(doc)) {
            let score = if scoring { scorer.score() } else { 0.0 };
            out.collect(doc, score);
        }
        doc = scorer.advance();
    }
    Ok(out.harvest())
}

/// `searcher.search(query, collector)`, on up to `threads` threads.
pub fn search<C: Collector>(
    searcher: &Searcher,
    query: &dyn Query,
    collector: &C,
    threads: usize,
) -> Result<C::Fruit> {
    search_from(searcher, query, collector, threads, PARALLEL_FROM_DOCS)
}

/// `search`, in parts once the index holds `from_docs` documents.
fn search_from<C: Collector>(
    searcher: &Searcher,
    query: &dyn Query,
    collector: &C,
    threads: usize,
    from_docs: u32,
) -> Result<C::Fruit> {
    let max_docs: Vec<u32> = searcher
        .segment_readers()
        .iter()
        .map(|r| r.max_doc())
        .collect();
    let total: u64 = max_docs.iter().map(|&n| u64::from(n)).sum();
    if threads <= 1 || total < u64::from(from_docs) {
        return Ok(searcher.search(query, collector)?);
    }
    let scoring = if collector.requires_scoring() {
        EnableScoring::enabled_from_searcher(searcher)
    } else {
        EnableScoring::disabled_from_searcher(searcher)
    };
    let weight = query.weight(scoring)?;
    let parts = plan(&max_docs, threads);
    let next = AtomicUsize::new(0);
    let fruits: Mutex<Vec<(usize, tantivy::Result<_>)>> = Mutex::new(Vec::new());
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(&part) = parts.get(i) else { break };
            let fruit = collect_part(searcher, weight.as_ref(), collector, part);
            fruits
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((i, fruit));
        }
    };
    std::thread::scope(|s| {
        for _ in 1..threads.min(parts.len()) {
            s.spawn(work);
        }
        work();
    });
    // Every part was collected: a worker that panics makes the scope panic.
    let mut fruits = fruits.into_inner().unwrap_or_else(|e| e.into_inner());
    // Merge in plan order, so ties come out as they would from one thread.
    fruits.sort_by_key(|(i, _)| *i);
    let fruits = fruits
        .into_iter()
        .map(|(_, f)| f)
        .collect::<tantivy::Result<Vec<_>>>()?;
    Ok(collector.merge_fruits(fruits)?)
}

#[cfg(test)]
mod tests {
    use super::super::collect::{Matches, Rank};
    use super::*;
    use crate::index::in_memory_index;
    use tantivy::collector::{Count, FacetCollector, TopDocs};
    use tantivy::query::{BooleanQuery, Occur, TermQuery};
    use tantivy::schema::{Facet, IndexRecordOption};
    use tantivy::{DocAddress, Index, Order, TantivyDocument, Term, doc};

    /// An index of 3,000 generated documents in three segments, two deleted.
    fn three_segments() -> (Index, crate::index::Fields) {
        let (index, f, mut w) = in_memory_index();
        let vocab = [
            "nông",
            "thôn",
            "mới",
            "kon",
            "rẫy",
            "giá",
            "vàng",
            "học",
            "sinh",
            "bão",
            "lũ",
            "mưa",
            "đường",
            "xã",
            "huyện",
            "tỉnh",
        ];
        let mut x: u64 = 7;
        let mut rnd = move |n: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % n
        };
        let now = chrono::Utc::now().timestamp();
        for i in 0..3_000u64 {
            let len = 5 + rnd(30) as usize;
            let body: Vec<&str> = (0..len)
                .map(|_| vocab[rnd(vocab.len() as u64) as usize])
                .collect();
            let source = format!("s{}", rnd(7));
            let d: TantivyDocument = doc!(
                f.id => i,
                f.source => source.as_str(),
                f.source_facet => Facet::from_path([source.as_str()]),
                f.title_f => body[..3].join(" "),
                f.body_f => body.join(" "),
                // Some share a date; ages up to 30 days, where the recency factor still varies.
                f.published => now - (rnd(30 * 24) as i64) * 3_600,
            );
            w.add_document(d).expect("in-memory index");
            if i % 1_000 == 999 {
                w.commit().expect("in-memory index");
            }
        }
        w.delete_term(Term::from_field_u64(f.id, 10));
        w.delete_term(Term::from_field_u64(f.id, 2_500));
        w.commit().expect("in-memory index");
        (index, f)
    }

    fn queries(f: crate::index::Fields) -> Vec<Box<dyn Query>> {
        let term = |t: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(f.body_f, t),
                IndexRecordOption::WithFreqs,
            ))
        };
        vec![
            term("nong"),
            Box::new(BooleanQuery::new(vec![
                (Occur::Must, term("gia")),
                (Occur::Must, term("vang")),
            ])),
            Box::new(BooleanQuery::new(vec![
                (Occur::Should, term("bao")),
                (Occur::Should, term("lu")),
            ])),
            Box::new(BooleanQuery::new(vec![
                (Occur::Must, term("xa")),
                (Occur::MustNot, term("mua")),
            ])),
        ]
    }

    /// The same results from one thread and from several, on an index of three segments
    /// with deleted documents: hits in the same order with the same scores, the same
    /// count and the same facets.
    #[test]
    fn parts_give_the_results_of_one_thread() {
        let (index, f) = three_segments();
        let reader = index.reader().expect("in-memory index");
        reader.reload().expect("in-memory index");
        let searcher = reader.searcher();
        assert_eq!(searcher.segment_readers().len(), 3);
        let queries = queries(f);
        for q in &queries {
            let mut facets = FacetCollector::for_field("source_facet");
            facets.add_facet(Facet::root());
            let by_score = (TopDocs::with_limit(40), Count, facets);
            let one = searcher
                .search(q.as_ref(), &by_score)
                .expect("in-memory index");
            for threads in [2, 3] {
                let many = search_from(&searcher, q.as_ref(), &by_score, threads, 0)
                    .expect("in-memory index");
                assert!(one.1 > 0);
                assert_eq!(one.1, many.1, "count");
                let a: Vec<_> = one.0.iter().map(|(s, d)| (s.to_bits(), *d)).collect();
                let b: Vec<_> = many.0.iter().map(|(s, d)| (s.to_bits(), *d)).collect();
                assert_eq!(a, b, "top docs");
                let fa: Vec<_> = one.2.get("/").map(|(k, n)| (k.to_string(), n)).collect();
                let fb: Vec<_> = many.2.get("/").map(|(k, n)| (k.to_string(), n)).collect();
                assert_eq!(fa, fb, "facets");
            }
            let by_date = (
                TopDocs::with_limit(25).order_by_fast_field::<i64>("published", Order::Desc),
                Count,
            );
            let one = searcher
                .search(q.as_ref(), &by_date)
                .expect("in-memory index");
            let many = search_from(&searcher, q.as_ref(), &by_date, 2, 0).expect("in-memory index");
            assert_eq!(one, many);
        }
    }

    /// `Matches` in parts gives what tantivy's own collectors give on one thread: the
    /// top documents by score × recency (and newest first), the count, the facets.
    #[test]
    fn matches_agrees_with_tantivys_collectors() {
        let (index, f) = three_segments();
        let reader = index.reader().expect("in-memory index");
        reader.reload().expect("in-memory index");
        let searcher = reader.searcher();
        let now = chrono::Utc::now().timestamp();
        for q in &queries(f) {
            let mut facets = FacetCollector::for_field("source_facet");
            facets.add_facet(Facet::root());
            let tweaked =
                TopDocs::with_limit(40).tweak_score(move |seg: &tantivy::SegmentReader| {
                    let published = seg.fast_fields().i64("published").ok();
                    move |doc: DocId, score: tantivy::Score| {
                        score
                            * super::super::collect::recency_factor(
                                now,
                                published.as_ref().and_then(|c| c.first(doc)),
                            )
                    }
                });
            let (top, count, facets) = searcher
                .search(q.as_ref(), &(tweaked, Count, facets))
                .expect("in-memory index");
            let mut want_sources: Vec<(String, u64)> = facets
                .get("/")
                .map(|(k, n)| {
                    (
                        k.to_path()
                            .last()
                            .map(|s| s.to_string())
                            .unwrap_or_default(),
                        n,
                    )
                })
                .collect();
            want_sources.sort();
            for threads in [1, 2, 3] {
                let rank = Rank::Relevance { now };
                let got = search_from(
                    &searcher,
                    q.as_ref(),
                    &Matches {
                        limit: 40,
                        rank,
                        facets: true,
                    },
                    threads,
                    0,
                )
                .expect("in-memory index");
                assert!(count > 40);
                assert_eq!(got.count, count, "count");
                let a: Vec<_> = top.iter().map(|(s, d)| (s.to_bits(), *d)).collect();
                let b: Vec<_> = got.top.iter().map(|(s, d)| (s.to_bits(), *d)).collect();
                assert_eq!(a, b, "top by relevance, {threads} threads");
                let mut got_sources: Vec<(String, u64)> = got.per_source.into_iter().collect();
                got_sources.sort();
                assert_eq!(got_sources, want_sources, "per source");
            }
            let newest =
                TopDocs::with_limit(25).order_by_fast_field::<i64>("published", Order::Desc);
            let want = searcher
                .search(q.as_ref(), &newest)
                .expect("in-memory index");
            let got = search_from(
                &searcher,
                q.as_ref(),
                &Matches {
                    limit: 25,
                    rank: Rank::Newest,
                    facets: true,
                },
                2,
                0,
            )
            .expect("in-memory index");
            let want: Vec<DocAddress> = want.into_iter().map(|(_, d)| d).collect();
            let got: Vec<DocAddress> = got.top.into_iter().map(|(_, d)| d).collect();
            assert_eq!(got, want, "newest first");
        }
    }

    #[test]
    fn plan_covers_every_document_once() {
        for (docs, threads) in [
            (vec![923_500, 76_500], 2),
            (vec![1], 2),
            (vec![0, 10, 0, 7], 3),
            (vec![100_000; 7], 4),
            (vec![5], 1),
        ] {
            let parts = plan(&docs, threads);
            for (ord, &n) in docs.iter().enumerate() {
                let mut mine: Vec<Part> = parts
                    .iter()
                    .copied()
                    .filter(|p| p.segment_ord == ord as u32)
                    .collect();
                mine.sort_by_key(|p| p.start);
                let mut at = 0;
                for p in &mine {
                    assert_eq!(p.start, at, "{docs:?} {threads}: gap or overlap");
                    assert!(p.end > p.start);
                    at = p.end;
                }
                assert_eq!(at, n, "{docs:?} {threads}: segment {ord} not covered");
            }
        }
        // The big segment is cut so both threads get work.
        let parts = plan(&[923_500, 76_500], 2);
        assert!(parts.iter().filter(|p| p.segment_ord == 0).count() >= 2);
        assert!(parts.iter().all(|p| p.end - p.start <= 250_000));
    }
}
