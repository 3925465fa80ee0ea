//! The office mailbox over IMAP (async-imap): fetch what is new, store it, move what is filed.
//!
//! New mail is found by UID: the last UID stored per mailbox and UIDVALIDITY are kept in the
//! database, so an old mailbox is never downloaded again and a message is never skipped. When
//! UIDVALIDITY changes (mailbox rebuilt) every message is looked at again and the content hash
//! keeps copies from becoming second cases. Messages are fetched in groups bounded by count and
//! bytes, even when the server gives no sizes (`imap/fetch.rs`), so memory stays flat whatever
//! the mailbox size; the last UID only moves forward, and only past messages that are stored.
//! Nothing in the mailbox changes until the message's case has been committed (the `move` job
//! comes after filing), and only our own UIDs ever leave it (`imap/moves.rs`).

mod fetch;
mod moves;

use std::fmt::Debug;
use std::time::Duration;

use futures::TryStreamExt;
use secrecy::SecretString;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use self::fetch::{Fetched, Part, Progress, BATCH_BYTES};
use self::moves::MoveCommand;
use super::{tls, Intake};
use crate::config::{expose, read_secret, Imap, Security};
use crate::filing::jobs::{enqueue, StepError};
use crate::filing::mailboxes;
use crate::filing::messages::{self, NewMessage, Source};
use crate::filing::{JobTarget, StoreError};
use crate::telemetry::metrics;

/// The byte stream under the IMAP session: plain TCP or TLS.
pub trait ImapIo: AsyncRead + AsyncWrite + Unpin + Send + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Debug> ImapIo for T {}

pub type Session = async_imap::Session<Box<dyn ImapIo>>;

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("IMAP {server}: cannot connect: {source}")]
    Connect {
        server: String,
        #[source]
        source: std::io::Error,
    },
    #[error("IMAP {server}: {what} timed out after {seconds} s")]
    Timeout {
        server: String,
        what: &'static str,
        seconds: u64,
    },
    #[error("IMAP {server}: login as {user} refused: {reason}")]
    Login {
        server: String,
        user: String,
        reason: String,
    },
    #[error("IMAP {server}: {what}: {source}")]
    Protocol {
        server: String,
        what: &'static str,
        #[source]
        source: async_imap::error::Error,
    },
    #[error("IMAP setup: {0}")]
    Setup(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] crate::filing::blobs::BlobError),
    #[error("mailbox {mailbox}: the watch was taken over by another worker")]
    WatchLost { mailbox: String },
}

impl From<StepError> for ImapError {
    fn from(e: StepError) -> Self {
        match e {
            StepError::Store(e) => ImapError::Store(e),
            // Moves whose lease was lost are done by their new holder.
            StepError::LeaseLost(l) => ImapError::Setup(l.to_string()),
        }
    }
}

/// The mailbox of one configured account.
#[derive(Debug, Clone)]
pub struct Mailbox {
    cfg: Imap,
    password: SecretString,
    server: String,
}

