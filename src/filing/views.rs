//! Reading cases back: the JSON shapes of SPEC.md (`cases list --json`, `cases show --json`).

use serde::Serialize;

use super::ids::CaseId;
use super::rfc3339;
use super::store::{QueryContext, Store, StoreError};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Applicant {
    pub name: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DocumentView {
    pub filename: String,
    pub content_type: String,
    pub sha256: String,
    pub size: i64,
    pub pages: Option<i64>,
    pub doc_type: Option<String>,
    pub text_chars: i64,
    pub error: Option<String>,
    /// Only in `cases show`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A requirement of the permit type and whether the documents satisfy it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct RequirementView {
    pub id: String,
    pub name: String,
    pub required: bool,
    pub satisfied: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EventView {
    pub at: String,
    pub event: String,
    pub detail: String,
}

/// One case as SPEC.md describes it; `history` and the fields after it only in `cases show`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CaseView {
    pub tracking_code: String,
    pub channel: String,
    pub kind: String,
    pub permit_type: Option<String>,
    pub permit_type_name: Option<String>,
    pub department: Option<String>,
    pub department_name: Option<String>,
    pub status: String,
    pub applicant: Applicant,
    pub subject: Option<String>,
    pub received_at: String,
    pub documents: Vec<DocumentView>,
    pub requirements: Vec<RequirementView>,
    pub missing: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<EventView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<CaseDetails>,
}

/// Extra fields of `cases show`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CaseDetails {
    pub application_type: Option<String>,
    pub confidence: Option<f64>,
    pub triage: bool,
    pub error: Option<String>,
    /// Why no acknowledgement is sent (auto-reply, bounce, list...), if so.
    pub no_reply: Option<String>,
    pub body: Option<String>,
    /// The engine's decision with its reasons and identifiers.
    pub decision: Option<serde_json::Value>,
}

/// Filters of `cases list`.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub department: Option<String>,
    pub status: Option<String>,
    pub kind: Option<String>,
    pub limit: Option<i64>,
}

const CASE_COLUMNS: &str = "id, tracking_code, channel, kind, status, permit_type, department, application_type, \
    confidence, triage, applicant_name, applicant_email, applicant_address, applicant_phone, subject, body, \
    no_reply, decision, requirements, missing, error, received_at";

fn json_or<T: serde::de::DeserializeOwned + Default>(s: Option<String>) -> T {
    s.and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

#[derive(sqlx::FromRow)]
struct CaseRecord {
    id: CaseId,
    tracking_code: String,
    channel: String,
    kind: String,
    status: String,
    permit_type: Option<String>,
    department: Option<String>,
    application_type: Option<String>,
    confidence: Option<f64>,
    triage: i64,
    applicant_name: Option<String>,
    applicant_email: Option<String>,
    applicant_address: Option<String>,
    applicant_phone: Option<String>,
    subject: Option<String>,
    body: Option<String>,
    no_reply: Option<String>,
    decision: Option<String>,
    requirements: Option<String>,
    missing: Option<String>,
    error: Option<String>,
    received_at: i64,
}

impl CaseRecord {
    fn into_view(self) -> (CaseId, CaseView, CaseDetails) {
        let decision: Option<serde_json::Value> = self
            .decision
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok());
        let name_of = |key: &str| {
            decision
                .as_ref()
                .and_then(|d| d.get(key))
                .and_then(|v| v.as_str())
                .map(String::from)
        };
        let view = CaseView {
            tracking_code: self.tracking_code,
            channel: self.channel,
            kind: self.kind,
            permit_type: self.permit_type,
            permit_type_name: name_of("permit_type_name"),
            department: self.department,
            department_name: name_of("department_name"),
            status: self.status,
            applicant: Applicant {
                name: self.applicant_name,
                email: self.applicant_email,
                address: self.applicant_address,
                phone: self.applicant_phone,
            },
            subject: self.subject,
            received_at: rfc3339(self.received_at),
            documents: Vec::new(),
            requirements: json_or(self.requirements),
            missing: json_or(self.missing),
            history: None,
            details: None,
        };
        let details = CaseDetails {
            application_type: self.application_type,
            confidence: self.confidence,
            triage: self.triage != 0,
            error: self.error,
            no_reply: self.no_reply,
            body: self.body,
            decision,
        };
        (self.id, view, details)
    }
}

#[derive(sqlx::FromRow)]
struct DocumentRecord {
    filename: String,
    content_type: String,
    sha256: String,
    size: i64,
    pages: Option<i64>,
    doc_type: Option<String>,
    text: Option<String>,
    error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct EventRecord {
    at: i64,
    event: String,
    detail: Option<String>,
}

impl Store {
    /// Cases, newest first.
    pub async fn list_cases(&self, f: &CaseFilter) -> Result<Vec<CaseView>, StoreError> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE ($1 IS NULL OR department = $1) AND ($2 IS NULL OR status = $2) \
             AND ($3 IS NULL OR kind = $3) ORDER BY received_at DESC, id DESC LIMIT $4"
        );
        let rows: Vec<CaseRecord> = sqlx::query_as(&sql)
            .bind(&f.department)
            .bind(&f.status)
            .bind(&f.kind)
            .bind(f.limit.unwrap_or(i64::MAX))
            .fetch_all(self.pool())
            .await
            .what("list cases")?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let (id, mut view, _) = r.into_view();
            view.documents = self.documents(id, false).await?;
            out.push(view);
        }
        Ok(out)
    }

    /// One case with documents' text, history and details; None if unknown.
    pub async fn show_case(&self, code: &str) -> Result<Option<CaseView>, StoreError> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE tracking_code = $1");
        let Some(r) = sqlx::query_as::<_, CaseRecord>(&sql)
            .bind(code)
            .fetch_optional(self.pool())
            .await
            .what("load case")?
        else {
            return Ok(None);
        };
        let (id, mut view, details) = r.into_view();
        view.documents = self.documents(id, true).await?;
        view.history = Some(self.history(id).await?);
        view.details = Some(details);
        Ok(Some(view))
    }

    async fn documents(
        &self,
        case_id: CaseId,
        with_text: bool,
    ) -> Result<Vec<DocumentView>, StoreError> {
        let rows: Vec<DocumentRecord> = sqlx::query_as(
            "SELECT filename, content_type, sha256, size, pages, doc_type, text, error FROM documents \
             WHERE case_id = $1 ORDER BY position, id",
        )
        .bind(case_id)
        .fetch_all(self.pool())
        .await
        .what("list documents")?;
        Ok(rows
            .into_iter()
            .map(|r| DocumentView {
                text_chars: r
                    .text
                    .as_deref()
                    .map(|t| t.chars().count() as i64)
                    .unwrap_or(0),
                text: with_text.then(|| r.text.unwrap_or_default()),
                filename: r.filename,
                content_type: r.content_type,
                sha256: r.sha256,
                size: r.size,
                pages: r.pages,
                doc_type: r.doc_type,
                error: r.error,
            })
            .collect())
    }

    async fn history(&self, case_id: CaseId) -> Result<Vec<EventView>, StoreError> {
        let rows: Vec<EventRecord> = sqlx::query_as(
            "SELECT at, event, detail FROM events WHERE case_id = $1 ORDER BY at, id",
        )
        .bind(case_id)
        .fetch_all(self.pool())
        .await
        .what("list events")?;
        Ok(rows
            .into_iter()
            .map(|r| EventView {
                at: rfc3339(r.at),
                event: r.event,
                detail: r.detail.unwrap_or_default(),
            })
            .collect())
    }
}
