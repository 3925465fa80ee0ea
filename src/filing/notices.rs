//! Notices: what loket tells departments and postal applicants on its own, and the mail it
//! recognises as its own when it comes back.
//!
//! - A case that arrives in a department's queue (sorted there, or re-routed by an officer) is a
//!   `department_notices` row, once per case and department, with a `notice` job. That job
//!   mails it (`each`, through the outbox like every mail about a case) or leaves it for the
//!   department's daily digest.
//! - A digest is a `notice_digests` row: exactly one per department and office day across all
//!   workers (a unique key), made in one transaction that also takes the waiting notices, and
//!   sent by a `digest` job. It is not about one case, so it is not an outbox row.
//! - Status-notice letters are `letters` rows (`status:<key>`) with the status and the note.

use super::ids::{CaseId, DigestId, MessageId, NoticeId, OutboxId};
use super::jobs::{enqueue, JobTarget};
use super::messages::MessageHeaders;
use super::now_ms;
use super::store::{Conn, QueryContext, StoreError};

/// A case arrived in `department`'s queue: announce it (once per case and department; routing
/// it there again later is no news). Call it in the transaction that routes the case. Returns
/// the notice when one was made (its `notice` job is enqueued).
pub async fn case_routed(
    conn: &mut Conn,
    case_id: CaseId,
    department: &str,
) -> Result<Option<NoticeId>, StoreError> {
    let id: Option<NoticeId> = sqlx::query_scalar(
        "INSERT INTO department_notices (case_id, department, routed_at, state) \
         VALUES ($1, $2, $3, 'new') ON CONFLICT (case_id, department) DO NOTHING RETURNING id",
    )
    .bind(case_id)
    .bind(department)
    .bind(now_ms())
    .fetch_optional(&mut *conn)
    .await
    .what("record case routed to a department")?;
    if let Some(id) = id {
        enqueue(conn, JobTarget::Notice(id)).await?;
    }
    Ok(id)
}

/// A routed case as a notice shows it: nothing of the applicant but the subject line.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NoticeCase {
    pub notice: NoticeId,
    pub case_id: CaseId,
    pub department: String,
    pub state: String,
    pub tracking_code: String,
    pub kind: String,
    pub permit_type: Option<String>,
    pub subject: Option<String>,
    pub received_at: i64,
}

const NOTICE_CASE: &str =
    "SELECT n.id AS notice, n.case_id, n.department, n.state, c.tracking_code, \
     c.kind, c.permit_type, c.subject, c.received_at FROM department_notices n \
     JOIN cases c ON c.id = n.case_id";

