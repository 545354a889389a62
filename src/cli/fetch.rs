//! `gomtin fetch [ID…] [--json]`: one fetch pass over the enabled sources (or those
//! named) through `pipeline::fetch_pass`, under the data-folder lock. On a terminal a
//! progress bar with one line per source; otherwise plain lines (logs, pipes, cron); with
//! `--json` one object `{"sources": [...], "failed": N}`. Any failed source makes the exit
//! partial (1).

use std::io::IsTerminal;

use crate::app::App;
use crate::config::Config;
use crate::error::Result;
use crate::exit::Exit;
use crate::model::{OutcomeKind, SourceOutcome};

fn outcome_line(o: &SourceOutcome) -> String {
    match &o.result {
        OutcomeKind::Fetched { counts, skipped } => {
            let mut s = if counts.new == 0 && counts.updated == 0 {
                format!(
                    "= {}: không có tin mới ({} tin đã có)",
                    o.source_id, counts.unchanged
                )
            } else {
                format!(
                    "✓ {}: {} tin mới, {} tin cập nhật, {} không đổi",
                    o.source_id, counts.new, counts.updated, counts.unchanged
                )
            };
            if *skipped > 0 {
                s.push_str(&format!(
                    " ({skipped} mục bỏ qua: không có tiêu đề/liên kết, hoặc để lần tải sau)"
                ));
            }
            s
        }
        OutcomeKind::NotModified => format!("= {}: không đổi (máy chủ trả 304)", o.source_id),
        OutcomeKind::Failed { kind, message } => {
            format!("✗ {}: lỗi [{kind}] {message}", o.source_id)
        }
    }
}

/// Run `gomtin fetch`.
pub async fn run(config: Config, ids: &[String], json: bool) -> Result<Exit> {
    let lock = crate::app::lock_data_dir(&config.data_dir())?;
    let app = App::open_locked(config, &lock)?;
    let tty = std::io::stdout().is_terminal() && !json;
    let total = if ids.is_empty() {
        app.config().sources.iter().filter(|s| s.enabled).count()
    } else {
        ids.len()
    };
    // A progress bar on a terminal; plain lines otherwise (logs, pipes, cron).
    let bar = if tty {
        let pb = indicatif::ProgressBar::new(total as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} [{bar:30}] {pos}/{len} nguồn ({elapsed})",
        ) {
            pb.set_style(style.progress_chars("=> "));
        }
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        Some(pb)
    } else {
        None
    };
    let bar_cb = bar.clone();
    // Outcomes as they arrive: printed even when the pass ends with an error (the index
    // catch-up on a full disk), so every source is reported.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<SourceOutcome>::new()));
    let seen_cb = seen.clone();
    let pass = crate::pipeline::fetch_pass(&app, ids, move |o| {
        if let Ok(mut v) = seen_cb.lock() {
            v.push(o.clone());
        }
        if json {
            return;
        }
        let line = outcome_line(o);
        match &bar_cb {
            Some(pb) => {
                pb.println(line);
                pb.inc(1);
            }
            None => println!("{line}"),
        }
    })
    .await;
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    let (outcomes, pass_error) = match pass {
        Ok(outcomes) => (outcomes, None),
        Err(e) => (seen.lock().map(|v| v.clone()).unwrap_or_default(), Some(e)),
    };
    let failed = outcomes.iter().filter(|o| o.is_failure()).count();
    if json {
        let v = serde_json::json!({ "sources": outcomes, "failed": failed });
        println!("{v}");
    } else {
        let new: usize = outcomes
            .iter()
            .map(|o| match &o.result {
                OutcomeKind::Fetched { counts, .. } => counts.new,
                _ => 0,
            })
            .sum();
        println!(
            "Xong: {} nguồn, {} lỗi, {} tin mới; chỉ mục có {} tin.",
            outcomes.len(),
            failed,
            new,
            app.index.doc_count()
        );
    }
    if let Some(e) = pass_error {
        let _ = app.index.close();
        return Err(e);
    }
    app.index.close()?;
    Ok(if failed > 0 { Exit::Partial } else { Exit::Ok })
}
