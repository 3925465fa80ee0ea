//! Classify step: sort a case by the rules, fill its checklist, and write its acknowledgements.
//!
//! Takes a case whose documents have all been read; gives the decision on the case, document
//! types, and one outbox mail per incoming message that may be answered, with `send` jobs. Runs
//! again when the applicant sends more documents; each message is acknowledged once.

use tracing::info;

use super::{crash_point, stall_point, Context, JobError};
use crate::classify::{Catalogue, ClassifyInput, Decision, DocInput, Overrides, Reason};
use crate::domain::{Channel, Status};
use crate::extract::form::applicant_from_form;
use crate::filing::cases::{self, CaseForSorting, Sorting};
use crate::filing::documents::{self, DocumentForSorting};
use crate::filing::outbox::NewOutbox;
use crate::filing::{letters, messages, notices, pages, CaseId, Conn, Job, JobTarget};
use crate::notify::ack::{self, AckContext, AckDocument, AckPage};

type CaseRow = CaseForSorting;
type DocRow = DocumentForSorting;

fn text_of(d: &DocRow) -> &str {
    d.text.as_deref().unwrap_or("")
}

/// Run the engine (pure) on a case and its documents.
pub(crate) fn decide(catalogue: &Catalogue, case: &CaseRow, docs: &[DocRow]) -> Decision {
    // Quoted history (our acknowledgement, earlier mail) and signatures are not what the
    // applicant asks for now.
    let new_text = crate::extract::reply::split_with_subject(
        case.subject.as_deref(),
        case.body.as_deref().unwrap_or(""),
    )
    .new_text;
    let input = ClassifyInput {
        subject: case.subject.as_deref().unwrap_or(""),
        body: &new_text,
        documents: docs
            .iter()
            .map(|d| DocInput {
                filename: &d.filename,
                content_type: &d.content_type,
                text: text_of(d),
            })
            .collect(),
    };
    let overrides: Overrides = case
        .overrides
        .as_deref()
        .and_then(|o| serde_json::from_str(o).ok())
        .unwrap_or_default();
    // Mail to pengaduan@ (`[[mailbox]] kind`) is a complaint unless the rules know better.
    let mut decision = catalogue.classify_in(&input, &overrides, case.mailbox_kind);
    let mentions = case.mentions.as_deref().is_some_and(|m| m != "[]");
    if mentions && overrides.is_empty() {
        // It quotes someone else's case: an officer decides where it belongs.
        decision.triage = true;
    }
    let handwritten = handwriting_reasons(docs);
    if !handwritten.is_empty() && overrides.is_empty() {
        // What tesseract made of handwriting is no ground to sort on: an officer reads it.
        decision.triage = true;
        decision.reasons.extend(handwritten);
    }
    if case.no_reply.is_some() && overrides.is_empty() {
        // Auto-replies, bounces and newsletters quote applications but are none: keep the
        // engine's reasons for the record, but file them as `other`, out of every queue.
        decision.kind = crate::domain::Kind::Other;
        decision.permit_type = None;
        decision.permit_type_name = None;
        decision.department = None;
        decision.department_name = None;
        decision.triage = false;
        decision.requirements.clear();
        decision.missing.clear();
    }
    decision
}

/// One reason per document with handwritten pages, naming them (pages from 1).
fn handwriting_reasons(docs: &[DocRow]) -> Vec<Reason> {
    docs.iter()
        .filter(|d| !d.handwritten_pages.is_empty())
        .map(|d| {
            let pages: Vec<String> = d
                .handwritten_pages
                .iter()
                .map(|p| (p + 1).to_string())
                .collect();
            Reason {
                rule: "triage:handwriting".into(),
                field: "document".into(),
                snippet: format!(
                    "{}: halaman {} tulisan tangan, perlu dibaca petugas",
                    d.filename,
                    pages.join(", ")
                ),
                weight: 0.0,
            }
        })
        .collect()
}

