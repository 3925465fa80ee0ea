//! The outbox: every mail loket sends is rendered and stored here, once, before any attempt to
//! send it; one row per (case, purpose) by a unique index.

use super::ids::{CaseId, OutboxId};
use super::now_ms;
use super::store::{Conn, QueryContext, StoreError};

/// A mail to send.
#[derive(Debug, Clone)]
pub struct NewOutbox<'a> {
    /// `None` for an answer that belongs to no case (a stranger's status question).
    pub case_id: Option<CaseId>,
    /// `ack:<message id>`, ...: what the mail is for; at most one per case and purpose.
    pub purpose: &'a str,
    pub to_addr: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub message_id: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub references: &'a str,
}

/// Insert an outbox mail once per (case, purpose), or per purpose for mail of no case; None if it
/// already exists.
pub async fn insert(conn: &mut Conn, o: &NewOutbox<'_>) -> Result<Option<OutboxId>, StoreError> {
    insert_in_state(conn, o, "pending").await
}

/// Insert an acknowledgement held back by the rate limit (state `held`, never sent by itself:
/// a combined message lists it later, see [`super::ratelimit`]); None if it already exists.
pub async fn insert_held(
    conn: &mut Conn,
    o: &NewOutbox<'_>,
) -> Result<Option<OutboxId>, StoreError> {
    insert_in_state(conn, o, "held").await
}

async fn insert_in_state(
    conn: &mut Conn,
    o: &NewOutbox<'_>,
    state: &'static str,
) -> Result<Option<OutboxId>, StoreError> {
    let sql = if o.case_id.is_some() {
        "INSERT INTO outbox (case_id, purpose, to_addr, subject, body, message_id, in_reply_to, references_ids, \
         state, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10, $9) \
         ON CONFLICT (case_id, purpose) DO NOTHING RETURNING id"
    } else {
        "INSERT INTO outbox (case_id, purpose, to_addr, subject, body, message_id, in_reply_to, references_ids, \
         state, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10, $9) \
         ON CONFLICT (purpose) WHERE case_id IS NULL DO NOTHING RETURNING id"
    };
    sqlx::query_scalar(sql)
        .bind(o.case_id)
        .bind(o.purpose)
        .bind(o.to_addr)
        .bind(o.subject)
        .bind(o.body)
        .bind(o.message_id)
        .bind(o.in_reply_to)
        .bind(o.references)
        .bind(now_ms())
        .bind(state)
        .fetch_optional(conn)
        .await
        .what("insert outbox")
}

/// A stored mail.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxMail {
    pub id: OutboxId,
    /// `None`: an answer that belongs to no case.
    pub case_id: Option<CaseId>,
    /// `ack:<message id>`, `notice:<department>`, ...
    pub purpose: String,
    pub to_addr: String,
    pub subject: String,
    pub body: String,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references_ids: Option<String>,
    /// `pending`, `sent`, `failed`; `held` and `combined` for acknowledgements the rate limit
    /// held back.
    pub state: String,
}

impl OutboxMail {
    pub fn is_pending(&self) -> bool {
        self.state == "pending"
    }
}

pub async fn get(conn: &mut Conn, id: OutboxId) -> Result<OutboxMail, StoreError> {
    sqlx::query_as(
        "SELECT id, case_id, purpose, to_addr, subject, body, message_id, in_reply_to, references_ids, state \
         FROM outbox WHERE id = $1",
    )
    .bind(id)
    .fetch_one(conn)
    .await
    .what("load outbox mail")
}

/// The SMTP server accepted the mail. True the first time (false if it was recorded already).
pub async fn mark_sent(conn: &mut Conn, id: OutboxId) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE outbox SET state = 'sent', sent_at = $1, error = NULL WHERE id = $2 AND state <> 'sent'",
    )
    .bind(now_ms())
    .bind(id)
    .execute(conn)
    .await
    .what("mark mail sent")?;
    Ok(done.rows_affected() == 1)
}

/// Sending failed for good; returns the case.
pub async fn mark_failed(
    conn: &mut Conn,
    id: OutboxId,
    error: &str,
) -> Result<Option<CaseId>, StoreError> {
    sqlx::query("UPDATE outbox SET state = 'failed', error = $1 WHERE id = $2")
        .bind(error)
        .bind(id)
        .execute(&mut *conn)
        .await
        .what("record failed mail")?;
    let case: Option<Option<CaseId>> =
        sqlx::query_scalar("SELECT case_id FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await
            .what("find case")?;
    Ok(case.flatten())
}
