//! Digest delivery: the ledger's state machine (`store::digests`). A due period is
//! recorded with one delivery per recipient before anything is sent; each delivery moves
//! `pending -> claimed -> sending -> sent` (or `failed` with the server's reply, or
//! `unknown` when the server got the data but its final reply was lost: never resent on
//! its own), temporary failures are retried with backoff, and `run` is the daemon's loop.
//! The clock is a parameter (`now`) everywhere.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use tokio_util::sync::CancellationToken;

use super::render::{Rendered, prepare};
use super::schedule::{Period, latest_fire, next_fire, period_ending};
use super::select::build_view;
use crate::app::App;
use crate::config::DigestConfig;
use crate::error::{Error, Result};
use crate::mail::{Mailer, SendOutcome, retry_delay};
use crate::metrics::{Metrics, OutcomeLabels};
use crate::store::{Claim, Delivery, DeliveryStatus, DigestPeriod, NewDelivery};

/// Longest sleep of the daemon's digest loop between two looks at the clock.
const MAX_TICK: Duration = Duration::from_secs(30);
/// Temporary failures are retried for this long after the period ended, then given up.
const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The Message-ID of one delivery: the same for every attempt of (digest, period,
/// recipient); a forced resend adds `resend` so mail clients show it.
pub fn message_id(
    d: &DigestConfig,
    from: &lettre::message::Mailbox,
    end: DateTime<Utc>,
    recipient: &str,
    resend: Option<i64>,
) -> String {
    let mut h = Sha256::new();
    h.update(recipient.trim().to_lowercase().as_bytes());
    let hash: String = h
        .finalize()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect();
    let suffix = resend.map(|n| format!(".r{n}")).unwrap_or_default();
    format!(
        "<gomtin.{}.{}.{hash}{suffix}@{}>",
        d.id(),
        end.format("%Y%m%dT%H%MZ"),
        from.email.domain()
    )
}

/// The full message for one recipient.
fn build_message(
    from: &lettre::message::Mailbox,
    to: &lettre::message::Mailbox,
    message_id: &str,
    r: &Rendered,
    now: DateTime<Utc>,
) -> std::result::Result<lettre::Message, String> {
    lettre::Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject(r.subject.clone())
        .message_id(Some(message_id.to_string()))
        .date(now.into())
        .multipart(lettre::message::MultiPart::alternative_plain_html(
            r.text.clone(),
            r.html.clone(),
        ))
        .map_err(|e| e.to_string())
}

/// How one delivery attempt ended, for logs, tests and the command line.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Attempt {
    pub digest_id: String,
    pub period_end: DateTime<Utc>,
    pub recipient: String,
    pub status: DeliveryStatus,
    pub reply: String,
    /// When the next attempt is due (status `pending`).
    pub retry_at: Option<DateTime<Utc>>,
}

/// What `send` did.
#[derive(Debug, Clone, Serialize)]
pub struct SendReport {
    pub period: Period,
    /// The period had been handled already; nothing was sent.
    pub already_done: bool,
    pub deliveries: Vec<Delivery>,
    pub attempts: Vec<Attempt>,
}

/// Opens due periods and delivers them; the clock is always a parameter.
#[derive(Clone)]
pub struct DigestRunner {
    app: App,
    mailer: Mailer,
    from: lettre::message::Mailbox,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
}

