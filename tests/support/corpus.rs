//! The baomoi corpus (35k real Vietnamese articles of 2017) for the tests and gomtin-bench:
//! one `Article` struct and its loader, a deterministic way to grow it to any size by
//! recombining real sentences (fixed seed), the RSS document a feed of articles makes, and
//! a direct ingest path (normalize -> SQLite -> tantivy, no HTTP) used where HTTP is not
//! what is tested or measured.
//!
//! The tests reach it as `support::corpus`; the benchmark includes this file with
//! `#[path]`, so it names nothing of `support` (only the `gomtin` library and normal
//! dependencies).

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use chrono::{Duration, TimeZone, Utc};
use gomtin::app::App;
use gomtin::config::Config;
use gomtin::model::RawEntry;
use gomtin::normalize::normalize_entry;

/// One article (real or recombined).
#[derive(Clone, Debug, serde::Deserialize)]
pub struct Article {
    pub id: String,
    pub url: String,
    pub title: String,
    pub summary: String,
    pub body: String,
}

impl Article {
    /// Deterministic publication time spread over 2017.
    pub fn published(&self) -> chrono::DateTime<Utc> {
        let n: i64 = self.id.parse().unwrap_or(0);
        Utc.with_ymd_and_hms(2017, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default()
            + Duration::minutes(n % (365 * 24 * 60))
    }

    /// The source id the harness assigns (`bm-0`..`bm-3`).
    pub fn source(&self, sources: u64) -> String {
        format!("bm-{}", self.id.parse::<u64>().unwrap_or(0) % sources)
    }
}

/// `../shared/data/corpus/baomoi-35k.jsonl.gz` relative to the crate.
pub fn default_corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/corpus/baomoi-35k.jsonl.gz")
}

/// The articles of a `.jsonl.gz` corpus, in file order: the first `limit` (all when `None`).
/// A line that is not an article is an error naming the line.
pub fn load(path: &Path, limit: Option<usize>) -> std::io::Result<Vec<Article>> {
    let mut out = Vec::new();
    for_each(path, |a| {
        if limit.is_some_and(|n| out.len() >= n) {
            return false;
        }
        out.push(a);
        limit.is_none_or(|n| out.len() < n)
    })?;
    Ok(out)
}

/// The articles with these ids (found by scanning `path`); an error when one is missing.
pub fn by_ids(path: &Path, ids: &[&str]) -> std::io::Result<HashMap<String, Article>> {
    let mut out = HashMap::new();
    for_each(path, |a| {
        if ids.contains(&a.id.as_str()) {
            out.insert(a.id.clone(), a);
        }
        out.len() < ids.len()
    })?;
    match ids.iter().find(|id| !out.contains_key(**id)) {
        Some(id) => Err(std::io::Error::other(format!(
            "article {id} is not in {}",
            path.display()
        ))),
        None => Ok(out),
    }
}

/// Calls `f` on each article in file order until it returns false.
fn for_each(path: &Path, mut f: impl FnMut(Article) -> bool) -> std::io::Result<()> {
    let file = std::fs::File::open(path)?;
    let r = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    for (n, line) in r.lines().enumerate() {
        let a = serde_json::from_str::<Article>(&line?).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} line {}: {e}", path.display(), n + 1),
            )
        })?;
        if !f(a) {
            break;
        }
    }
    Ok(())
}

/// An RSS 2.0 document for `articles`: title, link, guid, the deterministic date, the
/// summary as description and the body as `content:encoded`.
pub fn rss(articles: &[Article]) -> Vec<u8> {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>bench</title>",
    );
    for a in articles {
        xml.push_str("<item><title>");
        xml.push_str(&html_escape::encode_text(&a.title));
        xml.push_str("</title><link>");
        xml.push_str(&html_escape::encode_text(&a.url));
        xml.push_str("</link><guid>");
        xml.push_str(&a.id);
        xml.push_str("</guid><pubDate>");
        xml.push_str(&a.published().to_rfc2822());
        xml.push_str("</pubDate><description>");
        xml.push_str(&html_escape::encode_text(&a.summary));
        xml.push_str("</description><content:encoded xmlns:content=\"http://purl.org/rss/1.0/modules/content/\">");
        xml.push_str(&html_escape::encode_text(&a.body));
        xml.push_str("</content:encoded></item>");
    }
    xml.push_str("</channel></rss>");
    xml.into_bytes()
}

