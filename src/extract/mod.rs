//! Extraction: turn decoded text into `RawEntry` values, one sub-module per kind of
//! source. It sits between `fetch` (bytes in, decoded once by `fetch::charset`) and
//! `normalize` (clean items out), does no I/O and no cleaning of its own beyond what the
//! parser does. `follow` plans which article pages the pipeline fetches for page sources
//! and `full_content` feeds, and merges what `article` reads from them into the entries.
//! `bounded` caps the nesting depth of any HTML before a tree is built from it.

pub mod article;
pub mod bounded;
pub mod feed;
pub mod follow;
pub mod page;
