//! `loket restore DIR [--force]`: a backup folder back where the config says (SQLite).
//!
//! Everything is checked before anything is replaced: the manifest, the database copy's hash,
//! every file of the rules and templates, and every blob the database refers to (read back
//! against its hash). The database is then brought up to this loket's schema in a staged
//! copy next to the configured file, and the store (folder or object store) is read for each
//! blob: one already there must be identical (write-once: one that differs is an error, never
//! overwritten). Then, in this order: missing blobs are added to the store
//! (blobs are content-addressed, so adding is safe; an extra blob is harmless), the rule and
//! template folders are swapped in by rename, and last the database file is renamed into place.
//! A database or folder that was there is kept beside it as `*.before-restore-<time>`.

use std::path::{Path, PathBuf};

use futures::StreamExt;

use super::files::{self, sibling};
use super::manifest::{self, Manifest};
use super::Error;
use crate::config::Config;
use crate::filing::blobs::BlobError;
use crate::filing::snapshot::{self, Counts, Snapshot};
use crate::filing::{BlobStore, Store};

/// Blobs read from the store at once (an object store's latency, not its bandwidth, is what
/// a restore waits for).
const PARALLEL: usize = 4;

/// What a restore put back, and what it kept aside.
#[derive(Debug)]
pub struct RestoreReport {
    pub manifest: Manifest,
    pub counts: Counts,
    pub blobs_added: u64,
    pub kept: Vec<PathBuf>,
}

pub async fn restore(cfg: &Config, dir: &Path, force: bool) -> Result<RestoreReport, Error> {
    if cfg.database.url.starts_with("postgres") {
        return Err(Error::Postgres { command: "restore" });
    }
    let store_blobs = BlobStore::open(&cfg.storage)?;
    let target = sqlite_file(&cfg.database.url)
        .ok_or_else(|| Error::NotAFile(crate::filing::store::redacted_target(&cfg.database.url)))?;
    let manifest = Manifest::read(dir)?;
    check_files(dir, &manifest)?;
    check_target(cfg, &target, force).await?;

    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
    }
    let staged = sibling(&target, "restore");
    let result = stage_database(dir, &staged).await;
    let (counts, blobs) = match result {
        Ok(r) => r,
        Err(e) => {
            remove_db_files(&staged);
            return Err(e);
        }
    };
    let backup_blobs = BlobStore::new(dir.join(manifest::BLOBS));
    let checked = async {
        check_blobs(&backup_blobs, &blobs, &manifest.missing_blobs).await?;
        absent_from(&store_blobs, &blobs, &manifest.missing_blobs).await
    }
    .await;
    let absent = match checked {
        Ok(absent) => absent,
        Err(e) => {
            remove_db_files(&staged);
            return Err(e);
        }
    };

    // From here on things are replaced.
    let stamp = stamp();
    let blobs_added = add_blobs(&backup_blobs, &store_blobs, &absent).await?;
    let mut kept = Vec::new();
    kept.extend(put_tree(
        &dir.join(manifest::RULES),
        &manifest.rules,
        &cfg.rules.dir,
        &stamp,
    )?);
    if let Some(templates) = &manifest.templates {
        kept.extend(put_tree(
            &dir.join(manifest::TEMPLATES),
            templates,
            &cfg.notify.templates_dir,
            &stamp,
        )?);
    }
    kept.extend(put_database(&staged, &target, &stamp)?);
    Ok(RestoreReport {
        manifest,
        counts,
        blobs_added,
        kept,
    })
}

/// The database copy, rules and templates are what the manifest says.
fn check_files(dir: &Path, manifest: &Manifest) -> Result<(), Error> {
    let (sha, _) = files::hash_file(&dir.join(manifest::DATABASE))?;
    let mut problems = Vec::new();
    if sha != manifest.database_sha256 {
        problems.push(format!(
            "{}: content does not match the manifest's SHA-256",
            dir.join(manifest::DATABASE).display()
        ));
    }
    problems.extend(files::check_tree(
        &dir.join(manifest::RULES),
        &manifest.rules,
    ));
    if let Some(templates) = &manifest.templates {
        problems.extend(files::check_tree(&dir.join(manifest::TEMPLATES), templates));
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(Error::Damaged(problems.join("; "))),
    }
}

