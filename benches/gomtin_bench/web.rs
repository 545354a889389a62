//! Web: `/api/search` under load — 16 concurrent connections for a fixed time against the
//! real `gomtin serve` on an existing data folder, authenticated with an API token made by
//! `gomtin users add` / `gomtin users token`; throughput, latency percentiles and the
//! daemon's resident memory sampled during the run. A 503 from the search gate (the
//! server too busy, with `Retry-After`) is counted apart from errors, and the connection
//! that got it waits as `Retry-After` says, as a well-behaved client would; requests/s
//! and the first percentiles are those of answered (200) searches, then of all answers.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::poll::{gomtin_binary, start_serve};
use crate::server::{peak_rss_mb, rss_mb};

const QUERIES: &[&str] = &[
    "nong thon moi",
    "tai nạn giao thông",
    "bao so 1",
    "\"ca do bong da\"",
    "giá xăng",
    // The ingest stage's data folder (what `all` serves) has one source per feed.
    "source:f1 hoc sinh",
    "ha noi -\"giao thong\"",
    "Tây Nguyên",
    "viet nam",
    "ebola",
];

#[derive(Serialize)]
pub struct WebReport {
    pub documents: Option<u64>,
    pub connections: usize,
    pub seconds: f64,
    /// Answered searches (200).
    pub requests: usize,
    /// Searches the server refused as too busy (503 with `Retry-After`).
    pub rejected: usize,
    /// Anything else: a failed connection, another status.
    pub errors: usize,
    /// Answered (200) searches per second.
    pub requests_per_s: f64,
    /// Of the answered (200) searches.
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Of every answer, 200 and 503.
    pub all_p50_ms: f64,
    pub all_p99_ms: f64,
    pub serve_rss_max_mb: Option<f64>,
    pub serve_peak_rss_mb: Option<f64>,
    /// `[server.limits] search_cache` as served (None: the default).
    pub search_cache: Option<usize>,
}

/// What one connection saw: latencies of answered and refused searches, other failures.
#[derive(Default)]
struct Tally {
    answered: Vec<f64>,
    rejected: Vec<f64>,
    errors: usize,
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[(((v.len() - 1) as f64) * p).round() as usize]
}

