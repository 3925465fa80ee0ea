//! Row ids as types: a message id can't be passed where a case id is meant.

use serde::Serialize;

macro_rules! row_id {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, sqlx::Type)]
        #[sqlx(transparent)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

row_id!(
    /// A raw message (email or scanned file) in `messages`.
    MessageId,
    /// A case in `cases`.
    CaseId,
    /// A document of a case in `documents`.
    DocumentId,
    /// A mail waiting in or sent from `outbox`.
    OutboxId,
    /// A row of the job queue.
    JobId,
    /// A letter to print in `letters`.
    LetterId,
    /// A desk account in `users`.
    UserId,
    /// A case's arrival in a department's queue, in `department_notices`.
    NoticeId,
    /// A department's daily digest mail, in `notice_digests`.
    DigestId,
);
