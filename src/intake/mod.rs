//! Where work comes from: the office mailbox ([`imap`]) and the mail room ([`spool`]: the spool
//! folder and `loket import`, batch scans split at separator sheets by [`batch`]).
//!
//! A source's only duty is to store each item durably (blob + `messages` row + `intake` job)
//! before it changes anything at the source.

pub mod batch;
pub mod imap;
pub mod separator;
pub mod spool;
mod tls;
