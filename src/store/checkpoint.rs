//! WAL checkpoints on their own thread. SQLite's automatic checkpoint runs inside the
//! commit that crosses its threshold, on the writer's connection and under the store's
//! writer lock: copying the log back into the database and syncing it then stalls every
//! source waiting to store (at a million items a commit dirties thousands of
//! pages). The writer connection turns it off, and this thread checkpoints in `PASSIVE`
//! mode — beside the writer, never blocking it — whenever a commit asks ([`Checkpointer::nudge`])
//! and at least every few seconds. A log that has grown large all the same (the log
//! restarts from its beginning only when a write begins after a checkpoint copied all of
//! it, and back-to-back writes leave no such moment) is truncated by the writer itself
//! ([`truncate_if_large`], under its lock): a checkpoint by another connection in that
//! mode would read, to the writer, as a change made elsewhere (`PRAGMA data_version`),
//! which `store::bands` answers by reading its buckets again.

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use crate::error::Result;

/// The longest a committed change waits for its checkpoint when nothing asks.
const IDLE: Duration = Duration::from_secs(5);
/// A log file at least this large is truncated by the writer after its commit.
const TRUNCATE_AT: u64 = 256 * 1024 * 1024;

/// The checkpointing thread of one database; stopped (and waited for) when dropped.
pub(super) struct Checkpointer {
    nudge: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Start checkpointing the database at `path` (its writer has set WAL mode).
    pub(super) fn start(path: &Path) -> Result<Checkpointer> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let (tx, rx) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&conn, &rx))
            .map_err(|e| crate::error::Error::Task(e.to_string()))?;
        Ok(Checkpointer {
            nudge: Some(tx),
            thread: Some(thread),
        })
    }

    /// A commit has added to the log: checkpoint soon. Never waits (asks already pending
    /// are one ask).
    pub(super) fn nudge(&self) {
        if let Some(tx) = &self.nudge {
            let _ = tx.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Closing the channel ends the loop after the checkpoint in progress.
        self.nudge = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(conn: &Connection, asks: &Receiver<()>) {
    loop {
        match asks.recv_timeout(IDLE) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        if let Err(e) = checkpoint(conn, "PASSIVE") {
            tracing::warn!(error = %e, "WAL checkpoint failed; the next one retries");
        }
    }
}

/// On the writer's connection, after a commit: when the log of the database at `path`
/// has grown to [`TRUNCATE_AT`], checkpoint it whole and truncate it (waiting for readers
/// still in it, within the busy timeout).
pub(super) fn truncate_if_large(conn: &Connection, path: &Path) {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let large = std::fs::metadata(&wal).is_ok_and(|m| m.len() >= TRUNCATE_AT);
    if large && let Err(e) = checkpoint(conn, "TRUNCATE") {
        tracing::warn!(error = %e, "truncating the WAL failed; the next commit retries");
    }
}

/// One checkpoint in `mode`: (busy, frames in the log, frames copied back).
fn checkpoint(conn: &Connection, mode: &str) -> Result<(i64, i64, i64)> {
    Ok(
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?,
    )
}
