//! Charsets: the one place where fetched bytes become UTF-8 text. It sits beside the
//! fetcher (which hands back raw bytes and the `Content-Type` header) and before every
//! parser (`extract::feed`, `extract::page`, `extract::article`, `discover`), so a body is
//! decoded exactly once.
//!
//! The encoding is chosen from, in order: a byte-order mark (unambiguous, as browsers do),
//! the HTTP `charset` parameter, the UTF-16/UTF-32 byte pattern of `<?xml` (XML spec,
//! appendix F), the document's own declaration (`<?xml encoding=…?>` or `<meta charset>`),
//! then valid UTF-8, then detection by chardetng. encoding_rs does the decoding (it covers
//! windows-1258 and the other legacy code pages); UTF-32, which it lacks, is decoded here.
//!
//! A label is not believed when the bytes contradict it, as browsers and feedparser do
//! not either (Vietnamese sites get this wrong often, and mojibake stored is stored for
//! good): bytes labelled with a single-byte code page (ISO-8859-1, windows-1252, …) that
//! are valid UTF-8 with non-ASCII text in it are UTF-8; bytes labelled UTF-8 that are not
//! (mostly invalid, not a stray byte in UTF-8 text) are whatever chardetng finds —
//! windows-1258, with the `.vn` hint. Both are [`Signal::LabelContradicted`].

use std::borrow::Cow;
use std::sync::LazyLock;

use encoding_rs::Encoding;

/// Where the chosen encoding came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Bom,
    HttpHeader,
    /// `<?xml` written in UTF-16/32 without a BOM.
    XmlPattern,
    /// `<?xml … encoding="…"?>`.
    XmlDeclaration,
    /// `<meta charset>` / `<meta http-equiv="Content-Type">`.
    HtmlMeta,
    /// The bytes are valid UTF-8 (or plain ASCII).
    ValidUtf8,
    /// chardetng's guess.
    Detected,
    /// A label (header or declaration) named one encoding and the bytes proved another:
    /// valid UTF-8 labelled as a single-byte code page, or a legacy code page labelled
    /// UTF-8 (then chardetng's guess).
    LabelContradicted,
}

/// The encodings we can decode: encoding_rs's, plus UTF-32 which it does not cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Whatwg(&'static Encoding),
    Utf32Le,
    Utf32Be,
}

impl Charset {
    /// Canonical lowercase name (`utf-8`, `windows-1258`, `utf-32be`, …).
    pub fn name(self) -> String {
        match self {
            Charset::Whatwg(e) => e.name().to_ascii_lowercase(),
            Charset::Utf32Le => "utf-32le".into(),
            Charset::Utf32Be => "utf-32be".into(),
        }
    }

    /// Look a label up (`cp1258`, `utf_16`, `u16`, `us-ascii`, …). Python-style aliases that
    /// the WHATWG list lacks are mapped first.
    pub fn for_label(label: &str) -> Option<Charset> {
        let l = label
            .trim()
            .trim_matches(|c| c == '"' || c == '\'')
            .trim()
            .to_ascii_lowercase()
            .replace('_', "-");
        let alias = match l.as_str() {
            "u16" | "utf16" | "utf-16" => Some("utf-16be"),
            "cp1258" => Some("windows-1258"),
            "cp1252" => Some("windows-1252"),
            "cp1251" => Some("windows-1251"),
            "cp1250" => Some("windows-1250"),
            "u8" | "utf8" => Some("utf-8"),
            _ => None,
        };
        match alias.unwrap_or(l.as_str()) {
            "utf-32" | "utf32" | "u32" | "utf-32be" | "ucs-4" | "ucs4" => Some(Charset::Utf32Be),
            "utf-32le" => Some(Charset::Utf32Le),
            other => Encoding::for_label(other.as_bytes()).map(Charset::Whatwg),
        }
    }
}

