//! Search latency: the 50 judged queries plus 10 common ones, per class, cold (first run
//! on a freshly opened index) and warm (repeated), p50/p95/p99 — beside SQLite FTS5 on the
//! same documents and query strings, in the same run.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use gomtin::search::SearchRequest;
use serde::Serialize;

use crate::corpus::{Article, ENGINE_ONLY, grow, ingest_direct, open_app};
use crate::fts::Fts;

/// The common queries of the set (also asked of Lucene by the `lucene` stage).
pub(crate) const COMMON: &[&str] = &[
    "việt nam",
    "ha noi",
    "tp hcm",
    "bong da",
    "giao thông",
    "thoi tiet",
    "giá vàng",
    "học sinh",
    "cong an",
    "sort:date bao",
];

#[derive(Serialize, Default)]
pub struct ClassLatency {
    pub class: String,
    pub queries: usize,
    pub gomtin_cold_p50_ms: f64,
    pub gomtin_p50_ms: f64,
    pub gomtin_p95_ms: f64,
    pub gomtin_p99_ms: f64,
    pub fts5_p50_ms: f64,
    pub fts5_p95_ms: f64,
    pub fts5_p99_ms: f64,
    pub p99_ratio_fts5_over_gomtin: f64,
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

pub fn run(
    base: &[Article],
    work: &Path,
    size: usize,
    reps: usize,
    per_query: bool,
    json: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let judged = crate::relevance::load_judgments(&crate::default_judgments())?;
    let mut queries: Vec<(String, String)> = judged
        .iter()
        .map(|j| (j.class.clone(), j.query.clone()))
        .collect();
    queries.extend(COMMON.iter().map(|q| ("common".to_string(), q.to_string())));

    let articles = grow(base, size, 42);
    let cfg = work.join("gomtin.toml");
    let app = if cfg.exists() {
        eprintln!("reusing the index in {}", work.display());
        let mut config = gomtin::config::Config::load(&cfg)?;
        // Timed searches search: no recent pages kept (`corpus::ENGINE_ONLY`).
        config.server.limits.search_cache = 0;
        gomtin::app::App::open(config)?
    } else {
        std::fs::create_dir_all(work)?;
        eprintln!("indexing {size} items for the latency benchmark");
        let app = open_app(work, 4, ENGINE_ONLY)?;
        ingest_direct(&app, &articles, 4)?;
        app
    };
    let docs = app.index.doc_count();
    // The judged queries filter by the four sources of the relevance set (`bm-0`..`bm-3`,
    // a quarter of the articles each). The ingest stage's index, reused here, files the
    // articles under one source per feed of `PER_FEED` (`f0`, `f1`, …), where `bm-N` does
    // not exist: there `source:bm-N` is asked as `source:fN`, of both engines, and the
    // FTS5 table gets the same sources.
    let per_feed = app.config().source("bm-0").is_none();
    let sources: Vec<String> = if per_feed {
        (0..articles.len())
            .map(|i| crate::ingest::feed_source_id(i / crate::ingest::PER_FEED))
            .collect()
    } else {
        articles.iter().map(|a| a.source(4)).collect()
    };
    if per_feed {
        for (_, q) in &mut queries {
            *q = per_feed_sources(q);
        }
    }
    eprintln!("building FTS5 over the same {} articles", articles.len());
    let fts = Fts::open_or_build(&work.join("fts5.sqlite"), &articles, &sources)?;
    drop(articles);

    let mut cold: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut warm: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut fts_t: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut by_query: Vec<Vec<f64>> = vec![Vec::new(); queries.len()];
    // Cold: a fresh reader, each query once.
    app.index.refresh()?;
    for (class, q) in &queries {
        let t = Instant::now();
        let _ = app.search(&SearchRequest::new(q.clone(), 10));
        cold.entry(class.clone())
            .or_default()
            .push(t.elapsed().as_secs_f64() * 1000.0);
    }
    for _ in 0..reps {
        for (qi, (class, q)) in queries.iter().enumerate() {
            let t = Instant::now();
            let _ = app.search(&SearchRequest::new(q.clone(), 10));
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            warm.entry(class.clone()).or_default().push(ms);
            by_query[qi].push(ms);
            let t = Instant::now();
            let _ = fts.search(q, 10);
            fts_t
                .entry(class.clone())
                .or_default()
                .push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    if per_query {
        let mut lines: Vec<(f64, String)> = Vec::new();
        for ((class, q), mut times) in queries.iter().zip(by_query) {
            let hits = app
                .search(&SearchRequest::new(q.clone(), 10))
                .map(|r| r.total)
                .unwrap_or(0);
            let p50 = pct(&mut times, 0.5);
            let max = pct(&mut times, 1.0);
            lines.push((
                p50,
                format!("{p50:8.2} ms p50 {max:8.2} ms max {hits:>8} hits  {class:<7} {q}"),
            ));
        }
        lines.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (_, l) in lines {
            eprintln!("{l}");
        }
    }
    let mut rows = Vec::new();
    for (class, mut w) in warm {
        let mut c = cold.remove(&class).unwrap_or_default();
        let mut f = fts_t.remove(&class).unwrap_or_default();
        let p99 = pct(&mut w, 0.99);
        let fp99 = pct(&mut f, 0.99);
        rows.push(ClassLatency {
            queries: queries.iter().filter(|(c, _)| *c == class).count(),
            class,
            gomtin_cold_p50_ms: pct(&mut c, 0.5),
            gomtin_p50_ms: pct(&mut w, 0.5),
            gomtin_p95_ms: pct(&mut w, 0.95),
            gomtin_p99_ms: p99,
            fts5_p50_ms: pct(&mut f, 0.5),
            fts5_p95_ms: pct(&mut f, 0.95),
            fts5_p99_ms: fp99,
            p99_ratio_fts5_over_gomtin: if p99 > 0.0 { fp99 / p99 } else { 0.0 },
        });
    }
    if json {
        println!("{}", serde_json::to_string(&rows)?);
    } else {
        println!(
            "\n## Search latency ({docs} documents, {} queries × {reps} warm runs, limit 10, snippets included)\n",
            queries.len()
        );
        println!(
            "| class | queries | cold p50 | p50 | p95 | p99 | FTS5 p50 | FTS5 p95 | FTS5 p99 | FTS5/gomtin p99 |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|");
        for r in &rows {
            println!(
                "| {} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.2}× |",
                r.class,
                r.queries,
                r.gomtin_cold_p50_ms,
                r.gomtin_p50_ms,
                r.gomtin_p95_ms,
                r.gomtin_p99_ms,
                r.fts5_p50_ms,
                r.fts5_p95_ms,
                r.fts5_p99_ms,
                r.p99_ratio_fts5_over_gomtin
            );
        }
    }
    Ok(())
}

/// `source:bm-N` as `source:fN` (see `run`); the rest of the query as it is.
fn per_feed_sources(q: &str) -> String {
    q.split(' ')
        .map(|w| match w.strip_prefix("source:bm-") {
            Some(n) => format!("source:f{n}"),
            None => w.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}
