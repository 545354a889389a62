//! Reading queries typed as raw Telex or VNI keystrokes, part of the Vietnamese text analysis
//! shared by indexing and querying (this part runs on the query side only).
//!
//! When a user's Vietnamese input method is switched off, `việt nam` arrives as `vieejt nam`
//! (Telex) or `Vie65t Nam` (VNI). The search tries the converted query when the typed one finds
//! nothing. A word is converted only when it contains a keystroke pattern and the result is a
//! plausible Vietnamese syllable (an initial consonant from the Vietnamese set followed by a
//! rhyme from the Vietnamese rhyme set, with a tone that the rhyme allows), so `nam`, `covid`
//! or `19` stay as typed.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::{match_case, tone_mark};

/// Read a query typed as raw Telex keystrokes: `vieejt nam` -> `Some("việt nam")`.
///
/// Keys: `dd` -> `đ`; `aa`, `ee`, `oo` -> `â ê ô`; `w` after `a`, `o`, `u` -> `ă ơ ư` (`uow` ->
/// `ươ`, and a `w` after the final consonant applies to the vowels before it); `w` with no vowel
/// yet -> `ư`; tone keys after a vowel, also at the end of the word: `s` sắc, `f` huyền, `r` hỏi,
/// `x` ngã, `j` nặng; `z` removes the tone. The case of the first letter is kept (and all
/// capitals stay capitals). Words with anything but ASCII letters, the operators `OR`, `AND`,
/// `NOT`, and words touching a `:` (`source:vnexpress`) are left alone. Returns `None` when no
/// word changed. The output is NFC, with the tone on the vowel that carries a shape mark, else on
/// the main vowel in the traditional placement (`hòa`, `thủy`; [`super::exact_form`] treats both
/// placements alike).
pub fn telex_to_vietnamese(query: &str) -> Option<String> {
    convert_words(query, telex_word)
}

/// Read a query typed as raw VNI keystrokes: `Vie65t Nam` -> `Some("Việt Nam")`.
///
/// Digits after the letters they modify: `1` sắc, `2` huyền, `3` hỏi, `4` ngã, `5` nặng, `6`
/// circumflex (`â ê ô`), `7` horn (`ơ ư`, `uo7` -> `ươ`), `8` breve (`ă`), `9` `đ`. Only words
/// that start with a letter, contain a digit and are not all capitals are candidates, so `2017`,
/// `19`, `U17`, `CO2` or `A4` stay as typed, and so do codes that make no syllable (`u23`,
/// `h5n1`). A `0` (VNI's "remove the tone") leaves the word as typed too: it shows up in codes
/// (`a10`, `u20`) far more than in typing. Lowercase codes that do make a syllable are converted
/// (`u17` -> `ứ`, `co2` -> `cò`), as `o73` must give `ở`; the search only tries the converted
/// query when the typed one finds nothing. Case and the other rules are as for
/// [`telex_to_vietnamese`].
pub fn vni_to_vietnamese(query: &str) -> Option<String> {
    convert_words(query, vni_word)
}

/// Apply `convert` to every word (run of letters, digits and combining marks) of `query`,
/// keeping everything between words as typed.
fn convert_words(query: &str, convert: fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::with_capacity(query.len() + 8);
    let mut changed = false;
    let mut copied = 0;
    let mut start: Option<usize> = None;
    let ends = query
        .char_indices()
        .map(|(i, c)| (i, Some(c)))
        .chain(std::iter::once((query.len(), None)));
    for (i, c) in ends {
        let in_word = c.is_some_and(|c| c.is_alphanumeric() || is_combining_mark(c));
        if in_word {
            if start.is_none() {
                start = Some(i);
            }
            continue;
        }
        let Some(s) = start.take() else { continue };
        let (Some(before), Some(word)) = (query.get(copied..s), query.get(s..i)) else {
            continue;
        };
        out.push_str(before);
        copied = i;
        let touches_colon = query.get(..s).is_some_and(|p| p.ends_with(':')) || c == Some(':');
        let converted = if touches_colon || matches!(word, "OR" | "AND" | "NOT") {
            None
        } else {
            convert(word).filter(|new| new != word)
        };
        match converted {
            Some(new) => {
                out.push_str(&new);
                changed = true;
            }
            None => out.push_str(word),
        }
    }
    if !changed {
        return None;
    }
    out.push_str(query.get(copied..).unwrap_or_default());
    Some(out)
}

