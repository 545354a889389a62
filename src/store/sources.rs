//! Sources in SQLite: the rows mirrored from the config, their conditional-GET validators,
//! the outcome of each fetch (health) and the fetch log; and removing a source with its
//! items when the admin asks for it.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::bands::BandsTx;
use super::clusters::forget_bands;
use super::{Store, from_ts, ts};
use crate::config::Config;
use crate::error::Result;
use crate::fetch::Validators;
use crate::model::{OutcomeKind, SourceOutcome, SourceStatus};

impl Store {
    /// Mirror the config's sources into SQLite: insert new ones, update names/urls,
    /// mark sources no longer in the config (their items stay).
    pub fn sync_sources(&self, config: &Config, now: DateTime<Utc>) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("UPDATE sources SET in_config = 0", [])?;
        for s in &config.sources {
            tx.execute(
                "INSERT INTO sources (id, name, kind, url, in_config, created_at)
                 VALUES (?1, ?2, ?3, ?4, 1, ?5)
                 ON CONFLICT(id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
                    in_config = 1,
                    etag = CASE WHEN sources.url = excluded.url THEN sources.etag END,
                    last_modified = CASE WHEN sources.url = excluded.url THEN sources.last_modified END,
                    url = excluded.url",
                params![
                    s.id(),
                    s.name,
                    s.kind.as_str(),
                    s.location(&config.base_dir),
                    ts(now)
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The validators stored from the source's last successful fetch.
    pub fn validators(&self, source_id: &str) -> Result<Validators> {
        let v = self
            .conn()
            .query_row(
                "SELECT etag, last_modified FROM sources WHERE id = ?1",
                [source_id],
                |r| {
                    Ok(Validators {
                        etag: r.get(0)?,
                        last_modified: r.get(1)?,
                    })
                },
            )
            .optional()?;
        Ok(v.unwrap_or_default())
    }

    /// Record how a fetch went: health columns on the source row plus a fetch-log line.
    /// `validators` are stored only on success with a new body.
    pub fn record_outcome(
        &self,
        outcome: &SourceOutcome,
        started: DateTime<Utc>,
        validators: Option<&Validators>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let now = ts(Utc::now());
        let (label, new, updated, err_kind, err) = match &outcome.result {
            OutcomeKind::Fetched { counts, .. } => (
                "fetched",
                counts.new as i64,
                counts.updated as i64,
                None,
                None,
            ),
            OutcomeKind::NotModified => ("not_modified", 0, 0, None, None),
            OutcomeKind::Failed { kind, message } => {
                ("failed", 0, 0, Some(kind.as_str()), Some(message.as_str()))
            }
        };
        if outcome.is_failure() {
            tx.execute(
                "UPDATE sources SET last_attempt_at = ?2, last_error_kind = ?3, last_error = ?4,
                    consecutive_failures = consecutive_failures + 1 WHERE id = ?1",
                params![outcome.source_id, now, err_kind, err],
            )?;
        } else {
            tx.execute(
                "UPDATE sources SET last_attempt_at = ?2, last_success_at = ?2,
                    last_error_kind = NULL, last_error = NULL, consecutive_failures = 0
                 WHERE id = ?1",
                params![outcome.source_id, now],
            )?;
            if let Some(v) = validators {
                tx.execute(
                    "UPDATE sources SET etag = ?2, last_modified = ?3 WHERE id = ?1",
                    params![outcome.source_id, v.etag, v.last_modified],
                )?;
            }
            // The notes of the last pass that read the source (a 304 keeps the earlier ones).
            if let OutcomeKind::Fetched { notes, .. } = &outcome.result {
                let notes = Some(notes.join("\n")).filter(|n| !n.is_empty());
                tx.execute(
                    "UPDATE sources SET last_notes = ?2 WHERE id = ?1",
                    params![outcome.source_id, notes],
                )?;
            }
        }
        tx.execute(
            "INSERT INTO fetch_log (source_id, started_at, duration_ms, outcome, items_new,
                items_updated, error_kind, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                outcome.source_id,
                ts(started),
                outcome.duration_ms as i64,
                label,
                new,
                updated,
                err_kind,
                err
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Every source with its health, config order first, then retired sources.
    pub fn source_statuses(&self, now: DateTime<Utc>) -> Result<Vec<SourceStatus>> {
        let week_ago = ts(now - chrono::Duration::days(7));
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT s.id, s.name, s.kind, s.url, s.in_config, s.last_attempt_at, s.last_success_at,
                    s.last_error_kind, s.last_error, s.consecutive_failures,
                    (SELECT COUNT(*) FROM items i WHERE i.source_id = s.id),
                    (SELECT COUNT(*) FROM items i WHERE i.source_id = s.id AND i.first_seen_at >= ?1),
                    (SELECT COUNT(*) FROM items i WHERE i.source_id = s.id AND i.first_seen_at >= ?2),
                    s.next_check_at, s.last_notes
             FROM sources s ORDER BY s.in_config DESC, s.rowid",
        )?;
        let month_ago = ts(now - chrono::Duration::days(30));
        let rows = stmt.query_map([week_ago, month_ago], |r| {
            Ok(SourceStatus {
                id: r.get(0)?,
                name: r.get(1)?,
                kind: r.get(2)?,
                url: r.get(3)?,
                in_config: r.get::<_, i64>(4)? != 0,
                last_attempt_at: r.get::<_, Option<i64>>(5)?.map(from_ts),
                last_success_at: r.get::<_, Option<i64>>(6)?.map(from_ts),
                last_error_kind: r.get(7)?,
                last_error: r.get(8)?,
                consecutive_failures: r.get(9)?,
                item_count: r.get(10)?,
                items_last_7_days: r.get(11)?,
                avg_items_per_day: r.get::<_, i64>(12)? as f64 / 30.0,
                next_check_at: r.get::<_, Option<i64>>(13)?.map(from_ts),
                notes: r.get(14)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

/// Scheduling state of one source.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub id: String,
    pub next_check_at: Option<DateTime<Utc>>,
    pub consecutive_failures: i64,
}

impl Store {
    /// Scheduling state of every source still in the config.
    pub fn schedules(&self) -> Result<Vec<Schedule>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, next_check_at, consecutive_failures FROM sources WHERE in_config = 1",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Schedule {
                id: r.get(0)?,
                next_check_at: r.get::<_, Option<i64>>(1)?.map(from_ts),
                consecutive_failures: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Record when the source should next be checked.
    pub fn set_next_check(&self, source_id: &str, at: DateTime<Utc>) -> Result<()> {
        self.conn().execute(
            "UPDATE sources SET next_check_at = ?2 WHERE id = ?1",
            params![source_id, ts(at)],
        )?;
        Ok(())
    }

    /// Items first seen per day over the last `days` days, oldest first (for sparklines
    /// and the average).
    pub fn items_per_day(
        &self,
        source_id: &str,
        days: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        let start = ts(now) - days * 86_400;
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT (first_seen_at - ?2) / 86400 AS d, COUNT(*) FROM items
             WHERE source_id = ?1 AND first_seen_at >= ?2 GROUP BY d",
        )?;
        let mut out = vec![0i64; days.max(0) as usize];
        let rows = stmt.query_map(params![source_id, start], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (d, n) = row?;
            if let Some(slot) = out.get_mut(d as usize) {
                *slot += n;
            }
        }
        Ok(out)
    }

    /// Outcome counts of the fetch log (for metrics after a restart).
    pub fn fetch_log_len(&self) -> Result<i64> {
        Ok(self
            .conn()
            .query_row("SELECT COUNT(*) FROM fetch_log", [], |r| r.get(0))?)
    }

    /// Remove source `source_id`'s items — with their shares and cluster band keys — its
    /// fetch log and its row (the admin asked for the items to go with the source); the
    /// ids of the removed items, for the index to drop.
    pub fn delete_source(&self, source_id: &str) -> Result<Vec<i64>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let ids: Vec<i64> = {
            let mut stmt = tx.prepare("SELECT id FROM items WHERE source_id = ?1")?;
            let rows = stmt.query_map([source_id], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        // Keys forgotten in memory come back if the deletion does not commit.
        let mut bands = BandsTx::begin(&self.bands, &tx)?;
        for id in &ids {
            forget_bands(&tx, &mut bands, *id)?;
        }
        // Everything that points at the items goes with them (shares, saved items,
        // proposals), so the foreign keys hold.
        for table in ["shares", "saved_items", "proposals"] {
            tx.execute(
                &format!(
                    "DELETE FROM {table} WHERE item_id IN (SELECT id FROM items WHERE source_id = ?1)"
                ),
                [source_id],
            )?;
        }
        tx.execute("DELETE FROM items WHERE source_id = ?1", [source_id])?;
        tx.execute("DELETE FROM fetch_log WHERE source_id = ?1", [source_id])?;
        tx.execute("DELETE FROM sources WHERE id = ?1", [source_id])?;
        tx.commit()?;
        bands.keep();
        Ok(ids)
    }

    /// Any existing source row (to tell "never fetched" from "unknown").
    pub fn source_exists(&self, id: &str) -> Result<bool> {
        Ok(self
            .conn()
            .query_row("SELECT 1 FROM sources WHERE id = ?1", [id], |_| Ok(()))
            .optional()?
            .is_some())
    }
}
