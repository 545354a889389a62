//! The crawl: sources whose items span several pages, read with the one `Fetcher`. A
//! forum source (`kind = "forum"`) is a board or a thread: the board's threads (newest
//! activity first, following the board's next pages until `max_threads_per_pass` are
//! found), then each thread's pages (`max_pages_per_thread` at most): a thread not seen
//! before is read from page 1 and, when it is longer than the budget, from its last pages
//! backwards (the early pages follow on later passes); a thread seen before is skipped when
//! its board mark has not changed, else read from the last page read on, so a pass reads
//! only the pages with new posts. What was read of each thread is returned for the store
//! (`model::ThreadState`), which the pipeline writes after the posts. A page source with a
//! `next` selector is followed the same way, up to `max_pages`. Parsing is the pure
//! `extract::forum` / `extract::page`; this flow fetches and decides what to fetch.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::app::App;
use crate::config::{SourceConfig, SourceKind};
use crate::error::{Error, Result};
use crate::extract::follow::Collected;
use crate::extract::forum::{ForumPage, ForumReader, ThreadLink, ThreadPage};
use crate::extract::page::{CompiledSelectors, extract_list_page};
use crate::fetch::{Body, Fetched, Fetcher, RobotsPolicy, Validators, charset};
use crate::model::{PageReport, RawEntry, ThreadState};

/// Board pages read at most to find `max_threads_per_pass` threads.
const MAX_BOARD_PAGES: usize = 5;
/// Threads read at once (the fetcher also bounds requests per host).
const THREADS_AT_ONCE: usize = 4;

/// Fetch one more page of a crawl (robots.txt asked first when the source obeys it).
async fn fetch_page(fetcher: &Fetcher, url: &url::Url, robots: RobotsPolicy) -> Result<Body> {
    match fetcher
        .fetch_polite(url, &Validators::default(), robots)
        .await?
    {
        Fetched::Body(b) => Ok(b),
        Fetched::NotModified { .. } => Err(Error::Network {
            url: url.to_string(),
            message: "304 without validators".into(),
        }),
    }
}

fn robots_of(source: &SourceConfig) -> RobotsPolicy {
    RobotsPolicy::obey_if(source.obey_robots)
}

/// Decode a page and read it with the forum reader (off the async workers).
async fn read_forum(
    reader: Arc<ForumReader>,
    body: &Body,
    tz: chrono_tz::Tz,
) -> Result<(url::Url, ForumPage)> {
    let bytes = body.bytes.clone();
    let content_type = body.content_type.clone();
    let url = body.final_url.clone();
    tokio::task::spawn_blocking(move || {
        let text = charset::decode(&bytes, content_type.as_deref()).text;
        let page = reader.read(&text, &url, tz, Utc::now())?;
        Ok((url, page))
    })
    .await?
}

