//! Tones in SQLite: each item's verdict in three columns (`tone`, `tone_score`,
//! `tone_reasons` as JSON), the fingerprint of the lexicon that computed them, the
//! back-fill of items without one (rows stored before tones existed, or by a path that
//! left it to the store), and the share of positive items per source. Writing a tone
//! moves the item to the end of the change log (a new `seq`), so the index takes it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Store, ts};
use crate::error::Result;
use crate::model::{Tone, ToneReason, ToneVerdict};

/// The three columns of a verdict (all `NULL` for none).
pub(super) fn verdict_columns(
    v: Option<&ToneVerdict>,
) -> (Option<&'static str>, Option<f64>, Option<String>) {
    match v {
        None => (None, None, None),
        Some(v) => (
            Some(v.label.as_str()),
            Some(f64::from(v.score)),
            Some(serde_json::to_string(&v.reasons).unwrap_or_else(|_| "[]".into())),
        ),
    }
}

/// A verdict back from its columns (`None` while the item has none).
pub(super) fn verdict_from_columns(
    label: Option<String>,
    score: Option<f64>,
    reasons: Option<String>,
) -> Option<ToneVerdict> {
    let label = Tone::parse(&label?)?;
    let reasons: Vec<ToneReason> = reasons
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default();
    Some(ToneVerdict {
        label,
        score: score.unwrap_or(0.0) as f32,
        reasons,
    })
}

/// An item the back-fill has to score: id, content hash, title, summary, text.
pub type Untoned = (i64, String, String, String, String);

/// Positive items and all items of one source over a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ToneShare {
    pub positive: i64,
    pub negative: i64,
    pub total: i64,
}

