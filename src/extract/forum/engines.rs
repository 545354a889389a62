//! The forum engines gomtin knows by name: where each one puts a board's threads and a
//! thread's posts (author, time, text, number, own link), what to cut from a post's text
//! (quotes of earlier posts, signatures, "edited by" and reaction lines), how its page bar
//! and thread addresses look — and how to tell the engine from a page. Read from each
//! engine's templates or real pages (`tests/forums/MARKUP.md`, `README.md`). Data only:
//! `forum` runs it.
//!
//! A selector ending in `@attr` reads that attribute; one that is only `@attr` reads the
//! attribute of the post (or thread) element itself. Lists are tried in order.

use scraper::Html;

use crate::config::ForumEngine;

/// Where one engine puts things. `""` / `&[]`: the engine has no such thing.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    pub engine: ForumEngine,
    /// Board: one element per thread, its link, and what changes when it gets a post.
    pub thread: &'static str,
    pub thread_link: &'static [&'static str],
    pub thread_activity: &'static [&'static str],
    /// Thread page: its title, one element per post.
    pub thread_title: &'static [&'static str],
    pub post: &'static str,
    /// The post's stable id: the digits of this value (`post-123` → 123).
    pub post_id: &'static [&'static str],
    /// Post ids count within a thread only (Discourse's post numbers).
    pub id_per_thread: bool,
    pub author: &'static [&'static str],
    pub date: &'static [&'static str],
    pub content: &'static [&'static str],
    pub number: &'static [&'static str],
    /// Added to the number read (NodeBB counts from 0).
    pub number_offset: u32,
    /// The post's own link; `permalink_template` when none is found (`{id}`, `{n}`,
    /// `{thread}` for the thread's first page), else the page with `anchor`.
    pub permalink: &'static [&'static str],
    pub permalink_template: &'static str,
    /// The id the page address's fragment points at (`{id}`); the post element's `id`
    /// attribute when empty.
    pub anchor: &'static str,
    /// The post's own title, kept unless it is only "Re: thread title".
    pub title: &'static [&'static str],
    /// Cut from the content: quotes, signatures, edit and reaction lines.
    pub remove: &'static [&'static str],
    /// The edit mark (its time when it has one).
    pub edited: &'static [&'static str],
    /// The next page link, and the page bars (their links and "Trang 1 / 4" texts).
    pub next: &'static [&'static str],
    pub pages: &'static [&'static str],
    /// The thread's id in its address (first group that matched).
    pub thread_id: &'static str,
    /// The page's real content is inside `<noscript>` (JavaScript apps).
    pub noscript: bool,
}

