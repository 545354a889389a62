//! The `lucene` stage: gomtin beside Apache Lucene set up as an experienced Elasticsearch
//! user sets up Vietnamese (the peer in `benches/lucene/`), on the same grown corpus and
//! the same query strings, both indexes built in this run.
//!
//! - Corpus: `corpus::grow(base, size, 42)` stored by gomtin (normalize → SQLite →
//!   tantivy); the stored items are then written as JSONL for the peer — the exact title
//!   and body text gomtin indexed (`index::body_text`), its source and publication time.
//! - Queries: the judged ones without the filter class (the peer has no `source:` or `-`)
//!   plus the latency stage's common ones without `sort:date`.
//! - Latency, warm, `rounds` times alternating gomtin then Lucene, each `reps` rounds over
//!   the queries: gomtin with snippets + facets and without (`SearchRequest::snippets`,
//!   `::facets`), on the calling thread (`threads = Some(1)`) and as it runs; Lucene with
//!   snippets + per-source counts and without, on 1 thread and with 2.
//! - Totals and per-source counts compared per query, relevance (P@10, MRR) of both.

mod peer;
mod report;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use gomtin::app::App;
use gomtin::index::{body_text, build_schema, item_document, register_analyzers};
use gomtin::search::SearchRequest;
use tantivy::{Index, IndexWriter, TantivyDocument};

use crate::corpus::{Article, ENGINE_ONLY, grow, id_from_url, ingest_direct, open_app};
use crate::relevance::{Judgment, score};
use report::{BuildRow, ClassRow, Pcts, QueryRow, RelRow, Report, SERIES, TotalDiff};

/// How the stage runs.
pub struct Options {
    pub size: usize,
    /// Warm rounds over the queries per engine and setting, in each round.
    pub reps: usize,
    /// Times the engines alternate (gomtin, then Lucene's four settings).
    pub rounds: usize,
    /// Lucene's untimed rounds before each setting (JIT).
    pub warmup: usize,
    /// Builds to try, in order (`LUCENE_SOURCE` values).
    pub sources: Vec<String>,
    /// Install and download nothing (what `all` asks).
    pub offline: bool,
    pub peer_dir: PathBuf,
    /// Search again on the indexes an earlier run of the same size left in the work folder
    /// (their build figures are read back from `built.json`); build them when absent.
    pub reuse: bool,
}

impl Options {
    pub fn new(size: usize, quick: bool) -> Options {
        Options {
            size,
            reps: if quick { 3 } else { 20 },
            rounds: if quick { 1 } else { 2 },
            warmup: if quick { 5 } else { 20 },
            sources: peer::SOURCES.iter().map(|s| s.to_string()).collect(),
            offline: false,
            peer_dir: peer::default_dir(),
            reuse: false,
        }
    }
}

/// One query of the set: its class and text, and what gomtin returned the first time.
struct Q {
    class: String,
    text: String,
    relevant: Option<Vec<String>>,
}

struct GomtinFirst {
    total: usize,
    ids: Vec<String>,
    facets: BTreeMap<String, u64>,
}

/// The stage as `all` runs it: skipped with one line when Java or a Lucene build is not
/// on the machine (nothing is installed then), and never failing the whole run.
pub fn run_in_all(base: &[Article], work: &Path, size: usize, quick: bool, json: bool) {
    let mut opts = Options::new(size, quick);
    opts.offline = true;
    let note = |key: &str, text: String| {
        if json {
            println!("{}", serde_json::json!({ key: text }));
        } else {
            println!("\n{key}: {text}", key = key.replace('_', " "));
        }
    };
    match peer::Peer::find(&opts.peer_dir, &opts.sources, true, &work.join("logs")) {
        Err(why) => note("lucene_stage_skipped", why),
        Ok(_) => {
            if let Err(e) = run(base, work, &opts, json) {
                note("lucene_stage_failed", format!("{e} (the run goes on)"));
            }
        }
    }
}

