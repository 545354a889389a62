//! Turning stored data into what people see, for the pages, the API and the file exports
//! alike: safe links (http(s) only), HTML sanitized again on the way out, times in
//! `[display] timezone` ("12 phút trước", "hôm qua 14:05"), excerpts of two or three
//! sentences without the photo captions and credits a page starts with ("Ảnh minh họa",
//! "Ảnh: …", "(Ảnh: …)", "Theo …"), the ready-to-post share text from `[share]
//! template` and the share links,
//! the sources page's sparkline, and the values every
//! logged-in page needs (menu, logout form). Pure functions: no store, no request.

use chrono::{DateTime, Utc};

use super::auth::Identity;
use crate::config::Config;
use crate::model::Item;

pub use crate::normalize::safe_url;

/// Stored HTML is sanitized on the way in; it is sanitized again on the way out so that a
/// row written by anything else still renders inert (and no deeper than
/// `extract::bounded::MAX_DEPTH`).
pub fn sanitize_html(html: &str) -> String {
    ammonia::Builder::default()
        .url_schemes(["http", "https"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&crate::extract::bounded::bounded(html))
        .to_string()
}

/// "vừa xong", "12 phút trước", "3 giờ trước", "hôm qua 14:05", else "26/11/2026 08:15".
pub fn relative_time(t: DateTime<Utc>, now: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    let secs = (now - t).num_seconds();
    let local = t.with_timezone(&tz);
    if (0..60).contains(&secs) {
        return "vừa xong".into();
    }
    if (60..3600).contains(&secs) {
        return format!("{} phút trước", secs / 60);
    }
    if (3600..6 * 3600).contains(&secs) {
        return format!("{} giờ trước", secs / 3600);
    }
    let today = now.with_timezone(&tz).date_naive();
    if local.date_naive() == today {
        return format!("hôm nay {}", local.format("%H:%M"));
    }
    if today.pred_opt() == Some(local.date_naive()) {
        return format!("hôm qua {}", local.format("%H:%M"));
    }
    local.format("%d/%m/%Y %H:%M").to_string()
}

/// Full local time for tooltips and exports.
pub fn full_time(t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    t.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string()
}

/// Two or three sentences from the article, at most about 400 characters.
pub fn excerpt(text: &str) -> String {
    const MAX: usize = 400;
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::new();
    let mut sentences = 0;
    let mut current = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        current.push(*c);
        let ends = matches!(c, '.' | '!' | '?' | '…')
            && chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        if ends {
            let candidate = format!("{out}{}", current.trim_start());
            if sentences >= 2 && candidate.chars().count() > MAX {
                break;
            }
            out = format!("{candidate} ");
            current.clear();
            sentences += 1;
            if sentences == 3 || out.chars().count() > MAX {
                break;
            }
        }
    }
    if sentences == 0 {
        out = current;
    }
    let out = out.trim().to_string();
    if out.chars().count() <= MAX + 100 {
        return out;
    }
    let cut: String = out.chars().take(MAX).collect();
    let cut = cut.rsplit_once(' ').map(|(a, _)| a).unwrap_or(&cut);
    format!("{cut}…")
}

static NOT_TEXT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?is)<(figure|figcaption|table|script|style)\b.*?</(figure|figcaption|table|script|style)\s*>",
    )
    .expect("regex")
});
static BLOCK: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)</?(p|div|li|ul|ol|h[1-6]|blockquote|br|section|article|header|footer|hr)\b[^>]*>",
    )
    .expect("regex")
});
static TAG: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"<[^>]*>").expect("regex"));
/// A photo credit in brackets anywhere: "(Ảnh: Văn Quang)", "(Ảnh minh họa)".
static CREDIT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)\s*[(\[]\s*(ảnh|ảnh minh họa|ảnh minh hoạ|nguồn ảnh|video|clip)\b[^)\]]{0,120}[)\]]",
    )
    .expect("regex")
});
/// A block that is a caption or a credit, not the article: "Ảnh minh họa", "Ảnh: …",
/// "Theo Báo Kon Tum".
static JUNK_BLOCK: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)^(ảnh minh họa|ảnh minh hoạ|ảnh tư liệu|ảnh\s*[:\-–]|nguồn ảnh|video\s*:|clip\s*:)|[.!?…]\s*(ảnh|nguồn)\s*:\s*\S+(\s+\S+){0,5}$",
    )
    .expect("regex")
});

