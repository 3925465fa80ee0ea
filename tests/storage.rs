//! The durable store behaves the same on SQLite and PostgreSQL: jobs are claimed once, retried
//! with backoff on outages, parked after repeated failures, and handed over after a crash.

mod support;

use loket::filing::jobs::{complete, enqueue, enqueue_again, ClaimFilter, FailOutcome};
use loket::filing::records::{insert_message, NewMessage};
use loket::filing::{JobKind, Store};

async fn stores() -> Vec<(&'static str, Store, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    let sqlite = Store::open(&format!("sqlite://{}/t.db", dir.path().display()), 4)
        .await
        .unwrap();
    out.push(("sqlite", sqlite, dir));
    if let Some(pg) = support::postgres() {
        let store = Store::open(&pg.new_database(), 4).await.unwrap();
        out.push(("postgres", store, tempfile::tempdir().unwrap()));
    }
    out
}

const ALL: ClaimFilter<'static> = ClaimFilter {
    kinds: JobKind::WORKER,
    once_started: None,
};

#[tokio::test]
async fn a_job_is_enqueued_once_claimed_once_and_completed() {
    for (name, store, _dir) in stores().await {
        let mut conn = store.pool.acquire().await.unwrap();
        enqueue(&mut conn, JobKind::Intake, 7).await.unwrap();
        enqueue(&mut conn, JobKind::Intake, 7).await.unwrap();
        drop(conn);
        let job = store.claim(ALL, "test:1").await.unwrap().expect(name);
        assert_eq!(
            (job.kind, job.target, job.attempts),
            (JobKind::Intake, 7, 1),
            "{name}"
        );
        assert!(
            store.claim(ALL, "test:2").await.unwrap().is_none(),
            "{name}: leased jobs are not claimed twice"
        );
        let mut conn = store.pool.acquire().await.unwrap();
        complete(&mut conn, job.id).await.unwrap();
        // Running it again is explicit.
        enqueue_again(&mut conn, JobKind::Intake, 7).await.unwrap();
        drop(conn);
        let again = store.claim(ALL, "test:1").await.unwrap().expect(name);
        assert_eq!(again.id, job.id, "{name}");
    }
}

#[tokio::test]
async fn failures_retry_then_park_but_outages_never_park() {
    for (name, store, _dir) in stores().await {
        let mut conn = store.pool.acquire().await.unwrap();
        enqueue(&mut conn, JobKind::Classify, 1).await.unwrap();
        enqueue(&mut conn, JobKind::Send, 2).await.unwrap();
        drop(conn);
        let once = |t| ClaimFilter {
            kinds: JobKind::WORKER,
            once_started: Some(t),
        };
        // Three failing attempts park the classify job.
        for attempt in 1..=3 {
            let job = store
                .claim(once(i64::MAX), "t:1")
                .await
                .unwrap()
                .expect(name);
            assert_eq!(job.kind, JobKind::Classify, "{name}");
            let outcome = store.fail_job(&job, "boom", false, 3).await.unwrap();
            let expected = if attempt < 3 {
                FailOutcome::Retry
            } else {
                FailOutcome::Parked
            };
            assert_eq!(outcome, expected, "{name} attempt {attempt}");
        }
        // A dead SMTP server: ten outages and the mail still waits.
        for _ in 0..10 {
            let job = store
                .claim(once(i64::MAX), "t:1")
                .await
                .unwrap()
                .expect(name);
            assert_eq!(job.kind, JobKind::Send, "{name}");
            assert_eq!(
                store
                    .fail_job(&job, "connection refused", true, 3)
                    .await
                    .unwrap(),
                FailOutcome::Retry
            );
        }
        // Backoff: not due in a normal claim.
        assert!(store.claim(ALL, "t:1").await.unwrap().is_none(), "{name}");
        let counts = store.job_counts().await.unwrap();
        assert!(
            counts.contains(&("classify".into(), "parked".into(), 1)),
            "{name}: {counts:?}"
        );
        assert!(
            counts.contains(&("send".into(), "pending".into(), 1)),
            "{name}: {counts:?}"
        );
    }
}

#[tokio::test]
async fn a_crashed_workers_lease_is_handed_over_at_restart() {
    for (name, store, _dir) in stores().await {
        let mut conn = store.pool.acquire().await.unwrap();
        enqueue(&mut conn, JobKind::Extract, 3).await.unwrap();
        drop(conn);
        let host = loket::pipeline::host_name();
        // A pid that does not exist: the worker that held the lease is gone.
        let job = store
            .claim(ALL, &format!("{host}:4000000"))
            .await
            .unwrap()
            .expect(name);
        assert!(store.claim(ALL, "other:1").await.unwrap().is_none());
        assert_eq!(store.release_dead_leases(&host).await.unwrap(), 1, "{name}");
        let taken = store.claim(ALL, "me:1").await.unwrap().expect(name);
        assert_eq!(
            (taken.id, taken.attempts),
            (job.id, 2),
            "{name}: the crash counts as an attempt"
        );
    }
}

#[tokio::test]
async fn the_same_mailbox_uid_is_stored_once() {
    for (name, store, _dir) in stores().await {
        let mut conn = store.pool.acquire().await.unwrap();
        let msg = NewMessage {
            source: "imap",
            mailbox: Some("u@h/INBOX"),
            uidvalidity: Some(1),
            uid: Some(42),
            sha256: "ab",
            size: 10,
            truncated: false,
            message_id: None,
            original_name: None,
            details: None,
        };
        assert!(
            insert_message(&mut conn, &msg).await.unwrap().is_some(),
            "{name}"
        );
        assert!(
            insert_message(&mut conn, &msg).await.unwrap().is_none(),
            "{name}"
        );
        let new_validity = NewMessage {
            uidvalidity: Some(2),
            ..msg.clone()
        };
        assert!(
            insert_message(&mut conn, &new_validity)
                .await
                .unwrap()
                .is_some(),
            "{name}"
        );
    }
}
