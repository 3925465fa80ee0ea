//! Send step: one outbox mail through SMTP, then marked sent.
//!
//! The mail was rendered and stored when the case was sorted; this step only delivers it. The
//! lease is confirmed right before the SMTP exchange, so a runner that lost its job does not
//! send. Once the server said 250, recording "sent" is retried on its own until it lands and
//! never leads to a second SMTP transaction. A redelivery is possible only for a crash (or a
//! pause past the lease) inside the SMTP exchange itself, and then carries the same Message-ID,
//! which mail clients fold.

use std::time::Duration;

use tracing::{info, warn};

use super::{crash_point, error_chain, stall_point, Context, JobError};
use crate::filing::jobs::LeaseLost;
use crate::filing::outbox::{self, OutboxMail};
use crate::filing::{cases, Job, OutboxId};
use crate::notify::mailer::OutgoingMail;

pub async fn run(ctx: &Context, job: &Job, id: OutboxId) -> Result<(), JobError> {
    let mut conn = ctx.store.conn().await?;
    let row = outbox::get(&mut conn, id).await?;
    drop(conn);
    stall_point("send").await;
    if !row.is_pending() {
        // Sent (or failed for good) by an earlier attempt whose job was not marked done.
        ctx.store.begin_step(&job.lease).await?.commit().await?;
        return Ok(());
    }
    let mailer = ctx.mailer.as_ref().ok_or(JobError::NoSmtp)?;
    let mail = outgoing(&row);
    if !ctx.store.confirm_lease(&job.lease).await? {
        return Err(LeaseLost { job: job.id }.into());
    }
    mailer.send(&mail).await?;
    crash_point("smtp");
    record_sent(ctx, job, &row).await;
    info!(to = %mail.to, subject = %mail.subject, "acknowledgement sent");
    crash_point("send");
    Ok(())
}

fn outgoing(row: &OutboxMail) -> OutgoingMail {
    OutgoingMail {
        to: row.to_addr.clone(),
        subject: row.subject.clone(),
        body: row.body.clone(),
        message_id: row.message_id.clone(),
        in_reply_to: row.in_reply_to.clone(),
        references: row.references_ids.clone().unwrap_or_default(),
    }
}

/// Record that the server accepted the mail, retrying until the database takes it: the mail
/// must never be sent again because recording it failed. The outbox row is marked sent even if
/// the lease was lost meanwhile, so whoever holds the job now finds it sent.
async fn record_sent(ctx: &Context, job: &Job, row: &OutboxMail) {
    let mut delay = Duration::from_millis(200);
    loop {
        match try_record_sent(ctx, job, row).await {
            Ok(true) => return,
            Ok(false) => {
                warn!(job = %job.id, "mail recorded as sent; its lease had been taken over");
                return;
            }
            Err(e) => {
                warn!(error = %error_chain(&e), retry_in = ?delay,
                    "mail was sent but recording it failed; trying again (it is not sent again)");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(30));
            }
        }
    }
}

async fn try_record_sent(
    ctx: &Context,
    job: &Job,
    row: &OutboxMail,
) -> Result<bool, crate::filing::StoreError> {
    let mut tx = ctx.store.begin_steps(vec![job.lease.clone()]).await?;
    if outbox::mark_sent(&mut tx, row.id).await? {
        cases::add_event(
            &mut tx,
            row.case_id,
            "acknowledged",
            &format!("email to {}", row.to_addr),
        )
        .await?;
    }
    tx.commit_regardless().await
}
