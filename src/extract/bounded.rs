//! Depth-bounded HTML: the guard every HTML string passes before a tree is built from it
//! (`normalize`'s sanitizer and text collection, `extract::page`, `extract::article`,
//! `discover`). A publisher can nest `<div>` a million deep; the tree builders behind
//! scraper, ammonia and dom_query then spend time quadratic in the depth, and any code
//! that walks such a tree recursively overflows its thread's stack — which aborts the
//! whole process, not just one source. So no tree deeper than [`MAX_DEPTH`] is ever built.
//!
//! [`bounded`] reads the markup with html5ever's tokenizer (linear, no tree) and models
//! the stack of open elements as the tree builder would — void elements, implied end tags
//! (`<p>`, `<li>`, `<td>`, …), foreign content — erring on the deep side. A document that
//! stays within the limit comes back untouched (borrowed); a deeper one is written out
//! again with the start tags (and matching end tags) beyond the limit left out, so every
//! piece of text survives, only flatter. Browsers do the same (Chromium caps the tree at
//! 512). Attribute values and text are escaped again on the way out; the sanitizer still
//! runs afterwards, so this pass needs no allowlist of its own.
//!
//! [`bounded_rebased`] is the same pass with every link attribute resolved against a
//! base URL: a feed's `xml:base` for the content of one entry (`extract::feed`).

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

use html5ever::TokenizerResult;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// The deepest element nesting any gomtin code builds a tree for. Real articles stay far
/// below it (a few dozen levels); recursive walks in the parsing libraries stay within a
/// thread's stack at this depth, and their per-element ancestor scans stay cheap.
pub const MAX_DEPTH: usize = 256;

/// How far down the open-element stack an implied end tag is looked for (the tree
/// builder looks further; stopping early only overestimates the depth).
const LOOKBACK: usize = 16;

/// `html` with no element nested deeper than [`MAX_DEPTH`] (see the module doc).
pub fn bounded(html: &str) -> Cow<'_, str> {
    bounded_to(html, MAX_DEPTH)
}

/// [`bounded`] with another limit (tests).
pub fn bounded_to(html: &str, limit: usize) -> Cow<'_, str> {
    // Every level needs a `<`: a document with few of them cannot be deep.
    if html.bytes().filter(|b| *b == b'<').count() <= limit {
        return Cow::Borrowed(html);
    }
    let sink = Bounder {
        state: RefCell::new(State {
            limit,
            out: String::with_capacity(html.len()),
            ..State::default()
        }),
    };
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    while let TokenizerResult::Script(_) = tokenizer.feed(&input) {}
    tokenizer.end();
    let state = tokenizer.sink.state.into_inner();
    if state.dropped_any {
        Cow::Owned(state.out)
    } else {
        Cow::Borrowed(html)
    }
}

/// `html` bounded as [`bounded`] does, with every link attribute (`href`, `src`,
/// `poster`, …) resolved against `base` — always written out again.
pub fn bounded_rebased(html: &str, base: &url::Url) -> String {
    let sink = Bounder {
        state: RefCell::new(State {
            limit: MAX_DEPTH,
            out: String::with_capacity(html.len() + html.len() / 8),
            rebase: Some(base.clone()),
            ..State::default()
        }),
    };
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    while let TokenizerResult::Script(_) = tokenizer.feed(&input) {}
    tokenizer.end();
    tokenizer.sink.state.into_inner().out
}

/// The deepest nesting of elements in `html` as [`bounded`] models it (tests, metrics).
pub fn modelled_depth(html: &str) -> usize {
    let sink = Bounder {
        state: RefCell::new(State {
            limit: usize::MAX,
            ..State::default()
        }),
    };
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    while let TokenizerResult::Script(_) = tokenizer.feed(&input) {}
    tokenizer.end();
    tokenizer.sink.state.into_inner().deepest
}

struct Bounder {
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    limit: usize,
    out: String,
    /// Open elements as the tree builder would have them (names).
    stack: Vec<String>,
    /// How many `svg`/`math` elements are on `stack`.
    foreign: usize,
    /// Start tags left out beyond the limit, per name, whose end tags are still to come.
    dropped: HashMap<String, usize>,
    dropped_any: bool,
    /// Inside a raw-text element (`script`, `style`, `title`, …): its content is copied as is.
    raw: Option<(String, RawKind)>,
    deepest: usize,
    /// Resolve link attributes against this URL ([`bounded_rebased`]).
    rebase: Option<url::Url>,
}

