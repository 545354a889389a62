//! The shape of `src/` stays as issue 13 left it: no import circle between its files and no
//! file over 700 lines outside its `#[cfg(test)]` module.
//!
//! The graph is drawn per file: a file `src/a/b.rs` (or `src/a/b/mod.rs`) is the module
//! `a::b`, and it depends on every module that a `crate::…`, `super::…` or `self::…` path in
//! its code names (in `use` lines, `use` trees with braces, and paths written inline),
//! resolved to the longest module that exists as a file. A child naming its own parent or
//! ancestor is not an arrow (a folder module is one unit seen from inside), nor is a file
//! naming itself. Bare relative paths (`pub use child::Item;` in a parent) are not read,
//! as in the issue's measure; write `self::child` where the arrow should show. Comments, strings and `#[cfg(test)]` modules are left out of both
//! measures. `.ci/run` runs this file right after the format step.
//!
//! The self-tests below plant circles and long files in a tree of their own, so the check
//! itself cannot rot into one that passes everything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lines of non-test code a file of `src/` may have.
const MAX_LINES: usize = 700;

#[test]
fn src_has_no_import_circle_and_no_long_file() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let report = check(&read_tree(&src));
    assert!(report.is_clean(), "\n{}", report.render());
}

#[test]
fn the_check_finds_a_planted_circle_and_a_long_file() {
    let long = "fn f() {}\n".repeat(MAX_LINES + 1);
    let tests = format!("#[cfg(test)]\nmod tests {{\n{}}}\n", "// x\n".repeat(900));
    let tree = vec![
        file("lib.rs", "pub mod a;\npub mod b;\npub mod c;\npub mod d;\n"),
        // a -> b by a use tree, b -> c inline, c -> a through `super` of a nested file.
        file(
            "a/mod.rs",
            "use crate::{b::{self, X}, d};\npub mod inner;\n",
        ),
        file(
            "a/inner.rs",
            "use super::Thing; // a child naming its parent: no arrow\n",
        ),
        file("b.rs", "fn g() { crate::c::h(\"crate::d::not_code\"); }\n"),
        file("c/mod.rs", "pub mod deep;\npub use self::deep::k;\n"),
        file("c/deep.rs", "fn k() { super::super::a::f(); }\n"),
        file("d.rs", &format!("{long}{tests}")),
    ];
    let report = check(&tree);
    assert_eq!(
        report.circles,
        vec![vec![
            "a".to_string(),
            "b".to_string(),
            "c".to_string(),
            "c::deep".to_string()
        ]],
        "{}",
        report.render()
    );
    assert_eq!(
        report.long_files,
        vec![("src/d.rs".to_string(), MAX_LINES + 1)]
    );
    let text = report.render();
    assert!(text.contains("src/b.rs:1 names crate::c"), "{text}");
    assert!(text.contains("src/d.rs: 701 lines"), "{text}");

    // The same tree without the arrow back is clean; test modules and strings do not count.
    let mut fixed = tree.clone();
    fixed[5] = file("c/deep.rs", "fn k() { let _ = \"super::super::a\"; }\n");
    fixed[6] = file("d.rs", &format!("fn f() {{}}\n{tests}"));
    let report = check(&fixed);
    assert!(report.is_clean(), "{}", report.render());
}

#[test]
fn scrubbing_keeps_lines_and_drops_comments_strings_and_chars() {
    let code =
        "let a = 'x'; let b: &'static str = r#\"crate::x\"#; /* crate::y\n */ c // crate::z\n";
    let s = scrub(code);
    assert_eq!(s.lines().count(), code.lines().count());
    assert!(!s.contains("crate::"), "{s}");
    assert!(s.contains("let b: &'static str"), "{s}");
    assert!(s.ends_with(" c \n"), "{s:?}");
}

// ---------------------------------------------------------------------------------------
// The check.

/// One source file: its path below `src/` and its text.
#[derive(Clone)]
struct SourceFile {
    rel: PathBuf,
    text: String,
}

fn file(rel: &str, text: &str) -> SourceFile {
    SourceFile {
        rel: PathBuf::from(rel),
        text: text.to_string(),
    }
}

