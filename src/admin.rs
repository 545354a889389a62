//! The admin's commands around sources, kept apart from `cli` so the core commands stay
//! short: `sources add URL` (feed discovery, then a `[[sources]]` block appended to the
//! config), `sources check ID` (one fetch through the real pipeline stages, nothing
//! stored — the tool for writing selectors), `sources import/export` (OPML 2.0) and
//! `post add` (a post pasted by staff, stored as an item of a `manual` source).
//! Output is Vietnamese for people, JSON with `--json`.

use std::collections::HashSet;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use chrono::Utc;

use crate::app::App;
use crate::cli::Exit;
use crate::config::{Config, SourceKind};
use crate::error::{Error, Result};
use crate::fetch::{Fetched, Validators};
use crate::model::{NewItem, RawEntry};
use crate::normalize::{excerpt, normalize_entry};
use crate::opml::{SourceBlock, append_to_config, make_id};

fn taken_ids(config: &Config) -> HashSet<String> {
    config.sources.iter().map(|s| s.id().to_string()).collect()
}

/// `gomtin sources add URL [--pick N] [--id ID] [--name NAME]`.
pub async fn sources_add(
    config: Config,
    url: &str,
    pick: Option<usize>,
    id: Option<String>,
    name: Option<String>,
) -> Result<Exit> {
    let url = url::Url::parse(url.trim()).map_err(|e| Error::BadUrl {
        url: url.to_string(),
        message: e.to_string(),
    })?;
    let fetcher = crate::fetch::Fetcher::new(&config.fetch)?;
    let found = crate::discover::discover(&fetcher, &url).await?;
    if found.feeds.is_empty() {
        println!(
            "Không thấy nguồn RSS/Atom nào trên {url}.\nCó thể theo dõi trang này bằng bộ chọn CSS: thêm vào cấu hình\n\n{}",
            SourceBlock {
                id: make_id(url.host_str().unwrap_or("trang"), &taken_ids(&config)),
                name: found.page_title.clone().unwrap_or_else(|| url.to_string()),
                kind: SourceKind::Page,
                url: Some(url.to_string()),
                interval: None,
                selectors: Some(crate::extract::page::PageSelectors {
                    item: Some(".news-item".into()),
                    link: "a".into(),
                    title: None,
                    date: None,
                    date_format: None,
                    summary: None,
                    image: None,
                }),
                article: None,
                full_content: false,
            }
            .render()
        );
        println!("rồi chạy `gomtin sources check ID` để thử bộ chọn.");
        return Ok(Exit::Partial);
    }
    println!("Tìm thấy {} nguồn tin trên {url}:", found.feeds.len());
    for (i, f) in found.feeds.iter().enumerate() {
        println!(
            "  {}. {} — {}",
            i + 1,
            f.title.as_deref().unwrap_or("(không tên)"),
            f.url
        );
    }
    let n = match pick {
        Some(n) => n,
        None if std::io::stdin().is_terminal() => {
            print!("Chọn số (1-{}), Enter để bỏ qua: ", found.feeds.len());
            std::io::stdout().flush().ok();
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).ok();
            match line.trim().parse::<usize>() {
                Ok(n) => n,
                Err(_) => {
                    println!("Không thêm gì.");
                    return Ok(Exit::Ok);
                }
            }
        }
        None => {
            println!("Chạy lại với --pick N để thêm nguồn thứ N vào cấu hình.");
            return Ok(Exit::Ok);
        }
    };
    let Some(feed) = n.checked_sub(1).and_then(|i| found.feeds.get(i)) else {
        return Err(Error::ConfigInvalid {
            path: config.path.clone(),
            message: format!(
                "--pick {n}: chỉ có {} nguồn để chọn (1-{})",
                found.feeds.len(),
                found.feeds.len()
            ),
        });
    };
    let name = name
        .or_else(|| feed.title.clone())
        .or(found.page_title.clone())
        .unwrap_or_else(|| feed.url.clone());
    let taken = taken_ids(&config);
    let id = match id {
        Some(id) if taken.contains(&id) => {
            return Err(Error::ConfigInvalid {
                path: config.path.clone(),
                message: format!("sources.id `{id}` đã có trong cấu hình"),
            });
        }
        Some(id) => id,
        None => make_id(&name, &taken),
    };
    let block = SourceBlock {
        id: id.clone(),
        name,
        kind: SourceKind::Feed,
        url: Some(feed.url.clone()),
        interval: None,
        selectors: None,
        article: None,
        full_content: false,
    };
    append_to_config(&config.path, std::slice::from_ref(&block))?;
    println!(
        "Đã thêm vào {}:\n\n{}",
        config.path.display(),
        block.render()
    );
    Ok(Exit::Ok)
}

