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
    /// A permanent bounce said mail to `email` cannot be delivered (cleared when a message
    /// comes from it again).
    pub email_undeliverable: bool,
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
    /// Pages (from 1) OCR found handwritten; only in `cases show`, left out when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub handwritten_pages: Vec<u32>,
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
    /// The officer's username for desk actions; absent for loket's own steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
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
    /// The officer the case is assigned to (username), if any.
    pub assignee: Option<String>,
    /// The service-standard deadline (office-local date), once the file is complete.
    pub due_date: Option<String>,
    /// Tracking codes that a message from someone other than the applicant named.
    pub mentions: Vec<String>,
    /// The applicant wrote again (a reply, more documents) since an officer last opened it.
    pub news: bool,
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

/// Filters of `cases list` and the desk's queues. Every `Some` narrows the list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub department: Option<String>,
    pub status: Option<String>,
    pub kind: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    pub permit_type: Option<String>,
    pub assignee: Option<String>,
    /// Only these departments (a department officer's scope); `Some(vec![])` matches nothing.
    pub departments: Option<Vec<String>>,
    /// Only cases waiting for triage: no department, or an application without permit type.
    pub triage: bool,
    /// Only open cases (not approved, rejected or closed).
    pub open: bool,
    /// Only these cases (search results), in this order.
    pub ids: Option<Vec<CaseId>>,
}

impl CaseFilter {
    /// The WHERE clause and its text binds, in order.
    pub(crate) fn where_clause(&self) -> (String, Vec<String>) {
        let mut sql = String::from("WHERE 1=1");
        let mut binds: Vec<String> = Vec::new();
        let mut eq = |col: &str, v: &Option<String>, sql: &mut String| {
            if let Some(v) = v {
                binds.push(v.clone());
                sql.push_str(&format!(" AND {col} = ${}", binds.len()));
            }
        };
        eq("department", &self.department, &mut sql);
        eq("status", &self.status, &mut sql);
        eq("kind", &self.kind, &mut sql);
        eq("permit_type", &self.permit_type, &mut sql);
        eq("assignee", &self.assignee, &mut sql);
        if let Some(depts) = &self.departments {
            if depts.is_empty() {
                sql.push_str(" AND 1=0");
            } else {
                let marks: Vec<String> = depts
                    .iter()
                    .map(|d| {
                        binds.push(d.clone());
                        format!("${}", binds.len())
                    })
                    .collect();
                sql.push_str(&format!(" AND department IN ({})", marks.join(", ")));
            }
        }
        if self.triage {
            sql.push_str(
                " AND (department IS NULL OR (kind = 'application' AND permit_type IS NULL))",
            );
        }
        if self.open {
            sql.push_str(" AND status NOT IN ('approved', 'rejected', 'closed')");
        }
        if let Some(ids) = &self.ids {
            if ids.is_empty() {
                sql.push_str(" AND 1=0");
            } else {
                // Ids are integers of our own making: inline them.
                let list: Vec<String> = ids.iter().map(|i| i.0.to_string()).collect();
                sql.push_str(&format!(" AND id IN ({})", list.join(", ")));
            }
        }
        (sql, binds)
    }
}

const CASE_COLUMNS: &str = "id, tracking_code, channel, kind, status, permit_type, department, application_type, \
    confidence, triage, applicant_name, applicant_email, applicant_address, applicant_phone, subject, body, \
    no_reply, decision, requirements, missing, error, received_at, assignee, due_date, mentions, news_at, \
    (SELECT COUNT(*) FROM undeliverable u WHERE u.address = lower(cases.applicant_email)) AS undeliverable";

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
    assignee: Option<String>,
    due_date: Option<String>,
    mentions: Option<String>,
    news_at: Option<i64>,
    undeliverable: i64,
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
                email_undeliverable: self.undeliverable > 0,
            },
            subject: self.subject,
            received_at: rfc3339(self.received_at),
            documents: Vec::new(),
            requirements: json_or(self.requirements),
            missing: json_or(self.missing),
            assignee: self.assignee,
            due_date: self.due_date,
            mentions: json_or(self.mentions),
            news: self.news_at.is_some(),
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
    page_info: Option<String>,
}

/// Pages (from 1) marked `"handwriting": true` in a document's page info JSON.
fn handwritten_pages(page_info: Option<&str>) -> Vec<u32> {
    let pages: Vec<serde_json::Value> = page_info
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_default();
    pages
        .iter()
        .zip(1u32..)
        .filter(|(p, _)| p.get("handwriting").and_then(|h| h.as_bool()) == Some(true))
        .map(|(_, n)| n)
        .collect()
}

