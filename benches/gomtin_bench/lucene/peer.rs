//! The Lucene peer (`benches/lucene/`, a Java program behind `run.sh`) as the `lucene`
//! stage drives it: pick a build that works on this machine, index a JSONL file, replay a
//! query file in one mode, and read back its JSON lines. Its stderr goes to a log file in
//! the work folder; a failure quotes the log's last lines.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

/// The builds tried in order when none is named: Lucene 10.5.1 (the jars of a PyPI wheel,
/// Java 21+), then Debian's Lucene 8.8.1 (Java 17). See `benches/lucene/README.md`.
pub const SOURCES: &[&str] = &["pypi-lucene10", "debian"];

/// `benches/lucene` of this checkout.
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/lucene")
}

/// One usable build of the peer.
pub struct Peer {
    dir: PathBuf,
    pub source: String,
    logs: PathBuf,
}

/// The peer's `index` line.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct Indexed {
    pub lucene: String,
    pub java: String,
    pub docs: u64,
    pub seconds: f64,
    pub index_bytes: u64,
    pub segments: u64,
}

/// One query line of the peer's `search` output.
#[derive(Debug, Clone, Deserialize)]
pub struct QueryRun {
    pub q: String,
    pub total: i64,
    pub urls: Vec<String>,
    pub ms: Vec<f64>,
    #[serde(default)]
    pub facets: Option<std::collections::BTreeMap<String, u64>>,
}

/// The peer's closing `summary` line (the fields the stage reports).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Summary {
    pub slices: Option<u64>,
}

/// One replay of the query file in one mode.
pub struct SearchRun {
    pub queries: Vec<QueryRun>,
    pub summary: Summary,
}

/// How one replay runs.
pub struct Mode {
    pub threads: usize,
    /// Snippets and per-source counts (the work gomtin's search always does).
    pub full: bool,
    pub warmup: usize,
    pub repeat: usize,
}

impl Peer {
    /// The first build of `sources` that resolves and compiles. With `offline`, nothing is
    /// installed or downloaded (`LUCENE_OFFLINE=1`): what `all` uses, so that a machine
    /// without the jars skips the stage instead of fetching them.
    pub fn find(
        dir: &Path,
        sources: &[String],
        offline: bool,
        logs: &Path,
    ) -> Result<Peer, String> {
        if Command::new("java")
            .arg("-version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| !s.success())
            .unwrap_or(true)
        {
            return Err("no `java` on PATH".into());
        }
        if !dir.join("run.sh").exists() {
            return Err(format!("no peer at {}", dir.display()));
        }
        std::fs::create_dir_all(logs).map_err(|e| e.to_string())?;
        let mut why = Vec::new();
        for s in sources {
            let peer = Peer {
                dir: dir.to_path_buf(),
                source: s.clone(),
                logs: logs.to_path_buf(),
            };
            let mut c = peer.command(offline);
            c.arg("build");
            match peer.run(c, &format!("build-{s}")) {
                Ok(_) => return Ok(peer),
                Err(e) => why.push(format!("{s}: {}", e.lines().last().unwrap_or(""))),
            }
        }
        Err(format!(
            "no Lucene build works here{} ({})",
            if offline {
                " without installing (LUCENE_OFFLINE=1)"
            } else {
                ""
            },
            why.join("; ")
        ))
    }

    fn command(&self, offline: bool) -> Command {
        let mut c = Command::new(self.dir.join("run.sh"));
        c.env("LUCENE_SOURCE", &self.source);
        if offline {
            c.env("LUCENE_OFFLINE", "1");
        }
        c
    }

    /// Run `c`, its stderr into `logs/NAME.log`; its stdout, or the log's tail on failure.
    fn run(&self, mut c: Command, name: &str) -> Result<String, String> {
        let log = self.logs.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        c.stderr(file).stdout(Stdio::piped()).stdin(Stdio::null());
        let out = c.output().map_err(|e| format!("{}: {e}", name))?;
        if out.status.success() {
            return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
        }
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        Err(format!(
            "{name} failed ({}), see {}: {}",
            out.status,
            log.display(),
            tail.join(" | ")
        ))
    }

    /// Index `input` (JSONL, optionally gzipped) into `index`, body stored with offsets.
    pub fn index(&self, input: &Path, index: &Path) -> Result<Indexed, String> {
        let mut c = self.command(true);
        c.arg("index")
            .arg("--input")
            .arg(input)
            .arg("--index")
            .arg(index)
            .arg("--store-body");
        let out = self.run(c, "index")?;
        let line = out.lines().rev().find(|l| l.starts_with('{')).unwrap_or("");
        serde_json::from_str(line).map_err(|e| format!("index output {line:?}: {e}"))
    }

    /// Replay `queries` (one a line) on `index` in `mode`.
    pub fn search(&self, index: &Path, queries: &Path, mode: &Mode) -> Result<SearchRun, String> {
        let mut c = self.command(true);
        c.arg("search")
            .arg("--index")
            .arg(index)
            .arg("--queries")
            .arg(queries)
            .arg("--threads")
            .arg(mode.threads.to_string())
            .arg("--warmup")
            .arg(mode.warmup.to_string())
            .arg("--repeat")
            .arg(mode.repeat.to_string());
        if mode.full {
            c.arg("--facets").arg("--snippets");
        }
        let name = format!(
            "search-{}t-{}",
            mode.threads,
            if mode.full { "full" } else { "bare" }
        );
        let out = self.run(c, &name)?;
        let mut queries = Vec::new();
        let mut summary = Summary::default();
        for line in out.lines().filter(|l| l.starts_with('{')) {
            if let Some(s) = line.strip_prefix("{\"summary\":") {
                let s = s.strip_suffix('}').unwrap_or(s);
                summary = serde_json::from_str(s).map_err(|e| format!("summary {s:?}: {e}"))?;
            } else {
                queries.push(
                    serde_json::from_str(line).map_err(|e| format!("search line {line:?}: {e}"))?,
                );
            }
        }
        Ok(SearchRun { queries, summary })
    }
}
