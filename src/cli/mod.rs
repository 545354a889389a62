//! The command line: the clap definitions of `gomtin fetch | search | reindex | serve |
//! sources | digest | alert | users | post`, the config loading every command starts with, and the
//! dispatch to one file per command group, each of which runs its command and prints for
//! people (Vietnamese) or machines (`--json`). Errors travel back to `main`, which prints
//! them once and picks the exit code (`exit`).

mod alert;
mod digest;
mod fetch;
mod post;
mod search;
mod serve;
mod sources;
mod users;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::Config;
use crate::error::Result;
use crate::exit::Exit;

/// gomtin — gom tin tức địa phương, tìm kiếm tiếng Việt.
#[derive(Debug, Parser)]
#[command(name = "gomtin", version, about, long_about = None)]
pub struct Cli {
    /// Tệp cấu hình (mặc định: config/gomtin.toml)
    #[arg(long, global = true, env = "GOMTIN_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Dạng nhật ký (log) ghi ra stderr
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Ghi nhật ký chi tiết hơn (-v, -vv)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Tải tin từ các nguồn ngay bây giờ (tất cả, hoặc các mã nguồn đã nêu)
    Fetch {
        /// Mã nguồn cần tải; bỏ trống = mọi nguồn đang bật
        sources: Vec<String>,
        /// In kết quả dạng JSON
        #[arg(long)]
        json: bool,
    },
    /// Tìm tin đã lưu
    Search {
        /// In kết quả dạng JSON
        #[arg(long)]
        json: bool,
        /// Số kết quả tối đa
        #[arg(long, short = 'n')]
        limit: Option<usize>,
        /// Bỏ qua N kết quả đầu (phân trang)
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// Gộp các tin trùng nhau (cùng một bài đăng lại ở nhiều nguồn) thành tin sớm nhất
        #[arg(long)]
        collapse: bool,
        /// Câu tìm kiếm (không dấu cũng được)
        #[arg(required = true, num_args = 1.., allow_hyphen_values = true)]
        query: Vec<String>,
    },
    /// Dựng lại chỉ mục tìm kiếm từ cơ sở dữ liệu
    Reindex,
    /// Chạy dịch vụ: tự động tải tin theo lịch và phục vụ giao diện web
    Serve {
        /// Địa chỉ lắng nghe (mặc định: [server] listen)
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Quản lý nguồn tin
    Sources {
        #[command(subcommand)]
        command: sources::SourcesCommand,
    },
    /// Bản tin gửi qua thư theo lịch ([[digests]])
    Digest {
        #[command(subcommand)]
        command: digest::DigestCommand,
    },
    /// Cảnh báo tức thì khi có tin mới khớp ([[alerts]])
    Alert {
        #[command(subcommand)]
        command: alert::AlertCommand,
    },
    /// Quản lý tài khoản giao diện web (xem src/accounts.rs)
    Users {
        #[command(subcommand)]
        command: users::UsersCommand,
    },
    /// Bài đăng dán tay (nguồn kind = "manual")
    Post {
        #[command(subcommand)]
        command: post::PostCommand,
    },
}

/// Where the config is read from when neither `--config` nor `GOMTIN_CONFIG` says.
pub const DEFAULT_CONFIG: &str = "config/gomtin.toml";

/// Load the config named on the command line.
pub fn load_config(cli: &Cli) -> Result<Config> {
    let path = cli
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG));
    Config::load(&path)
}

/// Run a parsed command line.
pub async fn run(cli: Cli) -> Result<Exit> {
    let config = load_config(&cli)?;
    match cli.command {
        Command::Fetch { sources, json } => fetch::run(config, &sources, json).await,
        Command::Search {
            json,
            limit,
            offset,
            collapse,
            query,
        } => {
            let options = search::Options {
                limit,
                offset,
                json,
                collapse,
            };
            let (query, options) = search::lift_flags(query, options)?;
            search::run(config, &query.join(" "), options).await
        }
        Command::Reindex => search::reindex(config).await,
        Command::Serve { listen } => serve::run(config, listen).await,
        Command::Sources { command } => sources::run(config, command).await,
        Command::Digest { command } => digest::run(config, command).await,
        Command::Alert { command } => alert::run(config, command).await,
        Command::Users { command } => users::run(&config, command),
        Command::Post { command } => post::run(config, command).await,
    }
}
