//! The spool folder: which files are ready ([`super::settle`]), taking them with
//! [`super::store_file`], and moving them to `processed/` or `failed/` (with a `.reason.txt`).
//! A file's trouble never stops the scan; only a folder that can't be listed is an error.

use crate::classify::identifiers::mask_in_text;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tracing::{info, warn};

use super::settle::{Look, Settle, Signature};
use super::{store_file, Origin, SpoolError};
use crate::extract::document::DocumentError;
use crate::intake::Intake;

/// The spool folder and its `processed/` and `failed/` subfolders. Keeps what it saw at
/// earlier scans (the settle rule needs two looks), so one value is kept across scans.
#[derive(Debug, Clone)]
pub struct SpoolDir {
    dir: PathBuf,
    split_blank: bool,
    settle: Settle,
    /// Files already warned about as unopenable, so a daemon does not repeat it every scan.
    warned: HashSet<PathBuf>,
}

/// What one scan (or a [`SpoolDir::scan_settled`] run) did.
#[derive(Debug, Default)]
pub struct ScanReport {
    /// Files stored for intake and moved to `processed/`.
    pub stored: usize,
    /// Files moved to `failed/` with a reason.
    pub failed: usize,
    /// Files that could not be opened, left in place.
    pub unopenable: usize,
    /// Files still changing or not yet looked at twice; left for a later scan.
    pub settling: usize,
    /// Failures that are not the file's fault (database, blob store, moving files).
    pub errors: Vec<SpoolError>,
    next_due: Option<Instant>,
}

impl ScanReport {
    fn merge(&mut self, later: ScanReport) {
        self.stored += later.stored;
        self.failed += later.failed;
        self.unopenable = later.unopenable;
        self.settling = later.settling;
        self.next_due = later.next_due;
        self.errors.extend(later.errors);
    }
}

/// Shortest pause between the scans of [`SpoolDir::scan_settled`].
const MIN_RESCAN: Duration = Duration::from_millis(200);
/// How much longer than the settle time `run --once` waits for a settling file.
const SETTLE_SLACK: Duration = Duration::from_secs(1);

impl SpoolDir {
    pub fn new(dir: &Path, settle_seconds: u64, split_blank: bool) -> Self {
        Self {
            dir: dir.to_path_buf(),
            split_blank,
            settle: Settle::new(Duration::from_secs(settle_seconds)),
            warned: HashSet::new(),
        }
    }

    /// Take every settled file once. Only a folder that can't be listed is an error; a file's
    /// trouble is handled (or reported in [`ScanReport::errors`]) and the scan goes on.
    pub async fn scan(&mut self, ctx: &Intake) -> Result<ScanReport, SpoolError> {
        let now = Instant::now();
        let entries = self.entries().await?;
        let present: Vec<PathBuf> = entries.iter().map(|(p, _)| p.clone()).collect();
        self.settle.keep_only(&present);
        self.warned.retain(|p| present.contains(p));
        let mut report = ScanReport::default();
        let mut ready = Vec::new();
        for (path, signature) in entries {
            match self.settle.look(&path, signature, now) {
                Look::Settled => ready.push(path),
                Look::Settling { due } => {
                    report.settling += 1;
                    report.next_due = Some(report.next_due.map_or(due, |d| d.min(due)));
                }
            }
        }
        for path in ready {
            self.take(ctx, &path, &mut report).await;
        }
        if report.stored > 0 {
            info!(
                stored = report.stored,
                "scanned files taken from the spool folder"
            );
        }
        Ok(report)
    }

    /// `run --once`: scan, and while files are still settling scan again, for at most the
    /// settle time (plus a second); what is still changing then is left for the next run.
    pub async fn scan_settled(&mut self, ctx: &Intake) -> Result<ScanReport, SpoolError> {
        let deadline = Instant::now() + self.settle.settle() + SETTLE_SLACK;
        let mut report = self.scan(ctx).await?;
        if report.settling > 0 {
            info!(
                files = report.settling,
                settle_seconds = self.settle.settle().as_secs(),
                "waiting for files in the spool folder to settle"
            );
        }
        while report.settling > 0 && Instant::now() < deadline {
            let due = report.next_due.unwrap_or(deadline).min(deadline);
            tokio::time::sleep_until(due.max(Instant::now() + MIN_RESCAN).into()).await;
            let later = self.scan(ctx).await?;
            report.merge(later);
        }
        if report.settling > 0 {
            warn!(
                files = report.settling,
                "files in the spool folder are still being written: left for the next run"
            );
        }
        Ok(report)
    }

