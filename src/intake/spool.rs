//! The mail room: scanned postal applications from the spool folder and `loket import`.
//!
//! A file is taken only once it has stopped growing (no change for `spool.settle_seconds`; a
//! network scanner writes slowly), stored as a blob and a `messages` row with its `intake` job,
//! and only then moved to `processed/`. Files that can't be read go to `failed/` with a
//! `.reason.txt` beside them. Nothing is deleted; a restart between storing and moving finds the
//! file again and intake files the copy as a duplicate of the same case.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use tracing::{info, warn};

use super::batch::split_at_separators;
use super::Intake;
use crate::domain::ApplicantDetails;
use crate::extract::document::{read_document, DocumentError};
use crate::filing::blobs::BlobError;
use crate::filing::jobs::enqueue;
use crate::filing::messages::{self, NewMessage, Source};
use crate::filing::{JobTarget, MessageId, StoreError};

/// A scanned file stored for intake.
#[derive(Debug, Clone)]
pub struct Stored {
    pub message_row: MessageId,
    pub path: PathBuf,
}

/// Why a file was not taken.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("{path}: {reason}")]
    Unreadable {
        path: PathBuf,
        reason: DocumentError,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("{0}")]
    Other(String),
}

/// Store one scanned file as postal messages (does not move or delete it): one per application
/// when the file is a batch with separator sheets, else one. All parts commit together.
pub async fn store_file(
    ctx: &Intake,
    path: &Path,
    details: Option<&ApplicantDetails>,
    source: Source,
    split_blank: bool,
) -> Result<Vec<Stored>, SpoolError> {
    let io = |source| SpoolError::Io {
        path: path.to_path_buf(),
        source,
    };
    let data = tokio::fs::read(path).await.map_err(io)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "scan".into());
    let (blobs, check_name) = (ctx.blobs.clone(), name.clone());
    let parts = tokio::task::spawn_blocking(
        move || -> Result<Vec<(String, String, i64)>, SpoolErrorKind> {
            // Refuse what can't be read before it becomes a case nobody can use.
            let x = read_document(&data, "application/octet-stream", &check_name);
            if let Some(err) = x.error {
                return Err(SpoolErrorKind::Unreadable(err));
            }
            let parts = match split_at_separators(&data, split_blank) {
                Ok(Some(parts)) => parts,
                _ => vec![data],
            };
            let count = parts.len();
            parts
                .into_iter()
                .enumerate()
                .map(|(i, part)| {
                    let part_name = if count == 1 {
                        check_name.clone()
                    } else {
                        numbered(&check_name, i + 1)
                    };
                    let sha = blobs.put(&part).map_err(SpoolErrorKind::Blob)?;
                    Ok((part_name, sha, part.len() as i64))
                })
                .collect()
        },
    )
    .await
    .map_err(|e| SpoolError::Other(format!("{}: reading failed: {e}", path.display())))?
    .map_err(|e| match e {
        SpoolErrorKind::Unreadable(reason) => SpoolError::Unreadable {
            path: path.to_path_buf(),
            reason,
        },
        SpoolErrorKind::Blob(b) => SpoolError::Blob(b),
    })?;
    let details = details.map(|d| serde_json::to_string(d).unwrap_or_default());
    let mut tx = ctx.store.begin_write().await?;
    let mut stored = Vec::with_capacity(parts.len());
    for (part_name, sha, size) in &parts {
        let row = NewMessage {
            source,
            mailbox: None,
            uidvalidity: None,
            uid: None,
            sha256: sha,
            size: *size,
            truncated: false,
            original_name: Some(part_name),
            details: details.as_deref(),
        };
        let id = messages::insert(&mut tx, &row).await?.ok_or_else(|| {
            SpoolError::Other(format!("{}: could not record the file", path.display()))
        })?;
        enqueue(&mut tx, JobTarget::Intake(id)).await?;
        stored.push(Stored {
            message_row: id,
            path: path.to_path_buf(),
        });
    }
    crate::filing::store::commit(tx).await?;
    if parts.len() > 1 {
        info!(file = %path.display(), parts = parts.len(), "batch scan split at separator sheets");
    }
    ctx.wake.notify_waiters();
    Ok(stored)
}

/// `batch.pdf` -> `batch-2.pdf`.
fn numbered(name: &str, n: usize) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}-{n}.{ext}"),
        None => format!("{name}-{n}"),
    }
}

enum SpoolErrorKind {
    Unreadable(DocumentError),
    Blob(BlobError),
}

/// The spool folder and its `processed/` and `failed/` subfolders.
#[derive(Debug, Clone)]
pub struct SpoolDir {
    dir: PathBuf,
    settle: Duration,
    split_blank: bool,
}

impl SpoolDir {
    pub fn new(dir: &Path, settle_seconds: u64, split_blank: bool) -> Self {
        Self {
            dir: dir.to_path_buf(),
            settle: Duration::from_secs(settle_seconds),
            split_blank,
        }
    }

    /// Take every settled file once; returns how many were stored.
    pub async fn scan(&self, ctx: &Intake) -> Result<usize, SpoolError> {
        let io = |source| SpoolError::Io {
            path: self.dir.clone(),
            source,
        };
        tokio::fs::create_dir_all(&self.dir).await.map_err(io)?;
        let mut stored = 0;
        for path in self.settled_files().map_err(io)? {
            match store_file(ctx, &path, None, Source::Spool, self.split_blank).await {
                Ok(_) => {
                    ctx.store.sync().await?;
                    self.move_to(&path, "processed", None).await?;
                    stored += 1;
                }
                Err(SpoolError::Unreadable { reason, .. }) => {
                    warn!(file = %path.display(), reason = %reason, "scanned file unreadable: moved to failed/");
                    self.move_to(&path, "failed", Some(&reason)).await?;
                }
                Err(e) => return Err(e),
            }
        }
        if stored > 0 {
            info!(stored, "scanned files taken from the spool folder");
        }
        Ok(stored)
    }

    /// Regular, visible files that have not changed for the settle time.
    fn settled_files(&self) -> std::io::Result<Vec<PathBuf>> {
        let now = SystemTime::now();
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().to_string();
            let meta = entry.metadata()?;
            if !meta.is_file() || name.starts_with('.') || is_partial(&name) {
                continue;
            }
            let age = meta
                .modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .unwrap_or_default();
            if age >= self.settle && meta.len() > 0 {
                out.push(entry.path());
            }
        }
        out.sort();
        Ok(out)
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
