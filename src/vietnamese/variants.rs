//! Query-time spelling variants, part of the Vietnamese text analysis shared by indexing and
//! querying (this part runs on the query side only).
//!
//! Vietnamese news writes some names and words in more than one accepted way: `Đăk`/`Đắk`,
//! `TP.HCM`/`Thành phố Hồ Chí Minh`, `UBND`/`Ủy ban nhân dân`, `kĩ`/`kỹ`. The index stores what
//! the articles wrote; a query is expanded with the other spellings instead. Groups of
//! spellings come from an admin-editable text file (`config/variants.txt`, compiled in as
//! [`Variants::builtin`]); the i/y orthography variants follow a rule ([`iy_variant`]).

use std::collections::HashMap;
use std::fmt;

use unicode_normalization::UnicodeNormalization;

use super::{clean, exact_form, match_case, tokenize, tone_of_mark};

/// The list shipped with gomtin.
const BUILTIN: &str = include_str!("../../config/variants.txt");

/// Equivalence groups of spellings.
///
/// File format (`config/variants.txt`): one group per line, spellings separated by ` = `, `#`
/// starts a comment, blank lines are ignored. A spelling may be several words
/// (`TP.HCM = TP HCM = Thành phố Hồ Chí Minh = Hồ Chí Minh`). Spellings are cleaned and split
/// into words like any text, and words are compared by [`exact_form`].
#[derive(Debug, Clone, Default)]
pub struct Variants {
    groups: Vec<Vec<Spelling>>,
    /// Exact form of a spelling's first word -> (group, spelling) indices.
    by_first_word: HashMap<String, Vec<(usize, usize)>>,
}

#[derive(Debug, Clone)]
struct Spelling {
    /// Words as the file wrote them.
    words: Vec<String>,
    /// Their exact forms.
    keys: Vec<String>,
}

/// A span of query words that matched a spelling, and the other spellings of its group(s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expansion {
    /// Index of the first matched word.
    pub start: usize,
    /// Index just past the last matched word.
    pub end: usize,
    /// The other spellings, each as its words, written as in the variants file.
    pub alternatives: Vec<Vec<String>>,
}

/// A line of the variants file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantsError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub kind: VariantsErrorKind,
}

/// What is wrong with a line of the variants file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VariantsErrorKind {
    /// `a = = b`, or `=` at the start or the end of the line.
    EmptySpelling,
    /// A line with a single spelling and no `=`.
    SingleSpelling,
    /// A spelling without letters or digits, such as `---`.
    NoWords(String),
    /// Every spelling of the line is the same once case, punctuation and tone placement are
    /// ignored, so the line would change nothing.
    SameSpellings,
}

impl fmt::Display for VariantsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "variants line {}: ", self.line)?;
        match &self.kind {
            VariantsErrorKind::EmptySpelling => {
                f.write_str("empty spelling (two '=' in a row, or '=' at either end of the line)")
            }
            VariantsErrorKind::SingleSpelling => {
                f.write_str("a group needs at least two spellings separated by \" = \"")
            }
            VariantsErrorKind::NoWords(spelling) => {
                write!(f, "spelling {spelling:?} has no letters or digits")
            }
            VariantsErrorKind::SameSpellings => f.write_str(
                "all spellings are the same once case, punctuation and tone placement are ignored",
            ),
        }
    }
}

impl std::error::Error for VariantsError {}

