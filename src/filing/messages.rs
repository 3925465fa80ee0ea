//! Raw messages: an email from the mailbox, or a scanned file from the mail room, stored as a
//! blob with one row here before anything at the source changes.

use super::ids::{CaseId, MessageId};
use super::now_ms;
use super::store::{Conn, QueryContext, StoreError};

/// Where a message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Imap,
    Spool,
    Import,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Imap => "imap",
            Source::Spool => "spool",
            Source::Import => "import",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Source::Imap, Source::Spool, Source::Import]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// What became of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageState {
    /// Stored, not yet taken in.
    New,
    /// Part of a case.
    Filed,
    /// A copy of a message already filed.
    Duplicate,
    /// Could not be taken in; its case (status `failed`) says why.
    Failed,
    /// Mail loket sent itself that came back into a watched mailbox: no case.
    Own,
    /// A status question, answered automatically; kept in the thread of the case it asked
    /// about (if any), no case of its own.
    Question,
    /// A delivery report for mail loket sent, recorded on that mail's case.
    Bounce,
}

impl MessageState {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageState::New => "new",
            MessageState::Filed => "filed",
            MessageState::Duplicate => "duplicate",
            MessageState::Failed => "failed",
            MessageState::Own => "own",
            MessageState::Question => "question",
            MessageState::Bounce => "bounce",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "filed" => MessageState::Filed,
            "duplicate" => MessageState::Duplicate,
            "failed" => MessageState::Failed,
            "own" => MessageState::Own,
            "question" => MessageState::Question,
            "bounce" => MessageState::Bounce,
            _ => MessageState::New,
        }
    }
}

/// A raw message to store.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub source: Source,
    pub mailbox: Option<&'a str>,
    pub uidvalidity: Option<i64>,
    pub uid: Option<i64>,
    pub sha256: &'a str,
    pub size: i64,
    pub truncated: bool,
    pub original_name: Option<&'a str>,
    /// Applicant details typed by the mail-room clerk (JSON).
    pub details: Option<&'a str>,
    /// The `kind` of the mailbox it came from (`[[mailbox]] kind`): what its case is unless
    /// the rules know better. Kept with the message, so a later config change does not turn
    /// an old case into another kind when it is sorted again.
    pub mailbox_kind: Option<crate::domain::Kind>,
}

/// Insert a message row; None when the same mailbox UID is already stored.
pub async fn insert(conn: &mut Conn, m: &NewMessage<'_>) -> Result<Option<MessageId>, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO messages (source, mailbox, uidvalidity, uid, sha256, size, truncated, \
         original_name, details, received_at, state, mailbox_kind) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'new', $11) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(m.source.as_str())
    .bind(m.mailbox)
    .bind(m.uidvalidity)
    .bind(m.uid)
    .bind(m.sha256)
    .bind(m.size)
    .bind(m.truncated as i64)
    .bind(m.original_name)
    .bind(m.details)
    .bind(now_ms())
    .bind(m.mailbox_kind.map(|k| k.as_str()))
    .fetch_optional(conn)
    .await
    .what("insert message")
}

#[derive(sqlx::FromRow)]
struct Row {
    id: MessageId,
    source: String,
    mailbox: Option<String>,
    uidvalidity: Option<i64>,
    uid: Option<i64>,
    sha256: String,
    size: i64,
    truncated: i64,
    original_name: Option<String>,
    details: Option<String>,
    received_at: i64,
    state: String,
    case_id: Option<CaseId>,
}

/// A stored message.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: MessageId,
    pub source: Source,
    pub mailbox: Option<String>,
    pub uidvalidity: Option<i64>,
    pub uid: Option<i64>,
    pub sha256: String,
    pub size: i64,
    pub truncated: bool,
    pub original_name: Option<String>,
    pub details: Option<String>,
    pub received_at: i64,
    pub state: MessageState,
    pub case_id: Option<CaseId>,
}

pub async fn get(conn: &mut Conn, id: MessageId) -> Result<Message, StoreError> {
    let r: Row = sqlx::query_as(
        "SELECT id, source, mailbox, uidvalidity, uid, sha256, size, truncated, original_name, details, \
         received_at, state, case_id FROM messages WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
    .what("load message")?
    .ok_or_else(|| StoreError::NotFound(format!("message {id}")))?;
    Ok(Message {
        id: r.id,
        source: Source::parse(&r.source)
            .ok_or_else(|| StoreError::NotFound(format!("message {id}: source {}", r.source)))?,
        mailbox: r.mailbox,
        uidvalidity: r.uidvalidity,
        uid: r.uid,
        sha256: r.sha256,
        size: r.size,
        truncated: r.truncated != 0,
        original_name: r.original_name,
        details: r.details,
        received_at: r.received_at,
        state: MessageState::parse(&r.state),
        case_id: r.case_id,
    })
}

/// What intake learned from a message's headers.
#[derive(Debug, Clone, Default)]
pub struct MessageHeaders {
    pub message_id: Option<String>,
    pub sender: Option<String>,
    pub subject: Option<String>,
    /// References plus the message's own id: the References of a reply to it.
    pub references: Vec<String>,
    pub no_reply: Option<String>,
    /// The message's text as received (quoted history included; the desk shows the new part).
    pub body: Option<String>,
}

/// Record a message's headers and the case it belongs to. At most one message per Message-ID
/// and sender is `filed` (a unique index): a racing copy fails to commit and is retried.
pub async fn file(
    conn: &mut Conn,
    id: MessageId,
    h: &MessageHeaders,
    state: MessageState,
    case_id: CaseId,
) -> Result<(), StoreError> {
    file_as(conn, id, h, state, Some(case_id)).await
}

/// Record what became of a message that may belong to no case (a stranger's status question,
/// a bounce of mail loket sent).
pub async fn file_as(
    conn: &mut Conn,
    id: MessageId,
    h: &MessageHeaders,
    state: MessageState,
    case_id: Option<CaseId>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE messages SET message_id = $1, sender = $2, subject = $3, references_ids = $4, no_reply = $5, \
         state = $6, case_id = $7, error = NULL, body = $9 WHERE id = $8",
    )
    .bind(&h.message_id)
    .bind(&h.sender)
    .bind(&h.subject)
    .bind(h.references.join(" "))
    .bind(&h.no_reply)
    .bind(state.as_str())
    .bind(case_id)
    .bind(id)
    .bind(&h.body)
    .execute(conn)
    .await
    .what("file message")?;
    Ok(())
}

