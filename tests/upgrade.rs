//! Upgrades in place: an office runs v0.1.0, stops it in the middle of its work and starts this
//! release on the same database. The database (SQLite file or PostgreSQL dump) and its blob
//! folder were made by v0.1.0 itself with `tests/fixtures/upgrade/make.sh`: cases received,
//! sorted and failed; messages new, filed, duplicate and failed; jobs pending, running (leased
//! by a worker that died), done and parked of every kind; outbox mail pending, sent and failed;
//! receipt letters printed and not. `expected.json` lists what was in it.
//!
//! The first `run --once` of this release must bring the schema up to date and carry on:
//! every case is still there with its data, waiting mail goes out exactly once, mail already
//! sent or given up on does not, waiting steps finish, nothing new is parked, and new mail gets
//! new cases.

mod app;
mod support;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;
use sqlx::Row;

use app::{header, repo, text_mail, unique_address, Db, TestApp};
use loket::filing::views::CaseView;
use support::SmtpSink;

fn fixture_dir() -> PathBuf {
    repo().join("tests/fixtures/upgrade/v0.1.0")
}

/// What `make.sh` recorded for one database.
fn expected(db: Db) -> Value {
    let path = fixture_dir().join("expected.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let all: Value = serde_json::from_str(&text).expect("expected.json parses");
    let name = match db {
        Db::Sqlite => "sqlite",
        Db::Postgres => "postgres",
    };
    all["databases"][name].clone()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A TestApp whose database and blob folder are copies of the v0.1.0 fixture, sending to
/// `smtp_port`, reading a fresh mailbox (the fixture's own mailbox is gone).
async fn app_on_fixture(db: Db, smtp_port: u16) -> Option<TestApp> {
    let app = TestApp::spawn_with(db, |t| {
        t["smtp"]["port"] = toml::Value::Integer(smtp_port.into());
    })
    .await?;
    match db {
        Db::Sqlite => {
            std::fs::copy(
                fixture_dir().join("loket.db"),
                app.dir.path().join("loket.db"),
            )
            .unwrap();
        }
        Db::Postgres => support::postgres()
            .expect("TestApp made a PostgreSQL database")
            .restore(&app.db_url, &fixture_dir().join("postgres.sql")),
    }
    copy_dir(&fixture_dir().join("blobs"), &app.dir.path().join("blobs"));
    Some(app)
}

/// `(key, state)` rows of a table, read straight from the database.
async fn states(app: &TestApp, sql: &str) -> Vec<(Option<String>, String)> {
    let db = app.sql().await;
    let rows = sqlx::query(sql).fetch_all(&db).await.unwrap();
    db.close().await;
    rows.iter()
        .map(|r| (r.get::<Option<String>, _>(0), r.get::<String, _>(1)))
        .collect()
}

/// The Message-IDs (without angle brackets) of every mail the sink received, with counts.
fn sent_message_ids(sink: &support::SmtpSink) -> HashMap<String, usize> {
    let mut ids = HashMap::new();
    for raw in sink.messages() {
        let raw = String::from_utf8_lossy(&raw);
        let id = header(&raw, "Message-ID").expect("every acknowledgement has a Message-ID");
        *ids.entry(id.trim_matches(['<', '>', ' ']).to_string())
            .or_insert(0) += 1;
    }
    ids
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v[key].as_str()
}

async fn a_database_made_by_v0_1_0_upgrades_and_carries_on(db: Db) {
    let want = expected(db);
    let sink = support::new_smtp_sink();
    let Some(app) = app_on_fixture(db, sink.port).await else {
        return;
    };
    // New mail arrives while the office upgrades.
    let fresh = unique_address("sesudah.upgrade");
    app.deliver(&text_mail(
        &fresh,
        "Permohonan izin reklame",
        "Saya mau pasang papan reklame di toko.",
        "",
    ))
    .await;

    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);

    let cases = cases_are_kept(&app, &want).await;
    let sent = waiting_mail_goes_out_once(&app, &want, &sink).await;
    assert_eq!(
        sink.messages_to(&fresh).len(),
        1,
        "the new mail is answered"
    );
    messages_are_kept(&app, &want).await;
    waiting_steps_finish_and_nothing_new_is_parked(&app, &want).await;
    letters_are_kept(&app, &want).await;

    // And the next run finds nothing to do.
    app.run_once().await;
    assert_eq!(sink.messages().len(), sent, "nothing sent twice");
    assert_eq!(app.cases().await.len(), cases, "no case twice");
}

/// The fixture's messages that were not filed yet.
fn unfiled(want: &Value) -> Vec<&Value> {
    want["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["state"] == "new")
        .collect()
}

/// Every case of the fixture is there with its data, and those waiting are sorted now; the
/// unfiled messages and the new mail got a case each. Returns the number of cases.
async fn cases_are_kept(app: &TestApp, want: &Value) -> usize {
    let cases: HashMap<String, CaseView> = app
        .cases()
        .await
        .into_iter()
        .map(|c| (c.tracking_code.clone(), c))
        .collect();
    let old_cases = want["cases"].as_array().unwrap();
    for old in old_cases {
        let code = str_of(old, "tracking_code").unwrap();
        let case = cases
            .get(code)
            .unwrap_or_else(|| panic!("case {code} lost in the upgrade"));
        case_is_kept(case, old);
    }
    let unfiled = unfiled(want).len();
    assert!(unfiled > 0, "the fixture has messages not yet filed");
    assert_eq!(
        cases.len(),
        old_cases.len() + unfiled + 1,
        "one new case per unfiled message and one for the new mail, no more"
    );
    cases.len()
}

fn case_is_kept(case: &CaseView, old: &Value) {
    let code = &case.tracking_code;
    assert_eq!(
        Some(case.channel.as_str()),
        str_of(old, "channel"),
        "{code}"
    );
    assert_eq!(case.subject.as_deref(), str_of(old, "subject"), "{code}");
    assert_eq!(
        case.applicant.email.as_deref(),
        str_of(old, "applicant_email"),
        "{code}"
    );
    assert_eq!(
        case.documents.len() as u64,
        old["documents"].as_u64().unwrap(),
        "{code}: {:#?}",
        case.documents
    );
    match str_of(old, "status").unwrap() {
        "received" => assert_eq!(case.status, "queued", "{code}: its waiting steps ran"),
        status => {
            assert_eq!(case.status, status, "{code}");
            assert_eq!(Some(case.kind.as_str()), str_of(old, "kind"), "{code}");
        }
    }
}

/// Mail that was waiting went out exactly once; mail sent or given up on did not; the cases
/// sorted now (new, or waiting in the fixture) got their acknowledgement once. Returns the
/// number of mails the server got.
async fn waiting_mail_goes_out_once(app: &TestApp, want: &Value, sink: &SmtpSink) -> usize {
    let before: HashMap<&str, &str> = want["cases"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["outbox_mails"].as_array().unwrap())
        .map(|m| {
            (
                str_of(m, "message_id").unwrap(),
                str_of(m, "state").unwrap(),
            )
        })
        .collect();
    let sent = sent_message_ids(sink);
    for (id, times) in &sent {
        assert_eq!(*times, 1, "mail {id} sent once");
        if let Some(state) = before.get(id.as_str()) {
            assert_eq!(*state, "pending", "{state} mail {id} not sent again");
        }
    }
    let waiting: Vec<&str> = before
        .iter()
        .filter(|(_, state)| **state == "pending")
        .map(|(id, _)| *id)
        .collect();
    assert!(
        !waiting.is_empty(),
        "the fixture has mail waiting in the outbox"
    );
    for id in &waiting {
        assert!(sent.contains_key(*id), "waiting mail {id} sent: {sent:?}");
    }
    let outbox = states(app, "SELECT message_id, state FROM outbox ORDER BY id").await;
    for (id, state) in &outbox {
        let id = id.as_deref().unwrap();
        match before.get(id) {
            Some(&"pending") | None => {
                assert_eq!(state, "sent", "outbox mail {id}");
                assert!(sent.contains_key(id), "outbox mail {id} reached the server");
            }
            Some(then) => assert_eq!(state, then, "outbox mail {id}"),
        }
    }
    let sent_before = before.values().filter(|s| **s == "sent").count();
    let sent_now = outbox.iter().filter(|(_, s)| s == "sent").count();
    assert_eq!(
        sent.len(),
        sent_now - sent_before,
        "the server got exactly the mail marked sent in this run"
    );
    sent.len()
}

/// No message is lost; the unfiled ones are filed now.
async fn messages_are_kept(app: &TestApp, want: &Value) {
    let messages = states(app, "SELECT message_id, state FROM messages ORDER BY id").await;
    let old_messages = want["messages"].as_array().unwrap();
    assert_eq!(messages.len(), old_messages.len() + 1, "{messages:?}");
    for (old, (id, state)) in old_messages.iter().zip(&messages) {
        let then = str_of(old, "state").unwrap();
        if then != "new" {
            // Headers are read by the intake step: unfiled messages have none yet.
            assert_eq!(id.as_deref(), str_of(old, "message_id"));
        }
        let wanted = if then == "new" { "filed" } else { then };
        assert_eq!(state, wanted, "message {id:?} was {then}");
    }
}

/// Everything waiting ran (the running step of the dead worker included) and nothing new was
/// parked. Moves of the fixture's messages wait for its mailbox, which is not this one.
async fn waiting_steps_finish_and_nothing_new_is_parked(app: &TestApp, want: &Value) {
    let store = app.store().await;
    let left: BTreeMap<String, i64> = store
        .job_counts()
        .await
        .unwrap()
        .into_iter()
        .map(|(kind, state, n)| (format!("{kind}:{state}"), n))
        .collect();
    store.close().await;
    let mut wanted: BTreeMap<String, i64> = want["jobs"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.ends_with(":parked"))
        .map(|(k, n)| (k.clone(), n.as_i64().unwrap()))
        .collect();
    let moves = want["move_jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["state"] == "pending")
        .count();
    assert!(moves > 0, "the fixture has mailbox moves waiting");
    // The unfiled messages came from that mailbox too: filing them queues their moves.
    let unfiled_mail = unfiled(want)
        .iter()
        .filter(|m| m["source"] == "imap")
        .count();
    wanted.insert("move:pending".into(), (moves + unfiled_mail) as i64);
    // Letters are printed through the queue now: each unprinted letter waits for `loket letters`.
    let unprinted = want["letters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["state"] == "unprinted")
        .count();
    wanted.insert("letter:pending".into(), unprinted as i64);
    assert_eq!(left, wanted, "steps not done after the upgrade");
}

/// Receipt letters keep their printed state.
async fn letters_are_kept(app: &TestApp, want: &Value) {
    let letters = states(
        app,
        "SELECT c.tracking_code, CASE WHEN l.printed_at IS NULL THEN 'unprinted' ELSE 'printed' END \
         FROM letters l JOIN cases c ON c.id = l.case_id ORDER BY l.id",
    )
    .await;
    let old_letters: Vec<(Option<String>, String)> = want["letters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                str_of(l, "tracking_code").map(String::from),
                str_of(l, "state").unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(letters, old_letters);
}

#[tokio::test]
async fn a_database_made_by_v0_1_0_upgrades_and_carries_on_sqlite() {
    a_database_made_by_v0_1_0_upgrades_and_carries_on(Db::Sqlite).await;
}

#[tokio::test]
async fn a_database_made_by_v0_1_0_upgrades_and_carries_on_postgres() {
    a_database_made_by_v0_1_0_upgrades_and_carries_on(Db::Postgres).await;
}
