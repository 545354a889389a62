//! Errors of every pipeline stage in one `#[non_exhaustive]` enum whose variants carry
//! their context (which file, which source, which URL), so a message printed once by
//! `main` tells the admin what failed and where. User-facing text is Vietnamese with the
//! technical detail kept verbatim; `kind()` gives a stable English tag for logs and health.

use std::path::PathBuf;

/// The crate-wide result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in gomtin, with enough context to act on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration file could not be read.
    #[error("không đọc được tệp cấu hình {path}: {source}")]
    ConfigRead {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The configuration file is not valid (syntax, unknown key, bad value).
    #[error("cấu hình {path} không hợp lệ: {message}")]
    ConfigInvalid { path: PathBuf, message: String },
    /// A network-level failure talking to a source (DNS, connect, TLS, timeout).
    #[error("không tải được {url}: {message}")]
    Network { url: String, message: String },
    /// The server answered with an HTTP error status.
    #[error("{url} trả về mã HTTP {status}")]
    HttpStatus {
        url: String,
        status: u16,
        /// Seconds the server asked us to wait (Retry-After), if any.
        retry_after: Option<u64>,
    },
    /// The address is private or loopback and `allow_private_networks` is off.
    #[error(
        "từ chối tải {url}: địa chỉ mạng nội bộ ({addr}); đặt [fetch] allow_private_networks = true nếu đây là chủ ý"
    )]
    PrivateAddress { url: String, addr: String },
    /// The response body exceeded the configured cap.
    #[error("{url}: nội dung vượt quá giới hạn {limit} byte")]
    BodyTooLarge { url: String, limit: u64 },
    /// The URL is malformed or uses an unsupported scheme.
    #[error("địa chỉ không hợp lệ {url}: {message}")]
    BadUrl { url: String, message: String },
    /// The bytes fetched are not a feed we can parse.
    #[error("không phân tích được nguồn tin {url}: {message}")]
    FeedParse { url: String, message: String },
    /// Reading a local file source failed.
    #[error("không đọc được tệp {path}: {source}")]
    LocalFile {
        path: PathBuf,
        source: std::io::Error,
    },
    /// SQLite failed.
    #[error("lỗi cơ sở dữ liệu: {0}")]
    Store(#[from] rusqlite::Error),
    /// The tantivy index failed.
    #[error("lỗi chỉ mục tìm kiếm: {0}")]
    Index(String),
    /// The search query could not be understood.
    #[error("câu tìm kiếm không hợp lệ: {0}")]
    Query(String),
    /// Something referred to a source id that does not exist.
    #[error("không có nguồn tin nào mã `{0}`")]
    UnknownSource(String),
    /// Another file-system operation failed.
    #[error("lỗi tệp {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Another gomtin process holds the data folder.
    #[error(
        "thư mục dữ liệu {path} đang được một tiến trình gomtin khác sử dụng (gomtin serve đang chạy?); dừng tiến trình đó hoặc dùng thư mục dữ liệu khác"
    )]
    Locked { path: PathBuf },
    /// The web server could not listen.
    #[error("không mở được cổng {addr}: {message}")]
    Listen { addr: String, message: String },
    /// A page source's CSS selector matched nothing (layout changed?) or is invalid.
    #[error("{message}")]
    Selector { url: String, message: String },
    /// An article page had no readable main content.
    #[error("không trích được nội dung bài viết {url}: {message}")]
    Article { url: String, message: String },
    /// robots.txt of the site does not let gomtin fetch this page.
    #[error(
        "robots.txt của trang không cho phép tải {url}; nếu trang đồng ý cho đọc, đặt obey_robots = false cho nguồn này"
    )]
    Robots { url: String },
    /// Parsing one fetched body took longer than its time budget (see `offload`).
    #[error("phân tích {url} mất quá {seconds} giây nên bị dừng; lần tải sau sẽ thử lại")]
    TooSlow { url: String, seconds: u64 },
    /// The parsing code panicked on this input (a bug, caught so that only this source
    /// fails; see `offload`).
    #[error("lỗi nội bộ khi phân tích {url}: {message}")]
    Panic { url: String, message: String },
    /// A background task failed to run to completion.
    #[error("tác vụ nền thất bại: {0}")]
    Task(String),
    /// An account operation was refused (unknown user, duplicate name, bad password input).
    #[error("tài khoản: {0}")]
    User(String),
    /// One field of an entry sent by a form or the API is wrong (`field` names its key).
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// What was asked for would clash with what exists (an id already taken).
    #[error("{0}")]
    Conflict(String),
    /// What was asked about does not exist (a source, topic, digest or account).
    #[error("{0}")]
    NotFound(String),
    /// The caller may not do this (another person's account, an admin's action).
    #[error("{0}")]
    Forbidden(String),
}

impl Error {
    /// A short, stable, English tag for logs, health records and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::ConfigRead { .. } | Error::ConfigInvalid { .. } => "config",
            Error::Network { .. } => "network",
            Error::HttpStatus { .. } => "http_status",
            Error::PrivateAddress { .. } => "private_address",
            Error::BodyTooLarge { .. } => "body_too_large",
            Error::BadUrl { .. } => "bad_url",
            Error::FeedParse { .. } => "parse",
            Error::LocalFile { .. } => "local_file",
            Error::Store(_) => "store",
            Error::Index(_) => "index",
            Error::Query(_) => "query",
            Error::UnknownSource(_) => "unknown_source",
            Error::Io { .. } => "io",
            Error::Selector { .. } => "selector",
            Error::Article { .. } => "article",
            Error::TooSlow { .. } => "too_slow",
            Error::Panic { .. } => "panic",
            Error::Task(_) => "task",
            Error::Locked { .. } => "locked",
            Error::Robots { .. } => "robots",
            Error::Listen { .. } => "listen",
            Error::User(_) => "user",
            Error::Invalid { .. } => "invalid",
            Error::Conflict(_) => "conflict",
            Error::NotFound(_) => "not_found",
            Error::Forbidden(_) => "forbidden",
        }
    }

    /// True when the disk (of the database or the index) is full.
    pub fn is_disk_full(&self) -> bool {
        const ENOSPC: i32 = 28;
        match self {
            Error::Store(e) => e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull),
            Error::Io { source, .. } | Error::LocalFile { source, .. } => {
                source.raw_os_error() == Some(ENOSPC)
            }
            Error::Index(msg) => {
                msg.contains("No space left on device") || msg.contains("os error 28")
            }
            _ => false,
        }
    }

    /// True for errors caused by the configuration or the command line (exit code 2).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::ConfigRead { .. }
                | Error::ConfigInvalid { .. }
                | Error::UnknownSource(_)
                | Error::Query(_)
                | Error::User(_)
                | Error::Invalid { .. }
                | Error::Conflict(_)
                | Error::NotFound(_)
                | Error::Forbidden(_)
        )
    }
}

impl From<tantivy::TantivyError> for Error {
    fn from(e: tantivy::TantivyError) -> Self {
        Error::Index(e.to_string())
    }
}

impl From<tantivy::directory::error::OpenDirectoryError> for Error {
    fn from(e: tantivy::directory::error::OpenDirectoryError) -> Self {
        Error::Index(e.to_string())
    }
}

impl From<tantivy::query::QueryParserError> for Error {
    fn from(e: tantivy::query::QueryParserError) -> Self {
        Error::Query(e.to_string())
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::Task(e.to_string())
    }
}