fn read_tree(src: &Path) -> Vec<SourceFile> {
    fn walk(dir: &Path, src: &Path, out: &mut Vec<SourceFile>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, src, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p)
                    .unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
                let rel = p.strip_prefix(src).expect("below src").to_path_buf();
                out.push(SourceFile { rel, text });
            }
        }
    }
    let mut out = Vec::new();
    walk(src, src, &mut out);
    out
}

/// What is wrong with a tree.
struct Report {
    /// Each circle's modules, sorted.
    circles: Vec<Vec<String>>,
    /// The arrows inside the circles: (from, to) -> where `from` first names `to`.
    arrows: BTreeMap<(String, String), String>,
    /// Files over the limit with their non-test line count.
    long_files: Vec<(String, usize)>,
}

impl Report {
    fn is_clean(&self) -> bool {
        self.circles.is_empty() && self.long_files.is_empty()
    }

    fn render(&self) -> String {
        let mut out = String::new();
        for (i, circle) in self.circles.iter().enumerate() {
            out.push_str(&format!(
                "import circle {} of {}: {}\n",
                i + 1,
                self.circles.len(),
                circle.join(" + ")
            ));
            for ((from, to), at) in &self.arrows {
                if circle.contains(from) && circle.contains(to) {
                    out.push_str(&format!("  {from} -> {to}   ({at})\n"));
                }
            }
        }
        for (path, n) in &self.long_files {
            out.push_str(&format!(
                "{path}: {n} lines outside #[cfg(test)] (limit {MAX_LINES}): split it along its jobs\n"
            ));
        }
        if out.is_empty() {
            out.push_str("no import circle, no file over the limit\n");
        }
        out
    }
}

/// The module a file is: `a/b.rs` and `a/b/mod.rs` are `a::b`; `lib.rs` is the root ("").
/// `main.rs` is its own crate, named "main" (it can only point into the library).
fn module_of(rel: &Path) -> String {
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    if rel == Path::new("main.rs") {
        return "main".to_string();
    }
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts.join("::")
}

fn check(tree: &[SourceFile]) -> Report {
    // Code without comments, strings and test modules, per module; files that are test
    // modules of their own (`#[cfg(test)] mod tests;`) are left out altogether.
    let mut code: BTreeMap<String, (&SourceFile, String)> = BTreeMap::new();
    let mut test_only = Vec::new();
    for f in tree {
        let here = module_of(&f.rel);
        let (text, tests) = without_test_modules(&scrub(&f.text));
        test_only.extend(tests.iter().map(|t| join(&here, t)));
        code.insert(here, (f, text));
    }
    code.retain(|m, _| {
        !test_only
            .iter()
            .any(|t| m == t || m.starts_with(&format!("{t}::")))
    });
    let modules: BTreeSet<String> = code.keys().cloned().collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut arrows = BTreeMap::new();
    let mut long_files = Vec::new();
    for (here, (f, text)) in &code {
        let lines = text.lines().filter(|l| *l != TEST_LINE).count();
        if lines > MAX_LINES {
            long_files.push((format!("src/{}", f.rel.display()), lines));
        }
        let out = edges.entry(here.clone()).or_default();
        for (line, path) in paths(text, here) {
            let Some(target) = resolve(&path, &modules) else {
                continue;
            };
            let ancestor = target.is_empty() || here.starts_with(&format!("{target}::"));
            if target == *here || ancestor {
                continue;
            }
            if out.insert(target.clone()) {
                arrows.insert(
                    (here.clone(), target),
                    format!("src/{}:{line} names crate::{path}", f.rel.display()),
                );
            }
        }
    }
    let circles = strongly_connected(&edges)
        .into_iter()
        .filter(|c| c.len() > 1)
        .collect();
    Report {
        circles,
        arrows,
        long_files,
    }
}

/// `parent::name`, or `name` at the root.
fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() || parent == "main" {
        name.to_string()
    } else {
        format!("{parent}::{name}")
    }
}

/// The longest module that exists as a file and that `path` (from the crate root) starts with.
fn resolve(path: &str, modules: &BTreeSet<String>) -> Option<String> {
    let mut parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
    while !parts.is_empty() {
        let cand = parts.join("::");
        if modules.contains(&cand) {
            return Some(cand);
        }
        parts.pop();
    }
    None
}

