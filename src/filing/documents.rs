//! Documents of a case: attachments and scanned files, their text and type.

use super::ids::{CaseId, DocumentId, MessageId};
use super::store::{Conn, QueryContext, StoreError};

/// A document (attachment or scanned file) of a case, stored as a blob, text not read yet.
#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    pub case_id: CaseId,
    pub position: i64,
    pub filename: &'a str,
    pub original_filename: Option<&'a str>,
    pub declared_type: &'a str,
    pub sha256: &'a str,
    pub size: i64,
    /// The message that brought it (none for files the mail room scanned in).
    pub message_id: Option<MessageId>,
}

pub async fn insert(conn: &mut Conn, d: &NewDocument<'_>) -> Result<DocumentId, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO documents (case_id, position, filename, original_filename, declared_type, content_type, \
         sha256, size, state, message_id) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, 'pending', $8) RETURNING id",
    )
    .bind(d.case_id)
    .bind(d.position)
    .bind(d.filename)
    .bind(d.original_filename)
    .bind(d.declared_type)
    .bind(d.sha256)
    .bind(d.size)
    .bind(d.message_id)
    .fetch_one(conn)
    .await
    .what("insert document")
}

/// How many documents a case has (positions of new ones follow).
pub async fn count(conn: &mut Conn, case_id: CaseId) -> Result<i64, StoreError> {
    sqlx::query_scalar("SELECT COUNT(*) FROM documents WHERE case_id = $1")
        .bind(case_id)
        .fetch_one(conn)
        .await
        .what("count documents")
}

/// How many documents of a case are still waiting to be read.
pub async fn unread(conn: &mut Conn, case_id: CaseId) -> Result<i64, StoreError> {
    sqlx::query_scalar("SELECT COUNT(*) FROM documents WHERE case_id = $1 AND state <> 'done'")
        .bind(case_id)
        .fetch_one(conn)
        .await
        .what("count unread documents")
}

/// A document as the reading step needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DocumentToRead {
    pub case_id: CaseId,
    pub filename: String,
    pub declared_type: String,
    pub sha256: String,
    pub state: String,
}

impl DocumentToRead {
    pub fn is_read(&self) -> bool {
        self.state == "done"
    }
}

pub async fn to_read(conn: &mut Conn, id: DocumentId) -> Result<DocumentToRead, StoreError> {
    sqlx::query_as(
        "SELECT case_id, filename, declared_type, sha256, state FROM documents WHERE id = $1",
    )
    .bind(id)
    .fetch_one(conn)
    .await
    .what("load document")
}

/// What reading a document gave.
#[derive(Debug, Clone)]
pub struct ReadResult<'a> {
    pub content_type: &'a str,
    pub pages: i64,
    /// JSON: per page source, confidence, how, error.
    pub page_info: String,
    pub text: String,
    pub error: Option<String>,
    /// The error in Bahasa Indonesia, for the applicant.
    pub error_alasan: Option<String>,
}

pub async fn save_read(
    conn: &mut Conn,
    id: DocumentId,
    r: &ReadResult<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE documents SET content_type = $1, pages = $2, page_info = $3, text = $4, error = $5, \
         error_alasan = $6, state = 'done' WHERE id = $7",
    )
    .bind(r.content_type)
    .bind(r.pages)
    .bind(&r.page_info)
    .bind(&r.text)
    .bind(&r.error)
    .bind(&r.error_alasan)
    .bind(id)
    .execute(conn)
    .await
    .what("save document text")?;
    Ok(())
}

/// Reading failed for good: the document is done (without text) so its case goes on.
pub async fn mark_failed(
    conn: &mut Conn,
    id: DocumentId,
    error: &str,
) -> Result<Option<CaseId>, StoreError> {
    sqlx::query(
        "UPDATE documents SET state = 'done', error = $1, error_alasan = 'berkas tidak dapat diproses' \
         WHERE id = $2",
    )
    .bind(error)
    .bind(id)
    .execute(&mut *conn)
    .await
    .what("record failed document")?;
    sqlx::query_scalar("SELECT case_id FROM documents WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
        .what("find case")
}

/// A document as the sorting step reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DocumentForSorting {
    pub id: DocumentId,
    pub filename: String,
    pub content_type: String,
    pub text: Option<String>,
    pub error_alasan: Option<String>,
    /// The message that brought it.
    pub message_id: Option<MessageId>,
    /// Pages given up on: (index, reason in Bahasa Indonesia); filled from `pages`.
    #[sqlx(skip)]
    pub unreadable_pages: Vec<(usize, String)>,
    /// Pages OCR found handwritten (indexes from 0); filled from `pages`.
    #[sqlx(skip)]
    pub handwritten_pages: Vec<usize>,
}

pub async fn for_sorting(
    conn: &mut Conn,
    case_id: CaseId,
) -> Result<Vec<DocumentForSorting>, StoreError> {
    sqlx::query_as(
        "SELECT id, filename, content_type, text, error_alasan, message_id FROM documents WHERE case_id = $1 \
         ORDER BY position, id",
    )
    .bind(case_id)
    .fetch_all(conn)
    .await
    .what("load documents")
}

/// The document type the rules recognised.
pub async fn save_doc_type(
    conn: &mut Conn,
    id: DocumentId,
    doc_type: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE documents SET doc_type = $1 WHERE id = $2")
        .bind(doc_type)
        .bind(id)
        .execute(conn)
        .await
        .what("save document type")?;
    Ok(())
}

/// The content hashes of a case's documents (to recognise files sent again).
pub async fn hashes(conn: &mut Conn, case_id: CaseId) -> Result<Vec<String>, StoreError> {
    sqlx::query_scalar("SELECT sha256 FROM documents WHERE case_id = $1")
        .bind(case_id)
        .fetch_all(conn)
        .await
        .what("read document hashes")
}