impl TokenSink for Bounder {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut s = self.state.borrow_mut();
        match token {
            Token::TagToken(tag) => match tag.kind {
                TagKind::StartTag => return s.start(&tag),
                TagKind::EndTag => s.end(&tag),
            },
            Token::CharacterTokens(text) => s.text(&text),
            Token::DoctypeToken(d) => {
                if let Some(name) = d.name {
                    s.out.push_str("<!DOCTYPE ");
                    s.out.push_str(&name);
                    s.out.push('>');
                }
            }
            // Comments carry nothing gomtin keeps; NUL, EOF and parse errors are dropped.
            Token::CommentToken(_)
            | Token::NullCharacterToken
            | Token::EOFToken
            | Token::ParseError(_) => {}
        }
        TokenSinkResult::Continue
    }

    fn adjusted_current_node_present_but_not_in_html_namespace(&self) -> bool {
        self.state.borrow().foreign > 0
    }
}

/// Elements that never have content.
fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "basefont"
            | "bgsound"
            | "br"
            | "col"
            | "embed"
            | "frame"
            | "hr"
            | "img"
            | "input"
            | "keygen"
            | "link"
            | "meta"
            | "param"
            | "source"
            | "track"
            | "wbr"
    )
}

/// HTML start tags that end foreign content (`svg`, `math`) when met inside it.
fn breaks_out_of_foreign(name: &str) -> bool {
    matches!(
        name,
        "b" | "big"
            | "blockquote"
            | "body"
            | "br"
            | "center"
            | "code"
            | "dd"
            | "div"
            | "dl"
            | "dt"
            | "em"
            | "embed"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "head"
            | "hr"
            | "i"
            | "img"
            | "li"
            | "listing"
            | "menu"
            | "meta"
            | "nobr"
            | "ol"
            | "p"
            | "pre"
            | "ruby"
            | "s"
            | "small"
            | "span"
            | "strong"
            | "strike"
            | "sub"
            | "sup"
            | "table"
            | "tt"
            | "u"
            | "ul"
            | "var"
    )
}

/// Start tags that close an open `<p>` (HTML's "close a p element in button scope").
fn closes_p(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "center"
            | "details"
            | "dialog"
            | "dir"
            | "div"
            | "dl"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "header"
            | "hgroup"
            | "hr"
            | "li"
            | "dd"
            | "dt"
            | "listing"
            | "main"
            | "menu"
            | "nav"
            | "ol"
            | "p"
            | "plaintext"
            | "pre"
            | "search"
            | "section"
            | "summary"
            | "table"
            | "ul"
            | "xmp"
    )
}

/// Elements that stop the search for an element to close implicitly.
fn is_scope_boundary(name: &str) -> bool {
    matches!(
        name,
        "applet"
            | "caption"
            | "html"
            | "table"
            | "td"
            | "th"
            | "marquee"
            | "object"
            | "template"
            | "svg"
            | "math"
    )
}

/// The raw-text state the tokenizer must switch to after this HTML start tag.
fn raw_kind(name: &str) -> Option<RawKind> {
    match name {
        "script" => Some(RawKind::ScriptData),
        "style" | "xmp" | "iframe" | "noembed" | "noframes" => Some(RawKind::Rawtext),
        "title" | "textarea" => Some(RawKind::Rcdata),
        _ => None,
    }
}

impl State {
    fn start(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        if matches!(name, "html" | "head" | "body") && self.stack.iter().any(|n| n == name) {
            // A second `<body>` only adds attributes to the first.
            return TokenSinkResult::Continue;
        }
        if self.foreign > 0 && breaks_out_of_foreign(name) {
            while self.foreign > 0 {
                self.pop();
            }
        }
        self.implied_end_tags(name);
        let foreign_self_closing =
            tag.self_closing && (self.foreign > 0 || matches!(name, "svg" | "math"));
        if is_void(name) || foreign_self_closing {
            self.write_tag(tag);
            return TokenSinkResult::Continue;
        }
        let raw = if self.foreign == 0 {
            raw_kind(name)
        } else {
            None
        };
        let plaintext = self.foreign == 0 && name == "plaintext";
        // Raw-text elements hold only text: kept even at the limit (one level more).
        if self.stack.len() >= self.limit && raw.is_none() && !plaintext {
            *self.dropped.entry(name.to_string()).or_insert(0) += 1;
            self.dropped_any = true;
            return TokenSinkResult::Continue;
        }
        self.write_tag(tag);
        self.stack.push(name.to_string());
        self.deepest = self.deepest.max(self.stack.len());
        if matches!(name, "svg" | "math") {
            self.foreign += 1;
        }
        if plaintext {
            self.raw = Some((name.to_string(), RawKind::Rawtext));
            return TokenSinkResult::Plaintext;
        }
        match raw {
            Some(kind) => {
                self.raw = Some((name.to_string(), kind));
                TokenSinkResult::RawData(kind)
            }
            None => TokenSinkResult::Continue,
        }
    }

