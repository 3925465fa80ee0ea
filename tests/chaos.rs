//! Many workers, one database: several `loket run` daemons share one mailbox, one SMTP server
//! and one database — three on PostgreSQL, two on one SQLite file — while one of them is killed
//! with SIGKILL (and started again) and another is paused with SIGSTOP past its lease (and
//! resumed), each caught while `loket workers --json` shows it holding jobs. Every message still
//! becomes exactly one case with exactly one acknowledgement, copies of a message join its case,
//! nothing is parked, every scan is read, the paused worker's late commit is refused and its job
//! is finished by another worker, and every daemon exits 0 on SIGTERM.
//!
//! Leases are 3 s, so takeovers happen within seconds. `LOKET_TEST_STALL_IN` makes the two victims
//! hold each job of one step for a second, so the test can catch them holding one.

mod app;
mod support;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use app::{header, mail_with, repo, text_mail, Db, Part, TestApp};
use sqlx::AnyPool;

const LEASE_SECONDS: u64 = 3;
const TEXT_MAILS: usize = 300;
const SCANNED_MAILS: usize = 20;
/// Every this many text mails one is sent again (same Message-ID and sender, other bytes).
const COPY_EVERY: usize = 30;
/// Mail goes out on this many SMTP sessions per process (`pipeline::SEND_RUNNERS`).
const SEND_RUNNERS: usize = 8;
const OVERALL: Duration = Duration::from_secs(6 * 60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_on_postgres_answer_every_message_once_through_a_kill_and_a_pause() {
    let _one_at_a_time = serial().lock().await;
    let Some(app) = spawn(Db::Postgres).await else {
        return;
    };
    tokio::time::timeout(OVERALL, chaos(&app, 3))
        .await
        .expect("the chaos run finished within six minutes");
}

/// SPEC exception: a process paused inside a SQLite write transaction holds the file until it
/// resumes; the test then resumes it and pauses it again at another moment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_sqlite_file_answer_every_message_once_through_a_kill_and_a_pause() {
    let _one_at_a_time = serial().lock().await;
    let app = spawn(Db::Sqlite).await.unwrap();
    tokio::time::timeout(OVERALL, chaos(&app, 2))
        .await
        .expect("the chaos run finished within six minutes");
}

/// Both tests load both cores: they run one after the other.
fn serial() -> &'static tokio::sync::Mutex<()> {
    static SERIAL: OnceLock<tokio::sync::Mutex<()>> = OnceLock::new();
    SERIAL.get_or_init(|| tokio::sync::Mutex::new(()))
}

async fn spawn(db: Db) -> Option<TestApp> {
    TestApp::spawn_with(db, |t| {
        let mut set = |section: &str, key: &str, value: i64| {
            t[section]
                .as_table_mut()
                .unwrap()
                .insert(key.into(), toml::Value::Integer(value));
        };
        set("worker", "lease_seconds", LEASE_SECONDS as i64);
        set("worker", "concurrency", 2);
        set("imap", "poll_seconds", 1);
        set("ocr", "workers", 1);
    })
    .await
}

/// One applicant's mail.
struct Application {
    from: String,
    message_id: String,
    raw: Vec<u8>,
    scanned: bool,
}

/// 300 text applications and 20 with a one-page scanned PDF, each from its own address.
fn applications() -> Vec<Application> {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let scan = std::fs::read(repo().join("fixtures/scans/form_ccitt.pdf")).unwrap();
    (0..SCANNED_MAILS + TEXT_MAILS)
        .map(|i| {
            let from = format!("pemohon{i}.{tag}@example.com");
            let scanned = i < SCANNED_MAILS;
            let raw = if scanned {
                let part = Part {
                    filename: "surat_domisili.pdf",
                    content_type: "application/pdf",
                    data: &scan,
                };
                mail_with(
                    &from,
                    &format!("Permohonan surat keterangan domisili {i}"),
                    "Dengan hormat, terlampir hasil pindaian surat keterangan domisili.",
                    &[part],
                )
            } else {
                let body = format!(
                    "Dengan hormat,\n\nSaya mengajukan permohonan izin reklame nomor {i} untuk \
                     toko kami di Jl. Raya {i}.\n\nHormat saya,\nPemohon {i}\n"
                );
                text_mail(&from, &format!("Permohonan izin reklame {i}"), &body, "")
            };
            let message_id = header(&String::from_utf8_lossy(&raw), "Message-ID").unwrap();
            Application {
                from,
                message_id,
                raw,
                scanned,
            }
        })
        .collect()
}

