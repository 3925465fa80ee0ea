//! What the officers' desk reads and writes about a case beyond the pipeline's own rows: the
//! case as an action sees it, who did what (events with an actor, status changes), assignment,
//! the officers' corrections, the thread, the data-protection access log, merges, dashboard
//! figures.

use serde::Serialize;

use super::ids::{CaseId, DocumentId};
use super::store::{Conn, QueryContext, Store, StoreError};
use super::{now_ms, rfc3339};
use crate::domain::{Channel, Kind, Status};

/// A case as a desk action needs it: enough to check access and decide what to do.
#[derive(Debug, Clone)]
pub struct CaseRef {
    pub id: CaseId,
    pub code: String,
    pub channel: Channel,
    pub kind: Kind,
    pub status: Status,
    pub department: Option<String>,
    pub permit_type: Option<String>,
    pub assignee: Option<String>,
    pub applicant_name: Option<String>,
    pub applicant_email: Option<String>,
    pub subject: Option<String>,
    /// Why mail to the applicant must not be sent (auto-reply, bounce...), if so.
    pub no_reply: Option<String>,
    pub missing: Vec<String>,
    /// The officers' corrections (JSON of [`crate::classify::Overrides`]).
    pub overrides: Option<String>,
    pub merged_into: Option<CaseId>,
    pub complete_at: Option<i64>,
    pub received_at: i64,
}

#[derive(sqlx::FromRow)]
struct CaseRefRow {
    id: CaseId,
    tracking_code: String,
    channel: String,
    kind: String,
    status: String,
    department: Option<String>,
    permit_type: Option<String>,
    assignee: Option<String>,
    applicant_name: Option<String>,
    applicant_email: Option<String>,
    subject: Option<String>,
    no_reply: Option<String>,
    missing: Option<String>,
    overrides: Option<String>,
    merged_into: Option<CaseId>,
    complete_at: Option<i64>,
    received_at: i64,
}

const REF_COLUMNS: &str = "id, tracking_code, channel, kind, status, department, permit_type, assignee, \
    applicant_name, applicant_email, subject, no_reply, missing, overrides, merged_into, complete_at, received_at";

impl CaseRefRow {
    fn into_ref(self) -> Result<CaseRef, StoreError> {
        let bad = |what: &str, v: &str| {
            StoreError::NotFound(format!("case {}: unknown {what} {v}", self.tracking_code))
        };
        Ok(CaseRef {
            id: self.id,
            channel: Channel::parse(&self.channel).ok_or_else(|| bad("channel", &self.channel))?,
            kind: Kind::parse(&self.kind).ok_or_else(|| bad("kind", &self.kind))?,
            status: Status::parse(&self.status).ok_or_else(|| bad("status", &self.status))?,
            missing: self
                .missing
                .as_deref()
                .and_then(|m| serde_json::from_str(m).ok())
                .unwrap_or_default(),
            code: self.tracking_code,
            department: self.department,
            permit_type: self.permit_type,
            assignee: self.assignee,
            applicant_name: self.applicant_name,
            applicant_email: self.applicant_email,
            subject: self.subject,
            no_reply: self.no_reply,
            overrides: self.overrides,
            merged_into: self.merged_into,
            complete_at: self.complete_at,
            received_at: self.received_at,
        })
    }
}

/// A case by tracking code (exact, normalised form).
pub async fn case_ref(conn: &mut Conn, code: &str) -> Result<Option<CaseRef>, StoreError> {
    let row: Option<CaseRefRow> = sqlx::query_as(&format!(
        "SELECT {REF_COLUMNS} FROM cases WHERE tracking_code = $1"
    ))
    .bind(code)
    .fetch_optional(conn)
    .await
    .what("load case")?;
    row.map(CaseRefRow::into_ref).transpose()
}

