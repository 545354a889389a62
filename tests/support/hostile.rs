//! A misbehaving HTTP server for the hostile suite (`tests/hostile_*.rs`): a raw tokio
//! listener on 127.0.0.1 that reads each request's head and then does what the test told
//! it to do on that path — answer properly, stall, drip a byte at a time, reset the
//! connection, lie about the body's length, send a compression bomb, send garbage,
//! redirect in a loop or to another scheme. Unlike `FixtureServer` (axum underneath),
//! nothing here keeps it honest on the wire. Every request is recorded.

use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does with a request on one path.
#[derive(Clone, Debug)]
pub enum Act {
    /// A well-formed response (`Content-Length` set, connection closed after it).
    Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Reads the request and never answers (the connection stays open).
    Stall,
    /// Sends the status line and headers of `Reply`, then nothing more.
    StallAfterHeaders(Box<Act>),
    /// Sends the whole of `Reply` (head included) `bytes` at a time, one piece every `every`.
    Drip {
        reply: Box<Act>,
        bytes: usize,
        every: Duration,
    },
    /// Resets the connection (RST) as soon as the request is read.
    Reset,
    /// Sends the head and the first `after` bytes of the body, then resets.
    ResetMidBody { reply: Box<Act>, after: usize },
    /// Claims `Content-Length: claimed` but sends only `body`, then closes.
    ShortBody { claimed: usize, body: Vec<u8> },
    /// A chunked body that never ends (the same chunk forever).
    Endless {
        content_type: String,
        chunk: Vec<u8>,
    },
    /// Bytes that are not HTTP at all.
    Garbage(Vec<u8>),
}

impl Act {
    /// `200 OK` with this body and content type.
    pub fn ok(body: impl Into<Vec<u8>>, content_type: &str) -> Act {
        Act::Reply {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }

    /// A bodiless answer with this status and headers.
    pub fn status(status: u16, headers: &[(&str, &str)]) -> Act {
        Act::Reply {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: Vec::new(),
        }
    }

    /// A redirect to `location`.
    pub fn redirect(location: &str) -> Act {
        Act::status(302, &[("Location", location)])
    }

    /// This reply with one more header.
    pub fn with_header(self, name: &str, value: &str) -> Act {
        match self {
            Act::Reply {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.to_string(), value.to_string()));
                Act::Reply {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }

    /// A body of `size` zero bytes compressed with `encoding` (`gzip`, `deflate`, `br`),
    /// sent with that `Content-Encoding`: a few KiB on the wire.
    pub fn bomb(encoding: &str, size: usize, content_type: &str) -> Act {
        Act::ok(compress(encoding, &vec![b' '; size]), content_type)
            .with_header("Content-Encoding", encoding)
    }

    /// The head and body bytes of a `Reply` (others have none).
    fn wire(&self) -> Vec<u8> {
        let Act::Reply {
            status,
            headers,
            body,
        } = self
        else {
            return Vec::new();
        };
        let mut out = format!("HTTP/1.1 {status} X\r\n").into_bytes();
        for (k, v) in headers {
            out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(body);
        out
    }

    fn head_len(&self) -> usize {
        let wire = self.wire();
        wire.windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(wire.len(), |p| p + 4)
    }
}

/// `data` compressed as `encoding` says.
pub fn compress(encoding: &str, data: &[u8]) -> Vec<u8> {
    match encoding {
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            e.write_all(data).expect("gzip");
            e.finish().expect("gzip")
        }
        "deflate" => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
            e.write_all(data).expect("deflate");
            e.finish().expect("deflate")
        }
        "br" => {
            let mut out = Vec::new();
            {
                let mut w = brotli::CompressorWriter::new(&mut out, 4096, 9, 22);
                w.write_all(data).expect("brotli");
            }
            out
        }
        other => panic!("unknown encoding {other}"),
    }
}

/// One request the server read.
#[derive(Clone, Debug)]
pub struct Hit {
    pub path: String,
    /// The request head as sent, lowercased header names kept as they came.
    pub head: String,
}

#[derive(Default)]
struct Shared {
    acts: Mutex<HashMap<String, Act>>,
    hits: Mutex<Vec<Hit>>,
}

/// The misbehaving server, on its own thread and runtime; stops when dropped.
pub struct HostileServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl HostileServer {
    pub fn start() -> HostileServer {
        let shared = Arc::new(Shared::default());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let s2 = shared.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                addr_tx.send(listener.local_addr().expect("addr")).ok();
                let accept = async {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        tokio::spawn(serve_one(stream, s2.clone()));
                    }
                };
                tokio::select! {
                    _ = accept => {}
                    _ = stop_rx => {}
                }
            });
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("hostile server up");
        HostileServer {
            addr,
            shared,
            _stop: stop_tx,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// What the server does on `path` from now on.
    pub fn on(&self, path: &str, act: Act) {
        self.shared
            .acts
            .lock()
            .expect("acts")
            .insert(path.to_string(), act);
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.shared.hits.lock().expect("hits").clone()
    }

    pub fn hits_to(&self, path: &str) -> usize {
        self.hits().iter().filter(|h| h.path == path).count()
    }
}

