//! Spelling help for Vietnamese queries that find nothing or little: "Có phải bạn muốn
//! tìm: …". It works on syllables, the unit Vietnamese is typed in, and only offers
//! syllables that exist: every candidate is looked up in the index's term dictionary of
//! the folded body and title fields.
//!
//! For each typed syllable of two letters or more, the candidates are, cheapest first:
//! the syllable itself when it exists; the usual slips of Vietnamese typing — Telex/VNI
//! leftovers (`moiw`, `daa`, `moi5`), a doubled letter (`tumm`), `k`/`c` and `y`/`i`
//! swapped; then any spelling one edit away (a letter dropped, added, changed or two
//! swapped). Candidates are combined left to right (a small beam), each combination
//! ranked by how often it occurs as a phrase in the index, weighted down by the edits it
//! took, so `nong thon moy` becomes "nong thon moi" rather than "nong thon may". The
//! winner is shown as most documents write it, diacritics included (`surface`).

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

use super::phrase_ends::PhraseEnds;
use crate::index::schema::Fields;
use crate::vietnamese;

/// Queries longer than this get no suggestion (they are rarely one mistyped phrase).
const MAX_WORDS: usize = 6;
/// Candidates kept per syllable.
const PER_WORD: usize = 6;
/// Combinations kept after each syllable.
const BEAM: usize = 8;
/// A typed syllable found in at least this share of the documents (and in at least
/// `TRUSTED_MIN` of them) is taken as meant: it gets no other candidates. Typing slips make
/// syllables that are absent or rare (`moy`, `daa`, `tumm`); a common syllable's
/// neighbours one edit away are common too, and pairing them was nearly all the time of a
/// long query with few hits (`phá rừng pơ mu Quảng Nam`: 36 of 37 ms at 35k documents, for
/// a suggestion that was then not shown).
const TRUSTED_SHARE: f64 = 0.001;
const TRUSTED_MIN: u64 = 20;
/// Weight of a combination per slip of typing, and per other edit.
const SLIP_WEIGHT: f64 = 0.5;
const EDIT_WEIGHT: f64 = 0.2;

/// A suggested reading of the query's words.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Suggestion {
    /// The folded syllables of the suggestion.
    pub(super) folded: Vec<String>,
    /// How many documents hold it as a phrase.
    pub(super) count: usize,
    /// Some of those documents (item ids), to read its usual spelling from.
    pub(super) examples: Vec<u64>,
}

/// One candidate syllable for one typed syllable.
#[derive(Debug, Clone)]
struct Candidate {
    folded: String,
    weight: f64,
    doc_freq: u64,
}

/// Documents of `field` holding `word` (0 when absent).
fn doc_freq(searcher: &Searcher, field: Field, word: &str) -> u64 {
    searcher
        .doc_freq(&Term::from_field_text(field, word))
        .unwrap_or(0)
}

/// The slips of Vietnamese typing that turn `w` (folded, ASCII) into something else.
fn slips(w: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = w.chars().collect();
    let n = chars.len();
    // A Telex tone or shape key left at the end (`mois`, `moiw`) or a VNI digit (`moi5`).
    if n > 2 && matches!(chars[n - 1], 's' | 'f' | 'r' | 'x' | 'j' | 'w' | '1'..='9') {
        out.push(chars[..n - 1].iter().collect());
    }
    // Telex doubles (`aa` = â, `dd` = đ) and plain doubled letters (`tumm`): one of the pair.
    // `aw`, `ow`, `uw` (ă, ơ, ư): the `w` goes.
    for i in 1..n {
        if chars[i] == chars[i - 1] || (chars[i] == 'w' && matches!(chars[i - 1], 'a' | 'o' | 'u'))
        {
            let mut s: String = chars[..i].iter().collect();
            s.extend(&chars[i + 1..]);
            out.push(s);
        }
    }
    // k/c and y/i, either way.
    for (i, c) in chars.iter().enumerate() {
        let swapped = match c {
            'k' => 'c',
            'c' => 'k',
            'y' => 'i',
            'i' => 'y',
            _ => continue,
        };
        let mut s = chars.clone();
        s[i] = swapped;
        out.push(s.into_iter().collect());
    }
    out
}

