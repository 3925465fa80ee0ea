//! The office's IT person keeps the data: `loket backup` of a running system, `loket restore`
//! after the disk is wiped, and `loket purge` at the end of the retention period. Real Dovecot,
//! SMTP sink and PostgreSQL; the real binary.

mod app;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use app::{docx, mail_with, repo, unique_address, Daemon, Db, Part, TestApp};
use futures::TryStreamExt;
use loket::domain::Status;
use loket::filing::blobs::sha256_hex;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use serde_json::Value;
use support::Garage;

/// An instance whose rules and templates are its own copies under its folder (a restore puts
/// them back), not the repository's.
async fn office(db: Db) -> Option<TestApp> {
    office_with(db, |_| {}).await
}

/// [`office`] with its documents in `garage` under a prefix of its own (returned).
async fn office_on(garage: &Garage, db: Db, name: &str) -> Option<(TestApp, String)> {
    let prefix = garage.new_prefix(name);
    let app = office_with(db, |t| {
        let storage = t["storage"].as_table_mut().unwrap();
        for (key, value) in [
            ("url", garage.url(&prefix)),
            ("endpoint", garage.endpoint.clone()),
            ("region", garage.region.clone()),
            ("access_key_id", garage.key_id.clone()),
            ("secret_access_key", garage.secret_key.clone()),
        ] {
            storage.insert(key.into(), toml::Value::String(value));
        }
    })
    .await?;
    Some((app, prefix))
}

async fn office_with(db: Db, extra: impl FnOnce(&mut toml::Table)) -> Option<TestApp> {
    TestApp::spawn_with(db, |t| {
        extra(t);
        let blobs = PathBuf::from(t["storage"]["dir"].as_str().unwrap());
        let office = blobs.parent().unwrap().join("office");
        for (section, key, name) in [
            ("rules", "dir", "rules"),
            ("notify", "templates_dir", "templates"),
        ] {
            copy_dir(&repo().join(name), &office.join(name));
            t[section][key] = toml::Value::String(office.join(name).display().to_string());
        }
    })
    .await
}

/// The objects under `prefix` in the bucket, by name, with their content.
async fn objects(garage: &Garage, prefix: &str) -> BTreeMap<String, Vec<u8>> {
    let s3 = garage.object_store();
    let listed: Vec<_> = s3
        .list(Some(&ObjectPath::from(prefix)))
        .try_collect()
        .await
        .unwrap();
    let mut found = BTreeMap::new();
    for meta in listed {
        let data = s3.get(&meta.location).await.unwrap().bytes().await.unwrap();
        found.insert(meta.location.to_string(), data.to_vec());
    }
    found
}

/// The object name of a blob: `PREFIX/ab/abcdef…`.
fn object_name(prefix: &str, sha: &str) -> String {
    format!("{prefix}/{}/{sha}", &sha[..2])
}

/// The bucket prefix is lost.
async fn wipe_prefix(garage: &Garage, prefix: &str) {
    let s3 = garage.object_store();
    for name in objects(garage, prefix).await.into_keys() {
        s3.delete(&ObjectPath::from(name.as_str())).await.unwrap();
    }
    assert!(objects(garage, prefix).await.is_empty());
}