impl DigestRunner {
    /// A runner for the app's `[smtp]`; `None` when there is no `[smtp]`.
    pub fn new(
        app: App,
        metrics: Arc<Metrics>,
        shutdown: CancellationToken,
    ) -> Result<Option<Self>> {
        let Some(smtp) = app.config().smtp.clone() else {
            return Ok(None);
        };
        let from = smtp
            .from
            .get_ref()
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| Error::ConfigInvalid {
                path: app.config().path.clone(),
                message: format!("smtp.from: {e}"),
            })?;
        Ok(Some(DigestRunner {
            mailer: Mailer::new(&smtp),
            app,
            from,
            metrics,
            shutdown,
        }))
    }

    /// An attempt claimed before this is abandoned (its process died).
    fn stale_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let timeout = self
            .app
            .config()
            .smtp
            .as_ref()
            .map(|s| s.timeout)
            .unwrap_or(Duration::from_secs(60));
        now - chrono::Duration::from_std(timeout * 2 + Duration::from_secs(60))
            .unwrap_or(chrono::Duration::minutes(5))
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&App) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let app = self.app.clone();
        tokio::task::spawn_blocking(move || f(&app)).await?
    }

    /// One look at every digest at `now`: record the period that ended (if new and the
    /// digest existed then), deliver what is due. Returns the attempts made.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<Vec<Attempt>> {
        let stale = self.stale_before(now);
        let expired = self
            .blocking(move |app| app.store.expire_stale_sending(stale, now))
            .await?;
        if expired > 0 {
            tracing::warn!(
                deliveries = expired,
                "digest deliveries interrupted mid-transmission marked unknown (not resent)"
            );
            self.count("unknown", expired as u64);
        }
        let mut attempts = Vec::new();
        for d in self.app.config().digests.clone() {
            if self.shutdown.is_cancelled() {
                break;
            }
            match self.check(&d, now).await {
                Ok(mut a) => attempts.append(&mut a),
                Err(e) => tracing::error!(digest = d.id(), error = %e, "digest check failed"),
            }
        }
        Ok(attempts)
    }

    async fn check(&self, d: &DigestConfig, now: DateTime<Utc>) -> Result<Vec<Attempt>> {
        let id = d.id().to_string();
        let first_seen = self
            .blocking(move |app| app.store.digest_seen(&id, now))
            .await?;
        if let Some(end) = latest_fire(d, now)?
            && end > first_seen
        {
            self.open_period(d, end, "schedule", now).await?;
        }
        let attempts = self.deliver_due(d, now, None).await?;
        let id = d.id().to_string();
        self.blocking(move |app| app.store.digest_checked(&id, now))
            .await?;
        Ok(attempts)
    }

    /// Record the period ending at `end` with one delivery per recipient, unless it is
    /// recorded already. Returns true when it was created.
    pub async fn open_period(
        &self,
        d: &DigestConfig,
        end: DateTime<Utc>,
        trigger: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let (d2, from, trigger) = (d.clone(), self.from.clone(), trigger.to_string());
        let created = self
            .blocking(move |app| {
                if app.store.digest_period(d2.id(), end)?.is_some() {
                    return Ok(None);
                }
                let period = period_ending(&app.store, &d2, end)?;
                let view = build_view(app, &d2, period)?;
                let status = if view.total == 0 && d2.skip_empty {
                    DeliveryStatus::Skipped
                } else {
                    DeliveryStatus::Pending
                };
                let deliveries: Vec<NewDelivery> = d2
                    .to
                    .iter()
                    .map(|to| {
                        let recipient = to.get_ref().trim().to_string();
                        NewDelivery {
                            message_id: message_id(&d2, &from, end, &recipient, None),
                            recipient,
                            status,
                        }
                    })
                    .collect();
                let row = DigestPeriod {
                    digest_id: d2.id().to_string(),
                    start: period.start,
                    end: period.end,
                    item_count: view.total as i64,
                    trigger,
                    created_at: now,
                };
                let created = app.store.create_digest_period(&row, &deliveries)?;
                Ok(created.then_some((period, view.total, status)))
            })
            .await?;
        match created {
            Some((period, items, status)) => {
                tracing::info!(
                    digest = d.id(),
                    start = %period.start,
                    end = %period.end,
                    items,
                    skipped = status == DeliveryStatus::Skipped,
                    "digest period recorded"
                );
                if status == DeliveryStatus::Skipped {
                    self.count("skipped", d.to.len() as u64);
                }
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Deliver what is due for `d`: everything pending and due, or — for a manual send of
    /// `only` — every pending delivery of that period, due or not.
    async fn deliver_due(
        &self,
        d: &DigestConfig,
        now: DateTime<Utc>,
        only: Option<DateTime<Utc>>,
    ) -> Result<Vec<Attempt>> {
        let stale = self.stale_before(now);
        let id = d.id().to_string();
        let due = self
            .blocking(move |app| match only {
                Some(end) => Ok(app
                    .store
                    .digest_deliveries(&id, end)?
                    .into_iter()
                    .filter(|x| {
                        x.status == DeliveryStatus::Pending
                            || (x.status == DeliveryStatus::Claimed
                                && x.claimed_at.is_some_and(|c| c < stale))
                    })
                    .collect::<Vec<_>>()),
                None => app.store.due_deliveries(&id, now, stale),
            })
            .await?;
        let mut rendered: HashMap<DateTime<Utc>, Arc<Rendered>> = HashMap::new();
        let mut attempts = Vec::new();
        for delivery in due {
            if self.shutdown.is_cancelled() {
                break;
            }
            let ignore_schedule = only.is_some();
            let claim = {
                let del = delivery.clone();
                self.blocking(move |app| {
                    app.store.claim_delivery(&del, now, stale, ignore_schedule)
                })
                .await?
            };
            let Claim::Mine(mine) = claim else {
                continue;
            };
            let r = match rendered.get(&mine.period_end) {
                Some(r) => r.clone(),
                None => {
                    let (d2, end) = (d.clone(), mine.period_end);
                    let r = Arc::new(
                        self.blocking(move |app| {
                            let period = period_ending(&app.store, &d2, end)?;
                            prepare(app, &d2, period)
                        })
                        .await?,
                    );
                    rendered.insert(mine.period_end, r.clone());
                    r
                }
            };
            attempts.push(self.deliver_one(d, mine, &r, now).await?);
        }
        Ok(attempts)
    }

    async fn deliver_one(
        &self,
        d: &DigestConfig,
        del: Delivery,
        r: &Rendered,
        now: DateTime<Utc>,
    ) -> Result<Attempt> {
        let built = del
            .recipient
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| e.to_string())
            .and_then(|to| {
                build_message(&self.from, &to, &del.message_id, r, now).map(|m| (to, m))
            });
        let outcome = match built {
            Ok((to, message)) => {
                let bytes = message.formatted();
                let store = self.app.store.clone();
                let marked = del.clone();
                self.mailer
                    .deliver(&self.from.email, &to.email, &bytes, async move || {
                        tokio::task::spawn_blocking(move || {
                            store.mark_delivery_sending(&marked, now)
                        })
                        .await
                        .ok()
                        .and_then(|r| r.ok())
                        .unwrap_or(false)
                    })
                    .await
            }
            Err(e) => SendOutcome::Permanent(format!("cannot build the message: {e}")),
        };
        let age = (now - del.period_end).to_std().unwrap_or_default();
        let (status, reply, retry_at) = match outcome {
            SendOutcome::Sent(reply) => (DeliveryStatus::Sent, reply, None),
            SendOutcome::Permanent(reply) => (DeliveryStatus::Failed, reply, None),
            SendOutcome::Unknown(reply) => (DeliveryStatus::Unknown, reply, None),
            SendOutcome::Temporary(reply) if age >= GIVE_UP_AFTER => (
                DeliveryStatus::Failed,
                format!(
                    "gave up after {} attempts over {}h: {reply}",
                    del.attempts,
                    GIVE_UP_AFTER.as_secs() / 3600
                ),
                None,
            ),
            SendOutcome::Temporary(reply) => {
                let at = now
                    + chrono::Duration::from_std(retry_delay(del.attempts))
                        .unwrap_or(chrono::Duration::minutes(30));
                (DeliveryStatus::Pending, reply, Some(at))
            }
        };
        let next = retry_at.unwrap_or(now);
        {
            let (del, reply) = (del.clone(), reply.clone());
            self.blocking(move |app| app.store.finish_delivery(&del, status, &reply, next, now))
                .await?;
        }
        let label = match status {
            DeliveryStatus::Pending => "retry",
            other => other.as_str(),
        };
        self.count(label, 1);
        match status {
            DeliveryStatus::Sent => tracing::info!(
                digest = d.id(), recipient = %del.recipient, period_end = %del.period_end,
                items = r.total, %reply, "digest sent"
            ),
            DeliveryStatus::Pending => tracing::warn!(
                digest = d.id(), recipient = %del.recipient, attempt = del.attempts,
                %reply, retry_at = %next, "digest delivery failed; will retry"
            ),
            _ => tracing::error!(
                digest = d.id(), recipient = %del.recipient, status = status.as_str(),
                %reply, "digest delivery not completed; not retried automatically"
            ),
        }
        Ok(Attempt {
            digest_id: d.id().to_string(),
            period_end: del.period_end,
            recipient: del.recipient,
            status,
            reply,
            retry_at,
        })
    }

    fn count(&self, outcome: &str, n: u64) {
        self.metrics
            .digests
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_string(),
            })
            .inc_by(n);
    }

    /// `gomtin digest send`: the period that ended last (recorded like a scheduled run),
    /// sent now. Without `force`, a period already handled is not sent again.
    pub async fn send_now(
        &self,
        d: &DigestConfig,
        now: DateTime<Utc>,
        force: bool,
    ) -> Result<SendReport> {
        let id = d.id().to_string();
        self.blocking(move |app| app.store.digest_seen(&id, now))
            .await?;
        let end = latest_fire(d, now)?.ok_or_else(|| {
            Error::Query(format!("lịch của bản tin `{}` chưa từng đến hạn", d.id()))
        })?;
        self.open_period(d, end, "manual", now).await?;
        let id = d.id().to_string();
        let deliveries = self
            .blocking(move |app| app.store.digest_deliveries(&id, end))
            .await?;
        let nothing_pending = deliveries.iter().all(|x| x.status.is_final());
        if nothing_pending && !force {
            let store = self.app.store.clone();
            let d2 = d.clone();
            let period =
                tokio::task::spawn_blocking(move || period_ending(&store, &d2, end)).await??;
            return Ok(SendReport {
                period,
                already_done: true,
                deliveries,
                attempts: Vec::new(),
            });
        }
        if force {
            for x in deliveries.iter().filter(|x| x.status.is_final()) {
                let mid = message_id(d, &self.from, end, &x.recipient, Some(now.timestamp()));
                let (x, mid2) = (x.clone(), mid.clone());
                self.blocking(move |app| app.store.requeue_delivery(&x, &mid2, now))
                    .await?;
            }
        }
        let attempts = self.deliver_due(d, now, Some(end)).await?;
        let (store, d2) = (self.app.store.clone(), d.clone());
        let (period, deliveries) = tokio::task::spawn_blocking(move || {
            Ok::<_, Error>((
                period_ending(&store, &d2, end)?,
                store.digest_deliveries(d2.id(), end)?,
            ))
        })
        .await??;
        Ok(SendReport {
            period,
            already_done: false,
            deliveries,
            attempts,
        })
    }

    /// When the daemon should look again: the next scheduled time or retry, at most
    /// `MAX_TICK` away.
    fn next_wake(&self, now: DateTime<Utc>) -> Duration {
        let mut wait = MAX_TICK;
        for d in &self.app.config().digests {
            if let Ok(Some(t)) = next_fire(d, now) {
                let until = (t - now).to_std().unwrap_or_default();
                wait = wait.min(until + Duration::from_millis(200));
            }
        }
        wait
    }
}

