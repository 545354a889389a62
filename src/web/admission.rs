//! The search gate: every search the web runs (`actions::run_search`) first takes one of
//! a few slots (`[server.limits] search_concurrency`, one per CPU core by default), so
//! that many callers at once queue up instead of all searching at the same time on the
//! same cores. A caller waits its turn in first-come order, but never longer than the
//! budget (`search_queue_budget`) and never behind a full queue (`search_queue_length`):
//! when the queue is full, or when the mean time of a search says it would wait past its
//! budget, it is refused at once ([`Busy`], a 503 with `Retry-After`), and one that did
//! wait the whole budget is refused then. A search that runs with nobody else running or
//! waiting may split over the cores; with others about it runs on its own thread, which
//! serves more searches per second when the cores are all busy anyway.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How much one new search time moves the mean: 1/`MEAN_WEIGHT` of the way.
const MEAN_WEIGHT: u64 = 8;

/// The gate all web searches pass, cheap to clone.
#[derive(Clone)]
pub struct SearchGate {
    inner: Arc<Inner>,
}

struct Inner {
    slots: usize,
    budget: Duration,
    queue_max: usize,
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    /// Mean wall time of one search, in microseconds (0 before the first).
    mean_us: AtomicU64,
}

/// A refused search: how long the caller should wait before trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy {
    /// Whole seconds, at least 1: the gate's estimate of when the queue has drained.
    pub retry_after_secs: u64,
}

/// One search's turn: held while it runs (move it into the blocking task so that a
/// caller who goes away does not free the slot before the search ends).
pub struct Turn {
    inner: Arc<Inner>,
    _permit: OwnedSemaphorePermit,
    started: Instant,
    alone: bool,
}

impl Turn {
    /// The threads this search may use: its own only when others run or wait
    /// (`Some(1)`), the search's own choice (`None`) when it is alone.
    pub fn threads(&self) -> Option<usize> {
        if self.alone { None } else { Some(1) }
    }
}

impl std::fmt::Debug for Turn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Turn").field("alone", &self.alone).finish()
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let took = self.started.elapsed().as_micros().min(u128::from(u64::MAX)) as u64;
        let _ = self
            .inner
            .mean_us
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |m| {
                Some(if m == 0 {
                    took.max(1)
                } else {
                    (m - m / MEAN_WEIGHT + took / MEAN_WEIGHT).max(1)
                })
            });
    }
}

/// Counts a caller in the queue while it is there.
struct InQueue<'a>(&'a AtomicUsize);

impl Drop for InQueue<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl SearchGate {
    /// `slots` searches at once (at least 1), waits up to `budget`, at most `queue_max`
    /// callers waiting.
    pub fn new(slots: usize, budget: Duration, queue_max: usize) -> SearchGate {
        let slots = slots.max(1);
        SearchGate {
            inner: Arc::new(Inner {
                slots,
                budget,
                queue_max,
                permits: Arc::new(Semaphore::new(slots)),
                waiting: AtomicUsize::new(0),
                mean_us: AtomicU64::new(0),
            }),
        }
    }

    /// Callers waiting for their turn now.
    pub fn waiting(&self) -> usize {
        self.inner.waiting.load(Ordering::Relaxed)
    }

    /// The mean time of one search so far.
    fn mean(&self) -> Duration {
        Duration::from_micros(self.inner.mean_us.load(Ordering::Relaxed))
    }

    /// How long a caller with `ahead` callers before it would wait: one slot frees per
    /// `mean / slots` on average, and it needs `ahead + 1` of them.
    fn expected_wait(&self, ahead: usize) -> Duration {
        let ahead = u32::try_from(ahead).unwrap_or(u32::MAX).saturating_add(1);
        self.mean().saturating_mul(ahead) / self.inner.slots as u32
    }

    fn busy(&self) -> Busy {
        let drain = self.expected_wait(self.waiting());
        Busy {
            retry_after_secs: drain.as_secs_f64().ceil().max(1.0) as u64,
        }
    }

    fn turn(&self, permit: OwnedSemaphorePermit) -> Turn {
        let alone =
            self.waiting() == 0 && self.inner.permits.available_permits() + 1 == self.inner.slots;
        Turn {
            inner: self.inner.clone(),
            _permit: permit,
            started: Instant::now(),
            alone,
        }
    }

    /// Wait for a turn, or be refused: at once when the queue is full or the wait would
    /// pass the budget, after the budget when the turn did not come within it.
    pub async fn enter(&self) -> Result<Turn, Busy> {
        let inner = &self.inner;
        if inner.waiting.load(Ordering::Relaxed) == 0
            && let Ok(p) = inner.permits.clone().try_acquire_owned()
        {
            return Ok(self.turn(p));
        }
        let ahead = inner.waiting.fetch_add(1, Ordering::Relaxed);
        let queued = InQueue(&inner.waiting);
        if ahead >= inner.queue_max || self.expected_wait(ahead) > inner.budget {
            drop(queued);
            return Err(self.busy());
        }
        let acquired =
            tokio::time::timeout(inner.budget, inner.permits.clone().acquire_owned()).await;
        drop(queued);
        match acquired {
            Ok(Ok(p)) => Ok(self.turn(p)),
            _ => Err(self.busy()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_gate_refuses_past_its_queue_and_budget() {
        let gate = SearchGate::new(1, Duration::from_millis(50), 1);
        let first = gate.enter().await.expect("a free slot");
        assert_eq!(first.threads(), None, "alone: may split");
        // One may wait; it is refused when the budget runs out.
        let t = Instant::now();
        let waited = gate.enter().await;
        assert!(waited.is_err());
        assert!(t.elapsed() >= Duration::from_millis(50));
        assert!(t.elapsed() < Duration::from_secs(2));
        drop(first);
        // (That search took over 50 ms: this gate now refuses waits at once, as the next
        // test shows.) With a long budget, a second caller waits and runs alone once the
        // slot is free.
        let gate = SearchGate::new(1, Duration::from_secs(5), 1);
        let a = gate.enter().await.expect("free");
        let g = gate.clone();
        let b = tokio::spawn(async move { g.enter().await.map(|t| t.threads()) });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(gate.waiting(), 1);
        // A third finds the queue full: refused at once.
        let t = Instant::now();
        let full = gate.enter().await.expect_err("queue full");
        assert!(t.elapsed() < Duration::from_millis(20));
        assert!(full.retry_after_secs >= 1);
        drop(a);
        assert_eq!(b.await.expect("task"), Ok(None));
        // Two slots: a search beside another runs on its own thread.
        let gate = SearchGate::new(2, Duration::from_millis(50), 4);
        let a = gate.enter().await.expect("free");
        let b = gate.enter().await.expect("free");
        assert_eq!((a.threads(), b.threads()), (None, Some(1)));
    }

    #[tokio::test]
    async fn a_wait_longer_than_the_budget_is_refused_at_once() {
        let gate = SearchGate::new(1, Duration::from_millis(100), 10);
        {
            let _t = gate.enter().await.expect("free");
            std::thread::sleep(Duration::from_millis(300));
        }
        // The mean search takes 300 ms: one waiting behind a running search would pass the
        // 100 ms budget, so it is not made to wait.
        let _running = gate.enter().await.expect("free");
        let t = Instant::now();
        let busy = gate.enter().await.expect_err("over budget");
        assert!(t.elapsed() < Duration::from_millis(50), "{:?}", t.elapsed());
        assert_eq!(busy.retry_after_secs, 1);
    }
}