pub fn run(
    base: &[Article],
    work: &Path,
    opts: &Options,
    json: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let built_file = work.join("built.json");
    let kept: Option<Built> = opts
        .reuse
        .then(|| std::fs::read(&built_file).ok())
        .flatten()
        .and_then(|b| serde_json::from_slice::<Built>(&b).ok())
        .filter(|b| b.size == opts.size);
    if kept.is_none() {
        // Only this stage's own folders and files are cleared: `work` may be given by hand.
        for sub in ["gomtin", "raw-tantivy", "lucene-index", "logs"] {
            let _ = std::fs::remove_dir_all(work.join(sub));
        }
        for f in ["corpus.jsonl.gz", "queries.txt", "built.json"] {
            let _ = std::fs::remove_file(work.join(f));
        }
    }
    std::fs::create_dir_all(work)?;
    let peer = peer::Peer::find(
        &opts.peer_dir,
        &opts.sources,
        opts.offline,
        &work.join("logs"),
    )?;
    eprintln!("lucene stage: peer build {}", peer.source);
    let queries = query_set()?;
    let lidx = work.join("lucene-index");
    let (app, Built { indexed, build, .. }) = match kept {
        Some(b) => {
            eprintln!("reusing the indexes of {} (built.json)", work.display());
            (open_app(&work.join("gomtin"), 4, ENGINE_ONLY)?, b)
        }
        None => {
            let (app, b) = build_all(base, work, opts.size, &peer)?;
            std::fs::write(&built_file, serde_json::to_vec(&b)?)?;
            (app, b)
        }
    };
    let docs = indexed.docs;

    let qfile = work.join("queries.txt");
    let mut text = String::new();
    for q in &queries {
        text.push_str(&q.text);
        text.push('\n');
    }
    std::fs::write(&qfile, text)?;

    // Samples per query, per series.
    let mut samples: Vec<Vec<Vec<f64>>> = (0..queries.len())
        .map(|_| vec![Vec::new(); SERIES.len()])
        .collect();
    let mut first: Vec<Option<GomtinFirst>> = (0..queries.len()).map(|_| None).collect();
    let mut lucene_runs: Vec<(usize, peer::SearchRun)> = Vec::new();
    let request = |text: &str, series: usize| {
        let mut r = SearchRequest::new(text, 10);
        let lean = series == report::GOMTIN_LEAN_1T || series == report::GOMTIN_LEAN_2T;
        r.snippets = !lean;
        r.facets = !lean;
        if series == report::GOMTIN_FULL_1T || series == report::GOMTIN_LEAN_1T {
            r.threads = Some(1);
        }
        r
    };
    let gomtin_series = [
        report::GOMTIN_FULL_1T,
        report::GOMTIN_FULL_2T,
        report::GOMTIN_LEAN_1T,
        report::GOMTIN_LEAN_2T,
    ];
    for round in 0..opts.rounds {
        eprintln!("round {}: gomtin, its four settings in turn", round + 1);
        for _ in 0..2 {
            for q in &queries {
                for &s in &gomtin_series {
                    let _ = app.search(&request(&q.text, s));
                }
            }
        }
        for _ in 0..opts.reps {
            for (i, q) in queries.iter().enumerate() {
                for &s in &gomtin_series {
                    let req = request(&q.text, s);
                    let t = Instant::now();
                    let res = app.search(&req)?;
                    samples[i][s].push(t.elapsed().as_secs_f64() * 1000.0);
                    if s == report::GOMTIN_FULL_2T && first[i].is_none() {
                        first[i] = Some(GomtinFirst {
                            total: res.total,
                            ids: res
                                .hits
                                .iter()
                                .filter_map(|h| h.url.as_deref().and_then(id_from_url))
                                .collect(),
                            facets: res
                                .facets
                                .iter()
                                .map(|f| (f.source.clone(), f.count))
                                .collect(),
                        });
                    }
                }
            }
        }
        for (series, threads, full) in [
            (report::LUCENE_FULL_1T, 1, true),
            (report::LUCENE_FULL_2T, 2, true),
            (report::LUCENE_1T, 1, false),
            (report::LUCENE_2T, 2, false),
        ] {
            eprintln!(
                "round {}: Lucene, {threads} thread(s), {}",
                round + 1,
                if full {
                    "snippets + facets"
                } else {
                    "top 10 + count"
                }
            );
            let mode = peer::Mode {
                threads,
                full,
                warmup: opts.warmup,
                repeat: opts.reps,
            };
            let run = peer.search(&lidx, &qfile, &mode)?;
            if run.queries.len() != queries.len() {
                return Err(format!(
                    "Lucene answered {} queries of {}",
                    run.queries.len(),
                    queries.len()
                )
                .into());
            }
            for (i, qr) in run.queries.iter().enumerate() {
                samples[i][series].extend_from_slice(&qr.ms);
            }
            lucene_runs.push((series, run));
        }
    }

    let report = summarize(
        &queries,
        &samples,
        &first,
        &lucene_runs,
        Meta {
            docs,
            reps: opts.reps,
            rounds: opts.rounds,
            indexed,
            source: peer.source.clone(),
            build,
        },
    );
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        report::print(&report);
    }
    Ok(())
}

