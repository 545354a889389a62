//! Vietnamese text analysis, shared by indexing and querying.
//!
//! Article text at ingest and the words typed into the search box go through the same steps, so
//! that both sides meet on the same terms: [`clean`] once (HTML entities, NFC, look-alike letters,
//! invisible characters, spaces), [`tokenize`] into words, then two forms of every word:
//! [`exact_form`] (lowercase, tone written as a trailing digit so that `hoà` and `hòa` agree) and
//! [`fold`] (lowercase, every diacritic removed, `đ` -> `d`). [`has_diacritics`] tells the query
//! side which of the two fields a query is aimed at. [`telex`] reads queries typed with the
//! Vietnamese keyboard switched off, and [`variants`] expands known spelling variants
//! (`Đăk`/`Đắk`, `kĩ`/`kỹ`, `TP.HCM`) at query time.

pub mod collate;
pub mod telex;
pub mod variants;

use unicode_normalization::char::{compose, decompose_canonical, is_combining_mark};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

/// Clean raw text once, at ingest and for queries.
///
/// Decodes HTML entities (`&#225;`, `&aacute;`, `&amp;`), NFC-normalizes (which also repairs
/// decomposed input and partial compositions such as `huy` + U+1EB9 + U+0302 + `n` -> `huyện`),
/// maps look-alike letters to `Đ`/`đ` (U+00D0 `Ð`, U+0189 `Ɖ`, U+00F0 `ð`, U+0256 `ɖ`, as left
/// behind by Windows-1258 text read as Windows-1252), removes invisible characters (zero-width
/// space/joiners, word joiner, BOM, soft hyphen, bidi controls, combining grapheme joiner),
/// turns every Unicode space and control character into a plain space, collapses runs of spaces
/// and trims. It neither strips HTML tags nor changes case.
pub fn clean(text: &str) -> String {
    let decoded = html_escape::decode_html_entities(text);
    let mut out = String::with_capacity(decoded.len());
    // Most text is NFC already, and nearly all of it is made of characters that are NFC
    // on their own whatever surrounds them: one pass copies it; anything else (a
    // combining mark, a letter from another script) takes the quick check and, when
    // needed, the normalizer, from the start.
    if push_clean_as_is(&decoded, &mut out) {
        return out;
    }
    out.clear();
    push_clean_normalized(&decoded, &mut out);
    out
}

/// The general case of [`clean`] after entities are decoded: every character through
/// [`prepare_char`], the quick NFC check and, when it says so, the normalizer.
fn push_clean_normalized(decoded: &str, out: &mut String) {
    let prepared = decoded.chars().filter_map(prepare_char);
    if is_nfc_quick(prepared.clone()) == IsNormalized::Yes {
        push_collapsing_spaces(out, prepared);
    } else {
        push_collapsing_spaces(out, prepared.nfc());
    }
}

/// The common case of [`clean`] after entities are decoded: the same output as
/// [`prepare_char`] then [`push_collapsing_spaces`], copying unchanged stretches of `text`
/// whole instead of character by character. Returns false, `out` half written, at the
/// first character that is not [`stays_nfc`].
fn push_clean_as_is(text: &str, out: &mut String) -> bool {
    let bytes = text.as_bytes();
    let mut pending_space = false;
    // `text[run..i]` is kept as it is and not yet copied; it holds no space.
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        // How long the character is, and what it becomes when it changes (`None`: kept).
        let (len, change) = if b.is_ascii_graphic() {
            (1, None)
        } else if b.is_ascii() {
            (1, Some(Some(' ')))
        } else {
            let Some(c) = text[i..].chars().next() else {
                break;
            };
            match prepare_char(c) {
                Some(p) if p == c && stays_nfc(c) => (c.len_utf8(), None),
                Some(p) if p != ' ' && !stays_nfc(p) => return false,
                other => (c.len_utf8(), Some(other)),
            }
        };
        match change {
            None => {
                if run == i && pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
            }
            // A character that changes: copy the stretch before it, then write it (or not).
            Some(prepared) => {
                out.push_str(&text[run..i]);
                match prepared {
                    Some(' ') => pending_space = true,
                    Some(p) => {
                        if pending_space && !out.is_empty() {
                            out.push(' ');
                        }
                        pending_space = false;
                        out.push(p);
                    }
                    None => {}
                }
                run = i + len;
            }
        }
        i += len;
    }
    out.push_str(&text[run..]);
    true
}

/// True for a character that is NFC in any context: it neither combines with what comes
/// before it nor decomposes (NFC quick check "Yes", canonical combining class 0). Below
/// U+0300 (ASCII, Latin-1, Latin Extended-A/B, IPA, spacing modifiers), the Latin
/// Extended Additional block (the precomposed Vietnamese vowels with tone, U+1E00–U+1EFF),
/// general punctuation from U+2010 (dashes, quotes, ellipsis) and the currency signs
/// (₫, €) are all such; the unit tests check every one of them against the Unicode
/// tables.
fn stays_nfc(c: char) -> bool {
    c < '\u{0300}'
        || ('\u{1E00}'..='\u{1EFF}').contains(&c)
        || ('\u{2010}'..='\u{205F}').contains(&c)
        || ('\u{20A0}'..='\u{20C0}').contains(&c)
}

/// Append `chars` to `out`, collapsing runs of `' '` into one and trimming both ends.
fn push_collapsing_spaces(out: &mut String, chars: impl Iterator<Item = char>) {
    let mut pending_space = false;
    for c in chars {
        if c == ' ' {
            pending_space = true;
            continue;
        }
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
    }
}

/// First pass of [`clean`] on one character: `None` drops it, spaces and controls become `' '`.
fn prepare_char(c: char) -> Option<char> {
    if c.is_ascii() {
        return Some(if c.is_ascii_control() { ' ' } else { c });
    }
    if let Some(w) = windows_1252_c1(c) {
        Some(w)
    } else if c.is_whitespace() || c.is_control() {
        Some(' ')
    } else if is_invisible(c) {
        None
    } else {
        Some(lookalike(c))
    }
}

