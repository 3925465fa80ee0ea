//! Real third-party mail (mail-parser's and enmime's test corpora, CPython's email tests) goes
//! through the whole pipeline: every message is filed or recorded, none crashes or hangs it.

mod app;
mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use app::{Db, TestApp};

fn corpus_files() -> Vec<PathBuf> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let mut files = Vec::new();
    for (dir, ext) in [
        ("mail-parser-eml/resources/eml", "eml"),
        ("enmime/testdata", "raw"),
    ] {
        collect(&shared.join(dir), ext, &mut files);
    }
    let python = std::process::Command::new("python3")
        .args([
            "-c",
            "import test, os; print(os.path.dirname(test.__file__))",
        ])
        .output();
    if let Ok(out) = python {
        let dir =
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("test_email/data");
        if let Ok(entries) = std::fs::read_dir(&dir) {
            files.extend(entries.flatten().map(|e| e.path()).filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("msg_"))
            }));
        }
    }
    files.sort();
    files
}

fn collect(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

#[tokio::test]
async fn real_world_mail_goes_through_without_crash_or_hang() {
    let files = corpus_files();
    if files.is_empty() {
        eprintln!("SKIP: ../shared/corpus and CPython's test_email are absent");
        return;
    }
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    for f in &files {
        app.deliver(&std::fs::read(f).unwrap()).await;
    }
    let started = Instant::now();
    let report = tokio::time::timeout(Duration::from_secs(300), app.run_once())
        .await
        .expect("no hang");
    eprintln!(
        "{} corpus messages in {:?}: {report:?}",
        files.len(),
        started.elapsed()
    );
    assert_eq!(
        report.jobs.parked, 0,
        "no step failed three times: {report:?}"
    );
    let store = app.store().await;
    let unfinished = store.job_counts().await.unwrap();
    let unfinished: Vec<_> = unfinished
        .into_iter()
        .filter(|(k, _, _)| k != "send")
        .collect();
    let errors: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT kind, last_error FROM jobs WHERE state <> 'done' AND kind <> 'send'",
    )
    .fetch_all(&app.sql().await)
    .await
    .unwrap();
    assert!(unfinished.is_empty(), "{unfinished:?} {errors:?}");
    let filed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE case_id IS NOT NULL")
        .fetch_one(&app.sql().await)
        .await
        .unwrap();
    assert_eq!(
        filed as usize,
        files.len(),
        "every message is filed (or recorded as a duplicate)"
    );
}
