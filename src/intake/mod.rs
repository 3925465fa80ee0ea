//! Where work comes from: the office mailbox ([`imap`]) and the mail room ([`spool`]: the spool
//! folder and `loket import`, batch scans split at separator sheets by [`batch`]).
//!
//! A source's only duty is to store each item durably (blob + `messages` row + `intake` job)
//! before it changes anything at the source. Sources store through `filing/` and know nothing
//! of the pipeline that runs the jobs; [`Intake`] is all they are given.

pub mod batch;
pub mod imap;
pub mod separator;
pub mod spool;
pub(crate) mod tls;

use std::sync::Arc;

use crate::filing::{BlobStore, Store};

/// What a source needs to store what it takes in.
#[derive(Debug, Clone)]
pub struct Intake {
    pub store: Store,
    pub blobs: BlobStore,
    /// Woken when new work was stored.
    pub wake: Arc<tokio::sync::Notify>,
    /// This process's worker id (holder of mailbox watches and move leases).
    pub worker_id: String,
    /// Bigger messages are stored with their headers only.
    pub max_message_bytes: u64,
    /// Bigger scanned files are refused (`spool.max_file_bytes`).
    pub max_file_bytes: u64,
}
