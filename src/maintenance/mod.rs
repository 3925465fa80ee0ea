//! Keeping an office's data: backups (`loket backup`, `loket restore`) and retention
//! (`loket purge`). These take the config and the store; they fail with [`Error`], whose
//! variants say what was refused or which file was at fault.

pub mod backup;
pub(crate) mod files;
pub mod manifest;
pub mod period;
pub mod purge;
pub mod restore;

use std::path::PathBuf;

use crate::filing::blobs::BlobError;
use crate::filing::StoreError;

pub use period::RetentionPeriod;

/// The office's database, opened for one maintenance command: two connections are plenty,
/// and a running worker keeps the rest of the server's.
async fn open_store(cfg: &crate::config::Config) -> Result<crate::filing::Store, StoreError> {
    crate::filing::Store::open_with(
        &cfg.database.url,
        crate::filing::StoreOptions {
            max_connections: 2,
            ..cfg.store_options()
        },
    )
    .await
}

/// Every blob the database refers to now (documents and messages not purged), read through a
/// store opened and closed for it.
async fn referenced_blobs(cfg: &crate::config::Config) -> Result<Vec<String>, StoreError> {
    let store = open_store(cfg).await?;
    let listed = async {
        let mut conn = store.conn().await?;
        crate::filing::snapshot::referenced_blobs(&mut conn).await
    }
    .await;
    store.close().await;
    listed
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configured database is PostgreSQL: its own tools copy it consistently.
    #[error(
        "`loket {command}` copies an SQLite database; this office uses PostgreSQL: use \
         pg_dump -Fc / pg_restore for the database and `loket {command} --blobs-only` for the \
         documents (after the dump), as README.md \"Backups\" shows"
    )]
    Postgres { command: &'static str },
    #[error("database url {0:?} is not an SQLite file")]
    NotAFile(String),
    #[error("{}: already exists and is not empty; choose a new folder for the backup", .0.display())]
    OutExists(PathBuf),
    #[error("{path}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a loket backup manifest: {source}", path = .path.display())]
    Manifest {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}")]
    Unsupported(String),
    #[error("backup damaged, nothing was restored: {0}")]
    Damaged(String),
    /// Blobs are write-once: a stored blob that differs from the backup's is not overwritten.
    #[error(
        "{store} already holds {count} file(s) whose content differs from the backup's \
         (damaged in the store?): {shas}; nothing was restored. Stored files are never \
         overwritten: remove those objects, then restore again"
    )]
    Differs {
        store: String,
        count: usize,
        shas: String,
    },
    #[error(
        "the database already holds {cases} case(s); nothing was restored. \
         `loket restore --force` replaces it (the current files are kept next to it)"
    )]
    NotEmpty { cases: i64 },
    #[error(
        "loket processes still use this database ({0}); stop `loket run` and `loket serve` \
         first, nothing was restored"
    )]
    InUse(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
}

impl Error {
    /// A refusal because of how this office is set up (exit status 2), not a failure.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::Postgres { .. } | Error::NotAFile(_) | Error::Blob(BlobError::Config(_))
        )
    }

    fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
