//! The `[[sources]]` entries: what kind each source is, where it is read from, how often,
//! and for list pages and full articles the CSS selectors (`[sources.selectors]`, `article`)
//! with their `css@attr` syntax — parsed and checked here when the file is read, compiled
//! and run by `extract::page`. Also the checks serde cannot make on one entry.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use scraper::Selector;
use serde::{Deserialize, Deserializer};
use toml::Spanned;

use super::de::{LineStarts, de_duration, de_opt_url, de_source_id};
use super::entry::FieldError;
use super::{Config, resolve};
use crate::error::{Error, Result};

/// What kind of source a `[[sources]]` entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// RSS 0.9x/1.0/2.0, Atom or JSON Feed.
    Feed,
    /// An HTML list page read with CSS selectors (`[sources.selectors]`).
    Page,
    /// Posts staff paste by hand (`gomtin post add`); never fetched.
    Manual,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Feed => "feed",
            SourceKind::Page => "page",
            SourceKind::Manual => "manual",
        }
    }
}

/// One `[[sources]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Short unique id, `[a-z0-9-]`.
    #[serde(deserialize_with = "de_source_id")]
    pub id: Spanned<String>,
    pub name: String,
    pub kind: SourceKind,
    /// `http(s)://` or `file://` address of the feed.
    #[serde(default, deserialize_with = "de_opt_url")]
    pub url: Option<url::Url>,
    /// A feed file on disk, relative to the config folder (instead of `url`).
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// How often the daemon checks the source.
    #[serde(default = "default_interval", deserialize_with = "de_duration")]
    pub interval: Duration,
    /// A disabled source is kept (with its items) but never fetched.
    #[serde(default = "default_true")]
    pub enabled: bool,
    // --- page sources and full articles (issue 4) ---
    /// `kind = "page"`: CSS selectors for the list page.
    #[serde(default)]
    pub selectors: Option<PageSelectors>,
    /// CSS selector of the article body on article pages; readability when absent.
    #[serde(default, deserialize_with = "de_opt_selector")]
    pub article: Option<String>,
    /// Feeds that carry only a teaser: fetch each item's page for the full article.
    #[serde(default)]
    pub full_content: bool,
    /// Article pages fetched per pass at most (new items first).
    #[serde(default = "default_max_articles")]
    pub max_articles_per_pass: usize,
    /// Obey the site's robots.txt for list and article pages (feeds are always fetched).
    /// Turn off only for a site that asked you to read it but whose robots.txt blocks every
    /// crawler by default (common on government portals), and say so in a comment.
    #[serde(default = "default_true")]
    pub obey_robots: bool,
}

fn default_max_articles() -> usize {
    10
}

fn default_interval() -> Duration {
    Duration::from_secs(30 * 60)
}
fn default_true() -> bool {
    true
}

impl SourceConfig {
    pub fn id(&self) -> &str {
        self.id.get_ref()
    }

    /// Where the source is read from, as shown to people and stored in SQLite.
    pub fn location(&self, base_dir: &Path) -> String {
        match (&self.url, &self.path) {
            (Some(u), _) => u.to_string(),
            (None, Some(p)) => resolve(base_dir, p).display().to_string(),
            (None, None) => String::new(),
        }
    }
}

/// `[sources.selectors]` of a page source.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PageSelectors {
    /// One element per item (e.g. `.news-item`); without it every `link` match is an item.
    #[serde(
        default,
        deserialize_with = "de_opt_selector",
        skip_serializing_if = "Option::is_none"
    )]
    pub item: Option<String>,
    /// The item's link (its `href`), inside `item`.
    #[serde(deserialize_with = "de_selector")]
    pub link: String,
    #[serde(
        default,
        deserialize_with = "de_opt_selector",
        skip_serializing_if = "Option::is_none"
    )]
    pub title: Option<String>,
    #[serde(
        default,
        deserialize_with = "de_opt_selector",
        skip_serializing_if = "Option::is_none"
    )]
    pub date: Option<String>,
    /// chrono `strftime` format of the date text, e.g. `"%d/%m/%Y %H:%M"`; read in
    /// `[display] timezone`. Without it common Vietnamese forms are tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_format: Option<String>,
    #[serde(
        default,
        deserialize_with = "de_opt_selector",
        skip_serializing_if = "Option::is_none"
    )]
    pub summary: Option<String>,
    #[serde(
        default,
        deserialize_with = "de_opt_selector",
        skip_serializing_if = "Option::is_none"
    )]
    pub image: Option<String>,
}

/// A parsed selector with the attribute it reads (`None`: the text).
#[derive(Debug, Clone)]
pub struct Sel {
    pub source: String,
    pub css: Selector,
    pub attr: Option<String>,
}

