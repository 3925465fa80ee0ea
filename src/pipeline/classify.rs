//! Classify step: sort a case by the rules, fill its checklist, and write its acknowledgements.
//!
//! Takes a case whose documents have all been read; gives the decision on the case, document
//! types, and one outbox mail per incoming message that may be answered, with `send` jobs. Runs
//! again when the applicant sends more documents; each message is acknowledged once.

use sqlx::{AnyConnection, Row};
use tracing::info;

use super::{crash_point, Context, JobError};
use crate::classify::{Catalogue, ClassifyInput, Decision, DocInput};
use crate::domain::{ApplicantDetails, Channel, Status};
use crate::extract::form::applicant_from_form;
use crate::filing::jobs::{complete, enqueue};
use crate::filing::pages;
use crate::filing::records::{self, NewOutbox};
use crate::filing::store::QueryContext;
use crate::filing::{Job, JobKind};
use crate::notify::ack::{self, AckContext, AckDocument, AckPage};

/// The case as this step reads it.
pub(crate) struct CaseRow {
    pub id: i64,
    pub code: String,
    pub channel: String,
    pub applicant: ApplicantDetails,
    pub status: String,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub error: Option<String>,
    /// Why the case's message must not be answered (auto-reply, bounce, list...).
    pub no_reply: Option<String>,
    pub received_at: i64,
}

pub(crate) struct DocRow {
    pub id: i64,
    pub filename: String,
    pub content_type: String,
    pub text: String,
    pub error_alasan: Option<String>,
    /// Pages given up on: (index, reason in Bahasa Indonesia).
    pub unreadable_pages: Vec<(usize, String)>,
}

pub(crate) async fn load_case(conn: &mut AnyConnection, id: i64) -> Result<CaseRow, sqlx::Error> {
    let r = sqlx::query(
        "SELECT id, tracking_code, channel, status, subject, body, applicant_name, applicant_email, applicant_address, \
         applicant_phone, error, no_reply, received_at FROM cases WHERE id = $1",
    )
    .bind(id)
    .fetch_one(conn)
    .await?;
    Ok(CaseRow {
        id: r.try_get("id")?,
        code: r.try_get("tracking_code")?,
        channel: r.try_get("channel")?,
        applicant: ApplicantDetails {
            name: r.try_get("applicant_name")?,
            address: r.try_get("applicant_address")?,
            email: r.try_get("applicant_email")?,
            phone: r.try_get("applicant_phone")?,
        },
        status: r.try_get("status")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        error: r.try_get("error")?,
        no_reply: r.try_get("no_reply")?,
        received_at: r.try_get("received_at")?,
    })
}

pub(crate) async fn load_docs(
    conn: &mut AnyConnection,
    case_id: i64,
) -> Result<Vec<DocRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, filename, content_type, text, error_alasan FROM documents WHERE case_id = $1 ORDER BY position, id",
    )
    .bind(case_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DocRow {
                id: r.try_get("id")?,
                filename: r.try_get("filename")?,
                content_type: r.try_get("content_type")?,
                text: r.try_get::<Option<String>, _>("text")?.unwrap_or_default(),
                error_alasan: r.try_get("error_alasan")?,
                unreadable_pages: Vec::new(),
            })
        })
        .collect()
}

