//! Alert delivery: the runner the daemon ticks every couple of seconds. Each tick makes
//! abandoned `sending` deliveries `unknown`, gathers every alert's waiting matches into a
//! batch once they are ready (the first is `batch` old, or nothing new came for
//! `QUIET`), and delivers what is due — an email per address through `[smtp]`, a JSON
//! POST to the webhook through the fetcher (its private-address rules, a timeout) — with
//! retries and backoff. `send_test` sends a marked test message without the ledger.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use tokio_util::sync::CancellationToken;

use super::render::{AlertView, bodies, subject, view, webhook_body};
use crate::app::App;
use crate::config::AlertConfig;
use crate::error::{Error, Result};
use crate::fetch::Posted;
use crate::mail::{Mailer, SendOutcome};
use crate::metrics::{Metrics, OutcomeLabels};
use crate::model::Item;
use crate::store::{AlertDelivery, DeliveryStatus};

/// How often the daemon looks.
const TICK: Duration = Duration::from_secs(2);
/// A batch goes out this long after its last match, even before `batch` is over.
const QUIET: Duration = Duration::from_secs(10);
/// Time allowed for a webhook to answer.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// Temporary failures are retried for this long after the batch, then given up.
const GIVE_UP_AFTER: Duration = Duration::from_secs(6 * 3600);
/// Items shown by `gomtin alert test`.
const TEST_ITEMS: usize = 5;

/// How one delivery attempt ended.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AlertAttempt {
    pub alert_id: String,
    pub batch_id: i64,
    pub channel: String,
    pub target: String,
    pub status: DeliveryStatus,
    pub reply: String,
    pub retry_at: Option<DateTime<Utc>>,
}

/// What `send_test` got from one channel.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelResult {
    pub channel: String,
    pub target: String,
    pub ok: bool,
    pub reply: String,
}

/// Backoff before attempt `attempts + 1`: webhooks 2 s, 4 s, 8 s … at most 5 minutes;
/// emails 15 s, 30 s, 1 min … at most 10 minutes.
fn retry_delay(channel: &str, attempts: i64) -> Duration {
    let exp = attempts.saturating_sub(1).clamp(0, 12) as u32;
    let (first, cap) = if channel == "webhook" {
        (2, 300)
    } else {
        (15, 600)
    };
    Duration::from_secs((first * (1u64 << exp)).min(cap))
}

/// The channels of an alert: one per address (lowercased), and the webhook.
fn channels(a: &AlertConfig) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        a.to.iter()
            .map(|t| ("email".to_string(), t.get_ref().trim().to_string()))
            .collect();
    if let Some(w) = &a.webhook {
        out.push(("webhook".to_string(), w.get_ref().trim().to_string()));
    }
    out
}

/// An alert's id and name when it is no longer in the config (its deliveries still go).
fn gone(id: &str) -> AlertConfig {
    AlertConfig {
        id: toml::Spanned::new(0..0, id.to_string()),
        name: id.to_string(),
        query: String::new(),
        tone: None,
        to: Vec::new(),
        webhook: None,
        batch: Duration::from_secs(60),
        enabled: true,
    }
}

/// Delivers alerts; the clock is a parameter.
#[derive(Clone)]
pub struct AlertRunner {
    app: App,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
}

impl AlertRunner {
    pub fn new(app: App, metrics: Arc<Metrics>, shutdown: CancellationToken) -> AlertRunner {
        AlertRunner {
            app,
            metrics,
            shutdown,
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&App) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let app = self.app.clone();
        tokio::task::spawn_blocking(move || f(&app)).await?
    }