/// A decoded body.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub text: String,
    pub charset: Charset,
    pub signal: Signal,
    /// True when some bytes were invalid in the chosen encoding (replaced by U+FFFD).
    pub had_errors: bool,
}

/// The `charset` parameter of a `Content-Type` value, tolerant of spaces and quotes
/// (`text/xml;charset= "us-ascii"`); malformed parameters are ignored.
pub fn http_charset(content_type: &str) -> Option<Charset> {
    content_type.split(';').skip(1).find_map(|param| {
        let (k, v) = param.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let v = v.trim().trim_matches(|c| c == '"' || c == '\'').trim();
        if v.is_empty() {
            return None;
        }
        Charset::for_label(v)
    })
}

fn bom(bytes: &[u8]) -> Option<(Charset, usize)> {
    if bytes.starts_with(&[0xFF, 0xFE, 0, 0]) {
        return Some((Charset::Utf32Le, 4));
    }
    if bytes.starts_with(&[0, 0, 0xFE, 0xFF]) {
        return Some((Charset::Utf32Be, 4));
    }
    Encoding::for_bom(bytes).map(|(e, n)| (Charset::Whatwg(e), n))
}

/// `<?xml` in UTF-16/UTF-32 without a BOM (XML 1.0, appendix F).
fn xml_pattern(bytes: &[u8]) -> Option<Charset> {
    match bytes.get(..4)? {
        [0, 0, 0, b'<'] => Some(Charset::Utf32Be),
        [b'<', 0, 0, 0] => Some(Charset::Utf32Le),
        [0, b'<', 0, b'?'] => Some(Charset::Whatwg(encoding_rs::UTF_16BE)),
        [b'<', 0, b'?', 0] => Some(Charset::Whatwg(encoding_rs::UTF_16LE)),
        _ => None,
    }
}

