//! Send step: one outbox mail through SMTP, then marked sent.
//!
//! The mail was rendered and stored when the case was sorted; this step only delivers it. A
//! crash between the SMTP server's "250 OK" and the commit below is the one window in which a
//! mail could go out twice; the Message-ID is fixed per mail, so mail clients fold such a repeat.

use sqlx::Row;
use tracing::info;

use super::{crash_point, Context, JobError};
use crate::filing::jobs::complete;
use crate::filing::store::QueryContext;
use crate::filing::{now_ms, records, Job};
use crate::notify::mailer::OutgoingMail;

pub async fn run(ctx: &Context, job: &Job) -> Result<(), JobError> {
    let row = sqlx::query(
        "SELECT case_id, to_addr, subject, body, message_id, in_reply_to, references_ids, state FROM outbox WHERE id = $1",
    )
    .bind(job.target)
    .fetch_one(&ctx.store.pool)
    .await
    .what("load outbox mail")?;
    let get = |e| {
        JobError::Store(crate::filing::StoreError::Query {
            what: "read outbox",
            source: e,
        })
    };
    let case_id: i64 = row.try_get("case_id").map_err(get)?;
    let state: String = row.try_get("state").map_err(get)?;
    if state == "pending" {
        let mail = OutgoingMail {
            to: row.try_get("to_addr").map_err(get)?,
            subject: row.try_get("subject").map_err(get)?,
            body: row.try_get("body").map_err(get)?,
            message_id: row.try_get("message_id").map_err(get)?,
            in_reply_to: row.try_get("in_reply_to").map_err(get)?,
            references: row
                .try_get::<Option<String>, _>("references_ids")
                .map_err(get)?
                .unwrap_or_default(),
        };
        let mailer = ctx.mailer.as_ref().ok_or(JobError::NoSmtp)?;
        mailer.send(&mail).await?;
        let mut tx = ctx.store.begin_write().await?;
        sqlx::query("UPDATE outbox SET state = 'sent', sent_at = $1, error = NULL WHERE id = $2")
            .bind(now_ms())
            .bind(job.target)
            .execute(&mut *tx)
            .await
            .what("mark mail sent")?;
        records::add_event(
            &mut tx,
            case_id,
            "acknowledged",
            &format!("email to {}", mail.to),
        )
        .await?;
        complete(&mut tx, job.id).await?;
        tx.commit().await.what("commit sent mail")?;
        info!(to = %mail.to, subject = %mail.subject, "acknowledgement sent");
    } else {
        let mut conn = ctx.store.pool.acquire().await.what("acquire connection")?;
        complete(&mut conn, job.id).await?;
    }
    crash_point("send");
    Ok(())
}
