//! Several mailboxes per office (perizinan@ for applications, pengaduan@ for complaints) on the
//! real Dovecot and SMTP sink; one watcher per mailbox across `loket run` daemons on PostgreSQL;
//! and idle daemons woken at once by work another process queued (LISTEN/NOTIFY).

mod app;
mod support;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use app::{acks_to, fixture_from, header, text_mail, unique_address, Db, TestApp};
use serde_json::Value;

const PENGADUAN_FROM: &str = "Pengaduan DPMPTSP Pasuruan <pengaduan@pasuruankab.go.id>";

/// An office with two mailboxes: `[[mailbox]]` perizinan (the test's own user, no kind) and
/// `[[mailbox]]` pengaduan (a second Dovecot user, kind complaint, its own From).
struct Office {
    app: TestApp,
    pengaduan_user: String,
    pengaduan_pass: String,
}

impl Office {
    async fn spawn(db: Db, edit: impl FnOnce(&mut toml::Table)) -> Option<Office> {
        let (pengaduan_user, pengaduan_pass) = support::dovecot().new_user();
        let (u, p) = (pengaduan_user.clone(), pengaduan_pass.clone());
        let app = TestApp::spawn_with(db, move |t| {
            let perizinan = t.remove("imap").expect("the test config has [imap]");
            let mut pengaduan = perizinan.as_table().unwrap().clone();
            pengaduan.insert("username".into(), u.into());
            pengaduan.insert("password".into(), p.into());
            pengaduan.insert("kind".into(), "complaint".into());
            pengaduan.insert("from".into(), PENGADUAN_FROM.into());
            t.insert(
                "mailbox".into(),
                toml::Value::Array(vec![perizinan, toml::Value::Table(pengaduan)]),
            );
            edit(t);
        })
        .await?;
        Some(Office {
            app,
            pengaduan_user,
            pengaduan_pass,
        })
    }

    async fn deliver_to_pengaduan(&self, raw: &[u8]) {
        support::dovecot()
            .append(&self.pengaduan_user, &self.pengaduan_pass, "INBOX", raw)
            .await;
    }

    async fn pengaduan_inbox(&self) -> Vec<Vec<u8>> {
        support::dovecot()
            .list(&self.pengaduan_user, &self.pengaduan_pass, "INBOX")
            .await
    }

    fn key_of(&self, user: &str) -> String {
        format!("{user}@127.0.0.1:{}/INBOX", support::dovecot().port)
    }
}

/// A citizen's note that names no permit and uses none of the complaint words of the rules.
fn street_light_note(from: &str) -> Vec<u8> {
    text_mail(
        from,
        "Lampu jalan Jl. Melati",
        "Selamat siang. Lampu penerangan jalan di depan rumah nomor 12 Jl. Melati, Bangil, \
         padam setiap malam. Terima kasih. Sari",
        "",
    )
}

#[tokio::test]
async fn mail_to_pengaduan_is_a_complaint_answered_from_pengaduan_and_perizinan_mail_is_not() {
    let office = Office::spawn(Db::Sqlite, |_| {}).await.unwrap();
    let app = &office.app;
    let sari = unique_address("sari");
    let siti = unique_address("siti");
    let note = street_light_note(&sari);

    // The rules alone would not call the note a complaint.
    let eml = app.dir.path().join("note.eml");
    std::fs::write(&eml, &note).unwrap();
    let out = app
        .command()
        .args(["rules", "explain"])
        .arg(&eml)
        .output()
        .unwrap();
    let explained = String::from_utf8_lossy(&out.stdout);
    assert!(explained.contains("kind: other"), "{explained}");

    office.deliver_to_pengaduan(&note).await;
    app.deliver(&fixture_from("pbg-application.eml", &siti))
        .await;
    // Mail from our own pengaduan@ address into perizinan@ is never answered.
    app.deliver(&text_mail(
        "pengaduan@pasuruankab.go.id",
        "Lampu jalan Jl. Melati",
        "Diteruskan ke perizinan.",
        "",
    ))
    .await;

    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_eq!(report.fetched, 3, "both mailboxes fetched");

    let cases = app.cases().await;
    let by = |addr: &str| {
        cases
            .iter()
            .find(|c| c.applicant.email.as_deref() == Some(addr))
            .unwrap_or_else(|| panic!("a case for {addr}: {cases:#?}"))
            .clone()
    };
    let complaint = by(&sari);
    assert_eq!(
        complaint.kind, "complaint",
        "pengaduan@ mail is a complaint"
    );
    assert_eq!(complaint.department.as_deref(), Some("pengaduan"));
    let application = by(&siti);
    assert_eq!(application.kind, "application", "perizinan@ has no kind");
    assert_eq!(application.permit_type.as_deref(), Some("pbg"));

    let to_sari = acks_to(&sari, 1).await;
    assert_eq!(to_sari.len(), 1);
    let from = header(&to_sari[0], "From").unwrap();
    assert!(from.contains("pengaduan@pasuruankab.go.id"), "{from}");
    assert!(to_sari[0].contains(&complaint.tracking_code));
    let to_siti = acks_to(&siti, 1).await;
    assert_eq!(to_siti.len(), 1);
    let from = header(&to_siti[0], "From").unwrap();
    assert!(from.contains("perizinan@pasuruankab.go.id"), "{from}");
    assert!(
        support::smtp()
            .messages_to("pengaduan@pasuruankab.go.id")
            .is_empty(),
        "our own mailbox is never answered"
    );

    // Each message remembers its mailbox; both inboxes are emptied into their Processed.
    let db = app.sql().await;
    let mut keys: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT mailbox FROM messages WHERE mailbox IS NOT NULL")
            .fetch_all(&db)
            .await
            .unwrap();
    keys.sort();
    let mut expected = vec![
        office.key_of(&app.user),
        office.key_of(&office.pengaduan_user),
    ];
    expected.sort();
    assert_eq!(keys, expected);
    assert!(app.inbox().await.is_empty());
    assert!(office.pengaduan_inbox().await.is_empty());

    // An officer's answer to the complaint goes out from pengaduan@ as well.
    let ctx = app.context().await;
    assert_eq!(
        ctx.cfg
            .answer_from(Some(&office.key_of(&office.pengaduan_user)))
            .map(|m| m.email.to_string())
            .as_deref(),
        Some("pengaduan@pasuruankab.go.id")
    );
    ctx.close().await;
}