/// The same message sent again by a mail client: same Message-ID and sender, one header more.
fn resent(raw: &[u8]) -> Vec<u8> {
    let mut copy = b"X-Dikirim-Ulang: ya\r\n".to_vec();
    copy.extend_from_slice(raw);
    copy
}

/// Raw mail for `apps`, each copied application followed at once by its copy (so two workers
/// may take in both at the same moment).
fn wave(apps: &[Application], copied: &HashSet<String>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for a in apps {
        out.push(a.raw.clone());
        if copied.contains(&a.from) {
            out.push(resent(&a.raw));
        }
    }
    out
}

async fn chaos(app: &TestApp, processes: usize) {
    let started = Instant::now();
    // Opening the store creates the database and its schema, for the test's own reads.
    app.store().await.close().await;
    let db = app.sql().await;
    let apps = applications();
    let copied: HashSet<String> = apps[SCANNED_MAILS..]
        .iter()
        .step_by(COPY_EVERY)
        .map(|a| a.from.clone())
        .collect();
    let total_mails = apps.len() + copied.len();
    let first = SCANNED_MAILS + TEXT_MAILS * 2 / 5;
    let second = SCANNED_MAILS + TEXT_MAILS * 3 / 4;
    app.deliver_all(&wave(&apps[..first], &copied)).await;
    progress(started, &format!("{first} applications in the inbox"));

    // daemons[0] is killed (it stalls in intake until then), daemons[1] paused (it stalls in
    // classify), the others just work.
    let mut daemons: Vec<Daemon> = (0..processes)
        .map(|i| match i {
            0 => Daemon::start(app, "victim", Some("intake")),
            1 => Daemon::start(app, "sleeper", Some("classify")),
            _ => Daemon::start(app, &format!("worker{i}"), None),
        })
        .collect();

    let killed = kill_while_holding(app, &db, &mut daemons[0]).await;
    progress(started, &format!("killed a worker holding jobs {killed:?}"));
    daemons[0] = Daemon::start(app, "victim-again", None);
    app.deliver_all(&wave(&apps[first..second], &copied)).await;

    let paused = pause_past_lease(app, &db, &daemons[1], || async {
        app.deliver_all(&wave(&apps[second..], &copied)).await;
    })
    .await;
    progress(
        started,
        &format!(
            "resumed a worker whose jobs {:?} were taken over",
            paused.held
        ),
    );

    wait_until_drained(app, &db, &apps, total_mails, started).await;
    let refused = wait_for_log(
        &daemons[1],
        &["late commit refused", "after its lease was taken over"],
    )
    .await;
    assert!(
        refused,
        "the paused worker logged that its late commit was refused:\n{}",
        daemons[1].log_tail()
    );
    for line in daemons[1]
        .log_text()
        .lines()
        .filter(|l| l.contains("lease"))
    {
        eprintln!("  sleeper: {line}");
    }
    for d in daemons {
        d.terminate();
    }
    progress(started, "every worker stopped with status 0");

    check_queue(&db, &killed, &paused).await;
    check_cases(app, &apps, &copied).await;
    check_acknowledgements(&apps);
    check_mailbox(app, total_mails).await;
    db.close().await;
    progress(started, "all checks passed");
}

fn progress(started: Instant, what: &str) {
    eprintln!("[chaos {:>5.1}s] {what}", started.elapsed().as_secs_f64());
}

