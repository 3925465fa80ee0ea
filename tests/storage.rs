//! The durable store behaves the same on SQLite and PostgreSQL: jobs are claimed once, retried
//! with backoff on outages, parked after repeated failures; a lease that is not renewed is
//! taken over, and the runner that lost it cannot commit; "at most once" is a constraint.

mod support;

use std::time::Duration;

use loket::filing::jobs::{enqueue, enqueue_again, ClaimFilter, FailOutcome, Failure, StepError};
use loket::filing::messages::{self, MessageHeaders, MessageState, NewMessage, Source};
use loket::filing::pages::{self, PageOutcome};
use loket::filing::{
    cases, documents, mailboxes, CaseId, JobKind, JobTarget, MessageId, Store, StoreOptions,
};

/// A SQLite store and, where PostgreSQL runs, a PostgreSQL store, with this lease.
async fn stores_with(lease_seconds: u64) -> Vec<(&'static str, Store, tempfile::TempDir)> {
    let opts = StoreOptions {
        max_connections: 4,
        lease_seconds,
    };
    let dir = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    let sqlite = Store::open_with(&format!("sqlite://{}/t.db", dir.path().display()), opts)
        .await
        .unwrap();
    out.push(("sqlite", sqlite, dir));
    if let Some(pg) = support::postgres() {
        let store = Store::open_with(&pg.new_database(), opts).await.unwrap();
        out.push(("postgres", store, tempfile::tempdir().unwrap()));
    }
    out
}

async fn stores() -> Vec<(&'static str, Store, tempfile::TempDir)> {
    stores_with(60).await
}

const ALL: ClaimFilter<'static> = ClaimFilter {
    kinds: JobKind::WORKER,
    once_started: None,
};

async fn enqueue_one(store: &Store, target: JobTarget) {
    let mut conn = store.conn().await.unwrap();
    enqueue(&mut conn, target).await.unwrap();
}

#[tokio::test]
async fn a_job_is_enqueued_once_claimed_once_and_completed() {
    for (name, store, _dir) in stores().await {
        enqueue_one(&store, JobTarget::Intake(MessageId(7))).await;
        enqueue_one(&store, JobTarget::Intake(MessageId(7))).await;
        let job = store.claim(ALL, "w1").await.unwrap().expect(name);
        assert_eq!(
            (job.target, job.attempts),
            (JobTarget::Intake(MessageId(7)), 1),
            "{name}"
        );
        assert!(
            store.claim(ALL, "w2").await.unwrap().is_none(),
            "{name}: leased jobs are not claimed twice"
        );
        store
            .begin_step(&job.lease)
            .await
            .unwrap()
            .commit()
            .await
            .unwrap();
        // Running it again is explicit.
        let mut conn = store.conn().await.unwrap();
        enqueue_again(&mut conn, JobTarget::Intake(MessageId(7)))
            .await
            .unwrap();
        drop(conn);
        let again = store.claim(ALL, "w1").await.unwrap().expect(name);
        assert_eq!(again.id, job.id, "{name}");
        assert_ne!(again.lease.token, job.lease.token, "{name}: a fresh token");
    }
}

#[tokio::test]
async fn failures_retry_then_park_but_outages_never_park() {
    for (name, store, _dir) in stores().await {
        enqueue_one(&store, JobTarget::Classify(CaseId(1))).await;
        enqueue_one(&store, JobTarget::Send(loket::filing::OutboxId(2))).await;
        let once = |t| ClaimFilter {
            kinds: JobKind::WORKER,
            once_started: Some(t),
        };
        // Three failing attempts park the classify job.
        for attempt in 1..=3 {
            let job = store.claim(once(i64::MAX), "w").await.unwrap().expect(name);
            assert_eq!(job.kind(), JobKind::Classify, "{name}");
            let outcome = store
                .fail_job(&job, "boom", Failure::Error, 3)
                .await
                .unwrap();
            let expected = if attempt < 3 {
                FailOutcome::Retry
            } else {
                FailOutcome::Parked
            };
            assert_eq!(outcome, expected, "{name} attempt {attempt}");
        }
        // A dead SMTP server: ten outages and the mail still waits.
        for _ in 0..10 {
            let job = store.claim(once(i64::MAX), "w").await.unwrap().expect(name);
            assert_eq!(job.kind(), JobKind::Send, "{name}");
            assert_eq!(
                store
                    .fail_job(&job, "connection refused", Failure::Outage, 3)
                    .await
                    .unwrap(),
                FailOutcome::Retry
            );
        }
        // Backoff: not due in a normal claim.
        assert!(store.claim(ALL, "w").await.unwrap().is_none(), "{name}");
        let counts = store.job_counts().await.unwrap();
        assert!(
            counts.contains(&("classify".into(), "parked".into(), 1)),
            "{name}: {counts:?}"
        );
        assert!(
            counts.contains(&("send".into(), "pending".into(), 1)),
            "{name}: {counts:?}"
        );
        // `loket parked retry` queues it again with fresh attempts.
        let parked = store.parked().await.unwrap();
        assert_eq!(parked.len(), 1, "{name}");
        assert!(store.retry_parked(parked[0].id).await.unwrap(), "{name}");
        let again = store.claim(ALL, "w").await.unwrap().expect(name);
        assert_eq!((again.kind(), again.attempts), (JobKind::Classify, 1));
    }
}

