//! The query language: what people type in the search box (and in a `[[topics]]` or
//! `[[digests]]` query) read into a `ParsedQuery` — OR-groups of words and quoted phrases,
//! exclusions, the `source:`/`topic:`/`status:`/`thread:`/`tone:`/`after:`/`before:`/
//! `sort:` filters. It needs only text analysis, the tone names and the error type, so
//! config can check a query without the index.
//!
//! The language (words are required, AND):
//! - `"quoted phrase"` — words adjacent, in order (typed with diacritics: that exact,
//!   tone-normalized form only); `-word` / `-"phrase"` — exclude;
//! - `a OR b` — either; `source:ID`, `topic:ID` — filters (repeat for OR);
//! - `status:proposed|approved|shared|unshared` — the team's work on the item (repeat:
//!   all must hold, e.g. `status:approved status:unshared`);
//! - `thread:SOURCE/KEY` — the posts of one forum thread;
//! - `tone:positive|neutral|negative` (also `tone:tich-cuc`…) — the item's tone (repeat for
//!   OR; `-tone:negative` leaves bad news out);
//! - `after:2026-01-01` (from that day on), `before:2026-02-01` (up to the day before),
//!   in the display timezone; `sort:date` (newest first), `sort:relevance` (default) or
//!   `sort:tone` (good news first, then neutral, then bad, each by relevance).
//!
//! What people get wrong is read as meant and said in a notice: an unclosed quote runs to
//! the end, an empty filter (`source:`) is ignored, a query of only operators shows
//! everything, and dates given the wrong way round are swapped.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::Tone;
use crate::vietnamese;

/// Longest query text considered (characters); the rest is ignored with a notice.
pub const MAX_QUERY_CHARS: usize = 1_000;
/// Most words/phrases used from one query; the rest is ignored with a notice.
pub const MAX_UNITS: usize = 24;

/// Result order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    #[default]
    Relevance,
    Date,
    /// Positive items first, then neutral, then negative; by relevance within each.
    Tone,
}

/// A filter on what the team did with an item (`status:`); shares count per story.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Proposed to the team, not yet decided.
    Proposed,
    /// Proposed and approved by an admin.
    Approved,
    /// Some copy of its story has been shared.
    Shared,
    /// No copy of its story has been shared.
    Unshared,
}

impl Status {
    /// `proposed`, `approved`, `shared`, `unshared`, or their Vietnamese names.
    pub fn parse(s: &str) -> Option<Status> {
        let folded: String = s
            .split(|c: char| c == '-' || c == '_' || c.is_whitespace())
            .map(vietnamese::fold)
            .collect();
        match folded.as_str() {
            "proposed" | "dexuat" => Some(Status::Proposed),
            "approved" | "duyet" | "daduyet" => Some(Status::Approved),
            "shared" | "dachiase" => Some(Status::Shared),
            "unshared" | "chuachiase" => Some(Status::Unshared),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Proposed => "proposed",
            Status::Approved => "approved",
            Status::Shared => "shared",
            Status::Unshared => "unshared",
        }
    }
}

/// One word or quoted phrase of a query.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum UnitKind {
    Word,
    Phrase,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Unit {
    pub(super) kind: UnitKind,
    pub(super) text: String,
    negated: bool,
}

/// A parsed query: OR-groups of units (each group required), plus filters.
#[derive(Debug, Clone, Default)]
pub struct ParsedQuery {
    pub(super) groups: Vec<Vec<Unit>>,
    pub(super) excluded: Vec<Unit>,
    pub sources: Vec<String>,
    pub topics: Vec<String>,
    /// `status:` filters; every one must hold.
    pub statuses: Vec<Status>,
    /// `thread:SOURCE/KEY`: the posts of one forum thread.
    pub threads: Vec<String>,
    /// `tone:` filters (any of them).
    pub tones: Vec<Tone>,
    /// `-tone:` filters (none of them).
    pub excluded_tones: Vec<Tone>,
    pub after: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
    pub sort: SortOrder,
    pub notices: Vec<String>,
}

impl ParsedQuery {
    /// True when the query has no word to match (only filters, or nothing).
    pub fn is_match_all(&self) -> bool {
        self.groups.is_empty()
    }

