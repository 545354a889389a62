//! `gomtin sources list | add | check | import | export`: the sources' health as stored,
//! and the admin's source tools — discovery of a homepage's feeds (then, with `--pick N`
//! or a choice on the terminal, a `[[sources]]` block appended to the config), a check
//! that prints what a fetch would store (`--json` too), OPML import and export. The work
//! is `admin`'s (and `opml`'s); this file asks and prints.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::admin::{self, CheckReport};
use crate::app::App;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::exit::Exit;

#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    /// Liệt kê nguồn tin và tình trạng
    List {
        /// In dạng JSON
        #[arg(long)]
        json: bool,
    },
    /// Tìm nguồn RSS/Atom trên một trang chủ và thêm vào cấu hình
    Add {
        /// Địa chỉ trang chủ (hoặc của chính nguồn tin)
        url: String,
        /// Chọn nguồn thứ N trong danh sách tìm được (không hỏi)
        #[arg(long)]
        pick: Option<usize>,
        /// Mã nguồn mới (mặc định: suy từ tên)
        #[arg(long)]
        id: Option<String>,
        /// Tên nguồn mới (mặc định: tiêu đề nguồn tin)
        #[arg(long)]
        name: Option<String>,
    },
    /// Tải thử một nguồn, không lưu, in những gì sẽ được lưu
    Check {
        /// Mã nguồn
        id: String,
        /// In dạng JSON
        #[arg(long)]
        json: bool,
    },
    /// Nhập nguồn tin từ tệp OPML (thêm vào cuối tệp cấu hình)
    Import {
        /// Tệp OPML
        file: PathBuf,
    },
    /// Xuất danh sách nguồn ra OPML 2.0 (stdout)
    Export,
}

/// Run `gomtin sources …`.
pub async fn run(config: Config, command: SourcesCommand) -> Result<Exit> {
    match command {
        SourcesCommand::List { json } => list(config, json).await,
        SourcesCommand::Add {
            url,
            pick,
            id,
            name,
        } => add(config, &url, pick, id, name).await,
        SourcesCommand::Check { id, json } => check(config, &id, json).await,
        SourcesCommand::Import { file } => import(config, &file),
        SourcesCommand::Export => {
            print!("{}", crate::opml::export(&config));
            Ok(Exit::Ok)
        }
    }
}

/// `gomtin sources list [--json]`: every source's health, from SQLite.
async fn list(config: Config, json: bool) -> Result<Exit> {
    let tz = config.display.timezone;
    let app = App::open(config)?;
    let statuses = app.store.source_statuses(chrono::Utc::now())?;
    if json {
        let v = serde_json::to_string(&statuses).map_err(|e| Error::Task(e.to_string()))?;
        println!("{v}");
        return Ok(Exit::Ok);
    }
    let fmt = |d: Option<chrono::DateTime<chrono::Utc>>| {
        d.map(|d| d.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string())
            .unwrap_or_else(|| "chưa có".to_string())
    };
    for s in &statuses {
        let state = if s.last_error.is_some() {
            "✗"
        } else if s.last_success_at.is_some() {
            "✓"
        } else {
            "·"
        };
        println!(
            "{state} {} — {}{}",
            s.id,
            s.name,
            if s.in_config {
                ""
            } else {
                " (đã bỏ khỏi cấu hình)"
            }
        );
        println!("    loại: {} · địa chỉ: {}", s.kind, s.url);
        println!(
            "    lần thử gần nhất: {} · thành công gần nhất: {} · lần kiểm tra tới: {}",
            fmt(s.last_attempt_at),
            fmt(s.last_success_at),
            fmt(s.next_check_at)
        );
        println!(
            "    số tin: {} ({} trong 7 ngày, trung bình {:.1} tin/ngày trong 30 ngày)",
            s.item_count, s.items_last_7_days, s.avg_items_per_day
        );
        if let Some(err) = &s.last_error {
            println!(
                "    lỗi gần nhất: [{}] {} (lỗi liên tiếp: {})",
                s.last_error_kind.as_deref().unwrap_or("?"),
                err,
                s.consecutive_failures
            );
        }
    }
    Ok(Exit::Ok)
}

/// Said after a change to the file: a running daemon reads it again only when told.
const RUNNING_HINT: &str = "Nếu gomtin serve đang chạy: bấm “Tải lại cấu hình” ở trang Nguồn tin (hoặc gửi SIGHUP) để dùng ngay.";

/// Write a command-line admin action to the audit log (as `dòng lệnh`); a failure to
/// record is said on stderr, the change itself is done.
fn audit(config: &Config, action: &str, target: &str, detail: &str) {
    let done = crate::store::Store::open(&config.data_dir())
        .and_then(|s| s.audit("dòng lệnh", action, target, detail, chrono::Utc::now()));
    if let Err(e) = done {
        eprintln!("gomtin: không ghi được nhật ký quản trị: {e}");
    }
}