impl Store {
    /// The lexicon fingerprint the stored tones were computed with (None before any).
    pub fn tone_fingerprint(&self) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row("SELECT fingerprint FROM tone_state WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// The lexicon changed: forget every stored tone (the back-fill computes them again)
    /// and remember `fingerprint`. Returns how many items lost their tone.
    pub fn reset_tones(&self, fingerprint: &str) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE items SET tone = NULL, tone_score = NULL, tone_reasons = NULL
             WHERE tone IS NOT NULL",
            [],
        )?;
        tx.execute(
            "INSERT INTO tone_state (id, fingerprint) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET fingerprint = ?1",
            [fingerprint],
        )?;
        tx.commit()?;
        Ok(n)
    }

    /// Up to `limit` items without a tone, oldest first.
    pub fn items_without_tone(&self, limit: usize) -> Result<Vec<Untoned>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, content_hash, title, summary, content_text FROM items
             WHERE tone IS NULL ORDER BY id LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Store back-filled tones (`(id, content hash it was computed from, verdict)`), each
    /// item moved to the end of the change log so the index re-reads it. An item edited
    /// meanwhile (another hash) or scored meanwhile is left alone. When every earlier item
    /// was clustered, the clustering mark follows, so clustering does not take these
    /// items again. Returns how many were written.
    pub fn set_tones(&self, tones: &[(i64, String, ToneVerdict)]) -> Result<usize> {
        if tones.is_empty() {
            return Ok(0);
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let max_seq: i64 =
            tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM items", [], |r| r.get(0))?;
        let clustered: i64 = tx.query_row(
            "SELECT clustered_seq FROM cluster_state WHERE id = 1",
            [],
            |r| r.get(0),
        )?;
        let mut seq = max_seq;
        let mut written = 0;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE items SET tone = ?3, tone_score = ?4, tone_reasons = ?5, seq = ?6
                 WHERE id = ?1 AND content_hash = ?2 AND tone IS NULL",
            )?;
            for (id, hash, verdict) in tones {
                let (label, score, reasons) = verdict_columns(Some(verdict));
                let changed = stmt.execute(params![id, hash, label, score, reasons, seq + 1])?;
                if changed == 1 {
                    seq += 1;
                    written += 1;
                }
            }
        }
        if clustered == max_seq && seq > max_seq {
            tx.execute(
                "UPDATE cluster_state SET clustered_seq = ?1 WHERE id = 1",
                [seq],
            )?;
        }
        tx.commit()?;
        Ok(written)
    }

    /// Per source, how many items first seen since `since` are positive, negative, in all.
    pub fn tone_shares(&self, since: DateTime<Utc>) -> Result<HashMap<String, ToneShare>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT source_id, SUM(tone = 'positive'), SUM(tone = 'negative'), COUNT(*)
             FROM items WHERE first_seen_at >= ?1 GROUP BY source_id",
        )?;
        let rows = stmt.query_map([ts(since)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                ToneShare {
                    positive: r.get::<_, Option<i64>>(1)?.unwrap_or(0),
                    negative: r.get::<_, Option<i64>>(2)?.unwrap_or(0),
                    total: r.get(3)?,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<HashMap<_, _>>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::model::NewItem;

    fn store() -> Store {
        let s = Store::open_in_memory().expect("db");
        let cfg = Config::parse(
            "[[sources]]\nid = \"a\"\nname = \"A\"\nkind = \"manual\"\n",
            std::path::Path::new("x.toml"),
        )
        .expect("cfg");
        s.sync_sources(&cfg, Utc::now()).expect("sync");
        s
    }

    fn item(key: &str, tone: Option<ToneVerdict>) -> NewItem {
        NewItem {
            source_id: "a".into(),
            key: key.into(),
            guid: None,
            url: None,
            canonical_url: None,
            title: format!("Tin {key}"),
            author: None,
            summary: String::new(),
            content_html: String::new(),
            content_text: String::new(),
            image_url: None,
            published_at: None,
            updated_at: None,
            content_hash: format!("h-{key}"),
            thread: None,
            tone,
        }
    }

    fn good() -> ToneVerdict {
        ToneVerdict {
            label: Tone::Positive,
            score: 12.0,
            reasons: vec![ToneReason {
                phrase: "khánh thành".into(),
                weight: 12.0,
                field: "title".into(),
                negated: false,
            }],
        }
    }

    #[test]
    fn a_verdict_round_trips_and_the_backfill_moves_items_to_the_end_of_the_log() {
        let s = store();
        let now = Utc::now();
        s.upsert_items(&[item("k1", Some(good())), item("k2", None)], now)
            .expect("store");
        let stored = s.items_after_seq(0, 10).expect("log");
        assert_eq!(stored[0].tone.as_ref(), Some(&good()));
        assert_eq!(stored[1].tone, None);
        let pending = s.items_without_tone(10).expect("pending");
        assert_eq!(pending.len(), 1);
        let (id, hash, ..) = pending[0].clone();
        // Computed from an older text: left alone.
        assert_eq!(s.set_tones(&[(id, "old".into(), good())]).expect("set"), 0);
        assert_eq!(s.set_tones(&[(id, hash, good())]).expect("set"), 1);
        let moved = s.items_after_seq(2, 10).expect("log");
        assert_eq!(moved.len(), 1, "the scored item has a new seq");
        assert_eq!(moved[0].id, id);
        assert_eq!(
            s.cluster_pending().expect("cluster"),
            0,
            "already clustered"
        );
        let shares = s
            .tone_shares(now - chrono::Duration::days(30))
            .expect("shares");
        assert_eq!(
            shares.get("a"),
            Some(&ToneShare {
                positive: 2,
                negative: 0,
                total: 2
            })
        );
        assert_eq!(s.tone_fingerprint().expect("fp"), None);
        assert_eq!(s.reset_tones("f2").expect("reset"), 2);
        assert_eq!(s.tone_fingerprint().expect("fp").as_deref(), Some("f2"));
        assert_eq!(s.items_without_tone(10).expect("pending").len(), 2);
    }
}
