//! The admin's whole job in the browser, one handler file per area: the first-run setup
//! (`setup`), sources (`sources`: health, add with discovery and "Kiểm tra", edit,
//! delete, OPML import, "Tải lại cấu hình"), accounts (`users`: the admin's list and each
//! person's own account page), topics (`topics`), digests and the mail server
//! (`digests`), and the audit log (`audit`). `form` holds what they share. Each page has
//! its JSON API beside it; the use-cases are `admin`'s (the same as the command line's),
//! and the config file stays the one source of truth for sources, topics and digests.

pub mod audit;
pub mod digests;
pub mod form;
pub mod setup;
pub mod sources;
pub mod topics;
pub mod users;