static XML_DECL: LazyLock<Option<regex::bytes::Regex>> = LazyLock::new(|| {
    regex::bytes::Regex::new(r#"^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']"#).ok()
});
static META_CHARSET: LazyLock<Option<regex::bytes::Regex>> = LazyLock::new(|| {
    regex::bytes::Regex::new(r#"(?i)<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)"#).ok()
});

/// The encoding named by `<?xml … encoding="…"?>` at the very start.
fn xml_declared(bytes: &[u8]) -> Option<Charset> {
    let head = &bytes[..bytes.len().min(512)];
    let caps = XML_DECL.as_ref()?.captures(head)?;
    Charset::for_label(std::str::from_utf8(caps.get(1)?.as_bytes()).ok()?)
}

/// The encoding named by a `<meta>` in the first 2 KiB (HTML prescan, simplified).
fn meta_declared(bytes: &[u8]) -> Option<Charset> {
    let head = &bytes[..bytes.len().min(2048)];
    let caps = META_CHARSET.as_ref()?.captures(head)?;
    let cs = Charset::for_label(std::str::from_utf8(caps.get(1)?.as_bytes()).ok()?)?;
    // An ASCII-compatible document cannot really be UTF-16/32 (HTML spec: use UTF-8).
    Some(match cs {
        Charset::Whatwg(e) if e == encoding_rs::UTF_16LE || e == encoding_rs::UTF_16BE => {
            Charset::Whatwg(encoding_rs::UTF_8)
        }
        Charset::Utf32Be | Charset::Utf32Le => Charset::Whatwg(encoding_rs::UTF_8),
        other => other,
    })
}

/// Choose the encoding of `bytes` (see the module doc for the order) without decoding.
pub fn sniff(bytes: &[u8], content_type: Option<&str>) -> (Charset, Signal) {
    if let Some((cs, _)) = bom(bytes) {
        return (cs, Signal::Bom);
    }
    if let Some(cs) = content_type.and_then(http_charset) {
        return believe_label(bytes, cs, Signal::HttpHeader);
    }
    if let Some(cs) = xml_pattern(bytes) {
        // The declaration may still tell the byte order apart; the pattern is enough.
        return (cs, Signal::XmlPattern);
    }
    if let Some(cs) = xml_declared(bytes) {
        // A document that parsed as ASCII cannot really be UTF-16/32 (declared but not so).
        let cs = match cs {
            Charset::Whatwg(e) if e == encoding_rs::UTF_16LE || e == encoding_rs::UTF_16BE => {
                Charset::Whatwg(encoding_rs::UTF_8)
            }
            Charset::Utf32Be | Charset::Utf32Le => Charset::Whatwg(encoding_rs::UTF_8),
            other => other,
        };
        return believe_label(bytes, cs, Signal::XmlDeclaration);
    }
    if let Some(cs) = meta_declared(bytes) {
        return believe_label(bytes, cs, Signal::HtmlMeta);
    }
    if std::str::from_utf8(bytes).is_ok() {
        return (Charset::Whatwg(encoding_rs::UTF_8), Signal::ValidUtf8);
    }
    (Charset::Whatwg(detect(bytes)), Signal::Detected)
}

/// chardetng's guess for `bytes`, with `.vn` as the TLD hint (windows-1258 is the
/// favoured legacy guess).
fn detect(bytes: &[u8]) -> &'static Encoding {
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    det.feed(bytes, true);
    det.guess(Some(b"vn"), chardetng::Utf8Detection::Allow)
}

/// What the bytes say about UTF-8: how many non-ASCII characters are well formed, and how
/// many invalid sequences there are.
fn utf8_evidence(bytes: &[u8]) -> (usize, usize) {
    let (mut good, mut bad) = (0, 0);
    for chunk in bytes.utf8_chunks() {
        good += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        bad += usize::from(!chunk.invalid().is_empty());
    }
    (good, bad)
}

/// `label` (from `signal`) unless the bytes contradict it (see the module doc).
fn believe_label(bytes: &[u8], label: Charset, signal: Signal) -> (Charset, Signal) {
    let Charset::Whatwg(enc) = label else {
        return (label, signal);
    };
    if enc == encoding_rs::UTF_8 {
        // Well-formed UTF-8 (nearly every feed) has no bad sequence: nothing to count.
        if std::str::from_utf8(bytes).is_ok() {
            return (label, signal);
        }
        let (good, bad) = utf8_evidence(bytes);
        // A stray byte in real UTF-8 text stays a U+FFFD; a legacy page is mostly "bad".
        if bad > 0 && good < bad * 8 {
            let guess = detect(bytes);
            if guess != encoding_rs::UTF_8 {
                return (Charset::Whatwg(guess), Signal::LabelContradicted);
            }
        }
        return (label, signal);
    }
    if enc.is_single_byte() {
        // `good > 0 && bad == 0` of `utf8_evidence`: well formed, and not all ASCII.
        if !bytes.is_ascii() && std::str::from_utf8(bytes).is_ok() {
            return (
                Charset::Whatwg(encoding_rs::UTF_8),
                Signal::LabelContradicted,
            );
        }
    }
    (label, signal)
}

/// Decode `bytes` once, choosing the encoding as described in the module doc.
/// The BOM (if any) is removed; invalid sequences become U+FFFD.
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    let (charset, signal) = sniff(bytes, content_type);
    let body = match bom(bytes) {
        Some((b, n)) if b == charset => &bytes[n..],
        _ => bytes,
    };
    let (mut text, had_errors) = decode_with(body, charset);
    // U+0080–U+009F are C2 80 … C2 9F in UTF-8: looked for in the bytes.
    if text
        .as_bytes()
        .windows(2)
        .any(|w| w[0] == 0xC2 && (0x80..=0x9F).contains(&w[1]))
    {
        text = repair_c1(&text);
    }
    Decoded {
        text,
        charset,
        signal,
        had_errors,
    }
}

