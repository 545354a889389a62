//! Collapsing a result page by story: the hits of one story (the one rule,
//! [`cluster::StoryKey`](crate::cluster::StoryKey): same near-duplicate cluster or same
//! canonical URL) show once, as the story's earliest item, which lists the story's other
//! sources in `also_posted_by` (`gomtin search --collapse`).

use crate::cluster::{StoryKey, group_stories};
use crate::store::Store;

use super::SearchResults;

/// Collapse each story among `results.hits` (the one rule: [`StoryKey`]) to its earliest
/// item; that hit lists the other sources of the story in `also_posted_by` (all of its
/// items, also those not on this page).
pub fn collapse(results: &mut SearchResults, store: &Store) -> crate::error::Result<()> {
    let ids: Vec<i64> = results.hits.iter().map(|h| h.id).collect();
    let mut keys = store.story_keys(&ids)?;
    let hit_keys: Vec<Vec<StoryKey>> = ids
        .iter()
        .map(|id| keys.remove(id).unwrap_or_default())
        .collect();
    let story = group_stories(&hit_keys);
    let mut stories = 0;
    let mut kept = Vec::new();
    for (mut hit, s) in std::mem::take(&mut results.hits).into_iter().zip(story) {
        if s < stories {
            // A later hit of a story already shown.
            continue;
        }
        stories += 1;
        let members = store.story_members(hit.id)?;
        if members.len() > 1 {
            // Show the earliest item of the story in this hit's place.
            if let Some(first) = members.first()
                && first.id != hit.id
                && let Some(item) = store.item(first.id)?
            {
                hit.id = item.id;
                hit.title = item.title;
                hit.url = item.url;
                hit.source = item.source_id;
                hit.published = item
                    .published_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                hit.image_url = item.image_url.or(hit.image_url);
            }
            let mut also: Vec<String> = members
                .iter()
                .filter(|m| m.source_id != hit.source)
                .map(|m| m.source_id.clone())
                .collect();
            also.dedup();
            hit.also_posted_by = also;
        }
        kept.push(hit);
    }
    results.hits = kept;
    Ok(())
}
