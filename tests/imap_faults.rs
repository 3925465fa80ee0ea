//! The mailbox server misbehaves and loket still files every message once, and never removes
//! another client's mail: Dovecot restarted in the middle of a batch, and (on a scripted server,
//! because Dovecot never does this) FETCH answers without a size or without the message, and
//! servers without MOVE or UIDPLUS.
//!
//! This binary restarts the harness's shared Dovecot: keep tests that need Dovecot running
//! throughout out of it.

mod app;
mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use app::{acks_to, header, mail_with, text_mail, unique_address, Db, Part, TestApp};
use support::scripted_imap::DOVECOT_CAPS;
use support::{Omit, ScriptedImap};

/// A loket instance whose mailbox is `server`.
async fn app_on(
    server: &ScriptedImap,
    db: Db,
    edit: impl FnOnce(&mut toml::Table),
) -> Option<TestApp> {
    let port = server.port as i64;
    TestApp::spawn_with(db, move |t| {
        t["imap"]["port"] = toml::Value::Integer(port);
        edit(t);
    })
    .await
}

/// The last UID loket recorded for its mailbox.
async fn last_uid(app: &TestApp) -> i64 {
    let db = app.sql().await;
    let uid: i64 = sqlx::query_scalar("SELECT last_uid FROM mailbox_state")
        .fetch_one(&db)
        .await
        .unwrap();
    db.close().await;
    uid
}

/// The commands the server received that are `UID FETCH <uid> ...` for this one UID alone.
fn fetched_alone(server: &ScriptedImap, uid: u32) -> usize {
    let prefix = format!("UID FETCH {uid} (UID BODY.PEEK[");
    server
        .commands()
        .iter()
        .filter(|c| c.starts_with(&prefix))
        .count()
}

fn caps_without(without: &[&str]) -> Vec<&'static str> {
    DOVECOT_CAPS
        .iter()
        .copied()
        .filter(|c| !without.contains(c))
        .collect()
}

#[tokio::test]
async fn mail_the_server_gives_no_size_for_is_filed_and_a_big_one_keeps_only_its_headers() {
    let server = ScriptedImap::start(DOVECOT_CAPS);
    let app = app_on(&server, Db::Sqlite, |t| {
        let mut limits = toml::Table::new();
        limits.insert("max_message_bytes".into(), toml::Value::Integer(1 << 20));
        t.insert("limits".into(), toml::Value::Table(limits));
    })
    .await
    .unwrap();
    let (small, big, known) = (
        unique_address("small"),
        unique_address("big"),
        unique_address("known"),
    );
    let scan = vec![0x5a_u8; 3 << 20];
    let small_uid = server.deliver(&text_mail(&small, "Izin usaha", "Mohon izin usaha.", ""));
    let big_uid = server.deliver(&mail_with(
        &big,
        "Izin bangunan",
        "Berkas terlampir.",
        &[Part {
            filename: "denah.pdf",
            content_type: "application/pdf",
            data: &scan,
        }],
    ));
    server.deliver(&text_mail(&known, "Izin reklame", "Papan reklame.", ""));
    server.omit_size(small_uid);
    server.omit_size(big_uid);

    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);

    let cases = app.cases().await;
    assert_eq!(cases.len(), 3, "{cases:#?}");
    let big_case = cases
        .iter()
        .find(|c| c.applicant.email.as_deref() == Some(big.as_str()))
        .expect("the big message is filed");
    assert!(
        big_case.documents.iter().all(|d| d.size == 0),
        "headers only: {:#?}",
        big_case.documents
    );
    let shown = app.show(&big_case.tracking_code).await;
    let error = shown.details.unwrap().error.unwrap_or_default();
    assert!(error.contains("batas ukuran"), "{error}");
    assert_eq!(fetched_alone(&server, small_uid), 1, "unknown size: alone");
    assert_eq!(fetched_alone(&server, big_uid), 1, "unknown size: alone");
    assert_eq!(acks_to(&small, 1).await.len(), 1);
    assert_eq!(acks_to(&known, 1).await.len(), 1);
    assert!(server.messages("INBOX").is_empty());
    assert_eq!(last_uid(&app).await, 3);
}

