//! Content-addressed blob store: every raw message and document, by SHA-256, in a local folder
//! (`[storage] dir`, the default) or in an S3-compatible object store (`[storage] url`), so that
//! workers on several machines read the same documents.
//!
//! Blobs are write-once: a blob is stored under its own hash (`ab/abcdef…`), so writing the same
//! content twice is a no-op and two writers racing store the same bytes. In a folder a blob is
//! written to a temporary file, made durable (an fsync; for a group of blobs one sync of the
//! file system for all) and renamed into place, so a crash leaves either the whole blob or
//! none; an object store makes a PUT atomic itself. Blobs are written *before* the
//! database row that refers to them, so a row never points at a missing blob (an orphan blob
//! after a crash is harmless). Every blob read back is checked against its hash.
//!
//! A store that cannot be reached is an outage ([`BlobError::is_transient`]): the step waits
//! and is tried again, it is never parked for it. A missing or damaged blob is not an outage.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, RetryConfig};
use sha2::{Digest, Sha256};

use futures::StreamExt;

use super::blob_refs::{self, BlobRef};
use super::{Store, StoreError};
use crate::config::{self, Storage};

/// What went wrong with a blob. Messages name the blob and the store, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob {sha} is missing from {store}")]
    Missing { store: String, sha: String },
    #[error("blob {sha} in {store}: content does not match its SHA-256 (damaged in the store)")]
    Corrupt { store: String, sha: String },
    #[error("blob store {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("object store {store} (blob {sha}): {source}")]
    Remote {
        store: String,
        sha: String,
        #[source]
        source: object_store::Error,
    },
    #[error("storage: {0}")]
    Config(String),
}

impl BlobError {
    /// The object store could not be reached or refused to answer: retried, never parked.
    /// (A missing or damaged blob, or a local folder's I/O error, is a real failure.)
    pub fn is_transient(&self) -> bool {
        matches!(self, BlobError::Remote { .. })
    }

    /// The hash of the blob this error is about, if it is about one blob.
    pub fn sha(&self) -> Option<&str> {
        match self {
            BlobError::Missing { sha, .. }
            | BlobError::Corrupt { sha, .. }
            | BlobError::Remote { sha, .. } => Some(sha),
            BlobError::Io { .. } | BlobError::Config(_) => None,
        }
    }
}

/// Hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Where blobs live; cheap to clone (one HTTP client for all clones).
#[derive(Debug, Clone)]
pub struct BlobStore {
    backend: Backend,
}

#[derive(Debug, Clone)]
enum Backend {
    Dir(PathBuf),
    Object {
        store: Arc<dyn ObjectStore>,
        prefix: ObjectPath,
        /// `s3://BUCKET/PREFIX`, for messages.
        name: String,
    },
}

