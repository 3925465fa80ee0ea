//! Mailbox state: the last UID stored per mailbox, and the lease of its one watcher.
//!
//! `last_uid` only moves forward for the same UIDVALIDITY (a slow runner committing late can't
//! move it back), and a new UIDVALIDITY starts over. The watcher lease is a row like a job's
//! lease, not a session lock: a paused process loses it when it stops renewing.

use super::ids::CaseId;
use super::now_ms;
use super::store::{Conn, QueryContext, Store, StoreError};

/// What is known of a mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct MailboxState {
    pub uidvalidity: i64,
    pub last_uid: i64,
}

/// The stored state of `mailbox`, if any.
pub async fn state(conn: &mut Conn, mailbox: &str) -> Result<Option<MailboxState>, StoreError> {
    sqlx::query_as("SELECT uidvalidity, last_uid FROM mailbox_state WHERE mailbox = $1")
        .bind(mailbox)
        .fetch_optional(conn)
        .await
        .what("read mailbox state")
}

/// Record that every message up to `last_uid` under `uidvalidity` is stored. Never moves
/// `last_uid` back for the same UIDVALIDITY.
pub async fn save_state(
    conn: &mut Conn,
    mailbox: &str,
    uidvalidity: i64,
    last_uid: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO mailbox_state (mailbox, uidvalidity, last_uid, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (mailbox) DO UPDATE SET \
         last_uid = CASE WHEN mailbox_state.uidvalidity <> $2 THEN $3 \
                         WHEN mailbox_state.last_uid < $3 THEN $3 ELSE mailbox_state.last_uid END, \
         uidvalidity = $2, updated_at = $4",
    )
    .bind(mailbox)
    .bind(uidvalidity)
    .bind(last_uid)
    .bind(now_ms())
    .execute(conn)
    .await
    .what("save mailbox state")?;
    Ok(())
}

/// The mailbox whose mail an outgoing mail answers: the one the message it replies to
/// (`in_reply_to`) came to, else the one the case's first message came to; None for mail of
/// the spool or the mail room, or mail that answers nothing. Its `[[mailbox]] from` is then the
/// sender.
pub async fn answered(
    conn: &mut Conn,
    case_id: Option<CaseId>,
    in_reply_to: Option<&str>,
) -> Result<Option<String>, StoreError> {
    if let Some(parent) = in_reply_to {
        let found: Option<String> = sqlx::query_scalar(
            "SELECT mailbox FROM messages WHERE message_id = $1 AND mailbox IS NOT NULL \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(parent)
        .fetch_optional(&mut *conn)
        .await
        .what("find the mailbox of the message answered")?;
        if found.is_some() {
            return Ok(found);
        }
    }
    let Some(case_id) = case_id else {
        return Ok(None);
    };
    let first: Option<Option<String>> =
        sqlx::query_scalar("SELECT mailbox FROM messages WHERE case_id = $1 ORDER BY id LIMIT 1")
            .bind(case_id)
            .fetch_optional(conn)
            .await
            .what("find the mailbox of the case")?;
    Ok(first.flatten())
}

/// Who watches a mailbox now.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Watcher {
    pub watcher: String,
    pub watch_until: i64,
}

impl Store {
    /// Become the watcher of `mailbox` unless another live worker is; returns the lease token.
    pub async fn acquire_watch(
        &self,
        mailbox: &str,
        worker: &str,
    ) -> Result<Option<String>, StoreError> {
        let now = now_ms();
        let token = uuid::Uuid::new_v4().simple().to_string();
        let mut conn = self.conn().await?;
        sqlx::query(
            "INSERT INTO mailbox_state (mailbox, uidvalidity, last_uid, updated_at) VALUES ($1, 0, 0, $2) \
             ON CONFLICT (mailbox) DO NOTHING",
        )
        .bind(mailbox)
        .bind(now)
        .execute(&mut *conn)
        .await
        .what("create mailbox state")?;
        let won = sqlx::query(
            "UPDATE mailbox_state SET watcher = $1, watch_token = $2, watch_until = $3 WHERE mailbox = $4 \
             AND (watch_until IS NULL OR watch_until < $5 OR watcher = $1)",
        )
        .bind(worker)
        .bind(&token)
        .bind(now + self.lease_ms())
        .bind(mailbox)
        .bind(now)
        .execute(&mut *conn)
        .await
        .what("take the mailbox watch")?;
        Ok((won.rows_affected() == 1).then_some(token))
    }

    /// Renew the watch; false when another worker took it over (this one was paused).
    pub async fn renew_watch(&self, mailbox: &str, token: &str) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await?;
        let done = sqlx::query(
            "UPDATE mailbox_state SET watch_until = $1 WHERE mailbox = $2 AND watch_token = $3",
        )
        .bind(now_ms() + self.lease_ms())
        .bind(mailbox)
        .bind(token)
        .execute(self.pool())
        .await
        .what("renew the mailbox watch")?;
        Ok(done.rows_affected() == 1)
    }

    /// Give the watch up (shutdown), so another worker takes it at once.
    pub async fn release_watch(&self, mailbox: &str, token: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE mailbox_state SET watcher = NULL, watch_token = NULL, watch_until = NULL \
             WHERE mailbox = $1 AND watch_token = $2",
        )
        .bind(mailbox)
        .bind(token)
        .execute(self.pool())
        .await
        .what("release the mailbox watch")?;
        Ok(())
    }

    /// The live watcher of `mailbox`, if any.
    pub async fn watcher_of(&self, mailbox: &str) -> Result<Option<Watcher>, StoreError> {
        sqlx::query_as(
            "SELECT watcher, watch_until FROM mailbox_state WHERE mailbox = $1 \
             AND watcher IS NOT NULL AND watch_until >= $2",
        )
        .bind(mailbox)
        .bind(now_ms())
        .fetch_optional(self.pool())
        .await
        .what("read the mailbox watch")
    }
}

impl Store {
    /// The live `loket run` daemons (heartbeating within the lease, not stopped) and how many
    /// mailboxes each watches now: what sharing the mailboxes fairly is decided on.
    pub async fn daemon_watch_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let now = now_ms();
        sqlx::query_as(
            "SELECT w.id, (SELECT COUNT(*) FROM mailbox_state m WHERE m.watcher = w.id \
                           AND m.watch_until >= $1) AS watching \
             FROM workers w WHERE w.command = 'run' AND w.stopped_at IS NULL \
             AND w.heartbeat_at >= $2 ORDER BY w.id",
        )
        .bind(now)
        .bind(now - self.lease_ms())
        .fetch_all(self.pool())
        .await
        .what("count the mailboxes each daemon watches")
    }
}
