//! Digests: the scheduled emails of what came in, grouped by topic. They sit after the
//! store (items are read from SQLite, the source of truth) and before `mail`.
//!
//! Each `[[digests]]` entry has a cron `schedule`; each scheduled time ends a *period*
//! that covers the items first seen since the previous recorded period ended (so a run
//! missed while the daemon was down is sent once when it comes back, covering all of the
//! gap). A period is recorded in the ledger (`store::digests`) with one delivery per
//! recipient before anything is sent, and each delivery moves `pending -> claimed ->
//! sending -> sent` (or `failed` with the server's reply, or `unknown` when the server got
//! the data but its final reply was lost: never resent on its own). Temporary failures
//! are retried with backoff. The clock is a parameter (`now`) everywhere, so tests drive
//! periods without waiting for real cron times.
//!
//! Rendering: items are filtered by the digest's `query`, tagged with its `topics` by the
//! same query engine as search, collapsed into stories (near-duplicate clusters and
//! identical canonical URLs: "cũng đăng trên …"), and rendered by minijinja
//! templates (`config/templates/digest.{html,txt}.j2`, overridable beside the config) into
//! a multipart email; every field is escaped, and images are links only.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::config::{DigestConfig, TopicConfig};
use crate::error::{Error, Result};
use crate::mail::{Mailer, SendOutcome, retry_delay};
use crate::metrics::{Metrics, OutcomeLabels};
use crate::model::Item;
use crate::store::{Claim, Delivery, DeliveryStatus, DigestPeriod, NewDelivery, Store};
use crate::topics::TopicTagger;

/// The built-in templates (the same files as `config/templates/`).
pub const HTML_TEMPLATE: &str = include_str!("../config/templates/digest.html.j2");
pub const TEXT_TEMPLATE: &str = include_str!("../config/templates/digest.txt.j2");

/// Longest sleep of the daemon's digest loop between two looks at the clock.
const MAX_TICK: Duration = Duration::from_secs(30);
/// Temporary failures are retried for this long after the period ended, then given up.
const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Characters of an item's excerpt.
const EXCERPT_CHARS: usize = 280;

/// What one digest period covers: items first seen in `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

// ---------------------------------------------------------------------------------------
// Schedule

fn cron_of(d: &DigestConfig) -> Result<croner::Cron> {
    d.cron().map_err(|e| Error::ConfigInvalid {
        path: "[[digests]]".into(),
        message: format!("digests.schedule của `{}`: {e}", d.id()),
    })
}

/// The latest scheduled time at or before `now`.
pub fn latest_fire(d: &DigestConfig, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
    let cron = cron_of(d)?;
    Ok(cron
        .find_previous_occurrence(&now.with_timezone(&d.timezone), true)
        .ok()
        .map(|t| t.with_timezone(&Utc)))
}

/// The first scheduled time after `now`.
pub fn next_fire(d: &DigestConfig, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
    let cron = cron_of(d)?;
    Ok(cron
        .find_next_occurrence(&now.with_timezone(&d.timezone), false)
        .ok()
        .map(|t| t.with_timezone(&Utc)))
}

/// The scheduled time strictly before `t`.
fn fire_before(d: &DigestConfig, t: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
    let cron = cron_of(d)?;
    Ok(cron
        .find_previous_occurrence(&t.with_timezone(&d.timezone), false)
        .ok()
        .map(|t| t.with_timezone(&Utc)))
}

/// The period ending at the scheduled time `end`: it starts where the last recorded
/// period before it ended (covering any runs missed while gomtin was down), else where the
/// first period after the digest was first seen would have started.
pub fn period_ending(store: &Store, d: &DigestConfig, end: DateTime<Utc>) -> Result<Period> {
    if let Some(p) = store.digest_period(d.id(), end)? {
        return Ok(Period {
            start: p.start,
            end: p.end,
        });
    }
    let before = end - chrono::Duration::seconds(1);
    let start = match store.latest_digest_period(d.id(), before)? {
        Some(p) => p.end,
        None => {
            // No period recorded yet: start with the first period due after the digest
            // was first seen, so runs missed before this one are covered too.
            let first_due = match store.digest_state(d.id())? {
                Some((first_seen, _)) => next_fire(d, first_seen)?
                    .filter(|t| *t <= end)
                    .unwrap_or(end),
                None => end,
            };
            fire_before(d, first_due)?.unwrap_or(first_due - chrono::Duration::days(1))
        }
    };
    Ok(Period { start, end })
}

