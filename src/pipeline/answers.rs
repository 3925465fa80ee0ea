//! Messages that get no case of their own: delivery reports for mail loket sent (recorded on
//! that mail's case; a permanent one marks the address undeliverable) and status questions
//! (answered automatically with what the public status page shows, kept in the thread of the
//! case they ask about).

use tracing::info;

use super::{ratelimit, Context, JobError};
use crate::classify::status_question::StatusQuestion;
use crate::extract::bounce::{Bounce, Severity};
use crate::filing::conversations::{self, SentMail, Undeliverable};
use crate::filing::jobs::enqueue;
use crate::filing::messages::{self, Message, MessageHeaders, MessageState};
use crate::filing::outbox::{self, NewOutbox};
use crate::filing::{cases, CaseId, Conn, Job, JobTarget};
use crate::notify::status_answer;

/// Record a delivery report for mail loket sent on that mail's case; false when it returns no
/// mail loket knows (it is then filed like any message, so nothing is lost).
pub(crate) async fn bounce(
    ctx: &Context,
    job: &Job,
    msg: &Message,
    headers: &MessageHeaders,
    report: &Bounce,
) -> Result<bool, JobError> {
    let mut tx = ctx.store.begin_step(&job.lease).await?;
    let sent: Vec<SentMail> = conversations::sent_mails(&mut tx, &report.original_message_ids)
        .await?
        .into_iter()
        .filter(|s| s.case_id.is_some())
        .collect();
    let Some(first) = sent.first().and_then(|s| s.case_id) else {
        return Ok(false);
    };
    for mail in &sent {
        if let Some(case_id) = mail.case_id {
            record_on_case(&mut tx, msg, report, mail, case_id).await?;
        }
    }
    messages::file_as(&mut tx, msg.id, headers, MessageState::Bounce, Some(first)).await?;
    enqueue(&mut tx, JobTarget::Move(msg.id)).await?;
    tx.commit().await?;
    crate::telemetry::metrics::bounce(report.is_permanent());
    info!(
        format = report.format,
        permanent = report.is_permanent(),
        "delivery report for mail loket sent: recorded on its case, not answered"
    );
    ctx.wake.notify_waiters();
    Ok(true)
}

/// What the report says about one returned mail, on its case.
async fn record_on_case(
    conn: &mut Conn,
    msg: &Message,
    report: &Bounce,
    mail: &SentMail,
    case_id: CaseId,
) -> Result<(), JobError> {
    let to = mail.to_addr.to_lowercase();
    // The report's recipient for this mail; an anonymised report names nobody, and then the
    // mail's own address is the one that failed.
    let recipient = report
        .recipients
        .iter()
        .find(|r| r.address.eq_ignore_ascii_case(&to))
        .or_else(|| (report.recipients.len() == 1).then(|| &report.recipients[0]));
    let severity = recipient.map(|r| r.severity).unwrap_or(Severity::Permanent);
    let status = recipient.and_then(|r| r.status.as_deref());
    let diagnostic = recipient.and_then(|r| r.diagnostic.as_deref());
    let why = match (status, diagnostic) {
        (Some(s), Some(d)) => format!("{s}: {d}"),
        (Some(s), None) => s.to_string(),
        (None, Some(d)) => d.to_string(),
        (None, None) => "no reason given".to_string(),
    };
    match severity {
        Severity::Permanent => {
            let u = Undeliverable {
                address: &to,
                status,
                diagnostic,
                bounce_message: msg.id,
                outbox_id: mail.outbox_id,
            };
            conversations::mark_undeliverable(conn, &u).await?;
            let post = conversations::letters_instead(conn, case_id).await?;
            let then = if post {
                "notices go by post to the applicant's address"
            } else {
                "no postal address is known: officers should reach the applicant another way"
            };
            let detail = format!("mail to {to} could not be delivered ({why}); {then}");
            cases::add_event(conn, case_id, "email_undeliverable", &detail).await?;
        }
        Severity::Delayed => {
            let detail = format!("mail to {to} is delayed ({why}); the mail server keeps trying");
            cases::add_event(conn, case_id, "delivery_delayed", &detail).await?;
        }
        Severity::NotAFailure => {
            let detail = format!("delivery report for mail to {to} ({})", report.format);
            cases::add_event(conn, case_id, "delivery_report", &detail).await?;
        }
    }
    Ok(())
}

