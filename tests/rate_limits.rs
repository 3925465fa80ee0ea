//! Rate limits and loops (issue 10): a business that sends many applications at once has every
//! one filed and hears about all of them, but gets at most
//! `notify.max_acks_per_sender_per_hour` automatic messages in an hour — the rest in ONE
//! combined message once the hour has passed (the test moves loket's clock instead of waiting).
//! A sender that keeps sending the same subject is a mail loop.

mod app;
mod support;

use std::collections::BTreeSet;

use app::{acks_to, header, text_mail, unique_address, Db, TestApp};
use loket::filing::{Store, StoreOptions, TEST_CLOCK_OFFSET};
use loket::pipeline::ratelimit::{loop_reason, HOUR_MS};

/// A little more than an hour, as `LOKET_TEST_CLOCK_OFFSET_MS`.
const AN_HOUR_LATER: &str = "3700000";

fn body_of(raw: &str) -> String {
    mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .and_then(|m| m.body_text(0).map(|b| b.into_owned()))
        .unwrap_or_default()
}

/// The tracking codes named in a subject like `[PSR-XXXXX-XXXXX] Tanda terima ...`.
fn code_in_subject(raw: &str) -> Option<String> {
    let subject = header(raw, "Subject")?;
    let code = subject.strip_prefix('[')?.split(']').next()?;
    Some(code.to_string())
}

fn events_of(case: &loket::filing::views::CaseView) -> Vec<String> {
    case.history
        .iter()
        .flatten()
        .map(|e| e.event.clone())
        .collect()
}

/// `loket run --once` in a child process whose clock is an hour ahead.
fn run_once_an_hour_later(app: &TestApp) -> std::process::Child {
    app.command()
        .args(["run", "--once"])
        .env(TEST_CLOCK_OFFSET, AN_HOUR_LATER)
        .spawn()
        .expect("loket starts")
}

async fn twelve_applications_in_a_minute_are_all_filed_and_all_answered_within_the_limit(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let maju = unique_address("pt.maju.jaya");
    let raws: Vec<Vec<u8>> = (1..=12)
        .map(|n| {
            text_mail(
                &maju,
                &format!("Permohonan izin usaha cabang {n}"),
                &format!("Dengan hormat, kami mengajukan permohonan izin usaha untuk cabang {n}."),
                "",
            )
        })
        .collect();
    app.deliver_all(&raws).await;
    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);

    // Everything is filed.
    let cases = app.cases().await;
    assert_eq!(cases.len(), 12, "every application is a case");
    let all: BTreeSet<String> = cases.iter().map(|c| c.tracking_code.clone()).collect();

    // Five acknowledgements at once, each with its own code.
    let first = acks_to(&maju, 5).await;
    let answered: BTreeSet<String> = first.iter().filter_map(|m| code_in_subject(m)).collect();
    assert_eq!(answered.len(), 5, "five distinct codes: {answered:?}");
    assert!(answered.is_subset(&all));
    assert_eq!(
        acks_to(&maju, 0).await.len(),
        5,
        "the other seven get nothing yet"
    );

    // The other seven show why on their cases.
    let held: BTreeSet<String> = all.difference(&answered).cloned().collect();
    assert_eq!(held.len(), 7);
    for code in &all {
        let events = events_of(&app.show(code).await);
        let was_held = events.iter().any(|e| e == "acknowledgement_held");
        assert_eq!(was_held, held.contains(code), "{code}: {events:?}");
    }

    // An hour later two workers look at once: exactly one more mail, listing the seven.
    let (mut a, mut b) = (run_once_an_hour_later(&app), run_once_an_hour_later(&app));
    assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
    let after = acks_to(&maju, 6).await;
    assert_eq!(after.len(), 6, "one combined message");
    let combined = after
        .iter()
        .find(|m| code_in_subject(m).is_none())
        .expect("the combined message names no single code in its subject");
    let body = body_of(combined);
    for code in &held {
        assert_eq!(
            body.matches(code.as_str()).count(),
            1,
            "{code} once: {body}"
        );
    }
    for code in &answered {
        assert!(
            !body.contains(code.as_str()),
            "{code} was answered before: {body}"
        );
    }
    assert!(body.contains("Permohonan izin usaha cabang"), "{body}");
    assert_eq!(
        header(combined, "Auto-Submitted").as_deref(),
        Some("auto-replied")
    );
    for code in &held {
        let events = events_of(&app.show(code).await);
        assert!(
            events.iter().any(|e| e == "acknowledgement_combined"),
            "{code}: {events:?}"
        );
    }

    // And nothing more on a third run.
    assert!(run_once_an_hour_later(&app).wait().unwrap().success());
    assert_eq!(acks_to(&maju, 0).await.len(), 6, "no further mail");
}

