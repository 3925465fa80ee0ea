//! Filing: the durable state of loket — raw blobs on disk, cases and jobs in the database.
//!
//! SQLite (embedded default) and PostgreSQL run the same SQL through sqlx's `Any` driver; only
//! the migrations and one locking clause differ. Everything that moves through the pipeline is a
//! row here before anything outside (the mailbox, the SMTP server) is touched.

pub mod blobs;
pub mod jobs;
pub mod pages;
pub mod records;
pub mod store;
pub mod views;

pub use blobs::BlobStore;
pub use jobs::{Job, JobKind};
pub use store::{Store, StoreError};

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
