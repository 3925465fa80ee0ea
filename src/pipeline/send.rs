//! Send step: one stored mail (an outbox row, or a department's digest) through SMTP, then
//! marked sent.
//!
//! The mail was rendered and stored when it was decided (a case sorted, a digest made); this
//! step only delivers it. The lease is confirmed right before the SMTP exchange, so a runner
//! that lost its job does not send. Once the server said 250, recording "sent" is retried on its
//! own until it lands and never leads to a second SMTP transaction. A redelivery is possible
//! only for a crash (or a pause past the lease) inside the SMTP exchange itself, and then
//! carries the same Message-ID, which mail clients fold.

use crate::classify::identifiers::mask_in_text;
use std::time::Duration;

use tracing::{info, warn};

use super::{crash_point, error_chain, stall_point, Context, JobError};
use crate::filing::jobs::LeaseLost;
use crate::filing::notices::{self, Digest};
use crate::filing::outbox::{self, OutboxMail};
use crate::filing::{cases, mailboxes, DigestId, Job, OutboxId};
use crate::notify::mailer::OutgoingMail;

/// A sent mail to record.
#[derive(Clone, Copy)]
enum Sent<'a> {
    Outbox(&'a OutboxMail),
    Digest(&'a Digest),
}

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
    let mut mail = outgoing(&row);
    mail.from = answer_from(ctx, &row).await?;
    deliver(ctx, job, &mail).await?;
    record_sent(ctx, job, Sent::Outbox(&row)).await;
    info!(to = %mail.to, subject = %mask_in_text(&mail.subject), purpose = %row.purpose, "mail sent");
    crash_point("send");
    Ok(())
}

/// Send a department's daily digest.
pub async fn run_digest(ctx: &Context, job: &Job, id: DigestId) -> Result<(), JobError> {
    let mut conn = ctx.store.conn().await?;
    let digest = notices::digest(&mut conn, id).await?;
    drop(conn);
    stall_point("send").await;
    if digest.state != "pending" {
        ctx.store.begin_step(&job.lease).await?.commit().await?;
        return Ok(());
    }
    let mail = OutgoingMail {
        from: None,
        to: digest.to_addr.clone().unwrap_or_default(),
        subject: digest.subject.clone().unwrap_or_default(),
        body: digest.body.clone().unwrap_or_default(),
        message_id: digest.message_id.clone().unwrap_or_default(),
        in_reply_to: None,
        references: String::new(),
    };
    deliver(ctx, job, &mail).await?;
    record_sent(ctx, job, Sent::Digest(&digest)).await;
    info!(to = %mail.to, department = %digest.department, "daily digest sent");
    crash_point("send");
    Ok(())
}

/// The SMTP exchange, only while the lease is still ours.
async fn deliver(ctx: &Context, job: &Job, mail: &OutgoingMail) -> Result<(), JobError> {
    let mailer = ctx.mailer.as_ref().ok_or(JobError::NoSmtp)?;
    // A job claimed a moment ago holds most of its lease; one claimed longer ago (a slow
    // database, a stalled runner, a paused process) is asked for.
    if !ctx.store.lease_fresh(job) && !ctx.store.confirm_lease(&job.lease).await? {
        return Err(LeaseLost { job: job.id }.into());
    }
    let sent = mailer.send(mail).await;
    crate::telemetry::metrics::mail_sent(&sent, crate::notify::SendError::is_transient);
    sent?;
    crash_point("smtp");
    Ok(())
}

/// Answers to mail of a mailbox with its own `from` (pengaduan@) go out from it; department
/// notices and everything else from `smtp.from`.
async fn answer_from(
    ctx: &Context,
    row: &OutboxMail,
) -> Result<Option<lettre::message::Mailbox>, JobError> {
    let any_own = ctx.cfg.all_mailboxes().any(|m| m.from.is_some());
    if row.purpose.starts_with("notice") || !any_own {
        return Ok(None);
    }
    let mut conn = ctx.store.conn().await?;
    let key = mailboxes::answered(&mut conn, row.case_id, row.in_reply_to.as_deref()).await?;
    Ok(ctx.cfg.answer_from(key.as_deref()))
}

fn outgoing(row: &OutboxMail) -> OutgoingMail {
    OutgoingMail {
        from: None,
        to: row.to_addr.clone(),
        subject: row.subject.clone(),
        body: row.body.clone(),
        message_id: row.message_id.clone(),
        in_reply_to: row.in_reply_to.clone(),
        references: row.references_ids.clone().unwrap_or_default(),
    }
}

/// Record that the server accepted the mail, retrying until the database takes it: the mail
/// must never be sent again because recording it failed. The row is marked sent even if the
/// lease was lost meanwhile, so whoever holds the job now finds it sent.
async fn record_sent(ctx: &Context, job: &Job, sent: Sent<'_>) {
    let mut delay = Duration::from_millis(200);
    loop {
        match try_record_sent(ctx, job, sent).await {
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

/// The history event of a sent mail, by what it was for.
fn sent_event(purpose: &str) -> &'static str {
    match purpose.split_once(':').map_or(purpose, |(kind, _)| kind) {
        "notice" => "department_notified",
        "status-answer" => "status_answered",
        "combined" => "acknowledged_combined",
        "reply" | "request" => "reply_sent",
        "status" => "status_notice_sent",
        _ => "acknowledged",
    }
}

async fn try_record_sent(
    ctx: &Context,
    job: &Job,
    sent: Sent<'_>,
) -> Result<bool, crate::filing::StoreError> {
    let mut tx = ctx.store.begin_steps(vec![job.lease.clone()]).await?;
    match sent {
        Sent::Outbox(row) => {
            if let (true, Some(case_id)) = (outbox::mark_sent(&mut tx, row.id).await?, row.case_id)
            {
                let detail = format!("email to {}", row.to_addr);
                cases::add_event(&mut tx, case_id, sent_event(&row.purpose), &detail).await?;
            }
        }
        Sent::Digest(digest) => {
            notices::mark_digest_sent(&mut tx, digest).await?;
        }
    }
    tx.commit_regardless().await
}
