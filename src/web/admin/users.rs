//! Accounts, from the browser: `/admin/users` (admin) lists every account — role, last
//! login, tokens, state — with add (a one-time password to hand over, or a set one),
//! change role, disable, reset password, revoke tokens and remove; `/account` lets anyone
//! change their own password (required after a one-time one) and make or revoke their
//! own API tokens. The JSON API: `GET/POST /api/users`, `PATCH/DELETE /api/users/{name}`,
//! `POST/DELETE /api/users/{name}/tokens[/{id}]`. The rules are `admin::people`'s.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::Value;

use super::form::{blocking, body, page};
use crate::admin::people;
use crate::web::auth::{Admin, SESSION_COOKIE, Staff, cookie};
use crate::web::error::WebError;
use crate::web::state::AppState;
use crate::web::view::{full_time, relative_time};

fn times(state: &AppState, a: &crate::store::Account) -> minijinja::Value {
    let (tz, now) = (state.timezone(), Utc::now());
    let tokens: Vec<minijinja::Value> = a
        .tokens
        .iter()
        .map(|t| {
            minijinja::context! {
                id => t.id,
                label => t.label,
                created => full_time(t.created_at, tz),
                last_used => t.last_used_at.map(|x| relative_time(x, now, tz)),
            }
        })
        .collect();
    minijinja::context! {
        name => a.name,
        role => a.role.as_str(),
        is_admin => a.role == crate::store::Role::Admin,
        created => full_time(a.created_at, tz),
        last_login => a.last_login_at.map(|x| relative_time(x, now, tz)),
        last_login_full => a.last_login_at.map(|x| full_time(x, tz)),
        disabled => a.disabled,
        must_change_password => a.must_change_password,
        tokens => tokens,
    }
}

/// `GET /admin/users` (admin).
pub async fn users_page(
    State(state): State<AppState>,
    Admin(who): Admin,
) -> Result<Response, WebError> {
    let me = who.user.clone();
    let accounts = blocking(&state, move |app| people::list(app, &me)).await?;
    let views: Vec<minijinja::Value> = accounts.iter().map(|a| times(&state, a)).collect();
    let admins = accounts
        .iter()
        .filter(|a| a.role == crate::store::Role::Admin && !a.disabled)
        .count();
    Ok(state.render(
        StatusCode::OK,
        "admin/users.html",
        minijinja::context! { accounts => views, active_admins => admins, ..page(&state, &who, "users") },
    ))
}

/// `GET /account`: one's own password and API tokens.
pub async fn account_page(
    State(state): State<AppState>,
    Staff(who): Staff,
) -> Result<Response, WebError> {
    let name = who.user.name.clone();
    let account = blocking(&state, move |app| {
        app.store.account(&name)?.ok_or_else(|| {
            crate::error::Error::NotFound("Không tìm thấy tài khoản của bạn.".into())
        })
    })
    .await?;
    Ok(state.render(
        StatusCode::OK,
        "admin/account.html",
        minijinja::context! { account => times(&state, &account), ..page(&state, &who, "account") },
    ))
}

/// `GET /api/users` (admin).
pub async fn api_list(
    State(state): State<AppState>,
    Admin(who): Admin,
) -> Result<Response, WebError> {
    let me = who.user.clone();
    Ok(Json(blocking(&state, move |app| people::list(app, &me)).await?).into_response())
}

/// `POST /api/users` (admin): 201 with the account (and its one-time password).
pub async fn api_create(
    State(state): State<AppState>,
    Admin(who): Admin,
    json: std::result::Result<Json<Value>, JsonRejection>,
) -> Result<Response, WebError> {
    let body = body(json)?;
    let me = who.user.clone();
    let answer = blocking(&state, move |app| people::create(app, &me, &body)).await?;
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `PATCH /api/users/{name}`: an admin changes an account; anyone their own password.
pub async fn api_update(
    State(state): State<AppState>,
    Staff(who): Staff,
    headers: HeaderMap,
    Path(name): Path<String>,
    json: std::result::Result<Json<Value>, JsonRejection>,
) -> Result<Response, WebError> {
    let body = body(json)?;
    let me = who.user.clone();
    let session = cookie(&headers, SESSION_COOKIE);
    let answer = blocking(&state, move |app| {
        people::update(app, &me, &name, &body, session.as_deref())
    })
    .await?;
    Ok(Json(answer).into_response())
}

/// `DELETE /api/users/{name}` (admin): 204.
pub async fn api_delete(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(name): Path<String>,
) -> Result<StatusCode, WebError> {
    let me = who.user.clone();
    blocking(&state, move |app| people::remove(app, &me, &name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/users/{name}/tokens` `{"label": …}`: 201 `{"token": …}`, shown this once.
pub async fn api_token_create(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(name): Path<String>,
    json: std::result::Result<Json<Value>, JsonRejection>,
) -> Result<Response, WebError> {
    let label = match json {
        Ok(Json(v)) => v
            .get("label")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        Err(_) => String::new(),
    };
    let me = who.user.clone();
    let token = blocking(&state, move |app| {
        people::create_token(app, &me, &name, &label)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "token": token })),
    )
        .into_response())
}

/// `DELETE /api/users/{name}/tokens`: revoke every token of the account; 200 with how many.
pub async fn api_tokens_revoke(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    let me = who.user.clone();
    let n = blocking(&state, move |app| {
        people::revoke_tokens(app, &me, &name, None)
    })
    .await?;
    Ok(Json(serde_json::json!({ "revoked": n })).into_response())
}

/// `DELETE /api/users/{name}/tokens/{id}`: revoke one token; 204.
pub async fn api_token_revoke(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path((name, id)): Path<(String, String)>,
) -> Result<StatusCode, WebError> {
    let me = who.user.clone();
    blocking(&state, move |app| {
        people::revoke_tokens(app, &me, &name, Some(&id))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
