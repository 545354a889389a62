//! Digests, from the browser (admin): `/admin/digests` shows the mail server (`[smtp]`,
//! editable) and each digest — its schedule in words ("07:00 hằng ngày"), recipients,
//! topics, next run, and the ledger of its last periods per recipient (sent, failed with
//! the server's reply, unknown) — with an HTML preview of the next email
//! (`/admin/digests/{id}/preview`), "Gửi ngay", and a form to add or change one. The JSON
//! API: `GET/POST /api/digests`, `PATCH/DELETE /api/digests/{id}`,
//! `POST /api/digests/{id}/send`, `PUT /api/smtp`. Edits go through `admin::entries`.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use serde_json::Value;

use super::form::{blocking, body, page};
use crate::admin::entries::{self, Kind};
use crate::config::DigestConfig;
use crate::digest::{DigestRunner, next_fire, prepare, send_now_end, send_now_period};
use crate::error::Error;
use crate::web::auth::Admin;
use crate::web::error::WebError;
use crate::web::state::AppState;
use crate::web::view::full_time;

/// Periods shown in the ledger of each digest.
const LEDGER_PERIODS: usize = 5;

const DAYS: [&str; 7] = [
    "Chủ nhật",
    "thứ Hai",
    "thứ Ba",
    "thứ Tư",
    "thứ Năm",
    "thứ Sáu",
    "thứ Bảy",
];

fn day(s: &str) -> Option<&'static str> {
    s.parse::<usize>().ok().map(|d| DAYS[d % 7])
}

/// A five-field cron schedule in words: "07:00 hằng ngày", "07:00 và 17:00 từ thứ Hai
/// đến thứ Sáu", "phút 30 mỗi giờ"; anything rarer is named as it is written.
pub fn cron_in_words(expr: &str) -> String {
    let f: Vec<&str> = expr.split_whitespace().collect();
    let fallback = || format!("theo lịch cron `{}`", expr.trim());
    let [minute, hour, dom, month, dow] = f[..] else {
        return fallback();
    };
    let Ok(m) = minute.parse::<u32>() else {
        return fallback();
    };
    if month != "*" {
        return fallback();
    }
    let when = if hour == "*" {
        format!("phút {m} mỗi giờ")
    } else if let Some(step) = hour.strip_prefix("*/") {
        format!("mỗi {step} giờ, phút {m}")
    } else {
        let hours: Option<Vec<u32>> = hour.split(',').map(|h| h.parse().ok()).collect();
        let Some(hours) = hours.filter(|h| h.iter().all(|x| *x < 24)) else {
            return fallback();
        };
        let times: Vec<String> = hours.iter().map(|h| format!("{h:02}:{m:02}")).collect();
        match times.len() {
            1 => times[0].clone(),
            n => format!("{} và {}", times[..n - 1].join(", "), times[n - 1]),
        }
    };
    let days = match (dom, dow) {
        ("*", "*") => "hằng ngày".to_string(),
        ("*", d) => {
            if let Some((a, b)) = d.split_once('-') {
                match (day(a), day(b)) {
                    (Some(a), Some(b)) => format!("từ {a} đến {b}"),
                    _ => return fallback(),
                }
            } else {
                let names: Option<Vec<&str>> = d.split(',').map(day).collect();
                match names {
                    Some(n) if n.len() == 1 => format!("{} hằng tuần", n[0]),
                    Some(n) => format!("các ngày {}", n.join(", ")),
                    None => return fallback(),
                }
            }
        }
        (d, "*") if d.parse::<u32>().is_ok() => format!("ngày {d} hằng tháng"),
        _ => return fallback(),
    };
    if hour.starts_with('*') && days == "hằng ngày" {
        return when;
    }
    format!("{when} {days}")
}

fn status_words(s: crate::store::DeliveryStatus) -> &'static str {
    use crate::store::DeliveryStatus as D;
    match s {
        D::Pending => "đang chờ gửi",
        D::Claimed | D::Sending => "đang gửi",
        D::Sent => "đã gửi",
        D::Failed => "gửi lỗi",
        D::Unknown => "không rõ (máy chủ không trả lời sau khi nhận thư)",
        D::Skipped => "bỏ qua (không có tin)",
    }
}