impl Variants {
    /// Read variant groups from the text of a variants file.
    pub fn parse(text: &str) -> Result<Variants, VariantsError> {
        let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
        let mut variants = Variants::default();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let error = |kind| VariantsError { line, kind };
            let content = raw.split('#').next().unwrap_or_default().trim();
            if content.is_empty() {
                continue;
            }
            let mut group: Vec<Spelling> = Vec::new();
            let mut spellings = 0;
            for part in content.split('=') {
                spellings += 1;
                let spelling = clean(part);
                if spelling.is_empty() {
                    return Err(error(VariantsErrorKind::EmptySpelling));
                }
                let words: Vec<String> = tokenize(&spelling).into_iter().map(|t| t.text).collect();
                if words.is_empty() {
                    return Err(error(VariantsErrorKind::NoWords(spelling)));
                }
                let keys: Vec<String> = words.iter().map(|w| exact_form(w)).collect();
                if !group.iter().any(|s| s.keys == keys) {
                    group.push(Spelling { words, keys });
                }
            }
            if spellings < 2 {
                return Err(error(VariantsErrorKind::SingleSpelling));
            }
            if group.len() < 2 {
                return Err(error(VariantsErrorKind::SameSpellings));
            }
            variants.add_group(group);
        }
        Ok(variants)
    }

    fn add_group(&mut self, group: Vec<Spelling>) {
        let g = self.groups.len();
        for (s, spelling) in group.iter().enumerate() {
            if let Some(first) = spelling.keys.first() {
                self.by_first_word
                    .entry(first.clone())
                    .or_default()
                    .push((g, s));
            }
        }
        self.groups.push(group);
    }

    /// The default list, `config/variants.txt` as it was when gomtin was built.
    pub fn builtin() -> Variants {
        // A test checks that the shipped file parses; an empty list is the safe fallback.
        Self::parse(BUILTIN).unwrap_or_default()
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// True when there is no group.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Find the spans of `words` (the words of a query, as [`tokenize`] splits cleaned text)
    /// that match a spelling of some group, comparing words by [`exact_form`] (`Đăk` matches
    /// `đăk` but not `dak`), and return for each span the other spellings of its group(s).
    ///
    /// Spans are found left to right, longest match first, and do not overlap. A single word
    /// that has an i/y variant ([`iy_variant`]) gets it as an alternative too, whether or not
    /// the file mentions it.
    pub fn expand(&self, words: &[&str]) -> Vec<Expansion> {
        let keys: Vec<String> = words.iter().map(|w| exact_form(w)).collect();
        let mut expansions = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let (len, mut alternatives) = self.match_at(&keys, i);
            let end = i + len.max(1);
            if end == i + 1
                && let Some(variant) = words.get(i).and_then(|w| iy_variant(w))
                && !alternatives.contains(&vec![variant.clone()])
            {
                alternatives.push(vec![variant]);
            }
            if !alternatives.is_empty() {
                expansions.push(Expansion {
                    start: i,
                    end,
                    alternatives,
                });
            }
            i = end;
        }
        expansions
    }

    /// The longest spelling that matches `keys` from `at`: its length in words (0 when none)
    /// and the other spellings of every group that has a spelling of that length there.
    fn match_at(&self, keys: &[String], at: usize) -> (usize, Vec<Vec<String>>) {
        let Some(candidates) = keys.get(at).and_then(|k| self.by_first_word.get(k)) else {
            return (0, Vec::new());
        };
        let mut best = 0;
        let mut groups: Vec<usize> = Vec::new();
        for &(g, s) in candidates {
            let Some(spelling) = self.groups.get(g).and_then(|group| group.get(s)) else {
                continue;
            };
            let n = spelling.keys.len();
            if n < best || keys.get(at..at + n) != Some(spelling.keys.as_slice()) {
                continue;
            }
            if n > best {
                best = n;
                groups.clear();
            }
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
        let Some(matched) = keys.get(at..at + best) else {
            return (0, Vec::new());
        };
        let mut seen: Vec<&[String]> = vec![matched];
        let mut alternatives = Vec::new();
        for spelling in groups.iter().filter_map(|&g| self.groups.get(g)).flatten() {
            if !seen.contains(&spelling.keys.as_slice()) {
                seen.push(&spelling.keys);
                alternatives.push(spelling.words.clone());
            }
        }
        (best, alternatives)
    }
}

/// Initials after which a final `i` and `y` are interchangeable spellings (`kĩ`/`kỹ`).
const IY_INITIALS: &[&str] = &["d", "h", "k", "l", "m", "n", "qu", "s", "t", "v"];

