//! The `gomtin` binary: parse the command line, start logging, run the command, and map
//! the outcome to an exit code — 0 success, 1 partial failure or runtime error, 2 usage or
//! configuration error (`exit::code`). Errors are printed once, in Vietnamese, on stderr.

use std::process::ExitCode;

use clap::Parser;
use gomtin::cli::{Cli, LogFormat};

/// Logging on stderr. By default only gomtin's own lines (the daemon: one per source
/// pass, errors, the address; a command: errors) — the libraries' (tantivy's segment and
/// commit lines) only from warnings up; `-v`/`-vv` open gomtin's info/debug lines, `-vvv`
/// everything, and `GOMTIN_LOG` (an `EnvFilter` directive) replaces all of it.
fn init_tracing(format: LogFormat, verbose: u8, daemon: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 if daemon => "warn,gomtin=info",
        0 => "error",
        1 => "warn,gomtin=info",
        2 => "warn,gomtin=debug",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_env("GOMTIN_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let daemon = matches!(cli.command, gomtin::cli::Command::Serve { .. });
    init_tracing(cli.log_format, cli.verbose, daemon);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gomtin: không khởi động được: {e}");
            return ExitCode::from(1);
        }
    };
    let outcome = runtime.block_on(gomtin::cli::run(cli));
    if let Err(e) = &outcome {
        eprintln!("gomtin: {e}");
    }
    ExitCode::from(gomtin::exit::code(&outcome))
}