/// A forum source, from the body of its address (already fetched by the pipeline): the
/// posts to store, what was read of each thread, and a report of every page read.
/// `fresh`: as if no thread had been read before (`sources check`).
pub async fn crawl_forum(
    app: &App,
    source: &SourceConfig,
    first: &Body,
    fresh: bool,
) -> Result<Collected> {
    let tz = app.config().display.timezone;
    let fetcher = app.fetcher.clone();
    let robots = robots_of(source);
    let (engine, over) = (source.engine, source.forum.clone());
    let bytes = first.bytes.clone();
    let content_type = first.content_type.clone();
    let url = first.final_url.clone();
    let reader = Arc::new(
        tokio::task::spawn_blocking(move || {
            let text = charset::decode(&bytes, content_type.as_deref()).text;
            ForumReader::new(engine, over.as_ref(), &text, &url)
        })
        .await??,
    );
    let mut out = Collected::default();
    let (url, page) = read_forum(reader.clone(), first, tz).await?;
    // The threads to read: the board's, or the one thread the address is.
    let mut prefetched: Option<(url::Url, ThreadPage)> = None;
    let threads: Vec<ThreadLink> = match page {
        ForumPage::Thread(t) => {
            out.pages.push(report_thread(&url, &t));
            let link = ThreadLink {
                url: t.first_url.clone(),
                key: t.key.clone(),
                title: t.title.clone(),
                activity: None,
                active_at: None,
            };
            prefetched = Some((url, t));
            vec![link]
        }
        ForumPage::Board(board) => {
            out.pages.push(PageReport {
                url: url.to_string(),
                kind: "board",
                page: board.nav.current,
                thread: None,
                threads: board.threads.len(),
                posts: 0,
            });
            let mut threads = board.threads;
            let mut next = board.nav.next;
            let mut pages = 1;
            while threads.len() < source.max_threads_per_pass && pages < MAX_BOARD_PAGES {
                let Some(n) = next.take() else { break };
                let body = match fetch_page(&fetcher, &n, robots).await {
                    Ok(b) => b,
                    Err(e) => {
                        out.article_errors.push(e.to_string());
                        break;
                    }
                };
                pages += 1;
                match read_forum(reader.clone(), &body, tz).await {
                    Ok((u, ForumPage::Board(b))) => {
                        out.pages.push(PageReport {
                            url: u.to_string(),
                            kind: "board",
                            page: b.nav.current,
                            thread: None,
                            threads: b.threads.len(),
                            posts: 0,
                        });
                        for t in b.threads {
                            if !threads.iter().any(|x| x.key == t.key) {
                                threads.push(t);
                            }
                        }
                        next = b.nav.next;
                    }
                    Ok(_) => break,
                    Err(e) => {
                        out.article_errors.push(e.to_string());
                        break;
                    }
                }
            }
            newest_first(&mut threads);
            threads.truncate(source.max_threads_per_pass);
            threads
        }
    };
    let keys: Vec<String> = threads.iter().map(|t| t.key.clone()).collect();
    let (store, sid) = (app.store.clone(), source.id().to_string());
    let states = if fresh {
        HashMap::new()
    } else {
        tokio::task::spawn_blocking(move || store.thread_states(&sid, &keys)).await??
    };
    let limit = Arc::new(tokio::sync::Semaphore::new(THREADS_AT_ONCE));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, link) in threads.into_iter().enumerate() {
        let state = states.get(&link.key).cloned();
        let unchanged = matches!((&state, &link.activity), (Some(s), Some(a)) if s.activity.as_ref() == Some(a));
        if unchanged && state.as_ref().is_some_and(|s| s.backfill_below.is_none()) {
            tracing::debug!(thread = %link.key, "thread unchanged on the board");
            continue;
        }
        let pre = prefetched.take_if(|(u, t)| {
            t.key == link.key
                && match &state {
                    Some(s) => !unchanged && s.last_page_url == u.as_str(),
                    None => t.nav.current == 1,
                }
        });
        let job = ThreadJob {
            fetcher: fetcher.clone(),
            reader: reader.clone(),
            robots,
            budget: source.max_pages_per_thread,
            tz,
        };
        let limit = limit.clone();
        tasks.spawn(async move {
            let _slot = limit
                .acquire_owned()
                .await
                .map_err(|e| Error::Task(e.to_string()));
            (i, job.run(link, state, unchanged, pre).await)
        });
    }
    let mut done: Vec<(usize, ThreadRead)> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        done.push(joined?);
    }
    done.sort_by_key(|(i, _)| *i);
    for (_, read) in done {
        out.entries.extend(read.entries);
        out.pages.extend(read.pages);
        out.article_errors.extend(read.errors);
        if let Some(s) = read.state {
            out.threads.push(s);
        }
    }
    Ok(out)
}

/// Newest activity first when the board shows every thread's time; else board order
/// (which forums already sort so, pinned threads first).
fn newest_first(threads: &mut [ThreadLink]) {
    if threads.iter().all(|t| t.active_at.is_some()) {
        threads.sort_by_key(|t| std::cmp::Reverse(t.active_at));
    }
}

