//! A real SMTP server for digest tests: `smtp_sink.py` (Python's aiosmtpd) on 127.0.0.1,
//! on a port it binds itself and keeps (started "down", it refuses connections until told
//! to listen), optionally with STARTTLS or TLS from the first byte (a certificate from
//! `tests/fixtures/tls/`) and a required login; steered through files (reject or
//! temporarily refuse a recipient, cut the connection after DATA, answer slowly),
//! recording each MAIL FROM and each message it accepts as raw bytes plus a parse by
//! Python's email package.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// One message the server accepted.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// The connection was encrypted (STARTTLS or SMTPS).
    pub tls: bool,
    /// Who logged in (AUTH), if anyone.
    pub login: Option<String>,
    pub subject: String,
    pub from: String,
    pub to: String,
    pub message_id: String,
    pub content_type: String,
    pub header_names: Vec<String>,
    pub headers_ascii: bool,
    pub defects: Vec<String>,
    pub parts: Vec<Part>,
    #[serde(skip)]
    pub raw: Vec<u8>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct Part {
    pub content_type: String,
    pub charset: Option<String>,
    pub text: String,
}

impl Received {
    pub fn part(&self, content_type: &str) -> &str {
        self.parts
            .iter()
            .find(|p| p.content_type == content_type)
            .map(|p| p.text.as_str())
            .unwrap_or_else(|| panic!("no {content_type} part in {:?}", self.parts))
    }
}

/// How the server protects the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tls {
    None,
    /// STARTTLS offered, and required before MAIL.
    Starttls,
    /// TLS from the first byte (SMTPS).
    Implicit,
}

/// What the server is started with.
#[derive(Clone, Debug)]
pub struct SinkOptions {
    pub tls: Tls,
    /// AUTH required with these credentials (user, password).
    pub auth: Option<(String, String)>,
    /// Bound but not listening until `up` (connections refused).
    pub down: bool,
}

impl Default for SinkOptions {
    fn default() -> Self {
        SinkOptions {
            tls: Tls::None,
            auth: None,
            down: false,
        }
    }
}

/// The SMTP server process and its folder.
pub struct SmtpSink {
    pub port: u16,
    pub dir: PathBuf,
    child: Option<Child>,
    stdout: Option<BufReader<std::process::ChildStdout>>,
    _tmp: tempfile::TempDir,
}

/// The certificate files of `tests/fixtures/tls/` (a CA made for these tests only, and a
/// server certificate it signed for 127.0.0.1).
pub fn tls_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py")
}

/// Fail loudly when aiosmtpd is not installed (CI installs it in `.ci/run`).
pub fn require_aiosmtpd() {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "the digest tests need a real SMTP server: python3 with aiosmtpd. Install it with \
         `python3 -m pip install aiosmtpd` (as .ci/run does)."
    );
}

impl SmtpSink {
    /// A server on its own port that refuses connections until `up` (the port stays bound
    /// meanwhile, so nothing else can take it).
    pub fn down() -> SmtpSink {
        SmtpSink::with(SinkOptions {
            down: true,
            ..Default::default()
        })
    }

    /// A plain server on a free port, accepting at once.
    pub fn start() -> SmtpSink {
        SmtpSink::with(SinkOptions::default())
    }

    /// A server started with `opts`: ready (or bound, when `down`) when this returns.
    pub fn with(opts: SinkOptions) -> SmtpSink {
        require_aiosmtpd();
        let tmp = tempfile::tempdir().expect("tmp");
        let mut cmd = Command::new("python3");
        cmd.arg(script())
            .args(["--port", "0", "--dir"])
            .arg(tmp.path());
        match opts.tls {
            Tls::None => {}
            Tls::Starttls | Tls::Implicit => {
                cmd.args([
                    "--tls",
                    if opts.tls == Tls::Starttls {
                        "starttls"
                    } else {
                        "implicit"
                    },
                ])
                .arg("--cert")
                .arg(tls_fixture("server.pem"))
                .arg("--key")
                .arg(tls_fixture("server.key"));
            }
        }
        if let Some((user, password)) = &opts.auth {
            cmd.args(["--auth", &format!("{user}:{password}")]);
        }
        if opts.down {
            cmd.arg("--down");
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start python3 smtp_sink.py");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let ready = read_line(&mut stdout);
        let port = ready
            .strip_prefix("READY ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| {
                panic!("smtp_sink.py did not start (got {ready:?}); is aiosmtpd installed?")
            });
        let mut sink = SmtpSink {
            port,
            dir: tmp.path().to_path_buf(),
            child: Some(child),
            stdout: Some(stdout),
            _tmp: tmp,
        };
        if !opts.down {
            sink.wait_listening();
        }
        sink
    }

    fn wait_listening(&mut self) {
        let line = read_line(self.stdout.as_mut().expect("server running"));
        assert_eq!(line.trim(), "LISTENING", "smtp_sink.py did not listen");
    }

    /// Start accepting connections (a server started `down`).
    pub fn up(&mut self) {
        std::fs::write(self.dir.join("up"), "1").expect("up flag");
        self.wait_listening();
    }

    /// Stop the server for good (connections are refused; the port is released).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.stdout = None;
    }

    /// RCPT TO `address` gets a temporary refusal (450) while `on`.
    pub fn tempfail(&self, address: &str, on: bool) {
        let file = self.dir.join("tempfail");
        if on {
            std::fs::write(file, format!("{address}\n")).expect("write tempfail");
        } else {
            let _ = std::fs::remove_file(file);
        }
    }

    /// Each message is recorded (and answered) `secs` after its data arrives.
    pub fn slow_data(&self, secs: f64) {
        std::fs::write(self.dir.join("slow_data"), secs.to_string()).expect("slow_data");
    }

    /// Every MAIL FROM that reached the server, with whether the connection was encrypted
    /// (`"a@b tls=True"`).
    pub fn mail_log(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("mail_log"))
            .map(|t| t.lines().map(str::to_string).collect())
            .unwrap_or_default()
    }

    pub fn reject(&self, address: &str) {
        std::fs::write(self.dir.join("reject"), format!("{address}\n")).expect("write reject");
    }

    pub fn drop_after_data(&self, on: bool) {
        let flag = self.dir.join("drop_after_data");
        if on {
            std::fs::write(flag, "1").expect("flag");
        } else {
            let _ = std::fs::remove_file(flag);
        }
    }

    /// Every message accepted so far, in arrival order.
    pub fn messages(&self) -> Vec<Received> {
        let msgs = self.dir.join("msgs");
        let mut names: Vec<PathBuf> = std::fs::read_dir(&msgs)
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
            .into_iter()
            .map(|p| {
                let mut r: Received =
                    serde_json::from_slice(&std::fs::read(&p).expect("read json")).expect("json");
                r.raw = std::fs::read(p.with_extension("eml")).expect("read eml");
                r
            })
            .collect()
    }

    /// The `[smtp]` block for this server.
    pub fn config(&self) -> String {
        self.config_with("security = \"none\"\n")
    }

    /// The `[smtp]` block for this server with `keys` (e.g. `security`, `ca_file`,
    /// `username`, `password_env`) instead of the plain `security = "none"`.
    pub fn config_with(&self, keys: &str) -> String {
        format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {}\n{keys}from = \"Ban Tuyên giáo <tuyengiao@example.vn>\"\ntimeout = \"5s\"\n\n",
            self.port
        )
    }
}

fn read_line(from: &mut impl BufRead) -> String {
    let mut line = String::new();
    from.read_line(&mut line).expect("read smtp_sink.py output");
    line
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}
