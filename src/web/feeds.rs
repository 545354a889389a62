//! The read-only file outputs of the web app: a search exported as CSV (with a BOM and
//! spreadsheet formulas defused) or Markdown, a search as an Atom feed (newest first), the
//! sources as OPML for other feed readers (`opml::export_for_readers`, http(s) addresses
//! only), and the share ledger as CSV (every share, undone ones included). Feed readers
//! may authenticate with `?token=` (see `auth`).

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::actions::{self, SearchParams};
use super::error::WebError;
use super::state::AppState;
use super::view::{full_time, safe_url, urlencode};
use crate::opml::escape_xml;

/// Most rows an export or feed carries.
const EXPORT_MAX: usize = 1_000;
const FEED_MAX: usize = 50;

/// One CSV field, quoted, with spreadsheet formulas defused.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '[' | ']' | '*' | '_' | '`' | '<' | '>' | '#' | '|'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `GET /export?…&format=csv|md`: every hit of a search (up to 1 000) as a file.
pub async fn export(
    State(state): State<AppState>,
    Query(p): Query<SearchParams>,
) -> Result<Response, WebError> {
    let format = if p.format.is_empty() {
        "csv"
    } else {
        p.format.as_str()
    };
    if format != "csv" && format != "md" {
        return Err(WebError::bad_request("Định dạng xuất phải là csv hoặc md."));
    }
    let results = actions::all_hits(&state, &p, EXPORT_MAX).await?;
    let tz = state.timezone();
    let names = actions::source_names(&state);
    let ids: Vec<i64> = results.hits.iter().map(|h| h.id).collect();
    let store = state.app.store.clone();
    let shared = tokio::task::spawn_blocking(move || store.shared_among(&ids).unwrap_or_default())
        .await
        .unwrap_or_default();
    let when = |h: &crate::search::Hit| {
        DateTime::parse_from_rfc3339(&h.published)
            .map(|d| full_time(d.with_timezone(&Utc), tz))
            .unwrap_or_default()
    };
    let mut body = String::new();
    if format == "csv" {
        body.push_str("\u{feff}tieu_de,nguon,thoi_gian,lien_ket,trich_doan,da_chia_se\r\n");
        for h in &results.hits {
            let row = [
                csv_field(&h.title),
                csv_field(names.get(&h.source).unwrap_or(&h.source)),
                csv_field(&when(h)),
                csv_field(h.url.as_deref().unwrap_or("")),
                csv_field(&h.snippet),
                csv_field(if shared.contains(&h.id) {
                    "có"
                } else {
                    "chưa"
                }),
            ];
            body.push_str(&row.join(","));
            body.push_str("\r\n");
        }
    } else {
        body.push_str(&format!(
            "# Kết quả tìm kiếm: {}\n\n{} tin.\n\n",
            md_text(&p.q),
            results.hits.len()
        ));
        for h in &results.hits {
            let title = md_text(&h.title);
            match safe_url(h.url.as_deref()) {
                Some(u) => body.push_str(&format!("- [{title}](<{}>)", u.replace('>', "%3E"))),
                None => body.push_str(&format!("- {title}")),
            }
            body.push_str(&format!(
                " — {}, {}\n",
                md_text(names.get(&h.source).unwrap_or(&h.source)),
                when(h)
            ));
        }
    }
    let (ct, ext) = if format == "csv" {
        ("text/csv; charset=utf-8", "csv")
    } else {
        ("text/markdown; charset=utf-8", "md")
    };
    let file = format!(
        "gomtin-{}.{ext}",
        Utc::now().with_timezone(&tz).format("%Y%m%d-%H%M")
    );
    Ok((
        [
            (header::CONTENT_TYPE, ct.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// `GET /shares.csv`: the share ledger — who shared which item, when, on which channel,
/// where, and when it was undone — newest first.
pub async fn shares_csv(State(state): State<AppState>) -> Result<Response, WebError> {
    let rows = actions::team::ledger(&state).await?;
    let tz = state.timezone();
    let names = actions::source_names(&state);
    let mut body = String::from(
        "\u{feff}ma_chia_se,ma_tin,tieu_de,nguon,lien_ket_tin,nguoi_chia_se,kenh,lien_ket_bai_chia_se,thoi_gian,hoan_tac_luc\r\n",
    );
    for r in &rows {
        let row = [
            r.id.to_string(),
            r.item_id.to_string(),
            csv_field(&r.title),
            csv_field(names.get(&r.source_id).unwrap_or(&r.source_id)),
            csv_field(safe_url(r.url.as_deref()).as_deref().unwrap_or("")),
            csv_field(&r.user),
            csv_field(&r.channel),
            csv_field(r.link.as_deref().unwrap_or("")),
            csv_field(&full_time(r.shared_at, tz)),
            csv_field(&r.undone_at.map(|t| full_time(t, tz)).unwrap_or_default()),
        ];
        body.push_str(&row.join(","));
        body.push_str("\r\n");
    }
    let file = format!(
        "gomtin-chia-se-{}.csv",
        Utc::now().with_timezone(&tz).format("%Y%m%d-%H%M")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// `GET /feed.atom?q=…`: the newest 50 hits of a search as an Atom feed.
pub async fn atom(
    State(state): State<AppState>,
    Query(mut p): Query<SearchParams>,
) -> Result<Response, WebError> {
    if !p.q.contains("sort:") {
        p.q = format!("{} sort:date", p.q.trim()).trim().to_string();
    }
    let results = actions::run_search(&state, &p, FEED_MAX, 0).await?;
    let names = actions::source_names(&state);
    let query = p.q.trim_end_matches("sort:date").trim().to_string();
    let title = if query.is_empty() {
        "gomtin: tin mới".to_string()
    } else {
        format!("gomtin: {query}")
    };
    let self_q = {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        s.append_pair("q", &query);
        s.finish()
    };
    let updated = results
        .hits
        .first()
        .map(|h| h.published.clone())
        .unwrap_or_else(|| Utc::now().to_rfc3339());
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    out.push_str(&format!("  <title>{}</title>\n", escape_xml(&title)));
    out.push_str(&format!(
        "  <id>urn:gomtin:search:{}</id>\n",
        escape_xml(&urlencode(&query))
    ));
    out.push_str(&format!(
        "  <link rel=\"self\" href=\"/feed.atom?{}\"/>\n",
        escape_xml(&self_q)
    ));
    out.push_str(&format!("  <updated>{}</updated>\n", escape_xml(&updated)));
    out.push_str("  <generator>gomtin</generator>\n");
    for h in &results.hits {
        out.push_str("  <entry>\n");
        out.push_str(&format!("    <title>{}</title>\n", escape_xml(&h.title)));
        out.push_str(&format!("    <id>urn:gomtin:item:{}</id>\n", h.id));
        if let Some(u) = safe_url(h.url.as_deref()) {
            out.push_str(&format!("    <link href=\"{}\"/>\n", escape_xml(&u)));
        }
        out.push_str(&format!(
            "    <updated>{}</updated>\n",
            escape_xml(&h.published)
        ));
        out.push_str(&format!(
            "    <author><name>{}</name></author>\n",
            escape_xml(names.get(&h.source).unwrap_or(&h.source))
        ));
        out.push_str(&format!(
            "    <summary>{}</summary>\n",
            escape_xml(&h.snippet)
        ));
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        out,
    )
        .into_response())
}

/// `GET /sources.opml`: the http(s) sources as OPML 2.0.
pub async fn opml(State(state): State<AppState>) -> Response {
    let config = &state.app.config();
    let feeds = config.sources.iter().filter_map(|s| {
        safe_url(Some(&s.location(&config.base_dir))).map(|u| (s.name.as_str(), u))
    });
    (
        [
            (header::CONTENT_TYPE, "text/x-opml; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"gomtin-nguon-tin.opml\"",
            ),
        ],
        crate::opml::export_for_readers(feeds),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_defuses_formulas_and_quotes() {
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("Tin, mới"), "\"Tin, mới\"");
    }
}