/// A C1 control character (U+0080–U+009F) as the Windows-1252 character it stands for:
/// text from Windows tools reaches us with those bytes read as Latin-1, or written as
/// numeric references (`&#146;`, which XML reads as U+0092 and HTML5 as `’`). NEL
/// (U+0085, a line break in Unicode) and the five codes Windows-1252 leaves undefined
/// stay controls (`None`).
fn windows_1252_c1(c: char) -> Option<char> {
    const C1: [char; 32] = [
        '€', '\0', '‚', 'ƒ', '„', '\0', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\0', 'Ž', '\0', //
        '\0', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\0', 'ž', 'Ÿ',
    ];
    let i = (c as u32).checked_sub(0x80).filter(|i| *i < 32)?;
    Some(C1[i as usize]).filter(|w| *w != '\0')
}

/// Format characters that carry nothing for search and would otherwise split or hide words.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' // soft hyphen
            | '\u{034F}' // combining grapheme joiner (blocks NFC composition)
            | '\u{061C}' // Arabic letter mark
            | '\u{180E}' // Mongolian vowel separator
            | '\u{200B}'..='\u{200F}' // zero-width space, ZWNJ, ZWJ, LRM, RLM
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{206F}' // bidi isolates, deprecated format characters
            | '\u{FEFF}' // byte order mark / zero-width no-break space
    )
}

/// Letters that look like `Đ`/`đ` and show up in Vietnamese text instead of the real ones.
fn lookalike(c: char) -> char {
    match c {
        '\u{00D0}' | '\u{0189}' => 'Đ',
        '\u{00F0}' | '\u{0256}' => 'đ',
        other => other,
    }
}

/// Apostrophes that may join the two halves of a minority place name such as `H'Drai`.
pub(crate) fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}')
}

/// Combining diacritics that [`fold`] removes (the Latin, Greek and Cyrillic mark blocks; the
/// vowel signs of Indic and South-East Asian scripts stay, since without them a word changes).
fn is_diacritic_mark(c: char) -> bool {
    matches!(
        c,
        '\u{0300}'..='\u{036F}'
            | '\u{1AB0}'..='\u{1AFF}'
            | '\u{1DC0}'..='\u{1DFF}'
            | '\u{20D0}'..='\u{20FF}'
            | '\u{FE20}'..='\u{FE2F}'
    )
}

/// The tone (1 sắc, 2 huyền, 3 hỏi, 4 ngã, 5 nặng) that a combining mark writes, if any.
pub(crate) fn tone_of_mark(mark: char) -> Option<u8> {
    match mark {
        '\u{0301}' => Some(1),
        '\u{0300}' => Some(2),
        '\u{0309}' => Some(3),
        '\u{0303}' => Some(4),
        '\u{0323}' => Some(5),
        _ => None,
    }
}

/// The combining mark that writes a tone number (inverse of [`tone_of_mark`]).
pub(crate) fn tone_mark(tone: u8) -> Option<char> {
    match tone {
        1 => Some('\u{0301}'),
        2 => Some('\u{0300}'),
        3 => Some('\u{0309}'),
        4 => Some('\u{0303}'),
        5 => Some('\u{0323}'),
        _ => None,
    }
}

/// One word of a cleaned text, with byte offsets into that text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset just past the last character.
    pub end: usize,
    /// The original slice `text[start..end]`, apostrophes and case kept.
    pub text: String,
}

/// Split cleaned text into words.
///
/// Letters of any script and digits form words; everything else separates, so hyphens and dots
/// split (`COVID-19` -> `COVID`, `19`; `TP.HCM` -> `TP`, `HCM`). An apostrophe (`'`, `’`, `‘`,
/// `ʼ`) between two letters joins them (`H'Drai` is one word; [`exact_form`] and [`fold`] drop
/// the apostrophe). Combining marks that survive NFC belong to the word they follow; a mark that
/// follows no word is skipped.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::with_capacity(text.len() / 6);
    for (start, end) in word_spans(text) {
        push_token(&mut tokens, text, start, end);
    }
    tokens
}

/// The byte ranges of the words of `text`, as [`tokenize`] cuts them, without copying.
pub fn word_spans(text: &str) -> WordSpans<'_> {
    WordSpans {
        text,
        chars: text.char_indices(),
        start: None,
        after_letter: false,
    }
}

/// Iterator behind [`word_spans`].
pub struct WordSpans<'a> {
    text: &'a str,
    chars: std::str::CharIndices<'a>,
    start: Option<usize>,
    /// Whether the last base character of the current word is a letter (not a digit).
    after_letter: bool,
}

impl Iterator for WordSpans<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        for (i, c) in self.chars.by_ref() {
            let class = classify(c);
            let joins = if class != CharClass::Other {
                if self.start.is_none() {
                    self.start = Some(i);
                }
                self.after_letter = class == CharClass::Letter;
                true
            } else if is_apostrophe(c) {
                self.start.is_some()
                    && self.after_letter
                    && self
                        .text
                        .get(i + c.len_utf8()..)
                        .and_then(|rest| rest.chars().next())
                        .is_some_and(|next| classify(next) == CharClass::Letter)
            } else {
                self.start.is_some() && !c.is_ascii() && is_combining_mark(c)
            };
            if !joins && let Some(s) = self.start.take() {
                return Some((s, i));
            }
        }
        self.start.take().map(|s| (s, self.text.len()))
    }
}

