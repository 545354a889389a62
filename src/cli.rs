//! The command line: clap definitions of `gomtin fetch | search | reindex | sources`,
//! and the code that runs each command and prints for people (Vietnamese) or machines
//! (`--json`). Errors travel back to `main`, which prints them once and picks the exit code.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::app::App;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::{OutcomeKind, SourceOutcome};
use crate::search::SearchRequest;

/// gomtin — gom tin tức địa phương, tìm kiếm tiếng Việt.
#[derive(Debug, Parser)]
#[command(name = "gomtin", version, about, long_about = None)]
pub struct Cli {
    /// Tệp cấu hình (mặc định: config/gomtin.toml)
    #[arg(long, global = true, env = "GOMTIN_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Dạng nhật ký (log) ghi ra stderr
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Ghi nhật ký chi tiết hơn (-v, -vv)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Tải tin từ các nguồn ngay bây giờ (tất cả, hoặc các mã nguồn đã nêu)
    Fetch {
        /// Mã nguồn cần tải; bỏ trống = mọi nguồn đang bật
        sources: Vec<String>,
        /// In kết quả dạng JSON
        #[arg(long)]
        json: bool,
    },
    /// Tìm tin đã lưu
    Search {
        /// In kết quả dạng JSON
        #[arg(long)]
        json: bool,
        /// Số kết quả tối đa
        #[arg(long, short = 'n')]
        limit: Option<usize>,
        /// Bỏ qua N kết quả đầu (phân trang)
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// Gộp các tin trùng nhau (cùng một bài đăng lại ở nhiều nguồn) thành tin sớm nhất
        #[arg(long)]
        collapse: bool,
        /// Câu tìm kiếm (không dấu cũng được)
        #[arg(required = true, num_args = 1.., allow_hyphen_values = true)]
        query: Vec<String>,
    },
    /// Dựng lại chỉ mục tìm kiếm từ cơ sở dữ liệu
    Reindex,
    /// Chạy dịch vụ: tự động tải tin theo lịch và phục vụ giao diện web
    Serve {
        /// Địa chỉ lắng nghe (mặc định: [server] listen)
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Quản lý nguồn tin
    Sources {
        #[command(subcommand)]
        command: SourcesCommand,
    },
    /// Quản lý tài khoản giao diện web (xem src/web/auth.rs)
    Users {
        #[command(subcommand)]
        command: crate::web::auth::UsersCommand,
    },
    /// Bài đăng dán tay (nguồn kind = "manual")
    Post {
        #[command(subcommand)]
        command: PostCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum PostCommand {
    /// Thêm một bài cán bộ dán tay (ví dụ bài trên trang Facebook của xã)
    Add {
        /// Mã nguồn kind = "manual"
        #[arg(long)]
        source: String,
        /// Liên kết gốc của bài
        #[arg(long)]
        url: Option<String>,
        /// Tiêu đề (bỏ trống: lấy đầu nội dung)
        #[arg(long)]
        title: Option<String>,
        /// Nội dung bài (đoạn cách nhau bởi một dòng trống); `-` để đọc từ stdin
        #[arg(long)]
        text: String,
        /// Thời điểm đăng, ví dụ "2024-03-12 08:15" hoặc "12/03/2024 08:15" (mặc định: bây giờ)
        #[arg(long)]
        published: Option<String>,
    },
}

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

/// Where the config is read from when neither `--config` nor `GOMTIN_CONFIG` says.
pub const DEFAULT_CONFIG: &str = "config/gomtin.toml";

/// What `main` should exit with.
pub enum Exit {
    Ok,
    /// The command ran but something partly failed (e.g. some sources).
    Partial,
}

/// Load the config named on the command line.
pub fn load_config(cli: &Cli) -> Result<Config> {
    let path = cli
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG));
    Config::load(&path)
}

/// Run a parsed command line.
pub async fn run(cli: Cli) -> Result<Exit> {
    let config = load_config(&cli)?;
    match cli.command {
        Command::Fetch { sources, json } => cmd_fetch(config, &sources, json).await,
        Command::Search {
            json,
            limit,
            offset,
            collapse,
            query,
        } => cmd_search(config, &query.join(" "), limit, offset, json, collapse).await,
        Command::Reindex => cmd_reindex(config).await,
        Command::Serve { listen } => cmd_serve(config, listen).await,
        Command::Sources {
            command: SourcesCommand::List { json },
        } => cmd_sources_list(config, json).await,
        Command::Users { command } => crate::web::auth::run_users_command(&config, command),
        Command::Sources { command } => run_admin(config, command).await,
        Command::Post {
            command:
                PostCommand::Add {
                    source,
                    url,
                    title,
                    text,
                    published,
                },
        } => {
            let text = if text == "-" {
                let mut buf = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut buf).map_err(
                    |source| Error::Io {
                        path: "stdin".into(),
                        source,
                    },
                )?;
                buf
            } else {
                text
            };
            let post = crate::admin::ManualPost {
                source,
                url,
                title,
                text,
                published,
            };
            crate::admin::post_add(config, post).await
        }
    }
}

