//! The index feeder: the one loop that brings tantivy up to date from SQLite's change log
//! while sources are being stored, so that indexing overlaps fetching instead of waiting
//! for it. A fetch pass (`pipeline::fetch_pass`) and the daemon (`scheduler`) each run
//! one; every source that stores something says so through a [`FeedHandle`] (from
//! `pipeline::after_store`), and the feeder takes whatever has reached SQLite since its
//! last step (signals that pile up while it works make one step). The two differ only in
//! when they commit ([`Commit`]). After the feeder stops, its owner catches up once more
//! ([`catch_up`], through `pipeline::after_store`) so that whatever was stored is
//! committed. A topics change means a rebuild ([`catch_up`] does it), never a feed.
//!
//! The daemon's feeder also looks at the change log every [`POLL`] on its own: items
//! stored by another process (`gomtin post add` beside `gomtin serve`) send it no signal,
//! and a commit made by another process is not seen by this process's index reader until
//! it reloads, so it reloads when the index on disk moved.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::index::SearchIndex;
use crate::store::Store;

/// How often the daemon's feeder checks for changes that sent it no signal.
pub const POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// When a feeder commits what it hands to the index writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// A fetch pass: hand each batch to the writer (`SearchIndex::feed`, committing only
    /// every few thousand items) and let the catch-up after the pass commit the rest. It
    /// stops at its first error or when the topic definitions changed (the catch-up then
    /// rebuilds).
    AtEnd,
    /// The daemon: catch up and commit after each change so that searches see it soon;
    /// an error is logged and the next change tries again.
    EachChange,
}

/// Tells a running feeder that items were stored. Cheap to clone; a signal to a feeder
/// that has stopped is ignored.
#[derive(Debug, Clone)]
pub struct FeedHandle {
    tx: mpsc::UnboundedSender<()>,
}

impl FeedHandle {
    /// New or changed items are in SQLite.
    pub fn stored(&self) {
        let _ = self.tx.send(());
    }
}

/// A running index feeder (a tokio task doing its work on a blocking thread).
pub struct Feeder {
    handle: FeedHandle,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Feeder {
    /// Start feeding `index` from `store`. `after_step` runs after each step (the daemon
    /// updates its metrics there).
    pub fn spawn(
        index: Arc<SearchIndex>,
        store: Arc<Store>,
        commit: Commit,
        after_step: impl Fn(&SearchIndex) + Send + Sync + 'static,
    ) -> Feeder {
        let (tx, mut rx) = mpsc::unbounded_channel::<()>();
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            let after_step = Arc::new(after_step);
            let mut poll = tokio::time::interval(POLL);
            poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    biased;
                    _ = stopped.cancelled() => return,
                    signal = rx.recv() => if signal.is_none() { return },
                    _ = poll.tick(), if commit == Commit::EachChange => {
                        let (index, store) = (index.clone(), store.clone());
                        let behind =
                            tokio::task::spawn_blocking(move || elsewhere(&index, &store)).await;
                        match behind {
                            Ok(Ok(true)) => {}
                            Ok(Ok(false)) => continue,
                            Ok(Err(e)) => {
                                tracing::warn!(error = %e, "checking the change log failed");
                                continue;
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "checking the change log panicked");
                                continue;
                            }
                        }
                    }
                }
                while rx.try_recv().is_ok() {}
                let (index, store, after_step) = (index.clone(), store.clone(), after_step.clone());
                let step = tokio::task::spawn_blocking(move || {
                    let r = step(&index, &store, commit);
                    after_step(&index);
                    r
                })
                .await;
                match step {
                    Ok(Ok(Step::Fed(n))) if n > 0 && commit == Commit::EachChange => {
                        tracing::info!(items = n, "indexed")
                    }
                    Ok(Ok(Step::Fed(_))) => {}
                    // A rebuild is due; feeding now would be wasted work.
                    Ok(Ok(Step::RebuildDue)) => return,
                    Ok(Err(e)) if commit == Commit::EachChange => {
                        tracing::error!(error = %e, "indexing failed; will retry on next change")
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "feeding the index during the pass failed; it catches up after the pass");
                        return;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "index feeder step panicked");
                        return;
                    }
                }
            }
        });
        Feeder {
            handle: FeedHandle { tx },
            stop,
            task,
        }
    }

    /// A handle for the sources that store items.
    pub fn handle(&self) -> FeedHandle {
        self.handle.clone()
    }

    /// Stop taking signals and wait for the step in progress. What was stored since is
    /// left to the owner's final catch-up.
    pub async fn stop(self) {
        self.stop.cancel();
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "index feeder stopped abnormally");
        }
    }
}

/// What one step of a feeder did.
enum Step {
    Fed(usize),
    RebuildDue,
}

fn step(index: &SearchIndex, store: &Store, commit: Commit) -> Result<Step> {
    match commit {
        Commit::AtEnd if index.topics_changed().unwrap_or(true) => Ok(Step::RebuildDue),
        Commit::AtEnd => index.feed(store).map(Step::Fed),
        Commit::EachChange => catch_up(index, store).map(Step::Fed),
    }
}

/// Whether SQLite holds changes the index lacks (stored by another process); first the
/// reader is reloaded if another process committed to the index.
fn elsewhere(index: &SearchIndex, store: &Store) -> Result<bool> {
    index.refresh_if_changed()?;
    Ok(store.max_seq()? > index.indexed_seq()?)
}

/// Bring the index up to date with SQLite and commit (blocking). When the topic
/// definitions changed since the index was built, everything is re-tagged (rebuilt).
/// Returns how many items were (re)indexed.
pub fn catch_up(index: &SearchIndex, store: &Store) -> Result<usize> {
    if index.topics_changed()? {
        tracing::info!("topic definitions changed; rebuilding the index to re-tag items");
        return index.rebuild(store);
    }
    index.reconcile(store)
}
