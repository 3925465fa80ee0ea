//! OCR checkpoints: one row per page of a document (`page_results`), written as soon as the
//! page is read, outside the extract step's transaction.
//!
//! A long scan is read page by page; if the process stops half-way the next attempt skips the
//! pages already here. Reading a page is deterministic, so a second writer of the same page (a
//! worker whose lease was taken over) writes the same result: rows are upserted, never locked.
//! The row also counts OCR workers that died on the page, so a page that kills the engine is
//! given up on after a bounded number of tries, across attempts of the step.

use super::ids::DocumentId;
use super::now_ms;
use super::store::{Conn, QueryContext, Store, StoreError};

/// What became of one page.
#[derive(Debug, Clone, PartialEq)]
pub enum PageOutcome {
    /// OCR read the page (the text may be empty: a blank page); `handwriting`: the page looked
    /// handwritten (see `extract::ocr::HandwritingSigns`).
    Text {
        text: String,
        confidence: f32,
        handwriting: bool,
    },
    /// The page was given up on: why, in English and in Bahasa Indonesia.
    Unreadable { error: String, alasan: String },
}

/// One page's row.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRow {
    /// Page index, from 0.
    pub page: usize,
    /// How the page image was made (`pdf-dct`, `pdftoppm`, `png`...), when it was.
    pub how: Option<String>,
    /// `None` while the page is not finished (only crashes are recorded so far).
    pub outcome: Option<PageOutcome>,
    /// OCR workers that died while reading this page.
    pub crashes: u32,
    /// Unix milliseconds of the last write.
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    page: i64,
    text: Option<String>,
    confidence: Option<f64>,
    how: Option<String>,
    error: Option<String>,
    alasan: Option<String>,
    crashes: i64,
    handwriting: i64,
    updated_at: i64,
}

/// Every row of a document, in page order.
pub async fn load(store: &Store, document_id: DocumentId) -> Result<Vec<PageRow>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT page, text, confidence, how, error, alasan, crashes, handwriting, updated_at FROM page_results \
         WHERE document_id = $1 ORDER BY page",
    )
    .bind(document_id)
    .fetch_all(store.pool())
    .await
    .what("load page results")?;
    Ok(rows.into_iter().map(page_row).collect())
}

fn page_row(r: Row) -> PageRow {
    let Row {
        page,
        text,
        confidence,
        how,
        error,
        alasan,
        crashes,
        handwriting,
        updated_at,
    } = r;
    let outcome = match (error, text) {
        (Some(error), _) => Some(PageOutcome::Unreadable {
            alasan: alasan.unwrap_or_else(|| error.clone()),
            error,
        }),
        (None, Some(text)) => Some(PageOutcome::Text {
            text,
            confidence: confidence.unwrap_or(0.0) as f32,
            handwriting: handwriting != 0,
        }),
        (None, None) => None,
    };
    PageRow {
        page: usize::try_from(page).unwrap_or(usize::MAX),
        how,
        outcome,
        crashes: u32::try_from(crashes).unwrap_or(u32::MAX),
        updated_at,
    }
}

/// Keep one finished page (its crash count is left as it is).
///
/// Text and unreadable pages are written by two statements, so no float is ever bound as NULL:
/// sqlx 0.8's `Any` driver sends a NULL `f64` as a `float4` parameter, and PostgreSQL then
/// rejects the connection's cached statement when it is reused with a real `f64` ("incorrect
/// binary data format in bind parameter").
pub async fn save(
    store: &Store,
    document_id: DocumentId,
    page: usize,
    how: Option<&str>,
    outcome: &PageOutcome,
) -> Result<(), StoreError> {
    let query = match outcome {
        PageOutcome::Text {
            text,
            confidence,
            handwriting,
        } => sqlx::query(
            "INSERT INTO page_results (document_id, page, how, updated_at, text, confidence, error, alasan, \
             handwriting) VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, $7) ON CONFLICT (document_id, page) \
             DO UPDATE SET text = excluded.text, confidence = excluded.confidence, how = excluded.how, \
             error = NULL, alasan = NULL, handwriting = excluded.handwriting, updated_at = excluded.updated_at",
        )
        .bind(document_id)
        .bind(page as i64)
        .bind(how)
        .bind(now_ms())
        .bind(text.as_str())
        .bind(f64::from(*confidence))
        .bind(i64::from(*handwriting)),
        PageOutcome::Unreadable { error, alasan } => sqlx::query(
            "INSERT INTO page_results (document_id, page, how, updated_at, text, confidence, error, alasan) \
             VALUES ($1, $2, $3, $4, NULL, NULL, $5, $6) ON CONFLICT (document_id, page) DO UPDATE SET \
             text = NULL, confidence = NULL, how = excluded.how, handwriting = 0, \
             error = excluded.error, alasan = excluded.alasan, updated_at = excluded.updated_at",
        )
        .bind(document_id)
        .bind(page as i64)
        .bind(how)
        .bind(now_ms())
        .bind(error.as_str())
        .bind(alasan.as_str()),
    };
    query.execute(store.pool()).await.what("save page result")?;
    Ok(())
}

/// Count one OCR worker that died on the page; returns how many have died on it so far.
pub async fn record_crash(
    store: &Store,
    document_id: DocumentId,
    page: usize,
) -> Result<u32, StoreError> {
    let crashes: i64 = sqlx::query_scalar(
        "INSERT INTO page_results (document_id, page, crashes, updated_at) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (document_id, page) DO UPDATE SET crashes = page_results.crashes + 1, \
         updated_at = excluded.updated_at RETURNING crashes",
    )
    .bind(document_id)
    .bind(page as i64)
    .bind(now_ms())
    .fetch_one(store.pool())
    .await
    .what("record OCR crash")?;
    Ok(u32::try_from(crashes).unwrap_or(u32::MAX))
}

/// The pages of a document given up on, in page order: (page index, reason in Bahasa Indonesia),
/// for the acknowledgement.
pub async fn unreadable(
    conn: &mut Conn,
    document_id: DocumentId,
) -> Result<Vec<(usize, String)>, StoreError> {
    let rows: Vec<(i64, Option<String>)> = sqlx::query_as(
        "SELECT page, alasan FROM page_results WHERE document_id = $1 AND error IS NOT NULL \
         ORDER BY page",
    )
    .bind(document_id)
    .fetch_all(conn)
    .await
    .what("load unreadable pages")?;
    Ok(rows
        .into_iter()
        .map(|(page, alasan)| {
            (
                usize::try_from(page).unwrap_or(usize::MAX),
                alasan.unwrap_or_default(),
            )
        })
        .collect())
}

/// The pages of a document that looked handwritten (indexes from 0), in page order.
pub async fn handwritten(
    conn: &mut Conn,
    document_id: DocumentId,
) -> Result<Vec<usize>, StoreError> {
    let rows: Vec<i64> = sqlx::query_scalar(
        "SELECT page FROM page_results WHERE document_id = $1 AND handwriting <> 0 AND error IS NULL \
         ORDER BY page",
    )
    .bind(document_id)
    .fetch_all(conn)
    .await
    .what("load handwritten pages")?;
    Ok(rows
        .into_iter()
        .map(|p| usize::try_from(p).unwrap_or(usize::MAX))
        .collect())
}
