//! The durable job queue: every piece of work is a row, claimed with a fenced lease.
//!
//! A job is enqueued in the same transaction that commits the step before it. Claiming hands out
//! a fresh lease token and a lease of `worker.lease_seconds`, renewed by the process's heartbeat
//! while the step runs. The step's effects, its "done" mark and the next step's job commit in one
//! transaction that checks the token ([`Store::begin_step`], [`StepTx::commit`]): a runner whose
//! lease expired and was taken over rolls back instead of committing (fencing). Nothing looks
//! at host names or pids; a lease that is not renewed simply expires and any worker takes the job.
//!
//! Claiming increments `attempts`, so a job that crashes the whole process is parked after
//! `max_attempts` claims instead of looping; outages (a dead SMTP server) wait with backoff and
//! never park. The design follows River and Oban: rescue by lease expiry, heartbeats that
//! renew by token, completion checked against the token.

use std::ops::{Deref, DerefMut};

use super::ids::{CaseId, DigestId, DocumentId, JobId, LetterId, MessageId, NoticeId, OutboxId};
use super::now_ms;
use super::store::{Conn, QueryContext, Store, StoreError, Tx};

/// The kinds of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// A stored raw message becomes a case with documents.
    Intake,
    /// One document's text is read.
    Extract,
    /// A case is sorted by the rules and its acknowledgements written.
    Classify,
    /// One outbox mail is sent.
    Send,
    /// A mailbox message is moved to the processed folder (by that mailbox's watcher).
    Move,
    /// A letter is printed (by `loket letters`).
    Letter,
    /// A case that arrived in a department's queue is announced (its own mail, or the digest).
    Notice,
    /// A department's daily digest is sent.
    Digest,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Intake => "intake",
            JobKind::Extract => "extract",
            JobKind::Classify => "classify",
            JobKind::Send => "send",
            JobKind::Move => "move",
            JobKind::Letter => "letter",
            JobKind::Notice => "notice",
            JobKind::Digest => "digest",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    pub const ALL: &'static [JobKind] = &[
        JobKind::Intake,
        JobKind::Extract,
        JobKind::Classify,
        JobKind::Send,
        JobKind::Move,
        JobKind::Letter,
        JobKind::Notice,
        JobKind::Digest,
    ];

    /// Steps any worker runs (moves need the mailbox session, letters a clerk).
    pub const WORKER: &'static [JobKind] = &[
        JobKind::Intake,
        JobKind::Extract,
        JobKind::Classify,
        JobKind::Send,
        JobKind::Notice,
        JobKind::Digest,
    ];

    /// Steps that send mail (the mail runners).
    pub const MAIL: &'static [JobKind] = &[JobKind::Send, JobKind::Digest];
}

/// What a job works on: the kind and its row, typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobTarget {
    Intake(MessageId),
    Extract(DocumentId),
    Classify(CaseId),
    Send(OutboxId),
    Move(MessageId),
    Letter(LetterId),
    Notice(NoticeId),
    Digest(DigestId),
}

impl JobTarget {
    pub fn kind(self) -> JobKind {
        match self {
            JobTarget::Intake(_) => JobKind::Intake,
            JobTarget::Extract(_) => JobKind::Extract,
            JobTarget::Classify(_) => JobKind::Classify,
            JobTarget::Send(_) => JobKind::Send,
            JobTarget::Move(_) => JobKind::Move,
            JobTarget::Letter(_) => JobKind::Letter,
            JobTarget::Notice(_) => JobKind::Notice,
            JobTarget::Digest(_) => JobKind::Digest,
        }
    }

    /// The target row's id as stored in `jobs.target`.
    pub fn row(self) -> i64 {
        match self {
            JobTarget::Intake(id) | JobTarget::Move(id) => id.0,
            JobTarget::Extract(id) => id.0,
            JobTarget::Classify(id) => id.0,
            JobTarget::Send(id) => id.0,
            JobTarget::Letter(id) => id.0,
            JobTarget::Notice(id) => id.0,
            JobTarget::Digest(id) => id.0,
        }
    }