    /// An attempt claimed before this is abandoned (its process died).
    fn stale_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let smtp = self
            .app
            .config()
            .smtp
            .as_ref()
            .map_or(Duration::from_secs(60), |s| s.timeout);
        let wait = (smtp * 2).max(WEBHOOK_TIMEOUT * 2) + Duration::from_secs(60);
        now - chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::minutes(5))
    }

    /// One look at the clock: expire abandoned attempts, open the batches that are ready,
    /// deliver what is due. Returns the attempts made.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<Vec<AlertAttempt>> {
        let stale = self.stale_before(now);
        let expired = self
            .blocking(move |app| app.store.expire_stale_alert_sending(stale, now))
            .await?;
        if expired > 0 {
            tracing::warn!(
                deliveries = expired,
                "alert deliveries interrupted while sending marked unknown (not resent)"
            );
            self.count("unknown", expired as u64);
        }
        let alerts: Vec<AlertConfig> = self
            .app
            .config()
            .alerts
            .iter()
            .filter(|a| a.enabled)
            .cloned()
            .collect();
        for a in alerts {
            let quiet = chrono::Duration::from_std(QUIET.min(a.batch)).unwrap_or_default();
            let window = chrono::Duration::from_std(a.batch).unwrap_or_default();
            let id = a.id().to_string();
            let chans = channels(&a);
            let opened = self
                .blocking(move |app| {
                    let p = app.store.pending_alert_matches(&id)?;
                    let ready = match (p.oldest, p.newest) {
                        (Some(oldest), Some(newest)) => {
                            now - newest >= quiet || now - oldest >= window
                        }
                        _ => false,
                    };
                    if !ready {
                        return Ok(None);
                    }
                    app.store.open_alert_batch(&id, &chans, now)
                })
                .await?;
            if let Some(b) = opened {
                tracing::info!(
                    alert = a.id(),
                    batch = b.id,
                    items = b.item_count,
                    "alert batch ready"
                );
            }
        }
        let due = self
            .blocking(move |app| app.store.due_alert_deliveries(now, stale))
            .await?;
        let mut attempts = Vec::new();
        for d in due {
            if self.shutdown.is_cancelled() {
                break;
            }
            let claimed = {
                let d = d.clone();
                self.blocking(move |app| app.store.claim_alert_delivery(&d, now, stale))
                    .await?
            };
            let Some(mine) = claimed else { continue };
            match self.deliver_one(mine, now).await {
                Ok(a) => attempts.push(a),
                Err(e) => tracing::error!(error = %e, "alert delivery could not be recorded"),
            }
        }
        Ok(attempts)
    }

    /// The view of one batch.
    async fn batch_view(&self, batch_id: i64, now: DateTime<Utc>) -> Result<AlertView> {
        self.blocking(move |app| {
            let batch = app
                .store
                .alert_batch(batch_id)?
                .ok_or_else(|| Error::Query(format!("no alert batch {batch_id}")))?;
            let ids = app.store.alert_batch_items(batch_id)?;
            let items = app.store.items_by_ids(&ids)?;
            let a = app
                .config()
                .alert(&batch.alert_id)
                .cloned()
                .unwrap_or_else(|| gone(&batch.alert_id));
            Ok(view(app, &a, &items, batch_id, false, now))
        })
        .await
    }

    async fn deliver_one(&self, d: AlertDelivery, now: DateTime<Utc>) -> Result<AlertAttempt> {
        let v = self.batch_view(d.batch_id, now).await?;
        let marked = {
            let (store, d) = (self.app.store.clone(), d.clone());
            move || async move {
                tokio::task::spawn_blocking(move || store.mark_alert_delivery_sending(&d, now))
                    .await
                    .ok()
                    .and_then(|r| r.ok())
                    .unwrap_or(false)
            }
        };
        let outcome = if d.channel == "webhook" {
            if marked().await {
                post(&self.app, &d.target, &v).await
            } else {
                SendOutcome::Temporary("could not record the attempt in the ledger".into())
            }
        } else {
            email(&self.app, &d.target, &v, marked).await
        };
        let created = self
            .blocking({
                let id = d.batch_id;
                move |app| Ok(app.store.alert_batch(id)?.map(|b| b.created_at))
            })
            .await?
            .unwrap_or(now);
        let since_batch = (now - created).to_std().unwrap_or_default();
        let (status, reply, retry_at) = match outcome {
            SendOutcome::Sent(r) => (DeliveryStatus::Sent, r, None),
            SendOutcome::Permanent(r) => (DeliveryStatus::Failed, r, None),
            SendOutcome::Unknown(r) => (DeliveryStatus::Unknown, r, None),
            SendOutcome::Temporary(r) if since_batch >= GIVE_UP_AFTER => (
                DeliveryStatus::Failed,
                format!("gave up after {} attempts: {r}", d.attempts),
                None,
            ),
            SendOutcome::Temporary(r) => {
                let at = now
                    + chrono::Duration::from_std(retry_delay(&d.channel, d.attempts))
                        .unwrap_or(chrono::Duration::minutes(1));
                (DeliveryStatus::Pending, r, Some(at))
            }
        };
        {
            let (d, reply) = (d.clone(), reply.clone());
            let next = retry_at.unwrap_or(now);
            self.blocking(move |app| {
                app.store
                    .finish_alert_delivery(&d, status, &reply, next, now)
            })
            .await?;
        }
        self.count(
            match status {
                DeliveryStatus::Pending => "retry",
                other => other.as_str(),
            },
            1,
        );
        match status {
            DeliveryStatus::Sent => tracing::info!(
                alert = %v.id, batch = d.batch_id, channel = %d.channel, target = %d.target,
                items = v.count, %reply, "alert sent"
            ),
            DeliveryStatus::Pending => tracing::warn!(
                alert = %v.id, batch = d.batch_id, channel = %d.channel, target = %d.target,
                attempt = d.attempts, %reply, "alert delivery failed; will retry"
            ),
            _ => tracing::error!(
                alert = %v.id, batch = d.batch_id, channel = %d.channel, target = %d.target,
                status = status.as_str(), %reply, "alert delivery not completed; not retried"
            ),
        }
        Ok(AlertAttempt {
            alert_id: v.id,
            batch_id: d.batch_id,
            channel: d.channel,
            target: d.target,
            status,
            reply,
            retry_at,
        })
    }

    fn count(&self, outcome: &str, n: u64) {
        self.metrics
            .alerts
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_string(),
            })
            .inc_by(n);
    }
}

