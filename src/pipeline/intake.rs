//! Intake step: a stored raw message becomes a case with documents (or joins its case).
//!
//! Takes a `messages` row whose blob is on disk; gives a case (new, or the existing one when the
//! applicant replies to an acknowledgement), one document per attachment, and `extract` jobs.
//! Mail that can't be parsed still becomes a case with the error recorded, so nothing is dropped.

use crate::classify::identifiers::mask_in_text;
use tracing::{info, info_span, Instrument};

use super::{answers, conversation, crash_point, ratelimit, stall_point, Context, JobError};
use crate::classify::status_question::{self, StatusQuestion};
use crate::domain::{ApplicantDetails, Channel, Status};
use crate::extract::archive::{self, ArchiveLimits};
use crate::extract::mime::{self, Attachment, MimeLimits, ParsedMessage};
use crate::extract::sniff;
use crate::extract::{bounce, reply};
use crate::filing::cases::{self, NewCase};
use crate::filing::documents::{self, NewDocument};
use crate::filing::jobs::{enqueue, enqueue_again};
use crate::filing::messages::{self, Message, MessageHeaders, MessageState, Source};
use crate::filing::{conversations, notices, CaseId, Conn, DocumentId, Job, JobTarget, MessageId};

/// Most text kept of a body (the rest is in the raw message).
const MAX_BODY_CHARS: usize = 200_000;

/// Messages up to this size are parsed on the step's own task.
const INLINE_PARSE_BYTES: i64 = 64 * 1024;

