//! The first run in the browser: `gomtin serve` prints `http://ADDR/setup?token=TOKEN`
//! while no account exists. `GET /setup?token=…` shows the form (name, password twice);
//! `POST /setup` with the token and the form's CSRF value (a double-submit cookie, as on
//! the login page) creates the first admin and logs them in. A wrong or stale token is
//! `403` and creates nothing; once any account exists `/setup` is `404`.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use crate::accounts;
use crate::store::FirstAdmin;
use crate::web::auth::{SESSION_COOKIE, add_cookie, cookie};
use crate::web::error::WebError;
use crate::web::state::AppState;

/// Cookie carrying the setup form's CSRF value.
const SETUP_COOKIE: &str = "gomtin_setup";

#[derive(Deserialize)]
pub struct SetupQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password2: String,
}

fn closed() -> WebError {
    WebError::not_found("Trang thiết lập đã đóng: gomtin đã có tài khoản. Hãy đăng nhập.")
}

fn wrong_token() -> WebError {
    WebError::new(
        StatusCode::FORBIDDEN,
        "Đường dẫn thiết lập không đúng hoặc đã hết hạn. Dùng đường dẫn mà lần chạy `gomtin serve` gần nhất in ra.",
    )
}

/// 404 once an account exists, 403 for a token that is not the live one.
async fn gate(state: &AppState, token: &str) -> Result<(), WebError> {
    let store = state.app.store.clone();
    let token = token.to_string();
    let (accounts_exist, valid) = tokio::task::spawn_blocking(move || {
        Ok::<_, crate::error::Error>((
            store.user_count()? > 0,
            accounts::setup_token_valid(&store, &token)?,
        ))
    })
    .await??;
    if accounts_exist {
        return Err(closed());
    }
    if !valid {
        return Err(wrong_token());
    }
    Ok(())
}

fn form_page(
    state: &AppState,
    status: StatusCode,
    csrf: &str,
    token: &str,
    name: &str,
    errors: minijinja::Value,
) -> Response {
    let mut resp = state.render(
        status,
        "admin/setup.html",
        minijinja::context! { csrf => csrf, token => token, name => name, errors => errors },
    );
    add_cookie(
        &mut resp,
        state,
        SETUP_COOKIE,
        csrf,
        Some(accounts::FormTokens::MAX_AGE as u64),
    );
    resp
}

/// `GET /setup?token=…`: the form.
pub async fn setup_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SetupQuery>,
) -> Result<Response, WebError> {
    gate(&state, &q.token).await?;
    // Like the login form's: a value this server issued (signed, under an hour old), kept
    // while valid so a second tab does not spoil the first.
    let now = chrono::Utc::now();
    let csrf = match cookie(&headers, SETUP_COOKIE).filter(|t| state.form_tokens.verify(t, now)) {
        Some(t) => t,
        None => state.form_tokens.issue(now)?,
    };
    Ok(form_page(
        &state,
        StatusCode::OK,
        &csrf,
        &q.token,
        "",
        minijinja::context! {},
    ))
}

/// `POST /setup`: create the first admin, log them in, on to the sources page.
pub async fn setup_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Result<Response, WebError> {
    gate(&state, &form.token).await?;
    let expected = cookie(&headers, SETUP_COOKIE).unwrap_or_default();
    if expected.is_empty()
        || !state.form_tokens.verify(&expected, chrono::Utc::now())
        || !accounts::same_secret(&form.csrf, &expected)
    {
        return Err(WebError::new(
            StatusCode::FORBIDDEN,
            "Phiên thiết lập đã hết hạn: mở lại đường dẫn thiết lập rồi thử lại.",
        ));
    }
    let name = form.name.trim().to_string();
    let again = |field: &str, message: String| {
        Ok(form_page(
            &state,
            StatusCode::BAD_REQUEST,
            &expected,
            &form.token,
            &name,
            minijinja::context! { field => field, message => message },
        ))
    };
    if !crate::store::valid_user_name(&name) {
        return again(
            "name",
            "Tên đăng nhập cần 1–64 ký tự: chữ, số, '.', '_' hoặc '-' (không dấu cách).".into(),
        );
    }
    if let Err(e) = accounts::check_password(&form.password) {
        let m = match e {
            crate::error::Error::User(m) => m,
            other => other.to_string(),
        };
        return again(
            "password",
            format!("Mật khẩu {}.", m.trim_start_matches("mật khẩu ")),
        );
    }
    if form.password != form.password2 {
        return again("password2", "Hai lần nhập mật khẩu không khớp.".into());
    }
    let store = state.app.store.clone();
    let ttl = state.app.config().server.session_ttl;
    let (token, password) = (form.token.clone(), form.password.clone());
    let n = name.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let now = Utc::now();
        match accounts::finish_setup(&store, &token, &n, &password, now)? {
            FirstAdmin::Created(_) => Ok(Ok(accounts::log_in(&store, &n, &password, ttl, now)?)),
            other => Ok::<_, crate::error::Error>(Err(other)),
        }
    })
    .await??;
    match outcome {
        Ok(Some(session)) => {
            let _ = state.app.store.audit(
                &session.user.name,
                "user.setup",
                &session.user.name,
                "tài khoản quản trị đầu tiên",
                Utc::now(),
            );
            tracing::info!(user = %session.user.name, "first admin created through the setup link");
            let mut resp = Redirect::to("/sources?chao=1").into_response();
            add_cookie(
                &mut resp,
                &state,
                SESSION_COOKIE,
                &session.token,
                Some(ttl.as_secs()),
            );
            add_cookie(&mut resp, &state, SETUP_COOKIE, "", Some(0));
            Ok(resp)
        }
        Ok(None) => Err(WebError::internal(
            "tài khoản đã tạo nhưng không đăng nhập được",
        )),
        Err(FirstAdmin::AccountsExist) => Err(closed()),
        Err(_) => Err(wrong_token()),
    }
}