/// What a run builds, kept in `built.json` for `--reuse`.
#[derive(serde::Serialize, serde::Deserialize)]
struct Built {
    size: usize,
    indexed: peer::Indexed,
    build: Vec<BuildRow>,
}

/// Both engines' indexes (and raw tantivy's) over the grown corpus, timed.
fn build_all(
    base: &[Article],
    work: &Path,
    size: usize,
    peer: &peer::Peer,
) -> Result<(App, Built), Box<dyn std::error::Error>> {
    // gomtin: the same direct ingest as the latency stage, timed.
    let articles = grow(base, size, 42);
    eprintln!("indexing {} items with gomtin", articles.len());
    let gdir = work.join("gomtin");
    let app = open_app(&gdir, 4, ENGINE_ONLY)?;
    let t = Instant::now();
    ingest_direct(&app, &articles, 4)?;
    let gomtin_s = t.elapsed().as_secs_f64();
    drop(articles);
    let docs = app.index.doc_count();
    let corpus = work.join("corpus.jsonl.gz");
    export_jsonl(&app, &corpus)?;
    eprintln!("raw tantivy, one indexing thread, over the same {docs} documents");
    let raw_dir = work.join("raw-tantivy");
    let raw_s = raw_tantivy(&app, &raw_dir)?;
    eprintln!("indexing the same {docs} documents with Lucene");
    let lidx = work.join("lucene-index");
    let indexed = peer.index(&corpus, &lidx)?;
    if indexed.docs != docs {
        return Err(format!("Lucene indexed {} documents, gomtin {docs}", indexed.docs).into());
    }
    let mb = |b: u64| b as f64 / 1_048_576.0;
    let per_s = |s: f64| docs as f64 / s.max(1e-9);
    let build = vec![
        BuildRow {
            engine: "gomtin".into(),
            what: "normalize → SQLite → tantivy (2 writer threads), direct, no HTTP; size: the tantivy index (the SQLite store beside it holds the text)".into(),
            seconds: gomtin_s,
            docs_per_s: per_s(gomtin_s),
            index_mb: mb(dir_size(&gdir.join("data").join(gomtin::app::INDEX_DIR))),
        },
        BuildRow {
            engine: "tantivy".into(),
            what: "gomtin's schema and analyzers, stored items read back, 1 indexing thread, commit + merges".into(),
            seconds: raw_s,
            docs_per_s: per_s(raw_s),
            index_mb: mb(dir_size(&raw_dir)),
        },
        BuildRow {
            engine: format!("Lucene {}", indexed.lucene),
            what: format!(
                "gzip + JSON + ICU analysis, 1 thread, commit + merges; body stored and offsets indexed (for snippets); {} segment(s)",
                indexed.segments
            ),
            seconds: indexed.seconds,
            docs_per_s: per_s(indexed.seconds),
            index_mb: mb(indexed.index_bytes),
        },
    ];

    Ok((
        app,
        Built {
            size,
            indexed,
            build,
        },
    ))
}