    pub fn new(kind: JobKind, row: i64) -> Self {
        match kind {
            JobKind::Intake => JobTarget::Intake(MessageId(row)),
            JobKind::Extract => JobTarget::Extract(DocumentId(row)),
            JobKind::Classify => JobTarget::Classify(CaseId(row)),
            JobKind::Send => JobTarget::Send(OutboxId(row)),
            JobKind::Move => JobTarget::Move(MessageId(row)),
            JobKind::Letter => JobTarget::Letter(LetterId(row)),
            JobKind::Notice => JobTarget::Notice(NoticeId(row)),
            JobKind::Digest => JobTarget::Digest(DigestId(row)),
        }
    }
}

impl std::fmt::Display for JobTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind().as_str(), self.row())
    }
}

/// The right to commit a claimed job's effects, for as long as the token is the job's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lease {
    pub job: JobId,
    pub token: String,
}

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: JobId,
    pub target: JobTarget,
    /// Claims so far, this one included.
    pub attempts: i64,
    pub retries: i64,
    pub lease: Lease,
    /// When this process claimed it, in the wall-clock milliseconds leases are kept in (a
    /// monotonic clock stops while the machine is suspended; the lease does not).
    pub claimed_at_ms: i64,
    /// The next step of the same work, claimed for this runner by this job's commit
    /// ([`StepTx::then_run`]).
    pub next: NextJob,
}

impl Job {
    pub fn kind(&self) -> JobKind {
        self.target.kind()
    }
}

/// Where a step's commit leaves the job it claimed for its runner to run next: the message's
/// next step, taken in the transaction that enqueued it, so the runner goes on without a claim
/// of its own (on SQLite a claim is a commit, the dearest statement of a step). Shared by the
/// clones of one [`Job`].
#[derive(Debug, Clone, Default)]
pub struct NextJob(std::sync::Arc<std::sync::Mutex<Option<Job>>>);

impl NextJob {
    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Job>> {
        match self.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn put(&self, job: Job) {
        *self.slot() = Some(job);
    }

    /// The job claimed for this runner, if the step's commit claimed one.
    pub fn take(&self) -> Option<Job> {
        self.slot().take()
    }
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: JobId,
    kind: String,
    target: i64,
    attempts: i64,
    retries: i64,
}

impl ClaimedRow {
    fn into_job(self, token: &str) -> Result<Job, StoreError> {
        let kind = JobKind::parse(&self.kind)
            .ok_or_else(|| StoreError::NotFound(format!("unknown job kind {}", self.kind)))?;
        Ok(Job {
            id: self.id,
            target: JobTarget::new(kind, self.target),
            attempts: self.attempts,
            retries: self.retries,
            lease: Lease {
                job: self.id,
                token: token.to_string(),
            },
            claimed_at_ms: now_ms(),
            next: NextJob::default(),
        })
    }
}

/// How a failed job is to be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// An outage: wait with backoff, never park.
    Outage,
    /// Another worker did the same at the same moment (a constraint refused the write): retry at
    /// once, not counted.
    Conflict,
    /// A real failure: retry, and park after `max_attempts`.
    Error,
}

/// What happened to a failed job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// Will be tried again later.
    Retry,
    /// Given up: an officer must look at it.
    Parked,
    /// The lease was lost: another worker holds the job now; nothing was recorded.
    LeaseLost,
}

/// The step's lease was taken over: its transaction was rolled back.
#[derive(Debug, thiserror::Error)]
#[error("lease of job {job} lost: another worker took it over; this runner's work was rolled back")]
pub struct LeaseLost {
    pub job: JobId,
}