    fn end(&mut self, tag: &Tag) {
        let name: &str = &tag.name;
        if self.raw.as_ref().is_some_and(|(n, _)| n == name) {
            self.raw = None;
        }
        if let Some(n) = self.dropped.get_mut(name)
            && *n > 0
        {
            *n -= 1;
            return;
        }
        match self.stack.iter().rposition(|n| n == name) {
            Some(at) => {
                while self.stack.len() > at {
                    self.pop();
                }
                self.write_end(name);
            }
            // A stray `</p>` or `</br>` makes an element; other stray end tags do nothing.
            None if matches!(name, "p" | "br") => self.write_end(name),
            None => {}
        }
    }

    fn pop(&mut self) {
        if let Some(n) = self.stack.pop()
            && matches!(n.as_str(), "svg" | "math")
        {
            self.foreign = self.foreign.saturating_sub(1);
        }
    }

    /// Close what the tree builder closes before inserting `name` (a new `<li>` ends the
    /// open one, a block ends an open `<p>`, …), looking at the top of the stack only.
    fn implied_end_tags(&mut self, name: &str) {
        let (targets, boundaries): (&[&str], &[&str]) = match name {
            "li" => (&["li"], &["ul", "ol", "menu"]),
            "dd" | "dt" => (&["dd", "dt"], &["dl"]),
            "option" => (&["option"], &["select", "datalist"]),
            "optgroup" => (&["option", "optgroup"], &["select"]),
            "tr" => (&["tr"], &["tbody", "thead", "tfoot"]),
            "td" | "th" => (&["td", "th"], &["tr"]),
            "thead" | "tbody" | "tfoot" | "caption" | "colgroup" => {
                (&["thead", "tbody", "tfoot", "caption", "colgroup"], &[])
            }
            "a" => (&["a"], &[]),
            "nobr" => (&["nobr"], &[]),
            "button" => (&["button"], &[]),
            _ => (&[], &[]),
        };
        self.close_nearest(targets, boundaries);
        if closes_p(name) {
            self.close_nearest(&["p"], &["button"]);
        }
        if matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
            && self
                .stack
                .last()
                .is_some_and(|t| matches!(t.as_str(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6"))
        {
            self.pop();
        }
    }

    /// Pop down to (and including) the nearest of `targets` within [`LOOKBACK`] entries,
    /// unless a boundary comes first.
    fn close_nearest(&mut self, targets: &[&str], boundaries: &[&str]) {
        if targets.is_empty() {
            return;
        }
        let depth = self.stack.len();
        let found = self
            .stack
            .iter()
            .rev()
            .take(LOOKBACK)
            .take_while(|n| {
                targets.contains(&n.as_str())
                    || !(is_scope_boundary(n) || boundaries.contains(&n.as_str()))
            })
            .position(|n| targets.contains(&n.as_str()));
        if let Some(from_top) = found {
            let at = depth - 1 - from_top;
            while self.stack.len() > at {
                self.pop();
            }
        }
    }

    fn text(&mut self, text: &str) {
        match &self.raw {
            Some((_, RawKind::ScriptData | RawKind::ScriptDataEscaped(_) | RawKind::Rawtext)) => {
                self.out.push_str(text)
            }
            _ => push_escaped(&mut self.out, text, false),
        }
    }

    fn write_tag(&mut self, tag: &Tag) {
        self.out.push('<');
        self.out.push_str(&tag.name);
        for a in &tag.attrs {
            self.out.push(' ');
            self.out.push_str(&a.name.local);
            self.out.push_str("=\"");
            let rebased = match &self.rebase {
                Some(base) if is_link_attribute(&a.name.local) => {
                    base.join(a.value.trim()).ok().map(String::from)
                }
                _ => None,
            };
            push_escaped(&mut self.out, rebased.as_deref().unwrap_or(&a.value), true);
            self.out.push('"');
        }
        if tag.self_closing {
            self.out.push_str(" /");
        }
        self.out.push('>');
    }

    fn write_end(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }
}

/// Attributes that hold one URL.
fn is_link_attribute(name: &str) -> bool {
    matches!(
        name,
        "href" | "src" | "poster" | "cite" | "action" | "background" | "longdesc" | "data-src"
    )
}

/// Escape text (`&`, `<`, `>`) or an attribute value (`&`, `"`).
fn push_escaped(out: &mut String, s: &str, attribute: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' if !attribute => out.push_str("&lt;"),
            '>' if !attribute => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\u{a0}' => out.push_str("&nbsp;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(tag: &str, n: usize, inner: &str) -> String {
        format!(
            "{}{inner}{}",
            format!("<{tag}>").repeat(n),
            format!("</{tag}>").repeat(n)
        )
    }

    #[test]
    fn shallow_html_is_untouched() {
        let html = "<p>Một <b>hai</b></p><ul><li>a<li>b</ul>";
        assert!(matches!(bounded_to(html, 4), Cow::Borrowed(_)));
        // Many siblings are not depth: 1,000 unclosed paragraphs and list items.
        let many = format!(
            "<div>{}</div><ul>{}</ul>",
            "<p>x".repeat(1000),
            "<li>y".repeat(1000)
        );
        assert!(matches!(bounded_to(&many, 8), Cow::Borrowed(_)), "siblings");
        assert!(modelled_depth(&many) <= 3, "{}", modelled_depth(&many));
    }

    #[test]
    fn deep_html_is_flattened_and_keeps_its_text() {
        let html = nested("div", 10_000, "Nông thôn mới");
        let out = bounded_to(&html, 64);
        assert!(matches!(out, Cow::Owned(_)));
        assert!(modelled_depth(&out) <= 64, "{}", modelled_depth(&out));
        assert!(out.contains("Nông thôn mới"));
        assert_eq!(out.matches("<div>").count(), 64);
        assert_eq!(out.matches("</div>").count(), 64);
        // The real tree builder agrees on the depth.
        let doc = scraper::Html::parse_fragment(&out);
        let deepest = doc
            .tree
            .nodes()
            .map(|n| n.ancestors().count())
            .max()
            .unwrap_or(0);
        assert!(deepest <= 64 + 3, "{deepest}");
    }

    #[test]
    fn text_and_attributes_are_escaped_again() {
        let html = format!(
            "<a href=\"x&quot;y\" title='&lt;b&gt;'>1 &lt; 2 &amp;amp;</a>{}",
            "<span>".repeat(40)
        );
        let out = bounded_to(&html, 8);
        assert!(out.contains(r#"href="x&quot;y""#), "{out}");
        assert!(out.contains(r#"title="<b>""#), "{out}");
        assert!(out.contains("1 &lt; 2 &amp;amp;"), "{out}");
    }

    #[test]
    fn raw_text_stays_raw_and_comments_go() {
        let html = format!(
            "{}<script>if (a < b && c) {{}}</script><style>p>b{{}}</style><!-- x -->",
            "<i>".repeat(20)
        );
        let out = bounded_to(&html, 4);
        assert!(out.contains("<script>if (a < b && c) {}</script>"), "{out}");
        assert!(out.contains("<style>p>b{}</style>"), "{out}");
        assert!(!out.contains("<!--"), "{out}");
    }

    #[test]
    fn svg_self_closing_tags_add_no_depth() {
        let html = format!("<svg>{}</svg>", "<path d=\"M0\"/>".repeat(500));
        assert_eq!(modelled_depth(&html), 1);
        // An HTML breakout tag inside svg ends the svg: `<div/>` is not self-closing there.
        let html = format!("<svg><div/>{}", "<div/>".repeat(100));
        assert!(modelled_depth(&html) >= 100);
    }

    #[test]
    fn links_are_resolved_against_a_base() {
        let base = url::Url::parse("https://bao.example.vn/2024/03/").expect("url");
        let out = bounded_rebased(
            r##"<p><a href="bai-1.html">Bài</a> <img src="/anh/1.jpg"> <a href="https://khac.vn/x">x</a> <a href="#chu-thich">#</a></p>"##,
            &base,
        );
        assert!(
            out.contains(r#"href="https://bao.example.vn/2024/03/bai-1.html""#),
            "{out}"
        );
        assert!(
            out.contains(r#"src="https://bao.example.vn/anh/1.jpg""#),
            "{out}"
        );
        assert!(out.contains(r#"href="https://khac.vn/x""#), "{out}");
        assert!(
            out.contains(r#"href="https://bao.example.vn/2024/03/#chu-thich""#),
            "{out}"
        );
    }
}
