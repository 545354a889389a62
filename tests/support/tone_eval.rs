//! The tone scorer against the hand-judged set `tests/tone/judged.tsv` (see the README
//! beside it): each judged article's title, summary and body go through normalize as an
//! ingested item would, then `ToneModel::judge`; the figures are precision and recall of
//! `positive` and of `negative` and the 3×3 confusion table (judge × scorer), on every row
//! and on subsets — stratum 1 (the uniform random draw), stratum 1 with the top-up, and a
//! fixed split by id (even ids were used to tune the lexicon, odd ids were not).
//!
//! Shared by the floor test (`tests/tone_floor.rs`) and `gomtin-bench tone`, which includes
//! this file with `#[path]`: it names nothing of `support`, only the `gomtin` library.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use gomtin::model::{RawEntry, Tone, ToneVerdict};
use gomtin::tone::ToneModel;

/// Which draw of the README's sampling a row comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stratum {
    /// Stratum 1: uniform random.
    Random,
    /// The category top-up (`[topup]`).
    TopUp,
    /// Stratum 2: good-word titles (`[stratum2]`).
    GoodWords,
}

/// One judged row.
#[derive(Debug, Clone)]
pub struct Judged {
    pub id: String,
    pub category: String,
    pub label: Tone,
    pub title: String,
    pub stratum: Stratum,
}

/// `tests/tone/judged.tsv` of this checkout.
pub fn default_judged() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tone/judged.tsv")
}

/// Read the judged file (tab-separated, header first, no quote processing).
pub fn load_judged(path: &Path) -> std::io::Result<Vec<Judged>> {
    let text = std::fs::read_to_string(path)?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let bad = |what: &str| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} line {}: {what}", path.display(), n + 1),
            )
        };
        if cols.len() < 6 {
            return Err(bad("fewer than 6 columns"));
        }
        let label = Tone::parse(cols[2]).ok_or_else(|| bad("unknown label"))?;
        let stratum = if cols[5].starts_with("[stratum2]") {
            Stratum::GoodWords
        } else if cols[5].starts_with("[topup]") {
            Stratum::TopUp
        } else {
            Stratum::Random
        };
        out.push(Judged {
            id: cols[0].to_string(),
            category: cols[1].to_string(),
            label,
            title: cols[3].to_string(),
            stratum,
        });
    }
    Ok(out)
}

/// What the scorer reads of an article: title, summary (sapo), body.
#[derive(Debug, Clone)]
pub struct Texts {
    pub title: String,
    pub summary: String,
    pub body: String,
}

/// The verdict on one article, read as gomtin ingests it (normalize, then the scorer).
pub fn judge(model: &ToneModel, t: &Texts) -> ToneVerdict {
    let raw = RawEntry {
        guid: Some("judged".into()),
        title: Some(html_escape::encode_text(&t.title).into_owned()),
        link: Some("https://baomoi.com/judged".into()),
        summary_html: Some(html_escape::encode_text(&t.summary).into_owned()),
        content_html: Some(html_escape::encode_text(&t.body).into_owned()),
        ..Default::default()
    };
    match gomtin::normalize::normalize_entry("judged", raw, None, chrono::Utc::now()) {
        Some(item) => model.judge(&item.title, &item.summary, &item.content_text),
        None => ToneVerdict::neutral(),
    }
}

/// Precision, recall and confusion of one subset.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Figures {
    pub rows: usize,
    /// `confusion[judge][scorer]`, in the order positive, neutral, negative.
    pub confusion: [[usize; 3]; 3],
    pub positive_precision: f64,
    pub positive_recall: f64,
    pub negative_precision: f64,
    pub negative_recall: f64,
}

fn slot(t: Tone) -> usize {
    match t {
        Tone::Positive => 0,
        Tone::Neutral => 1,
        Tone::Negative => 2,
    }
}

impl Figures {
    fn of(pairs: &[(Tone, Tone)]) -> Figures {
        let mut f = Figures {
            rows: pairs.len(),
            ..Default::default()
        };
        for (gold, got) in pairs {
            f.confusion[slot(*gold)][slot(*got)] += 1;
        }
        let c = &f.confusion;
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let predicted = |k: usize| c.iter().map(|row| row[k]).sum::<usize>();
        let judged = |k: usize| c[k].iter().sum::<usize>();
        f.positive_precision = ratio(c[0][0], predicted(0));
        f.positive_recall = ratio(c[0][0], judged(0));
        f.negative_precision = ratio(c[2][2], predicted(2));
        f.negative_recall = ratio(c[2][2], judged(2));
        f
    }
}

/// One row the scorer got wrong.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Miss {
    pub id: String,
    pub category: String,
    pub judged: Tone,
    pub scored: Tone,
    pub title: String,
    pub reasons: String,
}

/// The figures on every subset, and the misses.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub all: Figures,
    pub stratum1: Figures,
    pub stratum1_topup: Figures,
    /// Even ids: the rows the lexicon was tuned on.
    pub tuned: Figures,
    /// Odd ids: rows not looked at while tuning.
    pub held_out: Figures,
    pub per_category: Vec<(String, Figures)>,
    pub misses: Vec<Miss>,
}

/// Score every judged row (`texts` by id; a row without text is an error).
pub fn evaluate(
    model: &ToneModel,
    rows: &[Judged],
    texts: &HashMap<String, Texts>,
) -> Result<Report, String> {
    let mut scored: Vec<(&Judged, ToneVerdict)> = Vec::with_capacity(rows.len());
    for r in rows {
        let t = texts
            .get(&r.id)
            .ok_or_else(|| format!("judged article {} is not in the corpus", r.id))?;
        scored.push((r, judge(model, t)));
    }
    let figures = |keep: &dyn Fn(&Judged) -> bool| {
        let pairs: Vec<(Tone, Tone)> = scored
            .iter()
            .filter(|(r, _)| keep(r))
            .map(|(r, v)| (r.label, v.label))
            .collect();
        Figures::of(&pairs)
    };
    let even = |r: &Judged| r.id.parse::<u64>().is_ok_and(|n| n % 2 == 0);
    let mut categories: Vec<String> = rows.iter().map(|r| r.category.clone()).collect();
    categories.sort();
    categories.dedup();
    Ok(Report {
        all: figures(&|_| true),
        stratum1: figures(&|r| r.stratum == Stratum::Random),
        stratum1_topup: figures(&|r| r.stratum != Stratum::GoodWords),
        tuned: figures(&|r| even(r)),
        held_out: figures(&|r| !even(r)),
        per_category: categories
            .iter()
            .map(|c| (c.clone(), figures(&|r| &r.category == c)))
            .collect(),
        misses: scored
            .iter()
            .filter(|(r, v)| r.label != v.label)
            .map(|(r, v)| Miss {
                id: r.id.clone(),
                category: r.category.clone(),
                judged: r.label,
                scored: v.label,
                title: r.title.clone(),
                reasons: v.reasons_line(),
            })
            .collect(),
    })
}
