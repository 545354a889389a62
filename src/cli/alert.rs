//! `gomtin alert list [--json] | test ID`: the `[[alerts]]` seen from the command line —
//! each alert's query, tone and channels, its matches so far, what waits for the next
//! batch and the last deliveries (`--json` too) — and a test message sent now to every
//! channel of one alert, outside the ledger. A channel not reached makes `test` end
//! partial (1).

use clap::Subcommand;

use crate::app::App;
use crate::config::{AlertConfig, Config};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::store::DeliveryStatus;

#[derive(Debug, Subcommand)]
pub enum AlertCommand {
    /// Liệt kê cảnh báo: câu tìm, kênh gửi, các lần gửi gần nhất
    List {
        /// In dạng JSON
        #[arg(long)]
        json: bool,
    },
    /// Gửi thử một cảnh báo ngay (các tin khớp gần nhất) tới mọi kênh của nó
    Test {
        /// Mã cảnh báo
        id: String,
    },
}

/// Batches shown per alert.
const BATCHES_SHOWN: usize = 3;

/// Run `gomtin alert …`.
pub async fn run(config: Config, command: AlertCommand) -> Result<Exit> {
    let app = App::open(config)?;
    match command {
        AlertCommand::List { json } => list(&app, json).await,
        AlertCommand::Test { id } => test(&app, &id).await,
    }
}

fn find(app: &App, id: &str) -> Result<AlertConfig> {
    let config = app.config();
    config.alert(id).cloned().ok_or_else(|| {
        let known: Vec<&str> = config.alerts.iter().map(|a| a.id()).collect();
        Error::Query(format!(
            "không có cảnh báo nào mã `{id}` (có: {})",
            if known.is_empty() {
                "chưa khai báo [[alerts]]".to_string()
            } else {
                known.join(", ")
            }
        ))
    })
}

/// Vietnamese name of a delivery status.
pub fn status_vi(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Pending => "chờ gửi",
        DeliveryStatus::Claimed | DeliveryStatus::Sending => "đang gửi",
        DeliveryStatus::Sent => "đã gửi",
        DeliveryStatus::Failed => "lỗi",
        DeliveryStatus::Unknown => "không rõ (có thể đã tới nơi; không gửi lại)",
        DeliveryStatus::Skipped => "bỏ qua",
    }
}

async fn list(app: &App, json: bool) -> Result<Exit> {
    let config = app.config();
    let ids: Vec<String> = config.alerts.iter().map(|a| a.id().to_string()).collect();
    let store = app.store.clone();
    let summaries = tokio::task::spawn_blocking(move || {
        ids.iter()
            .map(|id| store.alert_summary(id, BATCHES_SHOWN))
            .collect::<Result<Vec<_>>>()
    })
    .await??;
    if json {
        let v: Vec<_> = config
            .alerts
            .iter()
            .zip(&summaries)
            .map(|(a, s)| {
                serde_json::json!({
                    "id": a.id(),
                    "name": a.name,
                    "query": a.query,
                    "tone": a.tone,
                    "to": a.to.iter().map(|t| t.get_ref()).collect::<Vec<_>>(),
                    "webhook": a.webhook.as_ref().map(|w| w.get_ref()),
                    "batch_seconds": a.batch.as_secs(),
                    "enabled": a.enabled,
                    "since": s.first_seen_at,
                    "matches": s.matches,
                    "pending": s.pending,
                    "batches": s.batches.iter().map(|(b, d)| serde_json::json!({
                        "id": b.id,
                        "created_at": b.created_at,
                        "items": b.item_count,
                        "deliveries": d,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(v));
        return Ok(Exit::Ok);
    }
    if config.alerts.is_empty() {
        println!("Chưa có cảnh báo nào ([[alerts]] trong tệp cấu hình).");
    }
    let tz = config.display.timezone;
    let fmt = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&tz).format("%H:%M:%S %d/%m/%Y").to_string()
    };
    for (a, s) in config.alerts.iter().zip(&summaries) {
        println!(
            "{} — {}{}",
            a.id(),
            a.name,
            if a.enabled { "" } else { " (đang tắt)" }
        );
        let mut what = Vec::new();
        if !a.query.trim().is_empty() {
            what.push(format!("câu tìm: {}", a.query));
        }
        if let Some(t) = a.tone {
            what.push(format!("sắc thái: {}", t.label_vi().to_lowercase()));
        }
        println!("    {}", what.join(" · "));
        let mut chans: Vec<String> = a.to.iter().map(|t| t.get_ref().clone()).collect();
        if let Some(w) = &a.webhook {
            chans.push(format!("webhook {}", w.get_ref()));
        }
        println!(
            "    gửi tới: {} · gom tin trong {} giây",
            chans.join(", "),
            a.batch.as_secs()
        );
        println!(
            "    {} tin đã khớp{}{}",
            s.matches,
            s.first_seen_at
                .map(|t| format!(" từ {}", fmt(t)))
                .unwrap_or_default(),
            if s.pending.pending > 0 {
                format!(" · {} tin chờ gửi", s.pending.pending)
            } else {
                String::new()
            }
        );
        if s.batches.is_empty() {
            println!("    chưa gửi lần nào");
        }
        for (b, deliveries) in &s.batches {
            println!(
                "    lần {} lúc {} ({} tin):",
                b.id,
                fmt(b.created_at),
                b.item_count
            );
            for d in deliveries {
                let reply = d.last_reply.as_deref().unwrap_or("");
                println!(
                    "      {} {}: {}{}",
                    if d.channel == "webhook" {
                        "webhook"
                    } else {
                        "thư"
                    },
                    d.target,
                    status_vi(d.status),
                    if d.status == DeliveryStatus::Sent || reply.is_empty() {
                        String::new()
                    } else {
                        format!(" — {reply}")
                    }
                );
            }
        }
    }
    Ok(Exit::Ok)
}

async fn test(app: &App, id: &str) -> Result<Exit> {
    let a = find(app, id)?;
    let results = crate::alerts::send_test(app, &a, chrono::Utc::now()).await?;
    println!("Thử cảnh báo `{}` ({}):", a.id(), a.name);
    let mut failed = false;
    for r in &results {
        failed |= !r.ok;
        println!(
            "  {} {} {}: {}",
            if r.ok { "✓" } else { "✗" },
            if r.channel == "webhook" {
                "webhook"
            } else {
                "thư"
            },
            r.target,
            r.reply
        );
    }
    Ok(if failed { Exit::Partial } else { Exit::Ok })
}