/// Every spelling one edit away from `w`, over the letters a folded syllable uses.
fn edits(w: &str) -> Vec<String> {
    const LETTERS: &str = "abcdeghiklmnopqrstuvxy";
    let chars: Vec<char> = w.chars().collect();
    let n = chars.len();
    let mut out = Vec::with_capacity(n * 45 + 25);
    let word = |v: &[char]| v.iter().collect::<String>();
    for i in 0..n {
        let mut v = chars.clone();
        v.remove(i);
        out.push(word(&v));
        if i + 1 < n {
            let mut v = chars.clone();
            v.swap(i, i + 1);
            out.push(word(&v));
        }
        for c in LETTERS.chars() {
            if c != chars[i] {
                let mut v = chars.clone();
                v[i] = c;
                out.push(word(&v));
            }
        }
    }
    for i in 0..=n {
        for c in LETTERS.chars() {
            let mut v = chars.clone();
            v.insert(i, c);
            out.push(word(&v));
        }
    }
    out
}

/// The candidates for one typed syllable (folded), best first: only itself when it is in
/// `trusted` documents or more.
fn candidates(searcher: &Searcher, f: Fields, w: &str, trusted: u64) -> Vec<Candidate> {
    let df = |s: &str| doc_freq(searcher, f.body_f, s) + doc_freq(searcher, f.title_f, s);
    let mut out: Vec<Candidate> = Vec::new();
    let own = df(w);
    if own > 0 {
        out.push(Candidate {
            folded: w.to_string(),
            weight: 1.0,
            doc_freq: own,
        });
    }
    let editable =
        own < trusted && w.chars().count() >= 2 && w.chars().all(|c| c.is_ascii_lowercase());
    if !editable {
        return out;
    }
    let push = |s: String, weight: f64, out: &mut Vec<Candidate>| {
        if s.is_empty() || s == w || out.iter().any(|c| c.folded == s) {
            return;
        }
        let n = df(&s);
        if n > 0 {
            out.push(Candidate {
                folded: s,
                weight,
                doc_freq: n,
            });
        }
    };
    for s in slips(w) {
        push(s, SLIP_WEIGHT, &mut out);
    }
    let mut others: Vec<Candidate> = Vec::new();
    for s in edits(w) {
        if !out.iter().any(|c| c.folded == s) {
            push(s, EDIT_WEIGHT, &mut others);
        }
    }
    // Of the plain edits, the most common syllables.
    others.sort_by(|a, b| b.doc_freq.cmp(&a.doc_freq).then(a.folded.cmp(&b.folded)));
    out.extend(others);
    out.sort_by(|a, b| {
        b.weight
            .total_cmp(&a.weight)
            .then(b.doc_freq.cmp(&a.doc_freq))
    });
    out.truncate(PER_WORD);
    out
}

/// The query matching `words` as a phrase in the folded title or body.
fn phrase_query(f: Fields, words: &[String]) -> Box<dyn Query> {
    let on = |field: Field| -> Box<dyn Query> {
        if words.len() == 1 {
            Box::new(TermQuery::new(
                Term::from_field_text(field, &words[0]),
                IndexRecordOption::Basic,
            ))
        } else {
            Box::new(PhraseQuery::new(
                words
                    .iter()
                    .map(|w| Term::from_field_text(field, w))
                    .collect(),
            ))
        }
    };
    Box::new(BooleanQuery::new(vec![
        (Occur::Should, on(f.title_f)),
        (Occur::Should, on(f.body_f)),
    ]))
}