/// `gomtin sources import FILE.opml`.
pub fn sources_import(config: Config, file: &Path) -> Result<Exit> {
    let bytes = std::fs::read(file).map_err(|source| Error::Io {
        path: file.to_path_buf(),
        source,
    })?;
    let mut taken = taken_ids(&config);
    let existing: HashSet<String> = config
        .sources
        .iter()
        .map(|s| s.location(&config.base_dir))
        .collect();
    let manual_names: HashSet<&str> = config
        .sources
        .iter()
        .filter(|s| s.kind == SourceKind::Manual)
        .map(|s| s.name.as_str())
        .collect();
    // Already present: same address, or (manual sources, which have none) same name.
    let blocks: Vec<SourceBlock> = crate::opml::import(&bytes, &mut taken)?
        .into_iter()
        .filter(|b| match &b.url {
            Some(u) => !existing.contains(u),
            None => !manual_names.contains(b.name.as_str()),
        })
        .collect();
    if blocks.is_empty() {
        println!("Không có nguồn mới trong {}.", file.display());
        return Ok(Exit::Ok);
    }
    append_to_config(&config.path, &blocks)?;
    println!(
        "Đã thêm {} nguồn vào {}: {}",
        blocks.len(),
        config.path.display(),
        blocks
            .iter()
            .map(|b| b.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(Exit::Ok)
}

/// `gomtin sources export`: OPML 2.0 on stdout.
pub fn sources_export(config: &Config) -> Result<Exit> {
    print!("{}", crate::opml::export(config));
    Ok(Exit::Ok)
}

/// What `sources check` found, for `--json`.
#[derive(Debug, serde::Serialize)]
struct CheckReport {
    source_id: String,
    url: String,
    items: Vec<CheckedItem>,
    skipped: usize,
    article_errors: Vec<String>,
    error: Option<String>,
}

#[derive(Debug, serde::Serialize)]
struct CheckedItem {
    key: String,
    title: String,
    url: Option<String>,
    published: Option<String>,
    author: Option<String>,
    image_url: Option<String>,
    summary: String,
    text_chars: usize,
    text_start: String,
}

impl From<&NewItem> for CheckedItem {
    fn from(i: &NewItem) -> Self {
        CheckedItem {
            key: i.key.clone(),
            title: i.title.clone(),
            url: i.url.clone(),
            published: i.published_at.map(|d| d.to_rfc3339()),
            author: i.author.clone(),
            image_url: i.image_url.clone(),
            summary: excerpt(&i.summary, 160),
            text_chars: i.content_text.chars().count(),
            text_start: excerpt(&i.content_text, 160),
        }
    }
}

/// `gomtin sources check ID [--json]`: fetch once, store nothing, print what would be stored.
pub async fn sources_check(config: Config, id: &str, json: bool) -> Result<Exit> {
    let source = config
        .source(id)
        .cloned()
        .ok_or_else(|| Error::UnknownSource(id.to_string()))?;
    let app = App::open(config)?;
    let url = crate::pipeline::source_url(&app, &source)?;
    let mut report = CheckReport {
        source_id: id.to_string(),
        url: url.to_string(),
        items: Vec::new(),
        skipped: 0,
        article_errors: Vec::new(),
        error: None,
    };
    let result: Result<()> = async {
        if source.kind == SourceKind::Manual {
            return Ok(());
        }
        let Fetched::Body(body) = app.fetcher.fetch(&url, &Validators::default()).await? else {
            return Ok(());
        };
        let collected = crate::pipeline::collect(&app, &source, &body).await?;
        report.skipped = collected.deferred;
        report.article_errors = collected.article_errors;
        let now = Utc::now();
        for e in collected.entries {
            match normalize_entry(id, e, Some(&body.final_url), now) {
                Some(item) => report.items.push(CheckedItem::from(&item)),
                None => report.skipped += 1,
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = &result {
        report.error = Some(format!("[{}] {e}", e.kind()));
    }
    if json {
        let v = serde_json::to_string(&report).map_err(|e| Error::Task(e.to_string()))?;
        println!("{v}");
    } else {
        println!("Kiểm tra nguồn `{id}` ({}) — không lưu gì:", report.url);
        for (n, i) in report.items.iter().enumerate() {
            println!("\n{}. {}", n + 1, i.title);
            println!("   liên kết: {}", i.url.as_deref().unwrap_or("(không có)"));
            println!(
                "   ngày: {} · tác giả: {} · ảnh: {}",
                i.published.as_deref().unwrap_or("(không có)"),
                i.author.as_deref().unwrap_or("(không có)"),
                i.image_url.as_deref().unwrap_or("(không có)")
            );
            if !i.summary.is_empty() {
                println!("   tóm tắt: {}", i.summary);
            }
            println!("   nội dung: {} ký tự — {}", i.text_chars, i.text_start);
        }
        for e in &report.article_errors {
            println!("! trang bài viết lỗi: {e}");
        }
        if report.skipped > 0 {
            println!("\n({} mục để lần sau hoặc bỏ qua)", report.skipped);
        }
        match &report.error {
            Some(e) => println!("\n✗ lỗi: {e}"),
            None => println!("\n✓ {} tin sẽ được lưu.", report.items.len()),
        }
    }
    app.index.close()?;
    Ok(if report.error.is_some() {
        Exit::Partial
    } else {
        Exit::Ok
    })
}

/// A post pasted by staff.
#[derive(Debug, Clone)]
pub struct ManualPost {
    pub source: String,
    pub url: Option<String>,
    pub title: Option<String>,
    pub text: String,
    pub published: Option<String>,
}

/// `gomtin post add --source ID [--url URL] [--title T] --text TEXT [--published DATE]`.
pub async fn post_add(config: Config, post: ManualPost) -> Result<Exit> {
    let source = config
        .source(&post.source)
        .cloned()
        .ok_or_else(|| Error::UnknownSource(post.source.clone()))?;
    let usage = |message: String| Error::ConfigInvalid {
        path: config.path.clone(),
        message,
    };
    if source.kind != SourceKind::Manual {
        return Err(usage(format!(
            "nguồn `{}` là kind = \"{}\"; bài dán tay chỉ thêm vào nguồn kind = \"manual\"",
            post.source,
            source.kind.as_str()
        )));
    }
    if post.text.trim().is_empty() && post.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Err(usage("bài dán tay cần --text hoặc --title".into()));
    }
    if let Some(u) = &post.url
        && !matches!(
            url::Url::parse(u)
                .map(|u| u.scheme().to_string())
                .as_deref(),
            Ok("http" | "https")
        )
    {
        return Err(usage(format!("--url `{u}` phải là địa chỉ http(s)")));
    }
    let tz = config.display.timezone;
    let published = match &post.published {
        Some(p) => Some(
            crate::extract::page::parse_date(p, None, tz)
                .ok_or_else(|| usage(format!("--published `{p}`: không đọc được ngày giờ")))?,
        ),
        None => Some(Utc::now()),
    };
    let html: String = post
        .text
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            format!(
                "<p>{}</p>",
                html_escape::encode_text(p).replace('\n', "<br>")
            )
        })
        .collect();
    let raw = RawEntry {
        guid: None,
        title: post
            .title
            .clone()
            .map(|t| html_escape::encode_text(&t).into_owned()),
        link: post.url.clone(),
        author: None,
        published,
        updated: None,
        summary_html: None,
        content_html: Some(html),
        image: None,
    };
    let item = normalize_entry(&post.source, raw, None, Utc::now())
        .ok_or_else(|| usage("bài dán tay trống".into()))?;
    let app = App::open(config)?;
    let store = app.store.clone();
    let key = item.key.clone();
    let counts =
        tokio::task::spawn_blocking(move || store.upsert_items(&[item], Utc::now())).await??;
    crate::cluster::catch_up(&app).await?;
    crate::pipeline::catch_up_index(&app).await?;
    let verb = if counts.new > 0 {
        "Đã thêm"
    } else if counts.updated > 0 {
        "Đã cập nhật"
    } else {
        "Đã có sẵn"
    };
    println!("{verb} bài vào nguồn `{}` ({key}).", post.source);
    app.index.close()?;
    Ok(Exit::Ok)
}
