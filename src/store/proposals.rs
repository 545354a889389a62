//! Proposals: a staff member proposes an item to the team for sharing ("Đề xuất chia
//! sẻ", with a note); an admin approves or dismisses it. One proposal per item stays
//! current (open or approved) at a time; a dismissed one is kept in the history and the
//! item may be proposed again. `status:proposed` and `status:approved` read these.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Store, User, from_ts, ts};
use crate::error::Result;

/// Where a proposal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProposalState {
    Open,
    Approved,
    Dismissed,
}

impl ProposalState {
    pub fn as_str(self) -> &'static str {
        match self {
            ProposalState::Open => "open",
            ProposalState::Approved => "approved",
            ProposalState::Dismissed => "dismissed",
        }
    }

    fn parse(s: &str) -> ProposalState {
        match s {
            "approved" => ProposalState::Approved,
            "dismissed" => ProposalState::Dismissed,
            _ => ProposalState::Open,
        }
    }
}

/// One proposal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proposal {
    pub id: i64,
    pub item_id: i64,
    pub user: String,
    pub note: String,
    pub proposed_at: DateTime<Utc>,
    pub state: ProposalState,
    /// The admin who approved or dismissed it, and when.
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, item_id, user_name, note, proposed_at, status, decided_by, decided_at";

fn proposal_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Proposal> {
    let state: String = r.get(5)?;
    Ok(Proposal {
        id: r.get(0)?,
        item_id: r.get(1)?,
        user: r.get(2)?,
        note: r.get(3)?,
        proposed_at: from_ts(r.get(4)?),
        state: ProposalState::parse(&state),
        decided_by: r.get(6)?,
        decided_at: r.get::<_, Option<i64>>(7)?.map(from_ts),
    })
}

/// What proposing did.
#[derive(Debug, Clone, PartialEq)]
pub enum Proposed {
    /// A new proposal.
    New(Proposal),
    /// The item already has a current (open or approved) proposal: that one.
    Already(Proposal),
}

impl Store {
    /// Propose item `item_id` to the team, unless it already has a current proposal.
    pub fn propose(
        &self,
        item_id: i64,
        user: &User,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<Proposed> {
        let conn = self.conn();
        let current = conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM proposals
                     WHERE item_id = ?1 AND status IN ('open', 'approved')
                     ORDER BY id DESC LIMIT 1"
                ),
                [item_id],
                proposal_from_row,
            )
            .optional()?;
        if let Some(p) = current {
            return Ok(Proposed::Already(p));
        }
        conn.execute(
            "INSERT INTO proposals (item_id, user_id, user_name, note, proposed_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![item_id, user.id, user.name, note, ts(now)],
        )?;
        Ok(Proposed::New(Proposal {
            id: conn.last_insert_rowid(),
            item_id,
            user: user.name.clone(),
            note: note.to_string(),
            proposed_at: from_ts(ts(now)),
            state: ProposalState::Open,
            decided_by: None,
            decided_at: None,
        }))
    }

    /// Approve or dismiss proposal `id` as `admin` (an open or approved one: an approval
    /// can still be withdrawn by dismissing). None when there is no such current proposal.
    pub fn decide_proposal(
        &self,
        id: i64,
        admin: &User,
        state: ProposalState,
        now: DateTime<Utc>,
    ) -> Result<Option<Proposal>> {
        let conn = self.conn();
        let n = conn.execute(
            "UPDATE proposals SET status = ?2, decided_by = ?3, decided_at = ?4
             WHERE id = ?1 AND status IN ('open', 'approved') AND status <> ?2",
            params![id, state.as_str(), admin.name, ts(now)],
        )?;
        if n == 0 {
            return Ok(None);
        }
        Ok(conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM proposals WHERE id = ?1"),
                [id],
                proposal_from_row,
            )
            .optional()?)
    }

    /// Proposals, newest first: the current ones (open and approved), or with
    /// `dismissed` the dismissed ones; at most `limit`.
    pub fn proposals(&self, dismissed: bool, limit: usize) -> Result<Vec<Proposal>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM proposals
             WHERE (?1 AND status = 'dismissed') OR (NOT ?1 AND status <> 'dismissed')
             ORDER BY proposed_at DESC, id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![dismissed, limit as i64], proposal_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The current proposal of each of these items that has one.
    pub fn current_proposals(
        &self,
        ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, Proposal>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM proposals
             WHERE item_id = ?1 AND status IN ('open', 'approved')
             ORDER BY id DESC LIMIT 1"
        ))?;
        let mut out = std::collections::HashMap::new();
        for &id in ids {
            if let Some(p) = stmt.query_row([id], proposal_from_row).optional()? {
                out.insert(id, p);
            }
        }
        Ok(out)
    }

    /// Items whose current proposal is in `state` (`status:proposed`, `status:approved`).
    pub fn proposed_item_ids(&self, state: ProposalState) -> Result<Vec<i64>> {
        let conn = self.reader();
        let mut stmt =
            conn.prepare_cached("SELECT DISTINCT item_id FROM proposals WHERE status = ?1")?;
        let rows = stmt.query_map([state.as_str()], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Role;

    #[test]
    fn one_current_proposal_per_item_decided_by_an_admin() {
        let (s, lan, minh) = crate::store::shares::tests::setup();
        let admin = s
            .add_user("quantri", Role::Admin, "h", Utc::now())
            .expect("admin");
        let now = Utc::now();
        let Proposed::New(p) = s.propose(1, &lan, "Tin hay", now).expect("propose") else {
            panic!("a new proposal");
        };
        assert!(
            matches!(s.propose(1, &minh, "", now).expect("again"), Proposed::Already(q) if q.id == p.id)
        );
        assert_eq!(
            s.proposed_item_ids(ProposalState::Open).expect("open"),
            vec![1]
        );
        let approved = s
            .decide_proposal(p.id, &admin, ProposalState::Approved, now)
            .expect("approve")
            .expect("decided");
        assert_eq!(approved.state, ProposalState::Approved);
        assert_eq!(approved.decided_by.as_deref(), Some("quantri"));
        assert!(
            s.proposed_item_ids(ProposalState::Open)
                .expect("open")
                .is_empty()
        );
        assert_eq!(
            s.proposed_item_ids(ProposalState::Approved)
                .expect("approved"),
            vec![1]
        );
        // Approving twice does nothing; dismissing withdraws it, and it may be proposed again.
        assert!(
            s.decide_proposal(p.id, &admin, ProposalState::Approved, now)
                .expect("twice")
                .is_none()
        );
        s.decide_proposal(p.id, &admin, ProposalState::Dismissed, now)
            .expect("dismiss");
        assert!(s.proposals(false, 10).expect("current").is_empty());
        assert_eq!(s.proposals(true, 10).expect("dismissed").len(), 1);
        assert!(matches!(
            s.propose(1, &minh, "", now).expect("anew"),
            Proposed::New(_)
        ));
    }
}
