//! The relevance check as a regression guard: the judged queries run against the whole
//! 35k-article corpus through `gomtin-bench relevance --json` (the command docs/SEARCH.md
//! gives), and every class of the 50 tuned queries must stay within 0.02 of the figures
//! measured when these floors were set (2026-12-01) on P@10, R@10 and MRR. The 15 held-out
//! queries (`tests/relevance/heldout.tsv`, never used for tuning) are reported apart and
//! guarded on their overall row. The top hit of every query typed with diacritics must
//! have the query's marked words exactly, and the share of (exact, folded-only) pairs in
//! exact-first order must hold. SQLite FTS5, the baseline beside gomtin, must give the
//! figures it gave then (a broken baseline would make every comparison meaningless), and
//! gomtin must stay at or ahead of it on every class.
//!
//! When a deliberate ranking change moves a figure, rerun the command, update the table
//! here and docs/SEARCH.md together, and say why in the commit.

use std::process::Command;

/// How far a figure may fall below the one measured when the floors were set.
const MARGIN: f64 = 0.02;

/// (class, queries, P@10, R@10, MRR) of gomtin on the 50 tuned queries, 2026-12-01.
const JUDGED: &[(&str, u64, f64, f64, f64)] = &[
    ("all", 50, 0.546, 0.700, 0.902),
    ("diac", 10, 0.610, 0.676, 0.883),
    ("filter", 10, 0.550, 0.779, 0.950),
    ("nodiac", 20, 0.515, 0.544, 0.838),
    ("phrase", 3, 0.700, 0.967, 1.000),
    ("rare", 7, 0.471, 0.952, 1.000),
];

/// The same for SQLite FTS5 (deterministic: same articles, same queries, same bm25).
const FTS5: &[(&str, f64, f64, f64)] = &[
    ("all", 0.350, 0.469, 0.641),
    ("diac", 0.530, 0.601, 0.800),
    ("filter", 0.330, 0.422, 0.620),
    ("nodiac", 0.235, 0.253, 0.468),
    ("phrase", 0.467, 0.667, 0.667),
    ("rare", 0.400, 0.881, 0.929),
];

/// gomtin on the 15 held-out queries, first measured 2026-12-01 (overall row).
const HELDOUT_ALL: (u64, f64, f64, f64) = (15, 0.553, 0.645, 0.956);
/// Held-out classes and their query counts (reported, not floored: 2 or 3 queries each).
const HELDOUT_CLASSES: &[(&str, u64)] = &[
    ("diac", 3),
    ("filter", 2),
    ("nodiac", 6),
    ("phrase", 2),
    ("rare", 2),
];

/// Share of (exact, folded-only) hit pairs in exact-first order, 2026-12-01.
const EXACT_SHARE_JUDGED: f64 = 0.704;
const EXACT_SHARE_HELDOUT: f64 = 0.978;

fn row<'a>(report: &'a serde_json::Value, class: &str) -> &'a serde_json::Value {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["class"] == class)
        .unwrap_or_else(|| panic!("no row {class} in {report}"))
}

fn f(r: &serde_json::Value, k: &str) -> f64 {
    r[k].as_f64().unwrap_or_else(|| panic!("{k} in {r}"))
}

#[test]
fn relevance_stays_above_floor() {
    let out = Command::new(env!("CARGO_BIN_EXE_gomtin-bench"))
        .args(["relevance", "--json"])
        .output()
        .expect("run gomtin-bench");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    let held = &v["heldout"];
    let mut failures = Vec::new();
    let floor = |failures: &mut Vec<String>, what: String, got: f64, today: f64| {
        if got < today - MARGIN {
            failures.push(format!("{what}: {got:.3} < {today:.3} - {MARGIN}"));
        }
    };

    for &(class, queries, p10, r10, mrr) in JUDGED {
        let r = row(&v, class);
        assert_eq!(r["queries"], queries, "{class}: {r}");
        floor(
            &mut failures,
            format!("{class} P@10"),
            f(r, "gomtin_p10"),
            p10,
        );
        floor(
            &mut failures,
            format!("{class} R@10"),
            f(r, "gomtin_recall10"),
            r10,
        );
        floor(
            &mut failures,
            format!("{class} MRR"),
            f(r, "gomtin_mrr"),
            mrr,
        );
    }
    let (n, p10, r10, mrr) = HELDOUT_ALL;
    let r = row(held, "all");
    assert_eq!(r["queries"], n, "held-out: {r}");
    floor(
        &mut failures,
        "held-out P@10".into(),
        f(r, "gomtin_p10"),
        p10,
    );
    floor(
        &mut failures,
        "held-out R@10".into(),
        f(r, "gomtin_recall10"),
        r10,
    );
    floor(
        &mut failures,
        "held-out MRR".into(),
        f(r, "gomtin_mrr"),
        mrr,
    );
    for &(class, queries) in HELDOUT_CLASSES {
        assert_eq!(row(held, class)["queries"], queries, "held-out {class}");
    }

    // Exact-diacritic matches rank first.
    for (name, report, share) in [
        ("judged", &v, EXACT_SHARE_JUDGED),
        ("held-out", held, EXACT_SHARE_HELDOUT),
    ] {
        assert!(
            report["exact_first_checked"].as_u64().unwrap_or(0) >= 6,
            "{name}: queries typed with diacritics are checked: {}",
            report["exact_first_checked"]
        );
        let misses = report["exact_first_top_misses"].as_array().expect("misses");
        if !misses.is_empty() {
            failures.push(format!(
                "{name}: the first hit has a marked word only in another form: {misses:?}"
            ));
        }
        floor(
            &mut failures,
            format!(
                "{name} exact-first share (breaks: {})",
                report["exact_first_breaks"]
            ),
            f(report, "exact_first_share"),
            share,
        );
    }

    // The FTS5 baseline is what it was, and gomtin is at or ahead of it everywhere.
    for &(class, p10, r10, mrr) in FTS5 {
        let r = row(&v, class);
        for (k, want) in [("fts5_p10", p10), ("fts5_recall10", r10), ("fts5_mrr", mrr)] {
            if (f(r, k) - want).abs() > 0.005 {
                failures.push(format!("{class} {k}: the baseline moved: {r}"));
            }
            let ours = k.replace("fts5", "gomtin");
            if f(r, &ours) < f(r, k) {
                failures.push(format!("{class}: gomtin behind FTS5 on {ours}: {r}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
