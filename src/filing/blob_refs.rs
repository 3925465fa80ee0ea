//! Which blobs the database refers to: every document and every raw message (for
//! `loket blobs verify`).

use super::store::{Conn, QueryContext, StoreError};

/// One row that refers to a blob.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BlobRef {
    pub sha256: String,
    /// `document` or `message`.
    pub what: String,
    /// The document's or message's id.
    pub id: i64,
    /// The tracking code of its case, when it belongs to one.
    pub tracking_code: Option<String>,
    /// A file name, subject or scanned file's name, to recognise it by.
    pub label: Option<String>,
}

/// Every reference to a blob, ordered by hash (references to one blob are adjacent); purged
/// documents and messages refer to none.
pub async fn all(conn: &mut Conn) -> Result<Vec<BlobRef>, StoreError> {
    sqlx::query_as(
        "SELECT d.sha256 AS sha256, 'document' AS what, d.id AS id, c.tracking_code AS tracking_code, \
         d.filename AS label FROM documents d LEFT JOIN cases c ON c.id = d.case_id \
         WHERE d.purged_at IS NULL \
         UNION ALL \
         SELECT m.sha256, 'message', m.id, c.tracking_code, COALESCE(m.original_name, m.subject) \
         FROM messages m LEFT JOIN cases c ON c.id = m.case_id WHERE m.purged_at IS NULL \
         ORDER BY sha256, what, id",
    )
    .fetch_all(conn)
    .await
    .what("list the blobs the database refers to")
}
