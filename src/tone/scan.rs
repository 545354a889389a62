//! The scanner: one text (a title, a lead, the start of a body) cut into sentences and
//! clauses at punctuation, its words put in exact form, and the lexicon's phrases found in
//! it — the longest phrase at each position, gapped phrases (`a … b`) within one clause —
//! with the rules that change what a phrase counts: a negator just before it cancels it,
//! a hedge earlier in the clause (or a question) cancels a good phrase, a contrast word
//! later in the sentence halves it, quotes around a good phrase ('giải cứu') cancel it,
//! and each phrase counts once per field.

use std::collections::HashSet;

use super::lexicon::{Lexicon, Marker, WordId};
use crate::vietnamese;

/// Most words between the parts of a gapped phrase.
const GAP: usize = 8;
/// A negator cancels a phrase that starts within this many words after it.
const NEG_WINDOW: usize = 3;
/// What a phrase before a contrast word (same sentence) counts.
const CONTRAST: f64 = 0.5;

/// Which part of the item a text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Title,
    Lead,
    Body,
}

impl Field {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Lead => "lead",
            Field::Body => "body",
        }
    }
}

/// A phrase found in a field and what it counts there.
#[derive(Debug, Clone)]
pub(super) struct Found {
    /// Index into `Lexicon::phrases`.
    pub(super) phrase: usize,
    /// The words as written (parts joined by " … ").
    pub(super) text: String,
    /// What it adds to the score (field weight, negation, hedges, contrast applied).
    pub(super) weight: f64,
    pub(super) field: Field,
    pub(super) negated: bool,
}

struct Word {
    /// The lexicon's number for its exact form (`lexicon::UNKNOWN` if it has none).
    id: WordId,
    start: usize,
    end: usize,
    /// All digits.
    number: bool,
}

struct Clause {
    /// Its words: a range of the text's word list (one buffer for all clauses).
    words: std::ops::Range<usize>,
    sentence: usize,
    /// The clause ends its sentence with a question mark.
    question: bool,
}

fn is_quote(c: char) -> bool {
    matches!(c, '\'' | '"' | '‘' | '’' | '“' | '”')
}

/// A " - " (or en/em dash) between words separates two clauses ("Hà Tĩnh - Tai nạn"),
/// but not between two numbers ("9 - 10 xã").
fn has_spaced_dash(gap: &str) -> bool {
    // Asked of every gap between two words: no allocation.
    let mut chars = gap.chars();
    let (mut a, mut b) = (chars.next(), chars.next());
    for c in chars {
        if a.is_some_and(char::is_whitespace)
            && b.is_some_and(|b| matches!(b, '-' | '–' | '—'))
            && c.is_whitespace()
        {
            return true;
        }
        (a, b) = (b, Some(c));
    }
    false
}

fn is_number(w: &str) -> bool {
    !w.is_empty() && w.chars().all(char::is_numeric)
}

