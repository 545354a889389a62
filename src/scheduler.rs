//! The scheduler: the daemon's loop that decides *when* each source is fetched. Each
//! source's next check time lives in SQLite (`sources.next_check_at`), so a restart picks
//! up where the last run stopped and a source that was mid-fetch during a crash is simply
//! due again. Waits follow the source's interval with jitter, stretched by the server's
//! hints (`ttl`, `Cache-Control: max-age`, `Expires`, `Retry-After`) within configured
//! bounds; failures back off exponentially up to a ceiling and keep trying there. The
//! fetcher bounds concurrency overall and per host. The daemon's index feeder (`feeder`,
//! committing after each change) brings tantivy up to date after each stored change.
//! Shutdown stops new work, gives fetches in flight a grace period, then commits the index.
//! The time it reads and waits on comes from a `Clock`: the system clock in the daemon, a
//! clock the test moves in tests, so a schedule is asserted exactly rather than timed.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::config::{SchedulerConfig, SourceConfig};
use crate::error::Result;
use crate::feeder::{Commit, FeedHandle, Feeder};
use crate::metrics::Metrics;
use crate::model::{OutcomeKind, SourceOutcome};
use crate::pipeline::{RefreshInfo, after_store, refresh_source, stored_changes};

/// Longest sleep between two looks at the schedule (config reloads, clock jumps).
const MAX_TICK: Duration = Duration::from_secs(30);

/// Where the scheduler reads the time and how it waits for a moment to come.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    /// Completes once `now()` has reached `at` (at once when it already has).
    fn sleep_until(&self, at: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// The system clock and tokio's timer: what the daemon runs on.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let wait = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        Box::pin(tokio::time::sleep(wait))
    }
}

/// When to check a source again after `outcome`. `failures` counts consecutive failures
/// including this one. `jitter_unit` is a random number in [-1, 1].
pub fn next_check(
    now: DateTime<Utc>,
    interval: Duration,
    outcome: &SourceOutcome,
    info: &RefreshInfo,
    failures: u32,
    cfg: &SchedulerConfig,
    jitter_unit: f64,
) -> DateTime<Utc> {
    let base = interval.max(cfg.min_interval);
    let wait = match &outcome.result {
        OutcomeKind::Failed { .. } => {
            let exp = failures.saturating_sub(1).min(30);
            let backoff = base
                .checked_mul(1u32 << exp.min(20))
                .unwrap_or(cfg.backoff_max)
                .min(cfg.backoff_max);
            let asked = info
                .retry_after
                .map(Duration::from_secs)
                .unwrap_or_default();
            backoff.max(asked.min(cfg.max_interval))
        }
        OutcomeKind::Fetched { .. } | OutcomeKind::NotModified => {
            let hint = [
                info.feed
                    .ttl_minutes
                    .map(|m| Duration::from_secs(u64::from(m) * 60)),
                info.hints.max_age.map(Duration::from_secs),
                info.hints.expires_in.map(Duration::from_secs),
            ]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or_default();
            base.max(hint.min(cfg.max_interval))
        }
    };
    let spread = wait.as_secs_f64() * cfg.jitter * jitter_unit.clamp(-1.0, 1.0);
    let secs = (wait.as_secs_f64() + spread).max(1.0);
    now + chrono::Duration::milliseconds((secs * 1000.0) as i64)
}

/// Run the scheduler until `shutdown` is cancelled.
pub async fn run(app: App, metrics: Arc<Metrics>, shutdown: CancellationToken) -> Result<()> {
    run_with_clock(app, metrics, shutdown, Arc::new(SystemClock)).await
}

