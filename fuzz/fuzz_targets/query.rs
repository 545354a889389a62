//! The query parser: any input parses or is refused, never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|q: &str| {
    let _ = gomtin::search::query::parse_query(q, chrono_tz::Asia::Ho_Chi_Minh);
});