/// The words of `text` numbered by `lex`, and its clauses (ranges of those words). With
/// `limit`, clauses stop after the one that brings the words read to `limit` (whole
/// clauses: the last may cross it).
fn clauses(lex: &Lexicon, text: &str, limit: Option<usize>) -> (Vec<Word>, Vec<Clause>) {
    let mut out: Vec<Clause> = Vec::new();
    // About one word per six bytes of Vietnamese text, and no more than a body's budget
    // (a long body is read only that far).
    let mut all: Vec<Word> = Vec::with_capacity((text.len() / 6).min(limit.unwrap_or(usize::MAX)));
    if limit == Some(0) {
        return (all, out);
    }
    // The current clause is `all[begun..]`.
    let mut begun = 0usize;
    let mut sentence = 0;
    let mut exact = String::new();
    for (start, end) in vietnamese::word_spans(text) {
        exact.clear();
        vietnamese::exact_form_into(&text[start..end], &mut exact);
        if exact.is_empty() {
            continue;
        }
        let number = is_number(&exact);
        if let Some(prev) = all[begun..].last() {
            let gap = &text[prev.end..start];
            let dash = has_spaced_dash(gap) && !(prev.number && number);
            let breaks = gap.chars().any(|c| {
                matches!(
                    c,
                    '.' | ';' | ':' | '!' | '?' | '…' | ',' | '(' | ')' | '[' | ']' | '|' | '/'
                )
            });
            if breaks || dash {
                out.push(Clause {
                    question: gap.chars().take(3).any(|c| c == '?'),
                    words: begun..all.len(),
                    sentence,
                });
                begun = all.len();
                if limit.is_some_and(|l| all.len() >= l) {
                    return (all, out);
                }
                if gap
                    .chars()
                    .any(|c| matches!(c, '.' | ';' | '!' | '?' | '…'))
                {
                    sentence += 1;
                }
            }
        }
        all.push(Word {
            id: lex.word_id(&exact),
            start,
            end,
            number,
        });
    }
    if let Some(last) = all[begun..].last() {
        let tail = &text[last.end..];
        out.push(Clause {
            question: tail.chars().take(3).any(|c| c == '?'),
            words: begun..all.len(),
            sentence,
        });
    }
    (all, out)
}

/// The words of `words` from `at` are `part`.
fn same(words: &[Word], at: usize, part: &[WordId]) -> bool {
    words
        .get(at..at + part.len())
        .is_some_and(|ws| part.iter().zip(ws).all(|(p, w)| *p == w.id))
}

/// Where each part of `parts` matches from word `i` (the first part exactly at `i`, each
/// later one within `GAP` words of the one before).
fn match_at(words: &[Word], i: usize, parts: &[Vec<WordId>]) -> Option<Vec<(usize, usize)>> {
    let mut spans = Vec::with_capacity(parts.len());
    let mut pos = i;
    for (k, part) in parts.iter().enumerate() {
        if k == 0 {
            if !same(words, pos, part) {
                return None;
            }
            spans.push((pos, pos + part.len()));
            pos += part.len();
        } else {
            let last_start = words.len().checked_sub(part.len())?.min(pos + GAP);
            let found = (pos..=last_start).find(|&s| same(words, s, part))?;
            spans.push((found, found + part.len()));
            pos = found + part.len();
        }
    }
    Some(spans)
}

/// One match before its sentence's contrast words are known.
struct Pending {
    phrase: usize,
    text: String,
    sentence: usize,
    /// (clause, word) where it starts.
    at: (usize, usize),
    negated: bool,
    /// Quoted, hedged or in a question: a good phrase here counts nothing.
    doubted: bool,
}

