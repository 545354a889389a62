//! The web server of the real `gomtin serve` against hostile clients: slow connections
//! (slowloris, bounded: 1,500 connections under a 1,024 open-file limit), connection
//! floods from one address and from many, login redirects off the site, forged CSRF
//! cookies, what `/healthz` tells a stranger. Each test names the harm it prevents.

mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use support::TestConfig;
use support::daemon::Daemon;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Connections the attacker opens.
const ATTACK: usize = 1_500;

/// A config whose web server closes connections that are slow with their headers after
/// `header_timeout` (short, so the test is quick).
fn config(limits: &str) -> TestConfig {
    TestConfig::new(&format!(
        "[server.limits]\n{limits}\n\n[[sources]]\nid = \"tay\"\nname = \"Tự đăng\"\nkind = \"manual\"\n"
    ))
}

/// Raise this test process's own open-file limit so it can hold the attack's sockets
/// (`prlimit` from util-linux; root may raise the hard limit too). The soft limit after.
fn raise_own_fd_limit(want: u64) -> u64 {
    let pid = std::process::id().to_string();
    let _ = std::process::Command::new("prlimit")
        .args(["--pid", &pid, &format!("--nofile={want}:{want}")])
        .status();
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| {
                    l["Max open files".len()..]
                        .split_whitespace()
                        .next()
                        .map(str::to_string)
                })
        })
        .and_then(|s| s.parse().ok())
        .unwrap_or(1024)
}

/// A connection from `from` to the daemon.
async fn connect_from(from: Ipv4Addr, to: SocketAddr) -> std::io::Result<tokio::net::TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((from, 0)))?;
    socket.connect(to).await
}

