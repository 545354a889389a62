//! The feed extractor and the normalizer behind it: any bytes parse or fail cleanly.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(base) = url::Url::parse("https://bao.example.vn/rss.xml") else {
        return;
    };
    let text = gomtin::fetch::charset::decode(data, None).text;
    let xml = gomtin::fetch::charset::xml_as_utf8(&text);
    if let Ok((_, entries)) = gomtin::extract::feed::parse_feed(xml.as_bytes(), &base) {
        for e in entries {
            let _ = gomtin::normalize::normalize_entry("fuzz", e, Some(&base), chrono::Utc::now());
        }
    }
});