fn blobs_verify(app: &TestApp) -> (Option<i32>, String) {
    let out = loket(app, &["blobs", "verify"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn loket(app: &TestApp, args: &[&str]) -> Output {
    app.command().args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(app: &TestApp, args: &[&str]) -> Value {
    let out = loket(app, args);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn codes(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["tracking_code"].as_str().unwrap().to_string())
        .collect()
}

fn show(app: &TestApp, code: &str) -> Value {
    json(app, &["cases", "show", code, "--json"])
}

fn blob_path(app: &TestApp, sha: &str) -> PathBuf {
    app.dir.path().join("blobs").join(&sha[..2]).join(sha)
}

fn document_shas(case: &Value) -> Vec<String> {
    case["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["sha256"].as_str().unwrap().to_string())
        .collect()
}

fn application(from: &str, n: usize, files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let parts: Vec<Part<'_>> = files
        .iter()
        .map(|(name, data)| Part {
            filename: name,
            content_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            data,
        })
        .collect();
    mail_with(
        from,
        &format!("Permohonan izin reklame nomor {n}"),
        "Dengan hormat, kami mengajukan izin reklame. Berkas terlampir.",
        &parts,
    )
}

async fn wait_for_cases(app: &TestApp, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while app.cases().await.len() < n {
        assert!(
            Instant::now() < deadline,
            "the worker did not file {n} cases"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn it_backs_up_a_running_office_wipes_it_and_restores_every_case_and_document() {
    let app = office(Db::Sqlite).await.unwrap();
    let first: Vec<Vec<u8>> = (0..4)
        .map(|i| {
            let from = unique_address(&format!("pemohon{i}"));
            let ktp = docx(&[&format!("KARTU TANDA PENDUDUK pemohon {i}")]);
            let surat = docx(&["SURAT PERMOHONAN izin reklame", &format!("nomor {i}")]);
            application(&from, i, &[("ktp.docx", ktp), ("permohonan.docx", surat)])
        })
        .collect();
    app.deliver_all(&first).await;
    app.run_once().await;
    let before_list = json(&app, &["cases", "list", "--json"]);
    let before: BTreeMap<String, Value> = codes(&before_list)
        .into_iter()
        .map(|code| (code.clone(), show(&app, &code)))
        .collect();
    assert_eq!(before.len(), 4);
    let blobs_before: BTreeMap<String, Vec<u8>> = before
        .values()
        .flat_map(document_shas)
        .map(|sha| (sha.clone(), std::fs::read(blob_path(&app, &sha)).unwrap()))
        .collect();
    assert_eq!(blobs_before.len(), 8, "two files per application");

    // The worker runs; mail keeps coming while the backup is made.
    let worker = Daemon::start(&app, &["run"]);
    let during: Vec<Vec<u8>> = (4..10)
        .map(|i| {
            let from = unique_address(&format!("pemohon{i}"));
            application(&from, i, &[("ktp.docx", docx(&[&format!("KTP {i}")]))])
        })
        .collect();
    app.deliver_all(&during[..3]).await;
    let out_dir = app.dir.path().join("cadangan");
    let backup = tokio::process::Command::from({
        let mut c = app.command();
        c.args(["backup", "--out"]).arg(&out_dir);
        c
    })
    .output();
    let deliver_more = async {
        for raw in &during[3..] {
            app.deliver(raw).await;
        }
    };
    let (backup, ()) = tokio::join!(backup, deliver_more);
    let backup = backup.unwrap();
    assert_eq!(backup.status.code(), Some(0), "{}", stderr(&backup));
    assert!(
        stderr(&backup).contains("backup written to"),
        "{}",
        stderr(&backup)
    );
    wait_for_cases(&app, 10).await;
    // Not under a running worker, even with --force.
    let out = loket(&app, &["restore", "--force", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("stop `loket run`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(app.cases().await.len(), 10);
    assert_eq!(worker.stop(), Some(0));
    let at_stop = codes(&json(&app, &["cases", "list", "--json"]));

    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["database"], "sqlite");
    assert_eq!(manifest["loket_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        manifest["database_sha256"].as_str().unwrap(),
        loket::filing::blobs::sha256_hex(&std::fs::read(out_dir.join("loket.db")).unwrap())
    );
    assert!(manifest["missing_blobs"].as_array().unwrap().is_empty());
    let in_backup = manifest["counts"]["cases"].as_i64().unwrap() as usize;
    assert!((4..=10).contains(&in_backup), "{manifest}");
    assert!(out_dir.join("rules/permits/pupr.toml").exists());
    assert!(out_dir.join("templates/ack_body.txt").exists());

    // The disk is lost: database and documents.
    for f in ["loket.db", "loket.db-wal", "loket.db-shm"] {
        let _ = std::fs::remove_file(app.dir.path().join(f));
    }
    std::fs::remove_dir_all(app.dir.path().join("blobs")).unwrap();

    let out = loket(&app, &["restore", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let restored = codes(&json(&app, &["cases", "list", "--json"]));
    assert_eq!(
        restored.len(),
        in_backup,
        "every case in the backup is back"
    );
    assert!(restored.is_superset(&before.keys().cloned().collect()));
    assert!(restored.is_subset(&at_stop));
    for (code, case) in &before {
        assert_eq!(&show(&app, code), case, "{code} is back as it was");
    }
    for (sha, bytes) in &blobs_before {
        assert_eq!(&std::fs::read(blob_path(&app, sha)).unwrap(), bytes);
    }
    for code in &restored {
        for sha in document_shas(&show(&app, code)) {
            assert!(blob_path(&app, &sha).exists(), "{code}: document {sha}");
        }
    }

    // A database that holds cases is not replaced by accident.
    let out = loket(&app, &["restore", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already holds") && stderr(&out).contains("--force"));

    // A damaged backup is refused before anything is touched, even with --force.
    let sha = blobs_before.keys().next().unwrap();
    let damaged = out_dir.join("blobs").join(&sha[..2]).join(sha);
    std::fs::write(&damaged, b"rusak").unwrap();
    std::fs::remove_file(blob_path(&app, sha)).unwrap();
    let out = loket(&app, &["restore", "--force", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("damaged") && stderr(&out).contains(sha),
        "{}",
        stderr(&out)
    );
    assert!(!blob_path(&app, sha).exists(), "nothing was put back");
    std::fs::write(&damaged, &blobs_before[sha]).unwrap();

    // With --force it replaces the database and keeps the old one beside it.
    let out = loket(&app, &["restore", "--force", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("before-restore"), "{}", stderr(&out));
    assert!(blob_path(&app, sha).exists());
    assert_eq!(codes(&json(&app, &["cases", "list", "--json"])), restored);

    // The restored office carries on.
    let late = unique_address("sesudah");
    app.deliver(&application(&late, 99, &[("ktp.docx", docx(&["KTP"]))]))
        .await;
    app.run_once().await;
    assert_eq!(app.cases().await.len(), in_backup + 1);
}

#[tokio::test]
async fn backup_on_postgresql_points_to_pg_dump() {
    let Some(app) = TestApp::spawn(Db::Postgres).await else {
        return;
    };
    let out_dir = app.dir.path().join("cadangan");
    let out = loket(&app, &["backup", "--out", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("pg_dump"), "{}", stderr(&out));
    assert!(!out_dir.exists());
    let out = loket(&app, &["restore", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("pg_restore"), "{}", stderr(&out));
}

/// An office on SQLite whose documents are in the object store: backed up while it runs (the
/// documents are read out of the bucket, each checked against its hash), the bucket prefix and
/// the database are lost, and the restore writes them back.
#[tokio::test]
async fn an_office_on_an_object_store_is_backed_up_running_wiped_and_restored() {
    let Some(garage) = support::garage() else {
        return;
    };
    let (app, prefix) = office_on(garage, Db::Sqlite, "cadangan").await.unwrap();
    let first: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            let from = unique_address(&format!("s3pemohon{i}"));
            let ktp = docx(&[&format!("KARTU TANDA PENDUDUK pemohon {i}")]);
            let surat = docx(&["SURAT PERMOHONAN izin reklame", &format!("nomor {i}")]);
            application(&from, i, &[("ktp.docx", ktp), ("permohonan.docx", surat)])
        })
        .collect();
    app.deliver_all(&first).await;
    app.run_once().await;
    let before: BTreeMap<String, Value> = codes(&json(&app, &["cases", "list", "--json"]))
        .into_iter()
        .map(|code| (code.clone(), show(&app, &code)))
        .collect();
    assert_eq!(before.len(), 3);
    let stored = objects(garage, &prefix).await;
    assert_eq!(stored.len(), 9, "two documents and the raw mail per case");
    assert!(
        !app.dir.path().join("blobs").exists(),
        "nothing on the disk"
    );

    // The worker runs and mail keeps coming while the backup is made.
    let worker = Daemon::start(&app, &["run"]);
    let during: Vec<Vec<u8>> = (3..6)
        .map(|i| {
            let from = unique_address(&format!("s3pemohon{i}"));
            application(&from, i, &[("ktp.docx", docx(&[&format!("KTP {i}")]))])
        })
        .collect();
    app.deliver_all(&during[..1]).await;
    let out_dir = app.dir.path().join("cadangan");
    let backup = tokio::process::Command::from({
        let mut c = app.command();
        c.args(["backup", "--out"]).arg(&out_dir);
        c
    })
    .output();
    let deliver_more = async {
        for raw in &during[1..] {
            app.deliver(raw).await;
        }
    };
    let (backup, ()) = tokio::join!(backup, deliver_more);
    let backup = backup.unwrap();
    assert_eq!(backup.status.code(), Some(0), "{}", stderr(&backup));
    assert!(stderr(&backup).contains("backup written to"));
    wait_for_cases(&app, 6).await;
    assert_eq!(worker.stop(), Some(0));
    let at_stop = codes(&json(&app, &["cases", "list", "--json"]));

    // The backup holds every object the copied database refers to, by hash.
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["missing_blobs"].as_array().unwrap().is_empty());
    let in_backup = manifest["counts"]["cases"].as_i64().unwrap() as usize;
    assert!((3..=6).contains(&in_backup), "{manifest}");
    let copied = files_under(&out_dir.join("blobs"));
    assert_eq!(
        copied.len() as i64,
        manifest["counts"]["blobs"].as_i64().unwrap()
    );
    for (name, data) in &stored {
        let sha = name.rsplit('/').next().unwrap();
        assert_eq!(sha256_hex(data), sha);
        let file = out_dir.join("blobs").join(&sha[..2]).join(sha);
        assert_eq!(
            &std::fs::read(&file).unwrap(),
            data,
            "{name} is in the backup"
        );
    }

    // The bucket prefix and the database are lost.
    wipe_prefix(garage, &prefix).await;
    for f in ["loket.db", "loket.db-wal", "loket.db-shm"] {
        let _ = std::fs::remove_file(app.dir.path().join(f));
    }
    let out = loket(&app, &["restore", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&garage.url(&prefix)),
        "{}",
        stderr(&out)
    );
    let restored = codes(&json(&app, &["cases", "list", "--json"]));
    assert_eq!(
        restored.len(),
        in_backup,
        "every case in the backup is back"
    );
    assert!(restored.is_superset(&before.keys().cloned().collect()));
    assert!(restored.is_subset(&at_stop));
    for (code, case) in &before {
        assert_eq!(&show(&app, code), case, "{code} is back as it was");
    }
    let back = objects(garage, &prefix).await;
    for (name, data) in &stored {
        assert_eq!(back.get(name), Some(data), "{name} is back in the bucket");
    }
    assert_eq!(back.len(), copied.len(), "and nothing else");
    let (code, text) = blobs_verify(&app);
    assert_eq!(code, Some(0), "{text}");

    // Write-once: an object that differs from the backup's is an error, never overwritten;
    // identical objects are fine.
    let s3 = garage.object_store();
    let (victim, good) = stored.iter().next().unwrap();
    let victim_path = ObjectPath::from(victim.as_str());
    s3.put(&victim_path, b"bukan dokumen".to_vec().into())
        .await
        .unwrap();
    let out = loket(&app, &["restore", "--force", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let sha = victim.rsplit('/').next().unwrap();
    assert!(
        stderr(&out).contains("differs") && stderr(&out).contains(sha),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        objects(garage, &prefix).await[victim],
        b"bukan dokumen",
        "not overwritten"
    );
    s3.delete(&victim_path).await.unwrap();
    let out = loket(&app, &["restore", "--force", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 file(s) added"), "{}", stderr(&out));
    assert_eq!(&objects(garage, &prefix).await[victim], good);
    let (code, text) = blobs_verify(&app);
    assert_eq!(code, Some(0), "{text}");
}

/// Every file under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                found.push(e.path());
            }
        }
    }
    found
}

/// Retention on an object store: a closed case's objects are deleted from the bucket; the KTP
/// it shares with an open case stays (blobs are shared by content).
#[tokio::test]
async fn purge_deletes_a_closed_cases_objects_but_keeps_one_shared_with_an_open_case() {
    let Some(garage) = support::garage() else {
        return;
    };
    let (app, prefix) = office_on(garage, Db::Sqlite, "masa-simpan").await.unwrap();
    let shared = docx(&["KARTU TANDA PENDUDUK Siti Aminah"]);
    let denah = docx(&["DENAH lokasi lama"]);
    let lama = unique_address("s3lama");
    let baru = unique_address("s3baru");
    app.deliver(&application(
        &lama,
        1,
        &[("ktp.docx", shared.clone()), ("denah.docx", denah.clone())],
    ))
    .await;
    app.deliver(&application(&baru, 2, &[("ktp.docx", shared.clone())]))
        .await;
    app.run_once().await;
    let cases = app.cases().await;
    let code_of = |who: &str| {
        cases
            .iter()
            .find(|c| c.applicant.email.as_deref() == Some(who))
            .unwrap()
            .tracking_code
            .clone()
    };
    let (old_code, open_code) = (code_of(&lama), code_of(&baru));
    let store = app.store().await;
    let mut conn = store.conn().await.unwrap();
    let id = loket::filing::cases::by_code(&mut conn, &old_code)
        .await
        .unwrap()
        .unwrap();
    loket::filing::desk::set_status(&mut conn, id, Status::Closed, Some("kepala"))
        .await
        .unwrap();
    drop(conn);
    store.close().await;
    let sql = app.sql().await;
    sqlx::query("UPDATE status_changes SET at = at - $1 WHERE case_id = $2")
        .bind(2 * 365 * 86_400_000_i64)
        .bind(id)
        .execute(&sql)
        .await
        .unwrap();
    let raw_of = |code: String| {
        let (sql, prefix) = (sql.clone(), prefix.clone());
        async move {
            let sha: String = sqlx::query_scalar(
                "SELECT sha256 FROM messages \
                 WHERE case_id = (SELECT id FROM cases WHERE tracking_code = $1)",
            )
            .bind(code)
            .fetch_one(&sql)
            .await
            .unwrap();
            object_name(&prefix, &sha)
        }
    };
    let (old_raw, open_raw) = (raw_of(old_code.clone()).await, raw_of(open_code).await);
    let shared_object = object_name(&prefix, &sha256_hex(&shared));
    let denah_object = object_name(&prefix, &sha256_hex(&denah));
    let before = objects(garage, &prefix).await;
    for name in [&old_raw, &open_raw, &shared_object, &denah_object] {
        assert!(before.contains_key(name), "{name} in {:?}", before.keys());
    }

    let out = app
        .command()
        .args(["purge", "--older-than", "1y"])
        .env(loket::filing::TEST_CLOCK_OFFSET, LATER_MS.to_string())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&old_code));
    assert!(stderr(&out).contains("2 file(s)"), "{}", stderr(&out));
    let after = objects(garage, &prefix).await;
    assert!(
        !after.contains_key(&denah_object),
        "the closed case's plan is gone"
    );
    assert!(!after.contains_key(&old_raw), "and its raw mail");
    assert!(
        after.contains_key(&shared_object),
        "the open case still has the KTP"
    );
    assert!(after.contains_key(&open_raw));
    assert_eq!(after.len(), before.len() - 2);
    let history = show(&app, &old_code)["history"].clone();
    assert!(history.to_string().contains("purged"), "{history}");
    let (code, text) = blobs_verify(&app);
    assert_eq!(code, Some(0), "{text}");
}

/// What README.md shows for PostgreSQL: `pg_dump -Fc` while loket runs, then
/// `loket backup --blobs-only` for the documents; `pg_restore` into an empty database, then
/// `loket restore --blobs-only`. With the documents in a folder, or in the object store
/// (whose prefix is lost with the database).
async fn pg_dump_story(app: TestApp, prefix: Option<(&Garage, String)>) {
    let pg = support::postgres().unwrap();
    for i in 0..2 {
        let from = unique_address(&format!("pg{i}"));
        let ktp = docx(&[&format!("KARTU TANDA PENDUDUK {i}")]);
        app.deliver(&application(&from, i, &[("ktp.docx", ktp)]))
            .await;
    }
    app.run_once().await;
    let before_list = json(&app, &["cases", "list", "--json"]);
    let before: BTreeMap<String, Value> = codes(&before_list)
        .into_iter()
        .map(|code| (code.clone(), show(&app, &code)))
        .collect();
    let saved = app.dir.path().join("cadangan");
    let dump = saved.join("loket.dump");
    std::fs::create_dir_all(&saved).unwrap();
    let out = std::process::Command::new(pg.program("pg_dump"))
        .args(["-Fc", "-f"])
        .arg(&dump)
        .arg(&app.db_url)
        .output()
        .unwrap();
    assert!(out.status.success(), "pg_dump: {}", stderr(&out));
    let documents = saved.join("documents");
    let out = loket(
        &app,
        &[
            "backup",
            "--blobs-only",
            "--out",
            documents.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("4 file(s)"), "{}", stderr(&out));

    // The database server and the documents are lost; a new, empty database.
    match &prefix {
        Some((garage, prefix)) => wipe_prefix(garage, prefix).await,
        None => std::fs::remove_dir_all(app.dir.path().join("blobs")).unwrap(),
    }
    let fresh = pg.new_database();
    let out = std::process::Command::new(pg.program("pg_restore"))
        .args(["--no-owner", "-d", &fresh])
        .arg(&dump)
        .output()
        .unwrap();
    assert!(out.status.success(), "pg_restore: {}", stderr(&out));
    let mut t: toml::Table =
        toml::from_str(&std::fs::read_to_string(&app.config_path).unwrap()).unwrap();
    t["database"]["url"] = toml::Value::String(fresh);
    std::fs::write(&app.config_path, toml::to_string(&t).unwrap()).unwrap();
    let (code, _) = blobs_verify(&app);
    assert_eq!(code, Some(1), "the documents are not back yet");
    let out = loket(
        &app,
        &["restore", "--blobs-only", documents.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("4 added"), "{}", stderr(&out));

    assert_eq!(json(&app, &["cases", "list", "--json"]), before_list);
    for (code, case) in &before {
        assert_eq!(&show(&app, code), case, "{code}");
    }
    let (code, text) = blobs_verify(&app);
    assert_eq!(code, Some(0), "{text}");
    if let Some((garage, prefix)) = &prefix {
        assert_eq!(objects(garage, prefix).await.len(), 4);
    }
    // Done twice, nothing more is added.
    let out = loket(
        &app,
        &["restore", "--blobs-only", documents.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("0 added"), "{}", stderr(&out));
}

#[tokio::test]
async fn postgresql_is_backed_up_with_pg_dump_and_restored_with_pg_restore() {
    if let Some(app) = office(Db::Postgres).await {
        pg_dump_story(app, None).await;
    }
}

#[tokio::test]
async fn postgresql_with_an_object_store_is_backed_up_with_pg_dump_and_blobs_only() {
    let Some(garage) = support::garage() else {
        return;
    };
    if let Some((app, prefix)) = office_on(garage, Db::Postgres, "pg-dump").await {
        pg_dump_story(app, Some((garage, prefix))).await;
    }
}

/// A backup folder made around v0.1.0's database (no migrations table yet) is restored and
/// brought up to this release's schema.
#[tokio::test]
async fn a_backup_of_an_older_release_is_restored_and_migrated() {
    let app = office(Db::Sqlite).await.unwrap();
    let fixture = repo().join("tests/fixtures/upgrade/v0.1.0");
    let saved = app.dir.path().join("cadangan-lama");
    copy_dir(&fixture.join("blobs"), &saved.join("blobs"));
    std::fs::copy(fixture.join("loket.db"), saved.join("loket.db")).unwrap();
    let db = std::fs::read(saved.join("loket.db")).unwrap();
    let manifest = serde_json::json!({
        "format": 1, "loket_version": "0.1.0", "created_at": "2026-11-23T09:00:00Z",
        "database": "sqlite", "schema_version": 1,
        "database_sha256": loket::filing::blobs::sha256_hex(&db),
        "database_bytes": db.len(),
        "counts": {"cases": 13, "documents": 0, "messages": 18, "blobs": 0},
        "missing_blobs": [], "rules": [], "templates": null,
    });
    std::fs::write(saved.join("manifest.json"), manifest.to_string()).unwrap();
    std::fs::create_dir_all(saved.join("rules")).unwrap();
    let rules_before = std::fs::read_dir(app.dir.path().join("office/rules"))
        .unwrap()
        .count();

    let out = loket(&app, &["restore", saved.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(codes(&json(&app, &["cases", "list", "--json"])).len(), 13);
    let sql = app.sql().await;
    let version: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&sql)
        .await
        .unwrap();
    assert!(version >= 9, "migrated to {version}");
    // The backup's (empty) rule folder replaced the office's; the old one is kept beside it.
    assert_eq!(
        std::fs::read_dir(app.dir.path().join("office/rules"))
            .unwrap()
            .count(),
        0
    );
    let kept: Vec<_> = std::fs::read_dir(app.dir.path().join("office"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("rules.before-restore-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let kept = app.dir.path().join("office").join(&kept[0]);
    assert_eq!(std::fs::read_dir(kept).unwrap().count(), rules_before);
}

#[tokio::test]
async fn backup_refuses_a_folder_that_is_not_empty() {
    let app = office(Db::Sqlite).await.unwrap();
    let out_dir = app.dir.path().join("cadangan");
    std::fs::create_dir_all(&out_dir).unwrap();
    std::fs::write(out_dir.join("lama.txt"), b"x").unwrap();
    let out = loket(&app, &["backup", "--out", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not empty"), "{}", stderr(&out));
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 1);
}

/// Purge runs two days later: past the day for which a blob stored again is kept.
const LATER_MS: i64 = 2 * 86_400_000;

async fn purge_story(db: Db) {
    let Some(app) = office(db).await else {
        return;
    };
    let shared = docx(&["KARTU TANDA PENDUDUK Budi Santoso"]);
    let mails = [
        (
            "lama.tutup",
            vec![
                ("ktp.docx", shared.clone()),
                ("denah.docx", docx(&["DENAH lama"])),
            ],
        ),
        (
            "lama.tolak",
            vec![("surat.docx", docx(&["SURAT lama ditolak"]))],
        ),
        ("baru.buka", vec![("ktp.docx", shared.clone())]),
        (
            "baru.selesai",
            vec![("surat.docx", docx(&["SURAT baru selesai"]))],
        ),
    ];
    let mut code = BTreeMap::new();
    for (i, (who, files)) in mails.iter().enumerate() {
        let from = unique_address(who);
        app.deliver(&application(&from, i, files)).await;
        app.run_once().await;
        let case = app
            .cases()
            .await
            .into_iter()
            .find(|c| c.applicant.email.as_deref() == Some(from.as_str()))
            .unwrap();
        code.insert(*who, case.tracking_code);
    }
    // Officers decided: two cases two years ago, one two days ago; one is still open.
    let store = app.store().await;
    let mut conn = store.conn().await.unwrap();
    for (who, status) in [
        ("lama.tutup", Status::Closed),
        ("lama.tolak", Status::Rejected),
        ("baru.selesai", Status::Approved),
    ] {
        let id = loket::filing::cases::by_code(&mut conn, &code[who])
            .await
            .unwrap()
            .unwrap();
        loket::filing::desk::set_status(&mut conn, id, status, Some("kepala"))
            .await
            .unwrap();
    }
    drop(conn);
    store.close().await;
    let sql = app.sql().await;
    for who in ["lama.tutup", "lama.tolak"] {
        sqlx::query(
            "UPDATE status_changes SET at = at - $1 \
             WHERE case_id = (SELECT id FROM cases WHERE tracking_code = $2)",
        )
        .bind(2 * 365 * 86_400_000_i64)
        .bind(&code[who])
        .execute(&sql)
        .await
        .unwrap();
    }
    let message_blobs = |who: &'static str| {
        let (sql, code) = (sql.clone(), code[who].clone());
        async move {
            let shas: Vec<String> = sqlx::query_scalar(
                "SELECT sha256 FROM messages \
                 WHERE case_id = (SELECT id FROM cases WHERE tracking_code = $1)",
            )
            .bind(code)
            .fetch_all(&sql)
            .await
            .unwrap();
            shas
        }
    };
    let before: BTreeMap<&str, Value> = code.iter().map(|(w, c)| (*w, show(&app, c))).collect();
    let purge = |args: &[&str]| {
        let mut cmd = app.command();
        cmd.arg("purge")
            .args(args)
            .env(loket::filing::TEST_CLOCK_OFFSET, LATER_MS.to_string());
        cmd.output().unwrap()
    };

    let dry = purge(&["--older-than", "1y", "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    let listed = String::from_utf8_lossy(&dry.stdout).into_owned();
    assert!(listed.contains(&code["lama.tutup"]) && listed.contains(&code["lama.tolak"]));
    assert!(
        !listed.contains(&code["baru.buka"]) && !listed.contains(&code["baru.selesai"]),
        "{listed}\n{code:?}"
    );
    // denah, surat and the two raw messages; the shared KTP stays.
    assert!(stderr(&dry).contains("4 file(s)"), "{}", stderr(&dry));
    assert!(stderr(&dry).contains("nothing was changed"));
    for (who, case) in &before {
        assert_eq!(
            &show(&app, &code[who]),
            case,
            "{who}: a dry run changes nothing"
        );
        for sha in document_shas(case) {
            assert!(blob_path(&app, &sha).exists());
        }
    }

    let out = purge(&["--older-than", "1y"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), listed);
    assert!(stderr(&out).contains("4 file(s)"), "{}", stderr(&out));

    let shared_sha = loket::filing::blobs::sha256_hex(&shared);
    assert!(
        blob_path(&app, &shared_sha).exists(),
        "the open case still has the KTP"
    );
    for who in ["lama.tutup", "lama.tolak"] {
        let was = &before[who];
        let now = show(&app, &code[who]);
        for field in [
            "tracking_code",
            "received_at",
            "permit_type",
            "status",
            "requirements",
        ] {
            assert_eq!(now[field], was[field], "{who}: {field} is kept");
        }
        let history: Vec<&str> = now["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event"].as_str().unwrap())
            .collect();
        assert_eq!(history.last(), Some(&"purged"), "{who}: {history:?}");
        for d in now["documents"].as_array().unwrap() {
            assert_eq!(d["text_chars"], 0, "{who}: {d}");
            let sha = d["sha256"].as_str().unwrap();
            assert_eq!(
                blob_path(&app, sha).exists(),
                sha == shared_sha,
                "{who}: {sha}"
            );
        }
        assert!(
            now["details"]["body"].is_null(),
            "{who}: the message body is gone"
        );
        for sha in message_blobs(who).await {
            assert!(!blob_path(&app, &sha).exists(), "{who}: raw message");
        }
    }
    for who in ["baru.buka", "baru.selesai"] {
        assert_eq!(show(&app, &code[who]), before[who], "{who} is not touched");
        for sha in message_blobs(who).await {
            assert!(blob_path(&app, &sha).exists(), "{who}: raw message");
        }
    }

    // What was purged is not missing: every blob the records still refer to is there.
    let verify = app.command().args(["blobs", "verify"]).output().unwrap();
    assert!(
        verify.status.success(),
        "blobs verify after a purge: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );

    // A purge interrupted after its commit left a file behind: the next one removes it.
    let left = document_shas(&before["lama.tolak"]).remove(0);
    let left_path = blob_path(&app, &left);
    std::fs::create_dir_all(left_path.parent().unwrap()).unwrap();
    std::fs::write(&left_path, b"sisa").unwrap();

    // Nothing more to do the next time.
    let again = purge(&["--older-than", "1y"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(again.stdout.is_empty());
    assert!(stderr(&again).contains("0 case(s)"), "{}", stderr(&again));
    assert!(stderr(&again).contains("1 file(s)"), "{}", stderr(&again));
    assert!(!left_path.exists());

    // A period that is not one is a usage error.
    for bad in ["5x", "0d", "18", "3 tahun"] {
        let out = purge(&["--older-than", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(stderr(&out).contains("90d"), "{bad}: {}", stderr(&out));
    }
}

#[tokio::test]
async fn purge_removes_old_closed_cases_documents_but_keeps_the_record_sqlite() {
    purge_story(Db::Sqlite).await;
}

#[tokio::test]
async fn purge_removes_old_closed_cases_documents_but_keeps_the_record_postgres() {
    purge_story(Db::Postgres).await;
}

#[tokio::test]
async fn backup_restore_and_purge_exit_2_on_a_broken_config_and_touch_nothing() {
    let app = TestApp::spawn_with(Db::Sqlite, |t| {
        t["office"]["code"] = toml::Value::String("X".into());
    })
    .await
    .unwrap();
    let out_dir = app.dir.path().join("cadangan");
    let out_arg = out_dir.to_str().unwrap();
    for args in [
        vec!["backup", "--out", out_arg],
        vec!["restore", out_arg],
        vec!["purge", "--older-than", "5y", "--dry-run"],
    ] {
        let out = loket(&app, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("office.code"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    assert!(!out_dir.exists());
    assert!(!app.dir.path().join("loket.db").exists());
}