    /// The words of the query, as typed (for corrections).
    pub(super) fn plain_text(&self) -> String {
        self.groups
            .iter()
            .flatten()
            .map(|u| u.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Split query text into raw tokens, honouring quotes (an unbalanced quote runs to the end;
/// the flag says there was one).
fn lex(q: &str) -> (Vec<(bool, String, bool)>, bool) {
    // (negated, text, quoted)
    let mut out = Vec::new();
    let mut unclosed = false;
    let mut chars = q.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut negated = false;
        if c == '-' {
            chars.next();
            negated = true;
        }
        if matches!(chars.peek(), Some('"' | '“' | '”')) {
            chars.next();
            let mut s = String::new();
            let mut closed = false;
            for c in chars.by_ref() {
                if matches!(c, '"' | '“' | '”') {
                    closed = true;
                    break;
                }
                s.push(c);
            }
            unclosed |= !closed;
            out.push((negated, s, true));
            continue;
        }
        let mut s = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            if matches!(c, '"' | '“' | '”') && !s.is_empty() {
                break;
            }
            s.push(c);
            chars.next();
        }
        if !s.is_empty() || negated {
            out.push((negated, s, false));
        }
    }
    (out, unclosed)
}

/// A day as people write it, for notices.
fn shown_day(d: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    d.with_timezone(&tz).format("%d/%m/%Y").to_string()
}

/// Parse a day `YYYY-MM-DD` (or `DD/MM/YYYY`) as the start of that day in `tz`.
fn parse_day(s: &str, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .ok()?;
    let local = tz
        .from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
        .earliest()?;
    Some(local.with_timezone(&Utc))
}

/// Parse the query language. Never panics; unknown syntax is read as plain words.
pub fn parse_query(input: &str, tz: chrono_tz::Tz) -> Result<ParsedQuery> {
    let mut pq = ParsedQuery::default();
    let text: String = if input.chars().count() > MAX_QUERY_CHARS {
        pq.notices.push(format!(
            "Câu tìm kiếm quá dài: chỉ dùng {MAX_QUERY_CHARS} ký tự đầu."
        ));
        input.chars().take(MAX_QUERY_CHARS).collect()
    } else {
        input.to_string()
    };
    let text = vietnamese::clean(&text);
    let mut pending_or = false;
    let mut units = 0usize;
    let mut truncated = false;
    let mut filters = 0usize;
    let mut dropped = 0usize;
    let (tokens, unclosed) = lex(&text);
    if unclosed {
        pq.notices.push(
            "Thiếu dấu ngoặc kép đóng: đã tìm như thể cụm từ kết thúc ở cuối câu.".to_string(),
        );
    }
    for (negated, raw, quoted) in tokens {
        if !quoted && !negated && raw == "OR" {
            pending_or = !pq.groups.is_empty();
            dropped += 1;
            continue;
        }
        if !quoted && let Some((key, value)) = raw.split_once(':') {
            let key_l = key.to_lowercase();
            let value = value.trim();
            let known = matches!(
                key_l.as_str(),
                "source"
                    | "nguon"
                    | "nguồn"
                    | "topic"
                    | "chude"
                    | "chủđề"
                    | "status"
                    | "trangthai"
                    | "trạngthái"
                    | "thread"
                    | "tone"
                    | "sacthai"
                    | "sắcthái"
                    | "after"
                    | "sau"
                    | "before"
                    | "truoc"
                    | "trước"
            );
            if known && value.is_empty() {
                pq.notices.push(format!(
                    "Bộ lọc {key}: trống nên đã bỏ qua: ghi giá trị ngay sau dấu hai chấm, không cách (ví dụ {}).",
                    match key_l.as_str() {
                        "topic" | "chude" | "chủđề" => "topic:nong-thon-moi",
                        "status" | "trangthai" | "trạngthái" => "status:unshared",
                        "thread" => "thread:dien-dan/1739393",
                        "tone" | "sacthai" | "sắcthái" => "tone:positive",
                        "after" | "sau" => "after:2026-01-31",
                        "before" | "truoc" | "trước" => "before:2026-01-31",
                        _ => "source:baokontum",
                    }
                ));
                filters += 1;
                pending_or = false;
                continue;
            }
            let handled = match key_l.as_str() {
                "source" | "nguon" | "nguồn" if !value.is_empty() => {
                    pq.sources.push(value.to_lowercase());
                    true
                }
                "topic" | "chude" | "chủđề" if !value.is_empty() => {
                    pq.topics.push(value.to_lowercase());
                    true
                }
                // A forum thread's posts (issue 16): `thread:SOURCE/KEY`, as the item page links it.
                "thread" if !value.is_empty() => {
                    pq.threads.push(value.to_string());
                    true
                }
                "status" | "trangthai" | "trạngthái" => {
                    let status = Status::parse(value).ok_or_else(|| {
                        Error::Query(format!(
                            "status:{value} không được hỗ trợ; dùng status:proposed, status:approved, status:shared hoặc status:unshared"
                        ))
                    })?;
                    if !pq.statuses.contains(&status) {
                        pq.statuses.push(status);
                    }
                    true
                }
                "tone" | "sacthai" | "sắcthái" if !value.is_empty() => {
                    let tone = Tone::parse(value).ok_or_else(|| {
                        Error::Query(format!(
                            "tone:{value} không hợp lệ; dùng tone:positive, tone:neutral hoặc tone:negative"
                        ))
                    })?;
                    if negated {
                        pq.excluded_tones.push(tone);
                    } else {
                        pq.tones.push(tone);
                    }
                    true
                }
                "after" | "sau" => {
                    pq.after = Some(parse_day(value, tz).ok_or_else(|| {
                        Error::Query(format!(
                            "ngày `{value}` trong after: không hợp lệ; dùng dạng 2026-01-31"
                        ))
                    })?);
                    true
                }
                "before" | "truoc" | "trước" => {
                    pq.before = Some(parse_day(value, tz).ok_or_else(|| {
                        Error::Query(format!(
                            "ngày `{value}` trong before: không hợp lệ; dùng dạng 2026-01-31"
                        ))
                    })?);
                    true
                }
                "sort" => {
                    pq.sort = match value.to_lowercase().as_str() {
                        "date" | "ngay" | "ngày" | "new" => SortOrder::Date,
                        "relevance" | "score" => SortOrder::Relevance,
                        "tone" | "sacthai" | "sắcthái" => SortOrder::Tone,
                        other => {
                            return Err(Error::Query(format!(
                                "sort:{other} không được hỗ trợ; dùng sort:date, sort:relevance hoặc sort:tone"
                            )));
                        }
                    };
                    true
                }
                _ => false,
            };
            if handled {
                filters += 1;
                pending_or = false;
                continue;
            }
        }
        // Keep only text that has at least one word in it.
        if vietnamese::tokenize(&raw).is_empty() {
            dropped += 1;
            continue;
        }
        if units >= MAX_UNITS {
            truncated = true;
            continue;
        }
        units += 1;
        let unit = Unit {
            kind: if quoted {
                UnitKind::Phrase
            } else {
                UnitKind::Word
            },
            text: raw,
            negated,
        };
        if negated {
            pq.excluded.push(unit);
            pending_or = false;
        } else if pending_or && let Some(last) = pq.groups.last_mut() {
            last.push(unit);
            pending_or = false;
        } else {
            pq.groups.push(vec![unit]);
        }
    }
    if truncated {
        pq.notices.push(format!(
            "Câu tìm kiếm có quá nhiều từ: chỉ dùng {MAX_UNITS} từ đầu."
        ));
    }
    if pq.groups.is_empty() && pq.excluded.is_empty() && filters == 0 && dropped > 0 {
        pq.notices.push(
            "Câu tìm kiếm chỉ có dấu và toán tử (OR, -, ngoặc…) mà không có từ nào để tìm: đang hiện mọi tin, mới nhất trước.".to_string(),
        );
    }
    if let (Some(a), Some(b)) = (pq.after, pq.before) {
        if a > b {
            pq.notices.push(format!(
                "Ngày bắt đầu (after: {}) sau ngày kết thúc (before: {}): đã đổi chỗ hai ngày.",
                shown_day(a, tz),
                shown_day(b, tz)
            ));
            pq.after = Some(b);
            pq.before = Some(a);
        } else if a == b {
            pq.notices
                .push("Khoảng ngày rỗng: after: phải trước before:.".to_string());
        }
    }
    Ok(pq)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz() -> chrono_tz::Tz {
        chrono_tz::Asia::Ho_Chi_Minh
    }

    #[test]
    fn parses_language() {
        let pq = parse_query(
            "nông thôn \"kon rẫy\" -bão a OR b source:kon-tum after:2026-01-01 sort:date",
            tz(),
        )
        .expect("parse");
        assert_eq!(pq.groups.len(), 4, "{:?}", pq.groups);
        assert_eq!(pq.groups[3].len(), 2);
        assert_eq!(pq.excluded.len(), 1);
        assert_eq!(pq.sources, vec!["kon-tum"]);
        assert_eq!(pq.sort, SortOrder::Date);
        assert_eq!(
            pq.after.map(|d| d.to_rfc3339()),
            Some("2025-12-31T17:00:00+00:00".to_string())
        );
    }

    #[test]
    fn thread_filter_keeps_its_key() {
        let pq = parse_query("thread:dien-dan/1739393 ngập", tz()).expect("parse");
        assert_eq!(pq.threads, vec!["dien-dan/1739393"]);
        assert_eq!(pq.groups.len(), 1);
        assert!(pq.sources.is_empty());
    }

    #[test]
    fn abuse_is_read_sensibly() {
        for q in [
            "a:(^",
            "- *",
            "\"unbalanced",
            "OR OR OR",
            "-",
            "\"\"",
            ":::",
            "((((",
        ] {
            let pq = parse_query(q, tz()).expect(q);
            assert!(pq.groups.len() <= 2, "{q}: {:?}", pq.groups);
        }
        let long = "từ ".repeat(10_000);
        let pq = parse_query(&long, tz()).expect("long");
        assert_eq!(pq.groups.len(), MAX_UNITS);
        assert!(!pq.notices.is_empty());
        assert!(parse_query("after:hôm-qua", tz()).is_err());
        assert!(parse_query("sort:random", tz()).is_err());
        assert!(parse_query("sort:", tz()).is_err());
    }

    #[test]
    fn mistakes_are_read_as_meant_and_said() {
        let says = |q: &str, words: &str| {
            let pq = parse_query(q, tz()).expect(q);
            assert!(
                pq.notices.iter().any(|n| n.contains(words)),
                "{q}: {:?}",
                pq.notices
            );
            pq
        };
        let pq = says("\"chuyển đổi số", "Thiếu dấu ngoặc kép");
        assert_eq!(pq.groups.len(), 1);
        assert_eq!(pq.groups[0][0].kind, UnitKind::Phrase);
        let pq = says("bão source:", "source: trống");
        assert!(pq.sources.is_empty());
        assert_eq!(pq.plain_text(), "bão");
        let pq = says("(( OR -", "chỉ có dấu và toán tử");
        assert!(pq.is_match_all());
        let pq = says("lũ after:2026-02-01 before:2026-01-01", "đã đổi chỗ");
        assert!(pq.after < pq.before);
        // Nothing to say about a well-formed query.
        assert!(
            parse_query("\"kon rẫy\" source:a after:2026-01-01", tz())
                .expect("ok")
                .notices
                .is_empty()
        );
    }

    #[test]
    fn status_filters_all_hold() {
        let pq = parse_query("lũ status:approved status:chua-chia-se", tz()).expect("parse");
        assert_eq!(pq.statuses, vec![Status::Approved, Status::Unshared]);
        assert!(parse_query("status:gì-đó", tz()).is_err());
        assert_eq!(Status::parse("Đã chia sẻ"), Some(Status::Shared));
        assert_eq!(Status::parse("proposed"), Some(Status::Proposed));
    }

    #[test]
    fn tone_filters_and_sort() {
        let pq = parse_query(
            "kon tum tone:positive tone:tich-cuc -tone:negative sort:tone",
            tz(),
        )
        .expect("parse");
        assert_eq!(pq.groups.len(), 2);
        assert_eq!(pq.tones, vec![Tone::Positive, Tone::Positive]);
        assert_eq!(pq.excluded_tones, vec![Tone::Negative]);
        assert_eq!(pq.sort, SortOrder::Tone);
        let err = parse_query("tone:vui", tz())
            .expect_err("unknown tone")
            .to_string();
        assert!(err.contains("tone:positive"), "{err}");
        // An empty tone filter is said and ignored, like the other filters.
        let pq = parse_query("lũ tone:", tz()).expect("empty tone");
        assert!(pq.tones.is_empty());
        assert!(
            pq.notices.iter().any(|n| n.contains("tone:positive")),
            "{:?}",
            pq.notices
        );
    }
}
