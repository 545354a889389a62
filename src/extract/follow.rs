//! Following links to article pages, as two pure steps around the pipeline's fetches. Page
//! sources and `full_content = true` feeds read each item's own page (`extract::article`):
//! [`plan`] decides which pages to fetch this pass, given the entries, the keys the source
//! already has and the budget; the pipeline fetches them; [`merge`] folds the articles
//! back into the entries. At most `max_articles_per_pass` pages are fetched per pass, new
//! items first, then known ones in list order (recent articles are the ones that get
//! edited). A known item whose page was not fetched this pass is left as stored, so a
//! teaser never overwrites a full article. Nothing here does I/O: the store lookup and the
//! fetches are the pipeline's (`pipeline::collect`).

use std::collections::HashSet;

use crate::config::{SourceConfig, SourceKind};
use crate::error::{Error, Result};
use crate::extract::article::Article;
use crate::extract::feed::FeedMeta;
use crate::model::RawEntry;

/// Entries of one source after following links, plus what was left aside.
#[derive(Debug, Default)]
pub struct Collected {
    pub meta: FeedMeta,
    pub entries: Vec<RawEntry>,
    /// Entries dropped: article page failed for a known item, or beyond this pass's budget.
    pub deferred: usize,
    /// Article pages that could not be fetched or read (and forum or list pages).
    pub article_errors: Vec<String>,
    /// Every page a forum crawl or a paginated list read (`sources check`).
    pub pages: Vec<crate::model::PageReport>,
    /// What a forum crawl read of each thread, for the store.
    pub threads: Vec<crate::model::ThreadState>,
    /// Notes on the pass for the source's health ("trang không phải bài viết").
    pub notes: Vec<String>,
}

/// Whether this source's entries are followed to their article pages.
pub fn follows(source: &SourceConfig) -> bool {
    source.kind == SourceKind::Page || source.full_content
}

/// Which article pages to fetch for one source's entries this pass, and what to do with
/// an entry whose page is not read.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The pages to fetch: entry index and page URL, new items first.
    pub fetch: Vec<(usize, url::Url)>,
    /// Per entry: the source already has it.
    known: Vec<bool>,
    /// Per entry: among the first `max_articles_per_pass` of the fetch order.
    in_budget: Vec<bool>,
    /// Page sources have nothing worth storing without the page; feeds keep the teaser.
    needs_page: bool,
    /// Feeds keep their own title over the page's.
    prefer_entry_title: bool,
}

/// Plan the article fetches: `keys[i]` is entry `i`'s key (`normalize::item_key`),
/// `known` the keys the store already has for this source.
pub fn plan(
    source: &SourceConfig,
    entries: &[RawEntry],
    keys: &[Option<String>],
    known: &HashSet<String>,
) -> Plan {
    let known: Vec<bool> = (0..entries.len())
        .map(|i| {
            keys.get(i)
                .and_then(Option::as_ref)
                .is_some_and(|k| known.contains(k))
        })
        .collect();
    // New items first, then known ones, both in list order.
    let mut order: Vec<usize> = (0..entries.len()).filter(|&i| !known[i]).collect();
    order.extend((0..entries.len()).filter(|&i| known[i]));
    let budget = source.max_articles_per_pass;
    let mut in_budget = vec![false; entries.len()];
    let mut fetch = Vec::new();
    // An entry without a usable link still takes its place in the budget.
    for &i in order.iter().take(budget) {
        in_budget[i] = true;
        if let Some(link) = entries[i]
            .link
            .as_deref()
            .and_then(|l| url::Url::parse(l).ok())
        {
            fetch.push((i, link));
        }
    }
    Plan {
        fetch,
        known,
        in_budget,
        needs_page: source.kind == SourceKind::Page,
        prefer_entry_title: source.kind == SourceKind::Feed,
    }
}

