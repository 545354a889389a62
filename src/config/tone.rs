//! The tone keys: `[tone] lexicon_file` (the admin's phrases, added to the built-in
//! `config/tone.txt`) and the `tone = "positive"` value that `[[topics]]`, `[[digests]]`
//! and `[[alerts]]` may require, read with a Vietnamese message when it is wrong.

use std::path::PathBuf;

use serde::{Deserialize, Deserializer};

use crate::model::Tone;

/// `[tone]`: how items are judged good or bad news.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToneConfig {
    /// Extra weighted phrases, same syntax as `config/tone.txt`, read after it (so a line
    /// here re-weighs a built-in phrase). Relative to the config folder.
    #[serde(default)]
    pub lexicon_file: Option<PathBuf>,
}

/// `tone = "positive" | "neutral" | "negative"` (Vietnamese names accepted too).
pub(super) fn de_opt_tone<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Tone>, D::Error> {
    let s = String::deserialize(d)?;
    s.parse::<Tone>()
        .map(Some)
        .map_err(serde::de::Error::custom)
}