impl Mailbox {
    pub fn new(cfg: &Imap) -> Result<Self, ImapError> {
        let label = format!("mailbox {}: password", cfg.key());
        let password =
            read_secret(&cfg.password, &cfg.password_file, &label).map_err(ImapError::Setup)?;
        Ok(Self {
            server: format!("{}:{}", cfg.host, cfg.port),
            cfg: cfg.clone(),
            password,
        })
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.cfg.timeout_seconds.max(1))
    }

    /// Run `fut` with the command timeout.
    async fn timed<T>(
        &self,
        what: &'static str,
        fut: impl std::future::Future<Output = Result<T, async_imap::error::Error>>,
    ) -> Result<T, ImapError> {
        match tokio::time::timeout(self.timeout(), fut).await {
            Ok(r) => r.map_err(|source| ImapError::Protocol {
                server: self.server.clone(),
                what,
                source,
            }),
            Err(_) => Err(ImapError::Timeout {
                server: self.server.clone(),
                what,
                seconds: self.timeout().as_secs(),
            }),
        }
    }

    /// Connect, log in, and make sure the processed folder exists.
    pub async fn connect(&self) -> Result<Session, ImapError> {
        let stream = tokio::time::timeout(self.timeout(), self.open_stream())
            .await
            .map_err(|_| ImapError::Timeout {
                server: self.server.clone(),
                what: "connect",
                seconds: self.timeout().as_secs(),
            })??;
        let mut client = async_imap::Client::new(stream);
        // The greeting must be read before the first command.
        self.timed("greeting", async {
            client.read_response().await.map_err(Into::into)
        })
        .await?;
        let login = tokio::time::timeout(
            self.timeout(),
            client.login(&self.cfg.username, expose(&self.password)),
        )
        .await;
        let mut session = match login {
            Ok(Ok(session)) => session,
            Ok(Err((e, _))) => {
                return Err(ImapError::Login {
                    server: self.server.clone(),
                    user: self.cfg.username.clone(),
                    reason: e.to_string(),
                })
            }
            Err(_) => {
                return Err(ImapError::Timeout {
                    server: self.server.clone(),
                    what: "login",
                    seconds: self.timeout().as_secs(),
                })
            }
        };
        self.ensure_folder(&mut session, &self.cfg.processed_mailbox)
            .await?;
        metrics::imap_connected(&self.state_key(), true);
        Ok(session)
    }

    async fn open_stream(&self) -> Result<Box<dyn ImapIo>, ImapError> {
        let connect_err = |source| ImapError::Connect {
            server: self.server.clone(),
            source,
        };
        let tcp = TcpStream::connect((self.cfg.host.as_str(), self.cfg.port))
            .await
            .map_err(connect_err)?;
        tcp.set_nodelay(true).ok();
        match self.cfg.security {
            Security::None => Ok(Box::new(tcp)),
            Security::Tls => {
                let config =
                    tls::client_config(self.cfg.ca_file.as_deref()).map_err(ImapError::Setup)?;
                Ok(Box::new(
                    tls::wrap(tcp, &self.cfg.host, config)
                        .await
                        .map_err(connect_err)?,
                ))
            }
            Security::Starttls => {
                let config =
                    tls::client_config(self.cfg.ca_file.as_deref()).map_err(ImapError::Setup)?;
                let mut client = async_imap::Client::new(tcp);
                self.timed("greeting", async {
                    client.read_response().await.map_err(Into::into)
                })
                .await?;
                self.timed(
                    "STARTTLS",
                    client.run_command_and_check_ok("STARTTLS", None),
                )
                .await?;
                let tcp = client.into_inner();
                let tls = tls::wrap(tcp, &self.cfg.host, config)
                    .await
                    .map_err(connect_err)?;
                // After STARTTLS there is no second greeting: hand over a stream that pretends
                // none is expected by reading nothing (see `connect`).
                Ok(Box::new(NoGreeting::new(tls)))
            }
        }
    }

    async fn ensure_folder(&self, session: &mut Session, name: &str) -> Result<(), ImapError> {
        let exists = self
            .timed("LIST", async {
                let names: Vec<_> = session
                    .list(None, Some(&quote(name)))
                    .await?
                    .try_collect()
                    .await?;
                Ok(!names.is_empty())
            })
            .await?;
        if !exists {
            info!(folder = name, "creating the processed folder");
            self.timed("CREATE", session.create(name)).await?;
        }
        Ok(())
    }

    /// Fetch every message not stored yet; returns how many were stored.
    pub async fn ingest(&self, ctx: &Intake, session: &mut Session) -> Result<usize, ImapError> {
        let mailbox = self
            .timed("SELECT", session.select(&self.cfg.mailbox))
            .await?;
        let uidvalidity = mailbox.uid_validity.unwrap_or(0) as i64;
        let last_uid = self.last_uid(ctx, uidvalidity).await?;
        if mailbox.exists == 0 {
            self.save_state(ctx, uidvalidity, last_uid).await?;
            return Ok(0);
        }
        let query = format!("UID {}:*", last_uid + 1);
        let mut uids: Vec<u32> = self
            .timed("UID SEARCH", session.uid_search(query))
            .await?
            .into_iter()
            .collect();
        uids.retain(|&u| (u as i64) > last_uid);
        uids.sort_unstable();
        let mut stored = 0;
        let mut progress = Progress::new(last_uid);
        for chunk in uids.chunks(self.cfg.batch_size as usize) {
            stored += self
                .ingest_chunk(ctx, session, uidvalidity, chunk, &mut progress)
                .await?;
        }
        if uids.is_empty() {
            self.save_state(ctx, uidvalidity, last_uid).await?;
        }
        drain_unsolicited(session);
        metrics::messages_fetched(&self.state_key(), stored);
        Ok(stored)
    }

    /// The last UID stored, or 0 when the mailbox is new or its UIDVALIDITY changed.
    async fn last_uid(&self, ctx: &Intake, uidvalidity: i64) -> Result<i64, ImapError> {
        let mut conn = ctx.store.conn().await?;
        let Some(known) = mailboxes::state(&mut conn, &self.state_key()).await? else {
            return Ok(0);
        };
        if known.uidvalidity != uidvalidity {
            if known.uidvalidity != 0 {
                warn!(
                    old = known.uidvalidity,
                    new = uidvalidity,
                    "mailbox UIDVALIDITY changed: looking at every message again"
                );
            }
            return Ok(0);
        }
        Ok(known.last_uid)
    }

    /// Mailbox state is per account, server and folder ([`Imap::key`]); also the key of the
    /// mailbox's watch, so two configured mailboxes never share a watcher.
    pub fn state_key(&self) -> String {
        self.cfg.key()
    }

    async fn save_state(
        &self,
        ctx: &Intake,
        uidvalidity: i64,
        last_uid: i64,
    ) -> Result<(), ImapError> {
        let mut conn = ctx.store.conn().await?;
        mailboxes::save_state(&mut conn, &self.state_key(), uidvalidity, last_uid).await?;
        Ok(())
    }

    /// Fetch one chunk of UIDs group by group (see [`fetch`]); each group's messages, intake
    /// jobs and new last UID are committed together before the next group is fetched, so memory
    /// holds one group at a time.
    async fn ingest_chunk(
        &self,
        ctx: &Intake,
        session: &mut Session,
        uidvalidity: i64,
        uids: &[u32],
        progress: &mut Progress,
    ) -> Result<usize, ImapError> {
        let sizes = fetch::sizes(self, session, uids).await?;
        let max = ctx.max_message_bytes;
        let mut stored = 0;
        for group in fetch::plan(uids, &sizes, max, BATCH_BYTES) {
            if group.part == Part::Headers {
                warn!(
                    count = group.uids.len(),
                    "messages over the size limit: storing headers only"
                );
            }
            let got = fetch::fetch_group(self, session, &group, max).await?;
            for uid in &got.missing {
                warn!(
                    uid,
                    "the server twice sent this message without its content: not filed yet, \
                     last UID kept below it so the next fetch tries again"
                );
            }
            let last = progress.advance(&group.uids, &got.missing);
            stored += self
                .store_raws(ctx, uidvalidity, got.messages, last)
                .await?;
        }
        ctx.wake.notify_waiters();
        Ok(stored)
    }

    async fn store_raws(
        &self,
        ctx: &Intake,
        uidvalidity: i64,
        raws: Vec<Fetched>,
        last: i64,
    ) -> Result<usize, ImapError> {
        let meta: Vec<(u32, usize, bool)> = raws
            .iter()
            .map(|m| (m.uid, m.raw.len(), m.truncated))
            .collect();
        let shas = ctx
            .blobs
            .put_all(raws.into_iter().map(|m| m.raw).collect())
            .await?;
        let hashed: Vec<(u32, String, usize, bool)> = meta
            .into_iter()
            .zip(shas)
            .map(|((uid, size, truncated), sha)| (uid, sha, size, truncated))
            .collect();
        let mut tx = ctx.store.begin_write().await?;
        let mut stored = 0;
        for (uid, sha, size, truncated) in &hashed {
            let row = NewMessage {
                source: Source::Imap,
                mailbox: Some(&self.state_key()),
                uidvalidity: Some(uidvalidity),
                uid: Some(*uid as i64),
                sha256: sha,
                size: *size as i64,
                truncated: *truncated,
                original_name: None,
                details: None,
                mailbox_kind: self.cfg.kind,
            };
            match messages::insert(&mut tx, &row).await? {
                Some(id) => {
                    enqueue(&mut tx, JobTarget::Intake(id)).await?;
                    stored += 1;
                }
                None => debug!(uid, "message already stored"),
            }
        }
        mailboxes::save_state(&mut tx, &self.state_key(), uidvalidity, last).await?;
        crate::filing::store::commit(tx).await?;
        if stored > 0 {
            info!(stored, last_uid = last, "new messages stored");
        }
        Ok(stored)
    }

    /// Move filed messages to the processed folder, as many as this watcher can claim; returns
    /// how many. The move jobs are claimed like any job, and the lease is confirmed before the
    /// mailbox changes.
    pub async fn move_filed(
        &self,
        ctx: &Intake,
        session: &mut Session,
    ) -> Result<usize, ImapError> {
        let mut moved = 0;
        loop {
            let jobs = ctx
                .store
                .claim_moves(&self.state_key(), 500, &ctx.worker_id)
                .await?;
            if jobs.is_empty() {
                return Ok(moved);
            }
            moved += self.move_claimed(ctx, session, jobs).await?;
        }
    }

    async fn move_claimed(
        &self,
        ctx: &Intake,
        session: &mut Session,
        jobs: Vec<crate::filing::Job>,
    ) -> Result<usize, ImapError> {
        let ids: Vec<_> = jobs
            .iter()
            .filter_map(|j| match j.target {
                JobTarget::Move(id) => Some(id),
                _ => None,
            })
            .collect();
        let mut conn = ctx.store.conn().await?;
        let places = messages::places(&mut conn, &ids).await?;
        drop(conn);
        // The cases these messages belong to must be on disk before the messages leave the inbox.
        ctx.store.sync().await?;
        let mailbox = self
            .timed("SELECT", session.select(&self.cfg.mailbox))
            .await?;
        let current = mailbox.uid_validity.unwrap_or(0) as i64;
        let to_move: Vec<u32> = places
            .iter()
            .filter(|p| p.uidvalidity == Some(current))
            .filter_map(|p| p.uid.map(|u| u as u32))
            .collect();
        let leases: Vec<_> = jobs.iter().map(|j| j.lease.clone()).collect();
        if let Some(first) = leases.first() {
            if !ctx.store.confirm_lease(first).await? {
                // Paused past the lease: another watcher has these moves now.
                return Ok(0);
            }
        }
        if !to_move.is_empty() {
            let caps = self.timed("CAPABILITY", session.capabilities()).await?;
            let how = MoveCommand::for_server(&caps);
            for chunk in to_move.chunks(500) {
                let set = uid_set(chunk);
                moves::move_uids(self, session, &set, &self.cfg.processed_mailbox, how).await?;
            }
        }
        drain_unsolicited(session);
        ctx.store.begin_steps(leases).await?.commit().await?;
        debug!(moved = to_move.len(), "filed messages moved");
        Ok(to_move.len())
    }

    /// Wait for new mail: IDLE when the server has it (woken by the server, by filed messages
    /// waiting to be moved, or by shutdown), else sleep for the poll interval.
    pub async fn wait(
        self: &Mailbox,
        moves_waiting: &tokio::sync::Notify,
        max_wait: Duration,
        session: Session,
        cancel: &CancellationToken,
    ) -> Result<Session, ImapError> {
        let mut session = session;
        let period = Duration::from_secs(self.cfg.poll_seconds.clamp(1, 25 * 60)).min(max_wait);
        let caps = self.timed("CAPABILITY", session.capabilities()).await?;
        if !caps.has_str("IDLE") {
            tokio::select! {
                _ = tokio::time::sleep(period) => {}
                _ = moves_waiting.notified() => {}
                _ = cancel.cancelled() => {}
            }
            return Ok(session);
        }
        let mut idle = session.idle();
        self.timed("IDLE", idle.init()).await?;
        {
            let (fut, stop) = idle.wait_with_timeout(period);
            tokio::pin!(fut);
            let woke = tokio::select! {
                r = &mut fut => Some(r),
                _ = moves_waiting.notified() => None,
                _ = cancel.cancelled() => None,
            };
            if woke.is_none() {
                drop(stop);
                let _ = tokio::time::timeout(self.timeout(), &mut fut).await;
            }
        }
        let session = self.timed("DONE", idle.done()).await?;
        Ok(session)
    }

    pub async fn logout(&self, mut session: Session) {
        metrics::imap_connected(&self.state_key(), false);
        let _ = tokio::time::timeout(Duration::from_secs(5), session.logout()).await;
    }

    pub fn server(&self) -> &str {
        &self.server
    }
}