/// `gomtin sources add URL [--pick N] [--id ID] [--name NAME]`.
async fn add(
    config: Config,
    url: &str,
    pick: Option<usize>,
    id: Option<String>,
    name: Option<String>,
) -> Result<Exit> {
    let fetcher = crate::fetch::Fetcher::new(&config.fetch)?;
    let found = admin::discover(&fetcher, url).await?;
    let url = &found.url;
    if found.feeds.is_empty() {
        println!(
            "Không thấy nguồn RSS/Atom nào trên {url}.\nCó thể theo dõi trang này bằng bộ chọn CSS: thêm vào cấu hình\n\n{}",
            admin::page_suggestion(&config, &found).render()
        );
        println!("rồi chạy `gomtin sources check ID` để thử bộ chọn.");
        return Ok(Exit::Partial);
    }
    println!("Tìm thấy {} nguồn tin trên {url}:", found.feeds.len());
    for (i, f) in found.feeds.iter().enumerate() {
        println!(
            "  {}. {} — {}",
            i + 1,
            f.title.as_deref().unwrap_or("(không tên)"),
            f.url
        );
    }
    let n = match pick {
        Some(n) => n,
        None if std::io::stdin().is_terminal() => {
            print!("Chọn số (1-{}), Enter để bỏ qua: ", found.feeds.len());
            std::io::stdout().flush().ok();
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).ok();
            match line.trim().parse::<usize>() {
                Ok(n) => n,
                Err(_) => {
                    println!("Không thêm gì.");
                    return Ok(Exit::Ok);
                }
            }
        }
        None => {
            println!("Chạy lại với --pick N để thêm nguồn thứ N vào cấu hình.");
            return Ok(Exit::Ok);
        }
    };
    let block = admin::feed_block(&config, &found, n, id, name)?;
    admin::add_sources(&config, std::slice::from_ref(&block))?;
    audit(
        &config,
        "source.add",
        &block.id,
        block.url.as_deref().unwrap_or(""),
    );
    println!(
        "Đã thêm vào {}:\n\n{}",
        config.path.display(),
        block.render()
    );
    println!("{RUNNING_HINT}");
    Ok(Exit::Ok)
}

/// `gomtin sources import FILE.opml`.
fn import(config: Config, file: &Path) -> Result<Exit> {
    let bytes = std::fs::read(file).map_err(|source| Error::Io {
        path: file.to_path_buf(),
        source,
    })?;
    let blocks = admin::import_opml(&config, &bytes)?;
    if blocks.is_empty() {
        println!("Không có nguồn mới trong {}.", file.display());
        return Ok(Exit::Ok);
    }
    let ids = blocks
        .iter()
        .map(|b| b.id.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    audit(
        &config,
        "sources.import",
        "",
        &format!("{} nguồn: {ids}", blocks.len()),
    );
    println!(
        "Đã thêm {} nguồn vào {}: {ids}",
        blocks.len(),
        config.path.display(),
    );
    println!("{RUNNING_HINT}");
    Ok(Exit::Ok)
}

/// `gomtin sources check ID [--json]`: fetch once, store nothing, print what would be stored.
async fn check(config: Config, id: &str, json: bool) -> Result<Exit> {
    let source = admin::source(&config, id)?;
    let app = App::open(config)?;
    let report = admin::check_source(&app, &source).await?;
    if json {
        let v = serde_json::to_string(&report).map_err(|e| Error::Task(e.to_string()))?;
        println!("{v}");
    } else {
        print_check(&report);
    }
    app.index.close()?;
    Ok(if report.error.is_some() {
        Exit::Partial
    } else {
        Exit::Ok
    })
}

fn print_check(report: &CheckReport) {
    println!(
        "Kiểm tra nguồn `{}` ({}) — không lưu gì:",
        report.source_id, report.url
    );
    for (n, i) in report.items.iter().enumerate() {
        println!("\n{}. {}", n + 1, i.title);
        println!("   liên kết: {}", i.url.as_deref().unwrap_or("(không có)"));
        println!(
            "   ngày: {} · tác giả: {} · ảnh: {}",
            i.published.as_deref().unwrap_or("(không có)"),
            i.author.as_deref().unwrap_or("(không có)"),
            i.image_url.as_deref().unwrap_or("(không có)")
        );
        if !i.summary.is_empty() {
            println!("   tóm tắt: {}", i.summary);
        }
        println!("   nội dung: {} ký tự — {}", i.text_chars, i.text_start);
    }
    for e in &report.article_errors {
        println!("! trang bài viết lỗi: {e}");
    }
    if report.skipped > 0 {
        println!("\n({} mục để lần sau hoặc bỏ qua)", report.skipped);
    }
    match &report.error {
        Some(e) => println!("\n✗ lỗi: {e}"),
        None => println!("\n✓ {} tin sẽ được lưu.", report.items.len()),
    }
}