// ---------------------------------------------------------------------------------------
// Selection and rendering

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

/// A digest ready to send: subject and both bodies.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub total: usize,
}

/// One line of plain text: tags stripped, entities decoded, control characters (CR, LF,
/// tabs…) and runs of spaces collapsed to one space.
pub fn clean_line(s: &str) -> String {
    let s = if s.contains('<') || s.contains('&') {
        crate::normalize::html_to_text(s)
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

/// Only http(s) links make it into an email.
fn safe_link(u: Option<&str>) -> Option<String> {
    let parsed = url::Url::parse(u?.trim()).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| parsed.to_string())
}

/// The keys that make two items one story: their near-duplicate cluster (`cluster`,
/// computed after each store batch), and their canonical URL (else link), so exact
/// reposts collapse even before clustering has run.
fn story_keys(item: &Item, clusters: &HashMap<i64, i64>) -> Vec<String> {
    let mut keys = Vec::with_capacity(2);
    if let Some(c) = clusters.get(&item.id) {
        keys.push(format!("cluster:{c}"));
    }
    match item.canonical_url.as_deref().or(item.url.as_deref()) {
        Some(u) => keys.push(format!("url:{u}")),
        None if keys.is_empty() => keys.push(format!("item:{}", item.id)),
        None => {}
    }
    keys
}

/// Item ids matching each query (`(key, query)`), with the same engine as search.
fn match_queries(
    app: &App,
    queries: &[(String, String)],
    items: &[Item],
) -> Result<HashMap<i64, Vec<String>>> {
    if queries.is_empty() || items.is_empty() {
        return Ok(HashMap::new());
    }
    let topics: Vec<TopicConfig> = queries
        .iter()
        .map(|(id, q)| TopicConfig {
            id: toml::Spanned::new(0..0, id.clone()),
            name: id.clone(),
            query: q.clone(),
        })
        .collect();
    let tagger = TopicTagger::new(
        &topics,
        (*app.variants).clone(),
        app.config.display.timezone,
    )?;
    tagger.tag(items)
}

/// Select, collapse and group the period's items (blocking: reads SQLite, runs queries).
pub fn build_view(app: &App, d: &DigestConfig, period: Period) -> Result<DigestView> {
    let mut items = app
        .store
        .items_first_seen_between(period.start, period.end)?;
    if let Some(q) = d.query.as_deref().filter(|q| !q.trim().is_empty()) {
        let hits = match_queries(app, &[("q".into(), q.to_string())], &items)?;
        items.retain(|i| hits.contains_key(&i.id));
    }
    let topic_ids: Vec<&str> = d.topics.iter().map(|t| t.get_ref().as_str()).collect();
    let queries: Vec<(String, String)> = topic_ids
        .iter()
        .filter_map(|id| {
            app.config
                .topics
                .iter()
                .find(|t| t.id() == *id)
                .map(|t| (t.id().to_string(), t.query.clone()))
        })
        .collect();
    let tags = match_queries(app, &queries, &items)?;

    // Collapse items into stories (items are newest first; the newest leads the story).
    let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let clusters = app.store.clusters_of(&ids)?;
    let mut stories: Vec<Vec<&Item>> = Vec::new();
    let mut story_of: HashMap<String, usize> = HashMap::new();
    for item in &items {
        let keys = story_keys(item, &clusters);
        let slot = match keys.iter().find_map(|k| story_of.get(k)) {
            Some(&slot) => slot,
            None => {
                stories.push(Vec::new());
                stories.len() - 1
            }
        };
        stories[slot].push(item);
        for k in keys {
            story_of.entry(k).or_insert(slot);
        }
    }

    // Each story goes to the first of the digest's topics that one of its items matches.
    let group_names: Vec<String> = if topic_ids.is_empty() {
        vec!["Tin mới".to_string()]
    } else {
        topic_ids
            .iter()
            .map(|id| {
                app.config
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
        app.config
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
                    url: safe_link(lead.canonical_url.as_deref().or(lead.url.as_deref())),
                    source: source_name(&lead.source_id),
                    time: lead
                        .published_at
                        .with_timezone(&d.timezone)
                        .format("%H:%M %d/%m/%Y")
                        .to_string(),
                    excerpt: crate::normalize::excerpt(&clean_line(body), EXCERPT_CHARS),
                    image_url: safe_link(lead.image_url.as_deref()),
                    also,
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

/// The subject line: name, the period's date, the count.
pub fn subject(d: &DigestConfig, view: &DigestView, period: Period) -> String {
    let date = period.end.with_timezone(&d.timezone).format("%d/%m/%Y");
    let count = if view.total == 0 {
        "không có tin mới".to_string()
    } else {
        format!("{} tin mới", view.total)
    };
    format!("{} {date}: {count}", clean_line(&d.name))
}

/// Render a view with the office's templates (beside the config) or the built-in ones.
pub fn render(app: &App, d: &DigestConfig, period: Period, view: &DigestView) -> Result<Rendered> {
    let dir = app.config.base_dir.join("templates");
    let load = |name: &str, builtin: &str| -> Result<String> {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(s) => Ok(s),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(builtin.to_string()),
            Err(source) => Err(Error::Io { path, source }),
        }
    };
    let template_error = |name: &str, e: minijinja::Error| Error::ConfigInvalid {
        path: dir.join(name),
        message: format!("mẫu bản tin lỗi: {e}"),
    };
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html.j2") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    for (name, builtin) in [
        ("digest.html.j2", HTML_TEMPLATE),
        ("digest.txt.j2", TEXT_TEMPLATE),
    ] {
        env.add_template_owned(name.to_string(), load(name, builtin)?)
            .map_err(|e| template_error(name, e))?;
    }
    let ctx = minijinja::Value::from_serialize(view);
    let html = env
        .get_template("digest.html.j2")
        .and_then(|t| t.render(&ctx))
        .map_err(|e| template_error("digest.html.j2", e))?;
    let mut text = env
        .get_template("digest.txt.j2")
        .and_then(|t| t.render(&ctx))
        .map_err(|e| template_error("digest.txt.j2", e))?;
    // minijinja drops the template's final newline; a text body ends with one.
    text.push('\n');
    Ok(Rendered {
        subject: subject(d, view, period),
        text,
        html,
        total: view.total,
    })
}

/// Build and render a period's digest (blocking).
pub fn prepare(app: &App, d: &DigestConfig, period: Period) -> Result<Rendered> {
    let view = build_view(app, d, period)?;
    render(app, d, period, &view)
}

// ---------------------------------------------------------------------------------------
// Messages

/// The Message-ID of one delivery: the same for every attempt of (digest, period,
/// recipient); a forced resend adds `resend` so mail clients show it.
pub fn message_id(
    d: &DigestConfig,
    from: &lettre::message::Mailbox,
    end: DateTime<Utc>,
    recipient: &str,
    resend: Option<i64>,
) -> String {
    let mut h = Sha256::new();
    h.update(recipient.trim().to_lowercase().as_bytes());
    let hash: String = h
        .finalize()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect();
    let suffix = resend.map(|n| format!(".r{n}")).unwrap_or_default();
    format!(
        "<gomtin.{}.{}.{hash}{suffix}@{}>",
        d.id(),
        end.format("%Y%m%dT%H%MZ"),
        from.email.domain()
    )
}

/// The full message for one recipient.
fn build_message(
    from: &lettre::message::Mailbox,
    to: &lettre::message::Mailbox,
    message_id: &str,
    r: &Rendered,
    now: DateTime<Utc>,
) -> std::result::Result<lettre::Message, String> {
    lettre::Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject(r.subject.clone())
        .message_id(Some(message_id.to_string()))
        .date(now.into())
        .multipart(lettre::message::MultiPart::alternative_plain_html(
            r.text.clone(),
            r.html.clone(),
        ))
        .map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------------------
// The runner

/// How one delivery attempt ended, for logs, tests and the command line.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Attempt {
    pub digest_id: String,
    pub period_end: DateTime<Utc>,
    pub recipient: String,
    pub status: DeliveryStatus,
    pub reply: String,
    /// When the next attempt is due (status `pending`).
    pub retry_at: Option<DateTime<Utc>>,
}

/// What `send` did.
#[derive(Debug, Clone, Serialize)]
pub struct SendReport {
    pub period: Period,
    /// The period had been handled already; nothing was sent.
    pub already_done: bool,
    pub deliveries: Vec<Delivery>,
    pub attempts: Vec<Attempt>,
}

/// Opens due periods and delivers them; the clock is always a parameter.
#[derive(Clone)]
pub struct DigestRunner {
    app: App,
    mailer: Mailer,
    from: lettre::message::Mailbox,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
}

impl DigestRunner {
    /// A runner for the app's `[smtp]`; `None` when there is no `[smtp]`.
    pub fn new(
        app: App,
        metrics: Arc<Metrics>,
        shutdown: CancellationToken,
    ) -> Result<Option<Self>> {
        let Some(smtp) = app.config.smtp.clone() else {
            return Ok(None);
        };
        let from = smtp
            .from
            .get_ref()
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| Error::ConfigInvalid {
                path: app.config.path.clone(),
                message: format!("smtp.from: {e}"),
            })?;
        Ok(Some(DigestRunner {
            mailer: Mailer::new(&smtp),
            app,
            from,
            metrics,
            shutdown,
        }))
    }

    /// An attempt claimed before this is abandoned (its process died).
    fn stale_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let timeout = self
            .app
            .config
            .smtp
            .as_ref()
            .map(|s| s.timeout)
            .unwrap_or(Duration::from_secs(60));
        now - chrono::Duration::from_std(timeout * 2 + Duration::from_secs(60))
            .unwrap_or(chrono::Duration::minutes(5))
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&App) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let app = self.app.clone();
        tokio::task::spawn_blocking(move || f(&app)).await?
    }

    /// One look at every digest at `now`: record the period that ended (if new and the
    /// digest existed then), deliver what is due. Returns the attempts made.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<Vec<Attempt>> {
        let stale = self.stale_before(now);
        let expired = self
            .blocking(move |app| app.store.expire_stale_sending(stale, now))
            .await?;
        if expired > 0 {
            tracing::warn!(
                deliveries = expired,
                "digest deliveries interrupted mid-transmission marked unknown (not resent)"
            );
            self.count("unknown", expired as u64);
        }
        let mut attempts = Vec::new();
        for d in self.app.config.digests.clone() {
            if self.shutdown.is_cancelled() {
                break;
            }
            match self.check(&d, now).await {
                Ok(mut a) => attempts.append(&mut a),
                Err(e) => tracing::error!(digest = d.id(), error = %e, "digest check failed"),
            }
        }
        Ok(attempts)
    }

    async fn check(&self, d: &DigestConfig, now: DateTime<Utc>) -> Result<Vec<Attempt>> {
        let id = d.id().to_string();
        let first_seen = self
            .blocking(move |app| app.store.digest_seen(&id, now))
            .await?;
        if let Some(end) = latest_fire(d, now)?
            && end > first_seen
        {
            self.open_period(d, end, "schedule", now).await?;
        }
        let attempts = self.deliver_due(d, now, None).await?;
        let id = d.id().to_string();
        self.blocking(move |app| app.store.digest_checked(&id, now))
            .await?;
        Ok(attempts)
    }

    /// Record the period ending at `end` with one delivery per recipient, unless it is
    /// recorded already. Returns true when it was created.
    pub async fn open_period(
        &self,
        d: &DigestConfig,
        end: DateTime<Utc>,
        trigger: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let (d2, from, trigger) = (d.clone(), self.from.clone(), trigger.to_string());
        let created = self
            .blocking(move |app| {
                if app.store.digest_period(d2.id(), end)?.is_some() {
                    return Ok(None);
                }
                let period = period_ending(&app.store, &d2, end)?;
                let view = build_view(app, &d2, period)?;
                let status = if view.total == 0 && d2.skip_empty {
                    DeliveryStatus::Skipped
                } else {
                    DeliveryStatus::Pending
                };
                let deliveries: Vec<NewDelivery> = d2
                    .to
                    .iter()
                    .map(|to| {
                        let recipient = to.get_ref().trim().to_string();
                        NewDelivery {
                            message_id: message_id(&d2, &from, end, &recipient, None),
                            recipient,
                            status,
                        }
                    })
                    .collect();
                let row = DigestPeriod {
                    digest_id: d2.id().to_string(),
                    start: period.start,
                    end: period.end,
                    item_count: view.total as i64,
                    trigger,
                    created_at: now,
                };
                let created = app.store.create_digest_period(&row, &deliveries)?;
                Ok(created.then_some((period, view.total, status)))
            })
            .await?;
        match created {
            Some((period, items, status)) => {
                tracing::info!(
                    digest = d.id(),
                    start = %period.start,
                    end = %period.end,
                    items,
                    skipped = status == DeliveryStatus::Skipped,
                    "digest period recorded"
                );
                if status == DeliveryStatus::Skipped {
                    self.count("skipped", d.to.len() as u64);
                }
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Deliver what is due for `d`: everything pending and due, or — for a manual send of
    /// `only` — every pending delivery of that period, due or not.
    async fn deliver_due(
        &self,
        d: &DigestConfig,
        now: DateTime<Utc>,
        only: Option<DateTime<Utc>>,
    ) -> Result<Vec<Attempt>> {
        let stale = self.stale_before(now);
        let id = d.id().to_string();
        let due = self
            .blocking(move |app| match only {
                Some(end) => Ok(app
                    .store
                    .digest_deliveries(&id, end)?
                    .into_iter()
                    .filter(|x| {
                        x.status == DeliveryStatus::Pending
                            || (x.status == DeliveryStatus::Claimed
                                && x.claimed_at.is_some_and(|c| c < stale))
                    })
                    .collect::<Vec<_>>()),
                None => app.store.due_deliveries(&id, now, stale),
            })
            .await?;
        let mut rendered: HashMap<DateTime<Utc>, Arc<Rendered>> = HashMap::new();
        let mut attempts = Vec::new();
        for delivery in due {
            if self.shutdown.is_cancelled() {
                break;
            }
            let ignore_schedule = only.is_some();
            let claim = {
                let del = delivery.clone();
                self.blocking(move |app| {
                    app.store.claim_delivery(&del, now, stale, ignore_schedule)
                })
                .await?
            };
            let Claim::Mine(mine) = claim else {
                continue;
            };
            let r = match rendered.get(&mine.period_end) {
                Some(r) => r.clone(),
                None => {
                    let (d2, end) = (d.clone(), mine.period_end);
                    let r = Arc::new(
                        self.blocking(move |app| {
                            let period = period_ending(&app.store, &d2, end)?;
                            prepare(app, &d2, period)
                        })
                        .await?,
                    );
                    rendered.insert(mine.period_end, r.clone());
                    r
                }
            };
            attempts.push(self.deliver_one(d, mine, &r, now).await?);
        }
        Ok(attempts)
    }

    async fn deliver_one(
        &self,
        d: &DigestConfig,
        del: Delivery,
        r: &Rendered,
        now: DateTime<Utc>,
    ) -> Result<Attempt> {
        let built = del
            .recipient
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| e.to_string())
            .and_then(|to| {
                build_message(&self.from, &to, &del.message_id, r, now).map(|m| (to, m))
            });
        let outcome = match built {
            Ok((to, message)) => {
                let bytes = message.formatted();
                let store = self.app.store.clone();
                let marked = del.clone();
                self.mailer
                    .deliver(&self.from.email, &to.email, &bytes, async move || {
                        tokio::task::spawn_blocking(move || {
                            store.mark_delivery_sending(&marked, now)
                        })
                        .await
                        .ok()
                        .and_then(|r| r.ok())
                        .unwrap_or(false)
                    })
                    .await
            }
            Err(e) => SendOutcome::Permanent(format!("cannot build the message: {e}")),
        };
        let age = (now - del.period_end).to_std().unwrap_or_default();
        let (status, reply, retry_at) = match outcome {
            SendOutcome::Sent(reply) => (DeliveryStatus::Sent, reply, None),
            SendOutcome::Permanent(reply) => (DeliveryStatus::Failed, reply, None),
            SendOutcome::Unknown(reply) => (DeliveryStatus::Unknown, reply, None),
            SendOutcome::Temporary(reply) if age >= GIVE_UP_AFTER => (
                DeliveryStatus::Failed,
                format!(
                    "gave up after {} attempts over {}h: {reply}",
                    del.attempts,
                    GIVE_UP_AFTER.as_secs() / 3600
                ),
                None,
            ),
            SendOutcome::Temporary(reply) => {
                let at = now
                    + chrono::Duration::from_std(retry_delay(del.attempts))
                        .unwrap_or(chrono::Duration::minutes(30));
                (DeliveryStatus::Pending, reply, Some(at))
            }
        };
        let next = retry_at.unwrap_or(now);
        {
            let (del, reply) = (del.clone(), reply.clone());
            self.blocking(move |app| app.store.finish_delivery(&del, status, &reply, next, now))
                .await?;
        }
        let label = match status {
            DeliveryStatus::Pending => "retry",
            other => other.as_str(),
        };
        self.count(label, 1);
        match status {
            DeliveryStatus::Sent => tracing::info!(
                digest = d.id(), recipient = %del.recipient, period_end = %del.period_end,
                items = r.total, %reply, "digest sent"
            ),
            DeliveryStatus::Pending => tracing::warn!(
                digest = d.id(), recipient = %del.recipient, attempt = del.attempts,
                %reply, retry_at = %next, "digest delivery failed; will retry"
            ),
            _ => tracing::error!(
                digest = d.id(), recipient = %del.recipient, status = status.as_str(),
                %reply, "digest delivery not completed; not retried automatically"
            ),
        }
        Ok(Attempt {
            digest_id: d.id().to_string(),
            period_end: del.period_end,
            recipient: del.recipient,
            status,
            reply,
            retry_at,
        })
    }

    fn count(&self, outcome: &str, n: u64) {
        self.metrics
            .digests
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_string(),
            })
            .inc_by(n);
    }

    /// `gomtin digest send`: the period that ended last (recorded like a scheduled run),
    /// sent now. Without `force`, a period already handled is not sent again.
    pub async fn send_now(
        &self,
        d: &DigestConfig,
        now: DateTime<Utc>,
        force: bool,
    ) -> Result<SendReport> {
        let id = d.id().to_string();
        self.blocking(move |app| app.store.digest_seen(&id, now))
            .await?;
        let end = latest_fire(d, now)?.ok_or_else(|| {
            Error::Query(format!("lịch của bản tin `{}` chưa từng đến hạn", d.id()))
        })?;
        self.open_period(d, end, "manual", now).await?;
        let id = d.id().to_string();
        let deliveries = self
            .blocking(move |app| app.store.digest_deliveries(&id, end))
            .await?;
        let nothing_pending = deliveries.iter().all(|x| x.status.is_final());
        if nothing_pending && !force {
            let store = self.app.store.clone();
            let d2 = d.clone();
            let period =
                tokio::task::spawn_blocking(move || period_ending(&store, &d2, end)).await??;
            return Ok(SendReport {
                period,
                already_done: true,
                deliveries,
                attempts: Vec::new(),
            });
        }
        if force {
            for x in deliveries.iter().filter(|x| x.status.is_final()) {
                let mid = message_id(d, &self.from, end, &x.recipient, Some(now.timestamp()));
                let (x, mid2) = (x.clone(), mid.clone());
                self.blocking(move |app| app.store.requeue_delivery(&x, &mid2, now))
                    .await?;
            }
        }
        let attempts = self.deliver_due(d, now, Some(end)).await?;
        let (store, d2) = (self.app.store.clone(), d.clone());
        let (period, deliveries) = tokio::task::spawn_blocking(move || {
            Ok::<_, Error>((
                period_ending(&store, &d2, end)?,
                store.digest_deliveries(d2.id(), end)?,
            ))
        })
        .await??;
        Ok(SendReport {
            period,
            already_done: false,
            deliveries,
            attempts,
        })
    }

    /// When the daemon should look again: the next scheduled time or retry, at most
    /// `MAX_TICK` away.
    fn next_wake(&self, now: DateTime<Utc>) -> Duration {
        let mut wait = MAX_TICK;
        for d in &self.app.config.digests {
            if let Ok(Some(t)) = next_fire(d, now) {
                let until = (t - now).to_std().unwrap_or_default();
                wait = wait.min(until + Duration::from_millis(200));
            }
        }
        wait
    }
}

/// The daemon's digest loop: look every few seconds (and right at each scheduled time)
/// until `shutdown`. A delivery in flight finishes before the loop stops.
pub async fn run(app: App, metrics: Arc<Metrics>, shutdown: CancellationToken) -> Result<()> {
    if app.config.digests.is_empty() {
        return Ok(());
    }
    let Some(runner) = DigestRunner::new(app, metrics, shutdown.clone())? else {
        return Ok(());
    };
    tracing::info!(
        digests = runner.app.config.digests.len(),
        smtp = %runner.mailer.server(),
        "digest runner started"
    );
    loop {
        let now = Utc::now();
        if let Err(e) = runner.tick(now).await {
            tracing::error!(error = %e, "digest tick failed");
        }
        let wait = runner.next_wake(Utc::now());
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(wait) => {}
        }
    }
    tracing::info!("digest runner stopped");
    Ok(())
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

    #[test]
    fn only_web_links_survive() {
        assert_eq!(
            safe_link(Some("javascript:alert(1)")),
            None,
            "no script links"
        );
        assert_eq!(
            safe_link(Some(" https://baodaklak.vn/a?b=1 ")).as_deref(),
            Some("https://baodaklak.vn/a?b=1")
        );
    }
}