/// A better reading of `typed` (the query's words as typed), or None when every syllable
/// is already the best one or nothing better occurs.
pub(super) fn suggest(searcher: &Searcher, f: Fields, typed: &str) -> Option<Suggestion> {
    let words: Vec<String> = vietnamese::tokenize(typed)
        .iter()
        .map(|t| vietnamese::fold(&t.text))
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() || words.len() > MAX_WORDS {
        return None;
    }
    // Counted over both fields, as the candidates' document frequencies are.
    let trusted = ((searcher.num_docs() as f64 * TRUSTED_SHARE) as u64).max(TRUSTED_MIN);
    let per_word: Vec<Vec<Candidate>> = words
        .iter()
        .map(|w| candidates(searcher, f, w, trusted))
        .collect();
    // Nothing to choose (a syllable with no candidate, or each one itself only): no
    // reading can differ from the typed one, so no phrase is counted.
    let as_typed = per_word
        .iter()
        .zip(&words)
        .all(|(c, w)| c.len() == 1 && c[0].folded == *w);
    if as_typed || per_word.iter().any(Vec::is_empty) {
        return None;
    }
    // Beam over the syllables: (syllables, weight, count, where the phrase ends). The
    // count of a phrase is read from its prefix's matches (`PhraseEnds`), the same count
    // a `PhraseQuery` would give, without reading the prefix's positions again.
    let fields = [f.title_f, f.body_f];
    let mut beam: Vec<(Vec<String>, f64, usize, Option<PhraseEnds>)> =
        vec![(Vec::new(), 1.0, usize::MAX, None)];
    for (i, cands) in per_word.iter().enumerate() {
        // Extensions in order of the most they can score: a phrase is in no more
        // documents than its prefix, nor than its last syllable. Once the beam is full of
        // scores above that bound, the rest cannot enter it and are not counted.
        let mut order: Vec<(f64, usize, usize)> = Vec::new();
        for (b, (_, weight, count, _)) in beam.iter().enumerate() {
            for (k, c) in cands.iter().enumerate() {
                let most = (*count).min(usize::try_from(c.doc_freq).unwrap_or(usize::MAX));
                order.push((most as f64 * (weight * c.weight), b, k));
            }
        }
        order.sort_by(|a, b| b.0.total_cmp(&a.0).then((a.1, a.2).cmp(&(b.1, b.2))));
        let mut next: Vec<(Vec<String>, f64, usize, Option<PhraseEnds>)> = Vec::new();
        let mut scores: Vec<f64> = Vec::new();
        for (bound, b, k) in order {
            if scores.len() >= BEAM {
                scores.sort_by(|x, y| y.total_cmp(x));
                if scores[BEAM - 1] > bound {
                    break;
                }
            }
            let (prefix, weight, _, ends) = &beam[b];
            let c = &cands[k];
            let mut words = prefix.clone();
            words.push(c.folded.clone());
            let (count, ends) = match ends {
                _ if i == 0 => (usize::try_from(c.doc_freq).unwrap_or(usize::MAX), None),
                Some(before) => {
                    let e = before.then(searcher, &fields, &c.folded);
                    (e.count(searcher), Some(e))
                }
                // The prefix is one syllable.
                None => {
                    let e = PhraseEnds::pair(searcher, &fields, &prefix[0], &c.folded);
                    (e.count(searcher), Some(e))
                }
            };
            if count > 0 {
                let w = weight * c.weight;
                scores.push(count as f64 * w);
                next.push((words, w, count, ends));
            }
        }
        next.sort_by(|a, b| {
            (b.2 as f64 * b.1)
                .total_cmp(&(a.2 as f64 * a.1))
                .then(a.0.cmp(&b.0))
        });
        next.truncate(BEAM);
        if next.is_empty() {
            return None;
        }
        beam = next;
    }
    let (best, _, count, ends) = beam.into_iter().next().filter(|(w, ..)| *w != words)?;
    let query = phrase_query(f, &best);
    // A phrase's count is exact already; a one-word suggestion's was its document
    // frequency (deleted documents included): count that one.
    let count = match ends {
        Some(_) => count,
        None => searcher.search(&*query, &Count).unwrap_or(0),
    };
    if count == 0 {
        return None;
    }
    let examples = searcher
        .search(&*query, &TopDocs::with_limit(5))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(_, addr)| {
            searcher
                .segment_reader(addr.segment_ord)
                .fast_fields()
                .u64("id")
                .ok()?
                .first(addr.doc_id)
        })
        .collect();
    Some(Suggestion {
        folded: best,
        count,
        examples,
    })
}

