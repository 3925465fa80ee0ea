//! Parked work: steps given up on after repeated failures, for `loket parked` and officers.

use serde::Serialize;

use super::ids::JobId;
use super::store::{QueryContext, Store, StoreError};
use super::{now_ms, rfc3339};

#[derive(sqlx::FromRow)]
struct Row {
    id: JobId,
    kind: String,
    target: i64,
    attempts: i64,
    last_error: Option<String>,
    updated_at: i64,
    tracking_code: Option<String>,
}

/// One parked step (`loket parked --json`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ParkedView {
    pub id: JobId,
    pub kind: String,
    pub target: i64,
    pub attempts: i64,
    pub error: Option<String>,
    pub parked_at: String,
    /// The case the step belongs to, when there is one.
    pub tracking_code: Option<String>,
}

/// The case of a job, whatever its kind.
const CASE_OF_JOB: &str = "CASE j.kind \
    WHEN 'intake' THEN (SELECT case_id FROM messages WHERE id = j.target) \
    WHEN 'move' THEN (SELECT case_id FROM messages WHERE id = j.target) \
    WHEN 'extract' THEN (SELECT case_id FROM documents WHERE id = j.target) \
    WHEN 'classify' THEN j.target \
    WHEN 'send' THEN (SELECT case_id FROM outbox WHERE id = j.target) \
    WHEN 'letter' THEN (SELECT case_id FROM letters WHERE id = j.target) \
    WHEN 'notice' THEN (SELECT case_id FROM department_notices WHERE id = j.target) END";

impl Store {
    /// Parked steps, oldest first.
    pub async fn parked(&self) -> Result<Vec<ParkedView>, StoreError> {
        let sql = format!(
            "SELECT j.id, j.kind, j.target, j.attempts, j.last_error, j.updated_at, \
             (SELECT tracking_code FROM cases WHERE id = {CASE_OF_JOB}) AS tracking_code \
             FROM jobs j WHERE j.state = 'parked' ORDER BY j.updated_at, j.id"
        );
        let rows: Vec<Row> = sqlx::query_as(&sql)
            .fetch_all(self.pool())
            .await
            .what("list parked steps")?;
        Ok(rows
            .into_iter()
            .map(|r| ParkedView {
                id: r.id,
                kind: r.kind,
                target: r.target,
                attempts: r.attempts,
                error: r.last_error,
                parked_at: rfc3339(r.updated_at),
                tracking_code: r.tracking_code,
            })
            .collect())
    }

    /// Queue a parked step again, with fresh attempts; false if no such parked step.
    pub async fn retry_parked(&self, id: JobId) -> Result<bool, StoreError> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE jobs SET state = 'pending', attempts = 0, retries = 0, run_after = $1, updated_at = $1 \
             WHERE id = $2 AND state = 'parked'",
        )
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await
        .what("retry parked step")?;
        Ok(done.rows_affected() == 1)
    }
}
