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
//! `search`; below they are listed layer by layer, bottom first, each with its one job
//! (a comment line between them keeps rustfmt from sorting them). `pipeline` strings the stages
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
//! email per topic and hands it to `mail` (SMTP), recording every delivery in the store;
//! `tone` judges each item good, neutral or bad news before it is stored, and `alerts`
//! sends the new matches of a saved query at once (email, webhook).

// Layer 1: plain data and rules (no I/O, nothing from the layers above).
// `error`: errors of every stage, one enum with context.
pub mod error;
// `exit`: how a command ends (exit codes): a leaf shared by `main` and `cli`.
pub mod exit;
// `model`: plain data between the stages: `RawEntry`, `NewItem`, `Item`, outcomes.
pub mod model;
// `vietnamese`: text analysis: clean, exact and folded forms, variants, Telex.
pub mod vietnamese;
// `config`: the config file: types, parsing, validation (topic queries via `search::query`).
pub mod config;

// Layer 2: the stages, in the order an item meets them.
// `fetch`: the one HTTP client: caps, redirects, robots, conditional GET, charsets.
pub mod fetch;
// `extract`: decoded text -> entries: feeds, list pages, articles, the follow-up plan.
pub mod extract;
// `normalize`: entries -> items: keys, canonical URLs, sanitized HTML, plain text.
pub mod normalize;
// `tone`: good, neutral or bad news, from a lexicon of weighted phrases, with reasons.
pub mod tone;
// `cluster`: near-duplicate stories: signatures and the one "same story" rule.
pub mod cluster;
// `store`: SQLite, the source of truth: items, sources, shares, users, digests.
pub mod store;
// `index`: the tantivy index, fed from the store's change log.
pub mod index;
// `search`: the query language, its routing onto the index, ranking, snippets.
pub mod search;
// `topics`: topic tagging: saved queries run on each batch as it is indexed.
pub mod topics;
// `metrics`: Prometheus counters and gauges the flows update.
pub mod metrics;
// `mail`: the SMTP side of digests.
pub mod mail;
// `accounts`: staff accounts: password hashes, tokens, sessions.
pub mod accounts;
// `discover`: feed discovery on a homepage.
pub mod discover;
// `opml`: OPML import and export of the source list.
pub mod opml;

// Layer 3: the flows that call the stages in order.
// `app`: the shared handles: config, store, index, fetcher, variants.
pub mod app;
// `offload`: CPU work on untrusted input on the blocking pool, with a time budget.
pub mod offload;
// `pipeline`: one source: fetch -> extract -> follow-ups -> normalize -> store -> after-store.
pub mod pipeline;
// `crawl`: sources over many pages: forum boards -> threads -> pages, paginated lists.
pub mod crawl;
// `feeder`: the one index feeder, for a fetch pass and for the daemon.
pub mod feeder;
// `scheduler`: the daemon's loop that decides when each source is fetched.
pub mod scheduler;
// `digest`: scheduled digests: schedule, selection, rendering, the delivery ledger.
pub mod digest;
// `alerts`: instant alerts on new matches of a query (email, webhook), batched per minute.
pub mod alerts;
// `admin`: the admin's use-cases around sources and manual posts (CLI and web).
pub mod admin;

// Layer 4: the faces.
// `web`: the web app: router, auth, pages, JSON API, feeds, assets.
pub mod web;
// `cli`: the command line: clap types, one file per command group.
pub mod cli;