/// A `loket run` daemon with its own log file; killed if the test ends early.
struct Daemon {
    child: Child,
    log: std::path::PathBuf,
}

impl Daemon {
    fn start(app: &TestApp, name: &str) -> Daemon {
        Self::start_with(app, name, &app.config_path)
    }

    /// A daemon with a config of its own (another machine's).
    fn start_with(app: &TestApp, name: &str, config: &std::path::Path) -> Daemon {
        let log = app.dir.path().join(format!("{name}.log"));
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_loket"))
            .arg("--config")
            .arg(config)
            .arg("run")
            .env("LOKET_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Daemon { child, log }
    }

    fn pid(&self) -> i64 {
        self.child.id() as i64
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        assert_eq!(rc, 0);
    }

    /// SIGTERM, then exit status 0 within 30 s.
    fn terminate(mut self) {
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert_eq!(status.code(), Some(0), "{}", self.log_text());
                return;
            }
            assert!(Instant::now() < deadline, "no exit on SIGTERM");
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

/// `loket workers --json`, as an operator reads it.
async fn workers(app: &TestApp) -> Vec<Value> {
    let mut cmd = app.command();
    cmd.args(["workers", "--json"]);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Which live worker (by pid) watches each mailbox, as `loket workers --json` says; a mailbox
/// listed by two workers would appear twice.
async fn watchers(app: &TestApp) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = workers(app)
        .await
        .iter()
        .filter(|w| w["alive"].as_bool() == Some(true))
        .flat_map(|w| {
            let pid = w["pid"].as_i64().unwrap();
            w["mailboxes"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |m| (m.as_str().unwrap().to_string(), pid))
                .collect::<Vec<_>>()
        })
        .collect();
    out.sort();
    out
}

/// Waits until `check` holds for the watchers, up to `limit`; gives them and the time it took.
async fn wait_for_watchers(
    app: &TestApp,
    limit: Duration,
    check: impl Fn(&[(String, i64)]) -> bool,
) -> (Vec<(String, i64)>, Duration) {
    let started = Instant::now();
    loop {
        let now = watchers(app).await;
        if check(&now) || started.elapsed() > limit {
            return (now, started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Do the watchers watch one mailbox each (no daemon two)?
fn one_each(watched: &[(String, i64)]) -> bool {
    let pids: std::collections::BTreeSet<i64> = watched.iter().map(|(_, pid)| *pid).collect();
    pids.len() == watched.len()
}

/// The mailboxes each of these daemons watches, as `loket workers --json` says.
fn held_by(watched: &[(String, i64)], daemon: &Daemon) -> usize {
    watched
        .iter()
        .filter(|(_, pid)| *pid == daemon.pid())
        .count()
}

/// A daemon alone watches both mailboxes; a second one started later gets one of them without
/// anyone being restarted; when that one is killed, the first takes its mailbox back once the
/// lease runs out.
#[tokio::test]
async fn a_daemon_started_later_gets_its_share_of_the_mailboxes_and_gives_it_back_when_killed() {
    let Some(office) = Office::spawn(Db::Postgres, |_| {}).await else {
        return;
    };
    let app = &office.app;
    let first = Daemon::start(app, "pertama");
    let (watched, _) =
        wait_for_watchers(app, Duration::from_secs(20), |w| held_by(w, &first) == 2).await;
    assert_eq!(
        held_by(&watched, &first),
        2,
        "alone, it watches both: {watched:?}"
    );

    let second = Daemon::start(app, "kedua");
    let (watched, took) = wait_for_watchers(app, Duration::from_secs(20), |w| {
        w.len() == 2 && held_by(w, &first) == 1 && held_by(w, &second) == 1
    })
    .await;
    println!("the later daemon got its share after {took:?}: {watched:?}");
    assert!(
        watched.len() == 2 && held_by(&watched, &first) == 1 && held_by(&watched, &second) == 1,
        "one each: {watched:?}\n{}",
        first.log_text()
    );
    assert!(
        first.log_text().contains("giving this one up"),
        "{}",
        first.log_text()
    );
    // And it stays so: neither takes the other's mailbox back.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(watchers(app).await, watched, "the shares stay put");

    second.signal(libc::SIGKILL);
    let (after, took) =
        wait_for_watchers(app, Duration::from_secs(15), |w| held_by(w, &first) == 2).await;
    println!("the survivor took the second mailbox back after {took:?} (lease 3 s)");
    assert_eq!(
        held_by(&after, &first),
        2,
        "the survivor watches both: {after:?}"
    );
    assert_eq!(after.len(), 2);
    first.terminate();
    drop(second);
}

/// A second machine whose config has no mailbox (it only does OCR and filing) counts as a daemon
/// with fewer mailboxes: the first gives one up to it, nobody takes it, and within about a lease
/// the first takes it back and keeps it. In the end both mailboxes are watched by the first, and
/// stay so.
#[tokio::test]
async fn a_daemon_without_mailboxes_leaves_none_unwatched() {
    let Some(office) = Office::spawn(Db::Postgres, |_| {}).await else {
        return;
    };
    let app = &office.app;
    let both = Daemon::start(app, "dua");
    wait_for_watchers(app, Duration::from_secs(20), |w| held_by(w, &both) == 2).await;

    let mut t: toml::Table =
        toml::from_str(&std::fs::read_to_string(&app.config_path).unwrap()).unwrap();
    t.remove("mailbox");
    let no_mailbox = app.dir.path().join("tanpa-kotak-surat.toml");
    std::fs::write(&no_mailbox, toml::to_string(&t).unwrap()).unwrap();
    let ocr_only = Daemon::start_with(app, "ocr", &no_mailbox);
    let (_, took) =
        wait_for_watchers(app, Duration::from_secs(20), |w| held_by(w, &both) < 2).await;
    assert!(
        both.log_text().contains("giving this one up"),
        "after {took:?}: {}",
        both.log_text()
    );
    let (watched, took) =
        wait_for_watchers(app, Duration::from_secs(30), |w| held_by(w, &both) == 2).await;
    println!("both mailboxes watched again after {took:?} (lease 3 s)");
    assert_eq!(
        held_by(&watched, &both),
        2,
        "{watched:?}\n{}",
        both.log_text()
    );
    assert!(took < Duration::from_secs(15), "{took:?}");
    // Three leases later it is still so.
    tokio::time::sleep(Duration::from_secs(9)).await;
    assert_eq!(watchers(app).await, watched, "nothing goes back and forth");
    assert_eq!(held_by(&watched, &ocr_only), 0);
    both.terminate();
    ocr_only.terminate();
}

#[tokio::test]
async fn two_daemons_on_postgres_watch_each_mailbox_once_and_the_survivor_takes_over() {
    let Some(office) = Office::spawn(Db::Postgres, |_| {}).await else {
        return;
    };
    let app = &office.app;
    let keys = {
        let mut k = vec![
            office.key_of(&app.user),
            office.key_of(&office.pengaduan_user),
        ];
        k.sort();
        k
    };
    let a = Daemon::start(app, "a");
    let b = Daemon::start(app, "b");
    let (watched, _) = wait_for_watchers(app, Duration::from_secs(20), |w| {
        w.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>() == keys && one_each(w)
    })
    .await;
    let names: Vec<String> = watched.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(
        names, keys,
        "each mailbox has exactly one watcher: {watched:?}"
    );
    assert!(one_each(&watched), "one mailbox each: {watched:?}");
    // It stays that way: nobody else takes a live watcher's mailbox.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(watchers(app).await, watched, "the watchers stay put");

    // `run --once` meanwhile leaves both mailboxes to the daemons and says so.
    let out = app.command().args(["run", "--once"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stderr);
    for key in &keys {
        assert!(said.contains(&format!("skipped mailbox {key}")), "{said}");
    }

    // Kill the watcher of pengaduan@; the other daemon takes it over within the lease (3 s).
    let pengaduan = office.key_of(&office.pengaduan_user);
    let holder = watched.iter().find(|(k, _)| *k == pengaduan).unwrap().1;
    let (killed, survivor) = if holder == a.pid() { (a, b) } else { (b, a) };
    killed.signal(libc::SIGKILL);
    let (after, took) = wait_for_watchers(app, Duration::from_secs(15), |w| {
        w.iter().filter(|(_, pid)| *pid == survivor.pid()).count() == 2
    })
    .await;
    println!("takeover of {pengaduan} after SIGKILL of its watcher: {took:?} (lease 3 s)");
    assert!(
        after.iter().all(|(_, pid)| *pid == survivor.pid()) && after.len() == 2,
        "the survivor watches both: {after:?}"
    );
    // The lease runs out at most 3 s after the kill and the survivor looks right then; the
    // rest is `loket workers` noticing (one process start per look).
    assert!(took < Duration::from_secs(5), "taken over in {took:?}");

    // New mail to pengaduan@ is filed and answered by the survivor.
    let sari = unique_address("sari");
    office.deliver_to_pengaduan(&street_light_note(&sari)).await;
    let acks = support::smtp()
        .wait_for(&sari, 1, Duration::from_secs(20))
        .await;
    assert_eq!(acks.len(), 1, "{}", survivor.log_text());
    let ack = String::from_utf8_lossy(&acks[0]).into_owned();
    assert!(
        header(&ack, "From").unwrap().contains("pengaduan@"),
        "{ack}"
    );
    survivor.terminate();
    drop(killed);
    let complaint = app
        .cases()
        .await
        .into_iter()
        .find(|c| c.applicant.email.as_deref() == Some(sari.as_str()))
        .expect("filed");
    assert_eq!(complaint.kind, "complaint");
}

#[tokio::test]
async fn an_idle_daemon_on_postgres_sends_an_officers_reply_queued_by_the_desk_within_two_seconds()
{
    let port = support::free_port();
    let Some(app) = TestApp::spawn_with(Db::Postgres, |t| {
        t["imap"]["poll_seconds"] = toml::Value::Integer(600);
        // Without a wake-up the reply would wait up to 30 s for the next poll.
        t["worker"]
            .as_table_mut()
            .unwrap()
            .insert("poll_seconds".into(), toml::Value::Integer(30));
        let web: toml::Table = toml::from_str(&format!(
            "listen = \"127.0.0.1:{port}\"\nbase_url = \"http://127.0.0.1:{port}\"\n\
             secure_cookies = false"
        ))
        .unwrap();
        t.insert("web".into(), toml::Value::Table(web));
    })
    .await
    else {
        return;
    };
    let password = app.dir.path().join("admin.pass");
    std::fs::write(&password, "rahasia-admin-1\n").unwrap();
    let added = app
        .command()
        .args([
            "users",
            "add",
            "admin",
            "--role",
            "admin",
            "--password-file",
        ])
        .arg(&password)
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let token = app
        .command()
        .args(["users", "token", "admin"])
        .output()
        .unwrap();
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();

    let daemon = Daemon::start(&app, "run");
    // The desk in this process: another process than the daemon, sharing the database.
    let desk = std::sync::Arc::new(loket::desk::desk(app.config()).await.expect("desk starts"));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(loket::desk::serve_on(listener, desk, async {
        let _ = stopped.await;
    }));

    let budi = unique_address("budi");
    app.deliver(&fixture_from("pengaduan.eml", &budi)).await;
    let acks = support::smtp()
        .wait_for(&budi, 1, Duration::from_secs(20))
        .await;
    assert_eq!(acks.len(), 1, "acknowledged: {}", daemon.log_text());
    let code = app.cases().await[0].tracking_code.clone();
    // Let the daemon fall idle.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let queued = Instant::now();
    let resp = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/cases/{code}/reply"))
        .bearer_auth(&token)
        .json(
            &serde_json::json!({"text": "Laporan Bapak sudah kami teruskan ke Bidang Pengawasan."}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    let both = support::smtp()
        .wait_for(&budi, 2, Duration::from_secs(35))
        .await;
    let took = queued.elapsed();
    println!("officer's reply queued by the desk, sent by the idle daemon after {took:?}");
    assert_eq!(both.len(), 2, "the reply was sent: {}", daemon.log_text());
    assert!(
        both.iter()
            .any(|m| String::from_utf8_lossy(m).contains("Bidang Pengawasan")),
        "the officer's text was sent"
    );
    assert!(took < Duration::from_secs(2), "sent after {took:?}");
    assert!(
        daemon
            .log_text()
            .contains("idle workers wake when any process queues work"),
        "{}",
        daemon.log_text()
    );
    let _ = stop.send(());
    daemon.terminate();
}
