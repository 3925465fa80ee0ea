//! Benchmark: how close `loket run --once` comes to the I/O it cannot avoid.
//!
//! For every size N of `BENCH_SIZES` (default `1000,10000`), in the same run: the bare I/O (one
//! IMAP connection fetching all N messages, one SMTP connection sending N short replies to the
//! sink loket uses) and one `loket run --once` taking in, filing, sorting, acknowledging and
//! moving the same N text applications, on SQLite and on PostgreSQL. Prints the ratio
//! (bare I/O time / loket time: 1.0 would be loket costing nothing over its I/O), messages per
//! second, loket's peak memory (max RSS) and its CPU time (user plus system).
//!
//! Then latency: a `loket run` daemon idle on IMAP IDLE, a new application delivered, the time
//! until its acknowledgement is in the sink (p95 of `BENCH_LATENCY_SAMPLES`, default 50).
//! With `BENCH_MEMORY=1` also peak memory for a 20,000-message mailbox against 1,000 (slow).
//! `BENCH_DB=sqlite` (or `postgres`) measures one database only. `BENCH_DAEMONS=1` adds three `loket run` daemons sharing one PostgreSQL database.
//! `BENCH_BASELINE=/path/to/an/older/loket` runs that binary too (`BENCH_ABBA=1`: before, after and
//! again in the reverse order, as the second run of a pair is slower), on its own copy of the same
//! mailbox in the same run (rows `base`), so a change is measured against its baseline under
//! the same load.
//!
//! `cargo bench --bench intake`. `cargo test --all-targets` runs it too when `BENCH_SIZES` is
//! set (deploy/test.sh sets a small size), as a quick smoke test of the benchmark itself.

#[path = "../tests/app/mod.rs"]
mod app;
#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashSet;
use std::ffi::OsString;
use std::process::Child;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Daemons sharing the PostgreSQL database (`BENCH_DAEMONS=1`).
const PG_WORKERS: usize = 3;

