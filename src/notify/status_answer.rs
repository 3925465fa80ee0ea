//! What a case's status is, as anyone holding its tracking code may see it: the public status
//! page and the automatic answer to a status question by email show exactly this. `Reply-To`
//! can be anyone, so the email answer says no more than the page.

use serde::Serialize;

use super::ack::{one_line, tidy};
use super::templates::{TemplateError, Templates};
use crate::classify::Catalogue;
use crate::config::Config;
use crate::domain::status_words::{next_step, status_label};
use crate::domain::{Kind, Status};
use crate::filing::desk::PublicCase;
use crate::filing::rfc3339;

/// Exactly the fields SPEC.md allows on the public status page.
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

/// The public view of a stored case.
pub fn public_status(case: &PublicCase, cat: &Catalogue, office_name: &str) -> PublicStatus {
    let status = Status::parse(&case.status).unwrap_or(Status::Received);
    let kind = Kind::parse(&case.kind).unwrap_or_default();
    let missing: Vec<String> = case
        .missing
        .as_deref()
        .and_then(|m| serde_json::from_str::<Vec<String>>(m).ok())
        .unwrap_or_default()
        .iter()
        .map(|id| cat.requirement_name(id).unwrap_or(id).to_string())
        .collect();
    PublicStatus {
        next_step: next_step(status, kind, &missing, office_name),
        tracking_code: case.tracking_code.clone(),
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
        due_date: case.due_date.clone(),
        missing,
    }
}

/// One case in the answer: the public view plus what the mail adds (local time, link).
#[derive(Debug, Clone, Serialize)]
struct AnswerCase {
    #[serde(flatten)]
    public: PublicStatus,
    kind_label: String,
    received_local: String,
    status_url: Option<String>,
}

/// Render the answer to a status question about `cases` (empty: nothing was found; then the
/// answer explains where the tracking code is). `unknown_codes` were named but match no case.
pub fn render(
    templates: &Templates,
    cfg: &Config,
    cases: &[(PublicStatus, i64)],
    unknown_codes: &[String],
) -> Result<(String, String), TemplateError> {
    let cases: Vec<AnswerCase> = cases
        .iter()
        .map(|(public, received_ms)| AnswerCase {
            kind_label: Kind::parse(&public.kind)
                .unwrap_or_default()
                .label_id()
                .to_string(),
            received_local: cfg.office.local_time(*received_ms),
            status_url: cfg.status_url_for(&public.tracking_code),
            public: public.clone(),
        })
        .collect();
    let value = serde_json::json!({
        "office_name": cfg.office.name,
        "cases": cases,
        "unknown_codes": unknown_codes,
        "example_code": format!("{}-XXXXX-XXXXX", cfg.office.code),
        "status_form_url": cfg.desk_url("/status"),
    });
    let subject = templates.render("status_answer_subject.txt", &value)?;
    let body = templates.render("status_answer_body.txt", &value)?;
    Ok((one_line(&subject), tidy(&body)))
}