/// A case by id.
pub async fn case_ref_by_id(conn: &mut Conn, id: CaseId) -> Result<CaseRef, StoreError> {
    let row: CaseRefRow = sqlx::query_as(&format!("SELECT {REF_COLUMNS} FROM cases WHERE id = $1"))
        .bind(id)
        .fetch_one(conn)
        .await
        .what("load case")?;
    row.into_ref()
}

/// Append to a case's history, naming who did it (None: loket itself); gives the event's id,
/// which keys the mail or letter the event causes (so it is made once).
pub async fn add_event_by(
    conn: &mut Conn,
    case_id: CaseId,
    event: &str,
    detail: &str,
    actor: Option<&str>,
) -> Result<i64, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO events (case_id, at, event, detail, actor) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(case_id)
    .bind(now_ms())
    .bind(event)
    .bind(detail)
    .bind(actor)
    .fetch_one(conn)
    .await
    .what("add event")
}

/// Put a case in a status, and remember when (the deadline's clock reads these).
pub async fn set_status(
    conn: &mut Conn,
    case_id: CaseId,
    status: Status,
    actor: Option<&str>,
) -> Result<(), StoreError> {
    let now = now_ms();
    sqlx::query("UPDATE cases SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status.as_str())
        .bind(now)
        .bind(case_id)
        .execute(&mut *conn)
        .await
        .what("set status")?;
    sqlx::query("INSERT INTO status_changes (case_id, status, at, actor) VALUES ($1, $2, $3, $4)")
        .bind(case_id)
        .bind(status.as_str())
        .bind(now)
        .bind(actor)
        .execute(conn)
        .await
        .what("record status change")?;
    Ok(())
}

/// A case's status changes, oldest first: (status, at).
pub async fn status_changes(
    conn: &mut Conn,
    case_id: CaseId,
) -> Result<Vec<(String, i64)>, StoreError> {
    sqlx::query_as("SELECT status, at FROM status_changes WHERE case_id = $1 ORDER BY at, id")
        .bind(case_id)
        .fetch_all(conn)
        .await
        .what("list status changes")
}

/// Assign a case to an officer (None: unassign).
pub async fn set_assignee(
    conn: &mut Conn,
    case_id: CaseId,
    username: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE cases SET assignee = $1, updated_at = $2 WHERE id = $3")
        .bind(username)
        .bind(now_ms())
        .bind(case_id)
        .execute(conn)
        .await
        .what("assign case")?;
    Ok(())
}

/// Keep the officers' corrections on the case (JSON of `classify::Overrides`).
pub async fn save_overrides(
    conn: &mut Conn,
    case_id: CaseId,
    json: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE cases SET overrides = $1, updated_at = $2 WHERE id = $3")
        .bind(json)
        .bind(now_ms())
        .bind(case_id)
        .execute(conn)
        .await
        .what("save corrections")?;
    Ok(())
}

/// The instant the file became complete and the deadline counted from it.
pub async fn save_deadline(
    conn: &mut Conn,
    case_id: CaseId,
    complete_at: Option<i64>,
    due_date: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE cases SET complete_at = $1, due_date = $2 WHERE id = $3")
        .bind(complete_at)
        .bind(due_date)
        .bind(case_id)
        .execute(conn)
        .await
        .what("save deadline")?;
    Ok(())
}

/// One correction of the sorting, kept as a labelled example.
#[derive(Debug, Clone)]
pub struct Example<'a> {
    pub case_id: CaseId,
    pub document_id: Option<DocumentId>,
    pub field: &'a str,
    pub old_value: Option<&'a str>,
    pub new_value: Option<&'a str>,
    pub actor: &'a str,
}

pub async fn add_example(conn: &mut Conn, e: &Example<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sorting_examples (case_id, document_id, field, old_value, new_value, actor, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(e.case_id)
    .bind(e.document_id)
    .bind(e.field)
    .bind(e.old_value)
    .bind(e.new_value)
    .bind(e.actor)
    .bind(now_ms())
    .execute(conn)
    .await
    .what("keep labelled example")?;
    Ok(())
}

/// A labelled example as exported for tuning the rules.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ExampleView {
    pub tracking_code: String,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub actor: String,
    #[serde(skip)]
    pub at: i64,
}

