//! `gomtin digest list | preview ID | send ID`: the scheduled email digests seen from the
//! command line — the next run and the last period's deliveries of each (`--json` too),
//! what a send now would send as plain text (and its HTML into a file), and the send now
//! itself: the items first seen since the last period up to now, recorded in the same
//! ledger as a period of its own (`--force` sends the latest period again). A recipient
//! not reached makes `send` end partial (1).

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;

use crate::app::App;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::exit::Exit;

#[derive(Debug, Subcommand)]
pub enum DigestCommand {
    /// Liệt kê bản tin: lần gửi tới và kết quả gần nhất
    List {
        /// In dạng JSON
        #[arg(long)]
        json: bool,
    },
    /// Xem trước đúng những gì `digest send` sẽ gửi bây giờ (chữ thuần ra màn hình)
    Preview {
        /// Mã bản tin
        id: String,
        /// Ghi phần HTML vào tệp này
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
    },
    /// Gửi ngay các tin mới từ lần gửi trước tới giờ (ghi vào sổ thành một kỳ riêng)
    Send {
        /// Mã bản tin
        id: String,
        /// Gửi lại kỳ gần nhất kể cả khi đã gửi
        #[arg(long)]
        force: bool,
    },
}

/// Run `gomtin digest …`.
pub async fn run(config: Config, command: DigestCommand) -> Result<Exit> {
    let app = App::open(config)?;
    let now = chrono::Utc::now();
    match command {
        DigestCommand::List { json } => cmd_digest_list(&app, now, json).await,
        DigestCommand::Preview { id, html } => cmd_digest_preview(&app, &id, html, now).await,
        DigestCommand::Send { id, force } => cmd_digest_send(&app, &id, force, now).await,
    }
}

fn find_digest(app: &App, id: &str) -> Result<crate::config::DigestConfig> {
    let config = app.config();
    config.digest(id).cloned().ok_or_else(|| {
        let known = config
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
    let config = app.config();
    for d in &config.digests {
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
    let d = find_digest(app, id)?;
    let tz = d.timezone;
    let app2 = app.clone();
    let (period, rendered) = tokio::task::spawn_blocking(move || {
        // Exactly the period `digest send` would record now.
        let end = crate::digest::send_now_end(now);
        let period = crate::digest::send_now_period(&app2.store, &d, end)?;
        Ok::<_, Error>((period, crate::digest::prepare(&app2, &d, period)?))
    })
    .await??;
    let fmt = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&tz).format("%H:%M %d/%m/%Y").to_string()
    };
    if rendered.total == 0 {
        println!(
            "Không có tin mới từ {} tới giờ: `gomtin digest send {id}` sẽ không gửi gì.",
            fmt(period.start)
        );
        return Ok(Exit::Ok);
    }
    if let Some(path) = html {
        std::fs::write(&path, &rendered.html).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        eprintln!("Đã ghi phần HTML vào {}", path.display());
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "Gửi ngay sẽ gửi kỳ {} → {} ({} tin).",
        fmt(period.start),
        fmt(period.end),
        rendered.total
    );
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
    let d = find_digest(app, id)?;
    let metrics = std::sync::Arc::new(crate::metrics::Metrics::new());
    let runner = crate::digest::DigestRunner::new(
        app.clone(),
        metrics,
        tokio_util::sync::CancellationToken::new(),
    )?
    .ok_or_else(|| Error::ConfigInvalid {
        path: app.config().path.clone(),
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
    if report.nothing_new {
        println!(
            "Bản tin `{}`: không có tin mới kể từ {} (lần gửi trước); không gửi lại.",
            d.id(),
            fmt(report.period.start)
        );
        return Ok(Exit::Ok);
    }
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
