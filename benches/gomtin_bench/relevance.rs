//! The relevance check: run every judged query of `tests/relevance/queries.tsv` against an
//! index of the 35k-article corpus and report precision@10 and MRR per query class, with
//! the same figures for SQLite FTS5 beside it. Judgments were written before tuning.

use std::collections::BTreeMap;
use std::path::Path;

use gomtin::app::App;
use gomtin::search::SearchRequest;
use serde::Serialize;

use crate::corpus::id_from_url;
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
}

pub fn evaluate(app: &App, fts: &Fts, judgments: &[Judgment]) -> Report {
    let mut per_class: BTreeMap<String, Vec<(Scores, Scores)>> = BTreeMap::new();
    let mut per_query = Vec::new();
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
    Report { rows, per_query }
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
}
