//! Reading cases back: the JSON shapes of SPEC.md (`cases list --json`, `cases show --json`).

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

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

fn case_from_row(r: &AnyRow) -> Result<(i64, CaseView, CaseDetails), sqlx::Error> {
    let decision: Option<serde_json::Value> = r
        .try_get::<Option<String>, _>("decision")?
        .and_then(|s| serde_json::from_str(&s).ok());
    let name_of = |key: &str| {
        decision
            .as_ref()
            .and_then(|d| d.get(key))
            .and_then(|v| v.as_str())
            .map(String::from)
    };
    let view = CaseView {
        tracking_code: r.try_get("tracking_code")?,
        channel: r.try_get("channel")?,
        kind: r.try_get("kind")?,
        permit_type: r.try_get("permit_type")?,
        permit_type_name: name_of("permit_type_name"),
        department: r.try_get("department")?,
        department_name: name_of("department_name"),
        status: r.try_get("status")?,
        applicant: Applicant {
            name: r.try_get("applicant_name")?,
            email: r.try_get("applicant_email")?,
            address: r.try_get("applicant_address")?,
            phone: r.try_get("applicant_phone")?,
        },
        subject: r.try_get("subject")?,
        received_at: rfc3339(r.try_get("received_at")?),
        documents: Vec::new(),
        requirements: json_or(r.try_get("requirements")?),
        missing: json_or(r.try_get("missing")?),
        history: None,
        details: None,
    };
    let details = CaseDetails {
        application_type: r.try_get("application_type")?,
        confidence: r.try_get("confidence")?,
        triage: r.try_get::<i64, _>("triage")? != 0,
        error: r.try_get("error")?,
        no_reply: r.try_get("no_reply")?,
        body: r.try_get("body")?,
        decision,
    };
    Ok((r.try_get("id")?, view, details))
}

impl Store {
    /// Cases, newest first.
    pub async fn list_cases(&self, f: &CaseFilter) -> Result<Vec<CaseView>, StoreError> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE ($1 IS NULL OR department = $1) AND ($2 IS NULL OR status = $2) \
             AND ($3 IS NULL OR kind = $3) ORDER BY received_at DESC, id DESC LIMIT $4"
        );
        let rows = sqlx::query(&sql)
            .bind(&f.department)
            .bind(&f.status)
            .bind(&f.kind)
            .bind(f.limit.unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .what("list cases")?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let (id, mut view, _) = case_from_row(r).what("read case")?;
            view.documents = self.documents(id, false).await?;
            out.push(view);
        }
        Ok(out)
    }

    /// One case with documents' text, history and details; None if unknown.
    pub async fn show_case(&self, code: &str) -> Result<Option<CaseView>, StoreError> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE tracking_code = $1");
        let Some(r) = sqlx::query(&sql)
            .bind(code)
            .fetch_optional(&self.pool)
            .await
            .what("load case")?
        else {
            return Ok(None);
        };
        let (id, mut view, details) = case_from_row(&r).what("read case")?;
        view.documents = self.documents(id, true).await?;
        view.history = Some(self.history(id).await?);
        view.details = Some(details);
        Ok(Some(view))
    }

    async fn documents(
        &self,
        case_id: i64,
        with_text: bool,
    ) -> Result<Vec<DocumentView>, StoreError> {
        let rows = sqlx::query(
            "SELECT filename, content_type, sha256, size, pages, doc_type, text, error FROM documents \
             WHERE case_id = $1 ORDER BY position, id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await
        .what("list documents")?;
        rows.iter()
            .map(|r| {
                let text: Option<String> = r.try_get("text")?;
                Ok(DocumentView {
                    filename: r.try_get("filename")?,
                    content_type: r.try_get("content_type")?,
                    sha256: r.try_get("sha256")?,
                    size: r.try_get("size")?,
                    pages: r.try_get("pages")?,
                    doc_type: r.try_get("doc_type")?,
                    text_chars: text
                        .as_deref()
                        .map(|t| t.chars().count() as i64)
                        .unwrap_or(0),
                    error: r.try_get("error")?,
                    text: if with_text {
                        Some(text.unwrap_or_default())
                    } else {
                        None
                    },
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .what("read document")
    }

    async fn history(&self, case_id: i64) -> Result<Vec<EventView>, StoreError> {
        let rows =
            sqlx::query("SELECT at, event, detail FROM events WHERE case_id = $1 ORDER BY at, id")
                .bind(case_id)
                .fetch_all(&self.pool)
                .await
                .what("list events")?;
        rows.iter()
            .map(|r| {
                Ok(EventView {
                    at: rfc3339(r.try_get("at")?),
                    event: r.try_get("event")?,
                    detail: r
                        .try_get::<Option<String>, _>("detail")?
                        .unwrap_or_default(),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .what("read event")
    }
}
