//! Retention (`loket purge`): which cases are past the office's retention period, and removing
//! their text, message bodies and files while keeping the case record.
//!
//! A case is purgeable when it is `approved`, `rejected` or `closed` and entered that status
//! before the cutoff (the latest matching `status_changes` row; `updated_at` for cases closed
//! before that table existed). Purging a case clears `cases.body`, the documents' text (and
//! their per-page OCR text) and marks its documents and messages `purged_at`; code, dates,
//! permit type, decision, requirements, applicant and history stay. Blobs are shared by
//! content, so a blob may be removed only once no unpurged document or message refers to it:
//! [`unreferenced_blobs`] says which, and the caller removes the files after the commit.

use std::collections::HashSet;

use super::cases;
use super::ids::CaseId;
use super::store::{Conn, QueryContext, StoreError};

/// The statuses after which nothing more happens on a case.
const FINAL: &str = "('approved', 'rejected', 'closed')";

/// When a case entered its current status: a SQL expression over `c` (a row of `cases`).
const CLOSED_AT: &str = "COALESCE((SELECT MAX(s.at) FROM status_changes s \
     WHERE s.case_id = c.id AND s.status = c.status), c.updated_at)";

/// A case a purge would take.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Candidate {
    pub case_id: CaseId,
    pub tracking_code: String,
    pub status: String,
    /// When it entered its status (Unix ms).
    pub closed_at: i64,
    pub documents: i64,
    pub messages: i64,
}

/// Cases in a final status since before `cutoff` (Unix ms) and not purged yet, oldest first.
pub async fn candidates(conn: &mut Conn, cutoff: i64) -> Result<Vec<Candidate>, StoreError> {
    let sql = format!(
        "SELECT id AS case_id, tracking_code, status, closed_at, \
           (SELECT COUNT(*) FROM documents d WHERE d.case_id = x.id AND d.purged_at IS NULL) \
             AS documents, \
           (SELECT COUNT(*) FROM messages m WHERE m.case_id = x.id AND m.purged_at IS NULL) \
             AS messages \
         FROM (SELECT c.id, c.tracking_code, c.status, {CLOSED_AT} AS closed_at FROM cases c \
               WHERE c.status IN {FINAL} AND c.purged_at IS NULL) x \
         WHERE closed_at < $1 ORDER BY closed_at, id"
    );
    sqlx::query_as(&sql)
        .bind(cutoff)
        .fetch_all(conn)
        .await
        .what("list cases past retention")
}

/// The blobs (SHA-256, size) a case's unpurged documents and messages refer to.
pub async fn case_blobs(
    conn: &mut Conn,
    case_id: CaseId,
) -> Result<Vec<(String, i64)>, StoreError> {
    sqlx::query_as(
        "SELECT sha256, size FROM documents WHERE case_id = $1 AND purged_at IS NULL \
         UNION SELECT sha256, size FROM messages WHERE case_id = $1 AND purged_at IS NULL",
    )
    .bind(case_id)
    .fetch_all(conn)
    .await
    .what("list a case's blobs")
}

/// Would `sha` be left without an unpurged reference if the cases `purging` were purged?
/// (A message that belongs to no case always keeps its blob.)
pub async fn freed_by(
    conn: &mut Conn,
    sha: &str,
    purging: &HashSet<CaseId>,
) -> Result<bool, StoreError> {
    let holders: Vec<(Option<CaseId>,)> = sqlx::query_as(
        "SELECT case_id FROM documents WHERE sha256 = $1 AND purged_at IS NULL \
         UNION ALL SELECT case_id FROM messages WHERE sha256 = $1 AND purged_at IS NULL",
    )
    .bind(sha)
    .fetch_all(conn)
    .await
    .what("find who refers to a blob")?;
    Ok(holders
        .iter()
        .all(|(case,)| case.is_some_and(|c| purging.contains(&c))))
}

/// What purging one case removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub documents: u64,
    pub messages: u64,
}

/// Purge one case inside the caller's write transaction, if it is still past the cutoff (it
/// may have been reopened since it was listed): `None` when it is not.
pub async fn purge_case(
    conn: &mut Conn,
    case_id: CaseId,
    cutoff: i64,
    now: i64,
) -> Result<Option<Purged>, StoreError> {
    // One statement checks and locks the row, so a case reopened a moment ago is left alone.
    let sql = format!(
        "UPDATE cases SET body = NULL, purged_at = $1 WHERE id = $2 AND status IN {FINAL} \
         AND purged_at IS NULL AND (SELECT {CLOSED_AT} FROM cases c WHERE c.id = $2) < $3"
    );
    let taken = sqlx::query(&sql)
        .bind(now)
        .bind(case_id)
        .bind(cutoff)
        .execute(&mut *conn)
        .await
        .what("purge a case")?
        .rows_affected();
    if taken == 0 {
        return Ok(None);
    }
    sqlx::query(
        "UPDATE page_results SET text = NULL \
         WHERE document_id IN (SELECT id FROM documents WHERE case_id = $1)",
    )
    .bind(case_id)
    .execute(&mut *conn)
    .await
    .what("purge page texts")?;
    let documents = sqlx::query(
        "UPDATE documents SET text = NULL, purged_at = $1 WHERE case_id = $2 AND purged_at IS NULL",
    )
    .bind(now)
    .bind(case_id)
    .execute(&mut *conn)
    .await
    .what("purge documents")?
    .rows_affected();
    let messages =
        sqlx::query("UPDATE messages SET purged_at = $1 WHERE case_id = $2 AND purged_at IS NULL")
            .bind(now)
            .bind(case_id)
            .execute(&mut *conn)
            .await
            .what("purge messages")?
            .rows_affected();
    let detail = format!(
        "masa simpan lewat: teks dan file {documents} berkas dan {messages} pesan dihapus; \
         data perkara tetap"
    );
    cases::add_event(conn, case_id, "purged", &detail).await?;
    Ok(Some(Purged {
        documents,
        messages,
    }))
}

/// Blobs that purged rows referred to and no unpurged row refers to any more: the files a purge
/// may remove. Asked after every purge, so files left by an interrupted one go the next time.
pub async fn unreferenced_blobs(conn: &mut Conn) -> Result<Vec<String>, StoreError> {
    sqlx::query_scalar(
        "SELECT s.sha256 FROM (SELECT sha256 FROM documents WHERE purged_at IS NOT NULL \
                               UNION SELECT sha256 FROM messages WHERE purged_at IS NOT NULL) s \
         WHERE NOT EXISTS (SELECT 1 FROM documents d \
                            WHERE d.sha256 = s.sha256 AND d.purged_at IS NULL) \
           AND NOT EXISTS (SELECT 1 FROM messages m \
                            WHERE m.sha256 = s.sha256 AND m.purged_at IS NULL) \
         ORDER BY s.sha256",
    )
    .fetch_all(conn)
    .await
    .what("list blobs no longer referred to")
}