pub async fn run(ctx: &Context, job: &Job, id: MessageId) -> Result<(), JobError> {
    let mut conn = ctx.store.conn().await?;
    let msg = messages::get(&mut conn, id).await?;
    drop(conn);
    stall_point("intake").await;
    if (msg.case_id.is_some() && msg.state != MessageState::Failed)
        || matches!(
            msg.state,
            MessageState::Own | MessageState::Question | MessageState::Bounce
        )
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
                    message_id: None,
                };
                let doc_id = documents::insert(&mut tx, &doc).await?;
                enqueue(&mut tx, JobTarget::Extract(doc_id)).await?;
                // This runner reads the scan next, without a claim of its own.
                tx.then_run(job, JobTarget::Extract(doc_id), &ctx.worker.id);
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
    let raw = ctx.blobs.get(&msg.sha256).await?;
    let limits = MimeLimits {
        max_attachments: ctx.cfg.limits.max_attachments,
        ..MimeLimits::default()
    };
    let parse = move || (mime::parse(&raw, &limits), bounce::parse(&raw));
    // A short message is parsed in well under a millisecond, here: handing it to a blocking
    // thread cost more (a thread woken and waited for). A panic is caught by `run_step` either
    // way.
    let (parsed, report) = if msg.size <= INLINE_PARSE_BYTES {
        parse()
    } else {
        tokio::task::spawn_blocking(parse)
            .await
            .map_err(|e| JobError::Panic(e.to_string()))?
    };

    let staff = conversation::staff_addresses(ctx);
    let (mut headers, parsed) = match parsed {
        Ok(p) => (headers_of(&p, &staff), Some(p)),
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
    if let Some(report) = &report {
        if answers::bounce(ctx, job, msg, &headers, report).await? {
            crash_point("intake");
            return Ok(());
        }
    }
    if let (Some(q), Some(sender)) = (
        parsed
            .as_ref()
            .and_then(|p| status_question_of(ctx, p, &headers)),
        headers.sender.as_deref(),
    ) {
        let asked = answers::Asked {
            question: &q,
            sender,
        };
        answers::status_question(ctx, job, msg, &headers, asked).await?;
        crash_point("intake");
        return Ok(());
    }
    let attachments = parsed
        .as_ref()
        .map(|p| p.attachments.clone())
        .unwrap_or_default();
    let (attachments, unpacked) = expand_archives(attachments, ctx.cfg.limits.max_attachments);
    let stored = store_attachments(ctx, attachments).await?;

    let mut tx = ctx.store.begin_step(&job.lease).await?;
    // Codes the message names: to find its case, else as mentions of other cases.
    let codes = parsed
        .as_ref()
        .map(|p| conversation::codes_named(&ctx.cfg.office.code, p))
        .unwrap_or_default();
    let found = find_existing(
        &mut tx,
        ctx,
        msg,
        parsed.as_ref(),
        &headers,
        &stored,
        &codes,
    )
    .await?;
    let (case_id, code, state, join) = match found {
        Existing::Copy(case_id) => (
            case_id,
            cases::tracking_code(&mut tx, case_id).await?,
            MessageState::Duplicate,
            None,
        ),
        Existing::Joins(case_id, join) => (
            case_id,
            cases::tracking_code(&mut tx, case_id).await?,
            MessageState::Filed,
            Some(join),
        ),
        Existing::New => {
            let new_case = new_case(ctx, msg, parsed.as_ref(), &headers);
            let (id, code) = file_case(&mut tx, ctx, msg, &new_case).await?;
            cases::add_event(&mut tx, id, "received", &received_detail(msg, &headers)).await?;
            note_mentions(&mut tx, id, &codes).await?;
            (id, code, MessageState::Filed, None)
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
        if let Some(reason) = mail_loop(&mut tx, msg, &headers, join).await? {
            cases::add_event(&mut tx, case_id, "mail_loop", &reason).await?;
            headers.no_reply = Some(reason);
        }
        if let Some(join) = join {
            cases::add_event(&mut tx, case_id, "message_joined", join.describe()).await?;
            cases::mark_news(&mut tx, case_id).await?;
        }
        let (added, first_doc) = add_documents(&mut tx, case_id, msg.id, &stored).await?;
        note_problems(&mut tx, case_id, parsed.as_ref(), &headers).await?;
        for note in &unpacked {
            cases::add_event(&mut tx, case_id, "archive_unpacked", note).await?;
        }
        // This runner goes on with the case's next step (the first document's reading, or
        // the sorting), without a claim of its own; other runners take the other documents.
        if added == 0 {
            enqueue_again(&mut tx, JobTarget::Classify(case_id)).await?;
            tx.then_run(job, JobTarget::Classify(case_id), &ctx.worker.id);
        } else if let Some(doc) = first_doc {
            tx.then_run(job, JobTarget::Extract(doc), &ctx.worker.id);
        }
        if let Some(sender) = &headers.sender {
            if conversations::clear_undeliverable(&mut tx, sender).await? {
                cases::add_event(
                    &mut tx,
                    case_id,
                    "email_deliverable",
                    &format!("a message came from {sender}; mail to it is sent again"),
                )
                .await?;
            }
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

/// A reply (to our mail, or with a reply subject) that keeps coming back with the same subject
/// is a mail loop: it is filed, flagged and no longer answered.
async fn mail_loop(
    conn: &mut Conn,
    msg: &Message,
    headers: &MessageHeaders,
    join: Option<conversation::Join>,
) -> Result<Option<String>, JobError> {
    let (None, Some(sender)) = (&headers.no_reply, &headers.sender) else {
        return Ok(None);
    };
    let subject = headers.subject.as_deref();
    let replying = join == Some(conversation::Join::Reference)
        || subject.is_some_and(ratelimit::is_reply_subject);
    if !replying {
        // Applications under one subject (a business filing six branches) are no loop.
        return Ok(None);
    }
    Ok(ratelimit::loop_reason(conn, sender, subject, msg.received_at).await?)
}

/// The status question a message asks, if that is all it does (machines ask nothing).
fn status_question_of(
    ctx: &Context,
    p: &ParsedMessage,
    headers: &MessageHeaders,
) -> Option<StatusQuestion> {
    if headers.no_reply.is_some() || headers.sender.is_none() {
        return None;
    }
    let subject = p.subject.as_deref();
    let new_text = reply::split_with_subject(subject, &p.body_text).new_text;
    status_question::detect(
        &ctx.cfg.office.code,
        subject,
        &new_text,
        p.attachments.len(),
    )
}

/// Where a message goes.
enum Existing {
    /// A copy of a message already filed.
    Copy(CaseId),
    /// It belongs to this existing case.
    Joins(CaseId, conversation::Join),
    New,
}

/// The case this message belongs to, if it is not a new one: a copy of a message already filed
/// (same bytes, or same Message-ID and sender), or a message of an ongoing conversation
/// ([`conversation::find_case`]).
async fn find_existing(
    conn: &mut Conn,
    ctx: &Context,
    msg: &Message,
    parsed: Option<&ParsedMessage>,
    headers: &MessageHeaders,
    stored: &[StoredAttachment],
    codes: &[String],
) -> Result<Existing, JobError> {
    if let Some(case_id) = messages::case_of_identical(conn, &msg.sha256, msg.id).await? {
        return Ok(Existing::Copy(case_id));
    }
    let (Some(p), Some(sender)) = (parsed, headers.sender.as_deref()) else {
        return Ok(Existing::New);
    };
    if let Some(mid) = &p.message_id {
        if let Some(case_id) = messages::case_of_message_id(conn, mid, sender, msg.id).await? {
            return Ok(Existing::Copy(case_id));
        }
    }
    // The same files again join their case only from a person: two bounces returning the same
    // message are two reports.
    let hashes: Vec<String> = if headers.no_reply.is_none() {
        stored.iter().map(|s| s.sha256.clone()).collect()
    } else {
        Vec::new()
    };
    let clues = conversation::Clues {
        sender,
        parsed: p,
        codes,
        hashes: &hashes,
        trusted_authserv_id: ctx.cfg.trusted_authserv_id_for(msg.mailbox.as_deref()),
    };
    Ok(match conversation::find_case(conn, &clues).await? {
        Some((case_id, join)) => Existing::Joins(case_id, join),
        None => Existing::New,
    })
}

/// A new case whose message quotes codes of other cases records them, for triage.
async fn note_mentions(conn: &mut Conn, id: CaseId, codes: &[String]) -> Result<(), JobError> {
    let mentioned = conversation::mentioned(conn, codes).await?;
    if mentioned.is_empty() {
        return Ok(());
    }
    conversations::set_mentions(conn, id, &mentioned).await?;
    cases::add_event(
        conn,
        id,
        "mentions",
        &format!(
            "quotes {} but is not from that case's applicant; filed as a new case for triage",
            mentioned.join(", ")
        ),
    )
    .await?;
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
    info!(message_id = %mid, subject = %mask_in_text(headers.subject.as_deref().unwrap_or("")),
        "loket's own mail came back into the mailbox: recorded, no case filed");
    ctx.wake.notify_waiters();
    Ok(true)
}

/// Headers worth keeping, and whether the message may be answered. Mail the office's own staff
/// forward into the mailbox speaks for the forwarded applicant, who is answered.
fn headers_of(p: &ParsedMessage, staff: &[String]) -> MessageHeaders {
    let mut references = p.references.clone();
    if let Some(id) = &p.message_id {
        references.push(id.clone());
    }
    let forwarded = conversation::forwarded_applicant(p, staff);
    let no_reply = match forwarded {
        Some(_) => p.no_reply.as_ref().map(|r| r.describe()),
        None => mime::no_reply_reason(p, staff).map(|r| r.describe()),
    };
    MessageHeaders {
        message_id: p.message_id.clone(),
        sender: forwarded.or(p.reply_address()).map(|m| m.email.clone()),
        subject: p.subject.clone(),
        references,
        no_reply,
        body: Some(p.body_text.chars().take(MAX_BODY_CHARS).collect()),
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
    if attachments.is_empty() {
        return Ok(Vec::new());
    }
    let shas = ctx
        .blobs
        .put_all(attachments.iter().map(|a| a.data.clone()).collect())
        .await?;
    Ok(attachments
        .into_iter()
        .zip(shas)
        .map(|(att, sha256)| StoredAttachment { att, sha256 })
        .collect())
}

fn new_case(
    ctx: &Context,
    msg: &Message,
    parsed: Option<&ParsedMessage>,
    headers: &MessageHeaders,
) -> NewCase {
    let reply = parsed.and_then(|p| p.reply_address());
    let forwarded = parsed.and_then(|p| p.forwarded_from.as_ref()).filter(|f| {
        reply.is_some_and(|r| r.email != f.email) && headers.sender.as_ref() == Some(&f.email)
    });
    let name = match forwarded {
        Some(f) => f.name.clone(),
        None => parsed
            .and_then(|p| p.from.as_ref().and_then(|f| f.name.clone()))
            .or(reply.and_then(|r| r.name.clone())),
    };
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

/// The message's files become documents of the case, except files the case already has (the
/// same file sent again is not counted twice; the acknowledgement says it was received before).
/// Returns how many were added, and the first of them.
async fn add_documents(
    conn: &mut Conn,
    case_id: CaseId,
    message: MessageId,
    stored: &[StoredAttachment],
) -> Result<(usize, Option<DocumentId>), JobError> {
    let mut have = documents::hashes(conn, case_id).await?;
    let first = documents::count(conn, case_id).await?;
    let mut added = 0;
    let mut first_doc = None;
    let mut repeated = Vec::new();
    for s in stored {
        if have.contains(&s.sha256) {
            repeated.push(s.att.filename.clone());
            continue;
        }
        have.push(s.sha256.clone());
        let doc = NewDocument {
            case_id,
            position: first + added as i64,
            filename: &s.att.filename,
            original_filename: s.att.original_filename.as_deref(),
            declared_type: &s.att.content_type,
            sha256: &s.sha256,
            size: s.att.data.len() as i64,
            message_id: Some(message),
        };
        let doc_id = documents::insert(conn, &doc).await?;
        enqueue(conn, JobTarget::Extract(doc_id)).await?;
        first_doc.get_or_insert(doc_id);
        added += 1;
    }
    if !repeated.is_empty() {
        messages::set_repeated_files(conn, message, &repeated).await?;
        cases::add_event(
            conn,
            case_id,
            "files_repeated",
            &format!("already had {}; not counted twice", repeated.join(", ")),
        )
        .await?;
    }
    Ok((added, first_doc))
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
