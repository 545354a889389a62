//! feedparser's encoding cases (`../shared/data/feeds/feedparser/encoding/`), served over
//! HTTP with the `Content-Type` each file's header comment names, fetched by the real
//! `Fetcher`, decoded once by `charset` and parsed by `extract::feed`. For each case the
//! bytes must decode as the comment's `Expect:` says (the expected encoding gives the same
//! text as ours), and the `feed['title']` / `entries[0]['description']` values it names
//! must be what gomtin's own parse gives (title, then the entry's HTML, compared as the
//! text a reader sees).
//!
//! Deliberate differences from feedparser, kept visible here:
//! - `text/xml` without a charset: feedparser applies RFC 3023 (us-ascii); we follow
//!   RFC 7303 (the XML declaration, else UTF-8). Every such case is pure ASCII, so the
//!   decoded text is the same, which is what this test checks.
//! - feed-rs does not read Atom 0.3: those files are parsed again with the Atom 1.0
//!   namespace (nothing else changed) for the values.
//! - feedparser-specific repairs of already-decoded text (`double-encoded-html`,
//!   `demoronize-3`, the `bozo_*` error flags) are not charset decoding and are skipped,
//!   but every file must still go through without a panic.

mod support;

use gomtin::fetch::charset::{self, Charset};
use gomtin::normalize::html_to_text;
use support::{FixtureServer, Route, shared_data};

struct Case {
    name: String,
    bytes: Vec<u8>,
    header: Option<String>,
    expect: String,
}

fn cases() -> Vec<Case> {
    let dir = shared_data().join("feeds/feedparser/encoding");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).expect("encoding cases") {
        let p = e.expect("entry").path();
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if !name.ends_with(".xml") {
            continue;
        }
        let bytes = std::fs::read(&p).expect("read");
        // The comment is ASCII in every encoding but UTF-16/32: read it from the decoded text.
        let text = charset::decode(&bytes, None).text;
        let field = |key: &str| {
            text.lines()
                .find_map(|l| l.trim().strip_prefix(key).map(|v| v.trim().to_string()))
        };
        let header = field("Header:").and_then(|h| {
            h.split_once(':')
                .filter(|(k, _)| k.trim().eq_ignore_ascii_case("content-type"))
                .map(|(_, v)| v.trim().to_string())
        });
        let expect = field("Expect:").unwrap_or_default();
        out.push(Case {
            name,
            bytes,
            header,
            expect,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Python string literal escapes used in the Expect lines: \uXXXX, \xXX, \\.
fn py_unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('u') => {
                let h: String = chars.by_ref().take(4).collect();
                out.extend(u32::from_str_radix(&h, 16).ok().and_then(char::from_u32));
            }
            Some('x') => {
                let h: String = chars.by_ref().take(2).collect();
                out.extend(u32::from_str_radix(&h, 16).ok().and_then(char::from_u32));
            }
            Some(o) => out.push(o),
            None => {}
        }
    }
    out
}

fn quoted_after<'a>(expect: &'a str, key: &str) -> Option<&'a str> {
    let rest = &expect[expect.find(key)? + key.len()..];
    let rest = rest.trim_start().strip_prefix("==")?.trim_start();
    let q = rest.chars().next()?;
    let body = &rest[1..];
    Some(&body[..body.find(q)?])
}

const ATOM_03: &str = "http://purl.org/atom/ns#";
const ATOM_10: &str = "http://www.w3.org/2005/Atom";

const SKIPPED: &[(&str, &str)] = &[
    (
        "double-encoded-html.xml",
        "feedparser repairs mojibake after decoding",
    ),
    (
        "demoronize-3.xml",
        "a literal '&#146;' string, not an encoding question",
    ),
];

