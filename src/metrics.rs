//! Metrics: Prometheus counters, gauges and histograms the daemon updates as the pipeline
//! runs (fetches by outcome, fetch durations, items stored) and reads at scrape time
//! (index documents, index lag), and the web's searches by outcome (run, or refused by the
//! search gate when the server is overloaded) with those waiting their turn. `/metrics`
//! serves them in the text exposition format.

use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::model::{OutcomeKind, SourceOutcome};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ChangeLabels {
    pub change: String,
}

/// Every metric gomtin exports.
pub struct Metrics {
    registry: Mutex<Registry>,
    pub fetches: Family<OutcomeLabels, Counter>,
    pub fetch_duration: Histogram,
    pub items_stored: Family<ChangeLabels, Counter>,
    pub index_documents: Gauge,
    pub index_lag: Gauge,
    pub items_total: Gauge,
    pub sources_failing: Gauge,
    pub digests: Family<OutcomeLabels, Counter>,
    pub alerts: Family<OutcomeLabels, Counter>,
    pub searches: Family<OutcomeLabels, Counter>,
    pub searches_waiting: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("gomtin");
        let fetches = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "fetches",
            "Source fetches by outcome (fetched, not_modified, failed)",
            fetches.clone(),
        );
        let fetch_duration = Histogram::new(exponential_buckets(0.005, 2.0, 14));
        registry.register(
            "fetch_duration_seconds",
            "Time to fetch, parse and store one source",
            fetch_duration.clone(),
        );
        let items_stored = Family::<ChangeLabels, Counter>::default();
        registry.register(
            "items_stored",
            "Items written to SQLite (new or updated)",
            items_stored.clone(),
        );
        let index_documents = Gauge::default();
        registry.register(
            "index_documents",
            "Documents visible in the search index",
            index_documents.clone(),
        );
        let index_lag = Gauge::default();
        registry.register(
            "index_lag",
            "Changes committed to SQLite but not yet to the index",
            index_lag.clone(),
        );
        let items_total = Gauge::default();
        registry.register("items", "Items stored in SQLite", items_total.clone());
        let sources_failing = Gauge::default();
        registry.register(
            "sources_failing",
            "Sources whose last fetch failed",
            sources_failing.clone(),
        );
        let digests = Family::<OutcomeLabels, Counter>::default();
        registry.register("digests", "Digest deliveries by outcome", digests.clone());
        let alerts = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "alerts",
            "Alert deliveries (email, webhook) by outcome",
            alerts.clone(),
        );
        let searches = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "searches",
            "Web searches by outcome (run, rejected: refused with a 503 by the search gate)",
            searches.clone(),
        );
        let searches_waiting = Gauge::default();
        registry.register(
            "searches_waiting",
            "Web searches waiting for their turn at the search gate",
            searches_waiting.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            fetches,
            fetch_duration,
            items_stored,
            index_documents,
            index_lag,
            items_total,
            sources_failing,
            digests,
            alerts,
            searches,
            searches_waiting,
        }
    }

    /// Count one source outcome.
    pub fn record(&self, o: &SourceOutcome) {
        let outcome = match &o.result {
            OutcomeKind::Fetched { counts, .. } => {
                self.items_stored
                    .get_or_create(&ChangeLabels {
                        change: "new".into(),
                    })
                    .inc_by(counts.new as u64);
                self.items_stored
                    .get_or_create(&ChangeLabels {
                        change: "updated".into(),
                    })
                    .inc_by(counts.updated as u64);
                "fetched"
            }
            OutcomeKind::NotModified => "not_modified",
            OutcomeKind::Failed { .. } => "failed",
        };
        self.fetches
            .get_or_create(&OutcomeLabels {
                outcome: outcome.into(),
            })
            .inc();
        self.fetch_duration.observe(o.duration_ms as f64 / 1000.0);
    }

    /// The text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        if prometheus_client::encoding::text::encode(&mut out, &registry).is_err() {
            out.clear();
        }
        out
    }
}