/// Whether `block` (a paragraph of the article's start) is a caption or credit.
fn is_junk_block(block: &str) -> bool {
    let words = block.split_whitespace().count();
    if JUNK_BLOCK.is_match(block) && words <= 45 {
        return true;
    }
    // "Theo Báo Kon Tum", "Theo TTXVN": a short credit line, not "Theo kế hoạch, …".
    let theo = block
        .strip_prefix("Theo ")
        .or_else(|| block.strip_prefix("theo "));
    theo.is_some_and(|rest| {
        words <= 8 && !rest.contains(',') && !rest.trim_end_matches('.').contains(['.', '!', '?'])
    })
}

/// The article's text for an excerpt: its paragraphs without figures and tables, photo
/// credits in brackets removed, and the caption and credit paragraphs at its start left out.
pub fn article_text(item: &Item) -> String {
    let blocks: Vec<String> = if item.content_html.trim().is_empty() {
        vec![if item.content_text.trim().is_empty() {
            item.summary.clone()
        } else {
            item.content_text.clone()
        }]
    } else {
        let html = NOT_TEXT.replace_all(&item.content_html, " ");
        let html = BLOCK.replace_all(&html, "\n");
        let text = TAG.replace_all(&html, " ");
        let text = html_escape::decode_html_entities(&text);
        text.lines()
            .map(crate::vietnamese::clean)
            .filter(|l| !l.trim().is_empty())
            .collect()
    };
    let mut out = Vec::new();
    let mut leading = true;
    for b in blocks {
        let b = CREDIT.replace_all(&b, "");
        let b = b.split_whitespace().collect::<Vec<_>>().join(" ");
        if b.is_empty() || (leading && is_junk_block(&b)) {
            continue;
        }
        leading = false;
        out.push(b);
    }
    let text = out.join(" ");
    if text.is_empty() {
        item.summary.clone()
    } else {
        text
    }
}

/// The ready-to-post text, from `[share] template`.
pub fn share_text(config: &Config, item: &Item, source_name: &str) -> String {
    let tz = config.display.timezone;
    let ctx = minijinja::context! {
        title => item.title,
        excerpt => excerpt(&article_text(item)),
        source => source_name,
        url => safe_url(item.url.as_deref()).unwrap_or_default(),
        published => full_time(item.published_at, tz),
    };
    let env = minijinja::Environment::new();
    let text = env
        .template_from_str(config.share.template.get_ref())
        .and_then(|t| t.render(ctx));
    match text {
        Ok(t) => t.trim().to_string(),
        Err(e) => {
            tracing::error!(error = %e, "share template failed");
            format!("{}\n{}", item.title, item.url.as_deref().unwrap_or(""))
        }
    }
}