/// The configured database may be replaced: it holds no cases (or `force`), and no loket
/// process is alive on it. A database that can't be opened at all may be replaced with `force`.
async fn check_target(cfg: &Config, target: &Path, force: bool) -> Result<(), Error> {
    if !target.exists() {
        return Ok(());
    }
    let opened = super::open_store(cfg).await;
    let store = match opened {
        Ok(s) => s,
        Err(_) if force => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let checked = async {
        let alive: Vec<String> = store
            .list_workers()
            .await?
            .into_iter()
            .filter(|w| w.alive)
            .map(|w| format!("{} on {} pid {}", w.command, w.host, w.pid))
            .collect();
        let mut conn = store.conn().await?;
        let counts = snapshot::counts(&mut conn).await?;
        Ok::<_, Error>((alive, counts))
    }
    .await;
    store.close().await;
    let (alive, counts) = checked?;
    if counts.cases > 0 && !force {
        return Err(Error::NotEmpty {
            cases: counts.cases,
        });
    }
    if !alive.is_empty() {
        return Err(Error::InUse(alive.join(", ")));
    }
    Ok(())
}

/// Copy the backup's database next to the target, bring it to this loket's schema (a backup
/// made by an older release is migrated; one made by a newer release is refused), and read
/// what it holds.
async fn stage_database(dir: &Path, staged: &Path) -> Result<(Counts, Vec<String>), Error> {
    let source = dir.join(manifest::DATABASE);
    // A WAL left by an earlier staged copy must not be read as this one's.
    remove_db_files(staged);
    std::fs::copy(&source, staged).map_err(Error::io(staged))?;
    let url = format!("sqlite://{}", staged.display());
    let store = Store::open(&url, 1).await?;
    let forgotten = async {
        let mut conn = store.conn().await?;
        snapshot::forget_processes(&mut conn).await?;
        drop(conn);
        // Only the file is renamed into place: what the WAL holds must be in it.
        store.fold_wal().await
    }
    .await;
    store.close().await;
    forgotten?;
    let mut copy = Snapshot::open(staged).await?;
    let read = async {
        let counts = snapshot::counts(copy.conn()).await?;
        let blobs = snapshot::referenced_blobs(copy.conn()).await?;
        Ok::<_, Error>((counts, blobs))
    }
    .await;
    copy.close().await;
    read
}

/// What `loket restore --blobs-only` did.
#[derive(Debug)]
pub struct BlobsRestored {
    /// Blobs the database refers to.
    pub referenced: u64,
    pub added: u64,
}

/// `loket restore --blobs-only DIR`: the blobs the database (restored by pg_restore, or any)
/// refers to, from `DIR/blobs` into the store. Checked first: each is in the backup and matches
/// its hash, and one already in the store is identical; else nothing is written.
pub async fn restore_blobs(cfg: &Config, dir: &Path) -> Result<BlobsRestored, Error> {
    let store_blobs = BlobStore::open(&cfg.storage)?;
    let blobs = super::referenced_blobs(cfg).await?;
    let backup_blobs = BlobStore::new(dir.join(manifest::BLOBS));
    check_blobs(&backup_blobs, &blobs, &[]).await?;
    let absent = absent_from(&store_blobs, &blobs, &[]).await?;
    let added = add_blobs(&backup_blobs, &store_blobs, &absent).await?;
    Ok(BlobsRestored {
        referenced: blobs.len() as u64,
        added,
    })
}

/// Every blob the database refers to is in the backup and matches its hash (except `skip`: those
/// the manifest lists as already missing when the backup was made).
async fn check_blobs(backup: &BlobStore, blobs: &[String], skip: &[String]) -> Result<(), Error> {
    let mut bad: Vec<String> = Vec::new();
    for sha in blobs.iter().filter(|sha| !skip.contains(sha)) {
        if backup.get(sha).await.is_err() {
            bad.push(sha.clone());
        }
    }
    match bad.is_empty() {
        true => Ok(()),
        false => Err(Error::Damaged(format!(
            "{} document file(s) missing or damaged in {}: {}",
            bad.len(),
            backup.describe(),
            shown(&bad)
        ))),
    }
}

/// The blobs (of `blobs`, less `skip`) the store does not hold yet. One it holds must be
/// identical (read back against its hash): blobs are write-once, so one that differs is an
/// error, and a store that cannot be reached is one too.
async fn absent_from(
    store: &BlobStore,
    blobs: &[String],
    skip: &[String],
) -> Result<Vec<String>, Error> {
    let mut absent = Vec::new();
    let mut differ = Vec::new();
    let mut read = futures::stream::iter(blobs.iter().filter(|sha| !skip.contains(sha)))
        .map(|sha| async move { (sha, store.get(sha).await) })
        .buffered(PARALLEL);
    while let Some((sha, got)) = read.next().await {
        match got {
            Ok(_) => {}
            Err(BlobError::Missing { .. }) => absent.push(sha.clone()),
            Err(BlobError::Corrupt { .. }) => differ.push(sha.clone()),
            Err(e) => return Err(e.into()),
        }
    }
    match differ.is_empty() {
        true => Ok(absent),
        false => Err(Error::Differs {
            store: store.describe(),
            count: differ.len(),
            shas: shown(&differ),
        }),
    }
}

/// Add these blobs from the backup to the store; returns how many.
async fn add_blobs(backup: &BlobStore, store: &BlobStore, blobs: &[String]) -> Result<u64, Error> {
    for sha in blobs {
        store.put(&backup.get(sha).await?).await?;
    }
    Ok(blobs.len() as u64)
}

/// The first ten hashes, for a message.
fn shown(shas: &[String]) -> String {
    let first: Vec<&str> = shas.iter().take(10).map(String::as_str).collect();
    let more = if shas.len() > first.len() {
        ", ..."
    } else {
        ""
    };
    format!("{}{more}", first.join(", "))
}

/// Swap the backup's copy of a folder in for `target`, unless `target` already holds exactly
/// those files.
fn put_tree(
    from: &Path,
    entries: &[files::FileEntry],
    target: &Path,
    stamp: &str,
) -> Result<Option<PathBuf>, Error> {
    if files::same_tree(target, entries) {
        return Ok(None);
    }
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
    }
    let staged = sibling(target, "restore");
    if let Err(e) = files::copy_tree(from, &staged) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(e);
    }
    files::swap_in(&staged, target, stamp)
}

