//! The first run, over HTTP against the real `gomtin serve`: with no account, serve prints
//! one setup link; the login page says where the first account comes from; a wrong token
//! is 403 and creates nothing; the right one (with the form's CSRF value) creates the
//! first admin and logs them in, once; afterwards `/setup` is 404 and a restart prints no
//! link.

mod admin;
mod support;

use admin::{ADMIN, Fresh, submit_setup};
use reqwest::StatusCode;
use reqwest::header;
use support::web::{Session, client, set_cookies};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_setup_link_works_once_and_then_the_page_is_gone() {
    let mut app = Fresh::start();
    let base = app.base();
    let link = app.setup_link();
    assert!(
        link.starts_with(&format!("http://{}/setup?token=", app.daemon.addr())),
        "{link}"
    );
    let token = link.rsplit('=').next().expect("token").to_string();
    assert_eq!(token.len(), 64, "a 256-bit token: {link}");
    let printed = app
        .daemon
        .stdout()
        .lines()
        .filter(|l| l.contains("/setup?token="))
        .count();
    assert_eq!(printed, 1, "one setup line per start");

    // The login page says where the first account comes from.
    let anon = Session::anonymous(&base);
    let login = anon.text("/login").await;
    assert!(login.contains("id=\"first-run\""), "{login}");
    assert!(
        login.contains("/setup?token="),
        "the login page names the link's form"
    );

    // A wrong token: 403 for the form and for a submission, and nothing is created.
    let (status, _) = anon.fetch("/setup?token=sai").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(anon.fetch("/setup").await.0, StatusCode::FORBIDDEN);
    let form_page = client()
        .get(format!("{base}/setup?token={token}"))
        .send()
        .await
        .expect("form");
    assert_eq!(form_page.status(), StatusCode::OK);
    let (_, cookie, _) = set_cookies(form_page.headers())
        .into_iter()
        .find(|(k, _, _)| k == "gomtin_setup")
        .expect("setup cookie");
    let html = form_page.text().await.expect("html");
    for id in ["setup-name", "setup-password", "setup-password2"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id} in the form");
    }
    let csrf = support::web::hidden(&html, "csrf");
    let post = |token: String, csrf: String, cookie: Option<String>, name: &'static str| {
        let base = base.clone();
        async move {
            let mut r = client().post(format!("{base}/setup"));
            if let Some(c) = cookie {
                r = r.header(header::COOKIE, format!("gomtin_setup={c}"));
            }
            r.form(&[
                ("csrf", csrf.as_str()),
                ("token", token.as_str()),
                ("name", name),
                ("password", ADMIN.1),
                ("password2", ADMIN.1),
            ])
            .send()
            .await
            .expect("post")
        }
    };
    let wrong = post("sai".into(), csrf.clone(), Some(cookie.clone()), "ke-gian").await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    // Without the form's CSRF cookie: 403 too.
    let forged = post(token.clone(), csrf.clone(), None, "ke-gian").await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.cfg.stdout(&["users", "list"]).trim(),
        "",
        "nothing was created"
    );

    // A bad field re-shows the form with the error beside it, and creates nothing.
    let short = submit_setup(&base, &app.setup_path(), "quantri", "ngan", "ngan").await;
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    let body = short.text().await.expect("html");
    assert!(body.contains("class=\"field-error\""), "{body}");
    assert!(body.contains("8 ký tự"), "{body}");
    let mismatch = submit_setup(&base, &app.setup_path(), "quantri", ADMIN.1, "khac-han-nhe").await;
    assert_eq!(mismatch.status(), StatusCode::BAD_REQUEST);
    assert!(mismatch.text().await.expect("html").contains("không khớp"));

    // The right token: the first admin, logged in.
    let done = submit_setup(&base, &app.setup_path(), ADMIN.0, ADMIN.1, ADMIN.1).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let (_, session, attrs) = set_cookies(done.headers())
        .into_iter()
        .find(|(k, v, _)| k == "gomtin_session" && !v.is_empty())
        .expect("logged in");
    assert!(
        attrs.contains("HttpOnly") && attrs.contains("SameSite=Strict"),
        "{attrs}"
    );
    let welcome = client()
        .get(format!("{base}/sources?chao=1"))
        .header(header::COOKIE, format!("gomtin_session={session}"))
        .send()
        .await
        .expect("welcome");
    assert_eq!(welcome.status(), StatusCode::OK);
    assert!(
        welcome
            .text()
            .await
            .expect("html")
            .contains("id=\"welcome\"")
    );
    let users = app.cfg.stdout(&["users", "list"]);
    assert!(
        users.starts_with(&format!("{}\tadmin\t", ADMIN.0)),
        "{users}"
    );
    assert_eq!(users.lines().count(), 1, "{users}");

    // Afterwards: 404, for the same token too, and nothing more is created.
    assert_eq!(
        anon.fetch(&format!("/setup?token={token}")).await.0,
        StatusCode::NOT_FOUND
    );
    let again = post(token.clone(), csrf, Some(cookie), "nguoi-thu-hai").await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.cfg.stdout(&["users", "list"]).lines().count(), 1);
    let login = anon.text("/login").await;
    assert!(!login.contains("id=\"first-run\""));

    // A restart with an account prints no link.
    app.restart();
    assert!(
        !app.daemon.stdout().contains("/setup?token="),
        "{}",
        app.daemon.stdout()
    );
    Session::login(&app.base(), ADMIN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_start_without_an_account_has_a_new_link_and_the_old_one_is_refused() {
    let mut app = Fresh::start();
    let first = app.setup_path();
    app.restart();
    let second = app.setup_path();
    assert_ne!(first, second, "a new token per start");
    let anon = Session::anonymous(&app.base());
    assert_eq!(
        anon.fetch(&first).await.0,
        StatusCode::FORBIDDEN,
        "the old link"
    );
    assert_eq!(anon.fetch(&second).await.0, StatusCode::OK);
    // An account made on the command line closes the setup too.
    app.cfg
        .cmd(&["users", "add", "lan", "--role", "admin", "--password-stdin"])
        .write_stdin("mat-khau-cua-lan\n")
        .assert()
        .success();
    assert_eq!(anon.fetch(&second).await.0, StatusCode::NOT_FOUND);
}
