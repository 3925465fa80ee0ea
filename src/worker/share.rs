//! Several `loket run` daemons share several mailboxes fairly: a daemon does not take one more
//! mailbox while another live daemon watches fewer than it does, and one that watches two more
//! than another live daemon gives one up (a daemon started later gets its share without anyone
//! being restarted). The watch itself stays a lease row (`filing::mailboxes`), so a mailbox
//! still has one watcher; this only decides who asks for it.
//!
//! The daemons of an office share one config, so each can watch every mailbox. One that cannot
//! (its config lacks that mailbox, or has none: a machine for OCR only) still counts; so a
//! mailbox left free longer than a lease is taken whatever the counts say, and kept: it is
//! never left unwatched for more than about a lease.

use std::time::{Duration, Instant};

use tracing::{info, warn};

use crate::pipeline::{error_chain, Context};

/// Taken by a mailbox task while it decides to take or give up a watch and does it, so the
/// tasks of one process decide one after the other on counts that include each other's moves.
#[derive(Debug, Default)]
pub(super) struct Turn(tokio::sync::Mutex<()>);

impl Turn {
    pub(super) async fn take(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.0.lock().await
    }
}

/// The mailboxes this daemon watches, and those each other live daemon watches.
struct Counts {
    mine: i64,
    others: Vec<i64>,
}

async fn counts(ctx: &Context) -> Option<Counts> {
    match ctx.store.daemon_watch_counts().await {
        Ok(rows) => {
            let mine = rows
                .iter()
                .find(|(id, _)| *id == ctx.worker.id)
                .map_or(0, |(_, n)| *n);
            let others = rows
                .into_iter()
                .filter(|(id, _)| *id != ctx.worker.id)
                .map(|(_, n)| n)
                .collect();
            Some(Counts { mine, others })
        }
        Err(e) => {
            warn!(error = %error_chain(&e), "cannot count the mailboxes the daemons watch");
            None
        }
    }
}

/// May a daemon watching `mine` mailboxes take one more, with the other live daemons watching
/// `others`? Not while one of them watches fewer (that one takes it).
fn may_take(mine: i64, others: &[i64]) -> bool {
    others.iter().all(|&n| mine <= n)
}

/// Should a daemon watching `mine` give one up? When another live daemon watches two fewer:
/// after the move both are within one of each other.
fn should_give_up(mine: i64, others: &[i64]) -> bool {
    others.iter().any(|&n| mine >= n + 2)
}

/// Why a daemon took a mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Taken {
    /// Its fair share: given up again when another daemon watches two fewer.
    Share,
    /// Free for longer than a lease (no other daemon took it, whatever the counts say):
    /// kept, else it would go back and forth between being given up and taken again.
    Overdue,
}

/// Whether this daemon should ask for a free mailbox now, and why; `free_since` is when this
/// task first saw it free.
pub(super) async fn should_take(ctx: &Context, free_since: Instant) -> Option<Taken> {
    let overdue = free_since.elapsed() > Duration::from_millis(ctx.store.lease_ms() as u64);
    if overdue {
        return Some(Taken::Overdue);
    }
    // A database error: ask anyway (the lease still keeps one watcher per mailbox).
    counts(ctx)
        .await
        .is_none_or(|c| may_take(c.mine, &c.others))
        .then_some(Taken::Share)
}

/// Whether this daemon watches more than its share now and should give `mailbox` up.
pub(super) async fn over_share(ctx: &Context, mailbox: &str) -> bool {
    let Some(c) = counts(ctx).await else {
        return false;
    };
    let give_up = should_give_up(c.mine, &c.others);
    if give_up {
        info!(%mailbox, watching = c.mine, others = ?c.others,
            "another daemon watches fewer mailboxes: giving this one up to it");
    }
    give_up
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_daemons_two_mailboxes_end_with_one_each() {
        // Both start with none: either may take the first.
        assert!(may_take(0, &[0]));
        // The one that took it leaves the second to the other.
        assert!(!may_take(1, &[0]));
        assert!(may_take(0, &[1]));
        assert!(!should_give_up(1, &[1]));
        // Alone, a daemon takes every mailbox.
        assert!(may_take(1, &[]));
        assert!(may_take(5, &[]));
    }

    #[test]
    fn a_daemon_with_two_more_than_another_gives_one_up() {
        assert!(should_give_up(2, &[0]));
        assert!(should_give_up(3, &[2, 1]));
        assert!(!should_give_up(2, &[1]));
        assert!(!should_give_up(1, &[0]));
        assert!(!should_give_up(2, &[]));
    }
}