/// C1 control characters (U+0080–U+009F) never belong in text; when they appear, the
/// publisher meant windows-1252 punctuation (`\u{92}` -> `’`), as HTML's numeric-reference
/// rules also assume. Others are dropped.
pub fn repair_c1(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            let n = c as u32;
            if !(0x80..=0x9f).contains(&n) {
                return Some(c);
            }
            let byte = [n as u8];
            let (s, _, errors) = encoding_rs::WINDOWS_1252.decode(&byte);
            s.chars().next().filter(|r| !errors && (*r as u32) > 0x9f)
        })
        .collect()
}

/// Decode with a known encoding, no BOM sniffing.
pub fn decode_with(bytes: &[u8], charset: Charset) -> (String, bool) {
    match charset {
        Charset::Whatwg(e) => {
            let (text, had_errors) = e.decode_without_bom_handling(bytes);
            (text.into_owned(), had_errors)
        }
        Charset::Utf32Le | Charset::Utf32Be => {
            let mut out = String::with_capacity(bytes.len() / 4);
            let mut errors = !bytes.len().is_multiple_of(4);
            for chunk in bytes.chunks_exact(4) {
                let arr = [chunk[0], chunk[1], chunk[2], chunk[3]];
                let n = if charset == Charset::Utf32Le {
                    u32::from_le_bytes(arr)
                } else {
                    u32::from_be_bytes(arr)
                };
                match char::from_u32(n) {
                    Some(c) => out.push(c),
                    None => {
                        errors = true;
                        out.push('\u{FFFD}');
                    }
                }
            }
            (out, errors)
        }
    }
}