    /// Store one settled file and move it; a failure is logged here, once.
    async fn take(&mut self, ctx: &Intake, path: &Path, report: &mut ScanReport) {
        match store_file(ctx, path, None, Origin::Spool, self.split_blank).await {
            Ok(_) => {
                // Durable before the file moves; else it stays and is filed again as the same
                // case at the next scan.
                if let Err(e) = ctx.store.sync().await {
                    report.errors.push(SpoolError::Store(e));
                    return;
                }
                match self.move_to(path, "processed", None).await {
                    Ok(()) => report.stored += 1,
                    Err(e) => {
                        warn!(file = %path.display(), error = %e, "stored, but not moved to processed/");
                        report.errors.push(e);
                    }
                }
            }
            Err(SpoolError::Unreadable { reason, .. }) => {
                warn!(file = %mask_in_text(&path.display().to_string()), reason = %reason, "scanned file unreadable: moved to failed/");
                match self.move_to(path, "failed", Some(&reason)).await {
                    Ok(()) => report.failed += 1,
                    Err(e) => {
                        warn!(file = %path.display(), error = %e, "not moved to failed/");
                        report.errors.push(e);
                    }
                }
            }
            Err(SpoolError::Io { source, .. }) => {
                report.unopenable += 1;
                if self.warned.insert(path.to_path_buf()) {
                    warn!(file = %path.display(), error = %source, "scanned file cannot be opened: left in the spool folder");
                }
            }
            Err(e) => {
                warn!(file = %path.display(), error = %e, "scanned file not stored: tried again at the next scan");
                report.errors.push(e);
            }
        }
    }

    /// What the folder holds, as (path, signature): hidden and partial files and folders are
    /// left out. Links and other non-files are listed (by their own metadata), so that
    /// taking them fails visibly instead of being ignored silently.
    async fn entries(&self) -> Result<Vec<(PathBuf, Signature)>, SpoolError> {
        let dir = self.dir.clone();
        let listed = tokio::task::spawn_blocking(move || list(&dir))
            .await
            .map_err(|e| SpoolError::Other(format!("listing the spool folder failed: {e}")))?;
        listed.map_err(|source| SpoolError::Io {
            path: self.dir.clone(),
            source,
        })
    }

    async fn move_to(
        &self,
        path: &Path,
        sub: &str,
        reason: Option<&DocumentError>,
    ) -> Result<(), SpoolError> {
        let target_dir = self.dir.join(sub);
        let io = |source| SpoolError::Io {
            path: target_dir.clone(),
            source,
        };
        tokio::fs::create_dir_all(&target_dir).await.map_err(io)?;
        let target = free_name(&target_dir, path.file_name().unwrap_or_default());
        if let Some(reason) = reason {
            let text = format!("{}\n{}\n", reason.alasan(), reason);
            tokio::fs::write(with_suffix(&target, ".reason.txt"), text)
                .await
                .map_err(io)?;
        }
        tokio::fs::rename(path, &target).await.map_err(io)
    }
}

/// The folder's entries with their signatures (see [`SpoolDir::entries`]). An entry whose
/// metadata can't be read is skipped with a warning; the others are still listed.
fn list(dir: &Path) -> std::io::Result<Vec<(PathBuf, Signature)>> {
    std::fs::create_dir_all(dir)?;
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                warn!(dir = %dir.display(), error = %e, "spool folder entry cannot be read");
                continue;
            }
        };
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') || is_partial(&name) {
            continue;
        }
        // Not followed: a link is judged (and refused) as itself.
        let meta = match entry.metadata() {
            Ok(meta) => meta,
            Err(e) => {
                warn!(file = %entry.path().display(), error = %e, "spool file metadata cannot be read");
                continue;
            }
        };
        // A scanner creates the file before writing it; an empty file is not a scan yet.
        if meta.is_dir() || (meta.is_file() && meta.len() == 0) {
            continue;
        }
        out.push((entry.path(), Signature::of(&meta)));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Names scanners and copy tools use while a file is still being written.
fn is_partial(name: &str) -> bool {
    let lower = name.to_lowercase();
    [".part", ".tmp", ".crdownload", ".partial", "~"]
        .iter()
        .any(|s| lower.ends_with(s))
}

/// `name`, or `name.1`, `name.2`... if taken.
fn free_name(dir: &Path, name: &std::ffi::OsStr) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    (1..)
        .map(|i| dir.join(format!("{}.{i}", name.to_string_lossy())))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
