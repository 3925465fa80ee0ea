//! What the queue looks like right now, for the metrics gauges (`telemetry::metrics`) and the
//! readiness check: counts by kind and state, how many are due, the oldest waiting job.
//!
//! Finished (`done`) jobs are left out: they only grow, and counting them on every scrape would
//! read the whole table; the step counters say how many steps finished.

use std::time::Duration;

use super::now_ms;
use super::store::{QueryContext, Store, StoreError};

/// Jobs of one kind in one state.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QueueRow {
    pub kind: String,
    /// `pending`, `running` or `parked`.
    pub state: String,
    pub jobs: i64,
    /// Pending jobs whose time has come (not waiting on a backoff).
    pub due: i64,
    /// When the oldest of them was enqueued (Unix ms).
    pub oldest_created_at: i64,
}

impl Store {
    /// The unfinished jobs grouped by kind and state (the `jobs_due` index covers the filter).
    pub async fn queue_gauges(&self) -> Result<Vec<QueueRow>, StoreError> {
        sqlx::query_as(
            "SELECT kind, state, COUNT(*) AS jobs, \
             COALESCE(SUM(CASE WHEN state = 'pending' AND run_after <= $1 THEN 1 ELSE 0 END), 0) AS due, \
             MIN(created_at) AS oldest_created_at \
             FROM jobs WHERE state IN ('pending', 'running', 'parked') GROUP BY kind, state",
        )
        .bind(now_ms())
        .fetch_all(self.pool())
        .await
        .what("count jobs for the metrics")
    }

    /// Whether the database answers a trivial query within `limit` (`/readyz`).
    pub async fn answers_within(&self, limit: Duration) -> Result<(), StoreError> {
        // COUNT is a 64-bit integer on both databases (a bare `SELECT 1` is not on PostgreSQL).
        let query = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM workers WHERE 1 = 0")
            .fetch_one(self.pool());
        match tokio::time::timeout(limit, query).await {
            Ok(result) => result.map(|_| ()).what("answer a trivial query"),
            Err(_) => Err(StoreError::Query {
                what: "answer a trivial query",
                source: sqlx::Error::PoolTimedOut,
            }),
        }
    }
}
