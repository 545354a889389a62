//! Digest selection: the items first seen in a period, filtered by the digest's `query`,
//! tagged with its `topics` by the same query engine as search, collapsed into stories by
//! the one same-story rule (`cluster::StoryKey`: "cũng đăng trên …") and grouped by topic
//! into the view the templates get. Every text in the view is one clean line.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::schedule::Period;
use crate::app::App;
use crate::cluster::{StoryKey, group_stories};
use crate::config::{DigestConfig, TopicConfig};
use crate::error::Result;
use crate::model::{Item, Tone};
use crate::normalize::{excerpt, html_to_text, safe_url};
use crate::topics::TopicTagger;

/// Characters of an item's excerpt.
const EXCERPT_CHARS: usize = 280;

/// One story as the templates see it (every text already one clean line).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StoryView {
    pub title: String,
    pub url: Option<String>,
    pub source: String,
    pub time: String,
    pub excerpt: String,
    /// Shown as a link only (no remote image is loaded by the email).
    pub image_url: Option<String>,
    /// Other sources that posted the same story.
    pub also: Vec<String>,
    /// "Tin tích cực" / "Tin tiêu cực" (none for neutral news).
    pub tone_label: Option<String>,
}

/// One topic's stories.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupView {
    pub name: String,
    /// Stories of the topic in the period (shown or not).
    pub count: usize,
    pub stories: Vec<StoryView>,
    /// Stories left out by `max_items`.
    pub more: usize,
}

/// Everything the templates get.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DigestView {
    pub id: String,
    pub name: String,
    pub period_label: String,
    /// "12 tin, 3 chủ đề".
    pub summary: String,
    pub total: usize,
    pub shown: usize,
    pub groups: Vec<GroupView>,
}