/// Enqueue `target` once; enqueueing again is a no-op.
pub async fn enqueue(conn: &mut Conn, target: JobTarget) -> Result<(), StoreError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO jobs (kind, target, state, run_after, created_at, updated_at) \
         VALUES ($1, $2, 'pending', $3, $3, $3) ON CONFLICT (kind, target) DO NOTHING",
    )
    .bind(target.kind().as_str())
    .bind(target.row())
    .bind(now)
    .execute(conn)
    .await
    .what("enqueue job")?;
    Ok(())
}

/// Enqueue `target`, running it again if it already ran (a case re-sorted after more documents
/// came). A job running right now is asked to run once more when it finishes, so what it could
/// not see yet is not lost.
pub async fn enqueue_again(conn: &mut Conn, target: JobTarget) -> Result<(), StoreError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO jobs (kind, target, state, run_after, created_at, updated_at) \
         VALUES ($1, $2, 'pending', $3, $3, $3) ON CONFLICT (kind, target) DO UPDATE \
         SET again = CASE WHEN jobs.state = 'running' THEN 1 ELSE jobs.again END, \
             attempts = CASE WHEN jobs.state IN ('done', 'parked') THEN 0 ELSE jobs.attempts END, \
             retries = CASE WHEN jobs.state IN ('done', 'parked') THEN 0 ELSE jobs.retries END, \
             run_after = CASE WHEN jobs.state IN ('done', 'parked') THEN $3 ELSE jobs.run_after END, \
             state = CASE WHEN jobs.state IN ('done', 'parked') THEN 'pending' ELSE jobs.state END, \
             updated_at = $3",
    )
    .bind(target.kind().as_str())
    .bind(target.row())
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

/// Due: pending and past its backoff, or running with an expired lease (its worker stopped).
const DUE: &str = "((state = 'pending' AND (run_after <= $2 OR updated_at < $4)) \
                   OR (state = 'running' AND lease_until < $2))";
/// [`DUE`] for `jobs j` in a join.
const DUE_J: &str = "((j.state = 'pending' AND (j.run_after <= $2 OR j.updated_at < $4)) \
                   OR (j.state = 'running' AND j.lease_until < $2))";

fn kinds_list(kinds: &[JobKind]) -> String {
    kinds
        .iter()
        .map(|k| format!("'{}'", k.as_str()))
        .collect::<Vec<_>>()
        .join(",")
}

/// SQLite: the id of the oldest due job of `kinds`, or NULL. One `ORDER BY id LIMIT 1` per
/// kind and state, each walking the `jobs_claim (kind, state, id)` index from its start and
/// stopping at the first due row; the smallest wins. (With `kind IN (…)` and `DUE`'s OR, SQLite
/// walked the jobs by id instead, past every finished one: a claim grew with the table, and a
/// 10,000-message run spent most of its time there.)
fn oldest_due_sqlite(kinds: &[JobKind]) -> String {
    let firsts: Vec<String> = kinds
        .iter()
        .flat_map(|k| {
            let k = k.as_str();
            [
                format!(
                    "SELECT id FROM (SELECT id FROM jobs WHERE kind = '{k}' AND state = 'pending' \
                     AND (run_after <= $2 OR updated_at < $4) ORDER BY id LIMIT 1)"
                ),
                format!(
                    "SELECT id FROM (SELECT id FROM jobs WHERE kind = '{k}' AND state = 'running' \
                     AND lease_until < $2 ORDER BY id LIMIT 1)"
                ),
            ]
        })
        .collect();
    format!("SELECT MIN(id) FROM ({})", firsts.join(" UNION ALL "))
}

fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl Store {
    fn skip_locked(&self) -> &'static str {
        if self.is_postgres() {
            "FOR UPDATE SKIP LOCKED"
        } else {
            ""
        }
    }

    /// Claim the oldest due job of the given kinds for worker `owner`, or None.
    pub async fn claim(
        &self,
        filter: ClaimFilter<'_>,
        owner: &str,
    ) -> Result<Option<Job>, StoreError> {
        self.claim_oldest(filter, owner, true).await
    }

    /// Like [`Store::claim`] for a runner whose last claim found work: on SQLite it skips the
    /// read that first looks whether anything is due (most likely something is), saving a
    /// statement per step.
    pub async fn claim_next(
        &self,
        filter: ClaimFilter<'_>,
        owner: &str,
    ) -> Result<Option<Job>, StoreError> {
        self.claim_oldest(filter, owner, false).await
    }

    async fn claim_oldest(
        &self,
        filter: ClaimFilter<'_>,
        owner: &str,
        look_first: bool,
    ) -> Result<Option<Job>, StoreError> {
        let select = if self.is_postgres() {
            format!(
                "SELECT id FROM jobs WHERE kind IN ({kinds}) AND {DUE} ORDER BY id LIMIT 1 {skip}",
                kinds = kinds_list(filter.kinds),
                skip = self.skip_locked(),
            )
        } else {
            oldest_due_sqlite(filter.kinds)
        };
        // `id = (SELECT ...)`, not `IN`: PostgreSQL evaluates it once, while a semi-join re-checked
        // under a concurrent update can come back empty although jobs are due.
        let since = filter.once_started.unwrap_or(i64::MIN);
        if look_first && !self.is_postgres() && !self.any_due(&select, since).await? {
            // Nothing to claim: found by a read, without waiting for the write turn (idle
            // runners look often).
            return Ok(None);
        }
        Ok(self
            .claim_where(&format!("id = ({select})"), None, since, owner)
            .await?
            .into_iter()
            .next())
    }

    /// The processes other than `me` holding running jobs, each with its last heartbeat (0 when
    /// it has no `workers` row). `run --once` waits for those that stopped beating: their
    /// leases run out and their steps are this run's to finish.
    pub async fn job_holders(&self, me: &str) -> Result<Vec<(String, i64)>, StoreError> {
        sqlx::query_as(
            "SELECT DISTINCT j.owner, COALESCE(w.heartbeat_at, 0) FROM jobs j \
             LEFT JOIN workers w ON w.id = j.owner \
             WHERE j.state = 'running' AND j.owner IS NOT NULL AND j.owner <> $1",
        )
        .bind(me)
        .fetch_all(self.pool())
        .await
        .what("list the holders of running jobs")
    }

    /// SQLite: does `select` (a job id or NULL; it uses `$2` now and `$4` since, as [`DUE`]) find a job? A
    /// plain read, which never waits for a writer in WAL mode.
    async fn any_due(&self, select: &str, since: i64) -> Result<bool, StoreError> {
        // `$1` and `$3` (unused here, always NULL) keep the parameter numbers of `select` as the
        // claim binds them: SQLite counts parameters up to the highest number used.
        let probe = format!("SELECT $1 IS NULL AND $3 IS NULL AND ({select}) IS NOT NULL");
        let found: i64 = sqlx::query_scalar(&probe)
            .bind(None::<i64>)
            .bind(now_ms())
            .bind(None::<i64>)
            .bind(since)
            .fetch_one(self.pool())
            .await
            .what("look for due jobs")?;
        Ok(found != 0)
    }

    /// Claim up to `limit` due move jobs whose message is in `mailbox` (the moves of that
    /// mailbox's one watcher), under one lease token.
    pub async fn claim_moves(
        &self,
        mailbox: &str,
        limit: i64,
        owner: &str,
    ) -> Result<Vec<Job>, StoreError> {
        let select = format!(
            "SELECT j.id FROM jobs j JOIN messages m ON m.id = j.target WHERE j.kind = 'move' \
             AND m.mailbox = $6 AND {DUE_J} ORDER BY j.id LIMIT $7 {skip}",
            skip = self.skip_locked(),
        );
        self.claim_where(
            &format!("id IN ({select})"),
            Some((mailbox, limit)),
            i64::MIN,
            owner,
        )
        .await
    }

    /// Claim every due letter job (a clerk printing the day's letters) under one lease token.
    pub async fn claim_letters(&self, owner: &str) -> Result<Vec<Job>, StoreError> {
        let select = format!(
            "SELECT id FROM jobs WHERE kind = 'letter' AND {DUE} ORDER BY id {skip}",
            skip = self.skip_locked(),
        );
        self.claim_where(&format!("id IN ({select})"), None, i64::MIN, owner)
            .await
    }

    /// Claim the jobs `which` picks under one fresh token (it may use `$6` text and `$7`
    /// number from `extra`; `$4` is `once_started`, see [`ClaimFilter`]).
    async fn claim_where(
        &self,
        which: &str,
        extra: Option<(&str, i64)>,
        once_started: i64,
        owner: &str,
    ) -> Result<Vec<Job>, StoreError> {
        let now = now_ms();
        let token = new_token();
        let sql = format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = $1, owner = $3, \
             lease_token = $5, again = 0, updated_at = $2 WHERE {which} AND {DUE} \
             RETURNING id, kind, target, attempts, retries"
        );
        let mut q = sqlx::query_as::<_, ClaimedRow>(&sql)
            .bind(now + self.lease_ms())
            .bind(now)
            .bind(owner)
            .bind(once_started)
            .bind(&token);
        if let Some((text, number)) = extra {
            q = q.bind(text.to_string()).bind(number);
        }
        let turn = self.write_turn().await?;
        let rows = q.fetch_all(self.pool()).await.what("claim jobs")?;
        drop(turn);
        let mut jobs = rows
            .into_iter()
            .map(|r| r.into_job(&token))
            .collect::<Result<Vec<_>, _>>()?;
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    /// Renew the leases with these tokens; returns the tokens still held (the others were taken
    /// over while this process was paused or cut off).
    pub async fn renew_leases(&self, tokens: &[String]) -> Result<Vec<String>, StoreError> {
        if tokens.is_empty() {
            return Ok(Vec::new());
        }
        let mut held = Vec::with_capacity(tokens.len());
        for chunk in tokens.chunks(200) {
            let placeholders = (0..chunk.len())
                .map(|i| format!("${}", i + 2))
                .collect::<Vec<_>>()
                .join(",");
            let sql = format!(
                "UPDATE jobs SET lease_until = $1 WHERE state = 'running' \
                 AND lease_token IN ({placeholders}) RETURNING lease_token"
            );
            let mut q = sqlx::query_scalar::<_, String>(&sql).bind(now_ms() + self.lease_ms());
            for t in chunk {
                q = q.bind(t);
            }
            let turn = self.write_turn().await?;
            held.extend(q.fetch_all(self.pool()).await.what("renew leases")?);
            drop(turn);
        }
        held.sort();
        held.dedup();
        Ok(held)
    }

    /// Is `job`'s lease surely still ours without asking: claimed by this process less than a
    /// third of a lease ago, so at least two thirds of it are left, as good a margin as a
    /// renewal gives (a pause after either can outlast it all the same).
    pub fn lease_fresh(&self, job: &Job) -> bool {
        let age = now_ms() - job.claimed_at_ms;
        (0..self.lease_ms() / 3).contains(&age)
    }

    /// Is the lease still ours? Renews it when it is. Called before a side effect outside the
    /// database (SMTP DATA, IMAP MOVE) that a lost lease must not repeat.
    pub async fn confirm_lease(&self, lease: &Lease) -> Result<bool, StoreError> {
        Ok(!self
            .renew_leases(std::slice::from_ref(&lease.token))
            .await?
            .is_empty())
    }

    /// Begin the transaction that commits a step's effects. [`StepTx::commit`] marks the job
    /// done only while the lease still holds, atomically with the effects, and rolls all back
    /// otherwise. (The lease is not looked at first: that was one more statement per step for a
    /// case the commit refuses anyway.)
    pub async fn begin_step(&self, lease: &Lease) -> Result<StepTx, StepError> {
        let tx = self.begin_write().await?;
        Ok(StepTx {
            tx,
            leases: vec![lease.clone()],
            lease_ms: self.lease_ms(),
            then: None,
        })
    }

    /// Like [`Store::begin_step`] for several jobs claimed together (moves, letters).
    pub async fn begin_steps(&self, leases: Vec<Lease>) -> Result<StepTx, StoreError> {
        let tx = self.begin_write().await?;
        Ok(StepTx {
            tx,
            leases,
            lease_ms: self.lease_ms(),
            then: None,
        })
    }

    /// Record a failure of a job whose lease we hold: retry with backoff, or park after too
    /// many attempts.
    pub async fn fail_job(
        &self,
        job: &Job,
        error: &str,
        failure: Failure,
        max_attempts: u32,
    ) -> Result<FailOutcome, StoreError> {
        let now = now_ms();
        let (state, attempts_delta, retries, delay) = match failure {
            // Outages don't count as attempts: wait 30 s, 1 min, 2 min ... up to 30 min.
            Failure::Outage => {
                let delay = (30_000i64 << job.retries.min(6)).min(30 * 60_000);
                ("pending", -1, job.retries + 1, delay)
            }
            Failure::Conflict => ("pending", -1, job.retries, 200),
            Failure::Error if job.attempts >= max_attempts as i64 => ("parked", 0, job.retries, 0),
            Failure::Error => ("pending", 0, job.retries, 5_000 * job.attempts),
        };
        let done = sqlx::query(
            "UPDATE jobs SET state = $1, attempts = attempts + $2, retries = $3, run_after = $4, \
             lease_until = NULL, lease_token = NULL, owner = NULL, again = 0, last_error = $5, \
             updated_at = $6 WHERE id = $7 AND lease_token = $8",
        )
        .bind(state)
        .bind(attempts_delta)
        .bind(retries)
        .bind(now + delay)
        .bind(error)
        .bind(now)
        .bind(job.id)
        .bind(&job.lease.token)
        .execute(self.pool())
        .await
        .what("record job failure")?;
        Ok(if done.rows_affected() == 0 {
            FailOutcome::LeaseLost
        } else if state == "parked" {
            FailOutcome::Parked
        } else {
            FailOutcome::Retry
        })
    }

    /// Park a job without running it (claimed too often: it keeps killing the worker).
    pub async fn park_job(&self, job: &Job, error: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'parked', lease_until = NULL, lease_token = NULL, owner = NULL, \
             last_error = $1, updated_at = $2 WHERE id = $3 AND lease_token = $4",
        )
        .bind(error)
        .bind(now_ms())
        .bind(job.id)
        .bind(&job.lease.token)
        .execute(self.pool())
        .await
        .what("park job")?;
        Ok(done.rows_affected() == 1)
    }

    /// Give back the leases with these tokens at once (a clean shutdown), so other workers need
    /// not wait for them to expire.
    pub async fn release_leases(&self, tokens: &[String]) -> Result<(), StoreError> {
        for t in tokens {
            sqlx::query(
                "UPDATE jobs SET state = 'pending', lease_until = NULL, lease_token = NULL, owner = NULL, \
                 attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END WHERE lease_token = $1 \
                 AND state = 'running'",
            )
            .bind(t)
            .execute(self.pool())
            .await
            .what("release lease")?;
        }
        Ok(())
    }

    /// Jobs not yet done, by kind and state, for status output and tests.
    pub async fn job_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        sqlx::query_as(
            "SELECT kind, state, COUNT(*) AS n FROM jobs WHERE state <> 'done' \
             GROUP BY kind, state ORDER BY kind, state",
        )
        .fetch_all(self.pool())
        .await
        .what("count jobs")
    }
}