/// [`run`] on `clock`: every "now" of the schedule is read from it and every wait for a
/// source to come due is a wait on it.
pub async fn run_with_clock(
    app: App,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
    clock: Arc<dyn Clock>,
) -> Result<()> {
    let gauge = metrics.clone();
    let feeder = Feeder::spawn(
        app.index.clone(),
        app.store.clone(),
        Commit::EachChange,
        move |index| {
            gauge.index_documents.set(index.doc_count() as i64);
        },
    );
    let mut running: HashSet<String> = HashSet::new();
    let mut tasks: JoinSet<(String, Result<()>)> = JoinSet::new();
    tracing::info!(sources = app.config().sources.len(), "scheduler started");
    let mut changes = app.config_changes();
    loop {
        if shutdown.is_cancelled() {
            break;
        }
        let now = clock.now();
        let schedules = {
            let store = app.store.clone();
            tokio::task::spawn_blocking(move || store.schedules()).await??
        };
        let mut soonest: Option<DateTime<Utc>> = None;
        let config = app.config();
        for sch in &schedules {
            let Some(source) = config.source(&sch.id).filter(|s| s.enabled) else {
                continue;
            };
            if running.contains(&sch.id) {
                continue;
            }
            match sch.next_check_at {
                Some(at) if at > now => {
                    soonest = Some(soonest.map_or(at, |s| s.min(at)));
                }
                _ => {
                    running.insert(sch.id.clone());
                    let (app, metrics, feed) = (app.clone(), metrics.clone(), feeder.handle());
                    let (source, clock) = (source.clone(), clock.clone());
                    let failures = sch.consecutive_failures;
                    tasks.spawn(async move {
                        let id = source.id().to_string();
                        let r = refresh_and_plan(&app, &metrics, &feed, &source, failures, &*clock)
                            .await;
                        (id, r)
                    });
                }
            }
        }
        let longest = clock.now() + chrono::Duration::from_std(MAX_TICK).unwrap_or_default();
        let wake = soonest.map_or(longest, |t| t.min(longest));
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = clock.sleep_until(wake) => {}
            // A reload (new or edited sources) is looked at at once.
            Ok(()) = changes.changed() => {}
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                finish(&mut running, done);
            }
        }
        // Collect whatever else finished meanwhile.
        while let Some(done) = tasks.try_join_next() {
            finish(&mut running, done);
        }
    }
    tracing::info!(in_flight = tasks.len(), "scheduler stopping");
    let grace = app.config().scheduler.shutdown_grace;
    let drained = tokio::time::timeout(grace, async {
        while let Some(done) = tasks.join_next().await {
            finish(&mut running, done);
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            abandoned = tasks.len(),
            "abandoning fetches still in flight"
        );
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
    feeder.stop().await;
    // Final catch-up and commit: whatever reached SQLite is in the index on exit.
    after_store(&app, None).await?;
    let index = app.index.clone();
    tokio::task::spawn_blocking(move || index.close()).await??;
    tracing::info!("scheduler stopped, index committed");
    Ok(())
}

fn finish(
    running: &mut HashSet<String>,
    done: std::result::Result<(String, Result<()>), tokio::task::JoinError>,
) {
    match done {
        Ok((id, r)) => {
            if let Err(e) = r {
                tracing::error!(source = %id, error = %e, "could not record refresh");
            }
            running.remove(&id);
        }
        Err(e) => tracing::error!(error = %e, "refresh task failed"),
    }
}

async fn refresh_and_plan(
    app: &App,
    metrics: &Metrics,
    feed: &FeedHandle,
    source: &SourceConfig,
    failures_before: i64,
    clock: &dyn Clock,
) -> Result<()> {
    let (outcome, info) = refresh_source(app, source).await?;
    if stored_changes(&outcome)
        && let Err(e) = after_store(app, Some(feed)).await
    {
        tracing::error!(source = source.id(), error = %e, "after-store step failed; the next change catches up");
    }
    metrics.record(&outcome);
    let failures = if outcome.is_failure() {
        (failures_before + 1).max(1) as u32
    } else {
        0
    };
    let at = next_check(
        clock.now(),
        source.interval,
        &outcome,
        &info,
        failures,
        &app.config().scheduler,
        fastrand::f64() * 2.0 - 1.0,
    );
    let store = app.store.clone();
    let id = source.id().to_string();
    tokio::task::spawn_blocking(move || store.set_next_check(&id, at)).await??;
    tracing::debug!(source = source.id(), next = %at, "scheduled");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::CacheHints;
    use crate::model::UpsertCounts;

    fn outcome(failed: bool) -> SourceOutcome {
        SourceOutcome {
            source_id: "s".into(),
            result: if failed {
                OutcomeKind::Failed {
                    kind: "network".into(),
                    message: "x".into(),
                }
            } else {
                OutcomeKind::Fetched {
                    counts: UpsertCounts::default(),
                    skipped: 0,
                }
            },
            duration_ms: 1,
        }
    }

    fn cfg() -> SchedulerConfig {
        SchedulerConfig {
            min_interval: Duration::from_secs(60),
            max_interval: Duration::from_secs(24 * 3600),
            backoff_max: Duration::from_secs(3600),
            jitter: 0.1,
            shutdown_grace: Duration::from_secs(3),
        }
    }

    fn wait(at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
        (at - now).num_seconds()
    }

    #[test]
    fn interval_with_bounded_jitter() {
        let now = Utc::now();
        let i = Duration::from_secs(900);
        let info = RefreshInfo::default();
        assert_eq!(
            wait(
                next_check(now, i, &outcome(false), &info, 0, &cfg(), 0.0),
                now
            ),
            900
        );
        assert_eq!(
            wait(
                next_check(now, i, &outcome(false), &info, 0, &cfg(), 1.0),
                now
            ),
            990
        );
        assert_eq!(
            wait(
                next_check(now, i, &outcome(false), &info, 0, &cfg(), -1.0),
                now
            ),
            810
        );
        // Below the floor: raised to min_interval.
        let short = Duration::from_secs(5);
        assert_eq!(
            wait(
                next_check(now, short, &outcome(false), &info, 0, &cfg(), 0.0),
                now
            ),
            60
        );
    }

    #[test]
    fn failures_back_off_to_the_ceiling_and_stay() {
        let now = Utc::now();
        let i = Duration::from_secs(300);
        let info = RefreshInfo::default();
        let waits: Vec<i64> = (1..=8)
            .map(|n| {
                wait(
                    next_check(now, i, &outcome(true), &info, n, &cfg(), 0.0),
                    now,
                )
            })
            .collect();
        assert_eq!(waits, vec![300, 600, 1200, 2400, 3600, 3600, 3600, 3600]);
        assert!(
            wait(
                next_check(now, i, &outcome(true), &info, 10_000, &cfg(), 0.0),
                now
            ) == 3600
        );
    }

    #[test]
    fn server_hints_stretch_within_bounds() {
        let now = Utc::now();
        let i = Duration::from_secs(900);
        let mut info = RefreshInfo::default();
        info.feed.ttl_minutes = Some(60);
        assert_eq!(
            wait(
                next_check(now, i, &outcome(false), &info, 0, &cfg(), 0.0),
                now
            ),
            3600
        );
        info.hints = CacheHints {
            max_age: Some(10 * 24 * 3600),
            expires_in: None,
        };
        assert_eq!(
            wait(
                next_check(now, i, &outcome(false), &info, 0, &cfg(), 0.0),
                now
            ),
            24 * 3600
        );
        let info = RefreshInfo {
            retry_after: Some(7200),
            ..Default::default()
        };
        assert_eq!(
            wait(
                next_check(now, i, &outcome(true), &info, 1, &cfg(), 0.0),
                now
            ),
            7200
        );
    }
}
