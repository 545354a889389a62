//! A real SMTP server for digest tests: `smtp_sink.py` (Python's aiosmtpd) on 127.0.0.1,
//! started on a chosen port, steered through files (reject a recipient, cut the connection
//! after DATA), recording each message it accepts as raw bytes plus a parse by Python's
//! email package.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// One message the server accepted.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
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

/// The SMTP server process and its folder.
pub struct SmtpSink {
    pub port: u16,
    pub dir: PathBuf,
    child: Option<Child>,
    _tmp: tempfile::TempDir,
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
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
    /// A sink folder without a server yet (the server is "down").
    pub fn down(port: u16) -> SmtpSink {
        require_aiosmtpd();
        let tmp = tempfile::tempdir().expect("tmp");
        SmtpSink {
            port,
            dir: tmp.path().to_path_buf(),
            child: None,
            _tmp: tmp,
        }
    }

    /// Start a server on a free port.
    pub fn start() -> SmtpSink {
        let mut s = SmtpSink::down(free_port());
        s.up();
        s
    }

    /// Start the server (again) on this sink's port and folder.
    pub fn up(&mut self) {
        assert!(self.child.is_none(), "already up");
        let mut child = Command::new("python3")
            .arg(script())
            .args(["--port", &self.port.to_string(), "--dir"])
            .arg(&self.dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start python3 smtp_sink.py");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read READY");
        assert!(
            line.starts_with("READY"),
            "smtp_sink.py did not start (got {line:?}); is aiosmtpd installed?"
        );
        self.child = Some(child);
    }

    /// Stop the server (connections are refused until `up`).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
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
        format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"Ban Tuyên giáo <tuyengiao@example.vn>\"\ntimeout = \"5s\"\n\n",
            self.port
        )
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}
