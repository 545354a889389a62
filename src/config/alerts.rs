//! The alert keys: each `[[alerts]]` entry names a query in the search language (and
//! optionally a tone) whose new matches are sent at once — an email to `to` through
//! `[smtp]`, a JSON POST to `webhook`, or both — gathering the matches of `batch` (one
//! minute by default) into one message. Checked here: unique ids, a query that parses,
//! at least one channel, addresses that parse, an http(s) webhook, `[smtp]` when mailing.

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::Config;
use super::de::{LineStarts, de_duration, de_source_id};
use super::tone::de_opt_tone;
use crate::error::{Error, Result};
use crate::model::Tone;

/// One `[[alerts]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertConfig {
    #[serde(deserialize_with = "de_source_id")]
    pub id: Spanned<String>,
    pub name: String,
    /// A query in the search language (`"kon tum" tai nạn`); may be empty with a `tone`.
    #[serde(default)]
    pub query: String,
    /// Only items of this tone (`"negative"`: bad news about …).
    #[serde(default, deserialize_with = "de_opt_tone")]
    pub tone: Option<Tone>,
    /// Addresses that get the email (through `[smtp]`).
    #[serde(default)]
    pub to: Vec<Spanned<String>>,
    /// A URL that gets a JSON POST.
    #[serde(default)]
    pub webhook: Option<Spanned<String>>,
    /// Matches found within this time of the first one go out together.
    #[serde(default = "default_batch", deserialize_with = "de_duration")]
    pub batch: Duration,
    #[serde(default = "default_enabled")]
    pub enabled: bool,
}

fn default_batch() -> Duration {
    Duration::from_secs(60)
}

fn default_enabled() -> bool {
    true
}

impl AlertConfig {
    pub fn id(&self) -> &str {
        self.id.get_ref()
    }

    /// The webhook URL, parsed (validated at load time).
    pub fn webhook_url(&self) -> Option<url::Url> {
        self.webhook
            .as_ref()
            .and_then(|w| url::Url::parse(w.get_ref().trim()).ok())
    }
}

impl Config {
    /// `[[alerts]]`: unique ids, a query that parses, a channel, valid addresses and URL.
    pub(super) fn validate_alerts(&self, lines: &LineStarts) -> Result<()> {
        let invalid = |message: String| Error::ConfigInvalid {
            path: self.path.clone(),
            message,
        };
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for a in &self.alerts {
            let line = lines.line_of(a.id.span().start);
            let id = a.id();
            if let Some(first) = seen.insert(id, line) {
                return Err(invalid(format!(
                    "dòng {line}: alerts.id `{id}` bị trùng (đã dùng ở dòng {first})"
                )));
            }
            if a.name.trim().is_empty() {
                return Err(invalid(format!(
                    "dòng {line}: cảnh báo `{id}` thiếu `name`"
                )));
            }
            match crate::search::query::parse_query(&a.query, self.display.timezone) {
                Ok(pq) if pq.is_match_all() && a.tone.is_none() => {
                    return Err(invalid(format!(
                        "dòng {line}: cảnh báo `{id}` cần `query` (ví dụ \"kon tum\") hoặc `tone`"
                    )));
                }
                Ok(_) => {}
                Err(e) => {
                    return Err(invalid(format!(
                        "dòng {line}: query của cảnh báo `{id}`: {e}"
                    )));
                }
            }
            if a.to.is_empty() && a.webhook.is_none() {
                return Err(invalid(format!(
                    "dòng {line}: cảnh báo `{id}` cần `to` (địa chỉ thư) hoặc `webhook` (địa chỉ URL), hoặc cả hai"
                )));
            }
            if !a.to.is_empty() && self.smtp.is_none() {
                return Err(invalid(format!(
                    "dòng {line}: cảnh báo `{id}` gửi thư nên cần máy chủ thư: thêm mục [smtp]"
                )));
            }
            let mut rcpts: HashMap<String, usize> = HashMap::new();
            for to in &a.to {
                let l = lines.line_of(to.span().start);
                match to.get_ref().parse::<lettre::message::Mailbox>() {
                    Ok(m) => {
                        if rcpts
                            .insert(m.email.to_string().to_lowercase(), l)
                            .is_some()
                        {
                            return Err(invalid(format!(
                                "dòng {l}: địa chỉ `{}` lặp lại trong `to` của cảnh báo `{id}`",
                                to.get_ref()
                            )));
                        }
                    }
                    Err(e) => {
                        return Err(invalid(format!(
                            "dòng {l}: alerts.to `{}` của `{id}` không phải địa chỉ thư hợp lệ ({e})",
                            to.get_ref()
                        )));
                    }
                }
            }
            if let Some(w) = &a.webhook {
                let l = lines.line_of(w.span().start);
                let ok = url::Url::parse(w.get_ref().trim())
                    .ok()
                    .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
                if !ok {
                    return Err(invalid(format!(
                        "dòng {l}: alerts.webhook `{}` của `{id}` phải là địa chỉ http:// hoặc https://",
                        w.get_ref()
                    )));
                }
            }
            if a.batch > Duration::from_secs(3600) {
                return Err(invalid(format!(
                    "dòng {line}: alerts.batch của `{id}` tối đa 1 giờ"
                )));
            }
        }
        Ok(())
    }

