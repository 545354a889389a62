//! The forum keys of a `[[sources]]` entry (`kind = "forum"`, issue 16): which forum
//! software reads it (`engine`, detected from the page when absent), how much one pass
//! reads (`max_threads_per_pass`, `max_pages_per_thread`), and for `engine = "selectors"`
//! (or to correct one part of a preset) the CSS selectors of `[sources.forum]`. Parsed and
//! checked here with the file; `extract::forum` compiles and runs them.

use serde::Deserialize;

use serde::Deserializer;

/// Forum software gomtin knows by name (`engine = "…"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ForumEngine {
    /// XenForo, version told from the page (1.x `html#XenForo`, 2.x `html#XF`).
    Xenforo,
    Xenforo1,
    Xenforo2,
    /// phpBB 3.x (prosilver and its children).
    Phpbb,
    /// vBulletin, version told from the page.
    Vbulletin,
    Vbulletin4,
    Vbulletin5,
    Mybb,
    /// Simple Machines Forum 2.x.
    Smf,
    /// Discourse's server-rendered view (what clients without JavaScript get).
    Discourse,
    Nodebb,
    /// Flarum's no-JavaScript view.
    Flarum,
    Flaskbb,
    /// Spirit (django-spirit).
    Spirit,
    /// No preset: `[sources.forum]` says where everything is.
    Selectors,
}

impl ForumEngine {
    /// Every name, for messages and docs.
    pub const NAMES: &'static [&'static str] = &[
        "xenforo",
        "xenforo1",
        "xenforo2",
        "phpbb",
        "vbulletin",
        "vbulletin4",
        "vbulletin5",
        "mybb",
        "smf",
        "discourse",
        "nodebb",
        "flarum",
        "flaskbb",
        "spirit",
        "selectors",
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ForumEngine::Xenforo => "xenforo",
            ForumEngine::Xenforo1 => "xenforo1",
            ForumEngine::Xenforo2 => "xenforo2",
            ForumEngine::Phpbb => "phpbb",
            ForumEngine::Vbulletin => "vbulletin",
            ForumEngine::Vbulletin4 => "vbulletin4",
            ForumEngine::Vbulletin5 => "vbulletin5",
            ForumEngine::Mybb => "mybb",
            ForumEngine::Smf => "smf",
            ForumEngine::Discourse => "discourse",
            ForumEngine::Nodebb => "nodebb",
            ForumEngine::Flarum => "flarum",
            ForumEngine::Flaskbb => "flaskbb",
            ForumEngine::Spirit => "spirit",
            ForumEngine::Selectors => "selectors",
        }
    }
}

/// `[sources.forum]`: CSS selectors (each may end in `@attr`) for a forum no preset
/// reads, or to replace one part of a preset. Board keys: `thread`, `thread_link`,
/// `thread_activity`; thread keys: `post` and, inside each post, the rest.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ForumSelectors {
    /// One element per thread on a board page.
    #[serde(default, deserialize_with = "de_opt_pick")]
    pub thread: Option<String>,
    /// The thread's link, inside `thread`.
    #[serde(default, deserialize_with = "de_opt_pick")]
    pub thread_link: Option<String>,
    /// What changes on the board when the thread gets a post (last post link or time).
    #[serde(default, deserialize_with = "de_opt_pick")]
    pub thread_activity: Option<String>,
    /// The thread's title on its page.
    #[serde(default, deserialize_with = "de_opt_pick")]
    pub thread_title: Option<String>,
    /// One element per post on a thread page.
    #[serde(default, deserialize_with = "de_opt_pick")]
    pub post: Option<String>,
    /// The post's stable id (`@attr` of the post element, e.g. `@id` or `@data-pid`).
    #[serde(default, deserialize_with = "de_opt_pick")]
    pub post_id: Option<String>,
    #[serde(default, deserialize_with = "de_opt_pick")]
    pub author: Option<String>,
    #[serde(default, deserialize_with = "de_opt_pick")]
    pub date: Option<String>,
    /// The post's text; quotes, signatures and edit lines are removed from it.
    #[serde(default, deserialize_with = "de_opt_pick")]
    pub content: Option<String>,
    /// The post's number in the thread ("#3").
    #[serde(default, deserialize_with = "de_opt_pick")]
    pub number: Option<String>,
    /// The post's own link.
    #[serde(default, deserialize_with = "de_opt_pick")]
    pub permalink: Option<String>,
    /// The post's own title, when the forum gives posts one.
    #[serde(default, deserialize_with = "de_opt_pick")]
    pub title: Option<String>,
    /// The next page's link (threads and boards).
    #[serde(default, deserialize_with = "de_opt_pick")]
    pub next: Option<String>,
    /// chrono `strftime` format of post dates when the forum's own is ambiguous
    /// (`"%m-%d-%Y, %I:%M %p"` on an American vBulletin).
    #[serde(default)]
    pub date_format: Option<String>,
    /// What to cut from the content besides the preset's (ads, "Click to expand…").
    #[serde(default)]
    pub remove: Vec<String>,
}