/// `search_cache`: the `[server.limits] search_cache` of the served config (None: the
/// default, recent pages kept; `Some(0)`: every request searches).
pub fn run(
    data_dir: &Path,
    work: &Path,
    secs: u64,
    search_cache: Option<usize>,
    json: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(work)?;
    let gomtin = gomtin_binary()?;
    let cfg = work.join("web.toml");
    let mut toml = format!("[storage]\ndata_dir = \"{}\"\n", data_dir.display());
    if let Some(n) = search_cache {
        toml.push_str(&format!("[server.limits]\nsearch_cache = {n}\n"));
    }
    std::fs::write(&cfg, toml)?;
    let mut add = Command::new(&gomtin)
        .arg("--config")
        .arg(&cfg)
        .args([
            "users",
            "add",
            "bench",
            "--role",
            "staff",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    if let Some(mut stdin) = add.stdin.take() {
        writeln!(stdin, "mat-khau-do-hieu-nang")?;
    }
    add.wait()?;
    let token = String::from_utf8(
        Command::new(&gomtin)
            .arg("--config")
            .arg(&cfg)
            .args(["users", "token", "bench"])
            .output()?
            .stdout,
    )?
    .trim()
    .to_string();
    if token.is_empty() {
        return Err("could not create an API token (is the web app built in?)".into());
    }
    let mut serve = start_serve(&cfg)?;
    let (pid, addr) = (serve.pid(), serve.addr().to_string());
    let connections = 16;
    let stop = Arc::new(AtomicBool::new(false));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let started = Instant::now();
    let sampler_stop = stop.clone();
    let sampler = std::thread::spawn(move || {
        let mut max: Option<f64> = None;
        while !sampler_stop.load(Ordering::Relaxed) {
            if let Some(m) = rss_mb(pid) {
                max = Some(max.map_or(m, |x: f64| x.max(m)));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        max
    });
    let tally = rt.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .build()?;
        let mut tasks = tokio::task::JoinSet::new();
        for c in 0..connections {
            let (client, addr, token, stop) =
                (client.clone(), addr.clone(), token.clone(), stop.clone());
            tasks.spawn(async move {
                let mut tally = Tally::default();
                let mut i = c;
                while !stop.load(Ordering::Relaxed) {
                    let q = QUERIES[i % QUERIES.len()];
                    i += 1;
                    let t = Instant::now();
                    let mut url = match url::Url::parse(&format!("http://{addr}/api/search")) {
                        Ok(u) => u,
                        Err(_) => break,
                    };
                    url.query_pairs_mut()
                        .append_pair("q", q)
                        .append_pair("limit", "10");
                    let r = client.get(url).bearer_auth(&token).send().await;
                    match r {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            tally.answered.push(t.elapsed().as_secs_f64() * 1000.0);
                        }
                        Ok(r) if r.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE => {
                            let wait = r
                                .headers()
                                .get(reqwest::header::RETRY_AFTER)
                                .and_then(|v| v.to_str().ok())
                                .and_then(|v| v.parse::<u64>().ok());
                            let _ = r.bytes().await;
                            tally.rejected.push(t.elapsed().as_secs_f64() * 1000.0);
                            match wait {
                                Some(w) => tokio::time::sleep(Duration::from_secs(w)).await,
                                None => tally.errors += 1,
                            }
                        }
                        _ => tally.errors += 1,
                    }
                }
                tally
            });
        }
        tokio::time::sleep(Duration::from_secs(secs)).await;
        stop.store(true, Ordering::Relaxed);
        let mut all = Tally::default();
        while let Some(Ok(t)) = tasks.join_next().await {
            all.answered.extend(t.answered);
            all.rejected.extend(t.rejected);
            all.errors += t.errors;
        }
        Ok::<_, reqwest::Error>(all)
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    let rss_max = sampler.join().unwrap_or(None);
    let peak = peak_rss_mb(pid);
    let health = serve.health().ok();
    serve.terminate(Duration::from_secs(30))?;
    let Tally {
        mut answered,
        rejected,
        errors,
    } = tally;
    let mut every: Vec<f64> = answered.iter().chain(&rejected).copied().collect();
    let report = WebReport {
        documents: health.and_then(|h| h["index_documents"].as_u64()),
        connections,
        seconds: elapsed,
        requests: answered.len(),
        rejected: rejected.len(),
        errors,
        requests_per_s: answered.len() as f64 / elapsed,
        p50_ms: pct(&mut answered, 0.5),
        p99_ms: pct(&mut answered, 0.99),
        all_p50_ms: pct(&mut every, 0.5),
        all_p99_ms: pct(&mut every, 0.99),
        serve_rss_max_mb: rss_max,
        serve_peak_rss_mb: peak,
        search_cache,
    };
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "\n## Web: /api/search, {} connections for {:.0} s ({} documents; recent pages kept: {})\n",
            connections,
            report.seconds,
            report
                .documents
                .map(|d| d.to_string())
                .unwrap_or_else(|| "?".into()),
            match search_cache {
                None => "the default".to_string(),
                Some(0) => "none, every request searches".to_string(),
                Some(n) => n.to_string(),
            }
        );
        println!(
            "| answered (200) | busy (503) | errors | requests/s (200) | p50 (200) | p99 (200) | p50 (all) | p99 (all) | serve RSS max during run | serve peak RSS |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|");
        println!(
            "| {} | {} | {} | {:.0} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {} | {} |",
            report.requests,
            report.rejected,
            report.errors,
            report.requests_per_s,
            report.p50_ms,
            report.p99_ms,
            report.all_p50_ms,
            report.all_p99_ms,
            report
                .serve_rss_max_mb
                .map(|m| format!("{m:.0} MB"))
                .unwrap_or_else(|| "?".into()),
            report
                .serve_peak_rss_mb
                .map(|m| format!("{m:.0} MB"))
                .unwrap_or_else(|| "?".into())
        );
    }
    Ok(())
}
