//! The database handle: connecting, migrating, and the error type of every query.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

/// Migrations per backend (types differ), applied in order; the index is the schema version.
const SQLITE_MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_init.sql"),
    include_str!("../../migrations/sqlite/0003_page_results.sql"),
];
const POSTGRES_MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_init.sql"),
    include_str!("../../migrations/postgres/0003_page_results.sql"),
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {target} unreachable: {source}")]
    Connect {
        target: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("database migration {version} failed: {source}")]
    Migrate {
        version: usize,
        #[source]
        source: sqlx::Error,
    },
    #[error("database query ({what}) failed: {source}")]
    Query {
        what: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("{0}")]
    NotFound(String),
}

impl StoreError {
    /// Could trying again later help (lost connection, pool exhausted, database busy)?
    pub fn is_transient(&self) -> bool {
        let source = match self {
            StoreError::Connect { .. } => return true,
            StoreError::Query { source, .. } | StoreError::Migrate { source, .. } => source,
            StoreError::NotFound(_) => return false,
        };
        match source {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
            sqlx::Error::Database(db) => {
                let msg = db.message();
                msg.contains("database is locked") || msg.contains("busy")
            }
            _ => false,
        }
    }
}

/// Attach a description to a sqlx error.
pub(crate) trait QueryContext<T> {
    fn what(self, what: &'static str) -> Result<T, StoreError>;
}

impl<T> QueryContext<T> for Result<T, sqlx::Error> {
    fn what(self, what: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Query { what, source })
    }
}

/// A connection pool to SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct Store {
    pub pool: AnyPool,
    postgres: bool,
}

/// Where the database is, without any password, for error messages.
fn redacted_target(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host_part = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
            format!("{scheme}://{host_part}")
        }
        None => "(invalid url)".into(),
    }
}

impl Store {
    /// Connect and bring the schema up to date.
    pub async fn open(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let postgres = url.starts_with("postgres");
        let url = if postgres {
            url.to_string()
        } else {
            prepare_sqlite(url)
        };
        let target = redacted_target(&url);
        let connect_err = |source| StoreError::Connect {
            target: target.clone(),
            source,
        };
        let options = AnyConnectOptions::from_str(&url)
            .map_err(connect_err)?
            .disable_statement_logging();
        if !postgres {
            // WAL lets readers (the CLI) work while the worker writes; it is a property of the
            // file, so set it once on a single connection before the pool opens.
            let mut conn = options.connect().await.map_err(connect_err)?;
            conn.execute("PRAGMA journal_mode=WAL")
                .await
                .map_err(connect_err)?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(if postgres {
                max_connections
            } else {
                max_connections.max(2)
            })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if !postgres {
                        // WAL + NORMAL: a commit survives a crash of the process without an
                        // fsync each; before anything outside changes (a message moved out of
                        // the inbox, a scan moved out of the spool) `sync` makes it survive a
                        // power cut too.
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(connect_err)?;
        let store = Self { pool, postgres };
        store.migrate().await?;
        Ok(store)
    }

    /// Make every committed transaction durable on disk. SQLite with `synchronous = NORMAL` syncs
    /// its WAL only at checkpoints: call this before changing anything outside the database on
    /// the strength of a commit. PostgreSQL commits are durable already.
    pub async fn sync(&self) -> Result<(), StoreError> {
        if !self.postgres {
            sqlx::query("PRAGMA wal_checkpoint(FULL)")
                .execute(&self.pool)
                .await
                .what("checkpoint")?;
        }
        Ok(())
    }

    /// Begin a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads first can't upgrade while another
    /// worker commits, and fails instead of waiting.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        let tx = if self.postgres {
            self.pool.begin().await
        } else {
            self.pool.begin_with("BEGIN IMMEDIATE").await
        };
        tx.what("begin transaction")
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let migrations = if self.postgres {
            POSTGRES_MIGRATIONS
        } else {
            SQLITE_MIGRATIONS
        };
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
            .execute(&self.pool)
            .await
            .map_err(|source| StoreError::Migrate { version: 0, source })?;
        let mut tx = self.pool.begin().await.what("begin migration")?;
        if self.postgres {
            // Two workers starting at once must not both migrate.
            sqlx::query("LOCK TABLE schema_version IN EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await
                .what("lock schema_version")?;
        }
        let current: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_version")
            .fetch_one(&mut *tx)
            .await
            .what("read schema version")?;
        let current = current.unwrap_or(0) as usize;
        for (i, sql) in migrations.iter().enumerate().skip(current) {
            let version = i + 1;
            sqlx::raw_sql(sql)
                .execute(&mut *tx)
                .await
                .map_err(|source| StoreError::Migrate { version, source })?;
            sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
                .bind(version as i64)
                .execute(&mut *tx)
                .await
                .map_err(|source| StoreError::Migrate { version, source })?;
        }
        tx.commit().await.what("commit migration")?;
        Ok(())
    }
}

/// Make sure the SQLite file's folder exists and the file is created if missing.
fn prepare_sqlite(url: &str) -> String {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or(path);
    if let Some(parent) = std::path::Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            let _ = std::fs::create_dir_all(parent);
        }
    }
    if url.contains("mode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_error_messages() {
        assert_eq!(
            redacted_target("postgres://loket:geheim@db:5432/loket"),
            "postgres://db:5432/loket"
        );
    }
}
