//! Filing: the durable state of loket — raw blobs on disk, cases and jobs in the database.
//!
//! SQLite (embedded default) and PostgreSQL run the same SQL through sqlx's `Any` driver; only
//! the migrations and one locking clause differ. This folder is the only place with SQL: the
//! rest of loket calls the typed repositories below (rows come back as structs with typed ids),
//! taking a [`Conn`] — a pooled connection or the open transaction of a step. Everything that
//! moves through the pipeline is a row here before anything outside (the mailbox, the SMTP
//! server) is touched.

pub mod bench_data;
pub mod blob_refs;
pub mod blobs;
pub mod cases;
pub mod conversations;
pub mod desk;
pub mod documents;
pub mod gauges;
pub mod ids;
pub mod jobs;
pub mod letters;
pub mod mailboxes;
pub mod messages;
pub mod notices;
pub mod outbox;
pub mod pages;
pub mod parked;
pub mod ratelimit;
pub mod retention;
pub mod search;
pub mod snapshot;
pub mod store;
pub mod users;
pub mod views;
pub mod wakeups;
pub mod workers;

pub use blobs::BlobStore;
pub use ids::{
    CaseId, DigestId, DocumentId, JobId, LetterId, MessageId, NoticeId, OutboxId, UserId,
};
pub use jobs::{Job, JobKind, JobTarget, Lease, StepTx};
pub use store::{Conn, Store, StoreError, StoreOptions, Tx};

/// Milliseconds since the Unix epoch: how every time is stored. Every time loket compares
/// (leases, backoffs, the rate limit's hour, digests) comes from here, never from the
/// database's own clock, so [`TEST_CLOCK_OFFSET`] moves all of them at once.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64 + clock_offset_ms()
}

/// Test only: `LOKET_TEST_CLOCK_OFFSET_MS=<signed ms>` moves this process's clock, so a test
/// can run `loket run --once` "an hour later" instead of waiting an hour. Read once per process;
/// anything that is not an integer counts as 0. Never set it in production.
pub const TEST_CLOCK_OFFSET: &str = "LOKET_TEST_CLOCK_OFFSET_MS";

fn clock_offset_ms() -> i64 {
    static OFFSET: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *OFFSET.get_or_init(|| {
        std::env::var(TEST_CLOCK_OFFSET)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    })
}

/// RFC 3339 (UTC, seconds) for a stored time, as SPEC.md shows them.
pub fn rfc3339(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
