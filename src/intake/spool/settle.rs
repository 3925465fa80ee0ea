//! When a file in the spool folder is finished being written.
//!
//! A file's age says nothing: a copy that keeps the original modification time (`cp -p`,
//! `rsync -t`, many scanner uploads) looks old while it is still half-written. So a file is
//! taken only when it looked the same, by size, modification time and (on Unix) inode change
//! time, at two scans at least the settle time apart. The first look at a file never takes it,
//! however old it looks. Pure bookkeeping: the caller lists the folder and passes what it saw.

use std::collections::HashMap;
use std::fs::Metadata;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// What a file looked like at one scan. Any write changes at least one of these; the change
/// time also moves when a copy tool sets the modification time back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    len: u64,
    modified: Option<SystemTime>,
    changed: (i64, i64),
}

impl Signature {
    pub fn of(meta: &Metadata) -> Self {
        Self {
            len: meta.len(),
            modified: meta.modified().ok(),
            changed: change_time(meta),
        }
    }
}

#[cfg(unix)]
fn change_time(meta: &Metadata) -> (i64, i64) {
    use std::os::unix::fs::MetadataExt;
    (meta.ctime(), meta.ctime_nsec())
}

#[cfg(not(unix))]
fn change_time(_meta: &Metadata) -> (i64, i64) {
    (0, 0)
}

/// The verdict on one file at one scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// Unchanged since a look at least the settle time ago: take it.
    Settled,
    /// New or changed (or not unchanged for long enough): look again at `due`.
    Settling { due: Instant },
}

/// The signatures seen at earlier scans, per path.
#[derive(Debug, Clone)]
pub struct Settle {
    settle: Duration,
    seen: HashMap<PathBuf, (Signature, Instant)>,
}

impl Settle {
    pub fn new(settle: Duration) -> Self {
        Self {
            settle,
            seen: HashMap::new(),
        }
    }

    pub fn settle(&self) -> Duration {
        self.settle
    }

    /// Record this scan's look at `path` (seen as `signature` at `now`).
    pub fn look(&mut self, path: &Path, signature: Signature, now: Instant) -> Look {
        match self.seen.get(path) {
            Some(&(before, since)) if before == signature => {
                if now.saturating_duration_since(since) >= self.settle {
                    Look::Settled
                } else {
                    Look::Settling {
                        due: since + self.settle,
                    }
                }
            }
            _ => {
                self.seen.insert(path.to_path_buf(), (signature, now));
                Look::Settling {
                    due: now + self.settle,
                }
            }
        }
    }

    /// Forget paths that are gone (taken, moved or deleted), so a new file of the same name
    /// starts afresh.
    pub fn keep_only(&mut self, present: &[PathBuf]) {
        self.seen.retain(|p, _| present.contains(p));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(len: u64, modified_secs: u64) -> Signature {
        Signature {
            len,
            modified: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(modified_secs)),
            changed: (0, 0),
        }
    }

    #[test]
    fn an_old_looking_file_still_needs_a_second_look_after_the_settle_time() {
        let mut s = Settle::new(Duration::from_secs(5));
        let (p, t0) = (Path::new("scan.pdf"), Instant::now());
        assert!(matches!(s.look(p, sig(10, 1), t0), Look::Settling { .. }));
        assert!(matches!(
            s.look(p, sig(10, 1), t0 + Duration::from_secs(4)),
            Look::Settling { .. }
        ));
        assert_eq!(
            s.look(p, sig(10, 1), t0 + Duration::from_secs(5)),
            Look::Settled
        );
    }

    #[test]
    fn a_change_between_looks_starts_the_wait_again() {
        let mut s = Settle::new(Duration::from_secs(5));
        let (p, t0) = (Path::new("scan.pdf"), Instant::now());
        s.look(p, sig(10, 1), t0);
        let t1 = t0 + Duration::from_secs(6);
        assert_eq!(
            s.look(p, sig(20, 1), t1),
            Look::Settling {
                due: t1 + Duration::from_secs(5)
            },
            "grew while keeping its modification time"
        );
        assert_eq!(
            s.look(p, sig(20, 1), t1 + Duration::from_secs(5)),
            Look::Settled
        );
    }

    #[test]
    fn with_no_settle_time_two_looks_are_still_needed() {
        let mut s = Settle::new(Duration::ZERO);
        let (p, t0) = (Path::new("scan.pdf"), Instant::now());
        assert!(matches!(s.look(p, sig(1, 1), t0), Look::Settling { .. }));
        assert_eq!(s.look(p, sig(1, 1), t0), Look::Settled);
        s.keep_only(&[]);
        assert!(matches!(s.look(p, sig(1, 1), t0), Look::Settling { .. }));
    }
}