/// How `texts` most often write the folded phrase `folded` (its diacritics), with the
/// case of `typed`: a capital is kept only where the person typed one or where every word
/// of the phrase is capitalized (a name, "Kon Tum"). The folded phrase when no text holds it.
pub(super) fn surface<'a>(
    folded: &[String],
    texts: impl IntoIterator<Item = &'a str>,
    typed: &str,
) -> String {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for text in texts {
        let tokens = vietnamese::tokenize(text);
        let folds: Vec<String> = tokens.iter().map(|t| vietnamese::fold(&t.text)).collect();
        for start in 0..folds.len() {
            if folds.len() - start < folded.len() {
                break;
            }
            if folds[start..start + folded.len()] == *folded {
                let form = tokens[start..start + folded.len()]
                    .iter()
                    .map(|t| t.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                match seen.iter_mut().find(|(f, _)| *f == form) {
                    Some((_, n)) => *n += 1,
                    None => seen.push((form, 1)),
                }
            }
        }
    }
    let Some((form, _)) = seen
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
    else {
        return folded.join(" ");
    };
    let typed_words: Vec<String> = vietnamese::tokenize(typed)
        .into_iter()
        .map(|t| t.text)
        .collect();
    let words: Vec<&str> = form.split(' ').collect();
    let is_capital = |w: &str| w.chars().next().is_some_and(char::is_uppercase);
    let a_name = words.iter().all(|w| is_capital(w));
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let typed_capital = typed_words.get(i).is_some_and(|t| is_capital(t));
            if a_name || typed_capital {
                w.to_string()
            } else {
                w.to_lowercase()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::schema::in_memory_index;
    use tantivy::doc;

    fn index_of(texts: &[&str]) -> (tantivy::Index, Fields) {
        let (index, f, mut writer) = in_memory_index();
        for (i, t) in texts.iter().enumerate() {
            writer
                .add_document(doc!(f.id => i as u64, f.body => *t, f.body_f => *t))
                .expect("add");
        }
        writer.commit().expect("commit");
        (index, f)
    }

    #[test]
    fn slips_cover_telex_doubles_and_swaps() {
        let s = slips("daa");
        assert!(s.contains(&"da".to_string()), "{s:?}");
        assert!(slips("tumm").contains(&"tum".to_string()));
        assert!(slips("duk").contains(&"duc".to_string()));
        assert!(slips("moy").contains(&"moi".to_string()));
        assert!(slips("mois").contains(&"moi".to_string()));
        assert!(slips("moi5").contains(&"moi".to_string()));
        assert!(edits("moy").contains(&"may".to_string()));
    }

    #[test]
    fn a_common_syllable_is_taken_as_typed() {
        // "pơ mu" (a tree) in 30 documents, "phố mu" in 200: weighted by the one edit,
        // "pho mu" would outscore it (200 × 0.2 > 30), but `po` is in enough documents to
        // be a word meant, so nothing is suggested; `pow` (Telex for pơ), in none, gets `po`.
        let mut texts = vec!["Rừng pơ mu ở Quảng Nam"; 30];
        texts.extend(vec!["Phố mu ngày mưa"; 200]);
        let (index, f) = index_of(&texts);
        let searcher = index.reader().expect("reader").searcher();
        assert_eq!(suggest(&searcher, f, "po mu"), None);
        let s = suggest(&searcher, f, "pow mu").expect("a suggestion");
        assert_eq!(s.folded, vec!["po", "mu"]);
        assert_eq!(s.count, 30);
    }

    #[test]
    fn the_phrase_that_occurs_wins() {
        let (index, f) = index_of(&[
            "Xây dựng nông thôn mới ở Kon Tum",
            "Nông thôn mới kiểu mẫu",
            "Giá vàng hôm nay, may mắn",
            "Phong trào thể dục, nông thôn mới",
            "Thông tin giáo dục và bóng đá",
        ]);
        let searcher = index.reader().expect("reader").searcher();
        let s = suggest(&searcher, f, "nong thon moy").expect("a suggestion");
        assert_eq!(s.folded, vec!["nong", "thon", "moi"]);
        assert_eq!(s.count, 3);
        let s = suggest(&searcher, f, "kon tumm").expect("a suggestion");
        assert_eq!(s.folded, vec!["kon", "tum"]);
        assert!(suggest(&searcher, f, "nong thon moi").is_none());
        assert!(suggest(&searcher, f, "zzqq xxvv").is_none());
    }

    #[test]
    fn surface_keeps_the_usual_marks_and_the_typed_case() {
        let folded: Vec<String> = ["nong", "thon", "moi"].map(String::from).to_vec();
        let texts = [
            "Nông thôn mới ở xã",
            "xây dựng nông thôn mới",
            "nông thôn mới",
        ];
        assert_eq!(surface(&folded, texts, "nong thon moy"), "nông thôn mới");
        let folded: Vec<String> = ["kon", "tum"].map(String::from).to_vec();
        assert_eq!(
            surface(&folded, ["Tỉnh Kon Tum hôm nay"], "kon tumm"),
            "Kon Tum"
        );
        assert_eq!(surface(&folded, ["không có"], "kon tumm"), "kon tum");
    }
}
