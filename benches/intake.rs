//! Benchmark: drain N generated text-only emails from Dovecot (filed and acknowledged into the
//! SMTP sink) two ways, on the same N messages: one `loket run --once` on SQLite, and three
//! `loket run` daemons sharing one PostgreSQL database until every job is done. Next to them, a
//! bare IMAP fetch of the same messages in the same run. Prints messages per second and peak
//! memory (max RSS; for the three daemons, summed over the processes).
//!
//! `cargo bench --bench intake` (sizes from `BENCH_SIZES`, default `1000,3000`: memory should
//! not grow with the mailbox). `cargo test --all-targets` runs it too when `BENCH_SIZES` is set
//! (deploy/test.sh sets a small size), as a smoke test of the benchmark itself.

#[path = "../tests/app/mod.rs"]
mod app;
#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Child;
use std::time::{Duration, Instant};

use futures::TryStreamExt;

/// Daemons sharing the PostgreSQL database.
const PG_WORKERS: usize = 3;

fn main() {
    // `cargo test --all-targets` runs bench targets too (without `--bench`): there only a small
    // `BENCH_SIZES` asks for a run.
    let asked =
        std::env::args().any(|a| a == "--bench") || std::env::var_os("BENCH_SIZES").is_some();
    if !asked {
        println!("intake benchmark: run with `cargo bench --bench intake`");
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "1000,3000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    println!(
        "{:>6} {:>13} {:>14} {:>14} {:>8} {:>14}",
        "msgs", "setup", "bare fetch/s", "loket/s", "ratio", "loket max RSS"
    );
    for n in sizes {
        rt.block_on(bench(n));
    }
}

/// The same N applications for every setup.
fn mails(n: usize, tag: &str) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let from = format!("pemohon{i}.{tag}@example.com");
            let body = format!(
                "Dengan hormat,\n\nSaya mengajukan permohonan izin reklame nomor {i} untuk toko kami di Jl. Raya {i}.\n\
                 Terlampir berkas persyaratan menyusul.\n\nHormat saya,\nPemohon {i}\n"
            );
            app::text_mail(&from, &format!("Permohonan izin reklame {i}"), &body, "")
        })
        .collect()
}

async fn bench(n: usize) {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let mails = mails(n, &tag);

    let app = app::TestApp::spawn(app::Db::Sqlite).await.unwrap();
    app.deliver_all(&mails).await;
    let bare = bare_fetch(&app, n).await;
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    let row = |setup: &str, took: Duration, rss_kb: i64| {
        println!(
            "{n:>6} {setup:>13} {:>14.0} {:>14.0} {:>8.2} {:>11} MB",
            rate(bare),
            rate(took),
            rate(took) / rate(bare),
            rss_kb / 1024
        );
    };

    let acks_before = count_acks(&tag, 0).await;
    let (took, rss_kb) = sqlite_once(&app);
    let acked = count_acks(&tag, acks_before + n).await - acks_before;
    assert_eq!(acked, n, "every message acknowledged (SQLite)");
    row("sqlite x1", took, rss_kb);

    let Some(pg) = app::TestApp::spawn(app::Db::Postgres).await else {
        println!(
            "{n:>6} {:>13} skipped: PostgreSQL is not installed",
            "postgres x3"
        );
        return;
    };
    pg.deliver_all(&mails).await;
    let acks_before = count_acks(&tag, 0).await;
    let (took, rss_kb) = postgres_daemons(&pg, n).await;
    let acked = count_acks(&tag, acks_before + n).await - acks_before;
    assert_eq!(acked, n, "every message acknowledged (PostgreSQL)");
    row(&format!("postgres x{PG_WORKERS}"), took, rss_kb);
}

/// Every message body, in batches of 50, as loket fetches.
async fn bare_fetch(app: &app::TestApp, n: usize) -> Duration {
    let mut session = support::dovecot().login(&app.user, &app.pass).await;
    let started = Instant::now();
    session.select("INBOX").await.unwrap();
    let mut fetched = 0;
    let mut first = 1;
    while first <= n {
        let last = (first + 49).min(n);
        let msgs: Vec<_> = session
            .fetch(format!("{first}:{last}"), "(UID BODY.PEEK[])")
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        fetched += msgs.iter().filter(|m| m.body().is_some()).count();
        first = last + 1;
    }
    let took = started.elapsed();
    assert_eq!(fetched, n);
    session.logout().await.ok();
    took
}

/// The log file of one loket process (`BENCH_LOG`, else nowhere).
fn log_file(suffix: &str) -> std::fs::File {
    match std::env::var("BENCH_LOG") {
        Ok(path) => std::fs::File::create(format!("{path}{suffix}")).unwrap(),
        Err(_) => std::fs::File::create("/dev/null").unwrap(),
    }
}

/// One `loket run --once`: fetch, file, classify, acknowledge, move.
fn sqlite_once(app: &app::TestApp) -> (Duration, i64) {
    let started = Instant::now();
    let child = app
        .command()
        .args(["run", "--once"])
        .env("LOKET_LOG", "info")
        .stderr(log_file(""))
        .spawn()
        .unwrap();
    let (ok, max_rss_kb) = wait_with_rusage(child);
    assert!(ok, "loket run --once succeeded");
    (started.elapsed(), max_rss_kb)
}

/// `PG_WORKERS` daemons started at the same moment, timed until every message is taken in and
/// every job (filing, acknowledgement, move) is done; then stopped with SIGTERM. Returns the
/// time and the summed peak memory.
async fn postgres_daemons(app: &app::TestApp, n: usize) -> (Duration, i64) {
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
    (took, rss_kb)
}

/// Wait for a child and read its peak resident memory.
fn wait_with_rusage(child: std::process::Child) -> (bool, i64) {
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid);
    (
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        usage.ru_maxrss,
    )
}

/// Acknowledgements for this run's senders in the sink, waiting (up to 30 s) for `expected`.
async fn count_acks(tag: &str, expected: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let count = support::smtp()
            .messages()
            .iter()
            .filter(|m| String::from_utf8_lossy(m).contains(tag))
            .count();
        if count >= expected || Instant::now() > deadline {
            return count;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
