//! Configuration: one `Config` read from `config/gomtin.toml` (or `--config` / `GOMTIN_CONFIG`),
//! with a few `GOMTIN_*` environment overrides. It sits before every pipeline stage: the
//! sources it lists are what `fetch` pulls. Every section has defaults, unknown keys are
//! rejected, and bad values are reported with the key and line they came from.
//!
//! This file holds `Config` itself (loading, environment overrides, paths, the checks
//! across sections) and the small sections; `sources` has the `[[sources]]` entries and
//! their selectors, `mail` the `[smtp]` and `[[digests]]` keys, `de` the serde helpers and
//! line numbers. A topic or digest query is checked with the search *parser* only
//! (`search::query`), so reading the config needs no index.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};

mod de;
pub mod edit;
mod entry;
mod limits;
mod mail;
mod sources;

use de::{
    LineStarts, de_duration, de_socket_addr, de_source_id, de_timezone, default_timezone,
    translate_toml_message,
};
pub use entry::{FieldError, parse_entry};
pub use limits::ServerLimits;
pub use mail::{
    DigestConfig, SmtpConfig, SmtpSecurity, parse_cron, validate_digest, validate_smtp,
};
pub use sources::{PageSelectors, Sel, SourceConfig, SourceKind, parse_selector, validate_source};

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub storage: StorageConfig,
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub fetch: FetchConfig,
    #[serde(default)]
    pub search: SearchConfig,
    #[serde(default)]
    pub display: DisplayConfig,
    #[serde(default)]
    pub scheduler: SchedulerConfig,
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    #[serde(default)]
    pub topics: Vec<TopicConfig>,
    #[serde(default)]
    pub share: ShareConfig,
    /// The mail server digests are sent through (required when `[[digests]]` exist).
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
    #[serde(default)]
    pub digests: Vec<DigestConfig>,
    /// Folder of the config file; relative paths in the file are resolved against it.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// Where the config was read from (for messages).
    #[serde(skip)]
    pub path: PathBuf,
}

/// `[storage]`: where the SQLite database and the tantivy index live.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            data_dir: default_data_dir(),
        }
    }
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}

/// `[server]`: the web server of `gomtin serve`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default = "default_listen", deserialize_with = "de_socket_addr")]
    pub listen: SocketAddr,
    /// True when a reverse proxy terminates HTTPS in front of gomtin: session cookies get
    /// `Secure` and the client address is read from `X-Forwarded-For`.
    #[serde(default)]
    pub behind_proxy: bool,
    /// How long a web login lasts.
    #[serde(default = "default_session_ttl", deserialize_with = "de_duration")]
    pub session_ttl: Duration,
    /// `[server.limits]`: header timeout and connection caps (`limits`).
    #[serde(default)]
    pub limits: ServerLimits,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: default_listen(),
            behind_proxy: false,
            session_ttl: default_session_ttl(),
            limits: ServerLimits::default(),
        }
    }
}

fn default_session_ttl() -> Duration {
    Duration::from_secs(12 * 3600)
}

/// `[share]`: the ready-to-post text that "Sao chép bài chia sẻ" copies.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareConfig {
    /// A minijinja template over `title`, `excerpt`, `source`, `url`, `published`.
    #[serde(default = "default_share_template")]
    pub template: Spanned<String>,
}

impl Default for ShareConfig {
    fn default() -> Self {
        ShareConfig {
            template: default_share_template(),
        }
    }
}

/// The built-in share text: title, excerpt, source line, link.
pub const DEFAULT_SHARE_TEMPLATE: &str =
    "{{ title }}\n\n{{ excerpt }}\n\nNguồn: {{ source }}\n{{ url }}";

fn default_share_template() -> Spanned<String> {
    Spanned::new(0..0, DEFAULT_SHARE_TEMPLATE.to_string())
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

/// `[fetch]`: how politely and how far the fetcher may go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchConfig {
    /// Loopback and private addresses are refused unless this is true (tests set it).
    #[serde(default)]
    pub allow_private_networks: bool,
    #[serde(default = "default_user_agent")]
    pub user_agent: String,
    /// Total time allowed for one request, body included.
    #[serde(default = "default_timeout", deserialize_with = "de_duration")]
    pub timeout: Duration,
    /// Largest body accepted, counted after decompression.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: u64,
    /// Redirects followed before giving up (at most 10).
    #[serde(default = "default_max_redirects")]
    pub max_redirects: usize,
    /// Sources fetched at the same time in one pass.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Requests in flight to one host at the same time.
    #[serde(default = "default_per_host")]
    pub per_host: usize,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            allow_private_networks: false,
            user_agent: default_user_agent(),
            timeout: default_timeout(),
            max_body_bytes: default_max_body_bytes(),
            max_redirects: default_max_redirects(),
            concurrency: default_concurrency(),
            per_host: default_per_host(),
        }
    }
}

