//! CPU work on untrusted input, kept off the async workers: decoding and parsing a fetched
//! body, normalizing its entries, reading an article page. [`run`] hands the work to
//! tokio's blocking pool with a time budget, so a slow document costs its own source one
//! pass and never stalls the web server or the scheduler; a panic in the parsing code
//! becomes that source's error instead of the process's end.
//!
//! The budget is the last line of defence, not the fix: every parser is fed
//! depth-bounded HTML (`extract::bounded`) and bounded bodies (`[fetch] max_body_bytes`),
//! so its time is linear in the input. When the budget does run out, the blocking thread
//! cannot be interrupted; its result is dropped when it ends.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use crate::error::{Error, Result};

/// Time for decoding and parsing one source's body (a feed, a list page).
pub const PARSE_BUDGET: Duration = Duration::from_secs(20);
/// Time for reading one article page.
pub const ARTICLE_BUDGET: Duration = Duration::from_secs(10);
/// Time for normalizing one source's entries; entries left when it runs out are skipped
/// (counted as such) and taken on the next pass.
pub const NORMALIZE_BUDGET: Duration = Duration::from_secs(20);

/// Run `work` (about `url`) on the blocking pool within `budget`. A panic inside it is
/// [`Error::Panic`], running out of time [`Error::TooSlow`].
pub async fn run<T: Send + 'static>(
    url: &str,
    budget: Duration,
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let handle =
        tokio::task::spawn_blocking(move || std::panic::catch_unwind(AssertUnwindSafe(work)));
    match tokio::time::timeout(budget, handle).await {
        Ok(Ok(Ok(result))) => result,
        Ok(Ok(Err(panic))) => {
            let message = panic_message(panic.as_ref());
            tracing::error!(%url, %message, "parser panicked; only this source fails");
            Err(Error::Panic {
                url: url.to_string(),
                message,
            })
        }
        Ok(Err(join)) => Err(join.into()),
        Err(_) => {
            tracing::warn!(%url, budget_s = budget.as_secs(), "parsing ran out of its time budget");
            Err(Error::TooSlow {
                url: url.to_string(),
                seconds: budget.as_secs(),
            })
        }
    }
}

/// The text a panic carried, if it is a string.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_is_this_sources_error() {
        let err = run("https://x.vn/rss", PARSE_BUDGET, || -> Result<()> {
            panic!("bad input")
        })
        .await
        .expect_err("panic");
        assert_eq!(err.kind(), "panic");
        assert!(err.to_string().contains("bad input"), "{err}");
        assert!(err.to_string().contains("https://x.vn/rss"), "{err}");
    }

    #[tokio::test]
    async fn slow_work_runs_out_of_budget() {
        let started = std::time::Instant::now();
        let err = run("https://x.vn/rss", Duration::from_millis(100), || {
            std::thread::sleep(Duration::from_millis(1500));
            Ok(())
        })
        .await
        .expect_err("too slow");
        assert_eq!(err.kind(), "too_slow");
        assert!(started.elapsed() < Duration::from_millis(1000));
        assert_eq!(
            run("u", PARSE_BUDGET, || Ok(7)).await.expect("fast work"),
            7
        );
    }
}
