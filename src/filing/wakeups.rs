//! Wake-ups across processes on PostgreSQL: `LISTEN loket_jobs`.
//!
//! A trigger on `jobs` (migration 0010) sends `NOTIFY loket_jobs` whenever a job becomes due to
//! run now, from any process (`run`, `serve`, `import`): PostgreSQL delivers it when the
//! enqueuing transaction commits. The listener has its own connection, one per `loket run`
//! process besides its pool (the pool speaks sqlx's Any driver, which has no notifications). Notifications are hints: one lost while
//! the connection is down is made up for by polling (`worker.poll_seconds`). SQLite has no
//! notifications: there, workers of one process wake each other and others poll.

use std::time::Duration;

use sqlx::postgres::PgListener;

use super::store::{redacted_target, StoreError};

/// The channel the `jobs` triggers notify on.
pub const CHANNEL: &str = "loket_jobs";

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection listening for new jobs.
pub struct JobListener {
    inner: PgListener,
}

/// What the listener heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// A job was enqueued (not a move).
    Job,
    /// A filed message's move to the processed folder was enqueued: the mailbox's watcher
    /// has work.
    Move,
    /// The connection was lost (it is opened again at the next call): notifications sent
    /// meanwhile are lost, so look for work now.
    Reconnected,
}

impl std::fmt::Debug for JobListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JobListener")
    }
}

impl JobListener {
    /// Connect to the PostgreSQL database at `url` and listen on [`CHANNEL`].
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let target = redacted_target(url);
        let connect_err = |source| StoreError::Connect {
            target: target.clone(),
            source,
        };
        let timed_out = || {
            connect_err(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "LISTEN connection timed out",
            )))
        };
        let connect = async {
            let mut inner = PgListener::connect(url).await.map_err(connect_err)?;
            inner.listen(CHANNEL).await.map_err(connect_err)?;
            Ok(Self { inner })
        };
        tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .map_err(|_| timed_out())?
    }

    /// Wait for the next notification (or the loss of the connection).
    pub async fn next(&mut self) -> Result<Heard, StoreError> {
        match self.inner.try_recv().await {
            Ok(Some(n)) if n.payload() == "move" => Ok(Heard::Move),
            Ok(Some(_)) => Ok(Heard::Job),
            Ok(None) => Ok(Heard::Reconnected),
            Err(source) => Err(StoreError::Query {
                what: "wait for new jobs (LISTEN)",
                source,
            }),
        }
    }
}
