//! The security headers every response of the server carries, set by one middleware
//! around the whole router: a strict Content-Security-Policy (scripts and styles only from
//! this server, images also from news sites, no frames, no plugins, forms only back to
//! us) unless a handler set a stricter one of its own, `nosniff`, `DENY` framing, a
//! same-origin referrer, and `no-store` unless a handler chose its own caching (the static
//! files do).

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The Content-Security-Policy of every response: scripts and styles only from this
/// server (no inline script at all, so no nonce is needed), images also from news sites
/// (thumbnails), the app manifest and service worker from here, no frames, no plugins,
/// forms only back to us.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' https: http:; connect-src 'self'; manifest-src 'self'; worker-src 'self'; \
    form-action 'self'; base-uri 'none'; frame-ancestors 'none'; object-src 'none'";

/// Security headers on every response of the server.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    // A handler may set a stricter policy of its own (the digest preview's sandbox).
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}
