//! File work for backups: folder trees copied with their hashes, files written durably, and
//! folders swapped into place by rename (so a reader sees the old tree or the new one).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Error;

/// One file of a copied folder (rules, templates), as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the folder, `/`-separated.
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

/// SHA-256 (hex) and size of a file, read in pieces (a database may be large).
pub fn hash_file(path: &Path) -> Result<(String, u64), Error> {
    let mut file = std::fs::File::open(path).map_err(Error::io(path))?;
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher).map_err(Error::io(path))?;
    Ok((hex::encode(hasher.finalize()), size))
}

/// Write `data` to `path` and fsync it.
pub fn write_synced(path: &Path, data: &[u8]) -> Result<(), Error> {
    let mut file = std::fs::File::create(path).map_err(Error::io(path))?;
    file.write_all(data).map_err(Error::io(path))?;
    file.sync_all().map_err(Error::io(path))
}

/// fsync a folder, so renames in it survive a power cut.
pub fn sync_dir(dir: &Path) -> Result<(), Error> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io(dir))
}

/// A fresh name next to `path` (same folder, hence same file system: renames are atomic),
/// e.g. `.rules.restore-3f2a…`.
pub fn sibling(path: &Path, tag: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let unique = uuid::Uuid::new_v4().simple().to_string();
    path.with_file_name(format!(".{name}.{tag}-{}", &unique[..12]))
}

/// Copy the regular files under `from` (following links, recursively) to `to`, which is
/// created; returns them sorted by path. Hidden files left by editors are copied too: the
/// office's folder is copied as it is.
pub fn copy_tree(from: &Path, to: &Path) -> Result<Vec<FileEntry>, Error> {
    let mut entries = Vec::new();
    walk(from, "", &mut |rel, data| {
        let path = to.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
        }
        write_synced(&path, data)?;
        entries.push(FileEntry {
            path: rel.to_string(),
            sha256: crate::filing::blobs::sha256_hex(data),
            size: data.len() as u64,
        });
        Ok(())
    })?;
    std::fs::create_dir_all(to).map_err(Error::io(to))?;
    sync_dir(to)?;
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(entries)
}

/// The files under `dir` with their hashes, sorted, as [`copy_tree`] would list them.
pub fn list_tree(dir: &Path) -> Result<Vec<FileEntry>, Error> {
    let mut entries = Vec::new();
    walk(dir, "", &mut |rel, data| {
        entries.push(FileEntry {
            path: rel.to_string(),
            sha256: crate::filing::blobs::sha256_hex(data),
            size: data.len() as u64,
        });
        Ok(())
    })?;
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(entries)
}

type Visit<'a> = dyn FnMut(&str, &[u8]) -> Result<(), Error> + 'a;

fn walk(dir: &Path, prefix: &str, visit: &mut Visit<'_>) -> Result<(), Error> {
    for entry in std::fs::read_dir(dir).map_err(Error::io(dir))? {
        let entry = entry.map_err(Error::io(dir))?;
        let path = entry.path();
        let rel = format!("{prefix}{}", entry.file_name().to_string_lossy());
        let meta = std::fs::metadata(&path).map_err(Error::io(&path))?;
        if meta.is_dir() {
            walk(&path, &format!("{rel}/"), visit)?;
        } else if meta.is_file() {
            let data = std::fs::read(&path).map_err(Error::io(&path))?;
            visit(&rel, &data)?;
        }
    }
    Ok(())
}

/// Problems with a copied folder against its list: missing, changed and unlisted files.
pub fn check_tree(dir: &Path, entries: &[FileEntry]) -> Vec<String> {
    let mut problems = Vec::new();
    for e in entries {
        let path = dir.join(&e.path);
        match hash_file(&path) {
            Ok((sha, _)) if sha == e.sha256 => {}
            Ok(_) => problems.push(format!("{}: content changed", path.display())),
            Err(_) => problems.push(format!("{}: missing", path.display())),
        }
    }
    problems
}

/// Does the folder `dir` hold exactly these files (nothing to restore there)?
pub fn same_tree(dir: &Path, entries: &[FileEntry]) -> bool {
    list_tree(dir).is_ok_and(|current| current == entries)
}

/// Put the folder `staged` in the place of `target` by renames; the folder that was there is
/// kept as `<target>.before-restore-<time>` (returned).
pub fn swap_in(staged: &Path, target: &Path, stamp: &str) -> Result<Option<PathBuf>, Error> {
    let kept = if target.exists() {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let kept = target.with_file_name(format!("{name}.before-restore-{stamp}"));
        std::fs::rename(target, &kept).map_err(Error::io(target))?;
        Some(kept)
    } else {
        None
    };
    std::fs::rename(staged, target).map_err(Error::io(target))?;
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent)?;
    }
    Ok(kept)
}