fn main() {
    // `cargo test --all-targets` runs bench targets too (without `--bench`): there only a small
    // `BENCH_SIZES` asks for a run.
    let full = std::env::args().any(|a| a == "--bench");
    if !full && std::env::var_os("BENCH_SIZES").is_none() {
        println!("intake benchmark: run with `cargo bench --bench intake`");
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "1000,10000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    println!("load: {}", load_average());
    println!(
        "{:>6} {:>8} {:>10} {:>10} {:>10} {:>7} {:>9} {:>8} {:>7}",
        "msgs", "db", "imap s", "smtp s", "loket s", "ratio", "loket/s", "max RSS", "cpu s"
    );
    // `BENCH_DB=sqlite` or `postgres`: one database only.
    let dbs = std::env::var("BENCH_DB").unwrap_or_default();
    for &n in &sizes {
        if dbs != "postgres" {
            rt.block_on(throughput(n, app::Db::Sqlite));
        }
        if dbs != "sqlite" {
            rt.block_on(throughput(n, app::Db::Postgres));
        }
        println!("load: {}", load_average());
        if env_on("BENCH_DAEMONS") {
            rt.block_on(pg_daemons(n));
        }
    }
    let samples = std::env::var("BENCH_LATENCY_SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 50 } else { 3 });
    if let Some(base) = baseline() {
        rt.block_on(latency(samples, Some(&base)));
    }
    rt.block_on(latency(samples, None));
    if env_on("BENCH_MEMORY") {
        rt.block_on(memory());
    }
}

/// The older binary to compare with (`BENCH_BASELINE`).
fn baseline() -> Option<std::path::PathBuf> {
    std::env::var_os("BENCH_BASELINE").map(Into::into)
}

/// `loket` with the app's config: this build, or the baseline binary.
fn loket(app: &app::TestApp, bin: Option<&std::path::Path>) -> std::process::Command {
    match bin {
        None => app.command(),
        Some(bin) => {
            let mut cmd = std::process::Command::new(bin);
            cmd.arg("--config").arg(&app.config_path);
            cmd
        }
    }
}

fn env_on(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1")
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default()
}

/// The same N applications for every setup; every sender carries `tag`.
fn mails(n: usize, tag: &str) -> Vec<Vec<u8>> {
    (0..n).map(|i| mail(i, tag)).collect()
}

fn mail(i: usize, tag: &str) -> Vec<u8> {
    let from = format!("pemohon{i}.{tag}@example.com");
    let body = format!(
        "Dengan hormat,\n\nSaya mengajukan permohonan izin reklame nomor {i} untuk toko kami di Jl. Raya {i}.\n\
         Terlampir berkas persyaratan menyusul.\n\nHormat saya,\nPemohon {i}\n"
    );
    app::text_mail(&from, &format!("Permohonan izin reklame {i}"), &body, "")
}

fn new_tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Bare I/O and `run --once` on the same N messages (a mailbox each for the baseline binary
/// and this build).
async fn throughput(n: usize, db: app::Db) {
    let name = match db {
        app::Db::Sqlite => "sqlite",
        app::Db::Postgres => "postgres",
    };
    let base = baseline();
    // The second of two runs in one bench run is slower (seen up to 20%): with `BENCH_ABBA=1`
    // the pair runs as base, new, new, base, so the order's share cancels out.
    let order: &[(&str, bool)] = if env_on("BENCH_ABBA") {
        &[
            ("base", true),
            ("new", false),
            ("new", false),
            ("base", true),
        ]
    } else {
        &[("base", true), ("new", false)]
    };
    let mut runs = Vec::new();
    for &(label, is_base) in order {
        let bin = if is_base { base.as_deref() } else { None };
        if is_base && bin.is_none() {
            continue;
        }
        let Some(app) = app::TestApp::spawn(db).await else {
            println!("{n:>6} {name:>8} skipped: PostgreSQL is not installed");
            return;
        };
        let tag = new_tag();
        deliver(&app, &mails(n, &tag)).await;
        runs.push((label, bin, app, tag));
    }
    let imap = bare_fetch(&runs[0].2, n).await;
    let smtp = bare_send(n).await;
    let bare = imap + smtp;
    for (label, bin, app, tag) in &runs {
        let mut sink = Sink::new();
        let (took, usage) = run_once(app, *bin);
        let acked = sink.wait_for(tag, n, Duration::from_secs(30)).await;
        assert_eq!(acked, n, "every message acknowledged ({name}, {label})");
        println!(
            "{n:>6} {:>8} {:>10.2} {:>10.2} {:>10.2} {:>7.2} {:>9.0} {:>5} MB {:>7.2}",
            format!("{name}:{label}"),
            imap.as_secs_f64(),
            smtp.as_secs_f64(),
            took.as_secs_f64(),
            bare.as_secs_f64() / took.as_secs_f64(),
            n as f64 / took.as_secs_f64(),
            usage.max_rss_kb / 1024,
            usage.cpu.as_secs_f64()
        );
    }
}

/// Deliver in sessions of 1,000 (the harness gives one session 15 s).
async fn deliver(app: &app::TestApp, raws: &[Vec<u8>]) {
    for chunk in raws.chunks(1_000) {
        app.deliver_all(chunk).await;
    }
}

/// Every message of the INBOX on one connection, in one FETCH.
async fn bare_fetch(app: &app::TestApp, n: usize) -> Duration {
    let mut session = support::dovecot().login(&app.user, &app.pass).await;
    let started = Instant::now();
    session.select("INBOX").await.unwrap();
    let msgs: Vec<_> = session
        .fetch("1:*", "(UID BODY.PEEK[])")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let fetched = msgs.iter().filter(|m| m.body().is_some()).count();
    let took = started.elapsed();
    assert_eq!(fetched, n);
    session.logout().await.ok();
    took
}

/// N short replies on one SMTP connection to the sink loket sends to: the least an SMTP client
/// can do (TCP_NODELAY, each message with its final dot in one write, no PIPELINING since the
/// sink does not offer it).
async fn bare_send(n: usize) -> Duration {
    let sink = support::smtp();
    let tag = new_tag();
    let stream = tokio::net::TcpStream::connect((sink.host.as_str(), sink.port))
        .await
        .unwrap();
    stream.set_nodelay(true).unwrap();
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let started = Instant::now();
    expect(&mut read, "220").await;
    write.write_all(b"EHLO bench.local\r\n").await.unwrap();
    expect(&mut read, "250").await;
    for i in 0..n {
        let to = format!("pemohon{i}.{tag}@example.com");
        let mail = format!(
            "From: perizinan@pasuruankab.go.id\r\nTo: {to}\r\nSubject: Permohonan diterima\r\n\
             Message-ID: <bare{i}.{tag}@pasuruankab.go.id>\r\n\r\n\
             Permohonan Anda sudah kami terima dengan nomor PSR-{i}.\r\n.\r\n"
        );
        write
            .write_all(b"MAIL FROM:<perizinan@pasuruankab.go.id>\r\n")
            .await
            .unwrap();
        expect(&mut read, "250").await;
        write
            .write_all(format!("RCPT TO:<{to}>\r\n").as_bytes())
            .await
            .unwrap();
        expect(&mut read, "250").await;
        write.write_all(b"DATA\r\n").await.unwrap();
        expect(&mut read, "354").await;
        write.write_all(mail.as_bytes()).await.unwrap();
        expect(&mut read, "250").await;
    }
    let took = started.elapsed();
    write.write_all(b"QUIT\r\n").await.unwrap();
    took
}

/// Read one (possibly multi-line) SMTP reply and check its code.
async fn expect(read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>, code: &str) {
    loop {
        let mut line = String::new();
        read.read_line(&mut line).await.unwrap();
        assert!(
            line.starts_with(code),
            "SMTP sink said {line:?}, wanted {code}"
        );
        if line.as_bytes().get(3) != Some(&b'-') {
            return;
        }
    }
}

/// The log file of one loket process (`BENCH_LOG`, else nowhere).
fn log_file(suffix: &str) -> std::fs::File {
    match std::env::var("BENCH_LOG") {
        Ok(path) => std::fs::File::create(format!("{path}{suffix}")).unwrap(),
        Err(_) => std::fs::File::create("/dev/null").unwrap(),
    }
}

/// One `loket run --once`: fetch, file, classify, acknowledge, move.
fn run_once(app: &app::TestApp, bin: Option<&std::path::Path>) -> (Duration, Usage) {
    let started = Instant::now();
    let child = loket(app, bin)
        .args(["run", "--once"])
        .env("LOKET_LOG", "info")
        .stderr(log_file(""))
        .spawn()
        .unwrap();
    let (ok, usage) = wait_with_usage(child);
    assert!(ok, "loket run --once succeeded");
    (started.elapsed(), usage)
}

/// Latency: the daemon waits on IDLE; one application at a time is delivered and timed until
/// its acknowledgement is in the sink.
async fn latency(samples: usize, bin: Option<&std::path::Path>) {
    let app = app::TestApp::spawn(app::Db::Sqlite).await.unwrap();
    let daemon = loket(&app, bin)
        .arg("run")
        .env("LOKET_LOG", "info")
        .stderr(log_file(".latency"))
        .spawn()
        .unwrap();
    let mut sink = Sink::new();
    // The first one also waits for the daemon to start and connect.
    let warm = new_tag();
    app.deliver(&mail(0, &warm)).await;
    assert_eq!(sink.wait_for(&warm, 1, Duration::from_secs(60)).await, 1);
    let mut took = Vec::with_capacity(samples);
    for i in 0..samples {
        // Back to waiting on IDLE (the move of the previous message done).
        tokio::time::sleep(Duration::from_millis(300)).await;
        let tag = new_tag();
        let raw = mail(i, &tag);
        let started = Instant::now();
        app.deliver(&raw).await;
        let got = sink.wait_for(&tag, 1, Duration::from_secs(30)).await;
        assert_eq!(got, 1, "acknowledgement {i} arrived within 30 s");
        took.push(started.elapsed());
    }
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(daemon.id() as libc::pid_t, libc::SIGTERM) };
    let (ok, _) = wait_with_rusage(daemon);
    assert!(ok, "loket run exits 0 on SIGTERM");
    took.sort();
    let p95 = took[(took.len() * 95).div_ceil(100).saturating_sub(1)];
    println!(
        "latency{} (daemon on IDLE, delivery to acknowledgement), {samples} samples: median {:.0} ms, p95 {:.0} ms, max {:.0} ms",
        if bin.is_some() { " base" } else { "" },
        took[took.len() / 2].as_secs_f64() * 1000.0,
        p95.as_secs_f64() * 1000.0,
        took[took.len() - 1].as_secs_f64() * 1000.0,
    );
}

/// Peak memory of `run --once` for 20,000 messages against 1,000 (SQLite).
async fn memory() {
    let mut rss = Vec::new();
    for n in [1_000, 20_000] {
        let app = app::TestApp::spawn(app::Db::Sqlite).await.unwrap();
        deliver(&app, &mails(n, &new_tag())).await;
        let (took, usage) = run_once(&app, None);
        let rss_kb = usage.max_rss_kb;
        println!(
            "memory: {n} messages in {:.1} s, max RSS {} MB",
            took.as_secs_f64(),
            rss_kb / 1024
        );
        rss.push(rss_kb as f64);
    }
    println!(
        "memory: 20,000 messages need {:.2}x the peak RSS of 1,000",
        rss[1] / rss[0]
    );
}

/// `PG_WORKERS` daemons started at the same moment on one PostgreSQL database, timed until
/// every message is taken in and every job is done; then stopped with SIGTERM.
async fn pg_daemons(n: usize) {
    let Some(app) = app::TestApp::spawn(app::Db::Postgres).await else {
        return;
    };
    deliver(&app, &mails(n, &new_tag())).await;
    let db = app.sql().await;
    let started = Instant::now();
    let children: Vec<Child> = (0..PG_WORKERS)
        .map(|i| {
            app.command()
                .arg("run")
                .env("LOKET_LOG", "info")
                .stderr(log_file(&format!(".pg{i}")))
                .spawn()
                .unwrap()
        })
        .collect();
    let deadline = started + Duration::from_secs(600);
    loop {
        // The tables exist once the first daemon has migrated the database.
        let counts: Result<(i64, i64), _> = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM messages), \
             (SELECT COUNT(*) FROM jobs WHERE state <> 'done')",
        )
        .fetch_one(&db)
        .await;
        if matches!(counts, Ok((taken_in, 0)) if taken_in as usize == n) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "PostgreSQL workers did not finish: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = started.elapsed();
    db.close().await;
    let mut rss_kb = 0;
    for child in children {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        let (ok, max_rss) = wait_with_rusage(child);
        assert!(ok, "loket run exits 0 on SIGTERM");
        rss_kb += max_rss;
    }
    println!(
        "{n:>6} pg x{PG_WORKERS} daemons: {:.2} s, {:.0} msg/s, summed max RSS {} MB",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        rss_kb / 1024
    );
}

/// Wait for a child and read its peak resident memory.
fn wait_with_rusage(child: std::process::Child) -> (bool, i64) {
    let (ok, usage) = wait_with_usage(child);
    (ok, usage.max_rss_kb)
}

/// What a finished child used: peak resident memory and CPU time (user plus system), to tell
/// a run that waits from one that computes.
#[derive(Debug, Clone, Copy)]
struct Usage {
    max_rss_kb: i64,
    cpu: Duration,
}

fn wait_with_usage(child: std::process::Child) -> (bool, Usage) {
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid);
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
    (
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        Usage {
            max_rss_kb: usage.ru_maxrss,
            cpu: time(usage.ru_utime) + time(usage.ru_stime),
        },
    )
}

