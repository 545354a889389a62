//! Topics, digests and the mail server from a form or the JSON API, the way `sources`
//! does sources: the body carries the keys of a `[[topics]]` / `[[digests]]` entry or of
//! `[smtp]`, checked by the loader's own rules (a bad value names its key), then written
//! into the config file through `edit::edit_config` and applied at once — a changed topic
//! re-tags the stored items in the background (`edit::retag_in_background`, called by
//! the face), a new digest is picked up by the running digest runner.

use serde_json::{Map, Value};

use super::edit::{Action, edit_config};
use crate::app::App;
use crate::config::edit::{ConfigFile, set_json, table_from_json};
use crate::config::{
    Config, DigestConfig, SmtpConfig, TopicConfig, parse_entry, validate_digest, validate_smtp,
    validate_topic,
};
use crate::error::{Error, Result};

/// The kinds of entries this file edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Topic,
    Digest,
}

impl Kind {
    fn section(self) -> &'static str {
        match self {
            Kind::Topic => "topics",
            Kind::Digest => "digests",
        }
    }

    /// The keys of an entry, in the order a new one is written.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            Kind::Topic => &["id", "name", "query", "tone"],
            Kind::Digest => &[
                "id",
                "name",
                "schedule",
                "timezone",
                "to",
                "topics",
                "query",
                "max_items",
                "skip_empty",
                "tone",
            ],
        }
    }

    fn what(self) -> &'static str {
        match self {
            Kind::Topic => "chủ đề",
            Kind::Digest => "bản tin",
        }
    }

    fn action(self, verb: &str) -> &'static str {
        match (self, verb) {
            (Kind::Topic, "add") => "topic.add",
            (Kind::Topic, "edit") => "topic.edit",
            (Kind::Topic, _) => "topic.delete",
            (Kind::Digest, "add") => "digest.add",
            (Kind::Digest, "edit") => "digest.edit",
            (Kind::Digest, _) => "digest.delete",
        }
    }
}

/// The keys of `[smtp]`, in the order they are written.
pub const SMTP_KEYS: &[&str] = &[
    "host",
    "port",
    "security",
    "from",
    "username",
    "password_env",
    "timeout",
    "ca_file",
];

fn object<'a>(body: &'a Value, keys: &[&str]) -> Result<&'a Map<String, Value>> {
    let map = body.as_object().ok_or_else(|| Error::Invalid {
        field: String::new(),
        message: format!("Cần một đối tượng JSON với các khoá: {}.", keys.join(", ")),
    })?;
    if let Some(k) = map.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(Error::Invalid {
            field: k.clone(),
            message: format!(
                "khoá `{k}` không được hỗ trợ; các khoá: {}",
                keys.join(", ")
            ),
        });
    }
    Ok(map)
}

/// Check one entry with the loader's rules, against the config it will join (`running`
/// with the file's other entries: digests need `[smtp]` and known topics).
fn check_entry(
    kind: Kind,
    table: &toml_edit::Table,
    file: &ConfigFile,
    running: &Config,
) -> Result<String> {
    let tz = running.display.timezone;
    match kind {
        Kind::Topic => {
            let t: TopicConfig = parse_entry("topics", true, table)?;
            validate_topic(&t, tz)?;
            Ok(t.id().to_string())
        }
        Kind::Digest => {
            let d: DigestConfig = parse_entry("digests", true, table)?;
            let topic_known = |id: &str| file.entry("topics", id).is_some();
            validate_digest(&d, file.table("smtp").is_some(), &topic_known, tz)?;
            Ok(d.id().to_string())
        }
    }
}

/// Add the entry in `body` (409 when its id is taken).
pub fn create(app: &App, who: &str, kind: Kind, body: &Value) -> Result<String> {
    let map = object(body, kind.keys())?;
    let table = table_from_json(map, kind.keys())?;
    let id = map
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let action = Action {
        who,
        what: kind.action("add"),
        target: &id,
        detail: map
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    };
    let (id, _) = edit_config(app, &action, |file, running| {
        let id = check_entry(kind, &table, file, running)?;
        if file.entry(kind.section(), &id).is_some() {
            return Err(Error::Conflict(format!(
                "Mã {} `{id}` đã có trong cấu hình; hãy chọn mã khác.",
                kind.what()
            )));
        }
        file.push_entry(kind.section(), table)?;
        Ok(id)
    })?;
    Ok(id)
}

