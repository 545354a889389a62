//! RSS bridges: the servers an office may run to read closed platforms (Facebook pages and
//! groups) as feeds — RSS-Bridge (`?action=display&bridge=FacebookBridge&…`) and RSSHub
//! (`/facebook/page/…`). When the platform changes or blocks the bridge, the bridge keeps
//! answering, but with an error page, a feed whose only item is its error, or an empty
//! feed; this module tells such answers from real ones and keeps the bridge's own message,
//! so the source's health says "cầu nối RSS có thể đã hỏng" with it. Also the platform
//! addresses gomtin does not fetch itself (`closed_platform`). Pure; no I/O.

use std::sync::LazyLock;

use regex::Regex;

use crate::model::RawEntry;

/// Which bridge software an address points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BridgeKind {
    RssBridge,
    RssHub,
}

/// RSSHub routes for the platforms offices ask about.
const RSSHUB_ROUTES: &[&str] = &[
    "/facebook/",
    "/instagram/",
    "/telegram/channel/",
    "/tiktok/",
    "/youtube/",
    "/twitter/",
];

/// The bridge an address belongs to, if it looks like one.
pub fn bridge_kind(url: &url::Url) -> Option<BridgeKind> {
    let has = |k: &str| url.query_pairs().any(|(key, _)| key == k);
    if has("bridge") && (has("action") || url.path().contains("rss-bridge")) {
        return Some(BridgeKind::RssBridge);
    }
    let host = url.host_str().unwrap_or_default();
    if host.contains("rsshub") || RSSHUB_ROUTES.iter().any(|r| url.path().starts_with(r)) {
        return Some(BridgeKind::RssHub);
    }
    None
}

/// The first `max` characters of the text of `html`, on one line.
fn page_text(html: &str, max: usize) -> String {
    let doc = scraper::Html::parse_document(&crate::extract::bounded::bounded(html));
    let mut text = String::new();
    if let Ok(sel) = scraper::Selector::parse("h1, h2, h3, pre, p, .error, .message, body") {
        for el in doc.select(&sel) {
            let t = el.text().collect::<Vec<_>>().join(" ");
            let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
            let l = t.to_lowercase();
            if [
                "error",
                "exception",
                "lỗi",
                "wrong",
                "not found",
                "blocked",
                "login",
            ]
            .iter()
            .any(|w| l.contains(w))
            {
                text = t;
                break;
            }
        }
    }
    if text.is_empty() {
        text = doc
            .root_element()
            .text()
            .collect::<Vec<_>>()
            .join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
    }
    text.chars().take(max).collect()
}

/// When a bridge's body is not a feed (an HTML or JSON error page): its own message.
pub fn error_page_message(body: &str) -> String {
    let t = body.trim_start();
    if t.starts_with('{')
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(t)
    {
        for k in ["error", "message", "msg"] {
            match v.get(k) {
                Some(serde_json::Value::String(s)) => return s.chars().take(300).collect(),
                Some(o @ serde_json::Value::Object(_)) => {
                    if let Some(m) = o.get("message").and_then(|m| m.as_str()) {
                        return m.chars().take(300).collect();
                    }
                }
                _ => {}
            }
        }
    }
    let msg = page_text(body, 300);
    if msg.is_empty() {
        "câu trả lời không phải nguồn tin".to_string()
    } else {
        msg
    }
}

/// When a bridge's feed parsed: the failure it hides, if any — no item at all, or items
/// that are only the bridge's error report ("Bridge returned error 500! …").
pub fn feed_failure(entries: &[RawEntry]) -> Option<String> {
    static ERROR_ITEM: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r"(?i)bridge returned error|^error\b|exception|looks like something went wrong|rsshub.*error|bị chặn|checkpoint").ok()
    });
    if entries.is_empty() {
        return Some("nguồn trống: cầu nối không trả về tin nào".to_string());
    }
    let re = ERROR_ITEM.as_ref()?;
    let is_error = |e: &RawEntry| e.title.as_deref().is_some_and(|t| re.is_match(t.trim()));
    if entries.iter().all(is_error) {
        let e = &entries[0];
        let detail = e
            .content_html
            .as_deref()
            .or(e.summary_html.as_deref())
            .map(|h| page_text(h, 240))
            .filter(|d| !d.is_empty());
        let title = e.title.clone().unwrap_or_default();
        return Some(match detail {
            Some(d) if !title.contains(&d) => format!("{} — {d}", title.trim()),
            _ => title.trim().to_string(),
        });
    }
    None
}