/// What a story's share says on every copy: "bản của Báo X, bởi Lan, 2 giờ trước".
pub fn shared_words(
    share: &crate::store::StoryShare,
    source_name: &str,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> String {
    format!(
        "bản của {source_name}, bởi {}, {}",
        share.share.user,
        relative_time(share.share.shared_at, now, tz)
    )
}

/// Facebook's share dialog for a link.
pub fn facebook_link(url: &str) -> String {
    format!(
        "https://www.facebook.com/sharer/sharer.php?u={}",
        urlencode(url)
    )
}

/// Zalo's share page for a link.
pub fn zalo_link(url: &str) -> String {
    format!(
        "https://sp.zalo.me/share_to_zalo?u={}&layout=1&color=blue&customize=false",
        urlencode(url)
    )
}

/// A string as one `application/x-www-form-urlencoded` value.
pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Points of a 30-value sparkline in a 120×28 box.
pub fn sparkline_points(values: &[i64]) -> String {
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let n = values.len().max(2) - 1;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let x = i as f64 * 120.0 / n as f64;
            let y = 26.0 - (*v as f64 / max) * 24.0;
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub use super::state::Chrome;

impl Chrome {
    /// The menu of a page for `who`.
    pub fn of(who: &Identity) -> Chrome {
        Chrome {
            user: who.user.name.clone(),
            is_admin: who.user.is_admin(),
            csrf: who.csrf.clone().unwrap_or_default(),
            current: "",
        }
    }

    /// The menu of a page for `who`, with menu entry `current` marked.
    pub fn at(who: &Identity, current: &'static str) -> Chrome {
        Chrome {
            current,
            ..Chrome::of(who)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn only_http_links_survive() {
        assert_eq!(
            safe_url(Some("https://a.vn/x?y=1")).as_deref(),
            Some("https://a.vn/x?y=1")
        );
        assert_eq!(safe_url(Some("javascript:alert(1)")), None);
        assert_eq!(safe_url(Some(" JaVaScRiPt:alert(1)")), None);
        assert_eq!(safe_url(Some("data:text/html,x")), None);
        assert_eq!(safe_url(None), None);
    }

    #[test]
    fn sanitizer_removes_every_script_vector() {
        let dirty = r#"<p>ok</p><script>alert(1)</script><img src=x onerror="alert(2)">
            <a href="javascript:alert(3)">a</a><svg onload="alert(4)"></svg>
            <iframe srcdoc="<script>alert(5)</script>"></iframe>"#;
        let clean = sanitize_html(dirty);
        for bad in [
            "<script",
            "onerror",
            "javascript:",
            "<svg",
            "onload",
            "<iframe",
            "srcdoc",
        ] {
            assert!(!clean.contains(bad), "{bad} in {clean}");
        }
        assert!(clean.contains("<p>ok</p>"));
    }

    #[test]
    fn excerpt_takes_two_or_three_sentences() {
        let text = "Câu một ngắn. Câu hai cũng ngắn! Câu ba hỏi? Câu bốn không lấy.";
        assert_eq!(
            excerpt(text),
            "Câu một ngắn. Câu hai cũng ngắn! Câu ba hỏi?"
        );
        let long = format!("{}. Hai.", "chữ ".repeat(200));
        assert!(excerpt(&long).chars().count() <= 402);
        assert_eq!(excerpt("Không có dấu chấm"), "Không có dấu chấm");
        assert_eq!(excerpt("TP.HCM mở rộng. Hai."), "TP.HCM mở rộng. Hai.");
    }

    #[test]
    fn relative_times_read_naturally() {
        let tz = chrono_tz::Asia::Ho_Chi_Minh;
        let now = Utc
            .with_ymd_and_hms(2026, 11, 27, 8, 0, 0)
            .single()
            .expect("t");
        let ago = |s: i64| relative_time(now - chrono::Duration::seconds(s), now, tz);
        assert_eq!(ago(10), "vừa xong");
        assert_eq!(ago(5 * 60), "5 phút trước");
        assert_eq!(ago(2 * 3600), "2 giờ trước");
        assert_eq!(ago(20 * 3600), "hôm qua 19:00");
        assert_eq!(ago(3 * 86400), "24/11/2026 15:00");
    }

    #[test]
    fn sparkline_fits_its_box() {
        let pts = sparkline_points(&[0, 5, 10]);
        assert_eq!(pts, "0.0,26.0 60.0,14.0 120.0,2.0");
        assert_eq!(sparkline_points(&[0; 30]).split(' ').count(), 30);
    }

    fn item_with(html: &str) -> Item {
        Item {
            id: 1,
            source_id: "a".into(),
            key: "k".into(),
            guid: None,
            url: None,
            canonical_url: None,
            title: "Tin".into(),
            author: None,
            summary: "Tóm tắt.".into(),
            content_html: html.into(),
            content_text: crate::normalize::html_to_text(html),
            image_url: None,
            published_at: Utc::now(),
            updated_at: None,
            first_seen_at: Utc::now(),
            seq: 1,
        }
    }

    #[test]
    fn excerpts_drop_captions_and_credits_at_the_start() {
        let cases = [
            "<p>Ảnh minh họa</p><p>Xã Đăk Tờ Re đạt chuẩn nông thôn mới. Người dân vui mừng.</p>",
            "<figure><img src=\"https://a.vn/x.jpg\"><figcaption>Lãnh đạo xã kiểm tra đường</figcaption></figure><p>Xã Đăk Tờ Re đạt chuẩn nông thôn mới. Người dân vui mừng.</p>",
            "<p>Lãnh đạo xã kiểm tra tuyến đường mới. Ảnh: Văn Quang</p><p>Xã Đăk Tờ Re đạt chuẩn nông thôn mới. Người dân vui mừng.</p>",
            "<p>Theo Báo Kon Tum</p><p>Xã Đăk Tờ Re đạt chuẩn nông thôn mới (Ảnh: Thu Hà). Người dân vui mừng.</p>",
            "<p>Ảnh: TTXVN</p><p>Xã Đăk Tờ Re đạt chuẩn nông thôn mới. Người dân vui mừng.</p>",
        ];
        for html in cases {
            assert_eq!(
                excerpt(&article_text(&item_with(html))),
                "Xã Đăk Tờ Re đạt chuẩn nông thôn mới. Người dân vui mừng.",
                "{html}"
            );
        }
        // A sentence that starts with "Theo" is text, not a credit.
        let kept = "<p>Theo kế hoạch, tỉnh làm thêm mười xã kiểu mẫu.</p>";
        assert_eq!(
            article_text(&item_with(kept)),
            "Theo kế hoạch, tỉnh làm thêm mười xã kiểu mẫu."
        );
        // Without HTML: the plain text, else the summary.
        assert_eq!(article_text(&item_with("")), "Tóm tắt.");
    }
}