/// The Message-ID of one alert email: the same for every attempt of one delivery.
fn message_id(v: &AlertView, from: &lettre::message::Mailbox, recipient: &str) -> String {
    let mut h = Sha256::new();
    h.update(recipient.trim().to_lowercase().as_bytes());
    h.update(v.generated_at.as_bytes());
    let hash: String = h
        .finalize()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("<gomtin.{}.{hash}@{}>", v.delivery_id, from.email.domain())
}

/// Send the alert email of `v` to `to`; `before_data` records that the message is leaving.
async fn email(
    app: &App,
    to: &str,
    v: &AlertView,
    before_data: impl AsyncFnOnce() -> bool,
) -> SendOutcome {
    let Some(smtp) = app.config().smtp.clone() else {
        return SendOutcome::Permanent("no [smtp] server configured".into());
    };
    let from = match smtp.from.get_ref().parse::<lettre::message::Mailbox>() {
        Ok(f) => f,
        Err(e) => return SendOutcome::Permanent(format!("smtp.from: {e}")),
    };
    let rcpt = match to.parse::<lettre::message::Mailbox>() {
        Ok(r) => r,
        Err(e) => return SendOutcome::Permanent(format!("bad address {to}: {e}")),
    };
    let (text, html) = match bodies(app, v) {
        Ok(b) => b,
        Err(e) => return SendOutcome::Temporary(format!("cannot render the alert: {e}")),
    };
    let message = lettre::Message::builder()
        .from(from.clone())
        .to(rcpt.clone())
        .subject(subject(v))
        .message_id(Some(message_id(v, &from, to)))
        .date(Utc::now().into())
        .multipart(lettre::message::MultiPart::alternative_plain_html(
            text, html,
        ));
    let message = match message {
        Ok(m) => m,
        Err(e) => return SendOutcome::Permanent(format!("cannot build the message: {e}")),
    };
    Mailer::new(&smtp)
        .deliver(&from.email, &rcpt.email, &message.formatted(), before_data)
        .await
}