#[tokio::test]
async fn a_lease_that_is_not_renewed_is_taken_over_and_the_late_commit_is_refused() {
    for (name, store, _dir) in stores_with(1).await {
        enqueue_one(&store, JobTarget::Extract(loket::filing::DocumentId(3))).await;
        let paused = store
            .claim(ALL, "paused-worker")
            .await
            .unwrap()
            .expect(name);
        assert!(store.claim(ALL, "other").await.unwrap().is_none());
        // The paused worker does not heartbeat: its lease runs out.
        tokio::time::sleep(Duration::from_millis(1300)).await;
        let taken = store.claim(ALL, "other").await.unwrap().expect(name);
        assert_eq!(
            (taken.id, taken.attempts),
            (paused.id, 2),
            "{name}: taken over, counted as an attempt"
        );
        // The paused worker wakes up and tries to commit: refused, its effects rolled back.
        let late = store.begin_step(&paused.lease).await.unwrap();
        match late.commit().await {
            Err(StepError::LeaseLost(_)) => {}
            other => panic!("{name}: expected LeaseLost, got {other:?}"),
        }
        assert!(!store.confirm_lease(&paused.lease).await.unwrap(), "{name}");
        assert_eq!(
            store
                .fail_job(&paused, "late", Failure::Error, 3)
                .await
                .unwrap(),
            FailOutcome::LeaseLost,
            "{name}: a stale runner cannot overwrite the job"
        );
        store
            .begin_step(&taken.lease)
            .await
            .unwrap()
            .commit()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_commit_racing_a_takeover_rolls_back_its_effects() {
    for (name, store, _dir) in stores_with(1).await {
        let mut conn = store.conn().await.unwrap();
        let (case_id, _) = cases::insert(
            &mut conn,
            "PSR",
            &cases::NewCase::default(),
            loket::domain::Status::Received,
        )
        .await
        .unwrap();
        enqueue(&mut conn, JobTarget::Classify(case_id))
            .await
            .unwrap();
        drop(conn);
        let slow = store.claim(ALL, "slow").await.unwrap().expect(name);
        // The slow runner's transaction is open with its effects when its lease runs out and
        // another worker takes the job over. (SQLite holds one writer at a time: there the
        // takeover happens before the late transaction starts, which is the same check.)
        let mut tx = if store.is_postgres() {
            let mut tx = store.begin_step(&slow.lease).await.unwrap();
            cases::add_event(&mut tx, case_id, "classified", "by the slow runner")
                .await
                .unwrap();
            // Busy (not idle: an idle transaction would be ended by the server after half the
            // lease) while the lease runs out and another worker claims the job.
            let (busy, fast) = tokio::join!(
                sqlx::query("SELECT pg_sleep(1.6)").execute(&mut *tx),
                async {
                    tokio::time::sleep(Duration::from_millis(1200)).await;
                    store.claim(ALL, "fast").await
                }
            );
            busy.unwrap();
            fast.unwrap().expect(name);
            tx
        } else {
            tokio::time::sleep(Duration::from_millis(1300)).await;
            let _fast = store.claim(ALL, "fast").await.unwrap().expect(name);
            let mut tx = store.begin_steps(vec![slow.lease.clone()]).await.unwrap();
            cases::add_event(&mut tx, case_id, "classified", "by the slow runner")
                .await
                .unwrap();
            tx
        };
        cases::add_event(&mut tx, case_id, "classified", "late")
            .await
            .unwrap();
        assert!(
            matches!(tx.commit().await, Err(StepError::LeaseLost(_))),
            "{name}"
        );
        let case = store
            .show_case(
                &cases::tracking_code(&mut store.conn().await.unwrap(), case_id)
                    .await
                    .unwrap(),
            )
            .await
            .unwrap()
            .unwrap();
        assert!(
            case.history
                .unwrap()
                .iter()
                .all(|e| e.event != "classified"),
            "{name}: nothing of the stale runner was committed"
        );
    }
}

#[tokio::test]
async fn heartbeats_keep_a_long_step_leased() {
    for (name, store, _dir) in stores_with(1).await {
        enqueue_one(&store, JobTarget::Extract(loket::filing::DocumentId(9))).await;
        let long = store.claim(ALL, "ocr-worker").await.unwrap().expect(name);
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(400)).await;
            let held = store
                .renew_leases(std::slice::from_ref(&long.lease.token))
                .await
                .unwrap();
            assert_eq!(held, vec![long.lease.token.clone()], "{name}");
        }
        assert!(
            store.claim(ALL, "other").await.unwrap().is_none(),
            "{name}: a renewed lease is never taken over"
        );
        store
            .begin_step(&long.lease)
            .await
            .unwrap()
            .commit()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_case_re_sorted_while_it_is_being_sorted_is_sorted_again() {
    for (name, store, _dir) in stores().await {
        enqueue_one(&store, JobTarget::Classify(CaseId(5))).await;
        let running = store.claim(ALL, "w").await.unwrap().expect(name);
        // A document finishes while the case is being sorted.
        let mut conn = store.conn().await.unwrap();
        enqueue_again(&mut conn, JobTarget::Classify(CaseId(5)))
            .await
            .unwrap();
        drop(conn);
        store
            .begin_step(&running.lease)
            .await
            .unwrap()
            .commit()
            .await
            .unwrap();
        let again = store.claim(ALL, "w").await.unwrap();
        assert_eq!(
            again.map(|j| j.target),
            Some(JobTarget::Classify(CaseId(5))),
            "{name}: the new document is not lost"
        );
    }
}

/// A message's intake commits its sorting's job already claimed for the same runner: no other
/// runner can take it, the runner goes on with it, and its commit is fenced like any claim's.
/// A next step another runner holds is left to that runner (asked to run again instead).
#[tokio::test]
async fn a_step_hands_its_runner_the_next_step_in_its_commit() {
    for (name, store, _dir) in stores().await {
        enqueue_one(&store, JobTarget::Intake(MessageId(11))).await;
        let intake = store.claim(ALL, "w1").await.unwrap().expect(name);
        let mut tx = store.begin_step(&intake.lease).await.unwrap();
        enqueue_again(&mut tx, JobTarget::Classify(CaseId(11)))
            .await
            .unwrap();
        tx.then_run(&intake, JobTarget::Classify(CaseId(11)), "w1");
        tx.commit().await.unwrap();
        let next = intake.next.take().expect("the sorting is handed over");
        assert_eq!(
            (next.target, next.attempts),
            (JobTarget::Classify(CaseId(11)), 1),
            "{name}"
        );
        assert!(
            store.claim(ALL, "w2").await.unwrap().is_none(),
            "{name}: no other runner takes the handed-over step"
        );
        store
            .begin_step(&next.lease)
            .await
            .unwrap()
            .commit()
            .await
            .unwrap();
        assert!(store.job_counts().await.unwrap().is_empty(), "{name}");

        // Held by another runner: not taken; that runner runs it once more.
        enqueue_one(&store, JobTarget::Intake(MessageId(12))).await;
        enqueue_one(&store, JobTarget::Classify(CaseId(12))).await;
        let first = store.claim(ALL, "w1").await.unwrap().expect(name);
        let other = store.claim(ALL, "w2").await.unwrap().expect(name);
        let (intake, sorting) = if first.kind() == JobKind::Intake {
            (first, other)
        } else {
            (other, first)
        };
        let mut tx = store.begin_step(&intake.lease).await.unwrap();
        enqueue_again(&mut tx, JobTarget::Classify(CaseId(12)))
            .await
            .unwrap();
        tx.then_run(&intake, JobTarget::Classify(CaseId(12)), "w1");
        tx.commit().await.unwrap();
        assert!(intake.next.take().is_none(), "{name}: not taken from w2");
        store
            .begin_step(&sorting.lease)
            .await
            .unwrap()
            .commit()
            .await
            .unwrap();
        let again = store.claim(ALL, "w1").await.unwrap().expect(name);
        assert_eq!(again.target, JobTarget::Classify(CaseId(12)), "{name}");
    }
}

/// One connection, so the second page reuses the statement the first page prepared.
#[tokio::test]
async fn an_unreadable_page_then_a_read_page_are_both_checkpointed() {
    let opts = StoreOptions {
        max_connections: 1,
        lease_seconds: 60,
    };
    let dir = tempfile::tempdir().unwrap();
    let mut urls = vec![format!("sqlite://{}/t.db", dir.path().display())];
    if let Some(pg) = support::postgres() {
        urls.push(pg.new_database());
    }
    for url in urls {
        let store = Store::open_with(&url, opts).await.unwrap();
        let mut conn = store.conn().await.unwrap();
        let (case, _) = cases::insert(
            &mut conn,
            "DPMPTSP",
            &cases::NewCase::default(),
            loket::domain::Status::Received,
        )
        .await
        .unwrap();
        let doc = documents::insert(
            &mut conn,
            &documents::NewDocument {
                case_id: case,
                position: 0,
                filename: "scan.pdf",
                original_filename: None,
                declared_type: "application/pdf",
                sha256: "ab",
                size: 10,
                message_id: None,
            },
        )
        .await
        .unwrap();
        drop(conn);
        let unreadable = PageOutcome::Unreadable {
            error: "OCR engine crashed on this page twice".into(),
            alasan: "mesin OCR gagal".into(),
        };
        // A handwritten page keeps its mark across the checkpoint (migration 0012).
        let text = PageOutcome::Text {
            text: "PERMOHONAN".into(),
            confidence: 41.5,
            handwriting: true,
        };
        for (page, outcome) in [(0, &unreadable), (1, &text), (2, &unreadable), (0, &text)] {
            pages::save(&store, doc, page, Some("png"), outcome)
                .await
                .unwrap_or_else(|e| panic!("{url}: page {page}: {e}"));
        }
        let rows = pages::load(&store, doc).await.unwrap();
        let outcomes: Vec<_> = rows.iter().map(|r| r.outcome.clone().unwrap()).collect();
        assert_eq!(
            outcomes,
            [text.clone(), text.clone(), unreadable.clone()],
            "{url}"
        );
        store.close().await;
    }
}

fn imap_message(uid: i64, sha: &str) -> NewMessage<'_> {
    NewMessage {
        source: Source::Imap,
        mailbox: Some("u@h/INBOX"),
        uidvalidity: Some(1),
        uid: Some(uid),
        sha256: sha,
        size: 10,
        truncated: false,
        original_name: None,
        details: None,
        mailbox_kind: None,
    }
}

#[tokio::test]
async fn the_same_mailbox_uid_is_stored_once() {
    for (name, store, _dir) in stores().await {
        let mut conn = store.conn().await.unwrap();
        let msg = imap_message(42, "ab");
        assert!(
            messages::insert(&mut conn, &msg).await.unwrap().is_some(),
            "{name}"
        );
        assert!(
            messages::insert(&mut conn, &msg).await.unwrap().is_none(),
            "{name}"
        );
        let new_validity = NewMessage {
            uidvalidity: Some(2),
            ..msg.clone()
        };
        assert!(
            messages::insert(&mut conn, &new_validity)
                .await
                .unwrap()
                .is_some(),
            "{name}"
        );
    }
}

#[tokio::test]
async fn two_copies_of_one_message_id_racing_file_one_case() {
    for (name, store, _dir) in stores().await {
        let mut conn = store.conn().await.unwrap();
        let a = messages::insert(&mut conn, &imap_message(1, "aa"))
            .await
            .unwrap()
            .unwrap();
        let b = messages::insert(&mut conn, &imap_message(2, "bb"))
            .await
            .unwrap()
            .unwrap();
        drop(conn);
        let headers = MessageHeaders {
            message_id: Some("<same@example.com>".into()),
            sender: Some("Budi@Example.com".into()),
            ..MessageHeaders::default()
        };
        // Two runners each checked "no earlier copy" and file their own case.
        let file = |id: MessageId, sender: &'static str| {
            let store = store.clone();
            let mut h = headers.clone();
            h.sender = Some(sender.into());
            async move {
                let mut tx = store.begin_write().await?;
                let (case_id, _) = cases::insert(
                    &mut tx,
                    "PSR",
                    &cases::NewCase::default(),
                    loket::domain::Status::Received,
                )
                .await?;
                messages::file(&mut tx, id, &h, MessageState::Filed, case_id).await?;
                loket::filing::store::commit(tx).await
            }
        };
        let (ra, rb) = tokio::join!(file(a, "Budi@Example.com"), file(b, "budi@example.com"));
        let outcomes = [ra, rb];
        let ok = outcomes.iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok, 1, "{name}: exactly one copy is filed");
        let err = outcomes.into_iter().find_map(Result::err).unwrap();
        assert!(err.is_conflict(), "{name}: {err}");
        assert_eq!(
            store.list_cases(&Default::default()).await.unwrap().len(),
            1
        );
    }
}