/// Why a step could not commit.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    LeaseLost(#[from] LeaseLost),
}

/// The open transaction of a step (or of several jobs claimed together). Derefs to a
/// connection for the repositories; [`StepTx::commit`] marks the jobs done only if their lease
/// tokens still hold, then commits — all or nothing.
pub struct StepTx {
    tx: Tx,
    leases: Vec<Lease>,
    lease_ms: i64,
    /// The step to claim for this runner at commit ([`StepTx::then_run`]).
    then: Option<Then>,
}

/// A step to claim at commit, for the runner of `slot`'s job.
struct Then {
    target: JobTarget,
    owner: String,
    slot: NextJob,
}

impl Deref for StepTx {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.tx
    }
}

impl DerefMut for StepTx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.tx
    }
}

impl StepTx {
    /// Mark the jobs done (or pending again, when asked to run once more while running) and
    /// commit; rolls back with [`LeaseLost`] if any lease was taken over.
    pub async fn commit(mut self) -> Result<(), StepError> {
        for lease in &self.leases {
            if !finish(&mut self.tx, lease).await? {
                // Dropping the transaction rolls it back.
                return Err(StepError::LeaseLost(LeaseLost { job: lease.job }));
            }
        }
        let next = match &self.then {
            Some(then) => take(&mut self.tx, then, self.lease_ms).await?,
            None => None,
        };
        self.tx.commit().await.what("commit step")?;
        if let (Some(then), Some(job)) = (&self.then, next) {
            then.slot.put(job);
        }
        Ok(())
    }

