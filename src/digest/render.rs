//! Digest rendering: a view (`select`) through minijinja templates — the office's
//! (`templates/digest.{html,txt}.j2` beside the config) or the built-in ones — into the
//! subject and both bodies of a multipart email. Every field is escaped in the HTML body.

use super::schedule::Period;
use super::select::{DigestView, build_view, clean_line};
use crate::app::App;
use crate::config::DigestConfig;
use crate::error::{Error, Result};

/// The built-in templates (the same files as `config/templates/`).
pub const HTML_TEMPLATE: &str = include_str!("../../config/templates/digest.html.j2");
pub const TEXT_TEMPLATE: &str = include_str!("../../config/templates/digest.txt.j2");

/// A digest ready to send: subject and both bodies.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub total: usize,
}

/// The subject line: name, the period's date, the count.
pub fn subject(d: &DigestConfig, view: &DigestView, period: Period) -> String {
    let date = period.end.with_timezone(&d.timezone).format("%d/%m/%Y");
    let count = if view.total == 0 {
        "không có tin mới".to_string()
    } else {
        format!("{} tin mới", view.total)
    };
    format!("{} {date}: {count}", clean_line(&d.name))
}

/// Render a view with the office's templates (beside the config) or the built-in ones.
pub fn render(app: &App, d: &DigestConfig, period: Period, view: &DigestView) -> Result<Rendered> {
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
        message: format!("mẫu bản tin lỗi: {e}"),
    };
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html.j2") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    for (name, builtin) in [
        ("digest.html.j2", HTML_TEMPLATE),
        ("digest.txt.j2", TEXT_TEMPLATE),
    ] {
        env.add_template_owned(name.to_string(), load(name, builtin)?)
            .map_err(|e| template_error(name, e))?;
    }
    let ctx = minijinja::Value::from_serialize(view);
    let html = env
        .get_template("digest.html.j2")
        .and_then(|t| t.render(&ctx))
        .map_err(|e| template_error("digest.html.j2", e))?;
    let mut text = env
        .get_template("digest.txt.j2")
        .and_then(|t| t.render(&ctx))
        .map_err(|e| template_error("digest.txt.j2", e))?;
    // minijinja drops the template's final newline; a text body ends with one.
    text.push('\n');
    Ok(Rendered {
        subject: subject(d, view, period),
        text,
        html,
        total: view.total,
    })
}

/// Build and render a period's digest (blocking).
pub fn prepare(app: &App, d: &DigestConfig, period: Period) -> Result<Rendered> {
    let view = build_view(app, d, period)?;
    render(app, d, period, &view)
}
