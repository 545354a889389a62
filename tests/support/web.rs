//! Talking to the running web app the way a browser or a script does: a `Session` is a
//! reqwest client (redirects not followed, so a test sees each 303) bound to the app's
//! address and carrying one set of credentials: the session cookie and CSRF token of a
//! real login through `/login`, an API token, or none. Its `get`/`post`/`post_form`/
//! `delete` build requests that already carry them, so a test spells out only what it
//! checks (`patch`/`put` too). The cookie is fixed at login and never replaced by a response, so a test can
//! keep using a cookie the server has revoked.

use reqwest::header::{self, HeaderMap};
use reqwest::{Client, RequestBuilder, StatusCode, redirect};

/// Cookies set by a response, as (name, value, attributes).
pub fn set_cookies(h: &HeaderMap) -> Vec<(String, String, String)> {
    h.get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| {
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = pair.split_once('=')?;
            Some((k.to_string(), val.to_string(), attrs.to_string()))
        })
        .collect()
}

/// The `value` attribute of the form field `name="…"` in `html`.
pub fn hidden(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + needle.len();
    html[start..].split('"').next().expect("value").to_string()
}

/// A client that does not follow redirects.
pub fn client() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .expect("client")
}

/// What a session sends with each request.
#[derive(Clone, Debug)]
enum Credentials {
    None,
    Cookie { cookie: String, csrf: String },
    Bearer(String),
}

/// The login form as a browser gets it: the `gomtin_login` cookie (its value) and the form's
/// CSRF token.
pub struct LoginForm {
    pub cookie: String,
    pub csrf: String,
}

/// One client with one set of credentials against the app at `base`.
pub struct Session {
    base: String,
    client: Client,
    credentials: Credentials,
}

impl Session {
    /// Nobody: requests carry no credentials.
    pub fn anonymous(base: &str) -> Session {
        Session {
            base: base.to_string(),
            client: client(),
            credentials: Credentials::None,
        }
    }

    /// A script with an API token (`Authorization: Bearer …`).
    pub fn bearer(base: &str, token: &str) -> Session {
        Session {
            credentials: Credentials::Bearer(token.to_string()),
            ..Session::anonymous(base)
        }
    }

    /// Logs `who` (name, password) in through the login page like a browser and reads the
    /// CSRF token from the home page. Asserts the login answers 303 with a session cookie
    /// that is `HttpOnly`, `SameSite=Strict` and (plain HTTP, no proxy) not `Secure`.
    pub async fn login(base: &str, who: (&str, &str)) -> Session {
        Session::login_at(base, who, "/").await
    }

