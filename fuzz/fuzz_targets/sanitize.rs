//! The sanitizer and the depth bound: a second pass changes nothing, no live markup comes
//! out, no tree deeper than the limit is built.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|html: &str| {
    let once = gomtin::normalize::sanitize_html(html, None);
    assert_eq!(gomtin::normalize::sanitize_html(&once, None), once);
    let l = once.to_ascii_lowercase();
    for bad in ["<script", "<svg", "<iframe", "javascript:", "onerror="] {
        assert!(!l.contains(bad), "{bad} in {once}");
    }
    let b = gomtin::extract::bounded::bounded(html);
    assert!(gomtin::extract::bounded::modelled_depth(&b) <= gomtin::extract::bounded::MAX_DEPTH);
});
