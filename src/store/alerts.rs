//! The alert ledger in SQLite: how far each `[[alerts]]` entry has looked at the change
//! log (`checked_seq`) and since when it exists (older items never alert), one match per
//! (alert, item) — the primary key makes "exactly once" a property of the table — the
//! batches that gather a minute of matches into one message, and one delivery per batch
//! and channel (`email` to an address, `webhook` to a URL). Deliveries move as digest
//! deliveries do (`pending -> claimed -> sending -> sent`, or `failed`, or `unknown` when
//! the message left but no answer came), each step one committed statement, claims by
//! compare-and-set: a restart neither loses nor repeats an alert.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use super::{DeliveryStatus, Store, from_ts, ts};
use crate::error::Result;

/// A batch of matches sent as one message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertBatch {
    pub id: i64,
    pub alert_id: String,
    pub created_at: DateTime<Utc>,
    pub item_count: i64,
}

/// One delivery of a batch: an email to one address, or the webhook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertDelivery {
    pub batch_id: i64,
    /// `email` or `webhook`.
    pub channel: String,
    /// The address or the URL.
    pub target: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub last_reply: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Matches of one alert not yet in a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct AlertMatch {
    pub pending: i64,
    pub oldest: Option<DateTime<Utc>>,
    pub newest: Option<DateTime<Utc>>,
}

/// What `gomtin alert list` and the admin page show of one alert.
#[derive(Debug, Clone, Serialize)]
pub struct AlertSummary {
    pub alert_id: String,
    pub first_seen_at: Option<DateTime<Utc>>,
    pub matches: i64,
    pub pending: AlertMatch,
    /// The latest batches, newest first, with their deliveries.
    pub batches: Vec<(AlertBatch, Vec<AlertDelivery>)>,
}

const DELIVERY_COLUMNS: &str = "batch_id, channel, target, status, attempts, next_attempt_at,
    claimed_at, last_reply, sent_at";

fn delivery_from_row(r: &Row<'_>) -> rusqlite::Result<AlertDelivery> {
    Ok(AlertDelivery {
        batch_id: r.get(0)?,
        channel: r.get(1)?,
        target: r.get(2)?,
        status: DeliveryStatus::parse(&r.get::<_, String>(3)?),
        attempts: r.get(4)?,
        next_attempt_at: from_ts(r.get(5)?),
        claimed_at: r.get::<_, Option<i64>>(6)?.map(from_ts),
        last_reply: r.get(7)?,
        sent_at: r.get::<_, Option<i64>>(8)?.map(from_ts),
    })
}

fn batch_from_row(r: &Row<'_>) -> rusqlite::Result<AlertBatch> {
    Ok(AlertBatch {
        id: r.get(0)?,
        alert_id: r.get(1)?,
        created_at: from_ts(r.get(2)?),
        item_count: r.get(3)?,
    })
}