/// The shared sink's Maildir, read incrementally: only files that arrived since the last look
/// are opened (the sink holds tens of thousands of messages by the end of a run).
struct Sink {
    seen: HashSet<OsString>,
    counts: std::collections::HashMap<String, usize>,
}

impl Sink {
    /// Everything already in the sink counts as seen.
    fn new() -> Self {
        let mut sink = Sink {
            seen: HashSet::new(),
            counts: Default::default(),
        };
        sink.scan(&[]);
        sink
    }

    fn scan(&mut self, tags: &[&str]) {
        let maildir = &support::smtp().maildir;
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(maildir.join(sub)) else {
                continue;
            };
            for entry in entries.flatten() {
                if !self.seen.insert(entry.file_name()) || tags.is_empty() {
                    continue;
                }
                let Ok(raw) = std::fs::read(entry.path()) else {
                    continue;
                };
                let text = String::from_utf8_lossy(&raw);
                for tag in tags {
                    if text.contains(tag) {
                        *self.counts.entry(tag.to_string()).or_default() += 1;
                    }
                }
            }
        }
    }

    /// Acknowledgements for senders carrying `tag`, waiting up to `timeout` for `expected`.
    async fn wait_for(&mut self, tag: &str, expected: usize, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            self.scan(&[tag]);
            let count = self.counts.get(tag).copied().unwrap_or(0);
            if count >= expected || Instant::now() > deadline {
                return count;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}
