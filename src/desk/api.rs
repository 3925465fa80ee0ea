//! The JSON API (SPEC.md "Officers' desk"): the same cases and actions as the pages, for
//! scripts (`Authorization: Bearer`) and for pages' own calls (session cookie plus
//! `X-CSRF-Token`).

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::actions;
use super::auth::{ApiCaller, Caller};
use super::error::{ApiError, DeskError};
use super::queries::{self, ListParams};
use super::state::{AppState, Desk};
use crate::filing::views::CaseView;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/me", get(me))
        .route("/api/cases", get(list))
        .route("/api/cases/{code}", get(show))
        .route("/api/cases/{code}/{action}", post(act))
}

/// `GET /api/me`: who the token or session belongs to.
async fn me(ApiCaller(caller): ApiCaller) -> Json<serde_json::Value> {
    Json(json!({
        "username": caller.user.username,
        "name": caller.user.name,
        "role": caller.user.role,
        "department": caller.user.department,
    }))
}

/// `GET /api/cases`
async fn list(
    State(desk): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Query(p): Query<ListParams>,
) -> Result<Json<Vec<CaseView>>, ApiError> {
    Ok(Json(
        queries::list(&desk, &caller, &p, queries::Want::Cases)
            .await?
            .cases,
    ))
}

/// `GET /api/cases/CODE`
async fn show(
    State(desk): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(code): Path<String>,
) -> Result<Json<CaseView>, ApiError> {
    let view = queries::show(&desk, &caller, &code).await?;
    log_view(&desk, &caller, &view.tracking_code, "api").await?;
    Ok(Json(view))
}

/// Record a read of a case's contents (UU PDP audit).
pub async fn log_view(
    desk: &Desk,
    caller: &Caller,
    code: &str,
    how: &str,
) -> Result<(), DeskError> {
    let mut conn = desk.store.conn().await?;
    if let Some(id) = crate::filing::cases::by_code(&mut conn, code).await? {
        crate::filing::desk::log_access(
            &mut conn,
            id,
            caller.username(),
            &format!("view:{how}"),
            None,
            &caller.client,
        )
        .await?;
    }
    Ok(())
}

fn body<T: DeserializeOwned>(raw: &[u8]) -> Result<T, DeskError> {
    serde_json::from_slice(raw).map_err(|e| DeskError::Invalid(format!("bad JSON: {e}")))
}

/// `POST /api/cases/CODE/ACTION`: answers 200 with the updated case.
async fn act(
    State(desk): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path((code, action)): Path<(String, String)>,
    headers: HeaderMap,
    raw: axum::body::Bytes,
) -> Result<Json<CaseView>, ApiError> {
    let csrf = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    caller.check_csrf(csrf)?;
    let done = dispatch(&desk, &caller, &code, &action, &raw).await?;
    Ok(Json(queries::show(&desk, &caller, &done).await?))
}

/// Run an action by name with a JSON body; gives the code of the case to show afterwards.
pub async fn dispatch(
    desk: &Desk,
    caller: &Caller,
    code: &str,
    action: &str,
    raw: &[u8],
) -> Result<String, DeskError> {
    match action {
        "status" => actions::set_status(desk, caller, code, &body(raw)?).await,
        "reply" => actions::reply(desk, caller, code, &body(raw)?).await,
        "request-documents" => actions::request_documents(desk, caller, code, &body(raw)?).await,
        "classify" => actions::classify(desk, caller, code, &body(raw)?).await,
        "assign" => actions::assign(desk, caller, code, &body(raw)?).await,
        "notes" => actions::note(desk, caller, code, &body(raw)?).await,
        "merge" => actions::merge(desk, caller, code, &body(raw)?).await,
        "requirement" => actions::mark_requirement(desk, caller, code, &body(raw)?).await,
        "doc-type" => actions::set_doc_type(desk, caller, code, &body(raw)?).await,
        _ => Err(DeskError::NotFound),
    }
}
