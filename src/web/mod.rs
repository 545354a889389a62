//! The web layer: [`router`] builds the axum `Router` that `gomtin serve` runs on
//! `[server] listen` — the route table below names every handler. The operational
//! endpoints (`ops`: `/healthz`, `/metrics`), what installing the app needs (the
//! manifest and service worker of `capture`) and the first-run `/setup` (`admin`) are
//! public; the staff pages (`pages`, `item`, `capture`, `team`, `feeds`), the JSON API
//! (`api`), the admin's pages and API (`admin`, and `alerts`), login (`auth`) and the
//! static files (`assets`) sit behind the login gate (`auth::require_login`) and the error
//! renderer (`error::render_errors`), and every response carries the security headers
//! (`headers`).
//!
//! Handlers take the one [`AppState`] (`state`), the caller from the `auth` extractors
//! (`Staff`, `Admin`), load through `actions`, shape with `view`, and fail with
//! `error::WebError`; they never import one another, and nothing imports this file but
//! the daemon wiring (`cli::serve`), which runs the router through `listen` (the accept
//! loop with the header timeout and connection caps).

mod actions;
mod admin;
mod admission;
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
use axum::response::Redirect;
use axum::routing::{delete, get, patch, post, put};

pub use state::AppState;

/// The admin's pages and API (issue 14; `admin::*`): first-run setup, sources, accounts,
/// topics, digests, the audit log. One block, so the other route groups stay apart.
fn admin_routes() -> Router<AppState> {
    use admin::{audit, digests, setup, sources, topics, users};
    Router::new()
        .route("/setup", get(setup::setup_form).post(setup::setup_submit))
        .route(
            "/sources",
            get(sources::sources_page).post(sources::add_source_form),
        )
        .route("/sources/new", get(sources::new_page))
        .route("/sources/import", get(sources::import_page))
        .route("/sources/{id}/edit", get(sources::edit_page))
        .route("/sources/{id}/fetch", post(sources::fetch_now))
        .route("/admin", get(|| async { Redirect::to("/sources") }))
        .route("/admin/users", get(users::users_page))
        .route("/admin/topics", get(topics::topics_page))
        .route("/admin/digests", get(digests::digests_page))
        .route("/admin/digests/{id}/preview", get(digests::preview))
        .route("/admin/audit", get(audit::audit_page))
        .route("/account", get(users::account_page))
        .route("/api/sources", get(api::sources).post(sources::api_create))
        .route("/api/sources/check", post(sources::api_check))
        .route("/api/sources/import", post(sources::api_import))
        .route("/api/sources/discover", post(sources::api_discover))
        .route(
            "/api/sources/{id}",
            get(sources::api_get)
                .patch(sources::api_update)
                .delete(sources::api_delete),
        )
        .route("/api/config/reload", post(sources::api_reload))
        .route("/api/users", get(users::api_list).post(users::api_create))
        .route(
            "/api/users/{name}",
            patch(users::api_update).delete(users::api_delete),
        )
        .route(
            "/api/users/{name}/tokens",
            post(users::api_token_create).delete(users::api_tokens_revoke),
        )
        .route(
            "/api/users/{name}/tokens/{id}",
            delete(users::api_token_revoke),
        )
        .route(
            "/api/topics",
            get(topics::api_list).post(topics::api_create),
        )
        .route("/api/topics/count", get(topics::api_count))
        .route(
            "/api/topics/{id}",
            patch(topics::api_update).delete(topics::api_delete),
        )
        .route(
            "/api/digests",
            get(digests::api_list).post(digests::api_create),
        )
        .route(
            "/api/digests/{id}",
            patch(digests::api_update).delete(digests::api_delete),
        )
        .route("/api/digests/{id}/send", post(digests::api_send))
        .route("/api/smtp", put(digests::api_smtp))
        .route("/api/audit", get(audit::api_audit))
}

/// The whole HTTP surface of gomtin.
pub fn router(state: AppState) -> Router {
    let staff = Router::new()
        .route("/", get(pages::search))
        .route("/items/{id}", get(item::item))
        .route("/items/{id}/shares", post(item::add_share))
        .route("/items/{id}/shares/{share}/undo", post(item::undo_share))
        .route("/export", get(feeds::export))
        .route("/feed.atom", get(feeds::atom))
        .route("/sources.opml", get(feeds::opml))
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
        .merge(admin_routes())
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