/// Read a request head (bounded), record it and act.
async fn serve_one(mut stream: TcpStream, shared: Arc<Shared>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .split('?')
        .next()
        .unwrap_or("/")
        .to_string();
    shared.hits.lock().expect("hits").push(Hit {
        path: path.clone(),
        head,
    });
    let act = shared.acts.lock().expect("acts").get(&path).cloned();
    let act = act.unwrap_or_else(|| Act::status(404, &[]));
    perform(&mut stream, &act).await;
}

async fn perform(stream: &mut TcpStream, act: &Act) {
    match act {
        Act::Reply { .. } => {
            let _ = stream.write_all(&act.wire()).await;
            let _ = stream.shutdown().await;
        }
        Act::Stall => tokio::time::sleep(Duration::from_secs(3600)).await,
        Act::StallAfterHeaders(reply) => {
            let wire = reply.wire();
            let _ = stream.write_all(&wire[..reply.head_len()]).await;
            let _ = stream.flush().await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Act::Drip {
            reply,
            bytes,
            every,
        } => {
            for piece in reply.wire().chunks((*bytes).max(1)) {
                if stream.write_all(piece).await.is_err() {
                    return;
                }
                let _ = stream.flush().await;
                tokio::time::sleep(*every).await;
            }
            let _ = stream.shutdown().await;
        }
        Act::Reset => {
            let _ = stream.set_zero_linger();
        }
        Act::ResetMidBody { reply, after } => {
            let wire = reply.wire();
            let end = (reply.head_len() + after).min(wire.len());
            let _ = stream.write_all(&wire[..end]).await;
            let _ = stream.flush().await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = stream.set_zero_linger();
        }
        Act::ShortBody { claimed, body } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {claimed}\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(body).await;
            let _ = stream.shutdown().await;
        }
        Act::Endless {
            content_type,
            chunk,
        } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
            );
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
            framed.extend_from_slice(chunk);
            framed.extend_from_slice(b"\r\n");
            while stream.write_all(&framed).await.is_ok() {}
        }
        Act::Garbage(bytes) => {
            let _ = stream.write_all(bytes).await;
            let _ = stream.shutdown().await;
        }
    }
}

/// An RSS document holding these `<item>` bodies (already XML).
pub fn rss(items: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>Báo thử</title><link>https://bao.example.vn/</link>{}</channel></rss>",
        items.concat()
    )
}

/// One RSS `<item>` with this guid, link, title and (escaped into CDATA) description.
pub fn item(guid: &str, link: &str, title: &str, description_html: &str) -> String {
    format!(
        "<item><guid isPermaLink=\"false\">{guid}</guid><link>{link}</link><title>{title}</title><description><![CDATA[{description_html}]]></description></item>"
    )
}
