//! robots.txt: fetched once per host through the fetcher that holds this cache, and
//! consulted by `Fetcher::fetch_polite` before page sources and article fetches (feeds are
//! published to be polled and are not checked). Follows RFC 9309: a missing robots.txt (4xx) allows everything, an
//! unreachable one (5xx) disallows everything for a while, a network failure is retried on
//! the next call. The rules are read for the `gomtin` product token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Fetched, Fetcher, Validators};
use crate::error::{Error, Result};

/// Product token matched against `User-agent:` lines.
pub const AGENT: &str = "gomtin";
/// How long parsed rules are kept.
const TTL: Duration = Duration::from_secs(24 * 3600);
/// How long a 5xx "disallow everything" verdict is kept.
const ERROR_TTL: Duration = Duration::from_secs(3600);

enum Rules {
    AllowAll,
    DisallowAll,
    Parsed(Box<texting_robots::Robot>),
}

impl Rules {
    fn allows(&self, url: &str) -> bool {
        match self {
            Rules::AllowAll => true,
            Rules::DisallowAll => false,
            Rules::Parsed(r) => r.allowed(url),
        }
    }
}

/// Rules of one host with when they were fetched and how long they hold.
struct Entry {
    at: Instant,
    ttl: Duration,
    rules: Arc<Rules>,
}

/// Per-host cache of robots.txt rules (each `Fetcher` holds one).
#[derive(Default, Clone)]
pub struct RobotsCache {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
}

fn origin(url: &url::Url) -> String {
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    )
}

impl RobotsCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether robots.txt of `url`'s host lets gomtin fetch `url`.
    pub async fn allowed(&self, fetcher: &Fetcher, url: &url::Url) -> Result<bool> {
        if !matches!(url.scheme(), "http" | "https") {
            return Ok(true);
        }
        let key = origin(url);
        let cached = {
            let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            map.get(&key)
                .filter(|e| e.at.elapsed() < e.ttl)
                .map(|e| e.rules.clone())
        };
        let rules = match cached {
            Some(r) => r,
            None => {
                let (rules, ttl) = self.load(fetcher, &key).await?;
                let rules = Arc::new(rules);
                self.entries
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(
                        key,
                        Entry {
                            at: Instant::now(),
                            ttl,
                            rules: rules.clone(),
                        },
                    );
                rules
            }
        };
        Ok(rules.allows(url.as_str()))
    }

    async fn load(&self, fetcher: &Fetcher, origin: &str) -> Result<(Rules, Duration)> {
        let robots_url =
            url::Url::parse(&format!("{origin}/robots.txt")).map_err(|e| Error::BadUrl {
                url: origin.to_string(),
                message: e.to_string(),
            })?;
        match fetcher.fetch(&robots_url, &Validators::default()).await {
            Ok(Fetched::Body(body)) => {
                let rules = texting_robots::Robot::new(AGENT, &body.bytes)
                    .map(|r| Rules::Parsed(Box::new(r)))
                    .unwrap_or(Rules::AllowAll);
                Ok((rules, TTL))
            }
            Ok(Fetched::NotModified { .. }) => Ok((Rules::AllowAll, TTL)),
            Err(Error::HttpStatus { status, .. }) if (400..500).contains(&status) => {
                Ok((Rules::AllowAll, TTL))
            }
            Err(Error::HttpStatus { status, .. }) => {
                tracing::warn!(%robots_url, status, "robots.txt unavailable; treating host as disallowed for now");
                Ok((Rules::DisallowAll, ERROR_TTL))
            }
            Err(e) => Err(e),
        }
    }
}
