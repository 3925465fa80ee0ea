//! `loket purge --older-than DURATION [--dry-run]`: the office's retention period applied.
//!
//! Cases past the period are purged a few at a time, each batch in its own write transaction
//! (the worker goes on in between; `filing::retention` says what is removed and what stays).
//! After the commits, the blobs that no unpurged row refers to any more are removed from the
//! folder or the object store (blobs are shared by content: one still referred to by another
//! case stays), including those an interrupted earlier purge left behind. A dry run lists the same cases and counts the files
//! that would go, and changes nothing.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, UNIX_EPOCH};

use super::{Error, RetentionPeriod};
use crate::config::Config;
use crate::filing::blobs::Removal;
use crate::filing::retention::{self, Candidate};
use crate::filing::{now_ms, BlobStore, Store};

/// A blob stored (or stored again) this recently stays, whatever the rows say: a writer stores
/// a blob before it commits the row that refers to it (`BlobStore::remove_unreferenced`).
const GRACE: Duration = Duration::from_secs(24 * 3600);

/// Cases purged per write transaction: few enough that the worker waits at most a fraction of
/// a second for the write lock (SQLite), many enough that commits don't dominate.
const CASES_PER_TRANSACTION: usize = 50;

/// What a purge did (or, dry, would do).
#[derive(Debug, Default)]
pub struct PurgeReport {
    /// Cases past the period (a dry run: all of them; else those purged).
    pub cases: Vec<Candidate>,
    /// Blob files removed (dry: that would be removed) and their bytes.
    pub blobs: u64,
    pub bytes: u64,
    /// Blob files kept for now because they were stored again within the grace period.
    pub recent: u64,
    pub cutoff: i64,
}

pub async fn purge(
    cfg: &Config,
    period: RetentionPeriod,
    dry_run: bool,
) -> Result<PurgeReport, Error> {
    let blobs = BlobStore::open(&cfg.storage)?;
    let now = now_ms();
    let cutoff = period
        .before(now)
        .map_err(|e| Error::Unsupported(e.to_string()))?;
    let store = super::open_store(cfg).await?;
    let result = if dry_run {
        plan(&store, cutoff).await
    } else {
        run(&store, &blobs, cutoff, now).await
    };
    store.close().await;
    result
}

/// Dry run: the cases, and the blobs no unpurged row would refer to once they are purged.
async fn plan(store: &Store, cutoff: i64) -> Result<PurgeReport, Error> {
    let mut conn = store.conn().await?;
    let cases = retention::candidates(&mut conn, cutoff).await?;
    let ids: HashSet<_> = cases.iter().map(|c| c.case_id).collect();
    let mut sizes = BTreeMap::new();
    for c in &cases {
        sizes.extend(retention::case_blobs(&mut conn, c.case_id).await?);
    }
    let mut report = PurgeReport {
        cutoff,
        ..PurgeReport::default()
    };
    for (sha, size) in sizes {
        if retention::freed_by(&mut conn, &sha, &ids).await? {
            report.blobs += 1;
            report.bytes += u64::try_from(size).unwrap_or(0);
        }
    }
    report.cases = cases;
    Ok(report)
}

async fn run(
    store: &Store,
    blobs: &BlobStore,
    cutoff: i64,
    now: i64,
) -> Result<PurgeReport, Error> {
    let candidates = {
        let mut conn = store.conn().await?;
        retention::candidates(&mut conn, cutoff).await?
    };
    let mut report = PurgeReport {
        cutoff,
        ..PurgeReport::default()
    };
    for batch in candidates.chunks(CASES_PER_TRANSACTION) {
        let mut tx = store.begin_write().await?;
        let mut purged = Vec::with_capacity(batch.len());
        for c in batch {
            if retention::purge_case(&mut tx, c.case_id, cutoff, now)
                .await?
                .is_some()
            {
                purged.push(c.clone());
            }
        }
        crate::filing::store::commit(tx).await?;
        report.cases.extend(purged);
    }
    let unreferenced = {
        let mut conn = store.conn().await?;
        retention::unreferenced_blobs(&mut conn).await?
    };
    let clock = UNIX_EPOCH + Duration::from_millis(u64::try_from(now).unwrap_or(0));
    for sha in unreferenced {
        match blobs.remove_unreferenced(&sha, clock, GRACE).await? {
            Removal::Removed { bytes } => {
                report.blobs += 1;
                report.bytes += bytes;
            }
            Removal::Recent => report.recent += 1,
            Removal::Missing => {}
        }
    }
    Ok(report)
}
