//! The daemon's operational endpoints, public and outside the login gate: `/healthz`, a
//! JSON summary (items, index documents and lag behind SQLite, how many sources fail),
//! 200 while the process can answer and the store reads, 503 otherwise — which sources
//! fail and their error text only for a logged-in caller or an API token, since a
//! stranger should not read the office's source list or its errors; and `/metrics`, the
//! Prometheus/OpenMetrics text, with the read-not-counted gauges refreshed first.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::state::AppState;

#[derive(Serialize)]
struct FailingSource {
    id: String,
    error_kind: Option<String>,
    error: Option<String>,
    consecutive_failures: i64,
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    uptime_seconds: u64,
    items: i64,
    index_documents: u64,
    index_lag: i64,
    sources: usize,
    sources_failing: usize,
    /// Only with a login or an API token.
    #[serde(skip_serializing_if = "Option::is_none")]
    failing: Option<Vec<FailingSource>>,
}

/// Refresh the gauges that are read rather than counted.
fn refresh_gauges(state: &AppState) -> crate::error::Result<(i64, i64, Vec<FailingSource>, usize)> {
    let app = &state.app;
    let items = app.store.item_count()?;
    let lag = (app.store.max_seq()? - app.index.indexed_seq()?).max(0);
    let statuses = app.store.source_statuses(chrono::Utc::now())?;
    let total = statuses.iter().filter(|s| s.in_config).count();
    let failing: Vec<FailingSource> = statuses
        .into_iter()
        .filter(|s| s.in_config && s.last_error.is_some())
        .map(|s| FailingSource {
            id: s.id,
            error_kind: s.last_error_kind,
            error: s.last_error,
            consecutive_failures: s.consecutive_failures,
        })
        .collect();
    state.metrics.items_total.set(items);
    state.metrics.index_lag.set(lag);
    state
        .metrics
        .index_documents
        .set(app.index.doc_count() as i64);
    state.metrics.sources_failing.set(failing.len() as i64);
    let waiting = state.search_gate.waiting();
    state.metrics.searches_waiting.set(waiting as i64);
    Ok((items, lag, failing, total))
}

/// `GET /healthz`: counts for anyone; which sources fail, and why, for staff.
pub async fn healthz(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let staff = super::auth::signed_in(&state, &headers).await;
    let s = state.clone();
    let res = tokio::task::spawn_blocking(move || refresh_gauges(&s)).await;
    match res {
        Ok(Ok((items, lag, failing, total))) => {
            let body = Health {
                status: "ok",
                version: env!("CARGO_PKG_VERSION"),
                uptime_seconds: state.started.elapsed().as_secs(),
                items,
                index_documents: state.app.index.doc_count(),
                index_lag: lag,
                sources: total,
                sources_failing: failing.len(),
                failing: staff.then_some(failing),
            };
            axum::Json(body).into_response()
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "health check failed");
            let error = if staff {
                e.to_string()
            } else {
                e.kind().to_string()
            };
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"status": "error", "error": error})),
            )
                .into_response()
        }
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"status": "error", "error": e.to_string()})),
        )
            .into_response(),
    }
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let s = state.clone();
    let _ = tokio::task::spawn_blocking(move || refresh_gauges(&s)).await;
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}
