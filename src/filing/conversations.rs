//! Conversations by email: which case a reply belongs to, which sent mail a bounce returns,
//! addresses that bounced, codes a stranger quoted, and what a status question is told.

use super::ids::{CaseId, MessageId, OutboxId};
use super::now_ms;
use super::store::{Conn, QueryContext, StoreError};

/// A mail loket sent, found by its Message-ID.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SentMail {
    pub outbox_id: OutboxId,
    pub case_id: Option<CaseId>,
    pub to_addr: String,
    pub purpose: String,
}

/// The mails loket sent with one of these Message-IDs (a reply's `In-Reply-To`/`References`, a
/// bounce's returned headers), in the order of `ids`.
pub async fn sent_mails(conn: &mut Conn, ids: &[String]) -> Result<Vec<SentMail>, StoreError> {
    let mut out = Vec::new();
    for id in ids.iter().take(50) {
        let found: Option<SentMail> = sqlx::query_as(
            "SELECT id AS outbox_id, case_id, to_addr, purpose FROM outbox WHERE message_id = $1 \
             ORDER BY id LIMIT 1",
        )
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await
        .what("find sent mail by Message-ID")?;
        if let Some(found) = found.filter(|f| !out.contains(f)) {
            out.push(found);
        }
    }
    Ok(out)
}

/// A case folded into another by an officer (`merge`) lives on in the case it was merged into.
pub async fn surviving_case(conn: &mut Conn, id: CaseId) -> Result<CaseId, StoreError> {
    let mut current = id;
    for _ in 0..8 {
        let next: Option<Option<CaseId>> =
            sqlx::query_scalar("SELECT merged_into FROM cases WHERE id = $1")
                .bind(current)
                .fetch_optional(&mut *conn)
                .await
                .what("follow merged case")?;
        match next.flatten() {
            Some(next) if next != current => current = next,
            _ => break,
        }
    }
    Ok(current)
}

/// Record the codes of other cases that a new case's message quoted.
pub async fn set_mentions(conn: &mut Conn, id: CaseId, codes: &[String]) -> Result<(), StoreError> {
    let json = serde_json::to_string(codes).unwrap_or_else(|_| "[]".into());
    sqlx::query("UPDATE cases SET mentions = $1, triage = 1 WHERE id = $2")
        .bind(json)
        .bind(id)
        .execute(conn)
        .await
        .what("record mentioned codes")?;
    Ok(())
}

/// A permanent bounce for an address.
#[derive(Debug, Clone)]
pub struct Undeliverable<'a> {
    pub address: &'a str,
    pub status: Option<&'a str>,
    pub diagnostic: Option<&'a str>,
    pub bounce_message: MessageId,
    pub outbox_id: OutboxId,
}

/// Mark an address undeliverable; true when it was not marked before.
pub async fn mark_undeliverable(
    conn: &mut Conn,
    u: &Undeliverable<'_>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO undeliverable (address, status, diagnostic, bounce_message, outbox_id, marked_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (address) DO NOTHING",
    )
    .bind(u.address.to_lowercase())
    .bind(u.status)
    .bind(u.diagnostic)
    .bind(u.bounce_message)
    .bind(u.outbox_id)
    .bind(now_ms())
    .execute(conn)
    .await
    .what("mark address undeliverable")?;
    Ok(done.rows_affected() == 1)
}

/// A message came from the address, so it works again; true when it had been marked.
pub async fn clear_undeliverable(conn: &mut Conn, address: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM undeliverable WHERE address = $1")
        .bind(address.to_lowercase())
        .execute(conn)
        .await
        .what("clear undeliverable mark")?;
    Ok(done.rows_affected() > 0)
}

pub async fn is_undeliverable(conn: &mut Conn, address: &str) -> Result<bool, StoreError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM undeliverable WHERE address = $1")
        .bind(address.to_lowercase())
        .fetch_optional(conn)
        .await
        .what("check undeliverable mark")?;
    Ok(found.is_some())
}

/// The open cases (not approved, rejected, closed or merged) filed under an address, newest
/// first.
pub async fn open_cases_of(conn: &mut Conn, address: &str) -> Result<Vec<String>, StoreError> {
    sqlx::query_scalar(
        "SELECT tracking_code FROM cases WHERE lower(applicant_email) = $1 \
         AND status NOT IN ('approved', 'rejected', 'closed', 'failed') AND merged_into IS NULL \
         ORDER BY received_at DESC, id DESC LIMIT 20",
    )
    .bind(address.to_lowercase())
    .fetch_all(conn)
    .await
    .what("find open cases of an address")
}

/// The case filed under `sender` in the last `days` whose documents are exactly these hashes
/// (the same set of files sent again), newest first.
pub async fn case_with_same_files(
    conn: &mut Conn,
    sender: &str,
    hashes: &[String],
    since_ms: i64,
) -> Result<Option<CaseId>, StoreError> {
    let Some(first) = hashes.first() else {
        return Ok(None);
    };
    let candidates: Vec<CaseId> = sqlx::query_scalar(
        "SELECT DISTINCT c.id FROM cases c JOIN documents d ON d.case_id = c.id \
         WHERE lower(c.applicant_email) = $1 AND c.received_at >= $2 AND d.sha256 = $3 \
         AND c.merged_into IS NULL ORDER BY c.id DESC LIMIT 20",
    )
    .bind(sender.to_lowercase())
    .bind(since_ms)
    .bind(first.as_str())
    .fetch_all(&mut *conn)
    .await
    .what("find cases with the same files")?;
    for id in candidates {
        let have: Vec<String> =
            sqlx::query_scalar("SELECT sha256 FROM documents WHERE case_id = $1")
                .bind(id)
                .fetch_all(&mut *conn)
                .await
                .what("read a case's file hashes")?;
        if hashes.iter().all(|h| have.contains(h)) {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Whether the case's notices should go by post: its address bounced and a postal address is
/// known.
pub async fn letters_instead(conn: &mut Conn, id: CaseId) -> Result<bool, StoreError> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM cases c JOIN undeliverable u ON u.address = lower(c.applicant_email) \
         WHERE c.id = $1 AND c.applicant_address IS NOT NULL AND c.applicant_address <> ''",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
    .what("check whether notices go by post")?;
    Ok(found.is_some())
}

/// The public facts of a case by exact tracking code, inside the caller's transaction.
pub async fn public_case(
    conn: &mut Conn,
    code: &str,
) -> Result<Option<super::desk::PublicCase>, StoreError> {
    sqlx::query_as(
        "SELECT tracking_code, status, kind, permit_type, received_at, updated_at, due_date, missing \
         FROM cases WHERE tracking_code = $1",
    )
    .bind(code)
    .fetch_optional(conn)
    .await
    .what("load public status")
}
