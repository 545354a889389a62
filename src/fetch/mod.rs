//! Fetching: the one network module. One shared reqwest `Client` that every source goes
//! through sits between the scheduler/pipeline (which decides *what* to fetch) and
//! extraction (which reads the bytes). It is polite and bounded: total timeout, body cap
//! counted after decompression, redirect limit, per-host concurrency limit, conditional
//! GET validators echoed byte for byte, loopback/private addresses refused unless the
//! config allows them, and — when the caller asks for it ([`RobotsPolicy::Obey`]) —
//! robots.txt consulted first (`robots`, cached per host inside the fetcher).
//! It hands back raw bytes; `charset` turns them into UTF-8 text, once.

pub mod charset;
mod post;
pub mod robots;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderValue};
use tokio::sync::Semaphore;

use crate::config::FetchConfig;
use crate::error::{Error, Result};
pub use post::Posted;
use robots::RobotsCache;

/// The most a body's buffer is sized from its announced `Content-Length` before any of it
/// has arrived (beyond that it grows as it comes).
const PREALLOC_MAX: u64 = 8 * 1024 * 1024;

/// Whether a fetch asks the host's robots.txt first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RobotsPolicy {
    /// Fetch without asking: feeds (published to be polled), robots.txt itself.
    Ignore,
    /// Ask robots.txt first (fetched once per host, cached); a disallowed URL fails with
    /// `Error::Robots` and is not fetched.
    Obey,
}

impl RobotsPolicy {
    /// `Obey` when `obey` is true.
    pub fn obey_if(obey: bool) -> RobotsPolicy {
        if obey {
            RobotsPolicy::Obey
        } else {
            RobotsPolicy::Ignore
        }
    }
}

/// What the caller knows from the last successful fetch of this URL.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// Caching hints the server gave, used by the scheduler.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CacheHints {
    /// `Cache-Control: max-age` in seconds.
    pub max_age: Option<u64>,
    /// `Expires`, as seconds from now (0 when already past).
    pub expires_in: Option<u64>,
}

/// A successful fetch.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// The server answered 304: nothing changed since the validators were issued.
    NotModified { hints: CacheHints },
    /// A new body.
    Body(Body),
}

/// A fetched body with the headers that matter downstream.
#[derive(Debug, Clone)]
pub struct Body {
    pub bytes: Vec<u8>,
    /// The URL after redirects.
    pub final_url: url::Url,
    pub content_type: Option<String>,
    pub validators: Validators,
    pub hints: CacheHints,
}

/// The one HTTP client of the process, with its per-host limits and robots.txt rules.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    /// robots.txt rules per host, shared by every clone of this fetcher.
    robots: RobotsCache,
    max_body: u64,
    per_host: usize,
    hosts: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    /// Requests in flight overall; taken after the host permit so that a slow host only
    /// holds back its own sources.
    global: Arc<Semaphore>,
    allow_private: bool,
}

/// Marker error raised inside the resolver or redirect policy when an address is refused.
#[derive(Debug)]
struct PrivateRefused(String);

impl std::fmt::Display for PrivateRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "private or loopback address {} refused", self.0)
    }
}
impl std::error::Error for PrivateRefused {}

/// DNS resolver that drops private and loopback answers.
struct PublicOnlyResolver;