/// The source-admin commands (issue 4), implemented in `admin`.
async fn run_admin(config: Config, command: SourcesCommand) -> Result<Exit> {
    match command {
        SourcesCommand::List { json } => cmd_sources_list(config, json).await,
        SourcesCommand::Add {
            url,
            pick,
            id,
            name,
        } => crate::admin::sources_add(config, &url, pick, id, name).await,
        SourcesCommand::Check { id, json } => crate::admin::sources_check(config, &id, json).await,
        SourcesCommand::Import { file } => crate::admin::sources_import(config, &file),
        SourcesCommand::Export => crate::admin::sources_export(&config),
    }
}

fn open_app(config: Config) -> Result<App> {
    App::open(config)
}

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
                    " ({skipped} mục bỏ qua vì không có tiêu đề/liên kết)"
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

async fn cmd_fetch(config: Config, ids: &[String], json: bool) -> Result<Exit> {
    let _lock = crate::app::lock_data_dir(&config.data_dir())?;
    let app = open_app(config)?;
    let tty = std::io::stdout().is_terminal() && !json;
    let total = if ids.is_empty() {
        app.config.sources.iter().filter(|s| s.enabled).count()
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
    let outcomes = crate::pipeline::fetch_pass(&app, ids, move |o| {
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
    .await?;
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
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
    app.index.close()?;
    Ok(if failed > 0 { Exit::Partial } else { Exit::Ok })
}

async fn cmd_search(
    config: Config,
    query: &str,
    limit: Option<usize>,
    offset: usize,
    json: bool,
    collapse: bool,
) -> Result<Exit> {
    let tz = config.display.timezone;
    let limit = limit.unwrap_or(config.search.default_limit);
    let app = open_app(config)?;
    let mut req = SearchRequest::new(query, limit);
    req.offset = offset;
    let app2 = app.clone();
    let results = tokio::task::spawn_blocking(move || {
        let mut r = app2.search(&req)?;
        if collapse {
            crate::cluster::collapse(&mut r, &app2.store)?;
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

async fn cmd_reindex(config: Config) -> Result<Exit> {
    let _lock = crate::app::lock_data_dir(&config.data_dir())?;
    let app = open_app(config)?;
    let (index, store) = (app.index.clone(), app.store.clone());
    let n = tokio::task::spawn_blocking(move || index.rebuild(&store)).await??;
    app.index.close()?;
    println!("Đã dựng lại chỉ mục: {n} tin.");
    Ok(Exit::Ok)
}

async fn cmd_sources_list(config: Config, json: bool) -> Result<Exit> {
    let tz = config.display.timezone;
    let app = open_app(config)?;
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

async fn cmd_serve(config: Config, listen: Option<std::net::SocketAddr>) -> Result<Exit> {
    let _lock = crate::app::lock_data_dir(&config.data_dir())?;
    let addr = listen.unwrap_or(config.server.listen);
    let app = open_app(config)?;
    // Crash recovery: whatever SQLite committed but the index missed is indexed now.
    let recovered = crate::pipeline::catch_up_index(&app).await?;
    if recovered > 0 {
        tracing::info!(items = recovered, "index caught up at startup");
    }
    let metrics = std::sync::Arc::new(crate::metrics::Metrics::new());
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Listen {
            addr: addr.to_string(),
            message: e.to_string(),
        })?;
    let bound = listener.local_addr().map_err(|e| Error::Listen {
        addr: addr.to_string(),
        message: e.to_string(),
    })?;
    {
        // stdout may be a closed pipe (daemon under a supervisor): never panic on it.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "gomtin đang chạy tại http://{bound} (Ctrl+C để dừng)");
        let _ = out.flush();
    }
    tracing::info!(%bound, "serving");
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(wait_for_signal(shutdown.clone()));
    let state = crate::web::AppState {
        app: app.clone(),
        metrics: metrics.clone(),
        started: std::time::Instant::now(),
    };
    // Connect info gives the login rate limiter the client address.
    let service =
        crate::web::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server =
        axum::serve(listener, service).with_graceful_shutdown(shutdown.clone().cancelled_owned());
    let scheduler = crate::scheduler::run(app, metrics, shutdown.clone());
    let (served, scheduled) = tokio::join!(
        async {
            let r = server.await;
            shutdown.cancel();
            r
        },
        scheduler
    );
    if let Err(e) = served {
        tracing::error!(error = %e, "web server failed");
    }
    scheduled?;
    let _ = writeln!(std::io::stdout().lock(), "gomtin đã dừng.");
    Ok(Exit::Ok)
}

/// Cancel `token` on SIGINT or SIGTERM.
async fn wait_for_signal(token: tokio_util::sync::CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "cannot listen for SIGTERM");
                    let _ = ctrl_c.await;
                    token.cancel();
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    tracing::info!("shutdown requested");
    token.cancel();
}
