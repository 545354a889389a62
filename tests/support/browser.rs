//! Headless Chromium for the tests that drive the web app as staff see it: chromedriver on
//! a free port, one WebDriver session (fantoccini) in a fresh profile, one browser at a
//! time per test binary; screenshots saved under `tests/artifacts/` at a given window size.
//! Without Chromium the caller skips loudly — except with `CI=true`, where a missing
//! browser is a failure (`.ci/run` installs `chromium chromium-driver`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Chromium and chromedriver; `None` (with a loud message) when missing outside CI.
fn binaries() -> Option<(PathBuf, PathBuf)> {
    let chromium = on_path(&["chromium", "chromium-browser", "google-chrome"]);
    let driver = on_path(&["chromedriver"]);
    if let (Some(c), Some(d)) = (&chromium, &driver) {
        return Some((c.clone(), d.clone()));
    }
    let msg = format!(
        "chromium ({chromium:?}) or chromedriver ({driver:?}) missing; install them with `apt-get install -y chromium chromium-driver`"
    );
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("CI=true and {msg}");
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "\n!!! SKIPPING BROWSER TEST: {msg}\n");
    None
}

/// Two Chromiums starting at once on two cores have reset each other's first connection.
static ONE_AT_A_TIME: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// A browser session; the driver is stopped when it is dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    _turn: tokio::sync::SemaphorePermit<'static>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Start a browser, or `None` when there is none to start (outside CI).
pub async fn launch() -> Option<Browser> {
    let (chromium, chromedriver) = binaries()?;
    let turn = ONE_AT_A_TIME.acquire().await.expect("browser turn");
    let mut last = String::new();
    for _ in 0..3 {
        match session(&chromium, &chromedriver).await {
            Ok((client, driver, profile)) => {
                return Some(Browser {
                    client,
                    driver,
                    _profile: profile,
                    _turn: turn,
                });
            }
            Err(e) => last = e,
        }
    }
    panic!("no WebDriver session after 3 attempts: {last}");
}

async fn session(
    chromium: &std::path::Path,
    chromedriver: &std::path::Path,
) -> Result<(Client, Child, tempfile::TempDir), String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let mut driver = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("chromedriver: {e}"))?;
    let status = format!("http://127.0.0.1:{port}/status");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ready = match reqwest::get(&status).await {
            Ok(r) => r
                .json::<serde_json::Value>()
                .await
                .is_ok_and(|v| v["value"]["ready"] == true),
            Err(_) => false,
        };
        if ready {
            break;
        }
        if Instant::now() > deadline {
            let _ = driver.kill();
            let _ = driver.wait();
            return Err("chromedriver not ready within 20 s".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--hide-scrollbars", "--lang=vi-VN",
                "--window-size=1366,800",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
    caps.insert("unhandledPromptBehavior".into(), "accept".into());
    match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
    {
        Ok(c) => Ok((c, driver, profile)),
        Err(e) => {
            let _ = driver.kill();
            let _ = driver.wait();
            Err(format!("new session: {e}"))
        }
    }
}

/// `tests/artifacts/`, created when missing.
pub fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/artifacts");
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    dir
}

/// The desktop and phone sizes every page is looked at in.
pub const SIZES: [(u32, u32, &str); 2] = [(1366, 800, "1366"), (390, 844, "390")];

/// A screenshot of the current page saved as `tests/artifacts/NAME`.
pub async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    std::fs::write(artifacts().join(name), png).expect("save screenshot");
}

/// Screenshots of the current page at each of `SIZES` (`NAME-1366.png`, `NAME-390.png`)
/// and, to look at all of it, of the whole page at each width (`NAME-1366-full.png`); the
/// window is left at desktop size (the page keeps its state: only the layout changes).
pub async fn screenshots(c: &Client, name: &str) {
    for (w, h, label) in SIZES {
        c.set_window_size(w, h).await.expect("window size");
        wait_ready(c).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        screenshot(c, &format!("{name}-{label}.png")).await;
        let full = c
            .execute("return document.documentElement.scrollHeight", vec![])
            .await
            .ok()
            .and_then(|v| v.as_u64())
            .unwrap_or(u64::from(h))
            .clamp(u64::from(h), 6000) as u32;
        if full > h {
            c.set_window_size(w, full).await.expect("window size");
            tokio::time::sleep(Duration::from_millis(150)).await;
            screenshot(c, &format!("{name}-{label}-full.png")).await;
        }
    }
    c.set_window_size(SIZES[0].0, SIZES[0].1)
        .await
        .expect("window size");
}

/// Wait until the document has loaded.
pub async fn wait_ready(c: &Client) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state = c
            .execute("return document.readyState", vec![])
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_string));
        if state.as_deref() == Some("complete") {
            return;
        }
        assert!(Instant::now() < deadline, "page never finished loading");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The element `id`, waited for.
pub async fn by_id(c: &Client, id: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("no #{id} ({e})"))
}

/// Type `text` into the field `id` (cleared first).
pub async fn type_into(c: &Client, id: &str, text: &str) {
    let field = by_id(c, id).await;
    field.clear().await.expect("clear");
    field.send_keys(text).await.expect("type");
}

/// Click the element `id`.
pub async fn click(c: &Client, id: &str) {
    by_id(c, id).await.click().await.expect("click");
}

/// Wait until the text of the element matching `css` contains `needle`; that text.
pub async fn wait_text(c: &Client, css: &str, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await
            && let Ok(t) = e.text().await
            && t.contains(needle)
        {
            return t;
        }
        if Instant::now() > deadline {
            let url = c
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            let html = c.source().await.unwrap_or_default();
            panic!("{css} never contained {needle:?} at {url}:\n{html}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Wait until the browser is at a URL whose path is `path`.
pub async fn wait_path(c: &Client, path: &str) -> url::Url {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let u = c.current_url().await.expect("url");
        if u.path() == path {
            return u;
        }
        assert!(Instant::now() < deadline, "never reached {path}; at {u}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
