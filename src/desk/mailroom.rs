//! The mail room's pages: upload scanned postal applications (what `loket import` does, for
//! real scans up to `web.max_upload_bytes`) and print the day's letters.

use axum::extract::{Multipart, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use minijinja::{context, Value};

use super::auth::PageCaller;
use super::error::{DeskError, PageError};
use super::pages::{base, merge_values};
use super::policy;
use super::render::page;
use super::state::{AppState, Desk};
use crate::domain::ApplicantDetails;
use crate::filing::{now_ms, rfc3339};
use crate::intake::spool::{store_file, Origin};
use crate::intake::Intake;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/mailroom", get(mailroom))
        .route("/mailroom/upload", post(upload))
        .route("/mailroom/letters", post(print))
}

const DAY_MS: i64 = 86_400_000;

async fn render_mailroom(
    desk: &Desk,
    caller: &super::auth::Caller,
    result: Option<Vec<Value>>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let uploads = desk.store.uploads_since(now_ms() - DAY_MS).await?;
    let letters = desk.store.letters_since(now_ms() - DAY_MS).await?;
    let uploads: Vec<Value> = uploads
        .into_iter()
        .map(|u| {
            context! { at => desk.cfg.office.local_time(u.received_at), name => u.original_name,
            state => u.state, error => u.error, code => u.tracking_code }
        })
        .collect();
    let waiting = letters.iter().filter(|l| l.printed_at.is_none()).count();
    let letters: Vec<Value> = letters
        .into_iter()
        .map(|l| {
            context! { code => l.tracking_code, purpose => l.purpose,
            at => desk.cfg.office.local_time(l.created_at),
            printed => l.printed_at.map(|p| desk.cfg.office.local_time(p)) }
        })
        .collect();
    let ctx = context! {
        uploads => uploads, letters => letters, waiting => waiting, result => result,
        error => error, max_mb => desk.cfg.web.max_upload_bytes / (1024 * 1024),
    };
    let ctx = Value::from_iter(merge_values(base(desk, caller, "Ruang surat"), ctx));
    Ok(page("mailroom.html", ctx)?.into_response())
}

/// `GET /mailroom`
async fn mailroom(
    State(desk): State<AppState>,
    PageCaller(caller): PageCaller,
) -> Result<Response, PageError> {
    if !policy::works_mailroom(&caller.user) {
        return Err(DeskError::Forbidden.into());
    }
    render_mailroom(&desk, &caller, None, None).await
}

/// A file name from a browser, reduced to its last component with no control characters.
fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .chars()
        .take(150)
        .collect();
    if cleaned.is_empty() {
        "scan".into()
    } else {
        cleaned
    }
}

/// `POST /mailroom/upload` (multipart): each file becomes a case like `loket import` makes;
/// `loket run` reads and acknowledges them.
async fn upload(
    State(desk): State<AppState>,
    PageCaller(caller): PageCaller,
    mut form: Multipart,
) -> Result<Response, PageError> {
    if !policy::works_mailroom(&caller.user) {
        return Err(DeskError::Forbidden.into());
    }
    let dir = tempfile::tempdir().map_err(|e| DeskError::Internal(format!("upload dir: {e}")))?;
    let mut details = ApplicantDetails::default();
    let mut csrf = None;
    let mut files = Vec::new();
    let too_large = |_| DeskError::TooLarge(desk.cfg.web.max_upload_bytes);
    while let Some(field) = form.next_field().await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            too_large(())
        } else {
            DeskError::Invalid(format!("unggahan tidak sah: {}", e.body_text()))
        }
    })? {
        let name = field.name().unwrap_or("").to_string();
        if name == "files" {
            let filename = clean_name(field.file_name().unwrap_or("scan"));
            let data = field.bytes().await.map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    too_large(())
                } else {
                    DeskError::Invalid(format!("unggahan terputus: {}", e.body_text()))
                }
            })?;
            if data.is_empty() {
                continue;
            }
            // One folder per file keeps its name as the applicant's clerk gave it.
            let sub = dir.path().join(files.len().to_string());
            let path = sub.join(&filename);
            std::fs::create_dir(&sub)
                .and_then(|_| std::fs::write(&path, &data))
                .map_err(|e| DeskError::Internal(format!("write upload: {e}")))?;
            files.push((filename, path));
            continue;
        }
        let value = field
            .text()
            .await
            .map_err(|e| DeskError::Invalid(e.body_text()))?;
        let value = Some(value.trim().to_string()).filter(|v| !v.is_empty());
        match name.as_str() {
            "csrf_token" => csrf = value,
            "name" => details.name = value,
            "address" => details.address = value,
            "email" => details.email = value,
            "phone" => details.phone = value,
            _ => {}
        }
    }
    caller.check_csrf(csrf.as_deref())?;
    if files.is_empty() {
        return render_mailroom(
            &desk,
            &caller,
            None,
            Some("Pilih minimal satu berkas.".into()),
        )
        .await;
    }
    let intake = Intake {
        store: desk.store.clone(),
        blobs: desk.blobs.clone(),
        wake: std::sync::Arc::new(tokio::sync::Notify::new()),
        worker_id: format!("serve:{}", caller.username()),
        max_message_bytes: desk.cfg.limits.max_message_bytes,
        max_file_bytes: desk.cfg.spool.max_file_bytes,
    };
    let details = (!details.is_empty()).then_some(details);
    let mut result = Vec::new();
    for (name, path) in &files {
        let outcome = store_file(&intake, path, details.as_ref(), Origin::Import, false).await;
        let (ok, note) = match outcome {
            Ok(s) => (true, format!("{} berkas diterima", s.len())),
            Err(e) => (false, crate::pipeline::error_chain(&e)),
        };
        tracing::info!(user = caller.username(), file = %name, ok, "mail-room upload");
        result.push(context! { name => name, ok => ok, note => note });
    }
    render_mailroom(&desk, &caller, Some(result), None).await
}

/// `POST /mailroom/letters`: the letters not yet printed, as one A4 PDF download; they are
/// marked printed once the PDF is made.
async fn print(
    State(desk): State<AppState>,
    PageCaller(caller): PageCaller,
    axum::Form(f): axum::Form<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    if !policy::works_mailroom(&caller.user) {
        return Err(DeskError::Forbidden.into());
    }
    caller.check_csrf(f.get("csrf_token").map(String::as_str))?;
    let dir = tempfile::tempdir().map_err(|e| DeskError::Internal(format!("letters dir: {e}")))?;
    let out = dir.path().join("surat.pdf");
    let n = crate::printing::print_with(&desk.store, &desk.cfg, &desk.catalogue, &[], &out)
        .await
        .map_err(|e| DeskError::Internal(format!("{e:#}")))?;
    if n == 0 {
        return render_mailroom(
            &desk,
            &caller,
            None,
            Some("Tidak ada surat yang perlu dicetak.".into()),
        )
        .await;
    }
    let pdf = std::fs::read(&out).map_err(|e| DeskError::Internal(format!("read letters: {e}")))?;
    tracing::info!(
        user = caller.username(),
        letters = n,
        "letters printed from the desk"
    );
    let name = format!("surat-{}.pdf", &rfc3339(now_ms())[..10]);
    let mut r = pdf.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}
