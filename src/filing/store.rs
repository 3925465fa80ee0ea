//! The database handle: connecting, migrating, and the error type of every query.
//!
//! The pool is private to `filing/`: everything else reaches the database through the typed
//! repositories next to this file, which take a [`Conn`] (a pooled connection or an open
//! transaction).

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::{AnyPool, ConnectOptions, Connection, Executor};

/// A connection, or an open transaction (it derefs to one): what repository functions take.
pub type Conn = sqlx::AnyConnection;
/// An open write transaction. Derefs to a connection; on SQLite it also holds the process's
/// write turn ([`Store::begin_write`]) until it is committed or dropped.
pub struct Tx {
    inner: sqlx::Transaction<'static, sqlx::Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl std::ops::Deref for Tx {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.inner
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.inner
    }
}

impl Tx {
    /// Commit; the write turn is handed on once the commit is done.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.inner.commit().await
    }
}

/// How long a writer waits for the process's SQLite write turn (as long as for a pooled
/// connection).
const WRITE_TURN_TIMEOUT: Duration = Duration::from_secs(30);

/// `LOKET_SLOW_QUERY_MS=<ms>`: log every statement slower than that, with its text, at warn
/// (finding the query that grows with the tables; off by default).
fn slow_statement_ms() -> Option<u64> {
    std::env::var("LOKET_SLOW_QUERY_MS").ok()?.parse().ok()
}

/// Migrations per backend (column types differ), embedded and checksummed: a migration edited
/// after it was applied stops start-up instead of being skipped. (`sqlx::migrate!` itself sits
/// behind sqlx's `macros` feature, which compiles the query macros too; this is the same macro.)
static SQLITE_MIGRATIONS: Migrator = sqlx::sqlx_macros::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::sqlx_macros::migrate!("migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {target} unreachable: {source}")]
    Connect {
        target: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("database schema: {0}")]
    Migrate(String),
    #[error("database query ({what}) failed: {source}")]
    Query {
        what: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("{0}")]
    NotFound(String),
    /// Another connection kept SQLite from finishing (a checkpoint with a reader on an old
    /// snapshot); the same call succeeds once it is gone.
    #[error("database busy: {0}")]
    Busy(String),
}

impl StoreError {
    /// Could trying again later help (lost connection, pool exhausted, database busy)?
    pub fn is_transient(&self) -> bool {
        let source = match self {
            StoreError::Connect { .. } | StoreError::Busy(_) => return true,
            StoreError::Query { source, .. } => source,
            StoreError::Migrate(_) | StoreError::NotFound(_) => return false,
        };
        match source {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
            sqlx::Error::Database(db) => {
                let msg = db.message();
                msg.contains("database is locked")
                    || msg.contains("busy")
                    // PostgreSQL: serialization failure, deadlock, idle transaction ended.
                    || matches!(db.code().as_deref(), Some("40001" | "40P01" | "25P03" | "57P01"))
            }
            _ => false,
        }
    }

    /// A uniqueness constraint refused the write: another worker did the same thing first.
    /// Trying again (after the other commit) finds its result.
    pub fn is_conflict(&self) -> bool {
        match self {
            StoreError::Query {
                source: sqlx::Error::Database(db),
                ..
            } => {
                db.code().as_deref() == Some("23505")
                    || db.message().contains("UNIQUE constraint failed")
            }
            _ => false,
        }
    }
}

/// Commit a plain write transaction (steps commit through [`super::StepTx`]).
pub async fn commit(tx: Tx) -> Result<(), StoreError> {
    tx.commit().await.what("commit")
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

/// How to open the store.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    pub max_connections: u32,
    /// `worker.lease_seconds`: how long a claimed job stays leased without a heartbeat.
    pub lease_seconds: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 5,
            lease_seconds: 60,
        }
    }
}

/// A connection pool to SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    postgres: bool,
    lease_ms: i64,
    /// SQLite has one writer at a time. Writers of this process wait their turn here, woken the
    /// moment the previous one commits, instead of in SQLite's busy handler, which sleeps in
    /// steps of up to 100 ms however soon the lock is free. Other processes still meet at the
    /// busy handler. None on PostgreSQL (row locks, many writers).
    write_turn: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
}

