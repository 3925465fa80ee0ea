//! Writing the pipeline's records: messages, cases, documents, events, outbox.
//!
//! Each function takes the open transaction of the step that calls it, so a step's effects
//! commit together with the next step's job.

use sqlx::{AnyConnection, Row};

use super::now_ms;
use super::store::{QueryContext, StoreError};
use crate::domain::{Channel, Kind, Status, TrackingCode};

/// A raw message (email, or a scanned file from the mail room) stored as a blob.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub source: &'a str,
    pub mailbox: Option<&'a str>,
    pub uidvalidity: Option<i64>,
    pub uid: Option<i64>,
    pub sha256: &'a str,
    pub size: i64,
    pub truncated: bool,
    pub message_id: Option<&'a str>,
    pub original_name: Option<&'a str>,
    /// Applicant details typed by the mail-room clerk (JSON).
    pub details: Option<&'a str>,
}

/// Insert a message row; None when the same mailbox UID is already stored.
pub async fn insert_message(
    conn: &mut AnyConnection,
    m: &NewMessage<'_>,
) -> Result<Option<i64>, StoreError> {
    let row = sqlx::query(
        "INSERT INTO messages (source, mailbox, uidvalidity, uid, sha256, size, truncated, message_id, \
         original_name, details, received_at, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'new') \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(m.source)
    .bind(m.mailbox)
    .bind(m.uidvalidity)
    .bind(m.uid)
    .bind(m.sha256)
    .bind(m.size)
    .bind(m.truncated as i64)
    .bind(m.message_id)
    .bind(m.original_name)
    .bind(m.details)
    .bind(now_ms())
    .fetch_optional(conn)
    .await
    .what("insert message")?;
    row.map(|r| r.try_get::<i64, _>(0))
        .transpose()
        .what("read message id")
}

/// A stored message row.
#[derive(Debug, Clone)]
pub struct MessageRow {
    pub id: i64,
    pub source: String,
    pub mailbox: Option<String>,
    pub uidvalidity: Option<i64>,
    pub uid: Option<i64>,
    pub sha256: String,
    pub size: i64,
    pub truncated: bool,
    pub original_name: Option<String>,
    pub details: Option<String>,
    pub received_at: i64,
    pub case_id: Option<i64>,
}

pub async fn message(conn: &mut AnyConnection, id: i64) -> Result<MessageRow, StoreError> {
    let r = sqlx::query(
        "SELECT id, source, mailbox, uidvalidity, uid, sha256, size, truncated, original_name, details, received_at, case_id \
         FROM messages WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
    .what("load message")?
    .ok_or_else(|| StoreError::NotFound(format!("message {id}")))?;
    let get = |e| StoreError::Query {
        what: "read message",
        source: e,
    };
    Ok(MessageRow {
        id: r.try_get("id").map_err(get)?,
        source: r.try_get("source").map_err(get)?,
        mailbox: r.try_get("mailbox").map_err(get)?,
        uidvalidity: r.try_get("uidvalidity").map_err(get)?,
        uid: r.try_get("uid").map_err(get)?,
        sha256: r.try_get("sha256").map_err(get)?,
        size: r.try_get("size").map_err(get)?,
        truncated: r.try_get::<i64, _>("truncated").map_err(get)? != 0,
        original_name: r.try_get("original_name").map_err(get)?,
        details: r.try_get("details").map_err(get)?,
        received_at: r.try_get("received_at").map_err(get)?,
        case_id: r.try_get("case_id").map_err(get)?,
    })
}

/// Record what became of a message.
pub async fn set_message_state(
    conn: &mut AnyConnection,
    id: i64,
    state: &str,
    case_id: Option<i64>,
    error: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE messages SET state = $1, case_id = $2, error = $3 WHERE id = $4")
        .bind(state)
        .bind(case_id)
        .bind(error)
        .bind(id)
        .execute(conn)
        .await
        .what("update message")?;
    Ok(())
}

/// What intake learned from a message's headers.
#[derive(Debug, Clone, Default)]
pub struct MessageHeaders {
    pub message_id: Option<String>,
    pub sender: Option<String>,
    pub subject: Option<String>,
    /// References plus the message's own id: the References of a reply to it.
    pub references: Vec<String>,
    pub no_reply: Option<String>,
}

/// Record a message's headers and the case it belongs to, marking it filed.
pub async fn file_message(
    conn: &mut AnyConnection,
    id: i64,
    h: &MessageHeaders,
    state: &str,
    case_id: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE messages SET message_id = $1, sender = $2, subject = $3, references_ids = $4, no_reply = $5, \
         state = $6, case_id = $7 WHERE id = $8",
    )
    .bind(&h.message_id)
    .bind(&h.sender)
    .bind(&h.subject)
    .bind(h.references.join(" "))
    .bind(&h.no_reply)
    .bind(state)
    .bind(case_id)
    .bind(id)
    .execute(conn)
    .await
    .what("file message")?;
    Ok(())
}

/// The case an identical copy of this message (same bytes) was filed as.
pub async fn case_of_identical(
    conn: &mut AnyConnection,
    sha256: &str,
    except_message: i64,
) -> Result<Option<i64>, StoreError> {
    sqlx::query_scalar(
        "SELECT case_id FROM messages WHERE sha256 = $1 AND state = 'filed' AND id <> $2 LIMIT 1",
    )
    .bind(sha256)
    .bind(except_message)
    .fetch_optional(conn)
    .await
    .what("find identical copy")
    .map(Option::flatten)
}

/// The case an earlier copy of this message (same Message-ID and sender) was filed as.
pub async fn case_of_message_id(
    conn: &mut AnyConnection,
    message_id: &str,
    sender: &str,
    except_message: i64,
) -> Result<Option<i64>, StoreError> {
    sqlx::query_scalar(
        "SELECT c.id FROM cases c JOIN messages m ON m.case_id = c.id \
         WHERE m.message_id = $1 AND lower(c.applicant_email) = $2 AND m.id <> $3 LIMIT 1",
    )
    .bind(message_id)
    .bind(sender.to_lowercase())
    .bind(except_message)
    .fetch_optional(conn)
    .await
    .what("find earlier copy")
}

/// A new case, before sorting.
#[derive(Debug, Clone, Default)]
pub struct NewCase {
    pub channel: Option<Channel>,
    pub applicant_name: Option<String>,
    pub applicant_email: Option<String>,
    pub applicant_address: Option<String>,
    pub applicant_phone: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub no_reply: Option<String>,
    pub error: Option<String>,
    pub received_at: i64,
}

/// Insert a case with a fresh tracking code (a collision, 1 in 2^45, just draws again).
pub async fn insert_case(
    conn: &mut AnyConnection,
    office: &str,
    c: &NewCase,
) -> Result<(i64, TrackingCode), StoreError> {
    loop {
        let code =
            TrackingCode::generate(office).map_err(|e| StoreError::NotFound(e.to_string()))?;
        let row = sqlx::query(
            "INSERT INTO cases (tracking_code, channel, kind, status, applicant_name, applicant_email, \
             applicant_address, applicant_phone, subject, body, no_reply, error, received_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (tracking_code) DO NOTHING RETURNING id",
        )
        .bind(code.to_string())
        .bind(c.channel.unwrap_or(Channel::Email).as_str())
        .bind(Kind::Other.as_str())
        .bind(Status::Received.as_str())
        .bind(&c.applicant_name)
        .bind(&c.applicant_email)
        .bind(&c.applicant_address)
        .bind(&c.applicant_phone)
        .bind(&c.subject)
        .bind(&c.body)
        .bind(&c.no_reply)
        .bind(&c.error)
        .bind(c.received_at)
        .bind(now_ms())
        .fetch_optional(&mut *conn)
        .await
        .what("insert case")?;
        if let Some(row) = row {
            return Ok((row.try_get(0).what("read case id")?, code));
        }
    }
}

/// A document (attachment or scanned file) of a case, stored as a blob, text not read yet.
#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    pub case_id: i64,
    pub position: i64,
    pub filename: &'a str,
    pub original_filename: Option<&'a str>,
    pub declared_type: &'a str,
    pub sha256: &'a str,
    pub size: i64,
}