/// Rename the staged database into place; the old file and its WAL files are kept aside
/// together (a stale `-wal` next to the new file would be applied to it).
fn put_database(staged: &Path, target: &Path, stamp: &str) -> Result<Option<PathBuf>, Error> {
    let mut kept = None;
    for suffix in ["", "-wal", "-shm"] {
        let old = PathBuf::from(format!("{}{suffix}", target.display()));
        if old.exists() {
            let aside = PathBuf::from(format!(
                "{}.before-restore-{stamp}{suffix}",
                target.display()
            ));
            std::fs::rename(&old, &aside).map_err(Error::io(&old))?;
            if suffix.is_empty() {
                kept = Some(aside);
            }
        }
    }
    std::fs::rename(staged, target).map_err(Error::io(target))?;
    // Empty after `fold_wal`; never to be mistaken for a later copy's.
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", staged.display()));
    }
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        files::sync_dir(parent)?;
    }
    Ok(kept)
}

fn remove_db_files(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// `20261201T171500Z`: when a restore kept the previous files aside.
fn stamp() -> String {
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_else(|_| "0".into())
}

/// The file of an `sqlite:` database url (`None` for an in-memory database).
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or(path);
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_file_comes_from_the_url() {
        assert_eq!(
            sqlite_file("sqlite:///var/lib/loket/loket.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/loket/loket.db"))
        );
        assert_eq!(
            sqlite_file("sqlite://data/loket.db"),
            Some(PathBuf::from("data/loket.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
    }
}
