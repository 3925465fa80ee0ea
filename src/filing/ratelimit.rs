//! Rate limits and loops: how much automatic mail one address got lately, the acknowledgements
//! held back from it, and how often one sender sent the same subject.
//!
//! Automatic messages are outbox rows whose purpose starts with `ack:`, `status-answer:` or
//! `combined:`, pending or sent. A held acknowledgement is an outbox row in state `held` (no send
//! job); the combined message that lists it moves it to `combined`. Addresses are compared in
//! lower case. Counting and writing for one address are serialised by taking its row in
//! `rate_limit_addresses` first ([`take_address`]), so two workers sorting two cases of the same
//! sender at once can't both see "four sent" and both send.

use super::ids::{CaseId, OutboxId};
use super::now_ms;
use super::store::{Conn, QueryContext, StoreError};

/// The purposes of automatic mail (SQL, on `outbox`).
const AUTOMATIC: &str = "(purpose LIKE 'ack:%' OR purpose LIKE 'status-answer:%' \
     OR purpose LIKE 'combined:%')";

/// Take `address`'s row for the rest of the transaction: another transaction doing the same
/// waits until this one ends (PostgreSQL row lock; SQLite's write transactions are serial).
pub async fn take_address(conn: &mut Conn, address: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO rate_limit_addresses (address, touched_at) VALUES ($1, $2) \
         ON CONFLICT (address) DO UPDATE SET touched_at = excluded.touched_at",
    )
    .bind(address.to_lowercase())
    .bind(now_ms())
    .execute(conn)
    .await
    .what("take the address for rate limiting")?;
    Ok(())
}

/// Mail to `address`, counted in one statement: automatic messages written (pending or sent)
/// at or after `since_ms`, and acknowledgements held back and not combined yet.
pub async fn standing(
    conn: &mut Conn,
    address: &str,
    since_ms: i64,
) -> Result<(i64, i64), StoreError> {
    let (recent, held): (Option<i64>, Option<i64>) = sqlx::query_as(&format!(
        "SELECT \
           SUM(CASE WHEN created_at >= $2 AND state IN ('pending', 'sent') AND {AUTOMATIC} \
               THEN 1 ELSE 0 END), \
           SUM(CASE WHEN state = 'held' THEN 1 ELSE 0 END) \
         FROM outbox WHERE lower(to_addr) = $1"
    ))
    .bind(address.to_lowercase())
    .bind(since_ms)
    .fetch_one(conn)
    .await
    .what("count recent and held automatic mail")?;
    Ok((recent.unwrap_or(0), held.unwrap_or(0)))
}

/// Addresses (lower case) whose oldest held acknowledgement was written at or before
/// `written_by_ms`: their hour has passed.
pub async fn due_addresses(conn: &mut Conn, written_by_ms: i64) -> Result<Vec<String>, StoreError> {
    sqlx::query_scalar(
        "SELECT lower(to_addr) FROM outbox WHERE state = 'held' \
         GROUP BY lower(to_addr) HAVING MIN(created_at) <= $1 ORDER BY MIN(created_at)",
    )
    .bind(written_by_ms)
    .fetch_all(conn)
    .await
    .what("find held acknowledgements that are due")
}

/// A held acknowledgement with what the combined message says about its case.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HeldAck {
    pub id: OutboxId,
    pub case_id: CaseId,
    pub to_addr: String,
    pub created_at: i64,
    pub tracking_code: String,
    pub applicant_name: Option<String>,
    /// The applicant's subject line.
    pub subject: Option<String>,
    pub kind: String,
    pub permit_type: Option<String>,
    /// 1 when the case waits for triage (its permit type is a guess).
    pub triage: i64,
    /// Requirement ids still missing (JSON array), as the sorting left them.
    pub missing: Option<String>,
}

/// The acknowledgements held for `address`, oldest first.
pub async fn held_for(conn: &mut Conn, address: &str) -> Result<Vec<HeldAck>, StoreError> {
    sqlx::query_as(
        "SELECT o.id, o.case_id, o.to_addr, o.created_at, c.tracking_code, c.applicant_name, \
         c.subject, c.kind, c.permit_type, c.triage, c.missing FROM outbox o JOIN cases c ON c.id = o.case_id \
         WHERE o.state = 'held' AND lower(o.to_addr) = $1 ORDER BY o.created_at, o.id",
    )
    .bind(address.to_lowercase())
    .fetch_all(conn)
    .await
    .what("load held acknowledgements")
}

/// Move these held rows to `combined`; true only if every one of them was still held (false:
/// another worker combined them first, and the caller rolls back).
pub async fn mark_combined(conn: &mut Conn, ids: &[OutboxId]) -> Result<bool, StoreError> {
    let mut changed = 0;
    for id in ids {
        changed +=
            sqlx::query("UPDATE outbox SET state = 'combined' WHERE id = $1 AND state = 'held'")
                .bind(*id)
                .execute(&mut *conn)
                .await
                .what("mark held acknowledgement combined")?
                .rows_affected();
    }
    Ok(changed == ids.len() as u64)
}

/// Subjects (as received) of the messages `sender` sent in `[from_ms, before_ms)`.
pub async fn subjects_from(
    conn: &mut Conn,
    sender: &str,
    from_ms: i64,
    before_ms: i64,
) -> Result<Vec<Option<String>>, StoreError> {
    sqlx::query_scalar(
        "SELECT subject FROM messages WHERE lower(sender) = $1 AND received_at >= $2 \
         AND received_at < $3",
    )
    .bind(sender.to_lowercase())
    .bind(from_ms)
    .bind(before_ms)
    .fetch_all(conn)
    .await
    .what("find the sender's recent messages")
}
