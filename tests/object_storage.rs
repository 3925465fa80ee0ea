//! Documents in a shared S3-compatible object store (`[storage] url`), on a real Garage and a
//! real PostgreSQL: an applicant's scan is filed into the bucket under the office's prefix;
//! two workers on "two machines" (separate local folders) drain one mailbox while one is
//! killed, and every document is readable through either machine's config and desk; a
//! damaged object is named by `loket blobs verify` and by the step that reads it; a store that
//! is down holds work back (retried, never parked) until it is back.

mod app;
mod support;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use app::{acks_to, mail_with, repo, unique_address, Db, Part, TestApp};
use futures::{StreamExt, TryStreamExt};
use loket::filing::blobs::{sha256_hex, BlobError, BlobStore};
use lopdf::{dictionary, Document, Object, Stream};
use object_store::{ObjectStore, ObjectStoreExt};
use support::Garage;

/// A PostgreSQL instance whose documents go to `garage` under a prefix of its own; the secret
/// key in a file (as an operator keeps it). `None` when PostgreSQL or Garage is not here.
async fn spawn_on(garage: &Garage, name: &str) -> Option<(TestApp, String)> {
    let prefix = garage.new_prefix(name);
    let secret_dir = tempfile::tempdir().unwrap().keep();
    let secret_file = secret_dir.join("s3-secret");
    std::fs::write(&secret_file, format!("{}\n", garage.secret_key)).unwrap();
    let app = TestApp::spawn_with(Db::Postgres, |t| {
        let storage = t["storage"].as_table_mut().unwrap();
        let mut set = |key: &str, value: &str| {
            storage.insert(key.into(), toml::Value::String(value.into()));
        };
        set("url", &garage.url(&prefix));
        set("endpoint", &garage.endpoint);
        set("region", &garage.region);
        set("access_key_id", &garage.key_id);
        set("secret_access_key_file", &secret_file.display().to_string());
        t["worker"]
            .as_table_mut()
            .unwrap()
            .insert("concurrency".into(), toml::Value::Integer(2));
        t["ocr"]
            .as_table_mut()
            .unwrap()
            .insert("workers".into(), toml::Value::Integer(1));
    })
    .await?;
    Some((app, prefix))
}

/// Object names under `prefix` in the bucket, as the S3 API lists them.
async fn objects_under(garage: &Garage, prefix: &str) -> Vec<String> {
    let s3 = garage.object_store();
    let prefix = object_store::path::Path::from(prefix);
    s3.list(Some(&prefix))
        .map_ok(|m| m.location.to_string())
        .try_collect()
        .await
        .expect("the bucket lists")
}

/// Every file under `dir` (none if it does not exist).
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

fn scan() -> Vec<u8> {
    std::fs::read(repo().join("fixtures/scans/form_ccitt.pdf")).unwrap()
}

/// The scan with its own title, so that each copy is a blob of its own.
fn scan_titled(title: &str) -> Vec<u8> {
    let mut doc = Document::load_mem(&scan()).unwrap();
    let info = doc.add_object(dictionary! { "Title" => Object::string_literal(title) });
    doc.trailer.set("Info", info);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// A one-page PDF with a text layer saying `text` (as a word processor saves a form).
fn text_pdf(text: &str) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let content = format!("BT\n/F1 12 Tf\n72 700 Td\n({text}) Tj\nET\n");
    let contents = doc.add_object(Stream::new(dictionary! {}, content.into_bytes()));
    let page = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font_id } },
        "Contents" => contents,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
        ),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

fn domicile_mail(from: &str, subject: &str, pdf: &[u8]) -> Vec<u8> {
    mail_with(
        from,
        subject,
        "Dengan hormat, terlampir hasil pindaian surat keterangan domisili usaha.",
        &[Part {
            filename: "surat_domisili.pdf",
            content_type: "application/pdf",
            data: pdf,
        }],
    )
}

/// The `loket` binary with `config`; with the storage secret in the environment when given
/// (as the second machine keeps it).
fn loket(config: &Path, secret_env: Option<&str>) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_loket"));
    cmd.arg("--config").arg(config).env("LOKET_LOG", "warn");
    if let Some(secret) = secret_env {
        cmd.env("LOKET_STORAGE__SECRET_ACCESS_KEY", secret);
    }
    cmd
}