pub async fn notice(conn: &mut Conn, id: NoticeId) -> Result<NoticeCase, StoreError> {
    sqlx::query_as(&format!("{NOTICE_CASE} WHERE n.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
        .what("load department notice")?
        .ok_or_else(|| StoreError::NotFound(format!("department notice {id}")))
}

/// What the `notice` step decided; only a notice still `new` changes (false otherwise: the
/// digest took it meanwhile, or an earlier attempt did this).
pub enum Outcome<'a> {
    /// Left for the department's digest.
    Waiting,
    /// Mailed on its own.
    Mailed(OutboxId),
    /// Not announced, and why (`off`, no address, an address loket itself uses).
    Skipped(&'a str),
}

pub async fn settle(conn: &mut Conn, id: NoticeId, o: Outcome<'_>) -> Result<bool, StoreError> {
    let (state, outbox, detail) = match o {
        Outcome::Waiting => ("waiting", None, None),
        Outcome::Mailed(outbox) => ("mailed", Some(outbox), None),
        Outcome::Skipped(why) => ("skipped", None, Some(why)),
    };
    let done = sqlx::query(
        "UPDATE department_notices SET state = $1, outbox_id = $2, detail = $3 \
         WHERE id = $4 AND state = 'new'",
    )
    .bind(state)
    .bind(outbox)
    .bind(detail)
    .bind(id)
    .execute(conn)
    .await
    .what("record department notice")?;
    Ok(done.rows_affected() == 1)
}

/// Departments with a digest row for `day` already (made, empty or skipped).
pub async fn digests_made(conn: &mut Conn, day: &str) -> Result<Vec<String>, StoreError> {
    sqlx::query_scalar("SELECT department FROM notice_digests WHERE day = $1")
        .bind(day)
        .fetch_all(conn)
        .await
        .what("find the day's digests")
}

/// Departments with notices no digest has listed yet.
pub async fn waiting_departments(conn: &mut Conn) -> Result<Vec<String>, StoreError> {
    sqlx::query_scalar(
        "SELECT DISTINCT department FROM department_notices WHERE state IN ('new', 'waiting')",
    )
    .fetch_all(conn)
    .await
    .what("find departments with waiting notices")
}

/// Make `department`'s digest of `day` and take every notice waiting for it; None when another
/// worker made it already. The row starts `empty`; [`fill_digest`] completes it in the same
/// transaction.
pub async fn open_digest(
    conn: &mut Conn,
    department: &str,
    day: &str,
) -> Result<Option<(DigestId, Vec<NoticeCase>)>, StoreError> {
    let id: Option<DigestId> = sqlx::query_scalar(
        "INSERT INTO notice_digests (department, day, state, created_at) VALUES ($1, $2, 'empty', $3) \
         ON CONFLICT (department, day) DO NOTHING RETURNING id",
    )
    .bind(department)
    .bind(day)
    .bind(now_ms())
    .fetch_optional(&mut *conn)
    .await
    .what("make the day's digest")?;
    let Some(id) = id else {
        return Ok(None);
    };
    sqlx::query(
        "UPDATE department_notices SET state = 'digested', digest_id = $1 \
         WHERE department = $2 AND state IN ('new', 'waiting')",
    )
    .bind(id)
    .bind(department)
    .execute(&mut *conn)
    .await
    .what("take notices for the digest")?;
    let cases = sqlx::query_as(&format!(
        "{NOTICE_CASE} WHERE n.digest_id = $1 ORDER BY c.received_at, n.id"
    ))
    .bind(id)
    .fetch_all(conn)
    .await
    .what("load the digest's cases")?;
    Ok(Some((id, cases)))
}

/// A rendered mail that is not about one case.
#[derive(Debug, Clone)]
pub struct DigestMail<'a> {
    pub to_addr: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub message_id: &'a str,
}

/// Complete a digest opened by [`open_digest`]: a mail to send (and its `digest` job), or
/// nothing to send and why (`skipped`; no cases leave it `empty`).
pub async fn fill_digest(
    conn: &mut Conn,
    id: DigestId,
    cases: usize,
    mail: Result<DigestMail<'_>, &str>,
) -> Result<(), StoreError> {
    match mail {
        Ok(m) => {
            sqlx::query(
                "UPDATE notice_digests SET state = 'pending', cases = $1, to_addr = $2, subject = $3, \
                 body = $4, message_id = $5 WHERE id = $6",
            )
            .bind(cases as i64)
            .bind(m.to_addr)
            .bind(m.subject)
            .bind(m.body)
            .bind(m.message_id)
            .bind(id)
            .execute(&mut *conn)
            .await
            .what("write the digest")?;
            enqueue(conn, JobTarget::Digest(id)).await
        }
        Err(why) => {
            let state = if cases == 0 { "empty" } else { "skipped" };
            sqlx::query(
                "UPDATE notice_digests SET state = $1, cases = $2, error = $3 WHERE id = $4",
            )
            .bind(state)
            .bind(cases as i64)
            .bind(why)
            .bind(id)
            .execute(conn)
            .await
            .what("record the digest not sent")?;
            Ok(())
        }
    }
}

/// A digest to send.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Digest {
    pub id: DigestId,
    pub department: String,
    pub state: String,
    pub to_addr: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub message_id: Option<String>,
}

