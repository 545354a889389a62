//! The command line: clap definitions of `gomtin fetch | search | reindex | sources | digest`,
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
    /// Bản tin gửi qua thư theo lịch ([[digests]])
    Digest {
        #[command(subcommand)]
        command: DigestCommand,
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
pub enum DigestCommand {
    /// Liệt kê bản tin: lần gửi tới và kết quả gần nhất
    List {
        /// In dạng JSON
        #[arg(long)]
        json: bool,
    },
    /// Xem trước bản tin của kỳ gần nhất (chữ thuần ra màn hình)
    Preview {
        /// Mã bản tin
        id: String,
        /// Ghi phần HTML vào tệp này
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
    },
    /// Gửi ngay bản tin của kỳ gần nhất (ghi vào sổ như lần gửi theo lịch)
    Send {
        /// Mã bản tin
        id: String,
        /// Gửi lại kể cả khi kỳ này đã gửi
        #[arg(long)]
        force: bool,
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
        Command::Digest { command } => cmd_digest(config, command).await,
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
    let digests = crate::digest::run(app.clone(), metrics.clone(), shutdown.clone());
    let scheduler = crate::scheduler::run(app, metrics, shutdown.clone());
    let (served, scheduled, digested) = tokio::join!(
        async {
            let r = server.await;
            shutdown.cancel();
            r
        },
        scheduler,
        digests
    );
    if let Err(e) = served {
        tracing::error!(error = %e, "web server failed");
    }
    if let Err(e) = digested {
        tracing::error!(error = %e, "digest runner failed");
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

async fn cmd_digest(config: Config, command: DigestCommand) -> Result<Exit> {
    let app = open_app(config)?;
    let now = chrono::Utc::now();
    match command {
        DigestCommand::List { json } => cmd_digest_list(&app, now, json).await,
        DigestCommand::Preview { id, html } => cmd_digest_preview(&app, &id, html, now).await,
        DigestCommand::Send { id, force } => cmd_digest_send(&app, &id, force, now).await,
    }
}

fn find_digest<'a>(app: &'a App, id: &str) -> Result<&'a crate::config::DigestConfig> {
    app.config.digest(id).ok_or_else(|| {
        let known = app
            .config
            .digests
            .iter()
            .map(|d| d.id().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        Error::Query(format!(
            "không có bản tin nào mã `{id}` (có: {})",
            if known.is_empty() {
                "chưa khai báo [[digests]]".to_string()
            } else {
                known
            }
        ))
    })
}

/// Vietnamese name of a delivery status.
fn status_vi(s: crate::store::DeliveryStatus) -> &'static str {
    use crate::store::DeliveryStatus as S;
    match s {
        S::Pending => "chờ gửi lại",
        S::Claimed | S::Sending => "đang gửi",
        S::Sent => "đã gửi",
        S::Failed => "lỗi",
        S::Unknown => "không rõ (máy chủ không trả lời sau khi nhận thư)",
        S::Skipped => "bỏ qua (không có tin)",
    }
}

async fn cmd_digest_list(
    app: &App,
    now: chrono::DateTime<chrono::Utc>,
    json: bool,
) -> Result<Exit> {
    let mut rows = Vec::new();
    for d in &app.config.digests {
        let next = crate::digest::next_fire(d, now)?;
        let last = app.store.latest_digest_period(d.id(), now)?;
        let deliveries = match &last {
            Some(p) => app.store.digest_deliveries(d.id(), p.end)?,
            None => Vec::new(),
        };
        rows.push((d, next, last, deliveries));
    }
    if json {
        let v: Vec<_> = rows
            .iter()
            .map(|(d, next, last, deliveries)| {
                serde_json::json!({
                    "id": d.id(),
                    "name": d.name,
                    "schedule": d.schedule.get_ref(),
                    "timezone": d.timezone.name(),
                    "next_run": next,
                    "last_period": last,
                    "deliveries": deliveries,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(v));
        return Ok(Exit::Ok);
    }
    if rows.is_empty() {
        println!("Chưa có bản tin nào ([[digests]] trong tệp cấu hình).");
    }
    for (d, next, last, deliveries) in &rows {
        let tz = d.timezone;
        let fmt = |t: chrono::DateTime<chrono::Utc>| {
            t.with_timezone(&tz).format("%H:%M %d/%m/%Y").to_string()
        };
        println!("{} — {}", d.id(), d.name);
        println!(
            "    lịch: {} ({}) · lần tới: {} · gửi tới: {} địa chỉ",
            d.schedule.get_ref(),
            tz.name(),
            next.map(fmt).unwrap_or_else(|| "không còn".into()),
            d.to.len()
        );
        match last {
            None => println!("    gần nhất: chưa gửi kỳ nào"),
            Some(p) => {
                let mut counts: Vec<(crate::store::DeliveryStatus, usize)> = Vec::new();
                for x in deliveries {
                    match counts.iter_mut().find(|(s, _)| *s == x.status) {
                        Some((_, n)) => *n += 1,
                        None => counts.push((x.status, 1)),
                    }
                }
                let summary = counts
                    .iter()
                    .map(|(s, n)| format!("{n} {}", status_vi(*s)))
                    .collect::<Vec<_>>()
                    .join(", ");
                println!(
                    "    gần nhất: kỳ {} → {} ({} tin): {summary}",
                    fmt(p.start),
                    fmt(p.end),
                    p.item_count
                );
                for x in deliveries.iter().filter(|x| {
                    x.status != crate::store::DeliveryStatus::Sent
                        && x.status != crate::store::DeliveryStatus::Skipped
                }) {
                    println!(
                        "      {}: {} — {}",
                        x.recipient,
                        status_vi(x.status),
                        x.last_reply.as_deref().unwrap_or("")
                    );
                }
            }
        }
    }
    Ok(Exit::Ok)
}

async fn cmd_digest_preview(
    app: &App,
    id: &str,
    html: Option<PathBuf>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Exit> {
    let d = find_digest(app, id)?.clone();
    let app2 = app.clone();
    let rendered = tokio::task::spawn_blocking(move || {
        let end = crate::digest::latest_fire(&d, now)?.unwrap_or(now);
        let period = crate::digest::period_ending(&app2.store, &d, end)?;
        crate::digest::prepare(&app2, &d, period)
    })
    .await??;
    if let Some(path) = html {
        std::fs::write(&path, &rendered.html).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        eprintln!("Đã ghi phần HTML vào {}", path.display());
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "Tiêu đề: {}\n", rendered.subject);
    let _ = write!(out, "{}", rendered.text);
    Ok(Exit::Ok)
}

async fn cmd_digest_send(
    app: &App,
    id: &str,
    force: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Exit> {
    let d = find_digest(app, id)?.clone();
    let metrics = std::sync::Arc::new(crate::metrics::Metrics::new());
    let runner = crate::digest::DigestRunner::new(
        app.clone(),
        metrics,
        tokio_util::sync::CancellationToken::new(),
    )?
    .ok_or_else(|| Error::ConfigInvalid {
        path: app.config.path.clone(),
        message: "thiếu mục [smtp]".into(),
    })?;
    let report = runner.send_now(&d, now, force).await?;
    let tz = d.timezone;
    let fmt = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&tz).format("%H:%M %d/%m/%Y").to_string()
    };
    let period = format!(
        "kỳ {} → {}",
        fmt(report.period.start),
        fmt(report.period.end)
    );
    if report.already_done {
        println!(
            "Bản tin `{}` {period} đã được xử lý; không gửi lại (dùng --force để gửi lại):",
            d.id()
        );
        for x in &report.deliveries {
            println!("  {}: {}", x.recipient, status_vi(x.status));
        }
        return Ok(Exit::Ok);
    }
    println!("Bản tin `{}` {period}:", d.id());
    let mut failed = false;
    for x in &report.deliveries {
        let attempt = report.attempts.iter().find(|a| a.recipient == x.recipient);
        let mark = match x.status {
            crate::store::DeliveryStatus::Sent | crate::store::DeliveryStatus::Skipped => "✓",
            crate::store::DeliveryStatus::Pending => "…",
            _ => "✗",
        };
        if mark != "✓" {
            failed = true;
        }
        let mut line = format!("  {mark} {}: {}", x.recipient, status_vi(x.status));
        if let Some(reply) = attempt
            .map(|a| a.reply.as_str())
            .or(x.last_reply.as_deref())
        {
            line.push_str(&format!(" ({reply})"));
        }
        if let Some(at) = attempt.and_then(|a| a.retry_at) {
            line.push_str(&format!("; thử lại lúc {}", fmt(at)));
        }
        println!("{line}");
    }
    Ok(if failed { Exit::Partial } else { Exit::Ok })
}
