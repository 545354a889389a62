//! Headless Chromium for the browser tests, driven through chromedriver (WebDriver) with
//! fantoccini: [`Chrome::launch`] finds the two binaries (a skip, said loudly, when they
//! are missing — a failure under `CI=true`), starts chromedriver on a free port, waits for
//! it, and opens a session in a fresh profile, one browser at a time per test binary.
//! Screenshots go to `tests/artifacts/` ([`Chrome::screenshot`]). [`Chrome::resize`]
//! sets the viewport: pages are looked at as staff see them (1366×800, 390×844).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};

/// One browser at a time in a test binary (two starting together on two cores have reset
/// each other's first connection).
static SLOT: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// A running chromedriver with a session.
pub struct Chrome {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    _slot: tokio::sync::SemaphorePermit<'static>,
}

impl Drop for Chrome {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn which(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

impl Chrome {
    /// A browser with a `width`×`height` window, or None (skip) when Chromium or
    /// chromedriver is missing — a panic in CI.
    pub async fn launch(width: u32, height: u32) -> Option<Chrome> {
        let chromium = which(&["chromium", "chromium-browser", "google-chrome"]);
        let driver = which(&["chromedriver"]);
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            let msg = "chromium or chromedriver not found; install them with `apt-get install -y chromium chromium-driver`";
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!("CI=true and {msg}");
            }
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "\n!!! SKIPPING BROWSER TEST: {msg}\n");
            return None;
        };
        let slot = SLOT.acquire().await.expect("browser slot");
        let mut last = String::new();
        for _ in 0..3 {
            match start(&chromium, &driver, width, height).await {
                Ok((client, driver, profile)) => {
                    return Some(Chrome {
                        client,
                        driver,
                        _profile: profile,
                        _slot: slot,
                    });
                }
                Err(e) => last = e,
            }
        }
        panic!("WebDriver session could not start after 3 attempts: {last}");
    }

    /// Save a screenshot of the window as `tests/artifacts/NAME`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/artifacts");
        std::fs::create_dir_all(&dir).expect("artifacts dir");
        std::fs::write(dir.join(name), png).expect("save screenshot");
    }

    /// Make the viewport (what a page sees as `innerWidth`×`innerHeight`) this size: the
    /// window is larger by whatever the browser itself takes.
    pub async fn resize(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("window size");
        let inner = self
            .client
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await
            .expect("viewport");
        let got = |i: usize| inner[i].as_u64().unwrap_or(0) as u32;
        let (w, h) = (got(0), got(1));
        if (w, h) != (width, height) && w > 0 && h > 0 {
            self.client
                .set_window_size(
                    width + width.saturating_sub(w),
                    height + height.saturating_sub(h),
                )
                .await
                .expect("window size");
        }
    }
}

async fn start(
    chromium: &Path,
    chromedriver: &Path,
    width: u32,
    height: u32,
) -> Result<(Client, Child, tempfile::TempDir), String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("free port: {e}"))?
        .port();
    let mut driver = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("start chromedriver: {e}"))?;
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ready = match http
            .get(format!("http://127.0.0.1:{port}/status"))
            .send()
            .await
        {
            Ok(r) => r
                .json::<serde_json::Value>()
                .await
                .ok()
                .and_then(|v| v["value"]["ready"].as_bool())
                .unwrap_or(false),
            Err(_) => false,
        };
        if ready {
            break;
        }
        if Instant::now() >= deadline {
            let _ = driver.kill();
            let _ = driver.wait();
            return Err("chromedriver did not report ready within 20 s".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let profile = tempfile::tempdir().map_err(|e| format!("profile dir: {e}"))?;
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--lang=vi-VN",
                format!("--window-size={width},{height}"),
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
    caps.insert("unhandledPromptBehavior".into(), "ignore".into());
    match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
    {
        Ok(client) => Ok((client, driver, profile)),
        Err(e) => {
            let _ = driver.kill();
            let _ = driver.wait();
            Err(format!("new session: {e}"))
        }
    }
}
