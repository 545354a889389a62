//! The staff pages rendered on the server that list things: search (with filters behind
//! a "Bộ lọc" button on a phone, badges for the story's share and proposal, a one-tap
//! copy per result, spelling help and tips when nothing is found, a pager with first and
//! last pages that clamps out-of-range pages, and a bookmarkable URL). The item page is
//! `item`'s, the sources health page `admin::sources`'. What they show is built by `view`
//! from what `actions` loads; errors are [`WebError`]s, shown as the error page.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::actions::{self, SearchParams, team};
use super::auth::Staff;
use super::state::AppState;
use super::view::{Chrome, full_time, relative_time, safe_url, shared_words, tone_why};
use crate::search::MAX_OFFSET;
use crate::store::ProposalState;

/// Results per page on the search page.
const PAGE_SIZE: usize = 20;

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
    /// "bản của Báo X, bởi Lan, 2 giờ trước".
    shared_by: Option<String>,
    /// `open` or `approved` when it has a current proposal.
    proposal: Option<&'static str>,
    also: usize,
    share_text: String,
    /// `positive`, `neutral`, `negative` (a CSS class and the badge).
    tone: &'static str,
    tone_label: &'static str,
    /// The phrases that decided, for the badge's tooltip.
    tone_why: String,
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
    /// A gap ("…") comes before this link.
    gap_before: bool,
}

/// Query-text filters that "Bỏ bộ lọc" removes.
fn is_filter_token(t: &str) -> bool {
    t.split_once(':').is_some_and(|(k, _)| {
        matches!(
            k.trim_start_matches('-').to_lowercase().as_str(),
            "source"
                | "nguon"
                | "nguồn"
                | "topic"
                | "chude"
                | "chủđề"
                | "status"
                | "trangthai"
                | "trạngthái"
                | "tone"
                | "sacthai"
                | "sắcthái"
                | "after"
                | "sau"
                | "before"
                | "truoc"
                | "trước"
        )
    })
}

/// The search page's link for these parameters.
fn search_href(p: &SearchParams) -> String {
    let qs = p.query_string();
    if qs.is_empty() {
        "/".to_string()
    } else {
        format!("/?{qs}")
    }
}

/// Which page numbers the pager shows: the first, the last, and three either side of
/// the current one.
fn pager(page: usize, last: usize, href: impl Fn(usize) -> String) -> Vec<PageLink> {
    let mut numbers: Vec<usize> = vec![1];
    numbers.extend(page.saturating_sub(3).max(1)..=(page + 3).min(last));
    numbers.push(last);
    numbers.sort_unstable();
    numbers.dedup();
    let mut prev = 0;
    numbers
        .into_iter()
        .map(|n| {
            let link = PageLink {
                number: n,
                href: href(n),
                current: n == page,
                gap_before: prev != 0 && n > prev + 1,
            };
            prev = n;
            link
        })
        .collect()
}