fn default_user_agent() -> String {
    format!(
        "gomtin/{} (+https://example.org/contact)",
        env!("CARGO_PKG_VERSION")
    )
}
fn default_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_max_body_bytes() -> u64 {
    10 * 1024 * 1024
}
fn default_max_redirects() -> usize {
    10
}
fn default_concurrency() -> usize {
    8
}
fn default_per_host() -> usize {
    2
}

/// `[search]`: query-time behaviour.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchConfig {
    /// Extra spelling variants (one group a line, `a = b = c`), added to the built-in list.
    /// Relative to the config folder; a missing file is an error only if set explicitly.
    #[serde(default)]
    pub variants_file: Option<PathBuf>,
    /// Hits per page when the caller does not say.
    #[serde(default = "default_limit")]
    pub default_limit: usize,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            variants_file: None,
            default_limit: default_limit(),
        }
    }
}

fn default_limit() -> usize {
    10
}

/// `[display]`: how times are shown to people.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisplayConfig {
    #[serde(default = "default_timezone", deserialize_with = "de_timezone")]
    pub timezone: chrono_tz::Tz,
}

impl Default for DisplayConfig {
    fn default() -> Self {
        DisplayConfig {
            timezone: default_timezone(),
        }
    }
}

/// `[scheduler]`: when the daemon checks sources again.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerConfig {
    /// No source is checked more often than this, whatever its `interval`.
    #[serde(default = "default_min_interval", deserialize_with = "de_duration")]
    pub min_interval: Duration,
    /// Server hints (`ttl`, `Cache-Control: max-age`, `Expires`, `Retry-After`) may stretch
    /// the wait up to this, no further.
    #[serde(default = "default_max_interval", deserialize_with = "de_duration")]
    pub max_interval: Duration,
    /// Failing sources back off exponentially up to this, then keep trying at it.
    #[serde(default = "default_backoff_max", deserialize_with = "de_duration")]
    pub backoff_max: Duration,
    /// Random spread added to each wait, as a fraction of it (0.1 = ±10%).
    #[serde(default = "default_jitter")]
    pub jitter: f64,
    /// How long a shutdown waits for fetches in flight before abandoning them.
    #[serde(default = "default_shutdown_grace", deserialize_with = "de_duration")]
    pub shutdown_grace: Duration,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            min_interval: default_min_interval(),
            max_interval: default_max_interval(),
            backoff_max: default_backoff_max(),
            jitter: default_jitter(),
            shutdown_grace: default_shutdown_grace(),
        }
    }
}

fn default_min_interval() -> Duration {
    Duration::from_secs(5 * 60)
}
fn default_max_interval() -> Duration {
    Duration::from_secs(24 * 3600)
}
fn default_backoff_max() -> Duration {
    Duration::from_secs(6 * 3600)
}
fn default_jitter() -> f64 {
    0.1
}
fn default_shutdown_grace() -> Duration {
    Duration::from_secs(3)
}

/// One `[[topics]]` entry: a named saved search that items are tagged with.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TopicConfig {
    #[serde(deserialize_with = "de_source_id")]
    pub id: Spanned<String>,
    pub name: String,
    /// A query in the search language (e.g. `"nông thôn mới" OR ntm -"tai nạn"`).
    pub query: String,
}

impl TopicConfig {
    pub fn id(&self) -> &str {
        self.id.get_ref()
    }
}

/// What serde cannot see in one `[[topics]]` entry: a name and a query in the search
/// language with at least one word (checked by the search parser only).
pub fn validate_topic(t: &TopicConfig, tz: chrono_tz::Tz) -> std::result::Result<(), FieldError> {
    if t.name.trim().is_empty() {
        return Err(FieldError::new(
            "name",
            format!("chủ đề `{}` thiếu `name`", t.id()),
        ));
    }
    match crate::search::query::parse_query(&t.query, tz) {
        Ok(pq) if !pq.is_match_all() => Ok(()),
        Ok(_) => Err(FieldError::new(
            "query",
            format!("chủ đề `{}` cần ít nhất một từ trong `query`", t.id()),
        )),
        Err(e) => Err(FieldError::new(
            "query",
            format!("query của chủ đề `{}`: {e}", t.id()),
        )),
    }
}

/// Resolve `p` against `base` unless it is absolute.
pub fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

