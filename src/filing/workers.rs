//! The processes that share this database: each registers itself and heartbeats.
//!
//! A worker's id is random per process start, so two machines with the same host name, or a
//! restarted container with the same pid, are never confused. Host and pid are shown to people;
//! nothing decides correctness by them: a worker that stops heartbeating is shown as gone, and
//! its leases expire like any other.

use serde::Serialize;

use super::store::{QueryContext, Store, StoreError};
use super::{now_ms, rfc3339};

/// This process, as it registers.
#[derive(Debug, Clone)]
pub struct WorkerInfo {
    pub id: String,
    pub host: String,
    pub pid: u32,
    pub version: String,
    /// `run`, `run --once`, `import`, `serve`, ...
    pub command: String,
}

impl WorkerInfo {
    /// A fresh identity for this process.
    pub fn this_process(command: &str) -> Self {
        Self {
            id: uuid::Uuid::new_v4().simple().to_string(),
            host: host_name(),
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            command: command.to_string(),
        }
    }
}

/// The host name, for people reading `loket workers`.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

#[derive(sqlx::FromRow)]
struct WorkerRow {
    id: String,
    host: String,
    pid: i64,
    version: String,
    command: String,
    started_at: i64,
    heartbeat_at: i64,
    stopped_at: Option<i64>,
    jobs_held: i64,
}

/// One row of `loket workers --json` (SPEC.md).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WorkerView {
    pub id: String,
    pub host: String,
    pub pid: i64,
    pub version: String,
    pub command: String,
    pub started_at: String,
    pub heartbeat_at: String,
    pub stopped_at: Option<String>,
    /// Heartbeating within the lease, and not stopped.
    pub alive: bool,
    /// Jobs whose lease this worker holds now.
    pub jobs_held: i64,
    /// The mailboxes this worker watches now (their keys, `user@host:port/folder`).
    pub mailboxes: Vec<String>,
}

impl Store {
    /// Register this process (or refresh it).
    pub async fn register_worker(&self, w: &WorkerInfo) -> Result<(), StoreError> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO workers (id, host, pid, version, command, started_at, heartbeat_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (id) DO UPDATE SET heartbeat_at = $6",
        )
        .bind(&w.id)
        .bind(&w.host)
        .bind(w.pid as i64)
        .bind(&w.version)
        .bind(&w.command)
        .bind(now)
        .execute(self.pool())
        .await
        .what("register worker")?;
        Ok(())
    }

    /// The worker is still alive.
    pub async fn worker_heartbeat(&self, id: &str) -> Result<(), StoreError> {
        let _turn = self.write_turn().await?;
        sqlx::query("UPDATE workers SET heartbeat_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(self.pool())
            .await
            .what("worker heartbeat")?;
        Ok(())
    }

    /// When the worker last heartbeat (None: unknown worker).
    pub async fn heartbeat_of(&self, id: &str) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar("SELECT heartbeat_at FROM workers WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .what("read worker heartbeat")
    }

    /// The worker stopped cleanly.
    pub async fn worker_stopped(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE workers SET stopped_at = $1, heartbeat_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(self.pool())
            .await
            .what("worker stopped")?;
        Ok(())
    }

    /// Workers seen within the last day, newest first.
    pub async fn list_workers(&self) -> Result<Vec<WorkerView>, StoreError> {
        let now = now_ms();
        let rows: Vec<WorkerRow> = sqlx::query_as(
            "SELECT w.id, w.host, w.pid, w.version, w.command, w.started_at, w.heartbeat_at, w.stopped_at, \
             (SELECT COUNT(*) FROM jobs j WHERE j.owner = w.id AND j.state = 'running' AND j.lease_until >= $1) \
             AS jobs_held FROM workers w WHERE w.heartbeat_at >= $2 \
             ORDER BY w.started_at DESC",
        )
        .bind(now)
        .bind(now - 24 * 3600 * 1000)
        .fetch_all(self.pool())
        .await
        .what("list workers")?;
        let watches: Vec<(String, String)> = sqlx::query_as(
            "SELECT watcher, mailbox FROM mailbox_state WHERE watcher IS NOT NULL \
             AND watch_until >= $1 ORDER BY mailbox",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await
        .what("list mailbox watchers")?;
        let lease = self.lease_ms();
        Ok(rows
            .into_iter()
            .map(|r| WorkerView {
                alive: r.stopped_at.is_none() && r.heartbeat_at >= now - lease,
                jobs_held: r.jobs_held,
                mailboxes: watches
                    .iter()
                    .filter(|(w, _)| *w == r.id)
                    .map(|(_, m)| m.clone())
                    .collect(),
                id: r.id,
                host: r.host,
                pid: r.pid,
                version: r.version,
                command: r.command,
                started_at: rfc3339(r.started_at),
                heartbeat_at: rfc3339(r.heartbeat_at),
                stopped_at: r.stopped_at.map(rfc3339),
            })
            .collect())
    }
}
