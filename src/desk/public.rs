//! The public status page: no login, nothing personal (SPEC.md lists exactly what it shows),
//! rate-limited per client address. The QR code on receipt letters and the link in every mail
//! lead here.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::auth::Client;
use super::error::{ApiError, DeskError, PageError};
use super::render::page;
use super::state::{AppState, Desk};
use crate::domain::status_words::{next_step, status_label};
use crate::domain::{Kind, Status};
use crate::filing::rfc3339;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/status", get(form))
        .route("/status/{code}", get(page_of))
        .route("/api/status/{code}", get(json_of))
}

/// Exactly the fields SPEC.md allows.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PublicStatus {
    pub tracking_code: String,
    pub status: String,
    pub status_label: String,
    pub kind: String,
    pub permit_type_name: Option<String>,
    pub received_at: String,
    pub updated_at: String,
    pub due_date: Option<String>,
    pub missing: Vec<String>,
    pub next_step: String,
}

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
    let status = Status::parse(&case.status).unwrap_or(Status::Received);
    let kind = Kind::parse(&case.kind).unwrap_or_default();
    let cat = &desk.catalogue;
    let missing: Vec<String> = case
        .missing
        .as_deref()
        .and_then(|m| serde_json::from_str::<Vec<String>>(m).ok())
        .unwrap_or_default()
        .iter()
        .map(|id| cat.requirement_name(id).unwrap_or(id).to_string())
        .collect();
    Ok(PublicStatus {
        next_step: next_step(status, kind, &missing, &desk.cfg.office.name),
        tracking_code: case.tracking_code,
        status: status.as_str().into(),
        status_label: status_label(status).into(),
        kind: kind.as_str().into(),
        permit_type_name: case
            .permit_type
            .as_deref()
            .and_then(|p| cat.permit_type_name(p))
            .map(String::from),
        received_at: rfc3339(case.received_at),
        updated_at: rfc3339(case.updated_at),
        due_date: case.due_date,
        missing,
    })
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