/// `c.is_alphanumeric()`, answered without a Unicode table lookup for ASCII and the
/// Latin letters of Vietnamese text (clustering splits whole articles with it).
pub fn is_word_char(c: char) -> bool {
    // `classify` calls every apostrophe "other"; U+02BC is a letter to Unicode.
    classify(c) != CharClass::Other || (is_apostrophe(c) && c.is_alphanumeric())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CharClass {
    Letter,
    Digit,
    Other,
}

/// Letter, digit (any numeric character) or other, with the Latin ranges that Vietnamese
/// text lives in answered without a Unicode table lookup.
fn classify(c: char) -> CharClass {
    if c.is_ascii() {
        return if c.is_ascii_alphabetic() {
            CharClass::Letter
        } else if c.is_ascii_digit() {
            CharClass::Digit
        } else {
            CharClass::Other
        };
    }
    match c {
        // Latin-1 letters, Latin Extended-A and -B, Latin Extended Additional (ạ..ỹ).
        '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}' if c != '×' && c != '÷' => {
            CharClass::Letter
        }
        _ if is_apostrophe(c) => CharClass::Other,
        _ if c.is_alphabetic() => CharClass::Letter,
        _ if c.is_numeric() => CharClass::Digit,
        _ => CharClass::Other,
    }
}

fn push_token(tokens: &mut Vec<Token>, text: &str, start: usize, end: usize) {
    if let Some(slice) = text.get(start..end) {
        tokens.push(Token {
            start,
            end,
            text: slice.to_owned(),
        });
    }
}

/// Exact form of one word: the form the "exact" index field stores.
///
/// Lowercase; the tone mark is taken off its vowel and written as a trailing digit, so that
/// tone placement variants are equal (`hoà` and `hòa` -> `hoa2`, `thuỷ` and `thủy` -> `thuy3`,
/// `khoẻ`, `khỏe` and `KHOẺ` -> `khoe3`, `mới` -> `mơi1`, `rẫy` -> `rây4`). Tones: sắc (acute) 1,
/// huyền (grave) 2, hỏi (hook above) 3, ngã (tilde) 4, nặng (dot below) 5; no tone, no digit.
/// Shape marks stay (`ă â ê ô ơ ư đ`). Only marks on a vowel (`a e i o u y`) count as tones, so
/// non-Vietnamese letters such as `ñ` are just lowercased. Apostrophes are removed; a word of
/// digits stays as it is. If a word carries two tone marks the last one wins.
pub fn exact_form(word: &str) -> String {
    let mut out = String::with_capacity(word.len() + 1);
    exact_form_into(word, &mut out);
    out
}

/// [`exact_form`], appended to `out`.
pub fn exact_form_into(word: &str, out: &mut String) {
    if word.is_ascii() {
        push_ascii_lower_without_apostrophes(word, out);
        return;
    }
    // The common case: ASCII and precomposed Latin letters only, read off the table.
    let mark = out.len();
    let mut tone = 0u8;
    for c in word.chars() {
        if c.is_ascii() {
            if c != '\'' {
                out.push(c.to_ascii_lowercase());
            }
        } else if let Some((letter, t)) = latin_letter(c).and_then(|e| e.exact) {
            out.push(letter);
            if t > 0 {
                tone = t;
            }
        } else {
            out.truncate(mark);
            out.push_str(&exact_form_composed(word).unwrap_or_else(|| exact_form_general(word)));
            return;
        }
    }
    if tone > 0 {
        out.push(char::from(b'0' + tone));
    }
}

/// [`exact_form`] one character at a time, for the usual case of an NFC word without
/// standalone combining marks; `None` sends the word to [`exact_form_general`].
fn exact_form_composed(word: &str) -> Option<String> {
    if is_nfc_quick(word.chars()) != IsNormalized::Yes {
        return None;
    }
    let mut out = String::with_capacity(word.len());
    let mut tone = 0u8;
    for c in word.chars() {
        if c.is_ascii() {
            if c != '\'' {
                out.push(c.to_ascii_lowercase());
            }
            continue;
        }
        if is_apostrophe(c) {
            continue;
        }
        let mut lower = lookalike(c).to_lowercase();
        let (Some(l), None) = (lower.next(), lower.next()) else {
            return None;
        };
        if is_combining_mark(l) {
            return None;
        }
        let (letter, mark) = split_tone(l);
        out.push(letter);
        if let Some(t) = mark {
            tone = t;
        }
    }
    if tone > 0 {
        out.push(char::from(b'0' + tone));
    }
    Some(out)
}

/// Split a precomposed lowercase letter into the letter without its tone and the tone:
/// `ệ` -> (`ê`, 5), `à` -> (`a`, 2), `ñ` -> (`ñ`, none).
fn split_tone(letter: char) -> (char, Option<u8>) {
    let mut parts = ['\0'; 4];
    let mut len = 0;
    decompose_canonical(letter, |d| {
        if let Some(slot) = parts.get_mut(len) {
            *slot = d;
        }
        len += 1;
    });
    let Some((&base, marks)) = parts.get(..len).and_then(<[char]>::split_first) else {
        return (letter, None);
    };
    if len > parts.len() || !matches!(base, 'a' | 'e' | 'i' | 'o' | 'u' | 'y') {
        return (letter, None);
    }
    let mut tone = None;
    let mut composed = base;
    for &mark in marks {
        match tone_of_mark(mark) {
            Some(t) => tone = Some(t),
            None => match compose(composed, mark) {
                Some(c) => composed = c,
                None => return (letter, None),
            },
        }
    }
    (composed, tone)
}

/// [`exact_form`] for any word: decompose, drop the tone marks that sit on vowels, recompose.
fn exact_form_general(word: &str) -> String {
    let mut tone = 0u8;
    let mut on_vowel = false;
    let mut out: String = word
        .chars()
        .filter(|&c| !is_apostrophe(c))
        .map(lookalike)
        .flat_map(char::to_lowercase)
        .nfd()
        .filter(|&c| {
            if is_combining_mark(c) {
                if on_vowel && let Some(t) = tone_of_mark(c) {
                    tone = t;
                    return false;
                }
            } else {
                on_vowel = matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
            }
            true
        })
        .nfc()
        .collect();
    if tone > 0 {
        out.push(char::from(b'0' + tone));
    }
    out
}

/// Folded form of one word: the form the "folded" index field stores.
///
/// Lowercase, every diacritic removed, `đ` -> `d`, apostrophes removed: `Rẫy` -> `ray`,
/// `Đắk` -> `dak`, `H'Drai` -> `hdrai`, `người` -> `nguoi`.
pub fn fold(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    fold_into(word, &mut out);
    out
}

/// [`fold`], appended to `out` (the tokenizer reuses one buffer for every token).
pub fn fold_into(word: &str, out: &mut String) {
    if word.is_ascii() {
        push_ascii_lower_without_apostrophes(word, out);
        return;
    }
    for c in word.chars() {
        if c.is_ascii() {
            if c != '\'' {
                out.push(c.to_ascii_lowercase());
            }
        } else if let Some(f) = latin_letter(c).and_then(|e| e.fold) {
            out.push(f);
        } else {
            fold_char_slow(c, out);
        }
    }
}

/// [`fold`] of one character, from first principles.
fn fold_char_slow(c: char, out: &mut String) {
    if is_apostrophe(c) || is_diacritic_mark(c) {
        return;
    }
    for lower in lookalike(c).to_lowercase() {
        if lower.is_ascii() || is_hangul_syllable(lower) {
            out.push(lower);
            continue;
        }
        decompose_canonical(lower, |d| {
            if d == 'đ' {
                out.push('d');
            } else if !is_diacritic_mark(d) {
                out.push(d);
            }
        });
    }
}

/// What [`fold`] and [`exact_form`] make of one precomposed Latin letter, worked out once
/// for the blocks Vietnamese is written in (Latin-1 to Latin Extended-B, Latin Extended
/// Additional), so the hot path is a table lookup instead of case mapping and
/// decomposition. `None` fields send the character to the general path.
#[derive(Clone, Copy)]
struct LatinLetter {
    /// The folded form when it is exactly one character.
    fold: Option<char>,
    /// The letter without its tone and the tone (0: none), when the character is an NFC
    /// letter that `exact_form_composed` takes one character at a time.
    exact: Option<(char, u8)>,
}

const LATIN_A: std::ops::RangeInclusive<u32> = 0x00C0..=0x024F;
const LATIN_B: std::ops::RangeInclusive<u32> = 0x1E00..=0x1EFF;

fn latin_letter(c: char) -> Option<&'static LatinLetter> {
    static TABLE: std::sync::OnceLock<Vec<LatinLetter>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        LATIN_A
            .clone()
            .chain(LATIN_B.clone())
            .map(|u| {
                char::from_u32(u).map_or(
                    LatinLetter {
                        fold: None,
                        exact: None,
                    },
                    latin_entry,
                )
            })
            .collect()
    });
    let u = u32::from(c);
    let i = if LATIN_A.contains(&u) {
        u - LATIN_A.start()
    } else if LATIN_B.contains(&u) {
        u - LATIN_B.start() + (LATIN_A.end() - LATIN_A.start() + 1)
    } else {
        return None;
    };
    table.get(i as usize)
}

