//! Parked steps: a step given up on is shown on its case, and the case goes on where it can
//! (a document that can't be read no longer holds up sorting; a message that can't be taken in
//! still becomes a case, status `failed`, that officers find, and leaves the inbox).

use super::{Context, JobError};
use crate::domain::{Channel, Status};
use crate::filing::cases::{self, NewCase};
use crate::filing::jobs::enqueue;
use crate::filing::messages::{self, Source};
use crate::filing::{documents, notices, outbox, Conn, Job, JobTarget, MessageId};

/// Show a parked step on its case so officers see it.
pub(crate) async fn record_parked(ctx: &Context, job: &Job, why: &str) -> Result<(), JobError> {
    let mut tx = ctx.store.begin_write().await?;
    let case_id = match job.target {
        JobTarget::Intake(id) => Some(failed_intake(&mut tx, ctx, id, why).await?),
        JobTarget::Move(id) => messages::get(&mut tx, id).await?.case_id,
        JobTarget::Extract(id) => {
            let case_id =
                documents::mark_failed(&mut tx, id, &format!("processing failed: {why}")).await?;
            if let Some(case_id) = case_id {
                // The case goes on without this document.
                super::extract::queue_sorting_if_all_read(&mut tx, case_id).await?;
            }
            case_id
        }
        JobTarget::Classify(id) => {
            cases::mark_failed(&mut tx, id, why).await?;
            Some(id)
        }
        JobTarget::Send(id) => outbox::mark_failed(&mut tx, id, why).await?,
        JobTarget::Notice(id) => Some(notices::notice(&mut tx, id).await?.case_id),
        JobTarget::Digest(id) => {
            notices::mark_digest_failed(&mut tx, id, why).await?;
            None
        }
        JobTarget::Letter(_) => None,
    };
    if let Some(case_id) = case_id {
        cases::add_event(
            &mut tx,
            case_id,
            &format!("{}_failed", job.kind().as_str()),
            why,
        )
        .await?;
    }
    crate::filing::store::commit(tx).await?;
    Ok(())
}

/// A message that could not be taken in becomes a case with status `failed` (or marks its
/// case failed), and an email leaves the inbox like any filed message.
async fn failed_intake(
    conn: &mut Conn,
    ctx: &Context,
    id: MessageId,
    why: &str,
) -> Result<crate::filing::CaseId, JobError> {
    let msg = messages::get(conn, id).await?;
    let case_id = match msg.case_id {
        Some(case_id) => {
            cases::mark_failed(conn, case_id, why).await?;
            case_id
        }
        None => {
            let channel = if msg.source == Source::Imap {
                Channel::Email
            } else {
                Channel::Postal
            };
            let new_case = NewCase {
                channel: Some(channel),
                subject: Some(
                    msg.original_name
                        .clone()
                        .unwrap_or_else(|| "(pesan tidak dapat diproses)".into()),
                ),
                error: Some(format!(
                    "Pesan tidak dapat diproses (processing failed): {why}"
                )),
                received_at: msg.received_at,
                ..NewCase::default()
            };
            let (case_id, _) =
                cases::insert(conn, &ctx.cfg.office.code, &new_case, Status::Failed).await?;
            cases::add_event(conn, case_id, "received", "message could not be taken in").await?;
            case_id
        }
    };
    messages::mark_failed(conn, id, case_id, why).await?;
    if msg.source == Source::Imap {
        enqueue(conn, JobTarget::Move(id)).await?;
    }
    Ok(case_id)
}
