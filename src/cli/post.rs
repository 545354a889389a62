//! `gomtin post add --source ID [--url URL] [--title T] --text TEXT [--published DATE]`:
//! a post that staff paste by hand (say from a commune's Facebook page) stored as an item
//! of a `kind = "manual"` source; `--text -` reads the text from stdin. The checks and
//! the storing are `admin`'s; this prints the one line that says what happened. When
//! `gomtin serve` runs on the same data folder (it holds the folder's lock and the index
//! writer), the post is only stored: the daemon's feeder indexes it within seconds.

use clap::Subcommand;

use crate::admin::{self, ManualPost, PostOutcome};
use crate::app::App;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::exit::Exit;

#[derive(Debug, Subcommand)]
pub enum PostCommand {
    /// Thêm một bài cán bộ dán tay (ví dụ bài trên trang Facebook của xã)
    Add {
        /// Mã nguồn kind = "manual"
        #[arg(long)]
        source: String,
        /// Liên kết gốc của bài
        #[arg(long)]
        url: Option<String>,
        /// Tiêu đề (bỏ trống: lấy đầu nội dung)
        #[arg(long)]
        title: Option<String>,
        /// Nội dung bài (đoạn cách nhau bởi một dòng trống); `-` để đọc từ stdin
        #[arg(long)]
        text: String,
        /// Thời điểm đăng, ví dụ "2024-03-12 08:15" hoặc "12/03/2024 08:15" (mặc định: bây giờ)
        #[arg(long)]
        published: Option<String>,
    },
}

/// Run `gomtin post …`.
pub async fn run(config: Config, command: PostCommand) -> Result<Exit> {
    let PostCommand::Add {
        source,
        url,
        title,
        text,
        published,
    } = command;
    let text = if text == "-" {
        let mut buf = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut buf).map_err(|source| {
            Error::Io {
                path: "stdin".into(),
                source,
            }
        })?;
        buf
    } else {
        text
    };
    let post = ManualPost {
        source,
        url,
        title,
        text,
        published,
        image: None,
    };
    let item = admin::prepare_post(&config, &post)?;
    let lock = match crate::app::lock_data_dir(&config.data_dir()) {
        Ok(lock) => Some(lock),
        Err(Error::Locked { .. }) => None,
        Err(e) => return Err(e),
    };
    let app = App::open(config)?;
    let stored = if lock.is_some() {
        admin::store_post(&app, item).await?
    } else {
        tracing::info!("gomtin serve holds the data folder; it indexes the post");
        admin::store_post_beside_daemon(&app, item).await?
    };
    let verb = match stored.outcome {
        PostOutcome::Added => "Đã thêm",
        PostOutcome::Updated => "Đã cập nhật",
        PostOutcome::AlreadyThere => "Đã có sẵn",
    };
    println!("{verb} bài vào nguồn `{}` ({}).", post.source, stored.key);
    app.index.close()?;
    Ok(Exit::Ok)
}