fn latin_entry(c: char) -> LatinLetter {
    let mut folded = String::new();
    fold_char_slow(c, &mut folded);
    let mut chars = folded.chars();
    let fold = match (chars.next(), chars.next()) {
        (Some(f), None) => Some(f),
        _ => None,
    };
    let nfc = is_nfc_quick(std::iter::once(c)) == IsNormalized::Yes
        && unicode_normalization::char::canonical_combining_class(c) == 0;
    let mut lower = lookalike(c).to_lowercase();
    let exact = match (nfc, is_apostrophe(c), lower.next(), lower.next()) {
        (true, false, Some(l), None) if !is_combining_mark(l) => {
            let (letter, tone) = split_tone(l);
            Some((letter, tone.unwrap_or(0)))
        }
        _ => None,
    };
    LatinLetter { fold, exact }
}

/// Hangul syllables decompose into jamo; folding keeps them whole.
fn is_hangul_syllable(c: char) -> bool {
    matches!(c, '\u{AC00}'..='\u{D7A3}')
}

fn push_ascii_lower_without_apostrophes(word: &str, out: &mut String) {
    out.extend(
        word.bytes()
            .filter(|&b| b != b'\'')
            .map(|b| char::from(b.to_ascii_lowercase())),
    );
}

/// True when the (cleaned) text carries any diacritic or `đ`/`Đ`, that is when folding would
/// change some word beyond lowercasing. A query for which this is false searches the folded
/// field only.
pub fn has_diacritics(text: &str) -> bool {
    text.chars().any(|c| !c.is_ascii() && char_has_diacritic(c))
}

fn char_has_diacritic(c: char) -> bool {
    if matches!(c, 'đ' | 'Đ') || lookalike(c) != c || is_diacritic_mark(c) {
        return true;
    }
    let mut found = false;
    decompose_canonical(c, |d| found |= is_diacritic_mark(d));
    found
}

/// Convenience: [`clean`] + [`tokenize`] + `(exact, folded)` forms of every token.
///
/// The token offsets refer to `clean(text)`; when the text is already clean (stored text is
/// cleaned once at ingest), use [`analyze_cleaned`] so offsets refer to that text.
pub fn analyze(text: &str) -> Vec<(Token, String, String)> {
    analyze_cleaned(&clean(text))
}

/// [`tokenize`] + `(exact, folded)` forms of every token, for text that went through [`clean`].
pub fn analyze_cleaned(cleaned: &str) -> Vec<(Token, String, String)> {
    tokenize(cleaned)
        .into_iter()
        .map(|token| {
            let exact = exact_form(&token.text);
            let folded = fold(&token.text);
            (token, exact, folded)
        })
        .collect()
}

