//! Serde helpers of the config file: the deserializers that check a value as it is read
//! (ids, durations, addresses, time zones, URLs) with Vietnamese messages, the default time
//! zone two sections share, line numbers for byte offsets (`LineStarts`), and a Vietnamese
//! lead for toml's own messages.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use toml::Spanned;

/// The time zone times are shown and read in unless the file says otherwise (`[display]`,
/// a digest's `timezone`).
pub(super) fn default_timezone() -> chrono_tz::Tz {
    chrono_tz::Asia::Ho_Chi_Minh
}

pub(super) fn de_source_id<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Spanned<String>, D::Error> {
    let id = Spanned::<String>::deserialize(d)?;
    let s = id.get_ref();
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(id)
    } else {
        Err(serde::de::Error::custom(format!(
            "mã nguồn `{s}` không hợp lệ: chỉ dùng chữ thường a-z, số 0-9 và dấu '-', tối đa 64 ký tự"
        )))
    }
}

pub(super) fn de_duration<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    humantime::parse_duration(s.trim()).map_err(|e| {
        serde::de::Error::custom(format!(
            "khoảng thời gian `{s}` không hợp lệ ({e}); ví dụ: \"30s\", \"15m\", \"2h\""
        ))
    })
}

pub(super) fn de_socket_addr<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<SocketAddr, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "địa chỉ `{s}` không hợp lệ; ví dụ: \"127.0.0.1:8080\""
        ))
    })
}

pub(super) fn de_timezone<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<chrono_tz::Tz, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "múi giờ `{s}` không hợp lệ; ví dụ: \"Asia/Ho_Chi_Minh\""
        ))
    })
}

pub(super) fn de_opt_url<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<url::Url>, D::Error> {
    let s = String::deserialize(d)?;
    let u = url::Url::parse(s.trim())
        .map_err(|e| serde::de::Error::custom(format!("địa chỉ `{s}` không hợp lệ: {e}")))?;
    match u.scheme() {
        "http" | "https" | "file" => Ok(Some(u)),
        other => Err(serde::de::Error::custom(format!(
            "địa chỉ `{s}`: giao thức `{other}` không được hỗ trợ (chỉ http, https, file)"
        ))),
    }
}

/// The byte offsets of a text's newlines, found once, to turn offsets into line numbers
/// (counting from the start of the text for each one made loading a config of thousands
/// of sources quadratic).
pub(super) struct LineStarts(Vec<usize>);

impl LineStarts {
    pub(super) fn new(text: &str) -> Self {
        LineStarts(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        )
    }

    /// The 1-based line of byte `offset`.
    pub(super) fn line_of(&self, offset: usize) -> usize {
        self.0.partition_point(|&nl| nl < offset) + 1
    }
}

/// toml's messages are English; keep them but add a Vietnamese lead for the common ones.
pub(super) fn translate_toml_message(msg: &str) -> String {
    if msg.starts_with("unknown field") {
        format!("khoá không được hỗ trợ — {msg}")
    } else if msg.starts_with("missing field") {
        format!("thiếu khoá bắt buộc — {msg}")
    } else if msg.starts_with("invalid type") {
        format!("giá trị sai kiểu — {msg}")
    } else if msg.starts_with("unknown variant") {
        format!("giá trị không được hỗ trợ — {msg}")
    } else {
        msg.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_starts_agree_with_counting() {
        let text = "a = 1\n\n[[sources]]\nid = \"x\"\r\nname = \"Tôi yêu Kon Rẫy\"\n";
        let lines = LineStarts::new(text);
        for offset in 0..=text.len() + 3 {
            // The plain way: one more than the newlines before the offset.
            let counted = text
                .bytes()
                .take(offset.min(text.len()))
                .filter(|b| *b == b'\n')
                .count()
                + 1;
            assert_eq!(lines.line_of(offset), counted, "offset {offset}");
        }
    }
}