/// One slowloris connection: the request head a byte every `every`, reconnecting (after a
/// pause) whenever the server closes it, until `stop`. Counts 503 refusals seen and
/// closes by the server.
async fn slow_client(
    from: Ipv4Addr,
    to: SocketAddr,
    every: Duration,
    stop: Arc<AtomicBool>,
    refused: Arc<AtomicUsize>,
    closed: Arc<AtomicUsize>,
) {
    let head = b"GET /?q=slow HTTP/1.1\r\nHost: gomtin\r\nUser-Agent: slowloris\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut s) = connect_from(from, to).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let mut buf = [0u8; 512];
        for b in head.iter() {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            // A refusal arrives at once: look for it before each byte.
            match tokio::time::timeout(every, s.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => {
                    closed.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Ok(Ok(n)) => {
                    if String::from_utf8_lossy(&buf[..n]).contains(" 503 ") {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    closed.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Err(_) => {}
            }
            if s.write_all(std::slice::from_ref(b)).await.is_err() {
                closed.fetch_add(1, Ordering::Relaxed);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `GET path` from 127.0.0.1 with a deadline: the status, or None when it did not answer.
fn probe(d: &Daemon, path: &str, within: Duration) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let addr: SocketAddr = d.addr().parse().ok()?;
    let mut s = std::net::TcpStream::connect_timeout(&addr, within).ok()?;
    s.set_read_timeout(Some(within)).ok()?;
    s.set_write_timeout(Some(within)).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: gomtin\r\n\r\n").ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).to_string();
    let code = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, text))
}

/// Harm prevented: 1,500 connections sending their headers a byte at a time, past the
/// daemon's 1,024 open-file limit, made `/healthz` time out for everyone — the server
/// never closed a connection too slow to send its headers. Now one address holds at most
/// `max_connections_per_client`, the rest are refused with a 503 at once, and the slow
/// ones are closed after `header_timeout`; everyone else is served throughout.
#[test]
fn slowloris_from_one_address_cannot_starve_the_others() {
    let own = raise_own_fd_limit(8192);
    let attack = if own >= (ATTACK as u64) + 200 {
        ATTACK
    } else {
        eprintln!("note: this process may open {own} files; attacking with fewer connections");
        (own as usize).saturating_sub(200).max(100)
    };
    let cfg = config("header_timeout = \"2s\"\nmax_connections_per_client = 64\n");
    let d = Daemon::start_with_fd_limit(support::gomtin_bin(), &cfg.path, 1024)
        .expect("gomtin serve with ulimit -n 1024");
    let to: SocketAddr = d.addr().parse().expect("addr");
    let (stop, refused, closed) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    for _ in 0..attack {
        rt.spawn(slow_client(
            Ipv4Addr::new(127, 0, 0, 2),
            to,
            Duration::from_millis(300),
            stop.clone(),
            refused.clone(),
            closed.clone(),
        ));
    }
    // For 8 seconds (four header timeouts), everyone else is answered within 2 seconds.
    let started = Instant::now();
    let mut worst = Duration::ZERO;
    let mut probes = 0;
    while started.elapsed() < Duration::from_secs(8) {
        let t = Instant::now();
        let answer = probe(&d, "/healthz", Duration::from_secs(2));
        let took = t.elapsed();
        worst = worst.max(took);
        probes += 1;
        assert!(
            matches!(answer, Some((200, _))),
            "after {:?} /healthz answered {answer:?} in {took:?}\n{}",
            started.elapsed(),
            d.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    stop.store(true, Ordering::Relaxed);
    eprintln!(
        "{probes} probes, slowest {worst:?}; {} refusals (503) and {} closes seen by {attack} slow clients",
        refused.load(Ordering::Relaxed),
        closed.load(Ordering::Relaxed)
    );
    assert!(
        refused.load(Ordering::Relaxed) >= attack / 2,
        "connections over the per-address cap get a 503"
    );
    assert!(
        closed.load(Ordering::Relaxed) > attack,
        "slow connections are closed (and the attacker came back)"
    );
    drop(rt);
    assert!(d.health().is_ok(), "still alive: {}", d.stderr());
}

/// Harm prevented: a flood from many addresses (each under the per-address cap) took
/// every file descriptor; accept errors then ended or spun the server. Now the total is
/// capped below `ulimit -n` (max_connections = 5,000 is lowered to fit 1,024), the
/// connections over it get a clear 503, and the server is back as soon as the slow ones
/// are closed.
#[test]
fn a_flood_from_many_addresses_gets_a_clear_503_and_passes() {
    let own = raise_own_fd_limit(8192);
    let attack = ATTACK.min((own as usize).saturating_sub(200)).max(100);
    let cfg = config(
        "header_timeout = \"2s\"\nmax_connections = 5000\nmax_connections_per_client = 64\n",
    );
    let d = Daemon::start_with_fd_limit(support::gomtin_bin(), &cfg.path, 1024)
        .expect("gomtin serve with ulimit -n 1024");
    assert!(
        d.stderr().contains("max_connections lowered"),
        "the cap is fitted under the open-file limit: {}",
        d.stderr()
    );
    let to: SocketAddr = d.addr().parse().expect("addr");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // Idle connections (nothing sent) from 40 addresses, 40 each.
    let held = rt.block_on(async {
        let mut held = Vec::new();
        for i in 0..attack {
            let from = Ipv4Addr::new(127, 0, 1, (i % 40) as u8 + 2);
            if let Ok(s) = connect_from(from, to).await {
                held.push(s);
            }
        }
        held
    });
    // Over the cap: a prompt, clear 503 (never a hang), and the daemon stays up.
    let t = Instant::now();
    let answer = probe(&d, "/healthz", Duration::from_secs(3));
    let took = t.elapsed();
    match &answer {
        Some((503, text)) => assert!(text.contains("quá tải"), "{text}"),
        Some((200, _)) => {}
        other => panic!("over the cap: {other:?} after {took:?}\n{}", d.stderr()),
    }
    assert!(took < Duration::from_secs(3), "{took:?}");
    let refused_seen = rt.block_on(async {
        let mut reads = tokio::task::JoinSet::new();
        for mut s in held {
            reads.spawn(async move {
                let mut buf = [0u8; 256];
                matches!(
                    tokio::time::timeout(Duration::from_millis(50), s.read(&mut buf)).await,
                    Ok(Ok(k)) if String::from_utf8_lossy(&buf[..k]).contains(" 503 ")
                )
            });
        }
        let mut n = 0;
        while let Some(r) = reads.join_next().await {
            n += usize::from(r.unwrap_or(false));
        }
        n
    });
    assert!(refused_seen > 0, "some of the flood was refused with a 503");
    // The held connections were closed by their header timeout (or dropped above): the
    // server answers everyone again.
    let deadline = Instant::now() + Duration::from_secs(6);
    loop {
        if let Some((200, _)) = probe(&d, "/healthz", Duration::from_secs(2)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "back after the flood\n{}",
            d.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Harm prevented: a connection that sends nothing, or half a request head, held its
/// socket forever. It is closed after `header_timeout`; a kept-alive connection idle
/// after its answer likewise.
#[test]
fn connections_slow_with_their_headers_are_closed() {
    let cfg = config("header_timeout = \"1s\"\n");
    let d = cfg.serve();
    let to: SocketAddr = d.addr().parse().expect("addr");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        for (what, send) in [
            ("nothing", &b""[..]),
            ("half a head", &b"GET /healthz HTTP/1.1\r\nHost: x\r\n"[..]),
        ] {
            let mut s = connect_from(Ipv4Addr::LOCALHOST, to)
                .await
                .expect("connect");
            s.write_all(send).await.expect("write");
            let t = Instant::now();
            let mut buf = Vec::new();
            let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
            let took = t.elapsed();
            assert!(read.is_ok(), "{what}: still open after 5 s");
            assert!(
                took >= Duration::from_millis(800) && took < Duration::from_secs(3),
                "{what}: closed after {took:?}"
            );
        }
        // Keep-alive: one answer, then silence.
        let mut s = connect_from(Ipv4Addr::LOCALHOST, to)
            .await
            .expect("connect");
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let t = Instant::now();
        let mut buf = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
        assert!(
            read.is_ok(),
            "idle kept-alive connection still open after 5 s"
        );
        assert!(String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 200"));
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    });
}

/// A daemon with one staff account (`lan` / `mat-khau-dai`) and its API token.
fn daemon_with_staff() -> (TestConfig, Daemon, String) {
    let cfg = config("");
    cfg.cmd(&["users", "add", "lan", "--role", "staff", "--password-stdin"])
        .write_stdin("mat-khau-dai\n")
        .assert()
        .success();
    let token = cfg.stdout(&["users", "token", "lan"]).trim().to_string();
    let d = cfg.serve();
    (cfg, d, token)
}

/// POST /login with this cookie, form CSRF value and `next`; status and Location.
async fn log_in(
    base: &str,
    cookie: &str,
    csrf: &str,
    next: &str,
) -> (reqwest::StatusCode, Option<String>) {
    let r = support::web::client()
        .post(format!("{base}/login"))
        .header("Cookie", format!("gomtin_login={cookie}"))
        .form(&[
            ("name", "lan"),
            ("password", "mat-khau-dai"),
            ("csrf", csrf),
            ("next", next),
        ])
        .send()
        .await
        .expect("POST /login");
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (r.status(), location)
}

/// Harm prevented: `next=/\t/evil.example/` came back as `Location: /\t/evil.example/`,
/// which browsers read as `//evil.example/` — an open redirect off the login form — and a
/// `next` with CR/LF answered 500. Every such `next` now lands on `/`; a real path is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_never_redirects_off_the_site() {
    let (_cfg, d, _) = daemon_with_staff();
    let base = d.url("");
    let anon = support::web::Session::anonymous(&base);
    for (next, want) in [
        ("/\t/evil.example/", "/"),
        ("/\n/evil.example/", "/"),
        ("/\r\nSet-Cookie: pwned=1", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("/.//evil.example/", "/"),
        ("/a/..//evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/ /evil.example", "/"),
        (
            "/items/7?q=n%C3%B4ng+th%C3%B4n#top",
            "/items/7?q=n%C3%B4ng+th%C3%B4n",
        ),
    ] {
        let form = anon.login_form().await;
        let (status, location) = log_in(&base, &form.cookie, &form.csrf, next).await;
        assert_eq!(status, reqwest::StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(location.as_deref(), Some(want), "{next:?}");
    }
    // The form itself never echoes an off-site `next` either.
    let html = anon.text("/login?next=%2F%09%2Fevil.example%2F").await;
    assert!(!html.contains("evil.example"), "{html}");
}

/// Harm prevented: the login form's CSRF cookie was accepted whatever its value, as long
/// as the form field equalled it — so a value planted by someone else (a sibling
/// subdomain, a proxy) logged the victim into the attacker's account. Only a value this
/// server issued (signed, under an hour old) counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_csrf_value_must_be_one_the_server_issued() {
    let (_cfg, d, _) = daemon_with_staff();
    let base = d.url("");
    for planted in [
        "a".repeat(64),
        "1700000000.0123456789abcdef0123456789abcdef.00".to_string(),
        "x".to_string(),
    ] {
        let (status, _) = log_in(&base, &planted, &planted, "/").await;
        assert_eq!(status, reqwest::StatusCode::FORBIDDEN, "{planted}");
    }
    // A genuine one, altered by one character, is refused; unaltered it works.
    let form = support::web::Session::anonymous(&base).login_form().await;
    let mut altered = form.cookie.clone();
    let last = altered.pop().expect("char");
    altered.push(if last == '0' { '1' } else { '0' });
    let (status, _) = log_in(&base, &altered, &altered, "/").await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN);
    let (status, _) = log_in(&base, &form.cookie, &form.csrf, "/").await;
    assert_eq!(status, reqwest::StatusCode::SEE_OTHER);
}

/// Harm prevented: the public `/healthz` showed every failing source's id and error text
/// (internal addresses, the office's source list) to anyone. A stranger now sees counts;
/// staff (a session or an API token) see which sources fail and why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_shows_counts_to_strangers_and_details_to_staff() {
    let cfg = config("");
    cfg.append(&support::feed_source(
        "hong",
        "http://127.0.0.1:9/khong-co.xml",
    ));
    cfg.cmd(&["users", "add", "lan", "--role", "staff", "--password-stdin"])
        .write_stdin("mat-khau-dai\n")
        .assert()
        .success();
    let token = cfg.stdout(&["users", "token", "lan"]).trim().to_string();
    let d = cfg.serve();
    let h = d
        .wait_health(Duration::from_secs(30), |h| h["sources_failing"] == 1)
        .expect("the broken source fails");
    assert!(h.get("failing").is_none(), "no details for strangers: {h}");
    assert!(!h.to_string().contains("127.0.0.1:9"), "{h}");
    for key in [
        "status",
        "items",
        "index_documents",
        "index_lag",
        "sources",
        "sources_failing",
    ] {
        assert!(h.get(key).is_some(), "{key} in {h}");
    }
    let staff = support::web::Session::bearer(&d.url(""), &token);
    let h = staff.json("/healthz").await;
    assert_eq!(h["failing"][0]["id"], "hong", "{h}");
    assert!(
        h["failing"][0]["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{h}"
    );
    let anon = support::web::Session::bearer(&d.url(""), "khong-phai-ma-that");
    assert!(anon.json("/healthz").await.get("failing").is_none());
}
