//! Digests: the scheduled emails of what came in, grouped by topic. They sit after the
//! store (items are read from SQLite, the source of truth) and before `mail`.
//!
//! Each `[[digests]]` entry has a cron `schedule`; each scheduled time ends a *period*
//! that covers the items first seen since the previous recorded period ended (so a run
//! missed while the daemon was down is sent once when it comes back, covering all of the
//! gap). A period is recorded in the ledger (`store::digests`) with one delivery per
//! recipient before anything is sent, and each delivery moves `pending -> claimed ->
//! sending -> sent` (or `failed` with the server's reply, or `unknown` when the server got
//! the data but its final reply was lost: never resent on its own). Temporary failures
//! are retried with backoff. The clock is a parameter (`now`) everywhere, so tests drive
//! periods without waiting for real cron times.
//!
//! Rendering: items are filtered by the digest's `query`, tagged with its `topics` by the
//! same query engine as search, collapsed into stories (near-duplicate clusters and
//! identical canonical URLs: "cũng đăng trên …"), and rendered by minijinja
//! templates (`config/templates/digest.{html,txt}.j2`, overridable beside the config) into
//! a multipart email; every field is escaped, and images are links only.
//!
//! The stages live in one file each: `schedule` (cron times and periods), `select` (the
//! period's items grouped into stories and topics), `render` (templates to a message
//! body) and `deliver` (the ledger's state machine, the runner and the daemon loop).

mod deliver;
mod render;
mod schedule;
mod select;

pub use deliver::{Attempt, DigestRunner, SendReport, message_id, run};
pub use render::{HTML_TEMPLATE, Rendered, TEXT_TEMPLATE, prepare, render, subject};
pub use schedule::{
    Period, covered, latest_fire, next_fire, period_ending, send_now_end, send_now_period,
};
pub use select::{DigestView, GroupView, StoryView, build_view, clean_line};
