//! OPML 2.0 import and export of the source list (full, for `import` to read back, or
//! plain, for other feed readers), the one XML escaper, and the one helper that appends new
//! `[[sources]]` blocks to the config file (used by `sources import` and `sources add`).
//! It sits beside `config`, before the pipeline: it only edits what the pipeline will read.
//!
//! Feeds are plain `<outline type="rss" xmlUrl=…>`, so other readers understand the file;
//! gomtin's own settings (id, kind, interval, page selectors) ride along as `gomtin:*`
//! attributes so that export → import gives back the same sources.

use std::collections::HashSet;
use std::path::Path;

use quick_xml::events::Event;

use crate::config::PageSelectors;
use crate::config::edit::ConfigFile;
use crate::config::{Config, SourceConfig, SourceKind};
use crate::error::{Error, Result};

/// The gomtin namespace for OPML attributes.
pub const NS: &str = "https://gomtin.example.org/opml";

/// A source to be written into the config.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceBlock {
    pub id: String,
    pub name: String,
    pub kind: SourceKind,
    pub url: Option<String>,
    pub interval: Option<String>,
    pub selectors: Option<PageSelectors>,
    pub article: Option<String>,
    pub full_content: bool,
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

impl SourceBlock {
    /// The block as TOML text, ending with a blank line.
    pub fn render(&self) -> String {
        let mut out = String::from("[[sources]]\n");
        out.push_str(&format!("id = {}\n", toml_str(&self.id)));
        out.push_str(&format!("name = {}\n", toml_str(&self.name)));
        out.push_str(&format!("kind = {}\n", toml_str(self.kind.as_str())));
        if let Some(u) = &self.url {
            out.push_str(&format!("url = {}\n", toml_str(u)));
        }
        if let Some(i) = &self.interval {
            out.push_str(&format!("interval = {}\n", toml_str(i)));
        }
        if self.full_content {
            out.push_str("full_content = true\n");
        }
        if let Some(a) = &self.article {
            out.push_str(&format!("article = {}\n", toml_str(a)));
        }
        if let Some(s) = &self.selectors {
            out.push_str("[sources.selectors]\n");
            let fields = [
                ("item", &s.item),
                ("link", &Some(s.link.clone())),
                ("title", &s.title),
                ("date", &s.date),
                ("date_format", &s.date_format),
                ("summary", &s.summary),
                ("image", &s.image),
            ];
            for (k, v) in fields {
                if let Some(v) = v {
                    out.push_str(&format!("{k} = {}\n", toml_str(v)));
                }
            }
        }
        out.push('\n');
        out
    }

    fn from_config(s: &SourceConfig, base: &Path) -> SourceBlock {
        SourceBlock {
            id: s.id().to_string(),
            name: s.name.clone(),
            kind: s.kind,
            url: Some(s.location(base)).filter(|u| !u.is_empty()),
            interval: Some(humantime::format_duration(s.interval).to_string()),
            selectors: s.selectors.clone(),
            article: s.article.clone(),
            full_content: s.full_content,
        }
    }
}

/// An id in `[a-z0-9-]` from a name or address, unique among `taken`.
pub fn make_id(hint: &str, taken: &HashSet<String>) -> String {
    let folded = crate::vietnamese::fold(&crate::vietnamese::clean(hint).to_lowercase());
    let mut id = String::new();
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.ends_with('-') && !id.is_empty() {
            id.push('-');
        }
    }
    let mut id: String = id.trim_matches('-').chars().take(40).collect();
    id = id.trim_matches('-').to_string();
    if id.is_empty() {
        id = "nguon".into();
    }
    if !taken.contains(&id) {
        return id;
    }
    (2..)
        .map(|n| format!("{id}-{n}"))
        .find(|c| !taken.contains(c))
        .unwrap_or(id)
}

/// Append blocks to the config file at `path` (comments and layout kept, after the last
/// `[[sources]]`), after checking that the result is valid; written atomically.
pub fn append_to_config(path: &Path, blocks: &[SourceBlock]) -> Result<Config> {
    let mut file = ConfigFile::read(path)?;
    for b in blocks {
        let block = ConfigFile::parse(&b.render(), path)?;
        if let Some(t) = block.entry("sources", &b.id) {
            file.push_entry("sources", t.clone())?;
        }
    }
    file.save()
}