fn report_thread(url: &url::Url, t: &ThreadPage) -> PageReport {
    PageReport {
        url: url.to_string(),
        kind: "thread",
        page: t.nav.current,
        thread: Some(t.title.clone()),
        threads: 0,
        posts: t.posts.len(),
    }
}

/// What reading one thread gave.
#[derive(Default)]
struct ThreadRead {
    entries: Vec<RawEntry>,
    pages: Vec<PageReport>,
    errors: Vec<String>,
    state: Option<ThreadState>,
}

struct ThreadJob {
    fetcher: Fetcher,
    reader: Arc<ForumReader>,
    robots: RobotsPolicy,
    budget: usize,
    tz: chrono_tz::Tz,
}

impl ThreadJob {
    async fn page(&self, url: &url::Url) -> Result<(url::Url, ThreadPage)> {
        let body = fetch_page(&self.fetcher, url, self.robots).await?;
        match read_forum(self.reader.clone(), &body, self.tz).await? {
            (u, ForumPage::Thread(t)) => Ok((u, t)),
            (u, ForumPage::Board(_)) => Err(Error::Selector {
                url: u.to_string(),
                message: format!(
                    "{u}: expected a thread page, found a board (trang chủ đề lại là danh sách chủ đề)"
                ),
            }),
        }
    }

    /// Read one thread within the budget; errors stay with the thread. `unchanged`: the
    /// board shows no new post, only early pages are left to read (from page 1's bar).
    async fn run(
        self,
        link: ThreadLink,
        state: Option<ThreadState>,
        unchanged: bool,
        pre: Option<(url::Url, ThreadPage)>,
    ) -> ThreadRead {
        let mut read = ThreadRead::default();
        let ids_per_thread = self.reader.ids_per_thread();
        let mut read_pages: HashMap<u32, String> = HashMap::new();
        let take = |read: &mut ThreadRead,
                    read_pages: &mut HashMap<u32, String>,
                    u: &url::Url,
                    t: &ThreadPage| {
            read.pages.push(report_thread(u, t));
            read.entries.extend(t.entries(ids_per_thread));
            read_pages.insert(t.nav.current, u.to_string());
        };
        // Where to start: the last page read before (new posts are there or after it),
        // else page 1.
        let start = match &state {
            Some(s) if !unchanged => url::Url::parse(&s.last_page_url).unwrap_or(link.url.clone()),
            _ => link.url.clone(),
        };
        let first = match pre {
            Some(p) => Ok(p),
            None => self.page(&start).await,
        };
        let (mut url, mut page) = match first {
            Ok(p) => p,
            Err(e) => {
                read.errors.push(e.to_string());
                return read;
            }
        };
        // A thread that shrank (posts deleted, moved) has no posts on its old last page.
        if state.is_some() && page.posts.is_empty() && page.nav.current > 1 {
            match self.page(&link.url).await {
                Ok(p) => (url, page) = p,
                Err(e) => {
                    read.errors.push(e.to_string());
                    return read;
                }
            }
        }
        take(&mut read, &mut read_pages, &url, &page);
        let mut used = 1;
        let title = page.title.clone();
        let first_url = page.first_url.clone();
        let mut backfill_below = state.as_ref().and_then(|s| s.backfill_below);
        let jump = state.is_none()
            && page.nav.current == 1
            && page.nav.last.is_some_and(|l| l as usize > self.budget);
        let mut last_nav = page.nav.clone();
        if jump {
            // A long thread seen for the first time: its last pages, newest first.
            let last = page.nav.last.unwrap_or(1);
            let mut n = last;
            while used < self.budget && n > 1 {
                let Some(u) = page.nav.url_of(n) else { break };
                match self.page(&u).await {
                    Ok((u, t)) => {
                        if n == last {
                            last_nav = t.nav.clone();
                        }
                        take(&mut read, &mut read_pages, &u, &t);
                    }
                    Err(e) => read.errors.push(e.to_string()),
                }
                used += 1;
                n -= 1;
            }
            backfill_below = Some(n + 1).filter(|b| *b > 2);
        } else if !unchanged {
            // Onwards from here: the pages after the last one read have the new posts.
            let mut next = page.nav.next.clone();
            while used < self.budget {
                let Some(u) = next.take() else { break };
                if read_pages.values().any(|p| p == u.as_str()) {
                    break;
                }
                match self.page(&u).await {
                    Ok((u, t)) => {
                        next = t.nav.next.clone();
                        last_nav = t.nav.clone();
                        take(&mut read, &mut read_pages, &u, &t);
                        url = u;
                    }
                    Err(e) => {
                        read.errors.push(e.to_string());
                        break;
                    }
                }
                used += 1;
            }
        }
        // What budget is left goes to the early pages of a long thread still unread.
        while used < self.budget
            && let Some(below) = backfill_below
            && below > 2
        {
            let n = below - 1;
            let Some(u) = last_nav.url_of(n).or_else(|| page.nav.url_of(n)) else {
                break;
            };
            match self.page(&u).await {
                Ok((u, t)) => take(&mut read, &mut read_pages, &u, &t),
                Err(e) => read.errors.push(e.to_string()),
            }
            used += 1;
            backfill_below = Some(n).filter(|b| *b > 2);
        }
        let (last_page, last_url) = read_pages
            .iter()
            .max_by_key(|(n, _)| **n)
            .map(|(n, u)| (*n, u.clone()))
            .unwrap_or((1, url.to_string()));
        let (last_page, last_url) = match &state {
            Some(s) if s.last_page > last_page => (s.last_page, s.last_page_url.clone()),
            _ => (last_page, last_url),
        };
        read.state = Some(ThreadState {
            key: link.key,
            url: first_url.to_string(),
            title,
            activity: link.activity,
            last_page,
            last_page_url: last_url,
            backfill_below,
            crawled_at: Utc::now(),
        });
        read
    }
}

