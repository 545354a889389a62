//! The web layer: [`router`] builds the axum `Router` that `gomtin serve` runs on
//! `[server] listen` — the route table below names every handler. The operational
//! endpoints (`ops`: `/healthz`, `/metrics`) and what installing the app needs (the
//! manifest and service worker of `capture`) are public; the staff pages (`pages`,
//! `item`, `capture`, `team`, `feeds`, `alerts`), the JSON API (`api`), login (`auth`)
//! and the static files (`assets`) sit behind the login gate (`auth::require_login`) and
//! the error renderer (`error::render_errors`), and every response carries the security
//! headers (`headers`).
//!
//! Handlers take the one [`AppState`] (`state`), the caller from the `auth` extractors
//! (`Staff`, `Admin`), load through `actions`, shape with `view`, and fail with
//! `error::WebError`; they never import one another, and nothing imports this file but
//! the daemon wiring (`cli::serve`), which runs the router through `listen` (the accept
//! loop with the header timeout and connection caps).

mod actions;
mod alerts;
mod api;
mod assets;
mod auth;
mod capture;
mod error;
mod feeds;
mod headers;
mod item;
mod limiter;
pub mod listen;
mod ops;
mod pages;
mod state;
mod team;
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
        .route("/items/{id}", get(item::item))
        .route("/items/{id}/shares", post(item::add_share))
        .route("/items/{id}/shares/{share}/undo", post(item::undo_share))
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
        // The staff's day (issue 15): capture, save, propose, "Tin mới", the ledger.
        .route("/capture", get(capture::form).post(capture::submit))
        .route("/capture/fetch", post(capture::fetch))
        .route("/items/{id}/save", post(item::save))
        .route("/items/{id}/proposals", post(item::propose))
        .route("/proposals", get(team::proposals))
        .route("/proposals/{id}/approve", post(team::approve))
        .route("/proposals/{id}/dismiss", post(team::dismiss))
        .route("/saved", get(team::saved))
        .route("/moi", get(team::news))
        .route("/shares.csv", get(feeds::shares_csv))
        .route("/api/posts", post(api::add_post))
        .route("/api/items/{id}/proposals", post(api::propose))
        .route("/api/proposals", get(api::proposals))
        .route("/api/proposals/{id}/approve", post(api::approve))
        .route("/api/proposals/{id}/dismiss", post(api::dismiss))
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
        .route("/manifest.webmanifest", get(capture::manifest))
        .route("/sw.js", get(capture::service_worker))
        .merge(staff)
        .layer(middleware::from_fn(headers::security_headers))
        .with_state(state)
}
