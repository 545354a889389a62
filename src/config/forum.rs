//! The forum keys of a `[[sources]]` entry (`kind = "forum"`, issue 16): which forum
//! software reads it (`engine`, detected from the page when absent), how much one pass
//! reads (`max_threads_per_pass`, `max_pages_per_thread`), and for `engine = "selectors"`
//! (or to correct one part of a preset) the CSS selectors of `[sources.forum]`. Parsed and
//! checked here with the file; `extract::forum` compiles and runs them.

use serde::Deserialize;

use serde::Deserializer;

use super::sources::{SourceConfig, SourceKind, parse_selector};

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
        parse_selector(t).map_err(serde::de::Error::custom)?;
    }
    Ok(Some(s))
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

/// The checks of the forum and pagination keys serde cannot make alone.
pub(super) fn validate_forum(s: &SourceConfig) -> Option<String> {
    let id = s.id();
    let forum = s.kind == SourceKind::Forum;
    if !forum && (s.engine.is_some() || s.forum.is_some()) {
        return Some(format!(
            "nguồn `{id}`: `engine` và [sources.forum] chỉ dùng cho kind = \"forum\""
        ));
    }
    if forum && s.engine == Some(ForumEngine::Selectors) {
        let f = s.forum.clone().unwrap_or_default();
        if f.post.is_none() || f.content.is_none() {
            return Some(format!(
                "nguồn `{id}` (engine = \"selectors\") cần [sources.forum] với ít nhất `post` và `content`"
            ));
        }
    }
    if let Some(f) = &s.forum
        && let Some(bad) = f.remove.iter().find_map(|r| parse_selector(r).err())
    {
        return Some(format!("nguồn `{id}`: sources.forum.remove: {bad}"));
    }
    if !(1..=200).contains(&s.max_threads_per_pass) {
        return Some(format!(
            "nguồn `{id}`: sources.max_threads_per_pass phải trong khoảng 1..200"
        ));
    }
    if !(1..=100).contains(&s.max_pages_per_thread) {
        return Some(format!(
            "nguồn `{id}`: sources.max_pages_per_thread phải trong khoảng 1..100"
        ));
    }
    if !(1..=50).contains(&s.max_pages) {
        return Some(format!(
            "nguồn `{id}`: sources.max_pages phải trong khoảng 1..50"
        ));
    }
    None
}