fn digest_view(state: &AppState, d: &DigestConfig) -> Result<minijinja::Value, WebError> {
    let now = Utc::now();
    let ledger = state
        .app
        .store
        .recent_digest_periods(d.id(), LEDGER_PERIODS)?;
    let periods: Vec<minijinja::Value> = ledger
        .iter()
        .map(|(p, deliveries)| {
            let rows: Vec<minijinja::Value> = deliveries
                .iter()
                .map(|x| {
                    minijinja::context! {
                        recipient => x.recipient,
                        status => x.status.as_str(),
                        words => status_words(x.status),
                        reply => x.last_reply,
                        attempts => x.attempts,
                        sent => x.sent_at.map(|t| full_time(t, d.timezone)),
                    }
                })
                .collect();
            minijinja::context! {
                start => full_time(p.start, d.timezone),
                end => full_time(p.end, d.timezone),
                items => p.item_count,
                manual => p.trigger == "manual",
                deliveries => rows,
            }
        })
        .collect();
    // The digest runner records when it first looked at a digest: proof it is watched.
    let watched = state
        .app
        .store
        .digest_state(d.id())?
        .map(|(first_seen, _)| full_time(first_seen, d.timezone));
    Ok(minijinja::context! {
        id => d.id(),
        name => d.name,
        watched => watched,
        schedule => d.schedule.get_ref(),
        words => cron_in_words(d.schedule.get_ref()),
        timezone => d.timezone.name(),
        to => d.to.iter().map(|t| t.get_ref().clone()).collect::<Vec<_>>(),
        topics => d.topics.iter().map(|t| {
            let config = state.app.config();
            config.topics.iter().find(|x| x.id() == t.get_ref()).map_or_else(|| t.get_ref().clone(), |x| x.name.clone())
        }).collect::<Vec<_>>(),
        query => d.query,
        tone_label => d.tone.map(|x| x.label_vi()),
        max_items => d.max_items,
        skip_empty => d.skip_empty,
        next => next_fire(d, now).ok().flatten().map(|t| full_time(t, d.timezone)),
        periods => periods,
    })
}

/// `GET /admin/digests` (admin).
pub async fn digests_page(
    State(state): State<AppState>,
    Admin(who): Admin,
) -> Result<Response, WebError> {
    let config = state.app.config();
    let mut views = Vec::new();
    for d in &config.digests {
        views.push(digest_view(&state, d)?);
    }
    let smtp = config.smtp.as_ref().map(|s| {
        minijinja::context! {
            host => s.host.get_ref(),
            port => s.port(),
            security => format!("{:?}", s.security).to_lowercase(),
            from => s.from.get_ref(),
            username => s.username,
            password_env => s.password_env,
            timeout => humantime::format_duration(s.timeout).to_string(),
        }
    });
    let topics: Vec<minijinja::Value> = config
        .topics
        .iter()
        .map(|t| minijinja::context! { id => t.id(), name => t.name })
        .collect();
    Ok(state.render(
        StatusCode::OK,
        "admin/digests.html",
        minijinja::context! {
            digests => views,
            smtp => smtp,
            topics => topics,
            timezone => config.display.timezone.name(),
            ..page(&state, &who, "digests")
        },
    ))
}

fn digest(state: &AppState, id: &str) -> Result<DigestConfig, WebError> {
    state
        .app
        .config()
        .digest(id)
        .cloned()
        .ok_or_else(|| WebError::not_found(format!("Không có bản tin nào mã `{id}`.")))
}

/// `GET /admin/digests/{id}/preview` (admin): the email "Gửi ngay" would send now (the
/// items since the last recorded period, as `gomtin digest preview`), as HTML, under a
/// policy of its own (the email's inline styles, no script at all).
pub async fn preview(
    State(state): State<AppState>,
    Admin(_who): Admin,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let d = digest(&state, &id)?;
    let rendered = blocking(&state, move |app| {
        let period = send_now_period(&app.store, &d, send_now_end(Utc::now()))?;
        prepare(app, &d, period)
    })
    .await?;
    let mut resp = Html(rendered.html).into_response();
    // A sandboxed document: the email's own styles and images, never a script or a form.
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; sandbox; frame-ancestors 'none'",
        ),
    );
    Ok(resp)
}