/// Fold the fetched articles into the entries. `fetched` holds each planned page's result
/// in the order the fetches ended. When every page tried missed the body selector, the
/// site's layout changed: that is the source's error (the last one) rather than a pass of
/// teasers.
pub fn merge(
    plan: &Plan,
    entries: Vec<RawEntry>,
    fetched: Vec<(usize, Result<Article>)>,
) -> Result<Collected> {
    let tried = fetched.len();
    let mut articles: Vec<Option<Article>> = vec![None; entries.len()];
    let mut errors = Vec::new();
    let mut selector_misses = 0;
    let mut notes = Vec::new();
    let mut last_error: Option<Error> = None;
    for (i, res) in fetched {
        match res {
            Ok(a) => {
                if let Some(slot) = articles.get_mut(i) {
                    *slot = Some(a);
                }
            }
            Err(e) if e.kind() == "not_article" => {
                // The entry keeps what the feed or list said; the source's health says why.
                notes.push(e.to_string());
            }
            Err(e) => {
                if e.kind() == "selector" {
                    selector_misses += 1;
                }
                errors.push(e.to_string());
                last_error = Some(e);
            }
        }
    }
    if tried > 0
        && selector_misses == tried
        && let Some(e) = last_error
    {
        return Err(e);
    }
    let mut out = Collected {
        article_errors: errors,
        notes,
        ..Default::default()
    };
    for (i, (entry, article)) in entries.into_iter().zip(articles).enumerate() {
        match article {
            Some(a) => out
                .entries
                .push(a.merge_into(entry, plan.prefer_entry_title)),
            // A teaser must not overwrite a full article stored earlier.
            None if plan.known[i] => out.deferred += 1,
            // New page items wait for a pass with budget left; new feed items keep the teaser.
            None if plan.needs_page && !plan.in_budget[i] => out.deferred += 1,
            None => out.entries.push(entry),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(kind: &str, budget: usize) -> SourceConfig {
        let text = format!(
            "[[sources]]\nid = \"s\"\nname = \"S\"\nkind = \"{kind}\"\nurl = \"https://s.vn/\"\n\
             full_content = true\nmax_articles_per_pass = {budget}\n{}",
            if kind == "page" {
                "[sources.selectors]\nlink = \"a\"\n"
            } else {
                ""
            }
        );
        crate::config::Config::parse(&text, std::path::Path::new("x.toml"))
            .expect("config")
            .sources[0]
            .clone()
    }

    fn entry(n: usize) -> RawEntry {
        RawEntry {
            title: Some(format!("Tin {n}")),
            link: Some(format!("https://s.vn/{n}")),
            ..Default::default()
        }
    }

    fn article(n: usize) -> Article {
        Article {
            title: Some(format!("Bài {n}")),
            content_html: format!("<p>Toàn văn {n}</p>"),
            ..Default::default()
        }
    }

    fn keys(n: usize) -> Vec<Option<String>> {
        (0..n).map(|i| Some(format!("k{i}"))).collect()
    }

    #[test]
    fn new_items_first_within_the_budget() {
        let entries: Vec<RawEntry> = (0..4).map(entry).collect();
        let known: HashSet<String> = ["k0".to_string(), "k2".to_string()].into();
        let p = plan(&source("page", 3), &entries, &keys(4), &known);
        let order: Vec<usize> = p.fetch.iter().map(|(i, _)| *i).collect();
        assert_eq!(order, vec![1, 3, 0], "new 1 and 3, then known 0; 2 waits");
        assert_eq!(p.fetch[0].1.as_str(), "https://s.vn/1");
    }

    #[test]
    fn a_teaser_never_replaces_a_stored_article() {
        let entries: Vec<RawEntry> = (0..4).map(entry).collect();
        let known: HashSet<String> = ["k0".to_string(), "k2".to_string()].into();
        let p = plan(&source("page", 3), &entries, &keys(4), &known);
        let fetched = vec![
            (1, Ok(article(1))),
            (
                3,
                Err(Error::Network {
                    url: "https://s.vn/3".into(),
                    message: "x".into(),
                }),
            ),
            (0, Ok(article(0))),
        ];
        let out = merge(&p, entries, fetched).expect("merge");
        let titles: Vec<&str> = out
            .entries
            .iter()
            .filter_map(|e| e.title.as_deref())
            .collect();
        // 0 and 1 read from their pages; 3 (new, page failed) keeps its list entry; 2
        // (known, beyond the budget) is left as stored.
        assert_eq!(titles, vec!["Bài 0", "Bài 1", "Tin 3"]);
        assert_eq!(out.deferred, 1);
        assert_eq!(out.article_errors.len(), 1);
    }

    #[test]
    fn new_page_items_beyond_the_budget_wait_feed_items_do_not() {
        let entries: Vec<RawEntry> = (0..3).map(entry).collect();
        let none = HashSet::new();
        let page = plan(&source("page", 1), &entries, &keys(3), &none);
        let out = merge(&page, entries.clone(), vec![(0, Ok(article(0)))]).expect("merge");
        assert_eq!((out.entries.len(), out.deferred), (1, 2));
        let feed = plan(&source("feed", 1), &entries, &keys(3), &none);
        let out = merge(&feed, entries, vec![(0, Ok(article(0)))]).expect("merge");
        assert_eq!((out.entries.len(), out.deferred), (3, 0));
        assert_eq!(
            out.entries[0].title.as_deref(),
            Some("Tin 0"),
            "a feed keeps its own title"
        );
    }

    #[test]
    fn every_page_missing_the_body_selector_fails_the_source() {
        let entries: Vec<RawEntry> = (0..2).map(entry).collect();
        let p = plan(&source("page", 5), &entries, &keys(2), &HashSet::new());
        let miss = |n: usize| Error::Selector {
            url: format!("https://s.vn/{n}"),
            message: "no match".into(),
        };
        let err = merge(
            &p,
            entries.clone(),
            vec![(0, Err(miss(0))), (1, Err(miss(1)))],
        )
        .expect_err("layout changed");
        assert_eq!(err.kind(), "selector");
        let out = merge(&p, entries, vec![(0, Err(miss(0))), (1, Ok(article(1)))])
            .expect("one page still reads");
        assert_eq!(out.entries.len(), 2);
    }
}