/// Rule-based i/y orthography variant of a single word, independent of the variants file:
/// `kĩ` <-> `kỹ`, `lí` <-> `lý`, `Quí` <-> `Quý`, `mĩ` <-> `mỹ`, `kì` <-> `kỳ`, `hi` <-> `hy`,
/// `tỉ` <-> `tỷ`.
///
/// Applies only to syllables made of one of the initials `d h k l m n qu s t v` followed by a
/// lone `i` or `y` (with any tone), not to `ai`, `ui`, `tuy`, `huy` and the like. The case of
/// the word is kept. Returns `None` when no variant applies.
pub fn iy_variant(word: &str) -> Option<String> {
    let mut base = String::with_capacity(4);
    let mut tone: Option<char> = None;
    for c in word.chars().flat_map(char::to_lowercase).nfd() {
        if tone_of_mark(c).is_some() && tone.is_none() {
            tone = Some(c);
        } else if tone.is_some() || !c.is_ascii_lowercase() || base.len() >= 3 {
            // A mark in the wrong place, a second mark, a non-ASCII letter, or too long.
            return None;
        } else {
            base.push(c);
        }
    }
    let last = base.len().checked_sub(1)?;
    let (initial, vowel) = (base.get(..last)?, base.get(last..)?);
    if !IY_INITIALS.contains(&initial) {
        return None;
    }
    let other = match vowel {
        "i" => 'y',
        "y" => 'i',
        _ => return None,
    };
    let mut variant = String::with_capacity(8);
    variant.push_str(initial);
    variant.push(other);
    variant.extend(tone);
    let variant: String = variant.nfc().collect();
    Some(match_case(word, &variant))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(spelling: &str) -> Vec<String> {
        spelling.split(' ').map(String::from).collect()
    }

    fn expand(variants: &Variants, query: &str) -> Vec<Expansion> {
        let tokens: Vec<String> = tokenize(&clean(query))
            .into_iter()
            .map(|t| t.text)
            .collect();
        let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
        variants.expand(&refs)
    }

    #[test]
    fn builtin_list_parses() {
        let parsed = Variants::parse(BUILTIN);
        assert!(parsed.is_ok(), "{parsed:?}");
        let builtin = Variants::builtin();
        assert!(builtin.len() >= 20, "{}", builtin.len());
        assert!(!builtin.is_empty());
    }

    #[test]
    fn parse_skips_comments_and_blank_lines() {
        let text = "\u{FEFF}# header\n\n  \nĐăk = Đắk # inline comment\r\nTP.HCM=TP HCM=Sài Gòn\n";
        let variants = Variants::parse(text);
        assert_eq!(variants.as_ref().map(Variants::len), Ok(2));
        assert_eq!(Variants::parse("").map(|v| v.is_empty()), Ok(true));
    }

    #[test]
    fn parse_errors_name_the_line() {
        let cases = [
            ("a = b\n\n# c\nx\n", 4, VariantsErrorKind::SingleSpelling),
            ("a = = b", 1, VariantsErrorKind::EmptySpelling),
            ("a = b\n= b", 2, VariantsErrorKind::EmptySpelling),
            ("a = b =", 1, VariantsErrorKind::EmptySpelling),
            ("# x\na = ---", 2, VariantsErrorKind::NoWords("---".into())),
            ("Covid = COVID = covid", 1, VariantsErrorKind::SameSpellings),
            ("Hoà Bình = Hòa Bình", 1, VariantsErrorKind::SameSpellings),
        ];
        for (text, line, kind) in cases {
            let error = Variants::parse(text).err();
            assert_eq!(
                error.as_ref().map(|e| (e.line, &e.kind)),
                Some((line, &kind)),
                "{text:?}"
            );
            let message = error.map(|e| e.to_string()).unwrap_or_default();
            assert!(message.contains(&format!("line {line}")), "{message}");
        }
    }

    #[test]
    fn expands_city_names() {
        // vi-search-cases #21
        let variants = Variants::builtin();
        for query in ["TP.HCM", "TP HCM", "tp hcm", "tp.hcm"] {
            let expansions = expand(&variants, query);
            assert_eq!(expansions.len(), 1, "{query}");
            let e = &expansions[0];
            assert_eq!((e.start, e.end), (0, 2));
            assert!(e.alternatives.contains(&words("Thành phố Hồ Chí Minh")));
            assert!(e.alternatives.contains(&words("TPHCM")));
            assert!(e.alternatives.contains(&words("Sài Gòn")));
            assert!(!e.alternatives.contains(&words("TP HCM")));
        }
        let e = expand(&variants, "Sài Gòn");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].alternatives, [words("TP HCM")]);
    }

    #[test]
    fn expands_dak_longest_first() {
        // vi-search-cases #13
        let variants = Variants::builtin();
        let e = expand(&variants, "Đăk Hà");
        assert_eq!(
            e,
            [Expansion {
                start: 0,
                end: 2,
                alternatives: vec![words("Đắk Hà")],
            }]
        );
        assert_eq!(
            expand(&variants, "đắk hà")[0].alternatives,
            [words("Đăk Hà")]
        );
        let e = expand(&variants, "huyện Đăk Tô, Kon Tum");
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].start, e[0].end), (1, 3));
        let e = expand(&variants, "xã Đăk Ruồng");
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].start, e[0].end), (1, 2));
        assert_eq!(e[0].alternatives, [words("Đắk")]);
        // Marks matter: "dak" finds both through the folded field, no expansion needed.
        assert!(expand(&variants, "dak ha").is_empty());
    }

    #[test]
    fn expands_i_y_spellings() {
        // vi-search-cases #16
        let variants = Variants::builtin();
        let e = expand(&variants, "kĩ thuật");
        assert_eq!(
            e,
            [Expansion {
                start: 0,
                end: 1,
                alternatives: vec![words("kỹ")],
            }]
        );
        assert_eq!(
            Variants::default().expand(&["Quí", "khách"])[0].alternatives,
            [words("Quý")]
        );
    }

    #[test]
    fn expands_abbreviations_and_teencode() {
        let variants = Variants::builtin();
        // vi-search-cases #25
        let e = expand(&variants, "đc ko");
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].alternatives, [words("được")]);
        assert_eq!(e[1].alternatives, [words("không"), words("k")]);
        let e = expand(&variants, "UBND tỉnh");
        assert_eq!(e[0].alternatives, [words("Ủy ban nhân dân")]);
        // Tone placement does not matter: "Uỷ" matches "Ủy".
        let e = expand(&variants, "Uỷ ban nhân dân tỉnh");
        assert_eq!((e[0].start, e[0].end), (0, 4));
        assert_eq!(e[0].alternatives, [words("UBND")]);
        let e = expand(&variants, "covid 19");
        assert_eq!((e[0].start, e[0].end), (0, 2));
        assert_eq!(e[0].alternatives, [words("Covid"), words("nCoV")]);
        let e = expand(&variants, "COVID");
        assert_eq!(e[0].alternatives, [words("Covid 19"), words("nCoV")]);
        assert!(expand(&variants, "người dân").is_empty());
        assert!(variants.expand(&[]).is_empty());
        assert!(variants.expand(&["", " ", "😀"]).is_empty());
    }

    #[test]
    fn iy_variant_swaps_final_i_and_y() {
        for (a, b) in [
            ("kĩ", "kỹ"),
            ("lí", "lý"),
            ("Quí", "Quý"),
            ("mĩ", "mỹ"),
            ("kì", "kỳ"),
            ("hi", "hy"),
            ("tỉ", "tỷ"),
            ("sĩ", "sỹ"),
            ("KĨ", "KỸ"),
            ("Mì", "Mỳ"),
        ] {
            assert_eq!(iy_variant(a).as_deref(), Some(b), "{a}");
            assert_eq!(iy_variant(b).as_deref(), Some(a), "{b}");
        }
        // Decomposed input gives composed output.
        assert_eq!(iy_variant("ki\u{0303}").as_deref(), Some("kỹ"));
    }

    #[test]
    fn iy_variant_leaves_other_syllables() {
        for word in [
            "ai",
            "ui",
            "tuy",
            "huy",
            "thủy",
            "quyết",
            "kìm",
            "i",
            "y",
            "ý",
            "",
            "kỹ thuật",
            "bi",
            "chi",
            "ghi",
            "ki\u{0301}\u{0300}",
            "k\u{0301}i",
            "kĭ",
            "😀",
            "k'i",
        ] {
            assert_eq!(iy_variant(word), None, "{word:?}");
        }
    }

    #[test]
    fn parse_never_panics() {
        for text in [
            "=",
            "==",
            "#",
            "\u{FEFF}",
            "\u{0301} = \u{0301}",
            "😀 = 🙂",
            "a\u{200B} = a",
            "a = b\u{0000}c",
            &"x = y\n".repeat(5_000),
        ] {
            let _ = Variants::parse(text);
        }
    }
}