/// Escape text for XML, in element content or in an attribute of either quote: the five
/// special characters become entities, line breaks and tabs character references (so an
/// attribute keeps them), and the control characters XML 1.0 forbids are dropped. The one
/// XML escaper of gomtin: OPML here, the web app's Atom feed too.
pub fn escape_xml(s: &str) -> String {
    let clean: String = s
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t' | '\r'))
        .collect();
    html_escape::encode_double_quoted_attribute(&clean)
        .replace('\'', "&apos;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        .replace('\t', "&#9;")
}

/// One OPML document around `outlines` (each a list of attributes); `gomtin_ns` declares
/// the `gomtin:` attribute namespace.
fn document(
    gomtin_ns: bool,
    outlines: impl IntoIterator<Item = Vec<(&'static str, String)>>,
) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    if gomtin_ns {
        out.push_str(&format!("<opml version=\"2.0\" xmlns:gomtin=\"{NS}\">\n"));
    } else {
        out.push_str("<opml version=\"2.0\">\n");
    }
    out.push_str("  <head>\n    <title>gomtin — nguồn tin</title>\n");
    out.push_str(&format!(
        "    <dateCreated>{}</dateCreated>\n  </head>\n  <body>\n",
        chrono::Utc::now().to_rfc2822()
    ));
    for attrs in outlines {
        out.push_str("    <outline");
        for (k, v) in attrs {
            out.push_str(&format!(" {k}=\"{}\"", escape_xml(&v)));
        }
        out.push_str("/>\n");
    }
    out.push_str("  </body>\n</opml>\n");
    out
}

/// The attributes of one source's outline, gomtin's settings included.
fn outline(s: &SourceConfig, base: &Path) -> Vec<(&'static str, String)> {
    let b = SourceBlock::from_config(s, base);
    let mut attrs = vec![
        ("text", b.name.clone()),
        ("title", b.name.clone()),
        ("gomtin:id", b.id.clone()),
        ("gomtin:kind", b.kind.as_str().to_string()),
    ];
    match (b.kind, &b.url) {
        (SourceKind::Feed, Some(u)) => {
            attrs.insert(0, ("type", "rss".into()));
            attrs.push(("xmlUrl", u.clone()));
        }
        (_, Some(u)) => {
            attrs.insert(0, ("type", "link".into()));
            attrs.push(("htmlUrl", u.clone()));
        }
        _ => {}
    }
    if let Some(i) = &b.interval {
        attrs.push(("gomtin:interval", i.clone()));
    }
    if b.full_content {
        attrs.push(("gomtin:full_content", "true".into()));
    }
    if let Some(a) = &b.article {
        attrs.push(("gomtin:article", a.clone()));
    }
    if let Some(sel) = &b.selectors
        && let Ok(json) = serde_json::to_string(sel)
    {
        attrs.push(("gomtin:selectors", json));
    }
    attrs
}

/// The config's sources as an OPML 2.0 document that `import` reads back the same
/// (`gomtin sources export`).
pub fn export(config: &Config) -> String {
    document(
        true,
        config.sources.iter().map(|s| outline(s, &config.base_dir)),
    )
}

/// A plain OPML 2.0 list of feeds for other readers — `(name, address)` pairs as RSS
/// outlines, nothing of gomtin's own — for `/sources.opml`; the caller picks which
/// addresses may be shown.
pub fn export_for_readers<'a>(feeds: impl IntoIterator<Item = (&'a str, String)>) -> String {
    document(
        false,
        feeds.into_iter().map(|(name, url)| {
            vec![
                ("type", "rss".to_string()),
                ("text", name.to_string()),
                ("title", name.to_string()),
                ("xmlUrl", url),
            ]
        }),
    )
}