#[tokio::test]
async fn last_uid_only_moves_forward() {
    for (name, store, _dir) in stores().await {
        let mut conn = store.conn().await.unwrap();
        mailboxes::save_state(&mut conn, "m", 7, 100).await.unwrap();
        // A slow runner commits an older batch afterwards.
        mailboxes::save_state(&mut conn, "m", 7, 40).await.unwrap();
        let s = mailboxes::state(&mut conn, "m").await.unwrap().unwrap();
        assert_eq!((s.uidvalidity, s.last_uid), (7, 100), "{name}");
        // A rebuilt mailbox starts over.
        mailboxes::save_state(&mut conn, "m", 8, 3).await.unwrap();
        let s = mailboxes::state(&mut conn, "m").await.unwrap().unwrap();
        assert_eq!((s.uidvalidity, s.last_uid), (8, 3), "{name}");
    }
}

#[tokio::test]
async fn one_watcher_per_mailbox_and_a_paused_one_is_replaced() {
    for (name, store, _dir) in stores_with(1).await {
        let first = store.acquire_watch("box", "w1").await.unwrap().expect(name);
        assert!(
            store.acquire_watch("box", "w2").await.unwrap().is_none(),
            "{name}: the mailbox has a watcher"
        );
        assert!(store.renew_watch("box", &first).await.unwrap());
        tokio::time::sleep(Duration::from_millis(1300)).await;
        let second = store.acquire_watch("box", "w2").await.unwrap().expect(name);
        assert!(
            !store.renew_watch("box", &first).await.unwrap(),
            "{name}: the paused watcher finds its watch gone"
        );
        assert_eq!(
            store.watcher_of("box").await.unwrap().map(|w| w.watcher),
            Some("w2".to_string())
        );
        store.release_watch("box", &second).await.unwrap();
        assert!(store.watcher_of("box").await.unwrap().is_none(), "{name}");
    }
}

