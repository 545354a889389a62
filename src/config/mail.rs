//! The mail keys: `[smtp]` (the server digests go through) and the `[[digests]]` entries
//! (schedule, recipients, topics or query), with their checks — addresses that parse,
//! five-field cron schedules, topics that exist, a query in the search language.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::Config;
use super::de::{LineStarts, de_duration, de_source_id, de_timezone, default_timezone};
use super::entry::FieldError;
use crate::error::{Error, Result};

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain text (only sensible on localhost).
    None,
    /// Plain connection upgraded with STARTTLS (port 587); refused if the server cannot.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// `[smtp]`: the mail server digests go through. The password comes from the environment
/// variable named by `password_env`, never from the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: Spanned<String>,
    /// Defaults to 25 (`none`), 587 (`starttls`) or 465 (`tls`).
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub security: SmtpSecurity,
    /// Sender, e.g. `"Ban Tuyên giáo <tuyengiao@example.vn>"`.
    pub from: Spanned<String>,
    #[serde(default)]
    pub username: Option<String>,
    /// Name of the environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// Outer limit on one whole SMTP exchange (connect, hello, auth, envelope, data, reply).
    #[serde(default = "default_smtp_timeout", deserialize_with = "de_duration")]
    pub timeout: Duration,
    /// A PEM file of CA certificates trusted for the server's certificate besides the
    /// system's (an office mail server signed by its own authority). Relative to the
    /// config folder once loaded.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_smtp_timeout() -> Duration {
    Duration::from_secs(60)
}

impl SmtpConfig {
    /// The port to connect to, from `port` or the security mode.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            SmtpSecurity::None => 25,
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
        })
    }
}

/// One `[[digests]]` entry: an email of the items first seen in each period of `schedule`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestConfig {
    #[serde(deserialize_with = "de_source_id")]
    pub id: Spanned<String>,
    pub name: String,
    /// Cron expression (`"0 7 * * *"`: every day at 07:00), read in `timezone`.
    pub schedule: Spanned<String>,
    #[serde(default = "default_timezone", deserialize_with = "de_timezone")]
    pub timezone: chrono_tz::Tz,
    /// Recipients; each gets their own message.
    pub to: Vec<Spanned<String>>,
    /// Topic ids; items are grouped by them (an item goes in the first topic it matches).
    #[serde(default)]
    pub topics: Vec<Spanned<String>>,
    /// A query in the search language every item must also match.
    #[serde(default)]
    pub query: Option<String>,
    /// Most stories shown in one email.
    #[serde(default = "default_max_items")]
    pub max_items: usize,
    /// Send nothing for a period without items (default: send a "nothing new" email).
    #[serde(default)]
    pub skip_empty: bool,
}

fn default_max_items() -> usize {
    30
}

impl DigestConfig {
    pub fn id(&self) -> &str {
        self.id.get_ref()
    }

    /// The parsed schedule (validated at load time).
    pub fn cron(&self) -> std::result::Result<croner::Cron, String> {
        parse_cron(self.schedule.get_ref())
    }
}

/// Parse a five-field cron expression (seconds are not allowed: digests run per minute).
pub fn parse_cron(text: &str) -> std::result::Result<croner::Cron, String> {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Disallowed)
        .build()
        .parse(text.trim())
        .map_err(|e| e.to_string())
}

