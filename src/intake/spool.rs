//! The mail room: scanned postal applications from the spool folder and `loket import`.
//!
//! A file is taken only once it has stopped changing (the same size and times at two scans
//! `spool.settle_seconds` apart, see `settle`; a network scanner writes slowly), read
//! up to `spool.max_file_bytes`, stored as a blob and a `messages` row with its `intake` job,
//! and only then moved to `processed/`. Files that are not documents loket can read (corrupt,
//! encrypted, too large) go to `failed/` with a `.reason.txt` beside them. A file that cannot
//! be opened at all (permissions, a symbolic link: links are not followed, so the spool cannot
//! be used to file the server's own files) stays where it is with a warning, and the scan goes
//! on with the other files. Nothing is deleted; a restart between storing and moving finds the
//! file again and intake files the copy as a duplicate of the same case.

use std::path::{Path, PathBuf};

use tokio::io::AsyncReadExt;
use tracing::{info, warn};

use super::batch::split_at_separators;
use super::Intake;
use crate::domain::ApplicantDetails;
use crate::extract::document::{read_document, DocumentError};
use crate::filing::blobs::BlobError;
use crate::filing::jobs::enqueue;
use crate::filing::messages::{self, NewMessage, Source};
use crate::filing::{JobTarget, MessageId, StoreError};

mod folder;
mod settle;

pub use folder::{ScanReport, SpoolDir};

/// Where a scanned file comes from; stored as the message's source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The spool folder: anyone who can drop files there, so symbolic links are not followed.
    Spool,
    /// `loket import FILE`: the operator names the file, links included.
    Import,
}

impl Origin {
    /// The message's source as stored.
    pub fn source(self) -> Source {
        match self {
            Origin::Spool => Source::Spool,
            Origin::Import => Source::Import,
        }
    }
}

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
    origin: Origin,
    split_blank: bool,
) -> Result<Vec<Stored>, SpoolError> {
    let data = read_limited(path, origin, ctx.max_file_bytes).await?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "scan".into());
    let check_name = name.clone();
    let parts =
        tokio::task::spawn_blocking(move || -> Result<Vec<(String, Vec<u8>)>, DocumentError> {
            // Refuse what can't be read before it becomes a case nobody can use.
            let x = read_document(&data, "application/octet-stream", &check_name);
            if let Some(err) = x.error {
                return Err(err);
            }
            let parts = match split_at_separators(&data, split_blank) {
                Ok(Some(parts)) => parts,
                Ok(None) => vec![data],
                Err(e) => {
                    // It was read as a document above: file it whole rather than lose it.
                    warn!(file = %check_name, error = %e, "batch scan not split: filed as one");
                    vec![data]
                }
            };
            let count = parts.len();
            Ok(parts
                .into_iter()
                .enumerate()
                .map(|(i, part)| match count {
                    1 => (check_name.clone(), part),
                    _ => (numbered(&check_name, i + 1), part),
                })
                .collect())
        })
        .await
        // A file that crashes a reader will crash it again: it goes aside like a corrupt one.
        .map_err(|e| SpoolError::Unreadable {
            path: path.to_path_buf(),
            reason: DocumentError::Corrupt {
                kind: "scan".into(),
                detail: format!("reading it crashed: {e}"),
            },
        })?
        .map_err(|reason| SpoolError::Unreadable {
            path: path.to_path_buf(),
            reason,
        })?;
    let mut stored_parts = Vec::with_capacity(parts.len());
    for (part_name, part) in parts {
        let sha = ctx.blobs.put(&part).await?;
        stored_parts.push((part_name, sha, part.len() as i64));
    }
    let parts = stored_parts;
    let details = details.map(|d| serde_json::to_string(d).unwrap_or_default());
    let mut tx = ctx.store.begin_write().await?;
    let mut stored = Vec::with_capacity(parts.len());
    for (part_name, sha, size) in &parts {
        let row = NewMessage {
            source: origin.source(),
            mailbox: None,
            uidvalidity: None,
            uid: None,
            sha256: sha,
            size: *size,
            truncated: false,
            original_name: Some(part_name),
            details: details.as_deref(),
            mailbox_kind: None,
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

/// The file's bytes: at most `limit` (more is `TooLarge`, even when the file grows while it is
/// read), only from a regular file, and for the spool never through a symbolic link.
async fn read_limited(path: &Path, origin: Origin, limit: u64) -> Result<Vec<u8>, SpoolError> {
    let io = |source| SpoolError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut options = tokio::fs::OpenOptions::new();
    options.read(true);
    // Non-blocking, so a FIFO dropped in the folder can't hang the scan in open().
    let mut flags = libc::O_NONBLOCK;
    if origin == Origin::Spool {
        flags |= libc::O_NOFOLLOW;
    }
    options.custom_flags(flags);
    let file = options.open(path).await.map_err(|e| io(explain_open(e)))?;
    let meta = file.metadata().await.map_err(io)?;
    if !meta.is_file() {
        let not_file = std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file");
        return Err(io(not_file));
    }
    let too_large = |size: String| SpoolError::Unreadable {
        path: path.to_path_buf(),
        reason: DocumentError::TooLarge(format!(
            "{size}; the limit (spool.max_file_bytes) is {limit} bytes"
        )),
    };
    if meta.len() > limit {
        return Err(too_large(format!("{} bytes", meta.len())));
    }
    let mut data = Vec::with_capacity(meta.len() as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .await
        .map_err(io)?;
    if data.len() as u64 > limit {
        return Err(too_large("grew past the limit while being read".into()));
    }
    Ok(data)
}

/// `O_NOFOLLOW` on a link fails with "too many levels of symbolic links"; say what it means.
fn explain_open(e: std::io::Error) -> std::io::Error {
    if e.raw_os_error() == Some(libc::ELOOP) {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "a symbolic link (links in the spool folder are not followed)",
        )
    } else {
        e
    }
}

/// `batch.pdf` -> `batch-2.pdf`.
fn numbered(name: &str, n: usize) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}-{n}.{ext}"),
        None => format!("{name}-{n}"),
    }
}