pub async fn insert_document(
    conn: &mut AnyConnection,
    d: &NewDocument<'_>,
) -> Result<i64, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO documents (case_id, position, filename, original_filename, declared_type, content_type, \
         sha256, size, state) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, 'pending') RETURNING id",
    )
    .bind(d.case_id)
    .bind(d.position)
    .bind(d.filename)
    .bind(d.original_filename)
    .bind(d.declared_type)
    .bind(d.sha256)
    .bind(d.size)
    .fetch_one(conn)
    .await
    .what("insert document")
}

/// Append to a case's history.
pub async fn add_event(
    conn: &mut AnyConnection,
    case_id: i64,
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
pub async fn lock_case(conn: &mut AnyConnection, case_id: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE cases SET updated_at = $1 WHERE id = $2")
        .bind(now_ms())
        .bind(case_id)
        .execute(conn)
        .await
        .what("lock case")?;
    Ok(())
}

/// A mail to send, rendered and stored before any attempt to send it.
#[derive(Debug, Clone)]
pub struct NewOutbox<'a> {
    pub case_id: i64,
    pub purpose: &'a str,
    pub to_addr: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub message_id: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub references: &'a str,
}

/// Insert an outbox mail once per (case, purpose); None if it already exists.
pub async fn insert_outbox(
    conn: &mut AnyConnection,
    o: &NewOutbox<'_>,
) -> Result<Option<i64>, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO outbox (case_id, purpose, to_addr, subject, body, message_id, in_reply_to, references_ids, \
         state, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9) \
         ON CONFLICT (case_id, purpose) DO NOTHING RETURNING id",
    )
    .bind(o.case_id)
    .bind(o.purpose)
    .bind(o.to_addr)
    .bind(o.subject)
    .bind(o.body)
    .bind(o.message_id)
    .bind(o.in_reply_to)
    .bind(o.references)
    .bind(now_ms())
    .fetch_optional(conn)
    .await
    .what("insert outbox")
}

/// The tracking code of a case.
pub async fn tracking_code_of(
    conn: &mut AnyConnection,
    case_id: i64,
) -> Result<String, StoreError> {
    sqlx::query_scalar("SELECT tracking_code FROM cases WHERE id = $1")
        .bind(case_id)
        .fetch_one(conn)
        .await
        .what("read tracking code")
}

/// A case with this tracking code whose applicant is `sender`.
pub async fn case_by_code_and_sender(
    conn: &mut AnyConnection,
    code: &str,
    sender: &str,
) -> Result<Option<i64>, StoreError> {
    sqlx::query_scalar(
        "SELECT id FROM cases WHERE tracking_code = $1 AND lower(applicant_email) = $2",
    )
    .bind(code)
    .bind(sender.to_lowercase())
    .fetch_optional(conn)
    .await
    .what("find case by code")
}

/// How many documents a case has (positions of new ones follow).
pub async fn document_count(conn: &mut AnyConnection, case_id: i64) -> Result<i64, StoreError> {
    sqlx::query_scalar("SELECT COUNT(*) FROM documents WHERE case_id = $1")
        .bind(case_id)
        .fetch_one(conn)
        .await
        .what("count documents")
}
