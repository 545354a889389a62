//! The digest runner's setup for tests: a config whose `[smtp]` points at a real SMTP
//! server (`smtp::SmtpSink`), the app opened on it, and a `DigestRunner` with its own
//! metrics, driven by `tick(now)` on a runtime of its own, so scheduled periods run
//! without waiting for real cron times.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use gomtin::app::App;
use gomtin::config::Config;
use gomtin::digest::{Attempt, DigestRunner};
use gomtin::metrics::Metrics;
use tokio_util::sync::CancellationToken;

use super::TestConfig;
use super::smtp::SmtpSink;

/// The config text for `sink`'s server plus `toml` (sources, topics, digests).
pub fn config(sink: &SmtpSink, toml: &str) -> TestConfig {
    TestConfig::new(&format!("{toml}\n{}", sink.config()))
}

/// An SMTP server, a config for it, the app and the digest runner.
pub struct DigestHarness {
    pub sink: SmtpSink,
    pub cfg: TestConfig,
    pub app: App,
    pub metrics: Arc<Metrics>,
    pub runner: DigestRunner,
    rt: tokio::runtime::Runtime,
}

impl DigestHarness {
    /// `toml` holds the sources, topics and `[[digests]]`; `[smtp]` comes from `sink`.
    pub fn new(sink: SmtpSink, toml: &str) -> DigestHarness {
        let cfg = config(&sink, toml);
        let app = App::open(Config::load(&cfg.path).expect("config")).expect("app");
        let metrics = Arc::new(Metrics::new());
        let runner = DigestRunner::new(app.clone(), metrics.clone(), CancellationToken::new())
            .expect("runner")
            .expect("[smtp] present");
        DigestHarness {
            sink,
            cfg,
            app,
            metrics,
            runner,
            rt: tokio::runtime::Runtime::new().expect("runtime"),
        }
    }

    /// One look at the clock at `now`: the deliveries it attempted.
    pub fn tick(&self, now: DateTime<Utc>) -> Vec<Attempt> {
        self.rt.block_on(self.runner.tick(now)).expect("tick")
    }

    /// Run `f` on the harness's runtime (a fetch pass, a send now).
    pub fn block_on<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        self.rt.block_on(f)
    }
}