#[tokio::test]
async fn workers_register_and_a_silent_one_is_shown_gone() {
    for (name, store, _dir) in stores_with(1).await {
        let me = loket::filing::workers::WorkerInfo::this_process("run");
        store.register_worker(&me).await.unwrap();
        enqueue_one(&store, JobTarget::Intake(MessageId(1))).await;
        let _job = store.claim(ALL, &me.id).await.unwrap().unwrap();
        let list = store.list_workers().await.unwrap();
        let w = list.iter().find(|w| w.id == me.id).expect(name);
        assert!(w.alive, "{name}");
        assert_eq!(w.jobs_held, 1, "{name}");
        tokio::time::sleep(Duration::from_millis(1300)).await;
        let list = store.list_workers().await.unwrap();
        let w = list.iter().find(|w| w.id == me.id).expect(name);
        assert!(!w.alive, "{name}: no heartbeat within the lease");
        assert_eq!(w.jobs_held, 0, "{name}: its job is free");
    }
}

#[tokio::test]
async fn an_edited_migration_stops_start_up_with_a_clear_error() {
    for (name, store, dir) in stores().await {
        let url = if store.is_postgres() {
            continue_with_pg(&store).await
        } else {
            format!("sqlite://{}/t.db", dir.path().display())
        };
        store.close().await;
        // Pretend the released 0001 migration file was edited after it was applied.
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        sqlx::query("UPDATE _sqlx_migrations SET checksum = $1 WHERE version = 1")
            .bind(vec![0u8; 48])
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let err = Store::open(&url, 2).await.expect_err(name);
        let text = err.to_string();
        assert!(text.contains("migration 1 was changed"), "{name}: {text}");
    }
}

/// The URL of a fresh PostgreSQL database (the stores' own URL is not kept).
async fn continue_with_pg(_store: &Store) -> String {
    let url = support::postgres().unwrap().new_database();
    Store::open(&url, 2).await.unwrap().close().await;
    url
}

#[test]
fn sql_lives_only_in_filing() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path != src.join("filing") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, line) in text.lines().enumerate() {
                    if line.contains("sqlx::") {
                        offenders.push(format!("{}:{}: {line}", path.display(), i + 1));
                    }
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "SQL and sqlx:: belong in src/filing/ only:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn intake_never_depends_on_the_pipeline_or_notify() {
    let mut stack = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/intake")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for forbidden in ["crate::pipeline", "crate::notify"] {
                assert!(
                    !text.contains(forbidden),
                    "{} uses {forbidden}: intake stores through filing only",
                    path.display()
                );
            }
        }
    }
}