/// One line of plain text: tags stripped, entities decoded, control characters (CR, LF,
/// tabs…) and runs of spaces collapsed to one space.
pub fn clean_line(s: &str) -> String {
    let s = if s.contains('<') || s.contains('&') {
        html_to_text(s)
    } else {
        s.to_string()
    };
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Item ids matching each query (`(key, query, tone required)`), with the same engine as
/// search.
fn match_queries(
    app: &App,
    queries: &[(String, String, Option<Tone>)],
    items: &[Item],
) -> Result<HashMap<i64, Vec<String>>> {
    if queries.is_empty() || items.is_empty() {
        return Ok(HashMap::new());
    }
    let topics: Vec<TopicConfig> = queries
        .iter()
        .map(|(id, q, tone)| TopicConfig {
            id: toml::Spanned::new(0..0, id.clone()),
            name: id.clone(),
            query: q.clone(),
            tone: *tone,
        })
        .collect();
    let tagger = TopicTagger::new(
        &topics,
        (*app.variants()).clone(),
        app.config().display.timezone,
    )?;
    tagger.tag(items)
}

/// Select, collapse and group the period's items (blocking: reads SQLite, runs queries).
pub fn build_view(app: &App, d: &DigestConfig, period: Period) -> Result<DigestView> {
    let mut items = app
        .store
        .items_first_seen_between(period.start, period.end)?;
    // `tone = "positive"`: only the period's items of that tone (unscored ones are neutral).
    if let Some(tone) = d.tone {
        items.retain(|i| i.tone.as_ref().map(|t| t.label).unwrap_or_default() == tone);
    }
    if let Some(q) = d.query.as_deref().filter(|q| !q.trim().is_empty()) {
        let hits = match_queries(app, &[("q".into(), q.to_string(), None)], &items)?;
        items.retain(|i| hits.contains_key(&i.id));
    }
    let topic_ids: Vec<&str> = d.topics.iter().map(|t| t.get_ref().as_str()).collect();
    let queries: Vec<(String, String, Option<Tone>)> = topic_ids
        .iter()
        .filter_map(|id| {
            app.config()
                .topics
                .iter()
                .find(|t| t.id() == *id)
                .map(|t| (t.id().to_string(), t.query.clone(), t.tone))
        })
        .collect();
    let tags = match_queries(app, &queries, &items)?;

    // Collapse items into stories (items are newest first; the newest leads the story).
    let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let clusters = app.store.clusters_of(&ids)?;
    let keys: Vec<Vec<StoryKey>> = items
        .iter()
        .map(|i| StoryKey::of(clusters.get(&i.id).copied(), i.canonical_url.as_deref()))
        .collect();
    let mut stories: Vec<Vec<&Item>> = Vec::new();
    for (item, story) in items.iter().zip(group_stories(&keys)) {
        if story == stories.len() {
            stories.push(Vec::new());
        }
        stories[story].push(item);
    }

    // Each story goes to the first of the digest's topics that one of its items matches.
    let group_names: Vec<String> = if topic_ids.is_empty() {
        vec!["Tin mới".to_string()]
    } else {
        topic_ids
            .iter()
            .map(|id| {
                app.config()
                    .topics
                    .iter()
                    .find(|t| t.id() == *id)
                    .map(|t| clean_line(&t.name))
                    .unwrap_or_else(|| id.to_string())
            })
            .collect()
    };
    let mut grouped: Vec<Vec<&Vec<&Item>>> = vec![Vec::new(); group_names.len()];
    for members in &stories {
        let slot = if topic_ids.is_empty() {
            Some(0)
        } else {
            topic_ids.iter().position(|t| {
                members.iter().any(|i| {
                    tags.get(&i.id)
                        .is_some_and(|ts| ts.iter().any(|x| x.as_str() == *t))
                })
            })
        };
        if let Some(slot) = slot {
            grouped[slot].push(members);
        }
    }

    let source_name = |id: &str| {
        app.config()
            .source(id)
            .map(|s| clean_line(&s.name))
            .unwrap_or_else(|| id.to_string())
    };
    let total: usize = grouped.iter().map(Vec::len).sum();
    let mut budget = d.max_items;
    let mut groups = Vec::new();
    for (name, members) in group_names.into_iter().zip(grouped) {
        if members.is_empty() {
            continue;
        }
        let take = members.len().min(budget);
        budget -= take;
        let views = members
            .iter()
            .take(take)
            .map(|m| {
                let lead = m[0];
                let mut also: Vec<String> = Vec::new();
                for other in m.iter().skip(1) {
                    let n = source_name(&other.source_id);
                    if other.source_id != lead.source_id && !also.contains(&n) {
                        also.push(n);
                    }
                }
                let body = if lead.summary.trim().is_empty() {
                    &lead.content_text
                } else {
                    &lead.summary
                };
                StoryView {
                    title: clean_line(&lead.title),
                    // The canonical URL drops tracking parameters (`utm_*`, `fbclid`…).
                    url: safe_url(lead.canonical_url.as_deref().or(lead.url.as_deref())),
                    source: source_name(&lead.source_id),
                    time: lead
                        .published_at
                        .with_timezone(&d.timezone)
                        .format("%H:%M %d/%m/%Y")
                        .to_string(),
                    excerpt: excerpt(&clean_line(body), EXCERPT_CHARS),
                    image_url: safe_url(lead.image_url.as_deref()),
                    also,
                    tone_label: match lead.tone.as_ref().map(|t| t.label) {
                        Some(Tone::Positive) => Some("Tin tích cực".to_string()),
                        Some(Tone::Negative) => Some("Tin tiêu cực".to_string()),
                        _ => None,
                    },
                }
            })
            .collect::<Vec<_>>();
        groups.push(GroupView {
            name,
            count: members.len(),
            more: members.len() - views.len(),
            stories: views,
        });
    }
    let shown = groups.iter().map(|g| g.stories.len()).sum();
    let fmt = |t: DateTime<Utc>| t.with_timezone(&d.timezone).format("%H:%M %d/%m/%Y");
    let summary = if total == 0 {
        "không có tin mới".to_string()
    } else if topic_ids.is_empty() {
        format!("{total} tin")
    } else {
        format!("{total} tin, {} chủ đề", groups.len())
    };
    Ok(DigestView {
        id: d.id().to_string(),
        name: clean_line(&d.name),
        period_label: format!("Tin từ {} đến {}", fmt(period.start), fmt(period.end)),
        summary,
        total,
        shown,
        groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_line_removes_line_breaks_and_tags() {
        assert_eq!(
            clean_line("Tin\r\nBcc: x@y.vn <b>đậm</b>\t  nhé"),
            "Tin Bcc: x@y.vn đậm nhé"
        );
    }
}
