//! Editing the config file in place, for the web admin and `gomtin sources add|import`:
//! the file is read as a `toml_edit` document, so comments, blank lines and the order of
//! everything not touched are kept; an entry of `[[sources]]`, `[[topics]]` or
//! `[[digests]]` (found by its `id`) or a table such as `[smtp]` is added, changed key by
//! key, or removed; the new text is checked by the loader itself (`Config::parse`) before
//! it replaces the file, and the file is replaced atomically (a temporary file in the same
//! folder, flushed to disk, renamed over the old one), so a crash never leaves half a
//! config. Values come as JSON (what a form or the API sends); `null` removes a key.

use std::io::Write;
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table, TableLike, Value};

use super::Config;
use super::entry::FieldError;
use crate::error::{Error, Result};

/// The config file as an editable document.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    path: PathBuf,
    doc: DocumentMut,
}

impl ConfigFile {
    /// Read the file at `path` (the file need not be a valid config yet, only valid TOML).
    pub fn read(path: &Path) -> Result<ConfigFile> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ConfigRead {
            path: path.to_path_buf(),
            source,
        })?;
        ConfigFile::parse(&text, path)
    }

    /// The document of `text`, to be written to `path`.
    pub fn parse(text: &str, path: &Path) -> Result<ConfigFile> {
        let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            Error::ConfigInvalid {
                path: path.to_path_buf(),
                message: match line {
                    Some(l) => format!("dòng {l}: {}", e.message()),
                    None => e.message().to_string(),
                },
            }
        })?;
        Ok(ConfigFile {
            path: path.to_path_buf(),
            doc,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn array(&self, section: &str) -> Option<&toml_edit::ArrayOfTables> {
        self.doc.get(section).and_then(Item::as_array_of_tables)
    }

    fn index_of(&self, section: &str, id: &str) -> Option<usize> {
        self.array(section)?
            .iter()
            .position(|t| t.get("id").and_then(Item::as_str) == Some(id))
    }

    /// The `[[section]]` entry whose `id` is `id`.
    pub fn entry(&self, section: &str, id: &str) -> Option<&Table> {
        let i = self.index_of(section, id)?;
        self.array(section)?.get(i)
    }

    /// The `[[section]]` entry whose `id` is `id`, to change in place.
    pub fn entry_mut(&mut self, section: &str, id: &str) -> Option<&mut Table> {
        let i = self.index_of(section, id)?;
        self.doc
            .get_mut(section)
            .and_then(Item::as_array_of_tables_mut)?
            .get_mut(i)
    }

    /// Append an entry to `[[section]]`, after its last entry (a blank line before it).
    pub fn push_entry(&mut self, section: &str, table: Table) -> Result<()> {
        let path = self.path.clone();
        let item = self
            .doc
            .entry(section)
            .or_insert_with(|| Item::ArrayOfTables(toml_edit::ArrayOfTables::new()));
        let Some(array) = item.as_array_of_tables_mut() else {
            return Err(Error::ConfigInvalid {
                path,
                message: format!(
                    "`{section}` trong tệp cấu hình không viết dạng [[{section}]]; hãy sửa tay"
                ),
            });
        };
        let mut table = detached(&table);
        table.decor_mut().set_prefix("\n");
        array.push(table);
        Ok(())
    }

    /// Remove the `[[section]]` entry `id` (with the comments just above it); false when
    /// there is none.
    pub fn remove_entry(&mut self, section: &str, id: &str) -> bool {
        let Some(i) = self.index_of(section, id) else {
            return false;
        };
        if let Some(array) = self
            .doc
            .get_mut(section)
            .and_then(Item::as_array_of_tables_mut)
        {
            array.remove(i);
            if array.is_empty() {
                self.doc.remove(section);
            }
        }
        true
    }

    /// The table `[key]` (created when absent), e.g. `[smtp]`.
    pub fn table_mut(&mut self, key: &str) -> Result<&mut Table> {
        let path = self.path.clone();
        let item = self.doc.entry(key).or_insert_with(|| {
            let mut t = Table::new();
            t.decor_mut().set_prefix("\n");
            Item::Table(t)
        });
        item.as_table_mut().ok_or_else(|| Error::ConfigInvalid {
            path,
            message: format!("`{key}` trong tệp cấu hình không phải một bảng [{key}]; hãy sửa tay"),
        })
    }

    /// The table `[key]`, when the file has it.
    pub fn table(&self, key: &str) -> Option<&Table> {
        self.doc.get(key).and_then(Item::as_table)
    }

    /// Remove the table `[key]`.
    pub fn remove_table(&mut self, key: &str) -> bool {
        self.doc.remove(key).is_some()
    }

    /// The document as text.
    pub fn to_text(&self) -> String {
        self.doc.to_string()
    }

    /// The config this text would load as (the loader's checks, then the `GOMTIN_*`
    /// environment overrides, as `Config::load` does).
    pub fn check(&self) -> Result<Config> {
        let mut config = Config::parse(&self.to_text(), &self.path)?;
        config.apply_env(|k| std::env::var(k).ok())?;
        Ok(config)
    }

    /// Check the text, then replace the file with it atomically; the config it loads as.
    pub fn save(&self) -> Result<Config> {
        let config = self.check()?;
        write_atomic(&self.path, &self.to_text())?;
        Ok(config)
    }
}

/// A copy of `t` and its sub-tables with no place in any document: a table parsed
/// elsewhere carries its position there, which would put its `[parent.sub]` headers
/// among this document's tables; a placeless one is written right after its parent.
fn detached(t: &Table) -> Table {
    let mut out = Table::new();
    out.set_implicit(t.is_implicit());
    out.set_dotted(t.is_dotted());
    *out.decor_mut() = t.decor().clone();
    for (k, item) in t.iter() {
        let copy = match item {
            Item::Table(sub) => Item::Table(detached(sub)),
            other => other.clone(),
        };
        out.insert(k, copy);
    }
    out
}

/// Replace the file at `path` with `text` so that a reader (or a crash) sees the old file
/// or the new one, never a mix: a temporary file in the same folder with the old file's
/// permissions, written and flushed to disk, renamed over it, and the folder flushed.
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source: std::io::Error| Error::Io { path: p, source }
    };
    // Through a symlink to the real file, so the link stays a link.
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let mut tmp = tempfile::Builder::new()
        .prefix(".gomtin-config-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(io(&dir))?;
    if let Ok(meta) = std::fs::metadata(&target) {
        std::fs::set_permissions(tmp.path(), meta.permissions()).map_err(io(tmp.path()))?;
    }
    tmp.write_all(text.as_bytes()).map_err(io(&target))?;
    tmp.as_file().sync_all().map_err(io(&target))?;
    tmp.persist(&target).map_err(|e| Error::Io {
        path: target.clone(),
        source: e.error,
    })?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A JSON scalar or list of scalars as a TOML value (`None` for null and objects).
fn value_of(field: &str, v: &serde_json::Value) -> std::result::Result<Option<Value>, FieldError> {
    use serde_json::Value as J;
    Ok(match v {
        J::Null | J::Object(_) => None,
        J::Bool(b) => Some(Value::from(*b)),
        J::String(s) => Some(Value::from(s.as_str())),
        J::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Some(Value::from(i)),
            (None, Some(f)) => Some(Value::from(f)),
            _ => {
                return Err(FieldError::new(
                    field,
                    format!("`{field}`: số không hợp lệ"),
                ));
            }
        },
        J::Array(items) => {
            let mut a = toml_edit::Array::new();
            for item in items {
                match value_of(field, item)? {
                    Some(v) if !matches!(item, J::Array(_)) => a.push(v),
                    _ => {
                        return Err(FieldError::new(
                            field,
                            format!("`{field}` phải là danh sách các giá trị đơn"),
                        ));
                    }
                }
            }
            Some(Value::Array(a))
        }
    })
}