/// The daemon's digest loop: look every few seconds (and right at each scheduled time)
/// until `shutdown`. A delivery in flight finishes before the loop stops. A config reload
/// (`App::config_changes`: a digest or `[smtp]` added or changed from the web, `SIGHUP`)
/// rebuilds the runner at once, so a digest added to a running daemon is sent on time;
/// without digests or `[smtp]` it only waits for the next reload.
pub async fn run(app: App, metrics: Arc<Metrics>, shutdown: CancellationToken) -> Result<()> {
    let mut changes = app.config_changes();
    let mut runner: Option<DigestRunner> = None;
    let mut fresh = true;
    loop {
        if fresh {
            fresh = false;
            runner = None;
            if !app.config().digests.is_empty() {
                match DigestRunner::new(app.clone(), metrics.clone(), shutdown.clone()) {
                    Ok(Some(r)) => {
                        tracing::info!(
                            digests = r.app.config().digests.len(),
                            smtp = %r.mailer.server(),
                            "digest runner started"
                        );
                        runner = Some(r);
                    }
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %e, "digest runner cannot start"),
                }
            }
        }
        let wait = match &runner {
            Some(r) => {
                if let Err(e) = r.tick(Utc::now()).await {
                    tracing::error!(error = %e, "digest tick failed");
                }
                r.next_wake(Utc::now())
            }
            None => MAX_TICK,
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(wait) => {}
            Ok(()) = changes.changed() => fresh = true,
        }
    }
    if runner.is_some() {
        tracing::info!("digest runner stopped");
    }
    Ok(())
}