/// Every crate-absolute path the code names, with its line: `crate::a::b`, `super::c` and
/// `self::d` (made absolute from `here`), and each leaf of a braced `use` tree.
fn paths(code: &str, here: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\n' {
            line += 1;
            i += 1;
            continue;
        }
        let starts_word = i == 0 || !is_ident(chars[i - 1]) && chars[i - 1] != ':';
        if !starts_word || !is_ident(chars[i]) {
            i += 1;
            continue;
        }
        let (word, after) = ident_at(&chars, i);
        let base: Option<Vec<String>> = match word.as_str() {
            "crate" => Some(Vec::new()),
            "self" => Some(split(here)),
            "super" => {
                let mut m = split(here);
                m.pop();
                Some(m)
            }
            _ => None,
        };
        match base {
            Some(base) if starts_with_sep(&chars, after) => {
                let end = walk_path(&chars, after, base, &mut |p| out.push((line, p)));
                i = end.max(i + 1);
            }
            _ => i = after,
        }
    }
    out
}

fn split(module: &str) -> Vec<String> {
    module
        .split("::")
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn ident_at(chars: &[char], mut i: usize) -> (String, usize) {
    let start = i;
    while i < chars.len() && is_ident(chars[i]) {
        i += 1;
    }
    (chars[start..i].iter().collect(), i)
}

fn skip_space(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && chars[i].is_whitespace() {
        i += 1;
    }
    i
}

fn starts_with_sep(chars: &[char], i: usize) -> bool {
    let i = skip_space(chars, i);
    chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':')
}

/// Reads the path after `crate`/`self`/`super` from `i` (at `::`), calling `emit` with each
/// full path it names; returns where it stopped. `super::super::x` climbs twice.
fn walk_path(
    chars: &[char],
    mut i: usize,
    mut path: Vec<String>,
    emit: &mut dyn FnMut(String),
) -> usize {
    loop {
        if !starts_with_sep(chars, i) {
            emit(path.join("::"));
            return i;
        }
        i = skip_space(chars, skip_space(chars, i) + 2);
        match chars.get(i) {
            Some('{') => {
                // A use tree: each comma-separated branch continues from here.
                i += 1;
                loop {
                    i = skip_space(chars, i);
                    match chars.get(i) {
                        None => return i,
                        Some('}') => return i + 1,
                        Some(',') => i += 1,
                        Some(c) if is_ident(*c) => {
                            let (word, after) = ident_at(chars, i);
                            let mut branch = path.clone();
                            match word.as_str() {
                                "self" => {}
                                "super" => {
                                    branch.pop();
                                }
                                _ => branch.push(word),
                            }
                            i = walk_path(chars, after, branch, emit);
                            // Skip `as name` and anything else up to the next branch.
                            while i < chars.len() && !matches!(chars[i], ',' | '}') {
                                i += 1;
                            }
                        }
                        Some(_) => i += 1,
                    }
                }
            }
            Some(c) if is_ident(*c) => {
                let (word, after) = ident_at(chars, i);
                if word == "super" {
                    path.pop();
                } else {
                    path.push(word);
                }
                i = after;
            }
            // `crate::*`, `crate::<…>`: the path ends here.
            _ => {
                emit(path.join("::"));
                return i;
            }
        }
    }
}