#[derive(sqlx::FromRow)]
struct EventRecord {
    at: i64,
    event: String,
    detail: Option<String>,
    actor: Option<String>,
}

impl Store {
    /// Cases, newest first (or in the order of `f.ids` when given).
    pub async fn list_cases(&self, f: &CaseFilter) -> Result<Vec<CaseView>, StoreError> {
        let (clause, binds) = f.where_clause();
        let n = binds.len();
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases {clause} ORDER BY received_at DESC, id DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let mut q = sqlx::query_as::<_, CaseRecord>(&sql);
        for b in &binds {
            q = q.bind(b);
        }
        let rows: Vec<CaseRecord> = q
            .bind(f.limit.unwrap_or(i64::MAX))
            .bind(f.offset.unwrap_or(0))
            .fetch_all(self.pool())
            .await
            .what("list cases")?;
        let ids: Vec<CaseId> = rows.iter().map(|r| r.id).collect();
        let mut docs = self.documents_of(&ids).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let (id, mut view, _) = r.into_view();
            view.documents = docs.remove(&id).unwrap_or_default();
            out.push((id, view));
        }
        if let Some(ids) = &f.ids {
            out.sort_by_key(|(id, _)| ids.iter().position(|i| i == id));
        }
        Ok(out.into_iter().map(|(_, v)| v).collect())
    }

    /// How many cases match (for pagination), ignoring limit and offset.
    pub async fn count_cases(&self, f: &CaseFilter) -> Result<i64, StoreError> {
        let (clause, binds) = f.where_clause();
        let sql = format!("SELECT COUNT(*) FROM cases {clause}");
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for b in &binds {
            q = q.bind(b);
        }
        q.fetch_one(self.pool()).await.what("count cases")
    }

    /// Cases per status within a filter's scope (its `status` ignored), for the queue's tabs.
    pub async fn count_by_status(&self, f: &CaseFilter) -> Result<Vec<(String, i64)>, StoreError> {
        let f = CaseFilter {
            status: None,
            open: false,
            ..f.clone()
        };
        let (clause, binds) = f.where_clause();
        let sql = format!("SELECT status, COUNT(*) FROM cases {clause} GROUP BY status");
        let mut q = sqlx::query_as::<_, (String, i64)>(&sql);
        for b in &binds {
            q = q.bind(b);
        }
        q.fetch_all(self.pool()).await.what("count cases by status")
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

    /// The documents of many cases in one query, without their text (lists count its
    /// characters in the database).
    async fn documents_of(
        &self,
        ids: &[CaseId],
    ) -> Result<std::collections::HashMap<CaseId, Vec<DocumentView>>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            case_id: CaseId,
            filename: String,
            content_type: String,
            sha256: String,
            size: i64,
            pages: Option<i64>,
            doc_type: Option<String>,
            text_chars: Option<i64>,
            error: Option<String>,
        }
        let mut out: std::collections::HashMap<CaseId, Vec<DocumentView>> = Default::default();
        if ids.is_empty() {
            return Ok(out);
        }
        // Ids are integers of our own making: inline them.
        let list: Vec<String> = ids.iter().map(|i| i.0.to_string()).collect();
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT case_id, filename, content_type, sha256, size, pages, doc_type, \
             CAST(LENGTH(text) AS BIGINT) AS text_chars, error FROM documents \
             WHERE case_id IN ({}) ORDER BY case_id, position, id",
            list.join(", ")
        ))
        .fetch_all(self.pool())
        .await
        .what("list documents")?;
        for r in rows {
            out.entry(r.case_id).or_default().push(DocumentView {
                filename: r.filename,
                content_type: r.content_type,
                sha256: r.sha256,
                size: r.size,
                pages: r.pages,
                doc_type: r.doc_type,
                text_chars: r.text_chars.unwrap_or(0),
                error: r.error,
                text: None,
                handwritten_pages: Vec::new(),
            });
        }
        Ok(out)
    }

    async fn documents(
        &self,
        case_id: CaseId,
        with_text: bool,
    ) -> Result<Vec<DocumentView>, StoreError> {
        let rows: Vec<DocumentRecord> = sqlx::query_as(
            "SELECT filename, content_type, sha256, size, pages, doc_type, text, error, page_info \
             FROM documents WHERE case_id = $1 ORDER BY position, id",
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
                handwritten_pages: handwritten_pages(r.page_info.as_deref()),
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
            "SELECT at, event, detail, actor FROM events WHERE case_id = $1 ORDER BY at, id",
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
                actor: r.actor,
            })
            .collect())
    }
}
