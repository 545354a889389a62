//! `gomtin search QUERY… [-n N] [--offset N] [--collapse] [--json]` and `gomtin reindex`:
//! the search the web app runs, printed for a terminal (numbered hits with source, local
//! time, link, a snippet with the matches in bold or «…», "cũng đăng bởi") or as the
//! JSON the API answers; and the rebuild of the tantivy index from SQLite, under the
//! data-folder lock.

use std::io::{IsTerminal, Write};

use crate::app::App;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::search::SearchRequest;

/// How `gomtin search` pages and prints.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Most hits (default: `[search] default_limit`).
    pub limit: Option<usize>,
    pub offset: usize,
    pub json: bool,
    /// Fold reposts of one story into its earliest copy.
    pub collapse: bool,
}

/// Run `gomtin search`.
pub async fn run(config: Config, query: &str, options: Options) -> Result<Exit> {
    let Options {
        limit,
        offset,
        json,
        collapse,
    } = options;
    let tz = config.display.timezone;
    let limit = limit.unwrap_or(config.search.default_limit);
    let app = App::open(config)?;
    let mut req = SearchRequest::new(query, limit);
    req.offset = offset;
    let app2 = app.clone();
    let results = tokio::task::spawn_blocking(move || {
        let mut r = app2.search(&req)?;
        // No daemon feeds this process's view: say when the index is behind SQLite too.
        if r.notices.is_empty()
            && let Some(notice) = app2.index_notice(true)?
        {
            r.notices.insert(0, notice);
        }
        if collapse {
            crate::search::collapse::collapse(&mut r, &app2.store)?;
        }
        Ok::<_, Error>(r)
    })
    .await??;
    let mut out = std::io::stdout().lock();
    if json {
        let v = serde_json::to_string(&results).map_err(|e| Error::Task(e.to_string()))?;
        writeln!(out, "{v}").ok();
        return Ok(Exit::Ok);
    }
    let tty = std::io::stdout().is_terminal();
    for n in &results.notices {
        writeln!(out, "! {n}").ok();
    }
    if let Some(s) = &results.suggestion {
        writeln!(out, "? Có phải bạn muốn tìm: {s}").ok();
    }
    if results.total == 0 {
        writeln!(out, "Không tìm thấy tin nào cho \"{query}\".").ok();
        return Ok(Exit::Ok);
    }
    let facets = results
        .facets
        .iter()
        .map(|f| format!("{} {}", f.source, f.count))
        .collect::<Vec<_>>()
        .join(", ");
    writeln!(
        out,
        "{} kết quả cho \"{query}\" (theo nguồn: {facets}); hiển thị {}–{}:",
        results.total,
        results.offset + 1,
        results.offset + results.hits.len()
    )
    .ok();
    for (i, h) in results.hits.iter().enumerate() {
        let when = chrono::DateTime::parse_from_rfc3339(&h.published)
            .map(|d| d.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string())
            .unwrap_or_else(|_| h.published.clone());
        writeln!(out, "\n{}. {}", results.offset + i + 1, h.title).ok();
        writeln!(
            out,
            "   {} · {} · {}",
            h.source,
            when,
            h.url.as_deref().unwrap_or("(không có liên kết)")
        )
        .ok();
        writeln!(
            out,
            "   {}",
            highlight_for_terminal(&h.snippet, &h.highlights, tty)
        )
        .ok();
        if !h.also_posted_by.is_empty() {
            writeln!(out, "   cũng đăng bởi: {}", h.also_posted_by.join(", ")).ok();
        }
    }
    Ok(Exit::Ok)
}

/// Mark highlighted ranges: bold on a terminal, «…» otherwise.
fn highlight_for_terminal(snippet: &str, ranges: &[[usize; 2]], tty: bool) -> String {
    let (open, close) = if tty {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("«", "»")
    };
    let mut out = String::new();
    for (i, c) in snippet.chars().enumerate() {
        if ranges.iter().any(|r| r[0] == i) {
            out.push_str(open);
        }
        if ranges.iter().any(|r| r[1] == i) {
            out.push_str(close);
        }
        out.push(c);
    }
    if ranges.iter().any(|r| r[1] == snippet.chars().count()) {
        out.push_str(close);
    }
    out
}

/// Run `gomtin reindex`.
/// The new index is built beside the old folder and swapped in, so any state of the old
/// one (garbled, missing segments, deleted) is repaired.
pub async fn reindex(config: Config) -> Result<Exit> {
    let lock = crate::app::lock_data_dir(&config.data_dir())?;
    let n =
        tokio::task::spawn_blocking(move || crate::app::rebuild_index(&config, &lock)).await??;
    println!("Đã dựng lại chỉ mục: {n} tin.");
    Ok(Exit::Ok)
}