/// POST the alert's JSON to `url`: 2xx is sent; 408, 429 and 5xx are worth another try,
/// other answers are refusals; a request that may have arrived without an answer is
/// `unknown`.
async fn post(app: &App, url: &str, v: &AlertView) -> SendOutcome {
    let Ok(u) = url::Url::parse(url) else {
        return SendOutcome::Permanent(format!("bad webhook URL {url}"));
    };
    let headers = [
        ("x-gomtin-alert", v.id.clone()),
        ("x-gomtin-delivery", v.delivery_id.clone()),
    ];
    match app
        .fetcher
        .post_json(&u, webhook_body(v), &headers, WEBHOOK_TIMEOUT)
        .await
    {
        Posted::Answered { status, body } => {
            let reply = format!("HTTP {status} {}", body.trim()).trim().to_string();
            match status {
                200..=299 => SendOutcome::Sent(reply),
                408 | 429 | 500..=599 => SendOutcome::Temporary(reply),
                _ => SendOutcome::Permanent(reply),
            }
        }
        Posted::NotSent(e) => SendOutcome::Temporary(e),
        Posted::Refused(e) => SendOutcome::Permanent(e),
        Posted::Lost(e) => SendOutcome::Unknown(format!(
            "the webhook may have received the alert but did not answer ({e}); not resent"
        )),
    }
}

/// `gomtin alert test ID`: the alert's latest matches (at most a few, newest first; none
/// is fine) sent now to every channel as a test, outside the ledger.
pub async fn send_test(
    app: &App,
    a: &AlertConfig,
    now: DateTime<Utc>,
) -> Result<Vec<ChannelResult>> {
    let items: Vec<Item> = {
        let (app2, a2) = (app.clone(), a.clone());
        tokio::task::spawn_blocking(move || -> Result<Vec<Item>> {
            let mut req =
                crate::search::SearchRequest::new(format!("{} sort:date", a2.query), TEST_ITEMS);
            req.tones.extend(a2.tone);
            let hits = app2.search(&req)?.hits;
            let ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
            app2.store.items_by_ids(&ids)
        })
        .await??
    };
    let v = view(app, a, &items, 0, true, now);
    let mut out = Vec::new();
    for (channel, target) in channels(a) {
        let outcome = if channel == "webhook" {
            post(app, &target, &v).await
        } else {
            email(app, &target, &v, async || true).await
        };
        let (ok, reply) = match outcome {
            SendOutcome::Sent(r) => (true, r),
            SendOutcome::Temporary(r) | SendOutcome::Permanent(r) | SendOutcome::Unknown(r) => {
                (false, r)
            }
        };
        out.push(ChannelResult {
            channel,
            target,
            ok,
            reply,
        });
    }
    Ok(out)
}

/// The daemon's alert loop: registers the alerts, then ticks until `shutdown`.
pub async fn run(app: App, metrics: Arc<Metrics>, shutdown: CancellationToken) -> Result<()> {
    {
        let app = app.clone();
        tokio::task::spawn_blocking(move || super::register(&app, Utc::now())).await??;
    }
    let runner = AlertRunner::new(app, metrics, shutdown.clone());
    tracing::info!(
        alerts = runner.app.config().alerts.len(),
        "alert runner started"
    );
    loop {
        if !runner.app.config().alerts.is_empty()
            && let Err(e) = runner.tick(Utc::now()).await
        {
            tracing::error!(error = %e, "alert tick failed");
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(TICK) => {}
        }
    }
    tracing::info!("alert runner stopped");
    Ok(())
}
