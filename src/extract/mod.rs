//! Extraction: turn fetched bytes into `RawEntry` values, one sub-module per kind of
//! source. It sits between `fetch` (bytes in) and `normalize` (clean items out) and does
//! no cleaning of its own beyond what the parser does.

pub mod article;
pub mod feed;
pub mod page;
