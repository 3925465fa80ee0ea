//! The durable job queue: every pipeline step is a row, claimed with a lease.
//!
//! A job is enqueued in the same transaction that commits the step before it, and marked done in
//! the same transaction that commits its own effects, so a crash anywhere resumes at the step that
//! did not commit. Claiming increments `attempts`, so a job that crashes the whole process is
//! parked after `max_attempts` claims instead of looping; transient failures (a dead SMTP
//! server) wait with backoff and never park.

use sqlx::{AnyConnection, Row};

use super::now_ms;
use super::store::{QueryContext, Store, StoreError};

/// The pipeline steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// A stored raw message becomes a case with documents.
    Intake,
    /// One document's text is read.
    Extract,
    /// A case is sorted by the rules and its acknowledgement written.
    Classify,
    /// One outbox mail is sent.
    Send,
    /// A mailbox message is moved to the processed folder (needs the IMAP session).
    Move,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Intake => "intake",
            JobKind::Extract => "extract",
            JobKind::Classify => "classify",
            JobKind::Send => "send",
            JobKind::Move => "move",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Intake,
            Self::Extract,
            Self::Classify,
            Self::Send,
            Self::Move,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// Steps any worker can run (everything but `Move`).
    pub const WORKER: &'static [JobKind] = &[
        JobKind::Intake,
        JobKind::Extract,
        JobKind::Classify,
        JobKind::Send,
    ];
}

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub kind: JobKind,
    pub target: i64,
    /// Claims so far, this one included.
    pub attempts: i64,
    pub retries: i64,
}

/// What happened to a failed job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// Will be tried again later.
    Retry,
    /// Given up: an officer must look at it.
    Parked,
}

const LEASE_MS: i64 = 10 * 60 * 1000;

/// Enqueue `kind` for `target` once; enqueueing again is a no-op.
pub async fn enqueue(
    conn: &mut AnyConnection,
    kind: JobKind,
    target: i64,
) -> Result<(), StoreError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO jobs (kind, target, state, run_after, created_at, updated_at) \
         VALUES ($1, $2, 'pending', $3, $3, $3) ON CONFLICT (kind, target) DO NOTHING",
    )
    .bind(kind.as_str())
    .bind(target)
    .bind(now)
    .execute(conn)
    .await
    .what("enqueue job")?;
    Ok(())
}

/// Enqueue `kind` for `target`, running it again if it already ran (a case re-sorted after
/// more documents came).
pub async fn enqueue_again(
    conn: &mut AnyConnection,
    kind: JobKind,
    target: i64,
) -> Result<(), StoreError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO jobs (kind, target, state, run_after, created_at, updated_at) \
         VALUES ($1, $2, 'pending', $3, $3, $3) ON CONFLICT (kind, target) DO UPDATE \
         SET state = 'pending', attempts = 0, retries = 0, run_after = $3, updated_at = $3 \
         WHERE jobs.state IN ('done', 'parked')",
    )
    .bind(kind.as_str())
    .bind(target)
    .bind(now)
    .execute(conn)
    .await
    .what("enqueue job again")?;
    Ok(())
}

/// Which jobs a claim may take.
#[derive(Debug, Clone, Copy)]
pub struct ClaimFilter<'a> {
    pub kinds: &'a [JobKind],
    /// `run --once`: also take jobs waiting on a backoff if they were last touched before this
    /// run started (so one pass retries each waiting job once, never in a tight loop).
    pub once_started: Option<i64>,
}

impl Store {
    /// Claim the oldest due job of the given kinds, or None.
    pub async fn claim(
        &self,
        filter: ClaimFilter<'_>,
        owner: &str,
    ) -> Result<Option<Job>, StoreError> {
        let now = now_ms();
        let kinds = filter
            .kinds
            .iter()
            .map(|k| format!("'{}'", k.as_str()))
            .collect::<Vec<_>>()
            .join(",");
        let skip_locked = if self.is_postgres() {
            "FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let due = "((state = 'pending' AND (run_after <= $2 OR updated_at < $4)) \
                   OR (state = 'running' AND lease_until < $2))";
        let sql = format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = $1, owner = $3, \
             updated_at = $2 WHERE id = (SELECT id FROM jobs WHERE kind IN ({kinds}) AND {due} \
             ORDER BY id LIMIT 1 {skip_locked}) AND {due} \
             RETURNING id, kind, target, attempts, retries"
        );
        let row = sqlx::query(&sql)
            .bind(now + LEASE_MS)
            .bind(now)
            .bind(owner)
            .bind(filter.once_started.unwrap_or(i64::MIN))
            .fetch_optional(&self.pool)
            .await
            .what("claim job")?;
        let Some(row) = row else { return Ok(None) };
        let kind: String = row.try_get("kind").what("read job kind")?;
        Ok(Some(Job {
            id: row.try_get("id").what("read job")?,
            kind: JobKind::parse(&kind)
                .ok_or_else(|| StoreError::NotFound(format!("unknown job kind {kind}")))?,
            target: row.try_get("target").what("read job")?,
            attempts: row.try_get("attempts").what("read job")?,
            retries: row.try_get("retries").what("read job")?,
        }))
    }

