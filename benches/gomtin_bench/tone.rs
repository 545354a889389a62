//! `gomtin-bench tone`: the tone scorer against the hand-judged set
//! (`tests/tone/judged.tsv`): precision and recall of `positive` and `negative` and the
//! confusion table (judge × scorer) on every row, on stratum 1 (the uniform random draw,
//! with and without the category top-up), and on the fixed split by id the lexicon was
//! tuned on (even ids) and held out from (odd ids); per category; `--misses` lists every
//! row the scorer got wrong with the phrases it saw. `--lexicon FILE` scores with that
//! file instead of the built-in `config/tone.txt` (to try a change without rebuilding).

use std::collections::HashMap;
use std::path::Path;

use gomtin::tone::ToneModel;

use crate::corpus::Article;
use crate::tone_eval::{Figures, Report, Texts, evaluate, load_judged};

pub fn run(
    base: &[Article],
    judged: &Path,
    lexicon: Option<&Path>,
    misses: bool,
    json: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let rows = load_judged(judged)?;
    let texts: HashMap<String, Texts> = base
        .iter()
        .map(|a| {
            (
                a.id.clone(),
                Texts {
                    title: a.title.clone(),
                    summary: a.summary.clone(),
                    body: a.body.clone(),
                },
            )
        })
        .collect();
    let model = match lexicon {
        Some(p) => ToneModel::from_text(&std::fs::read_to_string(p)?)
            .map_err(|e| format!("{}: {e}", p.display()))?,
        None => ToneModel::builtin(),
    };
    let report = evaluate(&model, &rows, &texts)?;
    // What scoring costs at ingest: every article of the corpus, title, lead and body
    // (already plain text; normalize is not timed).
    let clock = std::time::Instant::now();
    let mut positive = 0usize;
    for a in base {
        if model.judge(&a.title, &a.summary, &a.body).label == gomtin::model::Tone::Positive {
            positive += 1;
        }
    }
    let secs = clock.elapsed().as_secs_f64();
    let per_item_us = secs * 1e6 / base.len().max(1) as f64;
    if json {
        let mut v = serde_json::to_value(&report)?;
        v["scoring"] = serde_json::json!({
            "articles": base.len(),
            "seconds": secs,
            "per_item_us": per_item_us,
            "positive": positive,
        });
        println!("{v}");
        return Ok(());
    }
    print(&report, rows.len(), misses);
    println!(
        "\nScoring cost: {} corpus articles in {:.2} s ({per_item_us:.0} µs an article, one core); {positive} positive.",
        base.len(),
        secs
    );
    Ok(())
}

fn line(name: &str, f: &Figures) {
    let c = &f.confusion;
    println!(
        "| {name} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {} {} {} / {} {} {} / {} {} {} |",
        f.rows,
        f.positive_precision,
        f.positive_recall,
        f.negative_precision,
        f.negative_recall,
        c[0][0],
        c[0][1],
        c[0][2],
        c[1][0],
        c[1][1],
        c[1][2],
        c[2][0],
        c[2][1],
        c[2][2],
    );
}

fn print(r: &Report, rows: usize, misses: bool) {
    println!("\n## Tone ({rows} judged articles)\n");
    println!(
        "| rows | n | positive P | positive R | negative P | negative R | confusion (judge pos / neu / neg → scorer pos neu neg) |"
    );
    println!("|---|---|---|---|---|---|---|");
    line("all", &r.all);
    line("stratum 1 (uniform)", &r.stratum1);
    line("stratum 1 + top-up", &r.stratum1_topup);
    line("tuned on (even ids)", &r.tuned);
    line("held out (odd ids)", &r.held_out);
    println!();
    println!("| category | n | positive P | positive R | negative P | negative R | confusion |");
    println!("|---|---|---|---|---|---|---|");
    for (c, f) in &r.per_category {
        line(c, f);
    }
    let c = &r.all.confusion;
    println!("\nConfusion, all rows (rows: judge, columns: scorer):\n");
    println!("| judge \\ scorer | positive | neutral | negative |");
    println!("|---|---|---|---|");
    for (name, row) in ["positive", "neutral", "negative"].iter().zip(c) {
        println!("| {name} | {} | {} | {} |", row[0], row[1], row[2]);
    }
    if misses {
        println!("\nMisses ({}):\n", r.misses.len());
        for m in &r.misses {
            println!(
                "- {} [{}] judge {} → scorer {}: {} — {}",
                m.id,
                m.category,
                m.judged.as_str(),
                m.scored.as_str(),
                m.title,
                m.reasons
            );
        }
    }
}