#[test]
fn feedparser_encoding_cases_decode_as_expected() {
    let all = cases();
    assert!(all.len() > 60, "found {} cases", all.len());
    let server = FixtureServer::start();
    let fetcher = gomtin::fetch::Fetcher::new(&gomtin::config::FetchConfig {
        allow_private_networks: true,
        ..Default::default()
    })
    .expect("fetcher");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let mut failures = Vec::new();
    let mut checked_encoding = 0;
    let mut checked_values = 0;
    for case in &all {
        let path = format!("/enc/{}", case.name);
        server.set(
            &path,
            Route::ok(case.bytes.clone(), case.header.as_deref().unwrap_or("")),
        );
        let url = url::Url::parse(&server.url(&path)).expect("url");
        let body = match rt.block_on(fetcher.fetch(&url, &Default::default())) {
            Ok(gomtin::fetch::Fetched::Body(b)) => b,
            other => panic!("{}: {other:?}", case.name),
        };
        assert_eq!(
            body.bytes, case.bytes,
            "{}: bytes over HTTP unchanged",
            case.name
        );
        // Never panics, whatever the bytes.
        let decoded = charset::decode(&body.bytes, body.content_type.as_deref());
        let parsed = gomtin::extract::feed::parse_feed(
            charset::xml_as_utf8(&decoded.text).as_bytes(),
            &body.final_url,
        );
        // feed-rs does not read Atom 0.3 (it parses with no title and no entries): those
        // files are also read with the Atom 1.0 namespace, nothing else changed, and the
        // values below come from that parse.
        let parsed = if decoded.text.contains(ATOM_03) {
            let xml = charset::xml_as_utf8(&decoded.text)
                .replace(ATOM_03, ATOM_10)
                .replace("version=\"0.3\"", "");
            gomtin::extract::feed::parse_feed(xml.as_bytes(), &body.final_url)
        } else {
            parsed
        };
        if case.name.starts_with("bozo_") || SKIPPED.iter().any(|(n, _)| *n == case.name) {
            continue;
        }
        let expect = &case.expect;
        if let Some(label) = quoted_after(expect, "encoding") {
            checked_encoding += 1;
            let Some(want) = Charset::for_label(label) else {
                failures.push(format!("{}: unknown expected label {label}", case.name));
                continue;
            };
            let strip = |cs: Charset| -> (String, bool) {
                let (text, errs) = charset::decode_with(&body.bytes, cs);
                (text.trim_start_matches('\u{FEFF}').to_string(), errs)
            };
            let same_family = |a: Charset, b: Charset| {
                a == b
                    || matches!((a, b), (Charset::Whatwg(x), Charset::Whatwg(y))
                        if [x, y].iter().all(|e| *e == encoding_rs::GBK || *e == encoding_rs::GB18030))
            };
            if !same_family(decoded.charset, want) {
                let (ours, _) = strip(decoded.charset);
                let (theirs, errs) = strip(want);
                if errs || ours != theirs {
                    failures.push(format!(
                        "{}: chose {} ({:?}), expected {} — decoded text differs",
                        case.name,
                        decoded.charset.name(),
                        decoded.signal,
                        want.name()
                    ));
                }
            }
        }
        // The values feedparser's `Expect:` names, read from gomtin's own parse.
        let title_want = quoted_after(expect, "feed['title']").map(py_unescape);
        let desc_want = ["entries[0]['description']", "entries[0].summary"]
            .iter()
            .find_map(|k| quoted_after(expect, k))
            .map(py_unescape);
        if title_want.is_none() && desc_want.is_none() {
            continue;
        }
        let (meta, entries) = match &parsed {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{}: gomtin cannot parse it: {e}", case.name));
                continue;
            }
        };
        if let Some(want) = title_want {
            checked_values += 1;
            let got = meta.title.as_deref().map(html_to_text);
            if got.as_deref() != Some(want.as_str()) {
                failures.push(format!("{}: title {got:?}, want {want:?}", case.name));
            }
        }
        if let Some(want) = desc_want {
            checked_values += 1;
            let got = entries
                .first()
                .and_then(|e| e.summary_html.clone().or_else(|| e.content_html.clone()));
            if !same_description(got.as_deref(), &want) {
                failures.push(format!("{}: description {got:?}, want {want:?}", case.name));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        checked_encoding > 50,
        "checked {checked_encoding} encodings"
    );
    assert_eq!(
        checked_values, 8,
        "every value an Expect line names is checked"
    );
}

#[test]
fn cp1258_euro_sign_reaches_the_feed_title() {
    let bytes = std::fs::read(shared_data().join("feeds/feedparser/encoding/x80_cp1258.xml"))
        .expect("x80_cp1258");
    let d = charset::decode(&bytes, Some("application/atom+xml"));
    assert_eq!(d.charset.name(), "windows-1258");
    assert!(d.text.contains("<title>€</title>"), "{}", d.text);
    // Once decoded, the declaration no longer claims cp1258, so no parser decodes twice.
    let xml = charset::xml_as_utf8(&d.text);
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        "{xml}"
    );
    // The same file as an Atom 1.0 feed goes through feed-rs with the euro sign intact.
    let atom = d.text.replace(
        "version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\"",
        "xmlns=\"http://www.w3.org/2005/Atom\"",
    );
    let reencoded = encoding_rs::WINDOWS_1258.encode(&atom).0.into_owned();
    let d2 = charset::decode(&reencoded, Some("application/atom+xml"));
    let base = url::Url::parse("http://127.0.0.1/x80").expect("url");
    let (meta, _) =
        gomtin::extract::feed::parse_feed(charset::xml_as_utf8(&d2.text).as_bytes(), &base)
            .expect("parse");
    assert_eq!(meta.title.as_deref(), Some("€"));
}

/// feedparser's description is the entry's HTML: markup compares as written, text as
/// the text a reader sees.
fn same_description(got: Option<&str>, want: &str) -> bool {
    let Some(got) = got else {
        return false;
    };
    if want.contains('<') {
        got.trim() == want.trim()
    } else {
        html_to_text(got) == want
    }
}
