//! Content-addressed blob store: every raw message and document, by SHA-256, on local disk.
//!
//! A blob is written to a temporary file, fsynced and renamed into place, so a crash leaves either
//! the whole blob or none; writing the same content twice is a no-op. Blobs are written *before*
//! the database row that refers to them, so a row never points at a missing blob (an orphan blob
//! after a crash is harmless).

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
#[error("blob store {path}: {source}")]
pub struct BlobError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
}

/// Hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

impl BlobStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn path_of(&self, sha: &str) -> PathBuf {
        self.dir.join(&sha[..2]).join(sha)
    }

    /// Store `data` durably; returns its SHA-256 (hex).
    pub fn put(&self, data: &[u8]) -> Result<String, BlobError> {
        let sha = sha256_hex(data);
        let path = self.path_of(&sha);
        if path.exists() {
            // A fresh time tells `loket purge` that a writer is about to refer to this blob
            // again (see `remove_unreferenced`); best effort, the content is already there.
            let _ = std::fs::File::options()
                .append(true)
                .open(&path)
                .and_then(|f| f.set_modified(std::time::SystemTime::now()));
            return Ok(sha);
        }
        let err = |source| BlobError {
            path: path.clone(),
            source,
        };
        let parent = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(parent).map_err(err)?;
        // Unique per writer: two steps may store the same content at the same moment.
        let tmp = parent.join(format!(".{sha}.{}.tmp", uuid::Uuid::new_v4().simple()));
        let mut file = std::fs::File::create(&tmp).map_err(err)?;
        file.write_all(data).map_err(err)?;
        file.sync_all().map_err(err)?;
        std::fs::rename(&tmp, &path).map_err(err)?;
        sync_dir(parent).map_err(err)?;
        Ok(sha)
    }

    /// Read a blob back, checked against its hash: a file damaged on disk is an error of the
    /// step that reads it (recorded, and parked after repeated attempts), never wrong content.
    pub fn get(&self, sha: &str) -> Result<Vec<u8>, BlobError> {
        let path = self.path_of(sha);
        let data = std::fs::read(&path).map_err(|source| BlobError {
            path: path.clone(),
            source,
        })?;
        if sha256_hex(&data) != sha {
            return Err(BlobError {
                path,
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "content does not match its SHA-256 (damaged on disk)",
                ),
            });
        }
        Ok(data)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Remove a blob no database row refers to any more (`loket purge`). The caller checked the
    /// rows; but a writer stores a blob *before* committing the row that refers to it, and a
    /// `put` of content already here only refreshes the file's time. So a blob stored or
    /// re-stored less than `grace` before `now` stays (a later purge takes it).
    pub fn remove_unreferenced(
        &self,
        sha: &str,
        now: std::time::SystemTime,
        grace: std::time::Duration,
    ) -> Result<Removal, BlobError> {
        if !is_sha256(sha) {
            return Ok(Removal::Missing);
        }
        let path = self.path_of(sha);
        let err = |source| BlobError {
            path: path.clone(),
            source,
        };
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Removal::Missing),
            Err(e) => return Err(err(e)),
        };
        let modified = meta.modified().map_err(err)?;
        if modified + grace > now {
            return Ok(Removal::Recent);
        }
        std::fs::remove_file(&path).map_err(err)?;
        Ok(Removal::Removed { bytes: meta.len() })
    }
}

/// What [`BlobStore::remove_unreferenced`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Removed {
        bytes: u64,
    },
    /// Stored or re-stored within the grace period: kept for now.
    Recent,
    /// Not there (removed before, or never stored).
    Missing,
}

/// Is `s` a hex SHA-256, as blob names are?
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// fsync a directory so a rename in it survives a power cut.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_content_is_stored_once_and_read_back() {
        let tmp = tempfile::tempdir().unwrap();
        let store = BlobStore::new(tmp.path());
        let a = store.put(b"surat permohonan").unwrap();
        let b = store.put(b"surat permohonan").unwrap();
        assert_eq!(a, b);
        assert_eq!(store.get(&a).unwrap(), b"surat permohonan");
    }

    #[test]
    fn an_unreferenced_blob_goes_unless_it_was_stored_again_recently() {
        let tmp = tempfile::tempdir().unwrap();
        let store = BlobStore::new(tmp.path());
        let sha = store.put(b"ktp lama").unwrap();
        let day = std::time::Duration::from_secs(86_400);
        let now = std::time::SystemTime::now();
        assert_eq!(
            store.remove_unreferenced(&sha, now, day).unwrap(),
            Removal::Recent
        );
        let later = now + 2 * day;
        assert_eq!(
            store.remove_unreferenced(&sha, later, day).unwrap(),
            Removal::Removed { bytes: 8 }
        );
        assert!(store.get(&sha).is_err());
        assert_eq!(
            store.remove_unreferenced(&sha, later, day).unwrap(),
            Removal::Missing
        );
        assert_eq!(
            store.remove_unreferenced("../x", later, day).unwrap(),
            Removal::Missing
        );
        // An old blob stored again (a new case with the same KTP) counts as new.
        let sha = store.put(b"ktp lama").unwrap();
        let path = store.path_of(&sha);
        let file = std::fs::File::options().append(true).open(&path).unwrap();
        file.set_modified(now - 3 * day).unwrap();
        store.put(b"ktp lama").unwrap();
        assert_eq!(
            store.remove_unreferenced(&sha, now + day / 2, day).unwrap(),
            Removal::Recent
        );
    }

    #[test]
    fn a_damaged_blob_is_an_error_not_wrong_content() {
        let tmp = tempfile::tempdir().unwrap();
        let store = BlobStore::new(tmp.path());
        let sha = store.put(b"surat permohonan").unwrap();
        std::fs::write(store.path_of(&sha), b"surat palsu").unwrap();
        let err = store.get(&sha).unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
    }
}
