//! Tone: is an item good news a district office would gladly reshare, bad news it must
//! notice, or neither? A stage with no I/O, between normalize and the store: the pipeline
//! judges every item before it is stored, and the verdict (label, score, the phrases that
//! decided) is kept with the item, indexed as a fast field, filtered with `tone:` and
//! shown as a badge.
//!
//! The model is a transparent lexicon of weighted Vietnamese phrases (`config/tone.txt`,
//! built in, plus the admin's `[tone] lexicon_file`), read by `lexicon`; `scan` finds the
//! phrases in the title, the lead and the first ~400 words of the body with negation,
//! hedges, contrast and quotes; this file weighs the fields and decides. How well it does
//! against the hand-judged set (`tests/tone/judged.tsv`) is `gomtin-bench tone`, and
//! docs/TONE.md explains the rules to staff.

mod lexicon;
mod scan;

pub use lexicon::{Lexicon, LexiconError};

use crate::model::{Tone, ToneReason, ToneVerdict};
use scan::{Field, Found, scan};

/// The built-in lexicon.
pub const BUILTIN_LEXICON: &str = include_str!("../../config/tone.txt");
/// Goes into the fingerprint: bump it when the scoring rules below change, so stored
/// tones are computed again.
const SCORER_VERSION: &str = "tone-1";

/// Weight of a phrase in the title, the lead (sapo), and the body (bad, good phrases).
const TITLE: f64 = 3.0;
const LEAD: f64 = 1.5;
const BODY_BAD: f64 = 0.5;
const BODY_GOOD: f64 = 0.25;
/// Words of the body read (whole clauses).
const BODY_WORDS: usize = 400;
/// Characters of the body read as the lead when the item has no summary.
const LEAD_FROM_BODY: usize = 300;
/// Negative: bad phrases weigh at least this much...
const NEG_MIN: f64 = 3.0;
/// ... at least this share of the good ones ...
const NEG_RATIO: f64 = 0.6;
/// ... and appear in the title or lead, or weigh this much in the body alone.
const BODY_NEG_MIN: f64 = 4.0;
/// Positive: good phrases of the title and lead weigh at least this much...
const POS_MIN: f64 = 5.0;
/// ... and all good phrases this many times the bad ones.
const POS_RATIO: f64 = 3.0;
/// What bad phrases count once a title says help was given after them (`^`) or the case
/// was solved (`%`, harm excepted).
const RELIEF: f64 = 0.3;
/// Reasons kept with an item.
const MAX_REASONS: usize = 8;

/// The tone scorer: a lexicon and the rules that weigh what it finds.
#[derive(Debug, Clone)]
pub struct ToneModel {
    lexicon: Lexicon,
}

impl ToneModel {
    /// The built-in lexicon alone.
    pub fn builtin() -> ToneModel {
        match ToneModel::with_extra("") {
            Ok(m) => m,
            Err(e) => {
                // The built-in file is checked by a unit test; never fail a run over it.
                tracing::error!(error = %e, "built-in tone lexicon is invalid");
                ToneModel {
                    lexicon: Lexicon::empty(SCORER_VERSION),
                }
            }
        }
    }

    /// The built-in lexicon followed by the admin's lines (which win for the same phrase).
    /// An error names the admin's line.
    pub fn with_extra(extra: &str) -> Result<ToneModel, LexiconError> {
        Lexicon::parse(&[extra], SCORER_VERSION)?;
        Ok(ToneModel {
            lexicon: Lexicon::parse(&[BUILTIN_LEXICON, extra], SCORER_VERSION)?,
        })
    }

    /// A lexicon of exactly these lines (tests, `gomtin-bench tone --lexicon`).
    pub fn from_text(text: &str) -> Result<ToneModel, LexiconError> {
        Ok(ToneModel {
            lexicon: Lexicon::parse(&[text], SCORER_VERSION)?,
        })
    }

    /// Changes whenever the lexicon or the scorer changes (stored tones are then redone).
    pub fn fingerprint(&self) -> &str {
        self.lexicon.fingerprint()
    }

    pub fn lexicon(&self) -> &Lexicon {
        &self.lexicon
    }

    /// The tone of an item from its title, its lead (plain-text summary) and its body
    /// (plain text; a body that starts with the lead is read after it).
    pub fn judge(&self, title: &str, summary: &str, content: &str) -> ToneVerdict {
        let title = title.trim();
        let mut lead = summary.trim();
        let mut body = content.trim();
        if !lead.is_empty()
            && let Some(rest) = body.strip_prefix(lead)
        {
            body = rest;
        }
        let lead_owned: String;
        if lead.is_empty() {
            lead_owned = body.chars().take(LEAD_FROM_BODY).collect();
            lead = &lead_owned;
        }
        let lex = &self.lexicon;
        let mut found = scan(lex, title, Field::Title, (TITLE, TITLE), None);
        found.extend(scan(lex, lead, Field::Lead, (LEAD, LEAD), None));
        if !body.is_empty() {
            found.extend(scan(
                lex,
                body,
                Field::Body,
                (BODY_GOOD, BODY_BAD),
                Some(BODY_WORDS),
            ));
        }
        self.decide(found)
    }

    fn decide(&self, mut found: Vec<Found>) -> ToneVerdict {
        let phrases = &self.lexicon.phrases;
        let in_title = |f: &Found, flag: fn(&lexicon::Phrase) -> bool| {
            f.field == Field::Title && f.weight > 0.0 && flag(&phrases[f.phrase])
        };
        let aftercare = found.iter().any(|f| in_title(f, |p| p.aftercare));
        let solved = found.iter().any(|f| in_title(f, |p| p.solved));
        if aftercare || solved {
            for f in found.iter_mut() {
                if f.weight < 0.0 && (aftercare || !phrases[f.phrase].harm) {
                    f.weight *= RELIEF;
                }
            }
        }
        let sum = |keep: &dyn Fn(&Found) -> bool| -> f64 {
            found.iter().filter(|f| keep(f)).map(|f| f.weight).sum()
        };
        let good_head = sum(&|f| f.weight > 0.0 && f.field != Field::Body);
        let good = sum(&|f| f.weight > 0.0);
        let bad = -sum(&|f| f.weight < 0.0);
        let bad_head = -sum(&|f| f.weight < 0.0 && f.field != Field::Body);
        let label =
            if bad >= NEG_MIN && bad >= good * NEG_RATIO && (bad_head > 0.0 || bad >= BODY_NEG_MIN)
            {
                Tone::Negative
            } else if good_head >= POS_MIN && good >= bad * POS_RATIO {
                Tone::Positive
            } else {
                Tone::Neutral
            };
        found.retain(|f| f.weight != 0.0 || f.negated);
        found.sort_by(|a, b| b.weight.abs().total_cmp(&a.weight.abs()));
        found.truncate(MAX_REASONS);
        ToneVerdict {
            label,
            score: (good - bad) as f32,
            reasons: found
                .into_iter()
                .map(|f| ToneReason {
                    phrase: f.text,
                    weight: f.weight as f32,
                    field: f.field.as_str().to_string(),
                    negated: f.negated,
                })
                .collect(),
        }
    }
}

impl Default for ToneModel {
    fn default() -> Self {
        ToneModel::builtin()
    }
}

#[cfg(test)]
mod tests;
