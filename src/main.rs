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

/// glibc's malloc, tuned for a process whose threads free what other threads allocated:
/// - at most two arenas. By default each thread that allocates gets an arena of its own,
///   up to eight per core, and memory freed in one is kept for that arena's next use:
///   during a fetch pass (tokio's workers and blocking threads, tantivy's indexing and
///   merging threads) that was about half of the process's peak RSS (35k ingest: 516–567
///   MB against 273 MB of live heap under heaptrack; with two arenas 315–352 MB, no
///   slower);
/// - blocks of 1 MB and more (tantivy's arena pages, feed bodies) always from `mmap`, so
///   that they go back to the system when freed (by default the threshold rises to the
///   largest block freed, and later ones stay in the heap): 306 → 264 MB.
///
/// Must run before any other thread starts.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    // SAFETY: `mallopt` only sets malloc parameters; called before other threads exist.
    #[allow(unsafe_code)]
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}

fn main() -> ExitCode {
    tune_malloc();
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
