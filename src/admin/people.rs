//! Accounts from the web: an admin lists, adds (with a password to hand over or a set
//! one), changes the role of, disables, removes, resets the password of, and revokes the
//! tokens of accounts; everyone changes their own password and makes or revokes their own
//! API tokens. The rules are `accounts`' and the store's (the last active admin can be
//! neither demoted, disabled nor removed); this file decides who may ask for what and
//! writes each change to the audit log.

use chrono::Utc;
use serde::Serialize;
use serde_json::Value;

use super::edit::{Action, audit};
use crate::accounts;
use crate::app::App;
use crate::error::{Error, Result};
use crate::store::{Account, Role, User};

/// An account, and the one-time password to hand over when one was just made.
#[derive(Debug, Clone, Serialize)]
pub struct AccountAnswer {
    #[serde(flatten)]
    pub account: Account,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_password: Option<String>,
}

fn admin_only(caller: &User) -> Result<()> {
    if caller.is_admin() {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "Chỉ quản trị viên (admin) được làm việc này.".into(),
        ))
    }
}

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

fn account(app: &App, name: &str) -> Result<Account> {
    app.store
        .account(name)?
        .ok_or_else(|| Error::NotFound(format!("Không có tài khoản tên `{name}`.")))
}

/// Name the field an account error is about, so a form shows it in place.
fn on_field(field: &'static str) -> impl Fn(Error) -> Error {
    move |e| match e {
        Error::User(m) => invalid(field, m),
        other => other,
    }
}

fn role_of(v: &Value) -> Result<Role> {
    v.as_str().and_then(Role::parse).ok_or_else(|| {
        invalid(
            "role",
            "vai trò phải là `staff` (cán bộ) hoặc `admin` (quản trị)",
        )
    })
}

fn text<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

/// Every account (admin).
pub fn list(app: &App, caller: &User) -> Result<Vec<Account>> {
    admin_only(caller)?;
    app.store.accounts()
}

/// `POST /api/users` (admin): `{"name", "role", "password"?}`; without a password a
/// one-time password is made, to be changed at first login.
pub fn create(app: &App, caller: &User, body: &Value) -> Result<AccountAnswer> {
    admin_only(caller)?;
    let name = text(body, "name").unwrap_or_default().trim().to_string();
    if name.is_empty() {
        return Err(invalid("name", "cần tên đăng nhập"));
    }
    if !crate::store::valid_user_name(&name) {
        return Err(invalid(
            "name",
            format!("tên `{name}` không hợp lệ: dùng chữ, số, '.', '_' hoặc '-', tối đa 64 ký tự"),
        ));
    }
    let role = role_of(body.get("role").unwrap_or(&Value::from("staff")))?;
    let password = text(body, "password").filter(|p| !p.is_empty());
    if app.store.user_by_name(&name)?.is_some() {
        return Err(Error::Conflict(format!("Đã có tài khoản tên `{name}`.")));
    }
    if let Some(p) = password {
        accounts::check_password(p).map_err(on_field("password"))?;
    }
    let (_, one_time) = accounts::create_account(&app.store, &name, role, password, Utc::now())
        .map_err(|e| match e {
            Error::User(m) if m.starts_with("đã có") => {
                Error::Conflict(format!("Đã có tài khoản tên `{name}`."))
            }
            other => on_field("name")(other),
        })?;
    audit(
        app,
        &Action {
            who: &caller.name,
            what: "user.add",
            target: &name,
            detail: format!(
                "vai trò {}{}",
                role.as_str(),
                if one_time.is_some() {
                    ", mật khẩu dùng một lần"
                } else {
                    ""
                }
            ),
        },
    );
    Ok(AccountAnswer {
        account: account(app, &name)?,
        one_time_password: one_time,
    })
}