/// Read the feeds (and gomtin page/manual sources) of an OPML document. Ids are made
/// unique against `taken` (the config's ids), which is extended with the new ones.
pub fn import(opml: &[u8], taken: &mut HashSet<String>) -> Result<Vec<SourceBlock>> {
    let bad = |message: String| Error::FeedParse {
        url: "OPML".into(),
        message,
    };
    let text = crate::fetch::charset::decode(opml, None).text;
    let text = crate::fetch::charset::xml_as_utf8(&text);
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut out = Vec::new();
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| bad(format!("OPML không hợp lệ: {e}")))?;
        let e = match &ev {
            Event::Start(e) | Event::Empty(e) => e,
            Event::Eof => break,
            _ => continue,
        };
        if !e.name().as_ref().eq_ignore_ascii_case("outline") {
            continue;
        }
        let mut get = std::collections::HashMap::new();
        for a in e.attributes().flatten() {
            let k = a.key.as_ref().to_string();
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| bad(format!("thuộc tính OPML không hợp lệ: {e}")))?
                .to_string();
            get.insert(k, v);
        }
        let kind = match get.get("gomtin:kind").map(String::as_str) {
            Some("page") => SourceKind::Page,
            Some("manual") => SourceKind::Manual,
            _ => SourceKind::Feed,
        };
        let url = match kind {
            SourceKind::Feed => get.get("xmlUrl").or_else(|| get.get("xmlurl")).cloned(),
            _ => get.get("htmlUrl").cloned(),
        };
        if url.is_none() && kind != SourceKind::Manual {
            continue; // a folder outline
        }
        let name = get
            .get("title")
            .or_else(|| get.get("text"))
            .cloned()
            .filter(|n| !n.trim().is_empty())
            .or_else(|| url.clone())
            .unwrap_or_else(|| "Nguồn".into());
        let wanted = get
            .get("gomtin:id")
            .cloned()
            .unwrap_or_else(|| name.clone());
        let id = make_id(&wanted, taken);
        taken.insert(id.clone());
        let selectors = match get.get("gomtin:selectors") {
            Some(j) => Some(
                serde_json::from_str::<PageSelectors>(j)
                    .map_err(|e| bad(format!("gomtin:selectors của `{id}` không hợp lệ: {e}")))?,
            ),
            None => None,
        };
        out.push(SourceBlock {
            id,
            name,
            kind,
            url,
            interval: get.get("gomtin:interval").cloned(),
            selectors,
            article: get.get("gomtin:article").cloned(),
            full_content: get.get("gomtin:full_content").is_some_and(|v| v == "true"),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_text_is_valid_xml_in_any_place() {
        assert_eq!(
            escape_xml("a<b>&\"c'\u{7}\nd"),
            "a&lt;b&gt;&amp;&quot;c&apos;&#10;d"
        );
    }

    #[test]
    fn readers_get_plain_rss_outlines() {
        let doc = export_for_readers([("Báo <A>", "https://a.vn/rss".to_string())]);
        assert!(doc.contains("<opml version=\"2.0\">"), "{doc}");
        assert!(
            doc.contains(
                "<outline type=\"rss\" text=\"Báo &lt;A&gt;\" title=\"Báo &lt;A&gt;\" xmlUrl=\"https://a.vn/rss\"/>"
            ),
            "{doc}"
        );
        assert!(!doc.contains("gomtin:"), "{doc}");
    }

    #[test]
    fn ids_are_folded_and_unique() {
        let mut taken = HashSet::new();
        assert_eq!(
            make_id("Báo Kon Tum – Thời sự", &taken),
            "bao-kon-tum-thoi-su"
        );
        taken.insert("bao-kon-tum".to_string());
        assert_eq!(make_id("Báo Kon Tum", &taken), "bao-kon-tum-2");
        assert_eq!(make_id("!!!", &taken), "nguon");
    }

    #[test]
    fn foreign_opml_with_folders() {
        let opml = r#"<?xml version="1.0"?><opml version="1.0"><body>
            <outline text="Tin tỉnh"><outline text="Báo Gia Lai" type="rss"
              xmlUrl="https://baogialai.com.vn/rss/thoi-su.rss" htmlUrl="https://baogialai.com.vn"/>
            </outline></body></opml>"#;
        let got = import(opml.as_bytes(), &mut HashSet::new()).expect("import");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].id, "bao-gia-lai");
        assert_eq!(got[0].kind, SourceKind::Feed);
        assert_eq!(
            got[0].url.as_deref(),
            Some("https://baogialai.com.vn/rss/thoi-su.rss")
        );
    }
}
