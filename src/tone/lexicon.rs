//! The tone lexicon: `config/tone.txt` (built in) plus the admin's file, read into phrases
//! with their weights and flags, and the three kinds of markers (negators, hedges, contrast
//! words). Words are kept in their exact form (`vietnamese::exact_form`: lowercase, tone
//! as a trailing digit), the form the scanner compares. A later line for the same phrase
//! replaces the earlier one, so the admin's file can re-weigh a built-in phrase.

use std::collections::HashMap;

use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};

use crate::vietnamese;

/// Longest marker (negator, hedge, contrast word), in words.
pub(super) const MAX_MARKER_WORDS: usize = 4;
/// Heaviest weight a line may give.
const MAX_WEIGHT: f32 = 10.0;

/// A line of the lexicon that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexiconError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for LexiconError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "dòng {}: {}", self.line, self.message)
    }
}

impl std::error::Error for LexiconError {}

/// One weighted phrase: one part, or several parts with up to `scan::GAP` words between.
#[derive(Debug, Clone)]
pub(super) struct Phrase {
    pub(super) parts: Vec<Vec<String>>,
    pub(super) weight: f32,
    /// `^`: help after a harm; in a title it makes the harm background.
    pub(super) aftercare: bool,
    /// `%`: a case solved; in a title it makes the crime background (not `harm`).
    pub(super) solved: bool,
    /// `*`: harm to people or prosecution, never made background by `solved`.
    pub(super) harm: bool,
}

impl Phrase {
    /// Words of the first part (a longer first part wins at a position).
    pub(super) fn head_len(&self) -> usize {
        self.parts.first().map_or(0, Vec::len)
    }

    /// Words of every part together.
    pub(super) fn total_len(&self) -> usize {
        self.parts.iter().map(Vec::len).sum()
    }
}

/// What a marker does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Marker {
    /// `!`: the phrase right after it (within a few words, same clause) does not count.
    Negator,
    /// `?`: good phrases after it in the same clause do not count (plans, wishes).
    Hedge,
    /// `~`: phrases before it in the same sentence count half.
    Contrast,
}

/// A word of the lexicon, numbered: the scanner compares numbers, not strings.
pub(super) type WordId = u32;
/// The number of a word the lexicon does not have (it matches nothing).
pub(super) const UNKNOWN: WordId = WordId::MAX;

/// The lexicon, ready for the scanner.
#[derive(Debug, Clone)]
pub struct Lexicon {
    pub(super) phrases: Vec<Phrase>,
    /// Every word of a phrase or a marker (exact form) and its number.
    vocab: FxHashMap<String, WordId>,
    /// Each phrase's parts as word numbers (same order as `phrases`).
    pub(super) part_ids: Vec<Vec<Vec<WordId>>>,
    /// Phrase indexes by the number of their first word, most words first (file order
    /// among equals).
    pub(super) by_first: Vec<Vec<usize>>,
    /// Markers by the number of their first word, longest first.
    pub(super) markers: Vec<Vec<(Vec<WordId>, Marker)>>,
    fingerprint: String,
}

/// The exact forms of the words of `text`.
pub(super) fn exact_words(text: &str) -> Vec<String> {
    vietnamese::tokenize(&vietnamese::clean(text))
        .iter()
        .map(|t| vietnamese::exact_form(&t.text))
        .filter(|w| !w.is_empty())
        .collect()
}

