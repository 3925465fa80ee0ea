//! `loket backup --out DIR`: a consistent copy of a running office (SQLite); with
//! `--blobs-only`, the documents alone, for a PostgreSQL office whose database pg_dump copies.
//!
//! Order matters. The database is copied first, in one transaction (`VACUUM INTO`), while the
//! worker goes on; then every blob the copy refers to is copied from the store (the folder or
//! the object store, each read back against its hash). Blobs are
//! write-once and written before the row that refers to them, so each one the copy refers to
//! is already there. Then the rule files and templates, then the manifest with the hashes.
//! Everything is written into a hidden folder next to DIR and renamed to DIR at the end: a
//! folder named DIR is a complete backup.

use std::path::{Path, PathBuf};

use futures::StreamExt;
use tracing::warn;

use super::files::{self, sibling};
use super::manifest::{self, Manifest};
use super::Error;
use crate::config::Config;
use crate::filing::snapshot::{self, Snapshot};
use crate::filing::BlobStore;

/// What a backup wrote.
#[derive(Debug)]
pub struct BackupReport {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

pub async fn backup(cfg: &Config, out: &Path) -> Result<BackupReport, Error> {
    if cfg.database.url.starts_with("postgres") {
        return Err(Error::Postgres { command: "backup" });
    }
    let blobs = BlobStore::open(&cfg.storage)?;
    let manifest = staged(out, |dir| backup_into(cfg, &blobs, dir)).await?;
    Ok(BackupReport {
        dir: out.to_path_buf(),
        manifest,
    })
}

/// What `loket backup --blobs-only` copied.
#[derive(Debug)]
pub struct BlobsReport {
    /// Blobs copied into the backup.
    pub copied: u64,
    /// Blobs the database refers to that were missing or damaged in the store.
    pub missing: Vec<String>,
}

/// `loket backup --blobs-only --out DIR`: every blob the database (either kind) refers to now,
/// into `DIR/blobs`. Run after `pg_dump`: every row in the dump was committed after its blob
/// was stored, so the dump's blobs are all in the copy (and perhaps a few newer ones).
pub async fn backup_blobs(cfg: &Config, out: &Path) -> Result<BlobsReport, Error> {
    let blobs = BlobStore::open(&cfg.storage)?;
    staged(out, |dir| async move {
        let shas = super::referenced_blobs(cfg).await?;
        let missing = copy_blobs(&blobs, &dir, &shas).await?;
        files::sync_dir(&dir)?;
        Ok(BlobsReport {
            copied: (shas.len() - missing.len()) as u64,
            missing,
        })
    })
    .await
}

/// Fill a hidden folder next to `out` and rename it to `out` once `fill` succeeded: a folder
/// named `out` is a complete backup.
async fn staged<T, F, Fut>(out: &Path, fill: F) -> Result<T, Error>
where
    F: FnOnce(PathBuf) -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    if out.exists() && !is_empty_dir(out)? {
        return Err(Error::OutExists(out.to_path_buf()));
    }
    let staging = sibling(out, "partial");
    std::fs::create_dir_all(&staging).map_err(Error::io(&staging))?;
    match fill(staging.clone()).await {
        Ok(done) => {
            if out.exists() {
                std::fs::remove_dir(out).map_err(Error::io(out))?;
            }
            std::fs::rename(&staging, out).map_err(Error::io(out))?;
            if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
                files::sync_dir(parent)?;
            }
            Ok(done)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

async fn backup_into(cfg: &Config, blobs: &BlobStore, dir: PathBuf) -> Result<Manifest, Error> {
    let dir = dir.as_path();
    let created_at = crate::filing::rfc3339(crate::filing::now_ms());
    let db_path = dir.join(manifest::DATABASE);
    let store = super::open_store(cfg).await?;
    let copied = store.snapshot_into(&db_path).await;
    store.close().await;
    copied?;

    let mut copy = Snapshot::open(&db_path).await?;
    let read = async {
        let counts = snapshot::counts(copy.conn()).await?;
        let referenced = snapshot::referenced_blobs(copy.conn()).await?;
        let schema = snapshot::schema_version(copy.conn()).await?;
        Ok::<_, Error>((counts, referenced, schema))
    }
    .await;
    copy.close().await;
    let (counts, referenced, schema_version) = read?;

    let missing_blobs = copy_blobs(blobs, dir, &referenced).await?;
    let rules = files::copy_tree(&cfg.rules.dir, &dir.join(manifest::RULES))?;
    let templates = if cfg.notify.templates_dir.is_dir() {
        Some(files::copy_tree(
            &cfg.notify.templates_dir,
            &dir.join(manifest::TEMPLATES),
        )?)
    } else {
        None
    };
    let (database_sha256, database_bytes) = files::hash_file(&db_path)?;
    let manifest = Manifest {
        format: manifest::FORMAT,
        loket_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at,
        database: "sqlite".into(),
        schema_version,
        database_sha256,
        database_bytes,
        counts,
        missing_blobs,
        rules,
        templates,
    };
    manifest.write(dir)?;
    files::sync_dir(dir)?;
    Ok(manifest)
}

/// Blobs read from the store at once: enough to hide an object store's latency, few enough
/// that large documents don't fill memory.
const PARALLEL: usize = 4;

/// Copy the blobs the database copy refers to, each read back against its hash; returns those
/// missing or damaged in the store (the backup goes on without them: a partial backup beats
/// none, and the command says so). A store that cannot be reached fails the backup.
async fn copy_blobs(store: &BlobStore, dir: &Path, shas: &[String]) -> Result<Vec<String>, Error> {
    let blob_dir = dir.join(manifest::BLOBS);
    std::fs::create_dir_all(&blob_dir).map_err(Error::io(&blob_dir))?;
    let target = BlobStore::new(&blob_dir);
    let mut read = futures::stream::iter(shas)
        .map(|sha| async move { (sha, store.get(sha).await) })
        .buffered(PARALLEL);
    let mut missing = Vec::new();
    while let Some((sha, got)) = read.next().await {
        match got {
            Ok(data) => {
                target.put(&data).await?;
            }
            Err(e) if e.is_transient() => return Err(e.into()),
            Err(e) => {
                warn!(blob = %sha, error = %e, "blob missing or damaged: not in the backup");
                missing.push(sha.clone());
            }
        }
    }
    Ok(missing)
}

fn is_empty_dir(path: &Path) -> Result<bool, Error> {
    if !path.is_dir() {
        return Ok(false);
    }
    let mut entries = std::fs::read_dir(path).map_err(Error::io(path))?;
    Ok(entries.next().is_none())
}