/// A syllable being rebuilt from keystrokes: lowercase letters, shape marks included
/// (`ă â ê ô ơ ư đ`), and a tone 0 (none) to 5.
#[derive(Default)]
struct Keys {
    letters: Vec<char>,
    tone: u8,
    /// Whether some key did something other than add its letter.
    pressed: bool,
}

impl Keys {
    fn has_vowel(&self) -> bool {
        self.letters.iter().any(|&c| is_vowel(c))
    }

    /// A tone key after a vowel; a second tone key makes the word implausible.
    fn set_tone(&mut self, tone: u8) -> Option<()> {
        if !self.has_vowel() || (self.tone != 0 && tone != 0) || (self.tone == 0 && tone == 0) {
            return None;
        }
        self.tone = tone;
        self.pressed = true;
        Some(())
    }

    /// Horn on the last plain `o` or `u` (and on the `u` of `uo`, except in `quo`), or breve
    /// on the last plain `a` when `breve` allows it, whichever comes last.
    fn horn(&mut self, breve: bool) -> bool {
        let Some(i) = self
            .letters
            .iter()
            .rposition(|&c| c == 'o' || c == 'u' || (breve && c == 'a'))
        else {
            return false;
        };
        let before = i.checked_sub(1).and_then(|j| self.letters.get(j)).copied();
        let before_that = i.checked_sub(2).and_then(|j| self.letters.get(j)).copied();
        let is_o = self.letters.get(i) == Some(&'o');
        let horn_u_too = is_o && before == Some('u') && before_that != Some('q');
        if let Some(c) = self.letters.get_mut(i) {
            *c = match *c {
                'a' => 'ă',
                'o' => 'ơ',
                _ => 'ư',
            };
        }
        if horn_u_too && let Some(u) = i.checked_sub(1).and_then(|j| self.letters.get_mut(j)) {
            *u = 'ư';
        }
        self.pressed = true;
        true
    }

    /// Circumflex on the last plain `a`, `e` or `o`.
    fn circumflex_last(&mut self) -> bool {
        let Some(c) = self
            .letters
            .iter_mut()
            .rev()
            .find(|c| matches!(**c, 'a' | 'e' | 'o'))
        else {
            return false;
        };
        *c = circumflex(*c);
        self.pressed = true;
        true
    }

    fn compose(&self) -> Option<String> {
        if !self.pressed {
            return None;
        }
        compose(&self.letters, self.tone).or_else(|| {
            // `thuowr`: the `w` horned both vowels of `uo`, but `thuở` keeps a plain `u`.
            let at = self
                .letters
                .windows(2)
                .position(|pair| pair == ['ư', 'ơ'])?;
            let mut letters = self.letters.clone();
            if let Some(u) = letters.get_mut(at) {
                *u = 'u';
            }
            compose(&letters, self.tone)
        })
    }
}

fn telex_word(word: &str) -> Option<String> {
    if !word.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let mut keys = Keys::default();
    for key in word.chars().map(|c| c.to_ascii_lowercase()) {
        let last = keys.letters.last().copied();
        match key {
            'd' if last == Some('d') && keys.letters.len() == 1 => {
                keys.letters = vec!['đ'];
                keys.pressed = true;
            }
            'a' | 'e' | 'o' if last == Some(key) => {
                if let Some(c) = keys.letters.last_mut() {
                    *c = circumflex(key);
                }
                keys.pressed = true;
            }
            'w' => {
                if !keys.horn(true) {
                    if keys.has_vowel() {
                        return None;
                    }
                    keys.letters.push('ư');
                    keys.pressed = true;
                }
            }
            's' | 'f' | 'r' | 'x' | 'j' | 'z' if keys.has_vowel() => {
                let tone = match key {
                    's' => 1,
                    'f' => 2,
                    'r' => 3,
                    'x' => 4,
                    'j' => 5,
                    _ => 0,
                };
                keys.set_tone(tone)?;
            }
            other => keys.letters.push(other),
        }
    }
    Some(match_case(word, &keys.compose()?))
}

