//! The worker: sources, job runners and the mailer wired together, once or until shutdown.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::classify::Catalogue;
use crate::config::Config;
use crate::extract::ocr::OcrPool;
use crate::filing::workers::WorkerInfo;
use crate::filing::{now_ms, BlobStore, JobKind, Store};
use crate::intake::imap::{ImapError, Mailbox};
use crate::intake::spool::SpoolDir;
use crate::notify::{Mailer, Templates};
use crate::pipeline::{self, error_chain, Context, DrainReport};

mod share;
mod wakeups;

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
    Blob(#[from] crate::filing::blobs::BlobError),
    #[error(transparent)]
    Job(#[from] pipeline::JobError),
    #[error("{0}")]
    Unreachable(String),
}

/// Open the database, load rules and templates, prepare the mailer; register this process as
/// a worker (`command` names what it does) and start its heartbeat.
pub async fn context(cfg: Config, command: &str) -> Result<Context, WorkerError> {
    let store = Store::open_with(&cfg.database.url, cfg.store_options()).await?;
    let blobs = BlobStore::open(&cfg.storage)?;
    info!(storage = %blobs.describe(), "documents and raw messages are kept here");
    let catalogue = Catalogue::load_dir(&cfg.rules.dir)?;
    let templates = Templates::load(&cfg.notify.templates_dir)?;
    let mailer = cfg.smtp.as_ref().map(Mailer::new).transpose()?;
    let ocr = OcrPool::new(
        cfg.ocr
            .pool_config()
            .map_err(|e| WorkerError::Unreachable(format!("OCR worker program: {e}")))?,
    );
    let worker = WorkerInfo::this_process(command);
    let ctx = Context::new(
        Arc::new(cfg),
        store,
        catalogue,
        templates,
        mailer,
        ocr,
        worker,
    )
    .with_blobs(blobs);
    ctx.start().await?;
    Ok(ctx)
}

/// The keys of the mailboxes `run` watches (their metrics' `mailbox` label).
pub fn mailbox_keys(cfg: &Config) -> Vec<String> {
    cfg.all_mailboxes()
        .filter_map(|imap| Mailbox::new(imap).ok())
        .map(|mb| mb.state_key())
        .collect()
}

/// What `run --once` did.
#[derive(Debug, Default)]
pub struct OnceReport {
    pub fetched: usize,
    pub moved: usize,
    pub jobs: DrainReport,
    /// Sources or servers that could not be reached (the run still did everything else).
    pub unreachable: Vec<String>,
    /// Mailboxes skipped because a running daemon watches them.
    pub skipped: Vec<String>,
}

/// Do all the work available now: fetch, process, send, move; then return. A mailbox that a
/// running daemon watches is left to it.
pub async fn run_once(ctx: &Context) -> Result<OnceReport, WorkerError> {
    let started = now_ms();
    let mut report = OnceReport::default();
    let mut watched = Vec::new();
    for cfg in ctx.cfg.all_mailboxes() {
        let mb = Mailbox::new(cfg)?;
        if let Some(token) = take_watch(ctx, &mb, &mut report).await? {
            watched.push((mb, token));
        }
    }
    // Mailboxes whose fetch failed are not touched again in this run.
    let mut reachable = Vec::new();
    for (mb, _) in &watched {
        match fetch_all(ctx, mb).await {
            Ok(n) => {
                report.fetched += n;
                reachable.push(mb);
            }
            Err(e) => report.unreachable.push(error_chain(&e)),
        }
    }
    if !watched.is_empty() {
        pipeline::crash_point("fetch");
    }
    let fetch_problems = report.unreachable.len();
    match spool(ctx).scan_settled(&ctx.intake()).await {
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
    report.jobs.merge(finish_for_the_dead(ctx, started).await?);
    // Digests after the cases of this run are sorted, so they are in today's digest; held
    // acknowledgements whose hour has passed go out combined.
    let digests = pipeline::notices::make_due_digests(ctx).await?;
    let combined = pipeline::ratelimit::release_held(ctx).await?;
    if digests + combined > 0 {
        report
            .jobs
            .merge(pipeline::drain(ctx, Some(started)).await?);
    }
    if report.unreachable.len() == fetch_problems {
        for mb in reachable {
            match move_all(ctx, mb).await {
                Ok(n) => report.moved += n,
                Err(e) => report.unreachable.push(error_chain(&e)),
            }
        }
    }
    for (mb, token) in &watched {
        give_up_watch(ctx, &mb.state_key(), token).await;
    }
    if report.jobs.transient > 0 {
        report.unreachable.push(format!(
            "{} step(s) wait for a service that could not be reached (see log)",
            report.jobs.transient
        ));
    }
    Ok(report)
}

/// Steps a process that died mid-run (a crash, a kill) still holds are finished here once their
/// leases run out, as [`wait_for_dead_watcher`] does for its mailbox: `run --once` after a crash
/// completes that run's work. A holder whose heartbeat moves is alive and keeps its steps; the
/// wait is bounded by one lease.
async fn finish_for_the_dead(
    ctx: &Context,
    started: i64,
) -> Result<pipeline::DrainReport, WorkerError> {
    let mut report = pipeline::DrainReport::default();
    let first: std::collections::HashMap<String, i64> = ctx
        .store
        .job_holders(&ctx.worker.id)
        .await?
        .into_iter()
        .collect();
    if first.is_empty() {
        return Ok(report);
    }
    let deadline = now_ms() + ctx.store.lease_ms() + 500;
    loop {
        let holders = ctx.store.job_holders(&ctx.worker.id).await?;
        let silent = holders
            .iter()
            .any(|(owner, beat)| first.get(owner).is_some_and(|b| beat <= b));
        if !silent || now_ms() > deadline {
            return Ok(report);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        report.merge(pipeline::drain(ctx, Some(started)).await?);
    }
}

/// Take the watch of `mb` for this run, or note that a daemon holds it.
async fn take_watch(
    ctx: &Context,
    mb: &Mailbox,
    report: &mut OnceReport,
) -> Result<Option<String>, WorkerError> {
    let key = mb.state_key();
    match ctx.store.acquire_watch(&key, &ctx.worker.id).await? {
        Some(token) => {
            ctx.watches.hold(&key, &token);
            Ok(Some(token))
        }
        None => {
            if let Some(token) = wait_for_dead_watcher(ctx, &key).await? {
                ctx.watches.hold(&key, &token);
                return Ok(Some(token));
            }
            let by = ctx
                .store
                .watcher_of(&key)
                .await?
                .map(|w| w.watcher)
                .unwrap_or_default();
            info!(mailbox = %mb.server(), worker = %by,
                "a running loket watches this mailbox: leaving it to that worker, doing all other work");
            report
                .skipped
                .push(format!("mailbox {key} (watched by worker {by})"));
            Ok(None)
        }
    }
}

/// The watch of `key` is held. A live holder heartbeats at least every
/// [`pipeline::heartbeat_period`]; one that does not within that time has died (its lease then
/// runs out): wait for the watch. Returns the token if it was taken, None if the holder lives.
async fn wait_for_dead_watcher(ctx: &Context, key: &str) -> Result<Option<String>, WorkerError> {
    let started = now_ms();
    let deadline = started + ctx.store.lease_ms() + 500;
    loop {
        if let Some(token) = ctx.store.acquire_watch(key, &ctx.worker.id).await? {
            info!("the previous watcher of the mailbox stopped; this run takes the mailbox");
            return Ok(Some(token));
        }
        // Released or expired between the two reads: look again after the pause below, within
        // the same deadline (never a tight loop).
        let beat = match ctx.store.watcher_of(key).await? {
            Some(holder) => ctx.store.heartbeat_of(&holder.watcher).await?.unwrap_or(0),
            None => 0,
        };
        let now = now_ms();
        if beat > started || now > deadline {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn give_up_watch(ctx: &Context, key: &str, token: &str) {
    ctx.watches.release(key);
    if let Err(e) = ctx.store.release_watch(key, token).await {
        warn!(error = %error_chain(&e), "could not give up the mailbox watch; it expires by itself");
    }
}

async fn fetch_all(ctx: &Context, mb: &Mailbox) -> Result<usize, ImapError> {
    let mut session = mb.connect().await?;
    let n = mb.ingest(&ctx.intake(), &mut session).await?;
    mb.logout(session).await;
    Ok(n)
}

async fn move_all(ctx: &Context, mb: &Mailbox) -> Result<usize, ImapError> {
    let mut session = mb.connect().await?;
    let n = mb.move_filed(&ctx.intake(), &mut session).await?;
    mb.logout(session).await;
    Ok(n)
}

/// Run until `cancel`: the mailbox watcher and job runners; in-flight steps finish first.
pub async fn run_forever(ctx: Context, cancel: CancellationToken) -> Result<(), WorkerError> {
    let mut tasks = tokio::task::JoinSet::new();
    let turn = Arc::new(share::Turn::default());
    for cfg in ctx.cfg.all_mailboxes() {
        let mb = Mailbox::new(cfg)?;
        let (ctx, cancel, turn) = (ctx.clone(), cancel.clone(), turn.clone());
        tasks.spawn(async move { watch_mailbox(ctx, mb, turn, cancel).await });
    }
    if ctx.store.is_postgres() {
        let (ctx, cancel) = (ctx.clone(), cancel.clone());
        tasks.spawn(async move { wakeups::wake_on_new_jobs(ctx, cancel).await });
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
        tasks.spawn(async move { run_jobs(ctx, 100 + n, JobKind::MAIL, cancel).await });
    }
    {
        let (ctx, cancel) = (ctx.clone(), cancel.clone());
        tasks.spawn(async move { watch_digests(ctx, cancel).await });
    }
    info!(
        workers = ctx.cfg.worker.concurrency,
        worker_id = %ctx.worker.id,
        "loket is running"
    );
    while tasks.join_next().await.is_some() {}
    ctx.close().await;
    info!("loket stopped");
    Ok(())
}

/// One job runner: take due jobs; sleep until woken (new work here, or on PostgreSQL anywhere)
/// or `worker.poll_seconds` pass (backoffs, and work of other processes on SQLite).
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
        match ctx.store.claim(filter, &ctx.worker.id).await {
            Ok(Some(job)) => {
                let mut is_move_source = false;
                let mut job = Some(job);
                while let Some(this) = job.take() {
                    is_move_source |= matches!(this.kind(), JobKind::Classify | JobKind::Intake);
                    let mut report = DrainReport::default();
                    match pipeline::run_claimed(&ctx, this, &mut report).await {
                        // The step's commit claimed the next one for this runner.
                        Ok(next) => job = next,
                        Err(e) => {
                            error!(runner = n, error = %error_chain(&e), "could not record a step's outcome")
                        }
                    }
                }
                if is_move_source {
                    // Every mailbox watcher looks for its moves (one is kept for a watcher that
                    // is busy right now).
                    ctx.moves_waiting.notify_waiters();
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
            _ = tokio::time::sleep(Duration::from_secs(ctx.cfg.worker.poll_seconds)) => {}
            _ = cancel.cancelled() => {}
        }
    }
}

/// Make the day's department digests once the digest time has come, and the combined
/// acknowledgements whose hour has passed (looked at every 30 s; whichever worker looks first
/// makes each one, see `pipeline::notices` and `pipeline::ratelimit`).
async fn watch_digests(ctx: Context, cancel: CancellationToken) {
    while !cancel.is_cancelled() {
        if let Err(e) = pipeline::notices::make_due_digests(&ctx).await {
            warn!(error = %error_chain(&e), "daily digests not made yet; trying again");
        }
        if let Err(e) = pipeline::ratelimit::release_held(&ctx).await {
            warn!(error = %error_chain(&e), "held acknowledgements not combined yet; trying again");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
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
    let intake = ctx.intake();
    while !cancel.is_cancelled() {
        if let Err(e) = spool.scan(&intake).await {
            warn!(error = %error_chain(&e), "spool folder");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = cancel.cancelled() => {}
        }
    }
}

/// Watch the mailbox whenever this process holds its watch (one watcher per mailbox across all
/// processes, shared fairly between the daemons: see `share`); otherwise look again when the
/// holder's lease would run out (at least every third of the lease), so a watcher that died or
/// was paused is replaced within the lease.
async fn watch_mailbox(
    ctx: Context,
    mb: Mailbox,
    turn: Arc<share::Turn>,
    cancel: CancellationToken,
) {
    let key = mb.state_key();
    let period = lease_third(&ctx);
    let mut free_since = None;
    while !cancel.is_cancelled() {
        let mut pause = period;
        match take_fair_share(&ctx, &key, &turn, &mut free_since).await {
            Ok(Some((token, share))) => {
                free_since = None;
                ctx.watches.hold(&key, &token);
                info!(server = mb.server(), mailbox = %key, "this worker watches the mailbox");
                // A mailbox taken because no other daemon did is not given up to them again.
                let turn = (share == share::Taken::Share).then_some(&*turn);
                watch_with_lease(&ctx, &mb, &token, turn, &cancel).await;
                give_up_watch(&ctx, &key, &token).await;
            }
            Ok(None) => pause = until_lease_ends(&ctx, &key, period).await,
            Err(e) => warn!(error = %error_chain(&e), "cannot take the mailbox watch"),
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = cancel.cancelled() => {}
        }
    }
}

/// Take the watch of `key` if nobody holds it and it is this daemon's turn; `free_since` is
/// when this task first saw it free.
async fn take_fair_share(
    ctx: &Context,
    key: &str,
    turn: &share::Turn,
    free_since: &mut Option<std::time::Instant>,
) -> Result<Option<(String, share::Taken)>, crate::filing::StoreError> {
    let _turn = turn.take().await;
    if ctx.store.watcher_of(key).await?.is_some() {
        *free_since = None;
        return Ok(None);
    }
    let since = *free_since.get_or_insert_with(std::time::Instant::now);
    let Some(taken) = share::should_take(ctx, since).await else {
        return Ok(None);
    };
    let token = ctx.store.acquire_watch(key, &ctx.worker.id).await?;
    Ok(token.map(|t| (t, taken)))
}

/// Give the watch of `key` up when this daemon watches more than its share (released here,
/// under the turn, so the process's other mailboxes count it gone).
async fn yield_if_over_share(ctx: &Context, key: &str, token: &str, turn: &share::Turn) -> bool {
    let _turn = turn.take().await;
    if !share::over_share(ctx, key).await {
        return false;
    }
    give_up_watch(ctx, key, token).await;
    true
}

/// How long until the current watcher's lease of `key` runs out (a little after), at most
/// `period`: a live watcher renews before then, a dead one is replaced right away.
async fn until_lease_ends(ctx: &Context, key: &str, period: Duration) -> Duration {
    match ctx.store.watcher_of(key).await {
        Ok(Some(w)) => {
            let left = (w.watch_until - now_ms()).max(0) as u64 + 50;
            Duration::from_millis(left).min(period)
        }
        _ => period,
    }
}

fn lease_third(ctx: &Context) -> Duration {
    Duration::from_millis((ctx.store.lease_ms() / 3).max(200) as u64)
}

/// Keep a session to the mailbox while the watch is ours: fetch, move, wait; reconnect with
/// backoff when it drops. With a `turn`, give the mailbox up when this daemon watches more
/// than its share.
async fn watch_with_lease(
    ctx: &Context,
    mb: &Mailbox,
    token: &str,
    turn: Option<&share::Turn>,
    cancel: &CancellationToken,
) {
    let mut backoff = Duration::from_secs(1);
    while !cancel.is_cancelled() {
        match watch_session(ctx, mb, token, turn, cancel, &mut backoff).await {
            Ok(()) => return,
            Err(ImapError::WatchLost { .. }) => {
                warn!(
                    server = mb.server(),
                    "the mailbox watch was taken over (this worker was paused?)"
                );
                return;
            }
            Err(e) => {
                crate::telemetry::metrics::imap_connected(&mb.state_key(), false);
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
    token: &str,
    turn: Option<&share::Turn>,
    cancel: &CancellationToken,
    backoff: &mut Duration,
) -> Result<(), ImapError> {
    let key = mb.state_key();
    let still_ours = || async {
        match ctx.store.renew_watch(&key, token).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(ImapError::WatchLost {
                mailbox: key.clone(),
            }),
            Err(e) => Err(ImapError::Store(e)),
        }
    };
    let mut session = mb.connect().await?;
    info!(server = mb.server(), "watching the mailbox");
    *backoff = Duration::from_secs(1);
    let intake = ctx.intake();
    loop {
        still_ours().await?;
        mb.ingest(&intake, &mut session).await?;
        still_ours().await?;
        mb.move_filed(&intake, &mut session).await?;
        if cancel.is_cancelled() {
            mb.logout(session).await;
            return Ok(());
        }
        session = mb
            .wait(&ctx.moves_waiting, lease_third(ctx), session, cancel)
            .await?;
        if let Some(turn) = turn {
            if yield_if_over_share(ctx, &key, token, turn).await {
                mb.logout(session).await;
                return Ok(());
            }
        }
    }
}
