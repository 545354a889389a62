//! `gomtin-bench`: the benchmarks and the relevance check, run side by side in one process
//! so that figures are ratios measured on the same machine at the same time.
//!
//! ```text
//! cargo run --release --bin gomtin-bench -- relevance          # P@10 / MRR vs FTS5
//! cargo run --release --bin gomtin-bench -- tone               # tone P/R vs the judged set
//! cargo run --release --bin gomtin-bench -- all --size 1000000 # everything at 1M items
//! cargo run --bin gomtin-bench -- all --quick                  # 35k, what CI runs
//! cargo run --release --bin gomtin-bench -- lucene             # beside Lucene (Java)
//! ```

// Shared with the tests (tests/support/): each side uses its own part of them.
#[allow(dead_code)]
#[path = "../../tests/support/corpus.rs"]
mod corpus;
#[allow(dead_code)]
#[path = "../../tests/support/daemon.rs"]
mod daemon;
mod fts;
mod ingest;
mod latency;
mod lucene;
mod memory;
mod poll;
mod relevance;
mod server;
mod tone;
#[allow(dead_code)]
#[path = "../../tests/support/tone_eval.rs"]
mod tone_eval;
mod web;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "gomtin-bench", about = "gomtin benchmarks and relevance check")]
struct Args {
    /// Corpus file (default: ../shared/data/corpus/baomoi-35k.jsonl.gz)
    #[arg(long, global = true)]
    corpus: Option<PathBuf>,
    /// Working folder (default: a temporary folder)
    #[arg(long, global = true)]
    work: Option<PathBuf>,
    /// Print JSON instead of tables
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Precision@10 and MRR of the judged queries, gomtin vs FTS5; the held-out queries apart
    Relevance {
        /// Judged queries (default: tests/relevance/queries.tsv of this checkout)
        #[arg(long)]
        judgments: Option<PathBuf>,
        /// Held-out judged queries, reported apart (default: tests/relevance/heldout.tsv)
        #[arg(long)]
        heldout: Option<PathBuf>,
    },
    /// Tone precision/recall and confusion against the hand-judged set
    Tone {
        /// Judged set (default: tests/tone/judged.tsv of this checkout)
        #[arg(long)]
        judged: Option<PathBuf>,
        /// Score with this lexicon file instead of the built-in config/tone.txt
        #[arg(long)]
        lexicon: Option<PathBuf>,
        /// List every row the scorer got wrong, with the phrases it saw
        #[arg(long)]
        misses: bool,
    },
    /// End-to-end ingest over local HTTP vs raw tantivy
    Ingest {
        #[arg(long, default_value_t = 35_440)]
        size: usize,
    },
    /// Search latency per query class, cold and warm, vs FTS5
    Search {
        #[arg(long, default_value_t = 35_440)]
        size: usize,
        /// Warm rounds over the query set
        #[arg(long, default_value_t = 20)]
        reps: usize,
        /// Also print each query's warm p50/max and hit count (slowest first)
        #[arg(long)]
        per_query: bool,
    },
    /// A poll cycle over 1,000 sources: first pass and a 304 pass
    Poll {
        #[arg(long, default_value_t = 1_000)]
        sources: usize,
    },
    /// /api/search under 16 concurrent connections against `gomtin serve` on a data folder
    Web {
        /// Data folder with an index (e.g. WORK/ingest/data from `ingest`)
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// `[server.limits] search_cache` of the served config (default: the app's
        /// default; 0: every request searches)
        #[arg(long)]
        search_cache: Option<usize>,
    },
    /// gomtin beside Lucene (benches/lucene, Java): latency, matches, relevance, build
    Lucene {
        #[arg(long, default_value_t = 35_440)]
        size: usize,
        /// Warm rounds over the query set per engine and setting, in each round
        #[arg(long, default_value_t = 20)]
        reps: usize,
        /// Times gomtin and Lucene alternate
        #[arg(long, default_value_t = 2)]
        rounds: usize,
        /// Lucene build (LUCENE_SOURCE of benches/lucene/run.sh); default: pypi-lucene10,
        /// then debian
        #[arg(long)]
        lucene_source: Option<String>,
        /// Search again on the indexes a run of the same size left (`built.json`)
        #[arg(long)]
        reuse: bool,
    },
    /// Everything, in order
    All {
        #[arg(long, default_value_t = 35_440)]
        size: usize,
        /// 35k items, fewer repetitions: keeps the benchmark from rotting in CI
        #[arg(long)]
        quick: bool,
    },
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    // gomtin's own logs (English) when asked for, e.g. GOMTIN_LOG=gomtin=info.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GOMTIN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let corpus_path = args.corpus.clone().unwrap_or_else(corpus::default_corpus);
    let tmp = tempfile::tempdir()?;
    let work = args
        .work
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&work)?;
    eprintln!("loading corpus {}", corpus_path.display());
    let base = corpus::load(&corpus_path, None)?;
    eprintln!("{} articles", base.len());
    match args.command {
        Cmd::Relevance { judgments, heldout } => {
            let judgments = judgments.unwrap_or_else(default_judgments);
            let heldout = heldout.unwrap_or_else(default_heldout);
            run_relevance(&base, &work, &judgments, &heldout, args.json)?
        }
        Cmd::Tone {
            judged,
            lexicon,
            misses,
        } => tone::run(
            &base,
            &judged.unwrap_or_else(tone_eval::default_judged),
            lexicon.as_deref(),
            misses,
            args.json,
        )?,
        Cmd::Ingest { size } => ingest::run(&base, &work, size, args.json)?,
        Cmd::Search {
            size,
            reps,
            per_query,
        } => latency::run(&base, &work, size, reps, per_query, args.json)?,
        Cmd::Poll { sources } => poll::run(&work, sources, args.json)?,
        Cmd::Web {
            data,
            seconds,
            search_cache,
        } => web::run(&data, &work, seconds, search_cache, args.json)?,
        Cmd::Lucene {
            size,
            reps,
            rounds,
            lucene_source,
            reuse,
        } => {
            let mut opts = lucene::Options::new(size, false);
            opts.reuse = reuse;
            opts.reps = reps;
            opts.rounds = rounds;
            if let Some(s) = lucene_source {
                opts.sources = vec![s];
            }
            lucene::run(&base, &work.join("lucene"), &opts, args.json)?
        }
        Cmd::All { size, quick } => {
            let size = if quick { base.len() } else { size };
            run_relevance(
                &base,
                &work.join("relevance"),
                &default_judgments(),
                &default_heldout(),
                args.json,
            )?;
            tone::run(&base, &tone_eval::default_judged(), None, false, args.json)?;
            ingest::run(&base, &work.join("ingest"), size, args.json)?;
            // Latency and memory on the index the ingest just built.
            // Every query is repeated `reps` times. At a million items most of this stage
            // is FTS5's time (~0.15 s a query): 10 rounds (600 samples per engine, at least
            // 30 per class) keep the whole run within 15 minutes.
            let reps = if size >= 500_000 {
                10
            } else if quick {
                20
            } else {
                100
            };
            latency::run(&base, &work.join("ingest"), size, reps, false, args.json)?;
            memory::run(&work.join("ingest/data"), &work.join("memory"), args.json)?;
            let secs = if quick { 5 } else { 30 };
            web::run(
                &work.join("ingest/data"),
                &work.join("web"),
                secs,
                None,
                args.json,
            )?;
            poll::run(&work.join("poll"), 1_000, args.json)?;
            // Beside Lucene when Java and a Lucene build are on the machine (nothing is
            // installed here); otherwise one "skipped" line. Never fails the run.
            lucene::run_in_all(&base, &work.join("lucene"), size, quick, args.json);
        }
    }
    Ok(())
}