    /// At commit, also claim `target` (enqueued in this transaction, or before) for the runner
    /// of `job`, which runs it next ([`Job::next`]). Nothing is claimed if `target` is not
    /// pending and due (another runner holds it, it waits on a backoff, or it is done). The
    /// claim counts as an attempt like any other; if this process dies before running it, its
    /// lease runs out and any worker takes it, as after a crash mid-step.
    pub fn then_run(&mut self, job: &Job, target: JobTarget, owner: &str) {
        self.then = Some(Then {
            target,
            owner: owner.to_string(),
            slot: job.next.clone(),
        });
    }

    /// Commit the effects even if the leases were lost, and mark done those still held; true
    /// when all were. For effects that already happened outside (a mail the SMTP server
    /// accepted): recording them must not depend on the lease. A step asked for with
    /// [`StepTx::then_run`] is not claimed here (the lease that would hand it over may be gone).
    pub async fn commit_regardless(mut self) -> Result<bool, StoreError> {
        let mut all = true;
        for lease in &self.leases {
            all &= finish(&mut self.tx, lease).await?;
        }
        self.tx.commit().await.what("commit step")?;
        Ok(all)
    }
}

/// Claim `then.target` if it is pending and due, inside the committing transaction.
async fn take(conn: &mut Conn, then: &Then, lease_ms: i64) -> Result<Option<Job>, StoreError> {
    let now = now_ms();
    let token = new_token();
    let row = sqlx::query_as::<_, ClaimedRow>(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = $1, owner = $3, \
         lease_token = $4, again = 0, updated_at = $2 WHERE kind = $5 AND target = $6 \
         AND state = 'pending' AND run_after <= $2 RETURNING id, kind, target, attempts, retries",
    )
    .bind(now + lease_ms)
    .bind(now)
    .bind(&then.owner)
    .bind(&token)
    .bind(then.target.kind().as_str())
    .bind(then.target.row())
    .fetch_optional(conn)
    .await
    .what("claim the next step")?;
    row.map(|r| r.into_job(&token)).transpose()
}

/// Mark a job done (or pending again, when it was asked to run once more while running), only
/// while `lease` still holds it; false when it does not.
async fn finish(conn: &mut Conn, lease: &Lease) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE jobs SET state = CASE WHEN again = 1 THEN 'pending' ELSE 'done' END, \
         attempts = CASE WHEN again = 1 THEN 0 ELSE attempts END, run_after = $1, again = 0, \
         lease_until = NULL, lease_token = NULL, last_error = NULL, updated_at = $1 \
         WHERE id = $2 AND lease_token = $3 AND state = 'running'",
    )
    .bind(now_ms())
    .bind(lease.job)
    .bind(&lease.token)
    .execute(conn)
    .await
    .what("complete job")?;
    Ok(done.rows_affected() == 1)
}