impl reqwest::dns::Resolve for PublicOnlyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = addrs
                .iter()
                .copied()
                .filter(|a| !is_private(a.ip()))
                .collect();
            if public.is_empty() {
                let shown = addrs
                    .first()
                    .map(|a| a.ip().to_string())
                    .unwrap_or_else(|| host.clone());
                return Err(
                    Box::new(PrivateRefused(shown)) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// True for loopback, private, link-local, shared (CGNAT), unspecified and similar addresses.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

fn host_ip(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(a) => Some(IpAddr::V4(a)),
        url::Host::Ipv6(a) => Some(IpAddr::V6(a)),
        url::Host::Domain(_) => None,
    }
}

impl Fetcher {
    /// Build the client from `[fetch]`.
    pub fn new(cfg: &FetchConfig) -> Result<Fetcher> {
        let allow_private = cfg.allow_private_networks;
        let max_redirects = cfg.max_redirects;
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max_redirects {
                return attempt.error(format!("more than {max_redirects} redirects"));
            }
            let url = attempt.url();
            if !matches!(url.scheme(), "http" | "https") {
                let scheme = url.scheme().to_string();
                return attempt.error(format!(
                    "chuyển hướng tới địa chỉ không phải http(s) ({scheme}:), không theo"
                ));
            }
            if !allow_private
                && let Some(ip) = host_ip(url)
                && is_private(ip)
            {
                return attempt.error(PrivateRefused(ip.to_string()));
            }
            attempt.follow()
        });
        let mut builder = reqwest::Client::builder()
            .user_agent(cfg.user_agent.clone())
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(Duration::from_secs(10)))
            .redirect(policy)
            .gzip(true)
            .brotli(true)
            .deflate(true)
            .no_proxy();
        if !allow_private {
            builder = builder.dns_resolver(PublicOnlyResolver);
        }
        let client = builder.build().map_err(|e| Error::Network {
            url: String::new(),
            message: format!("cannot build HTTP client: {e}"),
        })?;
        Ok(Fetcher {
            client,
            robots: RobotsCache::new(),
            max_body: cfg.max_body_bytes,
            per_host: cfg.per_host,
            hosts: Arc::new(Mutex::new(HashMap::new())),
            global: Arc::new(Semaphore::new(cfg.concurrency)),
            allow_private,
        })
    }

    /// The per-host semaphore for `host` (created on first use).
    fn host_permit(&self, host: &str) -> Arc<Semaphore> {
        let mut map = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(host.to_ascii_lowercase())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
            .clone()
    }

    /// GET `url` as [`fetch`](Self::fetch) does, asking robots.txt first when `robots` says
    /// so: this is how the pipeline fetches sources and article pages.
    pub async fn fetch_polite(
        &self,
        url: &url::Url,
        validators: &Validators,
        robots: RobotsPolicy,
    ) -> Result<Fetched> {
        if robots == RobotsPolicy::Obey && !self.robots_allow(url).await? {
            return Err(Error::Robots {
                url: url.to_string(),
            });
        }
        self.fetch(url, validators).await
    }

    /// Whether robots.txt of `url`'s host lets gomtin fetch `url` (see `robots`).
    pub async fn robots_allow(&self, url: &url::Url) -> Result<bool> {
        self.robots.allowed(self, url).await
    }

    /// GET `url` (http, https or file), sending the validators as conditional headers.
    /// robots.txt is not consulted (see [`fetch_polite`](Self::fetch_polite)).
    pub async fn fetch(&self, url: &url::Url, validators: &Validators) -> Result<Fetched> {
        match url.scheme() {
            "http" | "https" => self.fetch_http(url, validators).await,
            "file" => {
                let path = url.to_file_path().map_err(|_| Error::BadUrl {
                    url: url.to_string(),
                    message: "not a local file path".into(),
                })?;
                let bytes = read_file_capped(&path, self.max_body).await?;
                Ok(Fetched::Body(Body {
                    bytes,
                    final_url: url.clone(),
                    content_type: None,
                    validators: Validators::default(),
                    hints: CacheHints::default(),
                }))
            }
            other => Err(Error::BadUrl {
                url: url.to_string(),
                message: format!("unsupported scheme `{other}`"),
            }),
        }
    }

    async fn fetch_http(&self, url: &url::Url, validators: &Validators) -> Result<Fetched> {
        let url_s = url.to_string();
        if !self.allow_private
            && let Some(ip) = host_ip(url)
            && is_private(ip)
        {
            return Err(Error::PrivateAddress {
                url: url_s,
                addr: ip.to_string(),
            });
        }
        let host = url.host_str().unwrap_or_default().to_string();
        let sem = self.host_permit(&host);
        // Host first, then the global permit: a slow host only holds back its own sources.
        let _host_permit = sem
            .acquire_owned()
            .await
            .map_err(|e| Error::Task(e.to_string()))?;
        let _global_permit = self
            .global
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| Error::Task(e.to_string()))?;

        let mut req = self.client.get(url.clone());
        if let Some(etag) = &validators.etag
            && let Ok(v) = HeaderValue::from_bytes(etag.as_bytes())
        {
            req = req.header(header::IF_NONE_MATCH, v);
        }
        if let Some(lm) = &validators.last_modified
            && let Ok(v) = HeaderValue::from_bytes(lm.as_bytes())
        {
            req = req.header(header::IF_MODIFIED_SINCE, v);
        }
        let mut resp = req.send().await.map_err(|e| self.map_reqwest(&url_s, e))?;
        let status = resp.status();
        let hints = cache_hints(resp.headers());
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified { hints });
        }
        if status.is_redirection()
            && let Some(target) = resp
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| resp.url().join(l.trim()).ok())
            && !matches!(target.scheme(), "http" | "https")
        {
            // reqwest hands back a redirect it will not follow (file:, data:, …) as is.
            return Err(Error::Network {
                url: url_s,
                message: format!(
                    "chuyển hướng tới địa chỉ không phải http(s) ({}:), không theo",
                    target.scheme()
                ),
            });
        }
        if !status.is_success() {
            return Err(Error::HttpStatus {
                url: url_s,
                status: status.as_u16(),
                retry_after: retry_after(resp.headers()),
            });
        }
        let headers = resp.headers().clone();
        let final_url = resp.url().clone();
        if let Some(len) = resp.content_length()
            && len > self.max_body
            && !headers.contains_key(header::CONTENT_ENCODING)
        {
            return Err(Error::BodyTooLarge {
                url: url_s,
                limit: self.max_body,
            });
        }
        // Sized from the announced length when the body is not compressed (at most
        // `PREALLOC_MAX`, so a false length costs little): growing by doubling left up to
        // twice a feed's size allocated for as long as the source is in flight.
        let announced = resp
            .content_length()
            .filter(|_| !headers.contains_key(header::CONTENT_ENCODING))
            .unwrap_or(0)
            .min(PREALLOC_MAX);
        let mut bytes = Vec::with_capacity(announced as usize);
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| self.map_reqwest(&url_s, e))?
        {
            if bytes.len() as u64 + chunk.len() as u64 > self.max_body {
                return Err(Error::BodyTooLarge {
                    url: url_s,
                    limit: self.max_body,
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        if bytes.capacity() > bytes.len() + bytes.len() / 4 {
            bytes.shrink_to_fit();
        }
        let header_string = |name: header::HeaderName| {
            headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        Ok(Fetched::Body(Body {
            bytes,
            final_url,
            content_type: header_string(header::CONTENT_TYPE),
            validators: Validators {
                etag: header_string(header::ETAG),
                last_modified: header_string(header::LAST_MODIFIED),
            },
            hints,
        }))
    }

    /// Turn a reqwest error into ours, recognising refused private addresses in the chain.
    fn map_reqwest(&self, url: &str, e: reqwest::Error) -> Error {
        let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = src {
            if let Some(p) = s.downcast_ref::<PrivateRefused>() {
                return Error::PrivateAddress {
                    url: url.to_string(),
                    addr: p.0.clone(),
                };
            }
            src = s.source();
        }
        let what = if e.is_timeout() {
            "hết thời gian chờ (timeout)".to_string()
        } else if e.is_connect() {
            format!("không kết nối được ({})", root_cause(&e))
        } else if e.is_redirect() {
            format!("chuyển hướng lỗi ({})", root_cause(&e))
        } else {
            root_cause(&e)
        };
        Error::Network {
            url: url.to_string(),
            message: what,
        }
    }
}

/// The innermost message of an error chain (reqwest's outer messages are generic).
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        last = s.to_string();
        src = s.source();
    }
    last
}

async fn read_file_capped(path: &Path, cap: u64) -> Result<Vec<u8>> {
    let io_err = |source| Error::LocalFile {
        path: path.to_path_buf(),
        source,
    };
    let meta = tokio::fs::metadata(path).await.map_err(io_err)?;
    if meta.len() > cap {
        return Err(Error::BodyTooLarge {
            url: path.display().to_string(),
            limit: cap,
        });
    }
    tokio::fs::read(path).await.map_err(io_err)
}

/// `Retry-After` as seconds (delta-seconds or an HTTP date).
pub fn retry_after(headers: &HeaderMap) -> Option<u64> {
    let v = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(secs);
    }
    let when = httpdate_to_utc(v)?;
    Some((when - chrono::Utc::now()).num_seconds().max(0) as u64)
}