impl Store {
    /// Note that `alert_id` exists at `now`; the first time, it starts looking at the
    /// change log from its current end (older items never alert). Returns when it was
    /// first seen and how far it has looked.
    pub fn alert_seen(&self, alert_id: &str, now: DateTime<Utc>) -> Result<(DateTime<Utc>, i64)> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR IGNORE INTO alert_state (alert_id, first_seen_at, checked_seq)
             VALUES (?1, ?2, (SELECT COALESCE(MAX(seq), 0) FROM items))",
            params![alert_id, ts(now)],
        )?;
        Ok(conn.query_row(
            "SELECT first_seen_at, checked_seq FROM alert_state WHERE alert_id = ?1",
            [alert_id],
            |r| Ok((from_ts(r.get(0)?), r.get(1)?)),
        )?)
    }

    /// Record that `alert_id` matched `item_ids` (a pair already recorded stays as it was)
    /// and has looked up to `checked_seq`, in one transaction. Returns the new matches.
    pub fn record_alert_matches(
        &self,
        alert_id: &str,
        item_ids: &[i64],
        checked_seq: i64,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut added = 0;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO alert_matches (alert_id, item_id, matched_at)
                 VALUES (?1, ?2, ?3)",
            )?;
            for id in item_ids {
                added += stmt.execute(params![alert_id, id, ts(now)])?;
            }
        }
        tx.execute(
            "UPDATE alert_state SET checked_seq = MAX(checked_seq, ?2) WHERE alert_id = ?1",
            params![alert_id, checked_seq],
        )?;
        tx.commit()?;
        Ok(added)
    }

    /// The matches of `alert_id` waiting for a batch.
    pub fn pending_alert_matches(&self, alert_id: &str) -> Result<AlertMatch> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*), MIN(matched_at), MAX(matched_at) FROM alert_matches
             WHERE alert_id = ?1 AND batch_id IS NULL",
            [alert_id],
            |r| {
                Ok(AlertMatch {
                    pending: r.get(0)?,
                    oldest: r.get::<_, Option<i64>>(1)?.map(from_ts),
                    newest: r.get::<_, Option<i64>>(2)?.map(from_ts),
                })
            },
        )?)
    }

    /// Gather every waiting match of `alert_id` into a new batch with one pending delivery
    /// per `(channel, target)`, in one transaction. `None` when nothing was waiting.
    pub fn open_alert_batch(
        &self,
        alert_id: &str,
        channels: &[(String, String)],
        now: DateTime<Utc>,
    ) -> Result<Option<AlertBatch>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let waiting: i64 = tx.query_row(
            "SELECT COUNT(*) FROM alert_matches WHERE alert_id = ?1 AND batch_id IS NULL",
            [alert_id],
            |r| r.get(0),
        )?;
        if waiting == 0 {
            return Ok(None);
        }
        tx.execute(
            "INSERT INTO alert_batches (alert_id, created_at, item_count) VALUES (?1, ?2, ?3)",
            params![alert_id, ts(now), waiting],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "UPDATE alert_matches SET batch_id = ?2 WHERE alert_id = ?1 AND batch_id IS NULL",
            params![alert_id, id],
        )?;
        for (channel, target) in channels {
            tx.execute(
                "INSERT OR IGNORE INTO alert_deliveries
                    (batch_id, channel, target, status, next_attempt_at, updated_at)
                 VALUES (?1, ?2, ?3, 'pending', ?4, ?4)",
                params![id, channel, target, ts(now)],
            )?;
        }
        tx.commit()?;
        Ok(Some(AlertBatch {
            id,
            alert_id: alert_id.to_string(),
            created_at: now,
            item_count: waiting,
        }))
    }

    /// One batch by id.
    pub fn alert_batch(&self, id: i64) -> Result<Option<AlertBatch>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, alert_id, created_at, item_count FROM alert_batches WHERE id = ?1",
                [id],
                batch_from_row,
            )
            .optional()?)
    }

    /// The items of a batch, in the order they were stored.
    pub fn alert_batch_items(&self, batch_id: i64) -> Result<Vec<i64>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT item_id FROM alert_matches WHERE batch_id = ?1 ORDER BY item_id",
        )?;
        let rows = stmt.query_map([batch_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Deliveries an attempt could take now: pending and due, or claimed by an attempt
    /// that started before `stale_before` and never finished.
    pub fn due_alert_deliveries(
        &self,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<Vec<AlertDelivery>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM alert_deliveries
             WHERE (status = 'pending' AND next_attempt_at <= ?1)
                OR (status = 'claimed' AND claimed_at < ?2)
             ORDER BY batch_id, channel, target"
        ))?;
        let rows = stmt.query_map(params![ts(now), ts(stale_before)], delivery_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Take one delivery for an attempt (compare-and-set); `None` when someone else has it
    /// or it is not due.
    pub fn claim_alert_delivery(
        &self,
        d: &AlertDelivery,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<Option<AlertDelivery>> {
        let conn = self.conn();
        let changed = conn.execute(
            "UPDATE alert_deliveries
             SET status = 'claimed', claimed_at = ?4, attempts = attempts + 1, updated_at = ?4
             WHERE batch_id = ?1 AND channel = ?2 AND target = ?3
               AND ((status = 'pending' AND next_attempt_at <= ?4)
                 OR (status = 'claimed' AND claimed_at < ?5))",
            params![d.batch_id, d.channel, d.target, ts(now), ts(stale_before)],
        )?;
        if changed == 0 {
            return Ok(None);
        }
        Ok(Some(conn.query_row(
            &format!(
                "SELECT {DELIVERY_COLUMNS} FROM alert_deliveries
                 WHERE batch_id = ?1 AND channel = ?2 AND target = ?3"
            ),
            params![d.batch_id, d.channel, d.target],
            delivery_from_row,
        )?))
    }

    /// The message is about to leave: from here on a crash means "maybe delivered".
    pub fn mark_alert_delivery_sending(
        &self,
        d: &AlertDelivery,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let changed = self.conn().execute(
            "UPDATE alert_deliveries SET status = 'sending', updated_at = ?4
             WHERE batch_id = ?1 AND channel = ?2 AND target = ?3 AND status = 'claimed'",
            params![d.batch_id, d.channel, d.target, ts(now)],
        )?;
        Ok(changed == 1)
    }

    /// Record how an attempt ended (`next_attempt_at` counts when `status` is pending).
    pub fn finish_alert_delivery(
        &self,
        d: &AlertDelivery,
        status: DeliveryStatus,
        reply: &str,
        next_attempt_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.conn().execute(
            "UPDATE alert_deliveries
             SET status = ?4, last_reply = ?5, next_attempt_at = ?6, claimed_at = NULL,
                 sent_at = CASE WHEN ?4 = 'sent' THEN ?7 ELSE sent_at END, updated_at = ?7
             WHERE batch_id = ?1 AND channel = ?2 AND target = ?3",
            params![
                d.batch_id,
                d.channel,
                d.target,
                status.as_str(),
                reply,
                ts(next_attempt_at),
                ts(now)
            ],
        )?;
        Ok(())
    }

    /// Deliveries left `sending` by an attempt that started before `stale_before` (the
    /// process died while the message was leaving) become `unknown`, never resent on
    /// their own. Returns how many.
    pub fn expire_stale_alert_sending(
        &self,
        stale_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        Ok(self.conn().execute(
            "UPDATE alert_deliveries
             SET status = 'unknown', claimed_at = NULL, updated_at = ?2,
                 last_reply = 'gomtin stopped while the alert was being sent; it may have arrived, so it is not resent'
             WHERE status = 'sending' AND claimed_at < ?1",
            params![ts(stale_before), ts(now)],
        )?)
    }

    /// An alert's state for people: matches so far, what waits, the latest `batches`.
    pub fn alert_summary(&self, alert_id: &str, batches: usize) -> Result<AlertSummary> {
        let first_seen_at = self
            .conn()
            .query_row(
                "SELECT first_seen_at FROM alert_state WHERE alert_id = ?1",
                [alert_id],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .map(from_ts);
        let matches: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM alert_matches WHERE alert_id = ?1",
            [alert_id],
            |r| r.get(0),
        )?;
        let pending = self.pending_alert_matches(alert_id)?;
        let list: Vec<AlertBatch> = {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(
                "SELECT id, alert_id, created_at, item_count FROM alert_batches
                 WHERE alert_id = ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            stmt.query_map(params![alert_id, batches as i64], batch_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?
        };
        let mut out = Vec::with_capacity(list.len());
        for b in list {
            let deliveries = {
                let conn = self.conn();
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT {DELIVERY_COLUMNS} FROM alert_deliveries WHERE batch_id = ?1
                     ORDER BY channel, target"
                ))?;
                stmt.query_map([b.id], delivery_from_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()?
            };
            out.push((b, deliveries));
        }
        Ok(AlertSummary {
            alert_id: alert_id.to_string(),
            first_seen_at,
            matches,
            pending,
            batches: out,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, s)
            .single()
            .expect("time")
    }

    fn store_with_items(n: usize) -> Store {
        let s = Store::open_in_memory().expect("db");
        let cfg = crate::config::Config::parse(
            "[[sources]]\nid = \"a\"\nname = \"A\"\nkind = \"manual\"\n",
            std::path::Path::new("x.toml"),
        )
        .expect("cfg");
        s.sync_sources(&cfg, t(0)).expect("sync");
        let items: Vec<crate::model::NewItem> = (0..n)
            .map(|i| {
                crate::normalize::normalize_entry(
                    "a",
                    crate::model::RawEntry {
                        guid: Some(format!("g{i}")),
                        title: Some(format!("Tin {i}")),
                        ..Default::default()
                    },
                    None,
                    t(0),
                )
                .expect("item")
            })
            .collect();
        s.upsert_items(&items, t(0)).expect("store");
        s
    }

    #[test]
    fn a_pair_is_recorded_once_and_batched_once_with_one_delivery_per_channel() {
        let s = store_with_items(3);
        let (_, checked) = s.alert_seen("x", t(1)).expect("seen");
        assert_eq!(checked, 3, "a new alert starts at the end of the log");
        assert_eq!(
            s.record_alert_matches("x", &[1, 2], 3, t(2)).expect("rec"),
            2
        );
        assert_eq!(
            s.record_alert_matches("x", &[2, 3], 3, t(3)).expect("rec"),
            1
        );
        let p = s.pending_alert_matches("x").expect("pending");
        assert_eq!((p.pending, p.oldest, p.newest), (3, Some(t(2)), Some(t(3))));
        let channels = vec![
            ("email".to_string(), "a@x.vn".to_string()),
            ("webhook".to_string(), "http://127.0.0.1:9/h".to_string()),
        ];
        let b = s
            .open_alert_batch("x", &channels, t(4))
            .expect("batch")
            .expect("some");
        assert_eq!(b.item_count, 3);
        assert_eq!(s.alert_batch_items(b.id).expect("items"), vec![1, 2, 3]);
        assert!(
            s.open_alert_batch("x", &channels, t(5))
                .expect("batch")
                .is_none()
        );
        // A match seen again after its batch is not a new match.
        assert_eq!(s.record_alert_matches("x", &[1], 3, t(6)).expect("rec"), 0);
        let due = s.due_alert_deliveries(t(6), t(0)).expect("due");
        assert_eq!(due.len(), 2);
        let mine = s
            .claim_alert_delivery(&due[0], t(6), t(0))
            .expect("claim")
            .expect("mine");
        assert!(
            s.claim_alert_delivery(&due[0], t(6), t(0))
                .expect("claim")
                .is_none()
        );
        assert!(s.mark_alert_delivery_sending(&mine, t(6)).expect("mark"));
        assert_eq!(
            s.expire_stale_alert_sending(t(10), t(11)).expect("expire"),
            1
        );
        let sum = s.alert_summary("x", 5).expect("summary");
        assert_eq!(sum.matches, 3);
        assert_eq!(sum.batches.len(), 1);
        let statuses: Vec<DeliveryStatus> = sum.batches[0].1.iter().map(|d| d.status).collect();
        assert_eq!(
            statuses,
            vec![DeliveryStatus::Unknown, DeliveryStatus::Pending]
        );
    }
}
