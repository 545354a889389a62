//! The relevance check as a regression guard: the judged queries run against the whole
//! 35k-article corpus (through `gomtin-bench relevance`, the command docs/SEARCH.md gives)
//! and gomtin must stay above the floors below, and ahead of FTS5 on queries typed
//! without diacritics. Floors sit a little under the figures in docs/SEARCH.md.

use std::process::Command;

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
    let row = |class: &str| {
        v["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["class"] == class)
            .cloned()
            .unwrap_or_else(|| panic!("no row {class}"))
    };
    let f = |r: &serde_json::Value, k: &str| r[k].as_f64().expect(k);
    let all = row("all");
    assert_eq!(all["queries"], 50);
    assert!(f(&all, "gomtin_mrr") >= 0.85, "MRR {all}");
    assert!(f(&all, "gomtin_p10") >= 0.50, "P@10 {all}");
    let nodiac = row("nodiac");
    assert!(f(&nodiac, "gomtin_recall10") >= 0.50, "{nodiac}");
    assert!(
        f(&nodiac, "gomtin_recall10") > f(&nodiac, "fts5_recall10") + 0.2,
        "better recall than FTS5 without diacritics: {nodiac}"
    );
}
