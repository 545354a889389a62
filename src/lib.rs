//! gomtin ("gom tin": gather the news) collects news and posts from local Vietnamese
//! sources, keeps every item in SQLite, indexes it in tantivy, and lets office staff
//! search it in Vietnamese — with or without diacritics.
//!
//! One item travels left to right once:
//!
//! ```text
//! config ──► fetch ──► extract ──► normalize ──► store (SQLite) ──► index (tantivy) ──► search ──► CLI
//!                                                     │ seq change log ───┘ (reconcile / rebuild)
//! ```
//!
//! The modules below are listed in that order; `pipeline` strings the stages together for
//! one source, `app` holds the shared handles, `cli` is the command line.

pub mod admin;
pub mod app;
pub mod charset;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod discover;
pub mod error;
pub mod extract;
pub mod fetch;
pub mod follow;
pub mod index;
pub mod model;
pub mod normalize;
pub mod opml;
pub mod pipeline;
pub mod search;
pub mod store;
pub mod vietnamese;
