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

/// The query words clap collected, with this command's own flags lifted out of them.
///
/// The query takes words that start with `-` (`lũ -bão` excludes "bão"), so clap hands
/// everything after the first word to the query, flags included: `gomtin search kon tum
/// --json` would search for "kon tum --json". A word that is exactly one of the flags
/// (`--json`, `--collapse`, `-n N`/`-nN`/`--limit N`/`--limit=N`, `--offset N`/
/// `--offset=N`) is read as that flag wherever it stands; `--` ends the flags, and any
/// word after it is query text.
pub fn lift_flags(words: Vec<String>, mut options: Options) -> Result<(Vec<String>, Options)> {
    let number = |flag: &str, value: Option<&String>| -> Result<usize> {
        value.and_then(|v| v.trim().parse().ok()).ok_or_else(|| {
            Error::Query(format!(
                "`{flag}` cần một số nguyên không âm, ví dụ `{flag} 20`"
            ))
        })
    };
    let mut query = Vec::with_capacity(words.len());
    let mut it = words.into_iter().peekable();
    while let Some(w) = it.next() {
        match w.as_str() {
            "--" => {
                query.extend(it);
                break;
            }
            "--json" => options.json = true,
            "--collapse" => options.collapse = true,
            "-n" | "--limit" => options.limit = Some(number(&w, it.next().as_ref())?),
            "--offset" => options.offset = number(&w, it.next().as_ref())?,
            _ => {
                if let Some(v) = w.strip_prefix("--limit=") {
                    options.limit = Some(number("--limit", Some(&v.to_string()))?);
                } else if let Some(v) = w.strip_prefix("--offset=") {
                    options.offset = number("--offset", Some(&v.to_string()))?;
                } else if let Some(v) = w
                    .strip_prefix("-n")
                    .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                {
                    options.limit = Some(number("-n", Some(&v.to_string()))?);
                } else {
                    query.push(w);
                }
            }
        }
    }
    if query.iter().all(|w| w.trim().is_empty()) {
        return Err(Error::Query(
            "thiếu câu tìm kiếm: gõ gomtin search TỪ KHÓA… (các tuỳ chọn như --json đặt trước hoặc sau đều được)".into(),
        ));
    }
    Ok((query, options))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lift(words: &[&str]) -> Result<(Vec<String>, Options)> {
        let options = Options {
            limit: None,
            offset: 0,
            json: false,
            collapse: false,
        };
        lift_flags(words.iter().map(|w| w.to_string()).collect(), options)
    }

    #[test]
    fn flags_after_the_query_are_flags_and_exclusions_stay_words() {
        let (q, o) =
            lift(&["kon", "tum", "--json", "-n", "5", "-bão", "--offset=10"]).expect("flags");
        assert_eq!(q, ["kon", "tum", "-bão"]);
        assert!(o.json && !o.collapse);
        assert_eq!((o.limit, o.offset), (Some(5), 10));
        let (q, o) = lift(&["lũ", "-n3", "--collapse", "--limit=7"]).expect("flags");
        assert_eq!(q, ["lũ"]);
        assert!(o.collapse);
        assert_eq!(o.limit, Some(7));
        // `-nam` is an exclusion, not `-n am`.
        let (q, o) = lift(&["hà", "-nam"]).expect("flags");
        assert_eq!(
            (q, o.limit),
            (vec!["hà".to_string(), "-nam".to_string()], None)
        );
        // After `--`, everything is query text.
        let (q, o) = lift(&["--", "--json"]).expect("flags");
        assert_eq!((q, o.json), (vec!["--json".to_string()], false));
    }

    #[test]
    fn a_flag_without_its_number_or_a_query_of_flags_only_is_said() {
        assert!(
            lift(&["kon", "-n"])
                .expect_err("refused")
                .to_string()
                .contains("số nguyên")
        );
        assert!(lift(&["kon", "--offset", "x"]).is_err());
        assert!(
            lift(&["--json"])
                .expect_err("refused")
                .to_string()
                .contains("thiếu câu tìm kiếm")
        );
    }
}
