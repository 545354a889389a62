//! Web: `/api/search` under load — 16 concurrent connections for a fixed time against the
//! real `gomtin serve` on an existing data folder, authenticated with an API token made by
//! `gomtin users add` / `gomtin users token`; throughput, latency percentiles and the
//! daemon's resident memory sampled during the run.

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
    pub requests: usize,
    pub errors: usize,
    pub requests_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub serve_rss_max_mb: Option<f64>,
    pub serve_peak_rss_mb: Option<f64>,
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[(((v.len() - 1) as f64) * p).round() as usize]
}

pub fn run(
    data_dir: &Path,
    work: &Path,
    secs: u64,
    json: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(work)?;
    let gomtin = gomtin_binary()?;
    let cfg = work.join("web.toml");
    std::fs::write(
        &cfg,
        format!("[storage]\ndata_dir = \"{}\"\n", data_dir.display()),
    )?;
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
    let (mut lat, errors) = rt.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .build()?;
        let mut tasks = tokio::task::JoinSet::new();
        for c in 0..connections {
            let (client, addr, token, stop) =
                (client.clone(), addr.clone(), token.clone(), stop.clone());
            tasks.spawn(async move {
                let mut lat = Vec::new();
                let mut errors = 0usize;
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
                            lat.push(t.elapsed().as_secs_f64() * 1000.0);
                        }
                        _ => errors += 1,
                    }
                }
                (lat, errors)
            });
        }
        tokio::time::sleep(Duration::from_secs(secs)).await;
        stop.store(true, Ordering::Relaxed);
        let mut all = Vec::new();
        let mut errors = 0;
        while let Some(Ok((l, e))) = tasks.join_next().await {
            all.extend(l);
            errors += e;
        }
        Ok::<_, reqwest::Error>((all, errors))
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    let rss_max = sampler.join().unwrap_or(None);
    let peak = peak_rss_mb(pid);
    let health = serve.health().ok();
    serve.terminate(Duration::from_secs(30))?;
    let report = WebReport {
        documents: health.and_then(|h| h["index_documents"].as_u64()),
        connections,
        seconds: elapsed,
        requests: lat.len(),
        errors,
        requests_per_s: lat.len() as f64 / elapsed,
        p50_ms: pct(&mut lat, 0.5),
        p99_ms: pct(&mut lat, 0.99),
        serve_rss_max_mb: rss_max,
        serve_peak_rss_mb: peak,
    };
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "\n## Web: /api/search, {} connections for {:.0} s ({} documents)\n",
            connections,
            report.seconds,
            report
                .documents
                .map(|d| d.to_string())
                .unwrap_or_else(|| "?".into())
        );
        println!(
            "| requests | errors | requests/s | p50 | p99 | serve RSS max during run | serve peak RSS |"
        );
        println!("|---|---|---|---|---|---|---|");
        println!(
            "| {} | {} | {:.0} | {:.1} ms | {:.1} ms | {} | {} |",
            report.requests,
            report.errors,
            report.requests_per_s,
            report.p50_ms,
            report.p99_ms,
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
