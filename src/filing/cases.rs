//! Cases: what the office works on, with their history.

use super::ids::CaseId;
use super::now_ms;
use super::store::{Conn, QueryContext, StoreError};
use crate::domain::{ApplicantDetails, Channel, Kind, Status, TrackingCode};

/// A new case, before sorting.
#[derive(Debug, Clone, Default)]
pub struct NewCase {
    pub channel: Option<Channel>,
    pub applicant: ApplicantDetails,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub no_reply: Option<String>,
    pub error: Option<String>,
    pub received_at: i64,
}

/// Insert a case with a fresh tracking code (a collision, 1 in 2^45, just draws again).
pub async fn insert(
    conn: &mut Conn,
    office: &str,
    c: &NewCase,
    status: Status,
) -> Result<(CaseId, TrackingCode), StoreError> {
    loop {
        let code =
            TrackingCode::generate(office).map_err(|e| StoreError::NotFound(e.to_string()))?;
        let id: Option<CaseId> = sqlx::query_scalar(
            "INSERT INTO cases (tracking_code, channel, kind, status, applicant_name, applicant_email, \
             applicant_address, applicant_phone, subject, body, no_reply, error, received_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (tracking_code) DO NOTHING RETURNING id",
        )
        .bind(code.to_string())
        .bind(c.channel.unwrap_or(Channel::Email).as_str())
        .bind(Kind::Other.as_str())
        .bind(status.as_str())
        .bind(&c.applicant.name)
        .bind(&c.applicant.email)
        .bind(&c.applicant.address)
        .bind(&c.applicant.phone)
        .bind(&c.subject)
        .bind(&c.body)
        .bind(&c.no_reply)
        .bind(&c.error)
        .bind(c.received_at)
        .bind(now_ms())
        .fetch_optional(&mut *conn)
        .await
        .what("insert case")?;
        if let Some(id) = id {
            return Ok((id, code));
        }
    }
}

/// A case that failed at intake gets its content when the intake is retried and succeeds.
pub async fn revive(conn: &mut Conn, id: CaseId, c: &NewCase) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE cases SET status = 'received', channel = $1, applicant_name = $2, applicant_email = $3, \
         applicant_address = $4, applicant_phone = $5, subject = $6, body = $7, no_reply = $8, error = $9, \
         updated_at = $10 WHERE id = $11",
    )
    .bind(c.channel.unwrap_or(Channel::Email).as_str())
    .bind(&c.applicant.name)
    .bind(&c.applicant.email)
    .bind(&c.applicant.address)
    .bind(&c.applicant.phone)
    .bind(&c.subject)
    .bind(&c.body)
    .bind(&c.no_reply)
    .bind(&c.error)
    .bind(now_ms())
    .bind(id)
    .execute(conn)
    .await
    .what("revive case")?;
    Ok(())
}

/// Processing failed for good: officers find the case with status `failed` and the reason.
pub async fn mark_failed(conn: &mut Conn, id: CaseId, error: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE cases SET status = 'failed', error = $1, updated_at = $2 WHERE id = $3")
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .execute(conn)
        .await
        .what("record failed case")?;
    Ok(())
}

/// Append to a case's history.
pub async fn add_event(
    conn: &mut Conn,
    case_id: CaseId,
    event: &str,
    detail: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO events (case_id, at, event, detail) VALUES ($1, $2, $3, $4)")
        .bind(case_id)
        .bind(now_ms())
        .bind(event)
        .bind(detail)
        .execute(conn)
        .await
        .what("add event")?;
    Ok(())
}

/// Take the case row's lock for the rest of the transaction, so steps of one case that finish
/// at the same moment (documents read in parallel) see each other's effects.
pub async fn lock(conn: &mut Conn, case_id: CaseId) -> Result<(), StoreError> {
    if conn.backend_name() == "SQLite" {
        // A write transaction (BEGIN IMMEDIATE) holds the whole database already.
        return Ok(());
    }
    sqlx::query("UPDATE cases SET updated_at = $1 WHERE id = $2")
        .bind(now_ms())
        .bind(case_id)
        .execute(conn)
        .await
        .what("lock case")?;
    Ok(())
}

/// The tracking code of a case.
pub async fn tracking_code(conn: &mut Conn, case_id: CaseId) -> Result<String, StoreError> {
    sqlx::query_scalar("SELECT tracking_code FROM cases WHERE id = $1")
        .bind(case_id)
        .fetch_one(conn)
        .await
        .what("read tracking code")
}

/// A case with this tracking code whose applicant is `sender`.
pub async fn by_code_and_sender(
    conn: &mut Conn,
    code: &str,
    sender: &str,
) -> Result<Option<CaseId>, StoreError> {
    sqlx::query_scalar(
        "SELECT id FROM cases WHERE tracking_code = $1 AND lower(applicant_email) = $2",
    )
    .bind(code)
    .bind(sender.to_lowercase())
    .fetch_optional(conn)
    .await
    .what("find case by code")
}