    /// The alert with this id.
    pub fn alert(&self, id: &str) -> Option<&AlertConfig> {
        self.alerts.iter().find(|a| a.id() == id)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const SMTP: &str =
        "[smtp]\nhost = \"127.0.0.1\"\nport = 2525\nsecurity = \"none\"\nfrom = \"x@example.vn\"\n";

    fn parse(text: &str) -> Result<Config> {
        Config::parse(text, Path::new("/etc/gomtin/gomtin.toml"))
    }

    #[test]
    fn an_alert_parses_with_defaults() {
        let c = parse(&format!(
            "{SMTP}[[alerts]]\nid = \"tin-xau\"\nname = \"Tin xấu Kon Tum\"\nquery = '\"kon tum\"'\ntone = \"tiêu cực\"\nto = [\"a@x.vn\"]\nwebhook = \"https://hooks.example.vn/gomtin\"\n"
        ))
        .expect("valid");
        let a = c.alert("tin-xau").expect("alert");
        assert_eq!(a.tone, Some(Tone::Negative));
        assert_eq!(a.batch, Duration::from_secs(60));
        assert!(a.enabled);
        assert_eq!(
            a.webhook_url().map(|u| u.to_string()).as_deref(),
            Some("https://hooks.example.vn/gomtin")
        );
    }

    #[test]
    fn bad_alerts_are_rejected_with_key_and_line() {
        let alert = |body: &str| format!("{SMTP}[[alerts]]\nid = \"x\"\nname = \"X\"\n{body}");
        for (text, needles) in [
            (
                alert("query = \"a\"\n"),
                vec!["dòng 7", "`to`", "`webhook`"],
            ),
            (alert("to = [\"a@x.vn\"]\n"), vec!["dòng 7", "`query`"]),
            (
                alert("query = \"a\"\nto = [\"không-phải\"]\n"),
                vec!["dòng 10", "alerts.to"],
            ),
            (
                alert("query = \"a\"\nwebhook = \"ftp://x.vn/\"\n"),
                vec!["dòng 10", "http"],
            ),
            (
                alert("query = \"a\"\ntone = \"vui\"\nto = [\"a@x.vn\"]\n"),
                vec!["dòng 10", "vui"],
            ),
            (
                alert("query = \"sort:ngẫu-nhiên\"\nto = [\"a@x.vn\"]\n"),
                vec!["dòng 7", "sort"],
            ),
            (
                "[[alerts]]\nid = \"x\"\nname = \"X\"\nquery = \"a\"\nto = [\"a@x.vn\"]\n"
                    .to_string(),
                vec!["dòng 2", "[smtp]"],
            ),
        ] {
            let err = parse(&text).expect_err(&text).to_string();
            for n in needles {
                assert!(err.contains(n), "{text:?} -> {err} (wanted {n})");
            }
        }
    }
}
