//! Recent search pages, kept for a short while: the same search asked again — a page
//! reloaded, the next colleague looking up the same story, sixteen people on the same
//! morning headline — is answered from the matches already found instead of searching
//! the index again. What is kept is what the index decided (the page's documents and
//! scores, the exact total, the per-source counts, corrections and suggestion); the hits
//! themselves are still read from the store for every answer, since tone labels and
//! shares change there without the index changing.
//!
//! An entry is good only for the index generation it was found on (every commit of the
//! daemon opens a new one, so a new item is never missed) and for at most its time to live
//! (the recency factor and relative dates such as "hôm nay" move with the clock). The
//! configuration reloading clears it all (topics and variants change what queries mean).
//! Searches that depend on the store (`status:` filters) are not kept.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lru::LruCache;

/// How long an entry answers.
pub const TTL: Duration = Duration::from_secs(60);

struct Entry<V> {
    generation: u64,
    at: Instant,
    value: Arc<V>,
}

/// At most `capacity` values by key, each for one index generation and `ttl`.
pub struct Recent<V> {
    entries: Mutex<LruCache<String, Entry<V>>>,
    ttl: Duration,
}

impl<V> Recent<V> {
    /// None when `capacity` is 0 (nothing kept).
    pub fn new(capacity: usize, ttl: Duration) -> Option<Recent<V>> {
        Some(Recent {
            entries: Mutex::new(LruCache::new(NonZeroUsize::new(capacity)?)),
            ttl,
        })
    }

    /// The value kept for `key` on this index `generation` and young enough.
    pub fn get(&self, key: &str, generation: u64) -> Option<Arc<V>> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(key) {
            Some(e) if e.generation == generation && e.at.elapsed() < self.ttl => {
                return Some(e.value.clone());
            }
            Some(_) => {}
            None => return None,
        }
        entries.pop(key);
        None
    }

    /// Keep `value` for `key` on `generation` (the oldest entry goes when full).
    pub fn put(&self, key: String, generation: u64, value: Arc<V>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.put(
            key,
            Entry {
                generation,
                at: Instant::now(),
                value,
            },
        );
    }

    /// Forget everything.
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Entries kept (for the tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_answers_on_its_generation_while_young() {
        let c: Recent<u32> = Recent::new(2, Duration::from_millis(200)).expect("cache");
        c.put("a".into(), 1, Arc::new(10));
        assert_eq!(c.get("a", 1).as_deref(), Some(&10));
        // Another generation: gone, and not back for the first one either.
        assert_eq!(c.get("a", 2), None);
        assert_eq!(c.get("a", 1), None);
        c.put("a".into(), 2, Arc::new(11));
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(c.get("a", 2), None, "too old");
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn the_least_recently_asked_goes_first_and_clear_empties() {
        let c: Recent<u32> = Recent::new(2, TTL).expect("cache");
        c.put("a".into(), 1, Arc::new(1));
        c.put("b".into(), 1, Arc::new(2));
        assert!(c.get("a", 1).is_some());
        c.put("c".into(), 1, Arc::new(3));
        assert_eq!(c.get("b", 1), None);
        assert!(c.get("a", 1).is_some() && c.get("c", 1).is_some());
        c.clear();
        assert_eq!(c.len(), 0);
        assert!(Recent::<u32>::new(0, TTL).is_none());
    }
}