/// How long one request may take before the store counts as down for this attempt: short, as
/// the step itself is retried with backoff (object_store's own default retries for 3 minutes).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl BlobStore {
    /// A store in a local folder.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            backend: Backend::Dir(dir.into()),
        }
    }

    /// The store `[storage]` names: an object store when `url` is set, else the folder `dir`.
    /// Reads the secret key (inline, file or env); nothing is contacted yet.
    pub fn open(cfg: &Storage) -> Result<Self, BlobError> {
        let Some(url) = &cfg.url else {
            return Ok(Self::new(&cfg.dir));
        };
        let target = config::S3Url::parse(url).map_err(BlobError::Config)?;
        let secret = config::read_secret(
            &cfg.secret_access_key,
            &cfg.secret_access_key_file,
            "storage.secret_access_key",
        )
        .map_err(BlobError::Config)?;
        let key_id = cfg.access_key_id.clone().ok_or_else(|| {
            BlobError::Config("storage.access_key_id is required with storage.url".into())
        })?;
        // reqwest is built without a bundled TLS provider: use ring, as the rest of loket does.
        // An error only means a provider is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&target.bucket)
            .with_region(cfg.region.as_deref().unwrap_or("us-east-1"))
            .with_access_key_id(key_id)
            .with_secret_access_key(config::expose(&secret))
            // Self-hosted stores (Garage, MinIO) have no per-bucket host names.
            .with_virtual_hosted_style_request(false)
            .with_retry(RetryConfig {
                max_retries: 2,
                retry_timeout: Duration::from_secs(20),
                ..RetryConfig::default()
            })
            .with_client_options(
                ClientOptions::new()
                    .with_timeout(REQUEST_TIMEOUT)
                    .with_connect_timeout(CONNECT_TIMEOUT)
                    // Plain http only to this machine (config checks refuse it elsewhere).
                    .with_allow_http(cfg.endpoint.as_deref().is_some_and(config::is_loopback_url)),
            );
        if let Some(endpoint) = &cfg.endpoint {
            builder = builder.with_endpoint(endpoint.trim_end_matches('/'));
        }
        let store = builder
            .build()
            .map_err(|e| BlobError::Config(format!("storage.url {url}: {e}")))?;
        Ok(Self {
            backend: Backend::Object {
                store: Arc::new(store),
                prefix: ObjectPath::from(target.prefix.as_str()),
                name: format!("s3://{}/{}", target.bucket, target.prefix),
            },
        })
    }

    /// The local folder, when blobs are kept in one (backups copy it).
    pub fn dir(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Dir(dir) => Some(dir),
            Backend::Object { .. } => None,
        }
    }

    /// Where the blobs are, for messages: a folder or `s3://BUCKET/PREFIX`.
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Dir(dir) => dir.display().to_string(),
            Backend::Object { name, .. } => name.clone(),
        }
    }

    /// The object name of a blob under the prefix: `PREFIX/ab/abcdef…`.
    pub fn object_path(&self, sha: &str) -> Option<ObjectPath> {
        match &self.backend {
            Backend::Dir(_) => None,
            Backend::Object { prefix, .. } => Some(object_path(prefix, sha)),
        }
    }

    /// Store several blobs durably (a group of fetched messages, a message's attachments);
    /// returns their SHA-256s in order. In a folder every new blob is written first and the
    /// file system synced once for all of them (twice: contents, then names), instead of two
    /// fsyncs per blob, which were most of the time a fetch took.
    pub async fn put_all(&self, datas: Vec<Vec<u8>>) -> Result<Vec<String>, BlobError> {
        match &self.backend {
            Backend::Dir(dir) => {
                let dir = dir.clone();
                tokio::task::spawn_blocking(move || put_files(&dir, &datas))
                    .await
                    .map_err(|e| BlobError::Config(format!("blob writer stopped: {e}")))?
            }
            Backend::Object { .. } => {
                let mut shas = Vec::with_capacity(datas.len());
                for data in &datas {
                    shas.push(self.put(data).await?);
                }
                Ok(shas)
            }
        }
    }

    /// Store `data` durably; returns its SHA-256 (hex).
    pub async fn put(&self, data: &[u8]) -> Result<String, BlobError> {
        let sha = sha256_hex(data);
        match &self.backend {
            Backend::Dir(dir) => {
                let (dir, sha, data) = (dir.clone(), sha.clone(), data.to_vec());
                tokio::task::spawn_blocking(move || put_file(&dir, &sha, &data))
                    .await
                    .map_err(|e| BlobError::Config(format!("blob writer stopped: {e}")))??;
            }
            Backend::Object {
                store,
                prefix,
                name,
            } => {
                let location = object_path(prefix, &sha);
                let remote = |source| BlobError::Remote {
                    store: name.clone(),
                    sha: sha.clone(),
                    source,
                };
                // Write-once: content under its own hash never changes. An object stored long
                // ago is written again (the same bytes) so that its time tells `loket purge`
                // that a writer is about to refer to it again, as a folder's file time does.
                match store.head(&location).await {
                    Ok(meta)
                        if meta.size == data.len() as u64
                            && !stale(SystemTime::from(meta.last_modified)) =>
                    {
                        return Ok(sha)
                    }
                    Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(remote(e)),
                }
                store
                    .put(&location, data.to_vec().into())
                    .await
                    .map_err(remote)?;
            }
        }
        Ok(sha)
    }

    /// Read a blob back, checked against its hash: a blob damaged in the store is an error of
    /// the step that reads it (recorded, and parked after repeated attempts), never wrong
    /// content.
    pub async fn get(&self, sha: &str) -> Result<Vec<u8>, BlobError> {
        let data = match &self.backend {
            Backend::Dir(dir) => {
                let path = file_path(dir, sha);
                match tokio::fs::read(&path).await {
                    Ok(data) => data,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        return Err(BlobError::Missing {
                            store: dir.display().to_string(),
                            sha: sha.to_string(),
                        })
                    }
                    Err(source) => return Err(BlobError::Io { path, source }),
                }
            }
            Backend::Object {
                store,
                prefix,
                name,
            } => {
                let remote = |source| match source {
                    object_store::Error::NotFound { .. } => BlobError::Missing {
                        store: name.clone(),
                        sha: sha.to_string(),
                    },
                    source => BlobError::Remote {
                        store: name.clone(),
                        sha: sha.to_string(),
                        source,
                    },
                };
                let got = store.get(&object_path(prefix, sha)).await.map_err(remote)?;
                got.bytes().await.map_err(remote)?.to_vec()
            }
        };
        if sha256_hex(&data) != sha {
            return Err(BlobError::Corrupt {
                store: self.describe(),
                sha: sha.to_string(),
            });
        }
        Ok(data)
    }
}

