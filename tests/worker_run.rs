//! `loket run` as an operator runs it: mail is answered within seconds (IDLE), and SIGTERM
//! stops the worker cleanly.

mod app;
mod support;

use std::time::{Duration, Instant};

use app::{acks_to, text_mail, unique_address, Daemon, Db, TestApp};

#[tokio::test]
async fn running_worker_answers_new_mail_within_seconds_and_stops_on_sigterm() {
    let app = TestApp::spawn_with(Db::Sqlite, |t| {
        // IDLE must wake the worker, not the poll interval.
        t["imap"]["poll_seconds"] = toml::Value::Integer(600);
    })
    .await
    .unwrap();
    let daemon = Daemon::start(&app, &["run"]);
    tokio::time::sleep(Duration::from_secs(2)).await;

    let wati = unique_address("wati");
    let sent = Instant::now();
    app.deliver(&text_mail(
        &wati,
        "Permohonan izin apotek",
        "Kami mengajukan izin apotek baru.",
        "",
    ))
    .await;
    let acks = support::smtp()
        .wait_for(&wati, 1, Duration::from_secs(20))
        .await;
    assert_eq!(acks.len(), 1, "acknowledged while running");
    let took = sent.elapsed();
    assert!(took < Duration::from_secs(15), "answered in {took:?}");

    // Moved out of the inbox by the running worker.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !app.inbox().await.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(app.inbox().await.is_empty());

    assert_eq!(daemon.stop(), Some(0), "clean exit on SIGTERM");
    assert_eq!(acks_to(&wati, 1).await.len(), 1);
}

#[tokio::test]
async fn unreachable_mailbox_is_a_clear_error_naming_host_and_port() {
    let port = support::free_port();
    let app = TestApp::spawn_with(Db::Sqlite, |t| {
        t["imap"]["port"] = toml::Value::Integer(port as i64);
    })
    .await
    .unwrap();
    let out = app.command().args(["run", "--once"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert!(!stderr.contains(&app.pass));
}

#[tokio::test]
async fn bad_config_exits_with_status_2_naming_the_key() {
    let app = TestApp::spawn_with(Db::Sqlite, |t| {
        t["imap"]
            .as_table_mut()
            .unwrap()
            .insert("pasword".into(), toml::Value::String("x".into()));
    })
    .await
    .unwrap();
    let out = app.command().args(["run", "--once"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pasword"), "{stderr}");
}

/// Every command the office scripts call, with what it needs to get as far as its config.
fn every_command(dir: &std::path::Path) -> Vec<Vec<String>> {
    let file = app::repo()
        .join("fixtures/postal/formulir-reklame-siti.pdf")
        .display()
        .to_string();
    let out = |name: &str| dir.join(name).display().to_string();
    [
        vec!["run", "--once"],
        vec!["import", &file],
        vec!["letters", "--out", &out("surat.pdf")],
        vec!["separator-sheet", "--out", &out("pemisah.pdf")],
        vec!["cases", "list"],
        vec!["cases", "show", "PSR-7K3M-9QXD"],
        vec!["rules", "check"],
        vec!["rules", "explain", &file],
    ]
    .into_iter()
    .map(|args| args.into_iter().map(String::from).collect())
    .collect()
}

#[tokio::test]
async fn every_command_exits_2_on_a_broken_config_and_touches_nothing() {
    let app = TestApp::spawn_with(Db::Sqlite, |t| {
        t["office"]["code"] = toml::Value::String("X".into());
    })
    .await
    .unwrap();
    for args in every_command(app.dir.path()) {
        let out = app.command().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("office.code"), "{args:?}: {stderr}");
    }
    assert!(!app.dir.path().join("pemisah.pdf").exists());
    assert!(!app.dir.path().join("surat.pdf").exists());
}

#[tokio::test]
async fn broken_rules_exit_2_naming_the_file_wherever_rules_are_used() {
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(
        rules.path().join("salah.toml"),
        "[[permit]]\nid = \"reklame\"\nfrases = [\"reklame\"]\n",
    )
    .unwrap();
    let app = TestApp::spawn_with(Db::Sqlite, |t| {
        t["rules"]["dir"] = toml::Value::String(rules.path().display().to_string());
        t.remove("imap");
    })
    .await
    .unwrap();
    for args in every_command(app.dir.path()) {
        let out = app.command().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        match args[0].as_str() {
            // No rules needed; an unknown case is a runtime error, not a config one.
            "cases" if args[1] == "show" => assert_eq!(out.status.code(), Some(1), "{stderr}"),
            "cases" | "separator-sheet" => {
                assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}")
            }
            _ => {
                assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
                assert!(stderr.contains("salah.toml"), "{args:?}: {stderr}");
            }
        }
    }
}