/// The judged queries without the filter class, then the common ones without `sort:`.
fn query_set() -> Result<Vec<Q>, Box<dyn std::error::Error>> {
    let judged: Vec<Judgment> = crate::relevance::load_judgments(&crate::default_judgments())?;
    let mut out: Vec<Q> = judged
        .into_iter()
        .filter(|j| j.class != "filter")
        .map(|j| Q {
            class: j.class,
            text: j.query,
            relevant: Some(j.relevant),
        })
        .collect();
    out.extend(
        crate::latency::COMMON
            .iter()
            .filter(|q| !q.contains("sort:"))
            .map(|q| Q {
                class: "common".into(),
                text: q.to_string(),
                relevant: None,
            }),
    );
    Ok(out)
}

/// The stored items as JSONL for the peer: what gomtin indexed, field for field.
fn export_jsonl(app: &App, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let f = std::fs::File::create(path)?;
    let mut w = std::io::BufWriter::new(flate2::write::GzEncoder::new(
        f,
        flate2::Compression::fast(),
    ));
    let mut seq = 0;
    loop {
        let page = app.store.items_after_seq(seq, 5_000)?;
        let Some(last) = page.last() else { break };
        seq = last.seq;
        for item in &page {
            let url = item.url.clone().unwrap_or_else(|| item.key.clone());
            let mut body = body_text(item);
            if let Some(a) = &item.author {
                body.push('\n');
                body.push_str(a);
            }
            let line = serde_json::json!({
                "id": id_from_url(&url).unwrap_or_else(|| item.id.to_string()),
                "url": url,
                "title": item.title,
                "body": body,
                "source": item.source_id,
                "published": item.published_at.timestamp(),
            });
            serde_json::to_writer(&mut w, &line)?;
            w.write_all(b"\n")?;
        }
    }
    w.into_inner()
        .map_err(|e| e.into_error())?
        .finish()?
        .sync_all()?;
    Ok(())
}

/// The same stored items into a fresh tantivy index with one indexing thread (as the
/// peer's one `IndexWriter` thread) and a 256 MB budget (its RAM buffer); seconds until
/// committed and merged.
fn raw_tantivy(app: &App, dir: &Path) -> Result<f64, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let (schema, fields) = build_schema();
    let index = Index::create_in_dir(dir, schema)?;
    register_analyzers(&index);
    let t = Instant::now();
    let mut writer: IndexWriter<TantivyDocument> = index.writer_with_num_threads(1, 256_000_000)?;
    let mut seq = 0;
    loop {
        let page = app.store.items_after_seq(seq, 5_000)?;
        let Some(last) = page.last() else { break };
        seq = last.seq;
        for item in &page {
            writer.add_document(item_document(fields, item, &[]))?;
        }
    }
    writer.commit()?;
    writer.wait_merging_threads()?;
    Ok(t.elapsed().as_secs_f64())
}

fn dir_size(p: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(p) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}