/// `POST /api/digests/{id}/send` (admin) `{"force": bool}`: send now what is new since the
/// last recorded period, as a period of its own (as `gomtin digest send`; `nothing_new`
/// when nothing came in since); with `force`, the latest period again. What was sent to whom.
pub async fn api_send(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(id): Path<String>,
    json: std::result::Result<Json<Value>, JsonRejection>,
) -> Result<Response, WebError> {
    let force = json
        .ok()
        .and_then(|Json(v)| v.get("force").and_then(Value::as_bool))
        .unwrap_or(false);
    let d = digest(&state, &id)?;
    let runner = DigestRunner::new(
        state.app.clone(),
        state.metrics.clone(),
        tokio_util::sync::CancellationToken::new(),
    )?
    .ok_or_else(|| {
        WebError::from(Error::Conflict(
            "Chưa có máy chủ thư ([smtp]): khai báo nó ở trên trước.".into(),
        ))
    })?;
    let report = runner.send_now(&d, Utc::now(), force).await?;
    crate::admin::edit::audit(
        &state.app,
        &crate::admin::edit::Action {
            who: &who.user.name,
            what: "digest.send",
            target: &id,
            detail: if force {
                "gửi lại".into()
            } else {
                String::new()
            },
        },
    );
    Ok(Json(report).into_response())
}

/// `GET /api/digests` (admin): the digests as the file has them.
pub async fn api_list(
    State(state): State<AppState>,
    Admin(_who): Admin,
) -> Result<Response, WebError> {
    let ids: Vec<String> = state
        .app
        .config()
        .digests
        .iter()
        .map(|d| d.id().to_string())
        .collect();
    let list = blocking(&state, move |app| {
        ids.iter()
            .map(|id| entries::entry_json(app, Kind::Digest, id))
            .collect::<crate::error::Result<Vec<Value>>>()
    })
    .await?;
    Ok(Json(list).into_response())
}

async fn entry(state: &AppState, id: String) -> Result<Value, WebError> {
    blocking(state, move |app| {
        entries::entry_json(app, Kind::Digest, &id)
    })
    .await
}

/// `POST /api/digests` (admin): 201 and the digest.
pub async fn api_create(
    State(state): State<AppState>,
    Admin(who): Admin,
    json: std::result::Result<Json<Value>, JsonRejection>,
) -> Result<Response, WebError> {
    let body = body(json)?;
    let name = who.user.name.clone();
    let id = blocking(&state, move |app| {
        entries::create(app, &name, Kind::Digest, &body)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(entry(&state, id).await?)).into_response())
}

/// `PATCH /api/digests/{id}` (admin): 200 and the digest.
pub async fn api_update(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(id): Path<String>,
    json: std::result::Result<Json<Value>, JsonRejection>,
) -> Result<Response, WebError> {
    let body = body(json)?;
    let name = who.user.name.clone();
    let i = id.clone();
    blocking(&state, move |app| {
        entries::update(app, &name, Kind::Digest, &i, &body)
    })
    .await?;
    Ok(Json(entry(&state, id).await?).into_response())
}

/// `DELETE /api/digests/{id}` (admin): 204; the ledger stays.
pub async fn api_delete(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, WebError> {
    let name = who.user.name.clone();
    blocking(&state, move |app| {
        entries::remove(app, &name, Kind::Digest, &id)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/smtp` (admin): set `[smtp]` (keys present replace, `null` removes); 200.
pub async fn api_smtp(
    State(state): State<AppState>,
    Admin(who): Admin,
    json: std::result::Result<Json<Value>, JsonRejection>,
) -> Result<Response, WebError> {
    let body = body(json)?;
    let name = who.user.name.clone();
    blocking(&state, move |app| entries::set_smtp(app, &name, &body)).await?;
    Ok(Json(serde_json::json!({ "saved": true })).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_read_in_words() {
        assert_eq!(cron_in_words("0 7 * * *"), "07:00 hằng ngày");
        assert_eq!(
            cron_in_words("30 7,17 * * 1-5"),
            "07:30 và 17:30 từ thứ Hai đến thứ Sáu"
        );
        assert_eq!(cron_in_words("0 8 * * 1"), "08:00 thứ Hai hằng tuần");
        assert_eq!(cron_in_words("15 * * * *"), "phút 15 mỗi giờ");
        assert_eq!(cron_in_words("0 6 1 * *"), "06:00 ngày 1 hằng tháng");
        assert_eq!(cron_in_words("0 7 * 1 *"), "theo lịch cron `0 7 * 1 *`");
        assert_eq!(
            cron_in_words("0 9 * * 0,6"),
            "09:00 các ngày Chủ nhật, thứ Bảy"
        );
    }
}
