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
//! In pipeline order the modules are: `config`, `fetch` (+ `fetch::robots`,
//! `fetch::charset`), `extract`, `normalize`, `store`, `cluster`, `topics` / `index`,
//! `search` (rustfmt lists them alphabetically below). `pipeline` strings the stages
//! together for one source and does all their I/O, `feeder` feeds the index while sources
//! are stored, `scheduler` runs the pipeline on time in the daemon, `metrics` counts what
//! happens, `web` serves it, `app` holds the shared handles, `cli` is the command line.
//!
//! Between fetch and normalize, `fetch::charset` decodes every body once and the pipeline
//! parses it as a feed (`extract::feed`) or a CSS-selected list page (`extract::page`),
//! fetching the article pages `extract::follow` plans where configured
//! (`extract::article`). After the store, `pipeline::after_store` clusters what is left
//! (`cluster` groups near-duplicate stories across sources, most of it as items are
//! stored) and brings the index up to date. `discover`, `opml` and `admin` are the admin's
//! tools for adding sources (`gomtin sources add|check|import|export`, `gomtin post add`).
//! Beside the flow, `digest` turns the items first seen in each scheduled period into an
//! email per topic and hands it to `mail` (SMTP), recording every delivery in the store.

pub mod accounts;
pub mod admin;
pub mod app;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod digest;
pub mod discover;
pub mod error;
pub mod exit;
pub mod extract;
pub mod feeder;
pub mod fetch;
pub mod index;
pub mod mail;
pub mod metrics;
pub mod model;
pub mod normalize;
pub mod opml;
pub mod pipeline;
pub mod scheduler;
pub mod search;
pub mod store;
pub mod topics;
pub mod vietnamese;
pub mod web;