/// `PATCH /api/users/{name}`: an admin may change `role`, `disabled`, and reset the
/// password (`"reset_password": true` for a one-time one, or `"password"`); anyone may
/// change their own with `current_password` + `new_password`. `session` is the caller's
/// session cookie (kept when they change their own password).
pub fn update(
    app: &App,
    caller: &User,
    name: &str,
    body: &Value,
    session: Option<&str>,
) -> Result<AccountAnswer> {
    let obj = body
        .as_object()
        .ok_or_else(|| invalid("", "Cần một đối tượng JSON."))?;
    const KEYS: &[&str] = &[
        "role",
        "disabled",
        "reset_password",
        "password",
        "current_password",
        "new_password",
    ];
    if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(invalid(
            k,
            format!(
                "khoá `{k}` không được hỗ trợ; các khoá: {}",
                KEYS.join(", ")
            ),
        ));
    }
    let own = caller.name == name;
    let admin_keys = ["role", "disabled", "reset_password", "password"];
    // Another person's account, or anything but one's own password, is an admin's.
    if !own || obj.keys().any(|k| admin_keys.contains(&k.as_str())) {
        admin_only(caller)?;
    }
    account(app, name)?;
    let mut one_time = None;
    let who = caller.name.as_str();
    if let Some(v) = obj.get("role") {
        let role = role_of(v)?;
        app.store.set_role(name, role).map_err(on_field("role"))?;
        audit(
            app,
            &Action {
                who,
                what: "user.role",
                target: name,
                detail: role.as_str().into(),
            },
        );
    }
    if let Some(v) = obj.get("disabled") {
        let disabled = v
            .as_bool()
            .ok_or_else(|| invalid("disabled", "`disabled` phải là true hoặc false"))?;
        if disabled && own {
            return Err(invalid("disabled", "không tự tắt tài khoản của chính mình"));
        }
        app.store
            .set_disabled(name, disabled, Utc::now())
            .map_err(on_field("disabled"))?;
        audit(
            app,
            &Action {
                who,
                what: if disabled {
                    "user.disable"
                } else {
                    "user.enable"
                },
                target: name,
                detail: String::new(),
            },
        );
    }
    let set = text(body, "password").filter(|p| !p.is_empty());
    if set.is_some() || obj.get("reset_password").and_then(Value::as_bool) == Some(true) {
        one_time = accounts::reset_password(&app.store, name, set).map_err(on_field("password"))?;
        audit(
            app,
            &Action {
                who,
                what: "user.password_reset",
                target: name,
                detail: if one_time.is_some() {
                    "mật khẩu dùng một lần".into()
                } else {
                    "mật khẩu do quản trị đặt".into()
                },
            },
        );
    }
    if let Some(new) = text(body, "new_password") {
        if !own {
            return Err(Error::Forbidden(
                "Chỉ tự đổi được mật khẩu của chính mình.".into(),
            ));
        }
        let current = text(body, "current_password").unwrap_or_default();
        accounts::change_own_password(&app.store, name, current, new, session).map_err(
            |e| match e {
                Error::User(m) if m.contains("hiện tại") => invalid("current_password", m),
                other => on_field("new_password")(other),
            },
        )?;
        audit(
            app,
            &Action {
                who,
                what: "user.password",
                target: name,
                detail: String::new(),
            },
        );
    }
    Ok(AccountAnswer {
        account: account(app, name)?,
        one_time_password: one_time,
    })
}

/// `DELETE /api/users/{name}` (admin; not oneself, not the last active admin).
pub fn remove(app: &App, caller: &User, name: &str) -> Result<()> {
    admin_only(caller)?;
    if caller.name == name {
        return Err(Error::Conflict(
            "Không tự xoá tài khoản của chính mình.".into(),
        ));
    }
    account(app, name)?;
    app.store.delete_user(name)?;
    audit(
        app,
        &Action {
            who: &caller.name,
            what: "user.delete",
            target: name,
            detail: String::new(),
        },
    );
    Ok(())
}

fn own_or_admin(caller: &User, name: &str) -> Result<()> {
    if caller.name == name {
        Ok(())
    } else {
        admin_only(caller)
    }
}

/// A new API token for `name` (oneself, or any account for an admin): shown once.
pub fn create_token(app: &App, caller: &User, name: &str, label: &str) -> Result<String> {
    own_or_admin(caller, name)?;
    account(app, name)?;
    let token = accounts::issue_api_token(&app.store, name, label, Utc::now())
        .map_err(on_field("label"))?;
    audit(
        app,
        &Action {
            who: &caller.name,
            what: "token.add",
            target: name,
            detail: label.trim().into(),
        },
    );
    Ok(token)
}

/// Revoke token `id` of `name` (all of them when `id` is `None`); how many went.
pub fn revoke_tokens(app: &App, caller: &User, name: &str, id: Option<&str>) -> Result<usize> {
    own_or_admin(caller, name)?;
    let user = app
        .store
        .user_by_name(name)?
        .ok_or_else(|| Error::NotFound(format!("Không có tài khoản tên `{name}`.")))?;
    let n = match id {
        Some(id) => {
            if !app.store.revoke_api_token(user.id, id)? {
                return Err(Error::NotFound(format!(
                    "Không có mã API `{id}` của `{name}`."
                )));
            }
            1
        }
        None => app.store.revoke_api_tokens(user.id)?,
    };
    audit(
        app,
        &Action {
            who: &caller.name,
            what: "token.revoke",
            target: name,
            detail: id.map_or_else(|| format!("tất cả ({n})"), str::to_string),
        },
    );
    Ok(n)
}
