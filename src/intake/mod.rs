//! Where work comes from: the office mailbox ([`imap`]) and, later, the mail room's spool folder.
//!
//! A source's only duty is to store each item durably (blob + `messages` row + `intake` job)
//! before it changes anything at the source.

pub mod batch;
pub mod imap;
pub mod spool;
mod tls;