pub async fn run(ctx: &Context, job: &Job, id: CaseId) -> Result<(), JobError> {
    let mut conn = ctx.store.conn().await?;
    let mut case = cases::for_sorting(&mut conn, id).await?;
    let mut docs = documents::for_sorting(&mut conn, case.id).await?;
    for doc in &mut docs {
        doc.unreadable_pages = pages::unreadable(&mut conn, doc.id).await?;
        doc.handwritten_pages = pages::handwritten(&mut conn, doc.id).await?;
    }
    drop(conn);
    stall_point("classify").await;
    let catalogue = ctx.catalogue();
    let decision = decide(&catalogue, &case, &docs);
    let first_sorting = case.status == Status::Received;

    let mut tx = ctx.store.begin_step(&job.lease).await?;
    cases::lock(&mut tx, case.id).await?;
    save_decision(&mut tx, &case, &docs, &decision).await?;
    if let (Some(department), false) = (&decision.department, decision.triage) {
        // Into a department's queue (triage cases wait for an officer to route them).
        if let Some(notice) = notices::case_routed(&mut tx, case.id, department).await? {
            // This runner announces it next, without a claim of its own.
            tx.then_run(job, JobTarget::Notice(notice), &ctx.worker.id);
        }
    }
    if case.channel == Channel::Postal {
        postal_details(ctx, &mut tx, &mut case, &docs).await?;
        letters::queue_receipts(&mut tx, case.id).await?;
    }
    let acks = write_acks(ctx, &mut tx, &case, &docs, &decision, &catalogue).await?;
    let calendar = ctx.calendar();
    super::deadline::refresh(
        &mut tx,
        case.id,
        &catalogue,
        &calendar,
        ctx.cfg.office.utc_offset_hours,
    )
    .await?;
    tx.commit().await?;
    if first_sorting {
        let department = decision.department.as_deref().filter(|_| !decision.triage);
        crate::telemetry::metrics::case_filed(decision.kind.as_str(), department);
    }
    info!(
        case = %case.code,
        kind = decision.kind.as_str(),
        permit_type = decision.permit_type.as_deref().unwrap_or("-"),
        triage = decision.triage,
        missing = decision.missing.len(),
        acks,
        "case sorted"
    );
    ctx.wake.notify_waiters();
    if acks > 0 {
        ctx.mail_ready.notify_one();
    }
    crash_point("classify");
    Ok(())
}

/// Sort a case again right now, inside the caller's transaction (an officer corrected the
/// sorting at the desk): the decision and checklist follow the corrections; no mail is written.
pub async fn resort(
    conn: &mut Conn,
    catalogue: &Catalogue,
    id: CaseId,
) -> Result<Decision, JobError> {
    let case = cases::for_sorting(conn, id).await?;
    let mut docs = documents::for_sorting(conn, case.id).await?;
    for doc in &mut docs {
        doc.unreadable_pages = pages::unreadable(conn, doc.id).await?;
        doc.handwritten_pages = pages::handwritten(conn, doc.id).await?;
    }
    let decision = decide(catalogue, &case, &docs);
    save_decision(conn, &case, &docs, &decision).await?;
    Ok(decision)
}

async fn save_decision(
    conn: &mut Conn,
    case: &CaseRow,
    docs: &[DocRow],
    d: &Decision,
) -> Result<(), JobError> {
    let status = if case.status == Status::Received {
        Status::Queued
    } else {
        case.status
    };
    let sorting = Sorting {
        kind: d.kind,
        permit_type: d.permit_type.as_deref(),
        department: d.department.as_deref(),
        application_type: d.application_type.as_deref(),
        confidence: d.confidence,
        triage: d.triage,
        decision: serde_json::to_string(d).unwrap_or_default(),
        requirements: serde_json::to_string(&d.requirements).unwrap_or_default(),
        missing: serde_json::to_string(&d.missing).unwrap_or_default(),
        status,
    };
    cases::save_sorting(conn, case.id, &sorting).await?;
    for (doc, dd) in docs.iter().zip(&d.documents) {
        documents::save_doc_type(conn, doc.id, dd.doc_type.as_deref()).await?;
    }
    let summary = match (&d.permit_type, d.triage) {
        (Some(p), false) => format!(
            "{} {p} ({:.0}%), missing: {}",
            d.kind.as_str(),
            d.confidence * 100.0,
            d.missing.join(", ")
        ),
        _ => format!(
            "{} to triage ({:.0}%)",
            d.kind.as_str(),
            d.confidence * 100.0
        ),
    };
    cases::add_event(conn, case.id, "classified", &summary).await?;
    Ok(())
}