/// A closed platform gomtin does not log in to, by address: `Some("Facebook")` for a
/// facebook.com page, group or profile (also `fb.com`, `m.facebook.com`).
pub fn closed_platform(url: &url::Url) -> Option<&'static str> {
    let host = url
        .host_str()?
        .trim_start_matches("www.")
        .to_ascii_lowercase();
    let fb = [
        "facebook.com",
        "m.facebook.com",
        "mbasic.facebook.com",
        "fb.com",
        "web.facebook.com",
    ];
    if fb.contains(&host.as_str()) {
        return Some("Facebook");
    }
    if host == "zalo.me" || host.ends_with(".zalo.me") {
        return Some("Zalo");
    }
    None
}

/// What a facebook.com address names: a page (its slug or id) or a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FacebookTarget {
    Page(String),
    Group(String),
}

/// Read a facebook.com address: `facebook.com/groups/ID`, `facebook.com/NAME`,
/// `facebook.com/profile.php?id=N`, `facebook.com/pg/NAME/posts`.
pub fn facebook_target(url: &url::Url) -> Option<FacebookTarget> {
    let segments: Vec<&str> = url.path_segments()?.filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        ["groups", id, ..] => Some(FacebookTarget::Group(id.to_string())),
        ["profile.php"] => url
            .query_pairs()
            .find(|(k, _)| k == "id")
            .map(|(_, v)| FacebookTarget::Page(v.into_owned())),
        ["pg", name, ..] | ["people", _, name, ..] => Some(FacebookTarget::Page(name.to_string())),
        [name, ..]
            if !matches!(
                *name,
                "watch" | "events" | "share" | "login.php" | "home.php"
            ) =>
        {
            Some(FacebookTarget::Page(name.to_string()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> url::Url {
        url::Url::parse(s).expect("url")
    }

    #[test]
    fn bridges_and_platforms_by_address() {
        assert_eq!(
            bridge_kind(&u(
                "https://rss.xa.gov.vn/?action=display&bridge=FacebookBridge&u=ubndxa&format=Atom"
            )),
            Some(BridgeKind::RssBridge)
        );
        assert_eq!(
            bridge_kind(&u("https://rsshub.app/facebook/page/ubndxa")),
            Some(BridgeKind::RssHub)
        );
        assert_eq!(
            bridge_kind(&u("https://baokontum.com.vn/rss/home.rss")),
            None
        );
        assert_eq!(
            closed_platform(&u("https://www.facebook.com/groups/123456/")),
            Some("Facebook")
        );
        assert_eq!(
            closed_platform(&u("https://m.facebook.com/ubnd.xa")),
            Some("Facebook")
        );
        assert_eq!(closed_platform(&u("https://baokontum.com.vn/")), None);
        assert_eq!(
            facebook_target(&u("https://www.facebook.com/groups/123456/")),
            Some(FacebookTarget::Group("123456".into()))
        );
        assert_eq!(
            facebook_target(&u("https://www.facebook.com/ubnd.xa.dakruong")),
            Some(FacebookTarget::Page("ubnd.xa.dakruong".into()))
        );
        assert_eq!(
            facebook_target(&u("https://www.facebook.com/profile.php?id=1000123")),
            Some(FacebookTarget::Page("1000123".into()))
        );
    }

    #[test]
    fn error_items_and_empty_feeds_are_failures() {
        let item = |t: &str, c: &str| RawEntry {
            title: Some(t.into()),
            content_html: Some(c.into()),
            ..Default::default()
        };
        let msg = feed_failure(&[item(
            "Bridge returned error 0! (20240610)",
            "<p>Exception: Facebook requires login to view this page</p>",
        )])
        .expect("failure");
        assert!(
            msg.contains("Bridge returned error 0!") && msg.contains("requires login"),
            "{msg}"
        );
        assert!(feed_failure(&[]).is_some());
        assert_eq!(
            feed_failure(&[item("Họp dân thôn 3", "<p>Nội dung</p>")]),
            None
        );
        assert_eq!(
            error_page_message(r#"{"error":{"message":"Facebook page not found"}}"#),
            "Facebook page not found"
        );
        assert!(
            error_page_message(
                "<html><body><h1>Looks like something went wrong</h1><p>x</p></body></html>"
            )
            .contains("something went wrong")
        );
    }
}