fn vni_word(word: &str) -> Option<String> {
    let starts_with_letter = word.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
    let all_capitals = !word.bytes().any(|b| b.is_ascii_lowercase());
    if !starts_with_letter
        || all_capitals
        || !word.bytes().all(|b| b.is_ascii_alphanumeric())
        || !word.bytes().any(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut keys = Keys::default();
    for key in word.chars().map(|c| c.to_ascii_lowercase()) {
        match key {
            '0' => return None,
            '1'..='5' => {
                let tone = u8::try_from(key).ok()?.checked_sub(b'0')?;
                keys.set_tone(tone)?;
            }
            '6' => {
                if !keys.circumflex_last() {
                    return None;
                }
            }
            '7' | '8' => {
                let applied = if key == '7' {
                    keys.horn(false)
                } else {
                    match keys.letters.iter_mut().rev().find(|c| **c == 'a') {
                        Some(a) => {
                            *a = 'ă';
                            keys.pressed = true;
                            true
                        }
                        None => false,
                    }
                };
                if !applied {
                    return None;
                }
            }
            '9' => match keys.letters.first_mut() {
                Some(d) if *d == 'd' => {
                    *d = 'đ';
                    keys.pressed = true;
                }
                _ => return None,
            },
            other => keys.letters.push(other),
        }
    }
    Some(match_case(word, &keys.compose()?))
}

fn circumflex(c: char) -> char {
    match c {
        'a' => 'â',
        'e' => 'ê',
        'o' => 'ô',
        other => other,
    }
}

fn is_vowel(c: char) -> bool {
    matches!(
        c,
        'a' | 'ă' | 'â' | 'e' | 'ê' | 'i' | 'o' | 'ô' | 'ơ' | 'u' | 'ư' | 'y'
    )
}

fn has_shape(c: char) -> bool {
    matches!(c, 'ă' | 'â' | 'ê' | 'ô' | 'ơ' | 'ư')
}

/// Initial consonants, longest first so that `ngh` is tried before `ng` and `n`. `kr` is for
/// Central Highlands names (`Krông`).
const INITIALS: &[&str] = &[
    "ngh", "ng", "nh", "ch", "gh", "gi", "kh", "kr", "ph", "qu", "th", "tr", "b", "c", "d", "đ",
    "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
];

/// Rhymes (medial + main vowel + final), without tone. `ăk` and `uk` are for Central Highlands
/// names (`Đắk Lắk`, `Krông Búk`); `ych`, `ynh`, `yt` occur only after `qu`.
const RHYMES: &[&str] = &[
    "a", "ac", "ach", "ai", "am", "an", "ang", "anh", "ao", "ap", "at", "au", "ay", //
    "ăc", "ăk", "ăm", "ăn", "ăng", "ăp", "ăt", //
    "âc", "âm", "ân", "âng", "âp", "ât", "âu", "ây", //
    "e", "ec", "em", "en", "eng", "eo", "ep", "et", //
    "ê", "êch", "êm", "ên", "ênh", "êp", "êt", "êu", //
    "i", "ia", "ich", "im", "in", "inh", "ip", "it", "iu", //
    "iêc", "iêm", "iên", "iêng", "iêp", "iêt", "iêu", //
    "o", "oc", "oi", "om", "on", "ong", "op", "ot", //
    "oa", "oac", "oach", "oai", "oam", "oan", "oang", "oanh", "oap", "oat", "oay", //
    "oăc", "oăm", "oăn", "oăng", "oăt", //
    "oe", "oen", "oeo", "oet", "ooc", "oong", //
    "ô", "ôc", "ôi", "ôm", "ôn", "ông", "ôp", "ôt", //
    "ơ", "ơi", "ơm", "ơn", "ơp", "ơt", //
    "u", "ua", "uc", "ui", "uk", "um", "un", "ung", "up", "ut", //
    "uân", "uâng", "uât", "uây", "uê", "uêch", "uênh", "uơ", //
    "uy", "uya", "uych", "uyên", "uyêt", "uyn", "uynh", "uyt", "uyu", //
    "uôc", "uôi", "uôm", "uôn", "uông", "uôt", //
    "ư", "ưa", "ưc", "ưi", "ưm", "ưn", "ưng", "ưt", "ưu", //
    "ươc", "ươi", "ươm", "ươn", "ương", "ươp", "ươt", "ươu", //
    "y", "yêm", "yên", "yêt", "yêu", "ych", "ynh", "yt",
];

/// Whether `initial` + `rhyme` with `tone` is a plausible Vietnamese syllable.
fn plausible(initial: &str, rhyme: &str, tone: u8) -> bool {
    if !RHYMES.contains(&rhyme) {
        return false;
    }
    let Some(first) = rhyme.chars().next() else {
        return false;
    };
    let front = matches!(first, 'e' | 'ê' | 'i' | 'y');
    // `k` also comes before other vowels in minority names (`Kon Tum`, `Bắc Kạn`).
    let spelling_ok = match initial {
        "gh" | "ngh" => front,
        "c" | "ng" => !front,
        "g" => !matches!(first, 'e' | 'ê' | 'y'),
        "gi" => !matches!(first, 'i' | 'y'),
        "qu" => !matches!(first, 'u' | 'ư' | 'o'),
        _ => !matches!(rhyme, "ych" | "ynh" | "yt"),
    };
    // Syllables closed by a stop (c, ch, p, t) take only sắc or nặng; minority names also
    // write `k` after a toneless vowel (`Đăk`).
    let tone_ok = if ["c", "ch", "p", "t"].iter().any(|s| rhyme.ends_with(s)) {
        matches!(tone, 1 | 5)
    } else if rhyme.ends_with('k') {
        matches!(tone, 0 | 1 | 5)
    } else {
        true
    };
    spelling_ok && tone_ok
}

/// Turn letters + tone into an NFC syllable, or `None` when it is not plausible Vietnamese.
fn compose(letters: &[char], tone: u8) -> Option<String> {
    let word: String = letters.iter().collect();
    let (initial, rhyme) = INITIALS.iter().find_map(|&initial| {
        let rhyme = word.strip_prefix(initial)?;
        plausible(initial, rhyme, tone).then_some((initial, rhyme))
    })?;
    let Some(mark) = tone_mark(tone) else {
        return Some(word);
    };
    let rhyme: Vec<char> = rhyme.chars().collect();
    let vowels = rhyme.iter().take_while(|&&c| is_vowel(c)).count();
    let closed = vowels < rhyme.len();
    let target = match (0..vowels)
        .rev()
        .find(|&i| rhyme.get(i).copied().is_some_and(has_shape))
    {
        Some(shaped) => shaped,
        None if closed => vowels.saturating_sub(1),
        None if vowels == 3 => 1,
        None => 0,
    };
    let mut out = String::with_capacity(word.len() + 2);
    out.push_str(initial);
    for (i, &c) in rhyme.iter().enumerate() {
        out.push(c);
        if i == target {
            out.push(mark);
        }
    }
    Some(out.nfc().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vietnamese::{exact_form, has_diacritics};

    fn telex(query: &str) -> Option<String> {
        telex_to_vietnamese(query)
    }

    fn vni(query: &str) -> Option<String> {
        vni_to_vietnamese(query)
    }

    #[test]
    fn telex_reads_common_words() {
        // vi-search-cases #18
        assert_eq!(telex("vieejt nam").as_deref(), Some("việt nam"));
        assert_eq!(telex("vieetj nam").as_deref(), Some("việt nam"));
        assert_eq!(telex("nhaan daan").as_deref(), Some("nhân dân"));
        assert_eq!(telex("nguowif daan").as_deref(), Some("người dân"));
        assert_eq!(telex("dduwowngf").as_deref(), Some("đường"));
        assert_eq!(telex("truwowngf hocj").as_deref(), Some("trường học"));
        assert_eq!(telex("tieengs vieejt").as_deref(), Some("tiếng việt"));
        assert_eq!(telex("ddawks lawks").as_deref(), Some("đắk lắk"));
        assert_eq!(telex("ddawk haf").as_deref(), Some("đăk hà"));
        assert_eq!(telex("kroong buks").as_deref(), Some("krông búk"));
        // A bare `â` is no rhyme: `raax` is not converted on its own.
        assert_eq!(telex("kon raax"), None);
        assert_eq!(telex("kon raaxy").as_deref(), Some("kon rẫy"));
        assert_eq!(telex("kon raayx").as_deref(), Some("kon rẫy"));
        assert_eq!(
            telex("nooong thoon moiws").as_deref(),
            Some("nooong thôn mới")
        );
        assert_eq!(telex("quoocs hooij").as_deref(), Some("quốc hội"));
        assert_eq!(telex("giaos ducj").as_deref(), Some("giáo dục"));
        assert_eq!(telex("thuowr").as_deref(), Some("thuở"));
        assert_eq!(telex("nhw").as_deref(), Some("như"));
        assert_eq!(telex("tuongw").as_deref(), Some("tương"));
        assert_eq!(telex("hoawcj").as_deref(), Some("hoặc"));
        // The `u` before `a` or `u` keeps its shape; only `uo` takes two horns.
        assert_eq!(telex("khuaw"), None);
        assert_eq!(vni("ngu7u7"), None);
        assert_eq!(telex("quowf").as_deref(), Some("quờ"));
        assert_eq!(telex("huow").as_deref(), Some("huơ"));
    }

    #[test]
    fn telex_puts_tones_where_exact_form_agrees() {
        for (typed, written) in [
            ("hoaf binhf", "hòa bình"),
            ("thuyr lowij", "thủy lợi"),
            ("khoer", "khỏe"),
            ("hoaif", "hoài"),
            ("khuyeens", "khuyến"),
            ("toans", "toán"),
            ("ruowuj", "rượu"),
            ("gif", "gì"),
            ("gieengs", "giếng"),
            ("quys", "quý"),
        ] {
            let converted = telex(typed);
            assert_eq!(converted.as_deref(), Some(written), "{typed}");
            let exact = |s: &str| s.split(' ').map(exact_form).collect::<Vec<_>>();
            assert_eq!(
                exact(converted.as_deref().unwrap_or_default()),
                exact(written)
            );
        }
    }

    #[test]
    fn telex_keeps_case() {
        assert_eq!(telex("Vieejt Nam").as_deref(), Some("Việt Nam"));
        assert_eq!(telex("VIEEJT NAM").as_deref(), Some("VIỆT NAM"));
        assert_eq!(telex("DDawks").as_deref(), Some("Đắk"));
        // `âk` is no rhyme, only `ăk` is.
        assert_eq!(telex("DDaaks"), None);
    }

    #[test]
    fn telex_leaves_ordinary_words_alone() {
        for query in [
            "nam",
            "covid 19",
            "kon ray",
            "tp hcm",
            "ia hdrai",
            "news",
            "hello world",
            "Việt Nam",
            "",
            "   ",
            "source:vnexpress",
            "kon OR ray",
            "jazz",
            "aaa",
            "ss",
        ] {
            assert_eq!(telex(query), None, "{query:?}");
        }
    }

    #[test]
    fn telex_keeps_query_syntax() {
        assert_eq!(
            telex("\"vieejt nam\" -hoaf source:vnexpress topic:thowif").as_deref(),
            Some("\"việt nam\" -hòa source:vnexpress topic:thowif")
        );
        assert_eq!(telex("kon OR ddawks").as_deref(), Some("kon OR đắk"));
    }

    #[test]
    fn vni_reads_digits() {
        // vi-search-cases #19
        assert_eq!(vni("Vie65t Nam").as_deref(), Some("Việt Nam"));
        assert_eq!(vni("Viet65 Nam").as_deref(), Some("Việt Nam"));
        assert_eq!(vni("nha6n da6n").as_deref(), Some("nhân dân"));
        assert_eq!(vni("d9u7o7ng2").as_deref(), Some("đường"));
        assert_eq!(vni("duong792").as_deref(), Some("đường"));
        assert_eq!(vni("D9a8k1 La8k1").as_deref(), Some("Đắk Lắk"));
        assert_eq!(vni("hoa2 bi2nh").as_deref(), Some("hòa bình"));
        assert_eq!(vni("kho3e").as_deref(), Some("khỏe"));
        assert_eq!(vni("o73 Kon Tum").as_deref(), Some("ở Kon Tum"));
    }

    #[test]
    fn vni_leaves_numbers_and_codes_alone() {
        for query in [
            "2017",
            "19",
            "covid 19",
            "COVID19",
            "H5N1",
            "G7",
            "U23",
            "U17",
            "CO2",
            "A4",
            "a10",
            "u20",
            "mp3",
            "Việt Nam",
            "a0",
            "x9",
            "",
        ] {
            assert_eq!(vni(query), None, "{query:?}");
        }
    }

    #[test]
    fn output_is_nfc_with_diacritics() {
        for query in ["vieejt", "nguowif", "ddawks"] {
            let out = telex(query).unwrap_or_default();
            assert!(has_diacritics(&out));
            assert_eq!(out.nfc().collect::<String>(), out);
        }
    }

    #[test]
    fn never_panics() {
        let long = "vieejt ".repeat(2_000);
        for query in [
            "\u{0301}w",
            "ww",
            "wwwwwwwwww",
            "dddd",
            "ddd",
            "d9d9",
            "a6666",
            "7",
            "u7o7o7",
            "😀vieejt😀",
            "vieejt\u{0301}",
            "مرحبا",
            "a:b:",
            ":vieejt",
            long.as_str(),
        ] {
            let _ = telex(query);
            let _ = vni(query);
        }
    }
}
