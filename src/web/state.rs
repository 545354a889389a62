//! The one state every handler, extractor and middleware of the web app receives: the
//! app handles (config, store, index, fetcher), the daemon's metrics and start time, the
//! compiled templates, the login limiter and the search gate. `render` turns a template and its context
//! into an HTML response; everything a page shows goes through it, auto-escaped.
//! [`Chrome`], what every logged-in page's menu needs, lives here so that the login gate
//! can hand it to the error pages (`error`) as well as to the pages (`view::Chrome::of`).

use std::sync::Arc;
use std::time::Instant;

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;

use super::admission::SearchGate;
use super::assets;
use super::limiter::LoginLimiter;
use crate::app::App;
use crate::metrics::Metrics;

/// Values every logged-in page needs (menu, logout form), the error pages included.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Chrome {
    pub user: String,
    pub is_admin: bool,
    pub csrf: String,
    /// The menu entry of the page shown ("" for none).
    pub current: &'static str,
}

/// What the web app shares, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub metrics: Arc<Metrics>,
    /// When the server started (for `/healthz`'s uptime).
    pub started: Instant,
    pub limiter: Arc<LoginLimiter>,
    /// The login form's CSRF values this server issued (`accounts::FormTokens`).
    pub form_tokens: Arc<crate::accounts::FormTokens>,
    /// Every web search passes it (`[server.limits] search_*`, read at start).
    pub search_gate: SearchGate,
    templates: Arc<Environment<'static>>,
}

impl AppState {
    /// The state of a server starting now.
    pub fn new(app: App, metrics: Arc<Metrics>) -> AppState {
        let limits = app.config().server.limits.clone();
        let login_window = limits.login_failure_window;
        let search_gate = SearchGate::new(
            limits.search_slots(),
            limits.search_queue_budget,
            limits.search_queue_length,
        );
        AppState {
            app,
            metrics,
            started: Instant::now(),
            limiter: Arc::new(LoginLimiter::new(login_window)),
            form_tokens: Arc::new(crate::accounts::FormTokens::new().unwrap_or_else(|e| {
                tracing::error!(error = %e, "no system randomness for the login form key");
                let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
                crate::accounts::FormTokens::from_seed(seed.as_bytes())
            })),
            search_gate,
            templates: Arc::new(assets::templates()),
        }
    }

    /// The display timezone, `[display] timezone`.
    pub fn timezone(&self) -> chrono_tz::Tz {
        self.app.config().display.timezone
    }

    /// True when the server sits behind a proxy (`[server] behind_proxy`): the client
    /// address comes from `X-Forwarded-For` and cookies are `Secure`.
    pub fn behind_proxy(&self) -> bool {
        self.app.config().server.behind_proxy
    }

    /// Render a template with `ctx` (auto-escaped HTML).
    pub fn render(&self, status: StatusCode, name: &str, ctx: minijinja::Value) -> Response {
        let ctx = minijinja::context! { asset_version => env!("CARGO_PKG_VERSION"), ..ctx };
        match self
            .templates
            .get_template(name)
            .and_then(|t| t.render(ctx))
        {
            Ok(body) => (status, Html(body)).into_response(),
            Err(e) => {
                tracing::error!(template = name, error = %e, "render failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    "Lỗi hiển thị trang.",
                )
                    .into_response()
            }
        }
    }
}
