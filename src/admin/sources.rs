//! A source from a form or the JSON API: the body carries the keys of a `[[sources]]`
//! block (`selectors` as an object) and is checked by the loader's own rules, a bad value
//! naming its key; then it is added, changed key by key (comments in the file kept) or
//! removed through `edit::edit_config`, so the running daemon picks it up at once and a
//! restart finds it in the file. Also: the same body checked by one real fetch that
//! stores nothing (`check`), and OPML import with a preview of what is added and skipped.
//! The web reads only http(s) sources: a `path` or a `file://` address is for the file.

use std::path::Path;

use chrono::Utc;
use serde::Serialize;
use serde_json::{Map, Value};

use super::edit::{Action, edit_config};
use super::{CheckReport, Skipped, plan_opml};
use crate::app::App;
use crate::config::edit::{set_json, table_from_json};
use crate::config::{SourceConfig, parse_entry, validate_source};
use crate::error::{Error, Result};
use crate::opml::SourceBlock;

/// The keys of a `[[sources]]` block, in the order a new block is written.
pub const SOURCE_KEYS: &[&str] = &[
    "id",
    "name",
    "kind",
    "url",
    "interval",
    "enabled",
    "full_content",
    "obey_robots",
    "max_articles_per_pass",
    "article",
    "selectors",
];

/// Ids that would read as a page of the admin's routes (`/sources/new`, `/api/sources/check`).
const RESERVED_IDS: &[&str] = &["new", "check", "import", "discover"];

/// A source as its config keys, defaults filled in: what the API answers.
pub fn source_json(s: &SourceConfig, base: &Path) -> Value {
    serde_json::json!({
        "id": s.id(),
        "name": s.name,
        "kind": s.kind.as_str(),
        "url": Some(s.location(base)).filter(|u| !u.is_empty()),
        "local_file": s.path.is_some(),
        "interval": humantime::format_duration(s.interval).to_string(),
        "enabled": s.enabled,
        "full_content": s.full_content,
        "obey_robots": s.obey_robots,
        "max_articles_per_pass": s.max_articles_per_pass,
        "article": s.article,
        "selectors": s.selectors,
    })
}

fn object(body: &Value) -> Result<&Map<String, Value>> {
    body.as_object().ok_or_else(|| Error::Invalid {
        field: String::new(),
        message: "Cần một đối tượng JSON với các khoá của [[sources]] (id, name, kind, url…)."
            .into(),
    })
}

/// What only the file may say: a local path, a `file://` address, an unknown key.
fn web_keys_only(map: &Map<String, Value>) -> Result<()> {
    for key in map.keys() {
        if key == "path" {
            return Err(Error::Invalid {
                field: "path".into(),
                message: "Nguồn đọc từ tệp trên máy chỉ khai báo được trong tệp cấu hình.".into(),
            });
        }
        if !SOURCE_KEYS.contains(&key.as_str()) {
            return Err(Error::Invalid {
                field: key.clone(),
                message: format!(
                    "khoá `{key}` không có trong [[sources]]; các khoá: {}",
                    SOURCE_KEYS.join(", ")
                ),
            });
        }
    }
    if let Some(u) = map.get("url").and_then(Value::as_str)
        && !["http://", "https://"]
            .iter()
            .any(|p| u.trim().to_ascii_lowercase().starts_with(p))
    {
        return Err(Error::Invalid {
            field: "url".into(),
            message: format!("địa chỉ `{u}` phải bắt đầu bằng http:// hoặc https://"),
        });
    }
    Ok(())
}

/// Check one entry's table with the loader's rules (serde, then `validate_source`).
fn parse_source(table: &toml_edit::Table) -> Result<SourceConfig> {
    let source: SourceConfig = parse_entry("sources", true, table)?;
    validate_source(&source)?;
    Ok(source)
}