/// A blob the database refers to that cannot be read back intact.
#[derive(Debug)]
pub struct BadBlob {
    pub sha256: String,
    /// What is wrong: missing, damaged, unreadable (the error, naming the blob).
    pub problem: BlobError,
    /// The rows that refer to it.
    pub refs: Vec<BlobRef>,
}

/// What [`verify`] found.
#[derive(Debug, Default)]
pub struct VerifyReport {
    /// Distinct blobs checked.
    pub checked: usize,
    pub bad: Vec<BadBlob>,
}

/// Why [`verify`] could not finish.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The object store is down: nothing can be said about the blobs.
    #[error(transparent)]
    Unreachable(BlobError),
}

/// Blobs read back at once while verifying: enough to hide an object store's latency, few
/// enough that large documents don't fill memory.
const VERIFY_PARALLEL: usize = 4;

/// Read back every blob the database refers to (documents and raw messages) and check it
/// against its hash. A store that is down stops the check (an outage is not a finding).
pub async fn verify(store: &Store, blobs: &BlobStore) -> Result<VerifyReport, VerifyError> {
    let refs = {
        let mut conn = store.conn().await?;
        blob_refs::all(&mut conn).await?
    };
    let mut by_blob: Vec<(String, Vec<BlobRef>)> = Vec::new();
    for r in refs {
        match by_blob.last_mut() {
            Some((sha, list)) if *sha == r.sha256 => list.push(r),
            _ => by_blob.push((r.sha256.clone(), vec![r])),
        }
    }
    let checked = by_blob.len();
    let mut results = futures::stream::iter(by_blob)
        .map(|(sha, refs)| async move {
            let outcome = blobs.get(&sha).await.map(drop);
            (sha, refs, outcome)
        })
        .buffer_unordered(VERIFY_PARALLEL);
    let mut bad = Vec::new();
    while let Some((sha256, refs, outcome)) = results.next().await {
        match outcome {
            Ok(()) => {}
            Err(e) if e.is_transient() => return Err(VerifyError::Unreachable(e)),
            Err(problem) => bad.push(BadBlob {
                sha256,
                problem,
                refs,
            }),
        }
    }
    bad.sort_by(|a, b| a.sha256.cmp(&b.sha256));
    Ok(VerifyReport { checked, bad })
}

fn object_path(prefix: &ObjectPath, sha: &str) -> ObjectPath {
    let shard = sha.get(..2).unwrap_or(sha);
    prefix.clone().join(shard).join(sha)
}

fn file_path(dir: &Path, sha: &str) -> PathBuf {
    dir.join(sha.get(..2).unwrap_or(sha)).join(sha)
}

/// A blob already in the folder gets a fresh time, which tells `loket purge` that a writer is
/// about to refer to it again (see `remove_unreferenced`); best effort, the content is there.
/// False when it is not there.
fn refresh_existing(path: &Path) -> bool {
    if !path.exists() {
        return false;
    }
    let _ = std::fs::File::options()
        .append(true)
        .open(path)
        .and_then(|f| f.set_modified(std::time::SystemTime::now()));
    true
}

/// Write blobs into the folder with two syncs of its file system in all: every new blob to a
/// temporary file, sync (the contents are on disk), rename each into place, sync (the names
/// are). A crash leaves each blob whole or absent, as [`put_file`] does for one.
fn put_files(dir: &Path, datas: &[Vec<u8>]) -> Result<Vec<String>, BlobError> {
    let shas: Vec<String> = datas.iter().map(|d| sha256_hex(d)).collect();
    let mut pending: Vec<(PathBuf, PathBuf)> = Vec::new();
    for (sha, data) in shas.iter().zip(datas) {
        let path = file_path(dir, sha);
        if refresh_existing(&path) || pending.iter().any(|(_, p)| *p == path) {
            continue;
        }
        let (_, tmp) = write_temp(dir, &path, sha, data)?;
        pending.push((tmp, path));
    }
    if pending.is_empty() {
        return Ok(shas);
    }
    sync_file_system(dir)?;
    for (tmp, path) in &pending {
        std::fs::rename(tmp, path).map_err(|source| BlobError::Io {
            path: path.clone(),
            source,
        })?;
    }
    sync_file_system(dir)?;
    Ok(shas)
}

