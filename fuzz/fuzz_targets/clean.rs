//! The text normalizer: `clean` is a fixed point after one pass, and the text of any HTML
//! is clean.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    let once = gomtin::vietnamese::clean(s);
    assert_eq!(gomtin::vietnamese::clean(&once), once);
    let text = gomtin::normalize::html_to_text(s);
    assert_eq!(gomtin::vietnamese::clean(&text), text);
});
