//! What an alert says: a batch's items turned into the view the templates get
//! (`config/templates/alert.{html,txt}.j2`, overridable beside the config like the
//! digest's), the email subject, and the JSON a webhook receives. Every text is one clean
//! line; every link is http(s) only.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::app::App;
use crate::config::AlertConfig;
use crate::digest::clean_line;
use crate::error::{Error, Result};
use crate::model::{Item, Tone};
use crate::normalize::{excerpt, safe_url};

/// The built-in templates (the same files as `config/templates/`).
pub const ALERT_HTML: &str = include_str!("../../config/templates/alert.html.j2");
pub const ALERT_TEXT: &str = include_str!("../../config/templates/alert.txt.j2");

/// Characters of an item's excerpt.
const EXCERPT_CHARS: usize = 240;

/// One item as an alert shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AlertItemView {
    pub id: i64,
    pub title: String,
    pub url: Option<String>,
    pub source: String,
    pub source_name: String,
    /// Local time, "08:15 01/12/2026".
    pub time: String,
    /// RFC 3339, UTC.
    pub published: String,
    pub first_seen: String,
    pub tone: Tone,
    pub tone_label: String,
    pub tone_score: f32,
    /// The phrases that decided the tone, in one line.
    pub tone_reasons: String,
    pub excerpt: String,
}

/// Everything the templates and the webhook get.
#[derive(Debug, Clone, Serialize)]
pub struct AlertView {
    pub id: String,
    pub name: String,
    pub query: String,
    pub tone: Option<Tone>,
    /// "3 tin mới".
    pub summary: String,
    pub count: usize,
    pub items: Vec<AlertItemView>,
    /// `alert-ID-BATCH`: the same for every attempt of one delivery (receivers can use it
    /// to recognise a message they have seen).
    pub delivery_id: String,
    /// True for `gomtin alert test`.
    pub test: bool,
    pub generated_at: String,
}

/// The view of `items` for alert `a` (batch `batch`, or 0 for a test).
pub fn view(
    app: &App,
    a: &AlertConfig,
    items: &[Item],
    batch: i64,
    test: bool,
    now: DateTime<Utc>,
) -> AlertView {
    let config = app.config();
    let tz = config.display.timezone;
    let source_name = |id: &str| {
        config
            .source(id)
            .map(|s| clean_line(&s.name))
            .unwrap_or_else(|| id.to_string())
    };
    let views: Vec<AlertItemView> = items
        .iter()
        .map(|i| {
            let tone = i
                .tone
                .clone()
                .unwrap_or_else(crate::model::ToneVerdict::neutral);
            let body = if i.summary.trim().is_empty() {
                &i.content_text
            } else {
                &i.summary
            };
            AlertItemView {
                id: i.id,
                title: clean_line(&i.title),
                url: safe_url(i.canonical_url.as_deref().or(i.url.as_deref())),
                source: i.source_id.clone(),
                source_name: source_name(&i.source_id),
                time: i
                    .published_at
                    .with_timezone(&tz)
                    .format("%H:%M %d/%m/%Y")
                    .to_string(),
                published: i
                    .published_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                first_seen: i
                    .first_seen_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                tone: tone.label,
                tone_label: tone.label.label_vi().to_string(),
                tone_score: tone.score,
                tone_reasons: clean_line(&tone.reasons_line()),
                excerpt: excerpt(&clean_line(body), EXCERPT_CHARS),
            }
        })
        .collect();
    AlertView {
        id: a.id().to_string(),
        name: clean_line(&a.name),
        query: clean_line(&a.query),
        tone: a.tone,
        summary: format!("{} tin mới", views.len()),
        count: views.len(),
        items: views,
        delivery_id: format!("alert-{}-{batch}", a.id()),
        test,
        generated_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

/// The subject line: "[Cảnh báo] Tin xấu Kon Tum: 3 tin mới".
pub fn subject(v: &AlertView) -> String {
    let lead = if v.test { "[Thử] " } else { "" };
    format!("{lead}[Cảnh báo] {}: {}", v.name, v.summary)
}

/// The text and HTML bodies of an alert email (the office's templates beside the config,
/// else the built-in ones; HTML auto-escaped).
pub fn bodies(app: &App, v: &AlertView) -> Result<(String, String)> {
    let dir = app.config().base_dir.join("templates");
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
        message: format!("mẫu thư cảnh báo lỗi: {e}"),
    };
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html.j2") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    for (name, builtin) in [("alert.html.j2", ALERT_HTML), ("alert.txt.j2", ALERT_TEXT)] {
        env.add_template_owned(name.to_string(), load(name, builtin)?)
            .map_err(|e| template_error(name, e))?;
    }
    let ctx = minijinja::Value::from_serialize(v);
    let html = env
        .get_template("alert.html.j2")
        .and_then(|t| t.render(&ctx))
        .map_err(|e| template_error("alert.html.j2", e))?;
    let mut text = env
        .get_template("alert.txt.j2")
        .and_then(|t| t.render(&ctx))
        .map_err(|e| template_error("alert.txt.j2", e))?;
    text.push('\n');
    Ok((text, html))
}

/// The JSON a webhook receives.
pub fn webhook_body(v: &AlertView) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "alert": {"id": v.id, "name": v.name, "query": v.query, "tone": v.tone},
        "delivery_id": v.delivery_id,
        "test": v.test,
        "sent_at": v.generated_at,
        "count": v.count,
        "items": v.items,
    }))
    .unwrap_or_default()
}