/// Parse `css` or `css@attr`.
pub fn parse_selector(s: &str) -> std::result::Result<Sel, String> {
    let s = s.trim();
    let (css, attr) = match s.rsplit_once('@') {
        Some((css, attr))
            if !attr.is_empty()
                && !css.trim().is_empty()
                && attr
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.')) =>
        {
            (css.trim(), Some(attr.to_ascii_lowercase()))
        }
        _ => (s, None),
    };
    let sel = Selector::parse(css).map_err(|e| {
        format!("bộ chọn CSS `{s}` không hợp lệ ({e}); ví dụ: \".news-item\", \"h3 a\", \"img@data-src\"")
    })?;
    Ok(Sel {
        source: s.to_string(),
        css: sel,
        attr,
    })
}

fn de_selector<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    let s = String::deserialize(d)?;
    parse_selector(&s).map_err(serde::de::Error::custom)?;
    Ok(s)
}

/// serde helper: an optional selector, checked when the config is read.
fn de_opt_selector<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    de_selector(d).map(Some)
}

/// What serde cannot see in one entry: the page-related keys, one location, a name and
/// a sane interval. The error names the key it is about, so that a form can show it
/// beside that field; the file's loader adds the line.
pub fn validate_source(s: &SourceConfig) -> std::result::Result<(), FieldError> {
    let id = s.id();
    let err = |field: &str, message: String| Err(FieldError::new(field, message));
    match s.kind {
        SourceKind::Page if s.selectors.is_none() => {
            return err(
                "selectors",
                format!(
                    "nguồn `{id}` (kind = \"page\") thiếu bảng [sources.selectors] với ít nhất `link`"
                ),
            );
        }
        SourceKind::Feed | SourceKind::Manual if s.selectors.is_some() => {
            return err(
                "selectors",
                format!("nguồn `{id}`: sources.selectors chỉ dùng cho kind = \"page\""),
            );
        }
        SourceKind::Manual if s.url.is_some() || s.path.is_some() || s.full_content => {
            let field = if s.url.is_some() {
                "url"
            } else if s.path.is_some() {
                "path"
            } else {
                "full_content"
            };
            return err(
                field,
                format!(
                    "nguồn `{id}` (kind = \"manual\") không tải từ đâu cả: bỏ `url`/`path`/`full_content`"
                ),
            );
        }
        _ => {}
    }
    if s.article.is_some() && s.kind == SourceKind::Feed && !s.full_content {
        return err(
            "article",
            format!(
                "nguồn `{id}`: sources.article chỉ có tác dụng khi full_content = true (hoặc kind = \"page\")"
            ),
        );
    }
    if s.max_articles_per_pass == 0 || s.max_articles_per_pass > 500 {
        return err(
            "max_articles_per_pass",
            format!("nguồn `{id}`: sources.max_articles_per_pass phải trong khoảng 1..500"),
        );
    }
    if let Some(fmt) = s.selectors.as_ref().and_then(|p| p.date_format.as_deref()) {
        let bad = chrono::format::StrftimeItems::new(fmt)
            .any(|i| matches!(i, chrono::format::Item::Error));
        if bad || fmt.trim().is_empty() {
            return err(
                "selectors.date_format",
                format!(
                    "nguồn `{id}`: sources.selectors.date_format `{fmt}` không hợp lệ; ví dụ: \"%d/%m/%Y %H:%M\""
                ),
            );
        }
    }
    match (&s.url, &s.path) {
        (None, None) if s.kind == SourceKind::Manual => {}
        (Some(_), Some(_)) => {
            return err(
                "path",
                format!("nguồn `{id}` có cả `url` lẫn `path`; chỉ dùng một"),
            );
        }
        (None, None) => {
            return err(
                "url",
                format!("nguồn `{id}` thiếu `url` (hoặc `path` cho tệp trên máy)"),
            );
        }
        _ => {}
    }
    if s.name.trim().is_empty() {
        return err("name", format!("nguồn `{id}` thiếu `name`"));
    }
    if s.interval < Duration::from_secs(1) {
        return err(
            "interval",
            format!("sources.interval của `{id}` phải từ 1 giây trở lên"),
        );
    }
    Ok(())
}

impl Config {
    /// Each `[[sources]]` entry: a unique id and what `validate_source` checks.
    pub(super) fn validate_sources(&self, lines: &LineStarts) -> Result<()> {
        let invalid = |message: String| Error::ConfigInvalid {
            path: self.path.clone(),
            message,
        };
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for s in &self.sources {
            let line = lines.line_of(s.id.span().start);
            if let Some(first) = seen.insert(s.id(), line) {
                return Err(invalid(format!(
                    "dòng {line}: sources.id `{}` bị trùng (đã dùng ở dòng {first}); mỗi nguồn cần một mã riêng",
                    s.id()
                )));
            }
            if let Err(e) = validate_source(s) {
                return Err(invalid(format!("dòng {line}: {}", e.message)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_suffix() {
        let s = parse_selector("img.thumb@data-src").expect("sel");
        assert_eq!(s.attr.as_deref(), Some("data-src"));
        let s = parse_selector(r#"a[href*="@"]"#).expect("sel");
        assert_eq!(s.attr, None);
        assert!(parse_selector("div[").is_err());
    }
}