/// Postal applicants are known from the form they filled in: read name, address, phone and
/// email from the documents' text where the clerk typed nothing; the email makes an email
/// acknowledgement possible.
async fn postal_details(
    ctx: &Context,
    conn: &mut Conn,
    case: &mut CaseRow,
    docs: &[DocRow],
) -> Result<(), JobError> {
    let text: String = docs.iter().map(text_of).collect::<Vec<_>>().join("\n");
    let mut from_form = applicant_from_form(&text);
    if let Some(email) = from_form.email.take() {
        match super::conversation::unusable_applicant_address(ctx, &email) {
            Some(why) => {
                cases::add_event(
                    conn,
                    case.id,
                    "applicant_email_ignored",
                    &format!("{email} on the form is {why}; the case gets letters only"),
                )
                .await?;
            }
            None => from_form.email = Some(email),
        }
    }
    let merged = case.applicant.clone().or(&from_form);
    if merged == case.applicant {
        return Ok(());
    }
    cases::save_applicant(conn, case.id, &merged).await?;
    if let Some(email) = &merged.email {
        messages::set_missing_sender(conn, case.id, email).await?;
    }
    cases::add_event(
        conn,
        case.id,
        "applicant_details",
        "read from the application form",
    )
    .await?;
    case.applicant = merged;
    Ok(())
}

async fn write_acks(
    ctx: &Context,
    conn: &mut Conn,
    case: &CaseRow,
    docs: &[DocRow],
    d: &Decision,
    catalogue: &Catalogue,
) -> Result<usize, JobError> {
    let pending = messages::unanswered(conn, case.id).await?;
    for m in &pending {
        let first = m.first_id == Some(m.id);
        let mut context = ack_context(ctx, case, docs, d, catalogue, !first);
        // Each acknowledgement lists what arrived in its own message.
        context.documents = docs
            .iter()
            .zip(context.documents)
            .filter(|(doc, _)| doc.message_id == Some(m.id) || (first && doc.message_id.is_none()))
            .map(|(_, ack_doc)| ack_doc)
            .collect();
        context.repeated_files = m
            .repeated_files
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or_default();
        let (subject, body) = ack::render(&ctx.templates, &context)?;
        let domain = ctx.cfg.message_id_domain();
        let message_id = format!("{}.{}@{domain}", case.code.to_lowercase(), m.id);
        let purpose = format!("ack:{}", m.id);
        let outbox = NewOutbox {
            case_id: Some(case.id),
            purpose: &purpose,
            to_addr: &m.sender,
            subject: &subject,
            body: &body,
            message_id: &message_id,
            in_reply_to: m.message_id.as_deref(),
            references: m.references_ids.as_deref().unwrap_or(""),
        };
        super::ratelimit::queue_ack(ctx, conn, &outbox).await?;
    }
    Ok(pending.len())
}

fn ack_context(
    ctx: &Context,
    case: &CaseRow,
    docs: &[DocRow],
    d: &Decision,
    catalogue: &Catalogue,
    followup: bool,
) -> AckContext {
    let office = &ctx.cfg.office;
    let documents = docs
        .iter()
        .zip(d.documents.iter().map(Some).chain(std::iter::repeat(None)))
        .map(|(doc, dd)| AckDocument {
            filename: doc.filename.clone(),
            doc_type_name: dd
                .and_then(|dd| dd.doc_type.as_deref())
                .and_then(|t| catalogue.document_type_name(t))
                .map(String::from),
            error: doc.error_alasan.clone(),
            unreadable_pages: doc
                .unreadable_pages
                .iter()
                .map(|(index, alasan)| AckPage {
                    page: index + 1,
                    alasan: alasan.clone(),
                })
                .collect(),
        })
        .collect();
    let name_of = |id: &String| {
        catalogue
            .requirement_name(id)
            .map(String::from)
            .unwrap_or_else(|| id.clone())
    };
    AckContext {
        office_name: office.name.clone(),
        tracking_code: case.code.clone(),
        applicant_name: case.applicant.name.clone(),
        subject: case.subject.clone(),
        received_at: office.local_time(case.received_at),
        kind: d.kind.as_str().to_string(),
        kind_label: d.kind.label_id().to_string(),
        permit_type_name: if d.triage {
            None
        } else {
            d.permit_type_name.clone()
        },
        department_name: d.department_name.clone(),
        triage: d.triage,
        documents,
        received_requirements: d
            .requirements
            .iter()
            .filter(|r| r.satisfied)
            .map(|r| r.name.clone())
            .collect(),
        missing: d.missing.iter().map(name_of).collect(),
        error: case.error.clone(),
        status_url: ctx.cfg.status_url_for(&case.code),
        followup,
        repeated_files: Vec::new(),
    }
}
