//! `gomtin users add | token | list`: the accounts of the staff web app, managed from the
//! command line (beside the web's setup link and admin pages; both write the audit log). The password is
//! asked twice on a terminal, or read from the first line of stdin with
//! `--password-stdin`; hashing, tokens and the checks live in `accounts`. Works while
//! `gomtin serve` runs (SQLite only, no data lock).

use chrono::Utc;
use clap::Subcommand;

use crate::accounts;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Tạo tài khoản (mật khẩu hỏi trên terminal, hoặc đọc từ stdin với --password-stdin)
    Add {
        /// Tên đăng nhập
        name: String,
        /// Vai trò: staff (tìm, chia sẻ) hoặc admin (thêm: quản lý nguồn, tài khoản)
        #[arg(long, value_parser = ["staff", "admin"])]
        role: String,
        /// Đọc mật khẩu từ dòng đầu của đầu vào chuẩn
        #[arg(long)]
        password_stdin: bool,
    },
    /// In một mã API mới cho tài khoản (dùng: Authorization: Bearer MÃ)
    Token {
        /// Tên đăng nhập
        name: String,
    },
    /// Liệt kê tài khoản
    List,
}

/// Run `gomtin users …`.
pub fn run(config: &Config, cmd: UsersCommand) -> Result<Exit> {
    let store = Store::open(&config.data_dir())?;
    match cmd {
        UsersCommand::Add {
            name,
            role,
            password_stdin,
        } => {
            let role = accounts::parse_role(&role)?;
            accounts::ensure_name_free(&store, &name)?;
            let password = read_password(password_stdin)?;
            let user = accounts::add_user(&store, &name, role, &password, Utc::now())?;
            store.audit(
                "dòng lệnh",
                "user.add",
                &user.name,
                &format!("vai trò {}", user.role.as_str()),
                Utc::now(),
            )?;
            println!(
                "Đã tạo tài khoản `{}` (vai trò {}).",
                user.name,
                user.role.as_str()
            );
        }
        UsersCommand::Token { name } => {
            let token = accounts::issue_api_token(&store, &name, "dòng lệnh", Utc::now())?;
            store.audit("dòng lệnh", "token.add", &name, "dòng lệnh", Utc::now())?;
            println!("{token}");
        }
        UsersCommand::List => {
            for u in store.users()? {
                println!(
                    "{}\t{}\t{}",
                    u.name,
                    u.role.as_str(),
                    u.created_at.format("%Y-%m-%d")
                );
            }
        }
    }
    Ok(Exit::Ok)
}

/// The new password: from stdin's first line, or asked twice on the terminal.
fn read_password(from_stdin: bool) -> Result<String> {
    use std::io::{BufRead, IsTerminal};
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Error::User(format!("không đọc được mật khẩu từ stdin: {e}")))?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Mật khẩu: ")
            .map_err(|e| Error::User(format!("không đọc được mật khẩu: {e}")))?;
        let again = rpassword::prompt_password("Nhập lại mật khẩu: ")
            .map_err(|e| Error::User(format!("không đọc được mật khẩu: {e}")))?;
        if first != again {
            return Err(Error::User("hai lần nhập mật khẩu không khớp".into()));
        }
        first
    } else {
        return Err(Error::User(
            "stdin không phải terminal: dùng --password-stdin để đọc mật khẩu từ stdin".into(),
        ));
    };
    accounts::check_password(&password)?;
    Ok(password)
}
