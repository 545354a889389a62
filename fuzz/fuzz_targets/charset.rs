//! The charset decoder: any bytes under any of the labels feeds use decode without panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

const LABELS: &[Option<&str>] = &[
    None,
    Some("text/xml; charset=utf-8"),
    Some("text/html; charset=iso-8859-1"),
    Some("application/rss+xml; charset=windows-1258"),
    Some("text/xml; charset=utf-16"),
];

fuzz_target!(|data: &[u8]| {
    let (label, bytes) = match data.split_first() {
        Some((l, rest)) => (LABELS[*l as usize % LABELS.len()], rest),
        None => (None, data),
    };
    let d = gomtin::fetch::charset::decode(bytes, label);
    let _ = gomtin::fetch::charset::xml_as_utf8(&d.text);
});