    /// Give back leases held by processes of this host that no longer exist (a crashed or
    /// killed worker), so a restart resumes at once instead of waiting for the lease to expire.
    pub async fn release_dead_leases(&self, host: &str) -> Result<u64, StoreError> {
        let rows = sqlx::query("SELECT id, owner FROM jobs WHERE state = 'running'")
            .fetch_all(&self.pool)
            .await
            .what("list running jobs")?;
        let mut released = 0;
        for row in rows {
            let id: i64 = row.try_get("id").what("read job")?;
            let owner: Option<String> = row.try_get("owner").what("read job")?;
            if owner.as_deref().is_some_and(|o| owner_is_dead(o, host)) {
                sqlx::query("UPDATE jobs SET state = 'pending', lease_until = NULL WHERE id = $1 AND state = 'running'")
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .what("release lease")?;
                released += 1;
            }
        }
        Ok(released)
    }

    /// Record a failure: retry with backoff, or park after too many attempts.
    pub async fn fail_job(
        &self,
        job: &Job,
        error: &str,
        transient: bool,
        max_attempts: u32,
    ) -> Result<FailOutcome, StoreError> {
        let now = now_ms();
        let (state, attempts_delta, retries, delay) = if transient {
            // Outages don't count as attempts: wait 30 s, 1 min, 2 min ... up to 30 min.
            let delay = (30_000i64 << job.retries.min(6)).min(30 * 60_000);
            ("pending", -1, job.retries + 1, delay)
        } else if job.attempts >= max_attempts as i64 {
            ("parked", 0, job.retries, 0)
        } else {
            ("pending", 0, job.retries, 5_000 * job.attempts)
        };
        sqlx::query(
            "UPDATE jobs SET state = $1, attempts = attempts + $2, retries = $3, run_after = $4, \
             lease_until = NULL, last_error = $5, updated_at = $6 WHERE id = $7",
        )
        .bind(state)
        .bind(attempts_delta)
        .bind(retries)
        .bind(now + delay)
        .bind(error)
        .bind(now)
        .bind(job.id)
        .execute(&self.pool)
        .await
        .what("record job failure")?;
        Ok(if state == "parked" {
            FailOutcome::Parked
        } else {
            FailOutcome::Retry
        })
    }

    /// Park a job without running it (claimed too often: it keeps killing the worker).
    pub async fn park_job(&self, job: &Job, error: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE jobs SET state = 'parked', lease_until = NULL, last_error = $1, updated_at = $2 WHERE id = $3")
            .bind(error)
            .bind(now_ms())
            .bind(job.id)
            .execute(&self.pool)
            .await
            .what("park job")?;
        Ok(())
    }

    /// Jobs not yet done, by state, for status output and tests.
    pub async fn job_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        let rows = sqlx::query("SELECT kind, state, COUNT(*) AS n FROM jobs WHERE state <> 'done' GROUP BY kind, state ORDER BY kind, state")
            .fetch_all(&self.pool)
            .await
            .what("count jobs")?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("kind").what("jobs")?,
                    r.try_get("state").what("jobs")?,
                    r.try_get("n").what("jobs")?,
                ))
            })
            .collect()
    }
}

/// Mark a job done, inside the transaction that commits its effects.
pub async fn complete(conn: &mut AnyConnection, job_id: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE jobs SET state = 'done', lease_until = NULL, last_error = NULL, updated_at = $1 WHERE id = $2")
        .bind(now_ms())
        .bind(job_id)
        .execute(conn)
        .await
        .what("complete job")?;
    Ok(())
}

/// This process's lease owner id: `host:pid`.
pub fn owner_id(host: &str) -> String {
    format!("{host}:{}", std::process::id())
}

fn owner_is_dead(owner: &str, host: &str) -> bool {
    let Some((owner_host, pid)) = owner.rsplit_once(':') else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    owner_host == host
        && pid != std::process::id()
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}