fn cache_hints(headers: &HeaderMap) -> CacheHints {
    let max_age = headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|d| d.trim().strip_prefix("max-age="))
        .find_map(|n| n.trim_matches('"').parse().ok());
    let expires_in = headers
        .get(header::EXPIRES)
        .and_then(|v| v.to_str().ok())
        .and_then(httpdate_to_utc)
        .map(|t| (t - chrono::Utc::now()).num_seconds().max(0) as u64);
    CacheHints {
        max_age,
        expires_in,
    }
}

fn httpdate_to_utc(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc2822(s)
        .ok()
        .map(|d| d.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_ranges() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["8.8.8.8", "203.113.1.1", "2001:4860::8888"] {
            assert!(!is_private(ip.parse().expect("ip")), "{ip}");
        }
    }

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&h), Some(120));
        h.insert(
            header::RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(0));
    }

    #[test]
    fn cache_control_max_age() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=600"),
        );
        assert_eq!(cache_hints(&h).max_age, Some(600));
    }

    #[tokio::test]
    async fn loopback_refused_by_default() {
        let f = Fetcher::new(&FetchConfig::default()).expect("client");
        let url = url::Url::parse("http://127.0.0.1:9/feed").expect("url");
        let err = f
            .fetch(&url, &Validators::default())
            .await
            .expect_err("refused");
        assert_eq!(err.kind(), "private_address");
        let url = url::Url::parse("http://localhost:9/feed").expect("url");
        let err = f
            .fetch(&url, &Validators::default())
            .await
            .expect_err("refused");
        assert_eq!(err.kind(), "private_address", "{err}");
    }
}