/// Flush everything written to the file system holding `dir` (`syncfs`): one call for a
/// group of files instead of an fsync of each file and each folder.
fn sync_file_system(dir: &Path) -> Result<(), BlobError> {
    use std::os::fd::AsRawFd;
    let err = |source| BlobError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let handle = std::fs::File::open(dir).map_err(err)?;
    // SAFETY: `syncfs` only reads the descriptor, which `handle` keeps open for the call.
    if unsafe { libc::syncfs(handle.as_raw_fd()) } != 0 {
        return Err(err(std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Write a blob into the folder: temp file, fsync, rename, fsync the folder.
fn put_file(dir: &Path, sha: &str, data: &[u8]) -> Result<(), BlobError> {
    let path = file_path(dir, sha);
    if refresh_existing(&path) {
        return Ok(());
    }
    let err = |source| BlobError::Io {
        path: path.clone(),
        source,
    };
    let (file, tmp) = write_temp(dir, &path, sha, data)?;
    file.sync_all().map_err(err)?;
    std::fs::rename(&tmp, &path).map_err(err)?;
    sync_dir(path.parent().unwrap_or(dir)).map_err(err)?;
    Ok(())
}

/// Write `data` to a temporary file beside `path`, its blob's place (not synced yet); gives the
/// open file and the temporary name.
fn write_temp(
    dir: &Path,
    path: &Path,
    sha: &str,
    data: &[u8],
) -> Result<(std::fs::File, PathBuf), BlobError> {
    let err = |source| BlobError::Io {
        path: path.to_path_buf(),
        source,
    };
    let parent = path.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent).map_err(err)?;
    // Unique per writer: two steps may store the same content at the same moment.
    let tmp = parent.join(format!(".{sha}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut file = std::fs::File::create(&tmp).map_err(err)?;
    file.write_all(data).map_err(err)?;
    Ok((file, tmp))
}

impl BlobStore {
    /// Remove a blob no database row refers to any more (`loket purge`). The caller checked the
    /// rows; but a writer stores a blob *before* committing the row that refers to it, and a
    /// `put` of content already here only refreshes its time (a file's modification time; an
    /// object older than [`REFRESH_AFTER`] is written again). So a blob stored or re-stored
    /// less than `grace` before `now` stays (a later purge takes it).
    pub async fn remove_unreferenced(
        &self,
        sha: &str,
        now: SystemTime,
        grace: Duration,
    ) -> Result<Removal, BlobError> {
        if !is_sha256(sha) {
            return Ok(Removal::Missing);
        }
        match &self.backend {
            Backend::Dir(dir) => {
                let path = file_path(dir, sha);
                tokio::task::spawn_blocking(move || remove_file_unless_recent(&path, now, grace))
                    .await
                    .map_err(|e| BlobError::Config(format!("blob remover stopped: {e}")))?
            }
            Backend::Object {
                store,
                prefix,
                name,
            } => {
                let location = object_path(prefix, sha);
                let remote = |source| BlobError::Remote {
                    store: name.clone(),
                    sha: sha.to_string(),
                    source,
                };
                let meta = match store.head(&location).await {
                    Ok(meta) => meta,
                    Err(object_store::Error::NotFound { .. }) => return Ok(Removal::Missing),
                    Err(e) => return Err(remote(e)),
                };
                if SystemTime::from(meta.last_modified) + grace > now {
                    return Ok(Removal::Recent);
                }
                match store.delete(&location).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(remote(e)),
                }
                Ok(Removal::Removed { bytes: meta.size })
            }
        }
    }
}

/// An object stored this long ago is written again when its content is stored again, so its
/// time is at most this old when a writer is about to refer to it: far less than purge's grace
/// period, so a purge never removes an object a row is being committed for.
pub const REFRESH_AFTER: Duration = Duration::from_secs(3600);

fn stale(last_modified: SystemTime) -> bool {
    last_modified + REFRESH_AFTER < SystemTime::now()
}

fn remove_file_unless_recent(
    path: &Path,
    now: SystemTime,
    grace: Duration,
) -> Result<Removal, BlobError> {
    let err = |source| BlobError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Removal::Missing),
        Err(e) => return Err(err(e)),
    };
    let modified = meta.modified().map_err(err)?;
    if modified + grace > now {
        return Ok(Removal::Recent);
    }
    std::fs::remove_file(path).map_err(err)?;
    Ok(Removal::Removed { bytes: meta.len() })
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

    #[tokio::test]
    async fn a_group_of_blobs_is_stored_whole_in_order_with_no_temporary_file_left() {
        let tmp = tempfile::tempdir().unwrap();
        let store = BlobStore::new(tmp.path());
        let earlier = store.put(b"ktp").await.unwrap();
        let datas = vec![
            b"surat".to_vec(),
            b"ktp".to_vec(),
            b"surat".to_vec(),
            Vec::new(),
        ];
        let shas = store.put_all(datas.clone()).await.unwrap();
        assert_eq!(shas.len(), 4);
        assert_eq!(shas[1], earlier);
        assert_eq!(shas[0], shas[2]);
        for (sha, data) in shas.iter().zip(&datas) {
            assert_eq!(&store.get(sha).await.unwrap(), data);
        }
        let leftovers: Vec<_> = walk(tmp.path())
            .into_iter()
            .filter(|p| p.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
        assert!(store.put_all(Vec::new()).await.unwrap().is_empty());
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out
    }

    #[tokio::test]
    async fn an_unreferenced_blob_goes_unless_it_was_stored_again_recently() {
        let tmp = tempfile::tempdir().unwrap();
        let store = BlobStore::new(tmp.path());
        let sha = store.put(b"ktp lama").await.unwrap();
        let day = std::time::Duration::from_secs(86_400);
        let now = std::time::SystemTime::now();
        assert_eq!(
            store.remove_unreferenced(&sha, now, day).await.unwrap(),
            Removal::Recent
        );
        let later = now + 2 * day;
        assert_eq!(
            store.remove_unreferenced(&sha, later, day).await.unwrap(),
            Removal::Removed { bytes: 8 }
        );
        assert!(store.get(&sha).await.is_err());
        assert_eq!(
            store.remove_unreferenced(&sha, later, day).await.unwrap(),
            Removal::Missing
        );
        assert_eq!(
            store.remove_unreferenced("../x", later, day).await.unwrap(),
            Removal::Missing
        );
        // An old blob stored again (a new case with the same KTP) counts as new.
        let sha = store.put(b"ktp lama").await.unwrap();
        let path = file_path(tmp.path(), &sha);
        let file = std::fs::File::options().append(true).open(&path).unwrap();
        file.set_modified(now - 3 * day).unwrap();
        store.put(b"ktp lama").await.unwrap();
        assert_eq!(
            store
                .remove_unreferenced(&sha, now + day / 2, day)
                .await
                .unwrap(),
            Removal::Recent
        );
    }

    #[tokio::test]
    async fn same_content_is_stored_once_and_read_back() {
        let tmp = tempfile::tempdir().unwrap();
        let store = BlobStore::new(tmp.path());
        let a = store.put(b"surat permohonan").await.unwrap();
        let b = store.put(b"surat permohonan").await.unwrap();
        assert_eq!(a, b);
        assert_eq!(store.get(&a).await.unwrap(), b"surat permohonan");
    }

    #[tokio::test]
    async fn a_damaged_blob_is_an_error_naming_it_not_wrong_content() {
        let tmp = tempfile::tempdir().unwrap();
        let store = BlobStore::new(tmp.path());
        let sha = store.put(b"surat permohonan").await.unwrap();
        std::fs::write(file_path(tmp.path(), &sha), b"surat palsu").unwrap();
        let err = store.get(&sha).await.unwrap_err();
        assert!(matches!(err, BlobError::Corrupt { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("does not match") && text.contains(&sha),
            "{text}"
        );
        assert!(!err.is_transient());
    }

    #[tokio::test]
    async fn a_missing_blob_is_named_and_is_not_an_outage() {
        let tmp = tempfile::tempdir().unwrap();
        let store = BlobStore::new(tmp.path());
        let sha = sha256_hex(b"never stored");
        let err = store.get(&sha).await.unwrap_err();
        assert!(matches!(err, BlobError::Missing { .. }), "{err:?}");
        assert!(err.to_string().contains(&sha), "{err}");
        assert!(!err.is_transient());
    }

    #[tokio::test]
    async fn an_object_store_that_is_down_is_an_outage() {
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = dead.local_addr().unwrap().port();
        drop(dead);
        let cfg = Storage {
            dir: "unused".into(),
            url: Some("s3://loket/kantor".into()),
            endpoint: Some(format!("http://127.0.0.1:{port}")),
            region: Some("garage".into()),
            access_key_id: Some("GK0000".into()),
            secret_access_key: Some("rahasia-sekali".to_string().into()),
            secret_access_key_file: None,
        };
        let store = BlobStore::open(&cfg).unwrap();
        assert_eq!(store.describe(), "s3://loket/kantor");
        let err = store.put(b"surat").await.unwrap_err();
        assert!(err.is_transient(), "{err:?}");
        let text = crate::pipeline::error_chain(&err);
        assert!(text.contains("s3://loket/kantor"), "{text}");
        assert!(!text.contains("rahasia-sekali"), "{text}");
    }
}