fn default_judgments() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/relevance/queries.tsv")
}

fn default_heldout() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/relevance/heldout.tsv")
}

/// The JSON of `relevance`: the tuned set's report as before, the held-out one beside it.
#[derive(serde::Serialize)]
struct RelevanceOutput<'a> {
    #[serde(flatten)]
    judged: &'a relevance::Report,
    heldout: &'a relevance::Report,
}

fn run_relevance(
    base: &[corpus::Article],
    work: &std::path::Path,
    judgments: &std::path::Path,
    heldout: &std::path::Path,
    json: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(work)?;
    let judged = relevance::load_judgments(judgments)?;
    let held = relevance::load_judgments(heldout)?;
    eprintln!("indexing {} articles for the relevance check", base.len());
    let app = corpus::open_app(work, 4, "")?;
    corpus::ingest_direct(&app, base, 4)?;
    let sources: Vec<String> = base.iter().map(|a| a.source(4)).collect();
    let fts = fts::Fts::build(&work.join("fts5.sqlite"), base, &sources)?;
    let articles: std::collections::HashMap<&str, &corpus::Article> =
        base.iter().map(|a| (a.id.as_str(), a)).collect();
    let report = relevance::evaluate(&app, &fts, &judged, &articles);
    let held_report = relevance::evaluate(&app, &fts, &held, &articles);
    if json {
        let out = RelevanceOutput {
            judged: &report,
            heldout: &held_report,
        };
        println!("{}", serde_json::to_string(&out)?);
    } else {
        println!(
            "\n## Relevance ({} judged queries, {} articles)\n",
            judged.len(),
            base.len()
        );
        relevance::print(&report);
        println!(
            "\n## Held-out ({} judged queries kept out of tuning, reported apart)\n",
            held.len()
        );
        relevance::print(&held_report);
    }
    Ok(())
}
