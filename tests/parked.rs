//! Parked work is visible and can be retried: a message whose intake keeps failing still
//! becomes a case (status `failed`) that officers find, leaves the inbox, and gets no
//! acknowledgement; once the cause is mended, `loket parked retry` brings the same case back.

mod app;
mod support;

use app::{acks_to, text_mail, unique_address, Db, TestApp};

fn run_once(app: &TestApp) -> std::process::Output {
    app.command().args(["run", "--once"]).output().unwrap()
}

fn parked_json(app: &TestApp) -> Vec<serde_json::Value> {
    let out = app.command().args(["parked", "--json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("parked --json is JSON")
}

/// The one blob file under the instance's blob folder.
fn only_blob(app: &TestApp) -> std::path::PathBuf {
    let mut found = Vec::new();
    let mut stack = vec![app.dir.path().join("blobs")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                found.push(e.path());
            }
        }
    }
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

#[tokio::test]
async fn a_message_that_cannot_be_taken_in_becomes_a_failed_case_and_can_be_retried() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let sari = unique_address("sari");
    app.deliver(&text_mail(
        &sari,
        "Permohonan izin reklame",
        "Mohon izin pemasangan reklame di Jl. Panglima Sudirman.",
        "",
    ))
    .await;
    // Stored, then the worker dies; the stored copy is damaged on disk before intake reads it.
    let crashed = app
        .command()
        .args(["run", "--once"])
        .env("LOKET_TEST_CRASH_AFTER", "fetch")
        .status()
        .unwrap();
    assert!(!crashed.success());
    let blob = only_blob(&app);
    let good = std::fs::read(&blob).unwrap();
    std::fs::write(&blob, b"damaged").unwrap();
    for _ in 0..3 {
        let out = run_once(&app);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let parked = parked_json(&app);
    assert_eq!(parked.len(), 1, "{parked:?}");
    assert_eq!(parked[0]["kind"], "intake");
    assert!(
        parked[0]["error"]
            .as_str()
            .unwrap()
            .contains("does not match"),
        "{parked:?}"
    );
    let code = parked[0]["tracking_code"]
        .as_str()
        .expect("the parked intake has a case")
        .to_string();
    let case = app.show(&code).await;
    assert_eq!(case.status, "failed");
    assert!(
        app.inbox().await.is_empty(),
        "it left the inbox like any filed message"
    );
    assert!(acks_to(&sari, 0).await.is_empty(), "nothing is answered");

    // Mended: the blob is back. Retrying brings the same case back and answers the applicant.
    std::fs::write(&blob, &good).unwrap();
    let id = parked[0]["id"].as_i64().unwrap().to_string();
    let retry = app
        .command()
        .args(["parked", "retry", &id])
        .output()
        .unwrap();
    assert!(
        retry.status.success(),
        "{}",
        String::from_utf8_lossy(&retry.stderr)
    );
    assert!(run_once(&app).status.success());
    assert!(parked_json(&app).is_empty());
    let cases = app.cases().await;
    assert_eq!(cases.len(), 1, "the same case, not a second one");
    assert_eq!(cases[0].tracking_code, code);
    assert_eq!(cases[0].status, "queued");
    assert_eq!(acks_to(&sari, 1).await.len(), 1);
    let unknown = app
        .command()
        .args(["parked", "retry", "999999"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(1), "no such parked step");
}

#[tokio::test]
async fn workers_lists_this_process_and_finds_it_gone_after_it_stopped() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    assert!(run_once(&app).status.success());
    let out = app.command().args(["workers", "--json"]).output().unwrap();
    assert!(out.status.success());
    let workers: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(workers.len(), 1, "{workers:?}");
    let w = &workers[0];
    for key in [
        "id",
        "host",
        "pid",
        "started_at",
        "heartbeat_at",
        "alive",
        "jobs_held",
    ] {
        assert!(w.get(key).is_some(), "workers --json has {key}: {w}");
    }
    assert_eq!(w["alive"], false, "run --once stopped");
    assert_eq!(w["jobs_held"], 0);
    assert_eq!(w["command"], "run --once");
}
