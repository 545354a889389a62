//! Ingest, end to end: feeds built from the corpus, served over local HTTP, through
//! fetch -> parse -> normalize -> SQLite -> tantivy (`pipeline::fetch_pass`, what
//! `gomtin fetch` runs), against the limit: raw tantivy `add_document` of the same
//! analysed documents into a fresh index with the same schema, analyzers and threads.
//! While the pipeline stores, its index is fed on the side (`pipeline::fetch_pass`), so
//! the ratio is what fetching, parsing, SQLite and clustering add on top of indexing.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use gomtin::index::{build_schema, item_document, register_analyzers};
use serde::Serialize;
use tantivy::{Index, IndexWriter, TantivyDocument};

use crate::corpus::{Article, grow, rss};
use crate::server::{FeedServer, peak_rss_mb};

/// Items per served feed.
pub const PER_FEED: usize = 500;

/// The source id of the ingest's feed number `feed` (its articles are the `feed`-th run
/// of `PER_FEED` in corpus order).
pub fn feed_source_id(feed: usize) -> String {
    format!("f{feed}")
}

#[derive(Serialize)]
pub struct IngestReport {
    pub items: usize,
    pub feeds: usize,
    pub feed_mb: f64,
    pub pipeline_seconds: f64,
    pub pipeline_items_per_s: f64,
    pub pipeline_mb_per_s: f64,
    pub raw_tantivy_seconds: f64,
    pub raw_items_per_s: f64,
    pub ratio_pipeline_over_raw: f64,
    pub bench_peak_rss_mb: Option<f64>,
    /// `gomtin fetch` doing the same ingest as its own process: seconds and peak RSS.
    pub fetch_process_seconds: Option<f64>,
    pub fetch_process_peak_rss_mb: Option<f64>,
}

pub fn run(
    base: &[Article],
    work: &Path,
    size: usize,
    json: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let r = measure(base, work, size)?;
    if json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "\n## Ingest ({} items in {} feeds, {:.1} MB of feed XML)\n",
            r.items, r.feeds, r.feed_mb
        );
        println!("| path | seconds | items/s | MB/s |");
        println!("|---|---|---|---|");
        println!(
            "| pipeline (HTTP → feed-rs → normalize → SQLite → tantivy) | {:.1} | {:.0} | {:.1} |",
            r.pipeline_seconds, r.pipeline_items_per_s, r.pipeline_mb_per_s
        );
        println!(
            "| raw tantivy add_document (same documents, same analyzers) | {:.1} | {:.0} | — |",
            r.raw_tantivy_seconds, r.raw_items_per_s
        );
        println!(
            "\npipeline / raw time ratio: {:.2}×",
            r.ratio_pipeline_over_raw
        );
        if let Some(m) = r.bench_peak_rss_mb {
            println!("peak RSS of the benchmark process (server + corpus + pipeline): {m:.0} MB");
        }
        if let (Some(secs), Some(m)) = (r.fetch_process_seconds, r.fetch_process_peak_rss_mb) {
            println!(
                "`gomtin fetch` as its own process, same ingest: {secs:.1} s, peak RSS {m:.0} MB"
            );
        }
    }
    Ok(())
}