/// serde helper: a selector (`css`, `css@attr`) or `@attr` of the element itself.
fn de_opt_pick<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    let s = String::deserialize(d)?;
    let t = s.trim();
    let own = t.strip_prefix('@').is_some_and(|a| {
        !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':'))
    });
    if !own {
        check_selector(t).map_err(serde::de::Error::custom)?;
    }
    Ok(Some(s))
}

/// A `css` or `css@attr` selector that parses (the same rule as `sources::parse_selector`,
/// kept here so that this file needs nothing of `sources`).
fn check_selector(s: &str) -> std::result::Result<(), String> {
    let css = match s.rsplit_once('@') {
        Some((css, attr))
            if !css.trim().is_empty()
                && !attr.is_empty()
                && attr
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.')) =>
        {
            css
        }
        _ => s,
    };
    scraper::Selector::parse(css.trim())
        .map(|_| ())
        .map_err(|e| {
            format!(
                "bộ chọn CSS `{s}` không hợp lệ ({e}); ví dụ: \".post\", \"h3 a\", \"@data-pid\""
            )
        })
}

pub(super) fn default_max_threads() -> usize {
    20
}
pub(super) fn default_max_pages_per_thread() -> usize {
    5
}
pub(super) fn default_max_pages() -> usize {
    5
}

/// The checks of the forum keys serde cannot make alone, for source `id` (`forum`: its
/// kind is "forum").
pub(super) fn validate_forum(
    id: &str,
    forum: bool,
    engine: Option<ForumEngine>,
    selectors: Option<&ForumSelectors>,
) -> Option<String> {
    if !forum && (engine.is_some() || selectors.is_some()) {
        return Some(format!(
            "nguồn `{id}`: `engine` và [sources.forum] chỉ dùng cho kind = \"forum\""
        ));
    }
    if forum && engine == Some(ForumEngine::Selectors) {
        let f = selectors.cloned().unwrap_or_default();
        if f.post.is_none() || f.content.is_none() {
            return Some(format!(
                "nguồn `{id}` (engine = \"selectors\") cần [sources.forum] với ít nhất `post` và `content`"
            ));
        }
    }
    if let Some(f) = selectors
        && let Some(bad) = f.remove.iter().find_map(|r| check_selector(r).err())
    {
        return Some(format!("nguồn `{id}`: sources.forum.remove: {bad}"));
    }
    if let Some(fmt) = selectors.and_then(|f| f.date_format.as_deref()) {
        let bad = chrono::format::StrftimeItems::new(fmt)
            .any(|i| matches!(i, chrono::format::Item::Error));
        if bad || fmt.trim().is_empty() {
            return Some(format!(
                "nguồn `{id}`: sources.forum.date_format `{fmt}` không hợp lệ; ví dụ: \"%d-%m-%Y, %H:%M\""
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, ForumEngine};

    fn parse(kind: &str, extra: &str) -> Result<Config, String> {
        Config::parse(
            &format!(
                "[[sources]]\nid = \"f\"\nname = \"F\"\nkind = \"{kind}\"\nurl = \"https://f.vn/\"\n{extra}"
            ),
            Path::new("x.toml"),
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn forum_keys_are_read_and_checked() {
        let c = parse(
            "forum",
            "engine = \"xenforo\"\nmax_pages_per_thread = 3\n[sources.forum]\npost_id = \"@data-content\"\nremove = [\"div.ad\"]\n",
        )
        .expect("valid");
        let s = &c.sources[0];
        assert_eq!(s.engine, Some(ForumEngine::Xenforo));
        assert_eq!((s.max_pages_per_thread, s.max_threads_per_pass), (3, 20));
        let bad = [
            ("forum", "engine = \"ipb\"\n", "ipb"),
            (
                "feed",
                "engine = \"phpbb\"\n",
                "chỉ dùng cho kind = \"forum\"",
            ),
            (
                "forum",
                "engine = \"selectors\"\n",
                "ít nhất `post` và `content`",
            ),
            (
                "forum",
                "max_pages_per_thread = 0\n",
                "max_pages_per_thread phải trong khoảng 1..100",
            ),
            ("forum", "[sources.forum]\npost = \"li[\"\n", "li["),
            ("forum", "[sources.forum]\npost_id = \"@\"\n", "`@`"),
            (
                "forum",
                "[sources.forum]\nremove = [\"::x\"]\n",
                "sources.forum.remove",
            ),
        ];
        for (kind, extra, want) in bad {
            let err = parse(kind, extra).expect_err(extra);
            assert!(err.contains(want), "{extra}: {err}");
        }
    }
}
