//! What the `lucene` stage reports — build, latency per class in each setting, matches
//! compared, relevance — as `--json` or as markdown tables like the other stages.

use serde::Serialize;

/// The timed settings, in the order of `ClassRow::pcts`: gomtin through `App::search`
/// with snippets and facets ("full") or without ("lean"), held to the calling thread
/// ("1t") or as it runs ("2t": split over the cores from 100,000 documents); Lucene with
/// snippets + per-source counts or without, on 1 thread or with an executor of 2.
pub const SERIES: [&str; 8] = [
    "gomtin_full_1t",
    "gomtin_full_2t",
    "gomtin_lean_1t",
    "gomtin_lean_2t",
    "lucene_full_1t",
    "lucene_full_2t",
    "lucene_1t",
    "lucene_2t",
];
pub const GOMTIN_FULL_1T: usize = 0;
pub const GOMTIN_FULL_2T: usize = 1;
pub const GOMTIN_LEAN_1T: usize = 2;
pub const GOMTIN_LEAN_2T: usize = 3;
pub const LUCENE_FULL_1T: usize = 4;
pub const LUCENE_FULL_2T: usize = 5;
pub const LUCENE_1T: usize = 6;
pub const LUCENE_2T: usize = 7;

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
    /// Threads one gomtin search uses at this size as it runs (the "2t" settings).
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
    /// Each query's own p50 and maximum in each setting of `SERIES`.
    pub per_query: Vec<QueryRow>,
}

#[derive(Debug, Serialize)]
pub struct QueryRow {
    pub class: String,
    pub query: String,
    pub p50_ms: Vec<f64>,
    pub max_ms: Vec<f64>,
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

/// gomtin's setting `g` against Lucene's `l`, per class: both engines' p50/p95/p99, the
/// ratios Lucene / gomtin, and whether gomtin's p50 and p99 are at or below Lucene's.
fn latency_table(r: &Report, g: usize, l: usize, title: &str) {
    println!("\n{title}\n");
    println!(
        "| class | queries | gomtin p50 | p95 | p99 | Lucene p50 | p95 | p99 | Lucene / gomtin p50 | p99 | gomtin at or below |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for row in &r.latency {
        let (a, b) = (&row.pcts[g], &row.pcts[l]);
        let verdict = match (a.p50_ms <= b.p50_ms, a.p99_ms <= b.p99_ms) {
            (true, true) => "p50 and p99",
            (true, false) => "p50 only",
            (false, true) => "p99 only",
            (false, false) => "neither",
        };
        println!(
            "| {} | {} | {} | {} | {:.2}× | {:.2}× | {verdict} |",
            row.class,
            row.queries,
            cells(a),
            cells(b),
            b.p50_ms / a.p50_ms.max(1e-9),
            b.p99_ms / a.p99_ms.max(1e-9),
        );
    }
    if let Some(all) = r.latency.iter().find(|x| x.class == "all") {
        println!(
            "\nsum of the {} queries' own p50: gomtin {:.1} ms, Lucene {:.1} ms",
            all.queries, all.sum_of_query_p50_ms[g], all.sum_of_query_p50_ms[l]
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
    let two = threads(r.gomtin_search_threads.max(1));
    for (g, l, what) in [
        (
            GOMTIN_FULL_1T,
            LUCENE_FULL_1T,
            "Equal work, 1 thread each".to_string(),
        ),
        (
            GOMTIN_FULL_2T,
            LUCENE_FULL_2T,
            format!("Equal work, gomtin as it runs ({two}) and Lucene with 2 threads"),
        ),
        (GOMTIN_LEAN_1T, LUCENE_1T, "Lean, 1 thread each".to_string()),
        (
            GOMTIN_LEAN_2T,
            LUCENE_2T,
            format!("Lean, gomtin as it runs ({two}) and Lucene with 2 threads"),
        ),
    ] {
        let body = if g == GOMTIN_FULL_1T || g == GOMTIN_FULL_2T {
            "top 10 + exact count + per-source counts + a snippet per hit"
        } else {
            "top 10 + exact count + url/title"
        };
        latency_table(r, g, l, &format!("### {what}: {body}"));
    }
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
    println!(
        "\n### The slowest queries (gomtin as it runs, equal work; each query's own p50 and maximum)\n"
    );
    println!(
        "| class | query | gomtin 1t p50 | max | gomtin p50 | max | lean 1t p50 | max | Lucene full 1t p50 | max | Lucene 1t p50 | max |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut rows: Vec<&QueryRow> = r.per_query.iter().collect();
    rows.sort_by(|a, b| b.p50_ms[GOMTIN_FULL_2T].total_cmp(&a.p50_ms[GOMTIN_FULL_2T]));
    for q in rows.into_iter().take(10) {
        let mut line = format!("| {} | `{}` |", q.class, q.query);
        for s in [
            GOMTIN_FULL_1T,
            GOMTIN_FULL_2T,
            GOMTIN_LEAN_1T,
            LUCENE_FULL_1T,
            LUCENE_1T,
        ] {
            line.push_str(&format!(" {:.2} | {:.2} |", q.p50_ms[s], q.max_ms[s]));
        }
        println!("{line}");
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
