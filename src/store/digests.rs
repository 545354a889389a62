//! The digest ledger in SQLite: when each digest was first seen (periods before that are
//! never sent), one row per (digest, period) saying what it covers, and one delivery per
//! (digest, period, recipient) that moves `pending -> claimed -> sending -> sent`, or ends
//! `failed` (permanent refusal, with the server's reply) or `unknown` (the message left us
//! but the server's final reply never came). `digest` drives these transitions; every one
//! is a single committed statement, so a crash leaves a state the next run can read.
//! Claims are compare-and-set updates, so two processes cannot send the same delivery.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use super::items::{ITEM_COLUMNS, item_from_row};
use super::{Store, from_ts, ts};
use crate::error::Result;
use crate::model::Item;

/// Where one delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its (next) attempt at `next_attempt_at`.
    Pending,
    /// An attempt is running (before the message data is sent).
    Claimed,
    /// The message data is being transmitted; a crash here leaves it `Unknown`.
    Sending,
    /// The server accepted the message (250 after the data).
    Sent,
    /// Refused for good (5xx) or given up after temporary failures.
    Failed,
    /// The message was transmitted but no final reply came: maybe delivered, never resent
    /// automatically (`gomtin digest send --force` resends).
    Unknown,
    /// Nothing to send (`skip_empty` and no items).
    Skipped,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Claimed => "claimed",
            DeliveryStatus::Sending => "sending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Unknown => "unknown",
            DeliveryStatus::Skipped => "skipped",
        }
    }

    fn parse(s: &str) -> DeliveryStatus {
        match s {
            "pending" => DeliveryStatus::Pending,
            "claimed" => DeliveryStatus::Claimed,
            "sending" => DeliveryStatus::Sending,
            "sent" => DeliveryStatus::Sent,
            "failed" => DeliveryStatus::Failed,
            "skipped" => DeliveryStatus::Skipped,
            _ => DeliveryStatus::Unknown,
        }
    }

    /// True when no further attempt will be made on its own.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            DeliveryStatus::Sent
                | DeliveryStatus::Failed
                | DeliveryStatus::Unknown
                | DeliveryStatus::Skipped
        )
    }
}

/// One (digest, period) row: what the period covers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DigestPeriod {
    pub digest_id: String,
    /// Items first seen at or after this...
    pub start: DateTime<Utc>,
    /// ...and before this (the scheduled time; also the period's key).
    pub end: DateTime<Utc>,
    pub item_count: i64,
    /// `schedule` or `manual`.
    pub trigger: String,
    pub created_at: DateTime<Utc>,
}

/// One (digest, period, recipient) row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    pub digest_id: String,
    pub period_end: DateTime<Utc>,
    pub recipient: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub message_id: String,
    /// The server's last reply (or what went wrong on our side).
    pub last_reply: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// A delivery to create with its period.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub recipient: String,
    pub message_id: String,
    pub status: DeliveryStatus,
}

/// What a claim attempt found.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This caller owns the attempt now.
    Mine(Delivery),
    /// Not due, already final, or another process holds it.
    Busy,
}

const DELIVERY_COLUMNS: &str = "digest_id, period_end, recipient, status, attempts,
    next_attempt_at, claimed_at, message_id, last_reply, sent_at";

fn delivery_from_row(r: &Row<'_>) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        digest_id: r.get(0)?,
        period_end: from_ts(r.get(1)?),
        recipient: r.get(2)?,
        status: DeliveryStatus::parse(&r.get::<_, String>(3)?),
        attempts: r.get(4)?,
        next_attempt_at: from_ts(r.get(5)?),
        claimed_at: r.get::<_, Option<i64>>(6)?.map(from_ts),
        message_id: r.get(7)?,
        last_reply: r.get(8)?,
        sent_at: r.get::<_, Option<i64>>(9)?.map(from_ts),
    })
}

fn period_from_row(r: &Row<'_>) -> rusqlite::Result<DigestPeriod> {
    Ok(DigestPeriod {
        digest_id: r.get(0)?,
        start: from_ts(r.get(1)?),
        end: from_ts(r.get(2)?),
        item_count: r.get(3)?,
        trigger: r.get(4)?,
        created_at: from_ts(r.get(5)?),
    })
}

