//! Intake step: a stored raw message becomes a case with documents (or joins its case).
//!
//! Takes a `messages` row whose blob is on disk; gives a case (new, or the existing one when the
//! applicant replies to an acknowledgement), one document per attachment, and `extract` jobs.
//! Mail that can't be parsed still becomes a case with the error recorded, so nothing is dropped.

use tracing::{info, info_span, Instrument};

use super::{crash_point, stall_point, Context, JobError};
use crate::domain::{ApplicantDetails, Channel, Status, TrackingCode};
use crate::extract::archive::{self, ArchiveLimits};
use crate::extract::mime::{self, Attachment, MimeLimits, ParsedMessage};
use crate::extract::sniff;
use crate::filing::cases::{self, NewCase};
use crate::filing::documents::{self, NewDocument};
use crate::filing::jobs::{enqueue, enqueue_again};
use crate::filing::messages::{self, Message, MessageHeaders, MessageState, Source};
use crate::filing::{notices, CaseId, Conn, Job, JobTarget, MessageId};

/// Most text kept of a body (the rest is in the raw message).
const MAX_BODY_CHARS: usize = 200_000;

pub async fn run(ctx: &Context, job: &Job, id: MessageId) -> Result<(), JobError> {
    let mut conn = ctx.store.conn().await?;
    let msg = messages::get(&mut conn, id).await?;
    drop(conn);
    stall_point("intake").await;
    if (msg.case_id.is_some() && msg.state != MessageState::Failed)
        || msg.state == MessageState::Own
    {
        // Filed by an earlier attempt whose job was not marked done.
        ctx.store.begin_step(&job.lease).await?.commit().await?;
        return Ok(());
    }
    let span = info_span!("message", row = %msg.id, source = msg.source.as_str());
    if msg.source == Source::Imap {
        intake_email(ctx, job, &msg).instrument(span).await
    } else {
        intake_postal(ctx, job, &msg).instrument(span).await
    }
}

/// A scanned postal application: one file, one document, applicant details from the clerk
/// (more are read from the form once its text is known, in the classify step).
async fn intake_postal(ctx: &Context, job: &Job, msg: &Message) -> Result<(), JobError> {
    let details: ApplicantDetails = msg
        .details
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or_default();
    let name = crate::extract::mime::safe_filename(
        msg.original_name.as_deref().unwrap_or("scan"),
        "application/octet-stream",
        0,
    );
    let mut tx = ctx.store.begin_step(&job.lease).await?;
    let headers = MessageHeaders {
        sender: details.email.clone(),
        subject: msg.original_name.clone(),
        ..MessageHeaders::default()
    };
    let (case_id, code, state) =
        match messages::case_of_identical(&mut tx, &msg.sha256, msg.id).await? {
            Some(case_id) => (
                case_id,
                cases::tracking_code(&mut tx, case_id).await?,
                MessageState::Duplicate,
            ),
            None => {
                let new_case = NewCase {
                    channel: Some(Channel::Postal),
                    applicant: details.clone(),
                    subject: Some(format!("Berkas pos: {name}")),
                    received_at: msg.received_at,
                    ..NewCase::default()
                };
                let (id, code) = file_case(&mut tx, ctx, msg, &new_case).await?;
                cases::add_event(
                    &mut tx,
                    id,
                    "received",
                    &format!("scanned postal file {name} ({})", msg.source.as_str()),
                )
                .await?;
                let doc = NewDocument {
                    case_id: id,
                    position: 0,
                    filename: &name,
                    original_filename: msg.original_name.as_deref(),
                    declared_type: "application/octet-stream",
                    sha256: &msg.sha256,
                    size: msg.size,
                };
                let doc_id = documents::insert(&mut tx, &doc).await?;
                enqueue(&mut tx, JobTarget::Extract(doc_id)).await?;
                (id, code, MessageState::Filed)
            }
        };
    if state == MessageState::Duplicate {
        cases::add_event(
            &mut tx,
            case_id,
            "duplicate",
            &format!("the same scan ({name}) was handed in again; ignored"),
        )
        .await?;
    }
    messages::file(&mut tx, msg.id, &headers, state, case_id).await?;
    tx.commit().await?;
    info!(case = %code, state = state.as_str(), "scanned file filed");
    ctx.wake.notify_waiters();
    crash_point("intake");
    Ok(())
}