impl Store {
    /// Every correction officers made, oldest first.
    pub async fn sorting_examples(&self) -> Result<Vec<ExampleView>, StoreError> {
        sqlx::query_as(
            "SELECT c.tracking_code, e.field, e.old_value, e.new_value, e.actor, e.at FROM sorting_examples e \
             JOIN cases c ON c.id = e.case_id ORDER BY e.at, e.id",
        )
        .fetch_all(self.pool())
        .await
        .what("list labelled examples")
    }
}

/// Where an officer's mail to the applicant threads: the applicant's last message that has a
/// Message-ID, with its References.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Anchor {
    pub message_id: String,
    pub references_ids: Option<String>,
    pub sender: Option<String>,
}

pub async fn thread_anchor(conn: &mut Conn, case_id: CaseId) -> Result<Option<Anchor>, StoreError> {
    sqlx::query_as(
        "SELECT message_id, references_ids, sender FROM messages WHERE case_id = $1 AND message_id IS NOT NULL \
         AND state = 'filed' ORDER BY received_at DESC, id DESC LIMIT 1",
    )
    .bind(case_id)
    .fetch_optional(conn)
    .await
    .what("find the applicant's last message")
}

/// Move everything of a duplicate case into the case it duplicates and close it.
pub async fn merge_into(conn: &mut Conn, from: CaseId, into: CaseId) -> Result<(), StoreError> {
    let max_pos: Option<i64> =
        sqlx::query_scalar("SELECT MAX(position) FROM documents WHERE case_id = $1")
            .bind(into)
            .fetch_one(&mut *conn)
            .await
            .what("merge: positions")?;
    sqlx::query("UPDATE documents SET case_id = $1, position = position + $2 WHERE case_id = $3")
        .bind(into)
        .bind(max_pos.unwrap_or(-1) + 1)
        .bind(from)
        .execute(&mut *conn)
        .await
        .what("merge: documents")?;
    sqlx::query("UPDATE messages SET case_id = $1 WHERE case_id = $2")
        .bind(into)
        .bind(from)
        .execute(&mut *conn)
        .await
        .what("merge: messages")?;
    sqlx::query("UPDATE cases SET merged_into = $1, updated_at = $2 WHERE id = $3")
        .bind(into)
        .bind(now_ms())
        .bind(from)
        .execute(conn)
        .await
        .what("merge: case")?;
    Ok(())
}

/// A document of a case for download or preview.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DocumentFile {
    pub id: DocumentId,
    pub filename: String,
    pub content_type: String,
    pub sha256: String,
    pub text: Option<String>,
    pub page_info: Option<String>,
    pub doc_type: Option<String>,
    pub size: i64,
}

/// The n-th document (0-based, in the case's order).
pub async fn document_at(
    conn: &mut Conn,
    case_id: CaseId,
    index: i64,
) -> Result<Option<DocumentFile>, StoreError> {
    sqlx::query_as(
        "SELECT id, filename, content_type, sha256, text, page_info, doc_type, size FROM documents WHERE case_id = $1 \
         ORDER BY position, id LIMIT 1 OFFSET $2",
    )
    .bind(case_id)
    .bind(index)
    .fetch_optional(conn)
    .await
    .what("load document")
}

/// The documents of a case with their ids, in order (for forms naming a document).
pub async fn document_ids(conn: &mut Conn, case_id: CaseId) -> Result<Vec<DocumentId>, StoreError> {
    sqlx::query_scalar("SELECT id FROM documents WHERE case_id = $1 ORDER BY position, id")
        .bind(case_id)
        .fetch_all(conn)
        .await
        .what("list documents")
}