/// The id of the case with this tracking code.
pub async fn by_code(conn: &mut Conn, code: &str) -> Result<Option<CaseId>, StoreError> {
    sqlx::query_scalar("SELECT id FROM cases WHERE tracking_code = $1")
        .bind(code)
        .fetch_optional(conn)
        .await
        .what("find case by code")
}

#[derive(sqlx::FromRow)]
struct CaseRow {
    id: CaseId,
    tracking_code: String,
    channel: String,
    status: String,
    subject: Option<String>,
    body: Option<String>,
    applicant_name: Option<String>,
    applicant_email: Option<String>,
    applicant_address: Option<String>,
    applicant_phone: Option<String>,
    error: Option<String>,
    no_reply: Option<String>,
    received_at: i64,
    overrides: Option<String>,
    mentions: Option<String>,
    mailbox_kind: Option<String>,
}

/// A case as the sorting step reads it.
#[derive(Debug, Clone)]
pub struct CaseForSorting {
    pub id: CaseId,
    pub code: String,
    pub channel: Channel,
    pub applicant: ApplicantDetails,
    pub status: Status,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub error: Option<String>,
    /// Why the case's message must not be answered (auto-reply, bounce, list...).
    pub no_reply: Option<String>,
    pub received_at: i64,
    /// Officers' corrections (JSON of `classify::Overrides`).
    pub overrides: Option<String>,
    /// Codes of other cases its message quoted (JSON array): such a case goes to triage.
    pub mentions: Option<String>,
    /// The kind of the mailbox its first message came to (`[[mailbox]] kind`), if it has one.
    pub mailbox_kind: Option<Kind>,
}

pub async fn for_sorting(conn: &mut Conn, id: CaseId) -> Result<CaseForSorting, StoreError> {
    let r: CaseRow = sqlx::query_as(
        "SELECT id, tracking_code, channel, status, subject, body, applicant_name, applicant_email, \
         applicant_address, applicant_phone, error, no_reply, received_at, overrides, mentions, \
         (SELECT m.mailbox_kind FROM messages m WHERE m.case_id = cases.id ORDER BY m.id LIMIT 1) \
         AS mailbox_kind FROM cases WHERE id = $1",
    )
    .bind(id)
    .fetch_one(conn)
    .await
    .what("load case")?;
    let bad = |what: &str, v: &str| StoreError::NotFound(format!("case {id}: unknown {what} {v}"));
    Ok(CaseForSorting {
        id: r.id,
        code: r.tracking_code,
        channel: Channel::parse(&r.channel).ok_or_else(|| bad("channel", &r.channel))?,
        status: Status::parse(&r.status).ok_or_else(|| bad("status", &r.status))?,
        applicant: ApplicantDetails {
            name: r.applicant_name,
            address: r.applicant_address,
            email: r.applicant_email,
            phone: r.applicant_phone,
        },
        subject: r.subject,
        body: r.body,
        error: r.error,
        no_reply: r.no_reply,
        received_at: r.received_at,
        overrides: r.overrides,
        mentions: r.mentions,
        mailbox_kind: r.mailbox_kind.as_deref().and_then(Kind::parse),
    })
}

/// The sorting of a case, as stored.
#[derive(Debug, Clone)]
pub struct Sorting<'a> {
    pub kind: Kind,
    pub permit_type: Option<&'a str>,
    pub department: Option<&'a str>,
    pub application_type: Option<&'a str>,
    pub confidence: f64,
    pub triage: bool,
    /// The whole decision with reasons and identifiers (JSON).
    pub decision: String,
    /// JSON arrays.
    pub requirements: String,
    pub missing: String,
    pub status: Status,
}

pub async fn save_sorting(conn: &mut Conn, id: CaseId, s: &Sorting<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE cases SET kind = $1, permit_type = $2, department = $3, application_type = $4, confidence = $5, \
         triage = $6, decision = $7, requirements = $8, missing = $9, status = $10 WHERE id = $11",
    )
    .bind(s.kind.as_str())
    .bind(s.permit_type)
    .bind(s.department)
    .bind(s.application_type)
    .bind(s.confidence)
    .bind(s.triage as i64)
    .bind(&s.decision)
    .bind(&s.requirements)
    .bind(&s.missing)
    .bind(s.status.as_str())
    .bind(id)
    .execute(conn)
    .await
    .what("save decision")?;
    Ok(())
}

/// Applicant details read from a postal form.
pub async fn save_applicant(
    conn: &mut Conn,
    id: CaseId,
    a: &ApplicantDetails,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE cases SET applicant_name = $1, applicant_address = $2, applicant_email = $3, applicant_phone = $4 \
         WHERE id = $5",
    )
    .bind(&a.name)
    .bind(&a.address)
    .bind(&a.email)
    .bind(&a.phone)
    .bind(id)
    .execute(conn)
    .await
    .what("save applicant details")?;
    Ok(())
}

/// The applicant wrote to the case (a reply, more documents): officers see it has news.
pub async fn mark_news(conn: &mut Conn, id: CaseId) -> Result<(), StoreError> {
    sqlx::query("UPDATE cases SET news_at = $1 WHERE id = $2")
        .bind(now_ms())
        .bind(id)
        .execute(conn)
        .await
        .what("mark case as having news")?;
    Ok(())
}
