//! One entry of the config file checked on its own, the way a form needs it: the same
//! serde deserializers and per-entry checks as the loader (`validate_source`,
//! `validate_topic`, `validate_digest`, `validate_smtp`), but an error names the key it is
//! about ([`FieldError`]) instead of a line, so the web admin can show it beside that
//! field. The whole file is still parsed by `Config::parse` before anything is written.

use std::collections::HashMap;
use std::ops::Range;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::de::translate_toml_message;

/// A problem with one key of an entry, in Vietnamese.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The key, as in the file (`name`, `selectors.link`); empty when no one key is at fault.
    pub field: String,
    pub message: String,
    /// Where in the file the bad value is, when it is not the entry's first line.
    #[serde(skip)]
    pub at: Option<Range<usize>>,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.to_string(),
            message: message.into(),
            at: None,
        }
    }

    /// The same error, located at `span` of the file.
    pub fn at(mut self, span: Range<usize>) -> FieldError {
        self.at = Some(span);
        self
    }
}

impl From<FieldError> for crate::error::Error {
    fn from(e: FieldError) -> Self {
        crate::error::Error::Invalid {
            field: e.field,
            message: e.message,
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Parse `table` as one entry of `[[section]]` (`array`) or as `[section]` with the
/// loader's own deserializers; a bad value names its key.
pub fn parse_entry<T: DeserializeOwned>(
    section: &str,
    array: bool,
    table: &toml_edit::Table,
) -> Result<T, FieldError> {
    let mut doc = toml_edit::DocumentMut::new();
    let mut entry = table.clone();
    entry.decor_mut().clear();
    if array {
        let mut aot = toml_edit::ArrayOfTables::new();
        aot.push(entry);
        doc.insert(section, toml_edit::Item::ArrayOfTables(aot));
    } else {
        doc.insert(section, toml_edit::Item::Table(entry));
    }
    let text = doc.to_string();
    let fail = |e: toml::de::Error| {
        let message = translate_toml_message(e.message().trim());
        let field = e
            .span()
            .map(|s| key_at(&text, section, s.start))
            .unwrap_or_default();
        let (field, message) = match missing_field(e.message()) {
            // A missing key is reported on the table that lacks it.
            Some(name) if field.is_empty() => (name.to_string(), format!("cần điền `{name}`")),
            Some(name) => (
                format!("{field}.{name}"),
                format!("cần điền `{field}.{name}`"),
            ),
            None => (field, message),
        };
        FieldError::new(&field, message)
    };
    if array {
        let mut parsed: HashMap<String, Vec<T>> = toml::from_str(&text).map_err(fail)?;
        parsed
            .remove(section)
            .and_then(|v| v.into_iter().next())
            .ok_or_else(|| FieldError::new("", "mục trống"))
    } else {
        let mut parsed: HashMap<String, T> = toml::from_str(&text).map_err(fail)?;
        parsed
            .remove(section)
            .ok_or_else(|| FieldError::new("", "mục trống"))
    }
}

/// `x` of toml's "missing field `x`".
fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
}

/// The key (with its sub-table, `selectors.link`) on the line of `offset` in an entry
/// rendered by [`parse_entry`]; on a sub-table's header, the sub-table's name.
fn key_at(text: &str, section: &str, offset: usize) -> String {
    let mut prefix = String::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let end = start + line.len();
        let trimmed = line.trim();
        if let Some(header) = trimmed
            .strip_prefix('[')
            .map(|h| h.trim_start_matches('[').trim_end_matches(']').trim())
        {
            let sub = header
                .strip_prefix(section)
                .map(|s| s.trim_start_matches('.'))
                .unwrap_or(header);
            prefix = if sub.is_empty() {
                String::new()
            } else {
                format!("{sub}.")
            };
            if (start..end).contains(&offset) {
                return prefix.trim_end_matches('.').to_string();
            }
        } else if (start..end).contains(&offset) {
            let key = trimmed.split('=').next().unwrap_or("").trim();
            let key = key.trim_matches('"').trim_matches('\'');
            return format!("{prefix}{key}");
        }
        start = end;
    }
    prefix.trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SourceConfig;

    fn table(text: &str) -> toml_edit::Table {
        let doc: toml_edit::DocumentMut = text.parse().expect("toml");
        doc.as_table().clone()
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let t = table(
            "id = \"a\"\nname = \"A\"\nkind = \"feed\"\nurl = \"https://a.vn/rss\"\ninterval = \"soon\"\n",
        );
        let e = parse_entry::<SourceConfig>("sources", true, &t).expect_err("bad interval");
        assert_eq!(e.field, "interval");
        assert!(e.message.contains("soon"), "{e}");

        let t = table("id = \"Bad Id\"\nname = \"A\"\nkind = \"feed\"\n");
        let e = parse_entry::<SourceConfig>("sources", true, &t).expect_err("bad id");
        assert_eq!(e.field, "id");

        let t = table(
            "id = \"a\"\nname = \"A\"\nkind = \"page\"\nurl = \"https://a.vn/\"\n[selectors]\nlink = \"a[\"\n",
        );
        let e = parse_entry::<SourceConfig>("sources", true, &t).expect_err("bad selector");
        assert_eq!(e.field, "selectors.link", "{e}");

        let t = table(
            "id = \"a\"\nname = \"A\"\nkind = \"page\"\nurl = \"https://a.vn/\"\n[selectors]\ntitle = \"h3\"\n",
        );
        let e = parse_entry::<SourceConfig>("sources", true, &t).expect_err("no link");
        assert_eq!(e.field, "selectors.link", "{e}");

        let t = table("id = \"a\"\nkind = \"feed\"\n");
        let e = parse_entry::<SourceConfig>("sources", true, &t).expect_err("no name");
        assert_eq!(e.field, "name", "{e}");

        let t = table("id = \"a\"\nname = \"A\"\nkind = \"feed\"\ncolour = \"red\"\n");
        let e = parse_entry::<SourceConfig>("sources", true, &t).expect_err("unknown key");
        assert_eq!(e.field, "colour", "{e}");
        assert!(e.message.contains("khoá không được hỗ trợ"), "{e}");
    }

    #[test]
    fn a_good_entry_parses() {
        let t = table("id = \"a\"\nname = \"A\"\nkind = \"feed\"\nurl = \"https://a.vn/rss\"\n");
        let s = parse_entry::<SourceConfig>("sources", true, &t).expect("valid");
        assert_eq!(s.id(), "a");
        assert!(crate::config::validate_source(&s).is_ok());
    }
}
