//! `gomtin serve`, the daemon: under the data-folder lock it catches the index up with
//! SQLite (crash recovery), binds `[server] listen` (or `--listen`), and runs three things
//! until SIGINT/SIGTERM — the web app (`web::router` on `web::listen`'s accept loop, with
//! `[server.limits]`), the fetch scheduler and the digest runner — then stops them together
//! and says so on stdout. While no account exists it prints the first-run setup link;
//! `SIGHUP` reloads the config file.
//!
//! It lives in `cli` rather than beside `scheduler` as a flow: it is the one place that
//! wires the web face to the flows, so as a flow it would make a lower layer import `web`;
//! and like every command it talks to the terminal.

use std::io::Write;

use crate::app::App;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::exit::Exit;

/// Run `gomtin serve` until SIGINT or SIGTERM.
pub async fn run(config: Config, listen: Option<std::net::SocketAddr>) -> Result<Exit> {
    let lock = crate::app::lock_data_dir(&config.data_dir())?;
    let addr = listen.unwrap_or(config.server.listen);
    let app = App::open_locked(config, &lock)?;
    // Crash recovery: whatever SQLite committed but the index missed is indexed now.
    let recovered = crate::pipeline::catch_up_index(&app).await?;
    if recovered > 0 {
        tracing::info!(items = recovered, "index caught up at startup");
    }
    let metrics = std::sync::Arc::new(crate::metrics::Metrics::new());
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Listen {
            addr: addr.to_string(),
            message: e.to_string(),
        })?;
    let bound = listener.local_addr().map_err(|e| Error::Listen {
        addr: addr.to_string(),
        message: e.to_string(),
    })?;
    {
        // stdout may be a closed pipe (daemon under a supervisor): never panic on it.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "gomtin đang chạy tại http://{bound} (Ctrl+C để dừng)");
        // First run: the one way in is this single-use link (valid until an account exists).
        if let Some(token) = crate::accounts::start_setup(&app.store, chrono::Utc::now())? {
            let host = if bound.ip().is_unspecified() {
                std::net::SocketAddr::new([127, 0, 0, 1].into(), bound.port())
            } else {
                bound
            };
            let _ = writeln!(
                out,
                "Chưa có tài khoản nào: mở http://{host}/setup?token={token} để tạo tài khoản quản trị đầu tiên."
            );
        }
        let _ = out.flush();
    }
    tracing::info!(%bound, "serving");
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(wait_for_signal(shutdown.clone()));
    let state = crate::web::AppState::new(app.clone(), metrics.clone());
    let server_config = app.config().server.clone();
    let caps = crate::web::listen::Caps::new(&server_config.limits, server_config.behind_proxy);
    // The accept loop gives handlers the client address (the login brake needs it).
    let server =
        crate::web::listen::serve(listener, crate::web::router(state), caps, shutdown.clone());
    #[cfg(unix)]
    tokio::spawn(reload_on_hangup(app.clone(), shutdown.clone()));
    let digests = crate::digest::run(app.clone(), metrics.clone(), shutdown.clone());
    let scheduler = crate::scheduler::run(app, metrics, shutdown.clone());
    let (served, scheduled, digested) = tokio::join!(
        async {
            let r = server.await;
            shutdown.cancel();
            r
        },
        scheduler,
        digests
    );
    if let Err(e) = served {
        tracing::error!(error = %e, "web server failed");
    }
    if let Err(e) = digested {
        tracing::error!(error = %e, "digest runner failed");
    }
    scheduled?;
    let _ = writeln!(std::io::stdout().lock(), "gomtin đã dừng.");
    Ok(Exit::Ok)
}

/// `SIGHUP`: read the config file again and apply it; an invalid file is refused with
/// its error in the log, and the running config stays.
#[cfg(unix)]
async fn reload_on_hangup(app: App, shutdown: tokio_util::sync::CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangup = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGHUP; config reloads only from the web");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            got = hangup.recv() => if got.is_none() { return },
        }
        tracing::info!("SIGHUP: reloading the config file");
        let a = app.clone();
        match tokio::task::spawn_blocking(move || {
            crate::admin::edit::reload_from_disk(&a, "SIGHUP")
        })
        .await
        {
            Ok(Ok(_)) => crate::admin::edit::retag_in_background(&app),
            // reload_from_disk logged why; the running config stays.
            Ok(Err(_)) => {}
            Err(e) => tracing::error!(error = %e, "config reload task failed"),
        }
    }
}

/// Cancel `token` on SIGINT or SIGTERM.
async fn wait_for_signal(token: tokio_util::sync::CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "cannot listen for SIGTERM");
                    let _ = ctrl_c.await;
                    token.cancel();
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    tracing::info!("shutdown requested");
    token.cancel();
}