/// Where the database is, for error messages and logs: scheme, host, port and path only; no
/// user, password, query string (`?password=`) or fragment. A URL that does not parse is not
/// shown at all: a password with a raw `?`, `/` or `#` would otherwise leak its tail.
pub fn redacted_target(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return "(unreadable database url)".into();
    };
    let (scheme, path) = (parsed.scheme(), parsed.path());
    if !parsed.has_authority() {
        return format!("{scheme}:{path}");
    }
    let host = parsed.host_str().unwrap_or_default();
    match parsed.port() {
        Some(port) => format!("{scheme}://{host}:{port}{path}"),
        None => format!("{scheme}://{host}{path}"),
    }
}

impl Store {
    /// Connect with `max_connections` and the default lease, and bring the schema up to date.
    pub async fn open(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options = StoreOptions {
            max_connections,
            ..StoreOptions::default()
        };
        Self::open_with(url, options).await
    }

    /// Connect and bring the schema up to date.
    pub async fn open_with(url: &str, opts: StoreOptions) -> Result<Self, StoreError> {
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
        let mut options = AnyConnectOptions::from_str(&url)
            .map_err(connect_err)?
            .disable_statement_logging();
        if let Some(ms) = slow_statement_ms() {
            options = options
                .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(ms));
        }
        if !postgres {
            // WAL lets readers (the CLI) work while the worker writes; it is a property of the
            // file, so set it once on a single connection before the pool opens.
            let mut conn = options.connect().await.map_err(connect_err)?;
            conn.execute("PRAGMA journal_mode=WAL")
                .await
                .map_err(connect_err)?;
            // Closed here, not dropped: a dropped SQLite connection closes later on its own
            // thread, and one still open when the pool's last connection closes keeps SQLite
            // from folding the WAL back into the file (a restore renames the file alone).
            conn.close().await.map_err(connect_err)?;
        }
        let lease_ms = (opts.lease_seconds.max(1) * 1000) as i64;
        // A paused worker's open transaction must not hold rows longer than its lease: the
        // server ends it, and the worker's late commit fails.
        let idle_tx_ms = (lease_ms / 2).max(500);
        let pool = AnyPoolOptions::new()
            .max_connections(if postgres {
                opts.max_connections
            } else {
                opts.max_connections.max(2)
            })
            .acquire_timeout(Duration::from_secs(30))
            // A pooled SQLite connection is a file handle that cannot go stale; pinging it on
            // every acquire was one more round trip to its thread per statement (the cost of a
            // text application is mostly such round trips). PostgreSQL's are checked: the server
            // may have restarted.
            .test_before_acquire(postgres)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if postgres {
                        conn.execute(
                            format!("SET idle_in_transaction_session_timeout = {idle_tx_ms}")
                                .as_str(),
                        )
                        .await?;
                    } else {
                        // WAL + NORMAL: a commit survives a crash of the process without an
                        // fsync each; before anything outside changes (a message moved out of
                        // the inbox, a scan moved out of the spool) `sync` makes it survive a
                        // power cut too. A writer waits for another process's write lock.
                        conn.execute("PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(connect_err)?;
        let store = Self {
            pool,
            postgres,
            lease_ms,
            write_turn: (!postgres).then(Default::default),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Fold the WAL back into the database file and empty it (SQLite): afterwards the file
    /// alone holds every commit, so it may be renamed or copied without its `-wal`.
    pub async fn fold_wal(&self) -> Result<(), StoreError> {
        if !self.postgres {
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&self.pool)
                .await
                .what("checkpoint")?;
            if busy != 0 {
                return Err(StoreError::Busy(
                    "the WAL could not be folded into the file".into(),
                ));
            }
        }
        Ok(())
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

    /// This process's SQLite write turn (None on PostgreSQL), for a single write statement on
    /// the pool (a claim, a lease renewal, a heartbeat): without it such a statement meets a
    /// transaction's write lock in SQLite's busy handler and sleeps up to a second. Never taken
    /// while holding a [`Tx`] (that one holds the turn already).
    pub(crate) async fn write_turn(
        &self,
    ) -> Result<Option<tokio::sync::OwnedMutexGuard<()>>, StoreError> {
        match &self.write_turn {
            // Bounded like the pool's acquire: a turn that never comes (a transaction left
            // open across a wait) is an error that is retried, never a silent hang.
            Some(t) => Ok(Some(
                tokio::time::timeout(WRITE_TURN_TIMEOUT, t.clone().lock_owned())
                    .await
                    .map_err(|_| StoreError::Query {
                        what: "wait for this process's SQLite write turn",
                        source: sqlx::Error::PoolTimedOut,
                    })?,
            )),
            None => Ok(None),
        }
    }

    /// Begin a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads first can't upgrade while another
    /// worker commits, and fails instead of waiting.
    pub async fn begin_write(&self) -> Result<Tx, StoreError> {
        let turn = self.write_turn().await?;
        let tx = if self.postgres {
            self.pool.begin().await
        } else {
            self.pool.begin_with("BEGIN IMMEDIATE").await
        };
        Ok(Tx {
            inner: tx.what("begin transaction")?,
            _turn: turn,
        })
    }

    /// A connection from the pool, for reads and single statements.
    pub async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, StoreError> {
        self.pool.acquire().await.what("acquire connection")
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres
    }

    /// The lease of a claimed job, in milliseconds.
    pub fn lease_ms(&self) -> i64 {
        self.lease_ms
    }

    /// Close the pool (tests and short commands, so SQLite files are released at once).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = if self.postgres {
            &POSTGRES_MIGRATIONS
        } else {
            &SQLITE_MIGRATIONS
        };
        self.adopt_legacy_schema(migrator).await?;
        migrator.run(&self.pool).await.map_err(|e| match e {
            MigrateError::VersionMismatch(v) => StoreError::Migrate(format!(
                "migration {v} was changed after it was applied to this database; \
                 restore the released migration file (migrations are never edited, only added)"
            )),
            MigrateError::VersionMissing(v) => StoreError::Migrate(format!(
                "this database has migration {v}, which this loket does not know: \
                 it was made by a newer release"
            )),
            other => StoreError::Migrate(other.to_string()),
        })
    }

    /// Databases made by v0.1.0 recorded their schema in `schema_version` (no checksums); their
    /// first migration is the released `0001_init.sql`, so record it as applied.
    async fn adopt_legacy_schema(&self, migrator: &Migrator) -> Result<(), StoreError> {
        let exists_sql = if self.postgres {
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'schema_version' \
             AND table_schema = current_schema()"
        } else {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        };
        let legacy: i64 = sqlx::query_scalar(exists_sql)
            .fetch_one(&self.pool)
            .await
            .what("look for a v0.1.0 schema")?;
        if legacy == 0 {
            return Ok(());
        }
        let Some(first) = migrator.iter().find(|m| m.version == 1) else {
            return Ok(());
        };
        let mut conn = self.conn().await?;
        sqlx::migrate::Migrate::ensure_migrations_table(&mut *conn)
            .await
            .map_err(|e| StoreError::Migrate(e.to_string()))?;
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES ($1, $2, TRUE, $3, 0) ON CONFLICT (version) DO NOTHING",
        )
        .bind(first.version)
        .bind(first.description.to_string())
        .bind(first.checksum.to_vec())
        .execute(&mut *conn)
        .await
        .what("adopt the v0.1.0 schema")?;
        sqlx::query("DROP TABLE IF EXISTS schema_version")
            .execute(&mut *conn)
            .await
            .what("adopt the v0.1.0 schema")?;
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
        assert_eq!(
            redacted_target("postgres://db:5432/loket?user=loket&password=geheim"),
            "postgres://db:5432/loket"
        );
        assert_eq!(
            redacted_target("postgresql://loket@db/loket?sslmode=require&password=geheim#x"),
            "postgresql://db/loket"
        );
        // A password with raw special characters is not a valid URL: nothing of it is shown.
        for url in [
            "postgres://loket:ge?heim@db/loket",
            "postgres://loket:ge/heim@db/loket",
            "postgres://loket:ge#heim@db/loket",
        ] {
            let shown = redacted_target(url);
            assert!(!shown.contains("heim"), "{url} shown as {shown}");
        }
        assert_eq!(
            redacted_target("postgres://lo:ge%40heim@db:6432/loket"),
            "postgres://db:6432/loket"
        );
    }

    #[test]
    fn sqlite_paths_stay_readable() {
        assert_eq!(
            redacted_target("sqlite://data/loket.db?mode=rwc"),
            "sqlite://data/loket.db"
        );
        assert_eq!(
            redacted_target("sqlite:///var/lib/loket/loket.db"),
            "sqlite:///var/lib/loket/loket.db"
        );
    }
}