/// A status question and who asked it (its answer goes to `sender`: Reply-To, else From).
pub(crate) struct Asked<'a> {
    pub question: &'a StatusQuestion,
    pub sender: &'a str,
}

/// Answer a status question: the public status of the cases it names (or of the sender's own
/// open cases), or how to find the tracking code. No case is filed; the question joins the
/// thread of the first case it is about.
pub(crate) async fn status_question(
    ctx: &Context,
    job: &Job,
    msg: &Message,
    headers: &MessageHeaders,
    asked: Asked<'_>,
) -> Result<(), JobError> {
    let (q, sender) = (asked.question, asked.sender);
    let mut tx = ctx.store.begin_step(&job.lease).await?;
    let mut codes: Vec<String> = q.codes.iter().map(|c| c.to_string()).collect();
    if codes.is_empty() && q.unreadable_codes.is_empty() {
        // Only their own cases: an address is all we know of who is asking.
        codes = conversations::open_cases_of(&mut tx, sender).await?;
    }
    let catalogue = ctx.catalogue();
    let mut found = Vec::new();
    let mut asked_about: Vec<CaseId> = Vec::new();
    let mut unknown: Vec<String> = q.unreadable_codes.clone();
    for code in &codes {
        match conversations::public_case(&mut tx, code).await? {
            Some(case) => {
                asked_about.extend(cases::by_code(&mut tx, code).await?);
                let public = status_answer::public_status(&case, &catalogue, &ctx.cfg.office.name);
                found.push((public, case.received_at));
            }
            None => unknown.push(code.clone()),
        }
    }
    let first_case = asked_about.first().copied();
    let (subject, body) = status_answer::render(&ctx.templates, &ctx.cfg, &found, &unknown)?;
    let answered = queue_answer(
        ctx, &mut tx, msg, headers, sender, first_case, &subject, &body,
    )
    .await?;
    let detail = format!(
        "{sender} asked for the status (\"{}\"); {}",
        q.cue,
        if answered {
            "answered automatically with the public status"
        } else {
            "not answered: too many automatic messages to this address this hour"
        }
    );
    for id in &asked_about {
        cases::add_event(&mut tx, *id, "status_question", &detail).await?;
    }
    conversations::clear_undeliverable(&mut tx, sender).await?;
    messages::file_as(&mut tx, msg.id, headers, MessageState::Question, first_case).await?;
    enqueue(&mut tx, JobTarget::Move(msg.id)).await?;
    tx.commit().await?;
    info!(cases = found.len(), unknown = unknown.len(), answered, cue = %q.cue,
        "status question answered; no case filed");
    ctx.wake.notify_waiters();
    Ok(())
}

/// Queue the answer unless the address has had its automatic messages for the hour; true when
/// it was queued.
#[allow(clippy::too_many_arguments)]
async fn queue_answer(
    ctx: &Context,
    conn: &mut Conn,
    msg: &Message,
    headers: &MessageHeaders,
    to: &str,
    case_id: Option<CaseId>,
    subject: &str,
    body: &str,
) -> Result<bool, JobError> {
    if ratelimit::admit(conn, &ctx.cfg, to).await? == ratelimit::Admit::Hold {
        return Ok(false);
    }
    let message_id = format!("status-answer.{}@{}", msg.id, ctx.cfg.message_id_domain());
    let purpose = format!("status-answer:{}", msg.id);
    let references = headers.references.join(" ");
    let mail = NewOutbox {
        case_id,
        purpose: &purpose,
        to_addr: to,
        subject,
        body,
        message_id: &message_id,
        in_reply_to: headers.message_id.as_deref(),
        references: &references,
    };
    if let Some(id) = outbox::insert(conn, &mail).await? {
        enqueue(conn, JobTarget::Send(id)).await?;
    }
    Ok(true)
}