/// The code with comments and the contents of string and char literals blanked out (newlines
/// kept, so line numbers hold). Lifetimes stay.
fn scrub(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        let prev_ident = i > 0 && is_ident(c[i - 1]);
        if c[i] == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
        } else if !prev_ident && raw_string_at(&c, i).is_some() {
            let (hashes, open) = raw_string_at(&c, i).expect("raw string");
            let close: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            out.push('"');
            i = open + 1;
            while i < c.len() && !c[i..].starts_with(&close) {
                blank(&mut out, c[i]);
                i += 1;
            }
            out.push('"');
            i += close.len();
        } else if c[i] == '"' {
            out.push('"');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    blank(&mut out, c[i]);
                    i += 1;
                }
                if i < c.len() {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
            out.push('"');
            i += 1;
        } else if c[i] == '\'' && is_char_literal(&c, i) {
            out.push('\'');
            i += 1;
            while i < c.len() && c[i] != '\'' {
                if c[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < c.len() {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
            out.push('\'');
            i += 1;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// `r"`, `r#"`, `br##"` …: the number of hashes and the index of the opening quote.
fn raw_string_at(c: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if c.get(j) == Some(&'b') {
        j += 1;
    }
    if c.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while c.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (c.get(j) == Some(&'"')).then_some((hashes, j))
}

/// A `'` that opens a char literal (`'a'`, `'\n'`, `'\u{301}'`) rather than a lifetime.
fn is_char_literal(c: &[char], i: usize) -> bool {
    match c.get(i + 1) {
        Some('\\') => true,
        Some(_) => c.get(i + 2) == Some(&'\''),
        None => false,
    }
}

/// What a line inside a `#[cfg(test)]` module is replaced with.
const TEST_LINE: &str = "\u{0}test";

/// At `i` (a `#[cfg(test)]`), the test module's name and the index just after it, when the
/// attribute (perhaps with others after it) is on a `mod`.
fn cfg_test_mod(chars: &[char], i: usize) -> Option<(String, usize)> {
    let pattern: Vec<char> = "#[cfg(test)]".chars().collect();
    if !chars[i..].starts_with(&pattern) {
        return None;
    }
    let mut j = i + pattern.len();
    loop {
        j = skip_space(chars, j);
        if chars.get(j) != Some(&'#') {
            break;
        }
        while j < chars.len() && chars[j] != ']' {
            j += 1;
        }
        j += 1;
    }
    let (mut word, mut after) = ident_at(chars, j);
    if word == "pub" {
        (word, after) = ident_at(chars, skip_space(chars, after));
    }
    if word != "mod" {
        return None;
    }
    let (name, after_name) = ident_at(chars, skip_space(chars, after));
    Some((name, skip_space(chars, after_name)))
}

/// The (scrubbed) code with every line of each `#[cfg(test)] mod name { … }` replaced by
/// `TEST_LINE`, so the line count leaves them out and no path in them is read; and the
/// names of test modules kept in files of their own (`#[cfg(test)] mod name;`).
fn without_test_modules(code: &str) -> (String, Vec<String>) {
    let chars: Vec<char> = code.chars().collect();
    let mut cut = vec![false; chars.len()];
    let mut test_files = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let Some((name, k)) = cfg_test_mod(&chars, i) else {
            i += 1;
            continue;
        };
        match chars.get(k) {
            Some(';') => test_files.push(name),
            Some('{') => {
                let mut depth = 0;
                let mut end = k;
                while end < chars.len() {
                    match chars[end] {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    end += 1;
                }
                let end = end.min(chars.len() - 1);
                cut[i..=end].fill(true);
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    let mut out = String::new();
    let mut line = String::new();
    let mut line_cut = false;
    for (ch, is_cut) in chars.iter().zip(&cut) {
        if *ch == '\n' {
            out.push_str(if (line_cut || *is_cut) && line.trim().is_empty() {
                TEST_LINE
            } else {
                &line
            });
            out.push('\n');
            line.clear();
            line_cut = false;
        } else if *is_cut {
            line_cut = true;
        } else {
            line.push(*ch);
        }
    }
    out.push_str(&line);
    (out, test_files)
}

/// Tarjan's strongly connected components, each sorted; iterative so deep graphs are fine.
fn strongly_connected(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let nodes: Vec<&String> = edges.keys().collect();
    let id: BTreeMap<&String, usize> = nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let succ: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| {
            edges[*n]
                .iter()
                .filter_map(|t| id.get(t).copied())
                .collect()
        })
        .collect();
    let n = nodes.len();
    let (mut index, mut low) = (vec![usize::MAX; n], vec![0; n]);
    let (mut on_stack, mut stack, mut out) = (vec![false; n], Vec::new(), Vec::new());
    let mut counter = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work = vec![(root, 0usize)];
        while let Some(&(v, next)) = work.last() {
            if next == 0 && index[v] == usize::MAX {
                index[v] = counter;
                low[v] = counter;
                counter += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&w) = succ[v].get(next) {
                if let Some(top) = work.last_mut() {
                    top.1 += 1;
                }
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut comp = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp.push(nodes[w].clone());
                    if w == v {
                        break;
                    }
                }
                comp.sort();
                out.push(comp);
            }
        }
    }
    out.sort();
    out
}