#[tokio::test]
async fn message_sent_without_content_once_is_filed_on_the_second_ask() {
    let server = ScriptedImap::start(DOVECOT_CAPS);
    let app = app_on(&server, Db::Sqlite, |_| {}).await.unwrap();
    let senders: Vec<String> = (0..3)
        .map(|i| unique_address(&format!("once{i}")))
        .collect();
    for s in &senders {
        server.deliver(&text_mail(s, "Izin trayek", "Mohon izin trayek.", ""));
    }
    server.omit_body(2, Omit::Once);

    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);
    assert_eq!(app.cases().await.len(), 3);
    assert_eq!(fetched_alone(&server, 2), 1, "asked again, alone");
    for s in &senders {
        assert_eq!(acks_to(s, 1).await.len(), 1, "{s}");
    }
    assert_eq!(last_uid(&app).await, 3);
}

async fn message_the_server_never_sends_is_not_skipped_and_the_rest_is_filed(db: Db) {
    let server = ScriptedImap::start(DOVECOT_CAPS);
    let Some(app) = app_on(&server, db, |_| {}).await else {
        return;
    };
    let senders: Vec<String> = (0..4)
        .map(|i| unique_address(&format!("never{i}")))
        .collect();
    for s in &senders {
        server.deliver(&text_mail(s, "Izin apotek", "Mohon izin apotek.", ""));
    }
    server.omit_body(2, Omit::Always);

    for pass in 1..=2 {
        let report = app.run_once().await;
        assert!(
            report.unreachable.is_empty(),
            "pass {pass}: {:?}",
            report.unreachable
        );
        assert_eq!(app.cases().await.len(), 3, "pass {pass}: all but UID 2");
        assert_eq!(last_uid(&app).await, 1, "pass {pass}: held below UID 2");
    }
    assert!(
        fetched_alone(&server, 2) >= 2,
        "tried again on the second pass"
    );
    let inbox: Vec<u32> = server.messages("INBOX").iter().map(|m| m.uid).collect();
    assert_eq!(inbox, vec![2], "only the unsent one waits in the inbox");

    // The server recovers: the message is filed, nothing else twice.
    server.clear_faults();
    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);
    assert_eq!(app.cases().await.len(), 4);
    // UIDs 3 and 4 left the inbox on the first pass; 2 was the only one left to look at.
    assert_eq!(last_uid(&app).await, 2);
    for s in &senders {
        assert_eq!(acks_to(s, 1).await.len(), 1, "{s}");
    }
    assert!(server.messages("INBOX").is_empty());
}

#[tokio::test]
async fn message_the_server_never_sends_is_not_skipped_and_the_rest_is_filed_sqlite() {
    message_the_server_never_sends_is_not_skipped_and_the_rest_is_filed(Db::Sqlite).await;
}

#[tokio::test]
async fn message_the_server_never_sends_is_not_skipped_and_the_rest_is_filed_postgres() {
    message_the_server_never_sends_is_not_skipped_and_the_rest_is_filed(Db::Postgres).await;
}

/// A message another mail client marks `\Deleted` (without expunging) just as loket moves.
fn clerk_deletes_a_message_during_the_move(server: &ScriptedImap) -> Vec<u8> {
    let raw = text_mail("kasi@pasuruankab.go.id", "Draf lama", "hapus saja", "");
    let kept = raw.clone();
    server.before_first("UID COPY", move |m| {
        let uid = m.append("INBOX", &raw);
        m.flag_deleted("INBOX", uid);
    });
    kept
}

#[tokio::test]
async fn server_without_move_gets_copy_and_uid_expunge_of_our_messages_only() {
    let server = ScriptedImap::start(&caps_without(&["MOVE"]));
    let app = app_on(&server, Db::Sqlite, |_| {}).await.unwrap();
    let (a, b) = (unique_address("copy-a"), unique_address("copy-b"));
    server.deliver(&text_mail(&a, "Izin usaha", "Mohon izin.", ""));
    server.deliver(&text_mail(&b, "Izin usaha", "Mohon izin juga.", ""));
    let clerks = clerk_deletes_a_message_during_the_move(&server);

    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);
    assert_eq!(report.moved, 2);
    assert_eq!(server.messages("Processed").len(), 2);
    let inbox = server.messages("INBOX");
    assert_eq!(inbox.len(), 1, "the clerk's message stays");
    assert_eq!(inbox[0].raw, clerks);
    assert!(inbox[0].deleted);
    let commands = server.commands();
    assert!(
        commands.iter().any(|c| c == "UID EXPUNGE 1,2"),
        "{commands:#?}"
    );
    assert!(
        !commands.iter().any(|c| c.eq_ignore_ascii_case("EXPUNGE")),
        "no bare EXPUNGE: {commands:#?}"
    );
    assert_eq!(acks_to(&a, 1).await.len(), 1);
}

