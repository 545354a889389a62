//! The benchmark corpus: the 35k real baomoi articles, and a deterministic way to grow
//! them to any size by recombining real sentences (fixed seed), plus a direct ingest path
//! (normalize -> SQLite -> tantivy, no HTTP) used where HTTP is not what is measured.

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

pub fn load(path: &Path) -> std::io::Result<Vec<Article>> {
    let f = std::fs::File::open(path)?;
    let r = std::io::BufReader::new(flate2::read::GzDecoder::new(f));
    let mut out = Vec::new();
    for line in r.lines() {
        let line = line?;
        if let Ok(a) = serde_json::from_str::<Article>(&line) {
            out.push(a);
        }
    }
    Ok(out)
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
