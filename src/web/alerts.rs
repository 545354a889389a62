//! The alerts page (`GET /alerts`, admins): every `[[alerts]]` entry with its query, tone
//! and channels, how many items it matched, what waits for the next batch, and the last
//! deliveries of each channel with their status and the server's reply — what an admin
//! checks when someone says "I got no alert". Alerts are declared in the config file.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;

use super::auth::Admin;
use super::error::WebError;
use super::state::AppState;
use super::view::{Chrome, full_time, relative_time};
use crate::store::DeliveryStatus;

/// Batches shown per alert.
const BATCHES: usize = 5;

/// Vietnamese name of a delivery status.
fn status_vi(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Pending => "chờ gửi",
        DeliveryStatus::Claimed | DeliveryStatus::Sending => "đang gửi",
        DeliveryStatus::Sent => "đã gửi",
        DeliveryStatus::Failed => "lỗi",
        DeliveryStatus::Unknown => "không rõ (có thể đã tới nơi)",
        DeliveryStatus::Skipped => "bỏ qua",
    }
}

/// `GET /alerts`.
pub async fn page(State(state): State<AppState>, Admin(who): Admin) -> Result<Response, WebError> {
    let config = state.app.config();
    let ids: Vec<String> = config.alerts.iter().map(|a| a.id().to_string()).collect();
    let store = state.app.store.clone();
    let summaries = tokio::task::spawn_blocking(move || {
        ids.iter()
            .map(|id| store.alert_summary(id, BATCHES))
            .collect::<crate::error::Result<Vec<_>>>()
    })
    .await??;
    let (tz, now) = (state.timezone(), Utc::now());
    let alerts: Vec<minijinja::Value> = config
        .alerts
        .iter()
        .zip(&summaries)
        .map(|(a, s)| {
            let rows: Vec<minijinja::Value> = s
                .batches
                .iter()
                .flat_map(|(b, deliveries)| {
                    deliveries.iter().map(move |d| {
                        minijinja::context! {
                            batch => b.id,
                            items => b.item_count,
                            when => relative_time(b.created_at, now, tz),
                            when_full => full_time(b.created_at, tz),
                            channel => if d.channel == "webhook" { "Webhook" } else { "Thư" },
                            target => d.target,
                            status => d.status.as_str(),
                            status_vi => status_vi(d.status),
                            attempts => d.attempts,
                            reply => d.last_reply,
                        }
                    })
                })
                .collect();
            minijinja::context! {
                id => a.id(),
                name => a.name,
                query => a.query,
                tone => a.tone.map(|t| t.label_vi()),
                to => a.to.iter().map(|t| t.get_ref().clone()).collect::<Vec<_>>(),
                webhook => a.webhook.as_ref().map(|w| w.get_ref().clone()),
                batch_seconds => a.batch.as_secs(),
                enabled => a.enabled,
                matches => s.matches,
                pending => s.pending.pending,
                since => s.first_seen_at.map(|t| full_time(t, tz)),
                rows => rows,
            }
        })
        .collect();
    Ok(state.render(
        StatusCode::OK,
        "alerts.html",
        minijinja::context! { chrome => Chrome::at(&who, "admin"), open => "alerts", alerts => alerts },
    ))
}