impl Config {
    /// `[smtp]` and `[[digests]]`: parsable addresses and schedules, known topics.
    pub(super) fn validate_mail(
        &self,
        lines: &LineStarts,
        topic_ids: &HashMap<&str, usize>,
    ) -> Result<()> {
        let invalid = |message: String| Error::ConfigInvalid {
            path: self.path.clone(),
            message,
        };
        if let Some(smtp) = &self.smtp
            && let Err(e) = validate_smtp(smtp)
        {
            let at = e.at.clone().unwrap_or(smtp.host.span());
            return Err(invalid(format!(
                "dòng {}: {}",
                lines.line_of(at.start),
                e.message
            )));
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for d in &self.digests {
            let line = lines.line_of(d.id.span().start);
            if let Some(first) = seen.insert(d.id(), line) {
                return Err(invalid(format!(
                    "dòng {line}: digests.id `{}` bị trùng (đã dùng ở dòng {first})",
                    d.id()
                )));
            }
            let known = |t: &str| topic_ids.contains_key(t);
            if let Err(e) = validate_digest(d, self.smtp.is_some(), &known, self.display.timezone) {
                let l = e.at.clone().map_or(line, |at| lines.line_of(at.start));
                return Err(invalid(format!("dòng {l}: {}", e.message)));
            }
        }
        Ok(())
    }
}
/// What serde cannot see in `[smtp]`: a host, a sender address that parses, a password
/// variable when there is a user name, a sane timeout.
pub fn validate_smtp(smtp: &SmtpConfig) -> std::result::Result<(), FieldError> {
    if smtp.host.get_ref().trim().is_empty() {
        return Err(FieldError::new("host", "smtp.host không được để trống"));
    }
    if let Err(e) = smtp.from.get_ref().parse::<lettre::message::Mailbox>() {
        return Err(FieldError::new(
            "from",
            format!(
                "smtp.from `{}` không phải địa chỉ thư hợp lệ ({e}); ví dụ: \"Ban Tuyên giáo <tuyengiao@example.vn>\"",
                smtp.from.get_ref()
            ),
        )
        .at(smtp.from.span()));
    }
    if smtp.username.is_some() && smtp.password_env.is_none() {
        return Err(FieldError::new(
            "password_env",
            "[smtp] có `username` nhưng thiếu `password_env` (tên biến môi trường chứa mật khẩu)",
        ));
    }
    if let Some(ca) = &smtp.ca_file {
        let read = std::fs::read(ca)
            .map_err(|e| e.to_string())
            .and_then(|pem| {
                lettre::transport::smtp::client::Certificate::from_pem(&pem)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = read {
            return Err(FieldError::new(
                "ca_file",
                format!(
                    "smtp.ca_file `{}` không đọc được chứng chỉ PEM ({e})",
                    ca.display()
                ),
            ));
        }
    }
    if smtp.timeout < Duration::from_secs(1) {
        return Err(FieldError::new(
            "timeout",
            "smtp.timeout phải từ 1 giây trở lên",
        ));
    }
    Ok(())
}

/// What serde cannot see in one `[[digests]]` entry: a mail server to send through, a
/// name, a cron schedule, recipients that parse (each once), known topics (`known`), a
/// query in the search language, a sane `max_items`. The error names its key and, for a
/// value inside a list, where it is (`at`).
pub fn validate_digest(
    d: &DigestConfig,
    has_smtp: bool,
    known: &dyn Fn(&str) -> bool,
    tz: chrono_tz::Tz,
) -> std::result::Result<(), FieldError> {
    let id = d.id();
    let err = |field: &str, message: String| Err(FieldError::new(field, message));
    if !has_smtp {
        return err(
            "smtp",
            format!("bản tin `{id}` cần máy chủ thư: thêm mục [smtp] (host, port, security, from)"),
        );
    }
    if d.name.trim().is_empty() {
        return err("name", format!("bản tin `{id}` thiếu `name`"));
    }
    if let Err(e) = d.cron() {
        return Err(FieldError::new(
            "schedule",
            format!(
                "digests.schedule `{}` của `{id}` không phải biểu thức cron hợp lệ ({e}); ví dụ: \"0 7 * * *\" (7 giờ sáng mỗi ngày)",
                d.schedule.get_ref()
            ),
        )
        .at(d.schedule.span()));
    }
    if d.to.is_empty() {
        return err(
            "to",
            format!("bản tin `{id}` cần ít nhất một địa chỉ trong `to`"),
        );
    }
    let mut rcpts: HashMap<String, ()> = HashMap::new();
    for to in &d.to {
        match to.get_ref().parse::<lettre::message::Mailbox>() {
            Ok(m) => {
                if rcpts
                    .insert(m.email.to_string().to_lowercase(), ())
                    .is_some()
                {
                    return Err(FieldError::new(
                        "to",
                        format!("địa chỉ `{}` lặp lại trong `to` của `{id}`", to.get_ref()),
                    )
                    .at(to.span()));
                }
            }
            Err(e) => {
                return Err(FieldError::new(
                    "to",
                    format!(
                        "digests.to `{}` của `{id}` không phải địa chỉ thư hợp lệ ({e})",
                        to.get_ref()
                    ),
                )
                .at(to.span()));
            }
        }
    }
    for t in &d.topics {
        if !known(t.get_ref()) {
            return Err(FieldError::new(
                "topics",
                format!(
                    "bản tin `{id}` dùng chủ đề `{}` nhưng không có [[topics]] nào mã đó",
                    t.get_ref()
                ),
            )
            .at(t.span()));
        }
    }
    match &d.query {
        Some(q) => {
            if let Err(e) = crate::search::query::parse_query(q, tz) {
                return err("query", format!("query của bản tin `{id}`: {e}"));
            }
        }
        None if d.topics.is_empty() => {
            return err(
                "topics",
                format!("bản tin `{id}` cần `topics` hoặc `query` (hoặc cả hai)"),
            );
        }
        None => {}
    }
    if d.max_items == 0 || d.max_items > 500 {
        return err(
            "max_items",
            format!("digests.max_items của `{id}` phải trong khoảng 1..500"),
        );
    }
    Ok(())
}