impl Lexicon {
    /// Read lexicon files, in order (a later line replaces an earlier one for the same
    /// phrase). `salt` goes into the fingerprint (the scorer's version).
    pub fn parse(texts: &[&str], salt: &str) -> Result<Lexicon, LexiconError> {
        let mut phrases: Vec<Phrase> = Vec::new();
        let mut index_of: HashMap<Vec<Vec<String>>, usize> = HashMap::new();
        let mut markers = HashMap::new();
        let mut h = Sha256::new();
        h.update(salt.as_bytes());
        for text in texts {
            h.update([0]);
            h.update(text.as_bytes());
            for (n, raw) in text.lines().enumerate() {
                let line = raw.split('#').next().unwrap_or("").trim();
                if line.is_empty() {
                    continue;
                }
                let err = |message: String| LexiconError {
                    line: n + 1,
                    message,
                };
                let (head, rest) = line
                    .split_once(char::is_whitespace)
                    .ok_or_else(|| err(format!("`{line}`: thiếu cụm từ")))?;
                let parts: Vec<Vec<String>> = rest
                    .split('…')
                    .flat_map(|p| p.split("..."))
                    .map(exact_words)
                    .collect();
                if parts.iter().any(Vec::is_empty) {
                    return Err(err(format!(
                        "`{}`: cụm từ rỗng (hai bên dấu … đều phải có chữ)",
                        rest.trim()
                    )));
                }
                let marker = match head {
                    "!" => Some(Marker::Negator),
                    "?" => Some(Marker::Hedge),
                    "~" => Some(Marker::Contrast),
                    _ => None,
                };
                if let Some(m) = marker {
                    if parts.len() > 1 || parts[0].len() > MAX_MARKER_WORDS {
                        return Err(err(format!(
                            "`{}`: từ phủ định/đối lập chỉ gồm 1 đến {MAX_MARKER_WORDS} từ liền nhau",
                            rest.trim()
                        )));
                    }
                    markers.insert(parts[0].clone(), m);
                    continue;
                }
                let flags: &[char] = &['^', '%', '*'];
                let number = head.trim_end_matches(flags);
                let weight: f32 = number.parse().map_err(|_| {
                    err(format!(
                        "`{head}` không phải trọng số; viết ví dụ `+3 khánh thành`, `-4 tai nạn`, `0 đánh giá`, `! không`"
                    ))
                })?;
                if !weight.is_finite() || weight.abs() > MAX_WEIGHT {
                    return Err(err(format!(
                        "trọng số `{head}` phải trong khoảng -{MAX_WEIGHT}..{MAX_WEIGHT}"
                    )));
                }
                let flag_text = &head[number.len()..];
                let phrase = Phrase {
                    parts,
                    weight,
                    aftercare: flag_text.contains('^'),
                    solved: flag_text.contains('%'),
                    harm: flag_text.contains('*'),
                };
                match index_of.get(&phrase.parts) {
                    Some(&i) => phrases[i] = phrase,
                    None => {
                        index_of.insert(phrase.parts.clone(), phrases.len());
                        phrases.push(phrase);
                    }
                }
            }
        }
        let mut vocab: FxHashMap<String, WordId> = FxHashMap::default();
        let mut number = |w: &String| -> WordId {
            let next = vocab.len() as WordId;
            *vocab.entry(w.clone()).or_insert(next)
        };
        let part_ids: Vec<Vec<Vec<WordId>>> = phrases
            .iter()
            .map(|p| {
                p.parts
                    .iter()
                    .map(|part| part.iter().map(&mut number).collect())
                    .collect()
            })
            .collect();
        // Sorted so that the numbering does not follow the map's order.
        let mut marker_list: Vec<(Vec<String>, Marker)> = markers.into_iter().collect();
        marker_list.sort_by(|a, b| a.0.cmp(&b.0));
        let marker_ids: Vec<(Vec<WordId>, Marker)> = marker_list
            .iter()
            .map(|(words, m)| (words.iter().map(&mut number).collect(), *m))
            .collect();
        let mut by_first: Vec<Vec<usize>> = vec![Vec::new(); vocab.len()];
        for (i, parts) in part_ids.iter().enumerate() {
            if let Some(&first) = parts.first().and_then(|w| w.first()) {
                by_first[first as usize].push(i);
            }
        }
        for list in by_first.iter_mut() {
            // Stable: file order among phrases of the same length.
            list.sort_by_key(|&i| std::cmp::Reverse(phrases[i].total_len()));
        }
        let mut markers: Vec<Vec<(Vec<WordId>, Marker)>> = vec![Vec::new(); vocab.len()];
        for (words, m) in marker_ids {
            markers[words[0] as usize].push((words, m));
        }
        for list in markers.iter_mut() {
            list.sort_by_key(|(words, _)| std::cmp::Reverse(words.len()));
        }
        let fingerprint = h
            .finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Lexicon {
            phrases,
            vocab,
            part_ids,
            by_first,
            markers,
            fingerprint,
        })
    }

    /// A lexicon with nothing in it.
    pub fn empty(salt: &str) -> Lexicon {
        Lexicon {
            phrases: Vec::new(),
            vocab: FxHashMap::default(),
            part_ids: Vec::new(),
            by_first: Vec::new(),
            markers: Vec::new(),
            fingerprint: format!("empty-{salt}"),
        }
    }

    /// A short hash of the lexicon files and the scorer's version: when it changes, every
    /// item's tone is computed again.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The number of a word in exact form ([`UNKNOWN`] when no phrase or marker has it).
    pub(super) fn word_id(&self, exact: &str) -> WordId {
        self.vocab.get(exact).copied().unwrap_or(UNKNOWN)
    }

    /// Phrases whose first word is `id`.
    pub(super) fn phrases_from(&self, id: WordId) -> &[usize] {
        self.by_first.get(id as usize).map_or(&[], Vec::as_slice)
    }

    /// Markers whose first word is `id`, longest first.
    pub(super) fn markers_from(&self, id: WordId) -> &[(Vec<WordId>, Marker)] {
        self.markers.get(id as usize).map_or(&[], Vec::as_slice)
    }

    /// How many phrases it holds (markers not counted).
    pub fn len(&self) -> usize {
        self.phrases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_weights_flags_and_overrides() {
        let lex = Lexicon::parse(
            &[
                "# chú thích\n+4 khánh thành\n-5* tử vong\n+3^ hỗ trợ … triệu đồng\n! không\n",
                "+2 Khánh Thành   # admin lowers it\n",
            ],
            "t",
        )
        .expect("parse");
        assert_eq!(lex.len(), 3);
        let k = &lex.phrases[lex.phrases_from(lex.word_id(&vietnamese::exact_form("khánh")))[0]];
        assert_eq!(k.weight, 2.0, "the later line wins");
        let death = lex
            .phrases
            .iter()
            .find(|p| p.weight == -5.0)
            .expect("tử vong");
        assert!(death.harm && !death.solved && !death.aftercare);
        let gap = lex
            .phrases
            .iter()
            .find(|p| p.parts.len() == 2)
            .expect("gap phrase");
        assert!(gap.aftercare);
        let khong = lex.word_id("không");
        assert_ne!(khong, UNKNOWN);
        assert_eq!(lex.markers_from(khong), &[(vec![khong], Marker::Negator)]);
        assert_eq!(lex.word_id("chưa"), UNKNOWN);
    }

    #[test]
    fn bad_lines_name_their_line() {
        for (text, line, needle) in [
            ("+4 khánh thành\nnhiều khánh thành\n", 2, "trọng số"),
            ("+40 khánh thành\n", 1, "khoảng"),
            ("+4 phẫu thuật …\n", 1, "rỗng"),
            ("! không … có\n", 1, "phủ định"),
            ("+4\n", 1, "thiếu"),
        ] {
            let e = Lexicon::parse(&[text], "t").expect_err(text);
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.to_string().contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn the_fingerprint_follows_the_text_and_the_salt() {
        let a = Lexicon::parse(&["+1 a"], "v1").expect("a");
        let b = Lexicon::parse(&["+2 a"], "v1").expect("b");
        let c = Lexicon::parse(&["+1 a"], "v2").expect("c");
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
        assert_eq!(
            a.fingerprint(),
            Lexicon::parse(&["+1 a"], "v1").expect("a").fingerprint()
        );
    }
}