/// Record that someone read a case page or fetched a document (UU PDP audit).
pub async fn log_access(
    conn: &mut Conn,
    case_id: CaseId,
    username: &str,
    action: &str,
    document_id: Option<DocumentId>,
    client: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO access_log (case_id, username, action, document_id, client, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(case_id)
    .bind(username)
    .bind(action)
    .bind(document_id)
    .bind(client)
    .bind(now_ms())
    .execute(conn)
    .await
    .what("record access")?;
    Ok(())
}

/// One read of a case, for the admin's audit view.
#[derive(Debug, Clone, Serialize)]
pub struct AccessView {
    pub at: String,
    pub username: String,
    pub action: String,
    pub document: Option<String>,
    pub client: Option<String>,
}

/// One item of a case's thread: a message in, a mail out or a letter, in time order.
#[derive(Debug, Clone, Serialize)]
pub struct ThreadItem {
    pub at: String,
    #[serde(skip)]
    pub at_ms: i64,
    /// `in` | `out` | `letter`
    pub direction: &'static str,
    pub who: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    /// Mail out: pending | sent | failed; letter: queued | printed.
    pub state: Option<String>,
    pub purpose: Option<String>,
}

#[derive(sqlx::FromRow)]
struct InRow {
    received_at: i64,
    sender: Option<String>,
    subject: Option<String>,
    source: String,
    original_name: Option<String>,
    state: String,
    body: Option<String>,
}

#[derive(sqlx::FromRow)]
struct OutRow {
    created_at: i64,
    to_addr: String,
    subject: String,
    body: String,
    state: String,
    purpose: String,
}

#[derive(sqlx::FromRow)]
struct LetterRow {
    created_at: i64,
    purpose: String,
    printed_at: Option<i64>,
}

impl Store {
    /// The access log of a case, newest first.
    pub async fn access_log(&self, case_id: CaseId) -> Result<Vec<AccessView>, StoreError> {
        type Row = (i64, String, String, Option<String>, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT a.at, a.username, a.action, d.filename, a.client FROM access_log a \
             LEFT JOIN documents d ON d.id = a.document_id WHERE a.case_id = $1 ORDER BY a.at DESC, a.id DESC LIMIT 500",
        )
        .bind(case_id)
        .fetch_all(self.pool())
        .await
        .what("list access log")?;
        Ok(rows
            .into_iter()
            .map(|(at, username, action, document, client)| AccessView {
                at: rfc3339(at),
                username,
                action,
                document,
                client,
            })
            .collect())
    }

    /// Every message in, mail out and letter of a case, oldest first.
    pub async fn thread(&self, case_id: CaseId) -> Result<Vec<ThreadItem>, StoreError> {
        let mut items = Vec::new();
        let ins: Vec<InRow> = sqlx::query_as(
            "SELECT received_at, sender, subject, source, original_name, state, body FROM messages \
             WHERE case_id = $1 AND state IN ('filed', 'question', 'bounce') ORDER BY received_at, id",
        )
        .bind(case_id)
        .fetch_all(self.pool())
        .await
        .what("thread: messages")?;
        items.extend(ins.into_iter().map(|m| ThreadItem {
            at: rfc3339(m.received_at),
            at_ms: m.received_at,
            direction: "in",
            who: m.sender,
            subject: m.subject.or(m.original_name),
            body: m.body,
            state: (m.state != "filed").then_some(m.state),
            purpose: Some(m.source),
        }));
        let outs: Vec<OutRow> = sqlx::query_as(
            "SELECT created_at, to_addr, subject, body, state, purpose FROM outbox WHERE case_id = $1 ORDER BY created_at, id",
        )
        .bind(case_id)
        .fetch_all(self.pool())
        .await
        .what("thread: mail")?;
        items.extend(outs.into_iter().map(|o| ThreadItem {
            at: rfc3339(o.created_at),
            at_ms: o.created_at,
            direction: "out",
            who: Some(o.to_addr),
            subject: Some(o.subject),
            body: Some(o.body),
            state: Some(o.state),
            purpose: Some(o.purpose),
        }));
        let letters: Vec<LetterRow> = sqlx::query_as(
            "SELECT created_at, purpose, printed_at FROM letters WHERE case_id = $1 ORDER BY created_at, id",
        )
        .bind(case_id)
        .fetch_all(self.pool())
        .await
        .what("thread: letters")?;
        items.extend(letters.into_iter().map(|l| {
            ThreadItem {
                at: rfc3339(l.created_at),
                at_ms: l.created_at,
                direction: "letter",
                who: None,
                subject: None,
                body: None,
                state: Some(
                    if l.printed_at.is_some() {
                        "printed"
                    } else {
                        "queued"
                    }
                    .into(),
                ),
                purpose: Some(l.purpose),
            }
        }));
        items.sort_by_key(|i| i.at_ms);
        Ok(items)
    }

    /// Case id by exact tracking code.
    pub async fn case_id(&self, code: &str) -> Result<Option<CaseId>, StoreError> {
        let mut conn = self.conn().await?;
        super::cases::by_code(&mut conn, code).await
    }

    /// The officers of a department (and the heads), for the assignment list.
    pub async fn usernames_of(&self, department: Option<&str>) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT username FROM users WHERE disabled_at IS NULL AND role IN ('officer', 'head', 'admin', 'triage') \
             AND ($1 IS NULL OR department = $1 OR department IS NULL) ORDER BY username",
        )
        .bind(department)
        .fetch_all(self.pool())
        .await
        .what("list officers")
    }
}