/// A message that could not be taken in, kept on its (failed) case.
pub async fn mark_failed(
    conn: &mut Conn,
    id: MessageId,
    case_id: CaseId,
    error: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE messages SET state = 'failed', case_id = $1, error = $2 WHERE id = $3")
        .bind(case_id)
        .bind(error)
        .bind(id)
        .execute(conn)
        .await
        .what("record failed message")?;
    Ok(())
}

/// The case an identical copy of this message (same bytes) was filed as.
pub async fn case_of_identical(
    conn: &mut Conn,
    sha256: &str,
    except: MessageId,
) -> Result<Option<CaseId>, StoreError> {
    sqlx::query_scalar(
        "SELECT case_id FROM messages WHERE sha256 = $1 AND state = 'filed' AND id <> $2 LIMIT 1",
    )
    .bind(sha256)
    .bind(except)
    .fetch_optional(conn)
    .await
    .what("find identical copy")
    .map(Option::flatten)
}

/// The case an earlier copy of this message (same Message-ID and sender) was filed as.
pub async fn case_of_message_id(
    conn: &mut Conn,
    message_id: &str,
    sender: &str,
    except: MessageId,
) -> Result<Option<CaseId>, StoreError> {
    sqlx::query_scalar(
        "SELECT case_id FROM messages WHERE message_id = $1 AND lower(sender) = $2 \
         AND state = 'filed' AND id <> $3 LIMIT 1",
    )
    .bind(message_id)
    .bind(sender.to_lowercase())
    .bind(except)
    .fetch_optional(conn)
    .await
    .what("find earlier copy")
    .map(Option::flatten)
}

/// The tracking code of the case a message was filed under.
pub async fn tracking_code_of(
    conn: &mut Conn,
    id: MessageId,
) -> Result<Option<String>, StoreError> {
    sqlx::query_scalar(
        "SELECT c.tracking_code FROM messages m JOIN cases c ON c.id = m.case_id WHERE m.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
    .what("look up the filed case")
}

/// Postal messages learn their sender (where answers go) once the form is read.
pub async fn set_missing_sender(
    conn: &mut Conn,
    case_id: CaseId,
    email: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE messages SET sender = $1 WHERE case_id = $2 AND sender IS NULL")
        .bind(email)
        .bind(case_id)
        .execute(conn)
        .await
        .what("save applicant email")?;
    Ok(())
}

/// A message of the case that may be answered and has not been yet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Unanswered {
    pub id: MessageId,
    pub sender: String,
    pub message_id: Option<String>,
    pub references_ids: Option<String>,
    /// The first filed message of the case (the others are follow-ups).
    pub first_id: Option<MessageId>,
    /// Files it carried that the case already had (JSON array of names).
    pub repeated_files: Option<String>,
}

/// Filed messages of a case that may be answered and have no acknowledgement in the outbox.
pub async fn unanswered(conn: &mut Conn, case_id: CaseId) -> Result<Vec<Unanswered>, StoreError> {
    sqlx::query_as(
        "SELECT m.id, m.sender, m.message_id, m.references_ids, m.repeated_files, \
         (SELECT MIN(id) FROM messages WHERE case_id = $1 AND state = 'filed') AS first_id FROM messages m \
         WHERE m.case_id = $1 AND m.state = 'filed' AND m.no_reply IS NULL AND m.sender IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.case_id = $1 AND o.purpose = 'ack:' || m.id) ORDER BY m.id",
    )
    .bind(case_id)
    .fetch_all(conn)
    .await
    .what("find unanswered messages")
}

/// Where a message sits in its mailbox (for moving it).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MailboxPlace {
    pub id: MessageId,
    pub uidvalidity: Option<i64>,
    pub uid: Option<i64>,
}

/// The mailbox places of these messages.
pub async fn places(conn: &mut Conn, ids: &[MessageId]) -> Result<Vec<MailboxPlace>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(200) {
        let placeholders = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(",");
        let sql = format!(
            "SELECT id, uidvalidity, uid FROM messages WHERE id IN ({placeholders}) ORDER BY uid"
        );
        let mut q = sqlx::query_as::<_, MailboxPlace>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        out.extend(q.fetch_all(&mut *conn).await.what("read message places")?);
    }
    Ok(out)
}

/// Note the files of a message that its case already had.
pub async fn set_repeated_files(
    conn: &mut Conn,
    id: MessageId,
    names: &[String],
) -> Result<(), StoreError> {
    sqlx::query("UPDATE messages SET repeated_files = $1 WHERE id = $2")
        .bind(serde_json::to_string(names).unwrap_or_else(|_| "[]".into()))
        .bind(id)
        .execute(conn)
        .await
        .what("record repeated files")?;
    Ok(())
}