pub async fn digest(conn: &mut Conn, id: DigestId) -> Result<Digest, StoreError> {
    sqlx::query_as(
        "SELECT id, department, state, to_addr, subject, body, message_id FROM notice_digests \
         WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
    .what("load digest")?
    .ok_or_else(|| StoreError::NotFound(format!("digest {id}")))
}

/// The SMTP server accepted the digest: true the first time. Each listed case records it.
pub async fn mark_digest_sent(conn: &mut Conn, d: &Digest) -> Result<bool, StoreError> {
    let now = now_ms();
    let done = sqlx::query(
        "UPDATE notice_digests SET state = 'sent', sent_at = $1, error = NULL \
         WHERE id = $2 AND state <> 'sent'",
    )
    .bind(now)
    .bind(d.id)
    .execute(&mut *conn)
    .await
    .what("mark digest sent")?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    let detail = format!(
        "listed in the daily digest to {}",
        d.to_addr.as_deref().unwrap_or("?")
    );
    sqlx::query(
        "INSERT INTO events (case_id, at, event, detail) \
         SELECT case_id, $1, 'department_notified', $2 FROM department_notices WHERE digest_id = $3",
    )
    .bind(now)
    .bind(detail)
    .bind(d.id)
    .execute(conn)
    .await
    .what("record the digest on its cases")?;
    Ok(true)
}

/// Sending the digest failed for good.
pub async fn mark_digest_failed(
    conn: &mut Conn,
    id: DigestId,
    error: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE notice_digests SET state = 'failed', error = $1 WHERE id = $2")
        .bind(error)
        .bind(id)
        .execute(conn)
        .await
        .what("record failed digest")?;
    Ok(())
}

/// Was a mail with this Message-ID (without angle brackets) sent by loket?
pub async fn is_own_message_id(conn: &mut Conn, message_id: &str) -> Result<bool, StoreError> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM outbox WHERE message_id = $1 \
         UNION ALL SELECT 1 FROM notice_digests WHERE message_id = $1 LIMIT 1",
    )
    .bind(message_id)
    .fetch_optional(conn)
    .await
    .what("look for loket's own Message-ID")?;
    Ok(found.is_some())
}

/// A mail loket sent came back into a watched mailbox: kept as a message in state `own`, with
/// no case.
pub async fn record_own_mail(
    conn: &mut Conn,
    id: MessageId,
    h: &MessageHeaders,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE messages SET message_id = $1, sender = $2, subject = $3, references_ids = $4, \
         no_reply = $5, state = 'own', error = NULL WHERE id = $6",
    )
    .bind(&h.message_id)
    .bind(&h.sender)
    .bind(&h.subject)
    .bind(h.references.join(" "))
    .bind(&h.no_reply)
    .bind(id)
    .execute(conn)
    .await
    .what("record loket's own mail")?;
    Ok(())
}

/// Queue a letter telling a postal applicant (or one whose email is undeliverable) that the
/// case's status changed; `loket letters` prints it with the next batch. `key` is unique per
/// change (the status event's id), so queueing the same change again is a no-op. `status` is
/// the new status (`in_review`, ...), `note` the officer's words, printed verbatim.
pub async fn queue_status_notice(
    conn: &mut Conn,
    case_id: CaseId,
    key: &str,
    status: &str,
    note: &str,
) -> Result<(), StoreError> {
    let now = now_ms();
    let id: Option<super::LetterId> = sqlx::query_scalar(
        "INSERT INTO letters (case_id, purpose, created_at, status, note) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (case_id, purpose) DO NOTHING RETURNING id",
    )
    .bind(case_id)
    .bind(format!("status:{key}"))
    .bind(now)
    .bind(status)
    .bind(note)
    .fetch_optional(&mut *conn)
    .await
    .what("queue status-notice letter")?;
    if let Some(id) = id {
        enqueue(conn, JobTarget::Letter(id)).await?;
    }
    Ok(())
}
