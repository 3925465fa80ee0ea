//! Extract step: one document's text (its text layer, OCR for `NeedsOcr` pages).
//!
//! OCR pages are checkpointed one by one outside this step's transaction (see `ocr`); the
//! transaction below writes the whole document once every page is accounted for.
//!
//! When the last document of a case is read, the case is queued for sorting in the same
//! transaction, so sorting always sees every document.

use std::sync::Arc;

use sqlx::{AnyConnection, Row};
use tracing::{info, warn};

use super::{Context, JobError};
use crate::extract::document::{read_document, Extraction};
use crate::filing::jobs::{complete, enqueue_again};
use crate::filing::records;
use crate::filing::store::QueryContext;
use crate::filing::{Job, JobKind};

/// The parts of a document row this step needs.
struct DocRow {
    case_id: i64,
    filename: String,
    declared_type: String,
    sha256: String,
    done: bool,
}

async fn load(conn: &mut AnyConnection, id: i64) -> Result<DocRow, JobError> {
    let r = sqlx::query(
        "SELECT case_id, filename, declared_type, sha256, state FROM documents WHERE id = $1",
    )
    .bind(id)
    .fetch_one(conn)
    .await
    .what("load document")?;
    let get = |e| {
        JobError::Store(crate::filing::StoreError::Query {
            what: "read document",
            source: e,
        })
    };
    Ok(DocRow {
        case_id: r.try_get("case_id").map_err(get)?,
        filename: r.try_get("filename").map_err(get)?,
        declared_type: r.try_get("declared_type").map_err(get)?,
        sha256: r.try_get("sha256").map_err(get)?,
        done: r.try_get::<String, _>("state").map_err(get)? == "done",
    })
}

pub async fn run(ctx: &Context, job: &Job) -> Result<(), JobError> {
    let mut conn = ctx.store.pool.acquire().await.what("acquire connection")?;
    let doc = load(&mut conn, job.target).await?;
    drop(conn);
    let extraction = if doc.done {
        None
    } else {
        Some(read(ctx, job.target, &doc).await?)
    };
    let mut tx = ctx.store.begin_write().await?;
    records::lock_case(&mut tx, doc.case_id).await?;
    if let Some(x) = &extraction {
        save(&mut tx, job.target, x).await?;
        if let Some(err) = &x.error {
            warn!(file = %doc.filename, error = %err, "document unreadable");
            records::add_event(
                &mut tx,
                doc.case_id,
                "document_unreadable",
                &format!("{}: {err}", doc.filename),
            )
            .await?;
        }
    }
    queue_sorting_if_all_read(&mut tx, doc.case_id).await?;
    complete(&mut tx, job.id).await?;
    tx.commit().await.what("commit extraction")?;
    if let Some(x) = &extraction {
        info!(file = %doc.filename, content_type = %x.content_type, pages = x.pages.len(), "document read");
    }
    Ok(())
}

/// Read a document: its own text where it has some, OCR for the rest (resuming at the first
/// page not checkpointed by an earlier attempt).
async fn read(ctx: &Context, doc_id: i64, doc: &DocRow) -> Result<Extraction, JobError> {
    let data = Arc::new(ctx.blobs.get(&doc.sha256)?);
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
async fn save(conn: &mut AnyConnection, doc_id: i64, x: &Extraction) -> Result<(), JobError> {
    let page_info: Vec<serde_json::Value> = x
        .pages
        .iter()
        .map(|p| {
            serde_json::json!({"source": p.source, "confidence": p.confidence, "how": p.how, "error": p.error,
                "chars": p.text.chars().count()})
        })
        .collect();
    sqlx::query(
        "UPDATE documents SET content_type = $1, pages = $2, page_info = $3, text = $4, error = $5, error_alasan = $6, \
         state = 'done' WHERE id = $7",
    )
    .bind(&x.content_type)
    .bind(x.pages.len() as i64)
    .bind(serde_json::Value::Array(page_info).to_string())
    .bind(x.text())
    .bind(x.error.as_ref().map(|e| e.to_string()))
    .bind(x.error.as_ref().map(|e| e.alasan()))
    .bind(doc_id)
    .execute(conn)
    .await
    .what("save document text")?;
    Ok(())
}

/// Enqueue sorting once no document of the case is waiting to be read.
pub(crate) async fn queue_sorting_if_all_read(
    conn: &mut AnyConnection,
    case_id: i64,
) -> Result<(), JobError> {
    let pending: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM documents WHERE case_id = $1 AND state <> 'done'")
            .bind(case_id)
            .fetch_one(&mut *conn)
            .await
            .what("count unread documents")?;
    if pending == 0 {
        enqueue_again(conn, JobKind::Classify, case_id).await?;
    }
    Ok(())
}