const PERIOD_COLUMNS: &str = "digest_id, period_start, period_end, item_count, trigger, created_at";

impl Store {
    /// Note that the daemon (or a command) looked at `digest_id` at `now`; returns when it
    /// was first seen. Periods that ended before that are not sent.
    pub fn digest_seen(&self, digest_id: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO digest_state (digest_id, first_seen_at, last_checked_at)
             VALUES (?1, ?2, ?2)
             ON CONFLICT (digest_id) DO UPDATE SET last_checked_at = ?2",
            params![digest_id, ts(now)],
        )?;
        let first: i64 = conn.query_row(
            "SELECT first_seen_at FROM digest_state WHERE digest_id = ?1",
            [digest_id],
            |r| r.get(0),
        )?;
        Ok(from_ts(first))
    }

    /// Count one completed check of `digest_id` (every due delivery attempted).
    pub fn digest_checked(&self, digest_id: &str, now: DateTime<Utc>) -> Result<()> {
        self.conn().execute(
            "UPDATE digest_state SET checks = checks + 1, last_checked_at = ?2 WHERE digest_id = ?1",
            params![digest_id, ts(now)],
        )?;
        Ok(())
    }

    /// When the digest was first seen and how many checks completed, if ever seen.
    pub fn digest_state(&self, digest_id: &str) -> Result<Option<(DateTime<Utc>, i64)>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT first_seen_at, checks FROM digest_state WHERE digest_id = ?1",
                [digest_id],
                |r| Ok((from_ts(r.get(0)?), r.get(1)?)),
            )
            .optional()?)
    }

    /// The period of `digest_id` ending at `end`, if recorded.
    pub fn digest_period(
        &self,
        digest_id: &str,
        end: DateTime<Utc>,
    ) -> Result<Option<DigestPeriod>> {
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {PERIOD_COLUMNS} FROM digest_periods WHERE digest_id = ?1 AND period_end = ?2"
                ),
                params![digest_id, ts(end)],
                period_from_row,
            )
            .optional()?)
    }

    /// The last `limit` recorded periods of `digest_id`, newest first, each with its
    /// deliveries (the admin's ledger view).
    pub fn recent_digest_periods(
        &self,
        digest_id: &str,
        limit: usize,
    ) -> Result<Vec<(DigestPeriod, Vec<Delivery>)>> {
        let periods = {
            let conn = self.conn();
            let mut stmt = conn.prepare(&format!(
                "SELECT {PERIOD_COLUMNS} FROM digest_periods WHERE digest_id = ?1
                 ORDER BY period_end DESC LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![digest_id, limit as i64], period_from_row)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        let mut out = Vec::with_capacity(periods.len());
        for p in periods {
            let deliveries = self.digest_deliveries(digest_id, p.end)?;
            out.push((p, deliveries));
        }
        Ok(out)
    }

    /// The latest recorded period of `digest_id` ending at or before `at`.
    pub fn latest_digest_period(
        &self,
        digest_id: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<DigestPeriod>> {
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {PERIOD_COLUMNS} FROM digest_periods
                     WHERE digest_id = ?1 AND period_end <= ?2
                     ORDER BY period_end DESC LIMIT 1"
                ),
                params![digest_id, ts(at)],
                period_from_row,
            )
            .optional()?)
    }

    /// Record a period with its deliveries in one transaction. Returns false (and changes
    /// nothing) when the period was already recorded.
    pub fn create_digest_period(
        &self,
        period: &DigestPeriod,
        deliveries: &[NewDelivery],
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO digest_periods
                (digest_id, period_end, period_start, item_count, trigger, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                period.digest_id,
                ts(period.end),
                ts(period.start),
                period.item_count,
                period.trigger,
                ts(period.created_at)
            ],
        )?;
        if inserted == 0 {
            return Ok(false);
        }
        for d in deliveries {
            tx.execute(
                "INSERT INTO digest_deliveries (digest_id, period_end, recipient, status,
                    next_attempt_at, message_id, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5)",
                params![
                    period.digest_id,
                    ts(period.end),
                    d.recipient,
                    d.status.as_str(),
                    ts(period.created_at),
                    d.message_id
                ],
            )?;
        }
        tx.commit()?;
        Ok(true)
    }

    /// Every delivery of one period, by recipient.
    pub fn digest_deliveries(&self, digest_id: &str, end: DateTime<Utc>) -> Result<Vec<Delivery>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM digest_deliveries
             WHERE digest_id = ?1 AND period_end = ?2 ORDER BY recipient"
        ))?;
        let rows = stmt.query_map(params![digest_id, ts(end)], delivery_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Deliveries of `digest_id` (any period) that an attempt could take now: pending and
    /// due, or claimed by an attempt that started before `stale_before` and never finished.
    pub fn due_deliveries(
        &self,
        digest_id: &str,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<Vec<Delivery>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM digest_deliveries
             WHERE digest_id = ?1 AND ((status = 'pending' AND next_attempt_at <= ?2)
                OR (status = 'claimed' AND claimed_at < ?3))
             ORDER BY period_end, recipient"
        ))?;
        let rows = stmt.query_map(
            params![digest_id, ts(now), ts(stale_before)],
            delivery_from_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Take one delivery for an attempt (compare-and-set). `ignore_schedule` lets a manual
    /// send take a pending delivery whose retry time has not come yet.
    pub fn claim_delivery(
        &self,
        d: &Delivery,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
        ignore_schedule: bool,
    ) -> Result<Claim> {
        let conn = self.conn();
        let changed = conn.execute(
            "UPDATE digest_deliveries
             SET status = 'claimed', claimed_at = ?4, attempts = attempts + 1, updated_at = ?4
             WHERE digest_id = ?1 AND period_end = ?2 AND recipient = ?3
               AND ((status = 'pending' AND (next_attempt_at <= ?4 OR ?6))
                 OR (status = 'claimed' AND claimed_at < ?5))",
            params![
                d.digest_id,
                ts(d.period_end),
                d.recipient,
                ts(now),
                ts(stale_before),
                ignore_schedule
            ],
        )?;
        if changed == 0 {
            return Ok(Claim::Busy);
        }
        let got = conn.query_row(
            &format!(
                "SELECT {DELIVERY_COLUMNS} FROM digest_deliveries
                 WHERE digest_id = ?1 AND period_end = ?2 AND recipient = ?3"
            ),
            params![d.digest_id, ts(d.period_end), d.recipient],
            delivery_from_row,
        )?;
        Ok(Claim::Mine(got))
    }

    /// The message data is about to go out: from here on a crash means "maybe delivered".
    pub fn mark_delivery_sending(&self, d: &Delivery, now: DateTime<Utc>) -> Result<bool> {
        let changed = self.conn().execute(
            "UPDATE digest_deliveries SET status = 'sending', updated_at = ?4
             WHERE digest_id = ?1 AND period_end = ?2 AND recipient = ?3 AND status = 'claimed'",
            params![d.digest_id, ts(d.period_end), d.recipient, ts(now)],
        )?;
        Ok(changed == 1)
    }

    /// Record how an attempt ended. `next_attempt_at` is used when `status` is `Pending`.
    pub fn finish_delivery(
        &self,
        d: &Delivery,
        status: DeliveryStatus,
        reply: &str,
        next_attempt_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.conn().execute(
            "UPDATE digest_deliveries
             SET status = ?4, last_reply = ?5, next_attempt_at = ?6, claimed_at = NULL,
                 sent_at = CASE WHEN ?4 = 'sent' THEN ?7 ELSE sent_at END, updated_at = ?7
             WHERE digest_id = ?1 AND period_end = ?2 AND recipient = ?3",
            params![
                d.digest_id,
                ts(d.period_end),
                d.recipient,
                status.as_str(),
                reply,
                ts(next_attempt_at),
                ts(now)
            ],
        )?;
        Ok(())
    }

    /// Deliveries left `sending` by an attempt that started before `stale_before` (the
    /// process died mid-transmission) become `unknown`: maybe delivered, so never resent
    /// on their own. Returns how many.
    pub fn expire_stale_sending(
        &self,
        stale_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        Ok(self.conn().execute(
            "UPDATE digest_deliveries
             SET status = 'unknown', claimed_at = NULL, updated_at = ?2,
                 last_reply = 'gomtin stopped while the message was being transmitted; it may have been delivered, so it is not resent automatically'
             WHERE status = 'sending' AND claimed_at < ?1",
            params![ts(stale_before), ts(now)],
        )?)
    }

    /// Put a finished delivery back to `pending` under a new Message-ID (`send --force`).
    pub fn requeue_delivery(
        &self,
        d: &Delivery,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let changed = self.conn().execute(
            "UPDATE digest_deliveries
             SET status = 'pending', message_id = ?4, next_attempt_at = ?5, updated_at = ?5
             WHERE digest_id = ?1 AND period_end = ?2 AND recipient = ?3
               AND status IN ('sent', 'failed', 'unknown', 'skipped', 'pending')",
            params![
                d.digest_id,
                ts(d.period_end),
                d.recipient,
                message_id,
                ts(now)
            ],
        )?;
        Ok(changed == 1)
    }

    /// Items first seen in `[start, end)`, newest publication first. Digests read items
    /// here (SQLite is the source of truth; the index may lag).
    pub fn items_first_seen_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<Item>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {ITEM_COLUMNS} FROM items WHERE first_seen_at >= ?1 AND first_seen_at < ?2
             ORDER BY published_at DESC, id DESC"
        ))?;
        let rows = stmt.query_map(params![ts(start), ts(end)], item_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, h, m, 0)
            .single()
            .expect("time")
    }

    fn period(store: &Store) -> Vec<Delivery> {
        let p = DigestPeriod {
            digest_id: "sang".into(),
            start: t(0, 0),
            end: t(1, 0),
            item_count: 3,
            trigger: "schedule".into(),
            created_at: t(1, 0),
        };
        let ds = ["a@x.vn", "b@x.vn"].map(|r| NewDelivery {
            recipient: r.into(),
            message_id: format!("<{r}>"),
            status: DeliveryStatus::Pending,
        });
        assert!(store.create_digest_period(&p, &ds).expect("create"));
        assert!(
            !store.create_digest_period(&p, &ds).expect("again"),
            "a period is recorded once"
        );
        store.digest_deliveries("sang", t(1, 0)).expect("list")
    }

    #[test]
    fn a_claim_is_exclusive_and_a_stale_claim_can_be_retaken() {
        let store = Store::open_in_memory().expect("store");
        let ds = period(&store);
        assert_eq!(ds.len(), 2);
        let now = t(1, 0);
        let stale = t(0, 58);
        let Claim::Mine(mine) = store
            .claim_delivery(&ds[0], now, stale, false)
            .expect("claim")
        else {
            panic!("first claim must succeed");
        };
        assert_eq!(mine.attempts, 1);
        assert_eq!(
            store
                .claim_delivery(&ds[0], now, stale, false)
                .expect("claim"),
            Claim::Busy
        );
        // Later, the claim is stale (its process died before sending data): retaken.
        assert!(matches!(
            store
                .claim_delivery(&ds[0], t(1, 10), t(1, 5), false)
                .expect("claim"),
            Claim::Mine(_)
        ));
    }

    #[test]
    fn a_crash_while_sending_becomes_unknown_not_pending() {
        let store = Store::open_in_memory().expect("store");
        let ds = period(&store);
        let Claim::Mine(mine) = store
            .claim_delivery(&ds[1], t(1, 0), t(0, 58), false)
            .expect("claim")
        else {
            panic!("claim");
        };
        assert!(store.mark_delivery_sending(&mine, t(1, 0)).expect("mark"));
        assert_eq!(
            store
                .expire_stale_sending(t(1, 5), t(1, 6))
                .expect("expire"),
            1
        );
        let after = store.digest_deliveries("sang", t(1, 0)).expect("list");
        assert_eq!(after[1].status, DeliveryStatus::Unknown);
        assert!(
            store
                .due_deliveries("sang", t(9, 0), t(8, 0))
                .expect("due")
                .iter()
                .all(|d| d.recipient != "b@x.vn"),
            "an unknown delivery is never due again"
        );
    }
}
