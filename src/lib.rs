//! gomtin ("gom tin": gather the news) collects news and posts from local Vietnamese
//! sources, keeps every item in SQLite, indexes it in tantivy, and lets office staff
//! search it in Vietnamese — with or without diacritics.
//!
//! One item travels left to right once:
//!
//! ```text
//! config ──► fetch ──► extract ──► normalize ──► store (SQLite) ──► index (tantivy) ──► search ──► CLI / web
//!    ▲          │                                     │ seq change log ───┘ (reconcile / rebuild)
//! scheduler ◄───┘ (next_check_at, backoff)
//! ```
//!
//! The modules below are listed in that order; `pipeline` strings the stages together for
//! one source, `scheduler` runs it on time in the daemon, `metrics` counts what happens, `web`
//! serves it, `app` holds the shared handles, `cli` is the command line.

pub mod app;
pub mod cli;
pub mod config;
pub mod error;
pub mod extract;
pub mod fetch;
pub mod index;
pub mod metrics;
pub mod model;
pub mod normalize;
pub mod pipeline;
pub mod robots;
pub mod scheduler;
pub mod search;
pub mod store;
pub mod topics;
pub mod vietnamese;
pub mod web;