pub fn measure(
    base: &[Article],
    work: &Path,
    size: usize,
) -> Result<IngestReport, Box<dyn std::error::Error>> {
    let _ = std::fs::remove_dir_all(work);
    std::fs::create_dir_all(work)?;
    let articles = grow(base, size, 42);
    let mut bodies = HashMap::new();
    let mut feed_bytes = 0usize;
    for (i, chunk) in articles.chunks(PER_FEED).enumerate() {
        let body = rss(chunk);
        feed_bytes += body.len();
        bodies.insert(format!("/f/{i}.xml"), (body, format!("\"v1-{i}\"")));
    }
    let feeds = bodies.len();
    let server = FeedServer::start(bodies)?;
    drop(articles);
    // One source per feed, all on one local host: lift the per-host limit to the global one.
    let mut toml = String::from(
        "[storage]\ndata_dir = \"data\"\n[fetch]\nallow_private_networks = true\nconcurrency = 4\nper_host = 4\ntimeout = \"120s\"\nmax_body_bytes = 104857600\n",
    );
    for i in 0..feeds {
        toml.push_str(&format!(
            "\n[[sources]]\nid = \"{}\"\nname = \"F{i}\"\nkind = \"feed\"\nurl = \"http://{}/f/{i}.xml\"\n",
            feed_source_id(i),
            server.addr
        ));
    }
    let cfg_path = work.join("gomtin.toml");
    std::fs::write(&cfg_path, &toml)?;
    // The same ingest by the `gomtin fetch` process, for its own peak memory (the
    // benchmark process also holds the corpus and the feed server). Skipped at large
    // sizes, where it would double the run.
    let child = if size <= 100_000 {
        let child_cfg = work.join("child.toml");
        std::fs::write(
            &child_cfg,
            toml.replacen("data_dir = \"data\"", "data_dir = \"child-data\"", 1),
        )?;
        eprintln!("ingesting {size} items with `gomtin fetch` (its peak RSS)");
        let gomtin = crate::poll::gomtin_binary()?;
        // The child's own lines go to a file: on a failure they are printed (which source,
        // why), and the run is tried once more on a fresh folder, so that one stray
        // failure on a loaded machine shows in the log without ending the benchmark; two
        // in a row end it.
        let log = work.join("child-fetch.log");
        let mut attempt = 0;
        let (secs, peak) = loop {
            attempt += 1;
            let _ = std::fs::remove_dir_all(work.join("child-data"));
            let out = std::fs::File::create(&log)?;
            let (secs, peak, ok) = crate::poll::run_sampled(
                std::process::Command::new(&gomtin)
                    .arg("--config")
                    .arg(&child_cfg)
                    .arg("fetch")
                    .stderr(out.try_clone()?),
                Some(out),
            )?;
            if ok {
                break (secs, peak);
            }
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            eprintln!(
                "`gomtin fetch` failed (attempt {attempt}); its last lines:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
            if attempt == 2 {
                return Err("`gomtin fetch` failed twice during the ingest benchmark".into());
            }
        };
        let _ = std::fs::remove_dir_all(work.join("child-data"));
        Some((secs, peak))
    } else {
        None
    };
    let app = gomtin::app::App::open(gomtin::config::Config::load(&cfg_path)?)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    eprintln!("ingesting {size} items through the pipeline");
    let t = Instant::now();
    let outcomes = rt.block_on(gomtin::pipeline::fetch_pass(&app, &[], |_| {}))?;
    let pipeline = t.elapsed().as_secs_f64();
    let failed = outcomes.iter().filter(|o| o.is_failure()).count();
    if failed > 0 {
        return Err(format!("{failed} feeds failed during the ingest benchmark").into());
    }
    let items = app.store.item_count()? as usize;

    // The limit: the same stored documents, straight into tantivy.
    eprintln!("raw tantivy add_document of the same {items} documents");
    let all = app.store.items_after_seq(0, usize::MAX)?;
    let raw_dir = work.join("raw-index");
    std::fs::create_dir_all(&raw_dir)?;
    let (schema, fields) = build_schema();
    let index = Index::create_in_dir(&raw_dir, schema)?;
    register_analyzers(&index);
    let t = Instant::now();
    // As many indexing threads as the pipeline's index uses (see `App::open`).
    let threads = gomtin::index::SearchIndex::default_writer_threads();
    let mut writer: IndexWriter<TantivyDocument> =
        index.writer_with_num_threads(threads, 64_000_000 * threads)?;
    for item in &all {
        writer.add_document(item_document(fields, item, &[]))?;
    }
    writer.commit()?;
    let raw = t.elapsed().as_secs_f64();
    let mb = feed_bytes as f64 / 1_048_576.0;
    Ok(IngestReport {
        items,
        feeds,
        feed_mb: mb,
        pipeline_seconds: pipeline,
        pipeline_items_per_s: items as f64 / pipeline,
        pipeline_mb_per_s: mb / pipeline,
        raw_tantivy_seconds: raw,
        raw_items_per_s: items as f64 / raw,
        ratio_pipeline_over_raw: pipeline / raw,
        bench_peak_rss_mb: peak_rss_mb(std::process::id()),
        fetch_process_seconds: child.map(|c| c.0),
        fetch_process_peak_rss_mb: child.and_then(|c| c.1),
    })
}