/// Set `key` of `table` from JSON, keeping the comment after an existing value: `null`
/// removes the key, an object sets the keys of the sub-table `key` one by one (creating
/// it as `[parent.key]` when absent).
pub fn set_json(
    table: &mut dyn TableLike,
    key: &str,
    v: &serde_json::Value,
) -> std::result::Result<(), FieldError> {
    match v {
        serde_json::Value::Null => {
            table.remove(key);
        }
        serde_json::Value::Object(map) => {
            let exists = table.get(key).is_some_and(Item::is_table_like);
            if !exists {
                let mut sub = Table::new();
                sub.set_implicit(false);
                table.insert(key, Item::Table(sub));
            }
            let Some(sub) = table.get_mut(key).and_then(Item::as_table_like_mut) else {
                return Err(FieldError::new(key, format!("`{key}` phải là một bảng")));
            };
            for (k, v) in map {
                set_json(sub, k, v).map_err(|e| FieldError {
                    field: format!("{key}.{}", e.field),
                    ..e
                })?;
            }
            if sub.is_empty() {
                table.remove(key);
            }
        }
        other => {
            let Some(mut value) = value_of(key, other)? else {
                return Ok(());
            };
            match table.get_mut(key) {
                Some(Item::Value(old)) => {
                    *value.decor_mut() = old.decor().clone();
                    *old = value;
                }
                _ => {
                    table.insert(key, Item::Value(value));
                }
            }
        }
    }
    Ok(())
}

