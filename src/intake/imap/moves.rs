//! The IMAP commands that move filed messages to the processed folder.
//!
//! Only our own UIDs may leave the inbox. A bare `EXPUNGE` removes every `\Deleted` message in
//! the mailbox, other clients' too (a clerk's mail program that marked a message for deletion
//! without expunging it yet), so it is never sent:
//! - `MOVE` (RFC 6851): `UID MOVE` of our UIDs;
//! - else `UIDPLUS` (RFC 4315): `UID COPY`, `UID STORE +FLAGS.SILENT (\Deleted)`, then
//!   `UID EXPUNGE` of the same UIDs;
//! - else: copy and flag `\Deleted`, and leave the expunge to the office's mail program (logged
//!   once per process). The flagged messages lie below `last_uid`, so they are not fetched again.

use std::sync::atomic::{AtomicBool, Ordering};

use async_imap::types::Capabilities;
use futures::TryStreamExt;
use tracing::warn;

use super::{ImapError, Mailbox, Session};

/// How this server lets a client move messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MoveCommand {
    Move,
    CopyThenUidExpunge,
    CopyAndFlag,
}

impl MoveCommand {
    pub fn for_server(caps: &Capabilities) -> Self {
        if caps.has_str("MOVE") {
            MoveCommand::Move
        } else if caps.has_str("UIDPLUS") {
            MoveCommand::CopyThenUidExpunge
        } else {
            MoveCommand::CopyAndFlag
        }
    }
}

/// Set once the "no MOVE, no UIDPLUS" warning was logged.
static WARNED_NO_EXPUNGE: AtomicBool = AtomicBool::new(false);

/// Move the messages in `set` (a UID set) of the selected mailbox to `folder`.
pub(super) async fn move_uids(
    mb: &Mailbox,
    session: &mut Session,
    set: &str,
    folder: &str,
    how: MoveCommand,
) -> Result<(), ImapError> {
    if how == MoveCommand::Move {
        return mb.timed("UID MOVE", session.uid_mv(set, folder)).await;
    }
    mb.timed("UID COPY", session.uid_copy(set, folder)).await?;
    mb.timed("UID STORE", async {
        session
            .uid_store(set, "+FLAGS.SILENT (\\Deleted)")
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    if how == MoveCommand::CopyThenUidExpunge {
        mb.timed("UID EXPUNGE", async {
            session
                .uid_expunge(set)
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
    } else if !WARNED_NO_EXPUNGE.swap(true, Ordering::Relaxed) {
        warn!(
            server = mb.server(),
            folder,
            "the mail server has neither MOVE nor UIDPLUS: filed messages are copied and \
             flagged \\Deleted but left in the inbox, because EXPUNGE would also remove other \
             clients' deleted messages"
        );
    }
    Ok(())
}