/// Run the engine (pure) on a case and its documents.
pub(crate) fn decide(catalogue: &Catalogue, case: &CaseRow, docs: &[DocRow]) -> Decision {
    let input = ClassifyInput {
        subject: case.subject.as_deref().unwrap_or(""),
        body: case.body.as_deref().unwrap_or(""),
        documents: docs
            .iter()
            .map(|d| DocInput {
                filename: &d.filename,
                content_type: &d.content_type,
                text: &d.text,
            })
            .collect(),
    };
    let mut decision = catalogue.classify(&input);
    if case.no_reply.is_some() {
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

pub async fn run(ctx: &Context, job: &Job) -> Result<(), JobError> {
    let mut conn = ctx.store.pool.acquire().await.what("acquire connection")?;
    let mut case = load_case(&mut conn, job.target).await.what("load case")?;
    let mut docs = load_docs(&mut conn, case.id).await.what("load documents")?;
    for doc in &mut docs {
        doc.unreadable_pages = pages::unreadable(&mut conn, doc.id).await?;
    }
    drop(conn);
    let catalogue = ctx.catalogue();
    let decision = decide(&catalogue, &case, &docs);

    let mut tx = ctx.store.begin_write().await?;
    records::lock_case(&mut tx, case.id).await?;
    save_decision(&mut tx, &case, &docs, &decision).await?;
    if case.channel == Channel::Postal.as_str() {
        postal_details(&mut tx, &mut case, &docs).await?;
        queue_receipt_letters(&mut tx, case.id).await?;
    }
    let acks = write_acks(ctx, &mut tx, &case, &docs, &decision, &catalogue).await?;
    complete(&mut tx, job.id).await?;
    tx.commit().await.what("commit decision")?;
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
    crash_point("classify");
    Ok(())
}

async fn save_decision(
    conn: &mut AnyConnection,
    case: &CaseRow,
    docs: &[DocRow],
    d: &Decision,
) -> Result<(), JobError> {
    let status = if case.status == Status::Received.as_str() {
        Status::Queued.as_str()
    } else {
        case.status.as_str()
    };
    sqlx::query(
        "UPDATE cases SET kind = $1, permit_type = $2, department = $3, application_type = $4, confidence = $5, \
         triage = $6, decision = $7, requirements = $8, missing = $9, status = $10 WHERE id = $11",
    )
    .bind(d.kind.as_str())
    .bind(&d.permit_type)
    .bind(&d.department)
    .bind(&d.application_type)
    .bind(d.confidence)
    .bind(d.triage as i64)
    .bind(serde_json::to_string(d).unwrap_or_default())
    .bind(serde_json::to_string(&d.requirements).unwrap_or_default())
    .bind(serde_json::to_string(&d.missing).unwrap_or_default())
    .bind(status)
    .bind(case.id)
    .execute(&mut *conn)
    .await
    .what("save decision")?;
    for (doc, dd) in docs.iter().zip(&d.documents) {
        sqlx::query("UPDATE documents SET doc_type = $1 WHERE id = $2")
            .bind(&dd.doc_type)
            .bind(doc.id)
            .execute(&mut *conn)
            .await
            .what("save document type")?;
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
    records::add_event(conn, case.id, "classified", &summary).await?;
    Ok(())
}

/// Postal applicants are known from the form they filled in: read name, address, phone and
/// email from the documents' text where the clerk typed nothing; the email makes an email
/// acknowledgement possible.
async fn postal_details(
    conn: &mut AnyConnection,
    case: &mut CaseRow,
    docs: &[DocRow],
) -> Result<(), JobError> {
    let text: String = docs
        .iter()
        .map(|d| d.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let merged = case.applicant.clone().or(&applicant_from_form(&text));
    if merged == case.applicant {
        return Ok(());
    }
    sqlx::query(
        "UPDATE cases SET applicant_name = $1, applicant_address = $2, applicant_email = $3, applicant_phone = $4 WHERE id = $5",
    )
    .bind(&merged.name)
    .bind(&merged.address)
    .bind(&merged.email)
    .bind(&merged.phone)
    .bind(case.id)
    .execute(&mut *conn)
    .await
    .what("save applicant details")?;
    if let Some(email) = &merged.email {
        sqlx::query("UPDATE messages SET sender = $1 WHERE case_id = $2 AND sender IS NULL")
            .bind(email)
            .bind(case.id)
            .execute(&mut *conn)
            .await
            .what("save applicant email")?;
    }
    records::add_event(
        conn,
        case.id,
        "applicant_details",
        "read from the application form",
    )
    .await?;
    case.applicant = merged;
    Ok(())
}

/// Every postal message gets a receipt letter (tanda terima berkas), printed with `loket letters`.
async fn queue_receipt_letters(conn: &mut AnyConnection, case_id: i64) -> Result<(), JobError> {
    sqlx::query(
        "INSERT INTO letters (case_id, purpose, created_at) SELECT case_id, 'receipt:' || id, $1 FROM messages \
         WHERE case_id = $2 AND state = 'filed' ON CONFLICT (case_id, purpose) DO NOTHING",
    )
    .bind(crate::filing::now_ms())
    .bind(case_id)
    .execute(conn)
    .await
    .what("queue receipt letter")?;
    Ok(())
}

/// A filed message of the case that has not been acknowledged yet.
struct Unanswered {
    id: i64,
    sender: String,
    message_id: Option<String>,
    references: String,
    first: bool,
}

async fn unanswered(conn: &mut AnyConnection, case_id: i64) -> Result<Vec<Unanswered>, JobError> {
    let rows = sqlx::query(
        "SELECT m.id, m.sender, m.message_id, m.references_ids, \
         (SELECT MIN(id) FROM messages WHERE case_id = $1 AND state = 'filed') AS first_id FROM messages m \
         WHERE m.case_id = $1 AND m.state = 'filed' AND m.no_reply IS NULL AND m.sender IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.case_id = $1 AND o.purpose = 'ack:' || m.id) ORDER BY m.id",
    )
    .bind(case_id)
    .fetch_all(conn)
    .await
    .what("find unanswered messages")?;
    rows.iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            Ok(Unanswered {
                id,
                sender: r.try_get("sender")?,
                message_id: r.try_get("message_id")?,
                references: r
                    .try_get::<Option<String>, _>("references_ids")?
                    .unwrap_or_default(),
                first: r.try_get::<Option<i64>, _>("first_id")? == Some(id),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .what("read messages")
        .map_err(JobError::from)
}

async fn write_acks(
    ctx: &Context,
    conn: &mut AnyConnection,
    case: &CaseRow,
    docs: &[DocRow],
    d: &Decision,
    catalogue: &Catalogue,
) -> Result<usize, JobError> {
    let pending = unanswered(conn, case.id).await?;
    for m in &pending {
        let context = ack_context(ctx, case, docs, d, catalogue, !m.first);
        let (subject, body) = ack::render(&ctx.templates, &context)?;
        let domain = ctx
            .mailer
            .as_ref()
            .map(|mm| mm.from_address().email.domain().to_string())
            .unwrap_or_else(|| "loket.invalid".into());
        let message_id = format!("{}.{}@{domain}", case.code.to_lowercase(), m.id);
        let purpose = format!("ack:{}", m.id);
        let outbox = NewOutbox {
            case_id: case.id,
            purpose: &purpose,
            to_addr: &m.sender,
            subject: &subject,
            body: &body,
            message_id: &message_id,
            in_reply_to: m.message_id.as_deref(),
            references: &m.references,
        };
        if let Some(outbox_id) = records::insert_outbox(conn, &outbox).await? {
            enqueue(conn, JobKind::Send, outbox_id).await?;
        }
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
        status_url: office.status_url_for(&case.code),
        followup,
    }
}