/// A new entry from a JSON object, its keys in `order` first (the rest after, sorted).
pub fn table_from_json(
    map: &serde_json::Map<String, serde_json::Value>,
    order: &[&str],
) -> std::result::Result<Table, FieldError> {
    let mut table = Table::new();
    let mut keys: Vec<&str> = order
        .iter()
        .copied()
        .filter(|k| map.contains_key(*k))
        .collect();
    let mut rest: Vec<&str> = map
        .keys()
        .map(String::as_str)
        .filter(|k| !order.contains(k))
        .collect();
    rest.sort_unstable();
    keys.extend(rest);
    for k in keys {
        set_json(&mut table, k, &map[k])?;
    }
    Ok(table)
}

/// A TOML value as JSON (for showing an entry in a form).
pub fn item_to_json(item: &Item) -> serde_json::Value {
    use serde_json::Value as J;
    fn value(v: &Value) -> J {
        match v {
            Value::String(s) => J::String(s.value().clone()),
            Value::Integer(i) => J::from(*i.value()),
            Value::Float(f) => J::from(*f.value()),
            Value::Boolean(b) => J::Bool(*b.value()),
            Value::Datetime(d) => J::String(d.value().to_string()),
            Value::Array(a) => J::Array(a.iter().map(value).collect()),
            Value::InlineTable(t) => {
                J::Object(t.iter().map(|(k, v)| (k.to_string(), value(v))).collect())
            }
        }
    }
    match item {
        Item::None => J::Null,
        Item::Value(v) => value(v),
        Item::Table(t) => J::Object(
            t.iter()
                .map(|(k, v)| (k.to_string(), item_to_json(v)))
                .collect(),
        ),
        Item::ArrayOfTables(a) => J::Array(
            a.iter()
                .map(|t| item_to_json(&Item::Table(t.clone())))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# gomtin\n[storage]\ndata_dir = \"data\"\n\n# Báo tỉnh\n[[sources]]\nid = \"a\"\nname = \"A\" # tên ngắn\nkind = \"feed\"\nurl = \"https://a.vn/rss\"\n\n[[topics]]\nid = \"t\"\nname = \"T\"\nquery = \"nông thôn\"\n";

    fn file() -> ConfigFile {
        ConfigFile::parse(FILE, Path::new("/tmp/gomtin.toml")).expect("toml")
    }

    #[test]
    fn a_new_entry_goes_after_the_last_of_its_kind_and_comments_stay() {
        let mut f = file();
        let json = serde_json::json!({"name": "B", "id": "b", "kind": "page",
            "url": "https://b.vn/", "selectors": {"link": "h3 a", "item": ".tin"}});
        let t = table_from_json(
            json.as_object().expect("object"),
            &["id", "name", "kind", "url"],
        )
        .expect("table");
        f.push_entry("sources", t).expect("push");
        let text = f.to_text();
        assert!(text.starts_with("# gomtin\n"), "{text}");
        assert!(text.contains("name = \"A\" # tên ngắn"), "{text}");
        let b = text.find("id = \"b\"").expect("b");
        assert!(b > text.find("id = \"a\"").expect("a"));
        assert!(b < text.find("[[topics]]").expect("topics"), "{text}");
        assert!(
            text.contains("[sources.selectors]\nitem = \".tin\"\nlink = \"h3 a\""),
            "{text}"
        );
        assert!(
            text.contains("id = \"b\"\nname = \"B\"\nkind = \"page\""),
            "{text}"
        );
        f.check().expect("still a valid config");
    }

    #[test]
    fn an_entry_parsed_elsewhere_keeps_its_sub_table_under_it() {
        let mut f = file();
        let block = ConfigFile::parse(
            "[[sources]]\nid = \"p\"\nname = \"P\"\nkind = \"page\"\nurl = \"https://p.vn/\"\n[sources.selectors]\nlink = \"a\"\n",
            Path::new("/tmp/x.toml"),
        )
        .expect("block");
        f.push_entry("sources", block.entry("sources", "p").expect("p").clone())
            .expect("push");
        let text = f.to_text();
        let p = text.find("id = \"p\"").expect("p");
        let sel = text.find("[sources.selectors]").expect("selectors");
        assert!(
            sel > p && sel < text.find("[[topics]]").expect("topics"),
            "{text}"
        );
        f.check().expect("valid");
    }

    #[test]
    fn a_changed_value_keeps_its_comment_and_null_removes() {
        let mut f = file();
        let e = f.entry_mut("sources", "a").expect("a");
        set_json(e, "name", &serde_json::json!("A mới")).expect("set");
        set_json(e, "interval", &serde_json::json!("15m")).expect("set");
        set_json(e, "url", &serde_json::Value::Null).expect("unset");
        let text = f.to_text();
        assert!(text.contains("name = \"A mới\" # tên ngắn"), "{text}");
        assert!(!text.contains("url ="), "{text}");
        assert!(text.contains("interval = \"15m\""), "{text}");
        assert!(f.check().is_err(), "a feed without url is refused");
    }

    #[test]
    fn removing_an_entry_takes_its_comment_and_keeps_the_rest() {
        let mut f = file();
        assert!(f.remove_entry("sources", "a"));
        assert!(!f.remove_entry("sources", "a"));
        let text = f.to_text();
        assert!(
            !text.contains("Báo tỉnh") && !text.contains("[[sources]]"),
            "{text}"
        );
        assert!(text.contains("[[topics]]\nid = \"t\""), "{text}");
    }

    #[test]
    fn saving_is_atomic_and_keeps_the_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("gomtin.toml");
        std::fs::write(&path, FILE).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let mut f = ConfigFile::read(&path).expect("read");
        f.remove_entry("topics", "t");
        f.save().expect("save");
        let text = std::fs::read_to_string(&path).expect("read back");
        assert!(!text.contains("[[topics]]"));
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        // An invalid text is refused and the file stays as it was.
        let mut f = ConfigFile::read(&path).expect("read");
        set_json(
            f.entry_mut("sources", "a").expect("a"),
            "kind",
            &serde_json::json!("x"),
        )
        .expect("set");
        assert!(f.save().is_err());
        assert_eq!(std::fs::read_to_string(&path).expect("read"), text);
    }
}