#[tokio::test]
async fn twelve_applications_in_a_minute_are_all_filed_and_all_answered_within_the_limit_sqlite() {
    twelve_applications_in_a_minute_are_all_filed_and_all_answered_within_the_limit(Db::Sqlite)
        .await;
}

#[tokio::test]
async fn twelve_applications_in_a_minute_are_all_filed_and_all_answered_within_the_limit_postgres()
{
    twelve_applications_in_a_minute_are_all_filed_and_all_answered_within_the_limit(Db::Postgres)
        .await;
}

/// A SQLite store and, where PostgreSQL runs, a PostgreSQL store.
async fn stores() -> Vec<(&'static str, Store, tempfile::TempDir)> {
    let opts = StoreOptions::default();
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

/// A filed message as intake leaves it (only what loop detection reads is filled in).
async fn received(store: &Store, sender: &str, subject: &str, at: i64) {
    let mut conn = store.conn().await.unwrap();
    sqlx::query(
        "INSERT INTO messages (source, sha256, size, sender, subject, received_at, state) \
         VALUES ('imap', $1, 1, $2, $3, $4, 'filed')",
    )
    .bind(uuid::Uuid::new_v4().simple().to_string())
    .bind(sender)
    .bind(subject)
    .bind(at)
    .execute(&mut *conn)
    .await
    .unwrap();
}

#[tokio::test]
async fn an_autoresponder_answering_our_acknowledgements_is_a_loop_on_the_fourth_round() {
    const T: i64 = 1_790_000_000_000;
    let ack = "[PSR-7K3M9-QXD2F] Tanda terima permohonan izin: Permohonan PBG";
    for (name, store, _dir) in stores().await {
        let mut conn = store.conn().await.unwrap();
        let robot = "helpdesk@vendor.example";
        received(&store, robot, &format!("Re: {ack}"), T).await;
        received(
            &store,
            "Helpdesk@Vendor.example",
            &format!("RE: {ack}"),
            T + 60_000,
        )
        .await;
        assert_eq!(
            loop_reason(&mut conn, robot, Some(&format!("AW: {ack}")), T + 120_000)
                .await
                .unwrap(),
            None,
            "{name}: two earlier ones are no loop yet"
        );
        received(&store, robot, &format!("Balas: Re:  {ack}"), T + 120_000).await;
        let reason = loop_reason(&mut conn, robot, Some(&format!("Re: {ack}")), T + 180_000)
            .await
            .unwrap();
        assert_eq!(
            reason.as_deref(),
            Some("mail loop: the same subject came 4 times in an hour"),
            "{name}"
        );
        // Another subject, another sender, or an hour later: no loop.
        for (sender, subject, at) in [
            (robot, "Permohonan PBG gudang", T + 180_000),
            ("budi@example.com", ack, T + 180_000),
            (robot, ack, T + 120_000 + HOUR_MS + 1),
        ] {
            assert_eq!(
                loop_reason(&mut conn, sender, Some(subject), at)
                    .await
                    .unwrap(),
                None,
                "{name}: {sender} {subject} at {at}"
            );
        }
        // Only messages before `now_ms` count: the message itself is not one of them.
        assert_eq!(
            loop_reason(&mut conn, robot, Some(ack), T + 120_000)
                .await
                .unwrap(),
            None,
            "{name}"
        );
    }
}

#[tokio::test]
async fn people_sending_photos_without_a_subject_are_no_loop() {
    const T: i64 = 1_790_000_000_000;
    for (name, store, _dir) in stores().await {
        for i in 0..5 {
            received(&store, "sri@example.com", "", T + i * 1000).await;
        }
        let mut conn = store.conn().await.unwrap();
        for subject in [None, Some(""), Some("  Re: ")] {
            assert_eq!(
                loop_reason(&mut conn, "sri@example.com", subject, T + 10_000)
                    .await
                    .unwrap(),
                None,
                "{name}: {subject:?}"
            );
        }
    }
}
