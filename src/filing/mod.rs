//! Filing: the durable state of loket — raw blobs on disk, cases and jobs in the database.
//!
//! SQLite (embedded default) and PostgreSQL run the same SQL through sqlx's `Any` driver; only
//! the migrations and one locking clause differ. This folder is the only place with SQL: the
//! rest of loket calls the typed repositories below (rows come back as structs with typed ids),
//! taking a [`Conn`] — a pooled connection or the open transaction of a step. Everything that
//! moves through the pipeline is a row here before anything outside (the mailbox, the SMTP
//! server) is touched.

pub mod bench_data;
pub mod blobs;
pub mod cases;
pub mod conversations;
pub mod desk;
pub mod documents;
pub mod ids;
pub mod jobs;
pub mod letters;
pub mod mailboxes;
pub mod messages;
pub mod notices;
pub mod outbox;
pub mod pages;
pub mod parked;
pub mod search;
pub mod store;
pub mod users;
pub mod views;
pub mod workers;

pub use blobs::BlobStore;
pub use ids::{
    CaseId, DigestId, DocumentId, JobId, LetterId, MessageId, NoticeId, OutboxId, UserId,
};
pub use jobs::{Job, JobKind, JobTarget, Lease, StepTx};
pub use store::{Conn, Store, StoreError, StoreOptions, Tx};

/// Milliseconds since the Unix epoch: how every time is stored.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// RFC 3339 (UTC, seconds) for a stored time, as SPEC.md shows them.
pub fn rfc3339(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