/// `loket blobs verify` with `config`: (exit code, stdout, stderr).
fn blobs_verify(config: &Path, secret_env: Option<&str>) -> (Option<i32>, String, String) {
    let out = loket(config, secret_env)
        .args(["blobs", "verify"])
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn run_once(app: &TestApp, clock_offset_ms: i64) -> std::process::Output {
    app.command()
        .args(["run", "--once"])
        .env(
            loket::filing::TEST_CLOCK_OFFSET,
            clock_offset_ms.to_string(),
        )
        .output()
        .unwrap()
}

#[tokio::test]
async fn an_applicants_scan_is_filed_into_the_bucket_under_the_offices_prefix() {
    let Some(garage) = support::garage() else {
        return;
    };
    let Some((app, prefix)) = spawn_on(garage, "psr").await else {
        return;
    };
    let dewi = unique_address("dewi");
    let pdf = scan();
    app.deliver(&domicile_mail(&dewi, "Permohonan SKDU", &pdf))
        .await;
    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);

    let cases = app.cases().await;
    assert_eq!(cases.len(), 1);
    let case = app.show(&cases[0].tracking_code).await;
    let doc = &case.documents[0];
    assert_eq!(doc.sha256, sha256_hex(&pdf));
    let text = doc.text.as_deref().unwrap_or_default();
    assert!(
        text.contains("Toko Roti Lestari"),
        "the scan was read: {text:?}"
    );
    assert_eq!(acks_to(&dewi, 1).await.len(), 1, "Dewi is answered");

    // The document and the raw message are objects in the bucket, under the prefix, by hash;
    // nothing went to the local folder.
    let objects = objects_under(garage, &prefix).await;
    let want = format!("{prefix}/{}/{}", &doc.sha256[..2], doc.sha256);
    assert!(objects.contains(&want), "{want} in {objects:?}");
    assert_eq!(
        objects.len(),
        2,
        "the document and the raw mail: {objects:?}"
    );
    let stored = garage
        .object_store()
        .get(&object_store::path::Path::from(want.as_str()))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(stored.as_ref(), pdf.as_slice());
    assert!(files_under(&app.dir.path().join("blobs")).is_empty());

    let (code, stdout, stderr) = blobs_verify(&app.config_path, None);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("2 blob(s)"), "{stdout}");
    assert!(stdout.contains(&garage.url(&prefix)), "{stdout}");
}

#[tokio::test]
async fn a_damaged_object_is_named_by_blobs_verify_and_by_the_step_that_reads_it() {
    let Some(garage) = support::garage() else {
        return;
    };
    let Some((app, prefix)) = spawn_on(garage, "rusak").await else {
        return;
    };
    let s3 = garage.object_store();
    let object = |sha: &str| {
        object_store::path::Path::from(format!("{prefix}/{}/{sha}", &sha[..2]).as_str())
    };

    // Filed; then the document's object is overwritten behind loket's back.
    let budi = unique_address("budi");
    let pdf = text_pdf("Surat Keterangan Domisili Usaha Budi Santoso");
    app.deliver(&domicile_mail(&budi, "Permohonan SKDU Budi", &pdf))
        .await;
    assert!(app.run_once().await.unreachable.is_empty());
    let code = app.cases().await[0].tracking_code.clone();
    let doc_sha = sha256_hex(&pdf);
    s3.put(&object(&doc_sha), b"bukan dokumen".to_vec().into())
        .await
        .unwrap();

    let (exit, stdout, stderr) = blobs_verify(&app.config_path, None);
    assert_eq!(exit, Some(1), "{stdout}{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.contains(&doc_sha))
        .unwrap_or_else(|| panic!("the damaged blob is listed: {stdout}"));
    assert!(
        line.starts_with("corrupt\t") && line.contains("document") && line.contains(&code),
        "{line}"
    );
    assert_eq!(stdout.lines().count(), 1, "only that one: {stdout}");
    assert!(stderr.contains("1 of 2 blob(s)"), "{stderr}");

    // Reading it is an error that names it, not wrong content.
    let blobs = BlobStore::open(&app.config().storage).unwrap();
    let err = blobs.get(&doc_sha).await.unwrap_err();
    assert!(matches!(err, BlobError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains(&doc_sha), "{err}");
    assert!(!err.is_transient(), "damage is not an outage");

    // A raw message damaged in the store before intake reads it: the step fails naming the
    // blob, is parked after its attempts, and the worker carries on.
    let sari = unique_address("sari");
    let raw = domicile_mail(&sari, "Permohonan SKDU Sari", &text_pdf("Sari Wulandari"));
    app.deliver(&raw).await;
    let crashed = app
        .command()
        .args(["run", "--once"])
        .env("LOKET_TEST_CRASH_AFTER", "fetch")
        .status()
        .unwrap();
    assert!(!crashed.success());
    let db = app.sql().await;
    let raw_sha: String = sqlx::query_scalar("SELECT sha256 FROM messages WHERE state = 'new'")
        .fetch_one(&db)
        .await
        .unwrap();
    db.close().await;
    let stored: Vec<String> = objects_under(garage, &prefix).await;
    assert!(stored.iter().any(|o| o.ends_with(&raw_sha)), "{stored:?}");
    s3.put(&object(&raw_sha), b"rusak".to_vec().into())
        .await
        .unwrap();
    for _ in 0..3 {
        let out = run_once(&app, 0);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let parked = app.command().args(["parked", "--json"]).output().unwrap();
    let parked: Vec<serde_json::Value> = serde_json::from_slice(&parked.stdout).unwrap();
    assert_eq!(parked.len(), 1, "{parked:?}");
    let why = parked[0]["error"].as_str().unwrap();
    assert!(
        why.contains(&raw_sha) && why.contains("does not match"),
        "{why}"
    );
    let (exit, stdout, _) = blobs_verify(&app.config_path, None);
    assert_eq!(exit, Some(1));
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("corrupt\t") && l.contains(&raw_sha) && l.contains("message")),
        "{stdout}"
    );

    // A blob gone from the store is listed as missing.
    s3.delete(&object(&doc_sha)).await.unwrap();
    let (exit, stdout, _) = blobs_verify(&app.config_path, None);
    assert_eq!(exit, Some(1));
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("missing\t") && l.contains(&doc_sha)),
        "{stdout}"
    );
}

