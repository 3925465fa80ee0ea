//! Letters to post to applicants (receipts for postal applications), printed in daily batches
//! by `loket letters`. Each letter not yet printed has a `letter` job, so two clerks printing at
//! the same moment print each letter once.

use super::ids::{CaseId, LetterId};
use super::now_ms;
use super::store::{Conn, QueryContext, Store, StoreError};

/// Every filed postal message of the case gets a receipt letter, queued for printing.
pub async fn queue_receipts(conn: &mut Conn, case_id: CaseId) -> Result<(), StoreError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO letters (case_id, purpose, created_at) SELECT case_id, 'receipt:' || id, $1 FROM messages \
         WHERE case_id = $2 AND state = 'filed' ON CONFLICT (case_id, purpose) DO NOTHING",
    )
    .bind(now)
    .bind(case_id)
    .execute(&mut *conn)
    .await
    .what("queue receipt letter")?;
    sqlx::query(
        "INSERT INTO jobs (kind, target, state, run_after, created_at, updated_at) \
         SELECT 'letter', id, 'pending', $1, $1, $1 FROM letters WHERE case_id = $2 AND printed_at IS NULL \
         ON CONFLICT (kind, target) DO NOTHING",
    )
    .bind(now)
    .bind(case_id)
    .execute(conn)
    .await
    .what("queue letter job")?;
    Ok(())
}

/// A letter to print, with its case's code.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LetterToPrint {
    pub id: LetterId,
    pub tracking_code: String,
    pub created_at: i64,
    /// `receipt:<message id>` or `status:<key>` (a status notice, see
    /// [`super::notices::queue_status_notice`]).
    pub purpose: String,
    /// A status notice's new status and the officer's note.
    pub status: Option<String>,
    pub note: Option<String>,
}

impl LetterToPrint {
    pub fn is_status_notice(&self) -> bool {
        self.purpose.starts_with("status:")
    }
}

impl Store {
    /// These letters, with their cases' codes.
    pub async fn letters(&self, ids: &[LetterId]) -> Result<Vec<LetterToPrint>, StoreError> {
        let mut conn = self.conn().await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let row: Option<LetterToPrint> = sqlx::query_as(
                "SELECT l.id, c.tracking_code, l.created_at, l.purpose, l.status, l.note FROM letters l \
                 JOIN cases c ON c.id = l.case_id WHERE l.id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .what("load letter")?;
            out.extend(row);
        }
        Ok(out)
    }

    /// Every letter of the case with this code, oldest first (reprints name cases), or a
    /// receipt dated like the case when it has none.
    pub async fn letters_of_case(&self, code: &str) -> Result<Vec<LetterToPrint>, StoreError> {
        let mut conn = self.conn().await?;
        let found: Vec<LetterToPrint> = sqlx::query_as(
            "SELECT l.id, c.tracking_code, l.created_at, l.purpose, l.status, l.note FROM letters l \
             JOIN cases c ON c.id = l.case_id WHERE c.tracking_code = $1 ORDER BY l.id",
        )
        .bind(code)
        .fetch_all(&mut *conn)
        .await
        .what("find letters")?;
        if !found.is_empty() {
            return Ok(found);
        }
        sqlx::query_as(
            "SELECT CAST(0 AS BIGINT) AS id, tracking_code, received_at AS created_at, 'receipt' AS purpose, \
             CAST(NULL AS TEXT) AS status, CAST(NULL AS TEXT) AS note FROM cases WHERE tracking_code = $1",
        )
        .bind(code)
        .fetch_all(&mut *conn)
        .await
        .what("find case for a receipt")
    }
}

/// The letters are in a written PDF.
pub async fn mark_printed(conn: &mut Conn, ids: &[LetterId]) -> Result<(), StoreError> {
    let now = now_ms();
    for id in ids {
        sqlx::query("UPDATE letters SET printed_at = $1 WHERE id = $2 AND printed_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await
            .what("mark letter printed")?;
    }
    Ok(())
}
