//! The one way the running daemon's config changes: [`edit_config`] reads the config file
//! as it is on disk, lets a use-case change it (`config::edit::ConfigFile`), checks the
//! new text with the loader's own rules, replaces the file atomically, applies it with
//! `App::reload` (sources synced, topics tagger rebuilt, scheduler and digest runner
//! woken) and writes the audit line — one edit at a time, so two admins saving at once
//! never lose each other's change. [`reload_from_disk`] is `SIGHUP` and the web's "Tải
//! lại cấu hình": the file as the admin left it, or a clear error with the running config
//! kept. [`retag_in_background`] re-tags the stored items after a topic changed.

use std::sync::Mutex;

use chrono::Utc;

use crate::app::App;
use crate::config::Config;
use crate::config::edit::ConfigFile;
use crate::error::Result;

/// Held for the whole of one edit (read, change, check, write, reload).
static EDITING: Mutex<()> = Mutex::new(());

/// Who did an admin action and what, for the audit log.
#[derive(Debug, Clone)]
pub struct Action<'a> {
    /// The account name (or `dòng lệnh`).
    pub who: &'a str,
    /// A stable code: `source.add`, `topic.edit`, `config.reload`…
    pub what: &'static str,
    /// What it was done to (an id).
    pub target: &'a str,
    /// Anything worth keeping, in words.
    pub detail: String,
}

/// Record `action` in the audit log (a failure to record is logged, not fatal: the change
/// itself is done).
pub fn audit(app: &App, action: &Action<'_>) {
    if let Err(e) = app.store.audit(
        action.who,
        action.what,
        action.target,
        &action.detail,
        Utc::now(),
    ) {
        tracing::error!(error = %e, action = action.what, "could not write the audit log");
    }
    tracing::info!(
        user = action.who,
        action = action.what,
        target = action.target,
        "admin action"
    );
}

/// Change the config file with `change`, check, write, apply and audit it; `change`'s
/// result and the config now running. Blocking (file and SQLite I/O).
pub fn edit_config<R>(
    app: &App,
    action: &Action<'_>,
    change: impl FnOnce(&mut ConfigFile, &Config) -> Result<R>,
) -> Result<(R, std::sync::Arc<Config>)> {
    let _one_at_a_time = EDITING.lock().unwrap_or_else(|p| p.into_inner());
    let running = app.config();
    let before = std::fs::read_to_string(&running.path).map_err(|source| {
        crate::error::Error::ConfigRead {
            path: running.path.clone(),
            source,
        }
    })?;
    let mut file = ConfigFile::parse(&before, &running.path)?;
    let out = change(&mut file, &running)?;
    let config = file.save()?;
    if let Err(e) = app.reload(config) {
        // What the loader accepts but the daemon cannot run (a variants file gone, say):
        // the file goes back to what it was, so file and daemon agree.
        if let Err(w) = crate::config::edit::write_atomic(&running.path, &before) {
            tracing::error!(error = %w, "could not put the config file back after a failed reload");
        }
        return Err(e);
    }
    audit(app, action);
    Ok((out, app.config()))
}

/// Read the config file again and apply it (`SIGHUP`, "Tải lại cấu hình"). On an error
/// (unreadable or invalid file) nothing changes and the running config stays.
pub fn reload_from_disk(app: &App, who: &str) -> Result<std::sync::Arc<Config>> {
    let _one_at_a_time = EDITING.lock().unwrap_or_else(|p| p.into_inner());
    let path = app.config().path.clone();
    let config = match Config::load(&path) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(
                path = %path.display(),
                error = %e,
                "config file not reloaded: it is invalid; the running configuration stays"
            );
            return Err(e);
        }
    };
    app.reload(config)?;
    audit(
        app,
        &Action {
            who,
            what: "config.reload",
            target: "",
            detail: path.display().to_string(),
        },
    );
    Ok(app.config())
}

/// When the topics changed, re-tag every stored item in a background task (the index
/// rebuilds itself from SQLite; searches see the old tags until it commits).
pub fn retag_in_background(app: &App) {
    if !app.index.topics_changed().unwrap_or(false) {
        return;
    }
    let app = app.clone();
    tokio::spawn(async move {
        match crate::pipeline::after_store(&app, None).await {
            Ok(n) => tracing::info!(items = n, "items re-tagged with the new topics"),
            Err(e) => {
                tracing::error!(error = %e, "re-tagging items failed; the next change retries")
            }
        }
    });
}
