//! The web layer: [`router`] builds the axum `Router` that `gomtin serve` runs on
//! `[server] listen` — the route table below names every handler. The operational
//! endpoints (`ops`: `/healthz`, `/metrics`) are public; the staff pages (`pages`,
//! `feeds`, `alerts`), the JSON API (`api`), login (`auth`) and the static files (`assets`) sit
//! behind the login gate (`auth::require_login`) and the error renderer
//! (`error::render_errors`), and every response carries the security headers (`headers`).
//!
//! Handlers take the one [`AppState`] (`state`), the caller from the `auth` extractors
//! (`Staff`, `Admin`), load through `actions`, shape with `view`, and fail with
//! `error::WebError`; they never import one another, and nothing imports this file but
//! the daemon wiring (`cli::serve`).

mod actions;
mod alerts;
mod api;
mod assets;
mod auth;
mod error;
mod feeds;
mod headers;
mod limiter;
mod ops;
mod pages;
mod state;
mod view;

use axum::Router;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{delete, get, post};

pub use state::AppState;

/// The whole HTTP surface of gomtin.
pub fn router(state: AppState) -> Router {
    let staff = Router::new()
        .route("/", get(pages::search))
        .route("/items/{id}", get(pages::item))
        .route("/items/{id}/shares", post(pages::add_share))
        .route("/items/{id}/shares/{share}/undo", post(pages::undo_share))
        .route("/export", get(feeds::export))
        .route("/feed.atom", get(feeds::atom))
        .route("/sources", get(pages::sources).post(pages::add_source))
        .route("/sources.opml", get(feeds::opml))
        .route("/sources/{id}/fetch", post(pages::fetch_now))
        // Issue 17: the alerts and their last deliveries (admins).
        .route("/alerts", get(alerts::page))
        .route("/login", get(auth::login_form).post(auth::login_submit))
        .route("/logout", post(auth::logout))
        .route("/static/{name}", get(assets::asset))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route("/api/search", get(api::search))
        .route("/api/items/{id}", get(api::item))
        .route("/api/items/{id}/shares", post(api::add_share))
        .route("/api/items/{id}/shares/{share}", delete(api::undo_share))
        .route("/api/sources", get(api::sources).post(api::add_source))
        .route("/api/sources/{id}/fetch", post(api::fetch_now))
        .fallback(error::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_login,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            error::render_errors,
        ));
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .merge(staff)
        .layer(middleware::from_fn(headers::security_headers))
        .with_state(state)
}