async fn intake_email(ctx: &Context, job: &Job, msg: &Message) -> Result<(), JobError> {
    let blobs = ctx.blobs.clone();
    let sha = msg.sha256.clone();
    let limits = MimeLimits {
        max_attachments: ctx.cfg.limits.max_attachments,
        ..MimeLimits::default()
    };
    let parsed = tokio::task::spawn_blocking(move || -> Result<_, JobError> {
        let raw = blobs.get(&sha)?;
        Ok(mime::parse(&raw, &limits))
    })
    .await
    .map_err(|e| JobError::Panic(e.to_string()))??;

    let office_addresses = ctx.cfg.office_addresses();
    let (headers, parsed) = match parsed {
        Ok(p) => (headers_of(&p, &office_addresses), Some(p)),
        Err(e) => (
            MessageHeaders {
                no_reply: Some(format!("unreadable message: {e}")),
                ..Default::default()
            },
            None,
        ),
    };
    if let Some(p) = parsed.as_ref().filter(|p| p.message_id.is_some()) {
        if own_mail_came_back(ctx, job, msg, p, &headers).await? {
            return Ok(());
        }
    }
    let attachments = parsed
        .as_ref()
        .map(|p| p.attachments.clone())
        .unwrap_or_default();
    let (attachments, unpacked) = expand_archives(attachments, ctx.cfg.limits.max_attachments);
    let stored = store_attachments(ctx, attachments).await?;

    let mut tx = ctx.store.begin_step(&job.lease).await?;
    let existing = match messages::case_of_identical(&mut tx, &msg.sha256, msg.id).await? {
        Some(case_id) => Some((case_id, cases::tracking_code(&mut tx, case_id).await?, true)),
        None => match &parsed {
            Some(p) => existing_case(&mut tx, ctx, msg, p).await?,
            None => None,
        },
    };
    let (case_id, code, state) = match existing {
        Some((case_id, code, dup)) => (
            case_id,
            code,
            if dup {
                MessageState::Duplicate
            } else {
                MessageState::Filed
            },
        ),
        None => {
            let new_case = new_case(ctx, msg, parsed.as_ref(), &headers);
            let (id, code) = file_case(&mut tx, ctx, msg, &new_case).await?;
            cases::add_event(&mut tx, id, "received", &received_detail(msg, &headers)).await?;
            (id, code, MessageState::Filed)
        }
    };
    if state == MessageState::Duplicate {
        cases::add_event(
            &mut tx,
            case_id,
            "duplicate",
            "the same message arrived again; ignored",
        )
        .await?;
    } else {
        add_documents(&mut tx, case_id, &stored).await?;
        note_problems(&mut tx, case_id, parsed.as_ref(), &headers).await?;
        for note in &unpacked {
            cases::add_event(&mut tx, case_id, "archive_unpacked", note).await?;
        }
        if stored.is_empty() {
            enqueue_again(&mut tx, JobTarget::Classify(case_id)).await?;
        }
    }
    messages::file(&mut tx, msg.id, &headers, state, case_id).await?;
    enqueue(&mut tx, JobTarget::Move(msg.id)).await?;
    tx.commit().await?;
    info!(case = %code, state = state.as_str(), documents = stored.len(), "message filed");
    ctx.wake.notify_waiters();
    crash_point("intake");
    Ok(())
}