/// Threads one gomtin search uses on `docs` documents: its rule in `search::parallel`
/// (one below 100,000 documents, else the cores, at most four).
fn gomtin_threads(docs: u64) -> usize {
    if docs < 100_000 {
        1
    } else {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(4)
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

fn pcts(v: &mut [f64]) -> Pcts {
    Pcts {
        p50_ms: pct(v, 0.5),
        p95_ms: pct(v, 0.95),
        p99_ms: pct(v, 0.99),
    }
}

/// P@10 and reciprocal rank of gomtin, then of Lucene, on one judged query.
type RelScores = (f64, f64, f64, f64);

struct Meta {
    docs: u64,
    reps: usize,
    rounds: usize,
    indexed: peer::Indexed,
    source: String,
    build: Vec<BuildRow>,
}

fn summarize(
    queries: &[Q],
    samples: &[Vec<Vec<f64>>],
    first: &[Option<GomtinFirst>],
    lucene_runs: &[(usize, peer::SearchRun)],
    meta: Meta,
) -> Report {
    let mut classes: Vec<String> = queries.iter().map(|q| q.class.clone()).collect();
    classes.sort();
    classes.dedup();
    classes.push("all".into());
    let latency = classes
        .iter()
        .map(|class| {
            let members: Vec<usize> = (0..queries.len())
                .filter(|&i| class == "all" || queries[i].class == *class)
                .collect();
            let (pooled, sums): (Vec<Pcts>, Vec<f64>) = (0..SERIES.len())
                .map(|s| {
                    let mut all: Vec<f64> = members
                        .iter()
                        .flat_map(|&i| samples[i][s].iter().copied())
                        .collect();
                    let sum: f64 = members
                        .iter()
                        .map(|&i| pct(&mut samples[i][s].clone(), 0.5))
                        .sum();
                    (pcts(&mut all), sum)
                })
                .unzip();
            ClassRow {
                class: class.clone(),
                queries: members.len(),
                pcts: pooled,
                sum_of_query_p50_ms: sums,
            }
        })
        .collect();

    // Matches: the first Lucene run with facets is the reference; every run must agree.
    let reference = lucene_runs
        .iter()
        .find(|(s, _)| *s == report::LUCENE_FULL_1T)
        .map(|(_, r)| r);
    let lucene_totals_consistent = lucene_runs.iter().all(|(_, r)| {
        reference.is_some_and(|base| {
            r.queries
                .iter()
                .zip(&base.queries)
                .all(|(a, b)| a.total == b.total && a.q == b.q)
        })
    });
    let mut totals_equal = 0;
    let mut facets_equal = 0;
    let mut totals_differ = Vec::new();
    let mut rel: BTreeMap<String, Vec<RelScores>> = BTreeMap::new();
    if let Some(base) = reference {
        for (i, q) in queries.iter().enumerate() {
            let (Some(g), Some(l)) = (&first[i], base.queries.get(i)) else {
                continue;
            };
            if g.total as i64 == l.total {
                totals_equal += 1;
                if l.facets.as_ref() == Some(&g.facets) {
                    facets_equal += 1;
                }
            } else {
                totals_differ.push(TotalDiff {
                    class: q.class.clone(),
                    query: q.text.clone(),
                    gomtin: g.total,
                    lucene: l.total,
                });
            }
            if let Some(relevant) = &q.relevant {
                let lids: Vec<String> = l.urls.iter().filter_map(|u| id_from_url(u)).collect();
                let a = score(&g.ids, relevant);
                let b = score(&lids, relevant);
                for key in [q.class.clone(), "all".to_string()] {
                    rel.entry(key).or_default().push((a.p10, a.rr, b.p10, b.rr));
                }
            }
        }
    }
    // Classes in name order, "all" last, as in the latency table.
    let mut rel: Vec<(String, Vec<RelScores>)> = rel.into_iter().collect();
    rel.sort_by_key(|(c, _)| (c == "all", c.clone()));
    let relevance = rel
        .into_iter()
        .map(|(class, v)| {
            let n = v.len() as f64;
            let avg = |f: fn(&RelScores) -> f64| v.iter().map(f).sum::<f64>() / n;
            RelRow {
                class,
                queries: v.len(),
                gomtin_p10: avg(|x| x.0),
                gomtin_mrr: avg(|x| x.1),
                lucene_p10: avg(|x| x.2),
                lucene_mrr: avg(|x| x.3),
            }
        })
        .collect();
    let lucene_slices_2t = lucene_runs
        .iter()
        .find(|(s, _)| *s == report::LUCENE_FULL_2T)
        .and_then(|(_, r)| r.summary.slices)
        .unwrap_or(0);
    let per_query = queries
        .iter()
        .zip(samples)
        .map(|(q, s)| QueryRow {
            class: q.class.clone(),
            query: q.text.clone(),
            p50_ms: s.iter().map(|v| pct(&mut v.clone(), 0.5)).collect(),
            max_ms: s.iter().map(|v| pct(&mut v.clone(), 1.0)).collect(),
        })
        .collect();
    Report {
        per_query,
        docs: meta.docs,
        queries: queries.len(),
        warm_runs_per_round: meta.reps,
        rounds: meta.rounds,
        lucene: meta.indexed.lucene.clone(),
        java: meta.indexed.java.clone(),
        lucene_source: meta.source,
        gomtin_search_threads: gomtin_threads(meta.docs),
        lucene_slices_2t,
        series: SERIES.to_vec(),
        build: meta.build,
        latency,
        totals_equal,
        totals_differ,
        facets_equal,
        lucene_totals_consistent,
        relevance,
    }
}
