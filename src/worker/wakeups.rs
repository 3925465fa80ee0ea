//! On PostgreSQL, idle job runners are woken by `NOTIFY loket_jobs` (see
//! [`crate::filing::wakeups`]): work enqueued by another process (`serve`, another worker)
//! starts at once, not at the next poll, and a mailbox watcher moves messages another process
//! filed without waiting for its IDLE refresh.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::filing::wakeups::{Heard, JobListener};
use crate::pipeline::{error_chain, Context};

/// Listen until `cancel`; reconnect with backoff when the database is away (polling goes on
/// meanwhile), and look for work after every reconnection, as notifications sent meanwhile
/// are lost.
pub(super) async fn wake_on_new_jobs(ctx: Context, cancel: CancellationToken) {
    let mut backoff = Duration::from_secs(1);
    while !cancel.is_cancelled() {
        let listening = tokio::select! {
            l = JobListener::connect(&ctx.cfg.database.url) => l,
            _ = cancel.cancelled() => return,
        };
        match listening {
            Ok(mut listener) => {
                info!("idle workers wake when any process queues work (LISTEN)");
                backoff = Duration::from_secs(1);
                relay(&ctx, &mut listener, &cancel).await;
            }
            Err(e) => warn!(
                error = %error_chain(&e),
                poll_seconds = ctx.cfg.worker.poll_seconds,
                "cannot listen for new jobs; idle workers poll meanwhile"
            ),
        }
        ctx.wake.notify_waiters();
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = cancel.cancelled() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(60));
    }
}

/// Wake this process's idle runners at every notification, until the listener fails.
async fn relay(ctx: &Context, listener: &mut JobListener, cancel: &CancellationToken) {
    loop {
        let heard = tokio::select! {
            h = listener.next() => h,
            _ = cancel.cancelled() => return,
        };
        match heard {
            Ok(Heard::Job) => ctx.wake.notify_waiters(),
            Ok(Heard::Move) => ctx.moves_waiting.notify_waiters(),
            Ok(Heard::Reconnected) => {
                debug!("LISTEN connection reopened; looking for work missed meanwhile");
                ctx.wake.notify_waiters();
            }
            Err(e) => {
                warn!(error = %error_chain(&e), "lost the LISTEN connection; idle workers poll meanwhile");
                return;
            }
        }
    }
}
