//! What the web app ships inside the binary: the minijinja templates (auto-escaping HTML)
//! and the static files served under `/static/` (stylesheets, scripts and the app's icons,
//! the admin pages' own pair among them; no inline script, so the CSP needs no nonce). They are compiled in with `include_str!`: the daemon ships as
//! one file (see README, Deployment), and the escaping guarantees cannot be undone by an
//! edited template on disk.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::Environment;

/// `("admin/NAME", its text)` for a template of `assets/templates/admin/`.
macro_rules! admin_template {
    ($name:literal) => {
        (
            concat!("admin/", $name),
            include_str!(concat!("assets/templates/admin/", $name)),
        )
    };
}

/// Templates, compiled in.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("assets/templates/base.html")),
    ("login.html", include_str!("assets/templates/login.html")),
    ("search.html", include_str!("assets/templates/search.html")),
    ("item.html", include_str!("assets/templates/item.html")),
    ("error.html", include_str!("assets/templates/error.html")),
    (
        "capture.html",
        include_str!("assets/templates/capture.html"),
    ),
    (
        "proposals.html",
        include_str!("assets/templates/proposals.html"),
    ),
    ("saved.html", include_str!("assets/templates/saved.html")),
    ("news.html", include_str!("assets/templates/news.html")),
    ("again.html", include_str!("assets/templates/again.html")),
    // --- admin pages (issue 14) ---
    admin_template!("layout.html"),
    admin_template!("setup.html"),
    admin_template!("sources.html"),
    admin_template!("delete_dialog.html"),
    admin_template!("source_form.html"),
    admin_template!("import.html"),
    admin_template!("users.html"),
    admin_template!("account.html"),
    admin_template!("topics.html"),
    admin_template!("digests.html"),
    admin_template!("audit.html"),
];

/// Static files: (name, content type, body).
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("assets/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/app.js"),
    ),
    // The staff's day (issue 15): share first, shortcuts, phone layout, capture.
    (
        "staff.css",
        "text/css; charset=utf-8",
        include_bytes!("assets/staff.css"),
    ),
    (
        "staff.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/staff.js"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_bytes!("assets/icon.svg"),
    ),
    (
        "icon-192.png",
        "image/png",
        include_bytes!("assets/icon-192.png"),
    ),
    (
        "icon-512.png",
        "image/png",
        include_bytes!("assets/icon-512.png"),
    ),
    // --- admin pages (issue 14) ---
    (
        "admin.css",
        "text/css; charset=utf-8",
        include_bytes!("assets/admin.css"),
    ),
    (
        "admin.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/admin.js"),
    ),
];

/// The template environment with every built-in template added.
pub fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, src) in TEMPLATES {
        if let Err(e) = env.add_template(name, src) {
            // A broken built-in template is a programming error caught by the tests.
            tracing::error!(template = name, error = %e, "template does not compile");
        }
    }
    env
}

/// `GET /static/{name}`.
pub async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, ct, body)) => (
            [
                (header::CONTENT_TYPE, *ct),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *body,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "không có tệp này",
        )
            .into_response(),
    }
}
