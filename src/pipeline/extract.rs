//! Extract step: one document's text (its text layer, OCR for `NeedsOcr` pages).
//!
//! OCR pages are checkpointed one by one outside this step's transaction (see `ocr`); the
//! transaction below writes the whole document once every page is accounted for.
//!
//! When the last document of a case is read, the case is queued for sorting in the same
//! transaction, so sorting always sees every document.

use crate::classify::identifiers::mask_in_text;
use std::sync::Arc;

use tracing::{info, warn};

use super::{stall_point, Context, JobError};
use crate::extract::document::{read_document, Extraction};
use crate::filing::documents::{self, DocumentToRead, ReadResult};
use crate::filing::jobs::enqueue_again;
use crate::filing::{cases, CaseId, Conn, DocumentId, Job, JobTarget};

pub async fn run(ctx: &Context, job: &Job, id: DocumentId) -> Result<(), JobError> {
    let mut conn = ctx.store.conn().await?;
    let doc = documents::to_read(&mut conn, id).await?;
    drop(conn);
    stall_point("extract").await;
    let extraction = if doc.is_read() {
        None
    } else {
        Some(read(ctx, id, &doc).await?)
    };
    let mut tx = ctx.store.begin_step(&job.lease).await?;
    cases::lock(&mut tx, doc.case_id).await?;
    if let Some(x) = &extraction {
        save(&mut tx, id, x).await?;
        if let Some(err) = &x.error {
            warn!(file = %mask_in_text(&doc.filename), error = %err, "document unreadable");
            cases::add_event(
                &mut tx,
                doc.case_id,
                "document_unreadable",
                &format!("{}: {err}", doc.filename),
            )
            .await?;
        }
    }
    if queue_sorting_if_all_read(&mut tx, doc.case_id).await? {
        // The last document read: this runner sorts the case next.
        tx.then_run(job, JobTarget::Classify(doc.case_id), &ctx.worker.id);
    }
    tx.commit().await?;
    if let Some(x) = &extraction {
        info!(file = %mask_in_text(&doc.filename), content_type = %x.content_type, pages = x.pages.len(), "document read");
    }
    Ok(())
}

/// Read a document: its own text where it has some, OCR for the rest (resuming at the first
/// page not checkpointed by an earlier attempt).
async fn read(
    ctx: &Context,
    doc_id: DocumentId,
    doc: &DocumentToRead,
) -> Result<Extraction, JobError> {
    let data = Arc::new(ctx.blobs.get(&doc.sha256).await?);
    let (bytes, declared, name) = (
        data.clone(),
        doc.declared_type.clone(),
        doc.filename.clone(),
    );
    let mut x = tokio::task::spawn_blocking(move || read_document(&bytes, &declared, &name))
        .await
        .map_err(|e| JobError::Panic(e.to_string()))?;
    let log = super::ocr::PageLog::checkpointed(ctx.store.clone(), doc_id);
    super::ocr::fill_checkpointed(&ctx.ocr, data, &mut x, &log).await?;
    Ok(x)
}

/// Store the text and how each page was read.
async fn save(conn: &mut Conn, id: DocumentId, x: &Extraction) -> Result<(), JobError> {
    let page_info: Vec<serde_json::Value> = x
        .pages
        .iter()
        .map(|p| {
            let mut info = serde_json::json!({"source": p.source, "confidence": p.confidence, "how": p.how,
                "error": p.error, "chars": p.text.chars().count()});
            if p.handwriting {
                info["handwriting"] = true.into();
            }
            info
        })
        .collect();
    let result = ReadResult {
        content_type: &x.content_type,
        pages: x.pages.len() as i64,
        page_info: serde_json::Value::Array(page_info).to_string(),
        text: x.text(),
        error: x.error.as_ref().map(|e| e.to_string()),
        error_alasan: x.error.as_ref().map(|e| e.alasan()),
    };
    documents::save_read(conn, id, &result).await?;
    Ok(())
}

/// Enqueue sorting once no document of the case is waiting to be read; true when it did.
pub(crate) async fn queue_sorting_if_all_read(
    conn: &mut Conn,
    case_id: CaseId,
) -> Result<bool, JobError> {
    if documents::unread(conn, case_id).await? == 0 {
        enqueue_again(conn, JobTarget::Classify(case_id)).await?;
        return Ok(true);
    }
    Ok(false)
}
