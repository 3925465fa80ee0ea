//! The pipeline: durable jobs taken from the database and run, one step each.
//!
//! ```text
//! mailbox / spool ──► messages (blob + row) ──intake──► case + documents
//!     ──extract (per document)──► text ──classify──► sorted case + outbox ──send──► SMTP
//!                                             └──move──► IMAP processed folder
//! ```
//! Every arrow is a job row enqueued in the transaction that commits the step before it. A
//! claimed job's lease is renewed by this process's heartbeat ([`heartbeat`]) while the step
//! runs; a step commits only while it still holds its lease.

mod answers;
pub mod classify;
mod conversation;
pub mod deadline;
pub mod error;
mod extract;
mod intake;
pub mod notices;
mod ocr;
mod parked;
pub mod ratelimit;
mod send;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn, Instrument};

use crate::classify::Catalogue;
use crate::config::Config;
use crate::extract::ocr::OcrPool;
use crate::filing::jobs::{ClaimFilter, FailOutcome, Failure};
use crate::filing::workers::WorkerInfo;
use crate::filing::{BlobStore, Job, JobKind, Store};
use crate::intake::Intake;
use crate::notify::{Mailer, Templates};
use crate::telemetry::metrics;
pub use error::JobError;
pub use ocr::fill as ocr_fill;

/// The lease tokens this process holds, renewed by its heartbeat.
#[derive(Debug, Default)]
pub struct HeldLeases(Mutex<HashSet<String>>);

impl HeldLeases {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        match self.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub fn hold(&self, token: &str) {
        self.lock().insert(token.to_string());
    }

    pub fn release(&self, token: &str) {
        self.lock().remove(token);
    }

    pub fn tokens(&self) -> Vec<String> {
        self.lock().iter().cloned().collect()
    }
}

/// The mailbox watches this process holds (mailbox key -> lease token), renewed by its
/// heartbeat.
#[derive(Debug, Default)]
pub struct HeldWatches(Mutex<std::collections::HashMap<String, String>>);

impl HeldWatches {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, String>> {
        match self.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub fn hold(&self, mailbox: &str, token: &str) {
        self.lock().insert(mailbox.to_string(), token.to_string());
    }

    pub fn release(&self, mailbox: &str) {
        self.lock().remove(mailbox);
    }