/// Change the keys present in `body` of entry `id` (`null` returns a key to its default).
pub fn update(app: &App, who: &str, kind: Kind, id: &str, body: &Value) -> Result<()> {
    let map = object(body, kind.keys())?;
    if let Some(new_id) = map.get("id").and_then(Value::as_str)
        && new_id != id
    {
        return Err(Error::Invalid {
            field: "id".into(),
            message: format!(
                "Không đổi được mã của {} (nó gắn với những gì đã lưu); hãy thêm mục mới.",
                kind.what()
            ),
        });
    }
    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
    let action = Action {
        who,
        what: kind.action("edit"),
        target: id,
        detail: keys.join(", "),
    };
    edit_config(app, &action, |file, running| {
        let snapshot = file.clone();
        let entry = file.entry_mut(kind.section(), id).ok_or_else(|| {
            Error::NotFound(format!(
                "Không có {} nào mã `{id}` trong tệp cấu hình.",
                kind.what()
            ))
        })?;
        for (k, v) in map {
            if k != "id" {
                set_json(entry, k, v)?;
            }
        }
        let entry = entry.clone();
        check_entry(kind, &entry, &snapshot, running)?;
        Ok(())
    })?;
    Ok(())
}

/// Remove entry `id`. A topic that a digest uses is refused (409) with the digest named.
pub fn remove(app: &App, who: &str, kind: Kind, id: &str) -> Result<()> {
    let action = Action {
        who,
        what: kind.action("delete"),
        target: id,
        detail: String::new(),
    };
    edit_config(app, &action, |file, running| {
        if kind == Kind::Topic
            && let Some(d) = running
                .digests
                .iter()
                .find(|d| d.topics.iter().any(|t| t.get_ref() == id))
        {
            return Err(Error::Conflict(format!(
                "Chủ đề `{id}` đang dùng trong bản tin `{}`; bỏ nó khỏi bản tin trước.",
                d.id()
            )));
        }
        if !file.remove_entry(kind.section(), id) {
            return Err(Error::NotFound(format!(
                "Không có {} nào mã `{id}` trong tệp cấu hình.",
                kind.what()
            )));
        }
        Ok(())
    })?;
    Ok(())
}

/// An entry as the file has it, as JSON (for a form).
pub fn entry_json(app: &App, kind: Kind, id: &str) -> Result<Value> {
    let file = ConfigFile::read(&app.config().path)?;
    let entry = file.entry(kind.section(), id).ok_or_else(|| {
        Error::NotFound(format!(
            "Không có {} nào mã `{id}` trong tệp cấu hình.",
            kind.what()
        ))
    })?;
    Ok(crate::config::edit::item_to_json(&toml_edit::Item::Table(
        entry.clone(),
    )))
}

/// Set `[smtp]` from `body` (keys present replace, `null` removes).
pub fn set_smtp(app: &App, who: &str, body: &Value) -> Result<()> {
    let map = object(body, SMTP_KEYS)?;
    if let Some(k) = ["password", "pass"].iter().find(|k| map.contains_key(**k)) {
        return Err(Error::Invalid {
            field: (*k).into(),
            message: "Mật khẩu thư không ghi vào tệp cấu hình: đặt nó trong một biến môi trường và ghi tên biến vào `password_env`.".into(),
        });
    }
    let action = Action {
        who,
        what: "smtp.edit",
        target: "smtp",
        detail: map.keys().cloned().collect::<Vec<_>>().join(", "),
    };
    edit_config(app, &action, |file, running| {
        let table = file.table_mut("smtp")?;
        for (k, v) in map {
            set_json(table, k, v)?;
        }
        let table = table.clone();
        let mut smtp: SmtpConfig = parse_entry("smtp", false, &table)?;
        // As the loader does: a CA file is relative to the config folder.
        if let Some(ca) = smtp.ca_file.as_mut() {
            *ca = crate::config::resolve(&running.base_dir, ca);
        }
        validate_smtp(&smtp)?;
        Ok(())
    })?;
    Ok(())
}
