//! The officers' desk and the public status page (`loket serve`): axum 0.8, pages rendered on
//! the server (Bahasa Indonesia, usable without JavaScript, readable at 360 px), a JSON API
//! for scripts, sessions and accounts in the database so several `serve` processes share them.
//!
//! `serve` never sends mail itself: actions queue outbox rows (and letters), which `loket run`
//! delivers, so the desk and the workers keep one exactly-once path.

pub mod actions;
pub mod api;
pub mod auth;
pub mod charts;
pub mod client;
pub mod dashboard;
pub mod error;
pub mod limit;
pub mod mailroom;
pub mod pages;
pub mod policy;
pub mod public;
pub mod queries;
pub mod render;
pub mod secrets;
pub mod state;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::classify::{Catalogue, RuleErrors};
use crate::config::Config;
use crate::filing::{BlobStore, Store, StoreError};
use crate::notify::templates::{TemplateError, Templates};
pub use state::{AppState, Desk};

/// Why `serve` could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("rules: {0}")]
    Rules(#[from] RuleErrors),
    #[error(transparent)]
    Templates(#[from] TemplateError),
    #[error("web.trusted_proxies: {0}")]
    Proxy(String),
    #[error(transparent)]
    Blob(#[from] crate::filing::blobs::BlobError),
    #[error("listen on {addr}: {source}")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

/// The pages' Content-Security-Policy: no script at all, styles and images from the desk only,
/// no framing, forms only to the desk.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Build the desk's state from the configuration.
pub async fn desk(cfg: Config) -> Result<Desk, ServeError> {
    let store = Store::open_with(&cfg.database.url, cfg.store_options()).await?;
    let catalogue = Catalogue::load_dir(&cfg.rules.dir)?;
    let templates = Templates::load(&cfg.notify.templates_dir)?;
    let trusted = cfg
        .web
        .trusted_proxies
        .iter()
        .map(|p| p.parse().map_err(|e| ServeError::Proxy(format!("{e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let per_minute = NonZeroU32::new(cfg.web.status_requests_per_minute).unwrap_or(NonZeroU32::MIN);
    Ok(Desk {
        blobs: BlobStore::open(&cfg.storage)?,
        calendar: Arc::new(crate::pipeline::deadline::calendar(&cfg.rules.dir)),
        catalogue: Arc::new(catalogue),
        templates,
        status_limit: limit::PerClient::new(per_minute),
        trusted,
        store,
        cfg,
    })
}

/// Every route, with the security headers and the upload limit.
pub fn router(state: AppState) -> Router {
    let upload_limit = state.cfg.web.max_upload_bytes as usize;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/assets/desk.css", get(stylesheet))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", axum::routing::post(auth::logout))
        .merge(pages::routes())
        .merge(api::routes())
        .merge(public::routes())
        .merge(dashboard::routes())
        .merge(
            mailroom::routes().layer(DefaultBodyLimit::max(upload_limit.saturating_add(1 << 20))),
        )
        .fallback(pages::not_found)
        .layer(DefaultBodyLimit::max(1 << 20))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .with_state(state)
}

async fn healthz() -> &'static str {
    crate::telemetry::exporter::healthz().await
}

async fn readyz(State(desk): State<AppState>) -> impl IntoResponse {
    crate::telemetry::exporter::readyz(&desk.store).await
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        render::STYLESHEET,
    )
}

/// `loket serve`: listen on `web.listen` until `shutdown` resolves, then finish requests.
pub async fn serve(
    cfg: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = cfg.web.listen.clone();
    let state: AppState = Arc::new(desk(cfg).await?);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|source| ServeError::Listen {
            addr: addr.clone(),
            source,
        })?;
    serve_on(listener, state, shutdown).await
}

/// Serve on a bound listener (tests bind port 0).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    tracing::info!(%addr, "desk listening");
    let store = state.store.clone();
    let app = router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(|source| ServeError::Listen { addr, source })?;
    store.close().await;
    Ok(())
}