/// `GET /`: the search page (also the home page, with an empty query).
pub async fn search(
    State(state): State<AppState>,
    Staff(who): Staff,
    Query(p): Query<SearchParams>,
) -> Response {
    let mut page = p.page.unwrap_or(1).max(1);
    let tz = state.timezone();
    let mut outcome = actions::run_search(&state, &p, PAGE_SIZE, (page - 1) * PAGE_SIZE).await;
    let last_page = |total: usize| {
        total
            .div_ceil(PAGE_SIZE)
            .clamp(1, MAX_OFFSET / PAGE_SIZE + 1)
    };
    // A page past the last shows the last one.
    if let Ok(r) = &outcome
        && page > last_page(r.total)
    {
        page = last_page(r.total);
        outcome = actions::run_search(&state, &p, PAGE_SIZE, (page - 1) * PAGE_SIZE).await;
    }
    let offset = (page - 1) * PAGE_SIZE;
    let (results, error) = match outcome {
        Ok(r) => (Some(r), None),
        // Too busy to search: the error page, with `Retry-After`.
        Err(e) if e.status() == StatusCode::SERVICE_UNAVAILABLE => return e.into_response(),
        Err(e) => (None, Some(e.message().to_string())),
    };
    let names = actions::source_names(&state);
    let now = Utc::now();
    let mut hits = Vec::new();
    let mut total = 0;
    let mut notices = Vec::new();
    let mut suggestion = None;
    if let Some(r) = &results {
        total = r.total;
        notices = r.notices.clone();
        suggestion = r.suggestion.clone();
        let ids: Vec<i64> = r.hits.iter().map(|h| h.id).collect();
        let mut details = actions::hit_details(&state, &ids).await;
        for h in &r.hits {
            let published = DateTime::parse_from_rfc3339(&h.published)
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or(now);
            let story = details.story_shares.remove(&h.id);
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
                shared: story.is_some(),
                shared_by: story.as_ref().map(|s| {
                    let name = names.get(&s.source_id).unwrap_or(&s.source_id);
                    shared_words(s, name, now, tz)
                }),
                proposal: details.proposals.get(&h.id).map(|p| match p.state {
                    ProposalState::Approved => "approved",
                    _ => "open",
                }),
                also: details.also.get(&h.id).copied().unwrap_or(0),
                share_text: details.share_text.remove(&h.id).unwrap_or_default(),
                tone: h.tone.as_str(),
                tone_label: h.tone.label_vi(),
                tone_why: tone_why(&h.tone_reasons),
            });
        }
    }
    let pages_total = last_page(total);
    let base = p.query_string();
    let href = |n: usize| {
        if base.is_empty() {
            format!("/?page={n}")
        } else {
            format!("/?{base}&page={n}")
        }
    };
    let page_links = pager(page, pages_total, href);
    let sources: Vec<Choice> = actions::source_choices(&state)
        .into_iter()
        .map(|s| Choice {
            selected: s.id == p.source,
            label: if s.failing {
                format!("{} (đang lỗi)", s.name)
            } else if s.empty {
                format!("{} (chưa có tin)", s.name)
            } else {
                s.name
            },
            value: s.id,
        })
        .collect();
    let mut topics: Vec<Choice> = state
        .app
        .config()
        .topics
        .iter()
        .map(|t| Choice {
            value: t.id().to_string(),
            label: t.name.clone(),
            selected: t.id() == p.topic,
        })
        .collect();
    topics.sort_by(|a, b| crate::vietnamese::collate::compare(&a.label, &b.label));
    let statuses: Vec<Choice> = [
        ("proposed", "Được đề xuất"),
        ("approved", "Đã duyệt"),
        ("shared", "Đã chia sẻ"),
    ]
    .into_iter()
    .map(|(value, label)| Choice {
        value: value.into(),
        label: label.into(),
        selected: p.status == value,
    })
    .collect();
    let export_base = if base.is_empty() {
        String::new()
    } else {
        format!("{base}&")
    };
    // "Bỏ bộ lọc": the words alone.
    let words: Vec<&str> =
        p.q.split_whitespace()
            .filter(|t| !is_filter_token(t))
            .collect();
    let filtered = p.has_filters() || p.q.split_whitespace().any(is_filter_token);
    let clear_filters = filtered.then(|| {
        search_href(&SearchParams {
            q: words.join(" "),
            ..SearchParams::default()
        })
    });
    let suggestion_href = suggestion.as_ref().map(|s| {
        search_href(&SearchParams {
            q: s.clone(),
            ..p.clone()
        })
    });
    let active_filters = [
        !p.source.is_empty(),
        !p.topic.is_empty(),
        !p.from.is_empty(),
        !p.to.is_empty(),
        p.unshared(),
        !p.status.is_empty(),
        !p.tone.is_empty(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    let news = team::news_count(&state, &who.user).await;
    state.render(
        if error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        "search.html",
        minijinja::context! {
            chrome => Chrome::at(&who, "search"),
            p => p,
            unshared => p.unshared(),
            positive_only => p.positive_only(),
            hits => hits,
            total => total,
            notices => notices,
            error => error,
            suggestion => suggestion,
            suggestion_href => suggestion_href,
            clear_filters => clear_filters,
            active_filters => active_filters,
            shown_from => if total == 0 { 0 } else { offset + 1 },
            shown_to => offset + hits.len(),
            page => page,
            pages_total => pages_total,
            page_links => page_links,
            prev_href => (page > 1).then(|| href(page - 1)),
            next_href => (page < pages_total).then(|| href(page + 1)),
            sources => sources,
            topics => topics,
            statuses => statuses,
            export_base => export_base,
            news => news,
            searched => !p.q.trim().is_empty() || !base.is_empty(),
        },
    )
}