/// Figures for the admin dashboard.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Dashboard {
    /// (day YYYY-MM-DD in UTC+offset, channel, kind, count) for the last days.
    pub received: Vec<(String, String, String, i64)>,
    /// (department or "-", age bucket 0..=3, count) of open cases.
    pub open_by_age: Vec<(String, i64, i64)>,
    /// (department or "-", overdue count).
    pub overdue: Vec<(String, i64)>,
}

impl Store {
    /// Dashboard figures: cases received per day since `since_ms`, open cases per department by
    /// age (0: < 3 days, 1: < 7, 2: < 14, 3: older), overdue per department (`today` as
    /// YYYY-MM-DD).
    pub async fn dashboard(
        &self,
        since_ms: i64,
        offset_ms: i64,
        today: &str,
    ) -> Result<Dashboard, StoreError> {
        let rows: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT received_at, channel, kind FROM cases WHERE received_at >= $1")
                .bind(since_ms)
                .fetch_all(self.pool())
                .await
                .what("dashboard: received")?;
        let mut received: std::collections::BTreeMap<(String, String, String), i64> =
            Default::default();
        for (at, channel, kind) in rows {
            let day = rfc3339(at + offset_ms).chars().take(10).collect::<String>();
            *received.entry((day, channel, kind)).or_default() += 1;
        }
        let now = now_ms();
        let day = 86_400_000i64;
        let open: Vec<(Option<String>, i64, i64)> = sqlx::query_as(
            "SELECT department, CASE WHEN received_at > $1 THEN 0 WHEN received_at > $2 THEN 1 \
             WHEN received_at > $3 THEN 2 ELSE 3 END AS bucket, COUNT(*) FROM cases \
             WHERE status NOT IN ('approved', 'rejected', 'closed') GROUP BY department, bucket",
        )
        .bind(now - 3 * day)
        .bind(now - 7 * day)
        .bind(now - 14 * day)
        .fetch_all(self.pool())
        .await
        .what("dashboard: open cases")?;
        let overdue: Vec<(Option<String>, i64)> = sqlx::query_as(
            "SELECT department, COUNT(*) FROM cases WHERE status NOT IN ('approved', 'rejected', 'closed') \
             AND due_date IS NOT NULL AND due_date < $1 GROUP BY department",
        )
        .bind(today)
        .fetch_all(self.pool())
        .await
        .what("dashboard: overdue")?;
        let dash = |d: Option<String>| d.unwrap_or_else(|| "-".into());
        Ok(Dashboard {
            received: received
                .into_iter()
                .map(|((d, c, k), n)| (d, c, k, n))
                .collect(),
            open_by_age: open.into_iter().map(|(d, b, n)| (dash(d), b, n)).collect(),
            overdue: overdue.into_iter().map(|(d, n)| (dash(d), n)).collect(),
        })
    }
}

