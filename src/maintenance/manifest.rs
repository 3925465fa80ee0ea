//! `manifest.json`, the table of contents of a backup folder: what was copied, from which loket,
//! and the hashes `loket restore` checks before it replaces anything.

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use super::files::FileEntry;
use super::Error;
use crate::filing::snapshot::Counts;

/// The layout of a backup folder; a restore refuses a format it does not know.
pub const FORMAT: u32 = 1;
pub const FILE: &str = "manifest.json";
/// The copy of the database, the blobs (`xx/<sha256>` as in `[storage] dir`), the rule files
/// and the templates, inside the backup folder.
pub const DATABASE: &str = "loket.db";
pub const BLOBS: &str = "blobs";
pub const RULES: &str = "rules";
pub const TEMPLATES: &str = "templates";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub loket_version: String,
    /// When the database was copied (RFC 3339, UTC).
    pub created_at: String,
    /// `sqlite` (PostgreSQL is backed up with pg_dump).
    pub database: String,
    /// The newest migration in the copy.
    pub schema_version: i64,
    pub database_sha256: String,
    pub database_bytes: u64,
    pub counts: Counts,
    /// Blobs the database refers to that were missing or damaged in the store when the backup
    /// was made (a restore can't bring them back).
    pub missing_blobs: Vec<String>,
    pub rules: Vec<FileEntry>,
    /// `None`: the templates folder did not exist (the built-in templates were in use).
    pub templates: Option<Vec<FileEntry>>,
}

impl Manifest {
    pub fn read(dir: &Path) -> Result<Self, Error> {
        let path = dir.join(FILE);
        let data = std::fs::read(&path).map_err(Error::io(&path))?;
        let manifest: Manifest =
            serde_json::from_slice(&data).map_err(|source| Error::Manifest {
                path: path.clone(),
                source,
            })?;
        if manifest.format != FORMAT || manifest.database != "sqlite" {
            return Err(Error::Unsupported(format!(
                "{}: backup format {} of a {} database; this loket restores format {FORMAT} \
                 of an sqlite database",
                path.display(),
                manifest.format,
                manifest.database
            )));
        }
        Ok(manifest)
    }

    pub fn write(&self, dir: &Path) -> Result<(), Error> {
        let path = dir.join(FILE);
        let json = serde_json::to_vec_pretty(self).map_err(|source| Error::Manifest {
            path: path.clone(),
            source,
        })?;
        super::files::write_synced(&path, &json)
    }
}