/// A page source with a `next` selector: the list pages after the first, up to
/// `max_pages` in all, their entries after the first page's.
pub async fn more_list_pages(
    app: &App,
    source: &SourceConfig,
    selectors: &CompiledSelectors,
    mut next: Option<url::Url>,
    out: &mut Collected,
) -> Result<()> {
    if source.kind != SourceKind::Page {
        return Ok(());
    }
    let tz = app.config().display.timezone;
    let robots = robots_of(source);
    let mut seen: Vec<url::Url> = Vec::new();
    for page in 2..=source.max_pages {
        let Some(u) = next.take() else { break };
        if seen.contains(&u) {
            break;
        }
        seen.push(u.clone());
        let body = match fetch_page(&app.fetcher, &u, robots).await {
            Ok(b) => b,
            Err(e) => {
                out.article_errors.push(e.to_string());
                break;
            }
        };
        let sel = selectors.clone();
        let now: DateTime<Utc> = Utc::now();
        let parsed = tokio::task::spawn_blocking(move || {
            let text = charset::decode(&body.bytes, body.content_type.as_deref()).text;
            extract_list_page(&text, &body.final_url, &sel, tz, now).map(|r| (body.final_url, r))
        })
        .await?;
        match parsed {
            Ok((url, (entries, n))) => {
                out.pages.push(PageReport {
                    url: url.to_string(),
                    kind: "list",
                    page: page as u32,
                    thread: None,
                    threads: 0,
                    posts: entries.len(),
                });
                out.entries.extend(entries);
                next = n;
            }
            Err(e) => {
                // A later page that matches nothing ends the list; it is not the source's error.
                out.article_errors.push(e.to_string());
                break;
            }
        }
    }
    Ok(())
}