/// What the public status page may show of a case (SPEC: nothing personal).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PublicCase {
    pub tracking_code: String,
    pub status: String,
    pub kind: String,
    pub permit_type: Option<String>,
    pub received_at: i64,
    pub updated_at: i64,
    pub due_date: Option<String>,
    pub missing: Option<String>,
}

impl Store {
    /// The public facts of a case by exact tracking code.
    pub async fn public_case(&self, code: &str) -> Result<Option<PublicCase>, StoreError> {
        let mut conn = self.conn().await?;
        super::conversations::public_case(&mut conn, code).await
    }
}

/// A file the mail room uploaded, and what became of it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct UploadView {
    #[serde(skip)]
    pub received_at: i64,
    pub original_name: Option<String>,
    pub state: String,
    pub error: Option<String>,
    pub tracking_code: Option<String>,
}

/// A letter of the last days, printed or not.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct LetterView {
    pub tracking_code: String,
    pub purpose: String,
    #[serde(skip)]
    pub created_at: i64,
    #[serde(skip)]
    pub printed_at: Option<i64>,
}

impl Store {
    /// Scans uploaded (imported) since `since_ms`, newest first.
    pub async fn uploads_since(&self, since_ms: i64) -> Result<Vec<UploadView>, StoreError> {
        sqlx::query_as(
            "SELECT m.received_at, m.original_name, m.state, m.error, c.tracking_code FROM messages m \
             LEFT JOIN cases c ON c.id = m.case_id WHERE m.source = 'import' AND m.received_at >= $1 \
             ORDER BY m.received_at DESC, m.id DESC LIMIT 500",
        )
        .bind(since_ms)
        .fetch_all(self.pool())
        .await
        .what("list uploads")
    }

    /// Letters made since `since_ms` and every one not printed yet, newest first.
    pub async fn letters_since(&self, since_ms: i64) -> Result<Vec<LetterView>, StoreError> {
        sqlx::query_as(
            "SELECT c.tracking_code, l.purpose, l.created_at, l.printed_at FROM letters l JOIN cases c ON c.id = l.case_id \
             WHERE l.created_at >= $1 OR l.printed_at IS NULL ORDER BY l.created_at DESC, l.id DESC LIMIT 1000",
        )
        .bind(since_ms)
        .fetch_all(self.pool())
        .await
        .what("list letters")
    }
}

impl Store {
    /// Tracking codes of the cases officers corrected, oldest correction first.
    pub async fn corrected_cases(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT c.tracking_code, MIN(e.at) AS first_at FROM sorting_examples e JOIN cases c ON c.id = e.case_id \
             GROUP BY c.tracking_code ORDER BY first_at",
        )
        .fetch_all(self.pool())
        .await
        .what("list corrected cases")?;
        Ok(rows.into_iter().map(|(c, _)| c).collect())
    }
}

impl Store {
    /// An officer opened the case: its news is seen.
    pub async fn news_seen(&self, case_id: CaseId) -> Result<(), StoreError> {
        sqlx::query("UPDATE cases SET news_at = NULL WHERE id = $1 AND news_at IS NOT NULL")
            .bind(case_id)
            .execute(self.pool())
            .await
            .what("mark news seen")?;
        Ok(())
    }
}
