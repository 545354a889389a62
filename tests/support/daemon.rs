//! The real `gomtin serve` as a child process: started on a free port (`--listen
//! 127.0.0.1:0`, the address read from the line serve prints once it listens), ready once
//! `/healthz` answers 200, stopped by SIGTERM (killed if still running when dropped), its
//! stdout and stderr kept for assertions and failure messages.
//!
//! Shared by the tests (`support::daemon`) and gomtin-bench (included with `#[path]`), so it
//! uses only std, serde_json and the binary path its caller gives: a test passes
//! `env!("CARGO_BIN_EXE_gomtin")`, the benchmark the binary built beside it. Requests go
//! over plain HTTP/1.0 on a std socket, so it works inside and outside a tokio runtime.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long serve may take to print its address (it first catches the index up).
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How long `/healthz` may take to answer once the address is printed.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `gomtin serve`.
pub struct Daemon {
    child: Child,
    addr: String,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

/// Copies `from` line by line into `into`; the first line also goes to `first`.
fn collect(
    from: impl Read + Send + 'static,
    into: Arc<Mutex<String>>,
    first: Option<mpsc::Sender<String>>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(from);
        let mut first = first;
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            if let Some(tx) = first.take() {
                let _ = tx.send(line.clone());
            }
            if let Ok(mut buf) = into.lock() {
                buf.push_str(&line);
            }
            line.clear();
        }
    })
}

impl Daemon {
    /// `gomtin --config CONFIG serve --listen 127.0.0.1:0`, ready when this returns.
    pub fn start(bin: &Path, config: &Path) -> io::Result<Daemon> {
        Self::start_with_env(bin, config, &[])
    }

    /// As `start`, with extra environment variables (e.g. `GOMTIN_LOG`).
    pub fn start_with_env(bin: &Path, config: &Path, env: &[(&str, &str)]) -> io::Result<Daemon> {
        Self::spawn(Command::new(bin), config, env)
    }

    /// As `start`, with the open-file limit (`ulimit -n`) of the daemon set to `nofile`
    /// (through `sh`, which then execs the binary: the pid stays the daemon's).
    pub fn start_with_fd_limit(bin: &Path, config: &Path, nofile: u64) -> io::Result<Daemon> {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!("ulimit -n {nofile} && exec \"$0\" \"$@\""))
            .arg(bin);
        Self::spawn(cmd, config, &[])
    }

    fn spawn(mut cmd: Command, config: &Path, env: &[(&str, &str)]) -> io::Result<Daemon> {
        cmd.arg("--config")
            .arg(config)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env_remove("GOMTIN_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn()?;
        let (stdout, stderr) = (Arc::default(), Arc::default());
        let (tx, rx) = mpsc::channel();
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(collect(out, Arc::clone(&stdout), Some(tx)));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(collect(err, Arc::clone(&stderr), None));
        }
        let mut daemon = Daemon {
            child,
            addr: String::new(),
            stdout,
            stderr,
            readers,
        };
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(line) => line,
            Err(_) => return Err(daemon.failed("printed no address")),
        };
        daemon.addr = line
            .split("http://")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .ok_or_else(|| daemon.failed(&format!("printed no address in {line:?}")))?
            .to_string();
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            match daemon.get("/healthz") {
                Ok((200, _)) => return Ok(daemon),
                Ok(_) | Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Ok((code, body)) => {
                    return Err(daemon.failed(&format!("/healthz answered {code}: {body}")));
                }
                Err(e) => return Err(daemon.failed(&format!("/healthz: {e}"))),
            }
        }
    }

    /// Stops the process and describes why it is not usable, with what it wrote.
    fn failed(&mut self, what: &str) -> io::Error {
        let _ = self.child.kill();
        let status = self.child.wait();
        self.join_readers();
        io::Error::other(format!(
            "gomtin serve {what} (exit: {status:?})\nstdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        ))
    }

    fn join_readers(&mut self) {
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What serve printed on stdout so far (all of it once it has exited).
    pub fn stdout(&self) -> String {
        self.stdout.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// What serve logged on stderr so far (all of it once it has exited).
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// A GET without credentials: status and body.
    pub fn get(&self, path: &str) -> io::Result<(u16, String)> {
        let mut s = TcpStream::connect(&self.addr)?;
        s.set_read_timeout(Some(Duration::from_secs(60)))?;
        write!(s, "GET {path} HTTP/1.0\r\nHost: {}\r\n\r\n", self.addr)?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw)?;
        let text = String::from_utf8_lossy(&raw);
        let (head, body) = text
            .split_once("\r\n\r\n")
            .ok_or_else(|| io::Error::other(format!("no HTTP head in {text:?}")))?;
        let code = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| io::Error::other(format!("no status in {head:?}")))?;
        Ok((code, body.to_string()))
    }

    /// `/healthz` as JSON; an error unless it answers 200 with JSON.
    pub fn health(&self) -> Result<serde_json::Value, String> {
        let (code, body) = self.get("/healthz").map_err(|e| format!("/healthz: {e}"))?;
        if code != 200 {
            return Err(format!("/healthz answered {code}: {body}"));
        }
        serde_json::from_str(&body).map_err(|e| format!("/healthz is not JSON ({e}): {body}"))
    }

    /// Polls `/healthz` until `done` holds for its JSON (every answer must be a 200 with
    /// JSON); the answer that satisfied it, or what went wrong with the last one seen.
    pub fn wait_health(
        &self,
        within: Duration,
        mut done: impl FnMut(&serde_json::Value) -> bool,
    ) -> Result<serde_json::Value, String> {
        let deadline = Instant::now() + within;
        loop {
            let v = self.health()?;
            if done(&v) {
                return Ok(v);
            }
            if Instant::now() >= deadline {
                return Err(format!("not within {within:?}; last /healthz: {v}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends `signal` (a `kill` argument such as `-TERM`) to the process.
    pub fn signal(&self, signal: &str) -> io::Result<()> {
        let status = Command::new("kill")
            .args([signal, &self.pid().to_string()])
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!("kill {signal} failed: {status}")))
        }
    }

    /// SIGTERM, then waits up to `within` for the exit (killed and an error after that).
    /// Its output is complete afterwards.
    pub fn terminate(&mut self, within: Duration) -> io::Result<ExitStatus> {
        self.signal("-TERM")?;
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait()? {
                self.join_readers();
                return Ok(status);
            }
            if Instant::now() >= deadline {
                return Err(self.failed(&format!("did not exit within {within:?} of SIGTERM")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL (a crash) and wait.
    pub fn kill(&mut self) -> io::Result<ExitStatus> {
        self.child.kill()?;
        let status = self.child.wait()?;
        self.join_readers();
        Ok(status)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
