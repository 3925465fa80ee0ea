//! Consistent copies of an SQLite database (`loket backup`) and what such a copy holds
//! (`loket restore` checks it before anything is replaced).
//!
//! `VACUUM INTO` writes a transactionally consistent copy through SQLite's own reader: the
//! worker keeps writing (WAL), the copy is the database as of one moment, compacted, in
//! rollback-journal mode, a single self-contained file. PostgreSQL has pg_dump for this.

use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sqlx::any::AnyConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::store::{Conn, QueryContext, Store, StoreError};

/// How much a database holds, as the backup manifest records it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub cases: i64,
    pub documents: i64,
    pub messages: i64,
    /// Distinct blobs that unpurged documents and messages refer to.
    pub blobs: i64,
}

impl Store {
    /// Write a consistent copy of this SQLite database to `path` (which must not exist) while
    /// other connections and processes keep writing.
    pub async fn snapshot_into(&self, path: &Path) -> Result<(), StoreError> {
        let target = path
            .to_str()
            .ok_or_else(|| StoreError::NotFound(format!("{}: not a UTF-8 path", path.display())))?;
        let mut conn = self.conn().await?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&mut *conn)
            .await
            .what("copy the database (VACUUM INTO)")?;
        Ok(())
    }
}

/// An SQLite database file opened on its own, read-only: no pool, no migration, no change to
/// the file (a backup's copy is hashed).
pub struct Snapshot {
    conn: Conn,
}

impl Snapshot {
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let url = format!("sqlite://{}?mode=ro", path.display());
        let connect_err = |source| StoreError::Connect {
            target: path.display().to_string(),
            source,
        };
        let conn = AnyConnectOptions::from_str(&url)
            .map_err(connect_err)?
            .disable_statement_logging()
            .connect()
            .await
            .map_err(connect_err)?;
        Ok(Self { conn })
    }

    pub fn conn(&mut self) -> &mut Conn {
        &mut self.conn
    }

    pub async fn close(self) {
        let _ = self.conn.close().await;
    }
}

/// How many cases, documents, messages and referenced blobs the database holds (0 for a
/// database without tables yet).
pub async fn counts(conn: &mut Conn) -> Result<Counts, StoreError> {
    if !has_cases_table(conn).await? {
        return Ok(Counts::default());
    }
    let (cases, documents, messages, blobs): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM cases), (SELECT COUNT(*) FROM documents), \
                (SELECT COUNT(*) FROM messages), \
                (SELECT COUNT(*) FROM (SELECT sha256 FROM documents WHERE purged_at IS NULL \
                       UNION SELECT sha256 FROM messages WHERE purged_at IS NULL) s)",
    )
    .fetch_one(conn)
    .await
    .what("count what the database holds")?;
    Ok(Counts {
        cases,
        documents,
        messages,
        blobs,
    })
}

/// Every blob that an unpurged document or message refers to, sorted.
pub async fn referenced_blobs(conn: &mut Conn) -> Result<Vec<String>, StoreError> {
    sqlx::query_scalar(
        "SELECT sha256 FROM documents WHERE purged_at IS NULL \
         UNION SELECT sha256 FROM messages WHERE purged_at IS NULL ORDER BY 1",
    )
    .fetch_all(conn)
    .await
    .what("list referenced blobs")
}

/// The newest migration applied (0 for an empty database).
pub async fn schema_version(conn: &mut Conn) -> Result<i64, StoreError> {
    let has: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(&mut *conn)
    .await
    .what("look for the migrations table")?;
    if has == 0 {
        return Ok(0);
    }
    let v: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(conn)
        .await
        .what("read the schema version")?;
    Ok(v.unwrap_or(0))
}

async fn has_cases_table(conn: &mut Conn) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'cases'",
    )
    .fetch_one(conn)
    .await
    .what("look for the cases table")?;
    Ok(n > 0)
}

/// The processes a restored copy lists were running when the backup was made, not now: mark
/// them stopped, so the restored office does not look busy (and `restore` does not refuse to
/// run again because of workers that exist only in the copy).
pub async fn forget_processes(conn: &mut Conn) -> Result<u64, StoreError> {
    let done = sqlx::query("UPDATE workers SET stopped_at = $1 WHERE stopped_at IS NULL")
        .bind(super::now_ms())
        .execute(conn)
        .await
        .what("mark the backup's workers stopped")?;
    Ok(done.rows_affected())
}
