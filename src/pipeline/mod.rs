//! The pipeline: durable jobs taken from the database and run, one step each.
//!
//! ```text
//! mailbox / spool ──► messages (blob + row) ──intake──► case + documents
//!     ──extract (per document)──► text ──classify──► sorted case + outbox ──send──► SMTP
//!                                             └──move──► IMAP processed folder
//! ```
//! Every arrow is a job row enqueued in the transaction that commits the step before it.

mod classify;
pub mod error;
mod extract;
mod intake;
mod ocr;
mod parked;
mod send;

use std::sync::{Arc, RwLock};

use tracing::{error, info, warn, Instrument};

use crate::classify::Catalogue;
use crate::config::Config;
use crate::extract::ocr::OcrPool;
use crate::filing::jobs::{owner_id, ClaimFilter, FailOutcome};
use crate::filing::{BlobStore, Job, JobKind, Store};
use crate::notify::{Mailer, Templates};
pub use error::JobError;
pub use ocr::fill as ocr_fill;

/// Everything a step needs.
#[derive(Debug, Clone)]
pub struct Context {
    pub cfg: Arc<Config>,
    pub store: Store,
    pub blobs: BlobStore,
    pub rules: Arc<RwLock<Arc<Catalogue>>>,
    pub templates: Arc<Templates>,
    pub mailer: Option<Mailer>,
    /// OCR worker processes, shared by all steps.
    pub ocr: Arc<OcrPool>,
    /// This process's lease owner id.
    pub owner: String,
    /// Woken when new jobs are enqueued.
    pub wake: Arc<tokio::sync::Notify>,
    /// Move jobs are waiting for the IMAP session.
    pub moves_waiting: Arc<tokio::sync::Notify>,
}

/// The host name, for lease owners.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

impl Context {
    pub fn new(
        cfg: Arc<Config>,
        store: Store,
        catalogue: Catalogue,
        templates: Templates,
        mailer: Option<Mailer>,
        ocr: OcrPool,
    ) -> Self {
        Self {
            ocr: Arc::new(ocr),
            blobs: BlobStore::new(&cfg.storage.dir),
            cfg,
            store,
            rules: Arc::new(RwLock::new(Arc::new(catalogue))),
            templates: Arc::new(templates),
            mailer,
            owner: owner_id(&host_name()),
            wake: Arc::new(tokio::sync::Notify::new()),
            moves_waiting: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// The current rules (replaced as a whole on reload).
    pub fn catalogue(&self) -> Arc<Catalogue> {
        match self.rules.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replace the rules (SIGHUP or a changed file).
    pub fn set_catalogue(&self, catalogue: Catalogue) {
        match self.rules.write() {
            Ok(mut guard) => *guard = Arc::new(catalogue),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(catalogue),
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
}

/// SMTP sessions used at once. Sending is network-bound (each mail waits on the server, and on
/// loopback on TCP's delayed ACK, since lettre writes the final dot separately), so mail goes out
/// on more connections than there are cores.
pub const SEND_RUNNERS: usize = 8;

impl DrainReport {
    fn merge(&mut self, other: DrainReport) {
        self.done += other.done;
        self.retrying += other.retrying;
        self.parked += other.parked;
        self.transient += other.transient;
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
    while let Some(job) = ctx.store.claim(filter, &ctx.owner).await? {
        run_claimed(ctx, job, &mut report).await?;
    }
    Ok(report)
}

/// A mail runner of [`drain`]: sends while the step runners may still write mail.
async fn drain_sends(
    ctx: &Context,
    once_started: Option<i64>,
    busy: &std::sync::atomic::AtomicUsize,
) -> Result<DrainReport, JobError> {
    let filter = ClaimFilter {
        kinds: &[JobKind::Send],
        once_started,
    };
    let mut report = DrainReport::default();
    loop {
        let r = drain_one(ctx, filter).await?;
        report.merge(r);
        if busy.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            return Ok(report);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Run one claimed job and record its outcome.
pub async fn run_claimed(
    ctx: &Context,
    job: Job,
    report: &mut DrainReport,
) -> Result<(), JobError> {
    let max = ctx.cfg.limits.max_attempts;
    if job.attempts > max as i64 {
        // Claimed more often than allowed without finishing: it crashed the worker each time.
        let why = format!(
            "gave up after {} attempts that did not finish (worker crashed?)",
            job.attempts - 1
        );
        ctx.store.park_job(&job, &why).await?;
        on_parked(ctx, &job, &why).await;
        report.parked += 1;
        return Ok(());
    }
    let span = tracing::info_span!(
        "job",
        id = job.id,
        kind = job.kind.as_str(),
        target = job.target
    );
    let result = run_step(ctx, &job).instrument(span.clone()).await;
    let _enter = span.enter();
    match result {
        Ok(()) => report.done += 1,
        Err(err) => {
            let transient = err.is_transient();
            let text = error_chain(&err);
            match ctx.store.fail_job(&job, &text, transient, max).await? {
                FailOutcome::Retry if transient => {
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
                    on_parked(ctx, &job, &text).await;
                }
            }
        }
    }
    Ok(())
}

/// Run the step in its own task so a panic in a parser is an error of this job, not the worker.
async fn run_step(ctx: &Context, job: &Job) -> Result<(), JobError> {
    let (ctx2, job2) = (ctx.clone(), job.clone());
    let handle = tokio::spawn(
        async move {
            match job2.kind {
                JobKind::Intake => intake::run(&ctx2, &job2).await,
                JobKind::Extract => extract::run(&ctx2, &job2).await,
                JobKind::Classify => classify::run(&ctx2, &job2).await,
                JobKind::Send => send::run(&ctx2, &job2).await,
                JobKind::Move => Err(JobError::Other("move jobs run in the IMAP session".into())),
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
        info!(
            kind = job.kind.as_str(),
            target = job.target,
            "parked step recorded"
        );
    }
}

/// A test hook: `LOKET_TEST_CRASH_AFTER=<step>` aborts the process right after that step
/// committed, to prove that a crash at that point loses and repeats nothing. Steps: `intake`,
/// `classify`, `send`, and `ocr_page_<n>` (page n, from 1, of a document is checkpointed).
///
/// Its sibling `LOKET_TEST_CRASH_ON_WIDTH=<pixels>` is read by the OCR worker processes (which
/// inherit loket's environment): a worker asked to read a page image exactly that wide aborts,
/// like a page that crashes tesseract every time.
pub(crate) fn crash_point(step: &str) {
    if std::env::var("LOKET_TEST_CRASH_AFTER").is_ok_and(|v| v == step) {
        eprintln!("LOKET_TEST_CRASH_AFTER={step}: aborting");
        std::process::abort();
    }
}