impl Config {
    /// Read, parse, apply environment overrides and validate the config at `path`.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ConfigRead {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = Config::parse(&text, path)?;
        config.apply_env(|k| std::env::var(k).ok())?;
        Ok(config)
    }

    /// Parse and validate config text; `path` names it in messages and anchors relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let invalid = |message: String| Error::ConfigInvalid {
            path: path.to_path_buf(),
            message,
        };
        let lines = LineStarts::new(text);
        let mut config: Config = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| lines.line_of(s.start));
            let msg = e.message().trim().to_string();
            match line {
                Some(l) => invalid(format!("dòng {l}: {}", translate_toml_message(&msg))),
                None => invalid(translate_toml_message(&msg)),
            }
        })?;
        config.path = path.to_path_buf();
        config.base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        let base = config.base_dir.clone();
        if let Some(ca) = config.smtp.as_mut().and_then(|s| s.ca_file.as_mut()) {
            *ca = resolve(&base, ca);
        }
        config.validate(&lines)?;
        Ok(config)
    }

    /// Check what serde cannot: unique ids, a location for every source, sane limits.
    fn validate(&self, lines: &LineStarts) -> Result<()> {
        let invalid = |message: String| Error::ConfigInvalid {
            path: self.path.clone(),
            message,
        };
        self.validate_sources(lines)?;
        let mut topic_ids: HashMap<&str, usize> = HashMap::new();
        for t in &self.topics {
            let line = lines.line_of(t.id.span().start);
            if let Some(first) = topic_ids.insert(t.id(), line) {
                return Err(invalid(format!(
                    "dòng {line}: topics.id `{}` bị trùng (đã dùng ở dòng {first})",
                    t.id()
                )));
            }
            if let Err(e) = validate_topic(t, self.display.timezone) {
                return Err(invalid(format!("dòng {line}: {}", e.message)));
            }
        }
        self.validate_mail(lines, &topic_ids)?;
        if let Some(message) = self.server.limits.check() {
            return Err(invalid(message));
        }
        let f = &self.fetch;
        if f.user_agent.trim().is_empty() {
            return Err(invalid("fetch.user_agent không được để trống".into()));
        }
        if f.max_redirects > 10 {
            return Err(invalid("fetch.max_redirects tối đa là 10".into()));
        }
        if f.concurrency == 0 || f.per_host == 0 {
            return Err(invalid(
                "fetch.concurrency và fetch.per_host phải lớn hơn 0".into(),
            ));
        }
        if f.max_body_bytes < 1024 {
            return Err(invalid(
                "fetch.max_body_bytes quá nhỏ (tối thiểu 1024)".into(),
            ));
        }
        let sc = &self.scheduler;
        if sc.min_interval < Duration::from_secs(1) || sc.min_interval > sc.max_interval {
            return Err(invalid(
                "scheduler.min_interval phải từ 1 giây và không lớn hơn scheduler.max_interval"
                    .into(),
            ));
        }
        if sc.backoff_max < sc.min_interval {
            return Err(invalid(
                "scheduler.backoff_max không được nhỏ hơn scheduler.min_interval".into(),
            ));
        }
        if !(0.0..=0.5).contains(&sc.jitter) {
            return Err(invalid("scheduler.jitter phải trong khoảng 0..0.5".into()));
        }
        let tpl = &self.share.template;
        if let Err(e) = minijinja::Environment::new().template_from_str(tpl.get_ref()) {
            let line = lines.line_of(tpl.span().start);
            return Err(invalid(format!(
                "dòng {line}: share.template không hợp lệ: {e}; ví dụ: \"{{{{ title }}}}\\n{{{{ url }}}}\""
            )));
        }
        if self.server.session_ttl < Duration::from_secs(60) {
            return Err(invalid("server.session_ttl phải từ 1 phút trở lên".into()));
        }
        if self.search.default_limit == 0 || self.search.default_limit > 1000 {
            return Err(invalid(
                "search.default_limit phải trong khoảng 1..1000".into(),
            ));
        }
        Ok(())
    }

    /// The digest with this id.
    pub fn digest(&self, id: &str) -> Option<&DigestConfig> {
        self.digests.iter().find(|d| d.id() == id)
    }

    /// Apply `GOMTIN_DATA_DIR`, `GOMTIN_LISTEN` and `GOMTIN_ALLOW_PRIVATE_NETWORKS`.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<()> {
        let invalid = |message: String| Error::ConfigInvalid {
            path: self.path.clone(),
            message,
        };
        if let Some(v) = var("GOMTIN_DATA_DIR") {
            self.storage.data_dir = PathBuf::from(v);
        }
        if let Some(v) = var("GOMTIN_LISTEN") {
            self.server.listen = v
                .parse()
                .map_err(|_| invalid(format!("GOMTIN_LISTEN=`{v}` không phải địa chỉ hợp lệ")))?;
        }
        if let Some(v) = var("GOMTIN_ALLOW_PRIVATE_NETWORKS") {
            self.fetch.allow_private_networks = match v.as_str() {
                "1" | "true" | "yes" => true,
                "0" | "false" | "no" => false,
                _ => {
                    return Err(invalid(format!(
                        "GOMTIN_ALLOW_PRIVATE_NETWORKS=`{v}`: dùng true hoặc false"
                    )));
                }
            };
        }
        Ok(())
    }

    /// The data folder, resolved against the config file's folder.
    pub fn data_dir(&self) -> PathBuf {
        resolve(&self.base_dir, &self.storage.data_dir)
    }

    /// The source with this id.
    pub fn source(&self, id: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|s| s.id() == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(text, Path::new("/etc/gomtin/gomtin.toml"))
    }

    #[test]
    fn empty_file_gets_defaults() {
        let c = parse("").expect("empty config is valid");
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
        assert!(!c.fetch.allow_private_networks);
        assert_eq!(c.data_dir(), PathBuf::from("/etc/gomtin/data"));
        assert_eq!(c.display.timezone, chrono_tz::Asia::Ho_Chi_Minh);
    }

    #[test]
    fn full_example_parses() {
        let c = parse(
            r#"
[storage]
data_dir = "/var/lib/gomtin"
[server]
listen = "0.0.0.0:9000"
[fetch]
allow_private_networks = true
user_agent = "x/1"
[[sources]]
id = "vnexpress-moi"
name = "VnExpress – Tin mới nhất"
kind = "feed"
url = "https://vnexpress.net/rss/tin-moi-nhat.rss"
interval = "15m"
"#,
        )
        .expect("valid");
        assert_eq!(c.sources.len(), 1);
        assert_eq!(c.sources[0].interval, Duration::from_secs(900));
        assert_eq!(c.data_dir(), PathBuf::from("/var/lib/gomtin"));
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let err = parse("[fetch]\nuser_agent = \"a\"\ntimeout_secs = 3\n")
            .expect_err("unknown key")
            .to_string();
        assert!(err.contains("dòng 3"), "{err}");
        assert!(err.contains("timeout_secs"), "{err}");
    }

    #[test]
    fn duplicate_id_names_both_lines() {
        let text = "[[sources]]\nid = \"a\"\nname = \"A\"\nkind = \"feed\"\nurl = \"https://a.vn/rss\"\n\n[[sources]]\nid = \"a\"\nname = \"B\"\nkind = \"feed\"\nurl = \"https://b.vn/rss\"\n";
        let err = parse(text).expect_err("dup").to_string();
        assert!(err.contains("bị trùng"), "{err}");
        assert!(err.contains("dòng 8") && err.contains("dòng 2"), "{err}");
    }

    #[test]
    fn bad_values_are_rejected_with_line() {
        for (text, needle) in [
            ("[server]\nlisten = \"nowhere\"\n", "dòng 2"),
            (
                "[[sources]]\nid = \"Bad Id\"\nname = \"x\"\nkind = \"feed\"\nurl = \"https://a.vn\"\n",
                "Bad Id",
            ),
            (
                "[[sources]]\nid = \"a\"\nname = \"x\"\nkind = \"feed\"\nurl = \"ftp://a.vn\"\n",
                "ftp",
            ),
            (
                "[[sources]]\nid = \"a\"\nname = \"x\"\nkind = \"feed\"\nurl = \"https://a.vn\"\ninterval = \"soon\"\n",
                "dòng 6",
            ),
            (
                "[[sources]]\nid = \"a\"\nname = \"x\"\nkind = \"telepathy\"\nurl = \"https://a.vn\"\n",
                "telepathy",
            ),
            ("[display]\ntimezone = \"Mars/Base\"\n", "Mars/Base"),
            ("[share]\n\ntemplate = \"{{ title \"\n", "dòng 3"),
            ("[server]\nbehind_proxy = \"yes\"\n", "dòng 2"),
        ] {
            let err = parse(text).expect_err(text).to_string();
            assert!(err.contains(needle), "{text:?} -> {err}");
        }
    }

    const SMTP: &str = "[smtp]\nhost = \"127.0.0.1\"\nport = 2525\nsecurity = \"none\"\nfrom = \"Ban Tuyên giáo <tuyengiao@example.vn>\"\n";
    const TOPIC: &str =
        "[[topics]]\nid = \"ntm\"\nname = \"Nông thôn mới\"\nquery = '\"nông thôn mới\"'\n";

    #[test]
    fn smtp_and_digests_parse_with_defaults() {
        let c = parse(&format!(
            "{TOPIC}{SMTP}[[digests]]\nid = \"sang\"\nname = \"Tin tốt buổi sáng\"\nschedule = \"0 7 * * *\"\nto = [\"a@example.vn\", \"Chị B <b@example.vn>\"]\ntopics = [\"ntm\"]\n"
        ))
        .expect("valid");
        let smtp = c.smtp.as_ref().expect("smtp");
        assert_eq!(smtp.port(), 2525);
        assert_eq!(smtp.security, SmtpSecurity::None);
        assert_eq!(smtp.timeout, Duration::from_secs(60));
        let d = c.digest("sang").expect("digest");
        assert_eq!(d.timezone, chrono_tz::Asia::Ho_Chi_Minh);
        assert_eq!(d.max_items, 30);
        assert!(!d.skip_empty);
        assert!(d.cron().is_ok());
        let tls = parse("[smtp]\nhost = \"mail.example.vn\"\nsecurity = \"tls\"\nfrom = \"x@example.vn\"\nusername = \"x\"\npassword_env = \"GOMTIN_SMTP_PASSWORD\"\n")
            .expect("valid");
        assert_eq!(tls.smtp.as_ref().map(SmtpConfig::port), Some(465));
    }

    #[test]
    fn bad_digests_are_rejected_with_key_and_line() {
        let digest =
            |body: &str| format!("{TOPIC}{SMTP}[[digests]]\nid = \"sang\"\nname = \"S\"\n{body}");
        for (text, needles) in [
            (
                digest("schedule = \"mỗi sáng\"\nto = [\"a@x.vn\"]\ntopics = [\"ntm\"]\n"),
                vec!["dòng 13", "digests.schedule", "mỗi sáng"],
            ),
            (
                digest(
                    "schedule = \"0 7 * * *\"\nto = [\"không-phải-địa-chỉ\"]\ntopics = [\"ntm\"]\n",
                ),
                vec!["dòng 14", "digests.to"],
            ),
            (
                digest(
                    "schedule = \"0 7 * * *\"\nto = [\"a@x.vn\"]\ntopics = [\"ntm\", \"khong-co\"]\n",
                ),
                vec!["dòng 15", "khong-co", "[[topics]]"],
            ),
            (
                digest("schedule = \"0 7 * * *\"\nto = [\"a@x.vn\"]\n"),
                vec!["dòng 11", "`topics` hoặc `query`"],
            ),
            (
                digest(
                    "schedule = \"0 7 * * *\"\nto = [\"a@x.vn\"]\nquery = \"ntm\"\nsend_at = 7\n",
                ),
                vec!["dòng 16", "send_at"],
            ),
            (
                format!(
                    "{TOPIC}[[digests]]\nid = \"sang\"\nname = \"S\"\nschedule = \"0 7 * * *\"\nto = [\"a@x.vn\"]\nquery = \"x\"\n"
                ),
                vec!["dòng 6", "[smtp]"],
            ),
            (
                "[smtp]\nhost = \"h\"\nfrom = \"nobody\"\n".to_string(),
                vec!["dòng 3", "smtp.from"],
            ),
            (
                "[smtp]\nhost = \"h\"\nfrom = \"a@x.vn\"\nsecurity = \"ssl\"\n".to_string(),
                vec!["dòng 4", "ssl"],
            ),
            (
                "[smtp]\nhost = \"h\"\nfrom = \"a@x.vn\"\nusername = \"u\"\n".to_string(),
                vec!["password_env"],
            ),
        ] {
            let err = parse(&text).expect_err(&text).to_string();
            for n in needles {
                assert!(err.contains(n), "{text:?} -> {err} (wanted {n})");
            }
        }
    }

    #[test]
    fn env_overrides_apply() {
        let mut c = parse("").expect("valid");
        c.apply_env(|k| match k {
            "GOMTIN_LISTEN" => Some("127.0.0.1:0".into()),
            "GOMTIN_ALLOW_PRIVATE_NETWORKS" => Some("true".into()),
            _ => None,
        })
        .expect("env ok");
        assert_eq!(c.server.listen.port(), 0);
        assert!(c.fetch.allow_private_networks);
        assert!(c.apply_env(|_| Some("maybe".into())).is_err());
    }
}