/// Record the last UID stored. For the same UIDVALIDITY it never goes down (a slower worker
/// finishing an older batch must not undo a newer one); a new UIDVALIDITY replaces it. `CASE`
/// because `GREATEST` (PostgreSQL) and two-argument `MAX` (SQLite) are not portable.
/// Unsolicited responses go to a bounded channel that silently drops when full: empty it.
fn drain_unsolicited(session: &mut Session) {
    while session.unsolicited_responses.try_recv().is_ok() {}
}

/// `1,2,5` — a UID set for one command.
fn uid_set(uids: &[u32]) -> String {
    uids.iter()
        .map(|u| u.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// LIST patterns are sent as given by async-imap: quote them (names with spaces).
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A TLS stream after STARTTLS. async-imap's `Client::new` does not read a greeting by itself
/// (we do, in `connect`), so after STARTTLS we must answer that first read without the network:
/// this wrapper serves a synthetic greeting once, then passes everything through.
#[derive(Debug)]
struct NoGreeting<S> {
    inner: S,
    greeting: &'static [u8],
}

impl<S> NoGreeting<S> {
    fn new(inner: S) -> Self {
        Self {
            inner,
            greeting: b"* OK STARTTLS done\r\n",
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for NoGreeting<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if !self.greeting.is_empty() {
            let n = self.greeting.len().min(buf.remaining());
            buf.put_slice(&self.greeting[..n]);
            self.greeting = &self.greeting[n..];
            return std::task::Poll::Ready(Ok(()));
        }
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for NoGreeting<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_are_quoted() {
        assert_eq!(quote("Sudah \"Diproses\""), "\"Sudah \\\"Diproses\\\"\"");
    }
}
