//! Vietnamese alphabetical order, for the menus staff pick from (sources, topics): the
//! letters go a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y (so "Đăk Hà"
//! comes after every "D…" and before "E…"), letter case aside; tone marks only break
//! ties, in the traditional order (none, huyền, hỏi, ngã, sắc, nặng).

use std::cmp::Ordering;

use unicode_normalization::UnicodeNormalization;

/// Base letters in order; a shape mark (breve, circumflex, horn) puts a letter just after
/// its base, `đ` comes after `d`.
const ORDER: &str = "abcdefghijklmnopqrstuvwxyz";

/// The sort key of one text: (letters, tones).
fn key(s: &str) -> (Vec<u32>, Vec<u8>) {
    let mut letters = Vec::with_capacity(s.len());
    let mut tones = Vec::new();
    for c in s.nfd() {
        let lower = c.to_lowercase().next().unwrap_or(c);
        match lower {
            // Shape marks raise the letter just written: ă (breve) 1, â ê ô (circumflex) 2,
            // ơ ư (horn) 3 — in the alphabet ă before â, and no letter has two.
            '\u{0306}' | '\u{0302}' | '\u{031B}' => {
                let step = match lower {
                    '\u{0306}' => 1,
                    '\u{0302}' => 2,
                    _ => 3,
                };
                if let Some(last) = letters.last_mut() {
                    *last += step;
                }
            }
            // Tone marks: only for ties.
            '\u{0300}' => tones.push(1),
            '\u{0309}' => tones.push(2),
            '\u{0303}' => tones.push(3),
            '\u{0301}' => tones.push(4),
            '\u{0323}' => tones.push(5),
            'đ' => letters.push(letter_rank('d') + 1),
            c if c.is_ascii_alphabetic() => letters.push(letter_rank(c)),
            // Digits, spaces and the rest before letters, in code point order.
            c => letters.push(u32::from(c).min(0xFFFF) / 8),
        }
    }
    (letters, tones)
}

/// Rank of an ASCII letter: well above any non-letter, four slots per letter.
fn letter_rank(c: char) -> u32 {
    let i = ORDER.find(c).unwrap_or(0) as u32;
    0x2_0000 + i * 4
}

/// Compare two texts in Vietnamese alphabetical order.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ka, kb) = (key(a), key(b));
    ka.0.cmp(&kb.0).then(ka.1.cmp(&kb.1)).then(a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d_stroke_after_d_and_shapes_after_their_base() {
        let mut v = vec![
            "Đăk Hà",
            "Ea Súp",
            "Dân trí",
            "Báo Ảnh",
            "Ăn uống",
            "An Giang",
            "Âm nhạc",
            "Ơn",
            "Ô tô",
            "Ong",
            "Cà phê",
            "Ca dao",
            "dân sinh",
        ];
        v.sort_by(|a, b| compare(a, b));
        assert_eq!(
            v,
            vec![
                "An Giang",
                "Ăn uống",
                "Âm nhạc",
                "Báo Ảnh",
                "Ca dao",
                "Cà phê",
                "dân sinh",
                "Dân trí",
                "Đăk Hà",
                "Ea Súp",
                "Ong",
                "Ô tô",
                "Ơn",
            ]
        );
    }
}