    /// As [`Session::login`], reading the CSRF token from `page` instead of the home page
    /// (an account with a one-time password is sent to `/account` first).
    pub async fn login_at(base: &str, who: (&str, &str), page: &str) -> Session {
        let anon = Session::anonymous(base);
        let form = anon.login_form().await;
        let r = anon
            .post("/login")
            .header(header::COOKIE, format!("gomtin_login={}", form.cookie))
            .form(&[
                ("name", who.0),
                ("password", who.1),
                ("csrf", form.csrf.as_str()),
                ("next", "/"),
            ])
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "login of {}", who.0);
        let (_, token, attrs) = set_cookies(r.headers())
            .into_iter()
            .find(|(k, v, _)| k == "gomtin_session" && !v.is_empty())
            .expect("session cookie");
        assert!(attrs.contains("HttpOnly"), "{attrs}");
        assert!(attrs.contains("SameSite=Strict"), "{attrs}");
        assert!(
            !attrs.contains("Secure"),
            "plain HTTP without a proxy: {attrs}"
        );
        let cookie = format!("gomtin_session={token}");
        let home = anon
            .get(page)
            .header(header::COOKIE, &cookie)
            .send()
            .await
            .expect("home");
        assert_eq!(home.status(), StatusCode::OK, "{page} after login");
        let csrf = hidden(&home.text().await.expect("home html"), "csrf");
        Session {
            credentials: Credentials::Cookie { cookie, csrf },
            ..anon
        }
    }

    /// `GET /login`, which must answer 200 with the login cookie and a CSRF field.
    pub async fn login_form(&self) -> LoginForm {
        let page = self.get("/login").send().await.expect("login page");
        assert_eq!(page.status(), StatusCode::OK);
        let (_, cookie, _) = set_cookies(page.headers())
            .into_iter()
            .find(|(k, _, _)| k == "gomtin_login")
            .expect("login cookie");
        let csrf = hidden(&page.text().await.expect("login html"), "csrf");
        LoginForm { cookie, csrf }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The session cookie (`gomtin_session=…`) of a logged-in session.
    pub fn cookie(&self) -> &str {
        match &self.credentials {
            Credentials::Cookie { cookie, .. } => cookie,
            other => panic!("no session cookie: {other:?}"),
        }
    }

    /// The CSRF token of a logged-in session.
    pub fn csrf(&self) -> &str {
        match &self.credentials {
            Credentials::Cookie { csrf, .. } => csrf,
            other => panic!("no CSRF token: {other:?}"),
        }
    }

    /// A request carrying the credentials, but no CSRF token.
    fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        let r = self.client.request(method, self.url(path));
        match &self.credentials {
            Credentials::None => r,
            Credentials::Cookie { cookie, .. } => r.header(header::COOKIE, cookie),
            Credentials::Bearer(token) => r.bearer_auth(token),
        }
    }

    /// With the CSRF header a script sends with a session cookie (`X-CSRF-Token`).
    fn with_csrf_header(&self, r: RequestBuilder) -> RequestBuilder {
        match &self.credentials {
            Credentials::Cookie { csrf, .. } => r.header("X-CSRF-Token", csrf),
            _ => r,
        }
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(reqwest::Method::GET, path)
    }

    /// A POST with the credentials and, for a cookie session, the `X-CSRF-Token` header
    /// (add a JSON or form body).
    pub fn post(&self, path: &str) -> RequestBuilder {
        self.with_csrf_header(self.post_without_csrf(path))
    }

    /// A form POST of `fields` plus, for a cookie session, its `csrf` field.
    pub fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> RequestBuilder {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        if let Credentials::Cookie { csrf, .. } = &self.credentials {
            form.push(("csrf", csrf));
        }
        self.post_without_csrf(path).form(&form)
    }

    /// A POST with the credentials but no CSRF token: what a forged request looks like.
    pub fn post_without_csrf(&self, path: &str) -> RequestBuilder {
        self.request(reqwest::Method::POST, path)
    }

    /// A PATCH with the credentials and, for a cookie session, the `X-CSRF-Token` header.
    pub fn patch(&self, path: &str) -> RequestBuilder {
        self.with_csrf_header(self.request(reqwest::Method::PATCH, path))
    }

    /// A PUT with the credentials and, for a cookie session, the `X-CSRF-Token` header.
    pub fn put(&self, path: &str) -> RequestBuilder {
        self.with_csrf_header(self.request(reqwest::Method::PUT, path))
    }

    /// A DELETE with the credentials and, for a cookie session, the `X-CSRF-Token` header.
    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.with_csrf_header(self.request(reqwest::Method::DELETE, path))
    }

    /// `GET path`: the status and the body.
    pub async fn fetch(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .get(path)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = r.status();
        (status, r.text().await.expect("body"))
    }

    /// `GET path`'s body; the answer must be a 200 (an error page never passes for a
    /// page: use `fetch` to look at another status).
    pub async fn text(&self, path: &str) -> String {
        let (status, body) = self.fetch(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// `GET path`'s body as JSON.
    pub async fn json(&self, path: &str) -> serde_json::Value {
        let (status, body) = self.fetch(path).await;
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path} ({status}): {e}: {body}"))
    }
}
