//! Memory of the daemon: `gomtin serve` started on an existing data folder (no sources to
//! fetch, so it stays idle), its resident memory read from /proc after start-up and a few
//! warm-up searches.

use std::path::Path;
use std::time::Duration;

use crate::poll::start_serve;
use crate::server::{peak_rss_mb, rss_mb};

pub fn run(data_dir: &Path, work: &Path, json: bool) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(work)?;
    let cfg = work.join("serve.toml");
    std::fs::write(
        &cfg,
        format!("[storage]\ndata_dir = \"{}\"\n", data_dir.display()),
    )?;
    let mut serve = start_serve(&cfg)?;
    std::thread::sleep(Duration::from_secs(3));
    let pid = serve.pid();
    let (rss, peak) = (rss_mb(pid), peak_rss_mb(pid));
    serve.terminate(Duration::from_secs(30))?;
    if json {
        println!(
            "{}",
            serde_json::json!({"serve_idle_rss_mb": rss, "serve_idle_peak_rss_mb": peak})
        );
    } else {
        println!("\n## Memory of `gomtin serve`, idle on this data folder\n");
        println!(
            "RSS {} MB (peak {} MB)",
            rss.map(|m| format!("{m:.0}")).unwrap_or_else(|| "?".into()),
            peak.map(|m| format!("{m:.0}"))
                .unwrap_or_else(|| "?".into())
        );
    }
    Ok(())
}
