//! The relevance check: run every judged query of `tests/relevance/queries.tsv` against an
//! index of the 35k-article corpus and report precision@10, recall@10 and MRR per query
//! class, with the same figures for SQLite FTS5 beside it. Judgments were written before
//! tuning. The held-out queries of `tests/relevance/heldout.tsv` (judged without running
//! gomtin, never used to tune it) run on the same index and are reported apart.
//!
//! Beside the judged figures, each query typed with diacritics is checked for the rule
//! "exact-diacritic matches rank first": in gomtin's top 10, no hit that has one of the
//! query's marked words only in another form (folded: `báo` for `bão`) ranks above a hit
//! that has all of them exactly.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use gomtin::app::App;
use gomtin::search::SearchRequest;
use gomtin::vietnamese::{exact_form, has_diacritics, tokenize};
use serde::Serialize;

use crate::corpus::{Article, id_from_url};
use crate::fts::Fts;

#[derive(Debug, Clone)]
pub struct Judgment {
    pub qid: String,
    pub query: String,
    pub class: String,
    pub relevant: Vec<String>,
}

pub fn load_judgments(path: &Path) -> std::io::Result<Vec<Judgment>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Some(Judgment {
                qid: cols.first()?.to_string(),
                query: cols.get(1)?.to_string(),
                class: cols.get(2)?.to_string(),
                relevant: cols
                    .get(3)?
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
            })
        })
        .collect())
}

/// Scores of one engine on one query.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Scores {
    /// Relevant hits in the top 10, divided by 10.
    pub p10: f64,
    /// Relevant hits in the top 10, divided by min(10, judged relevant).
    pub recall10: f64,
    /// 1 / rank of the first relevant hit (0 when none in the top 10).
    pub rr: f64,
}

pub fn score(top: &[String], relevant: &[String]) -> Scores {
    let top10 = &top[..top.len().min(10)];
    let hits = top10.iter().filter(|id| relevant.contains(id)).count() as f64;
    let rr = top10
        .iter()
        .position(|id| relevant.contains(id))
        .map(|p| 1.0 / (p as f64 + 1.0))
        .unwrap_or(0.0);
    Scores {
        p10: hits / 10.0,
        recall10: hits / (relevant.len().clamp(1, 10) as f64),
        rr,
    }
}

#[derive(Debug, Default, Serialize)]
pub struct Row {
    pub class: String,
    pub queries: usize,
    pub gomtin_p10: f64,
    pub gomtin_recall10: f64,
    pub gomtin_mrr: f64,
    pub fts5_p10: f64,
    pub fts5_recall10: f64,
    pub fts5_mrr: f64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub rows: Vec<Row>,
    pub per_query: Vec<(String, String, Scores, Scores)>,
    /// Queries typed with diacritics whose top 10 was checked for exact-first order.
    pub exact_first_checked: usize,
    /// Those whose first hit has a marked word only in another form.
    pub exact_first_top_misses: Vec<String>,
    /// (exact, folded-only) pairs of hits in their top 10s, and the share of them in
    /// which the exact hit ranks higher (1.0 when there is no such pair).
    pub exact_first_pairs: usize,
    pub exact_first_share: f64,
    /// Each pair in the wrong order: "qid: #i (id, folded only) above #k (id, exact)".
    pub exact_first_breaks: Vec<String>,
}

/// The marked words of `query` (typed with diacritics) in their exact form; filters
/// (`source:` …) and the exclusions at the end are left out.
pub fn marked_words(query: &str) -> Vec<String> {
    let mut out = Vec::new();
    for tok in query.split_whitespace() {
        if tok.starts_with('-') {
            break;
        }
        if tok.contains(':') {
            continue;
        }
        for w in tokenize(tok) {
            if has_diacritics(&w.text) {
                out.push(exact_form(&w.text));
            }
        }
    }
    out
}

/// True when every word of `words` is in `a` in its exact form.
fn has_exactly(a: &Article, words: &[String]) -> bool {
    let text = format!("{} {} {}", a.title, a.summary, a.body);
    let forms: HashSet<String> = tokenize(&text)
        .iter()
        .map(|t| exact_form(&t.text))
        .collect();
    words.iter().all(|w| forms.contains(w))
}

/// How `top` (ids, best first) keeps "exact-diacritic matches rank first" for `j`.
#[derive(Debug, Default)]
struct ExactOrder {
    /// The first hit has every marked word exactly.
    top_exact: bool,
    /// Pairs of hits in the top 10 where one is exact and the other folded only.
    pairs: usize,
    /// Of those, the pairs where the exact hit ranks higher.
    ordered: usize,
    /// The others, described.
    breaks: Vec<String>,
}

