//! What the `lucene` stage reports — build, latency per class in each setting, matches
//! compared, relevance — as `--json` or as markdown tables like the other stages.

use serde::Serialize;

/// The timed settings, in the order of `ClassRow::pcts`.
pub const SERIES: [&str; 6] = [
    "gomtin",
    "gomtin_lean_est",
    "lucene_full_1t",
    "lucene_full_2t",
    "lucene_1t",
    "lucene_2t",
];
pub const GOMTIN: usize = 0;
pub const GOMTIN_LEAN: usize = 1;
pub const LUCENE_FULL_1T: usize = 2;
pub const LUCENE_FULL_2T: usize = 3;
pub const LUCENE_1T: usize = 4;
pub const LUCENE_2T: usize = 5;

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Pcts {
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

/// One class (or "all") across the settings of `SERIES`.
#[derive(Debug, Serialize)]
pub struct ClassRow {
    pub class: String,
    pub queries: usize,
    pub pcts: Vec<Pcts>,
    /// Sum over the class's queries of each query's own p50.
    pub sum_of_query_p50_ms: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct BuildRow {
    pub engine: String,
    pub what: String,
    pub seconds: f64,
    pub docs_per_s: f64,
    pub index_mb: f64,
}

#[derive(Debug, Serialize)]
pub struct TotalDiff {
    pub class: String,
    pub query: String,
    pub gomtin: usize,
    pub lucene: i64,
}

#[derive(Debug, Serialize)]
pub struct RelRow {
    pub class: String,
    pub queries: usize,
    pub gomtin_p10: f64,
    pub gomtin_mrr: f64,
    pub lucene_p10: f64,
    pub lucene_mrr: f64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub docs: u64,
    pub queries: usize,
    pub warm_runs_per_round: usize,
    pub rounds: usize,
    pub lucene: String,
    pub java: String,
    pub lucene_source: String,
    /// Threads one gomtin search uses at this size (the same in every setting).
    pub gomtin_search_threads: usize,
    /// Slices Lucene's 2-thread searcher cuts the index into (1: no parallelism).
    pub lucene_slices_2t: u64,
    pub series: Vec<&'static str>,
    pub build: Vec<BuildRow>,
    pub latency: Vec<ClassRow>,
    pub totals_equal: usize,
    pub totals_differ: Vec<TotalDiff>,
    /// Of the queries with equal totals, those whose per-source counts are equal too.
    pub facets_equal: usize,
    /// Lucene's totals equal between its four settings for every query.
    pub lucene_totals_consistent: bool,
    pub relevance: Vec<RelRow>,
}

fn threads(n: usize) -> String {
    if n == 1 {
        "1 thread".into()
    } else {
        format!("{n} threads")
    }
}

fn cells(p: &Pcts) -> String {
    format!(
        "{:.2} ms | {:.2} ms | {:.2} ms",
        p.p50_ms, p.p95_ms, p.p99_ms
    )
}

fn latency_table(r: &Report, a: usize, b: usize, c: usize, a_name: &str) {
    println!(
        "| class | queries | {a_name} p50 | p95 | p99 | Lucene 1 thread p50 | p95 | p99 | Lucene 2 threads p50 | p95 | p99 | p50 Lucene 1t / gomtin |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for row in &r.latency {
        let ratio = row.pcts[b].p50_ms / row.pcts[a].p50_ms.max(1e-9);
        println!(
            "| {} | {} | {} | {} | {} | {ratio:.2}× |",
            row.class,
            row.queries,
            cells(&row.pcts[a]),
            cells(&row.pcts[b]),
            cells(&row.pcts[c])
        );
    }
    if let Some(all) = r.latency.iter().find(|x| x.class == "all") {
        println!(
            "\nsum of the {} queries' own p50: {a_name} {:.1} ms, Lucene 1 thread {:.1} ms, Lucene 2 threads {:.1} ms",
            all.queries,
            all.sum_of_query_p50_ms[a],
            all.sum_of_query_p50_ms[b],
            all.sum_of_query_p50_ms[c]
        );
    }
}

pub fn print(r: &Report) {
    println!(
        "\n## Lucene beside gomtin ({} documents, {} queries × {} warm runs × {} rounds, alternating)\n",
        r.docs, r.queries, r.warm_runs_per_round, r.rounds
    );
    println!(
        "Lucene {} on Java {} (`LUCENE_SOURCE={}`); a gomtin search uses {} at this size; \
         Lucene's 2-thread searcher cuts the index into {} slices.\n",
        r.lucene,
        r.java,
        r.lucene_source,
        threads(r.gomtin_search_threads),
        r.lucene_slices_2t
    );
    println!("| engine | what is timed | seconds | docs/s | index size |");
    println!("|---|---|---|---|---|");
    for b in &r.build {
        println!(
            "| {} | {} | {:.1} | {:.0} | {:.1} MB |",
            b.engine, b.what, b.seconds, b.docs_per_s, b.index_mb
        );
    }
    println!("\n### Equal work: top 10 + exact count + per-source counts + a snippet per hit\n");
    latency_table(r, GOMTIN, LUCENE_FULL_1T, LUCENE_FULL_2T, "gomtin");
    println!(
        "\n### Lean: top 10 + exact count + url/title (gomtin estimated: its snippet step timed apart and taken off; its facets cannot be skipped yet)\n"
    );
    latency_table(r, GOMTIN_LEAN, LUCENE_1T, LUCENE_2T, "gomtin est.");
    println!(
        "\nTotals equal for {} of {} queries (per-source counts equal for {} of those); Lucene's totals {} across its four settings.",
        r.totals_equal,
        r.queries,
        r.facets_equal,
        if r.lucene_totals_consistent {
            "agree"
        } else {
            "DISAGREE"
        }
    );
    if !r.totals_differ.is_empty() {
        println!("\n| class | query | gomtin total | Lucene total |");
        println!("|---|---|---|---|");
        for d in &r.totals_differ {
            println!(
                "| {} | `{}` | {} | {} |",
                d.class, d.query, d.gomtin, d.lucene
            );
        }
    }
    println!("\n### Relevance on the judged queries without the filter class\n");
    println!("| class | queries | gomtin P@10 | gomtin MRR | Lucene P@10 | Lucene MRR |");
    println!("|---|---|---|---|---|---|");
    for x in &r.relevance {
        println!(
            "| {} | {} | {:.3} | {:.3} | {:.3} | {:.3} |",
            x.class, x.queries, x.gomtin_p10, x.gomtin_mrr, x.lucene_p10, x.lucene_mrr
        );
    }
}