/// Make decoded XML safe to hand to an XML parser that reads the declaration itself:
/// the `encoding="…"` pseudo-attribute is rewritten to `UTF-8`, so nothing decodes twice.
pub fn xml_as_utf8(text: &str) -> Cow<'_, str> {
    let trimmed = text.trim_start_matches('\u{FEFF}');
    let lead = text.len() - trimmed.len();
    let body = &text[lead..];
    if !body.trim_start().starts_with("<?xml") {
        return Cow::Borrowed(body);
    }
    let Some(end) = body.find("?>") else {
        return Cow::Borrowed(body);
    };
    let decl = &body[..end];
    static ENC: LazyLock<Option<regex::Regex>> =
        LazyLock::new(|| regex::Regex::new(r#"\bencoding\s*=\s*(?:"[^"]*"|'[^']*')"#).ok());
    static UTF8: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
        regex::Regex::new(r#"\bencoding\s*=\s*(?:"(?i:utf-8)"|'(?i:utf-8)')"#).ok()
    });
    match ENC.as_ref() {
        // Already declared UTF-8 (most feeds): no copy of the whole feed.
        Some(_) if UTF8.as_ref().is_some_and(|re| re.is_match(decl)) => Cow::Borrowed(body),
        Some(re) if re.is_match(decl) => {
            let new_decl = re.replace(decl, "encoding=\"UTF-8\"");
            Cow::Owned(format!("{new_decl}{}", &body[end..]))
        }
        _ => Cow::Borrowed(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cp1258_declared_in_xml() {
        let bytes = b"<?xml version=\"1.0\" encoding=\"cp1258\"?><t>\x80 Vi\xd2\xea\xf2t</t>";
        let d = decode(bytes, Some("application/xml"));
        assert_eq!(d.charset.name(), "windows-1258");
        assert_eq!(d.signal, Signal::XmlDeclaration);
        assert!(d.text.contains('€'), "{}", d.text);
        assert!(xml_as_utf8(&d.text).starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    }

    #[test]
    fn http_charset_is_tolerant() {
        for ct in [
            "text/xml;charset= \"us-ascii\"",
            "application/atom+xml; charset='us-ascii'",
            "text/xml;charset = us-ascii",
        ] {
            assert_eq!(
                http_charset(ct),
                Some(Charset::Whatwg(encoding_rs::WINDOWS_1252)),
                "{ct}"
            );
        }
        assert_eq!(http_charset("text/xml;"), None);
        assert_eq!(http_charset("text/xml; charset:iso-8859-1"), None);
        assert_eq!(http_charset("text/xml; qs=0.9"), None);
    }

    #[test]
    fn bom_beats_everything_and_is_removed() {
        let d = decode(
            b"\xEF\xBB\xBFxin ch\xC3\xA0o",
            Some("text/html; charset=iso-8859-1"),
        );
        assert_eq!(d.text, "xin chào");
        assert_eq!(d.signal, Signal::Bom);
    }

    #[test]
    fn html_meta_and_detection() {
        let d = decode(
            b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1258\"></head><body>Vi\xd2\xeat</body>",
            None,
        );
        assert_eq!(d.charset.name(), "windows-1258");
        assert_eq!(d.signal, Signal::HtmlMeta);
        let d = decode("<p>Tiếng Việt</p>".as_bytes(), None);
        assert_eq!(d.signal, Signal::ValidUtf8);
    }

    #[test]
    fn c1_controls_become_punctuation() {
        assert_eq!(decode("don\u{92}t".as_bytes(), None).text, "don’t");
        assert_eq!(repair_c1("a\u{81}b"), "ab");
    }

    #[test]
    fn utf32_without_bom() {
        let s = "<?xml version=\"1.0\"?><a>ệ</a>";
        let bytes: Vec<u8> = s.chars().flat_map(|c| (c as u32).to_be_bytes()).collect();
        let d = decode(&bytes, None);
        assert_eq!(d.charset, Charset::Utf32Be);
        assert_eq!(d.text, s);
    }

    #[test]
    fn utf8_labelled_latin1_is_utf8() {
        let text = "Nông thôn mới ở Kon Rẫy";
        for (ct, body) in [
            (
                Some("application/rss+xml; charset=ISO-8859-1"),
                format!("<rss><t>{text}</t></rss>"),
            ),
            (
                None,
                format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss><t>{text}</t></rss>"),
            ),
            (
                Some("text/xml; charset=windows-1252"),
                format!("<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><t>{text}</t>"),
            ),
            (
                Some("text/html; charset=iso-8859-1"),
                format!("<p>{text}</p>"),
            ),
        ] {
            let d = decode(body.as_bytes(), ct);
            assert!(d.text.contains(text), "{ct:?}: {}", d.text);
            assert_eq!(d.signal, Signal::LabelContradicted);
        }
        // Real Latin-1 (é as one byte) stays Latin-1.
        let d = decode(
            b"<t>caf\xe9 cr\xe8me</t>",
            Some("text/xml; charset=iso-8859-1"),
        );
        assert_eq!(d.text, "<t>café crème</t>");
        assert_eq!(d.signal, Signal::HttpHeader);
    }

    #[test]
    fn windows_1258_labelled_utf8_is_detected() {
        let text = "Nông thôn mới: các xã đạt chuẩn, người dân phấn khởi vì đường sá được làm mới";
        let (bytes, _, _) = encoding_rs::WINDOWS_1258.encode(text);
        for ct in [Some("text/xml; charset=utf-8"), None] {
            let mut body = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><t>".to_vec();
            body.extend_from_slice(&bytes);
            body.extend_from_slice(b"</t>");
            let d = decode(&body, ct);
            assert_eq!(d.charset.name(), "windows-1258", "{ct:?}");
            assert_eq!(d.signal, Signal::LabelContradicted);
            assert!(!d.text.contains('\u{FFFD}'), "{}", d.text);
            assert_eq!(
                crate::vietnamese::clean(&d.text),
                format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><t>{text}</t>")
            );
        }
        // One stray byte in UTF-8 text is not a reason to read it all as another code page.
        let mut body = "Tiếng Việt có dấu, rất nhiều chữ có dấu ở đây"
            .as_bytes()
            .to_vec();
        body.push(0xff);
        let d = decode(&body, Some("text/html; charset=utf-8"));
        assert_eq!(d.charset.name(), "utf-8");
        assert!(d.text.starts_with("Tiếng Việt"));
    }
}