/// Grow `base` to `n` articles: the real ones first, then new ones whose title is a real
/// title and whose body is 6–20 real sentences drawn with a fixed seed.
pub fn grow(base: &[Article], n: usize, seed: u64) -> Vec<Article> {
    let mut out: Vec<Article> = base.iter().take(n).cloned().collect();
    if out.len() >= n {
        return out;
    }
    let sentences: Vec<&str> = base
        .iter()
        .flat_map(|a| a.body.split(". "))
        .filter(|s| s.len() > 30)
        .collect();
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut next_id: u64 = 90_000_000;
    while out.len() < n {
        let t = &base[rng.usize(..base.len())];
        let k = rng.usize(6..=20);
        let mut body = String::new();
        for _ in 0..k {
            body.push_str(sentences[rng.usize(..sentences.len())]);
            body.push_str(". ");
        }
        let summary: String = body.chars().take(200).collect();
        next_id += 1;
        out.push(Article {
            id: next_id.to_string(),
            url: format!("http://www.baomoi.com/a/c/{next_id}.epi"),
            title: t.title.clone(),
            summary,
            body,
        });
    }
    out
}

/// A config with `sources` sources `bm-0..` in `dir`, data under `dir/data`.
pub fn write_config(dir: &Path, sources: u64, extra: &str) -> std::io::Result<PathBuf> {
    let mut toml = String::from("[storage]\ndata_dir = \"data\"\n");
    toml.push_str(extra);
    for s in 0..sources {
        toml.push_str(&format!(
            "\n[[sources]]\nid = \"bm-{s}\"\nname = \"Báo mới {s}\"\nkind = \"feed\"\nurl = \"https://baomoi.example/{s}.rss\"\n"
        ));
    }
    std::fs::create_dir_all(dir)?;
    let p = dir.join("gomtin.toml");
    std::fs::write(&p, toml)?;
    Ok(p)
}

/// Store and index `articles` straight through normalize -> SQLite -> tantivy.
pub fn ingest_direct(app: &App, articles: &[Article], sources: u64) -> gomtin::error::Result<()> {
    let now = Utc::now();
    let mut batch = Vec::with_capacity(2_000);
    for a in articles {
        let raw = RawEntry {
            guid: Some(a.id.clone()),
            title: Some(a.title.clone()),
            link: Some(a.url.clone()),
            summary_html: Some(a.summary.clone()),
            content_html: Some(a.body.clone()),
            published: Some(a.published()),
            ..Default::default()
        };
        if let Some(item) = normalize_entry(&a.source(sources), raw, None, now) {
            batch.push(item);
        }
        if batch.len() >= 2_000 {
            app.store.upsert_items(&batch, now)?;
            batch.clear();
        }
    }
    app.store.upsert_items(&batch, now)?;
    app.index.reconcile(&app.store)?;
    Ok(())
}

/// Config for an app whose searches are timed: no recent pages kept (`search_cache = 0`),
/// so that a query asked again is searched again rather than answered from the last time.
pub const ENGINE_ONLY: &str = "[server.limits]\nsearch_cache = 0\n";

/// Open an app on a fresh config in `dir`.
pub fn open_app(dir: &Path, sources: u64, extra: &str) -> gomtin::error::Result<App> {
    let p = write_config(dir, sources, extra).map_err(|source| gomtin::error::Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    App::open(Config::load(&p)?)
}

/// The corpus article id in a baomoi URL (`…/ID.epi`).
pub fn id_from_url(url: &str) -> Option<String> {
    url.rsplit('/')
        .next()?
        .strip_suffix(".epi")
        .map(str::to_string)
}
