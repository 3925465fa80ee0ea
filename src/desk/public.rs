//! The public status page: no login, nothing personal (SPEC.md lists exactly what it shows),
//! rate-limited per client address. The QR code on receipt letters and the link in every mail
//! lead here.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use minijinja::context;
use serde::Deserialize;

use super::auth::Client;
use super::error::{ApiError, DeskError, PageError};
use super::render::page;
use super::state::{AppState, Desk};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/status", get(form))
        .route("/status/{code}", get(page_of))
        .route("/api/status/{code}", get(json_of))
}

pub use crate::notify::status_answer::PublicStatus;

fn limited(desk: &Desk, client: &str) -> Result<(), DeskError> {
    let ip = client
        .parse()
        .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
    desk.status_limit
        .check(ip)
        .map_err(|retry| DeskError::TooMany {
            retry_after_seconds: retry.seconds(),
        })
}

async fn lookup(desk: &Desk, client: &str, code: &str) -> Result<PublicStatus, DeskError> {
    limited(desk, client)?;
    let code = super::actions::normal_code(desk, code).ok_or(DeskError::NotFound)?;
    let case = desk
        .store
        .public_case(&code)
        .await?
        .ok_or(DeskError::NotFound)?;
    Ok(crate::notify::status_answer::public_status(
        &case,
        &desk.catalogue,
        &desk.cfg.office.name,
    ))
}

#[derive(Debug, Deserialize)]
struct FormQuery {
    code: Option<String>,
}

/// `GET /status` (the form; `?code=` goes to the code's page, in any spelling).
async fn form(
    State(desk): State<AppState>,
    Query(q): Query<FormQuery>,
) -> Result<Response, PageError> {
    if let Some(code) = q.code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        return Ok(match super::actions::normal_code(&desk, code) {
            Some(c) => Redirect::to(&format!("/status/{c}")).into_response(),
            None => (
                axum::http::StatusCode::NOT_FOUND,
                page(
                    "status.html",
                    context! { office_name => &desk.cfg.office.name, typed => code,
                               error => "Nomor pelacakan tidak dikenali. Periksa kembali nomor pada tanda terima Anda." },
                )?,
            )
                .into_response(),
        });
    }
    Ok(page(
        "status.html",
        context! { office_name => &desk.cfg.office.name },
    )?
    .into_response())
}

/// `GET /status/CODE`
async fn page_of(
    State(desk): State<AppState>,
    Client(client): Client,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    match lookup(&desk, &client, &code).await {
        Ok(s) => {
            let urgent = s.status == "needs_correction";
            Ok(page(
                "status.html",
                context! { office_name => &desk.cfg.office.name, s => s, urgent => urgent },
            )?
            .into_response())
        }
        Err(DeskError::NotFound) => Ok((
            axum::http::StatusCode::NOT_FOUND,
            page(
                "status.html",
                context! { office_name => &desk.cfg.office.name, typed => code,
                           error => "Nomor pelacakan tidak ditemukan. Periksa kembali nomor pada tanda terima Anda." },
            )?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

/// `GET /api/status/CODE`
async fn json_of(
    State(desk): State<AppState>,
    Client(client): Client,
    Path(code): Path<String>,
) -> Result<Json<PublicStatus>, ApiError> {
    Ok(Json(lookup(&desk, &client, &code).await?))
}