#[tokio::test]
async fn server_without_move_or_uidplus_is_never_sent_an_expunge() {
    let server = ScriptedImap::start(&caps_without(&["MOVE", "UIDPLUS"]));
    let app = app_on(&server, Db::Sqlite, |_| {}).await.unwrap();
    let (a, b) = (unique_address("flag-a"), unique_address("flag-b"));
    server.deliver(&text_mail(&a, "Izin usaha", "Mohon izin.", ""));
    server.deliver(&text_mail(&b, "Izin usaha", "Mohon izin juga.", ""));
    clerk_deletes_a_message_during_the_move(&server);

    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);
    assert_eq!(server.messages("Processed").len(), 2);
    let inbox = server.messages("INBOX");
    assert_eq!(inbox.len(), 3, "nothing expunged: ours and the clerk's");
    assert!(inbox.iter().all(|m| m.deleted));

    // Our flagged messages lie below the last UID: not filed or copied again. The clerk's
    // message is new mail to loket.
    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);
    assert_eq!(app.cases().await.len(), 3);
    assert_eq!(server.messages("Processed").len(), 3, "each copied once");
    assert_eq!(server.messages("INBOX").len(), 3);
    let commands = server.commands();
    assert!(
        !commands
            .iter()
            .any(|c| c.to_ascii_uppercase().contains("EXPUNGE")),
        "{commands:#?}"
    );
    assert_eq!(acks_to(&a, 1).await.len(), 1);
    assert_eq!(acks_to(&b, 1).await.len(), 1);
}

/// Stops `loket run` when the test ends, however it ends.
struct Daemon(std::process::Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How many acknowledgements reached each address starting with `prefix`.
fn acks_by_recipient(prefix: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for raw in support::smtp().messages() {
        let text = String::from_utf8_lossy(&raw);
        if let Some(to) = header(&text, "X-RcptTo") {
            if to.starts_with(prefix) {
                *counts.entry(to).or_default() += 1;
            }
        }
    }
    counts
}

/// How many messages the daemon has stored (0 while it has not created its database yet).
async fn stored_messages(url: &str) -> i64 {
    let Ok(pool) = sqlx::AnyPool::connect(url).await else {
        return 0;
    };
    let n = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
        .fetch_one(&pool)
        .await
        .unwrap_or(0);
    pool.close().await;
    n
}

#[tokio::test]
async fn dovecot_restart_in_the_middle_of_a_batch_loses_and_doubles_nothing() {
    const MESSAGES: usize = 200;
    let app = TestApp::spawn_with(Db::Sqlite, |t| {
        t["imap"]
            .as_table_mut()
            .unwrap()
            .insert("batch_size".into(), toml::Value::Integer(10));
    })
    .await
    .unwrap();
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let prefix = format!("restart-{tag}-");
    let mails: Vec<Vec<u8>> = (0..MESSAGES)
        .map(|i| {
            let from = format!("{prefix}{i:03}@example.com");
            text_mail(
                &from,
                &format!("Izin usaha {i}"),
                "Mohon izin usaha mikro.",
                "",
            )
        })
        .collect();
    let imap = support::dovecot();
    imap.append_many(&app.user, &app.pass, "INBOX", &mails)
        .await;

    let _daemon = Daemon(app.command().arg("run").spawn().unwrap());
    sqlx::any::install_default_drivers();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut at_restart = stored_messages(&app.db_url).await;
    while at_restart == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
        at_restart = stored_messages(&app.db_url).await;
    }
    imap.restart();
    assert!(
        (1..MESSAGES as i64).contains(&at_restart),
        "restarted mid-intake: {at_restart} of {MESSAGES} stored"
    );

    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let acked = acks_by_recipient(&prefix).len();
        if acked == MESSAGES && app.inbox().await.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{acked} of {MESSAGES} acknowledged in time"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Room for a doubled acknowledgement to show up before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let acks = acks_by_recipient(&prefix);
    let doubled: Vec<_> = acks.iter().filter(|(_, n)| **n != 1).collect();
    assert!(
        doubled.is_empty(),
        "acknowledged more than once: {doubled:?}"
    );
    assert_eq!(acks.len(), MESSAGES);
    assert_eq!(app.cases().await.len(), MESSAGES, "one case per message");
    assert_eq!(app.processed().await.len(), MESSAGES, "each moved once");
}