/// Give `lower` (a lowercase word) the case pattern of `model`: all capitals when `model` has
/// at least two letters and all are capitals, a leading capital when `model` starts with one.
pub(crate) fn match_case(model: &str, lower: &str) -> String {
    let mut letters = model.chars().filter(|c| c.is_alphabetic());
    let Some(first) = letters.next() else {
        return lower.to_owned();
    };
    if !first.is_uppercase() {
        return lower.to_owned();
    }
    let mut rest = letters.peekable();
    if rest.peek().is_some() && rest.all(char::is_uppercase) {
        return lower.to_uppercase();
    }
    let mut chars = lower.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-letter table must give exactly what case mapping and decomposition give.
    #[test]
    fn latin_table_matches_the_general_path() {
        let fold_reference = |w: &str| {
            let mut out = String::new();
            for c in w.chars() {
                fold_char_slow(c, &mut out);
            }
            out
        };
        let exact_reference =
            |w: &str| exact_form_composed(w).unwrap_or_else(|| exact_form_general(w));
        let mut words: Vec<String> = LATIN_A
            .chain(LATIN_B)
            .filter_map(char::from_u32)
            .flat_map(|c| [c.to_string(), format!("ng{c}i"), format!("H'{c}\u{0301}")])
            .collect();
        words.extend(
            "Kon Rẫy NÔNG THÔN MỚI Đắk Ruồng hoà khoẻ thuỷ ĐĂK H'Drai ñandú Ǆemal ơ\u{0323}"
                .split(' ')
                .map(str::to_string),
        );
        for c in (0..0x3000).filter_map(char::from_u32) {
            assert_eq!(is_word_char(c), c.is_alphanumeric(), "{c:?}");
        }
        for w in &words {
            assert_eq!(fold(w), fold_reference(w), "fold {w:?}");
            assert_eq!(exact_form(w), exact_reference(w), "exact_form {w:?}");
        }
    }

    fn folded_words(text: &str) -> Vec<String> {
        analyze(text).into_iter().map(|(_, _, f)| f).collect()
    }

    fn exact_words(text: &str) -> Vec<String> {
        analyze(text).into_iter().map(|(_, e, _)| e).collect()
    }

    fn token_texts(text: &str) -> Vec<String> {
        tokenize(text).into_iter().map(|t| t.text).collect()
    }

    /// Offsets must slice the text back into the token, and tokens must be in order.
    fn assert_offsets(text: &str) {
        let mut previous_end = 0;
        for t in tokenize(text) {
            assert!(
                t.start >= previous_end && t.start < t.end,
                "{t:?} in {text:?}"
            );
            assert_eq!(text.get(t.start..t.end), Some(t.text.as_str()));
            previous_end = t.end;
        }
    }

    // --- clean -------------------------------------------------------------------------

    #[test]
    fn letters_taken_as_nfc_are_nfc_in_any_context() {
        use unicode_normalization::char::canonical_combining_class;
        let mut checked = 0;
        for c in ('\0'..='\u{20FF}').filter(|c| stays_nfc(*c)) {
            assert_eq!(
                is_nfc_quick(std::iter::once(c)),
                IsNormalized::Yes,
                "{c:?} U+{:04X}",
                c as u32
            );
            assert_eq!(canonical_combining_class(c), 0, "U+{:04X}", c as u32);
            checked += 1;
        }
        assert_eq!(checked, 0x300 + 0x100 + 0x50 + 0x21);
        assert!(!stays_nfc('\u{0301}') && !stays_nfc('\u{1F00}') && !stays_nfc('\u{2126}'));
    }

    /// [`clean`] as it was written first, its general case alone.
    fn clean_reference(text: &str) -> String {
        let mut out = String::new();
        push_clean_normalized(&html_escape::decode_html_entities(text), &mut out);
        out
    }

    #[test]
    fn clean_copying_stretches_equals_the_first_form() {
        let texts = [
            "",
            "   ",
            "Kon Rẫy",
            "  Kon \t\n Rẫy  ",
            "\u{00A0}Kon\u{00A0}\u{00A0}Rẫy\u{3000}",
            "Kon\u{200B}Rẫy \u{200B} ",
            "\u{FEFF}\u{200B} x",
            "ÐẮK ðắk Ɖak ɖak",
            "a\u{0085}b\u{0007}c\u{007F}d",
            "“Nông thôn mới” – 12.000 ₫ … €",
            "Vie\u{0323}\u{0302}t Nam",
            "Điện trở 5 \u{2126}",
            "Ελληνικά και Русский και 中文",
            "x&#225;ch &amp; Tom&nbsp;Jerry &#8203;",
            "huy\u{00AD}ện \u{00AD} a",
        ];
        for t in texts {
            assert_eq!(clean(t), clean_reference(t), "{t:?}");
        }
    }

    #[test]
    fn clean_takes_the_normalizer_when_a_mark_comes_late() {
        // A long NFC prefix, then a decomposed letter: the whole text is still normalized.
        let text = format!(
            "{} Vie\u{0323}\u{0302}t Nam",
            "Kon Rẫy nông thôn mới ".repeat(20)
        );
        let cleaned = clean(&text);
        assert!(cleaned.ends_with("Việt Nam"), "{cleaned}");
        assert_eq!(cleaned, cleaned.nfc().collect::<String>());
        assert!(cleaned.starts_with("Kon Rẫy nông thôn mới Kon"));
        // Ohm sign (a singleton decomposition) is replaced by omega even after NFC text.
        assert_eq!(clean("Điện trở 5 \u{2126}"), "Điện trở 5 \u{03A9}");
    }

    #[test]
    fn clean_decodes_entities() {
        // vi-search-cases #10
        assert_eq!(clean("x&#225;ch dao"), "xách dao");
        assert_eq!(clean("x&aacute;ch dao"), "xách dao");
        assert_eq!(clean("x&#xE1;ch"), "xách");
        assert_eq!(clean("Tom &amp; Jerry"), "Tom & Jerry");
        assert_eq!(clean("Kon&nbsp;Rẫy"), "Kon Rẫy");
        // nld1.html writes letters as numeric entities, combining marks included.
        assert_eq!(clean("Vi&#7879;t"), "Việt");
        assert_eq!(clean("Vie&#803;&#770;t"), "Việt");
    }

    #[test]
    fn clean_leaves_tags_case_and_unknown_entities() {
        assert_eq!(clean("<b>Hà Nội</b>"), "<b>Hà Nội</b>");
        assert_eq!(clean("AT&T &bogus; & &#xZZ;"), "AT&T &bogus; & &#xZZ;");
    }

    #[test]
    fn clean_removes_zero_width_and_soft_hyphens() {
        // vi-search-cases #24
        assert_eq!(clean("Kon Rẫ\u{200B}y"), "Kon Rẫy");
        assert_eq!(clean("\u{FEFF}Kon\u{200C} Rẫy\u{200D}\u{2060}"), "Kon Rẫy");
        assert_eq!(clean("huy\u{00AD}ện Kon\u{FEFF}Rẫy"), "huyện KonRẫy");
        assert_eq!(clean("&#8203;Rẫy&#xFEFF;"), "Rẫy");
    }

    #[test]
    fn clean_normalizes_to_nfc() {
        // vi-search-cases #8: NFD input equals NFC input after cleaning.
        let nfd = "Kon Ra\u{0302}\u{0303}y";
        assert_eq!(clean(nfd), "Kon Rẫy");
        assert_eq!(clean(nfd), clean("Kon Rẫy"));
        // vi-search-cases #9: partial composition seen in dantri text.
        assert_eq!(clean("huy\u{1EB9}\u{0302}n"), "huyện");
        // Marks in the "wrong" canonical order, and a grapheme joiner between them.
        assert_eq!(clean("huye\u{0302}\u{0323}n"), "huyện");
        assert_eq!(clean("huye\u{034F}\u{0302}\u{0323}n"), "huyện");
        // Removing an invisible character can leave marks out of canonical order.
        assert_eq!(clean("x\u{0316}\u{200B}\u{05B0}"), "x\u{05B0}\u{0316}");
    }

    #[test]
    fn clean_maps_lookalike_d() {
        // vi-search-cases #11
        assert_eq!(clean("\u{00D0}ẮK HÀ"), "ĐẮK HÀ");
        assert_eq!(clean("\u{0189}ăk Hà"), "Đăk Hà");
        assert_eq!(clean("\u{00F0}ường"), "đường");
        assert_eq!(exact_form(&clean("\u{00D0}ẮK")), exact_form("Đắk"));
    }

    #[test]
    fn clean_collapses_spaces_and_controls() {
        assert_eq!(
            clean("  Kon\u{00A0}\u{00A0}Rẫy\u{202F}huyện\t\n"),
            "Kon Rẫy huyện"
        );
        assert_eq!(clean("a\u{3000}b\u{2009}c\u{0085}d\u{2028}e"), "a b c d e");
        assert_eq!(clean("a\u{0000}b\u{0007}c\u{009D}d"), "a b c d");
        assert_eq!(clean(" \u{200B} \u{00A0} "), "");
        assert_eq!(clean(""), "");
    }

    #[test]
    fn clean_reads_c1_controls_as_windows_1252() {
        // feedparser's demoronize-2: `don&#146;t` in XML is U+0092, meant as `’`.
        assert_eq!(clean("don\u{0092}t"), "don’t");
        assert_eq!(
            clean("\u{0093}Kon Rẫy\u{0094} \u{0096} 5 \u{0080}"),
            "“Kon Rẫy” – 5 €"
        );
        assert_eq!(clean("\u{0099}"), "™");
        // NEL is a line break; the undefined codes are controls.
        assert_eq!(clean("a\u{0085}b\u{0081}c\u{009D}d"), "a b c d");
        assert_eq!(clean("don\u{0092}t"), clean_reference("don\u{0092}t"));
    }

    // --- tokenize ----------------------------------------------------------------------

    #[test]
    fn tokenize_splits_on_hyphens_and_dots() {
        // vi-search-cases #20, #21
        assert_eq!(token_texts("COVID-19"), ["COVID", "19"]);
        assert_eq!(token_texts("TP.HCM"), ["TP", "HCM"]);
        assert_eq!(folded_words("covid 19"), folded_words("COVID-19"));
        assert_eq!(folded_words("tp hcm"), folded_words("TP.HCM"));
        assert_eq!(
            token_texts("Sở GD&ĐT, 1.500 người (15%)!"),
            ["Sở", "GD", "ĐT", "1", "500", "người", "15"]
        );
    }

    #[test]
    fn tokenize_joins_apostrophes_between_letters() {
        // vi-search-cases #17
        assert_eq!(token_texts("huyện Ia H'Drai"), ["huyện", "Ia", "H'Drai"]);
        assert_eq!(folded_words("huyện Ia H'Drai"), ["huyen", "ia", "hdrai"]);
        assert_eq!(folded_words("Ia H\u{2019}Drai"), ["ia", "hdrai"]);
        assert_eq!(folded_words("Ia H\u{02BC}Drai"), ["ia", "hdrai"]);
        assert_eq!(folded_words("ia hdrai"), ["ia", "hdrai"]);
        assert_eq!(token_texts("Đắk R'Lấp"), ["Đắk", "R'Lấp"]);
        // Not between two letters: the apostrophe separates.
        assert_eq!(
            token_texts("'trích dẫn' 90's a'' b '"),
            ["trích", "dẫn", "90", "s", "a", "b"]
        );
    }

    #[test]
    fn tokenize_offsets_slice_the_text() {
        let text = "Người dân Kon Rẫy, H’Drai; COVID-19 tại TP.HCM 😀 đường";
        let tokens = tokenize(text);
        assert_eq!(tokens.len(), 11);
        assert_offsets(text);
        let h = &tokens[4];
        assert_eq!(h.text, "H’Drai");
        assert_eq!(&text[h.start..h.end], "H’Drai");
    }

    #[test]
    fn tokenize_keeps_combining_marks_with_their_word() {
        // A mark that NFC cannot compose stays in the word; a leading lone mark is skipped.
        let text = "q\u{0323}\u{0301}a \u{0301}xa";
        assert_eq!(token_texts(text), ["q\u{0323}\u{0301}a", "xa"]);
        assert_offsets(text);
        assert_eq!(fold("q\u{0323}\u{0301}a"), "qa");
    }

    #[test]
    fn token_order_gives_phrase_positions() {
        // vi-search-cases #4: "Kon Rẫy" is a phrase in one document and not in the other.
        let position = |text: &str, word: &str| {
            analyze(text)
                .iter()
                .position(|(_, exact, _)| *exact == exact_form(word))
        };
        let doc1 = "Huyện Kon Rẫy triển khai tiêm chủng";
        let doc4 = "Rẫy cà phê ở Kon Tum";
        assert_eq!(
            (position(doc1, "Kon"), position(doc1, "Rẫy")),
            (Some(1), Some(2))
        );
        assert_eq!(
            (position(doc4, "Kon"), position(doc4, "Rẫy")),
            (Some(4), Some(0))
        );
    }

    #[test]
    fn tokenize_keeps_every_word() {
        // vi-search-cases #22, #23: no stopword removal, negation words stay.
        assert_eq!(folded_words("\"người dân\""), ["nguoi", "dan"]);
        assert_eq!(folded_words("không có điện"), ["khong", "co", "dien"]);
    }

    // --- exact_form ----------------------------------------------------------------------

    #[test]
    fn exact_form_normalizes_tone_placement() {
        // vi-search-cases #5, #6, #7
        assert_eq!(exact_form("Hoà"), "hoa2");
        assert_eq!(exact_form("hòa"), "hoa2");
        assert_eq!(exact_words("Hoà Bình"), exact_words("hòa bình"));
        assert_eq!(exact_form("thuỷ"), "thuy3");
        assert_eq!(exact_form("thủy"), "thuy3");
        assert_eq!(exact_form("khoẻ"), "khoe3");
        assert_eq!(exact_form("khỏe"), "khoe3");
        assert_eq!(exact_form("KHOẺ"), "khoe3");
        assert_eq!(exact_form("Thúy"), exact_form("thuý"));
        assert_eq!(exact_form("quá"), "qua1");
    }

    #[test]
    fn exact_form_keeps_shape_marks() {
        assert_eq!(exact_form("mới"), "mơi1");
        assert_eq!(exact_form("rẫy"), "rây4");
        assert_eq!(exact_form("Rẫy"), "rây4");
        assert_eq!(exact_form("người"), "ngươi2");
        assert_eq!(exact_form("Đắk"), "đăk1");
        assert_eq!(exact_form("Đăk"), "đăk");
        assert_eq!(exact_form("việt"), "viêt5");
        assert_eq!(
            exact_form("huyện"),
            exact_form(&clean("huy\u{1EB9}\u{0302}n"))
        );
        assert_eq!(exact_form("Ra\u{0302}\u{0303}y"), "rây4");
    }

    #[test]
    fn exact_form_tells_minimal_pairs_apart() {
        assert_ne!(exact_form("bàn"), exact_form("bán"));
        assert_eq!(fold("bàn"), fold("bán"));
        // vi-search-cases #3, #14, #15
        assert_ne!(exact_form("Rẫy"), exact_form("Rây"));
        assert_ne!(exact_form("đường"), exact_form("Dương"));
        assert_ne!(exact_form("bão"), exact_form("Báo"));
        assert_ne!(exact_form("Đăk"), exact_form("Đắk"));
    }

    #[test]
    fn exact_form_edge_cases() {
        assert_eq!(exact_form("2017"), "2017");
        assert_eq!(exact_form("H5N1"), "h5n1");
        assert_eq!(exact_form("H'Drai"), "hdrai");
        assert_eq!(exact_form("R’Lấp"), "rlâp1");
        assert_eq!(exact_form(""), "");
        // Two tone marks: the last one wins.
        assert_eq!(exact_form("a\u{0301}\u{0300}"), "a2");
        // Marks on consonants and non-Vietnamese letters are not tones.
        assert_eq!(exact_form("España"), "españa");
        assert_eq!(exact_form("Straße"), "straße");
        assert_eq!(exact_form("Ñ"), "ñ");
        assert_eq!(exact_form("ÐẮK"), "đăk1");
    }

    // --- fold / has_diacritics -------------------------------------------------------------

    #[test]
    fn fold_removes_every_mark() {
        assert_eq!(fold("Rẫy"), "ray");
        assert_eq!(fold("Đắk"), "dak");
        assert_eq!(fold("Đăk"), "dak"); // vi-search-cases #12
        assert_eq!(fold("H'Drai"), "hdrai");
        assert_eq!(fold("người"), "nguoi");
        assert_eq!(fold("ĐƯỜNG"), "duong");
        assert_eq!(fold("Ra\u{0302}\u{0303}y"), "ray");
        assert_eq!(fold("ÐẮK"), "dak");
        assert_eq!(fold("COVID"), "covid");
        assert_eq!(fold("한국"), "한국");
        assert_eq!(fold(""), "");
        // vi-search-cases #1-#3: Rẫy, Ray, Rây fold equal.
        assert_eq!(folded_words("Kon Rẫy"), folded_words("kon ray"));
        assert_eq!(folded_words("Kon Rây"), folded_words("kon ray"));
        // vi-search-cases #14, #15: folded collisions.
        assert_eq!(fold("đường"), fold("Dương"));
        assert_eq!(fold("bão"), fold("Báo"));
    }

    #[test]
    fn has_diacritics_routes_queries() {
        assert!(!has_diacritics("kon ray"));
        assert!(!has_diacritics("ia h'drai"));
        assert!(!has_diacritics("covid 19 tp.hcm"));
        assert!(has_diacritics("Kon Rẫy"));
        assert!(has_diacritics("bàn"));
        assert!(has_diacritics("Đăk Ha"));
        assert!(has_diacritics("dân"));
        assert!(has_diacritics("Ra\u{0302}y"));
        assert!(!has_diacritics("东京 한국 😀"));
        assert!(!has_diacritics(""));
    }

    #[test]
    fn analyze_gives_both_forms() {
        // vi-search-cases #1
        let doc = analyze("Huyện Kon Rẫy triển khai tiêm chủng");
        let folded: Vec<&str> = doc.iter().map(|(_, _, f)| f.as_str()).collect();
        assert_eq!(
            folded,
            ["huyen", "kon", "ray", "trien", "khai", "tiem", "chung"]
        );
        let exact: Vec<&str> = doc.iter().map(|(_, e, _)| e.as_str()).collect();
        assert_eq!(
            exact,
            ["huyên5", "kon", "rây4", "triên3", "khai", "tiêm", "chung3"]
        );
        // vi-search-cases #24: offsets refer to the cleaned text.
        let text = "Kon Rẫ\u{200B}y";
        let cleaned = clean(text);
        for (token, _, _) in analyze(text) {
            assert_eq!(&cleaned[token.start..token.end], token.text);
        }
        assert_eq!(analyze(text), analyze_cleaned(&cleaned));
        assert_eq!(exact_words(text), exact_words("Kon Rẫy"));
    }

    #[test]
    fn match_case_follows_the_model() {
        assert_eq!(match_case("Vieejt", "việt"), "Việt");
        assert_eq!(match_case("VIEEJT", "việt"), "VIỆT");
        assert_eq!(match_case("vieejt", "việt"), "việt");
        assert_eq!(match_case("V", "vê"), "Vê");
        assert_eq!(match_case("", "a"), "a");
        assert_eq!(match_case("A", ""), "");
    }

    // --- robustness ------------------------------------------------------------------------

    /// Deterministic pseudo-random strings drawn from awkward characters.
    fn awkward_strings() -> Vec<String> {
        const POOL: &[char] = &[
            'a',
            'Z',
            'đ',
            'Đ',
            'ư',
            'ơ',
            '\u{0301}',
            '\u{0302}',
            '\u{0303}',
            '\u{0323}',
            '\u{031B}',
            '\u{0309}',
            '\u{034F}',
            '\u{200B}',
            '\u{200D}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{00A0}',
            ' ',
            '\t',
            '\0',
            '\u{7}',
            '\u{9C}',
            '\'',
            '’',
            'ʼ',
            '-',
            '.',
            '&',
            '#',
            ';',
            '😀',
            '\u{1F1FB}',
            '\u{1F1F3}',
            '\u{FE0F}',
            'ا',
            'ש',
            '\u{202E}',
            '\u{200F}',
            '東',
            '한',
            'ñ',
            'İ',
            'ß',
            '9',
            '٣',
            '\u{10FFFF}',
            '\u{E000}',
            '\u{FFFD}',
            'ǅ',
            'ﬃ',
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut out: Vec<String> = (0..300)
            .map(|_| {
                let len = usize::try_from(next() % 40).unwrap_or(0);
                (0..len)
                    .map(|_| POOL[usize::try_from(next()).unwrap_or(0) % POOL.len()])
                    .collect()
            })
            .collect();
        out.extend(
            [
                "\u{0301}",
                "\u{0301}\u{0301}\u{0301}",
                "a\u{0301}\u{0300}\u{0309}\u{0303}\u{0323}",
                "'",
                "''",
                "a'",
                "'a",
                "&",
                "&#",
                "&#x",
                "&#;",
                "&#xD800;",
                "&#x110000;",
                "&#99999999999999999999;",
                "&#0;",
                "&;",
                "&amp",
                "👨\u{200D}👩\u{200D}👧 🇻🇳",
                "مرحبا بالعالم \u{200F}שלום",
                "\u{202E}Việt Nam\u{202C}",
                "\u{0000}\u{0001}\u{001F}\u{007F}",
            ]
            .map(String::from),
        );
        out.push("Việt Nam ".repeat(1_250));
        out.push("\u{0301}".repeat(10_000));
        out.push("a\u{0323}".repeat(5_000));
        out.push("đ".repeat(10_000));
        out
    }

    #[test]
    fn never_panics_on_awkward_input() {
        for s in awkward_strings() {
            let cleaned = clean(&s);
            assert_eq!(
                clean(&cleaned),
                cleaned,
                "clean must be idempotent on {s:?}"
            );
            assert!(unicode_normalization::is_nfc(&cleaned), "{cleaned:?}");
            assert!(!cleaned.starts_with(' ') && !cleaned.ends_with(' '));
            assert!(!cleaned.contains("  "));
            assert_offsets(&s);
            assert_offsets(&cleaned);
            for (token, exact, folded) in analyze(&s) {
                assert!(!token.text.is_empty());
                assert!(unicode_normalization::is_nfc(&exact), "{exact:?}");
                // Folding the exact form gives the folded form, plus the tone digit if any.
                let refolded = fold(&exact);
                let tone = refolded.strip_prefix(folded.as_str());
                assert!(
                    matches!(tone, Some("" | "1" | "2" | "3" | "4" | "5")),
                    "{token:?} {exact:?} {folded:?}"
                );
            }
            let _ = exact_form(&s);
            let _ = fold(&s);
            let _ = has_diacritics(&s);
            let _ = match_case(&s, &s);
        }
    }

    #[test]
    fn exact_form_paths_agree() {
        let words = [
            "Hoà",
            "hòa",
            "thuỷ",
            "KHOẺ",
            "người",
            "Đắk",
            "ĐẮK",
            "ÐẮK",
            "việt",
            "Nguyễn",
            "ỨNG",
            "quốc",
            "H'Drai",
            "R’Lấp",
            "ǘ",
            "España",
            "Ωmega",
            "Ǆemal",
            "a\u{0301}",
        ];
        for word in words {
            let general = exact_form_general(word);
            if let Some(composed) = exact_form_composed(word) {
                assert_eq!(composed, general, "{word:?}");
            }
            assert_eq!(exact_form(word), general, "{word:?}");
        }
        for s in awkward_strings() {
            for token in tokenize(&clean(&s)) {
                assert_eq!(
                    exact_form(&token.text),
                    exact_form_general(&token.text),
                    "{token:?}"
                );
            }
        }
    }

    #[test]
    fn long_text_is_handled() {
        let text = "Người dân xã Đăk Ruồng ".repeat(2_000);
        let tokens = analyze(&text);
        assert_eq!(tokens.len(), 10_000);
        assert_eq!(tokens[9_999].2, "ruong");
    }
}
