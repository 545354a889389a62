//! What the admin's handlers share: reading a JSON body (a missing or malformed one is a
//! 400 in Vietnamese), running a blocking admin use-case off the async workers, and the
//! values every admin page needs (the menu, which page is open, the config file's path,
//! the display time zone).
//! Not a handler file: the handlers of `web::admin` import it, it imports none of them.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use serde_json::Value;

use crate::app::App;
use crate::error::Result;
use crate::web::auth::Identity;
use crate::web::error::WebError;
use crate::web::state::AppState;
use crate::web::view::Chrome;

/// The JSON object of a request, or a 400 saying what was expected.
pub fn body(
    body: std::result::Result<Json<Value>, JsonRejection>,
) -> std::result::Result<Value, WebError> {
    match body {
        Ok(Json(v)) if v.is_object() => Ok(v),
        Ok(_) => Err(WebError::bad_request("Cần một đối tượng JSON {…}.")),
        Err(e) => Err(WebError::bad_request(format!(
            "Thân yêu cầu không phải JSON hợp lệ ({}).",
            e.body_text()
        ))),
    }
}

/// Run `f` (file, SQLite and config work) on a blocking thread.
pub async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&App) -> Result<T> + Send + 'static,
) -> std::result::Result<T, WebError> {
    let app = state.app.clone();
    Ok(tokio::task::spawn_blocking(move || f(&app)).await??)
}

/// The values of every admin page: the menu, which admin page is open, the config file.
pub fn page(state: &AppState, who: &Identity, open: &str) -> minijinja::Value {
    minijinja::context! {
        chrome => Chrome::at(who, match open {
            "sources" => "sources",
            "account" => "account",
            _ => "admin",
        }),
        open => open,
        config_path => state.app.config().path.display().to_string(),
        timezone => state.timezone().name(),
    }
}
