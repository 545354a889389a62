//! `[server.limits]`: what one client, or all of them together, may hold of the web
//! server — how long a connection may take to send its request headers, how many
//! connections may be open at once, and how many of those one address may hold. They are
//! read by `web::listen`, which drives each connection itself so that they apply; the
//! login brake's window is read by the web app's limiter; the search gate's keys (how many
//! searches run at once, how long one may wait for its turn, how many may wait) by the
//! web app's `admission`; how many recent search pages are kept by the app
//! (`search_cache`, `search::cache`).

use std::time::Duration;

use serde::Deserialize;

use super::de::de_duration;

/// `[server.limits]` (every key optional).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerLimits {
    /// Time a connection has to send a complete request head (first request and every
    /// later one on a kept-alive connection); slower connections are closed.
    #[serde(default = "default_header_timeout", deserialize_with = "de_duration")]
    pub header_timeout: Duration,
    /// Connections open at once; more get a 503. Also kept below the process's
    /// open-file limit (`ulimit -n`) at start.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Connections one client address may hold at once (0: no limit); more get a 503.
    /// An office behind one NAT address shares it: raise it there.
    /// Not applied behind a reverse proxy (`behind_proxy`), where every connection comes
    /// from the proxy: limit clients there.
    #[serde(default = "default_max_per_client")]
    pub max_connections_per_client: usize,
    /// How long failed logins are counted against a user name or an address (the login
    /// brake, `web::limiter`); a name or address over its limit waits out the rest of it.
    #[serde(default = "default_login_window", deserialize_with = "de_duration")]
    pub login_failure_window: Duration,
    /// Searches that run at once (0, the default: one per CPU core); the others wait
    /// their turn in a queue.
    #[serde(default)]
    pub search_concurrency: usize,
    /// How long a search may wait for its turn; one that would wait longer is answered
    /// at once with a 503 and `Retry-After`.
    #[serde(default = "default_search_budget", deserialize_with = "de_duration")]
    pub search_queue_budget: Duration,
    /// Searches that may wait at once (0: none waits, a busy server answers 503); more
    /// are answered at once with a 503 and `Retry-After`.
    #[serde(default = "default_search_queue")]
    pub search_queue_length: usize,
    /// Recent search pages kept (0: none): the same search asked again on an unchanged
    /// index, within a minute, is answered without searching (`search::cache`).
    #[serde(default = "default_search_cache")]
    pub search_cache: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_timeout: default_header_timeout(),
            max_connections: default_max_connections(),
            max_connections_per_client: default_max_per_client(),
            login_failure_window: default_login_window(),
            search_concurrency: 0,
            search_queue_budget: default_search_budget(),
            search_queue_length: default_search_queue(),
            search_cache: default_search_cache(),
        }
    }
}

impl ServerLimits {
    /// The checks on these keys: the message of the first one that fails.
    pub fn check(&self) -> Option<String> {
        if self.header_timeout < Duration::from_millis(100) {
            return Some("server.limits.header_timeout quá ngắn (tối thiểu 100ms)".into());
        }
        if self.login_failure_window < Duration::from_secs(1) {
            return Some("server.limits.login_failure_window quá ngắn (tối thiểu 1s)".into());
        }
        if self.max_connections == 0 {
            return Some("server.limits.max_connections phải lớn hơn 0".into());
        }
        if self.search_concurrency > 1024 {
            return Some("server.limits.search_concurrency quá lớn (tối đa 1024)".into());
        }
        if self.search_queue_budget < Duration::from_millis(1) {
            return Some("server.limits.search_queue_budget quá ngắn (tối thiểu 1ms)".into());
        }
        if self.search_queue_budget > Duration::from_secs(60) {
            return Some("server.limits.search_queue_budget quá dài (tối đa 60s)".into());
        }
        if self.search_cache > 100_000 {
            return Some("server.limits.search_cache quá lớn (tối đa 100000)".into());
        }
        if self.search_queue_length > 100_000 {
            return Some("server.limits.search_queue_length quá lớn (tối đa 100000)".into());
        }
        None
    }

    /// Searches that run at once: `search_concurrency`, or one per CPU core when it is 0.
    pub fn search_slots(&self) -> usize {
        match self.search_concurrency {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }
}

fn default_header_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_max_connections() -> usize {
    512
}

fn default_login_window() -> Duration {
    Duration::from_secs(15 * 60)
}

fn default_max_per_client() -> usize {
    128
}

fn default_search_budget() -> Duration {
    Duration::from_millis(200)
}

fn default_search_queue() -> usize {
    64
}

fn default_search_cache() -> usize {
    256
}