fn exact_order(j: &Judgment, top: &[String], articles: &HashMap<&str, &Article>) -> ExactOrder {
    let words = marked_words(&j.query);
    let hits: Vec<(usize, &String, bool)> = top
        .iter()
        .take(10)
        .enumerate()
        .filter_map(|(i, id)| {
            articles
                .get(id.as_str())
                .map(|a| (i, id, has_exactly(a, &words)))
        })
        .collect();
    let mut out = ExactOrder {
        top_exact: hits.first().is_some_and(|h| h.2),
        ..Default::default()
    };
    for (n, (i, id, exact)) in hits.iter().enumerate() {
        for (k, other, other_exact) in &hits[n + 1..] {
            if exact == other_exact {
                continue;
            }
            out.pairs += 1;
            if *exact {
                out.ordered += 1;
            } else {
                out.breaks.push(format!(
                    "{}: #{} ({id}, folded only) above #{} ({other}, exact)",
                    j.qid,
                    i + 1,
                    k + 1
                ));
            }
        }
    }
    out
}

pub fn evaluate(
    app: &App,
    fts: &Fts,
    judgments: &[Judgment],
    articles: &HashMap<&str, &Article>,
) -> Report {
    let mut per_class: BTreeMap<String, Vec<(Scores, Scores)>> = BTreeMap::new();
    let mut per_query = Vec::new();
    let mut exact_first_checked = 0;
    let mut exact_first_top_misses = Vec::new();
    let (mut pairs, mut ordered) = (0, 0);
    let mut exact_first_breaks = Vec::new();
    for j in judgments {
        let ours: Vec<String> = app
            .search(&SearchRequest::new(j.query.clone(), 10))
            .map(|r| {
                r.hits
                    .iter()
                    .filter_map(|h| h.url.as_deref().and_then(id_from_url))
                    .collect()
            })
            .unwrap_or_default();
        if !marked_words(&j.query).is_empty() {
            exact_first_checked += 1;
            let order = exact_order(j, &ours, articles);
            if !order.top_exact {
                exact_first_top_misses.push(format!("{} {}", j.qid, j.query));
            }
            pairs += order.pairs;
            ordered += order.ordered;
            exact_first_breaks.extend(order.breaks);
        }
        let theirs = fts.search(&j.query, 10).unwrap_or_default();
        let (a, b) = (score(&ours, &j.relevant), score(&theirs, &j.relevant));
        per_class.entry(j.class.clone()).or_default().push((a, b));
        per_class.entry("all".into()).or_default().push((a, b));
        per_query.push((j.qid.clone(), j.query.clone(), a, b));
    }
    let rows = per_class
        .into_iter()
        .map(|(class, v)| {
            let n = v.len() as f64;
            let avg = |f: &dyn Fn(&(Scores, Scores)) -> f64| v.iter().map(f).sum::<f64>() / n;
            Row {
                class,
                queries: v.len(),
                gomtin_p10: avg(&|s| s.0.p10),
                gomtin_recall10: avg(&|s| s.0.recall10),
                gomtin_mrr: avg(&|s| s.0.rr),
                fts5_p10: avg(&|s| s.1.p10),
                fts5_recall10: avg(&|s| s.1.recall10),
                fts5_mrr: avg(&|s| s.1.rr),
            }
        })
        .collect();
    Report {
        rows,
        per_query,
        exact_first_checked,
        exact_first_top_misses,
        exact_first_pairs: pairs,
        exact_first_share: if pairs == 0 {
            1.0
        } else {
            ordered as f64 / pairs as f64
        },
        exact_first_breaks,
    }
}

pub fn print(report: &Report) {
    println!(
        "| class | queries | gomtin P@10 | gomtin R@10 | gomtin MRR | FTS5 P@10 | FTS5 R@10 | FTS5 MRR |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in &report.rows {
        println!(
            "| {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
            r.class,
            r.queries,
            r.gomtin_p10,
            r.gomtin_recall10,
            r.gomtin_mrr,
            r.fts5_p10,
            r.fts5_recall10,
            r.fts5_mrr
        );
    }
    println!(
        "\nExact-diacritic matches first ({} queries typed with diacritics): first hit exact in {} of them; \
         {} (exact, folded-only) pairs in the top 10s, {:.3} of them in exact-first order",
        report.exact_first_checked,
        report.exact_first_checked - report.exact_first_top_misses.len(),
        report.exact_first_pairs,
        report.exact_first_share,
    );
    for m in &report.exact_first_top_misses {
        println!("- first hit folded only: {m}");
    }
    for b in &report.exact_first_breaks {
        println!("- {b}");
    }
}