/// A `loket run` daemon with its own log file; killed if the test ends early.
struct Daemon {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(app: &TestApp, name: &str, stall_in: Option<&str>) -> Daemon {
        let log = app.dir.path().join(format!("{name}.log"));
        let mut cmd = app.command();
        cmd.arg("run")
            .env("LOKET_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        if let Some(step) = stall_in {
            cmd.env("LOKET_TEST_STALL_IN", step)
                .env("LOKET_TEST_STALL_SECONDS", "1");
        }
        let child = cmd.spawn().unwrap();
        Daemon {
            name: name.to_string(),
            child,
            log,
        }
    }

    fn pid(&self) -> i64 {
        self.child.id() as i64
    }

    fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        assert_eq!(rc, 0, "signal {signal} to {}", self.name);
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn log_tail(&self) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// SIGTERM, then the exit status within 30 s, which must be 0.
    fn terminate(mut self) {
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not stop within 30 s of SIGTERM:\n{}",
                self.name,
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        assert_eq!(
            status.code(),
            Some(0),
            "{} exits 0 on SIGTERM:\n{}",
            self.name,
            self.log_tail()
        );
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
async fn workers(app: &TestApp) -> Vec<serde_json::Value> {
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

/// The live worker registered by this process, and the jobs it holds, as `loket workers` says.
fn worker_of(list: &[serde_json::Value], pid: i64) -> Option<(String, i64)> {
    list.iter()
        .find(|w| w["pid"].as_i64() == Some(pid) && w["alive"].as_bool() == Some(true))
        .map(|w| {
            (
                w["id"].as_str().unwrap().to_string(),
                w["jobs_held"].as_i64().unwrap(),
            )
        })
}

/// Jobs whose lease `worker` holds, by id and kind (read from the queue itself).
async fn held_jobs(db: &AnyPool, worker: &str) -> Vec<(i64, String)> {
    sqlx::query_as(
        "SELECT id, kind FROM jobs WHERE owner = $1 AND state = 'running' \
         AND lease_token IS NOT NULL ORDER BY id",
    )
    .bind(worker)
    .fetch_all(db)
    .await
    .unwrap()
}

/// Stop `daemon` (SIGSTOP) at a moment when `loket workers --json` shows it holding at least one
/// job (`kind`, if given), confirmed while it is stopped so it cannot finish the job meanwhile.
/// Returns its worker id and the jobs it holds.
async fn stop_while_holding(
    app: &TestApp,
    db: &AnyPool,
    daemon: &Daemon,
    kind: Option<&str>,
) -> (String, Vec<(i64, String)>) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Some((_, held)) = worker_of(&workers(app).await, daemon.pid()) {
            if held > 0 {
                daemon.signal(libc::SIGSTOP);
                if let Some((id, held)) = worker_of(&workers(app).await, daemon.pid()) {
                    let jobs = held_jobs(db, &id).await;
                    let wanted = kind.is_none_or(|k| jobs.iter().any(|(_, kind)| kind == k));
                    if held > 0 && wanted {
                        return (id, jobs);
                    }
                }
                daemon.signal(libc::SIGCONT);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{} was never seen holding a job:\n{}",
        daemon.name,
        daemon.log_tail()
    );
}

/// SIGKILL `daemon` while it holds jobs; returns the jobs it held.
async fn kill_while_holding(
    app: &TestApp,
    db: &AnyPool,
    daemon: &mut Daemon,
) -> (String, Vec<(i64, String)>) {
    let (id, held) = stop_while_holding(app, db, daemon, None).await;
    daemon.signal(libc::SIGKILL);
    daemon.child.wait().unwrap();
    (id, held)
}

/// The pause: who was paused and what it held.
struct Paused {
    worker: String,
    held: Vec<(i64, String)>,
}

/// SIGSTOP `daemon` while it holds a classify job, run `meanwhile`, keep it stopped until another
/// worker has finished every job it held and its lease has run out, then SIGCONT it.
async fn pause_past_lease<F, Fut>(
    app: &TestApp,
    db: &AnyPool,
    daemon: &Daemon,
    meanwhile: F,
) -> Paused
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut meanwhile = Some(meanwhile);
    let sqlite = app.db_url.starts_with("sqlite");
    for _ in 0..5 {
        let (worker, held) = stop_while_holding(app, db, daemon, Some("classify")).await;
        let stopped = Instant::now();
        if let Some(f) = meanwhile.take() {
            f().await;
        }
        // On SQLite a process stopped inside a write transaction holds the file: nobody can
        // take over until it resumes (SPEC). A takeover needs a lease (3 s) and a step, so
        // waiting well past that, but within the 10 s others wait for the lock, tells.
        let patience = Duration::from_secs(if sqlite { 8 } else { 30 });
        let taken_over = finished_by_others(db, &held, &worker, stopped + patience).await;
        let past_lease = stopped + Duration::from_secs(LEASE_SECONDS + 1);
        tokio::time::sleep_until(past_lease.into()).await;
        daemon.signal(libc::SIGCONT);
        if taken_over {
            return Paused { worker, held };
        }
        assert!(
            sqlite,
            "jobs {held:?} of the paused worker were not finished by another worker"
        );
        eprintln!("paused inside a SQLite write transaction; pausing again at another moment");
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    panic!("the paused worker was inside a write transaction five times out of five");
}

/// Wait until every one of `jobs` is done by a worker other than `not_by`.
async fn finished_by_others(
    db: &AnyPool,
    jobs: &[(i64, String)],
    not_by: &str,
    deadline: Instant,
) -> bool {
    loop {
        let mut all = true;
        for (id, _) in jobs {
            let (state, owner): (String, Option<String>) =
                sqlx::query_as("SELECT state, owner FROM jobs WHERE id = $1")
                    .bind(id)
                    .fetch_one(db)
                    .await
                    .unwrap();
            all &= state == "done" && owner.as_deref() != Some(not_by);
        }
        if all {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn wait_for_log(daemon: &Daemon, any_of: &[&str]) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let log = daemon.log_text();
        if any_of.iter().any(|line| log.contains(line)) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

async fn count(db: &AnyPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

/// Acknowledgements in the shared SMTP sink, by recipient: (Message-ID, In-Reply-To) of each.
fn acks_by_recipient() -> HashMap<String, Vec<(String, String)>> {
    let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for raw in support::smtp().messages() {
        let text = String::from_utf8_lossy(&raw);
        let Some(rcpt) = header(&text, "X-RcptTo") else {
            continue;
        };
        let id = header(&text, "Message-ID").unwrap_or_default();
        let in_reply_to = header(&text, "In-Reply-To").unwrap_or_default();
        for r in rcpt.split(',') {
            out.entry(r.trim().to_ascii_lowercase())
                .or_default()
                .push((id.clone(), in_reply_to.clone()));
        }
    }
    out
}

/// Until every mail was taken in, every job is done, every applicant answered and the inbox
/// is empty.
async fn wait_until_drained(
    app: &TestApp,
    db: &AnyPool,
    apps: &[Application],
    mails: usize,
    started: Instant,
) {
    let mut last_report = Instant::now();
    loop {
        let taken_in = count(db, "SELECT COUNT(*) FROM messages").await as usize;
        let unfinished = count(db, "SELECT COUNT(*) FROM jobs WHERE state <> 'done'").await;
        let acks = acks_by_recipient();
        let answered = apps
            .iter()
            .filter(|a| acks.contains_key(&a.from.to_ascii_lowercase()))
            .count();
        let inbox = app.inbox().await.len();
        if taken_in == mails && unfinished == 0 && answered == apps.len() && inbox == 0 {
            progress(started, "drained: every mail filed and answered");
            return;
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            last_report = Instant::now();
            progress(
                started,
                &format!(
                    "taken in {taken_in}/{mails}, answered {answered}/{}, jobs left \
                     {unfinished}, inbox {inbox}",
                    apps.len()
                ),
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn check_queue(db: &AnyPool, killed: &(String, Vec<(i64, String)>), paused: &Paused) {
    let not_done: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT kind, state, COUNT(*) FROM jobs WHERE state <> 'done' GROUP BY kind, state",
    )
    .fetch_all(db)
    .await
    .unwrap();
    assert!(not_done.is_empty(), "every job done: {not_done:?}");
    assert!(
        !killed.1.is_empty() && !paused.held.is_empty(),
        "the kill and the pause each caught jobs in flight"
    );
    for (victim, jobs) in [(&killed.0, &killed.1), (&paused.worker, &paused.held)] {
        for (id, kind) in jobs {
            let owner: Option<String> = sqlx::query_scalar("SELECT owner FROM jobs WHERE id = $1")
                .bind(id)
                .fetch_one(db)
                .await
                .unwrap();
            assert_ne!(
                owner.as_deref(),
                Some(victim.as_str()),
                "{kind} job {id} was finished by another worker"
            );
        }
    }
}

async fn check_cases(app: &TestApp, apps: &[Application], copied: &HashSet<String>) {
    let parked = app.command().args(["parked", "--json"]).output().unwrap();
    assert!(parked.status.success());
    let parked: serde_json::Value = serde_json::from_slice(&parked.stdout).unwrap();
    assert_eq!(parked, serde_json::json!([]), "nothing parked");

    let db = app.sql().await;
    let states: Vec<(String, i64)> =
        sqlx::query_as("SELECT state, COUNT(*) FROM messages GROUP BY state ORDER BY state")
            .fetch_all(&db)
            .await
            .unwrap();
    db.close().await;
    assert_eq!(
        states,
        [
            ("duplicate".to_string(), copied.len() as i64),
            ("filed".to_string(), apps.len() as i64),
        ],
        "each application filed once, each copy as a duplicate"
    );

    let cases = app.cases().await;
    assert_eq!(cases.len(), apps.len(), "one case per distinct message");
    let mut by_sender: HashMap<String, String> = HashMap::new();
    for c in &cases {
        let email = c.applicant.email.clone().unwrap_or_default();
        let earlier = by_sender.insert(email.clone(), c.tracking_code.clone());
        assert!(earlier.is_none(), "{email} has one case");
    }
    for a in apps
        .iter()
        .filter(|a| a.scanned || copied.contains(&a.from))
    {
        let code = &by_sender[&a.from];
        let case = app.show(code).await;
        if a.scanned {
            assert_eq!(case.documents.len(), 1, "{code}");
            let doc = &case.documents[0];
            assert!(doc.error.is_none(), "{code}: {:?}", doc.error);
            assert!(doc.text_chars > 0, "{code}: the scan was read");
        }
        if copied.contains(&a.from) {
            let history = case.history.unwrap_or_default();
            assert!(
                history.iter().any(|e| e.event == "duplicate"),
                "{code}: the copy joined the case as a duplicate: {history:?}"
            );
        }
    }
}

/// One acknowledgement per applicant, answering their message. A second copy of the same mail
/// (same Message-ID) may only come from a kill or a pause inside an SMTP exchange (SPEC), so at
/// most the two interrupted processes' SMTP sessions.
fn check_acknowledgements(apps: &[Application]) {
    let acks = acks_by_recipient();
    let mut redelivered = 0;
    for a in apps {
        let got = &acks[&a.from.to_ascii_lowercase()];
        let ids: HashSet<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids.len(), 1, "{}: one acknowledgement: {got:?}", a.from);
        assert_eq!(
            got[0].1, a.message_id,
            "{}: it answers the applicant's message",
            a.from
        );
        redelivered += got.len() - 1;
    }
    eprintln!("acknowledgements redelivered (same Message-ID): {redelivered}");
    assert!(
        redelivered <= 2 * SEND_RUNNERS,
        "{redelivered} redeliveries"
    );
}

async fn check_mailbox(app: &TestApp, mails: usize) {
    assert!(app.inbox().await.is_empty(), "the inbox is empty");
    assert_eq!(app.processed().await.len(), mails, "every mail was moved");
}