#[tokio::test]
async fn while_the_store_is_down_steps_wait_and_are_never_parked_then_finish() {
    let Some(garage) = support::new_garage() else {
        return;
    };
    let Some((app, _prefix)) = spawn_on(&garage, "padam").await else {
        return;
    };
    let rina = unique_address("rina");
    app.deliver(&domicile_mail(
        &rina,
        "Permohonan SKDU Rina",
        &text_pdf("Surat Keterangan Domisili Usaha Rina Marlina"),
    ))
    .await;
    // Taken in while the store is up; then the store goes down before intake runs.
    let crashed = app
        .command()
        .args(["run", "--once"])
        .env("LOKET_TEST_CRASH_AFTER", "fetch")
        .status()
        .unwrap();
    assert!(!crashed.success());
    garage.stop();

    // More runs than attempts allow, each "an hour later" so the step is due every time.
    let hour = 3_600_000;
    for i in 1..=4 {
        let out = run_once(&app, i * hour);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "an outage is reported: {stderr}"
        );
        assert!(
            stderr.contains("could not be reached"),
            "run {i} says what waits: {stderr}"
        );
    }
    let db = app.sql().await;
    let (state, attempts, error): (String, i64, String) = sqlx::query_as(
        "SELECT state, attempts, COALESCE(last_error, '') FROM jobs WHERE kind = 'intake'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(state, "pending", "never parked for an outage");
    assert_eq!(attempts, 0, "an outage is not an attempt");
    assert!(error.contains("object store"), "{error}");
    assert!(app.cases().await.is_empty());
    assert!(acks_to(&rina, 0).await.is_empty());

    // Back: the same step finishes and Rina is answered.
    garage.start();
    let out = run_once(&app, 5 * hour);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cases = app.cases().await;
    assert_eq!(cases.len(), 1);
    let case = app.show(&cases[0].tracking_code).await;
    assert!(
        case.documents[0]
            .text
            .as_deref()
            .is_some_and(|t| t.contains("Rina Marlina")),
        "{case:?}"
    );
    assert_eq!(acks_to(&rina, 1).await.len(), 1);
    db.close().await;
}

// ---- several machines ---------------------------------------------------------------------

const MAILS: usize = 200;
/// Of them, this many carry a real scan (OCR); the others a PDF with a text layer.
const SCANS: usize = 6;

/// A second machine: the same office config (database, bucket, prefix, mailbox), its own local
/// folders, its secret key from the environment instead of a file.
struct Machine {
    dir: tempfile::TempDir,
    config: PathBuf,
}

