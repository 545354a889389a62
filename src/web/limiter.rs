//! The login form's brake: failed logins counted in memory per user name and, with a
//! higher limit since an office shares one address behind its router, per client
//! address, over a window (`[server.limits] login_failure_window`, 15 minutes by
//! default). Over a limit, `blocked_for` says how long to wait
//! (the login page answers 429 with `Retry-After`). A restart forgives; that is acceptable.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins allowed per window for one user name, and (higher, since an office shares
/// one address behind its router) for one client address.
const MAX_FAILURES_PER_NAME: u32 = 5;
const MAX_FAILURES_PER_ADDRESS: u32 = 20;

/// Failed-login counters kept in memory (a restart forgives; that is acceptable).
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
    window: Duration,
}

impl LoginLimiter {
    /// Failures are counted over `window`, then forgotten.
    pub fn new(window: Duration) -> LoginLimiter {
        LoginLimiter {
            failures: Mutex::default(),
            window,
        }
    }

    fn keys(ip: Option<IpAddr>, name: &str) -> Vec<(String, u32)> {
        let mut keys = vec![(
            format!("user:{}", name.to_lowercase()),
            MAX_FAILURES_PER_NAME,
        )];
        if let Some(ip) = ip {
            keys.push((format!("ip:{ip}"), MAX_FAILURES_PER_ADDRESS));
        }
        keys
    }

    /// Seconds to wait when the name or the address is over its limit.
    pub fn blocked_for(&self, ip: Option<IpAddr>, name: &str) -> Option<u64> {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        Self::keys(ip, name)
            .iter()
            .filter_map(|(k, max)| map.get(k).map(|v| (v, *max)))
            .filter(|((n, since), max)| *n >= *max && since.elapsed() < self.window)
            .map(|((_, since), _)| (self.window - since.elapsed()).as_secs() + 1)
            .max()
    }

    pub fn failed(&self, ip: Option<IpAddr>, name: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, since)| since.elapsed() < self.window);
        }
        for (k, _) in Self::keys(ip, name) {
            let e = map.entry(k).or_insert((0, Instant::now()));
            if e.1.elapsed() >= self.window {
                *e = (0, Instant::now());
            }
            e.0 += 1;
        }
    }

    pub fn succeeded(&self, name: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("user:{}", name.to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_blocks_after_repeated_failures() {
        let l = LoginLimiter::new(Duration::from_secs(15 * 60));
        let ip: Option<IpAddr> = "10.0.0.1".parse().ok();
        let other: Option<IpAddr> = "10.0.0.2".parse().ok();
        for _ in 0..MAX_FAILURES_PER_NAME {
            assert!(l.blocked_for(ip, "lan").is_none());
            l.failed(ip, "lan");
        }
        assert!(l.blocked_for(ip, "lan").is_some());
        assert!(l.blocked_for(other, "lan").is_some(), "same name");
        assert!(
            l.blocked_for(ip, "hoa").is_none(),
            "colleagues share an address"
        );
        for i in MAX_FAILURES_PER_NAME..MAX_FAILURES_PER_ADDRESS {
            l.failed(ip, &format!("u{i}"));
        }
        assert!(l.blocked_for(ip, "hoa").is_some(), "address over its limit");
        assert!(l.blocked_for(other, "hoa").is_none());
    }
}