const NEXT: &[&str] = &[r#"link[rel="next"]@href"#, r#"a[rel="next"]@href"#];

const fn base(engine: ForumEngine) -> Preset {
    Preset {
        engine,
        thread: "",
        thread_link: &[],
        thread_activity: &[],
        thread_title: &["h1"],
        post: "",
        post_id: &["@id"],
        id_per_thread: false,
        author: &[],
        date: &[],
        content: &[],
        number: &[],
        number_offset: 0,
        permalink: &[],
        permalink_template: "",
        anchor: "",
        title: &[],
        remove: &[],
        edited: &[],
        next: NEXT,
        pages: &[],
        thread_id: "",
        noscript: false,
    }
}

const XF_THREAD_ID: &str = r"threads/(?:[^/?#]*\.)?(\d+)";

pub const XENFORO1: Preset = Preset {
    thread: "li.discussionListItem",
    thread_link: &["h3.title a@href"],
    thread_activity: &[
        "div.lastPost .DateTime@data-time",
        "div.lastPost .DateTime@title",
        "dl.major dd",
    ],
    thread_title: &["div.titleBar h1", "h1"],
    post: "li.message",
    author: &["@data-author", "div.messageUserBlock a.username"],
    date: &[
        "div.messageMeta a.datePermalink .DateTime",
        "div.messageMeta .DateTime",
    ],
    content: &["blockquote.messageText"],
    number: &["a.postNumber"],
    permalink_template: "posts/{id}/",
    remove: &[
        "div.bbCodeQuote",
        "div.quoteExpand",
        "div.messageTextEndMarker",
        ".signature",
        ".likesSummary",
        "div.editDate",
        "span.useressLastEdit",
    ],
    edited: &[
        "span.useressLastEdit .DateTime",
        "div.editDate .DateTime",
        "div.editDate",
    ],
    pages: &["div.PageNav"],
    thread_id: XF_THREAD_ID,
    ..base(ForumEngine::Xenforo1)
};

pub const XENFORO2: Preset = Preset {
    thread: "div.structItem--thread",
    thread_link: &[
        r#"div.structItem-title a[data-tp-primary="on"]@href"#,
        r#"div.structItem-title a[href*="threads/"]@href"#,
    ],
    thread_activity: &[
        "time.structItem-latestDate@data-time",
        "time.structItem-latestDate@datetime",
    ],
    thread_title: &["h1.p-title-value", "h1"],
    post: "article.message--post",
    post_id: &["@data-content", "@id"],
    author: &["@data-author", "h4.message-name a.username"],
    date: &[
        "ul.message-attribution-main time",
        "header.message-attribution time",
    ],
    content: &[
        "div.message-userContent div.bbWrapper",
        "article.message-body",
    ],
    number: &["ul.message-attribution-opposite a"],
    permalink: &[r#"ul.message-attribution-opposite a[href*="post-"]@href"#],
    permalink_template: "posts/{id}/",
    anchor: "post-{id}",
    remove: &[
        "blockquote.bbCodeBlock--quote",
        "div.bbCodeBlock-expandLink",
        "aside.message-signature",
        "div.message-lastEdit",
        "div.reactionsBar",
        "div.js-selectToQuoteEnd",
    ],
    edited: &["div.message-lastEdit time", "div.message-lastEdit"],
    next: &[r#"link[rel="next"]@href"#, "a.pageNav-jump--next@href"],
    pages: &["ul.pageNav-main"],
    thread_id: XF_THREAD_ID,
    ..base(ForumEngine::Xenforo2)
};

pub const PHPBB: Preset = Preset {
    thread: "ul.topiclist.topics li.row",
    thread_link: &["a.topictitle@href"],
    thread_activity: &[
        r#"dd.lastpost a[href*="p="]@href"#,
        "dd.lastpost time@datetime",
        "dd.posts",
    ],
    thread_title: &["h2.topic-title", "h2"],
    post: "div.post",
    author: &[
        "dl.postprofile dt a.username",
        "dl.postprofile dt a.username-coloured",
        "p.author .username",
        "p.author strong",
    ],
    date: &["p.author time", "p.author"],
    content: &["div.postbody div.content"],
    permalink: &[r##"p.author a[href*="#p"]@href"##],
    permalink_template: "./viewtopic.php?p={id}#p{id}",
    title: &["div.postbody h3 a", "div.postbody h3"],
    remove: &["blockquote", "div.signature", "div.notice"],
    edited: &["div.notice"],
    next: &[
        r#"li.arrow.next a@href"#,
        r#"a[rel="next"]@href"#,
        r#"link[rel="next"]@href"#,
    ],
    pages: &["div.pagination"],
    thread_id: r"[?&;]t=(\d+)",
    ..base(ForumEngine::Phpbb)
};

pub const VBULLETIN4: Preset = Preset {
    thread: "li.threadbit",
    thread_link: &["a.title@href"],
    thread_activity: &[
        r#"dl.threadlastpost a[href*="p="]@href"#,
        "dl.threadlastpost",
    ],
    thread_title: &["span.threadtitle", "#pagetitle h1", "h1"],
    post: "li.postcontainer",
    author: &["div.username_container .username"],
    date: &[
        "div.posthead span.postdate span.date",
        "div.posthead span.postdate",
    ],
    content: &[
        "div.content blockquote.postcontent",
        "blockquote.postcontent",
    ],
    number: &["a.postcounter"],
    permalink: &["a.postcounter@href"],
    permalink_template: "showthread.php?p={id}#post{id}",
    anchor: "post{id}",
    title: &["h2.title"],
    remove: &[
        "div.bbcode_quote",
        "div.signature",
        "blockquote.signature",
        "blockquote.lastedited",
    ],
    edited: &["blockquote.lastedited"],
    next: &[
        r#"span.prev_next a[rel="next"]@href"#,
        r#"a[rel="next"]@href"#,
        r#"link[rel="next"]@href"#,
    ],
    pages: &[
        "div.pagination_top form.pagination",
        "form.pagination",
        "div.pagination",
    ],
    thread_id: r"(?:[?&;]t=|threads/|showthread\.php\?|showthread\.php/)(\d+)",
    ..base(ForumEngine::Vbulletin4)
};

pub const VBULLETIN5: Preset = Preset {
    thread: "tr.topic-item",
    thread_link: &["a.topic-title@href"],
    thread_activity: &["a.go-to-last-post@href", "td.cell-lastpost"],
    thread_title: &["h1.main-title", "h1"],
    post: "li.b-post",
    post_id: &["@data-node-id", "@id"],
    author: &["div.b-userinfo div.author a", "div.author a"],
    date: &[
        "div.b-post__timestamp time",
        "time[itemprop=\"dateCreated\"]",
    ],
    content: &["div.js-post__content-text"],
    number: &["a.b-post__count"],
    permalink: &["a.b-post__count@href"],
    title: &["h2.b-post__title"],
    remove: &[
        "div.bbcode_quote",
        "div.b-post__signature",
        "div.b-post__edit",
    ],
    edited: &["div.b-post__edit"],
    pages: &["div.js-pagenav"],
    thread_id: r"/(\d+)-[^/?#]+",
    ..base(ForumEngine::Vbulletin5)
};

pub const MYBB: Preset = Preset {
    thread: "tr.inline_row",
    thread_link: &[r#"span[id^="tid_"] a@href"#],
    thread_activity: &["span.lastpost", "td:nth-last-child(2)"],
    thread_title: &["td.thead strong", "h1"],
    post: r#"div.post[id^="post_"]"#,
    author: &[
        "div.author_information .largetext a",
        "div.author_information strong a",
    ],
    date: &[
        "div.post_head span.post_date span[title]@title",
        "div.post_head span.post_date",
    ],
    content: &["div.post_body"],
    number: &["div.post_head div.float_right a"],
    permalink: &["div.post_head div.float_right a@href"],
    permalink_template: "showthread.php?pid={id}#pid{id}",
    anchor: "pid{id}",
    remove: &["blockquote.mycode_quote", "div.signature", "span.post_edit"],
    edited: &["span.edited_post"],
    next: &["a.pagination_next@href", r#"link[rel="next"]@href"#],
    pages: &["div.pagination"],
    thread_id: r"(?:tid=|thread-)(\d+)",
    ..base(ForumEngine::Mybb)
};

pub const SMF: Preset = Preset {
    thread: "#topic_container div.windowbg",
    thread_link: &[r#"div.message_index_title span[id^="msg_"] a@href"#],
    thread_activity: &[r#"div.lastpost a[href*="msg"]@href"#, "div.lastpost"],
    thread_title: &["#top_subject", "h2.display_title", "h1"],
    post: r#"div.windowbg[id^="msg"]"#,
    author: &["div.poster h4 a", "div.poster h4"],
    date: &["div.postinfo a.smalltext", "div.keyinfo .smalltext"],
    content: &["div.post div.inner", "div.inner"],
    number: &["div.postinfo a.smalltext@title"],
    permalink: &["div.postinfo a.smalltext@href"],
    remove: &[
        "blockquote.bbc_standard_quote",
        "blockquote.bbc_alternate_quote",
        "div.quoteheader",
        "div.quotefooter",
        "div.signature",
        "span.modified",
    ],
    edited: &["span.modified"],
    pages: &["div.pagelinks"],
    thread_id: r"[?&;]topic=(\d+)",
    ..base(ForumEngine::Smf)
};

pub const DISCOURSE: Preset = Preset {
    thread: "tr.topic-list-item",
    thread_link: &["a.title@href", "a.raw-topic-link@href"],
    thread_activity: &["td.replies", "td.posts", "td.activity@title"],
    thread_title: &["#topic-title h1", "h1"],
    post: "div.crawler-post",
    id_per_thread: true,
    author: &[
        r#"span.creator span[itemprop="name"]"#,
        "span.creator a",
        r#"[itemprop="author"] [itemprop="name"]"#,
    ],
    date: &[
        r#"time[itemprop="datePublished"]"#,
        "span.crawler-post-infos time",
    ],
    content: &[
        r#"div.post[itemprop="text"]"#,
        r#"div.post[itemprop="articleBody"]"#,
    ],
    number: &[r#"span[itemprop="position"]"#],
    permalink_template: "{thread}/{n}",
    remove: &["aside.quote", "div.quote-controls"],
    thread_id: r"/t/(?:[^/?#]+/)?(\d+)",
    ..base(ForumEngine::Discourse)
};

pub const NODEBB: Preset = Preset {
    thread: r#"li[component="category/topic"]"#,
    thread_link: &[
        r#"[component="topic/header"] a@href"#,
        r#"h3 a[href*="/topic/"]@href"#,
    ],
    thread_activity: &[
        r#"[component="topic/teaser"] .timeago@title"#,
        r#"[component="topic/teaser"] a@href"#,
    ],
    thread_title: &[
        r#"[component="post/header"]"#,
        r#"[component="topic/title"]"#,
        "h1",
    ],
    post: r#"[component="post"]"#,
    post_id: &["@data-pid"],
    author: &[
        "a[data-username]@data-username",
        r#"[itemprop="author"] [itemprop="name"]@content"#,
    ],
    date: &[
        "span.timeago@title",
        "a.timeago@title",
        r#"meta[itemprop="datePublished"]@content"#,
    ],
    content: &[r#"[component="post/content"]"#],
    number: &["@data-index"],
    number_offset: 1,
    permalink_template: "/post/{id}",
    remove: &[
        "blockquote",
        r#"[component="post/signature"]"#,
        r#"[component="post/editor"]"#,
    ],
    edited: &[r#"[component="post/editor"]"#],
    pages: &[r#"[component="pagination"]"#],
    thread_id: r"/topic/(\d+)",
    ..base(ForumEngine::Nodebb)
};

pub const FLARUM: Preset = Preset {
    thread: "div.container li",
    thread_link: &[r#"a[href*="/d/"]@href"#],
    thread_title: &["h1"],
    post: "article",
    post_id: &[],
    author: &[".PostUser-name"],
    content: &["div.Post-body"],
    remove: &["blockquote"],
    next: &[
        r#"a[href*="page="]:last-child@href"#,
        r#"link[rel="next"]@href"#,
    ],
    thread_id: r"/d/(\d+)",
    noscript: true,
    ..base(ForumEngine::Flarum)
};

pub const FLASKBB: Preset = Preset {
    thread: "div.forum-row",
    thread_link: &["div.topic-name > a@href"],
    thread_activity: &["div.topic-last-post a@href", "div.topic-stats"],
    thread_title: &["div.topic-header a", "li.breadcrumb-item.active"],
    post: "div.post-row",
    author: &["div.author-name h4 a", "div.author-name a"],
    date: &[
        "div.post-meta a time@datetime",
        "div.post-meta time@datetime",
    ],
    content: &["div.post-content"],
    number: &["div.post-meta strong"],
    permalink: &[r#"div.post-meta a[href*="/post/"]@href"#],
    permalink_template: "/post/{id}",
    anchor: "pid{id}",
    remove: &[
        "blockquote.post-quote",
        "details.post-quote-collapsed",
        "div.post-signature",
    ],
    edited: &["div.post-meta small time@datetime"],
    pages: &["ul.pagination"],
    thread_id: r"/topic/(\d+)",
    ..base(ForumEngine::Flaskbb)
};

pub const SPIRIT: Preset = Preset {
    thread: "div.layout__topics__topic",
    thread_link: &["a.topic__link@href"],
    thread_activity: &["div.topic__date@title", "div.topic__comments"],
    thread_title: &["h1.headline", "h1"],
    post: "div.comments_list__comment",
    post_id: &["@data-pk"],
    author: &[
        "a.comment__info__username__link span",
        "a.comment__info__username__link",
    ],
    date: &["ul.comment__info__date li[title]@title"],
    content: &["div.comment__text"],
    number: &["@data-number"],
    permalink: &["input.comment__footer__share__url@value"],
    permalink_template: "/comment/{id}/find/",
    remove: &["blockquote"],
    edited: &[r#"ul.comment__info__date a[href*="/comment/history/"]"#],
    pages: &["ul.paginator"],
    thread_id: r"/topic/(\d+)",
    ..base(ForumEngine::Spirit)
};

/// `engine = "selectors"`: nothing but what `[sources.forum]` says.
pub const SELECTORS: Preset = base(ForumEngine::Selectors);

/// The preset of an engine; the versionless names pick the version from the page.
pub fn preset(engine: ForumEngine, doc: &Html, raw: &str) -> Preset {
    match engine {
        ForumEngine::Xenforo => match detect(doc, raw) {
            Some(ForumEngine::Xenforo1) => XENFORO1,
            _ => XENFORO2,
        },
        ForumEngine::Xenforo1 => XENFORO1,
        ForumEngine::Xenforo2 => XENFORO2,
        ForumEngine::Vbulletin => match detect(doc, raw) {
            Some(ForumEngine::Vbulletin5) => VBULLETIN5,
            _ => VBULLETIN4,
        },
        ForumEngine::Vbulletin4 => VBULLETIN4,
        ForumEngine::Vbulletin5 => VBULLETIN5,
        ForumEngine::Phpbb => PHPBB,
        ForumEngine::Mybb => MYBB,
        ForumEngine::Smf => SMF,
        ForumEngine::Discourse => DISCOURSE,
        ForumEngine::Nodebb => NODEBB,
        ForumEngine::Flarum => FLARUM,
        ForumEngine::Flaskbb => FLASKBB,
        ForumEngine::Spirit => SPIRIT,
        ForumEngine::Selectors => SELECTORS,
    }
}

fn has(doc: &Html, css: &str) -> bool {
    scraper::Selector::parse(css).is_ok_and(|s| doc.select(&s).next().is_some())
}

/// Tell the engine from a page: the generator meta, the root element's id, the markup
/// and script names each engine always prints. `None` when nothing says.
pub fn detect(doc: &Html, raw: &str) -> Option<ForumEngine> {
    let generator = scraper::Selector::parse(r#"meta[name="generator"]"#)
        .ok()
        .and_then(|s| doc.select(&s).next())
        .and_then(|m| m.value().attr("content"))
        .unwrap_or_default()
        .to_ascii_lowercase();
    let by_generator = [
        ("vbulletin 5", ForumEngine::Vbulletin5),
        ("vbulletin", ForumEngine::Vbulletin4),
        ("discourse", ForumEngine::Discourse),
        ("phpbb", ForumEngine::Phpbb),
        ("mybb", ForumEngine::Mybb),
        ("smf", ForumEngine::Smf),
        ("nodebb", ForumEngine::Nodebb),
        ("flarum", ForumEngine::Flarum),
        ("xenforo", ForumEngine::Xenforo2),
    ];
    if let Some((_, e)) = by_generator.iter().find(|(g, _)| generator.contains(g)) {
        if *e == ForumEngine::Vbulletin4 && has(doc, "li.b-post") {
            return Some(ForumEngine::Vbulletin5);
        }
        return Some(*e);
    }
    let checks: &[(&str, ForumEngine)] = &[
        ("html#XenForo", ForumEngine::Xenforo1),
        ("html#XF", ForumEngine::Xenforo2),
        ("[data-xf-init]", ForumEngine::Xenforo2),
        ("body#phpbb", ForumEngine::Phpbb),
        ("#flarum-json-payload, #flarum-loading", ForumEngine::Flarum),
        (
            r#"[component="post"], [component="category/topic"]"#,
            ForumEngine::Nodebb,
        ),
        (
            "div.crawler-post, #data-discourse-setup",
            ForumEngine::Discourse,
        ),
        ("li.b-post[data-node-id]", ForumEngine::Vbulletin5),
        ("li.postcontainer, li.threadbit", ForumEngine::Vbulletin4),
        (
            r#"meta[name="description"][content*="FlaskBB"], link[href*="/_themes/aurora"]"#,
            ForumEngine::Flaskbb,
        ),
        (
            r#"script[src*="/static/spirit/"], link[href*="/static/spirit/"]"#,
            ForumEngine::Spirit,
        ),
    ];
    if let Some((_, e)) = checks.iter().find(|(css, _)| has(doc, css)) {
        return Some(*e);
    }
    if raw.contains("<!-- start: postbit")
        || raw.contains("<!-- start: forumdisplay")
        || raw.contains("Powered By <a href=\"https://mybb.com")
    {
        return Some(ForumEngine::Mybb);
    }
    if raw.contains("smf_scripturl") || raw.contains("var smf_theme_url") {
        return Some(ForumEngine::Smf);
    }
    if raw.contains("Powered by phpBB") {
        return Some(ForumEngine::Phpbb);
    }
    None
}
