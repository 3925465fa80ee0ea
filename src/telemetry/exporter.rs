//! The metrics listener (`[metrics] listen`): `/metrics` in Prometheus text, `/healthz` and
//! `/readyz`, for `loket run` and `loket serve`.
//!
//! It is its own listener, never the desk's public one: metrics show volumes and queue sizes an
//! office need not publish, and a worker without a desk still gets health checks. The queue
//! gauges are read from the database on each scrape (within [`GAUGE_TIMEOUT`]; a database that
//! does not answer keeps the last values and makes `/readyz` fail), so they are as fresh as the
//! scrape and cost nothing when nobody scrapes.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::metrics::{self, Known};
use crate::filing::{now_ms, Store};
use crate::pipeline::error_chain;

/// How long a scrape waits for the database's queue counts.
pub const GAUGE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long `/readyz` waits for the database.
pub const READY_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum ExporterError {
    #[error("metrics.listen {addr}: {source}")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("metrics recorder: {0}")]
    Recorder(String),
}

#[derive(Clone)]
struct Exporter {
    handle: PrometheusHandle,
    store: Store,
}

/// Bind `listen`, install the recorder, register every metric at 0 and serve until `stop`.
/// Returns the bound address (tests pass port 0).
pub async fn start(
    listen: &str,
    store: Store,
    known: &Known,
    stop: CancellationToken,
) -> Result<SocketAddr, ExporterError> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| ExporterError::Listen {
            addr: listen.to_string(),
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ExporterError::Listen {
            addr: listen.to_string(),
            source,
        })?;
    let handle = install()?;
    metrics::register(known);
    spawn_upkeep(handle.clone(), stop.clone());
    let app = router(Exporter { handle, store });
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await;
        if let Err(e) = served {
            warn!(error = %e, "metrics listener stopped");
        }
    });
    info!(%addr, "metrics listening");
    Ok(addr)
}

/// The process-wide recorder, with real histograms (buckets) for the durations.
fn install() -> Result<PrometheusHandle, ExporterError> {
    let recorder_err =
        |e: metrics_exporter_prometheus::BuildError| ExporterError::Recorder(e.to_string());
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(metrics::STEP_DURATION.into()),
            metrics::STEP_BUCKETS,
        )
        .map_err(recorder_err)?
        .set_buckets_for_metric(
            Matcher::Full(metrics::OCR_SECONDS.into()),
            metrics::OCR_BUCKETS,
        )
        .map_err(recorder_err)?
        .install_recorder()
        .map_err(recorder_err)
}

/// Histogram samples are folded in by upkeep; without it they pile up between scrapes.
fn spawn_upkeep(handle: PrometheusHandle, stop: CancellationToken) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(5)) => handle.run_upkeep(),
                _ = stop.cancelled() => return,
            }
        }
    });
}

fn router(exporter: Exporter) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz_route))
        .with_state(exporter)
}

async fn scrape(State(exporter): State<Exporter>) -> impl IntoResponse {
    match tokio::time::timeout(GAUGE_TIMEOUT, exporter.store.queue_gauges()).await {
        Ok(Ok(rows)) => metrics::set_queue(&rows, now_ms()),
        Ok(Err(e)) => warn!(error = %error_chain(&e), "queue gauges not refreshed"),
        Err(_) => warn!("queue gauges not refreshed: the database did not answer in time"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        exporter.handle.render(),
    )
}

/// `GET /healthz`: the process runs.
pub async fn healthz() -> &'static str {
    "ok"
}

async fn readyz_route(State(exporter): State<Exporter>) -> impl IntoResponse {
    readyz(&exporter.store).await
}

/// `GET /readyz`: 200 only when the database answers (SPEC, "Officers' desk").
pub async fn readyz(store: &Store) -> (StatusCode, &'static str) {
    match store.answers_within(READY_TIMEOUT).await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            warn!(error = %error_chain(&e), "database not answering");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
