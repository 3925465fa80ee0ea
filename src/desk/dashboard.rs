//! The dashboard for admins and triage: cases received per day by channel and kind, open cases
//! per department by age, overdue counts, and parked steps with a retry button.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use minijinja::{context, Value};

use super::auth::PageCaller;
use super::charts::{bar_chart, horizontal_bars};
use super::error::{DeskError, PageError};
use super::pages::{base, merge_values};
use super::policy;
use super::render::page;
use super::state::AppState;
use crate::domain::deadline::local_date;
use crate::filing::{now_ms, JobId};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(dashboard))
        .route("/dashboard/parked/{id}/retry", post(retry))
}

const DAYS: i64 = 14;
const AGE_BUCKETS: [&str; 4] = ["< 3 hari", "3-6 hari", "7-13 hari", "≥ 14 hari"];

/// `GET /dashboard`
async fn dashboard(
    State(desk): State<AppState>,
    PageCaller(caller): PageCaller,
) -> Result<Response, PageError> {
    if !policy::sees_dashboard(&caller.user) {
        return Err(DeskError::Forbidden.into());
    }
    let offset_ms = desk.cfg.office.utc_offset_hours as i64 * 3_600_000;
    let today = local_date(now_ms(), desk.cfg.office.utc_offset_hours).to_string();
    let figures = desk
        .store
        .dashboard(now_ms() - DAYS * 86_400_000, offset_ms, &today)
        .await?;
    // Per day: stacked by channel and kind ("email/application", ...).
    let mut days: Vec<(String, Vec<(String, u64)>)> = Vec::new();
    for (day, channel, kind, n) in &figures.received {
        let series = format!("{channel}/{kind}");
        match days.iter_mut().find(|(d, _)| d == day) {
            Some((_, s)) => s.push((series, *n as u64)),
            None => days.push((day.clone(), vec![(series, *n as u64)])),
        }
    }
    let cat = &desk.catalogue;
    let name = |d: &str| cat.department_name(d).unwrap_or(d).to_string();
    let mut open: Vec<(String, Vec<(String, u64)>)> = Vec::new();
    for (dept, bucket, n) in &figures.open_by_age {
        let label = name(dept);
        let series = AGE_BUCKETS
            .get(*bucket as usize)
            .copied()
            .unwrap_or("?")
            .to_string();
        match open.iter_mut().find(|(d, _)| *d == label) {
            Some((_, s)) => s.push((series, *n as u64)),
            None => open.push((label, vec![(series, *n as u64)])),
        }
    }
    let overdue: Vec<Value> = figures
        .overdue
        .iter()
        .map(|(d, n)| context! { department => name(d), count => n })
        .collect();
    let parked = desk.store.parked().await?;
    let ctx = context! {
        received_chart => Value::from_safe_string(bar_chart("Berkas masuk per hari (kanal/jenis)", &days)),
        open_chart => Value::from_safe_string(horizontal_bars("Berkas terbuka per bidang menurut umur", &open)),
        overdue => overdue,
        parked => parked,
    };
    let ctx = Value::from_iter(merge_values(base(&desk, &caller, "Dasbor"), ctx));
    Ok(page("dashboard.html", ctx)?.into_response())
}

/// `POST /dashboard/parked/ID/retry`
async fn retry(
    State(desk): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<i64>,
    axum::Form(f): axum::Form<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    if !policy::sees_dashboard(&caller.user) {
        return Err(DeskError::Forbidden.into());
    }
    caller.check_csrf(f.get("csrf_token").map(String::as_str))?;
    if !desk.store.retry_parked(JobId(id)).await? {
        return Err(DeskError::NotFound.into());
    }
    tracing::info!(
        user = caller.username(),
        job = id,
        "parked step retried from the desk"
    );
    Ok(Redirect::to("/dashboard").into_response())
}
