//! The staff pages, rendered on the server: search (with filters, badges, pagination and
//! a bookmarkable URL), one item (sanitized article, share text, share history), the
//! sources health page, and the read-only outputs (CSV/Markdown export, Atom feed of a
//! search, OPML of the sources). The helpers that turn stored data into what people see —
//! times in `[display] timezone`, safe links, excerpts, the share text — live here and are
//! reused by `api`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::auth::{self, Identity};
use super::ui::{Chrome, Ui};
use crate::error::{Error, Result};
use crate::model::Item;
use crate::search::{SearchRequest, SearchResults};
use crate::store::{NewShare, Share};

/// Results per page on the search page.
const PAGE_SIZE: usize = 20;
/// Most rows an export or feed carries.
const EXPORT_MAX: usize = 1_000;
const FEED_MAX: usize = 50;

// ---------------------------------------------------------------------------------------
// Turning data into what people see

/// A link only when it is http(s); anything else (`javascript:`, `data:`) is dropped.
pub fn safe_url(u: Option<&str>) -> Option<String> {
    let u = u?.trim();
    let parsed = url::Url::parse(u).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| parsed.to_string())
}

/// Stored HTML is sanitized on the way in; it is sanitized again on the way out so that a
/// row written by anything else still renders inert.
pub fn sanitize_html(html: &str) -> String {
    ammonia::Builder::default()
        .url_schemes(["http", "https"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(html)
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

/// The ready-to-post text, from `[share] template`.
pub fn share_text(ui: &Ui, item: &Item, source_name: &str) -> String {
    let tz = ui.state.app.config.display.timezone;
    let body = if item.content_text.trim().is_empty() {
        &item.summary
    } else {
        &item.content_text
    };
    let ctx = minijinja::context! {
        title => item.title,
        excerpt => excerpt(body),
        source => source_name,
        url => safe_url(item.url.as_deref()).unwrap_or_default(),
        published => full_time(item.published_at, tz),
    };
    let env = minijinja::Environment::new();
    let text = env
        .template_from_str(ui.state.app.config.share.template.get_ref())
        .and_then(|t| t.render(ctx));
    match text {
        Ok(t) => t.trim().to_string(),
        Err(e) => {
            tracing::error!(error = %e, "share template failed");
            format!("{}\n{}", item.title, item.url.as_deref().unwrap_or(""))
        }
    }
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

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Display names of sources (config first, SQLite rows for retired ones).
pub fn source_names(ui: &Ui) -> HashMap<String, String> {
    let mut names: HashMap<String, String> = HashMap::new();
    if let Ok(rows) = ui.state.app.store.source_statuses(Utc::now()) {
        for s in rows {
            names.insert(s.id, s.name);
        }
    }
    for s in &ui.state.app.config.sources {
        names.insert(s.id().to_string(), s.name.clone());
    }
    names
}

// ---------------------------------------------------------------------------------------
// Search parameters (shared with the API)

/// Query-string parameters of the search page, `/export`, `/feed.atom` and `/api/search`.
#[derive(Debug, Default, Deserialize, Serialize, Clone)]
pub struct SearchParams {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub topic: String,
    /// First day, `YYYY-MM-DD` (also accepted as `after`).
    #[serde(default, alias = "after")]
    pub from: String,
    /// Last day included, `YYYY-MM-DD` (`before` is exclusive, as in the query language).
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub before: String,
    /// "1" keeps only items nobody has marked shared.
    #[serde(default)]
    pub unshared: String,
    #[serde(default)]
    pub page: Option<usize>,
    #[serde(default)]
    pub limit: Option<usize>,
    #[serde(default)]
    pub offset: Option<usize>,
    #[serde(default)]
    pub format: String,
}

impl SearchParams {
    pub fn unshared(&self) -> bool {
        matches!(self.unshared.as_str(), "1" | "true" | "on")
    }

    /// The parameters as a query string, without paging (for links that keep the search).
    pub fn query_string(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", &self.q),
            ("source", &self.source),
            ("topic", &self.topic),
            ("from", &self.from),
            ("to", &self.to),
            ("before", &self.before),
        ] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        if self.unshared() {
            s.append_pair("unshared", "1");
        }
        s.finish()
    }
}

fn day_start(s: &str, tz: chrono_tz::Tz, what: &str) -> Result<Option<DateTime<Utc>>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| Error::Query(format!("{what} `{s}` không phải ngày dạng YYYY-MM-DD")))?;
    let local = d
        .and_hms_opt(0, 0, 0)
        .and_then(|t| tz.from_local_datetime(&t).earliest())
        .ok_or_else(|| Error::Query(format!("{what} `{s}` không hợp lệ")))?;
    Ok(Some(local.with_timezone(&Utc)))
}

/// Turn parameters into a search request (limit/offset are the caller's).
pub fn build_request(
    ui: &Ui,
    p: &SearchParams,
    limit: usize,
    offset: usize,
) -> Result<SearchRequest> {
    let tz = ui.state.app.config.display.timezone;
    let mut req = SearchRequest::new(p.q.trim(), limit);
    req.offset = offset;
    if !p.source.is_empty() {
        req.sources.push(p.source.clone());
    }
    if !p.topic.is_empty() {
        req.topics.push(p.topic.clone());
    }
    req.after = day_start(&p.from, tz, "từ ngày")?;
    req.before = match day_start(&p.to, tz, "đến ngày")? {
        Some(d) => Some(d + chrono::Duration::days(1)),
        None => day_start(&p.before, tz, "before")?,
    };
    if p.unshared() {
        req.exclude_ids = ui.state.app.store.shared_item_ids()?;
    }
    Ok(req)
}

/// Run a search off the async workers.
pub async fn run_search(
    ui: &Ui,
    p: &SearchParams,
    limit: usize,
    offset: usize,
) -> Result<SearchResults> {
    let req = build_request(ui, p, limit, offset)?;
    let app = ui.state.app.clone();
    tokio::task::spawn_blocking(move || app.search(&req)).await?
}

/// Map an error to a status: bad queries are the caller's (400), the rest ours (500).
pub fn error_status(e: &Error) -> StatusCode {
    if e.is_usage() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

// ---------------------------------------------------------------------------------------
// Search page

#[derive(Serialize)]
struct HitView {
    id: i64,
    title: String,
    url: Option<String>,
    source: String,
    source_name: String,
    when: String,
    when_full: String,
    when_iso: String,
    snippet_html: String,
    image_url: Option<String>,
    shared: bool,
    also: usize,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct PageLink {
    number: usize,
    href: String,
    current: bool,
}

pub async fn search(
    State(ui): State<Ui>,
    Extension(who): Extension<Identity>,
    Query(p): Query<SearchParams>,
) -> Response {
    let page = p.page.unwrap_or(1).max(1);
    let offset = (page - 1) * PAGE_SIZE;
    let tz = ui.state.app.config.display.timezone;
    let (results, error) = match run_search(&ui, &p, PAGE_SIZE, offset).await {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let names = source_names(&ui);
    let now = Utc::now();
    let mut hits = Vec::new();
    let mut total = 0;
    let mut notices = Vec::new();
    if let Some(r) = &results {
        total = r.total;
        notices = r.notices.clone();
        let ids: Vec<i64> = r.hits.iter().map(|h| h.id).collect();
        let store = ui.state.app.store.clone();
        let ids2 = ids.clone();
        let (shared, also) = tokio::task::spawn_blocking(move || {
            (
                store.shared_among(&ids2).unwrap_or_default(),
                store.related_counts(&ids2).unwrap_or_default(),
            )
        })
        .await
        .unwrap_or_default();
        for h in &r.hits {
            let published = DateTime::parse_from_rfc3339(&h.published)
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or(now);
            hits.push(HitView {
                id: h.id,
                title: h.title.clone(),
                url: safe_url(h.url.as_deref()),
                source_name: names.get(&h.source).cloned().unwrap_or(h.source.clone()),
                source: h.source.clone(),
                when: relative_time(published, now, tz),
                when_full: full_time(published, tz),
                when_iso: published.to_rfc3339(),
                snippet_html: h.snippet_html.clone(),
                image_url: safe_url(h.image_url.as_deref()),
                shared: shared.contains(&h.id),
                also: also.get(&h.id).copied().unwrap_or(0),
            });
        }
    }
    let pages_total = total.div_ceil(PAGE_SIZE).max(1);
    let base = p.query_string();
    let href = |n: usize| {
        if base.is_empty() {
            format!("/?page={n}")
        } else {
            format!("/?{base}&page={n}")
        }
    };
    let first = page.saturating_sub(3).max(1);
    let last = (page + 3).min(pages_total);
    let page_links: Vec<PageLink> = (first..=last)
        .map(|n| PageLink {
            number: n,
            href: href(n),
            current: n == page,
        })
        .collect();
    let mut sources: Vec<Choice> = ui
        .state
        .app
        .config
        .sources
        .iter()
        .map(|s| Choice {
            value: s.id().to_string(),
            label: s.name.clone(),
            selected: s.id() == p.source,
        })
        .collect();
    sources.sort_by(|a, b| a.label.cmp(&b.label));
    let topics: Vec<Choice> = ui
        .state
        .app
        .config
        .topics
        .iter()
        .map(|t| Choice {
            value: t.id().to_string(),
            label: t.name.clone(),
            selected: t.id() == p.topic,
        })
        .collect();
    let export_base = if base.is_empty() {
        String::new()
    } else {
        format!("{base}&")
    };
    ui.render(
        if error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        "search.html",
        minijinja::context! {
            chrome => Chrome::of(&who),
            p => p,
            unshared => p.unshared(),
            hits => hits,
            total => total,
            notices => notices,
            error => error,
            shown_from => if total == 0 { 0 } else { offset + 1 },
            shown_to => offset + hits.len(),
            page => page,
            pages_total => pages_total,
            page_links => page_links,
            prev_href => (page > 1).then(|| href(page - 1)),
            next_href => (page < pages_total).then(|| href(page + 1)),
            sources => sources,
            topics => topics,
            export_base => export_base,
            searched => !p.q.trim().is_empty() || !base.is_empty(),
        },
    )
}

// ---------------------------------------------------------------------------------------
// Item page

#[derive(Serialize)]
struct ShareView {
    id: i64,
    user: String,
    channel: String,
    link: Option<String>,
    when: String,
    when_full: String,
}

/// Names of channels offered in the "mark shared" form.
pub const CHANNELS: &[&str] = &["Facebook", "Zalo", "Cổng thông tin", "Khác"];

/// An item with its live shares and the other sources' copies of the story, for the item
/// page and `/api/items/{id}` alike (`None` when there is no such item).
pub(super) async fn load_item(
    ui: &Ui,
    id: i64,
) -> Result<Option<(Item, Vec<Share>, Vec<crate::store::RelatedItem>)>> {
    let store = ui.state.app.store.clone();
    tokio::task::spawn_blocking(move || -> Result<_> {
        let Some(item) = store.item(id)? else {
            return Ok(None);
        };
        Ok(Some((item, store.shares_of(id)?, store.related_items(id)?)))
    })
    .await?
}

pub async fn item(
    State(ui): State<Ui>,
    Extension(who): Extension<Identity>,
    Path(id): Path<i64>,
) -> Response {
    let loaded = load_item(&ui, id).await;
    let (item, shares, related) = match loaded {
        Ok(Some(x)) => x,
        Ok(None) => {
            return ui.error(
                StatusCode::NOT_FOUND,
                &format!("Không có tin số {id}."),
                false,
            );
        }
        Err(e) => return ui.error(error_status(&e), &e.to_string(), false),
    };
    let tz = ui.state.app.config.display.timezone;
    let now = Utc::now();
    let names = source_names(&ui);
    let source_name = names
        .get(&item.source_id)
        .cloned()
        .unwrap_or(item.source_id.clone());
    let url = safe_url(item.url.as_deref());
    let text = share_text(&ui, &item, &source_name);
    let content = if item.content_html.trim().is_empty() {
        html_escape::encode_text(&item.summary).to_string()
    } else {
        sanitize_html(&item.content_html)
    };
    let share_views: Vec<ShareView> = shares
        .iter()
        .map(|s| ShareView {
            id: s.id,
            user: s.user.clone(),
            channel: s.channel.clone(),
            link: safe_url(s.link.as_deref()),
            when: relative_time(s.shared_at, now, tz),
            when_full: full_time(s.shared_at, tz),
        })
        .collect();
    let related: Vec<minijinja::Value> = related
        .iter()
        .map(|r| {
            minijinja::context! {
                id => r.id,
                title => r.title,
                source_name => names.get(&r.source_id).cloned().unwrap_or(r.source_id.clone()),
            }
        })
        .collect();
    ui.render(
        StatusCode::OK,
        "item.html",
        minijinja::context! {
            chrome => Chrome::of(&who),
            item => minijinja::context! {
                id => item.id,
                title => item.title,
                author => item.author,
                source => item.source_id,
                source_name => source_name,
                when => relative_time(item.published_at, now, tz),
                when_full => full_time(item.published_at, tz),
                image_url => safe_url(item.image_url.as_deref()),
                content_html => content,
            },
            url => url,
            share_text => text,
            facebook => url.as_deref().map(facebook_link),
            zalo => url.as_deref().map(zalo_link),
            shares => share_views,
            related => related,
            channels => CHANNELS,
        },
    )
}

#[derive(Deserialize)]
pub struct ShareForm {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    link: String,
}

/// Check a share's channel and link; both come from people.
pub fn validate_share(channel: &str, link: &str) -> std::result::Result<NewShare, String> {
    let channel = channel.trim();
    if channel.is_empty() || channel.chars().count() > 40 {
        return Err("Kênh chia sẻ cần từ 1 đến 40 ký tự.".into());
    }
    let link = link.trim();
    let link = if link.is_empty() {
        None
    } else {
        Some(
            safe_url(Some(link))
                .ok_or("Liên kết bài đã chia sẻ phải bắt đầu bằng http:// hoặc https://.")?,
        )
    };
    Ok(NewShare {
        channel: channel.to_string(),
        link,
    })
}

/// Record a share; shared with the API.
pub async fn record_share(
    ui: &Ui,
    who: &Identity,
    id: i64,
    share: NewShare,
) -> Result<Option<Share>> {
    let store = ui.state.app.store.clone();
    let user = who.user.clone();
    tokio::task::spawn_blocking(move || -> Result<Option<Share>> {
        if store.item(id)?.is_none() {
            return Ok(None);
        }
        Ok(Some(store.add_share(id, &user, &share, Utc::now())?))
    })
    .await?
}

pub async fn add_share(
    State(ui): State<Ui>,
    Extension(who): Extension<Identity>,
    Path(id): Path<i64>,
    Form(form): Form<ShareForm>,
) -> Response {
    let share = match validate_share(&form.channel, &form.link) {
        Ok(s) => s,
        Err(msg) => return ui.error(StatusCode::BAD_REQUEST, &msg, false),
    };
    match record_share(&ui, &who, id, share).await {
        Ok(Some(_)) => Redirect::to(&format!("/items/{id}#chia-se")).into_response(),
        Ok(None) => ui.error(
            StatusCode::NOT_FOUND,
            &format!("Không có tin số {id}."),
            false,
        ),
        Err(e) => ui.error(error_status(&e), &e.to_string(), false),
    }
}

pub async fn undo_share(State(ui): State<Ui>, Path((id, share)): Path<(i64, i64)>) -> Response {
    let store = ui.state.app.store.clone();
    match tokio::task::spawn_blocking(move || store.undo_share(id, share, Utc::now())).await {
        Ok(Ok(true)) => Redirect::to(&format!("/items/{id}#chia-se")).into_response(),
        Ok(Ok(false)) => ui.error(StatusCode::NOT_FOUND, "Không có lượt chia sẻ này.", false),
        Ok(Err(e)) => ui.error(error_status(&e), &e.to_string(), false),
        Err(e) => ui.error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string(), false),
    }
}

// ---------------------------------------------------------------------------------------
// Export, Atom, OPML

/// Every hit of a search (up to `max`), walking pages.
async fn all_hits(ui: &Ui, p: &SearchParams, max: usize) -> Result<SearchResults> {
    let mut first = run_search(ui, p, crate::search::MAX_LIMIT.min(max), 0).await?;
    while first.hits.len() < first.total.min(max) {
        let more = run_search(ui, p, crate::search::MAX_LIMIT, first.hits.len()).await?;
        if more.hits.is_empty() {
            break;
        }
        first.hits.extend(more.hits);
    }
    first.hits.truncate(max);
    Ok(first)
}

/// One CSV field, quoted, with spreadsheet formulas defused.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '[' | ']' | '*' | '_' | '`' | '<' | '>' | '#' | '|'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub async fn export(State(ui): State<Ui>, Query(p): Query<SearchParams>) -> Response {
    let format = if p.format.is_empty() {
        "csv"
    } else {
        p.format.as_str()
    };
    if format != "csv" && format != "md" {
        return ui.error(
            StatusCode::BAD_REQUEST,
            "Định dạng xuất phải là csv hoặc md.",
            false,
        );
    }
    let results = match all_hits(&ui, &p, EXPORT_MAX).await {
        Ok(r) => r,
        Err(e) => return ui.error(error_status(&e), &e.to_string(), false),
    };
    let tz = ui.state.app.config.display.timezone;
    let names = source_names(&ui);
    let ids: Vec<i64> = results.hits.iter().map(|h| h.id).collect();
    let store = ui.state.app.store.clone();
    let shared = tokio::task::spawn_blocking(move || store.shared_among(&ids).unwrap_or_default())
        .await
        .unwrap_or_default();
    let when = |h: &crate::search::Hit| {
        DateTime::parse_from_rfc3339(&h.published)
            .map(|d| full_time(d.with_timezone(&Utc), tz))
            .unwrap_or_default()
    };
    let mut body = String::new();
    if format == "csv" {
        body.push_str("\u{feff}tieu_de,nguon,thoi_gian,lien_ket,trich_doan,da_chia_se\r\n");
        for h in &results.hits {
            let row = [
                csv_field(&h.title),
                csv_field(names.get(&h.source).unwrap_or(&h.source)),
                csv_field(&when(h)),
                csv_field(h.url.as_deref().unwrap_or("")),
                csv_field(&h.snippet),
                csv_field(if shared.contains(&h.id) {
                    "có"
                } else {
                    "chưa"
                }),
            ];
            body.push_str(&row.join(","));
            body.push_str("\r\n");
        }
    } else {
        body.push_str(&format!(
            "# Kết quả tìm kiếm: {}\n\n{} tin.\n\n",
            md_text(&p.q),
            results.hits.len()
        ));
        for h in &results.hits {
            let title = md_text(&h.title);
            match safe_url(h.url.as_deref()) {
                Some(u) => body.push_str(&format!("- [{title}](<{}>)", u.replace('>', "%3E"))),
                None => body.push_str(&format!("- {title}")),
            }
            body.push_str(&format!(
                " — {}, {}\n",
                md_text(names.get(&h.source).unwrap_or(&h.source)),
                when(h)
            ));
        }
    }
    let (ct, ext) = if format == "csv" {
        ("text/csv; charset=utf-8", "csv")
    } else {
        ("text/markdown; charset=utf-8", "md")
    };
    let file = format!(
        "gomtin-{}.{ext}",
        Utc::now().with_timezone(&tz).format("%Y%m%d-%H%M")
    );
    (
        [
            (header::CONTENT_TYPE, ct.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response()
}

fn xml(s: &str) -> String {
    // XML 1.0 forbids most control characters even when escaped.
    let clean: String = s
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect();
    html_escape::encode_double_quoted_attribute(&clean).replace('\'', "&apos;")
}

pub async fn atom(State(ui): State<Ui>, Query(mut p): Query<SearchParams>) -> Response {
    if !p.q.contains("sort:") {
        p.q = format!("{} sort:date", p.q.trim()).trim().to_string();
    }
    let results = match run_search(&ui, &p, FEED_MAX, 0).await {
        Ok(r) => r,
        Err(e) => return ui.error(error_status(&e), &e.to_string(), false),
    };
    let names = source_names(&ui);
    let query = p.q.trim_end_matches("sort:date").trim().to_string();
    let title = if query.is_empty() {
        "gomtin: tin mới".to_string()
    } else {
        format!("gomtin: {query}")
    };
    let self_q = {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        s.append_pair("q", &query);
        s.finish()
    };
    let updated = results
        .hits
        .first()
        .map(|h| h.published.clone())
        .unwrap_or_else(|| Utc::now().to_rfc3339());
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    out.push_str(&format!("  <title>{}</title>\n", xml(&title)));
    out.push_str(&format!(
        "  <id>urn:gomtin:search:{}</id>\n",
        xml(&urlencode(&query))
    ));
    out.push_str(&format!(
        "  <link rel=\"self\" href=\"/feed.atom?{}\"/>\n",
        xml(&self_q)
    ));
    out.push_str(&format!("  <updated>{}</updated>\n", xml(&updated)));
    out.push_str("  <generator>gomtin</generator>\n");
    for h in &results.hits {
        out.push_str("  <entry>\n");
        out.push_str(&format!("    <title>{}</title>\n", xml(&h.title)));
        out.push_str(&format!("    <id>urn:gomtin:item:{}</id>\n", h.id));
        if let Some(u) = safe_url(h.url.as_deref()) {
            out.push_str(&format!("    <link href=\"{}\"/>\n", xml(&u)));
        }
        out.push_str(&format!("    <updated>{}</updated>\n", xml(&h.published)));
        out.push_str(&format!(
            "    <author><name>{}</name></author>\n",
            xml(names.get(&h.source).unwrap_or(&h.source))
        ));
        out.push_str(&format!("    <summary>{}</summary>\n", xml(&h.snippet)));
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    (
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        out,
    )
        .into_response()
}

pub async fn opml(State(ui): State<Ui>) -> Response {
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<opml version=\"2.0\">\n");
    out.push_str("  <head><title>gomtin — nguồn tin</title></head>\n  <body>\n");
    let base = &ui.state.app.config.base_dir;
    for s in &ui.state.app.config.sources {
        let loc = s.location(base);
        let Some(u) = safe_url(Some(&loc)) else {
            continue;
        };
        out.push_str(&format!(
            "    <outline type=\"rss\" text=\"{n}\" title=\"{n}\" xmlUrl=\"{u}\"/>\n",
            n = xml(&s.name),
            u = xml(&u)
        ));
    }
    out.push_str("  </body>\n</opml>\n");
    (
        [
            (header::CONTENT_TYPE, "text/x-opml; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"gomtin-nguon-tin.opml\"",
            ),
        ],
        out,
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------
// Sources page

/// A fetch error kind in plain words.
pub fn error_in_words(kind: Option<&str>) -> &'static str {
    match kind.unwrap_or("") {
        "network" => "Không kết nối được tới máy chủ",
        "http_status" => "Máy chủ trả về lỗi",
        "private_address" => "Địa chỉ mạng nội bộ bị chặn",
        "body_too_large" => "Nội dung quá lớn",
        "bad_url" => "Địa chỉ nguồn sai",
        "parse" => "Không đọc được nội dung nguồn tin",
        "local_file" => "Không đọc được tệp",
        _ => "Lỗi",
    }
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

#[derive(Deserialize)]
pub struct SourcesQuery {
    #[serde(default)]
    fetched: String,
}

pub async fn sources(
    State(ui): State<Ui>,
    Extension(who): Extension<Identity>,
    Query(q): Query<SourcesQuery>,
) -> Response {
    let store = ui.state.app.store.clone();
    let now = Utc::now();
    let loaded = tokio::task::spawn_blocking(move || -> Result<_> {
        let statuses = store.source_statuses(now)?;
        let mut out = Vec::new();
        for s in statuses {
            let per_day = store.items_per_day(&s.id, 30, now)?;
            out.push((s, per_day));
        }
        Ok(out)
    })
    .await;
    let rows = match loaded {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return ui.error(error_status(&e), &e.to_string(), false),
        Err(e) => return ui.error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string(), false),
    };
    let tz = ui.state.app.config.display.timezone;
    let views: Vec<minijinja::Value> = rows
        .iter()
        .map(|(s, per_day)| {
            let state = if s.last_error.is_some() {
                "loi"
            } else if s.last_success_at.is_some() {
                "tot"
            } else {
                "chua"
            };
            minijinja::context! {
                id => s.id,
                name => s.name,
                kind => s.kind,
                url => safe_url(Some(&s.url)),
                location => s.url,
                in_config => s.in_config,
                disabled => ui.state.app.config.source(&s.id).is_some_and(|c| !c.enabled),
                state => state,
                last_success => s.last_success_at.map(|t| relative_time(t, now, tz)),
                last_success_full => s.last_success_at.map(|t| full_time(t, tz)),
                last_attempt => s.last_attempt_at.map(|t| relative_time(t, now, tz)),
                error_words => s.last_error.as_ref().map(|_| error_in_words(s.last_error_kind.as_deref())),
                error => s.last_error,
                failures => s.consecutive_failures,
                item_count => s.item_count,
                week => s.items_last_7_days,
                month => per_day.iter().sum::<i64>(),
                points => sparkline_points(per_day),
                fetched => q.fetched == s.id,
            }
        })
        .collect();
    ui.render(
        StatusCode::OK,
        "sources.html",
        minijinja::context! { chrome => Chrome::of(&who), sources => views },
    )
}

/// Fetch one source now and index what it brought; shared with the API.
pub async fn fetch_source_now(ui: &Ui, id: &str) -> Result<crate::model::SourceOutcome> {
    let app = &ui.state.app;
    let source = app
        .config
        .source(id)
        .ok_or_else(|| Error::UnknownSource(id.to_string()))?
        .clone();
    let (outcome, _) = crate::pipeline::refresh_source(app, &source).await?;
    crate::pipeline::catch_up_index(app).await?;
    Ok(outcome)
}

pub async fn fetch_now(
    State(ui): State<Ui>,
    Extension(who): Extension<Identity>,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = auth::refuse_unless_admin(&ui, &who, false) {
        return r;
    }
    match fetch_source_now(&ui, &id).await {
        Ok(_) => Redirect::to(&format!(
            "/sources?fetched={}#nguon-{}",
            urlencode(&id),
            urlencode(&id)
        ))
        .into_response(),
        Err(e) => ui.error(
            if matches!(e, Error::UnknownSource(_)) {
                StatusCode::NOT_FOUND
            } else {
                error_status(&e)
            },
            &e.to_string(),
            false,
        ),
    }
}

/// Sources are declared in the config file; the web only tells admins where.
pub const ADD_SOURCE_MESSAGE: &str = "Nguồn tin được khai báo trong tệp cấu hình: thêm một khối [[sources]] vào gomtin.toml rồi khởi động lại gomtin serve.";

pub async fn add_source(State(ui): State<Ui>, Extension(who): Extension<Identity>) -> Response {
    if let Some(r) = auth::refuse_unless_admin(&ui, &who, false) {
        return r;
    }
    ui.error(StatusCode::NOT_IMPLEMENTED, ADD_SOURCE_MESSAGE, false)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn csv_defuses_formulas_and_quotes() {
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("Tin, mới"), "\"Tin, mới\"");
    }

    #[test]
    fn sparkline_fits_its_box() {
        let pts = sparkline_points(&[0, 5, 10]);
        assert_eq!(pts, "0.0,26.0 60.0,14.0 120.0,2.0");
        assert_eq!(sparkline_points(&[0; 30]).split(' ').count(), 30);
    }
}