/// A source from a body, checked, without looking at the config (`check` fills in a
/// placeholder id and name so that a half-written form can be tried).
fn source_from_body(body: &Value, for_check: bool) -> Result<(toml_edit::Table, SourceConfig)> {
    let mut map = object(body)?.clone();
    web_keys_only(&map)?;
    if for_check {
        let blank = |v: Option<&Value>| {
            v.and_then(Value::as_str)
                .is_none_or(|s| s.trim().is_empty())
        };
        if blank(map.get("id")) {
            map.insert("id".into(), Value::from("kiem-tra"));
        }
        if blank(map.get("name")) {
            map.insert("name".into(), Value::from("Kiểm tra"));
        }
    }
    let table = table_from_json(&map, SOURCE_KEYS)?;
    let source = parse_source(&table)?;
    Ok((table, source))
}

/// `POST /api/sources`: add the source in `body` (409 when its id is taken).
pub fn create(app: &App, who: &str, body: &Value) -> Result<SourceConfig> {
    let (table, source) = source_from_body(body, false)?;
    let id = source.id().to_string();
    if RESERVED_IDS.contains(&id.as_str()) {
        return Err(Error::Invalid {
            field: "id".into(),
            message: format!("mã `{id}` trùng với một trang của gomtin; hãy chọn mã khác"),
        });
    }
    let action = Action {
        who,
        what: "source.add",
        target: &id,
        detail: format!("{} · {}", source.name, source.location(Path::new(""))),
    };
    let (_, config) = edit_config(app, &action, |file, running| {
        if file.entry("sources", &id).is_some() || running.source(&id).is_some() {
            return Err(Error::Conflict(format!(
                "Mã nguồn `{id}` đã có trong cấu hình; hãy chọn mã khác."
            )));
        }
        file.push_entry("sources", table)
    })?;
    found(&config, &id)
}

fn found(config: &crate::config::Config, id: &str) -> Result<SourceConfig> {
    config
        .source(id)
        .cloned()
        .ok_or_else(|| Error::NotFound(format!("Không có nguồn tin nào mã `{id}`.")))
}

/// `PATCH /api/sources/{id}`: change the keys present in `body` (`null` returns a key to
/// its default); the source is checked again soon with its new settings.
pub fn update(app: &App, who: &str, id: &str, body: &Value) -> Result<SourceConfig> {
    let map = object(body)?;
    web_keys_only(map)?;
    if let Some(new_id) = map.get("id").and_then(Value::as_str)
        && new_id != id
    {
        return Err(Error::Invalid {
            field: "id".into(),
            message: "Không đổi được mã của nguồn (các tin đã lưu gắn với nó); hãy thêm nguồn mới."
                .into(),
        });
    }
    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
    let action = Action {
        who,
        what: "source.edit",
        target: id,
        detail: keys.join(", "),
    };
    let (_, config) = edit_config(app, &action, |file, _| {
        let entry = file.entry_mut("sources", id).ok_or_else(|| {
            Error::NotFound(format!(
                "Không có nguồn tin nào mã `{id}` trong tệp cấu hình."
            ))
        })?;
        for (k, v) in map {
            if k != "id" {
                set_json(entry, k, v)?;
            }
        }
        parse_source(entry)?;
        // Fetched again soon with what changed, not at the old (maybe backed-off) time.
        app.store.set_next_check(id, Utc::now())?;
        Ok(())
    })?;
    found(&config, id)
}

/// What removing a source did.
#[derive(Debug, Clone, Serialize)]
pub struct Removed {
    pub id: String,
    /// Items removed with it (0 when they were kept).
    pub items_removed: usize,
}

/// `DELETE /api/sources/{id}`: remove the source from the config; its items stay (and the
/// source is listed as retired) unless `with_items`, which removes them from the store
/// and the index too. A retired source (only in the store) can have its items removed.
pub fn remove(app: &App, who: &str, id: &str, with_items: bool) -> Result<Removed> {
    let in_file = crate::config::edit::ConfigFile::read(&app.config().path)?
        .entry("sources", id)
        .is_some();
    let detail = if with_items {
        "xoá cả tin"
    } else {
        "giữ các tin"
    };
    if in_file {
        let action = Action {
            who,
            what: "source.delete",
            target: id,
            detail: detail.into(),
        };
        edit_config(app, &action, |file, _| {
            file.remove_entry("sources", id);
            Ok(())
        })?;
    } else if !(with_items && app.store.source_exists(id)?) {
        return Err(Error::NotFound(format!(
            "Không có nguồn tin nào mã `{id}` trong tệp cấu hình."
        )));
    }
    let mut items_removed = 0;
    if with_items {
        let ids = app.store.delete_source(id)?;
        app.index.remove(&ids)?;
        items_removed = ids.len();
        if !in_file {
            super::edit::audit(
                app,
                &Action {
                    who,
                    what: "source.purge",
                    target: id,
                    detail: format!("{items_removed} tin"),
                },
            );
        }
    }
    Ok(Removed {
        id: id.to_string(),
        items_removed,
    })
}