/// Every phrase of `lex` in `text`, as it counts in `field`. `body_budget` limits a body
/// to about that many words (whole clauses).
pub(super) fn scan(
    lex: &Lexicon,
    text: &str,
    field: Field,
    weights: (f64, f64),
    body_budget: Option<usize>,
) -> Vec<Found> {
    let (all_words, clauses) = clauses(lex, text, body_budget);
    let mut pending: Vec<Pending> = Vec::new();
    let mut contrasts: Vec<(usize, (usize, usize))> = Vec::new();
    for (ci, clause) in clauses.iter().enumerate() {
        let words = &all_words[clause.words.clone()];
        let mut last_negator: Option<usize> = None;
        let mut hedged = clause.question;
        let mut i = 0;
        while i < words.len() {
            // The longest marker starting here.
            let marker: Option<(Marker, usize)> = lex
                .markers_from(words[i].id)
                .iter()
                .find(|(key, _)| same(words, i, key))
                .map(|(key, m)| (*m, key.len()));
            // The best phrase starting here: longest first part, then most words.
            let mut best: Option<(usize, Vec<(usize, usize)>)> = None;
            for &p in lex.phrases_from(words[i].id) {
                let phrase = &lex.phrases[p];
                if let Some(spans) = match_at(words, i, &lex.part_ids[p]) {
                    let better = best.as_ref().is_none_or(|(b, _)| {
                        let b = &lex.phrases[*b];
                        (phrase.head_len(), phrase.total_len()) > (b.head_len(), b.total_len())
                    });
                    if better {
                        best = Some((p, spans));
                    }
                }
            }
            // A longer phrase that starts inside this one wins ("bị đánh giá": "đánh giá").
            if let Some((p, spans)) = &best
                && spans.len() == 1
            {
                let total = lex.phrases[*p].total_len();
                let longer_inside = (i + 1..spans[0].1).any(|j| {
                    lex.phrases_from(words[j].id).iter().any(|&q| {
                        let parts = &lex.part_ids[q];
                        parts.len() == 1
                            && match_at(words, j, parts).is_some()
                            && parts[0].len() > total
                    })
                });
                if longer_inside {
                    i += 1;
                    continue;
                }
            }
            match (best, marker) {
                (Some((p, spans)), m)
                    if m.is_none_or(|(_, len)| lex.phrases[p].total_len() > len) =>
                {
                    let phrase = &lex.phrases[p];
                    let negated = last_negator.is_some_and(|n| i >= n && i - n < NEG_WINDOW);
                    let (first, last) = (spans[0], spans[spans.len() - 1]);
                    let shown: Vec<&str> = spans
                        .iter()
                        .map(|&(s, e)| &text[words[s].start..words[e - 1].end])
                        .collect();
                    let before = text[..words[first.0].start].chars().next_back();
                    let after = text[words[last.1 - 1].end..].chars().next();
                    let quoted = before.is_some_and(is_quote) && after.is_some_and(is_quote);
                    pending.push(Pending {
                        phrase: p,
                        text: shown.join(" … "),
                        sentence: clause.sentence,
                        at: (ci, i),
                        negated,
                        doubted: (quoted || hedged) && phrase.weight > 0.0,
                    });
                    // After a gapped phrase, the words in the gap are read too.
                    i = first.1;
                }
                (_, Some((m, len))) => {
                    match m {
                        Marker::Negator => last_negator = Some(i + len),
                        Marker::Hedge => hedged = true,
                        Marker::Contrast => contrasts.push((clause.sentence, (ci, i))),
                    }
                    i += len;
                }
                _ => i += 1,
            }
        }
    }
    let (good_weight, bad_weight) = weights;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for m in pending {
        if !seen.insert(m.phrase) {
            continue;
        }
        let w = f64::from(lex.phrases[m.phrase].weight);
        let contrast = contrasts
            .iter()
            .any(|(s, at)| *s == m.sentence && *at > m.at);
        let factor = if contrast { CONTRAST } else { 1.0 };
        let field_weight = if w > 0.0 { good_weight } else { bad_weight };
        let weight = if m.negated || m.doubted {
            0.0
        } else {
            w * factor * field_weight
        };
        out.push(Found {
            phrase: m.phrase,
            text: m.text,
            weight,
            field,
            negated: m.negated,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::has_spaced_dash;

    #[test]
    fn a_spaced_dash_is_told_from_a_hyphen_without_collecting_the_gap() {
        // The first form, collecting the characters and looking at each three in a row.
        let reference = |gap: &str| {
            let chars: Vec<char> = gap.chars().collect();
            chars.windows(3).any(|w| {
                w[0].is_whitespace() && matches!(w[1], '-' | '–' | '—') && w[2].is_whitespace()
            })
        };
        for gap in [
            " - ",
            " – ",
            "  —  ",
            "-",
            " -",
            "- ",
            " -- ",
            "",
            " ",
            ", - ",
            " \u{a0}- ",
            "\t—\n",
            " ─ ",
            ". - (",
            " -x ",
        ] {
            assert_eq!(has_spaced_dash(gap), reference(gap), "{gap:?}");
        }
        assert!(has_spaced_dash(" - "));
        assert!(!has_spaced_dash("-"));
    }
}
