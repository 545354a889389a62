//! Digest schedules: the cron times of a `[[digests]]` entry (in its timezone) and the
//! period each scheduled time ends. A period starts where the last recorded one ended, so
//! runs missed while the daemon was down are covered once, by the next period — and a
//! "send now" (`gomtin digest send`, "Gửi ngay") is a period of its own, from the last
//! recorded end up to now: the next scheduled period starts where it ended, and a
//! scheduled time it already covered is not sent at all.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::DigestConfig;
use crate::error::{Error, Result};
use crate::store::Store;

/// What one digest period covers: items first seen in `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

fn cron_of(d: &DigestConfig) -> Result<croner::Cron> {
    d.cron().map_err(|e| Error::ConfigInvalid {
        path: "[[digests]]".into(),
        message: format!("digests.schedule của `{}`: {e}", d.id()),
    })
}

/// The latest scheduled time at or before `now`.
pub fn latest_fire(d: &DigestConfig, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
    let cron = cron_of(d)?;
    Ok(cron
        .find_previous_occurrence(&now.with_timezone(&d.timezone), true)
        .ok()
        .map(|t| t.with_timezone(&Utc)))
}

/// The first scheduled time after `now`.
pub fn next_fire(d: &DigestConfig, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
    let cron = cron_of(d)?;
    Ok(cron
        .find_next_occurrence(&now.with_timezone(&d.timezone), false)
        .ok()
        .map(|t| t.with_timezone(&Utc)))
}

/// The scheduled time strictly before `t`.
fn fire_before(d: &DigestConfig, t: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
    let cron = cron_of(d)?;
    Ok(cron
        .find_previous_occurrence(&t.with_timezone(&d.timezone), false)
        .ok()
        .map(|t| t.with_timezone(&Utc)))
}

/// The period ending at the scheduled time `end`: it starts where the last recorded
/// period before it ended (covering any runs missed while gomtin was down), else where the
/// first period after the digest was first seen would have started.
pub fn period_ending(store: &Store, d: &DigestConfig, end: DateTime<Utc>) -> Result<Period> {
    if let Some(p) = store.digest_period(d.id(), end)? {
        return Ok(Period {
            start: p.start,
            end: p.end,
        });
    }
    let before = end - chrono::Duration::seconds(1);
    let start = match store.latest_digest_period(d.id(), before)? {
        Some(p) => p.end,
        None => first_start(store, d, end)?,
    };
    Ok(Period { start, end })
}

/// Where the first period of a digest starts when none is recorded before `end`: where
/// the first period due after the digest was first seen would have started, so runs
/// missed before this one are covered too.
fn first_start(store: &Store, d: &DigestConfig, end: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let first_due = match store.digest_state(d.id())? {
        Some((first_seen, _)) => next_fire(d, first_seen)?
            .filter(|t| *t <= end)
            .unwrap_or(end),
        None => end,
    };
    Ok(fire_before(d, first_due)?.unwrap_or(first_due - chrono::Duration::days(1)))
}

/// The period a send now ending at `end` covers: from where the latest recorded period
/// ended (any trigger), else from where the first scheduled one would have started.
pub fn send_now_period(store: &Store, d: &DigestConfig, end: DateTime<Utc>) -> Result<Period> {
    let start = match store.latest_digest_period(d.id(), end)? {
        Some(p) => p.end.min(end),
        None => first_start(store, d, end)?,
    };
    Ok(Period { start, end })
}

/// True when a recorded period ends after the scheduled time `end`: a send now already
/// covered it, and it is not sent on its own.
pub fn covered(store: &Store, d: &DigestConfig, end: DateTime<Utc>) -> Result<bool> {
    Ok(store
        .latest_digest_period(d.id(), DateTime::<Utc>::MAX_UTC)?
        .is_some_and(|p| p.end > end))
}

/// The end of a send now at `now`: the next whole second, so that an item stored in the
/// same second as the send (first seen times are whole seconds) is in it.
pub fn send_now_end(now: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::{SubsecRound, Timelike};
    if now.nanosecond() == 0 {
        now
    } else {
        now.trunc_subsecs(0) + chrono::Duration::seconds(1)
    }
}
