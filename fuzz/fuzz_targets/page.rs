//! The list-page and article extractors: any HTML is read or refused, never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|html: &str| {
    let Ok(base) = url::Url::parse("https://bao.example.vn/tin/") else {
        return;
    };
    let selectors = gomtin::config::PageSelectors {
        item: Some(".item, li, article".into()),
        link: "a".into(),
        title: None,
        date: Some("time@datetime".into()),
        date_format: None,
        summary: Some("p".into()),
        image: Some("img".into()),
    };
    if let Ok(sel) = gomtin::extract::page::CompiledSelectors::new(&selectors) {
        let _ = gomtin::extract::page::extract_list(html, &base, &sel, chrono_tz::UTC);
    }
    let _ = gomtin::extract::article::extract_article(html, &base, None, chrono_tz::UTC);
});