/// What `POST /api/sources/check` answers: the items a fetch would store, and errors.
#[derive(Debug, Clone, Serialize)]
pub struct CheckAnswer {
    pub items: Vec<CheckedView>,
    pub errors: Vec<String>,
}

/// One item of a check, as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CheckedView {
    pub title: String,
    pub url: Option<String>,
    pub published: Option<String>,
    pub text: String,
    pub image_url: Option<String>,
    pub author: Option<String>,
}

impl From<CheckReport> for CheckAnswer {
    fn from(r: CheckReport) -> Self {
        let mut errors: Vec<String> = r.error.into_iter().collect();
        errors.extend(r.article_errors);
        if r.items.is_empty() && errors.is_empty() {
            errors.push("Không tìm thấy tin nào: kiểm tra lại địa chỉ hoặc bộ chọn CSS.".into());
        }
        CheckAnswer {
            items: r
                .items
                .into_iter()
                .map(|i| CheckedView {
                    title: i.title,
                    url: i.url,
                    published: i.published,
                    text: i.text_start,
                    image_url: i.image_url,
                    author: i.author,
                })
                .collect(),
            errors,
        }
    }
}

/// `POST /api/sources/check`: fetch the source in `body` once through the real stages;
/// nothing is stored.
pub async fn check(app: &App, body: &Value) -> Result<CheckAnswer> {
    let (_, source) = source_from_body(body, true)?;
    Ok(super::check_source(app, &source).await?.into())
}

/// What an OPML import did (or, previewed, would do).
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    pub added: Vec<Value>,
    pub skipped: Vec<Skipped>,
    /// True when nothing was written (a preview).
    pub preview: bool,
}

fn block_json(b: &SourceBlock) -> Value {
    serde_json::json!({
        "id": b.id,
        "name": b.name,
        "kind": b.kind.as_str(),
        "url": b.url,
        "interval": b.interval,
        "selectors": b.selectors,
    })
}

/// `POST /api/sources/import`: the sources of an OPML document not yet in the config are
/// added (or only listed, with `preview`), the others listed with the reason.
pub fn import(app: &App, who: &str, opml: &[u8], preview: bool) -> Result<Imported> {
    let config = app.config();
    let (added, skipped) = plan_opml(&config, opml, false).map_err(|e| match e {
        // A file that is not OPML is the sender's mistake.
        Error::FeedParse { message, .. } => Error::Invalid {
            field: "opml".into(),
            message: format!("Tệp không phải OPML hợp lệ: {message}"),
        },
        other => other,
    })?;
    if !preview && !added.is_empty() {
        let ids: Vec<&str> = added.iter().map(|b| b.id.as_str()).collect();
        let action = Action {
            who,
            what: "sources.import",
            target: "",
            detail: format!("{} nguồn: {}", added.len(), ids.join(", ")),
        };
        edit_config(app, &action, |file, running| {
            // Planned against the running config; the file must not have moved meanwhile.
            if let Some(b) = added
                .iter()
                .find(|b| file.entry("sources", &b.id).is_some() || running.source(&b.id).is_some())
            {
                return Err(Error::Conflict(format!(
                    "Mã nguồn `{}` vừa được thêm; hãy xem trước lại.",
                    b.id
                )));
            }
            for b in &added {
                let block = crate::config::edit::ConfigFile::parse(&b.render(), file.path())?;
                if let Some(t) = block.entry("sources", &b.id) {
                    file.push_entry("sources", t.clone())?;
                }
            }
            Ok(())
        })?;
    }
    Ok(Imported {
        added: added.iter().map(block_json).collect(),
        skipped,
        preview,
    })
}