/// Mail loket sent (an acknowledgement, a department notice, a digest) that came back into the
/// watched mailbox, recognised by its Message-ID: recorded as `own`, no case, out of the inbox.
/// Bounces carry their own Message-ID and are filed as before.
async fn own_mail_came_back(
    ctx: &Context,
    job: &Job,
    msg: &Message,
    p: &ParsedMessage,
    headers: &MessageHeaders,
) -> Result<bool, JobError> {
    let Some(mid) = &p.message_id else {
        return Ok(false);
    };
    let mut conn = ctx.store.conn().await?;
    let own = notices::is_own_message_id(&mut conn, mid).await?;
    drop(conn);
    if !own {
        return Ok(false);
    }
    let mut tx = ctx.store.begin_step(&job.lease).await?;
    notices::record_own_mail(&mut tx, msg.id, headers).await?;
    enqueue(&mut tx, JobTarget::Move(msg.id)).await?;
    tx.commit().await?;
    info!(message_id = %mid, subject = headers.subject.as_deref().unwrap_or(""),
        "loket's own mail came back into the mailbox: recorded, no case filed");
    ctx.wake.notify_waiters();
    Ok(true)
}

/// Headers worth keeping, and whether the message may be answered.
fn headers_of(p: &ParsedMessage, office_addresses: &[String]) -> MessageHeaders {
    let mut references = p.references.clone();
    if let Some(id) = &p.message_id {
        references.push(id.clone());
    }
    MessageHeaders {
        message_id: p.message_id.clone(),
        sender: p.reply_address().map(|m| m.email.clone()),
        subject: p.subject.clone(),
        references,
        no_reply: mime::no_reply_reason(p, office_addresses).map(|r| r.describe()),
    }
}

/// ZIP attachments are replaced by the files in them (one level deep), so each scan inside is
/// read and typed like any attachment. A ZIP that can't be unpacked stays as it is and its
/// extraction records why.
fn expand_archives(attachments: Vec<Attachment>, max: usize) -> (Vec<Attachment>, Vec<String>) {
    let mut out = Vec::with_capacity(attachments.len());
    let mut notes = Vec::new();
    for att in attachments {
        if sniff::sniff(&att.data) != Some(sniff::ZIP) {
            out.push(att);
            continue;
        }
        match archive::unpack(&att.data, &ArchiveLimits::default()) {
            Ok(entries) if out.len() + entries.len() <= max => {
                notes.push(format!(
                    "{}: {} file(s) taken out of the archive",
                    att.filename,
                    entries.len()
                ));
                for (i, e) in entries.into_iter().enumerate() {
                    let declared = sniff::sniff(&e.data).unwrap_or("application/octet-stream");
                    out.push(Attachment {
                        filename: mime::safe_filename(&e.name, declared, i + 1),
                        original_filename: Some(format!("{}/{}", att.filename, e.name)),
                        content_type: declared.to_string(),
                        data: e.data,
                    });
                }
            }
            _ => out.push(att),
        }
    }
    (out, notes)
}

/// A stored attachment.
struct StoredAttachment {
    att: Attachment,
    sha256: String,
}

async fn store_attachments(
    ctx: &Context,
    attachments: Vec<Attachment>,
) -> Result<Vec<StoredAttachment>, JobError> {
    let blobs = ctx.blobs.clone();
    tokio::task::spawn_blocking(move || {
        attachments
            .into_iter()
            .map(|att| {
                Ok(StoredAttachment {
                    sha256: blobs.put(&att.data)?,
                    att,
                })
            })
            .collect::<Result<Vec<_>, JobError>>()
    })
    .await
    .map_err(|e| JobError::Panic(e.to_string()))?
}

/// The case this message belongs to, if it is not a new one: a copy of a message already filed
/// (same Message-ID and sender), or the applicant's reply to an acknowledgement (tracking code
/// in the subject *and* the same sender, so a stranger quoting a code can't add to a case).
async fn existing_case(
    conn: &mut Conn,
    ctx: &Context,
    msg: &Message,
    p: &ParsedMessage,
) -> Result<Option<(CaseId, String, bool)>, JobError> {
    // Reply-To, else From: the same address the case is filed under.
    let Some(sender) = p.reply_address().map(|m| m.email.clone()) else {
        return Ok(None);
    };
    if let Some(mid) = &p.message_id {
        if let Some(case_id) = messages::case_of_message_id(conn, mid, &sender, msg.id).await? {
            return Ok(Some((
                case_id,
                cases::tracking_code(conn, case_id).await?,
                true,
            )));
        }
    }
    let subject = p.subject.as_deref().unwrap_or("");
    let Some(code) = TrackingCode::find_in(&ctx.cfg.office.code, subject) else {
        return Ok(None);
    };
    let found = cases::by_code_and_sender(conn, &code.to_string(), &sender).await?;
    Ok(found.map(|id| (id, code.to_string(), false)))
}

