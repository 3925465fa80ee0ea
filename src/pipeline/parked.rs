//! Parked steps: a step given up on is shown on its case, and the case goes on where it can
//! (a document that can't be read no longer holds up sorting).

use super::{Context, JobError};
use crate::filing::records;
use crate::filing::store::QueryContext;
use crate::filing::{Job, JobKind};

/// Show a parked step on its case so officers see it.
pub(crate) async fn record_parked(ctx: &Context, job: &Job, why: &str) -> Result<(), JobError> {
    let mut tx = ctx.store.begin_write().await?;
    let case_id: Option<i64> = match job.kind {
        JobKind::Intake | JobKind::Move => {
            sqlx::query("UPDATE messages SET error = $1, state = CASE WHEN state = 'new' THEN 'failed' ELSE state END WHERE id = $2")
                .bind(why)
                .bind(job.target)
                .execute(&mut *tx)
                .await
                .what("record failed message")?;
            sqlx::query_scalar("SELECT case_id FROM messages WHERE id = $1")
                .bind(job.target)
                .fetch_one(&mut *tx)
                .await
                .what("find case")?
        }
        JobKind::Extract => {
            sqlx::query("UPDATE documents SET state = 'done', error = $1, error_alasan = 'berkas tidak dapat diproses' WHERE id = $2")
                .bind(format!("processing failed: {why}"))
                .bind(job.target)
                .execute(&mut *tx)
                .await
                .what("record failed document")?;
            let case_id: i64 = sqlx::query_scalar("SELECT case_id FROM documents WHERE id = $1")
                .bind(job.target)
                .fetch_one(&mut *tx)
                .await
                .what("find case")?;
            // The case goes on without this document.
            super::extract::queue_sorting_if_all_read(&mut tx, case_id).await?;
            Some(case_id)
        }
        JobKind::Classify => {
            sqlx::query("UPDATE cases SET status = 'failed', error = $1 WHERE id = $2")
                .bind(why)
                .bind(job.target)
                .execute(&mut *tx)
                .await
                .what("record failed case")?;
            Some(job.target)
        }
        JobKind::Send => {
            sqlx::query("UPDATE outbox SET state = 'failed', error = $1 WHERE id = $2")
                .bind(why)
                .bind(job.target)
                .execute(&mut *tx)
                .await
                .what("record failed mail")?;
            sqlx::query_scalar("SELECT case_id FROM outbox WHERE id = $1")
                .bind(job.target)
                .fetch_optional(&mut *tx)
                .await
                .what("find case")?
        }
    };
    if let Some(case_id) = case_id {
        records::add_event(
            &mut tx,
            case_id,
            &format!("{}_failed", job.kind.as_str()),
            why,
        )
        .await?;
    }
    tx.commit().await.what("commit parked step")?;
    Ok(())
}
