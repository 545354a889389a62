//! Alerts: `[[alerts]]` entries (a query in the search language, optionally a tone) whose
//! new matches go out at once, by email through `mail` and/or as a JSON POST to a webhook.
//! A flow beside `digest`, after the store.
//!
//! Right after items are stored (`pipeline::after_store`), [`collect`] reads the change
//! log past each alert's mark, matches the items with the same query engine as search
//! (`topics::TopicTagger`: an in-memory index of the batch) and records each new
//! (alert, item) pair in the ledger (`store::alerts`) — once, whatever happens later. The
//! daemon's runner (`deliver`) gathers an alert's waiting matches into one batch when the
//! first of them is `batch` old (a minute by default) or nothing new came for a few
//! seconds, so a burst is one message, records one delivery per address and webhook, and
//! delivers them as digests are delivered: claimed, marked before the message leaves,
//! retried with backoff on a temporary failure, never resent once it may have arrived.
//! `render` makes the email (templates beside the config, as for digests) and the JSON.

mod deliver;
mod render;

use chrono::{DateTime, Utc};

use crate::app::App;
use crate::config::{AlertConfig, TopicConfig};
use crate::error::Result;
use crate::topics::TopicTagger;

pub use deliver::{AlertAttempt, AlertRunner, ChannelResult, run, send_test};
pub use render::{
    ALERT_HTML, ALERT_TEXT, AlertItemView, AlertView, bodies, subject, view, webhook_body,
};

/// Items read from the change log per step.
const LOG_BATCH: usize = 1_000;

/// The alerts that are on.
fn enabled(app: &App) -> Vec<AlertConfig> {
    app.config()
        .alerts
        .iter()
        .filter(|a| a.enabled)
        .cloned()
        .collect()
}

/// Note every enabled alert as existing from `now` (the first time only): items stored
/// before an alert existed never alert. The daemon and a fetch pass call it before they
/// store anything; [`collect`] does too.
pub fn register(app: &App, now: DateTime<Utc>) -> Result<()> {
    for a in enabled(app) {
        app.store.alert_seen(a.id(), now)?;
    }
    Ok(())
}

/// Record the new matches of every enabled alert among the items stored since it last
/// looked (blocking). Returns how many (alert, item) pairs were new.
pub fn collect(app: &App, now: DateTime<Utc>) -> Result<usize> {
    let alerts = enabled(app);
    if alerts.is_empty() {
        return Ok(0);
    }
    let states: Vec<(DateTime<Utc>, i64)> = alerts
        .iter()
        .map(|a| app.store.alert_seen(a.id(), now))
        .collect::<Result<_>>()?;
    let max_seq = app.store.max_seq()?;
    let Some(mut seq) = states.iter().map(|s| s.1).min().filter(|s| *s < max_seq) else {
        return Ok(0);
    };
    let topics: Vec<TopicConfig> = alerts
        .iter()
        .map(|a| TopicConfig {
            id: toml::Spanned::new(0..0, a.id().to_string()),
            name: a.name.clone(),
            query: a.query.clone(),
            tone: a.tone,
        })
        .collect();
    let tagger = TopicTagger::new(
        &topics,
        (*app.variants()).clone(),
        app.config().display.timezone,
    )?;
    let mut added = 0;
    loop {
        let batch = app.store.items_after_seq(seq, LOG_BATCH)?;
        let Some(last) = batch.last().map(|i| i.seq) else {
            break;
        };
        let tags = tagger.tag(&batch)?;
        for (a, (since, checked)) in alerts.iter().zip(&states) {
            if last <= *checked {
                continue;
            }
            let ids: Vec<i64> = batch
                .iter()
                .filter(|i| i.seq > *checked && i.first_seen_at >= *since)
                .filter(|i| {
                    tags.get(&i.id)
                        .is_some_and(|t| t.iter().any(|x| x == a.id()))
                })
                .map(|i| i.id)
                .collect();
            let new = app.store.record_alert_matches(a.id(), &ids, last, now)?;
            if new > 0 {
                tracing::info!(alert = a.id(), matches = new, "new alert matches");
            }
            added += new;
        }
        seq = last;
        if batch.len() < LOG_BATCH {
            break;
        }
    }
    Ok(added)
}