    fn all(&self) -> Vec<(String, String)> {
        self.lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// Everything a step needs.
#[derive(Debug, Clone)]
pub struct Context {
    pub cfg: Arc<Config>,
    pub store: Store,
    pub blobs: BlobStore,
    pub rules: Arc<RwLock<Arc<Catalogue>>>,
    /// The holiday calendar of the rules folder, read with the rules (not once per case).
    pub calendar: Arc<RwLock<Arc<crate::domain::calendar::Calendar>>>,
    pub templates: Arc<Templates>,
    pub mailer: Option<Mailer>,
    /// OCR worker processes, shared by all steps.
    pub ocr: Arc<OcrPool>,
    /// This process, as registered in `workers`.
    pub worker: Arc<WorkerInfo>,
    /// Leases held by this process's runners.
    pub leases: Arc<HeldLeases>,
    /// Mailbox watches held by this process.
    pub watches: Arc<HeldWatches>,
    /// Woken when new jobs are enqueued.
    pub wake: Arc<tokio::sync::Notify>,
    /// Move jobs are waiting for the IMAP session.
    pub moves_waiting: Arc<tokio::sync::Notify>,
    /// Mail was written: one mail runner of `run --once` is woken per sorting that wrote some
    /// (waking all eight on every step had seven of them race for one job and lose).
    pub mail_ready: Arc<tokio::sync::Notify>,
    /// Stops the heartbeat ([`Context::close`]).
    heartbeat_stop: CancellationToken,
}

impl Context {
    pub fn new(
        cfg: Arc<Config>,
        store: Store,
        catalogue: Catalogue,
        templates: Templates,
        mailer: Option<Mailer>,
        ocr: OcrPool,
        worker: WorkerInfo,
    ) -> Self {
        Self {
            ocr: Arc::new(ocr),
            blobs: BlobStore::new(&cfg.storage.dir),
            store,
            rules: Arc::new(RwLock::new(Arc::new(catalogue))),
            calendar: Arc::new(RwLock::new(Arc::new(deadline::calendar(&cfg.rules.dir)))),
            templates: Arc::new(templates),
            mailer,
            worker: Arc::new(worker),
            leases: Arc::new(HeldLeases::default()),
            watches: Arc::new(HeldWatches::default()),
            wake: Arc::new(tokio::sync::Notify::new()),
            moves_waiting: Arc::new(tokio::sync::Notify::new()),
            mail_ready: Arc::new(tokio::sync::Notify::new()),
            heartbeat_stop: CancellationToken::new(),
            cfg,
        }
    }

    /// Keep blobs in `blobs` (an object store, say) instead of the folder `[storage] dir`.
    pub fn with_blobs(mut self, blobs: BlobStore) -> Self {
        self.blobs = blobs;
        self
    }

    /// The current rules (replaced as a whole on reload).
    pub fn catalogue(&self) -> Arc<Catalogue> {
        match self.rules.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The current holiday calendar (read again with the rules).
    pub fn calendar(&self) -> Arc<crate::domain::calendar::Calendar> {
        match self.calendar.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replace the rules (SIGHUP or a changed file), and read the holiday calendar again.
    pub fn set_catalogue(&self, catalogue: Catalogue) {
        match self.rules.write() {
            Ok(mut guard) => *guard = Arc::new(catalogue),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(catalogue),
        }
        let calendar = Arc::new(deadline::calendar(&self.cfg.rules.dir));
        match self.calendar.write() {
            Ok(mut guard) => *guard = calendar,
            Err(poisoned) => *poisoned.into_inner() = calendar,
        }
    }

    /// What the sources (mailbox, spool) need to store what they take in.
    pub fn intake(&self) -> Intake {
        Intake {
            store: self.store.clone(),
            blobs: self.blobs.clone(),
            wake: self.wake.clone(),
            worker_id: self.worker.id.clone(),
            max_message_bytes: self.cfg.limits.max_message_bytes,
            max_file_bytes: self.cfg.spool.max_file_bytes,
        }
    }

    /// Register this process and start its heartbeat.
    pub async fn start(&self) -> Result<(), JobError> {
        self.store.register_worker(&self.worker).await?;
        let ctx = self.clone();
        tokio::spawn(async move { heartbeat(ctx).await });
        Ok(())
    }

    /// Stop the heartbeat, give back leases still held, mark this worker stopped, close the
    /// pool. The process may still exit without it: leases then expire.
    pub async fn close(&self) {
        self.heartbeat_stop.cancel();
        let tokens = self.leases.tokens();
        if let Err(e) = self.store.release_leases(&tokens).await {
            warn!(error = %error_chain(&e), "could not give back leases; they expire by themselves");
        }
        if let Err(e) = self.store.worker_stopped(&self.worker.id).await {
            warn!(error = %error_chain(&e), "could not record this worker as stopped");
        }
        self.store.close().await;
    }
}

/// How often a live process heartbeats: a third of the lease, at most every five seconds (so
/// `run --once` can tell a live mailbox watcher from a dead one quickly).
pub fn heartbeat_period(store: &Store) -> Duration {
    Duration::from_millis((store.lease_ms() / 3).clamp(200, 5_000) as u64)
}

/// Renew this process's leases and its `workers` row every [`heartbeat_period`]. A lease found
/// taken over (this process was paused past it) is dropped: its step will fail to commit.
async fn heartbeat(ctx: Context) {
    let period = heartbeat_period(&ctx.store);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = ctx.heartbeat_stop.cancelled() => return,
        }
        let tokens = ctx.leases.tokens();
        match ctx.store.renew_leases(&tokens).await {
            Ok(held) => {
                // A token missing here was taken over, or its step finished between the look
                // at the tokens and the renewal (most often): not worth a warning. A step
                // that really lost its lease says so when its commit is refused.
                for lost in tokens.iter().filter(|t| !held.contains(t)) {
                    tracing::debug!(token = %lost, "lease no longer held (finished or taken over)");
                    ctx.leases.release(lost);
                }
            }
            Err(e) => warn!(error = %error_chain(&e), "heartbeat: cannot renew leases"),
        }
        for (mailbox, token) in ctx.watches.all() {
            match ctx.store.renew_watch(&mailbox, &token).await {
                Ok(true) => {}
                Ok(false) => {
                    warn!(%mailbox, "the mailbox watch was taken over by another worker");
                    ctx.watches.release(&mailbox);
                }
                Err(e) => {
                    warn!(error = %error_chain(&e), "heartbeat: cannot renew the mailbox watch")
                }
            }
        }
        if let Err(e) = ctx.store.worker_heartbeat(&ctx.worker.id).await {
            warn!(error = %error_chain(&e), "heartbeat: cannot record this worker");
        }
    }
}

/// What one pass over the queue did.
#[derive(Debug, Default, Clone, Copy)]
pub struct DrainReport {
    pub done: usize,
    pub retrying: usize,
    pub parked: usize,
    /// Transient failures (SMTP or database unreachable) met in this pass.
    pub transient: usize,
    /// Steps whose lease was taken over before they could commit.
    pub lost: usize,
}

/// SMTP sessions used at once. Sending is network-bound (each mail waits on the server's
/// answers), so mail goes out on more connections than there are cores; each is kept across
/// mails (see `notify::mailer`).
pub const SEND_RUNNERS: usize = 8;

impl DrainReport {
    pub fn merge(&mut self, other: DrainReport) {
        self.done += other.done;
        self.retrying += other.retrying;
        self.parked += other.parked;
        self.transient += other.transient;
        self.lost += other.lost;
    }
}

/// Run worker jobs until none is due: `worker.concurrency` runners for every step plus
/// [`SEND_RUNNERS`] for mail. With `once_started`, jobs waiting on a backoff from an earlier run
/// are tried once too (`run --once`).
pub async fn drain(ctx: &Context, once_started: Option<i64>) -> Result<DrainReport, JobError> {
    let busy = Arc::new(std::sync::atomic::AtomicUsize::new(
        ctx.cfg.worker.concurrency.max(1),
    ));
    let mut runners = tokio::task::JoinSet::new();
    for _ in 0..ctx.cfg.worker.concurrency.max(1) {
        let (ctx, busy) = (ctx.clone(), busy.clone());
        runners.spawn(async move {
            let r = drain_one(
                &ctx,
                ClaimFilter {
                    kinds: JobKind::WORKER,
                    once_started,
                },
            )
            .await;
            busy.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            // The mail runners wait for a wake-up to see that the steps are done.
            ctx.mail_ready.notify_waiters();
            r
        });
    }
    for _ in 0..SEND_RUNNERS {
        let (ctx, busy) = (ctx.clone(), busy.clone());
        runners.spawn(async move { drain_sends(&ctx, once_started, &busy).await });
    }
    let mut total = DrainReport::default();
    while let Some(joined) = runners.join_next().await {
        let r = joined.map_err(|e| JobError::Panic(e.to_string()))??;
        total.merge(r);
    }
    Ok(total)
}

/// One runner of [`drain`]: claims until nothing matching `filter` is due. The others finish
/// what is left (a job's next step is enqueued before its own runner looks again).
async fn drain_one(ctx: &Context, filter: ClaimFilter<'_>) -> Result<DrainReport, JobError> {
    let mut report = DrainReport::default();
    let mut found = false;
    loop {
        // After a claim that found work, the next one goes straight to the write: the read
        // that keeps idle runners off the write turn would most likely say "yes" again.
        let job = if found {
            ctx.store.claim_next(filter, &ctx.worker.id).await?
        } else {
            ctx.store.claim(filter, &ctx.worker.id).await?
        };
        let Some(mut job) = job else {
            return Ok(report);
        };
        found = true;
        // A step's commit may claim the message's next step for this runner: it goes on with
        // that one, without a claim.
        while let Some(next) = run_claimed(ctx, job, &mut report).await? {
            job = next;
        }
    }
}

/// A mail runner of [`drain`]: sends while the step runners may still write mail.
async fn drain_sends(
    ctx: &Context,
    once_started: Option<i64>,
    busy: &std::sync::atomic::AtomicUsize,
) -> Result<DrainReport, JobError> {
    let filter = ClaimFilter {
        kinds: JobKind::MAIL,
        once_started,
    };
    let mut report = DrainReport::default();
    loop {
        // Registered before looking, so a mail written in between wakes this runner. A sorting
        // that wrote mail wakes one runner (a permit is kept when none waits); the bound covers
        // mail written elsewhere (status answers, notices, other processes).
        let wake = ctx.mail_ready.notified();
        tokio::pin!(wake);
        wake.as_mut().enable();
        let r = drain_one(ctx, filter).await?;
        report.merge(r);
        if busy.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            return Ok(report);
        }
        // Polling every 20 ms instead made eight idle runners a quarter of all statements.
        let _ = tokio::time::timeout(Duration::from_millis(100), wake).await;
    }
}

/// Run one claimed job and record its outcome; its lease is renewed by the heartbeat meanwhile.
/// Returns the next step its commit claimed for this runner ([`Job::next`]), which the caller
/// runs next. When recording this one's outcome failed, that step is given back at once
/// instead (the caller stops on the error).
pub async fn run_claimed(
    ctx: &Context,
    job: Job,
    report: &mut DrainReport,
) -> Result<Option<Job>, JobError> {
    ctx.leases.hold(&job.lease.token);
    let result = run_and_record(ctx, &job, report).await;
    ctx.leases.release(&job.lease.token);
    let next = job.next.take();
    if let Some(next) = &next {
        ctx.leases.hold(&next.lease.token);
    }
    match result {
        Ok(()) => Ok(next),
        Err(e) => {
            if let Some(next) = next {
                // Not run by this runner after all: given back at once, not left to expire.
                if let Err(give) = ctx
                    .store
                    .release_leases(std::slice::from_ref(&next.lease.token))
                    .await
                {
                    warn!(error = %error_chain(&give), "could not give back a chained step; its lease expires");
                }
                ctx.leases.release(&next.lease.token);
            }
            Err(e)
        }
    }
}

async fn run_and_record(
    ctx: &Context,
    job: &Job,
    report: &mut DrainReport,
) -> Result<(), JobError> {
    let max = ctx.cfg.limits.max_attempts;
    if job.attempts > max as i64 {
        // Claimed more often than allowed without finishing: it crashed the worker each time.
        let why = format!(
            "gave up after {} attempts that did not finish (worker crashed?)",
            job.attempts - 1
        );
        if ctx.store.park_job(job, &why).await? {
            on_parked(ctx, job, &why).await;
            report.parked += 1;
            metrics::step_finished(job.kind(), "parked", None);
        }
        return Ok(());
    }
    let span = tracing::info_span!("job", id = %job.id, target = %job.target);
    let started = std::time::Instant::now();
    let result = run_step(ctx, job).instrument(span.clone()).await;
    let took = Some(started.elapsed());
    let _enter = span.enter();
    let err = match result {
        Ok(()) => {
            report.done += 1;
            metrics::step_finished(job.kind(), "done", took);
            return Ok(());
        }
        Err(err) => err,
    };
    if let JobError::LeaseLost(lost) = &err {
        metrics::step_finished(job.kind(), "lost", took);
        report.lost += 1;
        warn!(error = %lost, "late commit refused: another worker finished this step");
        return Ok(());
    }
    let failure = err.failure();
    let text = error_chain(&err);
    let outcome = ctx.store.fail_job(job, &text, failure, max).await?;
    metrics::step_finished(job.kind(), metrics::failed_outcome(outcome, failure), took);
    match outcome {
        FailOutcome::Retry if failure == Failure::Outage => {
            report.transient += 1;
            report.retrying += 1;
            warn!(error = %text, "step failed, will retry when the service is back");
        }
        FailOutcome::Retry => {
            report.retrying += 1;
            warn!(error = %text, attempt = job.attempts, "step failed, will retry");
        }
        FailOutcome::Parked => {
            report.parked += 1;
            error!(error = %text, "step failed {} times, parked for an officer", job.attempts);
            on_parked(ctx, job, &text).await;
        }
        FailOutcome::LeaseLost => {
            report.lost += 1;
            warn!(error = %text, "step failed after its lease was taken over; not recorded");
        }
    }
    Ok(())
}

/// Run the step in its own task so a panic in a parser is an error of this job, not the worker.
async fn run_step(ctx: &Context, job: &Job) -> Result<(), JobError> {
    use crate::filing::JobTarget;
    let (ctx2, job2) = (ctx.clone(), job.clone());
    let handle = tokio::spawn(
        async move {
            match job2.target {
                JobTarget::Intake(id) => intake::run(&ctx2, &job2, id).await,
                JobTarget::Extract(id) => extract::run(&ctx2, &job2, id).await,
                JobTarget::Classify(id) => classify::run(&ctx2, &job2, id).await,
                JobTarget::Send(id) => send::run(&ctx2, &job2, id).await,
                JobTarget::Notice(id) => notices::run(&ctx2, &job2, id).await,
                JobTarget::Digest(id) => send::run_digest(&ctx2, &job2, id).await,
                JobTarget::Move(_) | JobTarget::Letter(_) => Err(JobError::Other(
                    "move and letter jobs are run by the mailbox watcher and `loket letters`"
                        .into(),
                )),
            }
        }
        .in_current_span(),
    );
    match handle.await {
        Ok(result) => result,
        Err(join) => Err(JobError::Panic(panic_text(join))),
    }
}

fn panic_text(join: tokio::task::JoinError) -> String {
    if !join.is_panic() {
        return "cancelled".into();
    }
    let payload = join.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// An error with its causes, on one line.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// A parked step is shown to officers on its case.
async fn on_parked(ctx: &Context, job: &Job, why: &str) {
    if let Err(e) = parked::record_parked(ctx, job, why).await {
        error!(error = %error_chain(&e), "could not record the parked step on its case");
    } else {
        info!(target = %job.target, "parked step recorded");
    }
}

/// A test hook: `LOKET_TEST_CRASH_AFTER=<step>` aborts the process right after that step
/// committed, to prove that a crash at that point loses and repeats nothing. Steps: `fetch`,
/// `intake`, `classify`, `smtp` (the server accepted a mail, not yet recorded), `send`, and
/// `ocr_page_<n>` (page n, from 1, of a document is checkpointed).
///
/// Its sibling `LOKET_TEST_CRASH_ON_WIDTH=<pixels>` is read by the OCR worker processes (which
/// inherit loket's environment): a worker asked to read a page image exactly that wide aborts,
/// like a page that crashes tesseract every time.
pub fn crash_point(step: &str) {
    if std::env::var("LOKET_TEST_CRASH_AFTER").is_ok_and(|v| v == step) {
        eprintln!("LOKET_TEST_CRASH_AFTER={step}: aborting");
        std::process::abort();
    }
}

/// A test hook: `LOKET_TEST_STALL_IN=<step>` makes that step wait this many seconds
/// (`LOKET_TEST_STALL_SECONDS`, default 5) after claiming, so tests can catch a worker holding a
/// job (to kill or pause it) at a moment of their choosing.
pub(crate) async fn stall_point(step: &str) {
    if std::env::var("LOKET_TEST_STALL_IN").is_ok_and(|v| v == step) {
        let secs: u64 = std::env::var("LOKET_TEST_STALL_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(5);
        info!(step, secs, "LOKET_TEST_STALL_IN: the step waits");
        tokio::time::sleep(Duration::from_secs(secs)).await;
    }
}