fn second_machine(app: &TestApp) -> Machine {
    let dir = tempfile::tempdir().unwrap();
    let mut table: toml::Table =
        toml::from_str(&std::fs::read_to_string(&app.config_path).unwrap()).unwrap();
    let local = |name: &str| toml::Value::String(dir.path().join(name).display().to_string());
    let storage = table["storage"].as_table_mut().unwrap();
    storage.insert("dir".into(), local("blobs"));
    storage.remove("secret_access_key_file");
    table["spool"]
        .as_table_mut()
        .unwrap()
        .insert("dir".into(), local("spool"));
    let config = dir.path().join("loket.toml");
    std::fs::write(&config, toml::to_string(&table).unwrap()).unwrap();
    Machine { dir, config }
}

/// A `loket run` daemon with its own log; killed if the test ends early.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(config: &Path, secret_env: Option<&str>, log: PathBuf) -> Daemon {
        let mut cmd = loket(config, secret_env);
        cmd.arg("run")
            .env("LOKET_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        Daemon {
            child: cmd.spawn().unwrap(),
            log,
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn terminate(mut self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "no exit on SIGTERM:\n{}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

async fn count(db: &sqlx::AnyPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_machines_share_the_documents_through_a_kill() {
    let Some(garage) = support::garage() else {
        return;
    };
    let Some((app, prefix)) = spawn_on(garage, "dua-mesin").await else {
        return;
    };
    let started = Instant::now();
    let progress = |what: &str| {
        eprintln!(
            "[two machines {:>5.1}s] {what}",
            started.elapsed().as_secs_f64()
        )
    };
    let other = second_machine(&app);
    app.store().await.close().await;
    let db = app.sql().await;

    // 200 applicants, each with a PDF of their own.
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let mut want: HashMap<String, String> = HashMap::new(); // sender -> a phrase of the text
    let raws: Vec<Vec<u8>> = (0..MAILS)
        .map(|i| {
            let from = format!("pemohon{i}.{tag}@example.com");
            let (pdf, phrase) = if i < SCANS {
                (
                    scan_titled(&format!("scan {i} {tag}")),
                    "Toko Roti Lestari".to_string(),
                )
            } else {
                let phrase = format!("Nomor usaha {i} {}", &tag[..8]);
                (
                    text_pdf(&format!("Surat Keterangan Domisili Usaha {phrase}")),
                    phrase,
                )
            };
            want.insert(from.clone(), phrase);
            domicile_mail(&from, &format!("Permohonan SKDU {i}"), &pdf)
        })
        .collect();
    app.deliver_all(&raws).await;
    progress("200 applications in the inbox");

    let secret = garage.secret_key.clone();
    let mut first = Daemon::start(&app.config_path, None, app.dir.path().join("a.log"));
    let second = Daemon::start(&other.config, Some(&secret), other.dir.path().join("b.log"));

    // Kill the first machine once it has filed some, in the middle of the work.
    let deadline = Instant::now() + Duration::from_secs(120);
    while count(&db, "SELECT COUNT(*) FROM cases").await < MAILS as i64 / 2 {
        assert!(
            Instant::now() < deadline,
            "work started:\n{}",
            first.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    first.kill();
    progress("first machine killed (SIGKILL)");

    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let filed = count(&db, "SELECT COUNT(*) FROM messages WHERE state = 'filed'").await;
        let unfinished = count(&db, "SELECT COUNT(*) FROM jobs WHERE state <> 'done'").await;
        let unread = count(&db, "SELECT COUNT(*) FROM documents WHERE state <> 'done'").await;
        if filed == MAILS as i64 && unfinished == 0 && unread == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "drained within 5 min (filed {filed}, jobs left {unfinished}, unread {unread}):\n{}",
            second.log_tail()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    progress("drained by the second machine");
    second.terminate();

    // Every applicant has exactly one case, whose document says what their PDF says.
    let cases = app.cases().await;
    assert_eq!(cases.len(), MAILS, "every case filed once");
    let senders: HashSet<String> = cases
        .iter()
        .filter_map(|c| c.applicant.email.clone())
        .collect();
    assert_eq!(senders.len(), MAILS, "one case per applicant");
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM jobs WHERE state = 'parked'").await,
        0
    );

    // Each document was read (its text is what its PDF says), whichever machine read it.
    let store = app.store().await;
    let mut docs: Vec<(String, String)> = Vec::new(); // (tracking code, sha256)
    for c in &cases {
        let case = store.show_case(&c.tracking_code).await.unwrap().unwrap();
        let text = case.documents[0].text.as_deref().unwrap_or_default();
        let phrase = &want[c.applicant.email.as_deref().unwrap()];
        assert!(
            text.contains(phrase.as_str()),
            "{}: {text:?}",
            c.tracking_code
        );
        docs.push((c.tracking_code.clone(), case.documents[0].sha256.clone()));
    }
    store.close().await;
    progress("every document's text is its PDF's");

    // Readable through either machine's config: `cases show --json`, `blobs verify`, desk.
    let machines = [
        (&app.config_path, None),
        (&other.config, Some(secret.as_str())),
    ];
    for (config, secret_env) in machines {
        let out = loket(config, secret_env)
            .args(["cases", "show", &docs[0].0, "--json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(shown["documents"][0]["sha256"], docs[0].1.as_str());
    }
    for (config, secret_env) in machines {
        let (code, stdout, stderr) = blobs_verify(config, secret_env);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        assert!(
            stdout.contains(&format!("{} blob(s)", 2 * MAILS)),
            "{stdout}"
        );
    }
    let objects = objects_under(garage, &prefix).await;
    assert_eq!(
        objects.len(),
        2 * MAILS,
        "200 raw mails and 200 documents in the bucket"
    );
    for local in [app.dir.path().join("blobs"), other.dir.path().join("blobs")] {
        assert!(
            files_under(&local).is_empty(),
            "no blob in {}",
            local.display()
        );
    }
    progress("blobs verify passes on both machines");
    admin_account(&app);
    for (config, secret_env) in machines {
        desk_serves_every_document(config, secret_env, &docs).await;
    }
    progress("every document readable through both machines");
    db.close().await;
}

/// `loket serve` with `config` hands out every case's document, the same bytes as filed, and
/// renders a page preview of a few.
async fn desk_serves_every_document(
    config: &Path,
    secret_env: Option<&str>,
    docs: &[(String, String)],
) {
    let port = support::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut serve = loket(config, secret_env)
        .arg("serve")
        .env("LOKET_WEB__LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "loket serve listens");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let out = loket(config, secret_env)
        .args(["users", "token", "admin"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let (client, token, base) = (&client, &token, &base);
    let checks = docs.iter().enumerate().map(|(i, (code, sha))| async move {
        let r = client
            .get(format!("{base}/cases/{code}/documents/0"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{code} downloads");
        assert_eq!(&sha256_hex(&r.bytes().await.unwrap()), sha);
        if i % 40 == 0 {
            let r = client
                .get(format!("{base}/cases/{code}/documents/0/pages/0"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{code} preview");
            assert_eq!(r.headers()["content-type"], "image/png");
        }
    });
    futures::stream::iter(checks)
        .buffer_unordered(4)
        .collect::<Vec<()>>()
        .await;
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(serve.id() as libc::pid_t, libc::SIGTERM) };
    let _ = serve.wait();
}

/// An admin account for the desk (the accounts are in the shared database).
fn admin_account(app: &TestApp) {
    use std::io::Write;
    let mut add = app
        .command()
        .args(["users", "add", "admin", "--role", "admin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"kata-sandi-admin-1\n")
        .unwrap();
    assert!(add.wait().unwrap().success());
}

/// The same check on the embedded default: SQLite and a local folder, no object store.
#[tokio::test]
async fn blobs_verify_checks_a_local_folder_on_sqlite_too() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let ani = unique_address("ani");
    let pdf = text_pdf("Surat Keterangan Domisili Usaha Ani Suryani");
    app.deliver(&domicile_mail(&ani, "Permohonan SKDU Ani", &pdf))
        .await;
    assert!(app.run_once().await.unreachable.is_empty());
    let (code, stdout, stderr) = blobs_verify(&app.config_path, None);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("2 blob(s)"), "{stdout}");

    let sha = sha256_hex(&pdf);
    let file = app.dir.path().join("blobs").join(&sha[..2]).join(&sha);
    std::fs::remove_file(&file).unwrap();
    let (code, stdout, stderr) = blobs_verify(&app.config_path, None);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let code_of_case = app.cases().await[0].tracking_code.clone();
    assert_eq!(
        stdout.trim(),
        format!("missing\t{sha}\tdocument 1\t{code_of_case}\tsurat_domisili.pdf"),
    );
    assert!(stderr.contains("1 of 2 blob(s)"), "{stderr}");
}
