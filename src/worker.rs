//! The worker: sources, job runners and the mailer wired together, once or until shutdown.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::classify::Catalogue;
use crate::config::Config;
use crate::extract::ocr::OcrPool;
use crate::filing::{now_ms, JobKind, Store};
use crate::intake::imap::{ImapError, Mailbox};
use crate::intake::spool::SpoolDir;
use crate::notify::{Mailer, Templates};
use crate::pipeline::{self, error_chain, Context, DrainReport};

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] crate::filing::StoreError),
    #[error("rules: {0}")]
    Rules(#[from] crate::classify::RuleErrors),
    #[error(transparent)]
    Template(#[from] crate::notify::templates::TemplateError),
    #[error(transparent)]
    Smtp(#[from] crate::notify::SendError),
    #[error(transparent)]
    Imap(#[from] ImapError),
    #[error(transparent)]
    Job(#[from] pipeline::JobError),
    #[error("{0}")]
    Unreachable(String),
}

/// Open the database, load rules and templates, prepare the mailer.
pub async fn context(cfg: Config) -> Result<Context, WorkerError> {
    let store = Store::open(&cfg.database.url, cfg.database.max_connections).await?;
    let catalogue = Catalogue::load_dir(&cfg.rules.dir)?;
    let templates = Templates::load(&cfg.notify.templates_dir)?;
    let mailer = cfg.smtp.as_ref().map(Mailer::new).transpose()?;
    let ocr = OcrPool::new(
        cfg.ocr
            .pool_config()
            .map_err(|e| WorkerError::Unreachable(format!("OCR worker program: {e}")))?,
    );
    let ctx = Context::new(Arc::new(cfg), store, catalogue, templates, mailer, ocr);
    let released = ctx
        .store
        .release_dead_leases(&pipeline::host_name())
        .await?;
    if released > 0 {
        warn!(released, "resuming steps of a worker that stopped mid-way");
    }
    Ok(ctx)
}

/// What `run --once` did.
#[derive(Debug, Default)]
pub struct OnceReport {
    pub fetched: usize,
    pub moved: usize,
    pub jobs: DrainReport,
    /// Sources or servers that could not be reached (the run still did everything else).
    pub unreachable: Vec<String>,
}

/// Do all the work available now: fetch, process, send, move; then return.
pub async fn run_once(ctx: &Context) -> Result<OnceReport, WorkerError> {
    let started = now_ms();
    let mut report = OnceReport::default();
    let mailbox = ctx.cfg.imap.as_ref().map(Mailbox::new).transpose()?;
    if let Some(mb) = &mailbox {
        match fetch_all(ctx, mb).await {
            Ok(n) => report.fetched = n,
            Err(e) => report.unreachable.push(error_chain(&e)),
        }
    }
    match spool(ctx).scan_settled(ctx).await {
        Ok(scan) => {
            report.fetched += scan.stored;
            report.unreachable.extend(
                scan.errors
                    .iter()
                    .map(|e| format!("spool: {}", error_chain(e))),
            );
        }
        Err(e) => report.unreachable.push(error_chain(&e)),
    }
    report.jobs = pipeline::drain(ctx, Some(started)).await?;
    if let Some(mb) = &mailbox {
        if report.unreachable.is_empty() {
            match move_all(ctx, mb).await {
                Ok(n) => report.moved = n,
                Err(e) => report.unreachable.push(error_chain(&e)),
            }
        }
    }
    if report.jobs.transient > 0 {
        report.unreachable.push(format!(
            "{} step(s) wait for a service that could not be reached (see log)",
            report.jobs.transient
        ));
    }
    Ok(report)
}

async fn fetch_all(ctx: &Context, mb: &Mailbox) -> Result<usize, ImapError> {
    let mut session = mb.connect().await?;
    let n = mb.ingest(ctx, &mut session).await?;
    mb.logout(session).await;
    Ok(n)
}

async fn move_all(ctx: &Context, mb: &Mailbox) -> Result<usize, ImapError> {
    let mut session = mb.connect().await?;
    let n = mb.move_filed(ctx, &mut session).await?;
    mb.logout(session).await;
    Ok(n)
}

/// Run until `cancel`: the mailbox watcher and job runners; in-flight steps finish first.
pub async fn run_forever(ctx: Context, cancel: CancellationToken) -> Result<(), WorkerError> {
    let mut tasks = tokio::task::JoinSet::new();
    if let Some(imap) = &ctx.cfg.imap {
        let mb = Mailbox::new(imap)?;
        let (ctx, cancel) = (ctx.clone(), cancel.clone());
        tasks.spawn(async move { watch_mailbox(ctx, mb, cancel).await });
    }
    {
        let (ctx, cancel) = (ctx.clone(), cancel.clone());
        tasks.spawn(async move { watch_spool(ctx, cancel).await });
    }
    {
        let (ctx, cancel) = (ctx.clone(), cancel.clone());
        tasks.spawn(async move { watch_rules(ctx, cancel).await });
    }
    for n in 0..ctx.cfg.worker.concurrency {
        let (ctx, cancel) = (ctx.clone(), cancel.clone());
        tasks.spawn(async move { run_jobs(ctx, n, JobKind::WORKER, cancel).await });
    }
    for n in 0..pipeline::SEND_RUNNERS {
        let (ctx, cancel) = (ctx.clone(), cancel.clone());
        tasks.spawn(async move { run_jobs(ctx, 100 + n, &[JobKind::Send], cancel).await });
    }
    info!(workers = ctx.cfg.worker.concurrency, "loket is running");
    while tasks.join_next().await.is_some() {}
    info!("loket stopped");
    Ok(())
}

/// One job runner: take due jobs; sleep until woken or a few seconds pass (for backoffs).
async fn run_jobs(ctx: Context, n: usize, kinds: &'static [JobKind], cancel: CancellationToken) {
    let filter = crate::filing::jobs::ClaimFilter {
        kinds,
        once_started: None,
    };
    while !cancel.is_cancelled() {
        // Registered before looking for work, so a wake-up in between is not missed.
        let wake = ctx.wake.notified();
        tokio::pin!(wake);
        wake.as_mut().enable();
        match ctx.store.claim(filter, &ctx.owner).await {
            Ok(Some(job)) => {
                let is_move_source = job.kind == crate::filing::JobKind::Classify
                    || job.kind == crate::filing::JobKind::Intake;
                let mut report = DrainReport::default();
                if let Err(e) = pipeline::run_claimed(&ctx, job, &mut report).await {
                    error!(runner = n, error = %error_chain(&e), "could not record a step's outcome");
                }
                if is_move_source {
                    ctx.moves_waiting.notify_one();
                }
                continue;
            }
            Ok(None) => {}
            Err(e) => {
                error!(runner = n, error = %error_chain(&e), "cannot take jobs from the database")
            }
        }
        tokio::select! {
            _ = wake => {}
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = cancel.cancelled() => {}
        }
    }
}

/// Load the rules again; a broken file keeps the old rules and logs every error.
pub fn reload_rules(ctx: &Context) {
    match Catalogue::load_dir(&ctx.cfg.rules.dir) {
        Ok(c) => {
            ctx.set_catalogue(c);
            info!("rules reloaded");
        }
        Err(e) => warn!(errors = %e, "rules not reloaded: keeping the previous rules"),
    }
}

/// Names, sizes and modification times of the rule files: changes when an office edits them.
fn rules_fingerprint(
    dir: &std::path::Path,
) -> Vec<(std::path::PathBuf, u64, Option<std::time::SystemTime>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(p),
                Ok(m) if p.extension().is_some_and(|x| x == "toml") => {
                    out.push((p, m.len(), m.modified().ok()))
                }
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// Reload the rules when a rule file changes (checked every three seconds).
async fn watch_rules(ctx: Context, cancel: CancellationToken) {
    let mut last = rules_fingerprint(&ctx.cfg.rules.dir);
    while !cancel.is_cancelled() {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3)) => {}
            _ = cancel.cancelled() => return,
        }
        let now = rules_fingerprint(&ctx.cfg.rules.dir);
        if now != last {
            last = now;
            reload_rules(&ctx);
        }
    }
}

fn spool(ctx: &Context) -> SpoolDir {
    SpoolDir::new(
        &ctx.cfg.spool.dir,
        ctx.cfg.spool.settle_seconds,
        ctx.cfg.spool.split_blank,
    )
}

/// Look at the spool folder every two seconds (files are taken once settled; see
/// `intake::spool`). Problems with single files were logged by the scan.
async fn watch_spool(ctx: Context, cancel: CancellationToken) {
    let mut spool = spool(&ctx);
    while !cancel.is_cancelled() {
        if let Err(e) = spool.scan(&ctx).await {
            warn!(error = %error_chain(&e), "spool folder");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = cancel.cancelled() => {}
        }
    }
}

/// Keep a session to the mailbox: fetch, move, wait; reconnect with backoff when it drops.
async fn watch_mailbox(ctx: Context, mb: Mailbox, cancel: CancellationToken) {
    let mut backoff = Duration::from_secs(1);
    while !cancel.is_cancelled() {
        match watch_session(&ctx, &mb, &cancel, &mut backoff).await {
            Ok(()) => return,
            Err(e) => {
                warn!(error = %error_chain(&e), retry_in = ?backoff, "mailbox connection lost");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = cancel.cancelled() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(300));
            }
        }
    }
}

async fn watch_session(
    ctx: &Context,
    mb: &Mailbox,
    cancel: &CancellationToken,
    backoff: &mut Duration,
) -> Result<(), ImapError> {
    let mut session = mb.connect().await?;
    info!(server = mb.server(), "watching the mailbox");
    *backoff = Duration::from_secs(1);
    loop {
        mb.ingest(ctx, &mut session).await?;
        mb.move_filed(ctx, &mut session).await?;
        if cancel.is_cancelled() {
            mb.logout(session).await;
            return Ok(());
        }
        session = mb.wait(ctx, session, cancel).await?;
    }
}