fn new_case(
    ctx: &Context,
    msg: &Message,
    parsed: Option<&ParsedMessage>,
    headers: &MessageHeaders,
) -> NewCase {
    let reply = parsed.and_then(|p| p.reply_address());
    let name = parsed
        .and_then(|p| p.from.as_ref().and_then(|f| f.name.clone()))
        .or(reply.and_then(|r| r.name.clone()));
    let mut error = None;
    if parsed.is_none() {
        error = Some("Pesan tidak dapat dibaca sebagai email (unreadable message)".to_string());
    } else if msg.truncated {
        error = Some(format!(
            "Pesan melebihi batas ukuran {} MB; lampiran tidak disimpan (message too large)",
            ctx.cfg.limits.max_message_bytes / (1024 * 1024)
        ));
    }
    NewCase {
        channel: Some(Channel::Email),
        applicant: ApplicantDetails {
            name,
            email: headers.sender.clone(),
            ..ApplicantDetails::default()
        },
        subject: headers.subject.clone(),
        body: parsed.map(|p| p.body_text.chars().take(MAX_BODY_CHARS).collect()),
        no_reply: headers.no_reply.clone(),
        error,
        received_at: msg.received_at,
    }
}

fn received_detail(msg: &Message, h: &MessageHeaders) -> String {
    let from = h.sender.as_deref().unwrap_or("unknown sender");
    match (&msg.mailbox, msg.uid) {
        (Some(mb), Some(uid)) => format!("email from {from} (mailbox {mb}, uid {uid})"),
        _ => format!("email from {from}"),
    }
}

async fn add_documents(
    conn: &mut Conn,
    case_id: CaseId,
    stored: &[StoredAttachment],
) -> Result<(), JobError> {
    let first = documents::count(conn, case_id).await?;
    for (i, s) in stored.iter().enumerate() {
        let doc = NewDocument {
            case_id,
            position: first + i as i64,
            filename: &s.att.filename,
            original_filename: s.att.original_filename.as_deref(),
            declared_type: &s.att.content_type,
            sha256: &s.sha256,
            size: s.att.data.len() as i64,
        };
        let doc_id = documents::insert(conn, &doc).await?;
        enqueue(conn, JobTarget::Extract(doc_id)).await?;
    }
    Ok(())
}

async fn note_problems(
    conn: &mut Conn,
    case_id: CaseId,
    parsed: Option<&ParsedMessage>,
    headers: &MessageHeaders,
) -> Result<(), JobError> {
    for problem in parsed.map(|p| p.problems.as_slice()).unwrap_or_default() {
        cases::add_event(conn, case_id, "parse_problem", problem).await?;
    }
    if let Some(reason) = &headers.no_reply {
        cases::add_event(conn, case_id, "no_acknowledgement", reason).await?;
    }
    Ok(())
}

/// A new case for this message, or, when an earlier attempt failed for good and the step was
/// queued again (`loket parked retry`), the failed case brought back with its tracking code.
async fn file_case(
    conn: &mut Conn,
    ctx: &Context,
    msg: &Message,
    new_case: &NewCase,
) -> Result<(CaseId, String), JobError> {
    if let (MessageState::Failed, Some(id)) = (msg.state, msg.case_id) {
        cases::revive(conn, id, new_case).await?;
        cases::add_event(conn, id, "retried", "the message was taken in again").await?;
        return Ok((id, cases::tracking_code(conn, id).await?));
    }
    let (id, code) = cases::insert(conn, &ctx.cfg.office.code, new_case, Status::Received).await?;
    Ok((id, code.to_string()))
}
