//! A poll cycle: 1,000 sources on one local HTTP server, fetched by the real `gomtin fetch`
//! binary — a first pass (every feed new) and a second pass where every source answers
//! 304 — with wall time, requests/s and the process's peak RSS.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::corpus::{Article, rss};
use crate::daemon::Daemon;
use crate::server::{FeedServer, peak_rss_mb};

#[derive(Serialize)]
pub struct PassReport {
    pub pass: String,
    pub sources: usize,
    pub seconds: f64,
    pub requests_per_s: f64,
    pub not_modified: u64,
    pub peak_rss_mb: Option<f64>,
}

/// The `gomtin` binary built beside this one.
pub fn gomtin_binary() -> Result<PathBuf, Box<dyn std::error::Error>> {
    let exe = std::env::current_exe()?;
    let p = exe.with_file_name("gomtin");
    if p.exists() {
        Ok(p)
    } else {
        Err(format!(
            "{} not found: build both binaries (cargo build --release --bins)",
            p.display()
        )
        .into())
    }
}

/// `gomtin serve` on `cfg` at a free port, ready to answer (see `daemon`).
pub fn start_serve(cfg: &Path) -> Result<Daemon, Box<dyn std::error::Error>> {
    Ok(Daemon::start(&gomtin_binary()?, cfg)?)
}

/// Run a command to completion, sampling its peak RSS (VmHWM) while it runs. Its
/// standard output goes to `stdout` when given (a log file), else nowhere; its standard
/// error is left to the caller (nowhere unless `cmd` says otherwise).
pub fn run_sampled(
    cmd: &mut Command,
    stdout: Option<std::fs::File>,
) -> Result<(f64, Option<f64>, bool), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let mut child = match stdout {
        Some(f) => cmd.stdout(f),
        None => cmd.stdout(Stdio::null()).stderr(Stdio::null()),
    }
    .spawn()?;
    let pid = child.id();
    let mut peak = None;
    loop {
        if let Some(m) = peak_rss_mb(pid) {
            peak = Some(m);
        }
        if let Some(status) = child.try_wait()? {
            return Ok((t.elapsed().as_secs_f64(), peak, status.success()));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub fn run(work: &Path, sources: usize, json: bool) -> Result<(), Box<dyn std::error::Error>> {
    let _ = std::fs::remove_dir_all(work);
    std::fs::create_dir_all(work)?;
    let gomtin = gomtin_binary()?;
    let mut bodies = HashMap::new();
    for i in 0..sources {
        let items: Vec<Article> = (0..10)
            .map(|k| Article {
                id: format!("{}", 50_000_000 + i * 10 + k),
                url: format!("https://nguon{i}.example.vn/tin/{k}.html"),
                title: format!("Tin số {k} của nguồn {i}: huyện Kon Rẫy ra quân làm đường nông thôn mới"),
                summary: "Người dân góp công, góp đất làm đường bê tông liên thôn.".into(),
                body: "Người dân góp công, góp đất làm đường bê tông liên thôn, tạo điều kiện đi lại thuận lợi.".into(),
            })
            .collect();
        bodies.insert(format!("/s/{i}.xml"), (rss(&items), format!("\"e{i}\"")));
    }
    let server = FeedServer::start(bodies)?;
    let mut toml = String::from(
        "[storage]\ndata_dir = \"data\"\n[fetch]\nallow_private_networks = true\nconcurrency = 32\nper_host = 32\n",
    );
    for i in 0..sources {
        toml.push_str(&format!(
            "\n[[sources]]\nid = \"s{i}\"\nname = \"Nguồn {i}\"\nkind = \"feed\"\nurl = \"http://{}/s/{i}.xml\"\n",
            server.addr
        ));
    }
    let cfg = work.join("gomtin.toml");
    std::fs::write(&cfg, toml)?;
    let mut reports = Vec::new();
    for pass in ["first (all new)", "second (all 304)"] {
        let before = server.feeds.requests.load(Ordering::Relaxed);
        let nm_before = server.feeds.not_modified.load(Ordering::Relaxed);
        let (secs, peak, ok) = run_sampled(
            Command::new(&gomtin).arg("--config").arg(&cfg).arg("fetch"),
            None,
        )?;
        if !ok {
            return Err(format!("gomtin fetch failed in the {pass} pass").into());
        }
        let reqs = server.feeds.requests.load(Ordering::Relaxed) - before;
        reports.push(PassReport {
            pass: pass.to_string(),
            sources,
            seconds: secs,
            requests_per_s: reqs as f64 / secs,
            not_modified: server.feeds.not_modified.load(Ordering::Relaxed) - nm_before,
            peak_rss_mb: peak,
        });
    }
    if json {
        println!("{}", serde_json::to_string(&reports)?);
    } else {
        println!(
            "\n## Poll cycle ({sources} sources on one local server, `gomtin fetch`, concurrency 32)\n"
        );
        println!("| pass | wall time | requests/s | 304 answers | peak RSS |");
        println!("|---|---|---|---|---|");
        for r in &reports {
            println!(
                "| {} | {:.2} s | {:.0} | {} | {} |",
                r.pass,
                r.seconds,
                r.requests_per_s,
                r.not_modified,
                r.peak_rss_mb
                    .map(|m| format!("{m:.0} MB"))
                    .unwrap_or_else(|| "?".into())
            );
        }
    }
    Ok(())
}
